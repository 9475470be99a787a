import EngramCore
import EngramStorage

/// How many relationships one node has in one direction, by relationship type: the value of a
/// `degrees` entry (format 3), kept in step with `adjacency` so that "how many relationships does
/// this node have" costs one read instead of a walk over its adjacency keys.
///
/// Layout (version 1): `0x01`, varint pair count, then (varint relationship-type symbol id, varint
/// count) pairs sorted by type id, every count at least 1. A node without relationships in a
/// direction has no entry: the entry is deleted when its last pair goes.
///
/// One value per (node, direction) rather than a key per type: graph-100k-1m has 188k (node,
/// direction) pairs but 673k (node, direction, type) triples, and the usual question — every type
/// at once — is one read of a few bytes either way.
///
/// ```swift
/// var degrees = NodeDegrees()
/// try degrees.add(2, type: 7)
/// let stored = degrees.encoded()  // [0x01, 0x01, 0x07, 0x02]
/// ```
struct NodeDegrees: Sendable, Equatable {
    /// One relationship type's count.
    struct Count: Sendable, Equatable {
        /// The relationship type's symbol id.
        var type: UInt32
        /// How many relationships of that type; at least 1.
        var count: Int
    }

    /// The counts, sorted by type id, each at least 1.
    private(set) var counts: [Count] = []

    /// No counts.
    init() {}

    /// Whether no relationship is counted (the entry is then deleted, not stored empty).
    var isEmpty: Bool { counts.isEmpty }

    /// Adds `delta` (negative to remove) to the count of `type`, dropping the type when it reaches 0.
    ///
    /// - Throws: `corrupted` when the count would fall below zero (the stored degrees disagree with
    ///   the adjacency they count) or overflow.
    mutating func add(_ delta: Int, type: UInt32) throws {
        let index = counts.firstIndex { $0.type >= type } ?? counts.endIndex
        let present = index < counts.endIndex && counts[index].type == type
        let (next, overflow) = (present ? counts[index].count : 0).addingReportingOverflow(delta)
        guard !overflow, next >= 0 else {
            throw EngramError(
                .corrupted, "the stored degree of relationship type \(type) would leave the range of counts")
        }
        if present {
            if next == 0 { counts.remove(at: index) } else { counts[index].count = next }
        } else if next > 0 {
            counts.insert(Count(type: type, count: next), at: index)
        }
    }

    /// Adds every count of `other`.
    mutating func add(_ other: NodeDegrees) throws {
        for count in other.counts { try add(count.count, type: count.type) }
    }

    /// The stored form.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [1]
        bytes.reserveCapacity(2 + counts.count * 3)
        ValueCodec.appendVarint(UInt64(counts.count), to: &bytes)
        for count in counts {
            ValueCodec.appendVarint(UInt64(count.type), to: &bytes)
            ValueCodec.appendVarint(UInt64(count.count), to: &bytes)
        }
        return bytes
    }

    /// Reads a stored value.
    ///
    /// - Throws: `decodingFailed` for an unknown layout version, a truncated value, no pair at all,
    ///   types out of order or repeated, a count of 0 or beyond `Int`, or trailing bytes; it never
    ///   traps.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> NodeDegrees {
        var degrees = NodeDegrees()
        try read(bytes) { type, count in degrees.counts.append(Count(type: type, count: count)) }
        return degrees
    }

    /// The number of relationships a stored value counts of the types in `types` (every type when
    /// `nil`; a type listed twice is counted once), read without building a ``NodeDegrees``.
    ///
    /// - Throws: `decodingFailed` as ``decode(_:)``.
    /// - Complexity: O(p · t) for p stored pairs and t types asked.
    static func total(in bytes: UnsafeRawBufferPointer, types: [UInt32]?) throws -> Int {
        var total = 0
        var overflow = false
        try read(bytes) { type, count in
            guard types?.contains(type) ?? true else { return }
            (total, overflow) = total.addingReportingOverflow(count)
            if overflow {
                throw EngramError(.decodingFailed, "a stored degree's counts add up beyond the integer range")
            }
        }
        return total
    }

    /// Checks a stored value and calls `body` with each (type, count) pair in order.
    private static func read(_ bytes: UnsafeRawBufferPointer, _ body: (UInt32, Int) throws -> Void) throws {
        var reader = ValueReader(bytes)
        let version = try reader.byte()
        guard version == 1 else {
            throw EngramError(
                .decodingFailed, "a stored degree has layout version \(version); this build reads version 1")
        }
        let pairs = try reader.count(of: "degree pairs", minimumSize: 2)
        guard pairs > 0 else { throw EngramError(.decodingFailed, "a stored degree counts no relationship type") }
        var previous: UInt32?
        for _ in 0..<pairs {
            let type = try GraphRecordCodec.symbol(&reader)
            if let previous, type <= previous {
                throw EngramError(.decodingFailed, "a stored degree lists relationship types out of order")
            }
            previous = type
            let count = try reader.varint()
            guard count > 0, count <= UInt64(Int.max) else {
                throw EngramError(.decodingFailed, "a stored degree holds the count \(count) for type \(type)")
            }
            try body(type, Int(count))
        }
        guard reader.isAtEnd else {
            throw EngramError(.decodingFailed, "a stored degree has \(reader.remaining) unexpected trailing bytes")
        }
    }
}
