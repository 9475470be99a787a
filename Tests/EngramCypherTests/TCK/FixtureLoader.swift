import EngramCypher

/// Builds an in-memory graph from the TCK's setup statements (HARNESS.md §1): plain `CREATE`
/// clauses, and the few richer setups (`UNWIND … CREATE`, `MATCH … CREATE`, `DELETE`). They run
/// through ``CypherEngine/executeFixture(_:)``, the engine's fixture-only write path; the query API
/// itself stays read-only.
struct FixtureLoader {
    let graph: InMemoryGraph

    /// Runs one setup statement.
    func run(_ text: String) throws {
        try CypherEngine(graph: graph).executeFixture(text)
    }

    /// Runs a named-graph script: statements separated by `;`.
    func runScript(_ text: String) throws {
        for statement in text.split(separator: ";") where !String(statement).trimmingWhitespace().isEmpty {
            try run(String(statement))
        }
    }
}
