import ArgumentParser
import Engram
import Foundation

/// The embedder a command opens a store with: `minilm` (the built-in model, which must be
/// installed: `engram model install`) or `hashing` (lexical, no model).
enum EmbedderChoice: String, ExpressibleByArgument, CaseIterable {
    case minilm, hashing

    /// The embedder; MiniLM throws `model_not_installed` naming `engram model install` when absent.
    func make(modelDirectory: String?) throws -> any Embedder {
        switch self {
        case .minilm:
            return try MiniLMEmbedder(
                modelDirectory: modelDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) })
        case .hashing: return HashingEmbedder(dimension: 384)
        }
    }
}

/// `engram search --db PATH [--tenant T --user U --agent A] [--mode hybrid|vector|keyword] [--limit N]
/// [--explain] --format table|json "query"`: hybrid search over memories, messages and entities.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search memories, messages and entities (hybrid: vector, keyword and graph).",
        discussion: """
            The store is opened with the embedder its vectors were built with: MiniLM by default \
            (run 'engram model install' once), or --model hashing. Keyword mode needs no model. \
            --explain adds each result's components: vector similarity and rank, BM25 and rank, \
            graph score and rank, recency and importance. See docs/retrieval.md.
            """)

    @Option(help: "Store directory.") var db: String
    @Option(help: "Tenant.") var tenant = "default"
    @Option(help: "User the search acts for.") var user: String?
    @Option(help: "Agent the search acts as.") var agent: String?
    @Flag(help: "Search as the tenant's administrative context (sees every user's records).") var admin = false
    @Option(help: "hybrid, vector or keyword.") var mode: SearchModeArgument = .hybrid
    @Option(help: "What to search: memories, messages, entities (repeatable; default all).")
    var kind: [SearchKindArgument] = []
    @Option(help: "Only this conversation (repeatable).") var conversation: [String] = []
    @Option(help: "Number of results, 1...1000.") var limit = 10
    @Flag(help: "Print each result's score components.") var explain = false
    @Option(help: "The store's embedder, minilm or hashing (default: the one its vectors were made with).")
    var model: EmbedderChoice?
    @Option(help: "The MiniLM model directory.") var modelDir: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Argument(help: "The query.") var query: String

    enum SearchModeArgument: String, ExpressibleByArgument, CaseIterable {
        case hybrid, vector, keyword
        var mode: SearchMode { SearchMode(rawValue: rawValue)! }
    }

    enum SearchKindArgument: String, ExpressibleByArgument, CaseIterable {
        case memories, messages, entities
        var kind: SearchKind { SearchKind(rawValue: rawValue)! }
    }

    func run() throws {
        var configuration = EngramStore.Configuration()
        configuration.createIfMissing = false
        configuration.readOnly = true
        let store =
            mode == .keyword
            ? try EngramStore(path: db, configuration: configuration)
            : try StoreOpening.open(path: db, configuration: configuration, requested: model, modelDirectory: modelDir)
        let context =
            admin
            ? store.administrativeContext(tenant: tenant, user: user, agent: agent)
            : store.context(tenant: tenant, user: user, agent: agent)
        var filter = SearchFilter()
        if !conversation.isEmpty { filter.conversationIDs = conversation }
        let kinds = kind.isEmpty ? SearchKind.allCases : kind.map(\.kind)
        let (query, limit, mode, chosen) = (query, limit, mode.mode, filter)
        let results = try blocking {
            try await context.search(query, in: kinds, filter: chosen, limit: limit, mode: mode)
        }
        if format == .json {
            try printJSON(results.map { Self.json($0, explain: explain) })
            return
        }
        for (position, result) in results.enumerated() {
            print(
                "\(position + 1). [\(result.kind.rawValue)] \(result.id)  score \(String(format: "%.5f", result.score))"
            )
            print("   \(result.text)")
            if explain { print("   " + result.components.explanation) }
        }
        if results.isEmpty { print("no results") }
    }

    static func json(_ result: SearchResult, explain: Bool) -> [String: Any] {
        var object: [String: Any] = [
            "id": result.id, "kind": result.kind.rawValue, "text": result.text, "score": result.score,
            "created_at": ISO8601DateFormatter().string(from: result.createdAt),
        ]
        if let conversation = result.conversationID { object["conversation"] = conversation }
        if explain {
            let c = result.components
            var components: [String: Any] = ["recency": c.recency, "importance": c.importance]
            if let value = c.vectorSimilarity { components["vector_similarity"] = value }
            if let value = c.vectorRank { components["vector_rank"] = value }
            if let value = c.keywordScore { components["bm25"] = value }
            if let value = c.keywordRank { components["keyword_rank"] = value }
            if let value = c.keywordCoverage { components["keyword_coverage"] = value }
            if let value = c.graphScore { components["graph"] = value }
            if let value = c.graphRank { components["graph_rank"] = value }
            object["components"] = components
        }
        return object
    }
}

struct ReindexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Re-embed every memory, message and entity with a model and rebuild the vector indexes.",
        discussion:
            "Fixes 'embedding_model_mismatch' when a store is opened with another model. Run it while no agent writes.")

    @Option(help: "Store directory.") var db: String
    @Option(help: "The embedder: minilm or hashing.") var model: EmbedderChoice = .minilm
    @Option(help: "The MiniLM model directory.") var modelDir: String?
    @Option(help: "Texts per embedding batch.") var batchSize = 256
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        var configuration = EngramStore.Configuration()
        configuration.createIfMissing = false
        let store = try EngramStore(path: db, configuration: configuration)
        let embedder = try model.make(modelDirectory: modelDir)
        let showProgress = isatty(STDERR_FILENO) != 0
        let batchSize = batchSize
        let summary = try blocking {
            try await store.reindex(with: embedder, batchSize: batchSize) { progress in
                if showProgress {
                    FileHandle.standardError.write(Data("\r\(progress.done)/\(progress.total) re-embedded".utf8))
                }
            }
        }
        if showProgress { printDiagnostic("") }
        if format == .json {
            try printJSON([
                "model": summary.model, "records": summary.records, "empty": summary.empty, "tenants": summary.tenants,
            ])
        } else {
            print("re-embedded \(summary.records) records of \(summary.tenants) tenants with \(summary.model)")
        }
    }
}
