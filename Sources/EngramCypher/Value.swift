package import EngramCore

/// A path value at run time: `nodes.count == relationships.count + 1`.
package struct PathValue: Sendable, Hashable {
    package var nodes: [NodeID]
    package var relationships: [RelationshipRecord]
}

/// A value while a query runs. Graph elements are references (ids); their labels and properties
/// are read from the graph only when needed, and materialised into ``CypherValue`` for results.
package enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([Value])
    case map([String: Value])
    case vector([Float])
    case node(NodeID)
    case relationship(RelationshipRecord)
    case path(PathValue)

    package init(_ value: PropertyValue) {
        switch value {
        case .null: self = .null
        case .bool(let v): self = .bool(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .string(let v): self = .string(v)
        case .bytes(let v): self = .bytes(v)
        case .list(let v): self = .list(v.map(Value.init))
        case .map(let v): self = .map(v.mapValues(Value.init))
        case .vector(let v): self = .vector(v)
        }
    }

    /// The value as a property value, or `nil` for graph elements (and collections holding them).
    package var propertyValue: PropertyValue? {
        switch self {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        case .string(let v): return .string(v)
        case .bytes(let v): return .bytes(v)
        case .vector(let v): return .vector(v)
        case .list(let items):
            var result: [PropertyValue] = []
            for item in items {
                guard let converted = item.propertyValue else { return nil }
                result.append(converted)
            }
            return .list(result)
        case .map(let entries):
            var result: [String: PropertyValue] = [:]
            for (key, item) in entries {
                guard let converted = item.propertyValue else { return nil }
                result[key] = converted
            }
            return .map(result)
        case .node, .relationship, .path: return nil
        }
    }

    /// The value as a dense float vector: a `vector`, or a list of numbers (a query literal such
    /// as `[0.1, 0.2]`). `nil` for anything else.
    package var floatVector: [Float]? {
        switch self {
        case .vector(let values): return values
        case .list(let items):
            var values: [Float] = []
            values.reserveCapacity(items.count)
            for item in items {
                guard let number = item.numeric else { return nil }
                values.append(Float(number))
            }
            return values
        default: return nil
        }
    }

    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The Cypher type name, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "Null"
        case .bool: return "Boolean"
        case .int: return "Integer"
        case .double: return "Float"
        case .string: return "String"
        case .bytes: return "ByteArray"
        case .list, .vector: return "List"
        case .map: return "Map"
        case .node: return "Node"
        case .relationship: return "Relationship"
        case .path: return "Path"
        }
    }

    /// A vector viewed as a list of floats, so that list operations apply to it.
    var listElements: [Value]? {
        switch self {
        case .list(let items): return items
        case .vector(let items): return items.map { .double(Double($0)) }
        default: return nil
        }
    }

    // MARK: Equality with null semantics

    /// Cypher `=`: `nil` stands for `null` (unknown).
    package func equals(_ other: Value) -> Bool? {
        switch (self, other) {
        case (.null, _), (_, .null): return nil
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)): return Self.numericEqual(a, b)
        case (.double(let a), .int(let b)): return Self.numericEqual(b, a)
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.node(let a), .node(let b)): return a == b
        case (.relationship(let a), .relationship(let b)): return a.id == b.id
        case (.path(let a), .path(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard Set(a.keys) == Set(b.keys) else { return false }
            var sawNull = false
            for (key, value) in a {
                switch value.equals(b[key]!) {
                case false?: return false
                case nil: sawNull = true
                default: break
                }
            }
            return sawNull ? nil : true
        default:
            if let a = listElements, let b = other.listElements {
                guard a.count == b.count else { return false }
                var sawNull = false
                for (x, y) in zip(a, b) {
                    switch x.equals(y) {
                    case false?: return false
                    case nil: sawNull = true
                    default: break
                    }
                }
                return sawNull ? nil : true
            }
            return false
        }
    }

    private static func numericEqual(_ a: Int64, _ b: Double) -> Bool {
        guard b.isFinite, b == b.rounded() else { return false }
        if b >= 9.223372036854775807e18 || b < -9.223372036854775808e18 { return false }
        return a == Int64(b)
    }

    // MARK: Ordering

    /// Cypher `<`-style comparison: negative, zero or positive, or `nil` when the values are not
    /// comparable (different types, null, NaN).
    package func compare(_ other: Value) -> Int? {
        switch (self, other) {
        case (.int(let a), .int(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.double(let a), .double(let b)):
            if a.isNaN || b.isNaN { return nil }
            return a < b ? -1 : (a == b ? 0 : 1)
        case (.int(let a), .double(let b)): return Self.compareMixed(a, b)
        case (.double(let a), .int(let b)): return Self.compareMixed(b, a).map { -$0 }
        case (.string(let a), .string(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        default:
            if let a = listElements, let b = other.listElements {
                for (x, y) in zip(a, b) {
                    guard let order = x.compare(y) else { return nil }
                    if order != 0 { return order }
                }
                return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
            }
            return nil
        }
    }

    private static func compareMixed(_ a: Int64, _ b: Double) -> Int? {
        if b.isNaN { return nil }
        let da = Double(a)
        if da < b { return -1 }
        if da > b { return 1 }
        // Equal as doubles: decide exactly when b is integral and in range.
        if b >= 9.223372036854775807e18 { return -1 }
        let ib = Int64(b)
        return a < ib ? -1 : (a == ib ? 0 : 1)
    }

    private var orderRank: Int {
        switch self {
        case .map: return 0
        case .node: return 1
        case .relationship: return 2
        case .list, .vector: return 3
        case .path: return 4
        case .string: return 5
        case .bool: return 6
        case .int, .double: return 7
        case .bytes: return 8
        case .null: return 10
        }
    }

    /// The total order used by `ORDER BY` (ascending): maps, nodes, relationships, lists, paths,
    /// strings, booleans, numbers (NaN last among them), then null.
    package func orderCompare(_ other: Value) -> Int {
        let (ra, rb) = (orderRank, other.orderRank)
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (self, other) {
        case (.null, .null): return 0
        case (.node(let a), .node(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.relationship(let a), .relationship(let b)): return a.id < b.id ? -1 : (a.id == b.id ? 0 : 1)
        case (.double(let a), .double(let b)) where a.isNaN || b.isNaN:
            return a.isNaN && b.isNaN ? 0 : (a.isNaN ? 1 : -1)
        case (.double(let a), .int) where a.isNaN: return 1
        case (.int, .double(let b)) where b.isNaN: return -1
        case (.map(let a), .map(let b)):
            let ka = a.keys.sorted()
            let kb = b.keys.sorted()
            for (x, y) in zip(ka, kb) where x != y { return x < y ? -1 : 1 }
            if ka.count != kb.count { return ka.count < kb.count ? -1 : 1 }
            for key in ka {
                let order = a[key]!.orderCompare(b[key]!)
                if order != 0 { return order }
            }
            return 0
        case (.path(let a), .path(let b)):
            for (x, y) in zip(a.nodes, b.nodes) where x != y { return x < y ? -1 : 1 }
            return a.nodes.count < b.nodes.count ? -1 : (a.nodes.count == b.nodes.count ? 0 : 1)
        case (.bytes(let a), .bytes(let b)):
            return a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
        default:
            if let a = listElements, let b = other.listElements {
                for (x, y) in zip(a, b) {
                    let order = x.orderCompare(y)
                    if order != 0 { return order }
                }
                return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
            }
            return compare(other) ?? 0
        }
    }

    /// A key under which equivalent values (for `DISTINCT`, grouping and `UNION`) hash equally:
    /// integers and floats that are equal numbers share a key, NaN equals NaN.
    package var groupingKey: Value {
        switch self {
        case .double(let d):
            if d.isNaN { return .string("\u{0}NaN") }
            if d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { return .int(Int64(d)) }
            return self
        case .list(let items): return .list(items.map(\.groupingKey))
        case .vector(let items): return .list(items.map { Value.double(Double($0)).groupingKey })
        case .map(let entries): return .map(entries.mapValues(\.groupingKey))
        default: return self
        }
    }
}
