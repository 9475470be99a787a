import EngramCore
import EngramCypher
import EngramTestSupport
import Foundation
import Testing

/// Executor overhead on a graph shaped like the bench's graph-100k-1m, in memory. Runs only when
/// `ENGRAM_CYPHER_PERF=1` (it takes a few seconds to build); prints median latencies.
@Test("Executor speed on a 100k-node, 1M-relationship in-memory graph")
func executorSpeed() throws {
    guard ProcessInfo.processInfo.environment["ENGRAM_CYPHER_PERF"] == "1" else { return }
    var generator = SeededGenerator(seed: 42)
    let graph = InMemoryGraph()
    let nodeCount = 100_000
    let types = ["PERSON", "ORGANIZATION", "LOCATION", "EVENT", "CONCEPT"]
    for index in 0..<nodeCount {
        graph.addNode(
            labels: ["Entity"],
            properties: [
                "id": .string("e\(index)"), "name": .string("name \(index)"),
                "type": .string(types[Int(generator.next() % UInt64(types.count))]),
            ], publicID: "e\(index)")
    }
    for _ in 0..<1_000_000 {
        let from = NodeID(generator.next() % UInt64(nodeCount))
        let to = NodeID(generator.next() % UInt64(nodeCount))
        graph.addRelationship(
            type: "RELATED", from: from, to: to,
            properties: ["weight": .double(Double(generator.next() % 1000) / 1000)])
    }
    graph.addIndex(label: "Entity", property: "id")
    let engine = CypherEngine(graph: graph)
    let queries: [(String, String)] = [
        ("point_lookup", "MATCH (e:Entity {id: $id}) RETURN e.name, e.type"),
        ("hop1_out", "MATCH (a:Entity {id: $id})-[r:RELATED]->(b:Entity) RETURN b.id, r.weight"),
        (
            "hop2_distinct_count",
            "MATCH (a:Entity {id: $id})-[:RELATED]->(:Entity)-[:RELATED]->(c:Entity) RETURN count(DISTINCT c)"
        ),
        ("varlen_1_3_count", "MATCH (a:Entity {id: $id})-[:RELATED*1..3]->(b:Entity) RETURN count(*)"),
        (
            "optional_count",
            "MATCH (a:Entity) OPTIONAL MATCH (a)-[:NOPE]->(b) WHERE b.type = 'PERSON' RETURN count(b)"
        ),
        (
            "agg_person_weight",
            "MATCH (a:Entity)-[r:RELATED]->(b:Entity) WHERE a.type = 'PERSON' AND r.weight > 0.5 RETURN b.type, count(*) ORDER BY count(*) DESC LIMIT 10"
        ),
    ]
    for (name, query) in queries {
        var times: [Double] = []
        let repeats = name == "agg_person_weight" || name == "optional_count" ? 3 : 50
        for index in 0..<repeats {
            let id = "e\((index * 7919) % nodeCount)"
            let start = ContinuousClock.now
            _ = try engine.execute(query, parameters: ["id": .string(id)])
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.sort()
        print("perf \(name): median \(times[times.count / 2]) ms")
    }
}
