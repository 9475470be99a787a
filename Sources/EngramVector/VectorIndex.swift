/// What every vector index of Engram does: hold vectors under the caller's `UInt64` ids and find
/// the nearest ones to a query.
///
/// Two implementations: ``HNSWIndex`` (approximate, sub-linear) and ``ExactVectorIndex`` (brute
/// force: the oracle in tests and the right choice for small sets). Both are thread-safe: any
/// number of searches run concurrently with each other and with one writer's calls.
package protocol VectorIndex: AnyObject, Sendable {
    /// The number of components of every vector.
    var dimension: Int { get }
    /// How distances are measured.
    var metric: VectorMetric { get }
    /// The number of live vectors.
    var count: Int { get }

    /// Whether a live vector has `id`.
    func contains(_ id: UInt64) -> Bool

    /// Adds `vector` under `id`.
    ///
    /// - Throws: ``VectorIndexError`` `duplicateID`, `dimensionMismatch`, `nonFiniteComponent`,
    ///   `zeroVector` (cosine only).
    func insert(_ vector: [Float], id: UInt64) throws(VectorIndexError)

    /// Replaces the vector of `id`.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID` or any error of ``insert(_:id:)``.
    func update(_ vector: [Float], id: UInt64) throws(VectorIndexError)

    /// Removes the vector of `id`; no later search returns it.
    ///
    /// - Throws: ``VectorIndexError`` `unknownID`.
    func remove(_ id: UInt64) throws(VectorIndexError)

    /// The (at most) `limit` nearest live vectors to `query` that pass `filter`, nearest first
    /// (ties: smaller id first).
    ///
    /// - Parameters:
    ///   - query: a vector of ``dimension`` finite components.
    ///   - limit: the number of results wanted, at least 1.
    ///   - ef: the candidate list size of an approximate index (`nil`: its default); ignored by
    ///     the exact index.
    ///   - filter: the ids results may have, or `nil` for all.
    /// - Throws: ``VectorIndexError`` `dimensionMismatch`, `nonFiniteComponent`, `zeroVector`,
    ///   `invalidParameter`.
    func search(_ query: [Float], limit: Int, ef: Int?, filter: VectorFilter?) throws(VectorIndexError)
        -> [VectorSearchResult]
}

extension VectorIndex {
    /// The (at most) `limit` nearest live vectors to `query`, with the index's default `ef` and no
    /// filter.
    package func search(_ query: [Float], limit: Int) throws(VectorIndexError) -> [VectorSearchResult] {
        try search(query, limit: limit, ef: nil, filter: nil)
    }
}
