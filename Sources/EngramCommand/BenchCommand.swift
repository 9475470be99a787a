import ArgumentParser

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
