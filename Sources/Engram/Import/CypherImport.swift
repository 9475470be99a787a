import EngramCore
import EngramCypher
import EngramStorage

/// What ``EngramStore/importCypher(_:tenant:batchSize:progress:)`` did.
public struct CypherImportSummary: Sendable, Hashable {
    /// The statements run.
    public var statements: Int
    /// Nodes the statements created.
    public var nodesCreated: Int
    /// Relationships created, less those deleted.
    public var relationshipsCreated: Int
}

/// How far a Cypher import has got, reported after each transaction.
public struct CypherImportProgress: Sendable, Hashable {
    /// Statements committed so far.
    public var statementsDone: Int
    /// Statements in the script.
    public var statementsTotal: Int
}

extension EngramStore {
    /// Loads a Cypher script of `CREATE` statements, such as a dump written for Neo4j or the
    /// openCypher TCK's graphs, into `tenant`'s graph.
    ///
    /// ```swift
    /// let summary = try store.importCypher("""
    ///     CREATE (:Person {name: 'Ada'})-[:KNOWS {since: 1833}]->(:Person {name: 'Charles'});
    ///     MATCH (a:Person {name: 'Ada'}) CREATE (a)-[:WORKS_ON]->(:Project {name: 'Engine'});
    ///     """, tenant: "acme")
    /// print(summary.nodesCreated)  // 3
    /// ```
    ///
    /// Statements end with `;` (the last one may omit it) and are run in order; each may read
    /// with `MATCH`/`WHERE`/`WITH`/`UNWIND` and write with `CREATE`, and delete relationships with
    /// `DELETE`. Other writing clauses (`MERGE`, `SET`, `REMOVE`, deleting nodes) are refused.
    /// Every `batchSize` statements are one transaction: when a statement fails, its batch is rolled
    /// back and the batches before it stay committed (the error says how many statements those hold).
    ///
    /// - Parameters:
    ///   - script: the Cypher text.
    ///   - tenant: the tenant to load into.
    ///   - batchSize: statements per transaction (at least 1).
    ///   - progress: called after each committed batch.
    /// - Throws: ``CypherError`` for a statement that does not parse or run, with the line and column
    ///   in the script and a message naming the statement; ``EngramError`` with `invalidArgument` for a
    ///   batch size below 1, and for storage failures.
    @discardableResult
    public func importCypher(
        _ script: String, tenant: String = "default", batchSize: Int = 1000,
        progress: ((CypherImportProgress) -> Void)? = nil
    ) throws -> CypherImportSummary {
        guard batchSize >= 1 else {
            throw EngramError(.invalidArgument, "a batch size must be at least 1, not \(batchSize)")
        }
        let split = CypherScript.split(script)
        var statements = split.statements
        if !CypherScript.isBlank(split.remainder) {
            let lead = split.remainder.prefix { $0.isWhitespace }
            let line = 1 + script.count(of: "\n", before: script.count - split.remainder.count)
                + lead.count(where: { $0 == "\n" })
            statements.append(.init(text: String(split.remainder.dropFirst(lead.count)), line: line))
        }
        let before = try graph(tenant: tenant).statistics()
        var done = 0
        while done < statements.count {
            let batch = statements[done..<min(done + batchSize, statements.count)]
            try writeGraph(tenant: tenant) { session in
                for (offset, statement) in zip(batch.indices, batch) {
                    do {
                        try Self.runWriting(statement.text, in: session)
                    } catch var error as CypherError {
                        let number = offset + 1
                        if let line = error.line { error.line = line + statement.line - 1 } else { error.line = statement.line }
                        error.message = "statement \(number) of the script: \(error.message)"
                            + (done > 0 ? " (statements 1…\(done) were imported)" : " (nothing was imported)")
                        throw error
                    }
                }
            }
            done += batch.count
            progress?(CypherImportProgress(statementsDone: done, statementsTotal: statements.count))
        }
        let after = try graph(tenant: tenant).statistics()
        return CypherImportSummary(
            statements: statements.count, nodesCreated: after.nodes - before.nodes,
            relationshipsCreated: after.relationships - before.relationships)
    }
}

extension String {
    /// How many times `character` occurs among the first `limit` characters.
    fileprivate func count(of character: Character, before limit: Int) -> Int {
        prefix(limit).count(where: { $0 == character })
    }
}
