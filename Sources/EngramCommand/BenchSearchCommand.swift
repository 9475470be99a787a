import ArgumentParser
import Engram
import Foundation

/// `engram bench search`: hybrid search latency over a large store (the query's embedding
/// excluded), and with `--eval` the retrieval evaluation's recall per mode.
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Time hybrid search over --records memories, or (--eval) report recall@5/@10 per mode.",
        discussion: """
            Latency: builds a store of --records generated memories (people, places, topics; 1 in 4 \
            mentions one of --entities person entities) embedded with the hashing embedder (384 \
            dimensions: fast to build; search costs the same as with MiniLM vectors of that size), \
            then runs --queries queries whose embeddings are computed first, and times each \
            search call alone. --eval: loads the generated retrieval evaluation (2,100 memories \
            and messages, 250 questions) with --model (MiniLM by default) and prints recall@5 and \
            recall@10 of keyword, vector and hybrid search.
            """)

    @Option(help: "Memories in the latency store.") var records = 100_000
    @Option(help: "Person entities the memories mention.") var entities = 1000
    @Option(help: "Queries timed.") var queries = 200
    @Option(help: "Results per query.") var limit = 10
    @Option(help: "Scratch directory for the store (wiped unless --keep).") var dir = "/tmp/engram-bench-search"
    @Flag(help: "Keep (and reuse) the store in --dir.") var keep = false
    @Flag(help: "Run the retrieval evaluation instead.") var eval = false
    @Option(help: "The evaluation's embedder: minilm or hashing.") var model: EmbedderChoice = .minilm
    @Option(help: "The MiniLM model directory.") var modelDir: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        let figures = eval ? try evaluate() : try latency()
        if format == .json {
            try printJSON(figures)
        } else {
            for key in figures.keys.sorted() {
                print(key.padding(toLength: 32, withPad: " ", startingAt: 0), figures[key]!)
            }
        }
    }

    private func evaluate() throws -> [String: Any] {
        let directory = dir + "-eval"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = EngramStore.Configuration()
        configuration.durability = .noSync
        let store = try EngramStore(
            path: directory, configuration: configuration, embedder: try model.make(modelDirectory: modelDir))
        let evaluation = RetrievalEvaluation.generate()
        let recalls = try blocking {
            try await evaluation.load(into: store)
            return try await evaluation.run(on: store)
        }
        var figures: [String: Any] = [
            "model": store.embedder?.modelID ?? "", "questions": evaluation.questions.count,
            "corpus": evaluation.corpusSize,
        ]
        for recall in recalls {
            figures["\(recall.mode.rawValue)_recall_at_5"] = recall.at5
            figures["\(recall.mode.rawValue)_recall_at_10"] = recall.at10
        }
        return figures
    }

    static let topics = [
        "prefers window seats on long flights", "booked a hotel near the harbour", "is learning Portuguese",
        "asked for vegetarian meals", "renewed the passport", "plays tennis on Thursdays",
        "moved the meeting to Monday",
        "likes jazz concerts", "needs a receipt for the taxi", "is allergic to penicillin", "works remotely on Fridays",
        "ordered a new laptop", "visits the dentist in spring", "collects vintage maps", "signed the lease",
    ]
    static let places = ["Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Ghent", "Hobart", "Tallinn", "Porto", "Cork"]

    private func latency() throws -> [String: Any] {
        guard records > 0, entities > 0, queries > 0 else { throw ValidationError("counts must be positive") }
        let embedder = HashingEmbedder(dimension: 384)
        if !keep { try? FileManager.default.removeItem(atPath: dir) }
        defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }
        var configuration = EngramStore.Configuration()
        configuration.durability = .noSync
        let store = try EngramStore(path: dir, configuration: configuration, embedder: embedder)
        let memory = store.context(tenant: "bench", user: "user", agent: "agent")
        let names = (0..<entities).map { "Person \($0)" }
        var random = SplitMix(seed: 7)
        var buildSeconds = 0.0
        if try memory.memories(options: ListOptions(limit: 1)).total < records {
            let start = DispatchTime.now()
            let (entities, records) = (entities, records)
            try blocking {
                for (i, name) in names.enumerated() {
                    try await memory.addEntity(name: name, type: "Person", id: "p\(i)")
                }
            }
            var written = 0
            while written < records {
                let batch = (written..<min(written + 1000, records)).map { i -> NewMemory in
                    let person = random.below(entities)
                    let text =
                        "\(names[person]) \(Self.topics[random.below(Self.topics.count)]) in \(Self.places[random.below(Self.places.count)]) (note \(i))"
                    return NewMemory(
                        text, importance: Double(random.below(10)) / 10, mentions: i % 4 == 0 ? ["p\(person)"] : [])
                }
                try blocking { try await memory.remember(batch) }
                written += batch.count
                if standardOutputIsTerminal { printDiagnostic("\(written)/\(records) memories") }
            }
            buildSeconds = BenchStorageCommand.seconds(since: start)
        }
        let texts = (0..<queries).map { i -> String in
            switch i % 3 {
            case 0:
                return
                    "what does \(names[random.below(names.count)]) need in \(Self.places[random.below(Self.places.count)])"
            case 1: return Self.topics[random.below(Self.topics.count)]
            default:
                return "\(Self.topics[random.below(Self.topics.count)]) \(Self.places[random.below(Self.places.count)])"
            }
        }
        let embeddings = try blocking { try await embedder.embed(texts) }
        var figures: [String: Any] = [
            "records": records, "entities": entities, "queries": queries, "limit": limit,
            "embedder": embedder.modelID, "build_seconds": buildSeconds,
        ]
        for mode in SearchMode.allCases {
            for (text, vector) in zip(texts, embeddings).prefix(10) {  // warm the pages and the index
                _ = try memory.search(text, embedding: vector, limit: limit, mode: mode)
            }
            var times: [Double] = []
            var results = 0
            for (text, vector) in zip(texts, embeddings) {
                let start = DispatchTime.now()
                results += try memory.search(text, embedding: vector, limit: limit, mode: mode).count
                times.append(BenchStorageCommand.seconds(since: start) * 1000)
            }
            times.sort()
            figures["\(mode.rawValue)_median_ms"] = times[times.count / 2]
            figures["\(mode.rawValue)_p95_ms"] = times[min(times.count - 1, times.count * 95 / 100)]
            figures["\(mode.rawValue)_mean_results"] = Double(results) / Double(queries)
        }
        return figures
    }
}
