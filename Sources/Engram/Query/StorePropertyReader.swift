import EngramCore
import EngramCypher
import EngramStorage
import Foundation

/// The ``PropertyReader`` of the store graph: resolves the key's symbol id once, finds the
/// property's tagged bytes in the record (or the adjacency entry) without decoding the others, and
/// decodes them straight into a ``Value``, or compares them with a constant, or hands them out
/// for grouping, without building the value at all.
///
/// A comparison is decided on the bytes when both sides are of one kind that compares bytewise
/// or numerically: ASCII strings (a non-ASCII string follows Unicode's equivalence, so it is
/// decoded), integers, and non-NaN floats. Anything else is decoded and compared as a ``Value``,
/// so the results are ``ConstantComparison/apply(to:)``'s in every case.
final class StorePropertyReader: PropertyReader {
    let key: String
    /// Held strongly: the graph holds no reader, and a strong `let` is not retained per call (an
    /// `unowned(unsafe)` one is).
    private let graph: StoreCypherGraph
    /// The graph's node records and adjacency cache, looked up here directly (no reference taken
    /// per row).
    private let records: UnsafeMutablePointer<RecordTable>
    private let adjacency: UnsafeMutablePointer<AdjacencyCache>?
    /// The key's symbol id: `.none` until resolved, `.some(nil)` when no property has that key.
    private var keyID: UInt32??

    init(key: String, graph: StoreCypherGraph) {
        self.key = key
        self.graph = graph
        records = graph.nodeRecords
        adjacency = graph.adjacency
    }

    @inline(__always)
    func resolvedKey() throws -> UInt32? {
        if let keyID { return keyID }
        let id = try graph.keyID(key)
        keyID = id
        return id
    }

    /// The tagged bytes of the property of `node`, `nil` when absent.
    @inline(__always)
    func encoded(node: NodeID) throws -> UnsafeRawBufferPointer? {
        guard let key = try resolvedKey() else { return nil }
        if let record = records.pointee.find(node) { return try PropertyScanner.node(key, in: record) }
        return try unremembered(node: node, key)
    }

    /// ``encoded(node:)`` for a node whose record the graph has not met yet.
    @inline(never)
    private func unremembered(node: NodeID, _ key: UInt32) throws -> UnsafeRawBufferPointer? {
        guard let record = try graph.nodeRecord(node) else { return nil }
        return try PropertyScanner.node(key, in: record)
    }

    /// The tagged bytes of the property of relationship `id`: from the adjacency entry an
    /// expansion stood on, else from the record; `nil` when absent.
    @inline(__always)
    func encoded(relationship id: RelationshipID) throws -> UnsafeRawBufferPointer? {
        guard let key = try resolvedKey() else { return nil }
        if let properties = adjacency?.pointee.find(id) { return try PropertyScanner.adjacency(key, in: properties) }
        guard let record = try graph.relationshipRecord(id) else { return nil }
        return try PropertyScanner.relationship(key, in: record)
    }

    func node(_ node: NodeID) throws -> Value {
        try encoded(node: node).map(Value.init(encoded:)) ?? .null
    }

    func relationship(_ id: RelationshipID) throws -> Value {
        try encoded(relationship: id).map(Value.init(encoded:)) ?? .null
    }

    func comparator(_ comparison: ConstantComparison) -> any PropertyComparator {
        StorePropertyComparator(reader: self, comparison: comparison)
    }

    func groupingBytes(node: NodeID) throws -> UnsafeRawBufferPointer? { try encoded(node: node) }

    func groupingBytes(relationship id: RelationshipID) throws -> UnsafeRawBufferPointer? {
        try encoded(relationship: id)
    }
}

/// `property op constant` over the store: decided on the stored bytes when both sides are of one
/// kind that compares bytewise or numerically — ASCII strings (a non-ASCII string follows
/// Unicode's equivalence, so it is decoded), integers, non-NaN floats — and otherwise on the
/// decoded value, so the results are ``ConstantComparison/apply(to:)``'s in every case.
///
/// The constant is kept in plain fields and its bytes in memory of its own, so that a comparison
/// per row retains and releases nothing.
final class StorePropertyComparator: PropertyComparator {
    private let reader: StorePropertyReader
    private let comparison: ConstantComparison
    /// What the constant is, for the bytewise paths.
    private enum Kind { case ascii, double, int, other }
    private let kind: Kind
    private let double: Double
    private let int: Int64
    private let ascii: UnsafeMutableRawBufferPointer
    /// The comparison's outcome per order (less, equal, greater).
    private let outcomes: (Bool, Bool, Bool)

    init(reader: StorePropertyReader, comparison: ConstantComparison) {
        self.reader = reader
        self.comparison = comparison
        var (kind, double, int) = (Kind.other, 0.0, Int64(0))
        switch comparison.constant {
        case .string where comparison.ascii != nil: kind = .ascii
        case .double(let value) where !value.isNaN: (kind, double) = (.double, value)
        case .int(let value): (kind, int) = (.int, value)
        default: break
        }
        self.kind = kind
        self.double = double
        self.int = int
        let bytes = comparison.ascii ?? []
        ascii = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        ascii.copyBytes(from: bytes)
        outcomes = (comparison.holds(order: -1), comparison.holds(order: 0), comparison.holds(order: 1))
    }

    deinit { ascii.deallocate() }

    func node(_ node: NodeID) throws -> Value { try compare(reader.encoded(node: node)) }

    func relationship(_ id: RelationshipID) throws -> Value { try compare(reader.encoded(relationship: id)) }

    private func absent() throws -> Value { try comparison.apply(to: .null) }

    @inline(__always)
    private func outcome(_ order: Int) -> Value {
        .bool(order < 0 ? outcomes.0 : (order == 0 ? outcomes.1 : outcomes.2))
    }

    @inline(__always)
    private func compare(_ stored: UnsafeRawBufferPointer?) throws -> Value {
        guard let stored, let tag = stored.first else { return try absent() }
        switch kind {
        case .ascii where tag == PropertyScanner.Tag.string:
            let text = try PropertyScanner.stringBytes(stored)
            if Self.isASCII(text) { return outcome(Self.order(text, UnsafeRawBufferPointer(ascii))) }
        case .double where tag == PropertyScanner.Tag.double:
            let value = try PropertyScanner.double(stored)
            if !value.isNaN { return outcome(value < double ? -1 : (value == double ? 0 : 1)) }
        case .int where tag == PropertyScanner.Tag.int:
            let value = try PropertyScanner.int(stored)
            return outcome(value < int ? -1 : (value == int ? 0 : 1))
        default:
            break
        }
        return try comparison.apply(to: Value(encoded: stored))
    }

    @inline(__always)
    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        return high < 0x80
    }

    /// How `a` orders against `b`, bytewise then by length.
    @inline(__always)
    private static func order(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let result = memcmp(a.baseAddress!, b.baseAddress!, common)
            if result != 0 { return result < 0 ? -1 : 1 }
        }
        return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
    }
}

extension Value {
    /// A stored tagged value (``ValueReader/taggedValue()``'s bytes), decoded straight into a query
    /// value: floats and strings without an intermediate ``PropertyValue``.
    init(encoded bytes: UnsafeRawBufferPointer) throws {
        switch bytes.first {
        case PropertyScanner.Tag.double:
            self = .double(try PropertyScanner.double(bytes))
        case PropertyScanner.Tag.int:
            self = .int(try PropertyScanner.int(bytes))
        case PropertyScanner.Tag.string:
            guard let text = ValueReader.validUTF8(try PropertyScanner.stringBytes(bytes)) else {
                throw EngramError(.decodingFailed, "a stored value holds a string that is not valid UTF-8")
            }
            self = .string(text)
        default:
            self = Value(try ValueCodec.decodeTagged(bytes))
        }
    }
}
