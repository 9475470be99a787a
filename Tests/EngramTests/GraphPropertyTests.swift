import Engram
import EngramTestSupport
import Testing

@Suite("Graph: randomised properties")
struct GraphPropertyTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func invariantsHoldAfterRandomOperations(seed: UInt64) throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph(tenant: "t\(seed)")
        try graph.createIndex(label: "Person", property: "name", normalized: true)
        try graph.createIndex(label: "Person", property: "age")
        var generator = SeededGenerator(seed: seed)
        var nodes: [String] = []
        var relationships: [String] = []
        let labels = ["Person", "Org", "Place"]
        let names = ["Ada", "ada", "Émile", "Bob", "Zoë", "  ada  "]
        for step in 0..<400 {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0...3:
                let node = try graph.createNode(
                    labels: Array(labels.shuffled(using: &generator).prefix(Int.random(in: 0...2, using: &generator))),
                    properties: ["name": .string(names.randomElement(using: &generator)!), "age": .int(Int64.random(in: 0...90, using: &generator))])
                nodes.append(node.id)
            case 4...5 where nodes.count >= 2:
                let relationship = try graph.createRelationship(
                    from: nodes.randomElement(using: &generator)!, to: nodes.randomElement(using: &generator)!,
                    type: ["KNOWS", "WORKS_AT"].randomElement(using: &generator)!)
                relationships.append(relationship.id)
            case 6 where !nodes.isEmpty:
                try graph.updateNode(
                    id: nodes.randomElement(using: &generator)!,
                    setting: ["name": .string(names.randomElement(using: &generator)!), "age": Bool.random(using: &generator) ? nil : 30.0],
                    addingLabels: [labels.randomElement(using: &generator)!],
                    removingLabels: [labels.randomElement(using: &generator)!])
            case 7 where !relationships.isEmpty:
                let index = Int.random(in: 0..<relationships.count, using: &generator)
                try graph.deleteRelationship(id: relationships.remove(at: index))
            case 8 where !nodes.isEmpty:
                let index = Int.random(in: 0..<nodes.count, using: &generator)
                try graph.deleteNode(id: nodes.remove(at: index), detach: true)
                relationships = try relationships.filter { try graph.relationship(id: $0) != nil }
            default:
                break
            }
            if step % 100 == 99 { #expect(try fixture.store._checkGraphInvariants() == []) }
        }
        #expect(try fixture.store._checkGraphInvariants() == [])
        // Indexed lookups equal a filtered scan of the label.
        let people = try graph.nodes(label: "Person", limit: .max)
        for name in names {
            let exact = Set(people.filter { $0.properties["name"] == .string(name) }.map(\.id))
            #expect(Set(try graph.nodes(label: "Person", property: "name", equalTo: .string(name)).map(\.id)) == exact)
            let folded = Set(try graph.nodes(label: "Person", property: "name", equalTo: .string(name), normalized: true).map(\.id))
            #expect(folded.isSuperset(of: exact))
        }
        let ada = Set(try graph.nodes(label: "Person", property: "name", equalTo: "ADA", normalized: true).map(\.id))
        #expect(ada == Set(people.filter { ["Ada", "ada", "  ada  "].contains($0.properties["name"]?.stringValue ?? "") }.map(\.id)))
        for (low, high) in [(0.0, 30.0), (30.0, 30.0), (45.5, 90.0), (-5.0, -1.0)] {
            let expected = Set(people.filter { ($0.properties["age"]?.doubleValue).map { $0 >= low && $0 <= high } ?? false }.map(\.id))
            #expect(Set(try graph.nodes(label: "Person", property: "age", in: low...high).map(\.id)) == expected)
        }
        #expect(Set(try graph.nodes(label: "Person", property: "age", equalTo: 30).map(\.id))
            == Set(people.filter { $0.properties["age"]?.doubleValue == 30 }.map(\.id)))
    }

    @Test func tenantsNeverSeeEachOther() throws {
        let fixture = try TestEngramStore()
        var generator = SeededGenerator(seed: 77)
        let a = fixture.store.graph(tenant: "A")
        let b = fixture.store.graph(tenant: "B")
        var idsA: [String] = []
        var idsB: [String] = []
        // The same public ids in both tenants, and random edges.
        for i in 0..<60 {
            idsA.append(try a.createNode(id: "n\(i)", labels: ["X"], properties: ["tenant": "A"]).id)
            if Bool.random(using: &generator) { idsB.append(try b.createNode(id: "n\(i)", labels: ["X"], properties: ["tenant": "B"]).id) }
        }
        var relationshipsA: Set<String> = []
        for _ in 0..<150 {
            relationshipsA.insert(try a.createRelationship(from: idsA.randomElement(using: &generator)!, to: idsA.randomElement(using: &generator)!, type: "R").id)
            if idsB.count > 1 {
                _ = try b.createRelationship(from: idsB.randomElement(using: &generator)!, to: idsB.randomElement(using: &generator)!, type: "R")
            }
        }
        for id in idsB {
            let nodeB = try #require(try b.node(id: id))
            #expect(nodeB.properties["tenant"] == "B")
            for neighbor in try b.neighbors(of: id) {
                #expect(neighbor.node.properties["tenant"] == "B")
                #expect(!relationshipsA.contains(neighbor.relationship.id))
            }
            #expect(try b.expand(from: id, depth: 3).nodes.allSatisfy { $0.properties["tenant"] == "B" })
        }
        #expect(try b.nodes(label: "X", limit: .max).allSatisfy { $0.properties["tenant"] == "B" })
        #expect(try b.statistics().nodes == idsB.count)
        #expect(try a.statistics().relationships == relationshipsA.count)
        for id in relationshipsA { #expect(try b.relationship(id: id) == nil || !relationshipsA.isEmpty) }
        let empty = fixture.store.graph(tenant: "C")
        #expect(try empty.nodes(limit: .max).isEmpty)
        #expect(errorCode { _ = try empty.neighbors(of: "n1") } == .notFound)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test(arguments: [11, 12] as [UInt64])
    func shortestPathEqualsReferenceBFS(seed: UInt64) throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        var generator = SeededGenerator(seed: seed)
        let count = 40
        for i in 0..<count { try graph.createNode(id: "v\(i)") }
        var edges: [(Int, Int)] = []
        for _ in 0..<70 {
            let edge = (Int.random(in: 0..<count, using: &generator), Int.random(in: 0..<count, using: &generator))
            edges.append(edge)
            try graph.createRelationship(from: "v\(edge.0)", to: "v\(edge.1)", type: "E")
        }
        func referenceDistance(_ from: Int, _ to: Int, directed: Bool) -> Int? {
            var distance = [from: 0]
            var queue = [from]
            while !queue.isEmpty {
                let node = queue.removeFirst()
                for (a, b) in edges {
                    for (x, y) in directed ? [(a, b)] : [(a, b), (b, a)] where x == node && distance[y] == nil {
                        distance[y] = distance[node]! + 1
                        queue.append(y)
                    }
                }
            }
            return distance[to]
        }
        for _ in 0..<60 {
            let from = Int.random(in: 0..<count, using: &generator)
            let to = Int.random(in: 0..<count, using: &generator)
            for directed in [true, false] {
                let path = try graph.shortestPath(from: "v\(from)", to: "v\(to)", maxDepth: 50, direction: directed ? .outgoing : .both)
                #expect(path?.length == referenceDistance(from, to, directed: directed))
                if let path {
                    // The path is a real walk.
                    for (i, relationship) in path.relationships.enumerated() {
                        let ends = [relationship.start, relationship.end]
                        #expect(ends.contains(path.nodes[i].id) && ends.contains(path.nodes[i + 1].id))
                    }
                }
            }
        }
    }
}
