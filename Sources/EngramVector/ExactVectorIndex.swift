import EngramCore
import HeapModule

/// A brute-force index: every search computes the distance to every live vector.
///
/// The oracle HNSW is tested against, and the right index for small sets (below a few thousand
/// vectors a scan costs less than a graph walk and is exact). Vectors are kept contiguous and
/// padded for the SIMD kernels; removing one moves the last vector into its place.
///
/// Thread-safe like ``HNSWIndex``: searches share a lock, mutations take it exclusively.
package final class ExactVectorIndex: VectorIndex, @unchecked Sendable {
    // Safe (@unchecked): every access to the mutable state holds `lock`.
    private let lock = ReadWriteLock()
    private var storage: [Float] = []
    private var slotIDs: [UInt64] = []
    private var slotOfID: [UInt64: Int] = [:]
    private let paddedDimension: Int

    /// The number of components of every vector.
    package let dimension: Int
    /// How distances are measured.
    package let metric: VectorMetric

    /// Creates an empty index.
    ///
    /// - Throws: ``VectorIndexError`` `invalidParameter` unless `dimension` is in 1…65,536.
    package init(dimension: Int, metric: VectorMetric) throws(VectorIndexError) {
        guard (1...65_536).contains(dimension) else {
            throw .invalidParameter("dimension must be in 1...65536, got \(dimension)")
        }
        self.dimension = dimension
        self.metric = metric
        paddedDimension = DistanceKernels.paddedLength(dimension)
    }

    /// The number of live vectors.
    package var count: Int { lock.withReadLock { slotIDs.count } }

    /// Whether a vector has `id`.
    package func contains(_ id: UInt64) -> Bool { lock.withReadLock { slotOfID[id] != nil } }

    /// Adds `vector` under `id`.
    ///
    /// - Throws: ``VectorIndexError`` `duplicateID`, `dimensionMismatch`, `nonFiniteComponent`,
    ///   `zeroVector` (cosine).
    package func insert(_ vector: [Float], id: UInt64) throws(VectorIndexError) {
        let prepared = try prepare(vector)
        try lock.withWriteLock { () throws(VectorIndexError) in
            guard slotOfID[id] == nil else { throw .duplicateID(id) }
            slotOfID[id] = slotIDs.count
            slotIDs.append(id)
            storage.append(contentsOf: prepared)
        }
    }

    /// Replaces the vector of `id`.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID` or any error of ``insert(_:id:)``.
    package func update(_ vector: [Float], id: UInt64) throws(VectorIndexError) {
        let prepared = try prepare(vector)
        try lock.withWriteLock { () throws(VectorIndexError) in
            guard let slot = slotOfID[id] else { throw .unknownID(id) }
            storage.replaceSubrange(slot * paddedDimension..<(slot + 1) * paddedDimension, with: prepared)
        }
    }

    /// Removes the vector of `id`.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID`.
    package func remove(_ id: UInt64) throws(VectorIndexError) {
        try lock.withWriteLock { () throws(VectorIndexError) in
            guard let slot = slotOfID.removeValue(forKey: id) else { throw .unknownID(id) }
            let last = slotIDs.count - 1
            if slot != last {
                let lastID = slotIDs[last]
                slotIDs[slot] = lastID
                slotOfID[lastID] = slot
                for i in 0..<paddedDimension {
                    storage[slot * paddedDimension + i] = storage[last * paddedDimension + i]
                }
            }
            slotIDs.removeLast()
            storage.removeLast(paddedDimension)
        }
    }

    /// The exact (at most) `limit` nearest vectors to `query` that pass `filter`, nearest first
    /// (ties: smaller id first). `ef` is ignored.
    ///
    /// - Throws: ``VectorIndexError`` `dimensionMismatch`, `nonFiniteComponent`, `zeroVector`,
    ///   `invalidParameter`.
    /// - Complexity: O(n · dimension + n · log limit).
    package func search(_ query: [Float], limit: Int, ef: Int? = nil, filter: VectorFilter? = nil)
        throws(VectorIndexError) -> [VectorSearchResult]
    {
        guard (1...65_536).contains(limit) else { throw .invalidParameter("limit must be in 1...65536, got \(limit)") }
        let prepared = try prepare(query)
        return lock.withReadLock {
            // A bounded max-heap of the best `limit` so far (HeapModule's min-max heap).
            var best = Heap<Hit>()
            prepared.withUnsafeBufferPointer { q in
                storage.withUnsafeBufferPointer { all in
                    for slot in 0..<slotIDs.count {
                        let id = slotIDs[slot]
                        if let filter, !filter.allows(id) { continue }
                        let d = DistanceKernels.distance(
                            q.baseAddress!, all.baseAddress! + slot * paddedDimension, count: paddedDimension,
                            metric: metric)
                        let hit = Hit(distance: d, id: id)
                        if best.count < limit {
                            best.insert(hit)
                        } else if hit < best.max! {
                            _ = best.replaceMax(with: hit)
                        }
                    }
                }
            }
            var results: [VectorSearchResult] = []
            results.reserveCapacity(best.count)
            while let hit = best.popMin() {
                results.append(VectorSearchResult(id: hit.id, distance: hit.distance, metric: metric))
            }
            return results
        }
    }

    private struct Hit: Comparable {
        var distance: Float
        var id: UInt64
        static func < (a: Hit, b: Hit) -> Bool { (a.distance, a.id) < (b.distance, b.id) }
    }

    private func prepare(_ vector: [Float]) throws(VectorIndexError) -> [Float] {
        var prepared = [Float](repeating: 0, count: paddedDimension)
        try vector.withUnsafeBufferPointer { (source) throws(VectorIndexError) in
            try prepared.withUnsafeMutableBufferPointer { (destination) throws(VectorIndexError) in
                try DistanceKernels.prepare(
                    source, dimension: dimension, metric: metric, into: destination.baseAddress!)
            }
        }
        return prepared
    }
}
