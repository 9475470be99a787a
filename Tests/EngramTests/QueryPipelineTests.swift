import Engram
import EngramTestSupport
import Testing

/// Aggregations run their scan–expand–filter chain as a push pipeline; `PROFILE` runs the same
/// plan with the pull operators. Both must give the same rows, in the same order (so that even
/// `collect` agrees), over a seeded random graph of the store.
@Suite("Cypher: push pipelines agree with pull operators")
struct QueryPipelineTests {
    static func randomGraph() throws -> TestEngramStore {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        var generator = SeededGenerator(seed: 2026)
        let kinds = ["red", "green", "blue"]
        for index in 0..<60 {
            var properties: [String: PropertyValue] = ["kind": .string(kinds[Int(generator.next() % 3)])]
            if generator.next() % 4 != 0 { properties["x"] = .int(Int64(generator.next() % 10)) }
            try graph.createNode(id: "n\(index)", labels: index % 5 == 0 ? ["L", "M"] : ["L"], properties: properties)
        }
        for _ in 0..<400 {
            let from = Int(generator.next() % 60)
            let to = Int(generator.next() % 60)
            var properties: [String: PropertyValue] = [:]
            switch generator.next() % 4 {
            case 0: break
            case 1: properties["w"] = .int(Int64(generator.next() % 3))
            default: properties["w"] = .double(Double(generator.next() % 4) / 4)
            }
            try graph.createRelationship(
                from: "n\(from)", to: "n\(to)", type: ["T", "U"][Int(generator.next() % 2)], properties: properties)
        }
        return fixture
    }

    static let queries = [
        "MATCH (a:L)-[r]->(b) WHERE a.x > 3 AND r.w > 0.3 RETURN b.kind, count(*), sum(r.w), min(a.x), collect(r.w)",
        "MATCH (a:M)-[r1:T]->(b)-[r2]->(c) WHERE r1.w < r2.w RETURN a.kind, c.kind, count(*), avg(r2.w)",
        "MATCH (a:L)-[r]-(b:M) RETURN a.kind, count(r), count(DISTINCT b)",
        "MATCH (a)-[r]->(b), (b)-[s]->(a) RETURN a.kind, count(*)",
        "MATCH (a)-[r:T {w: 0.5}]->(b) RETURN b.kind, count(*)",
        "MATCH (a:L)-[r:U]->(b) WITH b, count(*) AS c MATCH (b)-[s]->(d) WHERE s.w IS NULL RETURN c, count(*)",
        "MATCH (a:Missing)-[r]->(b) RETURN count(*), sum(r.w)",
        "MATCH (a) WHERE a.x = 2 MATCH (a)<-[r]-(b) RETURN type(r), collect(b.kind), max(r.w)",
        "MATCH (a:L)-[r*1..2]->(b) WHERE b.x > 8 RETURN a.kind, count(*)",
    ]

    @Test(arguments: queries)
    func sameRows(_ query: String) throws {
        let fixture = try Self.randomGraph()
        let pushed = try fixture.store.query(query)
        let pulled = try fixture.store.query("PROFILE " + query)
        #expect(pushed.columns == pulled.columns)
        #expect(pushed.rows == pulled.rows)
        #expect(query.contains("Missing") || !pushed.rows.isEmpty)
    }

    @Test func relationshipPropertiesFollowUpdates() throws {
        let fixture = try Self.randomGraph()
        let graph = fixture.store.graph()
        try graph.createRelationship(id: "r-new", from: "n1", to: "n2", type: "V", properties: ["w": 1.5])
        let query = "MATCH (a)-[r:V]->(b) RETURN r.w, sum(r.w)"
        #expect(try fixture.store.query(query).rows == [[.float(1.5), .float(1.5)]])
        try graph.updateRelationship(id: "r-new", setting: ["w": 2.5])
        #expect(try fixture.store.query(query).rows == [[.float(2.5), .float(2.5)]])
        try graph.updateRelationship(id: "r-new", removing: ["w"])
        #expect(try fixture.store.query(query).rows == [[.null, .integer(0)]])
        #expect(try fixture.store._checkGraphInvariants() == [])
    }
}
