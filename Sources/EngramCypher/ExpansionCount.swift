/// Counting over a chain of expansions without making rows: `MATCH (a)-[]->()-[]->(c) … RETURN
/// count(*)` or `count(DISTINCT c)`, where nothing between the aggregation and the expansions
/// filters or reads the rows. Each hop walks the adjacency with a reused ``NeighbourWalker`` and
/// carries only integer ids; relationship uniqueness along the chain is checked on the ids.
extension Executor {
    /// One hop of the chain.
    private struct Hop {
        var from: String
        var relationship: String
        var to: String
        var direction: ExpandDirection
        var types: [String]
        /// The earlier hops (indices) whose relationship this hop may not reuse.
        var distinctFrom: [Int]
    }

    /// The counting operator for `aggregate` over `input`, or `nil` when the plan is not such a
    /// chain (the ordinary operators run then).
    func expansionCount(_ input: PlanNode, _ aggregate: Expression, slot: Int, argument: Row?) throws -> Operator? {
        var hops: [Hop] = []
        var excludedNames: [[PlanNode.Excluded]] = []
        var current = input
        while case .expand(
            let from, let relationship, let to, let direction, let types, let toBound, let relationshipBound,
            let properties, let excluded) = current.op
        {
            guard !toBound, !relationshipBound, properties == nil else { return nil }
            hops.insert(
                Hop(from: from, relationship: relationship, to: to, direction: direction, types: types, distinctFrom: []),
                at: 0)
            excludedNames.insert(excluded, at: 0)
            current = current.children[0]
        }
        guard !hops.isEmpty else { return nil }
        for index in hops.indices.dropFirst() where hops[index].from != hops[index - 1].to { return nil }
        for (index, excluded) in excludedNames.enumerated() {
            for entry in excluded {
                // Only the chain's own relationships: others would have to be read from the rows.
                guard !entry.isList, let earlier = hops[..<index].firstIndex(where: { $0.relationship == entry.name })
                else { return nil }
                hops[index].distinctFrom.append(earlier)
            }
        }
        // What is counted: every chain (count(*), count(x) of a variable that is never null on it)
        // or the distinct end nodes.
        let distinctEnds: Bool
        switch aggregate.kind {
        case .countStar: distinctEnds = false
        case .function(let name, let distinct, let arguments):
            guard name.lowercased() == "count", arguments.count == 1, case .variable(let counted) = arguments[0].kind
            else { return nil }
            if distinct {
                guard counted == hops[hops.count - 1].to else { return nil }
                distinctEnds = true
            } else {
                let chainVariables = [hops[0].from] + hops.flatMap { [$0.relationship, $0.to] }
                guard chainVariables.contains(counted) else { return nil }
                distinctEnds = false
            }
        default: return nil
        }

        let context = self.context
        let graph = context.graph
        let start = context.layout.slot(hops[0].from)
        let walkers = try hops.map { try graph.neighbourWalker(direction: $0.direction, types: $0.types) }
        let source = try build(current, argument: argument)
        let empty = context.layout.emptyRow()
        let distinctFrom = hops.map(\.distinctFrom)
        return BufferOperator(source) {
            let walk = ChainWalk(walkers: walkers, distinctFrom: distinctFrom, context: context)
            var counts = ChainWalk.Counts(distinctEnds: distinctEnds, chainLength: walkers.count)
            while let row = try source.next() {
                try context.tick()
                guard case .node(let node) = row[start] else { continue }
                try walk.walk(from: node, depth: 0, &counts)
            }
            var row = empty
            row[slot] = .int(distinctEnds ? Int64(counts.ends.count) : counts.chains)
            return [row]
        }
    }
}

/// The walk of ``Executor/expansionCount(_:_:slot:argument:)``: depth-first along the hops, its
/// counters in a value passed down (no shared mutable state to check per edge).
private struct ChainWalk {
    let walkers: [any NeighbourWalker]
    let distinctFrom: [[Int]]
    let context: ExecutionContext

    struct Counts {
        let distinctEnds: Bool
        var chains: Int64 = 0
        var ends = NodeIDSet()
        /// The relationship taken at each depth of the current chain.
        var chain: [RelationshipID]
        /// Edges seen since the last check for a timeout or a cancellation.
        var sinceCheck = 0

        init(distinctEnds: Bool, chainLength: Int) {
            self.distinctEnds = distinctEnds
            chain = Array(repeating: 0, count: chainLength)
        }
    }

    func walk(from node: NodeID, depth: Int, _ counts: inout Counts) throws {
        let last = depth == walkers.count - 1
        let exclusions = distinctFrom[depth]
        try walkers[depth].forEach(of: node) { other, relationship in
            counts.sinceCheck &+= 1
            if counts.sinceCheck & 4095 == 0 { try context.checkInterrupts() }
            for earlier in exclusions where counts.chain[earlier] == relationship { return }
            if !last {
                counts.chain[depth] = relationship
                try walk(from: other, depth: depth + 1, &counts)
            } else if counts.distinctEnds {
                counts.ends.insert(other)
            } else {
                counts.chains += 1
            }
        }
    }
}

/// A set of node ids: a bitmap while the ids stay below 2^26 (8 MB at most, grown on demand;
/// internal ids are dense), a hash set beyond.
struct NodeIDSet {
    private var words: [UInt64] = []
    private var large: Set<NodeID> = []
    private(set) var count = 0
    private static let bitmapLimit: NodeID = 1 << 26

    mutating func insert(_ id: NodeID) {
        guard id < Self.bitmapLimit else {
            if large.insert(id).inserted { count += 1 }
            return
        }
        let word = Int(id >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: max(word + 1, words.count * 2) - words.count)) }
        let bit: UInt64 = 1 << (id & 63)
        if words[word] & bit == 0 {
            words[word] |= bit
            count += 1
        }
    }
}
