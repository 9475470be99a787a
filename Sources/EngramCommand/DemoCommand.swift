import ArgumentParser
import Engram
import Foundation

/// `engram demo`: a short tour on a local store, printing what it does.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Open (or create) a store and show what Engram does, step by step."
    )

    @Option(help: "Store directory.") var db = "engram-demo-store"

    func run() throws {
        print("Engram \(EngramVersion.current) demo")
        print("\n1. Open the store at \(db) (created when missing)")
        // With MiniLM installed (`engram model install`) memories are embedded as they are written.
        let store = try StoreOpening.open(path: db, configuration: EngramStore.Configuration())
        let info = store.info()
        print("   format version \(info.formatVersion), map \(info.mapSize >> 20) MiB, \(info.usedBytes >> 10) KiB used, last transaction \(info.lastTransactionID)")
        if try store.dropTenant("demo") { print("   (cleared the 'demo' tenant of an earlier run)") }

        print("\n2. Build a small graph in tenant 'demo', every call one ACID transaction")
        let graph = store.graph(tenant: "demo")
        try graph.createIndex(label: "Person", property: "name", normalized: true)
        let people = [("ada", "Ada Lovelace", 36), ("charles", "Charles Babbage", 79), ("mary", "Mary Somerville", 91)]
        for (id, name, age) in people {
            try graph.createNode(id: id, labels: ["Person"], properties: ["name": .string(name), "age": .int(Int64(age))])
        }
        try graph.createNode(id: "engine", labels: ["Project"], properties: ["name": "Analytical Engine"])
        try graph.createNode(id: "london", labels: ["Location"], properties: ["name": "London"])
        try graph.createRelationship(from: "ada", to: "charles", type: "KNOWS", properties: ["since": 1833])
        try graph.createRelationship(from: "mary", to: "ada", type: "MENTORS")
        try graph.createRelationship(from: "ada", to: "engine", type: "WORKS_ON", properties: ["role": "programmer"])
        try graph.createRelationship(from: "charles", to: "engine", type: "WORKS_ON", properties: ["role": "designer"])
        try graph.createRelationship(from: "charles", to: "london", type: "LIVES_IN")
        let statistics = try graph.statistics()
        let labels = statistics.nodesByLabel.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        let types = statistics.relationshipsByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("   \(statistics.nodes) nodes (\(labels.joined(separator: ", "))), \(statistics.relationships) relationships (\(types.joined(separator: ", ")))")

        print("\n3. Traverse: adjacency is stored both ways, so each of these is a range scan")
        for neighbor in try graph.neighbors(of: "ada") {
            let arrow = neighbor.relationship.start == "ada" ? "-[:\(neighbor.relationship.type)]->" : "<-[:\(neighbor.relationship.type)]-"
            print("   (ada)\(arrow)(\(neighbor.node.id): \(neighbor.node.properties["name"]?.stringValue ?? ""))")
        }
        if let path = try graph.shortestPath(from: "mary", to: "london", direction: .outgoing) {
            print("   shortest path mary → london: " + path.nodes.map(\.id).joined(separator: " → "))
        }
        let found = try graph.nodes(label: "Person", property: "name", equalTo: "  ada LOVELACE ", normalized: true)
        print("   normalised index lookup '  ada LOVELACE ' → \(found.map(\.id))")

        print("\n4. Ask in Cypher (read-only, one snapshot, this tenant only)")
        let query = "MATCH (p:Person)-[w:WORKS_ON]->(x:Project) WHERE p.age < $age RETURN p.name AS person, w.role AS role, x.name AS project ORDER BY person"
        print("   \(query)   with $age = 80")
        let result = try store.query(query, parameters: ["age": 80], tenant: "demo")
        for line in result.tableString().split(separator: "\n") { print("   " + line) }
        let plan = try store.query("EXPLAIN MATCH (p:Person {name: 'Ada Lovelace'})-[:KNOWS]->(f) RETURN f.name", tenant: "demo")
        print("   EXPLAIN uses the property index:")
        for line in (plan.plan ?? "").split(separator: "\n") { print("     " + line) }
        do {
            _ = try store.query("MATCH (n) DETACH DELETE n", tenant: "demo")
        } catch {
            print("   a write is refused before anything runs: \(error)")
        }
        print("   the default tenant sees none of it: \(try store.query("MATCH (n) RETURN count(n)").rows[0][0])")

        print("\n5. Agent memory on the same graph: a conversation, entities, facts and a reasoning trace")
        for line in try blocking({ try await MemoryDemo.run(store: store) }) { print("   " + line) }

        print("\n6. Refuse a directory that is not a store (nothing is touched)")
        let foreign = FileManager.default.temporaryDirectory.appendingPathComponent("engram-demo-foreign-\(getpid())")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("not a store".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        defer { try? FileManager.default.removeItem(at: foreign) }
        do {
            _ = try EngramStore(path: foreign.path)
            print("   unexpectedly opened \(foreign.path)")
        } catch let error as EngramError {
            print("   \(error.code): \(error.message)")
        }
        print("\nDone. The store stays in \(db); open it in the REPL with: engram \(db) --tenant demo")
    }
}
