import EngramCore
import EngramCypher

/// A value as the TCK writes it in result tables: graph elements carry only labels/type and
/// properties (no ids), so results are compared structurally.
indirect enum TCKValue: CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([TCKValue])
    case map([String: TCKValue])
    case node(labels: Set<String>, properties: [String: TCKValue])
    case relationship(type: String, properties: [String: TCKValue])
    /// Nodes and relationships alternating; `forward[i]` tells the direction of relationship `i`.
    case path(nodes: [TCKValue], relationships: [TCKValue], forward: [Bool])

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return "'\(s)'"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            return "{" + entries.keys.sorted().map { "\($0): \(entries[$0]!)" }.joined(separator: ", ") + "}"
        case .node(let labels, let properties):
            return "(" + labels.sorted().map { ":" + $0 }.joined()
                + (properties.isEmpty ? "" : " \(TCKValue.map(properties))") + ")"
        case .relationship(let type, let properties):
            return "[:" + type + (properties.isEmpty ? "" : " \(TCKValue.map(properties))") + "]"
        case .path(let nodes, let relationships, let forward):
            var text = "<" + nodes[0].description
            for index in relationships.indices {
                text += forward[index] ? "-\(relationships[index])->" : "<-\(relationships[index])-"
                text += nodes[index + 1].description
            }
            return text + ">"
        }
    }

    /// Structural equality; `unorderedLists` compares lists as multisets.
    func matches(_ other: TCKValue, unorderedLists: Bool) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.float(let a), .float(let b)):
            if a.isNaN && b.isNaN { return true }
            if a == b { return true }
            return abs(a - b) <= 1e-9 * max(abs(a), abs(b))
        case (.string(let a), .string(let b)): return a == b
        case (.list(let a), .list(let b)):
            guard a.count == b.count else { return false }
            if unorderedLists { return Self.multisetMatch(a, b, unorderedLists: true) }
            return zip(a, b).allSatisfy { $0.matches($1, unorderedLists: unorderedLists) }
        case (.map(let a), .map(let b)):
            return Self.mapsMatch(a, b, unorderedLists)
        case (.node(let la, let pa), .node(let lb, let pb)): return la == lb && Self.mapsMatch(pa, pb, unorderedLists)
        case (.relationship(let ta, let pa), .relationship(let tb, let pb)):
            return ta == tb && Self.mapsMatch(pa, pb, unorderedLists)
        case (.path(let na, let ra, let fa), .path(let nb, let rb, let fb)):
            return fa == fb && na.count == nb.count && ra.count == rb.count
                && zip(na, nb).allSatisfy { $0.matches($1, unorderedLists: unorderedLists) }
                && zip(ra, rb).allSatisfy { $0.matches($1, unorderedLists: unorderedLists) }
        default: return false
        }
    }

    private static func mapsMatch(_ a: [String: TCKValue], _ b: [String: TCKValue], _ unordered: Bool) -> Bool {
        guard Set(a.keys) == Set(b.keys) else { return false }
        return a.allSatisfy { key, value in value.matches(b[key]!, unorderedLists: unordered) }
    }

    /// Whether `a` and `b` hold the same elements with the same multiplicities.
    static func multisetMatch(_ a: [TCKValue], _ b: [TCKValue], unorderedLists: Bool) -> Bool {
        var used = [Bool](repeating: false, count: b.count)
        outer: for x in a {
            for (index, y) in b.enumerated() where !used[index] && x.matches(y, unorderedLists: unorderedLists) {
                used[index] = true
                continue outer
            }
            return false
        }
        return true
    }

    static func rowsMatch(_ a: [[TCKValue]], _ b: [[TCKValue]], ordered: Bool, unorderedLists: Bool) -> Bool {
        guard a.count == b.count else { return false }
        if ordered {
            return zip(a, b).allSatisfy { rowA, rowB in
                rowA.count == rowB.count
                    && zip(rowA, rowB).allSatisfy { $0.matches($1, unorderedLists: unorderedLists) }
            }
        }
        let wrappedA = a.map { TCKValue.list($0) }
        let wrappedB = b.map { TCKValue.list($0) }
        var used = [Bool](repeating: false, count: b.count)
        outer: for x in wrappedA {
            for (index, y) in wrappedB.enumerated() where !used[index] && x.matches(y, unorderedLists: unorderedLists) {
                used[index] = true
                continue outer
            }
            return false
        }
        return true
    }

    init(_ value: CypherValue) {
        switch value {
        case .null: self = .null
        case .boolean(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .list(b.map { .int(Int64($0)) })
        case .list(let items): self = .list(items.map(TCKValue.init))
        case .map(let entries): self = .map(entries.mapValues(TCKValue.init))
        case .node(let node): self = TCKValue(node)
        case .relationship(let relationship): self = TCKValue(relationship)
        case .path(let path):
            var forward: [Bool] = []
            for (index, relationship) in path.relationships.enumerated() {
                forward.append(
                    relationship.start == path.nodes[index].id && relationship.end == path.nodes[index + 1].id)
            }
            self = .path(
                nodes: path.nodes.map(TCKValue.init), relationships: path.relationships.map(TCKValue.init),
                forward: forward)
        }
    }

    init(_ node: CypherNode) {
        self = .node(labels: Set(node.labels), properties: node.properties.mapValues { TCKValue(CypherValue($0)) })
    }

    init(_ relationship: CypherRelationship) {
        self = .relationship(
            type: relationship.type,
            properties: relationship.properties.mapValues { TCKValue(CypherValue($0)) })
    }

    /// The value as a query parameter.
    var propertyValue: PropertyValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let items): return .list(items.map(\.propertyValue))
        case .map(let entries): return .map(entries.mapValues(\.propertyValue))
        default: return .null
        }
    }
}

/// Parses the TCK's value syntax, reusing the Cypher lexer for strings and numbers.
struct TCKValueParser {
    private var tokens: [Token]
    private var position = 0

    static func parse(_ text: String) throws -> TCKValue {
        var parser = TCKValueParser(tokens: try Lexer.tokenize(text))
        let value = try parser.value()
        guard case .end = parser.tokens[parser.position].kind else { throw ParseFailure(text: text) }
        return value
    }

    struct ParseFailure: Error { var text: String }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token.Kind { tokens[position].kind }
    private mutating func advance() { position = min(position + 1, tokens.count - 1) }
    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(symbol) = current { return true }
        return false
    }
    private mutating func expect(_ symbol: String) throws {
        guard isSymbol(symbol) else { throw ParseFailure(text: "expected \(symbol)") }
        advance()
    }

    private mutating func name() throws -> String {
        switch current {
        case .identifier(let n), .quotedIdentifier(let n):
            advance()
            return n
        default: throw ParseFailure(text: "expected a name")
        }
    }

    private mutating func properties() throws -> [String: TCKValue] {
        guard isSymbol("{") else { return [:] }
        guard case .map(let entries) = try value() else { return [:] }
        return entries
    }

    private mutating func node() throws -> TCKValue {
        try expect("(")
        if case .identifier = current, !isSymbol(":") { _ = try? name() }
        var labels: Set<String> = []
        while isSymbol(":") {
            advance()
            labels.insert(try name())
        }
        let props = try properties()
        try expect(")")
        return .node(labels: labels, properties: props)
    }

    private mutating func relationship() throws -> TCKValue {
        try expect("[")
        try expect(":")
        let type = try name()
        let props = try properties()
        try expect("]")
        return .relationship(type: type, properties: props)
    }

    private mutating func value() throws -> TCKValue {
        switch current {
        case .integer(let text):
            advance()
            guard let value = Int64(text) else { throw ParseFailure(text: text) }
            return .int(value)
        case .float(let text):
            advance()
            guard let value = Double(text) else { throw ParseFailure(text: text) }
            return .float(value)
        case .string(let s):
            advance()
            return .string(s)
        case .identifier(let word):
            advance()
            switch word {
            case "null": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "NaN": return .float(.nan)
            case "Inf", "Infinity": return .float(.infinity)
            default: throw ParseFailure(text: word)
            }
        case .symbol("-"):
            advance()
            if case .integer(let text) = current, let negative = Int64("-" + text) {
                advance()
                return .int(negative)
            }
            switch try value() {
            case .int(let i): return .int(-i)
            case .float(let d): return .float(-d)
            default: throw ParseFailure(text: "-")
            }
        case .symbol("["):
            if case .symbol(":") = tokens[position + 1].kind { return try relationship() }
            advance()
            var items: [TCKValue] = []
            if !isSymbol("]") {
                repeat {
                    if isSymbol(",") { advance() }
                    items.append(try value())
                } while isSymbol(",")
            }
            try expect("]")
            return .list(items)
        case .symbol("{"):
            advance()
            var entries: [String: TCKValue] = [:]
            if !isSymbol("}") {
                repeat {
                    if isSymbol(",") { advance() }
                    let key = try name()
                    try expect(":")
                    entries[key] = try value()
                } while isSymbol(",")
            }
            try expect("}")
            return .map(entries)
        case .symbol("("):
            return try node()
        case .symbol("<"):
            advance()
            var nodes = [try node()]
            var relationships: [TCKValue] = []
            var forward: [Bool] = []
            while isSymbol("-") || isSymbol("<") {
                let backward = isSymbol("<")
                if backward { advance() }
                try expect("-")
                relationships.append(try relationship())
                try expect("-")
                if !backward { try expect(">") }
                forward.append(!backward)
                nodes.append(try node())
            }
            try expect(">")
            return .path(nodes: nodes, relationships: relationships, forward: forward)
        default:
            throw ParseFailure(text: "unexpected token")
        }
    }
}
