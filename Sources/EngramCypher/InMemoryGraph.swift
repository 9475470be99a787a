package import EngramCore

/// A ``CypherGraph`` held in memory: the reference implementation, used by the tests and the TCK
/// runner. Build it with ``addNode(labels:properties:publicID:)`` and
/// ``addRelationship(type:from:to:properties:publicID:)``; index properties with
/// ``addIndex(label:property:)``.
package final class InMemoryGraph: CypherWritableGraph, @unchecked Sendable {
    // Columns rather than one struct per record, so that reading one field does not copy (and
    // retain) the others.
    private var nodePublicIDs: [String] = []
    private var nodeLabels: [[String]] = []
    private var nodeProperties: [[String: PropertyValue]] = []
    private var outgoing: [[RelationshipID]] = []
    private var incoming: [[RelationshipID]] = []
    private var relationshipRecords: [RelationshipRecord] = []
    private var relationshipPublicIDs: [String] = []
    private var relationshipProperties: [[String: PropertyValue]] = []
    private var publicIDs: [String: NodeID] = [:]
    private var indexes: [String: [Value: [NodeID]]] = [:]
    private var labelMembers: [String: [NodeID]] = [:]
    private var deletedRelationships: Set<RelationshipID> = []
    private var typeCounts: [String: Int] = [:]

    package init() {}

    /// The number of nodes.
    package var nodeCountTotal: Int { nodeLabels.count }
    /// The number of relationships.
    package var relationshipCountTotal: Int { relationshipRecords.count - deletedRelationships.count }
    /// The number of properties over all nodes and relationships.
    package var propertyCountTotal: Int {
        var count = nodeProperties.reduce(0) { $0 + $1.count }
        for (index, properties) in relationshipProperties.enumerated()
        where !deletedRelationships.contains(RelationshipID(index)) {
            count += properties.count
        }
        return count
    }

    private static func indexKey(_ label: String, _ property: String) -> String { label + "\u{0}" + property }

    /// Adds a node and returns its internal id. A `null` property value means "no property".
    @discardableResult
    package func addNode(labels: [String] = [], properties: [String: PropertyValue] = [:], publicID: String? = nil)
        -> NodeID
    {
        let id = NodeID(nodeLabels.count)
        let name = publicID ?? "n\(id)"
        var unique: [String] = []
        for label in labels where !unique.contains(label) { unique.append(label) }
        let stored = properties.filter { !$0.value.isNull }
        nodePublicIDs.append(name)
        nodeLabels.append(unique)
        nodeProperties.append(stored)
        outgoing.append([])
        incoming.append([])
        publicIDs[name] = id
        for label in unique {
            labelMembers[label, default: []].append(id)
            for (key, value) in stored where indexes[Self.indexKey(label, key)] != nil {
                indexes[Self.indexKey(label, key)]![Value(value).groupingKey, default: []].append(id)
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
        let id = RelationshipID(relationshipRecords.count)
        relationshipRecords.append(RelationshipRecord(id: id, type: type, start: start, end: end))
        relationshipPublicIDs.append(publicID ?? "r\(id)")
        relationshipProperties.append(properties.filter { !$0.value.isNull })
        typeCounts[type, default: 0] += 1
        outgoing[Int(start)].append(id)
        incoming[Int(end)].append(id)
        return id
    }

    /// Declares `(label, property)` indexed, so that the planner may use index lookups.
    package func addIndex(label: String, property: String) {
        var entries: [Value: [NodeID]] = [:]
        for id in labelMembers[label] ?? [] {
            if let value = nodeProperties[Int(id)][property] {
                entries[Value(value).groupingKey, default: []].append(id)
            }
        }
        indexes[Self.indexKey(label, property)] = entries
    }

    package func nodeCount(label: String?) -> Int {
        guard let label else { return nodeLabels.count }
        return labelMembers[label]?.count ?? 0
    }

    package func relationshipCount(type: String?) -> Int {
        guard let type else { return relationshipCountTotal }
        return typeCounts[type] ?? 0
    }

    package func nodes(label: String?) -> any IteratorProtocol<NodeID> {
        guard let label else { return (0..<NodeID(nodeLabels.count)).makeIterator() }
        return (labelMembers[label] ?? []).makeIterator()
    }

    package func nodeExists(_ node: NodeID) -> Bool { node < NodeID(nodeLabels.count) }
    package func node(publicID: String) -> NodeID? { publicIDs[publicID] }
    package func publicID(ofNode node: NodeID) -> String { nodePublicIDs[Int(node)] }
    package func labels(of node: NodeID) -> [String] { nodeLabels[Int(node)] }
    package func node(_ node: NodeID, hasLabel label: String) -> Bool { nodeLabels[Int(node)].contains(label) }
    package func property(_ key: String, ofNode node: NodeID) -> PropertyValue? { nodeProperties[Int(node)][key] }
    package func properties(ofNode node: NodeID) -> [String: PropertyValue] { nodeProperties[Int(node)] }

    package func relationships(of node: NodeID, direction: ExpandDirection, types: [String])
        -> any IteratorProtocol<RelationshipRecord>
    {
        var ids: [RelationshipID]
        switch direction {
        case .outgoing: ids = outgoing[Int(node)]
        case .incoming: ids = incoming[Int(node)]
        case .both:
            ids = outgoing[Int(node)]
            for id in incoming[Int(node)] where relationshipRecords[Int(id)].start != node { ids.append(id) }
        }
        var records: [RelationshipRecord] = []
        records.reserveCapacity(ids.count)
        for id in ids {
            let record = relationshipRecords[Int(id)]
            if types.isEmpty || types.contains(record.type) { records.append(record) }
        }
        return records.makeIterator()
    }

    package func relationship(_ id: RelationshipID) -> RelationshipRecord? {
        guard id < RelationshipID(relationshipRecords.count), !deletedRelationships.contains(id) else { return nil }
        return relationshipRecords[Int(id)]
    }

    package func createNode(labels: [String], properties: [String: PropertyValue]) -> NodeID {
        addNode(labels: labels, properties: properties)
    }

    package func createRelationship(
        type: String, from start: NodeID, to end: NodeID,
        properties: [String: PropertyValue]
    ) -> RelationshipRecord {
        relationshipRecords[Int(addRelationship(type: type, from: start, to: end, properties: properties))]
    }

    package func deleteRelationship(_ id: RelationshipID) {
        guard id < RelationshipID(relationshipRecords.count), deletedRelationships.insert(id).inserted else { return }
        let record = relationshipRecords[Int(id)]
        typeCounts[record.type, default: 1] -= 1
        outgoing[Int(record.start)].removeAll { $0 == id }
        incoming[Int(record.end)].removeAll { $0 == id }
    }

    package func publicID(ofRelationship id: RelationshipID) -> String { relationshipPublicIDs[Int(id)] }

    package func property(_ key: String, ofRelationship id: RelationshipID) -> PropertyValue? {
        relationshipProperties[Int(id)][key]
    }

    package func properties(ofRelationship id: RelationshipID) -> [String: PropertyValue] {
        relationshipProperties[Int(id)]
    }

    package func isIndexed(label: String, property: String) -> Bool {
        indexes[Self.indexKey(label, property)] != nil
    }

    package func nodes(label: String, property: String, equalTo value: PropertyValue) -> any IteratorProtocol<NodeID> {
        (indexes[Self.indexKey(label, property)]?[Value(value).groupingKey] ?? []).makeIterator()
    }

    package func nodes(label: String, property: String, from lower: PropertyBound?, to upper: PropertyBound?)
        -> any IteratorProtocol<NodeID>
    {
        let matches = (labelMembers[label] ?? []).filter { id in
            guard let found = nodeProperties[Int(id)][property] else { return false }
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
