import EngramCore

/// A read or write transaction on a ``StorageEnvironment``.
///
/// Transactions are lent to the closures of ``StorageEnvironment/read(_:)`` and
/// ``StorageEnvironment/write(_:)`` and end when the closure returns: a read ends its snapshot, a
/// write commits (or aborts when the closure throws). **Never keep a transaction, a cursor, or any
/// byte buffer it lent you beyond its closure**: the bytes point into the memory map and are
/// reused or unmapped afterwards. Using an ended transaction throws `transactionClosed`.
///
/// A transaction belongs to the thread that runs its closure; do not hand it to another thread.
///
/// Reads see one consistent snapshot for the whole transaction; a write transaction also sees its
/// own uncommitted changes.
package final class Transaction {
    let raw: LMDB.Transaction
    /// Whether the transaction may write.
    package let isReadOnly: Bool
    private(set) var isOpen = true
    /// Set when any write of this transaction hit `MDB_MAP_FULL`, so the environment grows the map
    /// and retries even if the closure swallowed the error.
    var hitMapFull = false
    private var cursors: [LMDB.Cursor] = []

    init(raw: LMDB.Transaction, isReadOnly: Bool) {
        self.raw = raw
        self.isReadOnly = isReadOnly
    }

    /// Closes the cursors and marks the transaction ended; the caller commits or aborts `raw`.
    func end() {
        for cursor in cursors { LMDB.closeCursor(cursor) }
        cursors.removeAll()
        isOpen = false
    }

    @inline(__always)
    func checkOpen() throws {
        if _slowPath(!isOpen) {
            throw EngramError(.transactionClosed, "the transaction has ended; do not keep a transaction beyond its closure")
        }
    }

    @inline(__always)
    func checkWritable() throws {
        try checkOpen()
        if _slowPath(isReadOnly) {
            throw EngramError(.readOnlyTransaction, "cannot write in a read transaction; use write { } instead")
        }
    }

    @inline(__always)
    static func checkKey(_ key: UnsafeRawBufferPointer) throws {
        if _slowPath(key.isEmpty || key.count > LMDB.maximumKeySize) {
            if key.isEmpty { throw EngramError(.invalidArgument, "a key must not be empty") }
            throw EngramError(
                .keyTooLong,
                "a key of \(key.count) bytes is longer than the storage engine's limit of \(LMDB.maximumKeySize) bytes")
        }
    }

    @inline(__always)
    private func noteMapFull<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as EngramError where error.code == .mapFull {
            hitMapFull = true
            throw error
        }
    }

    // MARK: Reads

    /// Lends the bytes stored under `key` to `body`, without copying; `nil` when the key is absent.
    ///
    /// The buffer points into the memory map: it is valid only inside `body`. Copy what you need.
    ///
    /// - Complexity: O(log n) in the number of keys of the keyspace.
    @inline(__always)
    package func withValue<R>(
        forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try checkOpen()
        try Self.checkKey(key)
        return try body(LMDB.get(raw, keyspace.handle, key))
    }

    /// Lends the bytes stored under `key` to `body`, without copying; `nil` when the key is absent.
    @inline(__always)
    package func withValue<R>(
        forKey key: [UInt8], in keyspace: Keyspace, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try key.withUnsafeBytes { try withValue(forKey: $0, in: keyspace, body) }
    }

    /// A copy of the value stored under `key`, or `nil` when the key is absent.
    package func value(forKey key: [UInt8], in keyspace: Keyspace) throws -> [UInt8]? {
        try withValue(forKey: key, in: keyspace) { $0.map { Array($0) } }
    }

    /// Whether `key` is present.
    package func contains(_ key: [UInt8], in keyspace: Keyspace) throws -> Bool {
        try withValue(forKey: key, in: keyspace) { $0 != nil }
    }

    /// The number of entries in `keyspace`.
    ///
    /// - Complexity: O(1): LMDB keeps the count in the tree's root.
    package func count(in keyspace: Keyspace) throws -> Int {
        try checkOpen()
        return try LMDB.entryCount(raw, keyspace.handle)
    }

    // MARK: Writes

    /// Stores `value` under `key`, replacing any previous value.
    @inline(__always)
    package func put(_ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace) throws {
        try checkWritable()
        try Self.checkKey(key)
        try Self.checkValue(value)
        _ = try noteMapFull { try LMDB.put(raw, keyspace.handle, key, value, noOverwrite: false, append: false) }
    }

    /// Stores `value` under `key`, replacing any previous value.
    @inline(__always)
    package func put(_ value: [UInt8], forKey key: [UInt8], in keyspace: Keyspace) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(v, forKey: k, in: keyspace) } }
    }

    /// Stores `value` under `key` only if the key is absent.
    /// - Returns: `true` when the value was stored, `false` when the key existed (nothing changed).
    @discardableResult
    package func putIfAbsent(_ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace) throws -> Bool {
        try checkWritable()
        try Self.checkKey(key)
        try Self.checkValue(value)
        return try noteMapFull { try LMDB.put(raw, keyspace.handle, key, value, noOverwrite: true, append: false) }
    }

    /// Stores `value` under `key` only if the key is absent.
    /// - Returns: `true` when the value was stored, `false` when the key existed (nothing changed).
    @discardableResult
    package func putIfAbsent(_ value: [UInt8], forKey key: [UInt8], in keyspace: Keyspace) throws -> Bool {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try putIfAbsent(v, forKey: k, in: keyspace) } }
    }

    /// Stores `value` under `key`, which must sort after every key already in the keyspace — the
    /// fast path for bulk loads of sorted keys. Throws `invalidArgument` when the key is out of order.
    package func append(_ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace) throws {
        try checkWritable()
        try Self.checkKey(key)
        try Self.checkValue(value)
        do {
            _ = try noteMapFull { try LMDB.put(raw, keyspace.handle, key, value, noOverwrite: false, append: true) }
        } catch let error as EngramError where error.code == .alreadyExists {
            throw EngramError(.invalidArgument, "append needs keys in ascending order; this key sorts before the last one")
        }
    }

    /// Removes `key` and its value.
    /// - Returns: `true` when the key was present.
    @discardableResult
    package func delete(_ key: UnsafeRawBufferPointer, in keyspace: Keyspace) throws -> Bool {
        try checkWritable()
        try Self.checkKey(key)
        return try noteMapFull { try LMDB.delete(raw, keyspace.handle, key) }
    }

    /// Removes `key` and its value.
    /// - Returns: `true` when the key was present.
    @discardableResult
    package func delete(_ key: [UInt8], in keyspace: Keyspace) throws -> Bool {
        try key.withUnsafeBytes { try delete($0, in: keyspace) }
    }

    /// Removes every entry of `keyspace`.
    package func removeAll(in keyspace: Keyspace) throws {
        try checkWritable()
        try noteMapFull { try LMDB.drop(raw, keyspace.handle) }
    }

    #if ENGRAM_TESTING
    /// Deletes `keyspace` itself from the store, as if it had never been created: for tests that
    /// make stores of an older format. Its handle is closed when the transaction commits, so the
    /// environment must not use the keyspace again; open the store afresh. Compiled only for tests
    /// (`-DENGRAM_TESTING`).
    package func _deleteKeyspace(_ keyspace: Keyspace) throws {
        try checkWritable()
        try noteMapFull { try LMDB.drop(raw, keyspace.handle, delete: true) }
    }
    #endif

    static func checkValue(_ value: UnsafeRawBufferPointer) throws {
        if _slowPath(value.count > LMDB.maximumValueSize) {
            throw EngramError(
                .valueTooLarge,
                "a value of \(value.count) bytes is larger than the limit of \(LMDB.maximumValueSize) bytes")
        }
    }

    // MARK: Cursors

    /// Opens a cursor over `keyspace`. It is closed when the transaction ends.
    package func makeCursor(in keyspace: Keyspace) throws -> Cursor {
        try checkOpen()
        let cursor = try LMDB.openCursor(raw, keyspace.handle)
        cursors.append(cursor)
        return Cursor(raw: cursor, transaction: self)
    }
}
