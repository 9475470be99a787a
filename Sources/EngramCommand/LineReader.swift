import CEngramEdit
import Foundation

/// Where the REPL's lines come from.
protocol LineReader {
    /// The next line without its newline, or `nil` at the end of input (Ctrl-D).
    mutating func readLine(prompt: String) -> String?
    /// Saves what must be saved (the history).
    mutating func close()
}

/// Lines from standard input, with no prompt and no editing: for scripts and pipes.
struct PlainLineReader: LineReader {
    mutating func readLine(prompt: String) -> String? {
        Swift.readLine(strippingNewline: true)
    }

    mutating func close() {}
}

/// Lines edited with libedit on a terminal, with a history kept in a file between runs.
struct EditLineReader: LineReader {
    /// The history file, or `nil` for none.
    let historyPath: String?
    /// The most lines the history keeps.
    static let historySize: Int32 = 1000

    /// `$ENGRAM_HISTORY` (empty: no history), else `~/.engram_history`.
    static func defaultHistoryPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["ENGRAM_HISTORY"] { return path.isEmpty ? nil : path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".engram_history").path
    }

    init(historyPath: String?) {
        self.historyPath = historyPath
        using_history()
        stifle_history(Self.historySize)
        if let historyPath { _ = read_history(historyPath) }
    }

    mutating func readLine(prompt: String) -> String? {
        guard let pointer = readline(prompt) else { return nil }
        defer { free(pointer) }
        let line = String(cString: pointer)
        if !line.allSatisfy(\.isWhitespace) {
            add_history(pointer)
            if let historyPath { _ = write_history(historyPath) }  // every line, so that a crash keeps it
        }
        return line
    }

    mutating func close() {
        if let historyPath { _ = write_history(historyPath) }
    }
}
