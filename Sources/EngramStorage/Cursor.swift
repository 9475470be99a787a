import EngramCore

/// A position in a keyspace, for pull-style iteration.
///
/// Each move returns the entry it lands on as two borrowed buffers that are valid only until the
/// next move of this cursor or the end of its transaction. The cursor itself must not outlive the
/// transaction that made it (``Transaction/makeCursor(in:)``).
///
/// ```swift
/// let cursor = try txn.makeCursor(in: keyspace)
/// var entry = try cursor.seek(atOrAfter: start)
/// while let (key, value) = entry, hasPrefix(key, prefix) {
///     …
///     entry = try cursor.next()
/// }
/// ```
package final class Cursor {
    private let raw: LMDB.Cursor
    private let transaction: Transaction

    /// A borrowed key and value.
    package typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    init(raw: LMDB.Cursor, transaction: Transaction) {
        self.raw = raw
        self.transaction = transaction
    }

    @inline(__always)
    private func move(_ move: LMDB.Move, key: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws -> Entry? {
        try transaction.checkOpen()
        return try LMDB.move(raw, move, key: key)
    }

    /// Moves without re-checking the transaction: for scans that checked it once at their start and
    /// run entirely inside one call.
    @inline(__always)
    func unsafeMove(_ move: LMDB.Move) throws -> Entry? {
        try LMDB.move(raw, move)
    }

    /// Moves to the first entry of the keyspace.
    package func first() throws -> Entry? { try move(.first) }

    /// Moves to the last entry of the keyspace.
    package func last() throws -> Entry? { try move(.last) }

    /// Moves to the next entry.
    @inline(__always)
    package func next() throws -> Entry? { try move(.next) }

    /// Moves to the previous entry.
    @inline(__always)
    package func previous() throws -> Entry? { try move(.previous) }

    /// Moves to the first entry whose key is at or after `key`.
    package func seek(atOrAfter key: UnsafeRawBufferPointer) throws -> Entry? {
        try Transaction.checkKey(key)
        return try move(.atOrAfter, key: key)
    }

    /// Moves to the first entry whose key is at or after `key`.
    package func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek(atOrAfter: $0) }
    }

    /// Moves to the last entry whose key is before `key`.
    package func seek(before key: UnsafeRawBufferPointer) throws -> Entry? {
        if try seek(atOrAfter: key) != nil { return try previous() }
        return try last()
    }

    /// Moves to the last entry whose key is at or before `key`.
    package func seek(atOrBefore key: UnsafeRawBufferPointer) throws -> Entry? {
        if let entry = try seek(atOrAfter: key) {
            if entry.key.elementsEqual(key) { return entry }
            return try previous()
        }
        return try last()
    }

    /// Deletes the entry under the cursor; the cursor then stands on the entry after it.
    package func deleteCurrent() throws {
        try transaction.checkWritable()
        try LMDB.deleteCurrent(raw)
    }
}

// MARK: - Scans

/// The direction of a scan.
package enum ScanDirection: Sendable {
    /// Ascending key order.
    case forward
    /// Descending key order.
    case reverse
}

extension Transaction {
    /// Calls `body` for every entry whose key starts with `prefix`, in key order (or reverse order);
    /// `body` returns `false` to stop early.
    ///
    /// The buffers lent to `body` are valid only during that call.
    ///
    /// - Complexity: O(log n + k) for k visited entries.
    package func scan(
        in keyspace: Keyspace, prefix: UnsafeRawBufferPointer, direction: ScanDirection = .forward,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let cursor = try makeCursor(in: keyspace)
        switch direction {
        case .forward:
            var entry = try prefix.isEmpty ? cursor.first() : cursor.seek(atOrAfter: prefix)
            while let (key, value) = entry, hasPrefix(key, prefix) {
                guard try body(key, value) else { return }
                entry = try cursor.unsafeMove(.next)
            }
        case .reverse:
            var entry: Cursor.Entry?
            if let successor = prefixSuccessor(prefix) {
                entry = try successor.withUnsafeBytes { try cursor.seek(before: $0) }
            } else {
                entry = try cursor.last()
            }
            while let (key, value) = entry, hasPrefix(key, prefix) {
                guard try body(key, value) else { return }
                entry = try cursor.unsafeMove(.previous)
            }
        }
    }

    /// Calls `body` for every entry whose key starts with `prefix`; see ``scan(in:prefix:direction:_:)-(_,UnsafeRawBufferPointer,_,_)``.
    package func scan(
        in keyspace: Keyspace, prefix: [UInt8], direction: ScanDirection = .forward,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try prefix.withUnsafeBytes { try scan(in: keyspace, prefix: $0, direction: direction, body) }
    }

    /// Calls `body` for every entry with `lower <= key < upper`, in key order (or reverse order);
    /// a `nil` bound is open. `body` returns `false` to stop early.
    ///
    /// - Complexity: O(log n + k) for k visited entries.
    package func scan(
        in keyspace: Keyspace, from lower: [UInt8]?, to upper: [UInt8]?, direction: ScanDirection = .forward,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let cursor = try makeCursor(in: keyspace)
        switch direction {
        case .forward:
            var entry = try lower.map { try cursor.seek(atOrAfter: $0) } ?? cursor.first()
            while let (key, value) = entry {
                if let upper, !Self.less(key, upper) { return }
                guard try body(key, value) else { return }
                entry = try cursor.unsafeMove(.next)
            }
        case .reverse:
            var entry = try upper.map { upper in try upper.withUnsafeBytes { try cursor.seek(before: $0) } } ?? cursor.last()
            while let (key, value) = entry {
                if let lower, Self.less(key, lower) { return }
                guard try body(key, value) else { return }
                entry = try cursor.unsafeMove(.previous)
            }
        }
    }

    /// Byte-wise lexicographic order, LMDB's default key order.
    @inline(__always)
    package static func less(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { b in
            let common = min(a.count, b.count)
            if common > 0 {
                let c = memcmp(a.baseAddress!, b.baseAddress!, common)
                if c != 0 { return c < 0 }
            }
            return a.count < b.count
        }
    }
}

/// Whether `bytes` starts with `prefix`.
@inline(__always)
func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
    guard bytes.count >= prefix.count else { return false }
    guard let prefixStart = prefix.baseAddress, prefix.count > 0 else { return true }
    return memcmp(bytes.baseAddress!, prefixStart, prefix.count) == 0
}

/// The smallest byte string greater than every string starting with `prefix`, or `nil` when there
/// is none (the prefix is empty or all `0xFF`).
package func prefixSuccessor(_ prefix: UnsafeRawBufferPointer) -> [UInt8]? {
    var bytes = Array(prefix)
    while let last = bytes.last {
        if last == 0xFF {
            bytes.removeLast()
        } else {
            bytes[bytes.count - 1] = last + 1
            return bytes
        }
    }
    return nil
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
