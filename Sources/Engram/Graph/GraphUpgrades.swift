import EngramCore
import EngramStorage

/// The steps that bring a store written by an older Engram to the current format, run by a
/// writable open in one write transaction (``StoreUpgrade``).
enum GraphUpgrades {
    /// Every step, oldest first.
    static let all: [StoreUpgrade] = [adjacencyProperties]

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
}
