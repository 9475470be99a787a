import ArgumentParser
import EngramEmbedding
import Foundation

/// `engram bench embed`: times the built-in MiniLM embedder on one thread and prints JSON.
///
/// Figures: milliseconds for one query of 12, 40 and 120 tokens (batch 1), tokens per second at
/// batch 32 for the same lengths, and the resident memory the loaded model adds to the process.
/// Each figure is the median over repetitions (the minimum is printed beside it), after a warm-up.
struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Time the built-in MiniLM embedder (single thread) and print the figures.")

    @Option(help: "Output format; only json is supported.")
    var format: String = "json"

    @Option(help: "The model directory (default: $ENGRAM_MODEL_DIR or ~/.cache/engram/models/all-MiniLM-L6-v2).")
    var modelDir: String?

    @Option(help: "Repetitions per figure (the median is reported).")
    var repetitions: Int = 30

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    @Option(help: "Comma-separated query lengths in tokens, each 3...256.")
    var lengths: String = "12,40,120"

    mutating func run() throws {
        guard format == "json" else { throw ValidationError("bench embed prints json only") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        BLAS.setThreadCount(threads)
        let residentBefore = residentBytes()
        let embedder = try MiniLMEmbedder(modelDirectory: modelDir.map { URL(fileURLWithPath: $0, isDirectory: true) })
        let words =
            ("the quick brown fox jumps over a lazy dog while memory engines store "
            + "facts about people places and events for later retrieval").split(separator: " ")
        func text(tokens: Int) -> String {
            (0..<(tokens - 2)).map { String(words[$0 % words.count]) }.joined(separator: " ")
        }

        var single: [String: Any] = [:]
        var batched: [String: Any] = [:]
        let lengths = self.lengths.split(separator: ",").compactMap { Int($0) }
        guard !lengths.isEmpty, lengths.allSatisfy({ (3...256).contains($0) }) else {
            throw ValidationError("--lengths takes numbers in 3...256")
        }
        for tokens in lengths {
            let query = text(tokens: tokens)
            guard embedder.tokenIDs(for: query).count == tokens else {
                throw ValidationError("the bench text does not have \(tokens) tokens")
            }
            let one = measure(repetitions: repetitions) { _ = embedder.vectors(for: [query]) }
            single["\(tokens)"] = [
                "median_ms": one.median * 1e3, "min_ms": one.minimum * 1e3, "median_cpu_ms": one.medianCPU * 1e3,
            ]
            let batch = Array(repeating: query, count: 32)
            let many = measure(repetitions: max(3, repetitions / 6)) { _ = embedder.vectors(for: batch) }
            batched["\(tokens)"] = [
                "median_tokens_per_s": Double(32 * tokens) / many.median,
                "best_tokens_per_s": Double(32 * tokens) / many.minimum,
                "median_ms_per_batch": many.median * 1e3,
                "median_cpu_tokens_per_s": Double(32 * tokens) / many.medianCPU,
            ]
        }
        let tokenizerTime = measure(repetitions: repetitions) {
            for _ in 0..<100 { _ = embedder.tokenIDs(for: text(tokens: 40)) }
        }
        let residentAfter = residentBytes()
        let report: [String: Any] = [
            "model": embedder.modelID,
            "threads": BLAS.threadCount,
            "blas": BLAS.description,
            "repetitions": repetitions,
            "batch1_ms": single,
            "batch32": batched,
            "tokenizer_us_per_40_token_text": tokenizerTime.median * 1e6 / 100,
            "model_resident_mb": Double(residentAfter - residentBefore) / 1_048_576,
            "process_resident_mb": Double(residentAfter) / 1_048_576,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Median and minimum wall-clock seconds, and the median CPU seconds of this thread, of `body`
    /// over `repetitions` runs, after one warm-up run. CPU time leaves out the time the thread waited
    /// for a core, which on a shared machine is most of the noise.
    private func measure(repetitions: Int, _ body: () -> Void) -> (median: Double, minimum: Double, medianCPU: Double) {
        body()
        var times: [Double] = []
        var cpuTimes: [Double] = []
        for _ in 0..<repetitions {
            let cpuStart = threadCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpuTimes.append(threadCPUSeconds() - cpuStart)
        }
        times.sort()
        cpuTimes.sort()
        return (times[times.count / 2], times[0], cpuTimes[cpuTimes.count / 2])
    }

    /// The process's resident set size (Linux `/proc/self/statm`), or 0 where it cannot be read.
    private func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
