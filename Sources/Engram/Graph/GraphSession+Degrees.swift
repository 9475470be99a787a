import EngramCore
import EngramStorage

/// The stored degrees (`degrees`, ``NodeDegrees``): kept in the transaction that writes or deletes
/// adjacency entries, and read in O(1) instead of walking a node's adjacency keys.
extension GraphSession {
    /// Adds `delta` (negative to remove) to the count of relationships of `type` of `node` in
    /// `direction` (``GraphKey/outgoing`` or ``GraphKey/incoming``), deleting the entry when it
    /// counts nothing any more.
    ///
    /// Called once per adjacency entry created or deleted — not when an entry is rewritten with new
    /// properties, which leaves the counts as they are.
    ///
    /// - Throws: `corrupted` when a count would fall below zero or the stored value does not decode.
    func adjustDegree(_ node: UInt64, _ direction: UInt8, _ type: UInt32, by delta: Int) throws {
        let key = GraphKey.degrees(try writableTenant(), node, direction)
        var degrees =
            try txn.withValue(forKey: key, in: keyspaces.degrees) { try $0.map(NodeDegrees.decode) } ?? NodeDegrees()
        try degrees.add(delta, type: type)
        if degrees.isEmpty {
            try txn.delete(key, in: keyspaces.degrees)
        } else {
            try txn.put(degrees.encoded(), forKey: key, in: keyspaces.degrees)
        }
    }

    /// Adds degree values to the stored ones, for a bulk load. `entries` are sorted by key and
    /// distinct; they are appended when they all sort after the last stored key (a fresh store),
    /// and added to the stored counts one by one otherwise.
    func addDegrees(_ entries: [(key: [UInt8], degrees: NodeDegrees)]) throws {
        guard let first = entries.first else { return }
        let cursor = try txn.makeCursor(in: keyspaces.degrees)
        let canAppend = try cursor.last().map { Transaction.less($0.key, first.key) } ?? true
        var merged = entries
        if !canAppend {
            for index in merged.indices {
                let key = merged[index].key
                let stored = try txn.withValue(forKey: key, in: keyspaces.degrees) { try $0.map(NodeDegrees.decode) }
                if let stored { try merged[index].degrees.add(stored) }
            }
        }
        try insertSorted(
            merged.map { ($0.key, $0.degrees.encoded()) }, into: keyspaces.degrees, unique: false,
            what: "a degree entry")
    }

    /// The number of relationships of `node` in `direction` whose type is in `types` (any type when
    /// `nil`; a type listed twice counts once), as ``forEachRelationship(of:direction:types:_:)``
    /// would visit them: for `.both`, a self-loop once.
    ///
    /// - Complexity: one read per direction; `.both` adds, when the node has relationships both
    ///   ways, one range scan of its self-loops in `adjacency_pairs` (`t n n`), usually empty.
    func degree(of node: UInt64, direction: GraphDirection, types: [UInt32]?) throws -> Int {
        guard let tenant else { return 0 }
        func stored(_ side: UInt8) throws -> Int {
            try txn.withValue(forKey: GraphKey.degrees(tenant, node, side), in: keyspaces.degrees) { bytes in
                try bytes.map { try NodeDegrees.total(in: $0, types: types) } ?? 0
            }
        }
        switch direction {
        case .outgoing: return try stored(GraphKey.outgoing)
        case .incoming: return try stored(GraphKey.incoming)
        case .both:
            // A self-loop counts once on each side but is reported once; a node without both
            // sides has none.
            let (outgoing, incoming) = (try stored(GraphKey.outgoing), try stored(GraphKey.incoming))
            guard outgoing > 0, incoming > 0 else { return outgoing + incoming }
            var loops = 0
            try forEachRelationship(from: node, to: node, types: types) { _, _ in
                loops += 1
                return true
            }
            return outgoing + incoming - loops
        }
    }
}
