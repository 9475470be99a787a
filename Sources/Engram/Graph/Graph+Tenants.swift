import EngramCore
import EngramStorage

extension EngramStore {
    /// The names of the tenants that hold data, in name order.
    public func tenants() throws -> [String] {
        try environment.read { txn in
            var names: [String] = []
            try txn.scan(in: catalog.keyspaces.tenantNames, prefix: []) { _, value in
                names.append(String(decoding: value, as: UTF8.self))
                return true
            }
            return names.sorted()
        }
    }

    /// Removes every node, relationship, index entry, counter, stored degree and vector index of
    /// `tenant`, in one transaction.
    ///
    /// Because the tenant id leads every key, this is one range deletion per keyspace; other
    /// tenants' keys are never visited.
    /// - Returns: whether the tenant existed.
    /// - Complexity: O(k log n) for the k keys of the tenant.
    @discardableResult
    public func dropTenant(_ tenant: String) throws -> Bool {
        let vectors = try vectorRegistry
        let dropped = try writeGraph(tenant: tenant) { session -> UInt32? in
            guard let id = session.tenant else { return nil }
            let k = session.keyspaces
            let prefix = GraphKey.tenant(id)
            for keyspace in [
                k.nodes, k.nodeIDs, k.relationships, k.relationshipIDs, k.adjacency, k.adjacencyPairs, k.degrees,
                k.labels, k.counts, k.indexDefinitions, k.propertyIndex, vectors.keyspaces.indexes,
                vectors.keyspaces.graph, vectors.keyspaces.ids,
            ] + k.fullText.all {
                try session.txn.deleteRange(prefix: prefix, in: keyspace)
            }
            var name = KeyWriter()
            name.append(tenant)
            try session.txn.delete(name.bytes, in: k.tenants)
            try session.txn.delete(prefix, in: k.tenantNames)
            return id
        }
        guard let dropped else { return false }
        catalog.forget(tenant: tenant)
        vectors.drop(tenant: dropped)
        return true
    }
}

extension Graph {
    /// The nodes and relationships around a node, up to `depth` hops in both directions: what a
    /// viewer shows, or what an export of one neighbourhood holds. Same as
    /// ``expand(from:depth:direction:types:limit:)`` with `.both`.
    public func subgraph(around id: String, depth: Int = 1, limit: Int = 10_000) throws -> Subgraph {
        try expand(from: id, depth: depth, direction: .both, limit: limit)
    }
}
