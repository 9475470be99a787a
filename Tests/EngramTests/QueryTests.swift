import Engram
import EngramTestSupport
import Testing

@Suite("Cypher over the stored graph")
struct QueryTests {
    static func people() throws -> TestEngramStore {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        try graph.createIndex(label: "Person", property: "name")
        for (id, name, age) in [("ada", "Ada", 36), ("bob", "Bob", 41), ("cy", "Cy", 29), ("di", "Di", 52)] {
            try graph.createNode(id: id, labels: ["Person"], properties: ["name": .string(name), "age": .int(Int64(age))])
        }
        try graph.createNode(id: "acme", labels: ["Organization"], properties: ["name": "Acme"])
        try graph.createRelationship(from: "ada", to: "bob", type: "KNOWS", properties: ["since": 2019])
        try graph.createRelationship(from: "bob", to: "cy", type: "KNOWS")
        try graph.createRelationship(from: "cy", to: "di", type: "KNOWS")
        try graph.createRelationship(from: "ada", to: "acme", type: "WORKS_AT")
        try graph.createRelationship(from: "di", to: "acme", type: "WORKS_AT")
        return fixture
    }

    @Test func matchFilterReturn() throws {
        let fixture = try Self.people()
        let result = try fixture.store.query("MATCH (p:Person) WHERE p.age > 35 RETURN p.name AS name ORDER BY name")
        #expect(result.columns == ["name"])
        #expect(result.rows == [[.string("Ada")], [.string("Bob")], [.string("Di")]])
    }

    @Test func expansionsAndAggregation() throws {
        let fixture = try Self.people()
        let store = fixture.store
        let friends = try store.query("MATCH (:Person {name: $name})-[:KNOWS]->(f) RETURN f.name", parameters: ["name": "Ada"])
        #expect(friends.rows == [[.string("Bob")]])
        let incoming = try store.query("MATCH (o:Organization)<-[:WORKS_AT]-(p) RETURN o.name, count(p) AS staff")
        #expect(incoming.rows == [[.string("Acme"), .integer(2)]])
        let chain = try store.query("MATCH (a {name: 'Ada'})-[:KNOWS*1..3]->(x) RETURN x.name ORDER BY x.name")
        #expect(chain.rows == [[.string("Bob")], [.string("Cy")], [.string("Di")]])
        let undirected = try store.query("MATCH (:Person {name: 'Bob'})-[r:KNOWS]-(x) RETURN x.name ORDER BY x.name")
        #expect(undirected.rows == [[.string("Ada")], [.string("Cy")]])
        let property = try store.query("MATCH (:Person {name: 'Ada'})-[r:KNOWS]->() RETURN r.since, type(r)")
        #expect(property.rows == [[.integer(2019), .string("KNOWS")]])
        let ids = try store.query("MATCH (p:Person) WHERE elementId(p) = 'cy' RETURN p.name")
        #expect(ids.rows == [[.string("Cy")]])
    }

    @Test func usesTheIndexAndExplains() throws {
        let fixture = try Self.people()
        let plan = try fixture.store.query("EXPLAIN MATCH (p:Person {name: 'Cy'}) RETURN p")
        #expect(plan.rows.isEmpty)
        #expect(plan.plan?.contains("Index") == true, "\(plan.plan ?? "")")
        let found = try fixture.store.query("MATCH (p:Person {name: 'Cy'}) RETURN p.age")
        #expect(found.rows == [[.integer(29)]])
    }

    @Test func writesAreRefusedAndTenantsAreSeparate() throws {
        let fixture = try Self.people()
        do {
            _ = try fixture.store.query("MATCH (p:Person) SET p.age = 1 RETURN p")
            Issue.record("a write was accepted")
        } catch let error as CypherError {
            #expect(error.code == .readOnlyQuery)
        }
        #expect(try fixture.store.query("MATCH (n) RETURN count(n)", tenant: "other").rows == [[.integer(0)]])
        #expect(try fixture.store.query("MATCH (n) RETURN count(n)").rows == [[.integer(5)]])
        do {
            _ = try fixture.store.query("MATCH (n RETURN n")
            Issue.record("a syntax error was accepted")
        } catch let error as CypherError {
            #expect(error.code == .syntaxError)
        }
    }

    @Test func fixturesBuildGraphsWithCreate() throws {
        let fixture = try TestEngramStore()
        try fixture.store._runFixture("CREATE (a:A {name: 'a'})-[:R {w: 1}]->(b:B {name: 'b'}), (a)-[:R]->(:C)")
        let result = try fixture.store.query("MATCH (a:A)-[r:R]->(x) RETURN labels(x)[0] AS label ORDER BY label")
        #expect(result.rows == [[.string("B")], [.string("C")]])
        #expect(try fixture.store._checkGraphInvariants() == [])
        do {
            try fixture.store._runFixture("CREATE (n RETURN n")
            Issue.record("a malformed fixture was accepted")
        } catch is CypherError {}
        #expect(try fixture.store.graph().statistics().nodes == 3)
    }
}
