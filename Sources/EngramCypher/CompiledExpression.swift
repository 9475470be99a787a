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
            return BinaryNode(op, compile(lhs, context), compile(rhs, context))
        default:
            return InterpretedNode(expression, context)
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

/// `n.key` for a variable `n`: a property read straight from the graph, which the evaluator holds
/// itself, so that the call retains nothing (reaching it through the context would).
private final class SlotPropertyNode: CompiledNode {
    let slot: Int
    let key: String
    unowned(unsafe) let context: ExecutionContext
    let graph: any CypherGraph
    init(slot: Int, key: String, _ context: ExecutionContext) {
        self.slot = slot
        self.key = key
        self.context = context
        graph = context.graph
    }
    override func evaluate(_ row: Row) throws(CypherError) -> Value {
        guard slot < row.count else { return .null }
        let found: PropertyValue?
        switch row[slot] {
        case .node(let node):
            do { found = try graph.property(key, ofNode: node) } catch { throw ExecutionContext.graphError(error) }
        case .relationship(let relationship):
            do { found = try graph.property(key, ofRelationship: relationship.id) } catch {
                throw ExecutionContext.graphError(error)
            }
        case let other: return try context.property(key, of: other)
        }
        return found.map(Value.init) ?? .null
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
