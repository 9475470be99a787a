import ArgumentParser

/// The `engram` command: the REPL and one-shot subcommands over an Engram store.
@main
struct EngramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engram",
        abstract: "An embedded knowledge-graph memory engine for AI agents.",
        discussion: "Run 'engram demo' for a tour on a local store, or 'engram <subcommand> --help'.",
        version: EngramVersion.current,
        subcommands: [
            DemoCommand.self, QueryCommand.self, ImportCommand.self, ExportCommand.self, EmbedCommand.self, ModelCommand.self,
            SearchCommand.self, ReindexCommand.self,
            BenchCommand.self,
            StressCommand.self, VectorStressCommand.self,
        ]
    )
}

/// The version printed by `engram --version`.
enum EngramVersion {
    static let current = "0.1.0"
}
