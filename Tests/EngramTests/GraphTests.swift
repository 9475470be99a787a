import Engram
import EngramTestSupport
import Testing

/// A fresh store in a temporary directory.
final class TestEngramStore {
    let directory: TemporaryDirectory
    let store: EngramStore

    init() throws {
        directory = try TemporaryDirectory(prefix: "engram-graph")
        store = try EngramStore(path: directory.appending("store"))
    }
}

func errorCode(_ body: () throws -> Void) -> EngramError.Code? {
    do {
        try body()
        return nil
    } catch let error as EngramError {
        return error.code
    } catch {
        return nil
    }
}

@Suite("Graph: nodes and relationships")
struct GraphCRUDTests {
    @Test func createReadUpdateDeleteNodes() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        let ada = try graph.createNode(id: "ada", labels: ["Person", "Person", "Scientist"], properties: ["name": "Ada", "born": 1815, "gone": nil])
        #expect(ada == GraphNode(id: "ada", labels: ["Person", "Scientist"], properties: ["name": "Ada", "born": 1815]))
        #expect(try graph.node(id: "ada") == ada)
        #expect(try graph.node(id: "nobody") == nil)

        let updated = try graph.updateNode(
            id: "ada", setting: ["born": nil, "field": "mathematics"], removing: ["name"], addingLabels: ["Writer"],
            removingLabels: ["Scientist", "Unknown"])
        #expect(updated.labels == ["Person", "Writer"])
        #expect(updated.properties == ["field": "mathematics"])
        #expect(try graph.node(id: "ada") == updated)

        #expect(errorCode { try graph.createNode(id: "ada") } == .alreadyExists)
        #expect(errorCode { try graph.updateNode(id: "nobody", setting: ["x": 1]) } == .notFound)
        #expect(errorCode { try graph.createNode(labels: [""]) } == .invalidName)
        try graph.deleteNode(id: "ada")
        #expect(try graph.node(id: "ada") == nil)
        #expect(errorCode { try graph.deleteNode(id: "ada") } == .notFound)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func generatedIDsAreUniqueAndSortByCreation() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        let ids = try (0..<50).map { _ in try graph.createNode(labels: ["Thing"]).id }
        #expect(Set(ids).count == 50)
        #expect(ids == ids.sorted())
        #expect(try graph.nodes(label: "Thing", limit: 100).map(\.id) == ids)
        #expect(try graph.nodes(label: "Thing", limit: 5, offset: 10).map(\.id) == Array(ids[10..<15]))
    }

    @Test func relationshipsAndDetachRules() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        try graph.createNode(id: "a")
        try graph.createNode(id: "b")
        let r = try graph.createRelationship(id: "r1", from: "a", to: "b", type: "KNOWS", properties: ["since": 2020])
        #expect(r == GraphRelationship(id: "r1", type: "KNOWS", start: "a", end: "b", properties: ["since": 2020]))
        #expect(try graph.relationship(id: "r1") == r)
        #expect(errorCode { try graph.createRelationship(from: "a", to: "zz", type: "KNOWS") } == .notFound)
        #expect(errorCode { try graph.createRelationship(id: "r1", from: "a", to: "b", type: "KNOWS") } == .alreadyExists)

        let changed = try graph.updateRelationship(id: "r1", setting: ["since": 2021, "weight": 0.5])
        #expect(changed.properties == ["since": 2021, "weight": 0.5])

        #expect(errorCode { try graph.deleteNode(id: "a") } == .nodeHasRelationships)
        #expect(try graph.node(id: "a") != nil)
        try graph.deleteNode(id: "a", detach: true)
        #expect(try graph.relationship(id: "r1") == nil)
        #expect(try graph.degree(of: "b") == 0)
        #expect(errorCode { try graph.deleteRelationship(id: "r1") } == .notFound)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func neighborsDegreeAndPairs() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        for id in ["a", "b", "c"] { try graph.createNode(id: id) }
        try graph.createRelationship(id: "ab", from: "a", to: "b", type: "KNOWS")
        try graph.createRelationship(id: "ab2", from: "a", to: "b", type: "WORKS_WITH")
        try graph.createRelationship(id: "ca", from: "c", to: "a", type: "KNOWS")
        try graph.createRelationship(id: "aa", from: "a", to: "a", type: "LIKES")
        #expect(try graph.degree(of: "a", direction: .outgoing) == 3)
        #expect(try graph.degree(of: "a", direction: .incoming) == 2)
        #expect(try graph.degree(of: "a") == 4)  // the self-loop once
        #expect(try graph.degree(of: "a", types: ["KNOWS"]) == 2)
        #expect(try graph.degree(of: "a", types: ["NOPE"]) == 0)
        let out = try graph.neighbors(of: "a", direction: .outgoing, types: ["KNOWS"])
        #expect(out.map(\.node.id) == ["b"] && out.map(\.relationship.id) == ["ab"])
        #expect(Set(try graph.neighbors(of: "a", direction: .incoming).map(\.relationship.id)) == ["ca", "aa"])
        #expect(try graph.neighbors(of: "a", limit: 2).count == 2)
        let light = try graph.relationships(of: "a", direction: .outgoing, types: ["KNOWS", "LIKES"])
        #expect(Set(light.map { "\($0.id):\($0.start)->\($0.end)" }) == ["ab:a->b", "aa:a->a"])
        #expect(Set(try graph.relationships(of: "a").map(\.id)) == Set(try graph.neighbors(of: "a").map(\.relationship.id)))
        #expect(Set(try graph.relationships(from: "a", to: "b").map(\.id)) == ["ab", "ab2"])
        #expect(try graph.relationships(from: "a", to: "b", types: ["WORKS_WITH"]).map(\.id) == ["ab2"])
        #expect(try graph.relationships(from: "b", to: "a").isEmpty)
        let stats = try graph.statistics()
        #expect(stats.nodes == 3 && stats.relationships == 4)
        #expect(stats.relationshipsByType == ["KNOWS": 2, "WORKS_WITH": 1, "LIKES": 1])
    }

    @Test func expandAndShortestPath() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        // a → b → c → d, and a → e → d
        for id in ["a", "b", "c", "d", "e", "far"] { try graph.createNode(id: id) }
        for (from, to) in [("a", "b"), ("b", "c"), ("c", "d"), ("a", "e"), ("e", "d")] {
            try graph.createRelationship(from: from, to: to, type: "NEXT")
        }
        let one = try graph.expand(from: "a", depth: 1)
        #expect(Set(one.nodes.map(\.id)) == ["a", "b", "e"] && one.relationships.count == 2)
        let two = try graph.expand(from: "a", depth: 2, direction: .outgoing)
        #expect(Set(two.nodes.map(\.id)) == ["a", "b", "e", "c", "d"])
        let path = try #require(try graph.shortestPath(from: "a", to: "d", direction: .outgoing))
        #expect(path.length == 2 && path.nodes.map(\.id) == ["a", "e", "d"])
        #expect(try graph.shortestPath(from: "d", to: "a", direction: .outgoing) == nil)
        #expect(try graph.shortestPath(from: "d", to: "a", direction: .both)?.length == 2)
        #expect(try graph.shortestPath(from: "a", to: "d", maxDepth: 1) == nil)
        #expect(try graph.shortestPath(from: "a", to: "far") == nil)
        #expect(try graph.shortestPath(from: "a", to: "a")?.length == 0)
    }

    @Test func reopenKeepsTheGraph() throws {
        let directory = try TemporaryDirectory(prefix: "engram-graph-reopen")
        do {
            let store = try EngramStore(path: directory.appending("s"))
            let graph = store.graph(tenant: "t1")
            try graph.createNode(id: "x", labels: ["L"], properties: ["p": "v"])
            try graph.createNode(id: "y")
            try graph.createRelationship(id: "xy", from: "x", to: "y", type: "T")
        }
        let store = try EngramStore(path: directory.appending("s"))
        let graph = store.graph(tenant: "t1")
        #expect(try graph.node(id: "x")?.properties == ["p": "v"])
        #expect(try graph.neighbors(of: "x").map(\.node.id) == ["y"])
        #expect(try store.graph(tenant: "other").node(id: "x") == nil)
    }
}

@Suite("Graph: tenants")
struct GraphTenantTests {
    @Test func droppingATenantRemovesAllOfItAndNothingElse() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        for tenant in ["a", "b"] {
            let graph = store.graph(tenant: tenant)
            try graph.createIndex(label: "P", property: "name", normalized: true)
            for i in 0..<30 { try graph.createNode(id: "n\(i)", labels: ["P"], properties: ["name": .string("N \(i)")]) }
            for i in 0..<29 { try graph.createRelationship(from: "n\(i)", to: "n\(i + 1)", type: "NEXT") }
        }
        let before = try store.query("MATCH (n)-[r]->(m) RETURN n.name, type(r), m.name ORDER BY n.name", tenant: "b")
        #expect(try store.tenants() == ["a", "b"])
        #expect(try store.dropTenant("a"))
        #expect(try !store.dropTenant("a"))
        #expect(try store.tenants() == ["b"])
        #expect(try store.graph(tenant: "a").statistics().nodes == 0)
        #expect(try store.graph(tenant: "a").node(id: "n1") == nil)
        #expect(try store.query("MATCH (n)-[r]->(m) RETURN n.name, type(r), m.name ORDER BY n.name", tenant: "b") == before)
        #expect(try store._checkGraphInvariants() == [])
        // The name can be used again, from scratch.
        try store.graph(tenant: "a").createNode(id: "fresh")
        #expect(try store.graph(tenant: "a").statistics().nodes == 1)
        #expect(try store._checkGraphInvariants() == [])
    }
}
