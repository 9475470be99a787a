/// A read-only procedure callable with `CALL name(args) YIELD …`.
///
/// The facade registers Engram's procedures (such as `db.index.vector.queryNodes(indexName, k,
/// vector) YIELD node, score`); anything not registered is refused as a possible write.
package struct CypherProcedure: Sendable {
    /// The fully qualified name, matched case-insensitively.
    package var name: String
    /// The parameter names, in call order.
    package var parameters: [String]
    /// The output fields, in row order.
    package var outputs: [String]
    /// The outputs that hold nodes (so the binder can type them).
    package var nodeOutputs: Set<String>
    /// Runs the procedure: given the evaluated arguments and the graph, returns the output rows,
    /// each with one value per output field in `outputs` order.
    package var body: @Sendable (_ arguments: [Value], _ graph: any CypherGraph) throws -> [[Value]]

    package init(
        name: String, parameters: [String], outputs: [String], nodeOutputs: Set<String> = [],
        body: @escaping @Sendable (_ arguments: [Value], _ graph: any CypherGraph) throws -> [[Value]]
    ) {
        self.name = name
        self.parameters = parameters
        self.outputs = outputs
        self.nodeOutputs = nodeOutputs
        self.body = body
    }
}

/// The read-only procedures a query may call.
package struct ProcedureRegistry: Sendable {
    private var procedures: [String: CypherProcedure] = [:]

    package init(_ procedures: [CypherProcedure] = []) {
        for procedure in procedures { register(procedure) }
    }

    /// Adds or replaces a procedure.
    package mutating func register(_ procedure: CypherProcedure) {
        procedures[procedure.name.lowercased()] = procedure
    }

    /// The procedure with this name, if registered.
    package func procedure(named name: String) -> CypherProcedure? {
        procedures[name.lowercased()]
    }
}
