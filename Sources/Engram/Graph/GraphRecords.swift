import EngramCore
import EngramStorage

/// A node as stored: public id, label symbol ids and properties by key symbol id.
///
/// Layout (version 1): `0x01`, varint length + UTF-8 public id, varint label count + varint label
/// ids, varint property count + (varint key id, tagged value) sorted by key id. A single property
/// is read by skipping the others without decoding them.
struct StoredNode: Sendable, Equatable {
    var publicID: String
    var labels: [UInt32]
    var properties: [(key: UInt32, value: PropertyValue)]

    static func == (lhs: StoredNode, rhs: StoredNode) -> Bool {
        lhs.publicID == rhs.publicID && lhs.labels == rhs.labels
            && lhs.properties.elementsEqual(rhs.properties) { $0.key == $1.key && $0.value == $1.value }
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [1]
        ValueCodec.appendString(publicID, to: &bytes)
        ValueCodec.appendVarint(UInt64(labels.count), to: &bytes)
        for label in labels { ValueCodec.appendVarint(UInt64(label), to: &bytes) }
        GraphRecordCodec.appendProperties(properties, to: &bytes)
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> StoredNode {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        let publicID = try reader.string()
        let labelCount = try reader.count(of: "labels", minimumSize: 1)
        var labels: [UInt32] = []
        labels.reserveCapacity(labelCount)
        for _ in 0..<labelCount { labels.append(try GraphRecordCodec.symbol(&reader)) }
        let properties = try GraphRecordCodec.properties(&reader)
        return StoredNode(publicID: publicID, labels: labels, properties: properties)
    }

    /// The public id alone.
    static func publicID(_ bytes: UnsafeRawBufferPointer) throws -> String {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        return try reader.string()
    }

    /// The label ids alone.
    static func labels(_ bytes: UnsafeRawBufferPointer) throws -> [UInt32] {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        _ = try reader.raw(checked: reader.count(of: "bytes", minimumSize: 1))
        let count = try reader.count(of: "labels", minimumSize: 1)
        return try (0..<count).map { _ in try GraphRecordCodec.symbol(&reader) }
    }

    /// One property, decoded without decoding the others; `nil` when absent.
    static func property(_ key: UInt32, in bytes: UnsafeRawBufferPointer) throws -> PropertyValue? {
        try PropertyScanner.node(key, in: bytes).map(ValueCodec.decodeTagged)
    }
}

/// A relationship as stored.
///
/// Layout (version 1): `0x01`, varint length + UTF-8 public id, varint type id, start and end as
/// varints, then the properties as in ``StoredNode``.
struct StoredRelationship: Sendable {
    var publicID: String
    var type: UInt32
    var start: UInt64
    var end: UInt64
    var properties: [(key: UInt32, value: PropertyValue)]

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [1]
        ValueCodec.appendString(publicID, to: &bytes)
        ValueCodec.appendVarint(UInt64(type), to: &bytes)
        ValueCodec.appendVarint(start, to: &bytes)
        ValueCodec.appendVarint(end, to: &bytes)
        GraphRecordCodec.appendProperties(properties, to: &bytes)
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> StoredRelationship {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        let publicID = try reader.string()
        let type = try GraphRecordCodec.symbol(&reader)
        let start = try reader.varint()
        let end = try reader.varint()
        return StoredRelationship(
            publicID: publicID, type: type, start: start, end: end, properties: try GraphRecordCodec.properties(&reader))
    }

    /// Type and endpoints alone.
    static func header(_ bytes: UnsafeRawBufferPointer) throws -> (publicID: String, type: UInt32, start: UInt64, end: UInt64) {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        let publicID = try reader.string()
        return (publicID, try GraphRecordCodec.symbol(&reader), try reader.varint(), try reader.varint())
    }

    /// One property; `nil` when absent.
    static func property(_ key: UInt32, in bytes: UnsafeRawBufferPointer) throws -> PropertyValue? {
        try PropertyScanner.relationship(key, in: bytes).map(ValueCodec.decodeTagged)
    }
}

/// The properties of a relationship as its two adjacency entries carry them (format 2), so that an
/// expansion filtering or returning them reads no record: empty when it has none, otherwise `0x01`
/// then the properties as in its record. Every write of the record rewrites both entries.
enum AdjacencyValue {
    static func encode(_ properties: [(key: UInt32, value: PropertyValue)]) -> [UInt8] {
        guard !properties.isEmpty else { return [] }
        var bytes: [UInt8] = [1]
        GraphRecordCodec.appendProperties(properties, to: &bytes)
        return bytes
    }

    /// One property; `nil` when absent.
    static func property(_ key: UInt32, in bytes: UnsafeRawBufferPointer) throws -> PropertyValue? {
        try PropertyScanner.adjacency(key, in: bytes).map(ValueCodec.decodeTagged)
    }

    /// Every property.
    static func properties(_ bytes: UnsafeRawBufferPointer) throws -> [(key: UInt32, value: PropertyValue)] {
        guard !bytes.isEmpty else { return [] }
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        return try GraphRecordCodec.properties(&reader)
    }
}

enum GraphRecordCodec {
    static func checkVersion(_ reader: inout ValueReader) throws {
        let version = try reader.byte()
        guard version == 1 else {
            throw EngramError(.decodingFailed, "a graph record has layout version \(version); this build reads version 1")
        }
    }

    static func symbol(_ reader: inout ValueReader) throws -> UInt32 {
        let value = try reader.varint()
        guard value <= UInt64(UInt32.max) else { throw EngramError(.decodingFailed, "a graph record holds a symbol id out of range") }
        return UInt32(value)
    }

    static func appendProperties(_ properties: [(key: UInt32, value: PropertyValue)], to bytes: inout [UInt8]) {
        ValueCodec.appendVarint(UInt64(properties.count), to: &bytes)
        for (key, value) in properties {
            ValueCodec.appendVarint(UInt64(key), to: &bytes)
            ValueCodec.append(value, to: &bytes)
        }
    }

    static func properties(_ reader: inout ValueReader) throws -> [(key: UInt32, value: PropertyValue)] {
        let count = try reader.count(of: "properties", minimumSize: 2)
        var properties: [(key: UInt32, value: PropertyValue)] = []
        properties.reserveCapacity(count)
        for _ in 0..<count { properties.append((try symbol(&reader), try reader.value())) }
        return properties
    }
}
