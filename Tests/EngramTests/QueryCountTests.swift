import Engram
import EngramTestSupport
import Testing

@Suite("Cypher counts over expansions")
struct QueryCountTests {
    /// A seeded graph with parallel relationships, self-loops and three types.
    static func randomGraph() throws -> TestEngramStore {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        var generator = SeededGenerator(seed: 0xC0FFEE)
        let nodes = 30
        for index in 0..<nodes {
            try graph.createNode(id: "n\(index)", labels: index % 3 == 0 ? ["A", "B"] : ["A"])
        }
        for _ in 0..<150 {
            let from = Int(generator.next() % UInt64(nodes))
            // One in ten is a self-loop.
            let to = generator.next() % 10 == 0 ? from : Int(generator.next() % UInt64(nodes))
            let type = ["T", "U", "V"][Int(generator.next() % 3)]
            try graph.createRelationship(from: "n\(from)", to: "n\(to)", type: type)
        }
        return fixture
    }

    /// Counting over expansions (answered from adjacency) agrees with the same patterns aggregated
    /// row by row (`sum(1)`, `size(collect(DISTINCT …))`), for every direction, with types,
    /// self-loops and relationship uniqueness along the chain.
    @Test(arguments: [
        "(a)-[]->(b)", "(a)<-[]-(b)", "(a)-[]-(b)", "(a)-[:T|U]-(b)", "(a)-[:NONE]->(b)", "(a:A)-[]->(b:A)",
        "(a)-[]->()-[]->(b)", "(a)-[]-()-[]-(b)", "(a)<-[:T]-()-[:U|T]-(b)", "(a)-[]-()-[]-()-[]-(b)",
        "(a)-[r1]-()-[r2]-(b)", "(a)-[*1..3]->(b)", "(a)-[*0..2]-(b)", "(a)<-[:T|U*2..3]-(b)", "(a)-[r*2]-(b)",
        "(a)-[*0]->(b)",
    ])
    func countsMatchRowByRowAggregation(pattern: String) throws {
        let fixture = try Self.randomGraph()
        let store = fixture.store
        func value(_ text: String, _ parameters: [String: PropertyValue] = [:]) throws -> CypherValue {
            let result = try store.query(text, parameters: parameters)
            try #require(result.rows.count == 1)
            return result.rows[0][0]
        }
        let all = try value("MATCH \(pattern) RETURN sum(1)")
        let chains = try value("MATCH \(pattern) RETURN count(*)")
        #expect(chains == (all == .null ? .integer(0) : all), "\(pattern)")
        #expect(try value("MATCH \(pattern) RETURN count(b)") == chains, "\(pattern)")
        #expect(
            try value("MATCH \(pattern) RETURN count(DISTINCT b)")
                == value("MATCH \(pattern) RETURN size(collect(DISTINCT b))"), "\(pattern)")
        for start in ["n0", "n3", "n7"] {
            let seeded = "MATCH \(pattern) WHERE elementId(a) = $id RETURN "
            #expect(
                try value(seeded + "count(*)", ["id": .string(start)])
                    == value(seeded + "size(collect(1))", ["id": .string(start)]), "\(pattern) from \(start)")
            #expect(
                try value(seeded + "count(DISTINCT b)", ["id": .string(start)])
                    == value(seeded + "size(collect(DISTINCT b))", ["id": .string(start)]), "\(pattern) from \(start)")
        }
    }
}
