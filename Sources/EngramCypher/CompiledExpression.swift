import EngramCore

/// An expression turned once into a tree of evaluator objects, for the hot operators (filters,
/// grouping keys, projections): per row it skips matching the expression tree and retaining and
/// releasing its nodes. Variables, literals, property reads and comparisons are compiled; anything
/// else runs through ``ExecutionContext/evaluate(_:_:)``, so the results and errors are the same.
///
/// The evaluators are final classes held by `let`: a call reaches its children without the
/// reference counting that calling closures kept in a structure costs.
struct CompiledExpression {
    private let root: CompiledNode

    init(_ expression: Expression, _ context: ExecutionContext) {
        root = Self.compile(expression, context)
    }

    /// The expression's value on `row`.
    func evaluate(_ row: Row) throws(CypherError) -> Value { try root.evaluate(row) }

    /// The value as a predicate (``ExecutionContext/truth(_:)``).
    func isTrue(_ row: Row) throws(CypherError) -> Bool {
        try ExecutionContext.truth(try root.evaluate(row))
    }

    /// When the expression is a variable's property (`n.key`): the variable's slot and the reader
    /// of the key, for a caller that can use the graph's stored bytes (grouping).
    var slotProperty: (slot: Int, reader: any PropertyReader)? {
        guard let node = root as? SlotPropertyNode else { return nil }
        return (node.slot, node.reader)
    }

    private static func compile(_ expression: Expression, _ context: ExecutionContext) -> CompiledNode {
        switch expression.kind {
        case .literal(let literal):
            return ConstantNode(Value(literal))
        case .variable where expression.slot >= 0:
            return SlotNode(expression.slot)
        case .property(let base, let key):
            // A variable's property (`n.name`), the usual case, reads the slot directly.
            if case .variable = base.kind, base.slot >= 0 {
                return SlotPropertyNode(slot: base.slot, key: key, context)
            }
            return PropertyNode(base: compile(base, context), key: key, context)
        case .binary(let op, let lhs, let rhs) where op != .and && op != .or && op != .xor && op != .regex:
            let (left, right) = (compile(lhs, context), compile(rhs, context))
            // `n.key op constant` (or `constant op n.key`): decided on the stored value.
            if let property = left as? SlotPropertyNode, let constant = constant(rhs, context),
                let comparison = ConstantComparison(op, constant)
            {
                return PropertyComparisonNode(property, comparison)
            }
            if let property = right as? SlotPropertyNode, let constant = constant(lhs, context),
                let comparison = ConstantComparison(op, constant)
            {
                return PropertyComparisonNode(property, comparison.flipped)
            }
            return BinaryNode(op, left, right)
        default:
            return InterpretedNode(expression, context)
        }
    }

    /// The value of a literal or of a parameter the query was given; `nil` for anything else.
    private static func constant(_ expression: Expression, _ context: ExecutionContext) -> Value? {
        switch expression.kind {
        case .literal(let literal): Value(literal)
        case .parameter(let name): context.parameters[name]
        default: nil
        }
    }
}

/// One compiled subexpression.
class CompiledNode {
    func evaluate(_ row: Row) throws(CypherError) -> Value { .null }
}

private final class ConstantNode: CompiledNode {
    let value: Value
    init(_ value: Value) { self.value = value }
    override func evaluate(_ row: Row) throws(CypherError) -> Value { value }
}

private final class SlotNode: CompiledNode {
    let slot: Int
    init(_ slot: Int) { self.slot = slot }
    override func evaluate(_ row: Row) throws(CypherError) -> Value { slot < row.count ? row[slot] : .null }
}

/// `n.key` for a variable `n`: a property read through the graph's ``PropertyReader`` for `key`,
/// which the evaluator holds itself, so that the call retains nothing (reaching it through the
/// context would).
private final class SlotPropertyNode: CompiledNode {
    let slot: Int
    let reader: any PropertyReader
    unowned(unsafe) let context: ExecutionContext
    init(slot: Int, key: String, _ context: ExecutionContext) {
        self.slot = slot
        self.context = context
        reader = context.graph.propertyReader(key)
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value {
        guard slot < row.count else { return .null }
        do {
            switch row[slot] {
            case .node(let node): return try reader.node(node)
            case .relationship(let relationship): return try reader.relationship(relationship.id)
            case let other: return try context.property(reader.key, of: other)
            }
        } catch {
            throw ExecutionContext.graphError(error)
        }
    }
}

/// `n.key op constant`: decided by the graph's ``PropertyComparator``, on the stored value where it
/// can, with ``ExecutionContext/apply(_:_:_:)``'s results.
private final class PropertyComparisonNode: CompiledNode {
    let property: SlotPropertyNode
    let comparison: ConstantComparison
    let comparator: any PropertyComparator
    let slot: Int
    init(_ property: SlotPropertyNode, _ comparison: ConstantComparison) {
        self.property = property
        self.comparison = comparison
        comparator = property.reader.comparator(comparison)
        slot = property.slot
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value {
        guard slot < row.count else { return try comparison.apply(to: .null) }
        do {
            switch row[slot] {
            case .node(let node): return try comparator.node(node)
            case .relationship(let relationship): return try comparator.relationship(relationship.id)
            default: return try comparison.apply(to: property.evaluate(row))
            }
        } catch {
            throw ExecutionContext.graphError(error)
        }
    }
}

private final class PropertyNode: CompiledNode {
    let base: CompiledNode
    let key: String
    unowned(unsafe) let context: ExecutionContext
    init(base: CompiledNode, key: String, _ context: ExecutionContext) {
        self.base = base
        self.key = key
        self.context = context
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value { try context.property(key, of: try base.evaluate(row)) }
}

private final class BinaryNode: CompiledNode {
    let op: Expression.BinaryOperator
    let left: CompiledNode
    let right: CompiledNode
    init(_ op: Expression.BinaryOperator, _ left: CompiledNode, _ right: CompiledNode) {
        self.op = op
        self.left = left
        self.right = right
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value {
        try ExecutionContext.apply(op, try left.evaluate(row), try right.evaluate(row))
    }
}

private final class InterpretedNode: CompiledNode {
    let expression: Expression
    unowned(unsafe) let context: ExecutionContext
    init(_ expression: Expression, _ context: ExecutionContext) {
        self.expression = expression
        self.context = context
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value { try context.evaluate(expression, row) }
}
