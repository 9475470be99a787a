import EngramCore

/// Builds order-preserving keys, one component after another.
///
/// Each component is encoded so that comparing two keys byte by byte (LMDB's order) gives the same
/// answer as comparing their components one by one:
///
/// | component | bytes |
/// | --- | --- |
/// | `UInt8`/`UInt16`/`UInt32`/`UInt64` | big-endian, fixed width |
/// | `Int64` | big-endian with the sign bit flipped |
/// | `Double` | IEEE bits, big-endian; sign bit flipped for positives, all bits flipped for negatives; `-0.0` as `+0.0`, every NaN as one NaN that sorts above `+∞` |
/// | `String`, bytes | each `0x00` written `0x00 0x01`, then the terminator `0x00 0x00` |
///
/// Keys made by `KeyWriter` carry no type tags: the reader must know the layout (it is fixed per
/// keyspace and documented in `docs/storage-format.md`). For keys whose component types vary, use
/// ``KeyTuple``.
package struct KeyWriter: Sendable {
    /// The key so far.
    package private(set) var bytes: [UInt8]

    /// Starts an empty key with room for `capacity` bytes.
    package init(capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    @inline(__always)
    package mutating func append(_ value: UInt8) { bytes.append(value) }

    /// Appends a big-endian `UInt16`.
    @inline(__always)
    package mutating func append(_ value: UInt16) { appendBigEndian(UInt64(value), width: 2) }

    /// Appends a big-endian `UInt32`.
    @inline(__always)
    package mutating func append(_ value: UInt32) { appendBigEndian(UInt64(value), width: 4) }

    /// Appends a big-endian `UInt64`.
    @inline(__always)
    package mutating func append(_ value: UInt64) { appendBigEndian(value, width: 8) }

    /// Appends an `Int64`, big-endian with the sign bit flipped so that negatives sort first.
    @inline(__always)
    package mutating func append(_ value: Int64) { appendBigEndian(UInt64(bitPattern: value) ^ (1 << 63), width: 8) }

    /// Appends a `Double` in total order (see the type's table).
    @inline(__always)
    package mutating func append(_ value: Double) { appendBigEndian(Self.orderedBits(value), width: 8) }

    /// Appends a string's UTF-8 bytes, escaped and terminated.
    package mutating func append(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped($0) }
    }

    /// Appends raw bytes, escaped and terminated.
    package mutating func append(escaped value: some Collection<UInt8>) {
        for byte in value {
            bytes.append(byte)
            if byte == 0 { bytes.append(0x01) }
        }
        bytes.append(0)
        bytes.append(0)
    }

    /// Appends raw bytes as they are, with no escaping: only as the last component or when their
    /// length is fixed by the layout.
    package mutating func append(raw value: some Collection<UInt8>) { bytes.append(contentsOf: value) }

    @inline(__always)
    private mutating func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>) {
        append(escaped: buffer)
    }

    @inline(__always)
    private mutating func appendBigEndian(_ value: UInt64, width: Int) {
        var shift = (width - 1) * 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }

    /// The bits of `value` arranged so that unsigned comparison matches numeric order.
    @inline(__always)
    package static func orderedBits(_ value: Double) -> UInt64 {
        let canonical: Double = value.isNaN ? .nan : (value == 0 ? 0 : value)
        let bits = canonical.bitPattern
        return bits & (1 << 63) == 0 ? bits ^ (1 << 63) : ~bits
    }

    /// The `Double` whose ordered bits are `bits`.
    @inline(__always)
    package static func double(fromOrderedBits bits: UInt64) -> Double {
        Double(bitPattern: bits & (1 << 63) != 0 ? bits ^ (1 << 63) : ~bits)
    }

    /// The big-endian bytes of a fixed-width integer.
    package static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// Reads the components of a key written by ``KeyWriter``, in the same order.
///
/// Every read checks bounds and throws `decodingFailed` on a truncated or malformed key.
package struct KeyReader {
    private let bytes: UnsafeRawBufferPointer
    /// The offset of the next unread byte.
    package private(set) var offset: Int

    /// Reads `bytes` from the start. The buffer must outlive the reader.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        offset = 0
    }

    /// Whether every byte has been read.
    package var isAtEnd: Bool { offset == bytes.count }

    /// The bytes not read yet.
    package var remaining: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset...]) }

    @inline(__always)
    private mutating func readBigEndian(width: Int) throws -> UInt64 {
        guard bytes.count - offset >= width else {
            throw EngramError(.decodingFailed, "a key ended after \(bytes.count) bytes, inside a \(width)-byte component")
        }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return value
    }

    /// Reads one byte.
    package mutating func readUInt8() throws -> UInt8 { UInt8(try readBigEndian(width: 1)) }
    /// Reads a big-endian `UInt16`.
    package mutating func readUInt16() throws -> UInt16 { UInt16(try readBigEndian(width: 2)) }
    /// Reads a big-endian `UInt32`.
    package mutating func readUInt32() throws -> UInt32 { UInt32(try readBigEndian(width: 4)) }
    /// Reads a big-endian `UInt64`.
    package mutating func readUInt64() throws -> UInt64 { try readBigEndian(width: 8) }
    /// Reads an `Int64` written by ``KeyWriter/append(_:)-(Int64)``.
    package mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readBigEndian(width: 8) ^ (1 << 63)) }
    /// Reads a `Double` written by ``KeyWriter/append(_:)-(Double)``.
    package mutating func readDouble() throws -> Double { KeyWriter.double(fromOrderedBits: try readBigEndian(width: 8)) }

    /// Reads escaped, terminated bytes.
    package mutating func readEscapedBytes() throws -> [UInt8] {
        var result: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            guard byte == 0 else {
                result.append(byte)
                continue
            }
            guard offset < bytes.count else { break }
            let next = bytes[offset]
            offset += 1
            switch next {
            case 0x00: return result
            case 0x01: result.append(0)
            default:
                throw EngramError(.decodingFailed, "a key holds the invalid escape 0x00 0x\(String(next, radix: 16))")
            }
        }
        throw EngramError(.decodingFailed, "a key ended inside a string or byte component")
    }

    /// Reads an escaped, terminated UTF-8 string.
    package mutating func readString() throws -> String {
        let utf8 = try readEscapedBytes()
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw EngramError(.decodingFailed, "a key holds a string that is not valid UTF-8")
        }
        return string
    }
}

/// One component of a ``KeyTuple``.
///
/// Elements of different kinds sort by kind, in the order of the cases: `null` < booleans <
/// signed integers < unsigned integers < doubles < strings < bytes.
package enum KeyElement: Sendable, Hashable, Comparable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])

    /// The type tag written before the element.
    package var tag: UInt8 {
        switch self {
        case .null: return 0x01
        case .bool(let value): return value ? 0x03 : 0x02
        case .int: return 0x10
        case .uint: return 0x11
        case .double: return 0x18
        case .string: return 0x20
        case .bytes: return 0x21
        }
    }

    /// Total order: by kind, then by value (`-0.0 == +0.0`; NaN above every other double).
    package static func < (lhs: KeyElement, rhs: KeyElement) -> Bool {
        if lhs.tag != rhs.tag { return lhs.tag < rhs.tag }
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a < b
        case (.uint(let a), .uint(let b)): return a < b
        case (.double(let a), .double(let b)): return KeyWriter.orderedBits(a) < KeyWriter.orderedBits(b)
        case (.string(let a), .string(let b)): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        case (.bytes(let a), .bytes(let b)): return a.lexicographicallyPrecedes(b)
        default: return false
        }
    }

    /// Equality consistent with the encoding: doubles compare by their canonical bits, so
    /// `-0.0 == +0.0` and NaN equals NaN.
    package static func == (lhs: KeyElement, rhs: KeyElement) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return KeyWriter.orderedBits(a) == KeyWriter.orderedBits(b)
        case (.string(let a), .string(let b)): return Array(a.utf8) == Array(b.utf8)
        case (.bytes(let a), .bytes(let b)): return a == b
        default: return false
        }
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(tag)
        switch self {
        case .null, .bool: break
        case .int(let value): hasher.combine(value)
        case .uint(let value): hasher.combine(value)
        case .double(let value): hasher.combine(KeyWriter.orderedBits(value))
        case .string(let value): hasher.combine(Array(value.utf8))
        case .bytes(let value): hasher.combine(value)
        }
    }
}

/// Self-describing, order-preserving tuples: each element is a type tag followed by the element in
/// ``KeyWriter``'s encoding. `encode(a) < encode(b)` exactly when `a < b` element-wise (a tuple that
/// is a prefix of another sorts first), and `decode(encode(t)) == t`.
package enum KeyTuple {
    /// Appends the encoding of `elements` to `writer`.
    package static func append(_ elements: [KeyElement], to writer: inout KeyWriter) {
        for element in elements { append(element, to: &writer) }
    }

    /// Appends the encoding of one element to `writer`.
    package static func append(_ element: KeyElement, to writer: inout KeyWriter) {
        writer.append(element.tag)
        switch element {
        case .null, .bool: break
        case .int(let value): writer.append(value)
        case .uint(let value): writer.append(value)
        case .double(let value): writer.append(value)
        case .string(let value): writer.append(value)
        case .bytes(let value): writer.append(escaped: value)
        }
    }

    /// The encoding of `elements`.
    package static func encode(_ elements: [KeyElement]) -> [UInt8] {
        var writer = KeyWriter()
        append(elements, to: &writer)
        return writer.bytes
    }

    /// Decodes every element of `bytes`.
    /// - Throws: `decodingFailed` on an unknown tag or a truncated or malformed element.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws -> [KeyElement] {
        var reader = KeyReader(bytes)
        var elements: [KeyElement] = []
        while !reader.isAtEnd {
            elements.append(try readElement(from: &reader))
        }
        return elements
    }

    /// Decodes every element of `bytes`.
    package static func decode(_ bytes: [UInt8]) throws -> [KeyElement] {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    /// Reads one tagged element.
    package static func readElement(from reader: inout KeyReader) throws -> KeyElement {
        let tag = try reader.readUInt8()
        switch tag {
        case 0x01: return .null
        case 0x02: return .bool(false)
        case 0x03: return .bool(true)
        case 0x10: return .int(try reader.readInt64())
        case 0x11: return .uint(try reader.readUInt64())
        case 0x18: return .double(try reader.readDouble())
        case 0x20: return .string(try reader.readString())
        case 0x21: return .bytes(try reader.readEscapedBytes())
        default:
            throw EngramError(.decodingFailed, "a key holds the unknown type tag 0x\(String(tag, radix: 16))")
        }
    }
}
