import Synchronization

/// Bounds on what one query may do. Every limit, when hit, stops the query with its own
/// ``CypherError/Code``.
public struct CypherLimits: Sendable, Hashable {
    /// The most rows a query may return (`rowLimitExceeded`). Default: 1,000,000, far above any
    /// interactive use while keeping a runaway result well under a gigabyte.
    public var maxRows: Int
    /// The most hops a variable-length pattern may take. An unbounded `*` or `*2..` is capped at
    /// this depth; an explicit upper bound above it is refused (`depthLimitExceeded`). Default: 32:
    /// agent-memory graphs are small-world, so real paths are far shorter, while long chains (a
    /// conversation's `NEXT_MESSAGE` list) stay walkable; dense fan-out is bounded by the timeout.
    public var maxVariableLengthDepth: Int
    /// The longest a query may run, or `nil` for no limit (`timeout`). Default: 30 s, so that an
    /// accidental cartesian product in the REPL does not hang the session.
    public var timeout: Duration?

    /// Creates limits.
    public init(maxRows: Int = 1_000_000, maxVariableLengthDepth: Int = 32, timeout: Duration? = .seconds(30)) {
        self.maxRows = maxRows
        self.maxVariableLengthDepth = maxVariableLengthDepth
        self.timeout = timeout
    }
}

/// A flag a caller sets to stop a running query; the query then fails with `cancelled` at its next
/// check (at most a few thousand rows or expansion steps later).
public final class CypherCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates an unset flag.
    public init() {}

    /// Requests cancellation.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// A row while a query runs: one value per slot of the query's `SlotLayout`.
package typealias Row = [Value]

/// The row layout of one query: every variable name (including hidden ones) gets a fixed slot, so
/// that operators and expressions address values by index instead of hashing names.
final class SlotLayout {
    private(set) var slots: [String: Int] = [:]

    /// The slot of `name`, assigned on first use.
    func slot(_ name: String) -> Int {
        if let slot = slots[name] { return slot }
        let slot = slots.count
        slots[name] = slot
        return slot
    }

    /// The slot of `name` if it has one.
    func existingSlot(_ name: String) -> Int? { slots[name] }

    /// The number of slots.
    var width: Int { slots.count }

    /// A row with every slot null.
    func emptyRow() -> Row { Row(repeating: .null, count: width) }

    /// The expression with every variable bound to its slot.
    func resolve(_ expression: Expression) -> Expression {
        expression.rewritten { subexpression in
            guard case .variable(let name) = subexpression.kind else { return nil }
            var resolved = subexpression
            resolved.slot = slot(name)
            return resolved
        }
    }
}

/// What operators and expressions share while one query runs.
package final class ExecutionContext {
    let graph: any CypherGraph
    let parameters: [String: Value]
    let procedures: ProcedureRegistry
    let limits: CypherLimits
    let layout = SlotLayout()
    /// The executor running this query (for pattern predicates, which run a small plan per row).
    weak var executor: Executor?
    /// The plans of this query's pattern predicates, by pattern text.
    var patternPlans: [String: PlanNode] = [:]
    /// Their operator trees, built once and rewound per row.
    var patternOperators: [String: Operator] = [:]
    /// Compiled `=~` patterns of this query.
    var regexes: [String: Regex<AnyRegexOutput>] = [:]
    private let deadline: ContinuousClock.Instant?
    private let cancellation: CypherCancellation?
    private var ticks = 0

    init(
        graph: any CypherGraph, parameters: [String: Value], procedures: ProcedureRegistry, limits: CypherLimits,
        cancellation: CypherCancellation?
    ) {
        self.graph = graph
        self.parameters = parameters
        self.procedures = procedures
        self.limits = limits
        self.cancellation = cancellation
        deadline = limits.timeout.map { ContinuousClock.now.advanced(by: $0) }
    }

    /// Called for every unit of work; every 1024 calls checks the clock and the cancellation flag.
    @inline(__always)
    func tick() throws(CypherError) {
        ticks &+= 1
        if ticks & 1023 == 0 { try checkInterrupts() }
    }

    func checkInterrupts() throws(CypherError) {
        if let cancellation, cancellation.isCancelled {
            throw CypherError(.cancelled, "the query was cancelled")
        }
        if Task.isCancelled { throw CypherError(.cancelled, "the query's task was cancelled") }
        if let deadline, ContinuousClock.now > deadline {
            throw CypherError(.timeout, "the query ran longer than its time limit of \(limits.timeout!)")
        }
    }
}
