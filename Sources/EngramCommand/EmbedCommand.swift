import ArgumentParser
import EngramEmbedding
import Foundation

/// `engram embed`: prints the embeddings of the given texts (and, with `--tokens`, MiniLM's token ids),
/// so that other tools can check them.
///
/// ```
/// engram embed --format json "User prefers Python" "programming language"
/// engram embed --model hashing --dimension 64 --format json "hello world"
/// ```
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print the embedding vectors of texts.",
        discussion: """
            minilm (the default) is the built-in all-MiniLM-L6-v2 (run `engram model install` once); \
            hashing is the lexical, model-free hashing embedder.
            """)

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case minilm, hashing
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, table
    }

    @Option(help: "The embedder: minilm or hashing.")
    var model: Model = .minilm

    @Flag(help: "Also print the token ids and tokens (minilm only).")
    var tokens = false

    @Option(help: "Output format: json or table.")
    var format: Format = .json

    @Option(help: "The hashing embedder's dimension.")
    var dimension: Int = 384

    @Option(help: "The MiniLM model directory (default: $ENGRAM_MODEL_DIR or ~/.cache/engram/models/all-MiniLM-L6-v2).")
    var modelDir: String?

    @Argument(help: "The texts to embed.")
    var texts: [String]

    func validate() throws {
        if texts.isEmpty { throw ValidationError("give at least one text") }
        if tokens && model != .minilm { throw ValidationError("--tokens needs --model minilm") }
        if dimension < 1 { throw ValidationError("--dimension must be at least 1") }
    }

    struct Output: Encodable {
        struct Item: Encodable {
            let text: String
            let vector: [Float]
            let ids: [Int32]?
            let tokens: [String]?
        }
        let model: String
        let dimension: Int
        let embeddings: [Item]
    }

    func run() throws {
        let output: Output
        switch model {
        case .minilm:
            let embedder = try MiniLMEmbedder(
                modelDirectory: modelDir.map { URL(fileURLWithPath: $0, isDirectory: true) })
            let vectors = embedder.vectors(for: texts)
            let items = zip(texts, vectors).map { text, vector in
                let ids = tokens ? embedder.tokenIDs(for: text) : nil
                return Output.Item(
                    text: text, vector: vector, ids: ids,
                    tokens: ids.map { $0.map { embedder.tokenizer.token(for: $0) ?? "" } })
            }
            output = Output(model: embedder.modelID, dimension: embedder.dimension, embeddings: items)
        case .hashing:
            let embedder = HashingEmbedder(dimension: dimension)
            let items = texts.map { Output.Item(text: $0, vector: embedder.vector(for: $0), ids: nil, tokens: nil) }
            output = Output(model: embedder.modelID, dimension: embedder.dimension, embeddings: items)
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        case .table:
            print("model: \(output.model)  dimension: \(output.dimension)")
            for item in output.embeddings {
                let head = item.vector.prefix(6).map { String(format: "%+.4f", $0) }.joined(separator: " ")
                print("\(item.text.debugDescription)\t[\(head) …]")
                if let ids = item.ids, let names = item.tokens {
                    print("  ids: \(ids.map(String.init).joined(separator: " "))")
                    print("  tokens: \(names.joined(separator: " "))")
                }
            }
        }
    }
}
