import ArgumentParser
import Foundation

/// The `engram` command: the REPL and one-shot subcommands over an Engram store.
///
/// `engram PATH` opens the REPL on the store at PATH (as `engram repl --db PATH` does).
struct EngramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engram",
        abstract: "An embedded knowledge-graph memory engine for AI agents.",
        discussion: """
            'engram PATH' opens the REPL on the store at PATH (as 'engram repl --db PATH'). \
            Run 'engram demo' for a tour on a local store, or 'engram <subcommand> --help'. \
            Exit status: 0 on success, 1 for a failure (the error on standard error), 2 for bad arguments.
            """,
        version: EngramVersion.current,
        subcommands: [
            ReplCommand.self, QueryCommand.self, RememberCommand.self, SearchCommand.self, EntitiesCommand.self,
            StatsCommand.self, DedupeCommand.self,
            ImportCommand.self, ExportCommand.self, ReindexCommand.self,
            DemoCommand.self, EmbedCommand.self, ModelCommand.self,
            BenchCommand.self,
            StressCommand.self, VectorStressCommand.self,
        ]
    )

    /// The arguments with `engram PATH [OPTIONS]` rewritten as `engram repl --db PATH [OPTIONS]`:
    /// a first argument that is neither an option nor a subcommand's name is a store path.
    static func rewritingStorePath(_ arguments: [String]) -> [String] {
        guard let first = arguments.first, !first.hasPrefix("-"), first != "help",
            !configuration.subcommands.contains(where: { $0._commandName == first })
        else { return arguments }
        return ["repl", "--db", first] + arguments.dropFirst()
    }
}

/// The version printed by `engram --version`.
enum EngramVersion {
    static let current = "0.1.0"
}

/// Runs the command line, with the exit statuses of SPEC §6: 0 on success, 1 with the typed
/// error's message on standard error for a failure, 2 for bad arguments (argument-parser's
/// default for those is 64).
@main
enum EngramMain {
    static func main() async {
        do {
            var command = try EngramCommand.parseAsRoot(
                EngramCommand.rewritingStorePath(Array(CommandLine.arguments.dropFirst())))
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            let code = EngramCommand.exitCode(for: error)
            let message = EngramCommand.fullMessage(for: error)
            if !message.isEmpty {
                let handle = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                handle.write(Data((message + "\n").utf8))
            }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
