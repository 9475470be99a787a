import EngramCore
import EngramCypher

/// The full-text procedures Cypher queries over a store may call.
enum FullTextProcedures {
    /// Neo4j's `db.index.fulltext.queryNodes(indexName, queryString) YIELD node, score`: every
    /// node of the query's tenant in the full-text group `indexName` (`memories`, `messages`,
    /// `entities` or `traces`) that holds a term of `queryString`, best BM25 score first, searched
    /// in the query's read transaction. The query string is free text, analyzed like the indexed
    /// text (Lucene's query syntax is not parsed); add `LIMIT` to keep the best few.
    static let queryNodes = CypherProcedure(
        name: "db.index.fulltext.queryNodes", parameters: ["indexName", "queryString"], outputs: ["node", "score"],
        nodeOutputs: ["node"]
    ) { arguments, graph in
        guard let graph = graph as? StoreCypherGraph else {
            throw EngramError(.invalidArgument, "db.index.fulltext.queryNodes runs only on a store")
        }
        guard arguments.count == 2, case .string(let name) = arguments[0] else {
            throw EngramError(
                .invalidArgument, "db.index.fulltext.queryNodes(indexName, queryString): indexName must be a string")
        }
        guard let group = FullTextGroup(name: name) else {
            let names = FullTextGroup.allCases.map { "'\($0.name)'" }.joined(separator: ", ")
            throw EngramError(
                .notFound, "db.index.fulltext.queryNodes: there is no full-text index '\(name)'; use one of \(names)")
        }
        guard case .string(let query) = arguments[1] else {
            throw EngramError(.invalidArgument, "db.index.fulltext.queryNodes: queryString must be a string")
        }
        return try graph.session.keywordSearch(query, group: group, limit: Int.max).map {
            [.node($0.node), .double($0.score)]
        }
    }
}
