public import EngramCore

/// A node in a query result: its public id, labels and properties.
public struct CypherNode: Sendable, Hashable {
    /// The node's stable public id.
    public var id: String
    /// The node's labels.
    public var labels: [String]
    /// The node's properties.
    public var properties: [String: PropertyValue]

    /// Creates a node value.
    public init(id: String, labels: [String], properties: [String: PropertyValue]) {
        self.id = id
        self.labels = labels
        self.properties = properties
    }
}

/// A relationship in a query result: its public id, type, endpoints (public ids) and properties.
public struct CypherRelationship: Sendable, Hashable {
    /// The relationship's stable public id.
    public var id: String
    /// The relationship's type.
    public var type: String
    /// The public id of the start node.
    public var start: String
    /// The public id of the end node.
    public var end: String
    /// The relationship's properties.
    public var properties: [String: PropertyValue]

    /// Creates a relationship value.
    public init(id: String, type: String, start: String, end: String, properties: [String: PropertyValue]) {
        self.id = id
        self.type = type
        self.start = start
        self.end = end
        self.properties = properties
    }
}

/// A path in a query result: `nodes.count == relationships.count + 1`, and relationship `i` joins
/// node `i` and node `i + 1` (in either direction).
public struct CypherPath: Sendable, Hashable {
    /// The nodes along the path, in order.
    public var nodes: [CypherNode]
    /// The relationships along the path, in order.
    public var relationships: [CypherRelationship]

    /// Creates a path value.
    public init(nodes: [CypherNode], relationships: [CypherRelationship]) {
        self.nodes = nodes
        self.relationships = relationships
    }
}

/// A value in a query result.
public enum CypherValue: Sendable, Hashable {
    /// `null`.
    case null
    /// A boolean.
    case boolean(Bool)
    /// A 64-bit integer.
    case integer(Int64)
    /// A 64-bit float.
    case float(Double)
    /// A string.
    case string(String)
    /// A byte string (from a `bytes` property).
    case bytes([UInt8])
    /// A list.
    case list([CypherValue])
    /// A map.
    case map([String: CypherValue])
    /// A node.
    case node(CypherNode)
    /// A relationship.
    case relationship(CypherRelationship)
    /// A path.
    case path(CypherPath)

    /// The value of a property, as a result value (a vector becomes a list of floats).
    public init(_ value: PropertyValue) {
        switch value {
        case .null: self = .null
        case .bool(let v): self = .boolean(v)
        case .int(let v): self = .integer(v)
        case .double(let v): self = .float(v)
        case .string(let v): self = .string(v)
        case .bytes(let v): self = .bytes(v)
        case .list(let v): self = .list(v.map(CypherValue.init))
        case .map(let v): self = .map(v.mapValues(CypherValue.init))
        case .vector(let v): self = .list(v.map { .float(Double($0)) })
        }
    }
}

extension CypherValue {
    /// Whether the value is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if the value is ``boolean(_:)``.
    public var boolValue: Bool? {
        if case .boolean(let value) = self { return value }
        return nil
    }

    /// The integer, if the value is ``integer(_:)``.
    public var intValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, if the value is ``integer(_:)`` or ``float(_:)``.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }

    /// The string, if the value is ``string(_:)``.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if the value is ``list(_:)``.
    public var listValue: [CypherValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    /// The node, if the value is ``node(_:)``.
    public var nodeValue: CypherNode? {
        if case .node(let value) = self { return value }
        return nil
    }

    /// The relationship, if the value is ``relationship(_:)``.
    public var relationshipValue: CypherRelationship? {
        if case .relationship(let value) = self { return value }
        return nil
    }
}

extension CypherValue: CustomStringConvertible {
    /// A Cypher-literal-like rendering, as the TCK writes values: `'text'`, `[1, 2]`, `{k: 1}`,
    /// `(:Label {k: 1})`, `[:TYPE {k: 1}]`, `<(…)-[…]->(…)>`. Map keys are sorted.
    public var description: String {
        switch self {
        case .null: return "null"
        case .boolean(let v): return v ? "true" : "false"
        case .integer(let v): return String(v)
        case .float(let v): return Self.format(v)
        case .string(let v): return PropertyValue.string(v).description
        case .bytes(let v): return "bytes(\(v.count))"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries): return Self.describe(entries.mapValues { $0 })
        case .node(let node): return Self.describe(node)
        case .relationship(let relationship): return Self.describe(relationship)
        case .path(let path):
            var text = "<" + Self.describe(path.nodes[0])
            for (index, relationship) in path.relationships.enumerated() {
                let next = path.nodes[index + 1]
                if relationship.start == path.nodes[index].id && relationship.end == next.id {
                    text += "-" + Self.describe(relationship) + "->"
                } else {
                    text += "<-" + Self.describe(relationship) + "-"
                }
                text += Self.describe(next)
            }
            return text + ">"
        }
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return String(value)
    }

    private static func describe(_ entries: [String: CypherValue]) -> String {
        "{" + entries.keys.sorted().map { "\($0): \(entries[$0]!)" }.joined(separator: ", ") + "}"
    }

    private static func describe(_ properties: [String: PropertyValue]) -> String {
        properties.isEmpty ? "" : " " + describe(properties.mapValues(CypherValue.init))
    }

    private static func describe(_ node: CypherNode) -> String {
        let labels = node.labels.map { ":" + $0 }.joined()
        let properties = describe(node.properties)
        return "(" + labels + (labels.isEmpty ? String(properties.dropFirst()) : properties) + ")"
    }

    private static func describe(_ relationship: CypherRelationship) -> String {
        "[:" + relationship.type + describe(relationship.properties) + "]"
    }
}
