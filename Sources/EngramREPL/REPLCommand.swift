import Engram

/// One `:command` of the REPL: its name, how it is used, a line of help, and what it does.
///
/// The table of commands is a plain array (``standard``), so adding one is one entry:
///
/// ```swift
/// let search = REPLCommand(name: "search", usage: ":search TEXT", help: "Search memories.") { session, argument in
///     session.write("…")
/// }
/// let session = REPLSession(store: store, commands: REPLCommand.standard + [search], output: output)
/// ```
public struct REPLCommand: Sendable {
    /// What the handler gets: the session, and the text after the command's name (trimmed).
    public typealias Handler = @Sendable (_ session: REPLSession, _ argument: String) async throws -> Void

    /// The name typed after `:`.
    public var name: String
    /// Other names that run it (`:exit` for `:quit`).
    public var aliases: [String]
    /// How to call it, as `:help` shows it: `:use tenant|user|agent NAME`.
    public var usage: String
    /// One line saying what it does.
    public var help: String
    /// What it does. Throw ``REPLUsageError`` for wrong arguments (the usage is printed after the
    /// message), any other error for a failure (printed as the REPL prints errors).
    public var run: Handler

    /// Creates a command.
    public init(name: String, aliases: [String] = [], usage: String, help: String, run: @escaping Handler) {
        self.name = name
        self.aliases = aliases
        self.usage = usage
        self.help = help
        self.run = run
    }

    /// The REPL's commands, in the order `:help` lists them.
    public static let standard: [REPLCommand] = [
        help, quit, schema, use, param, params, format, timing, width, explain, profile, remember, search, entities,
        dups, merge, reject, stats, export, importFile,
    ]
}

/// Splits a command's argument into words: blanks separate them, and `"…"` or `'…'` keeps blanks
/// inside one word.
func words(_ text: String) throws -> [String] {
    var words: [String] = []
    var current = ""
    var quote: Character?
    var inWord = false
    for character in text {
        if let open = quote {
            if character == open { quote = nil } else { current.append(character) }
        } else if character == "\"" || character == "'" {
            quote = character
            inWord = true
        } else if character.isWhitespace {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        } else {
            current.append(character)
            inWord = true
        }
    }
    if quote != nil { throw REPLUsageError("a quote is not closed") }
    if inWord { words.append(current) }
    return words
}

/// Splits `--name value` options from the other words.
func options(_ words: [String], allowed: Set<String>) throws -> (rest: [String], options: [String: String]) {
    var rest: [String] = []
    var options: [String: String] = [:]
    var index = 0
    while index < words.count {
        let word = words[index]
        if word.hasPrefix("--") {
            let name = String(word.dropFirst(2))
            guard allowed.contains(name) else {
                throw REPLUsageError("unknown option '\(word)'" + (allowed.isEmpty ? "" : "; known: " + allowed.sorted().map { "--" + $0 }.joined(separator: ", ")))
            }
            guard index + 1 < words.count else { throw REPLUsageError("'\(word)' needs a value") }
            options[name] = words[index + 1]
            index += 2
        } else {
            rest.append(word)
            index += 1
        }
    }
    return (rest, options)
}
