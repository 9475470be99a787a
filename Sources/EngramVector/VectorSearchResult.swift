/// One hit of a vector search: the caller's id and how close it is to the query.
public struct VectorSearchResult: Sendable, Hashable, CustomStringConvertible {
    /// The caller's id of the vector, as given when it was inserted.
    public var id: UInt64
    /// The distance to the query under the index's ``VectorMetric`` (smaller is closer).
    public var distance: Float
    /// The metric the distance was measured with.
    public var metric: VectorMetric

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - id: the caller's id.
    ///   - distance: the distance to the query under `metric`.
    ///   - metric: the metric of the index that produced the result.
    public init(id: UInt64, distance: Float, metric: VectorMetric) {
        self.id = id
        self.distance = distance
        self.metric = metric
    }

    /// The similarity to the query (larger is better): the cosine similarity, the inner product, or
    /// the negated squared Euclidean distance, depending on ``metric``.
    public var score: Float { metric.score(forDistance: distance) }

    /// `id: distance`, for logs and test failures.
    public var description: String { "\(id): \(distance)" }
}
