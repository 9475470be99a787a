import EngramCore
import EngramStorage
@_exported public import EngramVector
import Synchronization

/// The configuration of a vector index of a store: what its vectors are and how it is built.
///
/// Create one with ``EngramStore/createVectorIndex(_:tenant:dimension:metric:parameters:model:)``;
/// it is stored with the index and checked by every write and search.
public struct VectorIndexDefinition: Sendable, Hashable {
    /// The index's name, unique within its tenant (such as `"memories"`).
    public var name: String
    /// The tenant the index belongs to.
    public var tenant: String
    /// The number of components of every vector.
    public var dimension: Int
    /// How distances are measured.
    public var metric: VectorMetric
    /// M, efConstruction, the default ef and the level seed.
    public var parameters: HNSWParameters
    /// The id of the embedding model whose vectors the index holds, or `nil` when not recorded.
    public var model: String?
}

/// One hit of ``EngramStore/searchVectors(index:tenant:query:k:ef:model:)``: a node and how
/// similar its vector is to the query.
public struct VectorMatch: Sendable, Hashable {
    /// The node whose vector matched.
    public var node: GraphNode
    /// The similarity under the index's metric (larger is closer): the cosine similarity, the
    /// inner product, or the negated squared Euclidean distance.
    public var score: Float
}

private struct WeakRegistry {
    weak var environment: StorageEnvironment?
    var registry: VectorRegistry
}

extension EngramStore {
    /// The vector keyspaces every store has.
    static let vectorKeyspaces: [KeyspaceDescriptor] = VectorKeyspaces.descriptors

    /// One registry of in-memory indexes per open environment, shared by every `EngramStore` on
    /// it; an entry goes when its environment closes.
    private static let vectorRegistries = Mutex<[ObjectIdentifier: WeakRegistry]>([:])

    /// The in-memory vector indexes of this store's environment.
    var vectorRegistry: VectorRegistry {
        get throws {
            try Self.vectorRegistries.withLock { table in
                let key = ObjectIdentifier(environment)
                if let entry = table[key], entry.environment === environment { return entry.registry }
                table = table.filter { $0.value.environment != nil }  // closed environments' indexes go
                let registry = VectorRegistry(keyspaces: try VectorKeyspaces(environment))
                table[key] = WeakRegistry(environment: environment, registry: registry)
                return registry
            }
        }
    }

    // MARK: Package API (inside transactions)

    /// Runs `body` in a write transaction with `tenant`'s graph and vector sessions: a node and its
    /// vector commit together. After the commit (or the abort) the in-memory indexes are settled
    /// at once, so neither the next search nor the next writer waits for it.
    ///
    /// `body` may run more than once (the map grows after a full write); each run gets new
    /// sessions and the in-memory indexes are undone before it.
    func writeVectors<T>(tenant: String, _ body: (GraphSession, VectorSession) throws -> T) throws -> T {
        let registry = try vectorRegistry
        var sessions: [VectorSession] = []
        let result: T
        do {
            result = try writeGraph(tenant: tenant) { graph in
                let session = VectorSession(graph: graph, registry: registry)
                sessions.append(session)
                return try body(graph, session)
            }
        } catch {
            settleVectors(sessions, committed: nil)
            throw error
        }
        settleVectors(sessions, committed: sessions.last.map { [$0] })
        return result
    }

    /// Settles the in-memory indexes after a write transaction: `committed` are the sessions of
    /// the run that committed (`nil` when the transaction aborted); every other session of
    /// `sessions` belongs to an aborted run.
    func settleVectors(_ sessions: [VectorSession], committed: [VectorSession]?) {
        let winners = Set((committed ?? []).map(ObjectIdentifier.init))
        let losers = sessions.filter { !winners.contains(ObjectIdentifier($0)) && !$0.prepared.isEmpty }
        if !losers.isEmpty {
            try? environment.read { txn in
                for session in losers {
                    for entry in session.prepared.values {
                        try entry.state.finishAborted(token: ObjectIdentifier(session), in: txn)
                    }
                }
            }
        }
        for session in committed ?? [] {
            for entry in session.prepared.values { entry.state.finishCommitted(token: ObjectIdentifier(session)) }
        }
    }

    /// Runs `body` in a read transaction with `tenant`'s graph and vector sessions.
    func readVectors<T>(tenant: String, _ body: (GraphSession, VectorSession) throws -> T) throws -> T {
        let registry = try vectorRegistry
        return try readGraph(tenant: tenant) { graph in try body(graph, VectorSession(graph: graph, registry: registry))
        }
    }

    /// The nearest nodes to `query` in `tenant`'s index `index`, in one read transaction:
    /// internal node ids and scores, nearest first.
    func searchVectors(
        index: String, tenant: String, query: [Float], k: Int, ef: Int? = nil, filter: VectorSession.NodeFilter? = nil
    ) throws -> [(node: UInt64, score: Float)] {
        try readVectors(tenant: tenant) { _, vectors in
            try vectors.search(index, query: query, k: k, ef: ef, filter: filter)
        }
    }

    // MARK: Public API

    /// Creates a vector index in `tenant`, or returns the existing one when it has exactly this
    /// configuration.
    ///
    /// ```swift
    /// try store.createVectorIndex("memories", dimension: 384, model: "all-MiniLM-L6-v2")
    /// try store.setVector(embedding, forNode: memory.id, index: "memories")
    /// let hits = try store.searchVectors(index: "memories", query: queryEmbedding, k: 10)
    /// ```
    ///
    /// - Parameters:
    ///   - name: the index's name, 1 to 200 bytes, unique in the tenant.
    ///   - tenant: the tenant the index belongs to.
    ///   - dimension: the number of components of every vector, 1…65,536.
    ///   - metric: how distances are measured (cosine by default: sentence embeddings).
    ///   - parameters: HNSW parameters (see ``HNSWParameters`` for the defaults and why).
    ///   - model: the embedding model's id; when set, writes and searches that name another model
    ///     are refused.
    /// - Returns: the index's definition.
    /// - Throws: ``EngramError`` `alreadyExists` when an index of that name has another
    ///   configuration; `invalidName` or `invalidArgument` for a bad name, dimension or parameter.
    @discardableResult
    public func createVectorIndex(
        _ name: String, tenant: String = "default", dimension: Int, metric: VectorMetric = .cosine,
        parameters: HNSWParameters = HNSWParameters(), model: String? = nil
    ) throws -> VectorIndexDefinition {
        try writeVectors(tenant: tenant) { _, vectors in
            let record = try vectors.createIndex(
                name, dimension: dimension, metric: metric, parameters: parameters, model: model)
            return Self.definition(record, name: name, tenant: tenant)
        }
    }

    /// The definition of `tenant`'s vector index `name`, or `nil` when there is none.
    public func vectorIndex(_ name: String, tenant: String = "default") throws -> VectorIndexDefinition? {
        try readVectors(tenant: tenant) { _, vectors in
            try vectors.definition(name).map { Self.definition($0, name: name, tenant: tenant) }
        }
    }

    /// Sets (or replaces) the vector of node `id` in index `index`, in one transaction.
    ///
    /// - Parameters:
    ///   - vector: `dimension` finite components (not all zero for a cosine index).
    ///   - id: the node's public id.
    ///   - index: the index's name.
    ///   - tenant: the tenant of the node and the index.
    ///   - model: the id of the model that made the vector, checked against the index's.
    /// - Throws: ``EngramError`` `notFound` (no such node or index), `dimensionMismatch`,
    ///   `invalidVector`; ``EmbeddingError`` `modelMismatch`.
    /// - Complexity: about O(efConstruction · M · log n) distances; writes ~15 records.
    public func setVector(
        _ vector: [Float], forNode id: String, index: String, tenant: String = "default", model: String? = nil
    ) throws {
        try writeVectors(tenant: tenant) { graph, vectors in
            try vectors.upsert(vector, node: try graph.requireNodeID(id), index: index, model: model)
        }
    }

    /// Removes the vector of node `id` from index `index`.
    ///
    /// - Returns: whether the node had a vector there.
    /// - Throws: ``EngramError`` `notFound` when the node or the index does not exist.
    @discardableResult
    public func removeVector(forNode id: String, index: String, tenant: String = "default") throws -> Bool {
        try writeVectors(tenant: tenant) { graph, vectors in
            try vectors.remove(node: try graph.requireNodeID(id), index: index)
        }
    }

    /// The (at most) `k` nodes whose vectors in `index` are nearest to `query`, nearest first, in
    /// one read transaction: every vector committed before it began is found, none of an aborted
    /// or unfinished transaction.
    ///
    /// - Parameters:
    ///   - index: the index's name.
    ///   - tenant: the tenant to search.
    ///   - query: a vector of the index's dimension.
    ///   - k: the number of results, 1…65,536.
    ///   - ef: the HNSW candidate list size (`nil`: the index's default, 64): more is slower and
    ///     finds more of the true nearest.
    ///   - model: the id of the model that made `query`, checked against the index's.
    /// - Throws: ``EngramError`` `notFound`, `dimensionMismatch`, `invalidVector`,
    ///   `invalidArgument`; ``EmbeddingError`` `modelMismatch`.
    /// - Complexity: about O(ef · M · log n) distances.
    public func searchVectors(
        index: String, tenant: String = "default", query: [Float], k: Int, ef: Int? = nil, model: String? = nil
    ) throws -> [VectorMatch] {
        try readVectors(tenant: tenant) { graph, vectors in
            let definition = try vectors.requireDefinition(index)
            try VectorSession.checkModel(model, definition: definition, name: index)
            // One read per hit: the node record both proves the node is in the snapshot and
            // gives its public form.
            return try vectors.search(index, query: query, k: k, ef: ef) { node, score in
                try graph.storedNode(node).map { VectorMatch(node: try graph.publicNode($0), score: score) }
            }
        }
    }

    static func definition(_ record: VectorIndexRecord, name: String, tenant: String) -> VectorIndexDefinition {
        VectorIndexDefinition(
            name: name, tenant: tenant, dimension: record.dimension, metric: record.metric,
            parameters: record.parameters,
            model: record.model)
    }

    /// The in-memory graph of tenant's index `index` as it is loaded now (restored from the store
    /// when it is not): for benchmarks that compare a search through the store with a search of
    /// the same graph alone.
    package func _loadedVectorIndex(index: String, tenant: String = "default") throws -> HNSWIndex {
        try readVectors(tenant: tenant) { graph, vectors in
            guard let tenantID = graph.tenant else {
                throw EngramError(.notFound, "there is no tenant '\(tenant)'")
            }
            let definition = try vectors.requireDefinition(index)
            return try vectors.registry.state(tenant: tenantID, definition: definition, in: graph.txn).index
        }
    }

    /// Checks tenant's index `index`: the in-memory graph's invariants, the invariants of a graph
    /// restored from the committed records, and that both hold the same live vectors. For tests.
    ///
    /// - Returns: the problems found, empty when the index is sound.
    package func _checkVectorInvariants(index: String, tenant: String = "default") throws -> [String] {
        try readVectors(tenant: tenant) { graph, vectors in
            guard let tenantID = graph.tenant else { return [] }
            let definition = try vectors.requireDefinition(index)
            let state = try vectors.registry.state(tenant: tenantID, definition: definition, in: graph.txn)
            return try state.checkInvariants(in: graph.txn)
        }
    }
}

/// Several graph and vector writes in one transaction, for the layers above the graph (and for
/// tests and test tools): a node and its vector commit together, or neither does.
///
/// Lent by ``EngramStore/writeVectorBatch(tenant:_:)``; do not keep it beyond that closure.
package final class VectorWriteBatch {
    let graph: GraphSession
    let vectors: VectorSession

    init(graph: GraphSession, vectors: VectorSession) {
        self.graph = graph
        self.vectors = vectors
    }

    /// Creates a node in this transaction; see ``Graph/createNode(id:labels:properties:)``.
    @discardableResult
    package func createNode(id: String? = nil, labels: [String] = [], properties: [String: PropertyValue] = [:]) throws
        -> GraphNode
    {
        let node = try graph.createNode(publicID: id, labels: labels, properties: properties)
        return try graph.publicNode(graph.storedNode(node)!)
    }

    /// Creates a vector index in this transaction; see
    /// ``EngramStore/createVectorIndex(_:tenant:dimension:metric:parameters:model:)``.
    package func createVectorIndex(
        _ name: String, dimension: Int, metric: VectorMetric = .cosine, parameters: HNSWParameters = HNSWParameters()
    ) throws {
        _ = try vectors.createIndex(name, dimension: dimension, metric: metric, parameters: parameters, model: nil)
    }

    /// Sets the vector of node `id` in this transaction; see ``EngramStore/setVector(_:forNode:index:tenant:model:)``.
    package func setVector(_ vector: [Float], forNode id: String, index: String, model: String? = nil) throws {
        try vectors.upsert(vector, node: try graph.requireNodeID(id), index: index, model: model)
    }

    /// Removes the vector of node `id` in this transaction.
    @discardableResult
    package func removeVector(forNode id: String, index: String) throws -> Bool {
        try vectors.remove(node: try graph.requireNodeID(id), index: index)
    }

    /// Deletes node `id` and its relationships (`detach`), and removes its vectors from every
    /// index of the tenant, in this transaction.
    package func deleteNode(id: String, detach: Bool = true) throws {
        let node = try graph.requireNodeID(id)
        try vectors.removeVectors(ofNode: node)
        try graph.deleteNode(node, detach: detach)
    }

    /// The public ids of the `k` nearest nodes, as this transaction sees the index.
    package func searchVectors(index: String, query: [Float], k: Int) throws -> [String] {
        try vectors.search(index, query: query, k: k).compactMap { try graph.storedNodePublicID($0.node) }
    }
}

extension EngramStore {
    /// Runs `body` in one write transaction of `tenant`: commits when it returns, aborts when it
    /// throws; the in-memory vector indexes follow. `body` may run again after the map grew.
    package func writeVectorBatch<T>(tenant: String = "default", _ body: (VectorWriteBatch) throws -> T) throws -> T {
        try writeVectors(tenant: tenant) { graph, vectors in try body(VectorWriteBatch(graph: graph, vectors: vectors))
        }
    }

    /// ``searchVectors(index:tenant:query:k:ef:model:)`` restricted to the nodes with the given
    /// public ids (the index decides between a filtered graph walk and an exact scan).
    package func searchVectors(
        index: String, tenant: String = "default", query: [Float], k: Int, allowing ids: Set<String>
    )
        throws -> [String]
    {
        try readVectors(tenant: tenant) { graph, vectors in
            let nodes = Set(try ids.compactMap { try graph.nodeID($0) })
            let filter = VectorSession.NodeFilter(allowedNodes: nodes, predicate: nil)
            return try vectors.search(index, query: query, k: k, filter: filter).compactMap {
                try graph.storedNodePublicID($0.node)
            }
        }
    }
}

extension EngramStore {
    /// The public ids of the nodes that have a vector in `tenant`'s index `index`, read from the
    /// committed id map. For tests.
    package func _vectorNodeIDs(index: String, tenant: String = "default") throws -> Set<String> {
        try readVectors(tenant: tenant) { graph, vectors in
            guard let tenantID = graph.tenant else { return [] }
            let definition = try vectors.requireDefinition(index)
            let prefix = VectorKey.index(tenantID, definition.id).bytes + [1]
            var nodes: [UInt64] = []
            try graph.txn.scan(in: vectors.registry.keyspaces.ids, prefix: prefix) { key, _ in
                nodes.append(VectorKey.uint64(key, at: prefix.count))
                return true
            }
            return Set(try nodes.compactMap { try graph.storedNodePublicID($0) })
        }
    }
}
