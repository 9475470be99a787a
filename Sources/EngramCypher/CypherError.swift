/// An error raised while parsing, checking, planning or running a Cypher query.
///
/// Every error carries a stable ``Code`` that callers can match on, a human-readable message, and,
/// for errors tied to the query text, the 1-based line and column where the problem starts.
///
/// ```swift
/// do {
///     _ = try engine.execute("MATCH (n RETURN n")
/// } catch let error as CypherError where error.code == .syntaxError {
///     print(error.line!, error.column!, error.expected)
/// }
/// ```
public struct CypherError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of the kind of error.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, such as `"syntaxError"`.
        public let rawValue: String
        /// Creates a code from its stable name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's stable name.
        public var description: String { rawValue }

        /// The query text is not valid Cypher: see ``CypherError/line``, ``CypherError/column``,
        /// ``CypherError/unexpected`` and ``CypherError/expected``.
        public static let syntaxError = Code(rawValue: "syntaxError")
        /// The query is well formed but meaningless: an undefined variable, a variable used as two
        /// kinds of value, a misplaced aggregate, an unknown function or a wrong argument count.
        public static let semanticError = Code(rawValue: "semanticError")
        /// The query contains a clause that would write (`CREATE`, `MERGE`, `SET`, `DELETE`,
        /// `REMOVE`, `DETACH DELETE`, `FOREACH`, `LOAD CSV`) or calls a procedure that is not a
        /// registered read-only one. Nothing ran.
        public static let readOnlyQuery = Code(rawValue: "readOnlyQuery")
        /// A value had the wrong type for an operator or function at run time.
        public static let typeError = Code(rawValue: "typeError")
        /// A value had the right type but an invalid value (a negative `LIMIT`, a bad regex, …).
        public static let argumentError = Code(rawValue: "argumentError")
        /// Integer division or modulo by zero, or an integer overflow.
        public static let arithmeticError = Code(rawValue: "arithmeticError")
        /// A parameter used by the query was not supplied.
        public static let missingParameter = Code(rawValue: "missingParameter")
        /// The query produced more rows than ``CypherLimits/maxRows`` allows.
        public static let rowLimitExceeded = Code(rawValue: "rowLimitExceeded")
        /// A variable-length pattern asked for more hops than ``CypherLimits/maxVariableLengthDepth``.
        public static let depthLimitExceeded = Code(rawValue: "depthLimitExceeded")
        /// The query ran longer than ``CypherLimits/timeout``.
        public static let timeout = Code(rawValue: "timeout")
        /// The query was cancelled by its caller.
        public static let cancelled = Code(rawValue: "cancelled")
        /// A procedure failed while running.
        public static let procedureFailed = Code(rawValue: "procedureFailed")
        /// The graph (the storage under it) failed to answer a read; the message carries its error.
        public static let graphReadFailed = Code(rawValue: "graphReadFailed")
    }

    /// The kind of error.
    public var code: Code
    /// A one-line explanation that names the problem (the variable, function, clause or token).
    public var message: String
    /// A finer, stable classification, such as `"UndefinedVariable"` or `"VariableTypeConflict"`
    /// (the openCypher TCK's error details), or `nil`.
    public var detail: String?
    /// The 1-based line of the offending text, when the error is tied to the query text.
    public var line: Int?
    /// The 1-based column (in characters) of the offending text.
    public var column: Int?
    /// The token found where it was not expected, for syntax errors.
    public var unexpected: String?
    /// What the parser expected instead, for syntax errors.
    public var expected: [String]

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, detail: String? = nil, line: Int? = nil, column: Int? = nil,
        unexpected: String? = nil, expected: [String] = []
    ) {
        self.code = code
        self.message = message
        self.detail = detail
        self.line = line
        self.column = column
        self.unexpected = unexpected
        self.expected = expected
    }

    /// A one-line rendering: `code at line:column: message`.
    public var description: String {
        var text = code.rawValue
        if let line, let column { text += " at \(line):\(column)" }
        return text + ": " + message
    }

    /// Whether the error is found before execution starts (syntax, semantics, read-only refusal).
    public var isCompileTime: Bool {
        code == .syntaxError || code == .semanticError || code == .readOnlyQuery
    }
}

extension CypherError.Code {
    /// Lets a `catch` match a code directly: `catch CypherError.Code.timeout { … }`.
    public static func ~= (code: CypherError.Code, error: any Error) -> Bool {
        (error as? CypherError)?.code == code
    }
}

extension CypherError {
    static func semantic(_ message: String, _ detail: String, at range: SourceRange? = nil) -> CypherError {
        CypherError(.semanticError, message, detail: detail, line: range?.line, column: range?.column)
    }

    static func type(_ message: String, detail: String = "InvalidArgumentType") -> CypherError {
        CypherError(.typeError, message, detail: detail)
    }

    static func argument(_ message: String, detail: String = "InvalidArgumentValue") -> CypherError {
        CypherError(.argumentError, message, detail: detail)
    }
}
