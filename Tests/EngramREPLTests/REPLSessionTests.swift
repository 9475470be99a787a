import Engram
import EngramREPL
import EngramTestSupport
import Foundation
import Synchronization
import Testing

/// Collects what a session writes.
final class Transcript: Sendable {
    private let lines = Mutex<(out: String, err: String)>(("", ""))
    var out: String { lines.withLock { $0.out } }
    var err: String { lines.withLock { $0.err } }
    var output: REPLOutput {
        REPLOutput(
            standard: { text in self.lines.withLock { $0.out += text } },
            error: { text in self.lines.withLock { $0.err += text } })
    }
    func clear() { lines.withLock { $0 = ("", "") } }
}

/// A small graph in tenant `t`: Ann knows Bob, Ann likes tea.
func makeStore(_ directory: TemporaryDirectory) throws -> EngramStore {
    let store = try EngramStore(path: directory.appending("store"))
    try store.importCypher(
        """
        CREATE (:Person {name: 'Ann', age: 36})-[:KNOWS {since: 2020}]->(:Person {name: 'Bob', age: 41});
        MATCH (a:Person {name: 'Ann'}) CREATE (a)-[:LIKES]->(:Food {name: 'tea'});
        """, tenant: "t")
    return store
}

@Suite("REPL session")
struct REPLSessionTests {
    @Test func multiLineStatementsRunWhenASemicolonEndsThem() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-session")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        #expect(session.prompt == "engram(t/-)> ")
        await session.handle("MATCH (p:Person)")
        #expect(transcript.out.isEmpty)
        #expect(session.prompt == "        ...> ")
        await session.handle("RETURN p.name AS name, p.age AS age ORDER BY name; RETURN 1 AS one;")
        #expect(
            transcript.out == """
                +-------+-----+
                | name  | age |
                +-------+-----+
                | "Ann" | 36  |
                | "Bob" | 41  |
                +-------+-----+
                2 rows
                +-----+
                | one |
                +-----+
                | 1   |
                +-----+
                1 row

                """)
        #expect(session.pending.isEmpty && session.prompt == "engram(t/-)> ")
        // A ';' inside a string or a comment does not end a statement.
        transcript.clear()
        await session.handle("RETURN 'a;b' AS s // ; not the end")
        await session.handle(";")
        #expect(transcript.out.contains("| \"a;b\" |"))
    }

    @Test func nodesRelationshipsAndPathsAreWrittenAsCypherShellDoes() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-values")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        await session.handle("MATCH p = (a:Person {name: 'Ann'})-[r:KNOWS]->(b) RETURN a, r, p, null AS n, true AS t, [1, 'x'] AS l;")
        #expect(
            transcript.out.contains(
                #"| (:Person {age: 36, name: "Ann"}) | [:KNOWS {since: 2020}] | (:Person {age: 36, name: "Ann"})-[:KNOWS {since: 2020}]->(:… | NULL | TRUE | [1, "x"] |"#
            ), "\(transcript.out)")
        transcript.clear()
        await session.handle(":width off")
        await session.handle("MATCH p = (:Person {name: 'Bob'})<-[:KNOWS]-(:Person) RETURN p;")
        #expect(transcript.out.contains(#"| (:Person {age: 41, name: "Bob"})<-[:KNOWS {since: 2020}]-(:Person {age: 36, name: "Ann"}) |"#))
        #expect(transcript.err == "cells are shown whole\n")
    }

    @Test func formatsParametersAndTiming() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-format")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        await session.handle(":param minimum => 40")
        await session.handle(":param names => ['Bob', 'Zed'] + [$minimum]")
        await session.handle(":params")
        #expect(transcript.out == "$minimum => 40\n$names => [\"Bob\", \"Zed\", 40]\n")
        #expect(transcript.err == "$minimum => 40\n$names => [\"Bob\", \"Zed\", 40]\n")
        transcript.clear()
        await session.handle(":format json")
        await session.handle("MATCH (p:Person) WHERE p.age >= $minimum RETURN p;")
        #expect(
            transcript.out
                == #"{"columns":["p"],"rows":[[{"id":"# + "\"" + (try idOf("Bob", session.store)) + "\""
                + #","labels":["Person"],"properties":{"age":41,"name":"Bob"}}]]}"# + "\n")
        transcript.clear()
        await session.handle(":format csv")
        await session.handle("MATCH (p:Person) RETURN p.name, p.age ORDER BY p.age;")
        #expect(transcript.out == "p.name,p.age\r\nAnn,36\r\nBob,41\n")
        await session.handle(":format yaml")
        #expect(transcript.err.hasSuffix("'yaml' is not a format\nusage: :format table|json|csv\n"))
        transcript.clear()
        await session.handle(":format table")
        await session.handle(":timing on")
        await session.handle("RETURN 1;")
        let footer = try #require(transcript.out.split(separator: "\n").last)
        #expect(footer.hasPrefix("1 row (") && footer.hasSuffix(" ms)"))
        await session.handle(":params clear")
        transcript.clear()
        await session.handle(":params")
        #expect(transcript.out.isEmpty && transcript.err.hasPrefix("no parameters"))
    }

    @Test func errorsShowACaretUnderTheirPosition() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-errors")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        await session.handle("MATCH (n:Person)")
        await session.handle("RETURN n.name AS name ORDER BY nam;")
        #expect(transcript.out.isEmpty)
        let caret = String(repeating: " ", count: 2 + 31) + "^"
        #expect(
            transcript.err
                == "semanticError at 2:32: variable `nam` is not defined\n  RETURN n.name AS name ORDER BY nam\n\(caret)\n")
        transcript.clear()
        await session.handle(":explain MATCH (n RETURN n")
        #expect(transcript.err.hasPrefix("syntaxError at 1:10: "))
        #expect(transcript.err.hasSuffix("  MATCH (n RETURN n\n           ^\n"))
        transcript.clear()
        await session.handle("CREATE (:X);")
        #expect(transcript.err.hasPrefix("readOnlyQuery"))
        transcript.clear()
        await session.handle(":nope")
        await session.handle(":use planet x")
        #expect(
            transcript.err
                == "unknown command ':nope'; type :help for the list\n'planet' is not tenant, user or agent\nusage: :use tenant|user|agent [NAME]\n")
        // The session goes on after every error.
        transcript.clear()
        await session.handle("RETURN 1 AS x;")
        #expect(transcript.out.contains("| 1 |"))
    }

    @Test func explainAndProfileShowThePlan() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-explain")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        await session.handle(":explain MATCH (p:Person) RETURN count(p);")
        #expect(transcript.out.contains("NodeCountFromCountStore") && !transcript.out.contains("row"))
        transcript.clear()
        await session.handle(":profile MATCH (p:Person) RETURN p.name ORDER BY p.name")
        #expect(transcript.out.contains("| \"Ann\"  |") && transcript.out.contains("{rows: 2, time: "))
        #expect(transcript.out.hasSuffix("2 rows\n"))
    }

    @Test func memoryCommandsActAsTheCurrentUser() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-memory")
        let transcript = Transcript()
        let store = try makeStore(directory)
        let session = REPLSession(store: store, tenant: "t", output: transcript.output)
        await session.handle(":remember Ann likes tea")
        #expect(transcript.err.contains("invalid_argument: a user-scoped memory needs a context with a user"))
        transcript.clear()
        await session.handle(":use user ann")
        #expect(session.prompt == "engram(t/ann)> ")
        await session.handle(":remember \"Ann likes tea; a lot\" --kind preference --importance 0.9")
        #expect(transcript.out.hasPrefix("remembered ") && transcript.out.hasSuffix("(preference, user scope): Ann likes tea; a lot\n"))
        let memories = try store.context(tenant: "t", user: "ann").memories().items
        #expect(memories.map(\.content) == ["Ann likes tea; a lot"] && memories[0].importance == 0.9)
        await session.handle(":remember x --colour red")
        #expect(transcript.err.contains("unknown option '--colour'"))

        try await store.context(tenant: "t").addEntity(name: "Lisbon", type: "City", id: "lisbon")
        try await store.context(tenant: "t").addEntity(name: "Ada", type: "Person", aliases: ["Countess"], id: "ada")
        transcript.clear()
        await session.handle(":entities City")
        #expect(
            transcript.out == """
                +--------+--------+------+---------+-------------+
                | id     | name   | type | aliases | description |
                +--------+--------+------+---------+-------------+
                | lisbon | Lisbon | City | []      | NULL        |
                +--------+--------+------+---------+-------------+
                1 row

                """)
        transcript.clear()
        await session.handle(":entities --limit 1")
        #expect(transcript.err == "(1 of 2 entities; use --limit)\n")
    }

    @Test func schemaStatsUseExportAndImport() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-schema")
        let transcript = Transcript()
        let store = try makeStore(directory)
        try store.graph(tenant: "t").createIndex(label: "Person", property: "name")
        let session = REPLSession(store: store, tenant: "t", output: transcript.output)
        await session.handle(":schema")
        #expect(
            transcript.out == """
                +-------------------+--------------+-------+---------------+
                | kind              | name         | nodes | relationships |
                +-------------------+--------------+-------+---------------+
                | label             | Food         | 1     | NULL          |
                | label             | Person       | 2     | NULL          |
                | relationship type | KNOWS        | NULL  | 1             |
                | relationship type | LIKES        | NULL  | 1             |
                | property key      | age          | 2     | 0             |
                | property key      | name         | 3     | 0             |
                | property key      | since        | 0     | 1             |
                | index             | Person(name) | 2     | NULL          |
                +-------------------+--------------+-------+---------------+
                8 rows

                """)
        transcript.clear()
        await session.handle(":stats")
        let rows = transcript.out.split(separator: "\n")
        #expect(rows.contains { $0.hasPrefix("| nodes ") && $0.hasSuffix("| 3         |") }, "\(transcript.out)")
        #expect(rows.contains { $0.hasPrefix("| relationships:KNOWS ") && $0.hasSuffix("| 1         |") })

        let file = directory.appending("t.jsonl")
        await session.handle(":export \(file)")
        await session.handle(":use tenant copy")
        await session.handle(":import \(file)")
        transcript.clear()
        await session.handle("MATCH (n) RETURN count(n) AS n;")
        #expect(transcript.out.contains("| 3 |"), "\(transcript.err)")
        let script = directory.appending("more.cypher")
        try "CREATE (:City {name: 'Lisbon'});\nCREATE (:City {name: 'Porto'})".write(toFile: script, atomically: true, encoding: .utf8)
        transcript.clear()
        await session.handle(":import \(script)")
        #expect(transcript.err == "imported \(script) into tenant copy: 2 statements, 2 nodes and 0 relationships created\n")
        await session.handle(":import \(directory.appending("data.txt"))")
        #expect(transcript.err.contains("invalid_argument: cannot tell what"))
    }

    @Test func helpListsEveryCommandAndTheTableTakesNewOnes() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-help")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), output: transcript.output)
        await session.handle(":help")
        for command in REPLCommand.standard { #expect(transcript.out.contains(command.usage)) }
        session.register(
            REPLCommand(name: "echo", usage: ":echo TEXT", help: "Say it back.") { session, argument in session.write(argument) })
        transcript.clear()
        await session.handle(":echo hi there")
        await session.handle(":help echo")
        #expect(transcript.out == "hi there\n:echo TEXT\n  Say it back.\n")
        await session.handle(":quit")
        #expect(session.isFinished)
    }

    @Test func cancellingStopsALongQuery() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-cancel")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), tenant: "t", output: transcript.output)
        let interrupt = session.interrupt
        #expect(!interrupt.cancel())  // nothing runs: the next query is cancelled…
        await session.handle("RETURN 1;")
        #expect(transcript.err.hasSuffix("cancelled: the query was cancelled\n") && transcript.out.isEmpty)
        #expect(!interrupt.cancel())
        interrupt.clear()  // …unless the shell clears it (at each prompt)
        await session.handle("RETURN 1 AS one;")
        #expect(transcript.out.contains("| 1   |"))
        transcript.clear()
        // A thread of its own, as the REPL's SIGINT watcher: the query blocks this task's thread,
        // and a task could wait for a cooperative thread that never frees up.
        Thread.detachNewThread {
            while !interrupt.cancel() { usleep(2000) }
        }
        // A cartesian product of 3^20 rows: endless, in constant memory.
        let patterns = (1...20).map { "(n\($0))" }.joined(separator: ", ")
        await session.handle("MATCH \(patterns) RETURN count(*);")
        #expect(transcript.err.hasSuffix("cancelled: the query was cancelled\n"), "\(transcript.err)")
    }

    @Test func anUnfinishedStatementAtTheEndIsReportedNotRun() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-finish")
        let transcript = Transcript()
        let session = REPLSession(store: try makeStore(directory), output: transcript.output)
        await session.handle("RETURN 1")
        session.finish()
        #expect(transcript.out.isEmpty && transcript.err == "the last statement has no ';' and was not run\n")
    }
}

private func idOf(_ name: String, _ store: EngramStore) throws -> String {
    let result = try store.query("MATCH (p:Person {name: $name}) RETURN elementId(p)", parameters: ["name": .string(name)], tenant: "t")
    return result.rows[0][0].stringValue!
}
