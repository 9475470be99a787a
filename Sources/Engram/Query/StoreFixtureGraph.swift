import EngramCore
import EngramCypher
import EngramStorage

/// A writable ``CypherGraph`` over one write transaction: it lets the TCK runner build a scenario's
/// graph in a store with the scenario's own `CREATE` statements (``CypherEngine/executeFixture(_:)``),
/// and ``EngramStore/importCypher(_:tenant:batchSize:progress:)`` load a `CREATE` script. The query
/// API never uses it.
final class StoreFixtureGraph: CypherWritableGraph {
    private let reader: StoreCypherGraph
    private let session: GraphSession
    /// The first storage error met by a write (the protocol's writes cannot throw).
    private(set) var failure: (any Error)?

    init(session: GraphSession) {
        self.session = session
        reader = StoreCypherGraph(session: session)
    }

    func createNode(labels: [String], properties: [String: PropertyValue]) -> NodeID {
        do {
            return try session.createNode(publicID: nil, labels: labels, properties: properties)
        } catch {
            if failure == nil { failure = error }
            return .max
        }
    }

    func createRelationship(type: String, from start: NodeID, to end: NodeID, properties: [String: PropertyValue])
        -> RelationshipRecord
    {
        do {
            let id = try session.createRelationship(publicID: nil, type: type, start: start, end: end, properties: properties)
            return RelationshipRecord(id: id, type: type, start: start, end: end)
        } catch {
            if failure == nil { failure = error }
            return RelationshipRecord(id: .max, type: type, start: start, end: end)
        }
    }

    func deleteRelationship(_ id: RelationshipID) {
        do {
            try session.deleteRelationship(id)
        } catch {
            if failure == nil { failure = error }
        }
    }

    func nodeCount(label: String?) throws -> Int { try reader.nodeCount(label: label) }
    func relationshipCount(type: String?) throws -> Int { try reader.relationshipCount(type: type) }
    func nodes(label: String?) throws -> any IteratorProtocol<NodeID> {
        // Materialised: a fixture may create nodes while it scans.
        var all: [NodeID] = []
        var iterator = try reader.nodes(label: label)
        while let node = iterator.next() { all.append(node) }
        return all.makeIterator()
    }
    func nodeExists(_ node: NodeID) throws -> Bool { try reader.nodeExists(node) }
    func node(publicID: String) throws -> NodeID? { try reader.node(publicID: publicID) }
    func publicID(ofNode node: NodeID) throws -> String { try reader.publicID(ofNode: node) }
    func labels(of node: NodeID) throws -> [String] { try reader.labels(of: node) }
    func node(_ node: NodeID, hasLabel label: String) throws -> Bool { try reader.node(node, hasLabel: label) }
    func property(_ key: String, ofNode node: NodeID) throws -> PropertyValue? { try reader.property(key, ofNode: node) }
    func properties(ofNode node: NodeID) throws -> [String: PropertyValue] { try reader.properties(ofNode: node) }
    func relationships(of node: NodeID, direction: ExpandDirection, types: [String]) throws
        -> any IteratorProtocol<RelationshipRecord>
    {
        var all: [RelationshipRecord] = []
        var iterator = try reader.relationships(of: node, direction: direction, types: types)
        while let record = iterator.next() { all.append(record) }
        return all.makeIterator()
    }
    func relationship(_ id: RelationshipID) throws -> RelationshipRecord? { try reader.relationship(id) }
    func publicID(ofRelationship id: RelationshipID) throws -> String { try reader.publicID(ofRelationship: id) }
    func property(_ key: String, ofRelationship id: RelationshipID) throws -> PropertyValue? {
        try reader.property(key, ofRelationship: id)
    }
    func properties(ofRelationship id: RelationshipID) throws -> [String: PropertyValue] {
        try reader.properties(ofRelationship: id)
    }
    func isIndexed(label: String, property: String) -> Bool { false }
    func nodes(label: String, property: String, equalTo value: PropertyValue) throws -> any IteratorProtocol<NodeID> {
        try reader.nodes(label: label, property: property, equalTo: value)
    }
    func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?) throws
        -> any IteratorProtocol<NodeID>
    {
        try reader.nodes(label: label, property: property, from: lower, to: upper)
    }
}

extension EngramStore {
    /// Runs a fixture statement (`CREATE …`, as the openCypher TCK's setup steps use) against
    /// `tenant`'s graph in one write transaction. For tests only; queries stay read-only.
    package func _runFixture(_ statement: String, tenant: String = "default") throws {
        try writeGraph(tenant: tenant) { session in try Self.runWriting(statement, in: session) }
    }

    /// Runs one statement that may `CREATE` (and `DELETE` relationships) inside `session`'s write
    /// transaction: ``importCypher(_:tenant:batchSize:progress:)`` and the TCK's fixtures.
    static func runWriting(_ statement: String, in session: GraphSession) throws {
        let graph = StoreFixtureGraph(session: session)
        do {
            try CypherEngine(graph: graph).executeFixture(statement)
        } catch {
            throw graph.failure ?? error
        }
        if let failure = graph.failure { throw failure }
    }
}
