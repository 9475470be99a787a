import EngramCore
import EngramCypher

/// A small social graph used by the hand-written tests:
/// (ada:Person {name: 'Ada', age: 36}) -KNOWS {since: 2020}-> (bob:Person {name: 'Bob', age: 25})
/// (bob) -KNOWS-> (cy:Person {name: 'Cy'}), (ada) -WORKS_AT-> (acme:Company {name: 'Acme'})
/// plus a chain of 30 (:Step {index: i}) nodes joined by NEXT.
func makeTestGraph() -> InMemoryGraph {
    let graph = InMemoryGraph()
    let ada = graph.addNode(labels: ["Person"], properties: ["name": "Ada", "age": 36], publicID: "ada")
    let bob = graph.addNode(labels: ["Person"], properties: ["name": "Bob", "age": 25], publicID: "bob")
    let cy = graph.addNode(labels: ["Person"], properties: ["name": "Cy"], publicID: "cy")
    let acme = graph.addNode(labels: ["Company"], properties: ["name": "Acme"], publicID: "acme")
    graph.addRelationship(type: "KNOWS", from: ada, to: bob, properties: ["since": 2020], publicID: "k1")
    graph.addRelationship(type: "KNOWS", from: bob, to: cy, publicID: "k2")
    graph.addRelationship(type: "WORKS_AT", from: ada, to: acme, publicID: "w1")
    var previous: NodeID? = nil
    for index in 0..<30 {
        let step = graph.addNode(labels: ["Step"], properties: ["index": .int(Int64(index))], publicID: "s\(index)")
        if let previous { graph.addRelationship(type: "NEXT", from: previous, to: step) }
        previous = step
    }
    return graph
}

func run(
    _ query: String, _ parameters: [String: PropertyValue] = [:], graph: InMemoryGraph = makeTestGraph(),
    limits: CypherLimits = CypherLimits()
) throws(CypherError) -> CypherResult {
    try CypherEngine(graph: graph, limits: limits).execute(query, parameters: parameters)
}

func strings(_ result: CypherResult) -> [[String]] {
    result.rows.map { $0.map(\.description) }
}
