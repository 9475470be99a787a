import EngramCore
import EngramStorage

/// The steps that bring a store written by an older Engram to the current format, run by a
/// writable open in one write transaction (``StoreUpgrade``).
enum GraphUpgrades {
    /// Every step, oldest first.
    static let all: [StoreUpgrade] = [adjacencyProperties, storedDegrees]

    /// Format 1 → 2: each relationship's two adjacency entries get a copy of its properties
    /// (``AdjacencyValue``), so that expansions read them without the record.
    static let adjacencyProperties = StoreUpgrade(to: 2) { txn, keyspaces in
        guard let relationships = keyspaces["relationships"], let adjacency = keyspaces["adjacency"] else {
            throw EngramError(.corrupted, "the store has no relationships or adjacency keyspace to upgrade")
        }
        try txn.scan(in: relationships, prefix: []) { key, value in
            guard key.count == 12 else {
                throw EngramError(.corrupted, "the relationships keyspace holds a key of \(key.count) bytes")
            }
            let tenant = GraphKey.uint32(key, at: 0)
            let relationship = GraphKey.uint64(key, at: 4)
            let stored = try StoredRelationship.decode(value)
            let properties = AdjacencyValue.encode(stored.properties)
            // Entries without properties are already right: empty.
            if !properties.isEmpty {
                try GraphSession.putAdjacency(properties, tenant, relationship, stored, in: adjacency, txn)
            }
            return true
        }
    }

    /// Format 2 → 3: the `degrees` keyspace (``NodeDegrees``), counted from one scan of
    /// `adjacency`: its keys `t n d T m r` come grouped by `t n d`, and each group is one entry,
    /// appended in key order.
    static let storedDegrees = StoreUpgrade(to: 3) { txn, keyspaces in
        guard let adjacency = keyspaces["adjacency"], let degrees = keyspaces["degrees"] else {
            throw EngramError(.corrupted, "the store has no adjacency or degrees keyspace to upgrade")
        }
        // A version 2 store has no degrees (the open just created the keyspace, empty); clearing
        // it anyway keeps the step right for any store whose version says 2.
        try txn.removeAll(in: degrees)
        var group: (tenant: UInt32, node: UInt64, direction: UInt8)?
        var counts = NodeDegrees()
        func flush() throws {
            guard let group, !counts.isEmpty else { return }
            let key = GraphKey.degrees(group.tenant, group.node, group.direction)
            try counts.encoded().withUnsafeBytes { value in
                try key.withUnsafeBytes { try txn.append(value, forKey: $0, in: degrees) }
            }
            counts = NodeDegrees()
        }
        try txn.scan(in: adjacency, prefix: []) { key, _ in
            guard key.count == 33 else {
                throw EngramError(.corrupted, "the adjacency keyspace holds a key of \(key.count) bytes")
            }
            let here = (tenant: GraphKey.uint32(key, at: 0), node: GraphKey.uint64(key, at: 4), direction: key[12])
            if group.map({ $0 != here }) ?? true {
                try flush()
                group = here
            }
            try counts.add(1, type: GraphKey.uint32(key, at: 13))
            return true
        }
        try flush()
    }
}
