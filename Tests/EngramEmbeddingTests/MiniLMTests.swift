import EngramEmbedding
import EngramTestSupport
import Foundation
import Testing

/// The installed MiniLM model, loaded once for every test, or why it could not be loaded.
let installedMiniLM = Result<MiniLMEmbedder, any Error> { try MiniLMEmbedder() }

/// `ENGRAM_SKIP_MODEL_TESTS=1` skips the tests that need the model; otherwise a missing model fails them.
let skipModelTests = ProcessInfo.processInfo.environment["ENGRAM_SKIP_MODEL_TESTS"] == "1"

/// The MiniLM embedder, or a recorded failure that says why and how to install the model.
func requireMiniLM() throws -> MiniLMEmbedder {
    switch installedMiniLM {
    case .success(let embedder):
        return embedder
    case .failure(let error):
        Issue.record(
            """
            cannot load the MiniLM model from \(ModelFiles.directory().path): \(error). Run \
            scripts/install-model.sh (or `engram model install`), or set ENGRAM_SKIP_MODEL_TESTS=1 to skip the model tests
            """)
        throw error
    }
}

/// One line of shared/embeddings/minilm-golden.jsonl.
struct GoldenEntry: Decodable, Sendable, CustomTestStringConvertible {
    let i: Int
    let text: String
    let ids: [Int32]
    let tokens: [String]
    let embedding: [Float]
    var testDescription: String { "golden #\(i)" }
}

func goldenEntries() throws -> [GoldenEntry] {
    let url = sharedFolder().appendingPathComponent("embeddings/minilm-golden.jsonl")
    let text = try String(contentsOf: url, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(GoldenEntry.self, from: Data($0.utf8)) }
}

@Suite("MiniLM against the sentence-transformers goldens", .enabled(if: !skipModelTests, "ENGRAM_SKIP_MODEL_TESTS=1"))
struct MiniLMGoldenTests {
    @Test func goldenFileHasFiftyEntries() throws {
        #expect(try goldenEntries().count == 50)
    }

    @Test func tokenIDsEqualTheGoldens() throws {
        let embedder = try requireMiniLM()
        for entry in try goldenEntries() {
            let ids = embedder.tokenIDs(for: entry.text)
            #expect(ids == entry.ids, "golden #\(entry.i): \(entry.text.debugDescription)")
            if ids == entry.ids {
                #expect(ids.map { embedder.tokenizer.token(for: $0) ?? "?" } == entry.tokens)
            }
        }
    }

    @Test func embeddingsMatchTheGoldensOneByOne() throws {
        let embedder = try requireMiniLM()
        for entry in try goldenEntries() {
            let vector = try #require(embedder.vectors(for: [entry.text]).first)
            expectClose(vector, entry)
        }
    }

    @Test func embeddingsMatchTheGoldensInOneBatch() async throws {
        let embedder = try requireMiniLM()
        let entries = try goldenEntries()
        let vectors = try await embedder.embed(entries.map(\.text))
        #expect(vectors.count == entries.count)
        for (vector, entry) in zip(vectors, entries) { expectClose(vector, entry) }
    }

    func expectClose(_ vector: [Float], _ entry: GoldenEntry) {
        #expect(vector.count == 384)
        let worst = zip(vector, entry.embedding).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "golden #\(entry.i): max abs difference \(worst)")
        let cosine = zip(vector, entry.embedding).map { Double($0) * Double($1) }.reduce(0, +)
        #expect(cosine >= 0.99999, "golden #\(entry.i): cosine \(cosine)")
    }
}

@Suite("MiniLM behaviour", .enabled(if: !skipModelTests, "ENGRAM_SKIP_MODEL_TESTS=1"))
struct MiniLMBehaviourTests {
    @Test func programmingLanguageFindsThePythonPreference() async throws {
        let embedder = try requireMiniLM()
        let memories = [
            "The meeting with Acme Corp is scheduled for next Tuesday",
            "User prefers Python over JavaScript",
            "Alice lives in Berlin and works as a nurse",
            "The quarterly revenue grew by twelve percent",
            "Remember to buy milk and eggs on the way home",
            "The user's favourite colour is green",
        ]
        let vectors = try await embedder.embed(memories + ["programming language"])
        let query = vectors.last!
        let scores = vectors.dropLast().map { zip($0, query).map { $0 * $1 }.reduce(0, +) }
        let best = scores.indices.max { scores[$0] < scores[$1] }!
        #expect(memories[best] == "User prefers Python over JavaScript", "scores: \(scores)")
    }

    @Test func vectorsAreUnitLengthAndDeterministic() throws {
        let embedder = try requireMiniLM()
        let first = embedder.vectors(for: ["a deterministic sentence", ""])
        let second = embedder.vectors(for: ["a deterministic sentence", ""])
        #expect(first == second)
        for vector in first {
            let norm = vector.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func batchesOfMixedLengthsEqualSingleTexts() throws {
        let embedder = try requireMiniLM()
        let texts = (0..<40).map { n in String(repeating: "word\(n % 7) and more ", count: n % 13 + 1) }
        let batched = embedder.vectors(for: texts)
        for (text, vector) in zip(texts, batched) {
            let single = embedder.vectors(for: [text])[0]
            let worst = zip(single, vector).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-6)
        }
    }

    @Test func concurrentCallersGetTheSameVectors() async throws {
        let embedder = try requireMiniLM()
        let texts = (0..<8).map { "concurrent caller number \($0) asks about memory" }
        let sequential = embedder.vectors(for: texts)
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, try await embedder.embed([text])[0]) }
            }
            var results = [[Float]](repeating: [], count: texts.count)
            for try await (index, vector) in group { results[index] = vector }
            return results
        }
        for (a, b) in zip(sequential, concurrent) {
            #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-6)
        }
    }

    @Test func longTextsAreTruncatedTo256Tokens() throws {
        let embedder = try requireMiniLM()
        let long = String(repeating: "memory ", count: 1000)
        let ids = embedder.tokenIDs(for: long)
        #expect(ids.count == 256)
        #expect(ids.first == 101 && ids.last == 102)
        let truncated = embedder.vectors(for: [long])[0]
        let exact = try embedder.vectors(forTokenIDs: [ids])[0]
        #expect(truncated == exact)
    }

    @Test func invalidTokenSequencesAreRejected() throws {
        let embedder = try requireMiniLM()
        #expect(throws: EmbeddingError.self) { try embedder.vectors(forTokenIDs: [[]]) }
        #expect(throws: EmbeddingError.self) { try embedder.vectors(forTokenIDs: [[101, 999_999, 102]]) }
    }

    @Test func theEmbedderReportsItsModel() throws {
        let embedder = try requireMiniLM()
        #expect(embedder.modelID == "sentence-transformers/all-MiniLM-L6-v2")
        #expect(embedder.dimension == 384)
    }
}

@Suite("MiniLM model files")
struct ModelFilesTests {
    @Test func aMissingModelNamesTheInstallCommand() throws {
        let empty = try TemporaryDirectory(prefix: "engram-no-model")
        do {
            _ = try MiniLMEmbedder(modelDirectory: empty.url)
            Issue.record("loading from an empty directory succeeded")
        } catch let error as EmbeddingError {
            #expect(error.code == .modelNotInstalled)
            #expect(error.message.contains("engram model install"))
        }
    }

    @Test func theDirectoryFollowsExplicitThenEnvironmentThenHome() {
        let explicit = URL(fileURLWithPath: "/opt/models/minilm")
        #expect(ModelFiles.directory(explicit: explicit, environment: ["ENGRAM_MODEL_DIR": "/x"]) == explicit)
        #expect(ModelFiles.directory(environment: ["ENGRAM_MODEL_DIR": "/x", "HOME": "/home/u"]).path == "/x")
        #expect(
            ModelFiles.directory(environment: ["HOME": "/home/u"]).path
                == "/home/u/.cache/engram/models/all-MiniLM-L6-v2")
    }

    @Test func truncatedFilesAreNotPresent() throws {
        let directory = try TemporaryDirectory(prefix: "engram-bad-model")
        try Data(count: 10).write(to: directory.url.appendingPathComponent("model.safetensors"))
        try Data("[PAD]\n".utf8).write(to: directory.url.appendingPathComponent("vocab.txt"))
        #expect(!ModelFiles.isPresent(in: directory.url))
        #expect(throws: EmbeddingError.self) { try MiniLMEmbedder(modelDirectory: directory.url) }
    }

    @Test func installIsANoOpWhenThePresentModelIsValid() throws {
        let directory = ModelFiles.directory()
        try #require(ModelFiles.isPresent(in: directory) || skipModelTests, "run scripts/install-model.sh")
        if ModelFiles.isPresent(in: directory) {
            #expect(try ModelFiles.install(into: directory) == .alreadyInstalled(directory))
        }
    }
}
