import EngramCore
import EngramCypher
import EngramTestSupport
import Foundation
import Testing

@Suite("Lexer and parser")
struct ParserTests {
    @Test("The AST prints in a canonical form")
    func printableAST() throws {
        let statement = try Parser.parse(
            """
            match (a:Person {name: $n})-[r:KNOWS|LIKES*1..3]->(b) where a.age > 3 + 4 * 2
            with a, count(b) AS c order by c desc limit 5
            return a.name AS name, c
            """)
        #expect(
            statement.description == """
                MATCH (a:Person {name: $n})-[r:KNOWS|LIKES*1..3]->(b) WHERE (a.age > (3 + (4 * 2)))
                WITH a, count(b) AS c ORDER BY c DESC LIMIT 5
                RETURN a.name AS name, c
                """)
    }

    @Test("Tokens carry line and column")
    func tokens() throws {
        let tokens = try Lexer.tokenize("MATCH (n)\n  RETURN n.`odd name`, 0x1F, 1.5e3, 'it\\'s'")
        #expect(
            tokens.map(\.description) == [
                "MATCH", "(", "n", ")", "RETURN", "n", ".", "`odd name`", ",", "0x1F", ",", "1.5e3", ",", "'it's'",
                "end of input",
            ])
        #expect(tokens[4].range.line == 2 && tokens[4].range.column == 3)
    }

    @Test("Syntax errors name line, column, the unexpected token and what was expected")
    func syntaxErrorPosition() {
        do {
            _ = try Parser.parse("MATCH (n:Person\nRETURN n")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.code == .syntaxError)
            #expect(error.line == 2)
            #expect(error.column == 1)
            #expect(error.unexpected == "RETURN")
            #expect(error.expected.contains("')'"))
        }
    }

    @Test("Unterminated strings and bad numbers are syntax errors")
    func lexicalErrors() {
        for text in ["RETURN 'abc", "RETURN 12abc", "RETURN 0x", "RETURN 9223372036854775808", "RETURN '\\uZZZZ'"] {
            #expect(throws: CypherError.self) { try Parser.parse(text) }
        }
        #expect((try? Parser.parse("RETURN -9223372036854775808")) != nil)
    }

    static let writeClauses: [(String, String)] = [
        ("CREATE (n:Person {name: 'x'})", "CREATE"),
        ("MATCH (n) CREATE (n)-[:KNOWS]->(m) RETURN n", "CREATE"),
        ("MERGE (n:Person {name: 'x'}) RETURN n", "MERGE"),
        ("MATCH (n) SET n.name = 'y' RETURN n", "SET"),
        ("MATCH (n) DELETE n", "DELETE"),
        ("MATCH (n) DETACH DELETE n", "DETACH DELETE"),
        ("MATCH (n) REMOVE n.name RETURN n", "REMOVE"),
        ("MATCH (n) FOREACH (x IN [1] | SET n.a = x)", "FOREACH"),
        ("LOAD CSV FROM 'file:///x.csv' AS line RETURN line", "LOAD CSV"),
        ("match (n) with n detach delete n", "DETACH DELETE"),
    ]

    @Test("Every write clause is refused with readOnlyQuery naming the clause", arguments: writeClauses)
    func refusesWrites(query: String, clause: String) {
        let graph = makeTestGraph()
        let before = graph.nodeCountTotal
        do {
            _ = try CypherEngine(graph: graph).execute(query)
            Issue.record("\(query) was accepted")
        } catch {
            #expect(error.code == .readOnlyQuery)
            #expect(error.message.hasPrefix(clause))
            #expect(error.line != nil)
        }
        #expect(graph.nodeCountTotal == before)
    }

    @Test("A write keyword inside a string or as a property name is not a write")
    func keywordsAreNotClauses() throws {
        let result = try run("MATCH (n:Person) WHERE n.name <> 'CREATE (x)' RETURN n.set AS delete LIMIT 1")
        #expect(result.columns == ["delete"])
    }

    @Test("Unknown procedures are refused as possible writes")
    func refusesUnknownProcedures() {
        #expect(throws: CypherError.self) { try run("CALL db.createLabel('x')") }
        do {
            _ = try run("CALL apoc.periodic.iterate('a', 'b', {}) YIELD batches RETURN batches")
        } catch {
            #expect(error.code == .readOnlyQuery)
        }
    }

    @Test("100,000 seeded random and mutated inputs never crash the parser (nor, when they parse, the engine)")
    func fuzz() {
        // ENGRAM_FUZZ_SEED / ENGRAM_FUZZ_COUNT explore further by hand; CI runs the fixed seed.
        let environment = ProcessInfo.processInfo.environment
        var generator = SeededGenerator(seed: environment["ENGRAM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_C4B7)
        let total = environment["ENGRAM_FUZZ_COUNT"].flatMap { Int($0) } ?? 100_000
        let seeds =
            Self.tckQueries() + [
                "MATCH (a:Person {name: $name})-[r:KNOWS*1..3]->(b) WHERE a.age > 30 AND b.name =~ 'A.*' RETURN a, count(*) AS c ORDER BY c DESC SKIP 1 LIMIT 10",
                "OPTIONAL MATCH p = (a)<-[:X|Y]-(b) WITH a, collect(DISTINCT b)[0..2] AS bs UNWIND bs AS x RETURN x.name, size(bs)",
                "RETURN [1, 2.5, 'x', null, {k: [true]}][-1] IS NOT NULL, -0x1F, 0o17, 1e10, toUpper('a') STARTS WITH 'A'",
                "CALL db.index.vector.queryNodes('m', 5, [0.1, 0.2]) YIELD node, score RETURN node UNION ALL RETURN 1 AS node",
                "MATCH (n) WHERE id(n) = 3 OR elementId(n) IN ['a', \"b\"] RETURN n {.name} // comment\n/* block */",
            ]
        let fragments = [
            "(", ")", "[", "]", "{", "}", "-", "->", "<-", "--", ":", ",", ".", "..", "*", "$p", "'s'", "\"", "`q`",
            "1",
            "-9223372036854775808", "1.5", "MATCH", "RETURN", "WITH", "WHERE", "AND", "NOT", "IN", "IS NULL", "CREATE",
            "UNION", "ORDER BY", "LIMIT", "count(*)", "=~", "<>", "|", "\\", "\n", " ", "/*", "//", "é", "🧐", "\u{0}",
        ]
        var parsed = 0
        var failed = 0
        let engine = CypherEngine(
            graph: makeTestGraph(), limits: CypherLimits(maxRows: 1000, timeout: .milliseconds(200)))
        for index in 0..<total {
            var text: String
            if index % 2 == 0 {
                // Mutate a valid query: delete, duplicate or insert a fragment at random places.
                var characters = Array(seeds[Int(generator.next() % UInt64(seeds.count))])
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    let position = Int(generator.next() % UInt64(characters.count + 1))
                    switch generator.next() % 3 {
                    case 0 where position < characters.count: characters.remove(at: position)
                    case 1:
                        let fragment = fragments[Int(generator.next() % UInt64(fragments.count))]
                        characters.insert(contentsOf: fragment, at: position)
                    default:
                        let end = min(characters.count, position + Int(generator.next() % 8))
                        characters.insert(contentsOf: characters[position..<end], at: position)
                    }
                }
                text = String(characters)
            } else {
                text = ""
                for _ in 0..<(Int(generator.next() % 24)) {
                    text += fragments[Int(generator.next() % UInt64(fragments.count))] + " "
                }
            }
            do {
                _ = try Parser.parse(text)
                parsed += 1
                // What parses must also plan and run without crashing: any outcome is a result or
                // a typed error.
                _ = try? engine.execute(text, parameters: ["p": 1, "name": "Ada", "vector": [0.1, 0.2]])
            } catch {
                failed += 1
                #expect(error.code == .syntaxError || error.code == .readOnlyQuery)
            }
        }
        #expect(parsed + failed == total)
        #expect(parsed > 100)
        // Deep nesting is an error, not a stack overflow.
        #expect(throws: CypherError.self) { try Parser.parse("RETURN " + String(repeating: "(", count: 100_000)) }
        #expect(throws: CypherError.self) {
            try Parser.parse("RETURN " + String(repeating: "- ", count: 100_000) + "1")
        }
    }

    /// The queries of the TCK feature files (when `../shared/tck` is present), as fuzzing seeds.
    static func tckQueries() -> [String] {
        let features = sharedFolder().appendingPathComponent("tck/features")
        guard let enumerator = FileManager.default.enumerator(atPath: features.path) else { return [] }
        var queries: [String] = []
        for case let path as String in enumerator where path.hasSuffix(".feature") {
            guard let text = try? String(contentsOf: features.appendingPathComponent(path), encoding: .utf8) else {
                continue
            }
            for scenario in GherkinFeature(parsing: text).scenarios {
                for step in scenario.steps where step.text.hasPrefix("executing query") {
                    if let query = step.docString { queries.append(query) }
                }
            }
        }
        return queries.sorted()
    }
}
