/// A value stored in a node or relationship property, a memory attribute or a query parameter.
///
/// `PropertyValue` is the one value model shared by every layer of Engram: the storage value
/// codec writes it, the graph keeps it in property maps, Cypher reads and compares it, and the
/// command line renders it. It mirrors the property types of a Neo4j-style property graph plus a
/// dense `Float` vector for embeddings.
///
/// ```swift
/// let name: PropertyValue = "Ada Lovelace"
/// let born: PropertyValue = 1815
/// let tags: PropertyValue = ["math", "poetry"]
/// ```
///
/// Equality is structural. Two `.double` values compare with `==` on `Double`, so `NaN` is not
/// equal to itself, as in IEEE 754 and Cypher.
public enum PropertyValue: Sendable, Hashable {
    /// The absence of a value.
    case null
    /// A boolean.
    case bool(Bool)
    /// A signed 64-bit integer.
    case int(Int64)
    /// A 64-bit IEEE 754 floating-point number.
    case double(Double)
    /// A Unicode string.
    case string(String)
    /// An opaque byte string.
    case bytes([UInt8])
    /// An ordered list of values, possibly of mixed types.
    case list([PropertyValue])
    /// A map from string keys to values.
    case map([String: PropertyValue])
    /// A dense vector of 32-bit floats, such as an embedding.
    case vector([Float])
}

extension PropertyValue {
    /// Whether the value is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if the value is ``bool(_:)``.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, if the value is ``int(_:)``.
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, if the value is ``int(_:)`` or ``double(_:)``.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The string, if the value is ``string(_:)``.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if the value is ``list(_:)``.
    public var listValue: [PropertyValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    /// The entries, if the value is ``map(_:)``.
    public var mapValue: [String: PropertyValue]? {
        if case .map(let value) = self { return value }
        return nil
    }

    /// The components, if the value is ``vector(_:)``.
    public var vectorValue: [Float]? {
        if case .vector(let value) = self { return value }
        return nil
    }

    /// A short name of the value's type, for error messages: `"null"`, `"boolean"`, `"integer"`,
    /// `"float"`, `"string"`, `"bytes"`, `"list"`, `"map"` or `"vector"`.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "float"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .map: return "map"
        case .vector: return "vector"
        }
    }
}

extension PropertyValue: ExpressibleByNilLiteral {
    /// Creates ``null``.
    public init(nilLiteral: ()) { self = .null }
}

extension PropertyValue: ExpressibleByBooleanLiteral {
    /// Creates a ``bool(_:)`` value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PropertyValue: ExpressibleByIntegerLiteral {
    /// Creates an ``int(_:)`` value.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension PropertyValue: ExpressibleByFloatLiteral {
    /// Creates a ``double(_:)`` value.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension PropertyValue: ExpressibleByStringLiteral {
    /// Creates a ``string(_:)`` value.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension PropertyValue: ExpressibleByArrayLiteral {
    /// Creates a ``list(_:)`` value.
    public init(arrayLiteral elements: PropertyValue...) { self = .list(elements) }
}

extension PropertyValue: ExpressibleByDictionaryLiteral {
    /// Creates a ``map(_:)`` value. A repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, PropertyValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension PropertyValue: CustomStringConvertible {
    /// A Cypher-like literal rendering: strings in single quotes, maps in braces with sorted keys.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value):
            var quoted = "'"
            for character in value {
                if character == "'" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            return quoted + "'"
        case .bytes(let value): return "bytes(\(value.count))"
        case .list(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            let body = entries.keys.sorted().map { "\($0): \(entries[$0]!.description)" }
            return "{" + body.joined(separator: ", ") + "}"
        case .vector(let values): return "vector(\(values.count))"
        }
    }
}
