import ArgumentParser
import Engram
import EngramREPL
import Foundation

/// `engram repl --db PATH`: the interactive shell (also `engram PATH`).
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Open a store in the interactive REPL: Cypher and :commands (type :help).",
        discussion: """
            Cypher statements end with ';' and may span lines. On a terminal, lines are edited with \
            libedit and kept in a history file ($ENGRAM_HISTORY, else ~/.engram_history; empty \
            ENGRAM_HISTORY: no history); Ctrl-C cancels the running query (or the statement being \
            typed) and Ctrl-D leaves. When standard input is not a terminal, lines are read as they \
            come, with no prompt, so that a script can be piped in: 'engram repl --db DB < script.txt'.
            """
    )

    @Option(help: "Store directory (created when missing).") var db: String
    @OptionGroup var session: SessionOptions
    @Flag(help: "Show how long each statement takes (default: on a terminal only).") var timing = false

    func run() async throws {
        try await Self.runREPL(db: db, session: session, timing: timing)
    }

    static func runREPL(db: String, session options: SessionOptions, timing: Bool = false) async throws {
        let store = try StoreOpening.open(path: db, configuration: EngramStore.Configuration())
        let interactive = isatty(STDIN_FILENO) != 0
        let output = REPLOutput(
            standard: { FileHandle.standardOutput.write(Data($0.utf8)) },
            error: { FileHandle.standardError.write(Data($0.utf8)) })
        let session = REPLSession(
            store: store, tenant: options.tenant, user: options.user, agent: options.agent, renderer: options.renderer,
            timing: timing || interactive, output: output)
        let interrupt = session.interrupt
        let interrupts = InterruptWatcher { interrupt.cancel() }
        var reader: any LineReader =
            interactive
            ? EditLineReader(historyPath: EditLineReader.defaultHistoryPath(), interrupts: interrupts) : PlainLineReader()
        if interactive {
            session.writeError("Engram \(EngramVersion.current) on \(store.path) — type :help, end statements with ';', Ctrl-D to leave")
        }
        while !session.isFinished {
            interrupts.reset()
            interrupt.clear()
            switch reader.readLine(prompt: session.prompt) {
            case .line(let line):
                await session.handle(line)
            case .interrupted:  // Ctrl-C while typing: drop the statement being typed
                session.discardPending()
            case .end:
                if interactive { session.write("") }
                session.finish()
            }
        }
        reader.close()
    }
}
