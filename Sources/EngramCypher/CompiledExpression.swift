/// An expression turned once into a closure over rows, for the hot operators (filters, grouping
/// keys, projections): per row it skips matching the expression tree and retaining and releasing
/// its nodes. Variables, literals, property reads and comparisons are compiled; anything else runs
/// through ``ExecutionContext/evaluate(_:_:)``, so the results and errors are the same.
struct CompiledExpression {
    let evaluate: (Row) throws(CypherError) -> Value

    init(_ expression: Expression, _ context: ExecutionContext) {
        evaluate = Self.compile(expression, context)
    }

    private static func compile(_ expression: Expression, _ context: ExecutionContext)
        -> (Row) throws(CypherError) -> Value
    {
        switch expression.kind {
        case .literal(let literal):
            let value = Value(literal)
            return { _ in value }
        case .variable where expression.slot >= 0:
            let slot = expression.slot
            return { row in slot < row.count ? row[slot] : .null }
        case .property(let base, let key):
            let compiledBase = compile(base, context)
            return { [unowned(unsafe) context] row throws(CypherError) in try context.property(key, of: try compiledBase(row)) }
        case .binary(let op, let lhs, let rhs) where op != .and && op != .or && op != .xor && op != .regex:
            let left = compile(lhs, context)
            let right = compile(rhs, context)
            return { row throws(CypherError) in try ExecutionContext.apply(op, try left(row), try right(row)) }
        default:
            return { [unowned(unsafe) context] row throws(CypherError) in try context.evaluate(expression, row) }
        }
    }

    /// The value as a predicate (``ExecutionContext/truth(_:)``).
    func isTrue(_ row: Row) throws(CypherError) -> Bool {
        try ExecutionContext.truth(try evaluate(row))
    }
}
