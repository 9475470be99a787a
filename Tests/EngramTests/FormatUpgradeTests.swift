import Engram
import EngramCore
import EngramStorage
import EngramTestSupport
import Foundation
import Testing

/// Stores of format version 1 (before adjacency entries carried their relationship's properties)
/// are upgraded by a writable open through version 2 to the current version, and refused
/// untouched by a read-only one.
@Suite("Format upgrade 1 → 3")
struct FormatUpgradeTests {
    /// A current store turned back into version 1: every adjacency value emptied, the `degrees`
    /// keyspace deleted, the version set to 1. Returns the store's path and the rows ``query`` gave
    /// before the downgrade.
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
        let environment = try StorageEnvironment.open(
            at: path, keyspaces: [KeyspaceDescriptor("adjacency"), KeyspaceDescriptor("degrees")])
        let adjacency = try environment.keyspace("adjacency")
        let meta = try environment.keyspace("meta")
        try environment.write { txn in
            var keys: [[UInt8]] = []
            try txn.scan(in: adjacency, prefix: []) { key, _ in
                keys.append(Array(key))
                return true
            }
            for key in keys { try txn.put([], forKey: key, in: adjacency) }
            try txn._deleteKeyspace(environment.keyspace("degrees"))
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
            #expect(store.formatVersion == 3)
            #expect(try store._checkGraphInvariants() == [])
            #expect(try store.query(Self.query).rows == expected)
            let weights = try store.query("MATCH ()-[r]->() WHERE r.weight IS NOT NULL RETURN count(*)")
            #expect(weights.rows == [[.integer(80)]])
            // Through version 2 to 3: the degrees are counted too (the checker above recounts them).
            let rows = try store.query("MATCH (a)-[r]-() RETURN r").rows.count
            #expect(try store.query("MATCH (a)-[]-() RETURN count(*)").rows == [[.integer(Int64(rows))]])
        }
        // Reopened, nothing more to do: the same answers.
        let store = try EngramStore(path: path)
        #expect(store.formatVersion == 3)
        #expect(try store.query(Self.query).rows == expected)
    }

    @Test func readOnlyOpenOfAnOlderStoreIsRefusedAndLeavesItUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let (path, _) = try Self.versionOneStore(directory)
        try expectReadOnlyOpenRefused(path, version: 1)
    }
}

/// Stores of format version 2 (before the stored degrees) get their `degrees` counted from
/// adjacency by a writable open, and are refused untouched by a read-only one.
@Suite("Format upgrade 2 → 3")
struct DegreeUpgradeTests {
    static let nodes = (0..<15).map { "n\($0)" }

    /// A current store of a random graph in two tenants turned back into version 2: the `degrees`
    /// keyspace deleted, the version set to 2. Returns the store's path and each tenant's model.
    static func versionTwoStore(_ directory: TemporaryDirectory) throws
        -> (path: String, models: [String: DegreeModel])
    {
        let path = directory.appending("store")
        var models: [String: DegreeModel] = [:]
        do {
            let store = try EngramStore(path: path)
            var generator = SeededGenerator(seed: 23)
            for tenant in ["alpha", "beta"] {
                let graph = store.graph(tenant: tenant)
                for node in nodes { try graph.createNode(id: node, labels: ["Thing"]) }
                for _ in 0..<90 {
                    let from = nodes[Int(generator.next() % UInt64(nodes.count))]
                    let to = generator.next() % 8 == 0 ? from : nodes[Int(generator.next() % UInt64(nodes.count))]
                    let type = ["T", "U", "V"][Int(generator.next() % 3)]
                    let created = try graph.createRelationship(from: from, to: to, type: type, properties: ["w": 1.5])
                    models[tenant, default: DegreeModel()].relationships[created.id] =
                        .init(from: from, to: to, type: type)
                }
            }
            for (tenant, model) in models { try model.expectStoreAgrees(store, tenant: tenant, nodes: nodes) }
        }
        let environment = try StorageEnvironment.open(at: path, keyspaces: [KeyspaceDescriptor("degrees")])
        let meta = try environment.keyspace("meta")
        try environment.write { txn in
            try txn._deleteKeyspace(environment.keyspace("degrees"))
            try txn.put(KeyWriter.bigEndian(UInt32(2)), forKey: Array("format_version".utf8), in: meta)
        }
        return (path, models)
    }

    @Test func writableOpenCountsTheDegreesAndQueriesAnswerAsBefore() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let (path, models) = try Self.versionTwoStore(directory)
        do {
            let store = try EngramStore(path: path)
            #expect(store.formatVersion == 3)
            #expect(try store._checkGraphInvariants() == [])
            for (tenant, model) in models { try model.expectStoreAgrees(store, tenant: tenant, nodes: Self.nodes) }
        }
        let store = try EngramStore(path: path)
        #expect(store.formatVersion == 3)
        #expect(try store._checkGraphInvariants() == [])
    }

    @Test func readOnlyOpenOfAVersionTwoStoreIsRefusedAndLeavesItUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "engram-upgrade")
        let (path, _) = try Self.versionTwoStore(directory)
        try expectReadOnlyOpenRefused(path, version: 2)
    }
}

/// A read-only open of the store at `path`, of an older format `version`, fails with
/// `formatVersionMismatch` naming the version and the advice, and leaves the data file byte for
/// byte as it was.
func expectReadOnlyOpenRefused(_ path: String, version: Int) throws {
    let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
    do {
        var configuration = EngramStore.Configuration()
        configuration.readOnly = true
        _ = try EngramStore(path: path, configuration: configuration)
        Issue.record("opened a version \(version) store read-only")
    } catch let error as EngramError {
        #expect(error.code == .formatVersionMismatch)
        #expect(error.message.contains("format version \(version)") && error.message.contains("open it once writable"))
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
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
        // Steps 2 … current; the first writes and the last fails: nothing of either is kept.
        let later = (3...StoreFormat.currentVersion).map { version in
            StoreUpgrade(to: version) { txn, keyspaces in
                try txn.put([UInt8(version)], forKey: [UInt8(version)], in: keyspaces["items"]!)
            }
        }
        let failing = StoreUpgrade(to: StoreFormat.currentVersion) { _, _ in throw Failure() }
        let first = StoreUpgrade(to: 2) { txn, keyspaces in try txn.put([2], forKey: [2], in: keyspaces["items"]!) }
        #expect(throws: Failure.self) {
            _ = try StorageEnvironment.open(
                at: path, keyspaces: [KeyspaceDescriptor("items")], upgrades: [first] + later.dropLast() + [failing])
        }
        let upgrade = StoreUpgrade(to: 2) { txn, keyspaces in
            #expect(try txn.value(forKey: [2], in: keyspaces["items"]!) == nil)  // the failed upgrade left nothing
            try txn.put([2], forKey: [2], in: keyspaces["items"]!)
        }
        let environment = try StorageEnvironment.open(
            at: path, keyspaces: [KeyspaceDescriptor("items")], upgrades: [upgrade] + later)
        #expect(environment.formatVersion == StoreFormat.currentVersion)
        let items = try environment.keyspace("items")
        try environment.read { (txn) throws in
            for version in 1...StoreFormat.currentVersion {
                #expect(try txn.value(forKey: [UInt8(version)], in: items) == [UInt8(version)])
            }
        }
    }
}
