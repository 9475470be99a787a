import EngramCore

/// A pull-based physical operator: `next()` returns the next row, or `nil` when exhausted.
class Operator {
    func next() throws -> Row? { nil }

    /// Rewinds the operator (and its inputs) to run again from `argument`, the new row of the
    /// enclosing `OPTIONAL MATCH` or pattern predicate. Reusing the tree avoids rebuilding it per
    /// row.
    func reset(_ argument: Row) throws {}
}

/// Emits one row (empty, or the argument row of an `OPTIONAL MATCH`).
final class SingleRowOperator: Operator {
    private var row: Row?
    private let original: Row
    private let isArgument: Bool
    init(_ row: Row, isArgument: Bool = false) {
        self.row = row
        original = row
        self.isArgument = isArgument
    }
    override func reset(_ argument: Row) throws { row = isArgument ? argument : original }
    override func next() throws -> Row? {
        defer { row = nil }
        return row
    }
}

/// For each input row, emits the rows of a lazily produced sequence.
final class FlatMapOperator: Operator {
    typealias Producer = (Row) throws -> (() throws -> Row?)?
    private let input: Operator
    private let produce: Producer
    private var current: (() throws -> Row?)?
    private let context: ExecutionContext

    init(_ input: Operator, _ context: ExecutionContext, _ produce: @escaping Producer) {
        self.input = input
        self.produce = produce
        self.context = context
    }

    override func reset(_ argument: Row) throws {
        current = nil
        try input.reset(argument)
    }

    override func next() throws -> Row? {
        while true {
            try context.tick()
            if let current, let row = try current() { return row }
            guard let row = try input.next() else { return nil }
            current = try produce(row)
        }
    }
}

final class FilterOperator: Operator {
    private let input: Operator
    private let predicate: CompiledExpression
    private let context: ExecutionContext

    init(_ input: Operator, _ predicate: Expression, _ context: ExecutionContext) {
        self.input = input
        self.predicate = CompiledExpression(predicate, context)
        self.context = context
    }

    override func reset(_ argument: Row) throws { try input.reset(argument) }

    override func next() throws -> Row? {
        while let row = try input.next() {
            try context.tick()
            if try predicate.isTrue(row) { return row }
        }
        return nil
    }
}

final class MapOperator: Operator {
    private let input: Operator
    private let transform: (Row) throws -> Row

    init(_ input: Operator, _ transform: @escaping (Row) throws -> Row) {
        self.input = input
        self.transform = transform
    }

    override func reset(_ argument: Row) throws { try input.reset(argument) }

    override func next() throws -> Row? {
        guard let row = try input.next() else { return nil }
        return try transform(row)
    }
}

final class OptionalOperator: Operator {
    private let input: Operator
    private let inner: (Row) throws -> Operator
    private let introduced: [Int]
    private var current: Operator?
    private var built: Operator?
    private var currentRow: Row?
    private var producedAny = false

    init(_ input: Operator, introduced: [Int], inner: @escaping (Row) throws -> Operator) {
        self.input = input
        self.inner = inner
        self.introduced = introduced
    }

    override func reset(_ argument: Row) throws {
        current = nil
        currentRow = nil
        producedAny = false
        try input.reset(argument)
    }

    override func next() throws -> Row? {
        while true {
            if let current, let row = try current.next() {
                producedAny = true
                return row
            }
            if let currentRow, !producedAny {
                self.currentRow = nil
                var row = currentRow
                for slot in introduced { row[slot] = .null }
                current = nil
                return row
            }
            guard let row = try input.next() else { return nil }
            currentRow = row
            producedAny = false
            if let built {
                try built.reset(row)
            } else {
                built = try inner(row)
            }
            current = built
        }
    }
}

final class SkipOperator: Operator {
    private let input: Operator
    private var remaining: Int
    private let count: Int
    init(_ input: Operator, _ count: Int) {
        self.input = input
        remaining = count
        self.count = count
    }
    override func reset(_ argument: Row) throws {
        remaining = count
        try input.reset(argument)
    }
    override func next() throws -> Row? {
        while remaining > 0 {
            guard try input.next() != nil else { return nil }
            remaining -= 1
        }
        return try input.next()
    }
}

/// Stops pulling from its input once `count` rows are out, so that upstream scans stop early.
final class LimitOperator: Operator {
    private let input: Operator
    private var remaining: Int
    private let count: Int
    init(_ input: Operator, _ count: Int) {
        self.input = input
        remaining = count
        self.count = count
    }
    override func reset(_ argument: Row) throws {
        remaining = count
        try input.reset(argument)
    }
    override func next() throws -> Row? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        return try input.next()
    }
}

/// Materialises its input once (sort, aggregation, distinct-with-order), then streams the result.
final class BufferOperator: Operator {
    private let input: Operator
    private let produce: () throws -> [Row]
    private var produced = false
    private var rows: [Row] = []
    private var index = 0
    /// - Parameters:
    ///   - input: the operator `produce` drains (reset with this one).
    ///   - produce: reads `input` to the end and returns the rows to emit.
    init(_ input: Operator, _ produce: @escaping () throws -> [Row]) {
        self.input = input
        self.produce = produce
    }
    override func reset(_ argument: Row) throws {
        produced = false
        rows = []
        index = 0
        try input.reset(argument)
    }
    override func next() throws -> Row? {
        if !produced {
            rows = try produce()
            produced = true
        }
        guard index < rows.count else { return nil }
        defer { index += 1 }
        return rows[index]
    }
}

final class DistinctOperator: Operator {
    private let input: Operator
    private let columns: [Int]
    private var seen: Set<[Value]> = []
    init(_ input: Operator, _ columns: [Int]) {
        self.input = input
        self.columns = columns
    }
    override func reset(_ argument: Row) throws {
        seen = []
        try input.reset(argument)
    }
    override func next() throws -> Row? {
        while let row = try input.next() {
            let key = columns.map { row[$0].groupingKey }
            if seen.insert(key).inserted { return row }
        }
        return nil
    }
}

final class ConcatOperator: Operator {
    private let inputs: [Operator]
    private var index = 0
    init(_ inputs: [Operator]) { self.inputs = inputs }
    override func reset(_ argument: Row) throws {
        index = 0
        for input in inputs { try input.reset(argument) }
    }
    override func next() throws -> Row? {
        while index < inputs.count {
            if let row = try inputs[index].next() { return row }
            index += 1
        }
        return nil
    }
}

/// Counts rows and time for `PROFILE`.
final class ProfilingOperator: Operator {
    private let input: Operator
    let node: PlanNode
    var rows = 0
    var time: Duration = .zero
    init(_ input: Operator, _ node: PlanNode) {
        self.input = input
        self.node = node
    }
    override func reset(_ argument: Row) throws { try input.reset(argument) }
    override func next() throws -> Row? {
        let clock = ContinuousClock()
        let start = clock.now
        let row = try input.next()
        time += clock.now - start
        if row != nil { rows += 1 }
        return row
    }
}
