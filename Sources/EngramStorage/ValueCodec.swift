package import EngramCore

/// The compact, versioned binary encoding of ``PropertyValue``s.
///
/// An encoded value is one version byte (`0x01`) followed by the value:
///
/// | tag | value | payload |
/// | --- | --- | --- |
/// | `0x00` | null | — |
/// | `0x01` / `0x02` | false / true | — |
/// | `0x03` | int | zig-zag LEB128 varint |
/// | `0x04` | double | 8 bytes, little-endian IEEE 754 |
/// | `0x05` | string | varint byte count, UTF-8 |
/// | `0x06` | bytes | varint count, bytes |
/// | `0x07` | list | varint count, values |
/// | `0x08` | map | varint count, then (varint key length, UTF-8 key, value), keys in ascending UTF-8 order |
/// | `0x09` | vector | varint count, 4-byte little-endian floats |
///
/// Decoding checks every length against the bytes left, refuses unknown versions and tags, invalid
/// UTF-8 and nesting deeper than ``maximumDepth``, and never traps on garbage.
package enum ValueCodec {
    /// The version byte written first.
    package static let version: UInt8 = 1

    /// The deepest nesting of lists and maps accepted; deeper input is refused rather than risking
    /// the stack. Sixty-four levels is far beyond any property a person writes.
    package static let maximumDepth = 64

    package enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, double, string, bytes, list, map, vector
    }

    // MARK: Encoding

    /// The encoding of `value`, version byte included.
    package static func encode(_ value: PropertyValue) -> [UInt8] {
        var bytes: [UInt8] = [version]
        append(value, to: &bytes)
        return bytes
    }

    /// Appends the encoding of `value`, without version byte.
    package static func append(_ value: PropertyValue, to bytes: inout [UInt8]) {
        switch value {
        case .null:
            bytes.append(Tag.null.rawValue)
        case .bool(let flag):
            bytes.append(flag ? Tag.true.rawValue : Tag.false.rawValue)
        case .int(let number):
            bytes.append(Tag.int.rawValue)
            appendVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)), to: &bytes)
        case .double(let number):
            bytes.append(Tag.double.rawValue)
            appendLittleEndian(number.bitPattern, to: &bytes)
        case .string(let text):
            bytes.append(Tag.string.rawValue)
            appendString(text, to: &bytes)
        case .bytes(let data):
            bytes.append(Tag.bytes.rawValue)
            appendVarint(UInt64(data.count), to: &bytes)
            bytes.append(contentsOf: data)
        case .list(let elements):
            bytes.append(Tag.list.rawValue)
            appendVarint(UInt64(elements.count), to: &bytes)
            for element in elements { append(element, to: &bytes) }
        case .map(let entries):
            bytes.append(Tag.map.rawValue)
            appendVarint(UInt64(entries.count), to: &bytes)
            for key in entries.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                appendString(key, to: &bytes)
                append(entries[key]!, to: &bytes)
            }
        case .vector(let components):
            bytes.append(Tag.vector.rawValue)
            appendVarint(UInt64(components.count), to: &bytes)
            for component in components { appendLittleEndian(component.bitPattern, to: &bytes) }
        }
    }

    @inline(__always)
    package static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    @inline(__always)
    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = text.utf8
        appendVarint(UInt64(utf8.count), to: &bytes)
        bytes.append(contentsOf: utf8)
    }

    // MARK: Decoding

    /// Decodes a value written by ``encode(_:)``.
    /// - Throws: `decodingFailed` naming what is wrong, for any input that ``encode(_:)`` cannot
    ///   have produced.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws -> PropertyValue {
        var reader = ValueReader(bytes)
        let found = try reader.byte()
        guard found == version else {
            throw EngramError(
                .decodingFailed,
                "a stored value has encoding version \(found); this build reads version \(version)")
        }
        let value = try reader.value(depth: 0)
        guard reader.isAtEnd else {
            throw EngramError(.decodingFailed, "a stored value has \(reader.remaining) unexpected trailing bytes")
        }
        return value
    }

    /// Decodes one tagged value (``ValueReader/taggedValue()``'s bytes: no version byte).
    package static func decodeTagged(_ bytes: UnsafeRawBufferPointer) throws -> PropertyValue {
        var reader = ValueReader(bytes)
        let value = try reader.value()
        guard reader.isAtEnd else {
            throw EngramError(.decodingFailed, "a stored value has \(reader.remaining) unexpected trailing bytes")
        }
        return value
    }

    /// Decodes a value written by ``encode(_:)``.
    package static func decode(_ bytes: [UInt8]) throws -> PropertyValue {
        try bytes.withUnsafeBytes { try decode($0) }
    }
}

/// A bounds-checked reader of ``ValueCodec`` bytes, also used by record layouts built from them.
///
/// The small reads are `@inlinable`: record decoding in other modules (a node's properties read
/// per row of a query) calls them in its inner loops.
package struct ValueReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var offset = 0

    /// Reads `bytes` from the start; the buffer must outlive the reader.
    @inlinable package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Whether every byte has been read.
    @inlinable package var isAtEnd: Bool { offset == bytes.count }
    /// How many bytes are left.
    @inlinable package var remaining: Int { bytes.count - offset }

    @usableFromInline func truncated(_ what: String) -> EngramError {
        EngramError(.decodingFailed, "a stored value is truncated: it ends inside \(what)")
    }

    @usableFromInline func tooLong() -> EngramError {
        EngramError(.decodingFailed, "a stored value holds a number longer than 64 bits")
    }

    /// Reads one byte.
    @inlinable @inline(__always) package mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw truncated("a tag") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads an unsigned LEB128 varint.
    @inlinable @inline(__always) package mutating func varint() throws -> UInt64 {
        // One byte, the usual case for symbol ids, counts and lengths.
        if offset < bytes.count, bytes[offset] < 0x80 {
            defer { offset += 1 }
            return UInt64(bytes[offset])
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw truncated("a number") }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw tooLong() }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw tooLong() }
        }
    }

    /// A count of items of at least `minimumSize` bytes each, checked against the bytes left.
    @inlinable @inline(__always) package mutating func count(of what: StaticString, minimumSize: Int) throws -> Int {
        let count = try varint()
        guard count <= UInt64(remaining / max(minimumSize, 1)) else { throw overclaimed(count, what) }
        return Int(count)
    }

    @usableFromInline func overclaimed(_ count: UInt64, _ what: StaticString) -> EngramError {
        EngramError(.decodingFailed, "a stored value claims \(count) \(what) but only \(remaining) bytes follow")
    }

    /// Skips one tagged value without building it.
    package mutating func skipValue(depth: Int = 0) throws {
        let rawTag = try byte()
        guard let tag = ValueCodec.Tag(rawValue: rawTag) else {
            throw EngramError(.decodingFailed, "a stored value holds the unknown tag 0x\(String(rawTag, radix: 16))")
        }
        switch tag {
        case .null, .false, .true: return
        case .int: _ = try varint()
        case .double: _ = try raw(checked: 8)
        case .string, .bytes: _ = try raw(checked: count(of: "bytes", minimumSize: 1))
        case .vector: _ = try raw(checked: count(of: "vector components", minimumSize: 4) * 4)
        case .list, .map:
            guard depth < ValueCodec.maximumDepth else {
                throw EngramError(.decodingFailed, "a stored value nests lists and maps deeper than \(ValueCodec.maximumDepth) levels")
            }
            let count = try self.count(of: "elements", minimumSize: 1)
            for _ in 0..<count {
                if tag == .map { _ = try raw(checked: self.count(of: "bytes", minimumSize: 1)) }
                try skipValue(depth: depth + 1)
            }
        }
    }

    /// Skips one tagged value and returns its bytes, tag included: a stored value to compare or
    /// group by without building it.
    package mutating func taggedValue() throws -> UnsafeRawBufferPointer {
        let start = offset
        try skipValue()
        return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// Reads `count` raw bytes, checked against the bytes left.
    @inlinable @inline(__always) package mutating func raw(checked count: Int) throws -> UnsafeRawBufferPointer {
        guard count <= remaining else { throw truncated("\(count) bytes") }
        return raw(count)
    }

    mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated("a \(size)-byte number") }
        defer { offset += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable @inline(__always) mutating func raw(_ count: Int) -> UnsafeRawBufferPointer {
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// Reads a varint-length UTF-8 string.
    @inlinable @inline(__always) package mutating func string() throws -> String {
        let count = try self.count(of: "bytes of text", minimumSize: 1)
        guard let text = Self.validUTF8(raw(count)) else {
            throw EngramError(.decodingFailed, "a stored value holds a string that is not valid UTF-8")
        }
        return text
    }

    /// The bytes as a string, or `nil` when they are not valid UTF-8.
    ///
    /// `String(validating:as:)` looks up generic metadata at run time on every call, which costs
    /// more than the decoding when a query reads a short string property per row. Decoding with
    /// repair is fast, and a valid input is exactly one that comes back unchanged: repair writes
    /// U+FFFD where the input held something else.
    @inlinable package static func validUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        let text = String(decoding: bytes, as: UTF8.self)
        // ASCII is valid as it is; otherwise compare with what decoding made of it.
        return high < 0x80 || text.utf8.elementsEqual(bytes) ? text : nil
    }

    /// Reads one tagged value (no version byte).
    package mutating func value(depth: Int = 0) throws -> PropertyValue {
        let rawTag = try byte()
        guard let tag = ValueCodec.Tag(rawValue: rawTag) else {
            throw EngramError(.decodingFailed, "a stored value holds the unknown tag 0x\(String(rawTag, radix: 16))")
        }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int:
            let zigzag = try varint()
            return .int(Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1))
        case .double:
            return .double(Double(bitPattern: try littleEndian(UInt64.self)))
        case .string:
            return .string(try string())
        case .bytes:
            let count = try self.count(of: "bytes", minimumSize: 1)
            return .bytes(Array(raw(count)))
        case .list, .map:
            guard depth < ValueCodec.maximumDepth else {
                throw EngramError(
                    .decodingFailed, "a stored value nests lists and maps deeper than \(ValueCodec.maximumDepth) levels")
            }
            if tag == .list {
                let count = try self.count(of: "list elements", minimumSize: 1)
                var elements: [PropertyValue] = []
                elements.reserveCapacity(count)
                for _ in 0..<count { elements.append(try value(depth: depth + 1)) }
                return .list(elements)
            }
            let count = try self.count(of: "map entries", minimumSize: 2)
            var entries: [String: PropertyValue] = [:]
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try string()
                guard entries.updateValue(try value(depth: depth + 1), forKey: key) == nil else {
                    throw EngramError(.decodingFailed, "a stored map holds the key '\(key)' twice")
                }
            }
            return .map(entries)
        case .vector:
            let count = try self.count(of: "vector components", minimumSize: 4)
            var components: [Float] = []
            components.reserveCapacity(count)
            for _ in 0..<count { components.append(Float(bitPattern: try littleEndian(UInt32.self))) }
            return .vector(components)
        }
    }
}
