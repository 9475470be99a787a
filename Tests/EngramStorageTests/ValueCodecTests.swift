import EngramCore
import EngramStorage
import EngramTestSupport
import Testing

@Suite("Value codec")
struct ValueCodecTests {
    static func randomValue(_ generator: inout SeededGenerator, depth: Int = 0) -> PropertyValue {
        switch Int.random(in: 0..<(depth < 3 ? 9 : 7), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int([Int64.min, -1, 0, 63, 64, -65, Int64.max, Int64.random(in: -1_000_000...1_000_000, using: &generator)].randomElement(using: &generator)!)
        case 3: return .double([0.0, -0.0, 1.5, -1e308, .infinity, .leastNonzeroMagnitude, Double.random(in: -1...1, using: &generator)].randomElement(using: &generator)!)
        case 4: return .string(["", "plain", "naïve café", "日本語", "😀\u{0}x"].randomElement(using: &generator)!)
        case 5: return .bytes((0..<Int.random(in: 0...10, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case 6: return .vector((0..<Int.random(in: 0...8, using: &generator)).map { _ in Float.random(in: -1...1, using: &generator) })
        case 7: return .list((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            var entries: [String: PropertyValue] = [:]
            for i in 0..<Int.random(in: 0...4, using: &generator) { entries["k\(i)"] = randomValue(&generator, depth: depth + 1) }
            return .map(entries)
        }
    }

    @Test func roundTripsRandomValues() throws {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<5_000 {
            let value = Self.randomValue(&generator)
            #expect(try ValueCodec.decode(ValueCodec.encode(value)) == value)
        }
    }

    @Test func encodingIsDeterministicForMaps() {
        let a: PropertyValue = ["x": 1, "y": "two", "z": [true, nil]]
        let b: PropertyValue = ["z": [true, nil], "y": "two", "x": 1]
        #expect(ValueCodec.encode(a) == ValueCodec.encode(b))
    }

    @Test func smallIntegersAreCompact() {
        #expect(ValueCodec.encode(.int(1)).count == 3)
        #expect(ValueCodec.encode(.int(-1)).count == 3)
    }

    @Test func everyTruncationThrows() throws {
        var generator = SeededGenerator(seed: 12)
        for _ in 0..<500 {
            let encoded = ValueCodec.encode(Self.randomValue(&generator))
            for length in 0..<encoded.count {
                #expect(throws: EngramError.self) { try ValueCodec.decode(Array(encoded.prefix(length))) }
            }
        }
    }

    @Test func malformedInputIsRefusedWithAReason() {
        let cases: [([UInt8], String)] = [
            ([2, 0], "version"),
            ([1, 0x42], "unknown tag"),
            ([1, 5, 2, 0xC3, 0x28], "UTF-8"),
            ([1, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "claims"),
            ([1, 0, 0], "trailing"),
            ([1, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], "64 bits"),
            ([1, 8, 2, 1, 0x61, 0, 1, 0x61, 0], "twice"),
            ([1] + Array(repeating: 7, count: 200).flatMap { [$0, 1] } + [0], "deeper"),
        ]
        for (bytes, reason) in cases {
            do {
                _ = try ValueCodec.decode(bytes)
                Issue.record("decoded malformed input \(bytes.prefix(12))")
            } catch let error as EngramError {
                #expect(error.code == .decodingFailed)
                #expect(error.message.contains(reason), "\(error.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SeededGenerator(seed: 13)
        for _ in 0..<50_000 {
            var garbage: [UInt8] = [1]
            garbage += (0..<Int.random(in: 0...32, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? ValueCodec.decode(garbage)
        }
    }
}
