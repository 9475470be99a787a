import EngramCore
import EngramCypher
import Testing

/// A graph whose property reads fail, as a storage error would.
private final class FailingGraph: CypherGraph {
    struct StorageFailure: Error {}
    let base: InMemoryGraph

    init(base: InMemoryGraph) { self.base = base }

    func nodeCount(label: String?) throws -> Int { base.nodeCount(label: label) }
    func relationshipCount(type: String?) throws -> Int { base.relationshipCount(type: type) }
    func nodes(label: String?) throws -> any IteratorProtocol<NodeID> { base.nodes(label: label) }
    func nodeExists(_ node: NodeID) throws -> Bool { base.nodeExists(node) }
    func node(publicID: String) throws -> NodeID? { base.node(publicID: publicID) }
    func publicID(ofNode node: NodeID) throws -> String { base.publicID(ofNode: node) }
    func labels(of node: NodeID) throws -> [String] { base.labels(of: node) }
    func node(_ node: NodeID, hasLabel label: String) throws -> Bool { base.node(node, hasLabel: label) }
    func property(_ key: String, ofNode node: NodeID) throws -> PropertyValue? { throw StorageFailure() }
    func properties(ofNode node: NodeID) throws -> [String: PropertyValue] { throw StorageFailure() }
    func relationships(of node: NodeID, direction: ExpandDirection, types: [String]) throws
        -> any IteratorProtocol<RelationshipRecord>
    {
        base.relationships(of: node, direction: direction, types: types)
    }
    func relationship(_ id: RelationshipID) throws -> RelationshipRecord? { base.relationship(id) }
    func publicID(ofRelationship id: RelationshipID) throws -> String { base.publicID(ofRelationship: id) }
    func property(_ key: String, ofRelationship id: RelationshipID) throws -> PropertyValue? {
        base.property(key, ofRelationship: id)
    }
    func properties(ofRelationship id: RelationshipID) throws -> [String: PropertyValue] {
        base.properties(ofRelationship: id)
    }
    func isIndexed(label: String, property: String) -> Bool { false }
    func nodes(label: String, property: String, equalTo value: PropertyValue) throws -> any IteratorProtocol<NodeID> {
        base.nodes(label: label, property: property, equalTo: value)
    }
    func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?) throws
        -> any IteratorProtocol<NodeID>
    {
        base.nodes(label: label, property: property, from: lower, to: upper)
    }
}

@Test("A storage failure under the graph protocol surfaces as graphReadFailed")
func graphReadFailure() {
    let engine = CypherEngine(graph: FailingGraph(base: makeTestGraph()))
    #expect((try? engine.execute("MATCH (p:Person) RETURN p.name AS name")) == nil)
    do {
        _ = try engine.execute("MATCH (p:Person) WHERE p.age > 1 RETURN p")
        Issue.record("no error")
    } catch {
        #expect(error.code == .graphReadFailed)
        #expect(error.message.contains("StorageFailure"))
    }
    // Reads that do not touch properties still work.
    #expect((try? engine.execute("MATCH (p:Person) RETURN count(*) AS n"))?.rows == [[.integer(3)]])
}
