import EngramCore
import EngramStorage
import EngramTestSupport
import Testing

@Suite("Key codec")
struct KeyCodecTests {
    static func randomElement(_ generator: inout SeededGenerator) -> KeyElement {
        switch Int.random(in: 0..<7, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            let edge: [Int64] = [.min, -1, 0, 1, .max]
            return .int(Bool.random(using: &generator) ? edge.randomElement(using: &generator)! : Int64.random(in: -1000...1000, using: &generator))
        case 3:
            let edge: [UInt64] = [0, 1, 255, 256, .max]
            return .uint(Bool.random(using: &generator) ? edge.randomElement(using: &generator)! : UInt64.random(in: 0...5000, using: &generator))
        case 4:
            let edge: [Double] = [-.infinity, -1e300, -1, -0.0, 0, 1e-300, 0.5, 1, .infinity, .nan, .leastNonzeroMagnitude]
            return .double(Bool.random(using: &generator) ? edge.randomElement(using: &generator)! : Double.random(in: -100...100, using: &generator))
        case 5:
            let pieces = ["", "a", "b", "\u{0}", "é", "z", "\u{FFFF}", "😀", "ab"]
            let count = Int.random(in: 0...3, using: &generator)
            return .string((0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined())
        default:
            let count = Int.random(in: 0...4, using: &generator)
            return .bytes((0..<count).map { _ in [0x00, 0x01, 0x02, 0x7F, 0xFF].randomElement(using: &generator)! })
        }
    }

    static func randomTuple(_ generator: inout SeededGenerator) -> [KeyElement] {
        (0..<Int.random(in: 0...4, using: &generator)).map { _ in randomElement(&generator) }
    }

    @Test func roundTripsThousandsOfRandomTuples() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<5_000 {
            let tuple = Self.randomTuple(&generator)
            #expect(try KeyTuple.decode(KeyTuple.encode(tuple)) == tuple)
        }
    }

    @Test func encodingOrderIsTupleOrder() throws {
        var generator = SeededGenerator(seed: 43)
        for _ in 0..<20_000 {
            var a = Self.randomTuple(&generator)
            var b = Self.randomTuple(&generator)
            // Share a prefix often, so that later elements decide.
            if Bool.random(using: &generator), !a.isEmpty {
                b = Array(a.prefix(Int.random(in: 0...a.count, using: &generator))) + b
            }
            if Int.random(in: 0..<4, using: &generator) == 0 { a = b }
            let tupleLess = a.lexicographicallyPrecedes(b)
            let bytesLess = KeyTuple.encode(a).lexicographicallyPrecedes(KeyTuple.encode(b))
            #expect(tupleLess == bytesLess, "\(a) vs \(b)")
            #expect((a == b) == (KeyTuple.encode(a) == KeyTuple.encode(b)), "\(a) vs \(b)")
        }
    }

    @Test func fixedWidthComponentsRoundTrip() throws {
        var writer = KeyWriter()
        writer.append(UInt8(7))
        writer.append(UInt16(0xBEEF))
        writer.append(UInt32(0xDEAD_BEEF))
        writer.append(UInt64.max)
        writer.append(Int64.min)
        writer.append(-2.5)
        writer.append("a\u{0}b")
        writer.append(escaped: [0, 0xFF])
        try writer.bytes.withUnsafeBytes { (raw) throws in
            var reader = KeyReader(raw)
            #expect(try reader.readUInt8() == 7)
            #expect(try reader.readUInt16() == 0xBEEF)
            #expect(try reader.readUInt32() == 0xDEAD_BEEF)
            #expect(try reader.readUInt64() == .max)
            #expect(try reader.readInt64() == .min)
            #expect(try reader.readDouble() == -2.5)
            #expect(try reader.readString() == "a\u{0}b")
            #expect(try reader.readEscapedBytes() == [0, 0xFF])
            #expect(reader.isAtEnd)
            #expect(throws: EngramError.self) { try reader.readUInt8() }
        }
    }

    @Test func malformedKeysThrow() {
        let cases: [[UInt8]] = [
            [0x10, 0x00],  // truncated int
            [0x20, 0x61],  // unterminated string
            [0x20, 0x00, 0x07],  // bad escape
            [0x20, 0xC3, 0x28, 0x00, 0x00],  // invalid UTF-8
            [0x99],  // unknown tag
        ]
        for bytes in cases {
            #expect(throws: EngramError.self) { try KeyTuple.decode(bytes) }
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SeededGenerator(seed: 44)
        for _ in 0..<20_000 {
            let garbage = (0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? KeyTuple.decode(garbage)
        }
    }
}
