/// The record buffers a query has found, by internal id: an open-addressing hash table with linear
/// probing.
///
/// A whole-graph query looks a node's record up once per row that reads one of its properties
/// (hundreds of thousands of times), so the lookup must cost a few nanoseconds; `Dictionary`'s
/// seeded SipHash costs several times that. A slot holds the id and the buffer side by side, so a
/// lookup touches one cache line. Ids come from a sequence, so the slot is the id folded onto the
/// table (`id ^ id >> bits`, masked): neighbouring ids land in neighbouring slots — a scan fills
/// the table in order and never collides — and ids a table's size apart still spread. When the
/// table holds `limit` records it is emptied and starts again, which bounds its memory (24 bytes
/// a slot, at most `2 × limit` slots).
struct RecordTable: ~Copyable {
    private struct Slot {
        /// `UInt64.max` marks an empty slot (internal ids never reach it).
        var key: UInt64
        var start: UnsafeRawPointer?
        var count: Int
    }

    private static let empty = UInt64.max
    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private var bits: UInt64
    private(set) var count = 0
    private let limit: Int

    /// A table that holds up to `limit` records before it starts again.
    init(limit: Int) {
        self.limit = limit
        (slots, mask, bits) = Self.allocate(capacity: 1024)
    }

    deinit { slots.deallocate() }

    private static func allocate(capacity: Int) -> (UnsafeMutablePointer<Slot>, Int, UInt64) {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: empty, start: nil, count: 0), count: capacity)
        return (slots, capacity - 1, UInt64(capacity.trailingZeroBitCount))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key ^ (key >> bits)) & mask }

    /// The record of `key`, if the table holds it.
    @inline(__always)
    func find(_ key: UInt64) -> UnsafeRawBufferPointer? {
        var index = slot(key)
        while true {
            let found = slots[index]
            if found.key == key { return UnsafeRawBufferPointer(start: found.start, count: found.count) }
            if found.key == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }

    /// Makes room for `count` records (up to the limit) at once, so that a scan that remembers
    /// every record it passes does not grow the table step by step.
    mutating func reserve(_ count: Int) {
        let wanted = min(count, limit)
        guard wanted * 2 > mask + 1 else { return }
        var capacity = mask + 1
        while wanted * 2 > capacity { capacity *= 2 }
        rehash(capacity: capacity)
    }

    /// Keeps `value` as the record of `key`.
    mutating func insert(_ key: UInt64, _ value: UnsafeRawBufferPointer) {
        if count >= limit { removeAll() }
        if (count + 1) * 2 > mask + 1 { grow() }
        var index = slot(key)
        while slots[index].key != Self.empty && slots[index].key != key { index = (index + 1) & mask }
        if slots[index].key == Self.empty { count += 1 }
        slots[index] = Slot(key: key, start: value.baseAddress, count: value.count)
    }

    private mutating func removeAll() {
        slots.update(repeating: Slot(key: Self.empty, start: nil, count: 0), count: mask + 1)
        count = 0
    }

    private mutating func grow() { rehash(capacity: (mask + 1) * 2) }

    private mutating func rehash(capacity: Int) {
        let (old, oldCapacity) = (slots, mask + 1)
        (slots, mask, bits) = Self.allocate(capacity: capacity)
        for index in 0..<oldCapacity where old[index].key != Self.empty {
            var target = slot(old[index].key)
            while slots[target].key != Self.empty { target = (target + 1) & mask }
            slots[target] = old[index]
        }
        old.deallocate()
    }
}

/// The adjacency entries expansions stood on last, four of them by relationship id: each holds its
/// relationship's properties (format 2), so that a filter or a projection right after an expansion
/// (`WHERE r.weight > 0.5`) reads them without the record. The values stay valid for the whole read
/// transaction, like node records.
///
/// Ids and values are fixed tuples addressed through their bytes: an array of (id, value) pairs
/// made the aggregation benchmark 10 % slower, and the walker and the readers reach the cache
/// through a shared pointer, so that noting or finding an entry takes no reference and no
/// exclusivity check.
struct AdjacencyCache {
    private var ids: (UInt64, UInt64, UInt64, UInt64) = (.max, .max, .max, .max)
    private var values: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) = (
        UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0),
        UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0)
    )

    /// Notes that the adjacency entry of `relationship` holds `value`.
    @inline(__always)
    mutating func note(_ relationship: UInt64, _ value: UnsafeRawBufferPointer) {
        let slot = Int(truncatingIfNeeded: relationship & 3)
        withUnsafeMutableBytes(of: &ids) { $0.storeBytes(of: relationship, toByteOffset: slot * 8, as: UInt64.self) }
        withUnsafeMutableBytes(of: &values) {
            $0.storeBytes(of: value, toByteOffset: slot * MemoryLayout<UnsafeRawBufferPointer>.stride, as: UnsafeRawBufferPointer.self)
        }
    }

    /// The value noted for `relationship`, if it is still among the four.
    @inline(__always)
    func find(_ relationship: UInt64) -> UnsafeRawBufferPointer? {
        let slot = Int(truncatingIfNeeded: relationship & 3)
        let noted = withUnsafeBytes(of: ids) { $0.load(fromByteOffset: slot * 8, as: UInt64.self) }
        guard noted == relationship else { return nil }
        return withUnsafeBytes(of: values) {
            $0.load(fromByteOffset: slot * MemoryLayout<UnsafeRawBufferPointer>.stride, as: UnsafeRawBufferPointer.self)
        }
    }
}
