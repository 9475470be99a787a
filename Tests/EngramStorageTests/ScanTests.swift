import EngramCore
import EngramStorage
import EngramTestSupport
import Testing

@Suite("Scans")
struct ScanTests {
    /// Random keys from a small alphabet, so that prefixes are shared and edge bytes 0x00 and 0xFF
    /// appear often.
    static func randomKeys(count: Int, seed: UInt64) -> [[UInt8]] {
        var generator = SeededGenerator(seed: seed)
        let alphabet: [UInt8] = [0x00, 0x01, 0x41, 0x42, 0x7F, 0xFE, 0xFF]
        var keys = Set<[UInt8]>()
        while keys.count < count {
            let length = Int.random(in: 1...6, using: &generator)
            keys.insert((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
        }
        return Array(keys)
    }

    static func collect(
        _ txn: Transaction, _ keyspace: Keyspace, prefix: [UInt8], direction: ScanDirection
    ) throws -> [[UInt8]] {
        var seen: [[UInt8]] = []
        try txn.scan(in: keyspace, prefix: prefix, direction: direction) { key, _ in
            seen.append(Array(key))
            return true
        }
        return seen
    }

    @Test(arguments: [1, 2, 3])
    func prefixScansMatchSortedReference(seed: UInt64) throws {
        let store = try TestStore()
        let keys = Self.randomKeys(count: 800, seed: seed)
        try store.environment.write { (txn) throws in
            for k in keys { try txn.put(k, forKey: k, in: store.items) }
        }
        let sorted = keys.sorted { $0.lexicographicallyPrecedes($1) }
        var generator = SeededGenerator(seed: seed + 100)
        try store.environment.read { (txn) throws in
            for _ in 0..<60 {
                let prefix = Array(keys.randomElement(using: &generator)!.prefix(Int.random(in: 0...3, using: &generator)))
                let expected = sorted.filter { $0.starts(with: prefix) }
                #expect(try Self.collect(txn, store.items, prefix: prefix, direction: .forward) == expected)
                #expect(try Self.collect(txn, store.items, prefix: prefix, direction: .reverse) == expected.reversed())
            }
            // Prefixes of all 0xFF have no successor; the reverse scan starts from the last key.
            for prefix: [UInt8] in [[0xFF], [0xFF, 0xFF], [0x00]] {
                let expected = sorted.filter { $0.starts(with: prefix) }
                #expect(try Self.collect(txn, store.items, prefix: prefix, direction: .reverse) == expected.reversed())
            }
        }
    }

    @Test(arguments: [4, 5])
    func rangeScansMatchSortedReference(seed: UInt64) throws {
        let store = try TestStore()
        let keys = Self.randomKeys(count: 600, seed: seed)
        try store.environment.write { (txn) throws in
            for k in keys { try txn.put([1], forKey: k, in: store.items) }
        }
        let sorted = keys.sorted { $0.lexicographicallyPrecedes($1) }
        var generator = SeededGenerator(seed: seed + 200)
        try store.environment.read { (txn) throws in
            for _ in 0..<60 {
                var lower: [UInt8]? = Self.randomKeys(count: 1, seed: generator.next())[0]
                var upper: [UInt8]? = Self.randomKeys(count: 1, seed: generator.next())[0]
                if Bool.random(using: &generator) { lower = nil }
                if Bool.random(using: &generator) { upper = nil }
                let expected = sorted.filter { k in
                    (lower.map { !k.lexicographicallyPrecedes($0) } ?? true) && (upper.map { k.lexicographicallyPrecedes($0) } ?? true)
                }
                for direction in [ScanDirection.forward, .reverse] {
                    var seen: [[UInt8]] = []
                    try txn.scan(in: store.items, from: lower, to: upper, direction: direction) { key, _ in
                        seen.append(Array(key))
                        return true
                    }
                    #expect(seen == (direction == .forward ? expected : expected.reversed()))
                }
            }
        }
    }

    @Test func scansStopEarly() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            for i in 0..<100 { try txn.put([], forKey: key(i), in: store.items) }
        }
        try store.environment.read { (txn) throws in
            var count = 0
            try txn.scan(in: store.items, prefix: []) { _, _ in
                count += 1
                return count < 10
            }
            #expect(count == 10)
        }
    }

    @Test func cursorMovesBothWays() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            for i in stride(from: 0, to: 100, by: 10) { try txn.put(bytes("\(i)"), forKey: key(i), in: store.items) }
        }
        try store.environment.read { (txn) throws in
            let cursor = try txn.makeCursor(in: store.items)
            #expect(try cursor.first().map { Array($0.value) } == bytes("0"))
            #expect(try cursor.last().map { Array($0.value) } == bytes("90"))
            #expect(try cursor.seek(atOrAfter: key(35)).map { Array($0.value) } == bytes("40"))
            #expect(try cursor.next().map { Array($0.value) } == bytes("50"))
            #expect(try cursor.previous().map { Array($0.value) } == bytes("40"))
            #expect(try cursor.seek(atOrAfter: key(95)) == nil)
            let before = try key(35).withUnsafeBytes { try cursor.seek(before: $0) }
            #expect(before.map { Array($0.value) } == bytes("30"))
            let atOrBefore = try key(40).withUnsafeBytes { try cursor.seek(atOrBefore: $0) }
            #expect(atOrBefore.map { Array($0.value) } == bytes("40"))
        }
    }

    @Test func cursorDeletesWhileScanning() throws {
        let store = try TestStore()
        try store.environment.write { (txn) throws in
            for i in 0..<20 { try txn.put([UInt8(i)], forKey: key(i), in: store.items) }
        }
        try store.environment.write { (txn) throws in
            let cursor = try txn.makeCursor(in: store.items)
            var entry = try cursor.first()
            while let current = entry {
                if current.value[0] % 2 == 0 {
                    let deletedKey = Array(current.key)  // copy: the borrowed bytes die with the entry
                    try cursor.deleteCurrent()
                    entry = try cursor.seek(atOrAfter: deletedKey + [0])
                } else {
                    entry = try cursor.next()
                }
            }
        }
        #expect(try store.environment.read { txn in try txn.count(in: store.items) } == 10)
    }
}
