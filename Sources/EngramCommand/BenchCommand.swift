import ArgumentParser
import Foundation

/// `engram bench …`: dataset-level benchmarks whose figures are put beside the peers' in
/// `docs/benchmarks.md`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Engram on fixed workloads, to compare with the peers in ../shared/bench.",
        subcommands: [
            BenchStorageCommand.self, BenchGraphCommand.self, BenchCypherCommand.self, BenchANNCommand.self,
            BenchEmbedCommand.self, BenchMemoryCommand.self, BenchFullTextCommand.self, BenchDedupeCommand.self,
            BenchSearchCommand.self,
        ]
    )
}

/// The CPU time of the calling thread, in seconds: robust to being descheduled on a shared machine,
/// so the benches report it beside the wall time.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
