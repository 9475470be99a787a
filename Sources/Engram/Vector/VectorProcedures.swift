import EngramCore
import EngramCypher

/// The vector procedures Cypher queries over a store may call.
enum VectorProcedures {
    /// Neo4j's `db.index.vector.queryNodes(indexName, numberOfNearestNeighbours, query) YIELD node,
    /// score`: the nearest nodes of the query's tenant in a vector index, nearest first, searched
    /// in the query's read transaction.
    static func registry(_ vectors: VectorRegistry) -> ProcedureRegistry {
        ProcedureRegistry([
            CypherProcedure(
                name: "db.index.vector.queryNodes", parameters: ["indexName", "numberOfNearestNeighbours", "query"],
                outputs: ["node", "score"], nodeOutputs: ["node"]
            ) { arguments, graph in
                guard let graph = graph as? StoreCypherGraph else {
                    throw EngramError(.invalidArgument, "db.index.vector.queryNodes runs only on a store")
                }
                guard arguments.count == 3, case .string(let name) = arguments[0] else {
                    throw EngramError(
                        .invalidArgument, "db.index.vector.queryNodes(indexName, k, vector): indexName must be a string"
                    )
                }
                guard case .int(let k) = arguments[1], (1...65_536).contains(k) else {
                    throw EngramError(.invalidArgument, "db.index.vector.queryNodes: k must be an integer in 1...65536")
                }
                let query = try vector(arguments[2])
                let session = VectorSession(graph: graph.session, registry: vectors)
                // Expired records are invisible: their hits are dropped (fewer than k rows then).
                return try session.search(name, query: query, k: Int(k)).filter { try !graph.isHidden($0.node) }.map {
                    [.node($0.node), .double(Double($0.score))]
                }
            }
        ])
    }

    /// A query vector from a Cypher value: a list of numbers or a vector property.
    static func vector(_ value: Value) throws -> [Float] {
        switch value {
        case .vector(let components): return components
        case .list(let items):
            return try items.map { item in
                switch item {
                case .int(let x): return Float(x)
                case .double(let x): return Float(x)
                default:
                    throw EngramError(
                        .invalidArgument, "db.index.vector.queryNodes: the query vector must hold numbers only")
                }
            }
        default:
            throw EngramError(.invalidArgument, "db.index.vector.queryNodes: the query must be a list of numbers")
        }
    }
}
