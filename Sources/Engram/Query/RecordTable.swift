/// The record buffers a query has found, by internal id: an open-addressing hash table with linear
/// probing and a multiplicative hash.
///
/// A whole-graph query looks a node's record up once per row that reads one of its properties
/// (hundreds of thousands of times), so the lookup must cost a few nanoseconds; `Dictionary`'s
/// seeded SipHash costs several times that. When the table holds `limit` records it is emptied
/// and starts again, which bounds its memory (16 bytes a slot).
struct RecordTable: ~Copyable {
    /// `UInt64.max` marks an empty slot (internal ids never reach it).
    private static let empty = UInt64.max
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<UnsafeRawBufferPointer>
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0
    private let limit: Int

    /// A table that holds up to `limit` records before it starts again.
    init(limit: Int) {
        self.limit = limit
        (keys, values, mask, shift) = Self.allocate(capacity: 1024)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    private static func allocate(capacity: Int) -> (
        UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UnsafeRawBufferPointer>, Int, UInt64
    ) {
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        keys.initialize(repeating: empty, count: capacity)
        let values = UnsafeMutablePointer<UnsafeRawBufferPointer>.allocate(capacity: capacity)
        values.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: capacity)
        return (keys, values, capacity - 1, UInt64(64 - capacity.trailingZeroBitCount))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The record of `key`, if the table holds it.
    @inline(__always)
    func find(_ key: UInt64) -> UnsafeRawBufferPointer? {
        var index = slot(key)
        while true {
            let found = keys[index]
            if found == key { return values[index] }
            if found == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }

    /// Keeps `value` as the record of `key`.
    mutating func insert(_ key: UInt64, _ value: UnsafeRawBufferPointer) {
        if count >= limit { removeAll() }
        if (count + 1) * 2 > mask + 1 { grow() }
        var index = slot(key)
        while keys[index] != Self.empty && keys[index] != key { index = (index + 1) & mask }
        if keys[index] == Self.empty { count += 1 }
        keys[index] = key
        values[index] = value
    }

    private mutating func removeAll() {
        keys.update(repeating: Self.empty, count: mask + 1)
        count = 0
    }

    private mutating func grow() {
        let (oldKeys, oldValues, oldCapacity) = (keys, values, mask + 1)
        (keys, values, mask, shift) = Self.allocate(capacity: oldCapacity * 2)
        for index in 0..<oldCapacity where oldKeys[index] != Self.empty {
            var target = slot(oldKeys[index])
            while keys[target] != Self.empty { target = (target + 1) & mask }
            keys[target] = oldKeys[index]
            values[target] = oldValues[index]
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}
