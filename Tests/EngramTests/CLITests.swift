import EngramTestSupport
import Foundation
import Testing

/// Runs the built `engram` binary with `input` on standard input (a pipe, not a terminal).
func runEngram(_ arguments: [String], input: String, environment: [String: String] = [:]) throws
    -> (status: Int32, out: String, err: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: engramBinary())
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe()
    let out = Pipe()
    let err = Pipe()
    process.standardInput = stdin
    process.standardOutput = out
    process.standardError = err
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// A store with a small graph in tenant `t`, made with `engram import cypher`.
func makeCLIStore(_ directory: TemporaryDirectory) throws -> String {
    let db = directory.appending("db")
    let script = directory.appending("graph.cypher")
    try """
    // people and what they like
    CREATE (:Person {name: 'Ann', age: 36})-[:KNOWS {since: 2020}]->(:Person {name: 'Bob', age: 41});
    MATCH (a:Person {name: 'Ann'}) CREATE (a)-[:LIKES]->(:Food {name: 'tea'});
    """.write(toFile: script, atomically: true, encoding: .utf8)
    let loaded = try runEngram(["import", "cypher", "--db", db, "--tenant", "t", script])
    #expect(loaded.status == 0, "\(loaded.err)")
    #expect(loaded.out == "imported \(script) into tenant t: 2 statements, 3 nodes and 2 relationships created\n")
    return db
}

@Suite("engram subcommands and the scripted REPL")
struct CLITests {
    @Test func theREPLReadsAScriptFromStandardInput() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-cli-repl")
        let db = try makeCLIStore(directory)
        let script = """
            MATCH (p:Person)
            RETURN p.name AS name, p.age AS age
            ORDER BY name;
            MATCH (a)-[r:KNOWS]->(b) RETURN a, r;
            :param name => 'Bob'
            MATCH (p:Person {name: $name}) RETURN p.age;
            MATCH (n RETURN n;
            :format csv
            MATCH (f:Food) RETURN f.name;
            :quit
            RETURN 'not reached';
            """
        let expectedOut = """
            +-------+-----+
            | name  | age |
            +-------+-----+
            | "Ann" | 36  |
            | "Bob" | 41  |
            +-------+-----+
            2 rows
            +----------------------------------+------------------------+
            | a                                | r                      |
            +----------------------------------+------------------------+
            | (:Person {age: 36, name: "Ann"}) | [:KNOWS {since: 2020}] |
            +----------------------------------+------------------------+
            1 row
            +-------+
            | p.age |
            +-------+
            | 41    |
            +-------+
            1 row
            f.name\r
            tea

            """
        let expectedErr = """
            $name => "Bob"
            syntaxError at 1:10: expected one of ':', '{', ')' but found 'RETURN'
              MATCH (n RETURN n
                       ^
            format csv

            """
        let run = try runEngram(["repl", "--db", db, "--tenant", "t"], input: script)
        #expect(run.status == 0)
        #expect(run.out == expectedOut)
        #expect(run.err == expectedErr)
        // `engram PATH` is the same REPL.
        let short = try runEngram([db, "--tenant", "t"], input: script)
        #expect(short.status == 0 && short.out == expectedOut && short.err == expectedErr)
        // An unfinished last statement is reported, not run; the exit status stays 0.
        let unfinished = try runEngram(["repl", "--db", db], input: "RETURN 1")
        #expect(unfinished.status == 0 && unfinished.out.isEmpty)
        #expect(unfinished.err == "the last statement has no ';' and was not run\n")
    }

    @Test func everySubcommandHasHelp() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let commands: [([String], String)] = [
            ([], "An embedded knowledge-graph memory engine"),
            (["repl"], "Open a store in the interactive REPL"),
            (["query"], "Run a read-only Cypher query"),
            (["remember"], "Store a memory"),
            (["entities"], "List the entities of a tenant"),
            (["stats"], "Print counts of a tenant's graph"),
            (["import"], "Load data into a store"),
            (["import", "cypher"], "Load a Cypher script of CREATE statements"),
            (["import", "jsonl"], "Import a JSON Lines export"),
            (["import", "graph"], "Bulk-load nodes and relationships from CSV"),
            (["export"], "Export a store, a tenant or a user"),
            (["search"], "Search memories, messages and entities"),
            (["reindex"], "Re-embed every memory, message and entity"),
            (["dedupe"], "List likely duplicate entities"),
            (["demo"], "show what Engram does"),
            (["embed"], "Print the embedding vectors"),
            (["model"], "Manage the built-in all-MiniLM-L6-v2"),
            (["model", "install"], "Download and install the MiniLM model"),
            (["bench"], "Measure Engram on fixed workloads"),
            (["bench", "cypher"], "through Engram's Cypher"),
        ]
        for (command, abstract) in commands {
            let help = try runEngram(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            #expect(help.out.contains(abstract), "\(command): \(help.out)")
            #expect(help.err.isEmpty)
        }
        for common in ["--db", "--tenant", "--user", "--agent", "--format"] {
            for command in ["repl", "query", "remember", "entities", "stats"] {
                #expect(try runEngram([command, "--help"]).out.contains(common), "\(command) \(common)")
            }
        }
    }

    @Test func badArgumentsExitWithTwo() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-cli-args")
        let db = directory.appending("db")
        let cases: [([String], String)] = [
            (["query", "--db", db], "Missing expected argument '<query>'"),
            (["query", "--db", db, "--format", "xml", "RETURN 1"], "--format"),
            (["query", "--db", db, "--param", "novalue", "RETURN 1"], "--param needs name=value"),
            (["query", "RETURN 1"], "Missing expected argument '--db <db>'"),
            (["stats", "--db", db, "--bogus"], "Unknown option '--bogus'"),
            (["remember", "--db", db, "--scope", "planet", "x"], "--scope must be agent, user, tenant or global"),
            (["entities", "--db", db, "--limit", "0"], "--limit must lie in 1…1000"),
            (["import", "cypher", "--db", db, "--batch-size", "0", "f.cypher"], "--batch-size must be at least 1"),
            (["repl", "--db", db, "--tenant", ""], "--tenant cannot be empty"),
            (["nosuchcommand", "--oops"], "Unknown option '--oops'"),
        ]
        for (arguments, message) in cases {
            let run = try runEngram(arguments)
            #expect(run.status == 2, "\(arguments): \(run.err)")
            #expect(run.out.isEmpty && run.err.contains(message), "\(arguments): \(run.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: db))  // nothing was created
    }

    @Test func runtimeErrorsExitWithOneAndTheTypedMessage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-cli-errors")
        let db = try makeCLIStore(directory)
        let syntax = try runEngram(["query", "--db", db, "MATCH (n:Person)\nRETURN n.nme AS x ORDER BY y"])
        #expect(syntax.status == 1 && syntax.out.isEmpty)
        #expect(syntax.err == "semanticError at 2:28: variable `y` is not defined\n  RETURN n.nme AS x ORDER BY y\n                             ^\n")
        let noUser = try runEngram(["remember", "--db", db, "Ann likes tea"])
        #expect(noUser.status == 1 && noUser.err.contains("invalid_argument: a user-scoped memory needs a context with a user"))
        let missing = try runEngram(["stats", "--db", directory.appending("nowhere")])
        #expect(missing.status == 1 && missing.err.contains("not_found"))
        let missingREPLFile = try runEngram(["entities", "--db", directory.appending("nowhere")])
        #expect(missingREPLFile.status == 1)
        let badScript = directory.appending("bad.cypher")
        try "CREATE (:Ok);\nCREATE (:Bad {x: })".write(toFile: badScript, atomically: true, encoding: .utf8)
        let script = try runEngram(["import", "cypher", "--db", db, badScript])
        #expect(script.status == 1)
        #expect(script.err.hasPrefix("syntaxError at 2:18: statement 2 of the script: ") && script.err.contains("(nothing was imported)"))
        let absentFile = try runEngram(["import", "cypher", "--db", db, directory.appending("absent.cypher")])
        #expect(absentFile.status == 1 && absentFile.err.contains("not_found: cannot read"))
        let writes = try runEngram(["query", "--db", db, "CREATE (:X)"])
        #expect(writes.status == 1 && writes.err.hasPrefix("readOnlyQuery"))
    }

    @Test func rememberEntitiesStatsExportAndImport() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-cli-memory")
        let db = try makeCLIStore(directory)
        let remembered = try runEngram([
            "remember", "--db", db, "--tenant", "t", "--user", "ann", "--kind", "preference", "--format", "json", "Ann likes tea",
        ])
        #expect(remembered.status == 0, "\(remembered.err)")
        let memory = try JSONSerialization.jsonObject(with: Data(remembered.out.utf8)) as? [String: String]
        #expect(memory?["kind"] == "preference" && memory?["scope"] == "user" && memory?["content"] == "Ann likes tea")

        let stats = try runEngram(["stats", "--db", db, "--tenant", "t", "--user", "ann", "--format", "csv"])
        #expect(stats.status == 0)
        let lines = stats.out.components(separatedBy: "\r\n")
        #expect(lines.prefix(3) == ["statistic,value", "nodes,5", "relationships,2"], "\(lines)")
        #expect(lines.contains("memories.kind:preference,1"))

        let schema = try runEngram(["stats", "--db", db, "--tenant", "t", "--schema", "--format", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(schema.out.utf8)) as? [String: Any]
        #expect(document?["columns"] as? [String] == ["kind", "name", "nodes", "relationships"])

        let entities = try runEngram(["entities", "--db", db, "--tenant", "t"])
        #expect(entities.status == 0 && entities.out == """
            +----+------+------+---------+-------------+
            | id | name | type | aliases | description |
            +----+------+------+---------+-------------+
            0 rows

            """)

        let export = directory.appending("t.jsonl")
        #expect(try runEngram(["export", "--db", db, "--tenant", "t", "--output", export]).status == 0)
        let copy = directory.appending("copy")
        let imported = try runEngram(["import", "jsonl", "--db", copy, export])
        #expect(imported.status == 0, "\(imported.err)")
        let count = try runEngram(["query", "--db", copy, "--tenant", "t", "--format", "json", "MATCH (p:Person) RETURN count(p) AS n"])
        #expect(count.out == "{\"columns\":[\"n\"],\"rows\":[[2]]}\n")
        let wide = try runEngram([
            "query", "--db", db, "--tenant", "t", "--wide", "RETURN '\(String(repeating: "x", count: 70))' AS long",
        ])
        #expect(wide.out.contains(String(repeating: "x", count: 70)))
        let cut = try runEngram(["query", "--db", db, "RETURN '\(String(repeating: "x", count: 70))' AS long"])
        #expect(cut.out.contains("\"" + String(repeating: "x", count: 58) + "…"))
        let embed = try runEngram(["embed", "--model", "hashing", "--dimension", "4", "hello"])
        #expect(embed.status == 0 && embed.out.contains("\"dimension\":4"))
    }
}
