import EngramCore
import EngramCypher
import Testing

@Suite("Query execution")
struct EngineTests {
    @Test("=~ matches whole strings with a regular expression")
    func regex() throws {
        let result = try run("MATCH (p:Person) WHERE p.name =~ '[AB].*' RETURN p.name AS name ORDER BY name")
        #expect(strings(result) == [["'Ada'"], ["'Bob'"]])
        #expect(
            strings(try run("RETURN 'abc' =~ 'b' AS partial, 'abc' =~ 'a.c' AS whole, null =~ 'a' AS n"))
                == [["false", "true", "null"]])
        #expect(throws: CypherError.self) { try run("RETURN 'a' =~ '(' AS broken") }
    }

    @Test("id() and elementId() return the internal and the public id, and seek by them")
    func ids() throws {
        let result = try run("MATCH (p:Person {name: 'Bob'}) RETURN id(p) AS id, elementId(p) AS element")
        #expect(strings(result) == [["1", "'bob'"]])
        let byID = try run("MATCH (n) WHERE id(n) = $id RETURN n.name AS name", ["id": 1])
        #expect(strings(byID) == [["'Bob'"]])
        let byElement = try run("MATCH (n) WHERE elementId(n) = 'acme' RETURN n.name AS name")
        #expect(strings(byElement) == [["'Acme'"]])
        let plan = try run("EXPLAIN MATCH (n) WHERE id(n) = 1 RETURN n").plan!
        #expect(plan.contains("NodeByIdSeek"))
        #expect(try run("EXPLAIN MATCH (n) WHERE elementId(n) = 'x' RETURN n").plan!.contains("NodeByElementIdSeek"))
    }

    @Test("toUpper() and toLower()")
    func caseFunctions() throws {
        let result = try run("RETURN toUpper('straße') AS upper, toLower('ÀBC') AS lower, toUpper(null) AS none")
        #expect(strings(result) == [["'STRASSE'", "'àbc'", "null"]])
        #expect(throws: CypherError.self) { try run("RETURN toUpper(1) AS x") }
    }

    @Test("Parameters inside pattern property maps")
    func parametersInPatterns() throws {
        let result = try run(
            "MATCH (a:Person {name: $who})-[:KNOWS {since: $year}]->(b) RETURN b.name AS name",
            ["who": "Ada", "year": 2020])
        #expect(strings(result) == [["'Bob'"]])
        #expect(try run("MATCH (a:Person {name: $who}) RETURN a", ["who": "Nobody"]).rows.isEmpty)
        do {
            _ = try run("MATCH (a:Person {name: $who}) RETURN a")
            Issue.record("a missing parameter was accepted")
        } catch {
            #expect(error.code == .missingParameter)
            #expect(error.message.contains("$who"))
        }
    }

    @Test("Semantic errors name the variable or function")
    func semanticErrors() {
        func failure(_ query: String) -> CypherError? {
            do {
                _ = try run(query)
                return nil
            } catch { return error }
        }
        let undefined = failure("MATCH (a) RETURN b")
        #expect(undefined?.code == .semanticError && undefined?.message.contains("`b`") == true)
        #expect(undefined?.detail == "UndefinedVariable" && undefined?.line == 1 && undefined?.column == 18)
        let unknown = failure("RETURN frobnicate(1) AS x")
        #expect(unknown?.detail == "UnknownFunction" && unknown?.message.contains("frobnicate") == true)
        let arity = failure("RETURN toUpper('a', 'b') AS x")
        #expect(arity?.detail == "InvalidNumberOfArguments" && arity?.message.contains("toUpper") == true)
        #expect(failure("MATCH (a) WHERE count(a) > 1 RETURN a")?.detail == "InvalidAggregation")
        #expect(failure("RETURN count(count(*)) AS x")?.detail == "NestedAggregation")
        #expect(failure("MATCH (a) RETURN a.name, a.age + count(*)")?.detail == "AmbiguousAggregationExpression")
        #expect(failure("MATCH (a)-[a]->() RETURN a")?.detail == "VariableTypeConflict")
    }

    @Test("Aggregation, ordering, paging and UNION")
    func clauses() throws {
        let counts = try run(
            """
            MATCH (p:Person)-[:KNOWS]->(f) RETURN p.name AS name, count(f) AS friends ORDER BY name
            """)
        #expect(strings(counts) == [["'Ada'", "1"], ["'Bob'", "1"]])
        let paths = try run(
            "MATCH p = (:Person {name: 'Ada'})-[:KNOWS*]->(x) RETURN length(p) AS hops, x.name AS name ORDER BY hops")
        #expect(strings(paths) == [["1", "'Bob'"], ["2", "'Cy'"]])
        #expect(try run("RETURN 1 AS x UNION RETURN 1 AS x UNION RETURN 2 AS x").rows.count == 2)
        #expect(try run("RETURN 1 AS x UNION ALL RETURN 1 AS x").rows.count == 2)
        #expect(throws: CypherError.self) { try run("RETURN 1 AS x UNION RETURN 1 AS x UNION ALL RETURN 2 AS x") }
        #expect(throws: CypherError.self) { try run("RETURN 1 AS x UNION RETURN 1 AS y") }
        let optional = try run("MATCH (c:Company) OPTIONAL MATCH (c)-[:KNOWS]->(x) RETURN c.name AS c, x")
        #expect(strings(optional) == [["'Acme'", "null"]])
    }

    @Test("A fake db.index.vector.queryNodes procedure is called through the registry")
    func vectorProcedure() throws {
        let graph = makeTestGraph()
        let procedure = CypherProcedure(
            name: "db.index.vector.queryNodes", parameters: ["indexName", "k", "vector"],
            outputs: ["node", "score"], nodeOutputs: ["node"]
        ) { arguments, graph in
            guard case .string("people") = arguments[0], case .int(let k) = arguments[1],
                let vector = arguments[2].floatVector
            else { throw CypherError(.argumentError, "bad arguments") }
            #expect(vector.count == 3)
            var rows: [[Value]] = []
            var iterator = try graph.nodes(label: "Person")
            var score = 1.0
            while let node = iterator.next(), rows.count < Int(k) {
                rows.append([.node(node), .double(score)])
                score -= 0.25
            }
            return rows
        }
        let engine = CypherEngine(graph: graph, procedures: ProcedureRegistry([procedure]))
        let result = try engine.execute(
            """
            CALL db.index.vector.queryNodes('people', 2, $vector) YIELD node, score
            RETURN node.name AS name, score ORDER BY score DESC
            """, parameters: ["vector": .vector([0.1, 0.2, 0.3])])
        #expect(strings(result) == [["'Ada'", "1.0"], ["'Bob'", "0.75"]])
        let standalone = try engine.execute("CALL db.index.vector.queryNodes('people', 1, [1.0, 0.0, 0.0])")
        #expect(standalone.columns == ["node", "score"])
        let filtered = try engine.execute(
            """
            CALL db.index.vector.queryNodes('people', 3, [1, 2, 3]) YIELD node AS n, score WHERE score < 1
            MATCH (n)-[:KNOWS]->(f) RETURN f.name AS friend
            """)
        #expect(strings(filtered) == [["'Cy'"]])
        #expect(throws: CypherError.self) {
            try engine.execute("CALL db.index.vector.queryNodes('people', 1) YIELD node RETURN node")
        }
    }

    @Test("maxRows stops a query with rowLimitExceeded")
    func rowLimit() {
        do {
            _ = try run("UNWIND range(1, 100) AS i RETURN i", limits: CypherLimits(maxRows: 10))
            Issue.record("no error")
        } catch {
            #expect(error.code == .rowLimitExceeded)
        }
        #expect((try? run("UNWIND range(1, 100) AS i RETURN i LIMIT 10", limits: CypherLimits(maxRows: 10))) != nil)
    }

    @Test("Unbounded variable-length patterns are capped; larger explicit bounds are refused")
    func depthLimit() throws {
        let limits = CypherLimits(maxVariableLengthDepth: 5)
        let capped = try run("MATCH (:Step {index: 0})-[:NEXT*]->(x) RETURN count(x) AS n", limits: limits)
        #expect(strings(capped) == [["5"]])
        do {
            _ = try run("MATCH (:Step {index: 0})-[:NEXT*1..50]->(x) RETURN x", limits: limits)
            Issue.record("no error")
        } catch {
            #expect(error.code == .depthLimitExceeded)
            #expect(error.message.contains("50"))
        }
        let full = try run("MATCH (:Step {index: 0})-[:NEXT*]->(x) RETURN count(x) AS n")
        #expect(strings(full) == [["29"]])
    }

    @Test("A timeout stops a runaway query")
    func timeout() {
        let limits = CypherLimits(timeout: .milliseconds(20))
        do {
            _ = try run("MATCH (a), (b), (c), (d) RETURN count(*) AS n", limits: limits)
            Issue.record("no error")
        } catch {
            #expect(error.code == .timeout)
        }
    }

    @Test("Cancellation stops a query")
    func cancellation() {
        let flag = CypherCancellation()
        flag.cancel()
        do {
            _ = try CypherEngine(graph: makeTestGraph()).execute(
                "MATCH (a), (b) RETURN count(*) AS n",
                cancellation: flag)
            Issue.record("no error")
        } catch {
            #expect(error.code == .cancelled)
        }
    }

    @Test("A query sees only the graph (tenant) it runs against")
    func tenantIsolation() throws {
        // Each tenant's graph is its own CypherGraph; internal ids overlap between tenants, yet a
        // query in one never reaches the other's records, by scan, id seek or public id.
        let tenantA = InMemoryGraph()
        tenantA.addNode(labels: ["Memory"], properties: ["content": "A secret"], publicID: "a-1")
        let tenantB = InMemoryGraph()
        tenantB.addNode(labels: ["Memory"], properties: ["content": "B secret"], publicID: "b-1")
        let all = try run("MATCH (m) RETURN m.content AS c", graph: tenantA)
        #expect(strings(all) == [["'A secret'"]])
        #expect(try run("MATCH (m) WHERE elementId(m) = 'b-1' RETURN m", graph: tenantA).rows.isEmpty)
        #expect(try run("MATCH (m) WHERE id(m) = 1 RETURN m", graph: tenantA).rows.isEmpty)
        #expect(strings(try run("MATCH (m:Memory) RETURN m.content AS c", graph: tenantB)) == [["'B secret'"]])
    }

    @Test("Results render as SPEC §6 JSON and as a table")
    func rendering() throws {
        let result = try run(
            """
            MATCH (a:Person {name: 'Ada'})-[r:KNOWS]->(b) RETURN a, r, [1, 2.5, null] AS list, {k: 'v'} AS map
            """)
        #expect(
            result.jsonString() == """
                {"columns":["a","r","list","map"],"rows":[[{"id":"ada","labels":["Person"],"properties":{"age":36,"name":"Ada"}},{"id":"k1","type":"KNOWS","start":"ada","end":"bob","properties":{"since":2020}},[1,2.5,null],{"k":"v"}]]}
                """)
        let csv = try run("RETURN 'a,b' AS text, 'say \"hi\"' AS quote, null AS none, 1.5 AS f, [1, 'x'] AS list")
            .csvString()
        #expect(csv == "text,quote,none,f,list\r\n\"a,b\",\"say \"\"hi\"\"\",,1.5,\"[1,\"\"x\"\"]\"\r\n")
        let accessors = try run("MATCH (p:Person) RETURN p.name AS name, p.age AS age, p AS node ORDER BY name")
        #expect(accessors.values(of: "name")?.compactMap(\.stringValue) == ["Ada", "Bob", "Cy"])
        #expect(accessors.values(of: "age")?.map(\.intValue) == [36, 25, nil])
        #expect(accessors.values(of: "node")?.first?.nodeValue?.id == "ada")
        #expect(accessors.values(of: "missing") == nil)
        let table = try run("RETURN 'x' AS name, 1 AS n").tableString()
        #expect(
            table == """
                +------+---+
                | name | n |
                +------+---+
                | 'x'  | 1 |
                +------+---+
                1 row
                """)
    }

    @Test("Beyond the TCK subset: CASE, list comprehensions, quantifiers and map projections")
    func extensions() throws {
        let cases = try run(
            """
            MATCH (p:Person) RETURN p.name AS name,
              CASE WHEN p.age > 30 THEN 'senior' WHEN p.age IS NULL THEN 'unknown' ELSE 'junior' END AS band,
              CASE p.name WHEN 'Ada' THEN 1 ELSE 0 END AS isAda
            ORDER BY name
            """)
        #expect(
            strings(cases) == [["'Ada'", "'senior'", "1"], ["'Bob'", "'junior'", "0"], ["'Cy'", "'unknown'", "0"]])
        let comprehension = try run(
            "RETURN [x IN range(1, 6) WHERE x % 2 = 0 | x * 10] AS evens, [x IN [1, 2]] AS same")
        #expect(strings(comprehension) == [["[20, 40, 60]", "[1, 2]"]])
        let quantifiers = try run(
            """
            WITH [1, 2, 3] AS xs
            RETURN all(x IN xs WHERE x > 0) AS a, any(x IN xs WHERE x > 2) AS b, none(x IN xs WHERE x > 5) AS c,
                   single(x IN xs WHERE x = 2) AS d, all(x IN [1, null] WHERE x > 0) AS e
            """)
        #expect(strings(quantifiers) == [["true", "true", "true", "true", "null"]])
        let projection = try run(
            """
            MATCH (p:Person {name: 'Ada'})-[r:KNOWS]->(f) RETURN p {.name, friend: f.name, .missing} AS m, r {.*} AS rel
            """)
        #expect(strings(projection) == [["{friend: 'Bob', missing: null, name: 'Ada'}", "{since: 2020}"]])
        let filtered = try run("MATCH (p:Person) WHERE any(k IN keys(p) WHERE k = 'age') RETURN count(*) AS n")
        #expect(strings(filtered) == [["2"]])
        #expect(throws: CypherError.self) { try run("RETURN [x IN [1] | y] AS broken") }
    }

    @Test("Pattern predicates in WHERE (beyond the subset)")
    func patternPredicates() throws {
        let knowsSomeone = try run("MATCH (p:Person) WHERE (p)-[:KNOWS]->() RETURN p.name AS name ORDER BY name")
        #expect(strings(knowsSomeone) == [["'Ada'"], ["'Bob'"]])
        let known = try run("MATCH (p:Person) WHERE NOT (p)<-[:KNOWS]-(:Person) RETURN p.name AS name")
        #expect(strings(known) == [["'Ada'"]])
        let both = try run(
            """
            MATCH (a:Person), (b:Person) WHERE (a)-[:KNOWS]->(b) AND exists((b)-[:KNOWS]->())
            RETURN a.name AS a, b.name AS b
            """)
        #expect(strings(both) == [["'Ada'", "'Bob'"]])
        #expect(strings(try run("MATCH (p:Person {name: 'Ada'}) RETURN (p)--(:Company) AS works")) == [["true"]])
        let subquery = try run(
            """
            MATCH (p:Person) WHERE EXISTS { MATCH (p)-[:KNOWS]->(f) WHERE f.age < 30 } RETURN p.name AS name
            """)
        #expect(strings(subquery) == [["'Ada'"]])
        let negated = try run(
            """
            MATCH (p:Person) WHERE NOT EXISTS { (p)-[:WORKS_AT]->(:Company) } RETURN p.name AS name ORDER BY name
            """)
        #expect(strings(negated) == [["'Bob'"], ["'Cy'"]])
        // Arithmetic on parenthesised expressions is not a pattern.
        #expect(strings(try run("WITH 5 AS a, 3 AS b RETURN (a) - (b) AS d, (a)-(b) AS e")) == [["2", "2"]])
        do {
            _ = try run("MATCH (p:Person) WHERE (p)-[:KNOWS]->(q) RETURN p")
            Issue.record("no error")
        } catch {
            #expect(error.detail == "UndefinedVariable" && error.message.contains("`q`"))
        }
    }

    @Test("shortestPath and allShortestPaths between two nodes (beyond the subset)")
    func shortestPaths() throws {
        let graph = InMemoryGraph()
        // a -> b -> d, a -> c -> d, a -> d via e -> f (longer), plus an unrelated node z.
        var ids: [String: NodeID] = [:]
        for name in ["a", "b", "c", "d", "e", "f", "z"] {
            ids[name] = graph.addNode(labels: ["N"], properties: ["name": .string(name)], publicID: name)
        }
        for (from, to) in [("a", "b"), ("b", "d"), ("a", "c"), ("c", "d"), ("a", "e"), ("e", "f"), ("f", "d")] {
            graph.addRelationship(type: "R", from: ids[from]!, to: ids[to]!)
        }
        let engine = CypherEngine(graph: graph)
        let one = try engine.execute(
            """
            MATCH p = shortestPath((x:N {name: 'a'})-[:R*]->(y:N {name: 'd'})) RETURN length(p) AS hops,
              [n IN nodes(p) | n.name] AS names
            """)
        #expect(one.rows.count == 1)
        #expect(one.rows[0][0] == .integer(2))
        let every = try engine.execute(
            """
            MATCH p = allShortestPaths((x:N {name: 'a'})-[:R*]->(y:N {name: 'd'}))
            RETURN [n IN nodes(p) | n.name] AS names ORDER BY names
            """)
        #expect(strings(every) == [["['a', 'b', 'd']"], ["['a', 'c', 'd']"]])
        let backwards = try engine.execute(
            """
            MATCH p = shortestPath((x:N {name: 'd'})<-[:R*..5]-(y:N {name: 'a'})) RETURN length(p) AS hops
            """)
        #expect(backwards.rows == [[.integer(2)]])
        #expect(
            try engine.execute(
                """
                MATCH p = shortestPath((x:N {name: 'a'})-[:R*]-(y:N {name: 'z'})) RETURN p
                """
            ).rows.isEmpty)
        #expect(
            try engine.execute(
                """
                MATCH p = shortestPath((x:N {name: 'a'})-[:R*..1]->(y:N {name: 'd'})) RETURN p
                """
            ).rows.isEmpty)
        let plan = try engine.execute(
            "EXPLAIN MATCH p = shortestPath((x:N {name: 'a'})-[*]-(y:N {name: 'd'})) RETURN p")
        #expect(plan.plan!.contains("+ShortestPath p = (x)-[anon_r1*1..32]-(y)"))
        #expect(
            try Parser.parse("MATCH p = shortestPath((a)-[*]-(b)) RETURN p").description
                == "MATCH p = shortestPath((a)-[*..]-(b))\nRETURN p")
    }
}
