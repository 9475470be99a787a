package import EngramCore

/// The compact internal id of a node in a ``CypherGraph``.
package typealias NodeID = UInt64
/// The compact internal id of a relationship in a ``CypherGraph``.
package typealias RelationshipID = UInt64

/// Which relationships of a node to visit.
package enum ExpandDirection: String, Sendable {
    /// Relationships that start at the node.
    case outgoing
    /// Relationships that end at the node.
    case incoming
    /// Both; a self-loop is reported once.
    case both
}

/// A relationship as adjacency stores it: id, type and endpoints. Properties are read separately,
/// only when the query needs them. Two records are equal when their ids are.
package struct RelationshipRecord: Sendable, Hashable {
    package var id: RelationshipID
    package var type: String
    package var start: NodeID
    package var end: NodeID

    package init(id: RelationshipID, type: String, start: NodeID, end: NodeID) {
        self.id = id
        self.type = type
        self.start = start
        self.end = end
    }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }
    package func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// The endpoint that is not `node` (or `node` itself for a self-loop).
    package func otherEnd(from node: NodeID) -> NodeID { start == node ? end : start }
}

/// A bound of a property range lookup.
package struct PropertyBound: Sendable {
    package var value: PropertyValue
    package var inclusive: Bool

    package init(value: PropertyValue, inclusive: Bool) {
        self.value = value
        self.inclusive = inclusive
    }
}

/// The read-only graph the Cypher executor runs against.
///
/// One value of a conforming type is one consistent snapshot of one tenant's graph — over LMDB, one
/// read transaction. The executor is single-threaded and finishes with the graph before the query
/// returns, so an implementation may hold cursors inside its iterators; it must not outlive the
/// transaction. Every method sees only the tenant the graph was opened for.
///
/// The protocol is deliberately small: access paths (scan, id, index), counts for planning,
/// expansion over adjacency, and lazy reads of labels and properties. It is class-bound: a graph
/// holds a transaction and caches, and a call through a class existential (per property read, per
/// row) needs no boxed copy.
package protocol CypherGraph: AnyObject {
    /// The number of nodes with `label`, or of all nodes when `label` is `nil`. Used for planning,
    /// and exact within the snapshot: when a label's count equals the total, the planner skips
    /// checking that label. Nodes a graph hides from queries (expired records) are counted too.
    func nodeCount(label: String?) throws -> Int
    /// The number of relationships of `type`, or of all relationships when `type` is `nil`. An
    /// estimate is acceptable. Both counts are read while planning every query, so they must be
    /// cheap (a stored counter, not a scan).
    func relationshipCount(type: String?) throws -> Int
    /// The exact number of nodes with `label` (all nodes when `nil`) that the query can see, for
    /// `count(n)` answered without a scan. The default is ``nodeCount(label:)``; a graph that hides
    /// some nodes (expired records) counts what remains.
    func countNodes(label: String?) throws -> Int
    /// The number of relationships ``relationships(of:direction:types:)`` would yield, or `nil` when
    /// the graph cannot tell without walking them. For `count(*)` over one hop answered from a
    /// stored degree; the default is `nil`.
    func degree(of node: NodeID, direction: ExpandDirection, types: [String]) throws -> Int?

    /// The ids of all nodes with `label` (all nodes when `nil`), in id order.
    func nodes(label: String?) throws -> any IteratorProtocol<NodeID>
    /// Calls `body` with the id of each node of ``nodes(label:)``, in the same order: a whole scan
    /// without an iterator call per node. The default iterates ``nodes(label:)``.
    func forEachNode(label: String?, _ body: (NodeID) throws -> Void) throws
    /// Whether a node with this internal id exists.
    func nodeExists(_ node: NodeID) throws -> Bool
    /// The internal id of the node with this public id.
    func node(publicID: String) throws -> NodeID?
    /// The public (string) id of a node.
    func publicID(ofNode node: NodeID) throws -> String
    /// The labels of a node.
    func labels(of node: NodeID) throws -> [String]
    /// Whether a node has a label.
    func node(_ node: NodeID, hasLabel label: String) throws -> Bool
    /// One property of a node, or `nil` when absent.
    func property(_ key: String, ofNode node: NodeID) throws -> PropertyValue?
    /// All properties of a node.
    func properties(ofNode node: NodeID) throws -> [String: PropertyValue]

    /// The relationships of `node` in `direction` whose type is in `types` (any type when empty).
    func relationships(of node: NodeID, direction: ExpandDirection, types: [String]) throws
        -> any IteratorProtocol<RelationshipRecord>
    /// A reusable walker over the relationships of one node after another in `direction` whose type
    /// is in `types` (any type when empty), yielding the same relationships as
    /// ``relationships(of:direction:types:)`` as bare ids, for counting without building records.
    /// A graph may give each walker its own cursor; walkers may be nested (one per hop).
    func neighbourWalker(direction: ExpandDirection, types: [String]) throws -> any NeighbourWalker
    /// The relationship with this internal id.
    func relationship(_ id: RelationshipID) throws -> RelationshipRecord?
    /// The public (string) id of a relationship.
    func publicID(ofRelationship id: RelationshipID) throws -> String
    /// One property of a relationship, or `nil` when absent.
    func property(_ key: String, ofRelationship id: RelationshipID) throws -> PropertyValue?
    /// All properties of a relationship.
    func properties(ofRelationship id: RelationshipID) throws -> [String: PropertyValue]

    /// A node's public id, labels and properties at once, for results. Implement it when one record
    /// read yields all three; the default makes three calls.
    func nodeSnapshot(_ node: NodeID) throws -> (
        publicID: String, labels: [String], properties: [String: PropertyValue]
    )

    /// Whether nodes with `label` are indexed by `property` (so that the lookups below are cheap).
    func isIndexed(label: String, property: String) -> Bool
    /// Nodes with `label` whose `property` equals `value`. Only called when ``isIndexed(label:property:)``.
    func nodes(label: String, property: String, equalTo value: PropertyValue) throws -> any IteratorProtocol<NodeID>
    /// Nodes with `label` whose `property` lies between the bounds (`nil` = unbounded), comparing
    /// only values of the bounds' type. Only called when ``isIndexed(label:property:)``.
    func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?) throws
        -> any IteratorProtocol<NodeID>

    /// A reader of property `key`, made once per compiled property expression and used for every
    /// row. The default reads through ``property(_:ofNode:)`` and ``property(_:ofRelationship:)``.
    func propertyReader(_ key: String) -> any PropertyReader
}

/// Visits the relationships of a node as `(other end, relationship id)` pairs, or as records; made
/// by ``CypherGraph/neighbourWalker(direction:types:)``.
package protocol NeighbourWalker {
    /// Calls `body` once per relationship of `node`, in the order of
    /// ``CypherGraph/relationships(of:direction:types:)``.
    func forEach(of node: NodeID, _ body: (NodeID, RelationshipID) throws -> Void) throws
    /// Calls `body` with the record of each relationship of `node`, in the same order: what an
    /// expansion binds, without an iterator per node or a call through it per relationship.
    func forEachRelationship(of node: NodeID, _ body: (RelationshipRecord) throws -> Void) throws
}

/// The walker of graphs without a faster one: it iterates ``CypherGraph/relationships(of:direction:types:)``.
package struct IteratingNeighbourWalker: NeighbourWalker {
    let graph: any CypherGraph
    let direction: ExpandDirection
    let types: [String]

    package func forEach(of node: NodeID, _ body: (NodeID, RelationshipID) throws -> Void) throws {
        var edges = try graph.relationships(of: node, direction: direction, types: types)
        while let edge = edges.next() { try body(edge.otherEnd(from: node), edge.id) }
    }

    package func forEachRelationship(of node: NodeID, _ body: (RelationshipRecord) throws -> Void) throws {
        var edges = try graph.relationships(of: node, direction: direction, types: types)
        while let edge = edges.next() { try body(edge) }
    }
}

extension CypherGraph {
    /// An ``IteratingNeighbourWalker``.
    package func neighbourWalker(direction: ExpandDirection, types: [String]) throws -> any NeighbourWalker {
        IteratingNeighbourWalker(graph: self, direction: direction, types: types)
    }

    /// A reader that calls ``property(_:ofNode:)`` and ``property(_:ofRelationship:)``.
    package func propertyReader(_ key: String) -> any PropertyReader { GraphPropertyReader(key: key, graph: self) }

    /// Iterates ``nodes(label:)``.
    package func forEachNode(label: String?, _ body: (NodeID) throws -> Void) throws {
        var nodes = try nodes(label: label)
        while let node = nodes.next() { try body(node) }
    }

    /// ``nodeCount(label:)``: every stored node is visible.
    package func countNodes(label: String?) throws -> Int { try nodeCount(label: label) }

    /// `nil`: the relationships are counted by walking them.
    package func degree(of node: NodeID, direction: ExpandDirection, types: [String]) throws -> Int? { nil }

    /// Three calls: ``publicID(ofNode:)``, ``labels(of:)``, ``properties(ofNode:)``.
    package func nodeSnapshot(_ node: NodeID) throws
        -> (publicID: String, labels: [String], properties: [String: PropertyValue])
    {
        (try publicID(ofNode: node), try labels(of: node), try properties(ofNode: node))
    }
}

/// A graph that test fixtures can write to. Only ``CypherEngine/executeFixture(_:)`` uses it;
/// queries never write.
package protocol CypherWritableGraph: CypherGraph {
    /// Adds a node; a `null` property value means "no property".
    func createNode(labels: [String], properties: [String: PropertyValue]) -> NodeID
    /// Adds a relationship.
    func createRelationship(type: String, from start: NodeID, to end: NodeID, properties: [String: PropertyValue])
        -> RelationshipRecord
    /// Removes a relationship.
    func deleteRelationship(_ id: RelationshipID)
}
