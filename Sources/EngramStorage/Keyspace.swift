import CEngramLMDB

/// A named, ordered key-value space inside a store: one LMDB named database.
///
/// Each layer of Engram keeps each kind of record in its own keyspace (nodes, adjacency, label
/// index, …). A named database per keyspace, rather than a prefix byte in one tree, gives O(1)
/// entry counts (`mdb_stat`), shorter keys, and separate B-trees so that a scan of one keyspace
/// never walks pages of another. `docs/storage-format.md` lists them.
///
/// Handles are valid for the life of the environment that opened them.
package struct Keyspace: Sendable, Hashable, CustomStringConvertible {
    /// The keyspace's name, as stored in the environment.
    package let name: String
    let handle: LMDB.Database

    /// The keyspace's name.
    package var description: String { name }
}

/// The name and shape of a keyspace an environment opens (and creates when missing).
package struct KeyspaceDescriptor: Sendable, Hashable {
    /// The keyspace's name: at most 64 bytes of UTF-8, stable across versions.
    package var name: String

    /// Whether one key may hold several values, kept sorted (LMDB's `MDB_DUPSORT`).
    package var sortedDuplicates: Bool

    /// Describes a keyspace.
    package init(_ name: String, sortedDuplicates: Bool = false) {
        self.name = name
        self.sortedDuplicates = sortedDuplicates
    }
}
