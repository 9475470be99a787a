@_exported public import EngramCypher
import EngramCore
import EngramStorage

extension EngramStore {
    /// Runs a read-only Cypher query on `tenant`'s graph, in one read transaction.
    ///
    /// ```swift
    /// let result = try store.query(
    ///     "MATCH (p:Person {name: $name})-[:WORKS_AT]->(o) RETURN o.name AS employer",
    ///     parameters: ["name": "Ada"])
    /// for row in result.rows { print(row) }
    /// ```
    ///
    /// The query sees one consistent snapshot and only this tenant's nodes and relationships.
    /// Writing clauses (`CREATE`, `MERGE`, `SET`, `DELETE`, `REMOVE`, `FOREACH`, `LOAD CSV`) are
    /// refused with `readOnlyQuery` before anything runs. `EXPLAIN` returns the plan; `PROFILE`
    /// the rows and the plan with rows and time per operator.
    ///
    /// - Parameters:
    ///   - text: the Cypher query (see `docs/cypher.md` for the subset).
    ///   - parameters: values for `$name` parameters.
    ///   - tenant: the tenant whose graph the query reads.
    ///   - limits: row, depth and time limits.
    ///   - cancellation: a flag another thread may set to stop the query.
    /// - Throws: ``CypherError`` for syntax, semantic, read-only, limit and runtime errors (with
    ///   line and column for syntax errors); ``EngramError`` for storage failures.
    public func query(
        _ text: String, parameters: [String: PropertyValue] = [:], tenant: String = "default",
        limits: CypherLimits = CypherLimits(), cancellation: CypherCancellation? = nil
    ) throws -> CypherResult {
        var procedures = VectorProcedures.registry(try vectorRegistry)
        procedures.register(FullTextProcedures.queryNodes)
        return try readGraph(tenant: tenant) { session in
            let graph = StoreCypherGraph(session: session)
            let engine = CypherEngine(graph: graph, procedures: procedures, limits: limits)
            let result: CypherResult
            do {
                result = try engine.execute(text, parameters: parameters, cancellation: cancellation)
            } catch {
                throw graph.failure ?? error
            }
            if let failure = graph.failure { throw failure }
            return result
        }
    }
}
