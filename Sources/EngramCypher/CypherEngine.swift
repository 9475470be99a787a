package import EngramCore

/// The result of a query: column names and rows of typed values.
///
/// `EXPLAIN` returns no rows and sets ``plan``; `PROFILE` returns the rows and sets ``plan`` to
/// the plan annotated with rows and time per operator.
public struct CypherResult: Sendable, Hashable {
    /// The column names, in order: each item's alias, or else its verbatim text.
    public var columns: [String]
    /// The rows; each has one value per column.
    public var rows: [[CypherValue]]
    /// The printed plan, for `EXPLAIN` and `PROFILE` queries.
    public var plan: String?

    /// Creates a result.
    public init(columns: [String], rows: [[CypherValue]], plan: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.plan = plan
    }

    /// The values of one column, top to bottom, or `nil` if there is no such column.
    ///
    /// ```swift
    /// let names = result.values(of: "name")?.compactMap(\.stringValue)
    /// ```
    public func values(of column: String) -> [CypherValue]? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows.map { $0[index] }
    }
}

/// Parses, checks, plans and runs read-only Cypher against a ``CypherGraph``.
///
/// ```swift
/// let engine = CypherEngine(graph: graph)
/// let result = try engine.execute("MATCH (p:Person {name: $name})-[:KNOWS]->(f) RETURN f.name",
///                                 parameters: ["name": "Ada"])
/// ```
package struct CypherEngine {
    package var graph: any CypherGraph
    package var procedures: ProcedureRegistry
    package var limits: CypherLimits

    package init(
        graph: any CypherGraph, procedures: ProcedureRegistry = ProcedureRegistry(),
        limits: CypherLimits = CypherLimits()
    ) {
        self.graph = graph
        self.procedures = procedures
        self.limits = limits
    }

    /// The parsed statement and its logical plan, without running anything.
    package func prepare(_ query: String) throws(CypherError) -> (Statement, PlanNode, [String]) {
        let statement = try Parser.parse(query)
        var planner = Planner(graph: graph, procedures: procedures, limits: limits)
        let (plan, columns) = try planner.plan(statement)
        return (statement, plan, columns)
    }

    /// Runs a setup statement that may `CREATE` nodes and relationships and `DELETE`
    /// relationships, against a writable graph. For test fixtures only (the TCK's setup steps):
    /// Engram's query path never calls it, and ``execute(_:parameters:cancellation:)`` refuses
    /// every write.
    package func executeFixture(_ statement: String) throws(CypherError) {
        let parsed = try Parser.parse(statement, allowCreate: true)
        var planner = Planner(graph: graph, procedures: procedures, limits: limits, allowWrites: true)
        let (plan, _) = try planner.plan(parsed)
        let context = ExecutionContext(
            graph: graph, parameters: [:], procedures: procedures, limits: limits,
            cancellation: nil)
        do {
            let executor = Executor(context: context, profile: false)
            executor.register(plan)
            let root = try executor.build(plan)
            while try root.next() != nil {}
        } catch let error as CypherError {
            throw error
        } catch {
            throw CypherError(.graphReadFailed, "the fixture failed: \(error)")
        }
    }

    /// Prepares a query and returns a cursor that produces its rows one at a time, pulling them
    /// through the plan on demand: a `LIMIT` query without `ORDER BY` reads only as much of the
    /// graph as it needs, and memory stays bounded by the operators that must buffer (sort,
    /// aggregation, distinct).
    ///
    /// The cursor reads `graph` as it goes, so it must be drained (or dropped) while the graph's
    /// snapshot (read transaction) is still open.
    /// - Throws: ``CypherError`` for syntax, semantic and read-only errors, before any row is read.
    package func cursor(
        _ query: String, parameters: [String: PropertyValue] = [:],
        cancellation: CypherCancellation? = nil
    ) throws(CypherError) -> CypherCursor {
        let (statement, plan, columns) = try prepare(query)
        let context = ExecutionContext(
            graph: graph, parameters: parameters.mapValues(Value.init),
            procedures: procedures, limits: limits, cancellation: cancellation)
        return try CypherCursor(statement: statement, plan: plan, columns: columns, context: context)
    }

    /// Runs a query and collects its rows.
    /// - Parameters:
    ///   - query: the Cypher text.
    ///   - parameters: values for `$name` parameters.
    ///   - cancellation: a flag the caller may set to stop the query.
    /// - Returns: the columns and rows (nothing for `EXPLAIN`; for `PROFILE`, the rows and the
    ///   plan annotated with rows and time per operator).
    /// - Throws: ``CypherError``.
    package func execute(
        _ query: String, parameters: [String: PropertyValue] = [:],
        cancellation: CypherCancellation? = nil
    ) throws(CypherError) -> CypherResult {
        let cursor = try cursor(query, parameters: parameters, cancellation: cancellation)
        var rows: [[CypherValue]] = []
        while let row = try cursor.next() { rows.append(row) }
        return CypherResult(columns: cursor.columns, rows: rows, plan: cursor.planDescription)
    }
}

/// The rows of a running query, produced on demand. Obtained from
/// ``CypherEngine/cursor(_:parameters:cancellation:)``.
package final class CypherCursor {
    /// The column names.
    package let columns: [String]
    private let statement: Statement
    private let plan: PlanNode
    private let context: ExecutionContext
    private let executor: Executor
    private var root: Operator?
    private var produced = 0
    private let columnSlots: [Int]
    private var graph: any CypherGraph { context.graph }

    init(statement: Statement, plan: PlanNode, columns: [String], context: ExecutionContext) throws(CypherError) {
        self.statement = statement
        self.plan = plan
        self.columns = columns
        self.context = context
        executor = Executor(context: context, profile: statement.mode == .profile)
        executor.register(plan)
        columnSlots = columns.map { context.layout.slot($0) }
        if statement.mode != .explain {
            do {
                root = try executor.build(plan)
            } catch let error as CypherError {
                throw error
            } catch {
                throw CypherError(.graphReadFailed, "reading the graph failed: \(error)")
            }
            try context.checkInterrupts()
        }
    }

    /// The next row, or `nil` when the query is done.
    /// - Throws: ``CypherError`` — a run-time type or arithmetic error, or a limit.
    package func next() throws(CypherError) -> [CypherValue]? {
        guard let root else { return nil }
        do {
            guard let row = try root.next() else {
                self.root = nil
                return nil
            }
            produced += 1
            if produced > context.limits.maxRows {
                throw CypherError(.rowLimitExceeded, "the query returned more than \(context.limits.maxRows) rows")
            }
            var values: [CypherValue] = []
            values.reserveCapacity(columns.count)
            for slot in columnSlots { values.append(try materialize(row[slot], context)) }
            return values
        } catch let error as CypherError {
            throw error
        } catch {
            throw CypherError(.graphReadFailed, "reading the graph failed: \(error)")
        }
    }

    /// The plan for `EXPLAIN`, or the plan with rows and time per operator for `PROFILE` (complete
    /// once the cursor is drained); `nil` for plain queries.
    package var planDescription: String? {
        switch statement.mode {
        case .run: return nil
        case .explain: return plan.description
        case .profile:
            var lines: [String] = []
            plan.render(into: &lines, indent: 0) { node in
                let stats = executor.statistics(for: node)
                return " {rows: \(stats.rows), time: \(Self.format(stats.time))}"
            }
            return lines.joined(separator: "\n")
        }
    }

    private static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = Double(seconds) * 1e6 + Double(attoseconds) / 1e12
        return micros >= 1000 ? "\((micros / 10).rounded() / 100) ms" : "\((micros * 10).rounded() / 10) µs"
    }

    private func materialize(_ value: Value, _ context: ExecutionContext) throws(CypherError) -> CypherValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .boolean(b)
        case .int(let i): return .integer(i)
        case .double(let d): return .float(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .vector(let v): return .list(v.map { .float(Double($0)) })
        case .list(let items):
            var values: [CypherValue] = []
            for item in items { values.append(try materialize(item, context)) }
            return .list(values)
        case .map(let entries):
            var values: [String: CypherValue] = [:]
            for (key, item) in entries { values[key] = try materialize(item, context) }
            return .map(values)
        case .node(let id): return .node(try node(id, context))
        case .relationship(let record): return .relationship(try relationship(record, context))
        case .path(let path):
            var nodes: [CypherNode] = []
            for id in path.nodes { nodes.append(try node(id, context)) }
            var relationships: [CypherRelationship] = []
            for record in path.relationships { relationships.append(try relationship(record, context)) }
            return .path(CypherPath(nodes: nodes, relationships: relationships))
        }
    }

    private func node(_ id: NodeID, _ context: ExecutionContext) throws(CypherError) -> CypherNode {
        try context.graphCall {
            let snapshot = try graph.nodeSnapshot(id)
            return CypherNode(id: snapshot.publicID, labels: snapshot.labels, properties: snapshot.properties)
        }
    }

    private func relationship(_ record: RelationshipRecord, _ context: ExecutionContext) throws(CypherError)
        -> CypherRelationship
    {
        try context.graphCall {
            CypherRelationship(
                id: try graph.publicID(ofRelationship: record.id), type: record.type,
                start: try graph.publicID(ofNode: record.start), end: try graph.publicID(ofNode: record.end),
                properties: try graph.properties(ofRelationship: record.id))
        }
    }
}
