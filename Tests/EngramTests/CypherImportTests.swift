import Engram
import EngramTestSupport
import Foundation
import Testing

@Suite("Cypher scripts and the graph schema")
struct CypherImportTests {
    @Test func splitKeepsSemicolonsInStringsNamesAndComments() {
        let split = CypherScript.split(
            """
            // header; not a statement
            CREATE (:A {s: 'x;y', t: "it\\"s;"});
            /* block; */ CREATE (:`B;C`)
            ;  ;
            RETURN 'unfinished;
            """)
        #expect(split.statements == [
            .init(text: "CREATE (:A {s: 'x;y', t: \"it\\\"s;\"})", line: 2),
            .init(text: "CREATE (:`B;C`)", line: 3),
        ])
        #expect(split.remainder == "\nRETURN 'unfinished;")
        #expect(CypherScript.isBlank("  // only a comment; \n /* and; */ "))
        #expect(!CypherScript.isBlank("RETURN 1"))
    }

    @Test func importCypherCreatesTheGraphInBatches() throws {
        let directory = try TemporaryDirectory(prefix: "cypher-import")
        let store = try EngramStore(path: directory.appending("store"))
        var reports: [CypherImportProgress] = []
        let summary = try store.importCypher(
            """
            CREATE (:Person {name: 'Ann'})-[:KNOWS {since: 2020}]->(:Person {name: 'Bob'});
            MATCH (a:Person {name: 'Ann'}) CREATE (a)-[:LIKES]->(:Food {name: 'tea'});
            UNWIND range(1, 3) AS i CREATE (:Number {value: i})
            """, tenant: "acme", batchSize: 2
        ) { reports.append($0) }
        #expect(summary.statements == 3 && summary.nodesCreated == 6 && summary.relationshipsCreated == 2)
        #expect(reports.map(\.statementsDone) == [2, 3] && reports.allSatisfy { $0.statementsTotal == 3 })
        let likes = try store.query("MATCH (:Person {name: 'Ann'})-[:LIKES]->(f) RETURN f.name", tenant: "acme")
        #expect(likes.rows == [[.string("tea")]])
        #expect(try store.graph().statistics().nodes == 0)  // other tenants untouched
    }

    @Test func aFailingStatementRollsBackItsBatchAndSaysWhere() throws {
        let directory = try TemporaryDirectory(prefix: "cypher-import-error")
        let store = try EngramStore(path: directory.appending("store"))
        let script = "CREATE (:A);\nCREATE (:B);\n\nCREATE (:C {x: })"
        #expect {
            try store.importCypher(script, batchSize: 2)
        } throws: { error in
            guard let error = error as? CypherError else { return false }
            return error.code == .syntaxError && error.line == 4
                && error.message.hasPrefix("statement 3 of the script: ")
                && error.message.hasSuffix("(statements 1…2 were imported)")
        }
        #expect(try store.graph().statistics().nodes == 2)
        #expect(throws: CypherError.self) { try store.importCypher("MATCH (n) SET n.x = 1", tenant: "other") }
        #expect(throws: EngramError.self) { try store.importCypher("CREATE ()", batchSize: 0) }
    }

    @Test func schemaCountsLabelsTypesKeysAndIndexes() throws {
        let directory = try TemporaryDirectory(prefix: "graph-schema")
        let store = try EngramStore(path: directory.appending("store"))
        let empty = try store.schema(tenant: "empty")
        #expect(empty.nodes == 0 && empty.labels.isEmpty && empty.propertyKeys.isEmpty && empty.indexes.isEmpty)
        let graph = store.graph(tenant: "acme")
        try graph.createIndex(label: "Person", property: "name", normalized: true)
        try graph.createNode(id: "ada", labels: ["Person", "Author"], properties: ["name": "Ada", "born": 1815])
        try graph.createNode(id: "bob", labels: ["Person"], properties: ["name": "Bob"])
        try graph.createNode(id: "x", labels: ["Thing"])
        try graph.createRelationship(from: "ada", to: "bob", type: "KNOWS", properties: ["since": 1833])
        try graph.createRelationship(from: "bob", to: "x", type: "OWNS")
        try store.graph(tenant: "other").createNode(labels: ["Other"], properties: ["unrelated": true])
        let schema = try store.schema(tenant: "acme")
        #expect(schema.nodes == 3 && schema.relationships == 2)
        #expect(schema.labels.map { "\($0.name) \($0.nodes)" } == ["Author 1", "Person 2", "Thing 1"])
        #expect(schema.relationshipTypes.map { "\($0.name) \($0.relationships)" } == ["KNOWS 1", "OWNS 1"])
        #expect(schema.propertyKeys.map { "\($0.name) \($0.nodes) \($0.relationships)" } == ["born 1 0", "name 2 0", "since 0 1"])
        #expect(schema.indexes.map { "\($0.label)(\($0.property)) \($0.normalized) \($0.entries)" } == ["Person(name) true 2"])
    }
}
