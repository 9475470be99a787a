import EngramCore
import EngramStorage

extension Graph {
    /// The relationships of a node and the nodes at their other ends.
    /// - Parameters:
    ///   - direction: outgoing, incoming or both (a self-loop is reported once).
    ///   - types: relationship types to follow; empty follows every type.
    ///   - limit: the most neighbours to return.
    /// - Throws: `notFound` for an unknown node.
    /// - Complexity: one adjacency range scan per direction and type: O(log n + k).
    public func neighbors(
        of id: String, direction: GraphDirection = .both, types: [String] = [], limit: Int = .max
    ) throws -> [Neighbor] {
        try read { session in
            let node = try session.requireNodeID(id)
            guard let typeIDs = try typeIDs(types, session) else { return [] }
            var result: [Neighbor] = []
            let selfID = id
            try session.forEachRelationship(of: node, direction: direction, types: typeIDs) { relationship, type, start, end in
                guard result.count < limit else { return false }
                let stored = try session.storedRelationship(relationship)!
                let neighbor = try session.publicNode(session.storedNode(start == node ? end : start)!)
                result.append(
                    Neighbor(
                        relationship: GraphRelationship(
                            id: stored.publicID, type: try session.name(.relationshipType, type),
                            start: start == node ? selfID : neighbor.id, end: start == node ? neighbor.id : selfID,
                            properties: try session.properties(stored.properties)),
                        node: neighbor))
                return result.count < limit
            }
            return result
        }
    }

    /// The relationships of a node, without the nodes at their other ends (their public ids are in
    /// each relationship's `start` and `end`): lighter than ``neighbors(of:direction:types:limit:)``
    /// when the neighbours' labels and properties are not needed.
    /// - Throws: `notFound` for an unknown node.
    /// - Complexity: one adjacency range scan per direction and type, and one record read per
    ///   relationship and per distinct neighbour id.
    public func relationships(
        of id: String, direction: GraphDirection = .both, types: [String] = [], limit: Int = .max
    ) throws -> [GraphRelationship] {
        try read { session in
            let node = try session.requireNodeID(id)
            guard let typeIDs = try typeIDs(types, session) else { return [] }
            var result: [GraphRelationship] = []
            try session.forEachRelationship(of: node, direction: direction, types: typeIDs) { relationship, type, start, end in
                let other = start == node ? end : start
                guard let otherID = try session.storedNodePublicID(other) else {
                    throw EngramError(.corrupted, "relationship \(relationship) points at a missing node")
                }
                guard let stored = try session.storedRelationship(relationship) else {
                    throw EngramError(.corrupted, "adjacency names a missing relationship \(relationship)")
                }
                result.append(
                    GraphRelationship(
                        id: stored.publicID, type: try session.name(.relationshipType, type), start: start == node ? id : otherID,
                        end: start == node ? otherID : id, properties: try session.properties(stored.properties)))
                return result.count < limit
            }
            return result
        }
    }

    /// The number of relationships of a node in `direction` with one of `types` (any when empty; a
    /// type listed twice counts once). For `.both`, a self-loop counts once.
    /// - Complexity: O(log n): one read of the stored degree per direction (``NodeDegrees``), and
    ///   for `.both` one range scan of the node's self-loops.
    public func degree(of id: String, direction: GraphDirection = .both, types: [String] = []) throws -> Int {
        try read { session in
            let node = try session.requireNodeID(id)
            guard let typeIDs = try typeIDs(types, session) else { return 0 }
            return try session.degree(of: node, direction: direction, types: typeIDs)
        }
    }

    /// The nodes and relationships within `depth` hops of a node, reached breadth-first.
    /// - Parameters:
    ///   - depth: the most hops to take (0 returns the node alone).
    ///   - limit: the most nodes to collect; expansion stops there.
    /// - Throws: `notFound` for an unknown node, `invalidArgument` for a negative depth.
    public func expand(
        from id: String, depth: Int, direction: GraphDirection = .both, types: [String] = [], limit: Int = 10_000
    ) throws -> Subgraph {
        guard depth >= 0 else { throw EngramError(.invalidArgument, "depth must be 0 or more, not \(depth)") }
        return try read { session in
            let start = try session.requireNodeID(id)
            guard let typeIDs = try typeIDs(types, session) else {
                return Subgraph(nodes: [try session.publicNode(session.storedNode(start)!)], relationships: [])
            }
            var seenNodes: Set<UInt64> = [start]
            var order: [UInt64] = [start]
            var seenRelationships: Set<UInt64> = []
            var relationshipOrder: [UInt64] = []
            var frontier: [UInt64] = [start]
            for _ in 0..<depth where !frontier.isEmpty && order.count < limit {
                var next: [UInt64] = []
                for node in frontier {
                    try session.forEachRelationship(of: node, direction: direction, types: typeIDs) { relationship, _, from, to in
                        let other = from == node ? to : from
                        if !seenNodes.contains(other) {
                            guard order.count < limit else { return false }
                            seenNodes.insert(other)
                            order.append(other)
                            next.append(other)
                        }
                        if seenRelationships.insert(relationship).inserted { relationshipOrder.append(relationship) }
                        return true
                    }
                }
                frontier = next
            }
            return Subgraph(
                nodes: try order.map { try session.publicNode(session.storedNode($0)!) },
                relationships: try relationshipOrder.compactMap { relationship in
                    let stored = try session.storedRelationship(relationship)!
                    guard seenNodes.contains(stored.start) && seenNodes.contains(stored.end) else { return nil }
                    return try session.publicRelationship(stored)
                })
        }
    }

    /// A shortest path between two nodes (fewest relationships), found breadth-first.
    /// - Parameters:
    ///   - maxDepth: the longest path to look for.
    ///   - direction: `.outgoing` follows relationships forward, `.incoming` backward, `.both`
    ///     either way.
    ///   - types: relationship types to follow; empty follows every type.
    /// - Returns: the path, or `nil` when none exists within `maxDepth`. Among paths of equal length,
    ///   the one through the lowest internal ids (the earliest-created) is returned.
    /// - Throws: `notFound` for an unknown node.
    public func shortestPath(
        from start: String, to end: String, maxDepth: Int = 6, direction: GraphDirection = .both, types: [String] = []
    ) throws -> GraphPath? {
        try read { session in
            let source = try session.requireNodeID(start)
            let target = try session.requireNodeID(end)
            if source == target {
                return GraphPath(nodes: [try session.publicNode(session.storedNode(source)!)], relationships: [])
            }
            guard let typeIDs = try typeIDs(types, session) else { return nil }
            var parent: [UInt64: (node: UInt64, relationship: UInt64)] = [:]
            var frontier: [UInt64] = [source]
            var found = false
            var depth = 0
            while !frontier.isEmpty && depth < maxDepth && !found {
                depth += 1
                var next: [UInt64] = []
                for node in frontier where !found {
                    try session.forEachRelationship(of: node, direction: direction, types: typeIDs) { relationship, _, from, to in
                        let other = from == node ? to : from
                        if other != source && parent[other] == nil {
                            parent[other] = (node, relationship)
                            next.append(other)
                            if other == target { found = true }
                        }
                        return !found
                    }
                }
                frontier = next
            }
            guard found else { return nil }
            var nodes: [UInt64] = [target]
            var relationships: [UInt64] = []
            var cursor = target
            while cursor != source, let step = parent[cursor] {
                relationships.append(step.relationship)
                nodes.append(step.node)
                cursor = step.node
            }
            return GraphPath(
                nodes: try nodes.reversed().map { try session.publicNode(session.storedNode($0)!) },
                relationships: try relationships.reversed().map { try session.publicRelationship(session.storedRelationship($0)!) })
        }
    }

    // MARK: Property indexes

    /// Declares an index on `property` of nodes with `label`, and fills it from the existing nodes.
    /// - Parameter normalized: index strings case-, diacritics- and whitespace-insensitively, for
    ///   name lookups; exact lookups still compare exact values.
    public func createIndex(label: String, property: String, normalized: Bool = false) throws {
        try write { session in try session.declareIndex(label: label, property: property, normalized: normalized) }
    }

    /// Nodes with `label` whose `property` equals `value` (numbers compare as numbers: `1 == 1.0`).
    ///
    /// Uses the property index when one is declared, and scans the label otherwise.
    /// - Parameter normalized: match strings as the normalized index does (needs a normalized index
    ///   to be fast).
    public func nodes(label: String, property: String, equalTo value: PropertyValue, normalized: Bool = false) throws -> [GraphNode] {
        try read { session in
            try session.nodes(label: label, property: property, equalTo: value, normalized: normalized).map {
                try session.publicNode(session.storedNode($0)!)
            }
        }
    }

    /// Nodes with `label` whose `property` lies in `range` (numbers with numbers, strings with
    /// strings). Uses the property index when one is declared.
    public func nodes(label: String, property: String, in range: ClosedRange<Double>) throws -> [GraphNode] {
        try read { session in
            try session.nodes(
                label: label, property: property, lower: (.double(range.lowerBound), true),
                upper: (.double(range.upperBound), true)
            ).map { try session.publicNode(session.storedNode($0)!) }
        }
    }
}

extension GraphSession {
    /// Whether a value matches `probe` for an equality lookup.
    static func matches(_ value: PropertyValue, _ probe: PropertyValue, normalized: Bool) -> Bool {
        switch (value, probe) {
        case (.string(let a), .string(let b)): return normalized ? normalize(a) == normalize(b) : a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return value.doubleValue == probe.doubleValue
        default: return value == probe
        }
    }

    /// Node ids with `label` whose `property` equals `value`, through the index when declared.
    func nodes(label: String, property: String, equalTo value: PropertyValue, normalized: Bool) throws -> [UInt64] {
        guard let labelID = try symbol(.label, label, create: false), let keyID = try symbol(.propertyKey, property, create: false)
        else { return [] }
        var result: [UInt64] = []
        let check: (UInt64) throws -> Bool = { node in
            let stored = try self.withNodeRecord(node) { try $0.flatMap { try StoredNode.property(keyID, in: $0) } }
            if let stored, Self.matches(stored, value, normalized: normalized) { result.append(node) }
            return true
        }
        if let definition = try indexDefinition(label: labelID, key: keyID), definition.normalized || !normalized,
            let element = Self.indexElement(value, normalized: definition.normalized)
        {
            try indexCandidates(definition, lower: (element, true), upper: (element, true), check)
        } else {
            try forEachNode(label: labelID, check)
        }
        return result
    }

    /// Node ids with `label` whose `property` lies between the bounds (of one kind of value).
    func nodes(
        label: String, property: String, lower: (KeyElement, inclusive: Bool)?, upper: (KeyElement, inclusive: Bool)?
    ) throws -> [UInt64] {
        guard let labelID = try symbol(.label, label, create: false), let keyID = try symbol(.propertyKey, property, create: false)
        else { return [] }
        var result: [UInt64] = []
        let check: (UInt64) throws -> Bool = { node in
            let stored = try self.withNodeRecord(node) { try $0.flatMap { try StoredNode.property(keyID, in: $0) } }
            if let stored, let element = Self.indexElement(stored, normalized: false),
                Self.inRange(element, lower: lower, upper: upper)
            {
                result.append(node)
            }
            return true
        }
        if let definition = try indexDefinition(label: labelID, key: keyID), !definition.normalized {
            try indexCandidates(definition, lower: lower, upper: upper, check)
        } else {
            try forEachNode(label: labelID, check)
        }
        return result
    }

    static func inRange(_ element: KeyElement, lower: (KeyElement, inclusive: Bool)?, upper: (KeyElement, inclusive: Bool)?) -> Bool {
        let kind = (lower ?? upper)?.0.tag
        guard kind == nil || element.tag == kind else { return false }
        if let lower, element < lower.0 || (!lower.inclusive && element == lower.0) { return false }
        if let upper, upper.0 < element || (!upper.inclusive && element == upper.0) { return false }
        return true
    }
}

extension Graph {
    /// The number of distinct nodes at the end of walks of exactly `hops` relationships from a node
    /// (as Cypher's `MATCH (a)-[*hops]->(c) RETURN count(DISTINCT c)`, where a walk may revisit
    /// nodes), without reading any record: adjacency keys only.
    /// - Throws: `notFound` for an unknown node, `invalidArgument` for a negative count.
    public func countNodes(atHops hops: Int, from id: String, direction: GraphDirection = .outgoing, types: [String] = [])
        throws -> Int
    {
        guard hops >= 0 else { throw EngramError(.invalidArgument, "hops must be 0 or more, not \(hops)") }
        return try read { session in
            var frontier: Set<UInt64> = [try session.requireNodeID(id)]
            guard let typeIDs = try typeIDs(types, session) else { return hops == 0 ? 1 : 0 }
            for _ in 0..<hops {
                var next: Set<UInt64> = []
                for node in frontier {
                    try session.forEachRelationship(of: node, direction: direction, types: typeIDs) { _, _, start, end in
                        next.insert(start == node ? end : start)
                        return true
                    }
                }
                frontier = next
            }
            return frontier.count
        }
    }
}
