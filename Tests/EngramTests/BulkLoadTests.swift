import Engram
import EngramTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Graph: bulk load and CSV import")
struct BulkLoadTests {
    /// Writes a node and a relationship CSV of the bench's shape, with `nodes` nodes and `edges` edges.
    static func writeCSV(in directory: TemporaryDirectory, nodes: Int, edges: Int, seed: UInt64) throws -> (String, String) {
        var generator = SeededGenerator(seed: seed)
        var entityLines = ["id,name,type"]
        for i in 0..<nodes { entityLines.append("E\(i),\"Name, \(i)\",\(["PERSON", "ORGANIZATION"].randomElement(using: &generator)!)") }
        var relationLines = ["from,to,type,weight"]
        for _ in 0..<edges {
            let from = Int.random(in: 0..<nodes, using: &generator)
            let to = Int.random(in: 0..<nodes, using: &generator)
            relationLines.append("E\(from),E\(to),\(["KNOWS", "WORKS_AT"].randomElement(using: &generator)!),\(Double(Int.random(in: 0..<10_000, using: &generator)) / 10_000)")
        }
        let entities = directory.appending("entities.csv")
        let relations = directory.appending("relations.csv")
        try entityLines.joined(separator: "\n").write(toFile: entities, atomically: true, encoding: .utf8)
        try (relationLines.joined(separator: "\r\n") + "\r\n").write(toFile: relations, atomically: true, encoding: .utf8)
        return (entities, relations)
    }

    @Test func csvLoadMatchesOneByOneCreation() throws {
        let directory = try TemporaryDirectory(prefix: "engram-bulk")
        let (entities, relations) = try Self.writeCSV(in: directory, nodes: 300, edges: 2_000, seed: 3)
        let nodes = try GraphCSV.nodes(atPath: entities)
        let relationships = try GraphCSV.relationships(atPath: relations)
        #expect(nodes.count == 300 && relationships.count == 2_000)
        #expect(nodes[7].properties["name"] == "Name, 7" && nodes[7].labels == ["Entity"])
        #expect(relationships[0].properties["weight"]?.doubleValue != nil)

        let bulk = try EngramStore(path: directory.appending("bulk"))
        var batches = 0
        let done = try bulk.graph().bulkLoad(nodes: nodes, relationships: relationships, batchSize: 170) { _ in batches += 1 }
        #expect(done.nodes == 300 && done.relationships == 2_000)
        #expect(batches == 2 + 12)
        #expect(try bulk._checkGraphInvariants() == [])

        let single = try EngramStore(path: directory.appending("single"))
        for node in nodes { try single.graph().createNode(id: node.id, labels: node.labels, properties: node.properties) }
        for r in relationships { try single.graph().createRelationship(from: r.from, to: r.to, type: r.type, properties: r.properties) }
        for node in nodes.prefix(60) {
            #expect(try bulk.graph().node(id: node.id) == single.graph().node(id: node.id))
            for direction in GraphDirection.allCases {
                let a = try bulk.graph().neighbors(of: node.id, direction: direction).map { [$0.node.id, $0.relationship.type] }
                let b = try single.graph().neighbors(of: node.id, direction: direction).map { [$0.node.id, $0.relationship.type] }
                #expect(a.sorted { $0.lexicographicallyPrecedes($1) } == b.sorted { $0.lexicographicallyPrecedes($1) })
            }
        }
        #expect(try bulk.graph().statistics() == single.graph().statistics())
        // A second load into the same store appends through the slow path and still holds together.
        try bulk.graph().bulkLoad(
            nodes: [NodeImport(id: "late", labels: ["Entity"])],
            relationships: [RelationshipImport(from: "late", to: "E1", type: "KNOWS")])
        #expect(try bulk.graph().degree(of: "late") == 1)
        #expect(try bulk._checkGraphInvariants() == [])
        #expect(errorCode { try bulk.graph().bulkLoad(nodes: [NodeImport(id: "late")], relationships: []) } == .alreadyExists)
        #expect(errorCode { try bulk.graph().bulkLoad(nodes: [], relationships: [RelationshipImport(from: "nope", to: "E1", type: "X")]) } == .notFound)
        #expect(try bulk._checkGraphInvariants() == [])
    }

    @Test func malformedCSVGetsLineNumbers() throws {
        let directory = try TemporaryDirectory(prefix: "engram-csv")
        let path = directory.appending("bad.csv")
        try "id,name\nA,1\nB,2,3\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try GraphCSV.nodes(atPath: path)
            Issue.record("accepted a row of the wrong width")
        } catch let error as EngramError {
            #expect(error.code == .invalidArgument && error.message.contains(":3:"))
        }
        try "from,to\nA,B\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(errorCode { _ = try GraphCSV.relationships(atPath: path) } == .invalidArgument)
        try "id,name\nA,\"open\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(errorCode { _ = try GraphCSV.nodes(atPath: path) } == .invalidArgument)
        #expect(errorCode { _ = try GraphCSV.nodes(atPath: directory.appending("missing.csv")) } == .notFound)
    }

    @Test func sigkillDuringABulkLoadLeavesAConsistentStore() throws {
        let binary = engramBinary()
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the engram executable first: \(binary)")
        let directory = try TemporaryDirectory(prefix: "engram-bulk-crash")
        let (entities, relations) = try Self.writeCSV(in: directory, nodes: 20_000, edges: 200_000, seed: 9)
        var generator = SeededGenerator(seed: 21)
        var partialLoads = 0
        for round in 0..<3 {
            let db = directory.appending("store\(round)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["import", "graph", "--db", db, "--nodes", entities, "--relationships", relations, "--batch-size", "5000"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill once the store exists, at a random moment of the load.
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: db + "/data.mdb") && Date() < deadline { usleep(2_000) }
            usleep(UInt32.random(in: 0...300_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard FileManager.default.fileExists(atPath: db + "/data.mdb") else { continue }  // killed before opening
            let store = try EngramStore(path: db)
            #expect(try store._checkGraphInvariants() == [], "round \(round)")
            let statistics = try store.graph().statistics()
            // Whole batches only.
            #expect(statistics.nodes % 5_000 == 0 || statistics.nodes == 20_000)
            #expect(statistics.relationships % 5_000 == 0)
            if statistics.relationships < 200_000 { partialLoads += 1 }
        }
        #expect(partialLoads > 0, "every load finished before the kill; the test proved nothing")
    }
}
