import EngramCore
import EngramEmbedding
import EngramStorage
import EngramVector
import Foundation

/// One tenant's vector indexes inside one transaction: defines indexes, writes the vectors of
/// nodes (with their HNSW records) in the caller's write transaction, and searches in read or
/// write transactions.
///
/// Use it inside ``EngramStore/writeVectors(tenant:_:)`` (which also settles the in-memory graph
/// right after the commit or abort), or build one over any ``GraphSession`` of a write
/// transaction: the next writer then settles the graph. Either way a committed vector is
/// findable and an aborted one never is; see `docs/hnsw.md`, "Persistence in the store".
final class VectorSession {
    let graph: GraphSession
    let registry: VectorRegistry
    private var keyspaces: VectorKeyspaces { registry.keyspaces }
    private var txn: Transaction { graph.txn }
    /// The indexes this session has written to, with their meta record as this transaction
    /// leaves it.
    private(set) var prepared: [UInt32: Prepared] = [:]
    private var token: ObjectIdentifier { ObjectIdentifier(self) }
    /// The definitions this session has read or created, by name (a definition changes only by
    /// dropping its tenant, which no session outlives), so that a search reads it once.
    private var definitionCache: [String: VectorIndexRecord] = [:]

    struct Prepared {
        let state: VectorIndexState
        var meta: VectorIndexMeta
    }

    init(graph: GraphSession, registry: VectorRegistry) {
        self.graph = graph
        self.registry = registry
    }

    // MARK: Definitions

    /// The definition of index `name`, or `nil`.
    func definition(_ name: String) throws -> VectorIndexRecord? {
        if let cached = definitionCache[name] { return cached }
        guard let tenant = graph.tenant else { return nil }
        let definition = try txn.withValue(forKey: VectorKey.definition(tenant, name), in: keyspaces.indexes) { value in
            try value.map { try VectorIndexRecord(decoding: $0) }
        }
        if let definition { definitionCache[name] = definition }
        return definition
    }

    func requireDefinition(_ name: String) throws -> VectorIndexRecord {
        guard let definition = try definition(name) else {
            throw EngramError(
                .notFound, "there is no vector index '\(name)' in tenant '\(graph.tenantName)'; create it first")
        }
        return definition
    }

    /// Creates index `name`, or returns the existing one when it has the same configuration.
    ///
    /// - Throws: `alreadyExists` when an index of that name has another configuration;
    ///   `invalidArgument` for a bad name, dimension or parameter.
    func createIndex(
        _ name: String, dimension: Int, metric: VectorMetric, parameters: HNSWParameters, model: String?
    ) throws -> VectorIndexRecord {
        guard !name.isEmpty, name.utf8.count <= 200 else {
            throw EngramError(.invalidName, "a vector index name must have 1 to 200 bytes")
        }
        guard (1...65_536).contains(dimension) else {
            throw EngramError(.invalidArgument, "a vector index dimension must be in 1...65536, got \(dimension)")
        }
        do {
            try parameters.validate()
        } catch {
            throw EngramError(.invalidArgument, error.message)
        }
        if let existing = try definition(name) {
            guard existing.dimension == dimension, existing.metric == metric, existing.parameters == parameters,
                existing.model == model
            else {
                throw EngramError(
                    .alreadyExists,
                    "vector index '\(name)' exists with dimension \(existing.dimension), metric \(existing.metric), "
                        + "\(existing.parameters), model \(existing.model ?? "none")")
            }
            return existing
        }
        let tenant = try graph.writableTenant()
        let id = UInt32(truncatingIfNeeded: try graph.nextSequence("vector_index", start: 1))
        let record = VectorIndexRecord(
            id: id, dimension: dimension, metric: metric, parameters: parameters, model: model)
        try txn.put(record.encoded, forKey: VectorKey.definition(tenant, name), in: keyspaces.indexes)
        definitionCache[name] = record
        return record
    }

    /// The definitions of the tenant's indexes, by name.
    func definitions() throws -> [(name: String, definition: VectorIndexRecord)] {
        guard let tenant = graph.tenant else { return [] }
        var result: [(String, VectorIndexRecord)] = []
        let prefix = KeyWriter.bigEndian(tenant)
        try txn.scan(in: keyspaces.indexes, prefix: prefix) { key, value in
            var reader = KeyReader(UnsafeRawBufferPointer(rebasing: key[4...]))
            result.append(
                (String(decoding: try reader.readEscapedBytes(), as: UTF8.self), try VectorIndexRecord(decoding: value))
            )
            return true
        }
        return result
    }

    // MARK: Checks

    static func check(_ vector: [Float], definition: VectorIndexRecord, name: String) throws {
        guard vector.count == definition.dimension else {
            throw EngramError.dimensionMismatch(expected: definition.dimension, got: vector.count, index: name)
        }
        if let bad = vector.firstIndex(where: { !$0.isFinite }) {
            throw EngramError(
                .invalidVector,
                "component \(bad) of the vector for index '\(name)' is \(vector[bad]); vectors must be finite")
        }
    }

    static func checkModel(_ model: String?, definition: VectorIndexRecord, name: String) throws {
        if let model, let expected = definition.model, model != expected {
            throw EmbeddingError(
                .modelMismatch,
                "vector index '\(name)' holds embeddings of model '\(expected)', not '\(model)'; embed with '\(expected)' or create another index"
            )
        }
    }

    static func engramError(_ error: VectorIndexError, name: String) -> EngramError {
        switch error.code {
        case .dimensionMismatch: EngramError(.dimensionMismatch, "vector index '\(name)': \(error.message)")
        case .nonFiniteComponent, .zeroVector: EngramError(.invalidVector, "vector index '\(name)': \(error.message)")
        case .invalidParameter: EngramError(.invalidArgument, "vector index '\(name)': \(error.message)")
        case .corruptRecord: EngramError(.corrupted, "vector index '\(name)': \(error.message)")
        default: EngramError(.storageFailure, "vector index '\(name)': \(error)")
        }
    }

    // MARK: Writing

    /// Makes index `name` writable in this transaction: loads it, settles what an earlier
    /// transaction left pending, consolidates tombstones past the threshold, and notes this
    /// transaction as pending.
    private func writable(_ name: String) throws -> (VectorIndexRecord, Prepared) {
        let definition = try requireDefinition(name)
        if let prepared = prepared[definition.id] { return (definition, prepared) }
        let tenant = try graph.writableTenant()
        let state = try registry.state(tenant: tenant, definition: definition, in: txn)
        state.writerLock.lock()
        defer { state.writerLock.unlock() }
        var meta = try state.resolve(in: txn)
        meta.generation = UInt64.random(in: 1...UInt64.max)
        meta.sequence += 1
        state.pending = VectorIndexState.Pending(token: token, generation: meta.generation, sequence: meta.sequence)
        var entry = Prepared(state: state, meta: meta)
        let index = state.index
        let nodes = index.count + index.deletedCount
        if index.deletedCount > 0, Double(index.deletedCount) >= index.consolidationThreshold * Double(nodes) {
            var changes = HNSWChangeSet()
            index.consolidateDeletions(changes: &changes)
            note(changes, in: state)
            try write(changes, tenant: tenant, index: definition.id, meta: &entry.meta)
        }
        try txn.put(entry.meta.encoded, forKey: VectorKey.meta(tenant, definition.id), in: keyspaces.graph)
        prepared[definition.id] = entry
        return (definition, entry)
    }

    /// Records the slots a change set touched in the pending note, before the records are
    /// written, so that an abort at any point undoes them.
    private func note(_ changes: HNSWChangeSet, in state: VectorIndexState) {
        for record in changes.records {
            switch record {
            case .node(let slot, _, _, _), .links(let slot, _, _), .tombstone(let slot), .freed(let slot, _):
                state.pending?.touched.insert(slot)
            case .entryPoint: break
            }
        }
    }

    private func write(_ changes: HNSWChangeSet, tenant: UInt32, index: UInt32, meta: inout VectorIndexMeta) throws {
        for record in changes.records {
            switch record {
            case .node(let slot, let id, let level, let vector):
                try deleteSlot(slot, tenant: tenant, index: index)
                try txn.put(
                    VectorKey.nodeValue(key: id, level: level, vector: vector),
                    forKey: VectorKey.slot(tenant, index, slot, VectorKey.nodeSub), in: keyspaces.graph)
            case .links(let slot, let level, let neighbours):
                try txn.put(
                    VectorKey.linksValue(neighbours),
                    forKey: VectorKey.slot(tenant, index, slot, VectorKey.linksSub + UInt8(level)), in: keyspaces.graph)
            case .tombstone(let slot):
                try txn.put(
                    [], forKey: VectorKey.slot(tenant, index, slot, VectorKey.tombstoneSub), in: keyspaces.graph)
            case .freed(let slot, _):
                try deleteSlot(slot, tenant: tenant, index: index)
            case .entryPoint(let slot, let maxLevel):
                meta.entryPoint = slot
                meta.maxLevel = maxLevel
            }
        }
    }

    private func deleteSlot(_ slot: UInt32, tenant: UInt32, index: UInt32) throws {
        var keys: [[UInt8]] = []
        try txn.scan(in: keyspaces.graph, prefix: VectorKey.slots(tenant, index, slot)) { key, _ in
            keys.append(Array(key))
            return true
        }
        for key in keys { try txn.delete(key, in: keyspaces.graph) }
    }

    /// The vector key and slot of `node`'s vector in index `index`, as this transaction sees them.
    private func storedKey(of node: UInt64, tenant: UInt32, index: UInt32) throws -> (key: UInt64, slot: UInt32)? {
        try txn.withValue(forKey: VectorKey.nodeToKey(tenant, index, node), in: keyspaces.ids) { value in
            value.map { (VectorKey.uint64($0, at: 0), VectorKey.uint32($0, at: 8)) }
        }
    }

    /// Sets the vector of internal node `node` in index `name`, replacing any previous one; the
    /// vector and its HNSW records are written in this transaction.
    ///
    /// - Throws: `notFound` (no such index), `dimensionMismatch`, `invalidVector` (NaN, infinite,
    ///   or zero for cosine), ``EmbeddingError`` `modelMismatch` when `model` is not the index's.
    func upsert(_ vector: [Float], node: UInt64, index name: String, model: String? = nil) throws {
        let definition = try requireDefinition(name)
        try Self.checkModel(model, definition: definition, name: name)
        try Self.check(vector, definition: definition, name: name)
        var (_, entry) = try writable(name)
        let tenant = try graph.writableTenant()
        let index = definition.id
        let old = try storedKey(of: node, tenant: tenant, index: index)
        let key = entry.meta.nextKey
        entry.meta.nextKey += 1
        var changes = HNSWChangeSet()
        entry.state.writerLock.lock()
        do {
            try entry.state.index.insert(vector, id: key, changes: &changes)
        } catch {
            entry.state.writerLock.unlock()
            throw Self.engramError(error, name: name)
        }
        note(changes, in: entry.state)
        entry.state.noteInserted(key: key, node: node)
        entry.state.writerLock.unlock()
        try write(changes, tenant: tenant, index: index, meta: &entry.meta)
        guard
            let slot = changes.records.lazy.compactMap({ record -> UInt32? in
                if case .node(let slot, let id, _, _) = record, id == key { return slot }
                return nil
            }).first
        else { throw EngramError(.storageFailure, "vector index '\(name)' reported no node for an insert") }
        if let old { try tombstone(old, tenant: tenant, index: index, state: entry.state) }
        try txn.put(KeyWriter.bigEndian(node), forKey: VectorKey.keyToNode(tenant, index, key), in: keyspaces.ids)
        try txn.put(
            KeyWriter.bigEndian(key) + KeyWriter.bigEndian(slot), forKey: VectorKey.nodeToKey(tenant, index, node),
            in: keyspaces.ids)
        try txn.put(entry.meta.encoded, forKey: VectorKey.meta(tenant, index), in: keyspaces.graph)
        prepared[index] = entry
    }

    /// Removes the vector of internal node `node` from index `name`.
    ///
    /// - Returns: whether the node had a vector there.
    /// - Throws: `notFound` when there is no such index.
    @discardableResult
    func remove(node: UInt64, index name: String) throws -> Bool {
        let definition = try requireDefinition(name)
        guard let tenant = graph.tenant, let old = try storedKey(of: node, tenant: tenant, index: definition.id) else {
            return false
        }
        let (_, entry) = try writable(name)
        try tombstone(old, tenant: tenant, index: definition.id, state: entry.state)
        try txn.delete(VectorKey.nodeToKey(tenant, definition.id, node), in: keyspaces.ids)
        try txn.put(entry.meta.encoded, forKey: VectorKey.meta(tenant, definition.id), in: keyspaces.graph)
        return true
    }

    /// Removes the vectors of internal node `node` from every index of the tenant: what deleting the
    /// node must do in the same transaction (searches skip vectors of missing nodes meanwhile).
    ///
    /// - Returns: the number of indexes that held a vector of the node.
    @discardableResult
    func removeVectors(ofNode node: UInt64) throws -> Int {
        var removed = 0
        for (name, _) in try definitions() where try remove(node: node, index: name) { removed += 1 }
        return removed
    }

    /// Deletes a vector in the store now; the in-memory graph gets the tombstone after commit.
    private func tombstone(_ old: (key: UInt64, slot: UInt32), tenant: UInt32, index: UInt32, state: VectorIndexState)
        throws
    {
        state.writerLock.lock()
        state.pending?.tombstones.append(old.slot)
        state.pending?.removedKeys.append(old.key)
        state.writerLock.unlock()
        try txn.put([], forKey: VectorKey.slot(tenant, index, old.slot, VectorKey.tombstoneSub), in: keyspaces.graph)
        try txn.delete(VectorKey.keyToNode(tenant, index, old.key), in: keyspaces.ids)
    }

    // MARK: Searching

    /// The internal node ids a search may return, and a test they must pass.
    struct NodeFilter {
        /// The nodes a result may be, or `nil` for any.
        var allowedNodes: Set<UInt64>?
        /// A test every result must pass, called on the searching thread inside the transaction.
        var predicate: ((UInt64) -> Bool)?
    }

    /// The (at most) `k` nodes whose vectors in index `name` are nearest to `query`, nearest
    /// first, as this transaction sees them.
    ///
    /// - Parameters:
    ///   - name: the index.
    ///   - query: a vector of the index's dimension.
    ///   - k: the number of results, 1…65,536.
    ///   - ef: the HNSW candidate list size (`nil`: the index's `efSearch`).
    ///   - filter: which nodes may be returned.
    /// - Returns: internal node ids with the similarity score of their metric (larger is closer).
    /// - Throws: `notFound`, `dimensionMismatch`, `invalidVector`, `invalidArgument`.
    func search(_ name: String, query: [Float], k: Int, ef: Int? = nil, filter: NodeFilter? = nil) throws
        -> [(node: UInt64, score: Float)]
    {
        guard let tenant = graph.tenant else {
            _ = try requireDefinition(name)
            return []
        }
        let nodes = graph.keyspaces.nodes
        let txn = self.txn
        return try search(name, query: query, k: k, ef: ef, filter: filter) { node, score in
            try txn.contains(GraphKey.node(tenant, node), in: nodes) ? (node, score) : nil
        }
    }

    /// ``search(_:query:k:ef:filter:)`` that turns each hit into a result with `resolve`, which
    /// reads the node in this transaction and returns `nil` when the snapshot does not hold it
    /// (a node deleted without removing its vectors): the public search reads each node once
    /// instead of checking it and then reading it.
    func search<Result>(
        _ name: String, query: [Float], k: Int, ef: Int? = nil, filter: NodeFilter? = nil,
        resolve: (_ node: UInt64, _ score: Float) throws -> Result?
    ) throws -> [Result] {
        let definition = try requireDefinition(name)
        try Self.check(query, definition: definition, name: name)
        guard (1...65_536).contains(k) else { throw EngramError(.invalidArgument, "k must be in 1...65536, got \(k)") }
        guard let tenant = graph.tenant else { return [] }
        let state = try registry.state(tenant: tenant, definition: definition, in: txn)
        let stored = try VectorIndexState.readMeta(tenant: tenant, index: definition.id, keyspaces: keyspaces, in: txn)
        try state.refreshIfBehind(stored, in: txn)
        let index = state.index
        let txn = self.txn
        let ids = keyspaces.ids
        let indexID = definition.id
        let nodes = graph.keyspaces.nodes
        // The node of a vector key in this transaction's snapshot; nil for a key it cannot see.
        // One key buffer for every lookup of the search (`t i 00` then the key): no allocation
        // per hit.
        var keyBuffer = VectorKey.keyToNode(tenant, indexID, 0)
        let keyOffset = keyBuffer.count - 8
        func visibleNode(of key: UInt64) throws -> UInt64? {
            keyBuffer.withUnsafeMutableBytes { $0.storeBytes(of: key.bigEndian, toByteOffset: keyOffset, as: UInt64.self) }
            return try keyBuffer.withUnsafeBytes { bytes in
                try txn.withValue(forKey: bytes, in: ids) { $0.map { VectorKey.uint64($0, at: 0) } }
            }
        }
        // Also nil when the node was deleted without removing its vectors.
        func node(of key: UInt64) throws -> UInt64? {
            guard let node = try visibleNode(of: key), try txn.contains(GraphKey.node(tenant, node), in: nodes) else {
                return nil
            }
            return node
        }
        var vectorFilter: VectorFilter?
        if let filter {
            var allowedKeys: Set<UInt64>?
            if let nodes = filter.allowedNodes {
                allowedKeys = Set(try nodes.compactMap { try storedKey(of: $0, tenant: tenant, index: indexID)?.key })
                if allowedKeys!.isEmpty { return [] }
            }
            var predicate: (@Sendable (UInt64) -> Bool)?
            if let test = filter.predicate {
                // Safe: HNSWIndex.search calls the predicate synchronously on this thread, inside
                // this transaction; nothing keeps it afterwards.
                nonisolated(unsafe) let test = test
                nonisolated(unsafe) let lookUp = node(of:)
                predicate = { key in ((try? lookUp(key)) ?? nil).map(test) ?? false }
            }
            vectorFilter = VectorFilter(allowedIDs: allowedKeys, predicate: predicate)
        }
        // The graph may hold keys this snapshot cannot see (a writer's uncommitted inserts, or
        // commits after this snapshot began): ask for more until k visible ones are found.
        var limit = k
        while true {
            let hits: [VectorSearchResult]
            var version: UInt64 = 0
            do {
                hits = try index.search(
                    query, limit: limit, ef: ef.map { max($0, limit) }, filter: vectorFilter, observedVersion: &version)
            } catch {
                throw Self.engramError(error, name: name)
            }
            // When the graph searched equals this snapshot's committed state, every hit is visible
            // and the node map names its node: no lookup per hit.
            let known = state.nodes(
                ofKeys: hits.lazy.map(\.id), index: index, version: version, sequence: stored.sequence)
            var result: [Result] = []
            result.reserveCapacity(k)
            for (i, hit) in hits.enumerated() {
                guard let node = try known?[i] ?? visibleNode(of: hit.id), let resolved = try resolve(node, hit.score)
                else {
                    continue
                }
                result.append(resolved)
                if result.count == k { break }
            }
            if result.count == k || hits.count < limit || limit >= 65_536 { return result }
            limit = min(limit * 2, 65_536)
        }
    }
}
