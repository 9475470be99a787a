import EngramCore
import EngramCypher
import EngramStorage

/// A node of the property graph: a stable public id, labels and properties.
///
/// The same value type that Cypher results carry, so nodes read through the graph API and through
/// ``EngramStore/query(_:parameters:tenant:limits:cancellation:)`` compare equal.
public typealias GraphNode = CypherNode

/// A directed, typed relationship between two nodes (`start` → `end`, by public id).
public typealias GraphRelationship = CypherRelationship

/// A walk through the graph: `nodes[i]` and `nodes[i + 1]` are joined by `relationships[i]`.
public typealias GraphPath = CypherPath

extension CypherRelationship {
    /// The public id of the start node (the same as ``CypherRelationship/start``).
    public var startID: String { start }
    /// The public id of the end node (the same as ``CypherRelationship/end``).
    public var endID: String { end }
}

extension CypherPath {
    /// The number of relationships.
    public var length: Int { relationships.count }
}

/// A set of nodes and the relationships among them, for display and export.
public struct Subgraph: Sendable, Hashable {
    /// The nodes, in the order they were reached.
    public var nodes: [GraphNode]
    /// The relationships, in the order they were reached.
    public var relationships: [GraphRelationship]
}

/// A relationship of a node together with the node at its other end.
public struct Neighbor: Sendable, Hashable {
    /// The relationship.
    public var relationship: GraphRelationship
    /// The node at the other end.
    public var node: GraphNode
}

/// One tenant's property graph in a store.
///
/// Every method runs in its own transaction (reads in a read transaction, writes in the write
/// transaction), and sees only this tenant's nodes and relationships: the tenant is the first
/// component of every key the graph reads or writes.
///
/// ```swift
/// let graph = store.graph(tenant: "acme")
/// let ada = try graph.createNode(labels: ["Person"], properties: ["name": "Ada"])
/// let org = try graph.createNode(labels: ["Organization"], properties: ["name": "Analytical Engines"])
/// try graph.createRelationship(from: ada.id, to: org.id, type: "WORKS_AT")
/// let employers = try graph.neighbors(of: ada.id, direction: .outgoing, types: ["WORKS_AT"])
/// ```
///
/// ## Topics
/// ### Nodes
/// - ``createNode(id:labels:properties:)``
/// - ``node(id:)``
/// - ``updateNode(id:setting:removing:addingLabels:removingLabels:)``
/// - ``deleteNode(id:detach:)``
/// - ``nodes(label:limit:offset:)``
/// ### Relationships
/// - ``createRelationship(id:from:to:type:properties:)``
/// - ``relationship(id:)``
/// - ``updateRelationship(id:setting:removing:)``
/// - ``deleteRelationship(id:)``
/// - ``relationships(from:to:types:)``
/// ### Traversal
/// - ``neighbors(of:direction:types:limit:)``
/// - ``degree(of:direction:types:)``
/// - ``expand(from:depth:direction:types:limit:)``
/// - ``shortestPath(from:to:maxDepth:direction:types:)``
/// ### Indexes and statistics
/// - ``createIndex(label:property:normalized:)``
/// - ``nodes(label:property:equalTo:)``
/// - ``nodes(label:property:in:)``
/// - ``statistics()``
public struct Graph: Sendable {
    /// The tenant this graph belongs to.
    public let tenant: String
    let store: EngramStore

    init(store: EngramStore, tenant: String) {
        self.store = store
        self.tenant = tenant
    }

    func read<T>(_ body: (GraphSession) throws -> T) throws -> T {
        try store.readGraph(tenant: tenant, body)
    }

    func write<T>(_ body: (GraphSession) throws -> T) throws -> T {
        try store.writeGraph(tenant: tenant, body)
    }

    // MARK: Nodes

    /// Creates a node.
    /// - Parameters:
    ///   - id: the node's public id; `nil` generates one that sorts by creation time.
    ///   - labels: the node's labels; repeats are dropped.
    ///   - properties: the node's properties; `null` values are dropped.
    /// - Returns: the node as stored.
    /// - Throws: `alreadyExists` when `id` is taken in this tenant; `invalidName` for an empty label
    ///   or property key.
    @discardableResult
    public func createNode(id: String? = nil, labels: [String] = [], properties: [String: PropertyValue] = [:]) throws -> GraphNode {
        try write { session in
            let node = try session.createNode(publicID: id, labels: labels, properties: properties)
            return try session.publicNode(session.storedNode(node)!)
        }
    }

    /// The node with public id `id`, or `nil`.
    public func node(id: String) throws -> GraphNode? {
        try read { session in
            guard let node = try session.nodeID(id), let stored = try session.storedNode(node) else { return nil }
            return try session.publicNode(stored)
        }
    }

    /// Changes a node's properties and labels in one transaction.
    /// - Parameters:
    ///   - setting: properties to set; a `null` value removes the property.
    ///   - removing: property keys to remove.
    /// - Returns: the node after the change.
    /// - Throws: `notFound` for an unknown id.
    @discardableResult
    public func updateNode(
        id: String, setting: [String: PropertyValue] = [:], removing: [String] = [], addingLabels: [String] = [],
        removingLabels: [String] = []
    ) throws -> GraphNode {
        try write { session in
            let node = try session.requireNodeID(id)
            var stored = try session.storedNode(node)!
            var properties = try session.properties(stored.properties)
            for key in removing { properties[key] = nil }
            for (key, value) in setting { properties[key] = value.isNull ? nil : value }
            stored.properties = try session.storedProperties(properties)
            for label in removingLabels {
                if let labelID = try session.symbol(.label, label, create: false) { stored.labels.removeAll { $0 == labelID } }
            }
            for label in addingLabels {
                let labelID = try session.symbol(.label, label, create: true)!
                if !stored.labels.contains(labelID) { stored.labels.append(labelID) }
            }
            try session.replaceNode(node, with: stored)
            return try session.publicNode(stored)
        }
    }

    /// Deletes a node.
    /// - Parameter detach: also delete the node's relationships; without it, a node that still has
    ///   relationships is not deleted and `nodeHasRelationships` is thrown.
    /// - Throws: `notFound` for an unknown id.
    public func deleteNode(id: String, detach: Bool = false) throws {
        try write { session in try session.deleteNode(try session.requireNodeID(id), detach: detach) }
    }

    /// Nodes with `label` (every node when `nil`), in internal id order — creation order.
    /// - Complexity: O(log n + offset + limit): a label index scan.
    public func nodes(label: String? = nil, limit: Int = 100, offset: Int = 0) throws -> [GraphNode] {
        try read { session in
            var labelID: UInt32?
            if let label {
                guard let id = try session.symbol(.label, label, create: false) else { return [] }
                labelID = id
            }
            var result: [GraphNode] = []
            var skipped = 0
            try session.forEachNode(label: labelID) { node in
                if skipped < offset {
                    skipped += 1
                    return true
                }
                if let stored = try session.storedNode(node) { result.append(try session.publicNode(stored)) }
                return result.count < limit
            }
            return result
        }
    }

    // MARK: Relationships

    /// Creates a relationship from `start` to `end`.
    /// - Throws: `notFound` when either node is unknown; `alreadyExists` when `id` is taken.
    @discardableResult
    public func createRelationship(
        id: String? = nil, from start: String, to end: String, type: String, properties: [String: PropertyValue] = [:]
    ) throws -> GraphRelationship {
        try write { session in
            let relationship = try session.createRelationship(
                publicID: id, type: type, start: try session.requireNodeID(start), end: try session.requireNodeID(end),
                properties: properties)
            return try session.publicRelationship(session.storedRelationship(relationship)!)
        }
    }

    /// The relationship with public id `id`, or `nil`.
    public func relationship(id: String) throws -> GraphRelationship? {
        try read { session in
            guard let relationship = try session.relationshipID(id), let stored = try session.storedRelationship(relationship)
            else { return nil }
            return try session.publicRelationship(stored)
        }
    }

    /// Changes a relationship's properties; a `null` value removes a property.
    @discardableResult
    public func updateRelationship(id: String, setting: [String: PropertyValue] = [:], removing: [String] = []) throws
        -> GraphRelationship
    {
        try write { session in
            let relationship = try session.requireRelationshipID(id)
            var properties = try session.properties(session.storedRelationship(relationship)!.properties)
            for key in removing { properties[key] = nil }
            for (key, value) in setting { properties[key] = value.isNull ? nil : value }
            try session.replaceRelationship(relationship, properties: try session.storedProperties(properties))
            return try session.publicRelationship(session.storedRelationship(relationship)!)
        }
    }

    /// Deletes a relationship. - Throws: `notFound` for an unknown id.
    public func deleteRelationship(id: String) throws {
        try write { session in try session.deleteRelationship(try session.requireRelationshipID(id)) }
    }

    /// The relationships from `start` to `end` (of `types`, or any type when empty).
    /// - Complexity: one range scan of the pair index.
    public func relationships(from start: String, to end: String, types: [String] = []) throws -> [GraphRelationship] {
        try read { session in
            guard let a = try session.nodeID(start), let b = try session.nodeID(end),
                let typeIDs = try typeIDs(types, session)
            else { return [] }
            var result: [GraphRelationship] = []
            try session.forEachRelationship(from: a, to: b, types: typeIDs) { relationship, _ in
                result.append(try session.publicRelationship(session.storedRelationship(relationship)!))
                return true
            }
            return result
        }
    }

    /// Resolves type names to ids: `nil` for "any type" (empty input), an empty array when none of
    /// the names exists (nothing can match).
    func typeIDs(_ types: [String], _ session: GraphSession) throws -> [UInt32]?? {
        if types.isEmpty { return .some(nil) }
        let ids = try types.compactMap { try session.symbol(.relationshipType, $0, create: false) }
        return ids.isEmpty ? nil : .some(ids)
    }

    // MARK: Statistics

    /// Counts of nodes and relationships, by label and by type; each read in O(1).
    public struct Statistics: Sendable, Hashable {
        /// All nodes of the tenant.
        public var nodes: Int
        /// All relationships of the tenant.
        public var relationships: Int
        /// Nodes per label (labels with no node are left out).
        public var nodesByLabel: [String: Int]
        /// Relationships per type (types with no relationship are left out).
        public var relationshipsByType: [String: Int]
    }

    /// Counts of nodes and relationships, by label and by type.
    public func statistics() throws -> Statistics {
        try read { session in
            var byLabel: [String: Int] = [:]
            var byType: [String: Int] = [:]
            if let tenant = session.tenant {
                try session.txn.scan(in: session.keyspaces.counts, prefix: GraphKey.tenant(tenant)) { key, value in
                    let kind = key[4]
                    let symbol = GraphKey.uint32(key, at: 5)
                    let count = Int(GraphKey.uint64(value, at: 0))
                    if kind == CountKind.label.rawValue { byLabel[try session.name(.label, symbol)] = count }
                    if kind == CountKind.relationshipType.rawValue { byType[try session.name(.relationshipType, symbol)] = count }
                    return true
                }
            }
            return Statistics(
                nodes: try session.count(.allNodes), relationships: try session.count(.allRelationships),
                nodesByLabel: byLabel, relationshipsByType: byType)
        }
    }
}

extension EngramStore {
    /// The property graph of `tenant` (the default tenant is `"default"`).
    public func graph(tenant: String = "default") -> Graph {
        Graph(store: self, tenant: tenant)
    }

    func readGraph<T>(tenant: String, _ body: (GraphSession) throws -> T) throws -> T {
        let (result, learned) = try environment.read { txn in
            let session = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
            return (try body(session), session.learned)
        }
        catalog.absorb(learned)
        return result
    }

    func writeGraph<T>(tenant: String, _ body: (GraphSession) throws -> T) throws -> T {
        let (result, learned) = try environment.write { txn in
            let session = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
            return (try body(session), session.learned)
        }
        catalog.absorb(learned)  // only now: the symbols it created are committed
        return result
    }
}
