#if ENGRAM_TESTING
import EngramCore
import EngramStorage

extension EngramStore {
    /// Checks that the full-text keyspaces hold exactly what the records call for: for every
    /// tenant and group, one posting per (term, document) with the right frequency and length,
    /// one length entry per document, statistics equal to recounts (and absent when vacant), and
    /// no entry of any kind beyond those — no orphan after a delete, a cascade or a dropped
    /// tenant. Compiled only for tests (`-DENGRAM_TESTING`).
    ///
    /// - Returns: the problems found (at most 20), empty when the index is consistent.
    package func _checkFullTextInvariants() throws -> [String] {
        let tenants = try tenants()
        return try environment.read { txn in
            let k = catalog.keyspaces.fullText
            var expected: [String: [[UInt8]: [UInt8]]] = [
                k.postings.name: [:], k.documents.name: [:], k.statistics.name: [:],
            ]
            for name in tenants {
                let session = try GraphSession(txn: txn, catalog: catalog, tenant: name)
                guard let tenant = session.tenant else { continue }
                for group in FullTextGroup.allCases {
                    var statistics = try session.fullTextStatistics(group) ?? .empty
                    statistics.documentCount = 0
                    statistics.totalLength = 0
                    let analyzer = TextAnalyzer(statistics.options)
                    if let label = try session.symbol(.label, group.label, create: false) {
                        var nodes: [UInt64] = []
                        try session.forEachNode(label: label) { nodes.append($0); return true }
                        for node in nodes {
                            guard let stored = try session.storedNode(node) else { continue }
                            let document = GraphSession.fullTextEntries(
                                node, fields: try session.fullTextFields(of: stored, group), group: group,
                                tenant: tenant, analyzer)
                            for posting in document.postings { expected[k.postings.name]![posting.key] = posting.value }
                            expected[k.documents.name]![FullTextKey.document(tenant, group, node)] =
                                KeyWriter.bigEndian(UInt32(clamping: document.length))
                            statistics.documentCount += 1
                            statistics.totalLength += document.length
                        }
                    }
                    if !statistics.isVacant {
                        expected[k.statistics.name]![FullTextKey.group(tenant, group)] = statistics.encoded
                    }
                }
            }
            var problems: [String] = []
            for keyspace in k.all {
                var remaining = expected[keyspace.name]!
                try txn.scan(in: keyspace, prefix: []) { key, value in
                    let key = Array(key)
                    switch remaining.removeValue(forKey: key) {
                    case nil: problems.append("\(keyspace.name): unexpected entry \(key)")
                    case let wanted? where wanted != Array(value):
                        problems.append("\(keyspace.name): entry \(key) holds \(Array(value)), expected \(wanted)")
                    default: break
                    }
                    return problems.count < 20
                }
                for key in remaining.keys.prefix(20 - min(20, problems.count)) {
                    problems.append("\(keyspace.name): missing entry \(key)")
                }
            }
            return Array(problems.prefix(20))
        }
    }

    /// Deletes `tenant`'s full-text index, as a store written before the index existed would lack
    /// it (test builds).
    package func _dropFullTextIndex(tenant: String) throws {
        try writeGraph(tenant: tenant) { session in
            guard let id = session.tenant else { return }
            for keyspace in catalog.keyspaces.fullText.all {
                try session.txn.deleteRange(prefix: GraphKey.tenant(id), in: keyspace)
            }
        }
    }

    /// The number of entries in the full-text keyspaces, all tenants together (test builds).
    package func _fullTextEntryCount() throws -> Int {
        try environment.read { txn in
            try catalog.keyspaces.fullText.all.reduce(0) { $0 + (try txn.count(in: $1)) }
        }
    }
}
#endif
