/// Splits Cypher text into statements at the semicolons that end them.
///
/// A semicolon inside a string (`'…'`, `"…"`), a quoted name (`` `…` ``) or a comment (`// …`,
/// `/* … */`) does not end a statement. The REPL uses it to know when a statement typed over
/// several lines is complete; ``EngramStore/importCypher(_:tenant:batchSize:progress:)`` to run a
/// script.
///
/// ```swift
/// let split = CypherScript.split("CREATE (:A);\nCREATE (:B {s: ';'});\nMATCH (n)")
/// // split.statements.map(\.text) == ["CREATE (:A)", "CREATE (:B {s: ';'})"]
/// // split.remainder == "MATCH (n)"
/// ```
public enum CypherScript {
    /// One statement of a script.
    public struct Statement: Sendable, Hashable {
        /// The statement's text, without its semicolon and the blank space around it.
        public var text: String
        /// The 1-based line of the script on which the statement's text starts.
        public var line: Int

        /// Creates a statement.
        public init(text: String, line: Int) {
            self.text = text
            self.line = line
        }
    }

    /// The complete statements of `text` (each ended by a semicolon) and what follows the last
    /// semicolon: an unfinished statement, or only blank space and comments.
    ///
    /// A statement's text starts at its first token (comments before it are dropped, so that a
    /// position in the text plus ``Statement/line`` is a position in the script). Statements that
    /// are empty or hold only comments are left out.
    /// - Complexity: O(n) in the length of `text`.
    public static func split(_ text: String) -> (statements: [Statement], remainder: String) {
        let scanned = scan(text)
        return (scanned.statements, scanned.remainder)
    }

    /// Whether `text` holds only blank space and comments (a closed or unclosed comment).
    public static func isBlank(_ text: String) -> Bool {
        let scanned = scan(text)
        return scanned.statements.isEmpty && !scanned.remainderIsMeaningful
    }

    private static func scan(_ text: String) -> (statements: [Statement], remainder: String, remainderIsMeaningful: Bool) {
        var statements: [Statement] = []
        var state = State.code
        var current = ""
        var line = 1
        var startLine = 1
        var previous: Character = "\0"
        var meaningful = false  // the current statement has something other than blanks and comments
        var startOffset = 0  // where its text starts in `current`: after the blanks and comments before it
        for character in text {
            var append = true
            switch state {
            case .code:
                switch character {
                case "'", "\"", "`":
                    state = .quoted(character)
                case "/" where previous == "/":
                    state = .lineComment
                case "*" where previous == "/":
                    state = .blockComment
                case ";":
                    if meaningful {
                        statements.append(Statement(text: String(current.dropFirst(startOffset)).trimmingBlanks(), line: startLine))
                    }
                    current = ""
                    meaningful = false
                    append = false
                default: break
                }
            case .quoted(let quote):
                if character == quote && previous != "\\" { state = .code }
                if character == "\\" && previous == "\\" {  // an escaped backslash does not escape the quote
                    current.append(character)
                    previous = "\0"
                    continue
                }
            case .lineComment:
                if character == "\n" { state = .code }
            case .blockComment:
                if character == "/" && previous == "*" {
                    state = .code
                    current.append(character)
                    previous = "\0"
                    continue
                }
            }
            if append {
                if !meaningful, state == .code || state.isQuoted, !character.isWhitespace, character != "/" {
                    meaningful = true
                    startLine = line
                    startOffset = current.count
                }
                current.append(character)
            }
            if character == "\n" || character == "\r\n" { line += 1 }
            previous = character
        }
        return (statements, current, meaningful)
    }

    private enum State: Equatable {
        case code
        case quoted(Character)
        case lineComment
        case blockComment

        var isQuoted: Bool {
            if case .quoted = self { return true }
            return false
        }
    }
}

extension String {
    fileprivate func trimmingBlanks() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
