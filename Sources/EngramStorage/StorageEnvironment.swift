import CEngramLMDB
import Dispatch
import EngramCore
import Foundation
import Synchronization

/// An open store directory: one LMDB environment with its keyspaces.
///
/// There is at most one `StorageEnvironment` per directory in a process: opening a directory that
/// is already open returns the same instance (or fails with `alreadyOpen` when the options differ),
/// because two LMDB environments on one file in one process corrupt its locks.
///
/// All access goes through ``read(_:)`` and ``write(_:)``:
///
/// ```swift
/// let env = try StorageEnvironment.open(at: path, keyspaces: [.init("items")])
/// let items = try env.keyspace("items")
/// try env.write { txn in try txn.put(value, forKey: key, in: items) }
/// let copy = try env.read { txn in try txn.value(forKey: key, in: items) }
/// ```
///
/// One writer at a time (LMDB serialises writers, across processes too); readers never wait for the
/// writer and always see the last commit made before they began. The map grows by itself when a
/// write fills it: the write is aborted, the map doubled (up to ``StorageOptions/maximumMapSize``)
/// and the write closure run again — so keep side effects out of write closures.
package final class StorageEnvironment: @unchecked Sendable {
    /// The store's directory, as given to ``open(at:options:keyspaces:)``.
    package let path: String
    /// The options the environment was opened with.
    package let options: StorageOptions
    /// The format version of the store on disk.
    package let formatVersion: UInt32

    private let env: LMDB.Environment
    private let identity: FileIdentity
    /// Held shared by every transaction; growing the map takes it exclusively, because LMDB may
    /// only change the map size while no transaction of the process is active. It prefers writers,
    /// so that a steady stream of readers cannot starve a growth; in exchange it must never be
    /// taken twice by one thread, which ``TransactionDepth`` prevents.
    private let resizeLock = ReadWriteLock(preferWriters: true)
    private let depth = TransactionDepth()
    private let mapSize: Atomic<Int>
    /// The thread that holds the write transaction, or 0.
    private let writerThread = Atomic<UInt>(0)
    private let keyspaces: Mutex<[String: Keyspace]>
    private let readQueue = DispatchQueue(label: "engram.storage.read", attributes: .concurrent)
    private let writeQueue = DispatchQueue(label: "engram.storage.write")

    private init(
        path: String, options: StorageOptions, env: LMDB.Environment, identity: FileIdentity,
        formatVersion: UInt32, keyspaces: [String: Keyspace]
    ) {
        self.path = path
        self.options = options
        self.env = env
        self.identity = identity
        self.formatVersion = formatVersion
        self.mapSize = Atomic(LMDB.info(env).mapSize)
        self.keyspaces = Mutex(keyspaces)
    }

    deinit {
        let env = env
        let identity = identity
        Self.registry.withLock { table in
            if table[identity]?.environment == nil { table[identity] = nil }
            LMDB.close(env)
        }
    }

    // MARK: Keyspaces

    /// The handle of an open keyspace.
    /// - Throws: `notFound` when the keyspace was not opened with the environment or by
    ///   ``openKeyspace(_:)``.
    package func keyspace(_ name: String) throws -> Keyspace {
        if let keyspace = keyspaces.withLock({ $0[name] }) { return keyspace }
        throw EngramError(.notFound, "keyspace '\(name)' is not open in the store at \(path)")
    }

    /// Opens (and creates, unless read-only) a keyspace after the environment was opened.
    ///
    /// Call it outside any transaction on this thread.
    package func openKeyspace(_ descriptor: KeyspaceDescriptor) throws -> Keyspace {
        if let keyspace = keyspaces.withLock({ $0[descriptor.name] }) { return keyspace }
        let opened: Keyspace
        if options.readOnly {
            opened = try read { txn in try Self.openKeyspace(descriptor, in: txn, create: false, path: path) }
        } else {
            opened = try write { txn in try Self.openKeyspace(descriptor, in: txn, create: true, path: path) }
        }
        return keyspaces.withLock { table in
            table[descriptor.name] = opened
            return opened
        }
    }

    private static func openKeyspace(_ descriptor: KeyspaceDescriptor, in txn: Transaction, create: Bool, path: String) throws -> Keyspace {
        let (handle, rc) = LMDB.openDatabase(
            txn.raw, name: descriptor.name, create: create, sortedDuplicates: descriptor.sortedDuplicates)
        if rc == MDB_NOTFOUND {
            throw EngramError(
                .notFound, "the store at \(path) has no keyspace '\(descriptor.name)'; open it writable once to create it")
        }
        if rc == MDB_INCOMPATIBLE {
            throw EngramError(.corrupted, "keyspace '\(descriptor.name)' exists with other flags than this build expects")
        }
        try LMDB.check(rc, .openKeyspace, context: descriptor.name)
        return Keyspace(name: descriptor.name, handle: handle)
    }

    // MARK: Transactions

    /// Runs `body` in a read transaction and returns its result.
    ///
    /// The transaction sees the last commit made before it began, whatever writers do meanwhile.
    /// Readers never wait for writers. Do not let the transaction, its cursors, or the bytes they
    /// lend escape `body`.
    ///
    /// - Complexity: O(1) to begin and end (a reader slot in the lock table).
    package func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        let outer = depth.current
        if outer == 0 { resizeLock.lockShared() }
        depth.set(outer + 1)
        defer {
            depth.set(outer)
            if outer == 0 { resizeLock.unlock() }
        }
        let raw = try begin(readOnly: true, outerDepth: outer)
        let txn = Transaction(raw: raw, isReadOnly: true)
        defer {
            txn.end()
            LMDB.abort(raw)
        }
        return try body(txn)
    }

    /// Runs `body` in the write transaction: commits when it returns, aborts when it throws.
    ///
    /// Only one write transaction runs at a time; others wait. When the map is full the transaction
    /// is aborted, the map grows, and **`body` runs again**: keep side effects out of it.
    ///
    /// - Throws: `nestedWrite` when called inside a write on the same thread; `readOnlyTransaction`
    ///   on a read-only store; `mapFull` at the map ceiling; `noSpace` when the disk is full (the
    ///   store stays at its last commit); whatever `body` throws.
    package func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        if options.readOnly {
            throw EngramError(.readOnlyTransaction, "the store at \(path) was opened read-only")
        }
        let me = currentThreadID()
        if writerThread.load(ordering: .relaxed) == me {
            throw EngramError(
                .nestedWrite,
                "a write transaction was started inside another on the same thread; do all of it in the outer write")
        }
        let outer = depth.current
        while true {
            if outer == 0 { resizeLock.lockShared() }
            depth.set(outer + 1)
            let release = { [depth, resizeLock] in
                depth.set(outer)
                if outer == 0 { resizeLock.unlock() }
            }
            let sizeAtStart = mapSize.load(ordering: .acquiring)
            let raw: LMDB.Transaction
            do {
                raw = try begin(readOnly: false, outerDepth: outer)
            } catch {
                release()
                throw error
            }
            writerThread.store(me, ordering: .relaxed)
            let txn = Transaction(raw: raw, isReadOnly: false)
            let outcome = Result { try body(txn) }
            txn.end()
            var commitCode: Int32 = 0
            if txn.hitMapFull {
                LMDB.abort(raw)
            } else if case .success = outcome {
                commitCode = LMDB.commit(raw)
            } else {
                LMDB.abort(raw)
            }
            writerThread.store(0, ordering: .relaxed)
            release()

            if txn.hitMapFull || commitCode == MDB_MAP_FULL {
                try grow(from: sizeAtStart)
                continue
            }
            if commitCode != 0 { throw LMDB.error(commitCode, .commit, context: path) }
            return try outcome.get()
        }
    }

    /// Begins a transaction, adopting a map size grown by another process when LMDB asks to.
    /// `outerDepth` is the number of transactions this thread already had open (0: it holds the
    /// resize lock shared for this one).
    private func begin(readOnly: Bool, outerDepth: Int) throws -> LMDB.Transaction {
        while true {
            let (raw, rc) = LMDB.begin(env, readOnly: readOnly)
            if let raw { return raw }
            if rc == MDB_MAP_RESIZED {
                // Another process grew the map. Adopting its size needs the exclusive lock, which
                // this thread cannot take while an outer transaction of its own holds it shared.
                if outerDepth > 0 {
                    throw EngramError(
                        .mapFull,
                        "another process grew the store while this thread held an outer transaction; end it and retry")
                }
                resizeLock.unlock()
                defer { resizeLock.lockShared() }
                resizeLock.lockExclusive()
                defer { resizeLock.unlock() }
                try LMDB.setMapSize(env, 0)
                mapSize.store(LMDB.info(env).mapSize, ordering: .releasing)
                continue
            }
            if rc == MDB_READERS_FULL {
                // Slots of crashed processes are reclaimed once before giving up.
                if LMDB.clearStaleReaders(env) > 0 { continue }
            }
            throw LMDB.error(rc, .beginTransaction, context: path)
        }
    }

    /// Grows the map after a write found it full at `sizeAtStart` bytes.
    private func grow(from sizeAtStart: Int) throws {
        if depth.current > 0 {
            throw EngramError(
                .mapFull,
                "the store's map is full and cannot grow while this thread holds an outer read transaction; do the write outside read { }")
        }
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        let current = mapSize.load(ordering: .acquiring)
        if current > sizeAtStart { return }  // another writer grew it meanwhile
        guard current < options.maximumMapSize else {
            throw EngramError(
                .mapFull,
                "the store at \(path) reached its maximum map size of \(current) bytes; open it with a larger maximumMapSize")
        }
        let target = current > options.maximumMapSize / 2 ? options.maximumMapSize : current * 2
        try LMDB.setMapSize(env, target)
        mapSize.store(LMDB.info(env).mapSize, ordering: .releasing)
    }

    // MARK: Async entry points

    /// Runs `body` in a read transaction on a background thread, so that a long read does not hold
    /// one of Swift's cooperative threads. See ``read(_:)``.
    package func read<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            readQueue.async { continuation.resume(with: Result { try self.read(body) }) }
        }
    }

    /// Runs `body` in the write transaction on the environment's writer thread. See ``write(_:)``.
    package func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            writeQueue.async { continuation.resume(with: Result { try self.write(body) }) }
        }
    }

    // MARK: Maintenance

    /// Flushes committed data to disk; needed only with ``StorageOptions/Durability/noSync``.
    package func sync() throws {
        try LMDB.sync(env)
    }

    /// Facts about the open environment.
    package struct Info: Sendable {
        /// The current size of the memory map, in bytes.
        package var mapSize: Int
        /// The bytes of the data file in use (pages up to the last one written).
        package var usedBytes: Int
        /// The id of the last committed transaction.
        package var lastTransactionID: Int
        /// The page size, in bytes.
        package var pageSize: Int
    }

    /// Facts about the open environment.
    package func info() -> Info {
        let info = LMDB.info(env)
        let pageSize = LMDB.pageSize(env)
        return Info(
            mapSize: info.mapSize, usedBytes: (info.lastPage + 1) * pageSize,
            lastTransactionID: info.lastTransaction, pageSize: pageSize)
    }
}

// MARK: - Opening

extension StorageEnvironment {
    /// Environments open in this process, by directory identity.
    private static let registry = Mutex<[FileIdentity: WeakEnvironment]>([:])

    /// Opens the store in directory `path`, creating it when the directory does not exist or is
    /// empty, and opens (creating when missing) the given keyspaces.
    ///
    /// - Throws: `notAnEngramStore` when the directory holds something else (nothing is touched);
    ///   `formatVersionMismatch` when the store was written by another format version;
    ///   `permissionDenied`, `noSpace`, `corrupted`, `alreadyOpen`.
    ///
    /// A writable open of a store of an older format version runs `upgrades` (one per version
    /// step, see ``StoreUpgrade``) in one write transaction before anything else reads it.
    package static func open(
        at path: String, options: StorageOptions = StorageOptions(), keyspaces descriptors: [KeyspaceDescriptor] = [],
        upgrades: [StoreUpgrade] = []
    ) throws -> StorageEnvironment {
        let layout = try StoreDirectory.prepare(path: path, options: options)
        return try registry.withLock { table in
            if let existing = table[layout.identity]?.environment {
                guard existing.options == options else {
                    throw EngramError(
                        .alreadyOpen,
                        "the store at \(path) is already open in this process with other options; reuse that instance")
                }
                for descriptor in descriptors { _ = try existing.openKeyspace(descriptor) }
                return existing
            }
            let environment = try openNew(
                path: path, layout: layout, options: options, descriptors: descriptors, upgrades: upgrades)
            table[layout.identity] = WeakEnvironment(environment: environment)
            return environment
        }
    }

    private static func openNew(
        path: String, layout: StoreDirectory, options: StorageOptions, descriptors: [KeyspaceDescriptor],
        upgrades: [StoreUpgrade]
    ) throws -> StorageEnvironment {
        let env = try LMDB.createEnvironment()
        do {
            try LMDB.configure(
                env, mapSize: options.initialMapSize, maxReaders: options.maxReaders, maxKeyspaces: options.maxKeyspaces)
            try LMDB.open(env, path: path, readOnly: options.readOnly, noSync: options.durability == .noSync)
            let (version, keyspaces) = try StoreFormat.initialize(
                env: env, path: path, isNew: layout.isNew, readOnly: options.readOnly, descriptors: descriptors,
                upgrades: upgrades, maximumMapSize: options.maximumMapSize)
            return StorageEnvironment(
                path: path, options: options, env: env, identity: layout.identity, formatVersion: version,
                keyspaces: keyspaces)
        } catch {
            LMDB.close(env)
            throw error
        }
    }

    /// Runs a transaction on a raw environment during open, before the wrapper object exists.
    static func withBootstrapTransaction<T>(
        env: LMDB.Environment, readOnly: Bool, _ body: (Transaction) throws -> T
    ) throws -> T {
        let (raw, rc) = LMDB.begin(env, readOnly: readOnly)
        guard let raw else { throw LMDB.error(rc, .beginTransaction) }
        let txn = Transaction(raw: raw, isReadOnly: readOnly)
        let result: T
        do {
            result = try body(txn)
        } catch {
            txn.end()
            LMDB.abort(raw)
            throw error
        }
        txn.end()
        try LMDB.check(LMDB.commit(raw), .commit)
        return result
    }
}

private struct WeakEnvironment {
    weak var environment: StorageEnvironment?
}

/// A directory's device and inode: two paths that reach the same directory (links, `..`) share it.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
}
