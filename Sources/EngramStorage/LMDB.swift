import CEngramLMDB
import EngramCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one door to liblmdb.
///
/// Every `mdb_*` call of Engram is made in this file, and every non-zero return code is turned
/// here into an ``EngramError`` with a stable code and a message a person can act on. No `MDB_*`
/// type leaves the storage module.
///
/// When the module is compiled with `-DENGRAM_TESTING` (the test command does this), ``FaultInjection``
/// can force the next call of a given operation to fail with a chosen code, so that tests can
/// produce errors that are impractical to cause for real (a full disk, a corrupted page).
enum LMDB {
    typealias Environment = OpaquePointer
    typealias Transaction = OpaquePointer
    typealias Cursor = OpaquePointer
    typealias Database = MDB_dbi

    /// The operations that fault injection can target.
    enum Operation: String, Sendable, CaseIterable {
        case environmentOpen = "open the store"
        case setMapSize = "resize the map"
        case beginTransaction = "begin a transaction"
        case commit = "commit a transaction"
        case openKeyspace = "open a keyspace"
        case get = "read a key"
        case put = "write a key"
        case delete = "delete a key"
        case cursor = "move a cursor"
        case stat = "read statistics"
        case sync = "flush the store to disk"
        case drop = "clear a keyspace"
    }

    /// LMDB's fixed key-size limit for the default build (`mdb_env_get_maxkeysize`).
    static let maximumKeySize = 511

    /// Values larger than this are refused before they reach LMDB; LMDB's own limit is near 4 GiB
    /// but a value that large would be a mistake in a memory store, and one page-chain copy of it
    /// would stall every other writer.
    static let maximumValueSize = 1 << 30

    // MARK: Error mapping

    /// Turns a non-zero return code of `operation` into a typed error.
    static func error(_ rc: Int32, _ operation: Operation, context: String = "") -> EngramError {
        let what = context.isEmpty ? operation.rawValue : "\(operation.rawValue) (\(context))"
        switch rc {
        case MDB_MAP_FULL:
            return EngramError(.mapFull, "could not \(what): the store's map is full")
        case MDB_READERS_FULL:
            return EngramError(
                .readersFull,
                "could not \(what): too many read transactions are open at once; raise maxReaders or end readers sooner")
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC:
            return EngramError(
                .corrupted,
                "could not \(what): the store's files are damaged (\(describe(rc))); restore it from a backup or an export")
        case MDB_VERSION_MISMATCH, MDB_INVALID:
            return EngramError(
                .notAnEngramStore,
                "could not \(what): the data file is not an LMDB environment this library can read (\(describe(rc)))")
        case MDB_TXN_FULL:
            return EngramError(
                .storageFailure,
                "could not \(what): the transaction changed too many pages; split it into smaller transactions")
        case MDB_DBS_FULL:
            return EngramError(.storageFailure, "could not \(what): too many keyspaces are open")
        case MDB_BAD_VALSIZE:
            return EngramError(.invalidArgument, "could not \(what): a key is empty or too long, or a value is too large")
        case MDB_KEYEXIST:
            return EngramError(.alreadyExists, "could not \(what): the key exists already")
        case MDB_NOTFOUND:
            return EngramError(.notFound, "could not \(what): not found")
        case ENOSPC:
            return EngramError(.noSpace, "could not \(what): no space left on the device; free disk space and retry — committed data is intact")
        case EACCES, EPERM:
            return EngramError(.permissionDenied, "could not \(what): permission denied")
        case EROFS:
            return EngramError(.permissionDenied, "could not \(what): the file system is read-only")
        case ENOMEM:
            return EngramError(.storageFailure, "could not \(what): out of memory or address space for the map")
        case EIO:
            return EngramError(.ioError, "could not \(what): an input/output error from the device")
        default:
            return EngramError(.storageFailure, "could not \(what): \(describe(rc)) (code \(rc))")
        }
    }

    /// LMDB's own text for a return code.
    static func describe(_ rc: Int32) -> String {
        String(cString: mdb_strerror(rc))
    }

    @inline(__always)
    static func check(_ rc: Int32, _ operation: Operation, context: @autoclosure () -> String = "") throws {
        if _slowPath(rc != 0) { throw error(rc, operation, context: context()) }
    }

    @inline(__always)
    static func injected(_ operation: Operation) -> Int32 {
        #if ENGRAM_TESTING
        return FaultInjection.take(operation)
        #else
        return 0
        #endif
    }

    // MARK: Environment

    static func createEnvironment() throws -> Environment {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), .environmentOpen)
        return env!
    }

    static func configure(
        _ env: Environment, mapSize: Int, maxReaders: Int, maxKeyspaces: Int
    ) throws {
        try check(mdb_env_set_mapsize(env, mapSize), .setMapSize)
        try check(mdb_env_set_maxreaders(env, UInt32(maxReaders)), .environmentOpen, context: "maxReaders")
        try check(mdb_env_set_maxdbs(env, MDB_dbi(maxKeyspaces)), .environmentOpen, context: "maxKeyspaces")
    }

    static func open(_ env: Environment, path: String, readOnly: Bool, noSync: Bool) throws {
        var flags = UInt32(MDB_NOTLS)
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        if noSync { flags |= UInt32(MDB_NOSYNC) }
        let injectedCode = injected(.environmentOpen)
        try check(injectedCode != 0 ? injectedCode : mdb_env_open(env, path, flags, 0o644), .environmentOpen, context: path)
    }

    static func close(_ env: Environment) {
        mdb_env_close(env)
    }

    static func setMapSize(_ env: Environment, _ size: Int) throws {
        let injectedCode = injected(.setMapSize)
        try check(injectedCode != 0 ? injectedCode : mdb_env_set_mapsize(env, size), .setMapSize)
    }

    /// The current map size and the last committed transaction id.
    static func info(_ env: Environment) -> (mapSize: Int, lastPage: Int, lastTransaction: Int) {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return (info.me_mapsize, info.me_last_pgno, info.me_last_txnid)
    }

    static func pageSize(_ env: Environment) -> Int {
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        return Int(stat.ms_psize)
    }

    static func sync(_ env: Environment) throws {
        let injectedCode = injected(.sync)
        try check(injectedCode != 0 ? injectedCode : mdb_env_sync(env, 1), .sync)
    }

    /// Clears reader slots left by dead processes; returns how many were cleared.
    static func clearStaleReaders(_ env: Environment) -> Int {
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
        return Int(dead)
    }

    // MARK: Transactions

    /// Begins a transaction; returns the raw return code on `MDB_MAP_RESIZED` so that the caller can
    /// adopt the new size and retry.
    static func begin(_ env: Environment, readOnly: Bool) -> (Transaction?, Int32) {
        let injectedCode = injected(.beginTransaction)
        if injectedCode != 0 { return (nil, injectedCode) }
        var txn: OpaquePointer?
        let rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        return (rc == 0 ? txn : nil, rc)
    }

    static func commit(_ txn: Transaction) -> Int32 {
        let injectedCode = injected(.commit)
        if injectedCode != 0 {
            mdb_txn_abort(txn)
            return injectedCode
        }
        return mdb_txn_commit(txn)
    }

    static func abort(_ txn: Transaction) {
        mdb_txn_abort(txn)
    }

    static func openDatabase(_ txn: Transaction, name: String?, create: Bool, sortedDuplicates: Bool) -> (Database, Int32) {
        let injectedCode = injected(.openKeyspace)
        if injectedCode != 0 { return (0, injectedCode) }
        var flags: UInt32 = 0
        if create { flags |= UInt32(MDB_CREATE) }
        if sortedDuplicates { flags |= UInt32(MDB_DUPSORT) }
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, flags, &dbi)
        return (dbi, rc)
    }

    static func entryCount(_ txn: Transaction, _ dbi: Database) throws -> Int {
        var stat = MDB_stat()
        let injectedCode = injected(.stat)
        try check(injectedCode != 0 ? injectedCode : mdb_stat(txn, dbi, &stat), .stat)
        return Int(stat.ms_entries)
    }

    /// Empties a database; with `delete`, also deletes it from the environment and closes its handle.
    static func drop(_ txn: Transaction, _ dbi: Database, delete: Bool = false) throws {
        let injectedCode = injected(.drop)
        try check(injectedCode != 0 ? injectedCode : mdb_drop(txn, dbi, delete ? 1 : 0), .drop)
    }

    // MARK: Reads and writes

    @inline(__always)
    static func value(_ bytes: UnsafeRawBufferPointer) -> MDB_val {
        // Safe: LMDB never writes through the data pointer of a key or of a value passed to put.
        MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    @inline(__always)
    static func bytes(_ value: MDB_val) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    /// Reads the value of `key`; `nil` when absent. The bytes live in the map and are valid only
    /// until the transaction ends or writes.
    @inline(__always)
    static func get(_ txn: Transaction, _ dbi: Database, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = value(key)
        var v = MDB_val()
        let injectedCode = injected(.get)
        let rc = injectedCode != 0 ? injectedCode : mdb_get(txn, dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, .get)
        return bytes(v)
    }

    /// Writes `value` under `key`; returns `false` when `noOverwrite` is set and the key exists.
    @inline(__always)
    static func put(
        _ txn: Transaction, _ dbi: Database, _ key: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer,
        noOverwrite: Bool, append: Bool
    ) throws -> Bool {
        var k = value(key)
        var v = value(data)
        var flags: UInt32 = 0
        if noOverwrite { flags |= UInt32(MDB_NOOVERWRITE) }
        if append { flags |= UInt32(MDB_APPEND) }
        let injectedCode = injected(.put)
        let rc = injectedCode != 0 ? injectedCode : mdb_put(txn, dbi, &k, &v, flags)
        if rc == MDB_KEYEXIST && noOverwrite { return false }
        try check(rc, .put)
        return true
    }

    /// Deletes `key`; returns `false` when it was absent.
    @inline(__always)
    static func delete(_ txn: Transaction, _ dbi: Database, _ key: UnsafeRawBufferPointer) throws -> Bool {
        var k = value(key)
        let injectedCode = injected(.delete)
        let rc = injectedCode != 0 ? injectedCode : mdb_del(txn, dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, .delete)
        return true
    }

    // MARK: Cursors

    /// Where to move a cursor.
    enum Move {
        case first, last, next, previous, current
        /// The first key at or after the given key.
        case atOrAfter
        case exact

        var raw: MDB_cursor_op {
            switch self {
            case .first: return MDB_FIRST
            case .last: return MDB_LAST
            case .next: return MDB_NEXT
            case .previous: return MDB_PREV
            case .current: return MDB_GET_CURRENT
            case .atOrAfter: return MDB_SET_RANGE
            case .exact: return MDB_SET_KEY
            }
        }
    }

    static func openCursor(_ txn: Transaction, _ dbi: Database) throws -> Cursor {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, dbi, &cursor), .cursor)
        return cursor!
    }

    static func closeCursor(_ cursor: Cursor) {
        mdb_cursor_close(cursor)
    }

    /// Moves the cursor; returns the entry it lands on, or `nil` when there is none.
    /// `key` is read only for `.atOrAfter` and `.exact`.
    @inline(__always)
    static func move(
        _ cursor: Cursor, _ move: Move, key: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
        var k = value(key)
        var v = MDB_val()
        let injectedCode = injected(.cursor)
        let rc = injectedCode != 0 ? injectedCode : mdb_cursor_get(cursor, &k, &v, move.raw)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, .cursor)
        return (bytes(k), bytes(v))
    }

    /// Deletes the entry under the cursor.
    static func deleteCurrent(_ cursor: Cursor) throws {
        let injectedCode = injected(.delete)
        try check(injectedCode != 0 ? injectedCode : mdb_cursor_del(cursor, 0), .delete)
    }
}

#if ENGRAM_TESTING
import Synchronization

/// Forces LMDB calls made on the calling thread to fail, for tests. Compiled only with
/// `-DENGRAM_TESTING`.
///
/// ```swift
/// FaultInjection.failNext(.commit, with: .noSpace)
/// #expect(throws: ...) { try env.write { … } }
/// ```
package enum FaultInjection {
    /// A failure that a test can force.
    package enum Failure: Sendable {
        case mapFull, readersFull, noSpace, permissionDenied, corrupted, ioError, pageNotFound, versionMismatch

        var code: Int32 {
            switch self {
            case .mapFull: return MDB_MAP_FULL
            case .readersFull: return MDB_READERS_FULL
            case .noSpace: return ENOSPC
            case .permissionDenied: return EACCES
            case .corrupted: return MDB_CORRUPTED
            case .ioError: return EIO
            case .pageNotFound: return MDB_PAGE_NOTFOUND
            case .versionMismatch: return MDB_VERSION_MISMATCH
            }
        }
    }

    /// The operations a failure can be forced on.
    package enum Target: Sendable {
        case environmentOpen, setMapSize, beginTransaction, commit, openKeyspace, get, put, delete, cursor, stat, sync

        var operation: LMDB.Operation {
            switch self {
            case .environmentOpen: return .environmentOpen
            case .setMapSize: return .setMapSize
            case .beginTransaction: return .beginTransaction
            case .commit: return .commit
            case .openKeyspace: return .openKeyspace
            case .get: return .get
            case .put: return .put
            case .delete: return .delete
            case .cursor: return .cursor
            case .stat: return .stat
            case .sync: return .sync
            }
        }
    }

    /// Pending failures per thread: a failure fires only for calls made on the thread that asked
    /// for it, so tests running in parallel never see each other's faults.
    private static let pending = Mutex<[UInt: [LMDB.Operation: (code: Int32, remaining: Int)]]>([:])

    /// Makes the next `count` calls of `target` made **on the calling thread** fail with `failure`.
    package static func failNext(_ target: Target, with failure: Failure, count: Int = 1) {
        let thread = currentThreadID()
        pending.withLock { $0[thread, default: [:]][target.operation] = (failure.code, count) }
    }

    /// Removes every pending failure of the calling thread.
    package static func reset() {
        let thread = currentThreadID()
        pending.withLock { $0[thread] = nil }
    }

    static func take(_ operation: LMDB.Operation) -> Int32 {
        let thread = currentThreadID()
        return pending.withLock { table in
            guard let entry = table[thread]?[operation] else { return 0 }
            if entry.remaining <= 1 {
                table[thread]?[operation] = nil
            } else {
                table[thread]?[operation] = (entry.code, entry.remaining - 1)
            }
            return entry.code
        }
    }
}
#endif
