import EngramCore

/// Reads one property key of node after node (or relationship after relationship): what a compiled
/// `n.key` holds, made once per expression by ``CypherGraph/propertyReader(_:)``.
///
/// The default reader asks the graph per read (``CypherGraph/property(_:ofNode:)``). A graph that
/// keeps its values encoded supplies its own, which resolves the key once, decodes straight into a
/// ``Value``, and answers comparisons with a constant and grouping from the stored bytes without
/// building the value: the per-row work of a filter such as `a.type = 'PERSON'` or a grouping key
/// such as `b.type` over a whole graph. Class-bound, so that a call through it boxes nothing.
package protocol PropertyReader: AnyObject {
    /// The property key.
    var key: String { get }
    /// The property of `node`; `null` when it has none.
    func node(_ node: NodeID) throws -> Value
    /// The property of relationship `id`; `null` when it has none.
    func relationship(_ id: RelationshipID) throws -> Value
    /// `property op constant`, prepared once for node after node.
    func comparator(_ comparison: ConstantComparison) -> any PropertyComparator
    /// Bytes that stand for the property of `node` when grouping: two equal byte strings always
    /// hold equal values (the converse need not hold). `nil` when the reader has none for it (the
    /// caller then groups by ``node(_:)``). Valid until the next call on the reader or the graph.
    func groupingBytes(node: NodeID) throws -> UnsafeRawBufferPointer?
    /// ``groupingBytes(node:)`` for relationship `id`.
    func groupingBytes(relationship id: RelationshipID) throws -> UnsafeRawBufferPointer?
}

extension PropertyReader {
    /// A comparator that reads the property and applies the comparison.
    package func comparator(_ comparison: ConstantComparison) -> any PropertyComparator {
        ValueComparator(reader: self, comparison: comparison)
    }

    /// None: group by the value.
    package func groupingBytes(node: NodeID) throws -> UnsafeRawBufferPointer? { nil }

    /// None: group by the value.
    package func groupingBytes(relationship id: RelationshipID) throws -> UnsafeRawBufferPointer? { nil }
}

/// `property op constant` for one property key and one constant, made by
/// ``PropertyReader/comparator(_:)``: gives exactly ``ConstantComparison/apply(to:)``'s results.
package protocol PropertyComparator: AnyObject {
    /// The comparison on the property of `node`.
    func node(_ node: NodeID) throws -> Value
    /// The comparison on the property of relationship `id`.
    func relationship(_ id: RelationshipID) throws -> Value
}

/// Reads the value and applies the comparison.
final class ValueComparator: PropertyComparator {
    private let reader: any PropertyReader
    private let comparison: ConstantComparison

    init(reader: any PropertyReader, comparison: ConstantComparison) {
        self.reader = reader
        self.comparison = comparison
    }

    func node(_ node: NodeID) throws -> Value { try comparison.apply(to: reader.node(node)) }
    func relationship(_ id: RelationshipID) throws -> Value { try comparison.apply(to: reader.relationship(id)) }
}

/// A reader that finds nothing: a placeholder where a reader is not used.
final class NoPropertyReader: PropertyReader {
    let key = ""
    func node(_ node: NodeID) throws -> Value { .null }
    func relationship(_ id: RelationshipID) throws -> Value { .null }
}

/// The reader of graphs without their own: one ``CypherGraph/property(_:ofNode:)`` call per read.
final class GraphPropertyReader: PropertyReader {
    let key: String
    private let graph: any CypherGraph

    init(key: String, graph: any CypherGraph) {
        self.key = key
        self.graph = graph
    }

    func node(_ node: NodeID) throws -> Value {
        try graph.property(key, ofNode: node).map(Value.init) ?? .null
    }

    func relationship(_ id: RelationshipID) throws -> Value {
        try graph.property(key, ofRelationship: id).map(Value.init) ?? .null
    }
}

/// A comparison of a value with a constant (`x op constant`), prepared once: what a graph needs to
/// decide it on a stored value.
package struct ConstantComparison: Sendable {
    /// `=`, `<>`, `<`, `>`, `<=` or `>=`.
    package let op: Expression.BinaryOperator
    /// The right-hand side.
    package let constant: Value
    /// The constant's UTF-8 bytes when it is a string of ASCII characters only. Two ASCII strings
    /// compare as their bytes do; any other string needs Unicode's rules (the Kelvin sign equals
    /// `K`), so a stored value that is not ASCII is compared as a ``Value``.
    package let ascii: [UInt8]?

    /// `nil` unless `op` is a comparison.
    init?(_ op: Expression.BinaryOperator, _ constant: Value) {
        switch op {
        case .equal, .notEqual, .less, .greater, .lessOrEqual, .greaterOrEqual: break
        default: return nil
        }
        self.op = op
        self.constant = constant
        if case .string(let text) = constant, text.utf8.allSatisfy({ $0 < 0x80 }) {
            ascii = Array(text.utf8)
        } else {
            ascii = nil
        }
    }

    /// The same comparison with its sides swapped (`constant op x` → `x op' constant`).
    var flipped: ConstantComparison {
        let mirrored: Expression.BinaryOperator =
            switch op {
            case .less: .greater
            case .greater: .less
            case .lessOrEqual: .greaterOrEqual
            case .greaterOrEqual: .lessOrEqual
            default: op
            }
        return ConstantComparison(mirrored, constant)!
    }

    /// `value op constant`.
    package func apply(to value: Value) throws(CypherError) -> Value {
        try ExecutionContext.apply(op, value, constant)
    }

    /// The result for two values of one kind that are both neither null nor NaN, given how they
    /// order (`value` against the constant: negative, zero or positive).
    package func holds(order: Int) -> Bool {
        switch op {
        case .equal: order == 0
        case .notEqual: order != 0
        case .less: order < 0
        case .greater: order > 0
        case .lessOrEqual: order <= 0
        default: order >= 0
        }
    }
}
