import ArgumentParser
import Engram
import Foundation

/// `engram bench dedupe`: `findPotentialDuplicates` over a tenant of many entities, and the
/// evaluation of entity resolution on the seeded labelled pairs.
struct BenchDedupeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedupe",
        abstract: "Time findPotentialDuplicates over --entities entities; with --eval, print the evaluation.",
        discussion: """
            Loads --entities seeded entities (persons and organisations, about one in twenty a \
            variant of an earlier one) into a fresh store with resolution on add disabled, then \
            times findPotentialDuplicates over all of them (--runs times, the best and the median \
            reported). --eval prints the precision and recall of the bands on the labelled pairs \
            (docs/entity-resolution.md, "Evaluation") and skips the timing when --entities is 0.
            """
    )

    @Option(help: "Entities loaded.") var entities = 100_000
    @Option(help: "Timed runs of findPotentialDuplicates.") var runs = 3
    @Option(help: "Adds with resolution on, timed after the load.") var adds = 1000
    @Option(help: "The most pairs returned.") var limit = 10_000
    @Option(help: "Scratch directory for the store (wiped).") var dir = "/tmp/engram-bench-dedupe"
    @Flag(help: "Also evaluate on the labelled pairs.") var eval = false
    @Option(help: "Seed of the labelled pairs.") var seed: UInt64 = 2026
    @Option(help: "Write the labelled pairs as tab-separated values to this file.") var pairsOut: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() async throws {
        guard entities >= 0, runs > 0 else { throw ValidationError("--entities must be 0 or more and --runs positive") }
        var figures: [String: Any] = [:]
        if eval || pairsOut != nil {
            let pairs = ResolutionEvaluation.pairs(seed: seed)
            if let pairsOut {
                var text = "type\ta\tb\tsame\tkind\n"
                for pair in pairs { text += "\(pair.type)\t\(pair.a)\t\(pair.b)\t\(pair.same)\t\(pair.kind)\n" }
                try text.write(toFile: pairsOut, atomically: true, encoding: .utf8)
            }
            let report = ResolutionEvaluation.evaluate(pairs)
            figures["eval"] = [
                "seed": seed, "pairs": report.pairs, "duplicates": report.positives, "merged": report.merged,
                "reviewed": report.reviewed, "merge_precision": report.mergePrecision,
                "merge_recall": report.mergeRecall,
                "review_precision": report.reviewPrecision, "merge_or_review_recall": report.mergeOrReviewRecall,
                "finder_blocking_recall": Double(report.finderBlocked) / Double(max(report.positives, 1)),
                "by_kind": report.byKind.mapValues {
                    ["pairs": $0.pairs, "merged": $0.merged, "reviewed": $0.reviewed]
                },
            ]
        }
        if entities > 0 {
            try? FileManager.default.removeItem(atPath: dir)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var configuration = EngramStore.Configuration()
            configuration.durability = .noSync
            let store = try EngramStore(path: dir, configuration: configuration)
            var options = MemoryOptions()
            options.resolution.isEnabled = false
            let memory = store.context(tenant: "bench", options: options)
            var start = DispatchTime.now()
            let loaded = ResolutionEvaluation.benchmarkEntities(count: entities)
            for entity in loaded {
                try await memory.addEntity(name: entity.name, type: entity.type)
            }
            let load = BenchStorageCommand.seconds(since: start)
            // Adds with resolution on: a loaded name with one letter appended, each in its own
            // transaction, which keeps its result (a merge, a review or a new entity).
            let resolving = store.context(tenant: "bench")
            var random = SplitMix(seed: 11)
            var decisions: [String: Int] = [:]
            start = DispatchTime.now()
            for _ in 0..<adds {
                let entity = loaded[Int(random.next() % UInt64(loaded.count))]
                let decision = try await resolving.resolveEntity(name: entity.name + "x", type: entity.type).decision
                decisions[decision.rawValue, default: 0] += 1
            }
            let addSeconds = BenchStorageCommand.seconds(since: start)
            figures["resolve_on_add"] = [
                "adds": adds, "mean_ms": addSeconds * 1000 / Double(max(adds, 1)), "decisions": decisions,
            ]
            var times: [Double] = []
            var cpu: [Double] = []
            var found = 0
            for _ in 0..<runs {
                let cpuStart = Self.processCPUSeconds()
                start = DispatchTime.now()
                found = try memory.findPotentialDuplicates(limit: limit).count
                times.append(BenchStorageCommand.seconds(since: start))
                cpu.append(Self.processCPUSeconds() - cpuStart)
            }
            times.sort()
            cpu.sort()
            figures["find_potential_duplicates"] = [
                "entities": entities, "load_seconds": load, "best_seconds": times[0],
                "median_seconds": times[times.count / 2], "pairs_returned": found, "limit": limit,
                "best_cpu_seconds": cpu[0],
            ]
        }
        if format == .json {
            try printJSON(figures)
        } else {
            if let eval = figures["eval"] as? [String: Any] {
                for key in [
                    "pairs", "duplicates", "merged", "reviewed", "merge_precision", "merge_recall", "review_precision",
                    "merge_or_review_recall", "finder_blocking_recall",
                ] {
                    print("eval \(key): \(eval[key]!)")
                }
            }
            for section in ["find_potential_duplicates", "resolve_on_add"] {
                guard let timing = figures[section] as? [String: Any] else { continue }
                for key in timing.keys.sorted() { print("\(section) \(key): \(timing[key]!)") }
            }
        }
    }

    /// The CPU time of this process so far (all threads), which a loaded machine does not inflate
    /// the way it inflates wall time.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
