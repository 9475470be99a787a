import EngramCypher

extension StoreCypherGraph {
    /// The number of relationships of `node` that ``relationships(of:direction:types:)`` yields,
    /// read from the stored degrees (``NodeDegrees``): one read of `t n d`, summing every type or
    /// the types asked (unknown ones count 0, a type listed twice counts once). For `.both`, the
    /// node's self-loops — counted on both sides but yielded once — are subtracted, found by one
    /// range scan of `adjacency_pairs` (`t n n`).
    ///
    /// - Returns: `nil` when the graph hides expired nodes: a stored degree also counts the
    ///   relationships to hidden neighbours, so only a walk can tell.
    /// - Complexity: O(1) reads, whatever the node's degree.
    func degree(of node: NodeID, direction: ExpandDirection, types: [String]) throws -> Int? {
        guard expired == nil else { return nil }
        var typeIDs: [UInt32]?
        if !types.isEmpty {
            let known = try types.compactMap { try session.symbol(.relationshipType, $0, create: false) }
            if known.isEmpty { return 0 }
            typeIDs = known
        }
        let side: GraphDirection =
            switch direction {
            case .outgoing: .outgoing
            case .incoming: .incoming
            case .both: .both
            }
        return try session.degree(of: node, direction: side, types: typeIDs)
    }
}
