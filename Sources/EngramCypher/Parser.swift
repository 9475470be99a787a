import EngramCore
import Foundation

/// A recursive-descent parser from tokens to a ``Statement``.
///
/// Write clauses are recognised as clauses (not by scanning for keywords) and refused with
/// ``CypherError/Code/readOnlyQuery``, naming the clause, unless `allowCreate` is set — which only
/// ``CypherEngine/executeFixture(_:)`` does, to build test graphs from the TCK's `CREATE` setups.
package struct Parser {
    private let tokens: [Token]
    private let source: [UInt8]
    private var position = 0
    private let allowCreate: Bool
    private var depth = 0
    /// The deepest expression nesting accepted; deeper input is a syntax error rather than a
    /// stack overflow. 256 levels is far beyond any hand-written query.
    private static let maximumDepth = 256

    /// Parses `text` into a statement.
    /// - Parameters:
    ///   - text: the query.
    ///   - allowCreate: accept `CREATE` and `DELETE` clauses (fixtures only); other writes are still refused.
    /// - Throws: ``CypherError`` with code `syntaxError` (line, column, unexpected token, expected
    ///   alternatives) or `readOnlyQuery` (naming the write clause).
    package static func parse(_ text: String, allowCreate: Bool = false) throws(CypherError) -> Statement {
        var parser = Parser(tokens: try Lexer.tokenize(text), source: Array(text.utf8), allowCreate: allowCreate)
        guard parser.mayNestDeeply else { return try parser.parseStatement() }
        // Each nesting level costs a dozen stack frames, which a debug build makes large: deeply
        // nested input is parsed on a thread with a stack big enough for `maximumDepth` levels,
        // whatever the caller's thread (a cooperative-pool thread has much less than the main one).
        nonisolated(unsafe) var deep = parser
        nonisolated(unsafe) var result: Result<Statement, CypherError>?
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result = Result { () throws(CypherError) in try deep.parseStatement() }
            done.signal()
        }
        thread.stackSize = 64 << 20
        thread.start()
        done.wait()
        return try result!.get()
    }

    /// Whether the tokens could nest more than a few levels: the deepest bracket nesting plus every
    /// prefix operator (`NOT`, `-`, `+`), an upper bound of the parser's `depth`.
    private var mayNestDeeply: Bool {
        var brackets = 0
        var deepest = 0
        var prefixes = 0
        for token in tokens {
            switch token.kind {
            case .symbol("("), .symbol("["), .symbol("{"):
                brackets += 1
                deepest = max(deepest, brackets)
            case .symbol(")"), .symbol("]"), .symbol("}"): brackets -= 1
            case .symbol("-"), .symbol("+"): prefixes += 1
            case .identifier(let name) where name.count == 3 && name.uppercased() == "NOT": prefixes += 1
            default: break
            }
        }
        return deepest + prefixes > 32
    }

    private init(tokens: [Token], source: [UInt8], allowCreate: Bool) {
        self.tokens = tokens
        self.source = source
        self.allowCreate = allowCreate
    }

    // MARK: Token helpers

    private var current: Token { tokens[position] }
    private var previousEnd: Int { position > 0 ? tokens[position - 1].range.end : 0 }

    private func token(at offset: Int) -> Token {
        tokens[min(position + offset, tokens.count - 1)]
    }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private func isKeyword(_ keyword: String, at offset: Int = 0) -> Bool {
        if case .identifier(let name) = token(at: offset).kind {
            return name.count == keyword.count && name.uppercased() == keyword
        }
        return false
    }

    private func isSymbol(_ symbol: String, at offset: Int = 0) -> Bool {
        if case .symbol(let found) = token(at: offset).kind { return found == symbol }
        return false
    }

    private mutating func acceptKeyword(_ keyword: String) -> Bool {
        if isKeyword(keyword) {
            advance()
            return true
        }
        return false
    }

    private mutating func acceptSymbol(_ symbol: String) -> Bool {
        if isSymbol(symbol) {
            advance()
            return true
        }
        return false
    }

    private func syntaxError(expected: [String], detail: String = "UnexpectedSyntax") -> CypherError {
        let found = current
        let expectation = expected.count == 1 ? expected[0] : "one of " + expected.joined(separator: ", ")
        return CypherError(
            .syntaxError, "expected \(expectation) but found '\(found)'", detail: detail, line: found.range.line,
            column: found.range.column, unexpected: found.description, expected: expected)
    }

    private mutating func expectKeyword(_ keyword: String) throws(CypherError) {
        guard acceptKeyword(keyword) else { throw syntaxError(expected: [keyword]) }
    }

    private mutating func expectSymbol(_ symbol: String) throws(CypherError) {
        guard acceptSymbol(symbol) else { throw syntaxError(expected: ["'\(symbol)'"]) }
    }

    private func range(from start: Token) -> SourceRange {
        SourceRange(
            start: start.range.start, end: max(previousEnd, start.range.start), line: start.range.line,
            column: start.range.column)
    }

    private func text(of range: SourceRange) -> String {
        String(decoding: source[range.start..<range.end], as: UTF8.self)
    }

    /// Words that end an expression or start a clause, and so cannot be bare variable names.
    private static let reserved: Set<String> = [
        "MATCH", "OPTIONAL", "WHERE", "RETURN", "WITH", "UNWIND", "UNION", "ORDER", "SKIP", "LIMIT", "AS", "AND", "OR",
        "XOR", "NOT", "IN", "IS", "STARTS", "ENDS", "CONTAINS", "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE",
        "FOREACH", "CALL", "YIELD", "DISTINCT", "ASC", "DESC", "ASCENDING", "DESCENDING", "BY", "LOAD", "CASE", "WHEN",
        "THEN", "ELSE", "END", "NULL", "TRUE", "FALSE",
    ]

    private mutating func parseSymbolicName(what: String = "a name") throws(CypherError) -> String {
        switch current.kind {
        case .identifier(let name):
            advance()
            return name
        case .quotedIdentifier(let name):
            advance()
            return name
        default:
            throw syntaxError(expected: [what])
        }
    }

    private mutating func parseVariable() throws(CypherError) -> String {
        if case .identifier(let name) = current.kind, Self.reserved.contains(name.uppercased()) {
            throw syntaxError(expected: ["a variable"])
        }
        return try parseSymbolicName(what: "a variable")
    }

    private var atVariable: Bool {
        switch current.kind {
        case .identifier(let name): return !Self.reserved.contains(name.uppercased())
        case .quotedIdentifier: return true
        default: return false
        }
    }

    // MARK: Statements and clauses

    private mutating func parseStatement() throws(CypherError) -> Statement {
        var mode = Statement.Mode.run
        if acceptKeyword("EXPLAIN") {
            mode = .explain
        } else if acceptKeyword("PROFILE") {
            mode = .profile
        }
        var queries = [try parseSingleQuery()]
        var unionAll: [Bool] = []
        while acceptKeyword("UNION") {
            unionAll.append(acceptKeyword("ALL"))
            queries.append(try parseSingleQuery())
        }
        _ = acceptSymbol(";")
        guard case .end = current.kind else {
            throw syntaxError(expected: ["a clause", "UNION", "end of input"])
        }
        return Statement(mode: mode, queries: queries, unionAll: unionAll)
    }

    private static let writeClauses: [String: String] = [
        "CREATE": "CREATE", "MERGE": "MERGE", "SET": "SET", "DELETE": "DELETE", "DETACH": "DETACH DELETE",
        "REMOVE": "REMOVE", "FOREACH": "FOREACH", "LOAD": "LOAD CSV", "DROP": "DROP",
    ]

    private mutating func parseSingleQuery() throws(CypherError) -> [Clause] {
        var clauses: [Clause] = []
        while true {
            let start = current
            if case .identifier(let word) = current.kind, let clause = Self.writeClauses[word.uppercased()] {
                if clause == "CREATE" && allowCreate {
                    advance()
                    clauses.append(.create(try parsePattern(), range: range(from: start)))
                    continue
                }
                if (clause == "DELETE" || clause == "DETACH DELETE") && allowCreate {
                    advance()
                    if clause == "DETACH DELETE" { try expectKeyword("DELETE") }
                    var targets: [Expression] = []
                    repeat { targets.append(try parseExpression()) } while acceptSymbol(",")
                    clauses.append(.delete(targets, detach: clause == "DETACH DELETE", range: range(from: start)))
                    continue
                }
                throw CypherError(
                    .readOnlyQuery, "\(clause) is not allowed: Engram's Cypher is read-only", detail: clause,
                    line: start.range.line, column: start.range.column, unexpected: word)
            }
            if acceptKeyword("OPTIONAL") {
                try expectKeyword("MATCH")
                clauses.append(try parseMatch(optional: true, start: start))
            } else if acceptKeyword("MATCH") {
                clauses.append(try parseMatch(optional: false, start: start))
            } else if acceptKeyword("UNWIND") {
                let expression = try parseExpression()
                try expectKeyword("AS")
                let alias = try parseVariable()
                clauses.append(.unwind(expression, alias: alias, range: range(from: start)))
            } else if acceptKeyword("WITH") {
                let projection = try parseProjection(start: start)
                let predicate = acceptKeyword("WHERE") ? try parseExpression() : nil
                clauses.append(.with(projection, predicate: predicate))
            } else if acceptKeyword("RETURN") {
                clauses.append(.return(try parseProjection(start: start)))
            } else if acceptKeyword("CALL") {
                clauses.append(try parseCall(start: start))
            } else {
                if clauses.isEmpty {
                    throw syntaxError(expected: ["MATCH", "OPTIONAL MATCH", "UNWIND", "WITH", "RETURN", "CALL"])
                }
                return clauses
            }
        }
    }

    private mutating func parseMatch(optional: Bool, start: Token) throws(CypherError) -> Clause {
        let pattern = try parsePattern()
        let predicate = acceptKeyword("WHERE") ? try parseExpression() : nil
        return .match(optional: optional, pattern: pattern, predicate: predicate, range: range(from: start))
    }

    private mutating func parseCall(start: Token) throws(CypherError) -> Clause {
        var name = try parseSymbolicName(what: "a procedure name")
        while acceptSymbol(".") { name += "." + (try parseSymbolicName(what: "a procedure name")) }
        var arguments: [Expression]? = nil
        if acceptSymbol("(") {
            var list: [Expression] = []
            if !isSymbol(")") {
                repeat { list.append(try parseExpression()) } while acceptSymbol(",")
            }
            try expectSymbol(")")
            arguments = list
        }
        var yields: [(name: String, alias: String)]? = nil
        var yieldAll = false
        var predicate: Expression? = nil
        if acceptKeyword("YIELD") {
            if acceptSymbol("*") {
                yieldAll = true
            } else {
                var list: [(name: String, alias: String)] = []
                repeat {
                    let field = try parseSymbolicName(what: "a result field")
                    let alias = acceptKeyword("AS") ? try parseVariable() : field
                    list.append((field, alias))
                } while acceptSymbol(",")
                yields = list
            }
            if acceptKeyword("WHERE") { predicate = try parseExpression() }
        }
        return .call(
            procedure: name, arguments: arguments, yields: yields, yieldAll: yieldAll, predicate: predicate,
            range: range(from: start))
    }

    private mutating func parseProjection(start: Token) throws(CypherError) -> Projection {
        let distinct = acceptKeyword("DISTINCT")
        var includesAll = false
        var items: [ProjectionItem] = []
        if acceptSymbol("*") {
            includesAll = true
            if acceptSymbol(",") { items = try parseProjectionItems() }
        } else {
            items = try parseProjectionItems()
        }
        var orderBy: [SortItem] = []
        if acceptKeyword("ORDER") {
            try expectKeyword("BY")
            repeat {
                let expression = try parseExpression()
                var ascending = true
                if acceptKeyword("DESC") || acceptKeyword("DESCENDING") {
                    ascending = false
                } else if acceptKeyword("ASC") || acceptKeyword("ASCENDING") {
                    ascending = true
                }
                orderBy.append(SortItem(expression: expression, ascending: ascending))
            } while acceptSymbol(",")
        }
        let skip = acceptKeyword("SKIP") ? try parseExpression() : nil
        let limit = acceptKeyword("LIMIT") ? try parseExpression() : nil
        return Projection(
            distinct: distinct, includesAll: includesAll, items: items, orderBy: orderBy, skip: skip,
            limit: limit, range: range(from: start))
    }

    private mutating func parseProjectionItems() throws(CypherError) -> [ProjectionItem] {
        var items: [ProjectionItem] = []
        repeat {
            let expression = try parseExpression()
            if acceptKeyword("AS") {
                let alias = try parseSymbolicName(what: "an alias")
                items.append(ProjectionItem(expression: expression, alias: alias, name: alias))
            } else {
                items.append(ProjectionItem(expression: expression, alias: nil, name: text(of: expression.range)))
            }
        } while acceptSymbol(",")
        return items
    }

    // MARK: Patterns

    private mutating func parsePattern() throws(CypherError) -> [PatternPart] {
        var parts: [PatternPart] = []
        repeat { parts.append(try parsePatternPart()) } while acceptSymbol(",")
        return parts
    }

    private mutating func parsePatternPart() throws(CypherError) -> PatternPart {
        let start = current
        var pathVariable: String? = nil
        if atVariable && isSymbol("=", at: 1) {
            pathVariable = try parseVariable()
            advance()
        }
        if case .identifier(let word) = current.kind, isSymbol("(", at: 1),
            let shortest = PatternPart.Shortest.allCases.first(where: { $0.rawValue.lowercased() == word.lowercased() })
        {
            advance()
            advance()
            var inner = try parsePatternPart()
            try expectSymbol(")")
            guard inner.nodes.count == 2, inner.pathVariable == nil else {
                throw CypherError(
                    .syntaxError, "\(shortest.rawValue) takes one relationship between two nodes",
                    detail: "InvalidShortestPath", line: start.range.line, column: start.range.column,
                    unexpected: word)
            }
            if inner.relationships[0].length == nil { inner.relationships[0].length = (1, 1) }
            inner.pathVariable = pathVariable
            inner.shortest = shortest
            inner.range = range(from: start)
            return inner
        }
        var parenthesised = 0
        while isSymbol("(") && isSymbol("(", at: 1) {
            advance()
            parenthesised += 1
        }
        var nodes = [try parseNodePattern()]
        var relationships: [RelationshipPattern] = []
        while isSymbol("-") || (isSymbol("<") && isSymbol("-", at: 1)) {
            relationships.append(try parseRelationshipPattern())
            nodes.append(try parseNodePattern())
        }
        for _ in 0..<parenthesised { try expectSymbol(")") }
        return PatternPart(
            pathVariable: pathVariable, nodes: nodes, relationships: relationships,
            range: range(from: start))
    }

    private mutating func parseNodePattern() throws(CypherError) -> NodePattern {
        let start = current
        try expectSymbol("(")
        let variable = atVariable ? try parseVariable() : nil
        var labels: [String] = []
        while acceptSymbol(":") { labels.append(try parseSymbolicName(what: "a label")) }
        let properties = try parsePatternProperties()
        guard acceptSymbol(")") else {
            throw syntaxError(expected: labels.isEmpty && properties == nil ? ["':'", "'{'", "')'"] : ["')'"])
        }
        return NodePattern(variable: variable, labels: labels, properties: properties, range: range(from: start))
    }

    private mutating func parsePatternProperties() throws(CypherError) -> Expression? {
        if isSymbol("{") { return try parseMapLiteral() }
        if case .parameter = current.kind {
            let found = current
            throw CypherError(
                .syntaxError, "a parameter cannot be used as a whole property map in a pattern; use {key: $param}",
                detail: "InvalidParameterUse", line: found.range.line, column: found.range.column,
                unexpected: found.description, expected: ["'{'"])
        }
        return nil
    }

    private mutating func parseRelationshipPattern() throws(CypherError) -> RelationshipPattern {
        let start = current
        let leftArrow = acceptSymbol("<")
        try expectSymbol("-")
        var variable: String? = nil
        var types: [String] = []
        var length: (min: Int?, max: Int?)? = nil
        var properties: Expression? = nil
        if acceptSymbol("[") {
            if atVariable { variable = try parseVariable() }
            if acceptSymbol(":") {
                types.append(try parseSymbolicName(what: "a relationship type"))
                while acceptSymbol("|") {
                    _ = acceptSymbol(":")
                    types.append(try parseSymbolicName(what: "a relationship type"))
                }
            }
            if acceptSymbol("*") {
                var lower: Int? = nil
                var upper: Int? = nil
                if case .integer(let text) = current.kind {
                    lower = Int(text)
                    advance()
                }
                if acceptSymbol("..") {
                    if case .integer(let text) = current.kind {
                        upper = Int(text)
                        advance()
                    }
                } else {
                    upper = lower
                }
                length = (lower, upper)
            }
            properties = try parsePatternProperties()
            try expectSymbol("]")
        }
        try expectSymbol("-")
        let rightArrow = acceptSymbol(">")
        // `<-->` is undirected, as `--` is.
        let direction: PatternDirection =
            leftArrow == rightArrow ? .both : leftArrow ? .incoming : .outgoing
        return RelationshipPattern(
            variable: variable, types: types, direction: direction, length: length,
            properties: properties, range: range(from: start))
    }

    // MARK: Expressions

    package mutating func parseExpression() throws(CypherError) -> Expression {
        try enter()
        defer { depth -= 1 }
        return try parseOr()
    }

    private mutating func enter() throws(CypherError) {
        depth += 1
        if depth > Self.maximumDepth {
            let found = current
            throw CypherError(
                .syntaxError, "expression nested more than \(Self.maximumDepth) levels deep",
                detail: "NestingTooDeep", line: found.range.line, column: found.range.column,
                unexpected: found.description)
        }
    }

    private mutating func binaryLevel(
        _ keyword: String, _ op: Expression.BinaryOperator,
        _ next: (inout Parser) throws(CypherError) -> Expression
    ) throws(CypherError) -> Expression {
        var lhs = try next(&self)
        while acceptKeyword(keyword) {
            let rhs = try next(&self)
            lhs = Expression(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    private mutating func parseOr() throws(CypherError) -> Expression {
        try binaryLevel("OR", .or) { (parser: inout Parser) throws(CypherError) in try parser.parseXor() }
    }

    private mutating func parseXor() throws(CypherError) -> Expression {
        try binaryLevel("XOR", .xor) { (parser: inout Parser) throws(CypherError) in try parser.parseAnd() }
    }

    private mutating func parseAnd() throws(CypherError) -> Expression {
        try binaryLevel("AND", .and) { (parser: inout Parser) throws(CypherError) in try parser.parseNot() }
    }

    private mutating func parseNot() throws(CypherError) -> Expression {
        let start = current
        if acceptKeyword("NOT") {
            try enter()
            defer { depth -= 1 }
            let operand = try parseNot()
            return Expression(.unary(.not, operand), range(from: start))
        }
        return try parseComparison()
    }

    private static let comparisonOperators: [String: Expression.BinaryOperator] = [
        "=": .equal, "<>": .notEqual, "!=": .notEqual, "<": .less, ">": .greater, "<=": .lessOrEqual,
        ">=": .greaterOrEqual,
    ]

    private mutating func parseComparison() throws(CypherError) -> Expression {
        let first = try parseStringListNull()
        var operands = [first]
        var operators: [Expression.BinaryOperator] = []
        while case .symbol(let symbol) = current.kind, let op = Self.comparisonOperators[symbol] {
            advance()
            operators.append(op)
            operands.append(try parseStringListNull())
        }
        if operators.isEmpty { return first }
        // `a < b < c` means `a < b AND b < c`.
        var result: Expression? = nil
        for (index, op) in operators.enumerated() {
            let lhs = operands[index]
            let rhs = operands[index + 1]
            let comparison = Expression(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
            result =
                result.map { Expression(.binary(.and, $0, comparison), $0.range.union(comparison.range)) } ?? comparison
        }
        return result!
    }

    private mutating func parseStringListNull() throws(CypherError) -> Expression {
        var lhs = try parseAdditive()
        while true {
            let op: Expression.BinaryOperator
            if isKeyword("STARTS") && isKeyword("WITH", at: 1) {
                advance()
                advance()
                op = .startsWith
            } else if isKeyword("ENDS") && isKeyword("WITH", at: 1) {
                advance()
                advance()
                op = .endsWith
            } else if acceptKeyword("CONTAINS") {
                op = .contains
            } else if acceptKeyword("IN") {
                op = .in
            } else if acceptSymbol("=~") {
                op = .regex
            } else if isKeyword("IS") {
                advance()
                let negated = acceptKeyword("NOT")
                try expectKeyword("NULL")
                lhs = Expression(
                    .isNull(lhs, negated: negated),
                    SourceRange(
                        start: lhs.range.start, end: previousEnd,
                        line: lhs.range.line, column: lhs.range.column))
                continue
            } else {
                return lhs
            }
            let rhs = try parseAdditive()
            lhs = Expression(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
    }

    private mutating func parseAdditive() throws(CypherError) -> Expression {
        var lhs = try parseMultiplicative()
        while true {
            let op: Expression.BinaryOperator
            if acceptSymbol("+") { op = .add } else if acceptSymbol("-") { op = .subtract } else { return lhs }
            let rhs = try parseMultiplicative()
            lhs = Expression(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
    }

    private mutating func parseMultiplicative() throws(CypherError) -> Expression {
        var lhs = try parsePower()
        while true {
            let op: Expression.BinaryOperator
            if acceptSymbol("*") {
                op = .multiply
            } else if acceptSymbol("/") {
                op = .divide
            } else if acceptSymbol("%") {
                op = .modulo
            } else {
                return lhs
            }
            let rhs = try parsePower()
            lhs = Expression(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
    }

    private mutating func parsePower() throws(CypherError) -> Expression {
        var lhs = try parseUnary()
        while acceptSymbol("^") {
            let rhs = try parseUnary()
            lhs = Expression(.binary(.power, lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    private mutating func parseUnary() throws(CypherError) -> Expression {
        let start = current
        if isSymbol("-") || isSymbol("+") {
            let minus = isSymbol("-")
            advance()
            if minus, case .integer(let text) = current.kind {
                let literalToken = current
                advance()
                let value = try integerValue(text, negative: true, at: literalToken)
                return try parsePostfix(Expression(.literal(.int(value)), range(from: start)))
            }
            try enter()
            defer { depth -= 1 }
            let operand = try parseUnary()
            return Expression(.unary(minus ? .minus : .plus, operand), range(from: start))
        }
        return try parsePostfix(try parseAtom())
    }

    private func integerValue(_ text: String, negative: Bool, at token: Token) throws(CypherError) -> Int64 {
        var digits = Substring(text)
        var radix = 10
        if text.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if text.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        }
        guard let value = Int64((negative ? "-" : "") + digits, radix: radix) else {
            throw CypherError(
                .syntaxError, "integer literal \(negative ? "-" : "")\(text) does not fit in 64 bits",
                detail: "IntegerOverflow", line: token.range.line, column: token.range.column, unexpected: text)
        }
        return value
    }

    private mutating func parsePostfix(_ base: Expression) throws(CypherError) -> Expression {
        var expression = base
        while true {
            let start = expression.range
            func spanned(_ parser: Parser) -> SourceRange {
                SourceRange(start: start.start, end: parser.previousEnd, line: start.line, column: start.column)
            }
            if acceptSymbol(".") {
                let key = try parseSymbolicName(what: "a property name")
                expression = Expression(.property(expression, key), spanned(self))
            } else if acceptSymbol("[") {
                if acceptSymbol("..") {
                    let to = isSymbol("]") ? nil : try parseExpression()
                    try expectSymbol("]")
                    expression = Expression(.slice(expression, nil, to), spanned(self))
                    continue
                }
                let index = try parseExpression()
                if acceptSymbol("..") {
                    let to = isSymbol("]") ? nil : try parseExpression()
                    try expectSymbol("]")
                    expression = Expression(.slice(expression, index, to), spanned(self))
                } else {
                    try expectSymbol("]")
                    expression = Expression(.index(expression, index), spanned(self))
                }
            } else if isSymbol(":") {
                var labels: [String] = []
                while acceptSymbol(":") { labels.append(try parseSymbolicName(what: "a label")) }
                expression = Expression(.hasLabels(expression, labels), spanned(self))
            } else {
                return expression
            }
        }
    }

    private mutating func parseAtom() throws(CypherError) -> Expression {
        let start = current
        switch current.kind {
        case .integer(let text):
            advance()
            return Expression(.literal(.int(try integerValue(text, negative: false, at: start))), start.range)
        case .float(let text):
            advance()
            guard let value = Double(text), value.isFinite else {
                throw CypherError(
                    .syntaxError, "float literal \(text) is out of range", detail: "FloatingPointOverflow",
                    line: start.range.line, column: start.range.column, unexpected: text)
            }
            return Expression(.literal(.double(value)), start.range)
        case .string(let value):
            advance()
            return Expression(.literal(.string(value)), start.range)
        case .parameter(let name):
            advance()
            return Expression(.parameter(name), start.range)
        case .symbol("("):
            if looksLikePattern() {
                let part = try parsePatternPart()
                return Expression(.patternPredicate(part), part.range)
            }
            advance()
            var inner = try parseExpression()
            try expectSymbol(")")
            inner.range = range(from: start)
            return inner
        case .symbol("["):
            advance()
            if atVariable && isKeyword("IN", at: 1) {
                let variable = try parseVariable()
                try expectKeyword("IN")
                let list = try parseExpression()
                let predicate = acceptKeyword("WHERE") ? try parseExpression() : nil
                let projection = acceptSymbol("|") ? try parseExpression() : nil
                try expectSymbol("]")
                return Expression(
                    .listComprehension(variable: variable, list: list, predicate: predicate, projection: projection),
                    range(from: start))
            }
            var items: [Expression] = []
            if !isSymbol("]") {
                repeat { items.append(try parseExpression()) } while acceptSymbol(",")
            }
            try expectSymbol("]")
            return Expression(.list(items), range(from: start))
        case .symbol("{"):
            return try parseMapLiteral()
        case .identifier(let word):
            switch word.uppercased() {
            case "TRUE":
                advance()
                return Expression(.literal(.bool(true)), start.range)
            case "FALSE":
                advance()
                return Expression(.literal(.bool(false)), start.range)
            case "NULL":
                advance()
                return Expression(.literal(.null), start.range)
            default:
                break
            }
            if word.uppercased() == "CASE" { return try parseCase() }
            if word.uppercased() == "EXISTS" && isSymbol("{", at: 1) {
                advance()
                advance()
                _ = acceptKeyword("MATCH")
                let parts = try parsePattern()
                let predicate = acceptKeyword("WHERE") ? try parseExpression() : nil
                try expectSymbol("}")
                return Expression(.existsSubquery(parts, predicate), range(from: start))
            }
            if let quantifier = Expression.Quantifier(rawValue: word.lowercased()), isSymbol("(", at: 1),
                isKeyword("IN", at: 3)
            {
                advance()
                advance()
                let variable = try parseVariable()
                try expectKeyword("IN")
                let list = try parseExpression()
                try expectKeyword("WHERE")
                let predicate = try parseExpression()
                try expectSymbol(")")
                return Expression(
                    .quantifier(quantifier, variable: variable, list: list, predicate: predicate), range(from: start))
            }
            if let call = try parseFunctionCall() { return call }
            let name = try parseVariable()
            let variable = Expression(.variable(name), start.range)
            if isSymbol("{") { return try parseMapProjection(variable) }
            return variable
        case .quotedIdentifier(let name):
            advance()
            return Expression(.variable(name), start.range)
        default:
            throw syntaxError(expected: ["an expression"])
        }
    }

    /// Whether the tokens ahead are a node pattern followed by a relationship (`(a)-->`,
    /// `(a)-[`, `(a)<-`): a pattern predicate rather than a parenthesised expression.
    private func looksLikePattern() -> Bool {
        var offset = 0
        var depth = 0
        repeat {
            switch token(at: offset).kind {
            case .symbol("("), .symbol("{"), .symbol("["): depth += 1
            case .symbol(")"), .symbol("}"), .symbol("]"): depth -= 1
            case .end: return false
            default: break
            }
            offset += 1
        } while depth > 0
        if isSymbol("-", at: offset) { return isSymbol("[", at: offset + 1) || isSymbol("-", at: offset + 1) }
        return isSymbol("<", at: offset) && isSymbol("-", at: offset + 1)
    }

    private mutating func parseCase() throws(CypherError) -> Expression {
        let start = current
        advance()
        let subject = isKeyword("WHEN") ? nil : try parseExpression()
        var branches: [(Expression, Expression)] = []
        while acceptKeyword("WHEN") {
            let condition = try parseExpression()
            try expectKeyword("THEN")
            branches.append((condition, try parseExpression()))
        }
        if branches.isEmpty { throw syntaxError(expected: ["WHEN"]) }
        let otherwise = acceptKeyword("ELSE") ? try parseExpression() : nil
        try expectKeyword("END")
        return Expression(
            .caseExpression(subject: subject, branches: branches, otherwise: otherwise), range(from: start))
    }

    private mutating func parseMapProjection(_ base: Expression) throws(CypherError) -> Expression {
        try expectSymbol("{")
        var items: [Expression.MapProjectionItem] = []
        if !isSymbol("}") {
            repeat {
                if acceptSymbol(".") {
                    if acceptSymbol("*") {
                        items.append(.allProperties)
                    } else {
                        items.append(.property(try parseSymbolicName(what: "a property name")))
                    }
                } else if isSymbol(":", at: 1) {
                    let key = try parseSymbolicName(what: "a key")
                    advance()
                    items.append(.entry(key, try parseExpression()))
                } else {
                    items.append(.variable(try parseVariable()))
                }
            } while acceptSymbol(",")
        }
        try expectSymbol("}")
        return Expression(
            .mapProjection(base, items),
            SourceRange(start: base.range.start, end: previousEnd, line: base.range.line, column: base.range.column))
    }

    /// Parses `name(.name)*( [DISTINCT] args )` if the tokens ahead have that shape.
    private mutating func parseFunctionCall() throws(CypherError) -> Expression? {
        var lookahead = 1
        while isSymbol(".", at: lookahead) {
            switch token(at: lookahead + 1).kind {
            case .identifier, .quotedIdentifier: lookahead += 2
            default: return nil
            }
        }
        guard isSymbol("(", at: lookahead) else { return nil }
        let start = current
        var name = try parseSymbolicName()
        while acceptSymbol(".") { name += "." + (try parseSymbolicName()) }
        try expectSymbol("(")
        if name.uppercased() == "COUNT" && isSymbol("*") && isSymbol(")", at: 1) {
            advance()
            advance()
            return Expression(.countStar, range(from: start))
        }
        let distinct = acceptKeyword("DISTINCT")
        var arguments: [Expression] = []
        if !isSymbol(")") {
            repeat { arguments.append(try parseExpression()) } while acceptSymbol(",")
        }
        try expectSymbol(")")
        return Expression(.function(name: name, distinct: distinct, arguments: arguments), range(from: start))
    }

    private mutating func parseMapLiteral() throws(CypherError) -> Expression {
        let start = current
        try expectSymbol("{")
        var entries: [(String, Expression)] = []
        if !isSymbol("}") {
            repeat {
                let key = try parseSymbolicName(what: "a property key")
                try expectSymbol(":")
                entries.append((key, try parseExpression()))
            } while acceptSymbol(",")
        }
        try expectSymbol("}")
        return Expression(.map(entries), range(from: start))
    }
}
