import EngramTestSupport
import Foundation
import Testing

/// Drives `engram` in a real pseudo-terminal: a detached tmux session on a private server
/// (tmux is installed by scripts/setup.sh).
final class TerminalSession {
    let socket = "engram-test-\(UUID().uuidString.prefix(8))"
    let name = "repl"

    static var tmux: String? {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(command: String) throws {
        try spawn(["new-session", "-d", "-s", name, "-x", "250", "-y", "60", command])
    }

    deinit {
        try? spawn(["kill-server"])
    }

    /// Runs tmux for a call that starts or stops its server, with `posix_spawn` and every
    /// descriptor above 2 closed (glibc's `posix_spawn_file_actions_addclosefrom_np` is not
    /// visible from Swift, so python3 closes them): the server would otherwise inherit the socket through which
    /// Foundation's `Process` learns that its child exited, so that `Process` would never see the
    /// client exit, and would touch a freed object when the server finally does.
    private func spawn(_ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // python3 (which scripts/setup.sh ensures) closes every descriptor above 2, then becomes the client.
        let closeAll = "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])"
        let tmux = Self.tmux ?? "/usr/bin/tmux"
        let argv = (["/usr/bin/python3", "-c", closeAll, tmux, "-L", socket, "-f", "/dev/null"] + arguments).map { strdup($0) }
            + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/usr/bin/python3", &actions, nil, argv, environ)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO) }
        var exitStatus: Int32 = 0
        _ = waitpid(pid, &exitStatus, 0)  // the client exits once the server has the command
    }

    /// Runs a tmux client call to the running server and returns what it prints.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tmux ?? "/usr/bin/tmux")
        process.arguments = ["-L", socket, "-f", "/dev/null"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Types `text` literally (tmux would read a final `;` as a command separator: escaped).
    func type(_ text: String) throws {
        try run(["send-keys", "-t", name, "-l", text.hasSuffix(";") ? String(text.dropLast()) + "\\;" : text])
    }

    /// The cursor's column: 0 once the REPL has taken a typed line (libedit moves to the next line).
    var cursorColumn: Int? {
        (try? run(["display-message", "-p", "-t", name, "#{cursor_x}"])).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func press(_ key: String) throws {
        try run(["send-keys", "-t", name, key])
    }

    /// The screen and its scrollback (tmux drops the blanks at the end of each line).
    var screen: String { (try? run(["capture-pane", "-p", "-t", name, "-S", "-200"])) ?? "" }

    /// Waits until `condition` holds for the screen (up to 20 s, so that a loaded machine does not
    /// fail the test), and returns the screen.
    @discardableResult
    func waitFor(_ what: String, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let text = screen
            if condition(text) { return text }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("timed out waiting for \(what); the screen is:\n\(screen)")
        throw CancellationError()
    }

    func waitFor(_ text: String, count: Int = 1) throws {
        try waitFor("'\(text)' ×\(count)") { $0.components(separatedBy: text).count - 1 >= count }
    }
}

@Suite("The REPL in a terminal", .serialized)
struct REPLTerminalTests {
    @Test func historyMultiLineInputAndCtrlC() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        try #require(TerminalSession.tmux != nil, "run scripts/setup.sh (it installs tmux)")
        let directory = try TemporaryDirectory(prefix: "engram-pty")
        let db = try makeCLIStore(directory)
        let history = directory.appending("history")
        // `timeout`: a failed test leaves no REPL behind.
        let command = "ENGRAM_HISTORY='\(history)' timeout --foreground 120 '\(engramBinary())' '\(db)' --tenant t; echo \"EXITED $?\"; sleep 10"

        do {
            let terminal = try TerminalSession(command: command)
            try terminal.waitFor("engram(t/-)>")
            // Multi-line input: the continuation prompt, then the result once ';' ends it.
            try terminal.type("MATCH (p:Person)")
            try terminal.press("Enter")
            try terminal.waitFor("        ...>")
            try terminal.type("RETURN p.name AS name ORDER BY name;")
            try terminal.press("Enter")
            try terminal.waitFor("2 rows (")
            #expect(terminal.screen.contains("engram(t/-)> MATCH (p:Person)\n        ...> RETURN p.name AS name ORDER BY name;\n"))
            // Ctrl-C while typing drops the statement (each key waits for the REPL to show the last:
            // typed ahead, in the terminal's own line mode between two lines, Ctrl-C would flush them).
            try terminal.type("MATCH (n)")
            try terminal.press("Enter")
            try terminal.waitFor("        ...>", count: 2)
            try terminal.type("RETURN n")
            try terminal.waitFor("        ...> RETURN n")
            try terminal.press("C-c")
            try terminal.waitFor("engram(t/-)>", count: 3)
            // Ctrl-C cancels a long query and the REPL goes on.
            // A cartesian product of 3^20 rows: endless, in constant memory.
            try terminal.type("MATCH " + (1...20).map { "(n\($0))" }.joined(separator: ", ") + " RETURN count(*);")
            try terminal.press("Enter")
            try terminal.waitFor("the line to be read") { _ in terminal.cursorColumn == 0 }
            try terminal.press("C-c")
            try terminal.waitFor("cancelled: the query was cancelled")
            try terminal.type("RETURN 6 * 7 AS answer;")
            try terminal.press("Enter")
            try terminal.waitFor("| 42     |")
            try terminal.press("C-d")
            try terminal.waitFor("EXITED 0")
        }
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        #expect(saved.contains("MATCH\\040(p:Person)") && saved.contains("RETURN\\0406\\040*\\0407\\040AS\\040answer;"))

        // A second run finds the history: Up brings back the last line.
        let terminal = try TerminalSession(command: command)
        try terminal.waitFor("engram(t/-)>")
        try terminal.press("Up")
        try terminal.waitFor("engram(t/-)> RETURN 6 * 7 AS answer;")
        try terminal.press("Enter")
        try terminal.waitFor("| 42     |")
        try terminal.type(":quit")
        try terminal.press("Enter")
        try terminal.waitFor("EXITED 0")
    }
}
