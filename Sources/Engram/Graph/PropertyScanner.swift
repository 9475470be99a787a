import EngramCore
import EngramStorage

/// Finds one property's tagged bytes in a node record, a relationship record or an adjacency value
/// (the layouts in ``StoredNode``, ``StoredRelationship``, ``AdjacencyValue``) without decoding it.
///
/// A whole-graph query does this per row, hundreds of thousands of times. The record decoders use
/// ``ValueReader``, but its small reads live in EngramStorage and the compiler does not inline them
/// here (each byte, varint and length check was a call, and retained the buffer's owner), so the
/// walk over a record's header and properties is written in this module over a raw pointer. Only
/// skipping a list, map or vector, which no per-row filter meets in practice, goes to `ValueReader`.
struct PropertyScanner {
    private var position: UnsafePointer<UInt8>
    private let end: UnsafePointer<UInt8>

    /// The tags of ``ValueCodec``'s tagged values, as literals so that a switch over them compiles
    /// to compares (reading `ValueCodec.Tag.rawValue` from here is a call per use). They must equal
    /// the codec's: `QueryStoredComparisonTests` compares values of every scalar kind read through
    /// them with the same values decoded by the codec.
    enum Tag {
        static let null: UInt8 = 0x00
        static let `false`: UInt8 = 0x01
        static let `true`: UInt8 = 0x02
        static let int: UInt8 = 0x03
        static let double: UInt8 = 0x04
        static let string: UInt8 = 0x05
        static let bytes: UInt8 = 0x06
    }

    /// The property `key` of a node record; `nil` when absent.
    @inline(__always)
    static func node(_ key: UInt32, in record: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        guard var scanner = PropertyScanner(record) else { throw truncated() }
        try scanner.version()
        try scanner.skip(Int(scanner.length()))  // public id
        for _ in 0..<(try scanner.varint()) { _ = try scanner.varint() }  // labels
        return try scanner.property(key)
    }

    /// The property `key` of a relationship record; `nil` when absent.
    @inline(__always)
    static func relationship(_ key: UInt32, in record: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        guard var scanner = PropertyScanner(record) else { throw truncated() }
        try scanner.version()
        try scanner.skip(Int(scanner.length()))  // public id
        for _ in 0..<3 { _ = try scanner.varint() }  // type, start, end
        return try scanner.property(key)
    }

    /// The property `key` of an adjacency value; `nil` when absent (an empty value has none).
    @inline(__always)
    static func adjacency(_ key: UInt32, in value: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        guard var scanner = PropertyScanner(value) else { return nil }
        try scanner.version()
        return try scanner.property(key)
    }

    /// The UTF-8 bytes of a tagged string (the tag must be ``Tag/string``), not validated.
    @inline(__always)
    static func stringBytes(_ tagged: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        guard var scanner = PropertyScanner(tagged) else { throw truncated() }
        scanner.position += 1
        let count = Int(try scanner.length())
        return UnsafeRawBufferPointer(start: scanner.position, count: count)
    }

    /// The value of a tagged integer (the tag must be ``Tag/int``).
    @inline(__always)
    static func int(_ tagged: UnsafeRawBufferPointer) throws -> Int64 {
        guard var scanner = PropertyScanner(tagged) else { throw truncated() }
        scanner.position += 1
        let zigzag = try scanner.varint()
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    /// The value of a tagged float (the tag must be ``Tag/double``).
    @inline(__always)
    static func double(_ tagged: UnsafeRawBufferPointer) throws -> Double {
        guard tagged.count == 9 else { throw truncated() }
        return Double(bitPattern: UInt64(littleEndian: tagged.loadUnaligned(fromByteOffset: 1, as: UInt64.self)))
    }

    @inline(__always)
    private init?(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        position = base.assumingMemoryBound(to: UInt8.self)
        end = position + bytes.count
    }

    private static func truncated() -> EngramError {
        EngramError(.decodingFailed, "a stored graph record is truncated")
    }

    @inline(__always)
    private mutating func byte() throws -> UInt8 {
        guard position < end else { throw Self.truncated() }
        defer { position += 1 }
        return position.pointee
    }

    @inline(__always)
    private mutating func version() throws {
        let version = try byte()
        guard version == 1 else {
            throw EngramError(.decodingFailed, "a graph record has layout version \(version); this build reads version 1")
        }
    }

    /// An unsigned LEB128 varint.
    @inline(__always)
    private mutating func varint() throws -> UInt64 {
        let first = try byte()
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            let next = try byte()
            if shift == 63 && next > 1 { throw EngramError(.decodingFailed, "a stored value holds a number longer than 64 bits") }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw EngramError(.decodingFailed, "a stored value holds a number longer than 64 bits") }
        }
    }

    /// A varint length, checked against the bytes left.
    @inline(__always)
    private mutating func length() throws -> UInt64 {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw Self.truncated() }
        return length
    }

    @inline(__always)
    private mutating func skip(_ count: Int) throws {
        guard count <= end - position else { throw Self.truncated() }
        position += count
    }

    /// The tagged value at the position, tag included, and moves past it.
    @inline(__always)
    private mutating func taggedValue() throws -> UnsafeRawBufferPointer {
        let start = position
        switch try byte() {
        case Tag.null, Tag.false, Tag.true: break
        case Tag.int: _ = try varint()
        case Tag.double: try skip(8)
        case Tag.string, Tag.bytes: try skip(Int(length()))
        default:
            // Lists, maps, vectors (and unknown tags, which it rejects): the general reader.
            var reader = ValueReader(UnsafeRawBufferPointer(start: start, count: end - start))
            let value = try reader.taggedValue()
            position = start + value.count
            return value
        }
        return UnsafeRawBufferPointer(start: start, count: position - start)
    }

    /// The property block at the position (count, then key ids and tagged values sorted by key id):
    /// the value of `key`, `nil` when absent.
    @inline(__always)
    private mutating func property(_ key: UInt32) throws -> UnsafeRawBufferPointer? {
        let count = try varint()
        guard count <= UInt64(end - position) / 2 else { throw Self.truncated() }
        for _ in 0..<count {
            let found = try varint()
            if found > UInt64(key) { return nil }
            let value = try taggedValue()
            if found == UInt64(key) { return value }
        }
        return nil
    }
}
