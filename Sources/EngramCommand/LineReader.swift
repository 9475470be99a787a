import CEngramEdit
import Foundation
import Synchronization

/// What a ``LineReader`` got.
enum LineInput: Equatable {
    /// A line, without its newline.
    case line(String)
    /// Ctrl-C while the line was typed: the line is dropped.
    case interrupted
    /// The end of input (Ctrl-D on an empty line).
    case end
}

/// Where the REPL's lines come from.
protocol LineReader {
    /// The next line, an interruption, or the end of input.
    mutating func readLine(prompt: String) -> LineInput
    /// Saves what must be saved (the history).
    mutating func close()
}

/// Lines from standard input, with no prompt and no editing: for scripts and pipes.
struct PlainLineReader: LineReader {
    mutating func readLine(prompt: String) -> LineInput {
        Swift.readLine(strippingNewline: true).map { .line($0) } ?? .end
    }

    mutating func close() {}
}

/// Lines edited with libedit on a terminal, with a history kept in a file between runs.
///
/// It uses libedit's callback interface: the reader waits on standard input itself (`poll`), so
/// that Ctrl-C (seen through ``InterruptWatcher``) can abandon the line being typed at once.
struct EditLineReader: LineReader {
    /// The history file, or `nil` for none.
    let historyPath: String?
    let interrupts: InterruptWatcher
    /// The most lines the history keeps.
    static let historySize: Int32 = 1000

    /// The line libedit hands to the callback (a C function cannot capture context).
    private static let received = Mutex<LineInput?>(nil)

    /// `$ENGRAM_HISTORY` (empty: no history), else `~/.engram_history`.
    static func defaultHistoryPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["ENGRAM_HISTORY"] { return path.isEmpty ? nil : path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".engram_history").path
    }

    init(historyPath: String?, interrupts: InterruptWatcher) {
        self.historyPath = historyPath
        self.interrupts = interrupts
        cengram_edit_leave_signals_to_caller()
        using_history()
        stifle_history(Self.historySize)
        if let historyPath { _ = read_history(historyPath) }
    }

    mutating func readLine(prompt: String) -> LineInput {
        Self.received.withLock { $0 = nil }
        rl_callback_handler_install(prompt) { pointer in
            let input: LineInput
            if let pointer {
                input = .line(String(cString: pointer))
                free(pointer)
            } else {
                input = .end
            }
            EditLineReader.received.withLock { $0 = input }
        }
        defer { rl_callback_handler_remove() }
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while true {
            if interrupts.fired {
                FileHandle.standardOutput.write(Data("^C\n".utf8))
                return .interrupted
            }
            let ready = poll(&descriptor, 1, 100)
            if ready < 0 && errno != EINTR { return .end }
            guard ready > 0 else { continue }
            // The terminal went away (hang-up, error): nothing more will come.
            if descriptor.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 || descriptor.revents & Int16(POLLIN) == 0 {
                return .end
            }
            rl_callback_read_char()
            if let input = Self.received.withLock({ $0 }) {
                if case .line(let line) = input, !line.allSatisfy(\.isWhitespace) {
                    add_history(line)
                    if let historyPath { _ = write_history(historyPath) }  // every line, so that a crash keeps it
                }
                return input
            }
        }
    }

    mutating func close() {
        if let historyPath { _ = write_history(historyPath) }
    }
}
