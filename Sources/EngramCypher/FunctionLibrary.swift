import EngramCore
import Foundation

/// The hidden row slot where the aggregation operator leaves an aggregate's value.
enum AggregateSlot {
    static func name(for expression: Expression) -> String { "  agg " + expression.description }
}

/// The scalar functions and the names of the aggregating ones.
enum FunctionLibrary {
    /// The longest list `range()` may build: 10 million values (about 160 MB of `Value`s), far
    /// beyond any sensible query, yet small enough to fail before memory runs out.
    static let maximumListSize = 10_000_000

    /// Aggregating functions (lower-cased).
    static let aggregateNames: Set<String> = ["count", "collect", "sum", "avg", "min", "max", "stdev", "stdevp"]

    /// Scalar functions: lower-cased name to allowed argument counts.
    static let arities: [String: ClosedRange<Int>] = [
        "id": 1...1, "elementid": 1...1, "labels": 1...1, "type": 1...1, "properties": 1...1, "keys": 1...1,
        "size": 1...1, "length": 1...1, "coalesce": 1...64, "tolower": 1...1, "toupper": 1...1, "tostring": 1...1,
        "tointeger": 1...1, "tofloat": 1...1, "toboolean": 1...1, "nodes": 1...1, "relationships": 1...1,
        "head": 1...1, "last": 1...1, "tail": 1...1, "range": 2...3, "abs": 1...1, "ceil": 1...1, "floor": 1...1,
        "round": 1...1, "sqrt": 1...1, "sign": 1...1, "reverse": 1...1, "substring": 2...3, "split": 2...2,
        "trim": 1...1, "ltrim": 1...1, "rtrim": 1...1, "replace": 3...3, "left": 2...2, "right": 2...2,
        "startnode": 1...1, "endnode": 1...1, "exists": 1...1, "isempty": 1...1,
        "count": 1...1, "collect": 1...1, "sum": 1...1, "avg": 1...1, "min": 1...1, "max": 1...1,
        "stdev": 1...1, "stdevp": 1...1,
    ]

    /// Cypher's `toString` rendering of a scalar.
    static func stringValue(_ value: Value) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return formatFloat(d)
        case .bool(let b): return b ? "true" : "false"
        default: return ""
        }
    }

    static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == d.rounded() && abs(d) < 1e16 { return String(format: "%.1f", d) }
        return String(d)
    }

    static func call(_ name: String, _ arguments: [Value], _ context: ExecutionContext) throws(CypherError) -> Value {
        let lower = name.lowercased()
        let graph = context.graph
        func argumentType() -> CypherError {
            CypherError.type("\(name)() cannot take a \(arguments.map(\.typeName).joined(separator: ", "))")
        }
        let first = arguments.first ?? .null
        switch lower {
        case "coalesce":
            return arguments.first { !$0.isNull } ?? .null
        case "id":
            switch first {
            case .null: return .null
            case .node(let node): return .int(Int64(bitPattern: node))
            case .relationship(let relationship): return .int(Int64(bitPattern: relationship.id))
            default: throw argumentType()
            }
        case "elementid":
            switch first {
            case .null: return .null
            case .node(let node): return .string(try context.graphCall { try graph.publicID(ofNode: node) })
            case .relationship(let r):
                return .string(try context.graphCall { try graph.publicID(ofRelationship: r.id) })
            default: throw argumentType()
            }
        case "labels":
            switch first {
            case .null: return .null
            case .node(let node): return .list(try context.graphCall { try graph.labels(of: node) }.map(Value.string))
            default: throw argumentType()
            }
        case "type":
            switch first {
            case .null: return .null
            case .relationship(let relationship): return .string(relationship.type)
            default: throw argumentType()
            }
        case "properties":
            switch first {
            case .null: return .null
            case .node(let node):
                return .map(try context.graphCall { try graph.properties(ofNode: node) }.mapValues(Value.init))
            case .relationship(let r):
                return .map(try context.graphCall { try graph.properties(ofRelationship: r.id) }.mapValues(Value.init))
            case .map: return first
            default: throw argumentType()
            }
        case "keys":
            switch first {
            case .null: return .null
            case .node(let node):
                return .list(
                    try context.graphCall { try graph.properties(ofNode: node) }.keys.sorted().map(Value.string))
            case .relationship(let r):
                return .list(
                    try context.graphCall { try graph.properties(ofRelationship: r.id) }.keys.sorted().map(Value.string)
                )
            case .map(let entries): return .list(entries.keys.sorted().map(Value.string))
            default: throw argumentType()
            }
        case "size":
            switch first {
            case .null: return .null
            case .string(let s): return .int(Int64(s.count))
            case .path: throw argumentType()
            default:
                guard let items = first.listElements else { throw argumentType() }
                return .int(Int64(items.count))
            }
        case "length":
            switch first {
            case .null: return .null
            case .path(let path): return .int(Int64(path.relationships.count))
            default: throw argumentType()
            }
        case "nodes":
            switch first {
            case .null: return .null
            case .path(let path): return .list(path.nodes.map(Value.node))
            default: throw argumentType()
            }
        case "relationships":
            switch first {
            case .null: return .null
            case .path(let path): return .list(path.relationships.map(Value.relationship))
            default: throw argumentType()
            }
        case "startnode", "endnode":
            switch first {
            case .null: return .null
            case .relationship(let r): return .node(lower == "startnode" ? r.start : r.end)
            default: throw argumentType()
            }
        case "tolower", "toupper":
            switch first {
            case .null: return .null
            case .string(let s): return .string(lower == "tolower" ? s.lowercased() : s.uppercased())
            default: throw argumentType()
            }
        case "trim", "ltrim", "rtrim":
            switch first {
            case .null: return .null
            case .string(let s):
                var scalars = Substring(s)
                if lower != "rtrim" { scalars = scalars.drop { $0.isWhitespace } }
                if lower != "ltrim" { while scalars.last?.isWhitespace == true { scalars = scalars.dropLast() } }
                return .string(String(scalars))
            default: throw argumentType()
            }
        case "tostring":
            switch first {
            case .null: return .null
            case .string, .int, .double, .bool: return .string(stringValue(first))
            default: throw argumentType()
            }
        case "tointeger":
            switch first {
            case .null: return .null
            case .int: return first
            case .double(let d):
                guard d.isFinite, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return .null }
                return .int(Int64(d.rounded(.towardZero)))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                let trimmed = s.trimmingCharacters(in: .whitespaces)
                if let i = Int64(trimmed) { return .int(i) }
                if let d = Double(trimmed), d.isFinite, Swift.abs(d) < 9.2e18 {
                    return .int(Int64(d.rounded(.towardZero)))
                }
                return .null
            default: throw argumentType()
            }
        case "tofloat":
            switch first {
            case .null: return .null
            case .double: return first
            case .int(let i): return .double(Double(i))
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(Value.double) ?? .null
            default: throw argumentType()
            }
        case "toboolean":
            switch first {
            case .null: return .null
            case .bool: return first
            case .string(let s):
                switch s.lowercased().trimmingCharacters(in: .whitespaces) {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: return .null
                }
            case .int(let i): return .bool(i != 0)
            default: throw argumentType()
            }
        case "head", "last":
            if first.isNull { return .null }
            guard let items = first.listElements else { throw argumentType() }
            return (lower == "head" ? items.first : items.last) ?? .null
        case "tail":
            if first.isNull { return .null }
            guard let items = first.listElements else { throw argumentType() }
            return .list(Array(items.dropFirst()))
        case "reverse":
            switch first {
            case .null: return .null
            case .string(let s): return .string(String(s.reversed()))
            default:
                guard let items = first.listElements else { throw argumentType() }
                return .list(items.reversed())
            }
        case "range":
            guard case .int(let start) = first, case .int(let end) = arguments[1] else { throw argumentType() }
            var step: Int64 = 1
            if arguments.count == 3 {
                guard case .int(let s) = arguments[2] else { throw argumentType() }
                guard s != 0 else { throw CypherError.argument("range() step must not be zero") }
                step = s
            }
            var values: [Value] = []
            var current = start
            while step > 0 ? current <= end : current >= end {
                values.append(.int(current))
                try context.tick()
                if values.count > maximumListSize {
                    throw CypherError(.rowLimitExceeded, "range() would produce more than \(maximumListSize) values")
                }
                let (next, overflow) = current.addingReportingOverflow(step)
                if overflow { break }
                current = next
            }
            return .list(values)
        case "abs":
            switch first {
            case .null: return .null
            case .int(let i):
                guard i != .min else { throw CypherError(.arithmeticError, "integer overflow in abs()") }
                return .int(Swift.abs(i))
            case .double(let d): return .double(Swift.abs(d))
            default: throw argumentType()
            }
        case "ceil", "floor", "round", "sqrt", "sign":
            if first.isNull { return .null }
            guard let d = first.numeric else { throw argumentType() }
            switch lower {
            case "ceil": return .double(d.rounded(.up))
            case "floor": return .double(d.rounded(.down))
            case "round": return .double(d.rounded(.toNearestOrAwayFromZero))
            case "sqrt": return .double(d.squareRoot())
            default: return .int(d > 0 ? 1 : (d < 0 ? -1 : 0))
            }
        case "substring", "left", "right":
            if first.isNull { return .null }
            guard case .string(let s) = first else { throw argumentType() }
            let characters = Array(s)
            func integer(_ value: Value) throws(CypherError) -> Int {
                guard case .int(let i) = value else { throw argumentType() }
                guard i >= 0 else { throw CypherError.argument("\(name)() expects a non-negative length") }
                return Int(min(i, Int64(Int32.max)))
            }
            switch lower {
            case "left":
                if arguments[1].isNull { return .null }
                return .string(String(characters.prefix(try integer(arguments[1]))))
            case "right":
                if arguments[1].isNull { return .null }
                return .string(String(characters.suffix(try integer(arguments[1]))))
            default:
                let start = min(try integer(arguments[1]), characters.count)
                let length = arguments.count == 3 ? try integer(arguments[2]) : characters.count
                return .string(String(characters[start..<min(characters.count, start + length)]))
            }
        case "split":
            guard case .string(let s) = first, case .string(let separator) = arguments[1] else {
                if first.isNull || arguments[1].isNull { return .null }
                throw argumentType()
            }
            if separator.isEmpty { return .list(s.map { .string(String($0)) }) }
            return .list(s.components(separatedBy: separator).map(Value.string))
        case "replace":
            guard case .string(let s) = first, case .string(let search) = arguments[1],
                case .string(let replacement) = arguments[2]
            else {
                if arguments.contains(where: \.isNull) { return .null }
                throw argumentType()
            }
            return .string(search.isEmpty ? s : s.replacingOccurrences(of: search, with: replacement))
        case "exists":
            return .bool(!first.isNull)
        case "isempty":
            switch first {
            case .null: return .null
            case .string(let s): return .bool(s.isEmpty)
            case .map(let m): return .bool(m.isEmpty)
            default:
                guard let items = first.listElements else { throw argumentType() }
                return .bool(items.isEmpty)
            }
        default:
            throw CypherError.semantic("unknown function \(name)()", "UnknownFunction")
        }
    }
}
