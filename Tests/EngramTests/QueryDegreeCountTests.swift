import Engram
import EngramCore
import EngramTestSupport
import Foundation
import Testing

/// Counting over one hop from stored degrees gives what walking gives, on random graphs, and
/// falls back to walking where the graph hides expired neighbours.
@Suite("Cypher counts from stored degrees")
struct DegreeCountQueryTests {
    /// A seeded graph of `nodes` nodes and `relationships` relationships of types T, U and V, one
    /// in eight a self-loop; returns it with its model.
    static func randomGraph(seed: UInt64, nodes: Int = 20, relationships: Int = 120) throws -> (
        TestEngramStore, DegreeModel
    ) {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        var generator = SeededGenerator(seed: seed)
        var model = DegreeModel()
        for index in 0..<nodes { try graph.createNode(id: "n\(index)", labels: index % 2 == 0 ? ["A"] : ["A", "B"]) }
        for _ in 0..<relationships {
            let from = "n\(generator.next() % UInt64(nodes))"
            let to = generator.next() % 8 == 0 ? from : "n\(generator.next() % UInt64(nodes))"
            let type = ["T", "U", "V"][Int(generator.next() % 3)]
            let created = try graph.createRelationship(from: from, to: to, type: type)
            model.relationships[created.id] = .init(from: from, to: to, type: type)
        }
        return (fixture, model)
    }

    @Test(arguments: [UInt64(5), 6, 7])
    func countOverOneHopEqualsTheRows(seed: UInt64) throws {
        let (fixture, model) = try Self.randomGraph(seed: seed)
        let store = fixture.store
        try model.expectStoreAgrees(store, nodes: (0..<20).map { "n\($0)" })
        // Unanchored: every node is an input row, each answered by its degree.
        for direction in GraphDirection.allCases {
            for types in DegreeModel.typeLists {
                let pattern = DegreeModel.pattern(direction, types)
                let rows = try store.query("MATCH \(pattern) RETURN a").rows.count
                #expect(
                    try store.query("MATCH \(pattern) RETURN count(*)").rows == [[.integer(Int64(rows))]], "\(pattern)")
                let labelled = pattern.replacingOccurrences(of: "(a)", with: "(a:B)")
                let labelledRows = try store.query("MATCH \(labelled) RETURN a").rows.count
                #expect(
                    try store.query("MATCH \(labelled) RETURN count(r)").rows == [[.integer(Int64(labelledRows))]],
                    "\(labelled)")
            }
        }
    }

    /// With expired memories among the neighbours, a stored degree would count them: the count
    /// walks instead, and still equals the rows.
    @Test func expiredNeighboursAreNotCounted() throws {
        let (fixture, model) = try Self.randomGraph(seed: 9, nodes: 12, relationships: 60)
        let store = fixture.store
        let graph = store.graph()
        let now = Date()
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        // Memories m0…m3 get relationships to and from some of the others; m0 and m1 have expired.
        for index in 0..<4 {
            let expires: Int64 = index < 2 ? millis - 1_000 : millis + 3_600_000
            try graph.createNode(id: "m\(index)", labels: ["Memory"], properties: ["expires_at": .int(expires)])
            for other in 0..<12 where other % (index + 2) == 0 {
                try graph.createRelationship(from: "m\(index)", to: "n\(other)", type: "T")
                try graph.createRelationship(from: "n\(other)", to: "m\(index)", type: "U")
            }
        }
        #expect(try store._checkGraphInvariants() == [])
        var hidingSomething = false
        for index in 0..<12 {
            let node = "n\(index)"
            for direction in GraphDirection.allCases {
                for types in DegreeModel.typeLists {
                    let match = "MATCH \(DegreeModel.pattern(direction, types)) WHERE elementId(a) = $id RETURN "
                    let parameters: [String: PropertyValue] = ["id": .string(node)]
                    let rows = try store.query(match + "b", parameters: parameters, clock: { now }).rows.count
                    let counted = try store.query(match + "count(*)", parameters: parameters, clock: { now }).rows
                    #expect(counted == [[.integer(Int64(rows))]], "\(node) \(direction) \(types)")
                    // Without the memories, the model's count; the stored degree counts them too.
                    #expect(
                        rows == model.degree(of: node, direction: direction, types: types)
                            + visibleMemories(
                                of: index, direction: direction, types: types))
                    if try graph.degree(of: node, direction: direction, types: types) > rows { hidingSomething = true }
                }
            }
        }
        #expect(hidingSomething)
    }

    /// The relationships between `n\(index)` and the memories that have not expired (m2, m3).
    private func visibleMemories(of index: Int, direction: GraphDirection, types: [String]) -> Int {
        var count = 0
        for memory in 2..<4 where index % (memory + 2) == 0 {
            // n → m is a U, m → n a T.
            if direction != .incoming, types.isEmpty || types.contains("U") { count += 1 }
            if direction != .outgoing, types.isEmpty || types.contains("T") { count += 1 }
        }
        return count
    }

    /// A count over one hop reads the stored degree: one that does not decode fails the query with
    /// an error (never a trap), and one that is wrong gives a wrong count — which is why the
    /// invariant checker recounts them.
    @Test func theCountReadsTheStoredDegree() throws {
        let directory = try TemporaryDirectory(prefix: "engram-degrees")
        let (path, original) = try DegreeTests.smallStore(directory)
        let count = "MATCH (a)-[]->() WHERE elementId(a) = 'n0' RETURN count(*)"
        #expect(try EngramStore(path: path).query(count).rows == [[.integer(3)]])
        for value in DegreeTests.undecodableDegrees {
            try DegreeTests.withDegrees(path) { txn, degrees in
                try txn.put(value, forKey: DegreeTests.degreesKey(node: 1), in: degrees)
            }
            do {
                _ = try EngramStore(path: path).query(count)
                Issue.record("counted over the undecodable degree \(value)")
            } catch let error as CypherError {
                #expect(error.code == .graphReadFailed && error.message.contains("decoding_failed"), "\(value)")
            }
        }
        var wrong = original
        wrong[wrong.count - 1] += 1  // U × 2
        try DegreeTests.withDegrees(path) { txn, degrees in
            try txn.put(wrong, forKey: DegreeTests.degreesKey(node: 1), in: degrees)
        }
        #expect(try EngramStore(path: path).query(count).rows == [[.integer(4)]])
    }
}
