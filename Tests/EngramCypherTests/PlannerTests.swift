import EngramCore
import EngramCypher
import Testing

@Suite("Planner, EXPLAIN and PROFILE")
struct PlannerTests {
    /// 1 (:Rare) node, 200 (:Common) nodes, each Common -[:LINK]-> Rare.
    func skewedGraph(indexed: Bool = false) -> InMemoryGraph {
        let graph = InMemoryGraph()
        let rare = graph.addNode(labels: ["Rare"], properties: ["name": "r"])
        for index in 0..<200 {
            let node = graph.addNode(labels: ["Common"], properties: ["index": .int(Int64(index))])
            graph.addRelationship(type: "LINK", from: node, to: rare)
        }
        if indexed { graph.addIndex(label: "Common", property: "index") }
        return graph
    }

    @Test("The plan prints as a tree, root first")
    func explain() throws {
        let result = try run("EXPLAIN MATCH (a:Person)-[:KNOWS]->(b) WHERE b.age > 20 RETURN b.name AS name")
        #expect(result.rows.isEmpty)
        #expect(
            result.plan == """
                +Select name
                +Projection b.name AS name
                +Filter (b.age > 20)
                +Expand (a)-[anon_r1:KNOWS]->(b) {est. 0.2}
                +NodeByLabelScan (a:Person) {est. 3.0}
                """)
    }

    @Test("The most selective label is scanned first, then expanded against the arrow")
    func selectiveStart() throws {
        let engine = CypherEngine(graph: skewedGraph())
        let plan = try engine.execute("EXPLAIN MATCH (c:Common)-[:LINK]->(r:Rare) RETURN c").plan!
        #expect(plan.contains("NodeByLabelScan (r:Rare)"))
        #expect(plan.contains("Expand (r)<-[anon_r1:LINK]-(c)"))
        #expect(try engine.execute("MATCH (c:Common)-[:LINK]->(r:Rare) RETURN c").rows.count == 200)
    }

    @Test("Indexed equality and ranges use the index")
    func indexSeek() throws {
        let engine = CypherEngine(graph: skewedGraph(indexed: true))
        let equal = try engine.execute("EXPLAIN MATCH (c:Common {index: 7}) RETURN c").plan!
        #expect(equal.contains("NodeIndexSeek (c:Common) index = 7"))
        let range = try engine.execute("EXPLAIN MATCH (c:Common) WHERE c.index >= 10 AND c.index < 20 RETURN c").plan!
        #expect(range.contains("NodeIndexRangeSeek (c:Common) 10 <= index < 20"))
        #expect(try engine.execute("MATCH (c:Common) WHERE c.index >= 10 AND c.index < 20 RETURN c").rows.count == 10)
        #expect(try engine.execute("MATCH (c:Common) WHERE 7 = c.index RETURN c.index AS i").rows.count == 1)
        let any = try engine.execute("EXPLAIN MATCH (c:Common) WHERE c.index IN $wanted RETURN c").plan!
        #expect(any.contains("NodeIndexSeek (c:Common) index IN $wanted"))
        let found = try engine.execute(
            "MATCH (c:Common) WHERE c.index IN $wanted RETURN c.index AS i ORDER BY i",
            parameters: ["wanted": [3, 5, 5, 500, "x", .null]])
        #expect(found.rows == [[.integer(3)], [.integer(5)]])
        let byIDs = try engine.execute("MATCH (n) WHERE id(n) IN [1, 2, 2, 9999] RETURN id(n) AS id ORDER BY id")
        #expect(byIDs.rows == [[.integer(1)], [.integer(2)]])
        #expect(try engine.execute("EXPLAIN MATCH (n) WHERE id(n) IN [1, 2] RETURN n").plan!.contains("id IN [1, 2]"))
        // Without an index, the label scan stays.
        let plain = try CypherEngine(graph: skewedGraph()).execute("EXPLAIN MATCH (c:Common {index: 7}) RETURN c").plan!
        #expect(plain.contains("NodeByLabelScan (c:Common)"))
    }

    @Test("Filters are pushed down to where their variables are bound")
    func pushDown() throws {
        let plan = try run(
            """
            EXPLAIN MATCH (a:Person)-[:KNOWS]->(b)-[:KNOWS]->(c) WHERE a.age > 30 AND c.name = 'Cy' RETURN c
            """
        ).plan!
        let lines = plan.split(separator: "\n").map(String.init)
        let filterA = lines.firstIndex { $0.contains("Filter (a.age > 30)") }!
        let firstExpand = lines.lastIndex { $0.contains("Expand") }!
        #expect(filterA > firstExpand - 1 && filterA < lines.count - 1)
    }

    @Test("LIMIT without ORDER BY stops the scan early; PROFILE shows rows and time per operator")
    func earlyStop() throws {
        let engine = CypherEngine(graph: skewedGraph())
        let result = try engine.execute("PROFILE MATCH (c:Common) RETURN c.index AS i LIMIT 3")
        #expect(result.rows.count == 3)
        let plan = result.plan!
        #expect(plan.contains("+NodeByLabelScan (c:Common) {rows: 3, time:"))
        #expect(plan.contains("+Limit 3 {rows: 3"))
        // ORDER BY with LIMIT keeps only the top rows.
        let top = try engine.execute("PROFILE MATCH (c:Common) RETURN c.index AS i ORDER BY i DESC LIMIT 2")
        #expect(top.rows.map { $0[0] } == [.integer(199), .integer(198)])
        #expect(top.plan!.contains("+Top i DESC LIMIT 2"))
    }

    @Test("A cursor streams rows on demand, so a huge product can be sampled cheaply")
    func streaming() throws {
        let engine = CypherEngine(graph: skewedGraph(), limits: CypherLimits(timeout: .seconds(5)))
        let cursor = try engine.cursor("MATCH (a:Common), (b:Common), (c:Common) RETURN a.index AS a, b.index AS b")
        #expect(cursor.columns == ["a", "b"])
        #expect(try cursor.next() == [.integer(0), .integer(0)])
        #expect(try cursor.next() == [.integer(0), .integer(0)])
        let limited = try engine.execute("MATCH (a:Common), (b:Common), (c:Common) RETURN a LIMIT 5")
        #expect(limited.rows.count == 5)
    }

    @Test("A label every node carries is not checked; a null from OPTIONAL MATCH matches nothing")
    func labelElision() throws {
        let graph = InMemoryGraph()
        let a = graph.addNode(labels: ["Entity"], properties: ["id": "a"])
        let b = graph.addNode(labels: ["Entity"], properties: ["id": "b"])
        graph.addRelationship(type: "RELATED", from: a, to: b)
        let engine = CypherEngine(graph: graph)
        let plan = try engine.execute("EXPLAIN MATCH (x:Entity {id: 'a'})-[:RELATED]->(y:Entity) RETURN y").plan!
        #expect(!plan.contains("(y:Entity)"))
        #expect(
            try engine.execute("MATCH (x:Entity {id: 'a'})-[:RELATED]->(y:Entity) RETURN y.id AS id").rows
                == [[.string("b")]])
        let none = try engine.execute("OPTIONAL MATCH (x:Nope) WITH x MATCH (x) RETURN x")
        #expect(none.rows.isEmpty)
        let labelled = try engine.execute("OPTIONAL MATCH (x:Nope) WITH x MATCH (x:Entity) RETURN x")
        #expect(labelled.rows.isEmpty)
    }

    @Test("OPTIONAL MATCH and UNION plans print their branches; PROFILE sums an optional's runs")
    func branches() throws {
        let optional = try run(
            """
            PROFILE MATCH (p:Person) OPTIONAL MATCH (p)-[:KNOWS]->(f) RETURN p.name AS name, f.name AS friend
            """)
        #expect(optional.rows.count == 3)
        let plan = optional.plan!
        #expect(plan.contains("+Optional f, anon_r1 {rows: 3"))
        #expect(plan.contains("  +Expand (p)-[anon_r1:KNOWS]->(f) {rows: 2"))
        #expect(plan.contains("  +Argument {rows: 3"))
        let union = try run("EXPLAIN MATCH (p:Person) RETURN p.name AS n UNION MATCH (c:Company) RETURN c.name AS n")
        #expect(union.plan!.hasPrefix("+Union n"))
        #expect(union.plan!.contains("  +NodeByLabelScan (c:Company)"))
        #expect(union.plan!.contains("  +NodeByLabelScan (p:Person)"))
    }

    @Test("Counting a whole label reads the count store")
    func countStore() throws {
        let engine = CypherEngine(graph: skewedGraph())
        let result = try engine.execute("PROFILE MATCH (c:Common) RETURN count(*) AS n, count(c) + 1 AS m")
        #expect(result.rows == [[.integer(200), .integer(201)]])
        let plan = try engine.execute("EXPLAIN MATCH (c:Common) RETURN count(c) AS n").plan!
        #expect(plan.contains("NodeCountFromCountStore count(c) of (:Common)"))
        #expect(try engine.execute("MATCH (n) RETURN count(*) AS n").rows == [[.integer(201)]])
        #expect(try engine.execute("MATCH (n:Nope) RETURN count(*) AS n").rows == [[.integer(0)]])
        // Filters, grouping or DISTINCT keep the general aggregation.
        let filtered = try engine.execute("EXPLAIN MATCH (c:Common) WHERE c.index > 3 RETURN count(*) AS n").plan!
        #expect(filtered.contains("Aggregation"))
        #expect(try engine.execute("MATCH (c:Common) WHERE c.index > 3 RETURN count(*) AS n").rows == [[.integer(196)]])
    }
}
