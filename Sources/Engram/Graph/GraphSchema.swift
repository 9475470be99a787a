import EngramCore
import EngramStorage

/// What one tenant's graph holds, by name: its labels, relationship types, property keys and
/// property indexes, each with a count. The REPL's `:schema` prints it.
///
/// ```swift
/// let schema = try store.schema(tenant: "acme")
/// for label in schema.labels { print(label.name, label.nodes) }
/// ```
public struct GraphSchema: Sendable, Hashable {
    /// A node label and how many nodes carry it.
    public struct Label: Sendable, Hashable {
        /// The label.
        public var name: String
        /// The nodes that carry it.
        public var nodes: Int
    }

    /// A relationship type and how many relationships have it.
    public struct RelationshipType: Sendable, Hashable {
        /// The type.
        public var name: String
        /// The relationships of this type.
        public var relationships: Int
    }

    /// A property key and how many nodes and relationships have a property under it.
    public struct PropertyKey: Sendable, Hashable {
        /// The key.
        public var name: String
        /// Nodes with a property under this key.
        public var nodes: Int
        /// Relationships with a property under this key.
        public var relationships: Int
    }

    /// A declared property index (``Graph/createIndex(label:property:normalized:)``).
    public struct Index: Sendable, Hashable {
        /// The label it covers.
        public var label: String
        /// The property it covers.
        public var property: String
        /// Whether strings are indexed case-, diacritics- and whitespace-insensitively.
        public var normalized: Bool
        /// The entries the index holds: the nodes with the label that have a value under the
        /// property (a list value has one entry per element).
        public var entries: Int
    }

    /// All nodes of the tenant.
    public var nodes: Int
    /// All relationships of the tenant.
    public var relationships: Int
    /// The labels in use, by name.
    public var labels: [Label]
    /// The relationship types in use, by name.
    public var relationshipTypes: [RelationshipType]
    /// The property keys in use by the tenant's nodes and relationships, by name.
    public var propertyKeys: [PropertyKey]
    /// The declared indexes, by label then property.
    public var indexes: [Index]
}

extension EngramStore {
    /// The schema of `tenant`'s graph: labels and relationship types with their counts (read from
    /// the counters), property keys with the number of nodes and relationships using them, and the
    /// declared indexes with their number of entries. One read transaction.
    ///
    /// - Complexity: O(n + r + e): every node and relationship record of the tenant is walked to
    ///   count property keys (only the key ids are decoded), and every index entry is counted.
    public func schema(tenant: String = "default") throws -> GraphSchema {
        try readGraph(tenant: tenant) { session in
            var schema = GraphSchema(
                nodes: try session.count(.allNodes), relationships: try session.count(.allRelationships),
                labels: [], relationshipTypes: [], propertyKeys: [], indexes: [])
            guard let tenant = session.tenant else { return schema }
            let prefix = GraphKey.tenant(tenant)
            try session.txn.scan(in: session.keyspaces.counts, prefix: prefix) { key, value in
                let symbol = GraphKey.uint32(key, at: 5)
                let count = Int(GraphKey.uint64(value, at: 0))
                switch key[4] {
                case CountKind.label.rawValue:
                    schema.labels.append(.init(name: try session.name(.label, symbol), nodes: count))
                case CountKind.relationshipType.rawValue:
                    schema.relationshipTypes.append(
                        .init(name: try session.name(.relationshipType, symbol), relationships: count))
                default: break
                }
                return true
            }
            var keyUse: [UInt32: (nodes: Int, relationships: Int)] = [:]
            try session.txn.scan(in: session.keyspaces.nodes, prefix: prefix) { _, value in
                for key in try Self.propertyKeyIDs(node: value) { keyUse[key, default: (0, 0)].nodes += 1 }
                return true
            }
            try session.txn.scan(in: session.keyspaces.relationships, prefix: prefix) { _, value in
                for key in try Self.propertyKeyIDs(relationship: value) { keyUse[key, default: (0, 0)].relationships += 1 }
                return true
            }
            for (key, use) in keyUse {
                schema.propertyKeys.append(
                    .init(name: try session.name(.propertyKey, key), nodes: use.nodes, relationships: use.relationships))
            }
            var definitions: [GraphSession.IndexDefinition] = []
            try session.txn.scan(in: session.keyspaces.indexDefinitions, prefix: prefix) { key, value in
                definitions.append(
                    .init(label: GraphKey.uint32(key, at: 4), key: GraphKey.uint32(key, at: 8), normalized: value.first == 1))
                return true
            }
            for definition in definitions {
                var entries = 0
                try session.txn.scan(
                    in: session.keyspaces.propertyIndex,
                    prefix: GraphKey.indexEntryPrefix(tenant, definition.label, definition.key).bytes
                ) { _, _ in
                    entries += 1
                    return true
                }
                schema.indexes.append(
                    .init(
                        label: try session.name(.label, definition.label),
                        property: try session.name(.propertyKey, definition.key), normalized: definition.normalized,
                        entries: entries))
            }
            schema.labels.sort { $0.name < $1.name }
            schema.relationshipTypes.sort { $0.name < $1.name }
            schema.propertyKeys.sort { $0.name < $1.name }
            schema.indexes.sort { ($0.label, $0.property) < ($1.label, $1.property) }
            return schema
        }
    }

    /// The property key ids of a stored node, without decoding the values.
    private static func propertyKeyIDs(node bytes: UnsafeRawBufferPointer) throws -> [UInt32] {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        _ = try reader.raw(checked: reader.count(of: "bytes", minimumSize: 1))
        let labels = try reader.count(of: "labels", minimumSize: 1)
        for _ in 0..<labels { _ = try reader.varint() }
        return try propertyKeyIDs(&reader)
    }

    /// The property key ids of a stored relationship, without decoding the values.
    private static func propertyKeyIDs(relationship bytes: UnsafeRawBufferPointer) throws -> [UInt32] {
        var reader = ValueReader(bytes)
        try GraphRecordCodec.checkVersion(&reader)
        _ = try reader.raw(checked: reader.count(of: "bytes", minimumSize: 1))
        for _ in 0..<3 { _ = try reader.varint() }  // type, start, end
        return try propertyKeyIDs(&reader)
    }

    private static func propertyKeyIDs(_ reader: inout ValueReader) throws -> [UInt32] {
        let count = try reader.count(of: "properties", minimumSize: 2)
        var keys: [UInt32] = []
        keys.reserveCapacity(count)
        for _ in 0..<count {
            keys.append(try GraphRecordCodec.symbol(&reader))
            try reader.skipValue()
        }
        return keys
    }
}
