/// A span of query text: UTF-8 byte offsets plus the 1-based line and column of its start.
package struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 offset of the first byte.
    package var start: Int
    /// The UTF-8 offset one past the last byte.
    package var end: Int
    /// The 1-based line of `start`.
    package var line: Int
    /// The 1-based column (in characters) of `start`.
    package var column: Int

    package init(start: Int, end: Int, line: Int, column: Int) {
        self.start = start
        self.end = end
        self.line = line
        self.column = column
    }

    /// A range covering `self` and `other`.
    package func union(_ other: SourceRange) -> SourceRange {
        if other.start < start {
            return SourceRange(start: other.start, end: max(end, other.end), line: other.line, column: other.column)
        }
        return SourceRange(start: start, end: max(end, other.end), line: line, column: column)
    }

    package var description: String { "\(line):\(column)" }
}

/// One lexical token of a Cypher query.
package struct Token: Sendable, Hashable, CustomStringConvertible {
    /// What kind of token, with its decoded payload.
    package enum Kind: Sendable, Hashable {
        /// A name or keyword (keywords are recognised by the parser, case-insensitively).
        case identifier(String)
        /// A backtick-quoted name; never a keyword.
        case quotedIdentifier(String)
        /// A decimal, hexadecimal (`0x`) or octal (`0o`) integer literal, as written.
        case integer(String)
        /// A floating-point literal, as written.
        case float(String)
        /// A string literal, with escapes decoded.
        case string(String)
        /// A parameter `$name` or `$0`.
        case parameter(String)
        /// Punctuation or an operator: `(`, `..`, `<=`, `=~`, …
        case symbol(String)
        /// The end of the input.
        case end
    }

    package var kind: Kind
    package var range: SourceRange

    /// The token as the user would recognise it in an error message.
    package var description: String {
        switch kind {
        case .identifier(let name): return name
        case .quotedIdentifier(let name): return "`\(name)`"
        case .integer(let text), .float(let text): return text
        case .string(let text): return "'\(text)'"
        case .parameter(let name): return "$\(name)"
        case .symbol(let symbol): return symbol
        case .end: return "end of input"
        }
    }
}

/// Turns query text into tokens. Comments (`// …`, `/* … */`) and whitespace are skipped.
package struct Lexer {
    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    /// The 1-based column of `offset`, in characters (UTF-8 continuation bytes do not count).
    private var currentColumn = 1

    package init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// All tokens of the text, ending with ``Token/Kind/end``.
    /// - Throws: ``CypherError`` (`syntaxError`) on an unterminated string or comment, an invalid
    ///   escape or number, or a character that starts no token.
    package static func tokenize(_ text: String) throws(CypherError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.nextToken()
            tokens.append(token)
            if case .end = token.kind { return tokens }
        }
    }

    private func column(at position: Int) -> Int {
        // Columns count characters, not bytes: skip UTF-8 continuation bytes.
        var count = 1
        var index = lineStart
        while index < position && index < bytes.count {
            if bytes[index] & 0xC0 != 0x80 { count += 1 }
            index += 1
        }
        return count
    }

    private func range(from start: Int, line startLine: Int, column startColumn: Int) -> SourceRange {
        SourceRange(start: start, end: offset, line: startLine, column: startColumn)
    }

    private func error(
        _ message: String, at position: Int, detail: String = "UnexpectedSyntax", unexpected: String? = nil
    )
        -> CypherError
    {
        CypherError(
            .syntaxError, message, detail: detail, line: line, column: column(at: position), unexpected: unexpected)
    }

    private func peek(_ ahead: Int = 0) -> UInt8 {
        offset + ahead < bytes.count ? bytes[offset + ahead] : 0
    }

    private mutating func advance() {
        if bytes[offset] == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
            currentColumn = 0
        }
        offset += 1
        if offset >= bytes.count || bytes[offset] & 0xC0 != 0x80 { currentColumn += 1 }
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte >= 0x80
    }

    private static func isIdentifierPart(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func skipTrivia() throws(CypherError) {
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C || byte == 0x0B {
                advance()
            } else if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
                while offset < bytes.count && bytes[offset] != 0x0A { advance() }
            } else if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let start = offset
                advance()
                advance()
                while offset < bytes.count && !(bytes[offset] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    advance()
                }
                if offset >= bytes.count { throw error("unterminated comment", at: start) }
                advance()
                advance()
            } else if byte == 0xC2 && peek(1) == 0xA0 {  // no-break space
                advance()
                advance()
            } else {
                return
            }
        }
    }

    /// The next token.
    package mutating func nextToken() throws(CypherError) -> Token {
        try skipTrivia()
        let start = offset
        let startLine = line
        let startColumn = currentColumn
        func make(_ kind: Token.Kind, _ lexer: Lexer) -> Token {
            Token(kind: kind, range: lexer.range(from: start, line: startLine, column: startColumn))
        }
        guard offset < bytes.count else { return make(.end, self) }
        let byte = bytes[offset]

        if Self.isIdentifierStart(byte) {
            while offset < bytes.count && Self.isIdentifierPart(bytes[offset]) { advance() }
            return make(.identifier(String(decoding: bytes[start..<offset], as: UTF8.self)), self)
        }
        if Self.isDigit(byte) || (byte == UInt8(ascii: ".") && Self.isDigit(peek(1))) {
            return make(try lexNumber(), self)
        }
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return make(.string(try lexString(quote: byte)), self)
        case UInt8(ascii: "`"):
            advance()
            var name: [UInt8] = []
            while true {
                guard offset < bytes.count else { throw error("unterminated quoted name", at: start) }
                if bytes[offset] == UInt8(ascii: "`") {
                    if peek(1) == UInt8(ascii: "`") {
                        name.append(UInt8(ascii: "`"))
                        advance()
                        advance()
                        continue
                    }
                    advance()
                    break
                }
                name.append(bytes[offset])
                advance()
            }
            return make(.quotedIdentifier(String(decoding: name, as: UTF8.self)), self)
        case UInt8(ascii: "$"):
            advance()
            let nameStart = offset
            if offset < bytes.count && bytes[offset] == UInt8(ascii: "`") {
                let token = try nextToken()
                if case .quotedIdentifier(let name) = token.kind { return make(.parameter(name), self) }
            }
            while offset < bytes.count && Self.isIdentifierPart(bytes[offset]) { advance() }
            guard offset > nameStart else {
                throw error("expected a parameter name after '$'", at: start, unexpected: "$")
            }
            return make(.parameter(String(decoding: bytes[nameStart..<offset], as: UTF8.self)), self)
        default:
            break
        }
        let two = offset + 1 < bytes.count ? String(decoding: bytes[offset...(offset + 1)], as: UTF8.self) : ""
        if ["..", "<=", ">=", "<>", "!=", "=~", "+="].contains(two) {
            advance()
            advance()
            return make(.symbol(two), self)
        }
        let singles = "()[]{},.:;|+-*/%^=<>!"
        if byte < 0x80, let scalar = Unicode.Scalar(UInt32(byte)), singles.unicodeScalars.contains(scalar) {
            advance()
            return make(.symbol(String(Character(scalar))), self)
        }
        throw error(
            "unexpected character '\(String(decoding: [byte], as: UTF8.self))'", at: start,
            unexpected: String(decoding: [byte], as: UTF8.self))
    }

    private mutating func lexNumber() throws(CypherError) -> Token.Kind {
        let start = offset
        // Consume the whole alphanumeric run so that `12abc` is one invalid literal, not two tokens.
        func consumeRun(_ lexer: inout Lexer) {
            while lexer.offset < lexer.bytes.count && Self.isIdentifierPart(lexer.bytes[lexer.offset]) {
                lexer.advance()
            }
        }
        if bytes[offset] == UInt8(ascii: "0") && (peek(1) == UInt8(ascii: "x") || peek(1) == UInt8(ascii: "o")) {
            let isHex = peek(1) == UInt8(ascii: "x")
            advance()
            advance()
            let digitsStart = offset
            consumeRun(&self)
            let digits = bytes[digitsStart..<offset]
            let valid =
                !digits.isEmpty
                && digits.allSatisfy { byte in
                    isHex
                        ? (Self.isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66))
                        : (byte >= 0x30 && byte <= 0x37)
                }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            guard valid else {
                throw error(
                    "invalid number literal '\(text)'", at: start, detail: "InvalidNumberLiteral", unexpected: text)
            }
            return .integer(text)
        }
        var isFloat = false
        while Self.isDigit(peek()) { advance() }
        if peek() == UInt8(ascii: ".") && Self.isDigit(peek(1)) {
            isFloat = true
            advance()
            while Self.isDigit(peek()) { advance() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let save = (offset, line, lineStart, currentColumn)
            advance()
            if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { advance() }
            if Self.isDigit(peek()) {
                isFloat = true
                while Self.isDigit(peek()) { advance() }
            } else {
                (offset, line, lineStart, currentColumn) = save
            }
        }
        if offset < bytes.count && Self.isIdentifierPart(bytes[offset]) {
            consumeRun(&self)
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            throw error("invalid number literal '\(text)'", at: start, detail: "InvalidNumberLiteral", unexpected: text)
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        return isFloat ? .float(text) : .integer(text)
    }

    private mutating func lexString(quote: UInt8) throws(CypherError) -> String {
        let start = offset
        advance()
        var scalars = String.UnicodeScalarView()
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty {
                scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                pending.removeAll()
            }
        }
        while true {
            guard offset < bytes.count else { throw error("unterminated string literal", at: start) }
            let byte = bytes[offset]
            if byte == quote {
                advance()
                break
            }
            if byte == UInt8(ascii: "\\") {
                let escapeStart = offset
                advance()
                guard offset < bytes.count else { throw error("unterminated string literal", at: start) }
                let escaped = bytes[offset]
                advance()
                flush()
                switch escaped {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "'"): scalars.append("'")
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let count = escaped == UInt8(ascii: "u") ? 4 : 8
                    var value: UInt32 = 0
                    for _ in 0..<count {
                        guard offset < bytes.count, let digit = Self.hexValue(bytes[offset]) else {
                            throw error(
                                "invalid unicode escape in string literal", at: escapeStart,
                                detail: "InvalidUnicodeLiteral")
                        }
                        value = value * 16 + digit
                        advance()
                    }
                    guard let scalar = Unicode.Scalar(value) else {
                        throw error(
                            "invalid unicode character in string literal", at: escapeStart,
                            detail: "InvalidUnicodeCharacter")
                    }
                    scalars.append(scalar)
                default:
                    throw error(
                        "invalid escape sequence '\\\(String(decoding: [escaped], as: UTF8.self))'", at: escapeStart,
                        detail: "InvalidUnicodeLiteral")
                }
                continue
            }
            pending.append(byte)
            advance()
        }
        flush()
        return String(scalars)
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }
}
