import Foundation

/// The groups of an aggregation found by the stored bytes of their key, in front of the
/// dictionary by ``Value``: `RETURN b.type, count(*)` over a whole graph looks its key up once per
/// row, and hashing and comparing a few bytes costs far less than decoding the string and hashing
/// a ``Value``.
///
/// It only remembers what the value path decided: equal bytes always hold equal values (what
/// ``PropertyReader/groupingBytes(node:)`` promises), so a byte string found here names the group
/// its value belongs to. Values that are equal with different bytes (an integer and a float, two
/// spellings of one Unicode string) each get an entry pointing at the same group.
///
/// Open addressing with linear probing over a seeded multiplicative hash; it stops remembering at
/// ``maximumEntries`` (the value path still works), so a query with very many groups spends
/// bounded memory here.
struct ByteGroupTable {
    /// Past this many distinct byte strings, new ones are not remembered.
    static let maximumEntries = 1 << 16

    private struct Entry {
        var hash: UInt64
        var start: Int
        var count: Int
        var group: Int
    }

    /// Entry index per slot, `-1` when empty.
    private var slots = [Int](repeating: -1, count: 64)
    private var entries: [Entry] = []
    /// The bytes of every entry, one after another.
    private var arena: [UInt8] = []
    private let seed = UInt64.random(in: 0...UInt64.max)

    /// The group remembered for `bytes`, if any.
    @inline(__always)
    func find(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let hash = hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            let entry = entries[index]
            if entry.hash == hash && entry.count == bytes.count && equal(entry, bytes) { return entry.group }
            slot = (slot + 1) & mask
        }
    }

    /// Remembers that `bytes` belong to `group`.
    mutating func insert(_ bytes: UnsafeRawBufferPointer, group: Int) {
        guard entries.count < Self.maximumEntries else { return }
        if (entries.count + 1) * 2 > slots.count { grow() }
        entries.append(Entry(hash: hash(bytes), start: arena.count, count: bytes.count, group: group))
        arena.append(contentsOf: bytes)
        place(entries.count - 1)
    }

    @inline(__always)
    private func equal(_ entry: Entry, _ bytes: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { arena in
            bytes.isEmpty || memcmp(arena.baseAddress! + entry.start, bytes.baseAddress!, bytes.count) == 0
        }
    }

    private mutating func place(_ index: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: entries[index].hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = index
    }

    private mutating func grow() {
        slots = [Int](repeating: -1, count: slots.count * 2)
        for index in entries.indices { place(index) }
    }

    /// A seeded hash of the bytes, eight at a time.
    @inline(__always)
    private func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = seed ^ UInt64(truncatingIfNeeded: bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 32
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x9E37_79B9_7F4A_7C15
            offset += 1
        }
        return hash ^ (hash >> 29)
    }
}
