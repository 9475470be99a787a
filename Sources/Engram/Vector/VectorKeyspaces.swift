import EngramCore
import EngramStorage
import EngramVector

/// The keyspaces of the vector indexes and the layout of their keys. `docs/storage-format.md`
/// ("Vector indexes") documents the same table; the two must change together.
///
/// `t` is the tenant's 4-byte id, `i` the index's 4-byte id, `s` a 4-byte HNSW slot, `k` an
/// 8-byte vector key, `n` an 8-byte internal node id; all big-endian. The tenant and the index
/// come first in every key, so one index of one tenant is one contiguous key range.
///
/// | keyspace | key | value |
/// | --- | --- | --- |
/// | `vector_indexes` | `t` ‖ index name (escaped) | definition (``VectorIndexRecord``) |
/// | `vector_graph` | `t i 00` | meta: entry slot u32 (`FFFFFFFF`: none), max level u8, generation u64, next key u64 |
/// | `vector_graph` | `t i 01 s 00` | node: `k` u64, level u8, `dimension` × f32 little-endian |
/// | `vector_graph` | `t i 01 s 01` | tombstone: empty |
/// | `vector_graph` | `t i 01 s (02 + level)` | links: u32 little-endian slots |
/// | `vector_ids` | `t i 00 k` | `n` |
/// | `vector_ids` | `t i 01 n` | `k`, `s` |
struct VectorKeyspaces: Sendable {
    let indexes: Keyspace
    let graph: Keyspace
    let ids: Keyspace

    static let descriptors: [KeyspaceDescriptor] = ["vector_indexes", "vector_graph", "vector_ids"].map {
        KeyspaceDescriptor($0)
    }

    init(_ environment: StorageEnvironment) throws {
        indexes = try environment.keyspace("vector_indexes")
        graph = try environment.keyspace("vector_graph")
        ids = try environment.keyspace("vector_ids")
    }
}

/// Key builders and value codecs of the vector keyspaces.
enum VectorKey {
    /// Sub-key bytes under `t i 01 s`.
    static let nodeSub: UInt8 = 0
    static let tombstoneSub: UInt8 = 1
    static let linksSub: UInt8 = 2

    static func definition(_ tenant: UInt32, _ name: String) -> [UInt8] {
        var writer = KeyWriter(capacity: 8 + name.utf8.count)
        writer.append(tenant)
        writer.append(name)
        return writer.bytes
    }

    static func index(_ tenant: UInt32, _ index: UInt32) -> KeyWriter {
        var writer = KeyWriter(capacity: 24)
        writer.append(tenant)
        writer.append(index)
        return writer
    }

    static func meta(_ tenant: UInt32, _ index: UInt32) -> [UInt8] {
        var writer = Self.index(tenant, index)
        writer.append(UInt8(0))
        return writer.bytes
    }

    /// `t i 01`: every slot record of the index; `t i 01 s`: every record of one slot.
    static func slots(_ tenant: UInt32, _ index: UInt32, _ slot: UInt32? = nil) -> [UInt8] {
        var writer = Self.index(tenant, index)
        writer.append(UInt8(1))
        if let slot { writer.append(slot) }
        return writer.bytes
    }

    static func slot(_ tenant: UInt32, _ index: UInt32, _ slot: UInt32, _ sub: UInt8) -> [UInt8] {
        var writer = Self.index(tenant, index)
        writer.append(UInt8(1))
        writer.append(slot)
        writer.append(sub)
        return writer.bytes
    }

    static func keyToNode(_ tenant: UInt32, _ index: UInt32, _ key: UInt64) -> [UInt8] {
        var writer = Self.index(tenant, index)
        writer.append(UInt8(0))
        writer.append(key)
        return writer.bytes
    }

    static func nodeToKey(_ tenant: UInt32, _ index: UInt32, _ node: UInt64) -> [UInt8] {
        var writer = Self.index(tenant, index)
        writer.append(UInt8(1))
        writer.append(node)
        return writer.bytes
    }

    // MARK: Values

    static func uint64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 { GraphKey.uint64(bytes, at: offset) }
    static func uint32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 { GraphKey.uint32(bytes, at: offset) }

    static func nodeValue(key: UInt64, level: Int, vector: [Float]) -> [UInt8] {
        var bytes = KeyWriter.bigEndian(key)
        bytes.append(UInt8(level))
        bytes.reserveCapacity(9 + 4 * vector.count)
        for x in vector {
            let bits = x.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func decodeNode(_ value: UnsafeRawBufferPointer, slot: UInt32, dimension: Int) throws -> HNSWRecord {
        guard value.count == 9 + 4 * dimension else {
            throw EngramError(.corrupted, "vector node record of slot \(slot) has \(value.count) bytes")
        }
        let key = uint64(value, at: 0)
        let level = Int(value[8])
        let vector = [Float](unsafeUninitializedCapacity: dimension) { buffer, count in
            for i in 0..<dimension {
                // Safe: the length was checked above; loadUnaligned reads the 4 bytes wherever they sit.
                buffer[i] = Float(bitPattern: UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 9 + 4 * i, as: UInt32.self)))
            }
            count = dimension
        }
        return .node(slot: slot, id: key, level: level, vector: vector)
    }

    static func linksValue(_ neighbours: [UInt32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * neighbours.count)
        for link in neighbours { withUnsafeBytes(of: link.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func decodeLinks(_ value: UnsafeRawBufferPointer, slot: UInt32, level: Int) throws -> HNSWRecord {
        guard value.count % 4 == 0 else {
            throw EngramError(.corrupted, "vector link record of slot \(slot) level \(level) has \(value.count) bytes")
        }
        let count = value.count / 4
        let links = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                // Safe: i < count = value.count / 4.
                buffer[i] = UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
            }
            initialized = count
        }
        return .links(slot: slot, level: level, neighbours: links)
    }
}

/// The mutable state of one index kept beside its records (`t i 00`): entry point, the
/// generation of the last transaction that changed the index, and the next vector key.
struct VectorIndexMeta: Sendable, Hashable {
    var entryPoint: UInt32?
    var maxLevel: Int
    /// A random token written by every transaction that changes the index: the in-memory index
    /// compares it with the one it reflects to tell a committed transaction from an aborted one.
    var generation: UInt64
    /// Vector keys are never reused: a vector key names one vector for ever.
    var nextKey: UInt64

    static let empty = VectorIndexMeta(entryPoint: nil, maxLevel: 0, generation: 0, nextKey: 1)

    var encoded: [UInt8] {
        var bytes = KeyWriter.bigEndian(entryPoint ?? UInt32.max)
        bytes.append(UInt8(maxLevel))
        bytes += KeyWriter.bigEndian(generation)
        bytes += KeyWriter.bigEndian(nextKey)
        return bytes
    }

    init(entryPoint: UInt32?, maxLevel: Int, generation: UInt64, nextKey: UInt64) {
        self.entryPoint = entryPoint
        self.maxLevel = maxLevel
        self.generation = generation
        self.nextKey = nextKey
    }

    init(decoding value: UnsafeRawBufferPointer) throws {
        guard value.count == 21 else { throw EngramError(.corrupted, "vector index meta record has \(value.count) bytes") }
        let slot = VectorKey.uint32(value, at: 0)
        entryPoint = slot == UInt32.max ? nil : slot
        maxLevel = Int(value[4])
        generation = VectorKey.uint64(value, at: 5)
        nextKey = VectorKey.uint64(value, at: 13)
    }

    var entryPointRecord: HNSWRecord { .entryPoint(slot: entryPoint, maxLevel: maxLevel) }
}

/// An index definition as stored in `vector_indexes`.
struct VectorIndexRecord: Sendable, Hashable {
    var id: UInt32
    var dimension: Int
    var metric: VectorMetric
    var parameters: HNSWParameters
    var model: String?

    static let formatVersion: UInt8 = 1

    var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.formatVersion]
        bytes += KeyWriter.bigEndian(id)
        bytes += KeyWriter.bigEndian(UInt32(dimension))
        bytes.append(Self.metricCode(metric))
        bytes += KeyWriter.bigEndian(UInt32(parameters.m))
        bytes += KeyWriter.bigEndian(UInt32(parameters.efConstruction))
        bytes += KeyWriter.bigEndian(UInt32(parameters.efSearch))
        bytes += KeyWriter.bigEndian(parameters.seed)
        bytes += Array((model ?? "").utf8)
        return bytes
    }

    init(id: UInt32, dimension: Int, metric: VectorMetric, parameters: HNSWParameters, model: String?) {
        self.id = id
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.model = model
    }

    init(decoding value: UnsafeRawBufferPointer) throws {
        guard value.count >= 30, value[0] == Self.formatVersion, let metric = Self.metric(value[9]) else {
            throw EngramError(.corrupted, "a vector index definition is malformed or of an unknown version")
        }
        id = VectorKey.uint32(value, at: 1)
        dimension = Int(VectorKey.uint32(value, at: 5))
        self.metric = metric
        parameters = HNSWParameters(
            m: Int(VectorKey.uint32(value, at: 10)), efConstruction: Int(VectorKey.uint32(value, at: 14)),
            efSearch: Int(VectorKey.uint32(value, at: 18)), seed: VectorKey.uint64(value, at: 22))
        let model = String(decoding: UnsafeRawBufferPointer(rebasing: value[30...]), as: UTF8.self)
        self.model = model.isEmpty ? nil : model
    }

    static func metricCode(_ metric: VectorMetric) -> UInt8 {
        switch metric {
        case .cosine: 0
        case .dotProduct: 1
        case .l2: 2
        }
    }

    static func metric(_ code: UInt8) -> VectorMetric? {
        switch code {
        case 0: .cosine
        case 1: .dotProduct
        case 2: .l2
        default: nil
        }
    }
}
