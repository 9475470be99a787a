public import EngramCore

/// A ``CypherGraph`` held in memory: the reference implementation, used by the tests and the TCK
/// runner. Build it with ``addNode(labels:properties:publicID:)`` and
/// ``addRelationship(type:from:to:properties:publicID:)``; index properties with
/// ``addIndex(label:property:)``.
package final class InMemoryGraph: CypherWritableGraph, @unchecked Sendable {
    private struct Node {
        var publicID: String
        var labels: [String]
        var properties: [String: PropertyValue]
        var outgoing: [RelationshipID] = []
        var incoming: [RelationshipID] = []
    }

    private struct Relationship {
        var record: RelationshipRecord
        var publicID: String
        var properties: [String: PropertyValue]
    }

    private var nodeTable: [Node] = []
    private var relationshipTable: [Relationship] = []
    private var publicIDs: [String: NodeID] = [:]
    private var indexes: [String: [Value: [NodeID]]] = [:]
    private var labelMembers: [String: [NodeID]] = [:]
    private var deletedRelationships: Set<RelationshipID> = []

    package init() {}

    /// The number of nodes.
    package var nodeCountTotal: Int { nodeTable.count }
    /// The number of relationships.
    package var relationshipCountTotal: Int { relationshipTable.count - deletedRelationships.count }
    /// The number of properties over all nodes and relationships.
    package var propertyCountTotal: Int {
        nodeTable.reduce(0) { $0 + $1.properties.count }
            + relationshipTable.filter { !deletedRelationships.contains($0.record.id) }
            .reduce(0) { $0 + $1.properties.count }
    }

    /// Adds a node and returns its internal id. A `null` property value means "no property".
    @discardableResult
    package func addNode(labels: [String] = [], properties: [String: PropertyValue] = [:], publicID: String? = nil)
        -> NodeID
    {
        let id = NodeID(nodeTable.count)
        let name = publicID ?? "n\(id)"
        var unique: [String] = []
        for label in labels where !unique.contains(label) { unique.append(label) }
        let stored = properties.filter { !$0.value.isNull }
        nodeTable.append(Node(publicID: name, labels: unique, properties: stored))
        publicIDs[name] = id
        for label in unique {
            labelMembers[label, default: []].append(id)
            for (key, value) in stored where indexes[label + "\u{0}" + key] != nil {
                indexes[label + "\u{0}" + key]![Value(value).groupingKey, default: []].append(id)
            }
        }
        return id
    }

    /// Adds a relationship and returns its internal id.
    @discardableResult
    package func addRelationship(
        type: String, from start: NodeID, to end: NodeID, properties: [String: PropertyValue] = [:],
        publicID: String? = nil
    ) -> RelationshipID {
        let id = RelationshipID(relationshipTable.count)
        relationshipTable.append(
            Relationship(
                record: RelationshipRecord(id: id, type: type, start: start, end: end),
                publicID: publicID ?? "r\(id)", properties: properties.filter { !$0.value.isNull }))
        nodeTable[Int(start)].outgoing.append(id)
        nodeTable[Int(end)].incoming.append(id)
        return id
    }

    /// Declares `(label, property)` indexed, so that the planner may use index lookups.
    package func addIndex(label: String, property: String) {
        var entries: [Value: [NodeID]] = [:]
        for id in labelMembers[label] ?? [] {
            if let value = nodeTable[Int(id)].properties[property] {
                entries[Value(value).groupingKey, default: []].append(id)
            }
        }
        indexes[label + "\u{0}" + property] = entries
    }

    package func nodeCount(label: String?) -> Int {
        guard let label else { return nodeTable.count }
        return labelMembers[label]?.count ?? 0
    }

    package func relationshipCount(type: String?) -> Int {
        return relationshipTable.reduce(0) { count, relationship in
            let matches =
                (type == nil || relationship.record.type == type)
                && !deletedRelationships.contains(relationship.record.id)
            return count + (matches ? 1 : 0)
        }
    }

    package func nodes(label: String?) -> any IteratorProtocol<NodeID> {
        guard let label else { return (0..<NodeID(nodeTable.count)).makeIterator() }
        return (labelMembers[label] ?? []).makeIterator()
    }

    package func nodeExists(_ node: NodeID) -> Bool { node < NodeID(nodeTable.count) }
    package func node(publicID: String) -> NodeID? { publicIDs[publicID] }
    package func publicID(ofNode node: NodeID) -> String { nodeTable[Int(node)].publicID }
    package func labels(of node: NodeID) -> [String] { nodeTable[Int(node)].labels }
    package func node(_ node: NodeID, hasLabel label: String) -> Bool { nodeTable[Int(node)].labels.contains(label) }
    package func property(_ key: String, ofNode node: NodeID) -> PropertyValue? { nodeTable[Int(node)].properties[key] }
    package func properties(ofNode node: NodeID) -> [String: PropertyValue] { nodeTable[Int(node)].properties }

    package func relationships(of node: NodeID, direction: ExpandDirection, types: [String])
        -> any IteratorProtocol<RelationshipRecord>
    {
        let entry = nodeTable[Int(node)]
        var ids: [RelationshipID] = []
        switch direction {
        case .outgoing: ids = entry.outgoing
        case .incoming: ids = entry.incoming
        case .both:
            ids = entry.outgoing
            for id in entry.incoming where relationshipTable[Int(id)].record.start != node { ids.append(id) }
        }
        let records = ids.map { relationshipTable[Int($0)].record }.filter { types.isEmpty || types.contains($0.type) }
        return records.makeIterator()
    }

    package func relationship(_ id: RelationshipID) -> RelationshipRecord? {
        guard id < RelationshipID(relationshipTable.count), !deletedRelationships.contains(id) else { return nil }
        return relationshipTable[Int(id)].record
    }

    package func createNode(labels: [String], properties: [String: PropertyValue]) -> NodeID {
        addNode(labels: labels, properties: properties)
    }

    package func createRelationship(
        type: String, from start: NodeID, to end: NodeID,
        properties: [String: PropertyValue]
    ) -> RelationshipRecord {
        relationshipTable[Int(addRelationship(type: type, from: start, to: end, properties: properties))].record
    }

    package func deleteRelationship(_ id: RelationshipID) {
        guard id < RelationshipID(relationshipTable.count), deletedRelationships.insert(id).inserted else { return }
        let record = relationshipTable[Int(id)].record
        nodeTable[Int(record.start)].outgoing.removeAll { $0 == id }
        nodeTable[Int(record.end)].incoming.removeAll { $0 == id }
    }

    package func publicID(ofRelationship id: RelationshipID) -> String { relationshipTable[Int(id)].publicID }
    package func property(_ key: String, ofRelationship id: RelationshipID) -> PropertyValue? {
        relationshipTable[Int(id)].properties[key]
    }
    package func properties(ofRelationship id: RelationshipID) -> [String: PropertyValue] {
        relationshipTable[Int(id)].properties
    }

    package func isIndexed(label: String, property: String) -> Bool {
        indexes[label + "\u{0}" + property] != nil
    }

    package func nodes(label: String, property: String, equalTo value: PropertyValue) -> any IteratorProtocol<NodeID> {
        (indexes[label + "\u{0}" + property]?[Value(value).groupingKey] ?? []).makeIterator()
    }

    package func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?)
        -> any IteratorProtocol<NodeID>
    {
        let matches = (labelMembers[label] ?? []).filter { id in
            guard let found = nodeTable[Int(id)].properties[property] else { return false }
            let value = Value(found)
            if let lower {
                guard let order = value.compare(Value(lower.value)) else { return false }
                if order < 0 || (order == 0 && !lower.inclusive) { return false }
            }
            if let upper {
                guard let order = value.compare(Value(upper.value)) else { return false }
                if order > 0 || (order == 0 && !upper.inclusive) { return false }
            }
            return true
        }
        return matches.makeIterator()
    }
}
