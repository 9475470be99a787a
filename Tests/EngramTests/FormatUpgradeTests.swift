import Engram
import EngramCore
import EngramStorage
import EngramTestSupport
import Foundation
import Testing

/// Stores of format version 1 (before adjacency entries carried their relationship's properties)
/// are upgraded by a writable open, and refused untouched by a read-only one.
@Suite("Format upgrade 1 → 2")
struct FormatUpgradeTests {
    /// A version 2 store turned back into version 1: every adjacency value emptied, the version
    /// set to 1. Returns the store's path and the rows ``query`` gave before the downgrade.
    static func versionOneStore(_ directory: TemporaryDirectory) throws -> (path: String, rows: [[CypherValue]]) {
        let path = directory.appending("store")
        let rows: [[CypherValue]]
        do {
            let store = try EngramStore(path: path)
            let graph = store.graph()
            var generator = SeededGenerator(seed: 7)
            for index in 0..<40 {
                try graph.createNode(id: "n\(index)", labels: ["Thing"], properties: ["rank": .int(Int64(index))])
            }
            for index in 0..<120 {
                let from = Int(generator.next() % 40)
                let to = Int(generator.next() % 40)
                let properties: [String: PropertyValue] =
                    index % 3 == 0 ? [:] : ["weight": .double(Double(generator.next() % 1000) / 1000), "note": .string("é\(index)")]
                try graph.createRelationship(from: "n\(from)", to: "n\(to)", type: index % 2 == 0 ? "A" : "B", properties: properties)
            }
            rows = try store.query(query).rows
        }
        let environment = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("adjacency")])
        let adjacency = try environment.keyspace("adjacency")
        let meta = try environment.keyspace("meta")
        try environment.write { txn in
            var keys: [[UInt8]] = []
            try txn.scan(in: adjacency, prefix: []) { key, _ in
                keys.append(Array(key))
                return true
            }
            for key in keys { try txn.put([], forKey: key, in: adjacency) }
            try txn.put(KeyWriter.bigEndian(UInt32(1)), forKey: Array("format_version".utf8), in: meta)
        }
        return (path, rows)
    }

    static let query =
        "MATCH (a:Thing)-[r]->(b:Thing) WHERE r.weight > 0.3 RETURN a.rank AS a, type(r) AS t, r.weight AS w, r.note AS n, b.rank AS b ORDER BY a, b, w, n"

    @Test func writableOpenUpgradesAndQueriesReadTheSameProperties() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let (path, expected) = try Self.versionOneStore(directory)
        #expect(expected.count > 10)
        do {
            // The upgrade puts the properties back: the invariant checker compares each adjacency
            // entry with its record, and the query reads them from the entries again.
            let store = try EngramStore(path: path)
            #expect(store.formatVersion == 2)
            #expect(try store._checkGraphInvariants() == [])
            #expect(try store.query(Self.query).rows == expected)
            let weights = try store.query("MATCH ()-[r]->() WHERE r.weight IS NOT NULL RETURN count(*)")
            #expect(weights.rows == [[.integer(80)]])
        }
        // Reopened, nothing more to do: the same answers.
        let store = try EngramStore(path: path)
        #expect(store.formatVersion == 2)
        #expect(try store.query(Self.query).rows == expected)
    }

    @Test func readOnlyOpenOfAnOlderStoreIsRefusedAndLeavesItUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let (path, _) = try Self.versionOneStore(directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        do {
            var configuration = EngramStore.Configuration()
            configuration.readOnly = true
            _ = try EngramStore(path: path, configuration: configuration)
            Issue.record("opened a version 1 store read-only")
        } catch let error as EngramError {
            #expect(error.code == .formatVersionMismatch)
            #expect(error.message.contains("open it once writable"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
    }
}

/// The upgrade machinery itself, on a bare environment.
@Suite("Store upgrades")
struct StoreUpgradeTests {
    static func versionOne(_ directory: TemporaryDirectory) throws -> String {
        let path = directory.appending("store")
        let environment = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("items")])
        let meta = try environment.keyspace("meta")
        let items = try environment.keyspace("items")
        try environment.write { txn in
            try txn.put([1], forKey: [1], in: items)
            try txn.put(KeyWriter.bigEndian(UInt32(1)), forKey: Array("format_version".utf8), in: meta)
        }
        return path
    }

    @Test func anOlderStoreWithoutAnUpgradePathIsRefusedUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let path = try Self.versionOne(directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        do {
            _ = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("items")])
            Issue.record("opened a version 1 store with no upgrade")
        } catch let error as EngramError {
            #expect(error.code == .formatVersionMismatch)
            #expect(error.message.contains("export it"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
    }

    @Test func aFailingUpgradeLeavesTheStoreAsItWas() throws {
        struct Failure: Error {}
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let path = try Self.versionOne(directory)
        let failing = StoreUpgrade(to: 2) { txn, keyspaces in
            try txn.put([2], forKey: [2], in: keyspaces["items"]!)
            throw Failure()
        }
        #expect(throws: Failure.self) { _ = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("items")], upgrades: [failing]) }
        let upgrade = StoreUpgrade(to: 2) { txn, keyspaces in
            #expect(try txn.value(forKey: [2], in: keyspaces["items"]!) == nil)  // the failed step left nothing
            try txn.put([3], forKey: [3], in: keyspaces["items"]!)
        }
        let environment = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("items")], upgrades: [upgrade])
        #expect(environment.formatVersion == 2)
        let items = try environment.keyspace("items")
        try environment.read { (txn) throws in
            #expect(try txn.value(forKey: [1], in: items) == [1])
            #expect(try txn.value(forKey: [3], in: items) == [3])
        }
    }
}
