import ArgumentParser
import Engram
import Foundation

/// `engram bench fulltext`: BM25 keyword search over a synthetic corpus of memories.
struct BenchFullTextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulltext",
        abstract: "Time full-text indexing and BM25 keyword search over synthetic memories.",
        discussion: """
            Writes --memories tenant-scoped memories into a fresh store, 1,000 per call (one \
            transaction each, the full-text index updated in it). Each memory has 6 to 24 words \
            drawn from a Zipf distribution (exponent 1.07, like English) over --vocabulary \
            synthetic words, so a few words occur in a large share of the memories. Then runs \
            --queries queries of 3 to 6 words drawn from the same distribution — common words \
            included, the hard case — once to warm the pages and once timed, each in its own read \
            transaction with the public ids of the --limit hits read; and the same queries with a \
            filter that keeps one memory in ten (asked before the cut). Times are per query, in \
            wall-clock and in CPU time of the thread (which leaves out the time a loaded machine \
            keeps it waiting). Seeded: the same flags give the same corpus and queries.
            """
    )

    @Option(help: "Memories in the corpus.") var memories = 100_000
    @Option(help: "Timed queries.") var queries = 500
    @Option(help: "Hits per query.") var limit = 10
    @Option(help: "Distinct words of the synthetic language.") var vocabulary = 30_000
    @Option(help: "Seed of the corpus and the queries.") var seed: UInt64 = 42
    @Option(help: "Scratch directory for the store (wiped).") var dir = "/tmp/engram-bench-fulltext"
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        guard memories > 0, queries > 0, limit > 0, vocabulary > 0 else {
            throw ValidationError("counts must be positive")
        }
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = EngramStore.Configuration()
        configuration.durability = .noSync
        let store = try EngramStore(path: dir, configuration: configuration)
        let admin = store.administrativeContext(tenant: "bench")
        let language = ZipfLanguage(size: vocabulary)
        var generator = SplitMix(seed: seed)

        let start = DispatchTime.now()
        var written = 0
        while written < memories {
            let count = min(1000, memories - written)
            let batch = (0..<count).map { _ in
                NewMemory(language.sentence(6 + Int(generator.next() % 19), &generator), scope: .tenant)
            }
            try blocking { try await admin.remember(batch) }
            written += count
        }
        let indexSeconds = BenchStorageCommand.seconds(since: start)

        let texts = (0..<queries).map { _ in language.sentence(3 + Int(generator.next() % 4), &generator) }
        /// Wall-clock and thread-CPU milliseconds of each query (sorted), and the hits found.
        func timed(_ allow: ((String) throws -> Bool)?) throws -> (wall: [Double], cpu: [Double], hits: Int) {
            var wall: [Double] = []
            var cpu: [Double] = []
            var hits = 0
            for pass in 0..<2 {
                for text in texts {
                    let begin = DispatchTime.now()
                    let cpuBegin = threadCPUSeconds()
                    let found = try store.keywordSearch(
                        text, group: .memories, tenant: "bench", limit: limit, allow: allow)
                    if pass == 1 {
                        cpu.append((threadCPUSeconds() - cpuBegin) * 1000)
                        wall.append(BenchStorageCommand.seconds(since: begin) * 1000)
                        hits += found.count
                    }
                }
            }
            return (wall.sorted(), cpu.sorted(), hits)
        }
        let plain = try timed(nil)
        // FNV-1a of the id: a fixed one memory in ten, whatever the process.
        let filtered = try timed {
            $0.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 } % 10 == 0
        }

        func percentile(_ times: [Double], _ p: Double) -> Double {
            times[min(times.count - 1, Int(Double(times.count) * p))]
        }
        let figures: [String: Any] = [
            "memories": memories, "queries": queries, "limit": limit, "vocabulary": vocabulary,
            "index_memories_per_s": Double(memories) / indexSeconds,
            "query_ms_median": percentile(plain.wall, 0.5), "query_ms_p90": percentile(plain.wall, 0.9),
            "query_ms_p99": percentile(plain.wall, 0.99), "query_cpu_ms_median": percentile(plain.cpu, 0.5),
            "query_cpu_ms_p90": percentile(plain.cpu, 0.9), "hits_per_query": Double(plain.hits) / Double(queries),
            "filtered_query_ms_median": percentile(filtered.wall, 0.5),
            "filtered_query_ms_p90": percentile(filtered.wall, 0.9),
            "filtered_query_cpu_ms_median": percentile(filtered.cpu, 0.5),
            "filtered_hits_per_query": Double(filtered.hits) / Double(queries),
            "store_bytes": store.info().usedBytes,
        ]
        try printFigures(figures, format: format)
    }
}

/// A synthetic language: `size` distinct pronounceable words, drawn with Zipf frequencies.
struct ZipfLanguage {
    let words: [String]
    /// Cumulative weights of the ranks, for sampling by binary search.
    let cumulative: [Double]

    init(size: Int, exponent: Double = 1.07) {
        let syllables = [
            "ka", "lo", "mi", "ra", "te", "vu", "ne", "po", "di", "sa", "fe", "gu", "bo", "zi", "he", "ju",
        ]
        words = (0..<size).map { rank in
            var word = ""
            var n = rank + 16  // two syllables at least
            while n > 0 {
                word += syllables[n % 16]
                n /= 16
            }
            return word
        }
        var total = 0.0
        cumulative = (0..<size).map { rank in
            total += 1 / pow(Double(rank + 1), exponent)
            return total
        }
    }

    func word(_ generator: inout SplitMix) -> String {
        let target = Double(generator.next() >> 11) / Double(1 << 53) * cumulative.last!
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return words[low]
    }

    func sentence(_ length: Int, _ generator: inout SplitMix) -> String {
        (0..<length).map { _ in word(&generator) }.joined(separator: " ")
    }
}
