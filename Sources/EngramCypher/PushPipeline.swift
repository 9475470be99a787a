/// Push-based execution of the scan–expand–filter chains under an aggregation.
///
/// The pull operators hand every row up through `next()`: per row and operator a virtual call, an
/// optional, a closure of the producing iterator and a reference to the row array. Under an
/// aggregation, which consumes every row anyway, the chain below it runs instead as a pipeline of
/// stages that *push* one row buffer down, in place: a scan writes its node into the buffer and
/// calls the next stage, an expansion loops over the adjacency and calls the next stage per
/// relationship, a filter calls it when the predicate holds, and the last stage adds the row to the
/// aggregation. No row is copied and no operator's `next()` runs per row, and an expansion walks the
/// adjacency with a reused ``NeighbourWalker`` rather than an iterator per node (the way HyPer and Neo4j's pipelined
/// runtime fuse operators between pipeline breakers).
///
/// The chain is the operators from the aggregation's input down to the first one that is not a
/// label or all-nodes scan, an expansion or a filter; that subtree runs as usual (pulled) and feeds
/// the pipeline. `PROFILE` keeps the pull operators, which count rows and time per operator.
///
/// A stage reads what it needs from the row before it loops and only writes its own slots, so the
/// stages further down may overwrite nothing it still reads.
class PushStage {
    /// Takes one row, and passes it (or rows made from it, in the same buffer) to the next stage.
    func push(_ row: inout Row) throws {}
}

extension Executor {
    /// Whether a plan operator runs as a push stage.
    private static func isFusable(_ op: PlanNode.Operator) -> Bool {
        switch op {
        case .filter, .expand, .labelScan, .allNodesScan: return true
        default: return false
        }
    }

    /// The pipeline running the chain from `node` down into `last`: the pulled operator that feeds
    /// it and its first stage. `nil` when there is no scan or expansion to fuse, or under `PROFILE`.
    func pushPipeline(_ node: PlanNode, argument: Row?, into last: PushStage) throws -> (source: Operator, first: PushStage)? {
        guard !profile else { return nil }
        var chain: [PlanNode] = []
        var current = node
        while Self.isFusable(current.op) {
            chain.append(current)
            current = current.children[0]
        }
        guard chain.contains(where: { if case .filter = $0.op { false } else { true } }) else { return nil }
        let source = try build(current, argument: argument)
        var next = last
        for plan in chain { next = try stage(plan, next) }
        return (source, next)
    }

    /// Pulls every row of `source` through the pipeline starting at `first`.
    func drive(_ source: Operator, _ first: PushStage) throws {
        while var row = try source.next() { try first.push(&row) }
    }

    private func stage(_ node: PlanNode, _ next: PushStage) throws -> PushStage {
        let layout = context.layout
        switch node.op {
        case .filter(let predicate):
            return FilterStage(CompiledExpression(layout.resolve(predicate), context), next)
        case .labelScan(let name, let label):
            return ScanStage(label: label, variable: layout.slot(name), context, next)
        case .allNodesScan(let name):
            return ScanStage(label: nil, variable: layout.slot(name), context, next)
        case .expand(
            let from, let relationship, let to, let direction, let types, let toBound, let relationshipBound,
            let properties, let excluded):
            return ExpandStage(
                from: layout.slot(from), relationship: layout.slot(relationship), to: layout.slot(to),
                walker: try context.graph.neighbourWalker(direction: direction, types: types), toBound: toBound,
                relationshipBound: relationshipBound, properties: properties.map(layout.resolve),
                excluded: excluded.map { (layout.slot($0.name), $0.isList) }, executor: self, next)
        default:
            preconditionFailure("\(node.name) is not a push stage")
        }
    }
}

/// Passes on the rows where the predicate is true.
final class FilterStage: PushStage {
    private let predicate: CompiledExpression
    private let next: PushStage

    init(_ predicate: CompiledExpression, _ next: PushStage) {
        self.predicate = predicate
        self.next = next
    }

    override func push(_ row: inout Row) throws {
        if try predicate.isTrue(row) { try next.push(&row) }
    }
}

/// Binds every node (with a label, when given) in turn.
final class ScanStage: PushStage {
    private let label: String?
    private let variable: Int
    private let context: ExecutionContext
    private let next: PushStage

    init(label: String?, variable: Int, _ context: ExecutionContext, _ next: PushStage) {
        self.label = label
        self.variable = variable
        self.context = context
        self.next = next
    }

    override func push(_ row: inout Row) throws {
        try context.graph.forEachNode(label: label) { node in
            try context.tick()
            row[variable] = .node(node)
            try next.push(&row)
        }
    }
}

/// One hop from a bound node: binds each matching relationship and its other end in turn, with
/// the checks of the pull expansion (a bound end or relationship, relationship uniqueness, a
/// property map).
final class ExpandStage: PushStage {
    private let from: Int
    private let relationship: Int
    private let to: Int
    private let walker: any NeighbourWalker
    private let toBound: Bool
    private let relationshipBound: Bool
    private let properties: Expression?
    private let excluded: [(Int, Bool)]
    private unowned let executor: Executor
    private let context: ExecutionContext
    private let next: PushStage

    init(
        from: Int, relationship: Int, to: Int, walker: any NeighbourWalker, toBound: Bool, relationshipBound: Bool,
        properties: Expression?, excluded: [(Int, Bool)], executor: Executor, _ next: PushStage
    ) {
        self.from = from
        self.relationship = relationship
        self.to = to
        self.walker = walker
        self.toBound = toBound
        self.relationshipBound = relationshipBound
        self.properties = properties
        self.excluded = excluded
        self.executor = executor
        context = executor.context
        self.next = next
    }

    override func push(_ row: inout Row) throws {
        guard case .node(let source) = row[from] else { return }
        var target: NodeID? = nil
        if toBound {
            guard case .node(let bound) = row[to] else { return }
            target = bound
        }
        var boundRelationship: RelationshipID? = nil
        if relationshipBound {
            guard case .relationship(let record) = row[relationship] else { return }
            boundRelationship = record.id
        }
        let used = excluded.isEmpty ? nil : executor.usedRelationships(row, excluded)
        let propertyMap = try properties.map { try context.evaluate($0, row) }
        try walker.forEachRelationship(of: source) { edge in
            try context.tick()
            if let boundRelationship, edge.id != boundRelationship { return }
            if let used, used.contains(edge.id) { return }
            let other = edge.otherEnd(from: source)
            if let target, other != target { return }
            if let propertyMap, !(try executor.matches(edge, propertyMap)) { return }
            try bind(&row, edge, other)
        }
    }

    private func bind(_ row: inout Row, _ edge: RelationshipRecord, _ other: NodeID) throws {
        row[relationship] = .relationship(edge)
        row[to] = .node(other)
        try next.push(&row)
    }
}

/// The last stage under an aggregation: adds each row to the groups.
final class AggregationStage: PushStage {
    let sink: AggregationSink

    init(_ sink: AggregationSink) { self.sink = sink }

    override func push(_ row: inout Row) throws { try sink.add(row) }
}
