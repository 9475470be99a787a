public import Engram
import Foundation
import Synchronization

/// Where a REPL session writes: results on one stream, diagnostics on the other.
public struct REPLOutput: Sendable {
    /// Writes text to standard output; the session passes whole lines, each with its newline.
    public var standard: @Sendable (String) -> Void
    /// Writes text to standard error.
    public var error: @Sendable (String) -> Void

    /// Creates an output from two writers.
    public init(standard: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void) {
        self.standard = standard
        self.error = error
    }
}

/// Stops the query a ``REPLSession`` is running, from another thread (a `SIGINT` handler).
///
/// A cancel that comes when no query runs is kept until ``clear()``, so that Ctrl-C pressed just
/// after a statement was entered, before its query starts, still stops it; the shell clears it
/// each time it shows a prompt.
public final class REPLInterrupt: Sendable {
    private let state = Mutex<(running: CypherCancellation?, pending: Bool)>((nil, false))

    init() {}

    /// Cancels the running query, or the next one to start if none runs; returns whether a query
    /// was running.
    @discardableResult
    public func cancel() -> Bool {
        state.withLock { state in
            guard let cancellation = state.running else {
                state.pending = true
                return false
            }
            cancellation.cancel()
            return true
        }
    }

    /// Forgets a cancel that came when no query was running.
    public func clear() {
        state.withLock { $0.pending = false }
    }

    func begin() -> CypherCancellation {
        let cancellation = CypherCancellation()
        state.withLock { state in
            if state.pending { cancellation.cancel() }
            state = (cancellation, false)
        }
        return cancellation
    }

    func end() {
        state.withLock { $0.running = nil }
    }
}

/// The core of `engram repl`: one line of input in, results and errors out, with no terminal
/// behind it (the executable adds line editing, history and Ctrl-C).
///
/// Lines that start with `:` are commands (``REPLCommand``); everything else is Cypher, gathered
/// until a `;` ends the statement, so that a statement may span lines.
///
/// ```swift
/// let session = REPLSession(store: store, output: REPLOutput(standard: { print($0) }, error: { print($0) }))
/// await session.handle("MATCH (p:Person)")
/// await session.handle("RETURN p.name;")   // runs the two lines as one statement
/// await session.handle(":quit")
/// ```
///
/// Not thread-safe: feed it from one task. ``interrupt`` may be used from any thread.
public final class REPLSession {
    /// The store.
    public let store: EngramStore
    /// The tenant queries and memory calls use.
    public var tenant: String
    /// The user memory calls act for.
    public var user: String?
    /// The agent memory calls act as.
    public var agent: String?
    /// Parameters for `$name` in queries (`:param`).
    public var parameters: [String: PropertyValue] = [:]
    /// How results are printed (`:format`, `:width`).
    public var renderer: ResultRenderer
    /// Whether the time a statement took is printed (`:timing`).
    public var timing: Bool
    /// Limits applied to every query.
    public var limits: CypherLimits
    /// The commands, by name; ``REPLCommand/standard`` unless given.
    public private(set) var commands: [REPLCommand]
    /// Whether `:quit` was given.
    public private(set) var isFinished = false
    /// Cypher typed so far that no `;` has ended yet.
    public private(set) var pending = ""
    /// Stops the running query from another thread.
    public let interrupt = REPLInterrupt()
    /// Where output goes.
    public let output: REPLOutput

    /// Opens a session.
    /// - Parameters:
    ///   - store: the store to work on.
    ///   - tenant: the tenant (`default`).
    ///   - user: the user for memory calls, if any.
    ///   - agent: the agent for memory calls, if any.
    ///   - renderer: the format and cell width.
    ///   - timing: print how long each statement took.
    ///   - commands: the command table.
    ///   - output: where results and errors go.
    public init(
        store: EngramStore, tenant: String = "default", user: String? = nil, agent: String? = nil,
        renderer: ResultRenderer = ResultRenderer(), timing: Bool = false, limits: CypherLimits = CypherLimits(),
        commands: [REPLCommand] = REPLCommand.standard, output: REPLOutput
    ) {
        self.store = store
        self.tenant = tenant
        self.user = user
        self.agent = agent
        self.renderer = renderer
        self.timing = timing
        self.limits = limits
        self.commands = commands
        self.output = output
    }

    /// The prompt for the next line: `engram(tenant/user)> `, or a continuation prompt of the same
    /// width while a statement is unfinished.
    public var prompt: String {
        let main = "engram(\(tenant)/\(user ?? "-"))> "
        guard !pending.isEmpty else { return main }
        return String(repeating: " ", count: max(main.count - 5, 0)) + "...> "
    }

    /// The memory context of the current tenant, user and agent.
    public var memory: MemoryContext { store.context(tenant: tenant, user: user, agent: agent) }

    /// Adds a command, or replaces the one with the same name.
    public func register(_ command: REPLCommand) {
        if let index = commands.firstIndex(where: { $0.name == command.name }) {
            commands[index] = command
        } else {
            commands.append(command)
        }
    }

    /// Handles one line of input: a command, or Cypher (run once a `;` ends the statement).
    public func handle(_ line: String) async {
        if pending.isEmpty {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(":") {
                await runCommand(trimmed)
                return
            }
            if CypherScript.isBlank(line) { return }
        }
        pending += pending.isEmpty ? line : "\n" + line
        let split = CypherScript.split(pending)
        pending = CypherScript.isBlank(split.remainder) ? "" : split.remainder
        for statement in split.statements { await run(statement.text) }
    }

    /// Drops an unfinished statement (Ctrl-C at a continuation prompt).
    public func discardPending() {
        pending = ""
    }

    /// Handles the end of input: an unfinished statement is reported, not run.
    public func finish() {
        if !pending.isEmpty {
            writeError("the last statement has no ';' and was not run")
            pending = ""
        }
        isFinished = true
    }

    /// Ends the session (`:quit`).
    public func quit() {
        isFinished = true
    }

    // MARK: Running

    /// Runs one Cypher statement and prints its result or error.
    /// - Parameter prefix: `EXPLAIN` or `PROFILE` to put before the statement (`:explain`,
    ///   `:profile`); an error's position is still shown in `statement`.
    public func run(_ statement: String, prefix: String? = nil) async {
        let cancellation = interrupt.begin()
        defer { interrupt.end() }
        let clock = ContinuousClock()
        let started = clock.now
        let text = prefix.map { $0 + " " + statement } ?? statement
        do {
            let result = try store.query(
                text, parameters: parameters, tenant: tenant, limits: limits, cancellation: cancellation)
            write(result, elapsed: clock.now - started)
        } catch var error as CypherError {
            if error.code == .cancelled { output.error("\n") }  // after the terminal's "^C"
            if let prefix, error.line == 1, let column = error.column {
                error.column = max(column - prefix.count - 1, 1)
            }
            report(error, in: statement)
        } catch {
            report(error, in: statement)
        }
    }

    /// Prints a result in the current format (with the time when ``timing`` is on: in the table's
    /// footer, or on standard error for JSON and CSV, whose standard output is data only).
    /// With `report`, table cells that are strings are written bare (`:stats`, `:schema`).
    public func write(_ result: CypherResult, elapsed: Duration? = nil, report: Bool = false) {
        let shown = timing ? elapsed : nil
        write(renderer.render(result, elapsed: renderer.format == .table ? shown : nil, bareStrings: report))
        if renderer.format != .table, let shown { writeError("(\(ResultRenderer.format(shown)))") }
    }

    /// Writes a line (or lines) of results.
    public func write(_ text: String) {
        output.standard(text + "\n")
    }

    /// Writes a line of diagnostics.
    public func writeError(_ text: String) {
        output.error(text + "\n")
    }

    /// Reports an error: its message, and for an error with a position in `statement`, the line
    /// of the statement with a caret under the position.
    public func report(_ error: any Error, in statement: String? = nil) {
        writeError(REPLErrorText.render(error, in: statement))
    }

    private func runCommand(_ line: String) async {
        let body = line.dropFirst()
        let name = String(body.prefix { !$0.isWhitespace })
        let argument = body.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        guard let command = commands.first(where: { $0.name == name || $0.aliases.contains(name) }) else {
            writeError("unknown command ':\(name)'; type :help for the list")
            return
        }
        do {
            try await command.run(self, argument)
        } catch let error as REPLUsageError {
            writeError("\(error.message)\nusage: \(command.usage)")
        } catch {
            report(error)
        }
    }
}

/// A command given the wrong arguments; the session prints the message and the command's usage.
public struct REPLUsageError: Error, Sendable {
    /// What is wrong.
    public var message: String

    /// Creates a usage error.
    public init(_ message: String) {
        self.message = message
    }
}
