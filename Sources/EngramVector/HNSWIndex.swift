import EngramCore
/// An approximate nearest-neighbour index: a hierarchical navigable small-world graph (HNSW)
/// after hnswlib, with deletes, updates, filtered search and persistence hooks.
///
/// ```swift
/// let index = try HNSWIndex(dimension: 384, metric: .cosine)
/// try index.insert(embedding, id: 42)
/// let hits = try index.search(query, limit: 10)
/// ```
///
/// ## Thread safety
/// An `HNSWIndex` is `Sendable`. Searches take a shared lock and run concurrently with each other;
/// each mutation (`insert`, `update`, `remove`, `consolidateDeletions`, `apply`) takes the lock
/// exclusively for its own duration, so a search sees the index before or after a mutation, never
/// in between, and one writer's calls interleave with the searches. Memory is only reallocated
/// under the exclusive lock.
///
/// ## Deletes
/// ``remove(_:)`` marks the node deleted (a tombstone): it still routes searches, so recall does
/// not drop, and it is never returned. When tombstones reach ``consolidationThreshold`` of the
/// nodes, the next `remove` calls ``consolidateDeletions()``, which relinks the tombstones'
/// neighbours and frees their slots. ``update(_:id:)`` re-inserts the vector in a new slot and
/// tombstones the old one.
///
/// ## Persistence
/// Every mutation has a form that appends the ``HNSWRecord``s it wrote to an ``HNSWChangeSet``;
/// ``init(dimension:metric:parameters:restoringFrom:)`` rebuilds an index from records without
/// computing a distance. See `docs/hnsw.md`.
package final class HNSWIndex: VectorIndex, @unchecked Sendable {
    // Safe (@unchecked): every access to `graph` and `writerScratch` holds `lock` (shared for
    // reads, exclusive for writes); `scratchPool` has its own lock.
    private let lock = ReadWriteLock()
    private let graph: HNSWGraph
    private let writerScratch: SearchScratch
    private let scratchPoolLock = ReadWriteLock()
    private var scratchPool: [SearchScratch] = []

    /// The number of components of every vector.
    package let dimension: Int
    /// How distances are measured.
    package let metric: VectorMetric
    /// The construction and default search parameters.
    package let parameters: HNSWParameters

    /// The fraction of tombstones (deleted nodes among all nodes) at which `remove` repairs the
    /// graph and frees them.
    ///
    /// 0.2: tombstones cost memory and search time (they are visited but never returned) and,
    /// past a fifth of the graph, the searches' effective `ef` visibly shrinks; repairing costs
    /// O(n·M) plus a neighbour selection per affected list, so it should not run on every delete.
    package var consolidationThreshold: Double {
        get { lock.withReadLock { _consolidationThreshold } }
        set { lock.withWriteLock { _consolidationThreshold = newValue } }
    }
    private var _consolidationThreshold = 0.2

    /// Counts the mutations (under the exclusive lock): two searches that observed the same
    /// version saw the same graph. A store uses it to know that a search ran on a graph that
    /// equals a committed state (``search(_:limit:ef:filter:observedVersion:)``).
    private var _version: UInt64 = 0

    /// The number of mutations so far (inserts, updates, removals, consolidations, applied
    /// records); see ``search(_:limit:ef:filter:observedVersion:)``.
    package var version: UInt64 { lock.withReadLock { _version } }

    /// A filtered search computes the exact answer when `allowed² ≤ n · ef · 2M` (`allowed` the
    /// number of ids the filter lets through, estimated by sampling for a predicate, `n` the live
    /// count); see ``search(_:limit:ef:filter:)``.
    package static let exactFilterSampleSize = 256

    /// Creates an empty index.
    ///
    /// - Parameters:
    ///   - dimension: the number of components of every vector, 1…65,536.
    ///   - metric: how distances are measured.
    ///   - parameters: M, efConstruction, default ef and the level seed.
    ///   - capacity: the number of vectors to reserve memory for.
    /// - Throws: ``VectorIndexError`` `invalidParameter`.
    package init(
        dimension: Int, metric: VectorMetric, parameters: HNSWParameters = HNSWParameters(), capacity: Int = 1024
    ) throws(VectorIndexError) {
        guard (1...65_536).contains(dimension) else {
            throw .invalidParameter("dimension must be in 1...65536, got \(dimension)")
        }
        try parameters.validate()
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        graph = HNSWGraph(dimension: dimension, metric: metric, parameters: parameters, capacity: capacity)
        writerScratch = SearchScratch(paddedDimension: graph.paddedDimension)
    }

    /// Rebuilds an index from persisted records (all of an index's records, in any order in which
    /// each slot's ``HNSWRecord/node(slot:id:level:vector:)`` precedes its link lists and
    /// tombstone, such as key order), without computing any distance.
    ///
    /// - Parameters:
    ///   - dimension: the dimension the index was created with.
    ///   - metric: the metric the index was created with.
    ///   - parameters: the parameters the index was created with.
    ///   - records: every record of the index.
    ///   - capacity: the number of slots (highest slot + 1), to reserve memory at once. A node
    ///     slot more than 2^20 beyond both this and the slots restored before it is rejected as
    ///     damage, so pass it when many slots below the highest are free.
    /// - Throws: ``VectorIndexError`` `corruptRecord` when the records contradict each other.
    /// - Complexity: O(records), plus O(n · M) to check every link.
    package convenience init(
        dimension: Int, metric: VectorMetric, parameters: HNSWParameters,
        restoringFrom records: some Sequence<HNSWRecord>, capacity: Int = 1024
    ) throws(VectorIndexError) {
        try self.init(dimension: dimension, metric: metric, parameters: parameters, capacity: capacity)
        try graph.apply(records)
    }

    // MARK: Reading

    /// The number of live vectors.
    package var count: Int { lock.withReadLock { graph.liveCount } }

    /// The number of deleted vectors still in the graph (tombstones not yet consolidated).
    package var deletedCount: Int { lock.withReadLock { graph.deletedCount } }

    /// The bytes the index holds in memory: vectors, links and per-slot data.
    package var memoryBytes: Int { lock.withReadLock { graph.memoryBytes } }

    /// Whether a live vector has `id`.
    package func contains(_ id: UInt64) -> Bool { lock.withReadLock { graph.slotOfID[id] != nil } }

    /// The ids of all live vectors, in slot order.
    package var ids: [UInt64] {
        lock.withReadLock {
            (0..<graph.slotCount).compactMap { graph.states[$0] == .live ? graph.ids[$0] : nil }
        }
    }

    /// The stored vector of `id` (normalised for the cosine metric), or `nil`.
    package func vector(for id: UInt64) -> [Float]? {
        lock.withReadLock {
            guard let slot = graph.slotOfID[id] else { return nil }
            return Array(UnsafeBufferPointer(start: graph.vector(slot), count: dimension))
        }
    }

    /// The (at most) `limit` nearest live vectors to `query` that pass `filter`, nearest first.
    ///
    /// Without a filter, or with a broad one, this walks the graph with a candidate list of
    /// `max(ef, limit)`; disallowed nodes route the walk but are not returned. When the filter
    /// lets few ids through (`allowed² ≤ n · ef · 2M`: the walk would visit about `ef · 2M /
    /// selectivity` nodes, more than the exact scan's `allowed`) it computes the exact answer over
    /// the allowed ids instead. For a predicate, `allowed` is estimated from
    /// ``exactFilterSampleSize`` evenly spread live nodes.
    ///
    /// - Parameters:
    ///   - query: `dimension` finite components.
    ///   - limit: the number of results wanted, 1…65,536.
    ///   - ef: the candidate list size (`nil`: ``HNSWParameters/efSearch``).
    ///   - filter: the ids results may have, or `nil`.
    /// - Throws: ``VectorIndexError`` `dimensionMismatch`, `nonFiniteComponent`, `zeroVector`,
    ///   `invalidParameter`.
    /// - Complexity: about O(ef · M · log n) distances unfiltered.
    package func search(_ query: [Float], limit: Int, ef: Int? = nil, filter: VectorFilter? = nil)
        throws(VectorIndexError) -> [VectorSearchResult]
    {
        try query.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
            try search(buffer, limit: limit, ef: ef, filter: filter)
        }
    }

    /// ``search(_:limit:ef:filter:)`` that also reports the ``version`` of the graph it searched
    /// (read under the same lock as the walk).
    package func search(
        _ query: [Float], limit: Int, ef: Int? = nil, filter: VectorFilter? = nil, observedVersion: inout UInt64
    ) throws(VectorIndexError) -> [VectorSearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
            try search(buffer, limit: limit, ef: ef, filter: filter, observedVersion: &observedVersion)
        }
    }

    /// ``search(_:limit:ef:filter:)`` for a query in a buffer.
    package func search(
        _ query: UnsafeBufferPointer<Float>, limit: Int, ef: Int? = nil, filter: VectorFilter? = nil
    ) throws(VectorIndexError) -> [VectorSearchResult] {
        var version: UInt64 = 0
        return try search(query, limit: limit, ef: ef, filter: filter, observedVersion: &version)
    }

    private func search(
        _ query: UnsafeBufferPointer<Float>, limit: Int, ef: Int?, filter: VectorFilter?,
        observedVersion: inout UInt64
    ) throws(VectorIndexError) -> [VectorSearchResult] {
        guard (1...65_536).contains(limit) else { throw .invalidParameter("limit must be in 1...65536, got \(limit)") }
        let ef = ef ?? parameters.efSearch
        guard (1...65_536).contains(ef) else { throw .invalidParameter("ef must be in 1...65536, got \(ef)") }
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        try DistanceKernels.prepare(query, dimension: dimension, metric: metric, into: scratch.query)
        return lock.withReadLock {
            observedVersion = _version
            let graph = self.graph
            guard graph.liveCount > 0 else { return [] }
            let efLimit = Swift.max(ef, limit)
            guard let filter, filter.allowedIDs != nil || filter.predicate != nil else {
                return graph.search(
                    query: scratch.query, limit: limit, ef: efLimit, admission: AdmitLive(states: graph.states),
                    scratch: scratch)
            }
            let admission = AdmitFiltered(states: graph.states, ids: graph.ids, filter: filter)
            let n = graph.liveCount
            let allowed = estimatedAllowedCount(filter, graph: graph)
            if allowed * allowed <= Double(n) * Double(efLimit) * Double(graph.maxM0) {
                if let allowedIDs = filter.allowedIDs, allowedIDs.count < n {
                    let slots = allowedIDs.lazy.compactMap { graph.slotOfID[$0] }
                    return graph.exactSearch(
                        query: scratch.query, limit: limit, slots: slots, admission: admission, scratch: scratch)
                }
                let slots = (0..<graph.slotCount).lazy.map { UInt32($0) }
                return graph.exactSearch(
                    query: scratch.query, limit: limit, slots: slots, admission: admission, scratch: scratch)
            }
            return graph.search(query: scratch.query, limit: limit, ef: efLimit, admission: admission, scratch: scratch)
        }
    }

    /// The number of live ids `filter` lets through: exact for an allow-list alone, sampled when
    /// there is a predicate.
    private func estimatedAllowedCount(_ filter: VectorFilter, graph: HNSWGraph) -> Double {
        let n = graph.liveCount
        var upperBound = Double(n)
        if let allowedIDs = filter.allowedIDs {
            upperBound = Double(Swift.min(allowedIDs.count, n))
            if filter.predicate == nil { return upperBound }
        }
        // Sample live slots evenly spread over the slot range.
        let sampleSize = Self.exactFilterSampleSize
        let step = Swift.max(1, graph.slotCount / sampleSize)
        var sampled = 0
        var passed = 0
        var s = 0
        while s < graph.slotCount && sampled < sampleSize {
            if graph.states[s] == .live {
                sampled += 1
                if filter.allows(graph.ids[s]) { passed += 1 }
            }
            s += step
        }
        guard sampled > 0 else { return 0 }
        return Swift.min(upperBound, Double(n) * Double(passed) / Double(sampled))
    }

    // MARK: Writing

    /// Adds `vector` under `id`.
    ///
    /// - Throws: ``VectorIndexError`` `duplicateID`, `dimensionMismatch`, `nonFiniteComponent`,
    ///   `zeroVector` (cosine), `capacityExceeded`. The index is unchanged when it throws.
    /// - Complexity: about O(efConstruction · M · log n) distances.
    package func insert(_ vector: [Float], id: UInt64) throws(VectorIndexError) {
        try write(recording: nil) { (graph, scratch) throws(VectorIndexError) in
            try insert(vector, id: id, graph: graph, scratch: scratch)
        }
    }

    /// ``insert(_:id:)``, appending the records it wrote to `changes`.
    package func insert(_ vector: [Float], id: UInt64, changes: inout HNSWChangeSet) throws(VectorIndexError) {
        try write(recording: &changes) { (graph, scratch) throws(VectorIndexError) in
            try insert(vector, id: id, graph: graph, scratch: scratch)
        }
    }

    /// Inserts a vector from a buffer (no array needed: bulk loads from a memory-mapped file).
    package func insert(_ vector: UnsafeBufferPointer<Float>, id: UInt64) throws(VectorIndexError) {
        try write(recording: nil) { (graph, scratch) throws(VectorIndexError) in
            guard graph.slotOfID[id] == nil else { throw .duplicateID(id) }
            try DistanceKernels.prepare(vector, dimension: dimension, metric: metric, into: scratch.query)
            try graph.insert(prepared: scratch.query, id: id, scratch: scratch)
        }
    }

    /// Replaces the vector of `id`: the new vector goes into a new slot, the old one becomes a
    /// tombstone.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID` or any error of ``insert(_:id:)``; the index is
    ///   unchanged when it throws.
    package func update(_ vector: [Float], id: UInt64) throws(VectorIndexError) {
        try write(recording: nil) { (graph, scratch) throws(VectorIndexError) in
            try update(vector, id: id, graph: graph, scratch: scratch)
        }
    }

    /// ``update(_:id:)``, appending the records it wrote to `changes`.
    package func update(_ vector: [Float], id: UInt64, changes: inout HNSWChangeSet) throws(VectorIndexError) {
        try write(recording: &changes) { (graph, scratch) throws(VectorIndexError) in
            try update(vector, id: id, graph: graph, scratch: scratch)
        }
    }

    /// Removes the vector of `id`: no later search returns it. Consolidates the tombstones when
    /// they reach ``consolidationThreshold``.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID`.
    package func remove(_ id: UInt64) throws(VectorIndexError) {
        try write(recording: nil) { (graph, scratch) throws(VectorIndexError) in
            try remove(id, graph: graph, scratch: scratch)
        }
    }

    /// ``remove(_:)``, appending the records it wrote to `changes`.
    package func remove(_ id: UInt64, changes: inout HNSWChangeSet) throws(VectorIndexError) {
        try write(recording: &changes) { (graph, scratch) throws(VectorIndexError) in
            try remove(id, graph: graph, scratch: scratch)
        }
    }

    /// Relinks the neighbours of every tombstone and frees the tombstones' slots.
    package func consolidateDeletions() {
        write(recording: nil) { graph, scratch in graph.consolidateDeletions(scratch: scratch) }
    }

    /// ``consolidateDeletions()``, appending the records it wrote to `changes`.
    package func consolidateDeletions(changes: inout HNSWChangeSet) {
        write(recording: &changes) { graph, scratch in graph.consolidateDeletions(scratch: scratch) }
    }

    /// Applies persisted records to the index (for instance the committed state of the keys an
    /// aborted transaction had changed), without computing any distance.
    ///
    /// - Throws: ``VectorIndexError`` `corruptRecord`.
    package func apply(_ records: some Sequence<HNSWRecord>) throws(VectorIndexError) {
        try lock.withWriteLock { () throws(VectorIndexError) in
            _version &+= 1
            try graph.apply(records)
        }
    }

    /// Every record of the index, enough to restore it: what a store writes when it persists an
    /// index built in memory.
    package func exportRecords() -> [HNSWRecord] { lock.withReadLock { graph.allRecords() } }

    /// Reserves memory for `count` vectors.
    package func reserveCapacity(_ count: Int) { lock.withWriteLock { graph.reserveCapacity(count) } }

    // MARK: Checking

    /// The violations of the graph's invariants, empty when it is sound: no self or duplicate
    /// links, at most M (2M at level 0) links, links only to nodes present at their level, a
    /// valid entry point at the top level, the id map and counts consistent, and every live node
    /// reachable from the entry point. For tests; O(n · M).
    package func _checkInvariants() -> [String] { lock.withReadLock { graph.invariantViolations() } }

    // MARK: Private

    private func insert(_ vector: [Float], id: UInt64, graph: HNSWGraph, scratch: SearchScratch)
        throws(VectorIndexError)
    {
        guard graph.slotOfID[id] == nil else { throw .duplicateID(id) }
        try vector.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
            try DistanceKernels.prepare(buffer, dimension: dimension, metric: metric, into: scratch.query)
        }
        try graph.insert(prepared: scratch.query, id: id, scratch: scratch)
    }

    private func update(_ vector: [Float], id: UInt64, graph: HNSWGraph, scratch: SearchScratch)
        throws(VectorIndexError)
    {
        guard let old = graph.slotOfID[id] else { throw .unknownID(id) }
        try vector.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
            try DistanceKernels.prepare(buffer, dimension: dimension, metric: metric, into: scratch.query)
        }
        if UnsafeBufferPointer(start: graph.vector(old), count: graph.paddedDimension)
            .elementsEqual(UnsafeBufferPointer(start: scratch.query, count: graph.paddedDimension))
        {
            return
        }
        graph.markDeleted(old)
        try graph.insert(prepared: scratch.query, id: id, scratch: scratch)
        consolidateIfNeeded(graph: graph, scratch: scratch)
    }

    private func remove(_ id: UInt64, graph: HNSWGraph, scratch: SearchScratch) throws(VectorIndexError) {
        guard let slot = graph.slotOfID[id] else { throw .unknownID(id) }
        graph.markDeleted(slot)
        consolidateIfNeeded(graph: graph, scratch: scratch)
    }

    private func consolidateIfNeeded(graph: HNSWGraph, scratch: SearchScratch) {
        let nodes = graph.occupiedCount
        if nodes > 0, Double(graph.deletedCount) >= _consolidationThreshold * Double(nodes) {
            graph.consolidateDeletions(scratch: scratch)
        }
    }

    private func write<T>(
        recording changes: UnsafeMutablePointer<HNSWChangeSet>?,
        _ body: (HNSWGraph, SearchScratch) throws(VectorIndexError) -> T
    ) throws(VectorIndexError) -> T {
        try lock.withWriteLock { () throws(VectorIndexError) -> T in
            _version &+= 1
            if changes != nil { graph.recorder = ChangeRecorder() }
            defer {
                if let changes, let recorder = graph.recorder {
                    changes.pointee.records.append(contentsOf: recorder.records(from: graph))
                }
                graph.recorder = nil
            }
            return try body(graph, writerScratch)
        }
    }

    private func write<T>(
        recording changes: UnsafeMutablePointer<HNSWChangeSet>?, _ body: (HNSWGraph, SearchScratch) -> T
    ) -> T {
        lock.withWriteLock {
            _version &+= 1
            if changes != nil { graph.recorder = ChangeRecorder() }
            defer {
                if let changes, let recorder = graph.recorder {
                    changes.pointee.records.append(contentsOf: recorder.records(from: graph))
                }
                graph.recorder = nil
            }
            return body(graph, writerScratch)
        }
    }

    private func takeScratch() -> SearchScratch {
        scratchPoolLock.withWriteLock { scratchPool.popLast() } ?? SearchScratch(paddedDimension: graph.paddedDimension)
    }

    private func returnScratch(_ scratch: SearchScratch) {
        scratchPoolLock.withWriteLock { scratchPool.append(scratch) }
    }
}
