import EngramStorage

/// The keyspaces of the property graph and the layout of their keys. `docs/storage-format.md`
/// documents the same table; the two must change together (and bump the format version).
///
/// `t` is the tenant's 4-byte id, `n`/`r` 8-byte internal node and relationship ids, `L`/`T`/`K`
/// 4-byte symbol ids of a label, relationship type or property key; all big-endian.
///
/// | keyspace | key | value |
/// | --- | --- | --- |
/// | `tenants` | tenant name (escaped) | `t` |
/// | `tenant_names` | `t` | UTF-8 name |
/// | `symbols` | kind byte ‖ name (escaped) | 4-byte id |
/// | `symbol_names` | kind byte ‖ id | UTF-8 name |
/// | `sequences` | ASCII name | next id, 8 bytes |
/// | `nodes` | `t n` | node record |
/// | `node_ids` | `t` ‖ public id (escaped) | `n` |
/// | `relationships` | `t r` | relationship record |
/// | `relationship_ids` | `t` ‖ public id (escaped) | `r` |
/// | `adjacency` | `t n d T m r` (d: 0 out, 1 in; m: the other node) | the relationship's properties (``AdjacencyValue``) |
/// | `adjacency_pairs` | `t a b T r` (for every a→b) | — |
/// | `degrees` | `t n d` (d: 0 out, 1 in) | relationship counts by type (``NodeDegrees``) |
/// | `labels` | `t L n` | — |
/// | `counts` | `t k S` (k: 0 all nodes, 1 label, 2 type, 3 all relationships) | count, 8 bytes |
/// | `index_definitions` | `t L K` | flags (bit 0: normalised strings) |
/// | `property_index` | `t L K` ‖ tagged value ‖ `n` | — |
struct GraphKeyspaces: Sendable {
    let tenants: Keyspace
    let tenantNames: Keyspace
    let symbols: Keyspace
    let symbolNames: Keyspace
    let sequences: Keyspace
    let nodes: Keyspace
    let nodeIDs: Keyspace
    let relationships: Keyspace
    let relationshipIDs: Keyspace
    let adjacency: Keyspace
    let adjacencyPairs: Keyspace
    /// Each node's relationship counts per direction and type (format 3), kept with `adjacency`.
    let degrees: Keyspace
    let labels: Keyspace
    let counts: Keyspace
    let indexDefinitions: Keyspace
    let propertyIndex: Keyspace
    /// The full-text index's keyspaces (`Sources/Engram/Search/FullTextKeyspaces.swift`).
    let fullText: FullTextKeyspaces

    static let descriptors: [KeyspaceDescriptor] = [
        "tenants", "tenant_names", "symbols", "symbol_names", "sequences", "nodes", "node_ids", "relationships",
        "relationship_ids", "adjacency", "adjacency_pairs", "degrees", "labels", "counts", "index_definitions",
        "property_index",
    ].map { KeyspaceDescriptor($0) }

    init(_ environment: StorageEnvironment) throws {
        tenants = try environment.keyspace("tenants")
        tenantNames = try environment.keyspace("tenant_names")
        symbols = try environment.keyspace("symbols")
        symbolNames = try environment.keyspace("symbol_names")
        sequences = try environment.keyspace("sequences")
        nodes = try environment.keyspace("nodes")
        nodeIDs = try environment.keyspace("node_ids")
        relationships = try environment.keyspace("relationships")
        relationshipIDs = try environment.keyspace("relationship_ids")
        adjacency = try environment.keyspace("adjacency")
        adjacencyPairs = try environment.keyspace("adjacency_pairs")
        degrees = try environment.keyspace("degrees")
        labels = try environment.keyspace("labels")
        counts = try environment.keyspace("counts")
        indexDefinitions = try environment.keyspace("index_definitions")
        propertyIndex = try environment.keyspace("property_index")
        fullText = try FullTextKeyspaces(environment)
    }
}

/// Which relationships of a node to visit.
public enum GraphDirection: String, Sendable, Hashable, CaseIterable {
    /// Relationships that start at the node.
    case outgoing
    /// Relationships that end at the node.
    case incoming
    /// Both; a self-loop is reported once.
    case both
}

/// The kinds of names kept in the symbol table.
enum SymbolKind: UInt8, Sendable {
    case label = 1
    case relationshipType = 2
    case propertyKey = 3
}

/// The counters kept in `counts`.
enum CountKind: UInt8 {
    case allNodes = 0
    case label = 1
    case relationshipType = 2
    case allRelationships = 3
}

/// Key builders for the graph keyspaces.
enum GraphKey {
    @inline(__always)
    static func node(_ tenant: UInt32, _ node: UInt64) -> [UInt8] {
        var writer = KeyWriter(capacity: 12)
        writer.append(tenant)
        writer.append(node)
        return writer.bytes
    }

    static func publicID(_ tenant: UInt32, _ id: String) -> [UInt8] {
        var writer = KeyWriter(capacity: 8 + id.utf8.count)
        writer.append(tenant)
        writer.append(id)
        return writer.bytes
    }

    /// Adjacency direction bytes.
    static let outgoing: UInt8 = 0
    static let incoming: UInt8 = 1

    @inline(__always)
    static func adjacency(
        _ tenant: UInt32, _ node: UInt64, _ direction: UInt8, _ type: UInt32, _ other: UInt64, _ relationship: UInt64
    ) -> [UInt8] {
        var writer = KeyWriter(capacity: 33)
        writer.append(tenant)
        writer.append(node)
        writer.append(direction)
        writer.append(type)
        writer.append(other)
        writer.append(relationship)
        return writer.bytes
    }

    @inline(__always)
    static func adjacencyPrefix(_ tenant: UInt32, _ node: UInt64, _ direction: UInt8, _ type: UInt32?) -> [UInt8] {
        var writer = KeyWriter(capacity: 17)
        writer.append(tenant)
        writer.append(node)
        writer.append(direction)
        if let type { writer.append(type) }
        return writer.bytes
    }

    /// The `degrees` key of a node's relationships in one direction: `t n d`, the adjacency prefix
    /// of the same relationships without a type.
    @inline(__always)
    static func degrees(_ tenant: UInt32, _ node: UInt64, _ direction: UInt8) -> [UInt8] {
        adjacencyPrefix(tenant, node, direction, nil)
    }

    static func pair(_ tenant: UInt32, _ start: UInt64, _ end: UInt64, _ type: UInt32?, _ relationship: UInt64?) -> [UInt8] {
        var writer = KeyWriter(capacity: 32)
        writer.append(tenant)
        writer.append(start)
        writer.append(end)
        if let type { writer.append(type) }
        if let relationship { writer.append(relationship) }
        return writer.bytes
    }

    static func label(_ tenant: UInt32, _ label: UInt32, _ node: UInt64?) -> [UInt8] {
        var writer = KeyWriter(capacity: 16)
        writer.append(tenant)
        writer.append(label)
        if let node { writer.append(node) }
        return writer.bytes
    }

    static func count(_ tenant: UInt32, _ kind: CountKind, _ symbol: UInt32) -> [UInt8] {
        var writer = KeyWriter(capacity: 9)
        writer.append(tenant)
        writer.append(kind.rawValue)
        writer.append(symbol)
        return writer.bytes
    }

    static func indexDefinition(_ tenant: UInt32, _ label: UInt32, _ key: UInt32?) -> [UInt8] {
        var writer = KeyWriter(capacity: 12)
        writer.append(tenant)
        writer.append(label)
        if let key { writer.append(key) }
        return writer.bytes
    }

    static func indexEntryPrefix(_ tenant: UInt32, _ label: UInt32, _ key: UInt32) -> KeyWriter {
        var writer = KeyWriter(capacity: 32)
        writer.append(tenant)
        writer.append(label)
        writer.append(key)
        return writer
    }

    /// A tenant-wide prefix: every key of the tenant in the keyspaces keyed by `t …`.
    static func tenant(_ tenant: UInt32) -> [UInt8] { KeyWriter.bigEndian(tenant) }

    @inline(__always)
    static func uint64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }

    @inline(__always)
    static func uint32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        return value
    }
}
