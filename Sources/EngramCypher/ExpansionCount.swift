/// Counting over a chain of expansions without making rows: `MATCH (a)-[]->()-[]->(c) … RETURN
/// count(*)` or `count(DISTINCT c)`, where nothing between the aggregation and the expansions
/// filters or reads the rows; or over one variable-length expansion (`(a)-[*1..3]->(b)`), counting
/// its relationship-unique paths. Each hop walks the adjacency with a reused ``NeighbourWalker`` and
/// carries only integer ids; relationship uniqueness along the chain is checked on the ids. A chain
/// of one hop counted row by row (`count(*)`, `count(r)`, `count(b)`) asks the graph for each start
/// node's stored degree first (``CypherGraph/degree(of:direction:types:)``), and walks only when the
/// graph cannot tell.
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
        /// Hops taken: 1...1, or the bounds of a variable-length expansion.
        var minimum = 1
        var maximum = 1
    }

    /// The deepest variable-length expansion counted by walking (one cursor per depth).
    private static let maximumCountedDepth = 16

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
        if hops.isEmpty,
            case .varExpand(
                let from, let relationship, let to, let direction, let types, let minimum, let maximum, let toBound,
                let properties, let excluded, _) = current.op,
            !toBound, properties == nil, excluded.isEmpty, maximum <= Self.maximumCountedDepth
        {
            hops = [
                Hop(
                    from: from, relationship: relationship, to: to, direction: direction, types: types, distinctFrom: [],
                    minimum: minimum, maximum: maximum)
            ]
            excludedNames = [[]]
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
        // One walker per hop, or per depth of a variable-length expansion.
        let levels = hops.count == 1 ? Array(repeating: hops[0], count: hops[0].maximum) : hops
        let walkers = try levels.map { try graph.neighbourWalker(direction: $0.direction, types: $0.types) }
        let trail = hops[0].maximum != 1 || hops[0].minimum != 1 ? (hops[0].minimum, hops[0].maximum) : nil
        // One plain hop, every chain counted: its count from a node is the node's degree.
        let degreeHop = !distinctEnds && trail == nil && hops.count == 1 && hops[0].distinctFrom.isEmpty ? hops[0] : nil
        let source = try build(current, argument: argument)
        let empty = context.layout.emptyRow()
        let distinctFrom = hops.map(\.distinctFrom)
        return BufferOperator(source) {
            let walk = ChainWalk(walkers: walkers, distinctFrom: distinctFrom, context: context)
            var counts = ChainWalk.Counts(distinctEnds: distinctEnds, chainLength: max(walkers.count, 1))
            while let row = try source.next() {
                try context.tick()
                guard case .node(let node) = row[start] else { continue }
                if let (minimum, maximum) = trail {
                    if minimum == 0 { counts.add(node) }
                    if maximum > 0 { try walk.trail(from: node, step: 0, minimum: minimum, &counts) }
                } else if let hop = degreeHop,
                    let degree = try graph.degree(of: node, direction: hop.direction, types: hop.types)
                {
                    counts.chains += Int64(degree)
                } else {
                    try walk.walk(from: node, depth: 0, &counts)
                }
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

        /// One more chain, ending at `end`.
        mutating func add(_ end: NodeID) {
            if distinctEnds {
                ends.insert(end)
            } else {
                chains += 1
            }
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
            } else {
                counts.add(other)
            }
        }
    }

    /// The relationship-unique paths of one variable-length expansion from `node`, `step` hops
    /// deep already, each counted once it has at least `minimum` hops (as `VarLengthExpand`
    /// yields them); one walker per depth.
    func trail(from node: NodeID, step: Int, minimum: Int, _ counts: inout Counts) throws {
        let deeper = step + 1 < walkers.count
        try walkers[step].forEach(of: node) { other, relationship in
            counts.sinceCheck &+= 1
            if counts.sinceCheck & 4095 == 0 { try context.checkInterrupts() }
            for earlier in 0..<step where counts.chain[earlier] == relationship { return }
            counts.chain[step] = relationship
            if step + 1 >= minimum { counts.add(other) }
            if deeper { try trail(from: other, step: step + 1, minimum: minimum, &counts) }
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
