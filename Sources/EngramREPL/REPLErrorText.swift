import Engram

/// How the REPL writes an error: one line with the typed error's code and message, and for a
/// Cypher error with a position, the offending line of the statement with a caret under it.
///
/// ```
/// syntaxError at 1:10: expected ')' but found 'RETURN'
///   MATCH (n RETURN n
///            ^
/// ```
public enum REPLErrorText {
    /// The text of `error`; `statement` is the Cypher text it came from, for the caret.
    public static func render(_ error: any Error, in statement: String?) -> String {
        guard let cypher = error as? CypherError else {
            if let engram = error as? EngramError { return "\(engram.code): \(engram.message)" }
            return String(describing: error)
        }
        var text = cypher.description
        guard let statement, let line = cypher.line, let column = cypher.column else { return text }
        let lines = statement.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return text }
        let source = String(lines[line - 1]).replacingOccurrences(of: "\t", with: " ")
        let offset = min(max(column - 1, 0), source.count)
        text += "\n  " + source + "\n  " + String(repeating: " ", count: offset) + "^"
        return text
    }
}
