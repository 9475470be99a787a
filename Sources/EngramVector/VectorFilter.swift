/// Restricts a search to some of the index's ids: an allow-list, a predicate, or both (an id must
/// pass both).
///
/// An index decides per search whether to walk the graph and skip disallowed nodes or to compute
/// the exact answer over the allowed ids only; see ``HNSWIndex`` and `docs/hnsw.md`.
package struct VectorFilter: Sendable {
    /// The ids a result may have, or `nil` for no allow-list.
    package var allowedIDs: Set<UInt64>?
    /// A test every result must pass, or `nil`. It is called from the searching thread, possibly
    /// many times per search; it must be fast and must not call back into the index.
    package var predicate: (@Sendable (UInt64) -> Bool)?

    /// Creates a filter.
    ///
    /// - Parameters:
    ///   - allowedIDs: the ids a result may have, or `nil`.
    ///   - predicate: a test every result must pass, or `nil`.
    package init(allowedIDs: Set<UInt64>? = nil, predicate: (@Sendable (UInt64) -> Bool)? = nil) {
        self.allowedIDs = allowedIDs
        self.predicate = predicate
    }

    /// A filter that only allows the given ids.
    package static func allowing(_ ids: Set<UInt64>) -> VectorFilter { VectorFilter(allowedIDs: ids) }

    /// A filter that allows the ids for which `predicate` is true.
    package static func matching(_ predicate: @escaping @Sendable (UInt64) -> Bool) -> VectorFilter {
        VectorFilter(predicate: predicate)
    }

    /// Whether `id` passes the filter.
    @inlinable
    package func allows(_ id: UInt64) -> Bool {
        if let allowedIDs, !allowedIDs.contains(id) { return false }
        if let predicate, !predicate(id) { return false }
        return true
    }
}
