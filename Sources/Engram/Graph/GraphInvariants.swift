#if ENGRAM_TESTING
import EngramCore
import EngramStorage

extension EngramStore {
    /// Checks that every graph index agrees with the records, for every tenant: each node's id,
    /// label and property-index entries exist and point back; each relationship's two adjacency
    /// entries and pair entry exist; no index entry points at a missing or different record; the
    /// O(1) counters and the stored degrees equal recounts; and the full-text index holds exactly
    /// what the records call for (``_checkFullTextInvariants()``). Compiled only for tests
    /// (`-DENGRAM_TESTING`).
    ///
    /// - Returns: the problems found, empty when the graph is consistent.
    package func _checkGraphInvariants() throws -> [String] {
        try _checkGraphIndexes() + _checkFullTextInvariants()
    }

    private func _checkGraphIndexes() throws -> [String] {
        try environment.read { txn in
            var problems: [String] = []
            let k = catalog.keyspaces
            var tenants: [UInt32] = []
            try txn.scan(in: k.tenantNames, prefix: []) { key, _ in
                tenants.append(GraphKey.uint32(key, at: 0))
                return true
            }
            var expectedAdjacency = 0
            var expectedPairs = 0
            var expectedLabels = 0
            var expectedNodeIDs = 0
            var expectedRelationshipIDs = 0
            var expectedIndexEntries = 0
            var expectedDegrees = 0
            for tenant in tenants {
                var counts: [[UInt8]: Int] = [:]
                var nodes: [UInt64: StoredNode] = [:]
                try txn.scan(in: k.nodes, prefix: GraphKey.tenant(tenant)) { key, value in
                    nodes[GraphKey.uint64(key, at: 4)] = try StoredNode.decode(value)
                    return true
                }
                var definitions: [(label: UInt32, key: UInt32, normalized: Bool)] = []
                try txn.scan(in: k.indexDefinitions, prefix: GraphKey.tenant(tenant)) { key, value in
                    definitions.append((GraphKey.uint32(key, at: 4), GraphKey.uint32(key, at: 8), value.first == 1))
                    return true
                }
                for (node, stored) in nodes {
                    expectedNodeIDs += 1
                    let mapped = try txn.value(forKey: GraphKey.publicID(tenant, stored.publicID), in: k.nodeIDs)
                    if mapped != KeyWriter.bigEndian(node) { problems.append("node \(node): node_ids entry missing or wrong") }
                    counts[GraphKey.count(tenant, .allNodes, 0), default: 0] += 1
                    for label in stored.labels {
                        expectedLabels += 1
                        counts[GraphKey.count(tenant, .label, label), default: 0] += 1
                        if try !txn.contains(GraphKey.label(tenant, label, node), in: k.labels) {
                            problems.append("node \(node): label index entry for label \(label) missing")
                        }
                        for definition in definitions where definition.label == label {
                            guard let value = stored.properties.first(where: { $0.key == definition.key })?.value,
                                let element = GraphSession.indexElement(value, normalized: definition.normalized)
                            else { continue }
                            var entry = GraphKey.indexEntryPrefix(tenant, label, definition.key)
                            KeyTuple.append(element, to: &entry)
                            entry.append(node)
                            guard entry.bytes.count <= 511 else { continue }
                            expectedIndexEntries += 1
                            if try !txn.contains(entry.bytes, in: k.propertyIndex) {
                                problems.append("node \(node): property index entry for key \(definition.key) missing")
                            }
                        }
                    }
                }
                try txn.scan(in: k.relationships, prefix: GraphKey.tenant(tenant)) { key, value in
                    let relationship = GraphKey.uint64(key, at: 4)
                    let stored = try StoredRelationship.decode(value)
                    expectedRelationshipIDs += 1
                    expectedAdjacency += 2
                    expectedPairs += 1
                    counts[GraphKey.count(tenant, .allRelationships, 0), default: 0] += 1
                    counts[GraphKey.count(tenant, .relationshipType, stored.type), default: 0] += 1
                    if nodes[stored.start] == nil || nodes[stored.end] == nil {
                        problems.append("relationship \(relationship): an endpoint is missing")
                    }
                    let out = GraphKey.adjacency(tenant, stored.start, GraphKey.outgoing, stored.type, stored.end, relationship)
                    let into = GraphKey.adjacency(tenant, stored.end, GraphKey.incoming, stored.type, stored.start, relationship)
                    let expectedValue = AdjacencyValue.encode(stored.properties)
                    let (outValue, intoValue) = (try txn.value(forKey: out, in: k.adjacency), try txn.value(forKey: into, in: k.adjacency))
                    if outValue == nil || intoValue == nil {
                        problems.append("relationship \(relationship): an adjacency twin is missing")
                    } else if outValue != expectedValue || intoValue != expectedValue {
                        problems.append("relationship \(relationship): an adjacency entry's properties differ from the record's")
                    }
                    if try !txn.contains(GraphKey.pair(tenant, stored.start, stored.end, stored.type, relationship), in: k.adjacencyPairs) {
                        problems.append("relationship \(relationship): pair index entry missing")
                    }
                    let mapped = try txn.value(forKey: GraphKey.publicID(tenant, stored.publicID), in: k.relationshipIDs)
                    if mapped != KeyWriter.bigEndian(relationship) {
                        problems.append("relationship \(relationship): relationship_ids entry missing or wrong")
                    }
                    return true
                }
                expectedDegrees += try _checkDegrees(tenant, txn, &problems)
                try txn.scan(in: k.counts, prefix: GraphKey.tenant(tenant)) { key, value in
                    let stored = Int(GraphKey.uint64(value, at: 0))
                    if counts.removeValue(forKey: Array(key)) != stored { problems.append("counter \(Array(key)) is \(stored), recount differs") }
                    return true
                }
                for (key, count) in counts where count > 0 { problems.append("counter \(key) missing (recount \(count))") }
            }
            // Every entry of every index was matched to a record above only if the totals agree.
            let totals: [(String, Keyspace, Int)] = [
                ("adjacency", k.adjacency, expectedAdjacency), ("adjacency_pairs", k.adjacencyPairs, expectedPairs),
                ("degrees", k.degrees, expectedDegrees),
                ("labels", k.labels, expectedLabels), ("node_ids", k.nodeIDs, expectedNodeIDs),
                ("relationship_ids", k.relationshipIDs, expectedRelationshipIDs),
                ("property_index", k.propertyIndex, expectedIndexEntries),
            ]
            for (name, keyspace, expected) in totals {
                let actual = try txn.count(in: keyspace)
                if actual != expected { problems.append("\(name) holds \(actual) entries, the records call for \(expected)") }
            }
            return problems
        }
    }

    /// Recounts the degrees of `tenant` from its adjacency keys and compares them with the stored
    /// ones: a stored entry that does not decode, counts wrongly or counts a node without such
    /// relationships, and a missing entry, are each a problem.
    /// - Returns: the number of entries the adjacency calls for.
    private func _checkDegrees(_ tenant: UInt32, _ txn: Transaction, _ problems: inout [String]) throws -> Int {
        let k = catalog.keyspaces
        var recounted: [[UInt8]: NodeDegrees] = [:]
        try txn.scan(in: k.adjacency, prefix: GraphKey.tenant(tenant)) { key, _ in
            try recounted[Array(key[0..<13]), default: NodeDegrees()].add(1, type: GraphKey.uint32(key, at: 13))
            return true
        }
        let expected = recounted.count
        func describe(_ key: [UInt8]) -> String {
            guard key.count == 13 else { return "degrees entry \(key)" }
            let node = key.withUnsafeBytes { GraphKey.uint64($0, at: 4) }
            return "node \(node): \(key[12] == GraphKey.outgoing ? "outgoing" : "incoming") degrees"
        }
        func describe(_ degrees: NodeDegrees) -> String {
            degrees.counts.map { "type \($0.type) × \($0.count)" }.joined(separator: ", ")
        }
        try txn.scan(in: k.degrees, prefix: GraphKey.tenant(tenant)) { key, value in
            let key = Array(key)
            let wanted = recounted.removeValue(forKey: key)
            do {
                let stored = try NodeDegrees.decode(value)
                if let wanted, stored != wanted {
                    problems.append("\(describe(key)) are \(describe(stored)); adjacency counts \(describe(wanted))")
                } else if wanted == nil {
                    problems.append("\(describe(key)) are \(describe(stored)); adjacency has no such relationship")
                }
            } catch let error as EngramError {
                problems.append("\(describe(key)) do not decode: \(error.message)")
            }
            return true
        }
        for (key, wanted) in recounted {
            problems.append("\(describe(key)) missing; adjacency counts \(describe(wanted))")
        }
        return expected
    }
}
#endif
