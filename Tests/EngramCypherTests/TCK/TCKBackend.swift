import Engram
import EngramCore
import EngramCypher

/// Where the TCK runner builds each scenario's graph and runs its query.
protocol TCKBackend {
    /// A fresh, empty graph for one scenario.
    func makeGraph() throws -> any TCKGraph
}

/// One scenario's graph: setup statements (HARNESS.md §1: plain `CREATE`, and the few richer
/// setups `UNWIND … CREATE`, `MATCH … CREATE`, `DELETE`) run through the engine's fixture-only write
/// path; queries through the read-only query API.
protocol TCKGraph {
    func runFixture(_ statement: String) throws
    func query(_ text: String, parameters: [String: PropertyValue]) throws -> CypherResult
    /// Releases what the graph holds once the scenario is over.
    func discard()
}

/// Each scenario in a new ``InMemoryGraph``.
struct InMemoryTCKBackend: TCKBackend {
    struct Graph: TCKGraph {
        let graph = InMemoryGraph()
        func runFixture(_ statement: String) throws { try CypherEngine(graph: graph).executeFixture(statement) }
        func query(_ text: String, parameters: [String: PropertyValue]) throws -> CypherResult {
            try CypherEngine(graph: graph).execute(text, parameters: parameters)
        }
        func discard() {}
    }

    func makeGraph() throws -> any TCKGraph { Graph() }
}

/// Each scenario in a new tenant of one LMDB store, dropped afterwards: setup through
/// `EngramStore._runFixture`, queries through `EngramStore.query`.
final class StoreTCKBackend: TCKBackend {
    struct Graph: TCKGraph {
        let store: EngramStore
        let tenant: String
        func runFixture(_ statement: String) throws { try store._runFixture(statement, tenant: tenant) }
        func query(_ text: String, parameters: [String: PropertyValue]) throws -> CypherResult {
            try store.query(text, parameters: parameters, tenant: tenant)
        }
        func discard() { _ = try? store.dropTenant(tenant) }
    }

    let store: EngramStore
    private var scenarios = 0

    init(store: EngramStore) { self.store = store }

    func makeGraph() throws -> any TCKGraph {
        scenarios += 1
        return Graph(store: store, tenant: "scenario-\(scenarios)")
    }
}
