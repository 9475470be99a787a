/// How the distance between two vectors is measured.
///
/// Every index orders its results by a *distance* where smaller means closer. The
/// ``VectorSearchResult/score`` of a result turns that distance back into the similarity a user
/// expects for the metric (larger is better).
///
/// | metric | distance | score |
/// | --- | --- | --- |
/// | ``cosine`` | `1 − cos(a, b)` (vectors are normalised when they are stored) | `cos(a, b)` |
/// | ``dotProduct`` | `−(a · b)` | `a · b` |
/// | ``l2`` | `‖a − b‖²` (squared Euclidean) | `−‖a − b‖²` |
public enum VectorMetric: String, Sendable, Hashable, Codable, CaseIterable {
    /// Cosine similarity. Vectors are normalised to unit length when they are inserted (and queries
    /// when they are searched), so the distance is `1 − a · b` and costs one dot product.
    case cosine
    /// The raw inner product, for embeddings whose length carries meaning.
    case dotProduct
    /// Squared Euclidean distance.
    case l2

    /// The user-facing similarity for a distance produced by this metric (larger is better).
    ///
    /// - Parameter distance: a distance computed under this metric.
    /// - Returns: the cosine similarity, the inner product, or the negated squared distance.
    @inlinable
    public func score(forDistance distance: Float) -> Float {
        switch self {
        case .cosine: return 1 - distance
        case .dotProduct: return -distance
        case .l2: return -distance
        }
    }
}
