import EngramCore
import EngramStorage
import EngramTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Typed errors")
struct ErrorTests {
    static func code(of body: () throws -> Void) -> EngramError.Code? {
        do {
            try body()
            return nil
        } catch let error as EngramError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            return nil
        }
    }

    @Test func keysTooLongOrEmpty() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            #expect(Self.code { try txn.put([1], forKey: [UInt8](repeating: 7, count: 512), in: store.items) } == .keyTooLong)
            #expect(Self.code { try txn.put([1], forKey: [], in: store.items) } == .invalidArgument)
            try txn.put([1], forKey: [UInt8](repeating: 7, count: 511), in: store.items)  // the limit itself is fine
        }
        try store.environment.read { (txn) throws in
            #expect(Self.code { _ = try txn.value(forKey: [UInt8](repeating: 7, count: 600), in: store.items) } == .keyTooLong)
        }
    }

    @Test func valueTooLarge() throws {
        let store = try TestStore()
        // Virtual memory only: the pages are never touched, the size check comes first.
        let huge = UnsafeMutableRawBufferPointer.allocate(byteCount: (1 << 30) + 1, alignment: 16)
        defer { huge.deallocate() }
        try store.environment.write { (txn) throws in
            #expect(Self.code { try [UInt8]([1]).withUnsafeBytes { try txn.put(UnsafeRawBufferPointer(huge), forKey: $0, in: store.items) } } == .valueTooLarge)
        }
    }

    @Test func nestedWriteIsRefused() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            try txn.put([1], forKey: [1], in: store.items)
            #expect(Self.code { try store.environment.write { _ in } } == .nestedWrite)
        }
        // The outer write still committed.
        #expect(try store.environment.read { txn in try txn.count(in: store.items) } == 1)
    }

    @Test func writesInReadTransactionsAndReadOnlyStores() throws {
        let store = try TestStore()
        try store.environment.write { txn in try txn.put([1], forKey: [1], in: store.items) }
        try store.environment.read { (txn) throws in
            #expect(Self.code { try txn.put([2], forKey: [2], in: store.items) } == .readOnlyTransaction)
            #expect(Self.code { try txn.delete([1], in: store.items) } == .readOnlyTransaction)
        }
        var readOnly = StorageOptions()
        readOnly.readOnly = true
        store.environment = nil
        let env = try StorageEnvironment.open(at: store.path, options: readOnly, keyspaces: [KeyspaceDescriptor("items")])
        #expect(Self.code { try env.write { _ in } } == .readOnlyTransaction)
        #expect(try env.read { txn in try txn.value(forKey: [1], in: try env.keyspace("items")) } == [1])
    }

    @Test func usingATransactionAfterItsClosure() throws {
        let store = try TestStore()
        let escaped = try store.environment.read { txn in txn }
        #expect(Self.code { _ = try escaped.value(forKey: [1], in: store.items) } == .transactionClosed)
        let cursor = try store.environment.read { txn in try txn.makeCursor(in: store.items) }
        #expect(Self.code { _ = try cursor.first() } == .transactionClosed)
    }

    @Test func readersFull() throws {
        var options = StorageOptions()
        options.maxReaders = 2
        let store = try TestStore(options: options)
        try store.environment.read { _ in
            try store.environment.read { _ in
                #expect(Self.code { try store.environment.read { _ in } } == .readersFull)
            }
        }
        try store.environment.read { _ in }  // slots come back
    }

    @Test func mapFullAtTheCeilingLosesNothingCommitted() throws {
        var options = StorageOptions()
        options.initialMapSize = 64 << 10
        options.maximumMapSize = 512 << 10
        let store = try TestStore(options: options)
        try store.environment.write { txn in try txn.put([1, 2, 3], forKey: [1], in: store.items) }
        #expect(Self.code {
            try store.environment.write { (txn) throws in
                for i in 0..<100 { try txn.put([UInt8](repeating: 9, count: 10_000), forKey: key(i + 10), in: store.items) }
            }
        } == .mapFull)
        try store.environment.read { (txn) throws in
            #expect(try txn.count(in: store.items) == 1)
            #expect(try txn.value(forKey: [1], in: store.items) == [1, 2, 3])
        }
        // A write that fits still works.
        try store.environment.write { txn in try txn.put([4], forKey: [2], in: store.items) }
    }

    @Test func growthInsideAnOuterReadFailsClearlyInsteadOfDeadlocking() throws {
        var options = StorageOptions()
        options.initialMapSize = 64 << 10
        let store = try TestStore(options: options)
        try store.environment.read { _ in
            #expect(Self.code {
                try store.environment.write { txn in
                    for i in 0..<100 { try txn.put([UInt8](repeating: 9, count: 10_000), forKey: key(i), in: store.items) }
                }
            } == .mapFull)
        }
        // Outside the read, the same write grows the map and succeeds.
        try store.environment.write { txn in
            for i in 0..<100 { try txn.put([UInt8](repeating: 9, count: 10_000), forKey: key(i), in: store.items) }
        }
        // Reads nested in a write and in a read share the outer lock.
        try store.environment.write { _ in
            try store.environment.read { inner in
                try store.environment.read { (innermost) throws in
                    #expect(try inner.count(in: store.items) == innermost.count(in: store.items))
                }
            }
        }
    }

    @Test func newerFormatVersionIsRefusedAndLeftUntouched() throws {
        let store = try TestStore()
        let meta = try store.environment.keyspace("meta")
        try store.environment.write { (txn) throws in
            try txn.put(KeyWriter.bigEndian(UInt32(99)), forKey: Array("format_version".utf8), in: meta)
        }
        store.environment = nil
        let dataFile = store.path + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        do {
            _ = try StorageEnvironment.open(at: store.path)
            Issue.record("opened a store of format version 99")
        } catch let error as EngramError {
            #expect(error.code == .formatVersionMismatch)
            #expect(error.message.contains("99") && error.message.contains("newer"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dataFile)) == before)
    }

    @Test func directoriesThatAreNotStoresAreRefusedAndLeftUntouched() throws {
        let directory = try TemporaryDirectory(prefix: "engram-foreign")
        // A directory with other files.
        let other = directory.appending("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: other + "/notes.txt"))
        #expect(Self.code { _ = try StorageEnvironment.open(at: other) } == .notAnEngramStore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: other) == ["notes.txt"])

        // A data.mdb that is not LMDB.
        let garbage = directory.appending("garbage")
        try FileManager.default.createDirectory(atPath: garbage, withIntermediateDirectories: true)
        let junk = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        try junk.write(to: URL(fileURLWithPath: garbage + "/data.mdb"))
        #expect(Self.code { _ = try StorageEnvironment.open(at: garbage) } == .notAnEngramStore)
        #expect(try Data(contentsOf: URL(fileURLWithPath: garbage + "/data.mdb")) == junk)

        // A plain file instead of a directory.
        let file = directory.appending("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(Self.code { _ = try StorageEnvironment.open(at: file) } == .notAnEngramStore)

        // An LMDB environment without Engram's marker.
        let store = try TestStore()
        let meta = try store.environment.keyspace("meta")
        _ = try store.environment.write { txn in try txn.delete(Array("magic".utf8), in: meta) }
        store.environment = nil
        #expect(Self.code { _ = try StorageEnvironment.open(at: store.path) } == .notAnEngramStore)

        // Nothing to open read-only.
        var readOnly = StorageOptions()
        readOnly.readOnly = true
        #expect(Self.code { _ = try StorageEnvironment.open(at: directory.appending("missing"), options: readOnly) } == .notFound)
        #expect(!FileManager.default.fileExists(atPath: directory.appending("missing")))
    }

    @Test func readOnlyDirectory() throws {
        guard getuid() != 0 else {
            // Root ignores directory permissions; FaultInjectionTests covers the mapping instead.
            return
        }
        let directory = try TemporaryDirectory(prefix: "engram-readonly")
        let locked = directory.appending("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        chmod(locked, 0o500)
        defer { chmod(locked, 0o700) }
        #expect(Self.code { _ = try StorageEnvironment.open(at: locked) } == .permissionDenied)
    }
}

#if ENGRAM_TESTING
@Suite("Fault injection", .serialized)
struct FaultInjectionTests {
    @Test func noSpaceAtCommitKeepsTheLastCommit() throws {
        defer { FaultInjection.reset() }
        let store = try TestStore()
        try store.environment.write { txn in try txn.put([1], forKey: [1], in: store.items) }
        FaultInjection.failNext(.commit, with: .noSpace)
        #expect(ErrorTests.code { try store.environment.write { txn in try txn.put([2], forKey: [2], in: store.items) } } == .noSpace)
        try store.reopen()
        try store.environment.read { (txn) throws in
            let items = try store.environment.keyspace("items")
            #expect(try txn.value(forKey: [1], in: items) == [1])
            #expect(try txn.value(forKey: [2], in: items) == nil)
        }
    }

    @Test(arguments: [
        (FaultInjection.Target.environmentOpen, FaultInjection.Failure.permissionDenied, EngramError.Code.permissionDenied),
        (.environmentOpen, .versionMismatch, .notAnEngramStore),
        (.get, .corrupted, .corrupted),
        (.get, .pageNotFound, .corrupted),
        (.put, .noSpace, .noSpace),
        (.beginTransaction, .readersFull, .readersFull),
        (.sync, .ioError, .ioError),
        (.setMapSize, .noSpace, .noSpace),
    ])
    func failuresMapToTypedErrors(target: FaultInjection.Target, failure: FaultInjection.Failure, expected: EngramError.Code) throws {
        defer { FaultInjection.reset() }
        let directory = try TemporaryDirectory(prefix: "engram-fault")
        let path = directory.appending("store")
        if target == .environmentOpen {
            FaultInjection.failNext(target, with: failure)
            #expect(ErrorTests.code { _ = try StorageEnvironment.open(at: path) } == expected)
            return
        }
        var options = StorageOptions()
        options.initialMapSize = 64 << 10
        let env = try StorageEnvironment.open(at: path, options: options, keyspaces: [KeyspaceDescriptor("items")])
        let items = try env.keyspace("items")
        try env.write { txn in try txn.put([1], forKey: [1], in: items) }
        FaultInjection.failNext(target, with: failure, count: target == .beginTransaction ? 10 : 1)
        let code = ErrorTests.code {
            switch target {
            case .get: _ = try env.read { txn in try txn.value(forKey: [1], in: items) }
            case .put: try env.write { txn in try txn.put([2], forKey: [2], in: items) }
            case .beginTransaction: try env.read { _ in }
            case .sync: try env.sync()
            case .setMapSize:
                try env.write { (txn) throws in
                    for i in 0..<200 { try txn.put([UInt8](repeating: 1, count: 4_000), forKey: key(i), in: items) }
                }
            default: break
            }
        }
        #expect(code == expected)
        FaultInjection.reset()
        #expect(try env.read { txn in try txn.value(forKey: [1], in: items) } == [1])
    }
}
#endif
