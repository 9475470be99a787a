import EngramCore
import EngramStorage
import EngramTestSupport
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test func putGetDelete() throws {
        let store = try TestStore()
        let env = store.environment!
        try env.write { (txn) throws in
            try txn.put(bytes("one"), forKey: bytes("a"), in: store.items)
            try txn.put(bytes("two"), forKey: bytes("b"), in: store.items)
        }
        try env.read { (txn) throws in
            #expect(try txn.value(forKey: bytes("a"), in: store.items) == bytes("one"))
            #expect(try txn.value(forKey: bytes("b"), in: store.items) == bytes("two"))
            #expect(try txn.value(forKey: bytes("c"), in: store.items) == nil)
            #expect(try txn.count(in: store.items) == 2)
        }
        let removed = try env.write { (txn) throws in
            (try txn.delete(bytes("a"), in: store.items), try txn.delete(bytes("zzz"), in: store.items))
        }
        #expect(removed == (true, false))
        try env.read { (txn) throws in
            #expect(try txn.value(forKey: bytes("a"), in: store.items) == nil)
            #expect(try txn.count(in: store.items) == 1)
        }
    }

    @Test func putOverwritesAndPutIfAbsentDoesNot() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            try txn.put(bytes("v1"), forKey: bytes("k"), in: store.items)
            try txn.put(bytes("v2"), forKey: bytes("k"), in: store.items)
            #expect(try txn.putIfAbsent(bytes("v3"), forKey: bytes("k"), in: store.items) == false)
            #expect(try txn.putIfAbsent(bytes("n"), forKey: bytes("new"), in: store.items) == true)
        }
        try store.environment.read { (txn) throws in
            #expect(try txn.value(forKey: bytes("k"), in: store.items) == bytes("v2"))
            #expect(try txn.value(forKey: bytes("new"), in: store.items) == bytes("n"))
        }
    }

    @Test func writeSeesItsOwnChangesAndZeroCopyReadsWork() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            try txn.put(bytes("hello"), forKey: bytes("k"), in: store.items)
            let length = try txn.withValue(forKey: bytes("k"), in: store.items) { $0?.count }
            #expect(length == 5)
        }
    }

    @Test func abortLeavesNoTrace() throws {
        struct Boom: Error {}
        let store = try TestStore()
        try store.environment.write { txn in try txn.put(bytes("keep"), forKey: bytes("a"), in: store.items) }
        #expect(throws: Boom.self) {
            try store.environment.write { (txn) throws in
                try txn.put(bytes("gone"), forKey: bytes("b"), in: store.items)
                try txn.put(bytes("changed"), forKey: bytes("a"), in: store.items)
                try txn.delete(bytes("a"), in: store.items)
                throw Boom()
            }
        }
        try store.environment.read { (txn) throws in
            #expect(try txn.value(forKey: bytes("a"), in: store.items) == bytes("keep"))
            #expect(try txn.value(forKey: bytes("b"), in: store.items) == nil)
            #expect(try txn.count(in: store.items) == 1)
        }
    }

    @Test func reopenKeepsEverything() throws {
        let store = try TestStore()
        var generator = SeededGenerator(seed: 7)
        var expected: [[UInt8]: [UInt8]] = [:]
        for batch in 0..<10 {
            try store.environment.write { (txn) throws in
                for i in 0..<500 {
                    let value = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let k = key(batch * 500 + i)
                    try txn.put(value, forKey: k, in: store.items)
                    expected[k] = value
                }
            }
        }
        try store.reopen()
        try store.environment.read { (txn) throws in
            let items = try store.environment.keyspace("items")
            #expect(try txn.count(in: items) == expected.count)
            for (k, v) in expected { #expect(try txn.value(forKey: k, in: items) == v) }
        }
    }

    @Test func sameDirectorySharesOneEnvironment() throws {
        let store = try TestStore()
        let again = try StorageEnvironment.open(at: store.path, keyspaces: [KeyspaceDescriptor("items")])
        #expect(again === store.environment)
        let viaDots = try StorageEnvironment.open(at: store.path + "/../store", keyspaces: [KeyspaceDescriptor("items")])
        #expect(viaDots === store.environment)
        var other = StorageOptions()
        other.durability = .noSync
        #expect(EngramError.Code.alreadyOpen.isThrown { _ = try StorageEnvironment.open(at: store.path, options: other) })
    }

    @Test func keyspacesAreSeparate() throws {
        let store = try TestStore(keyspaces: ["items", "other"])
        let other = try store.environment.keyspace("other")
        try store.environment.write { (txn) throws in
            try txn.put(bytes("1"), forKey: bytes("k"), in: store.items)
            try txn.put(bytes("2"), forKey: bytes("k"), in: other)
        }
        try store.environment.read { (txn) throws in
            #expect(try txn.value(forKey: bytes("k"), in: store.items) == bytes("1"))
            #expect(try txn.value(forKey: bytes("k"), in: other) == bytes("2"))
        }
        let late = try store.environment.openKeyspace(KeyspaceDescriptor("late"))
        try store.environment.write { txn in try txn.put(bytes("3"), forKey: bytes("k"), in: late) }
        #expect(try store.environment.read { txn in try txn.count(in: late) } == 1)
    }

    @Test func asyncEntryPoints() async throws {
        let store = try TestStore()
        let items = store.items
        try await store.environment.write { txn in try txn.put(bytes("v"), forKey: bytes("k"), in: items) }
        let value = try await store.environment.read { txn in try txn.value(forKey: bytes("k"), in: items) }
        #expect(value == bytes("v"))
    }

    @Test func appendRequiresAscendingKeys() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            for i in 0..<100 {
                try key(i).withUnsafeBytes { k in try bytes("x").withUnsafeBytes { try txn.append($0, forKey: k, in: store.items) } }
            }
            #expect(EngramError.Code.invalidArgument.isThrown {
                try key(5).withUnsafeBytes { k in try bytes("x").withUnsafeBytes { try txn.append($0, forKey: k, in: store.items) } }
            })
        }
        #expect(try store.environment.read { txn in try txn.count(in: store.items) } == 100)
    }
}
