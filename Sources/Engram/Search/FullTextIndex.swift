import EngramCore
import EngramStorage

/// Keeping the full-text index in step with the graph.
///
/// The graph calls ``updateFullText(node:old:new:)`` wherever it writes a node record (create,
/// replace, delete, bulk insert), in the same transaction, so every path that changes text —
/// the memory API, its cascade deletes, import, bulk load — updates postings, document lengths
/// and statistics atomically with the record, and an aborted transaction leaves none of it.
/// `dropTenant` removes the tenant's range of each full-text keyspace.
extension GraphSession {
    var fullTextKeyspaces: FullTextKeyspaces { keyspaces.fullText }

    /// Updates every group whose label the node has (had) when its text changes.
    ///
    /// - Complexity: O(1) reads for a node of no group or with unchanged text; otherwise
    ///   O(u log n) for the u distinct terms of the old and the new text.
    func updateFullText(node: UInt64, old: StoredNode?, new: StoredNode?) throws {
        for group in FullTextGroup.allCases {
            guard let label = try symbol(.label, group.label, create: false) else { continue }
            let oldFields = try old.flatMap { $0.labels.contains(label) ? try fullTextFields(of: $0, group) : nil }
            let newFields = try new.flatMap { $0.labels.contains(label) ? try fullTextFields(of: $0, group) : nil }
            if oldFields == newFields { continue }
            let tenant = try writableTenant()
            var statistics = try fullTextStatistics(group) ?? .empty
            let analyzer = TextAnalyzer(statistics.options)
            if let oldFields {
                try removeDocument(node, fields: oldFields, group: group, tenant: tenant, analyzer, &statistics)
            }
            if let newFields {
                try addDocument(node, fields: newFields, group: group, tenant: tenant, analyzer, &statistics)
            }
            try saveFullTextStatistics(statistics, group: group, tenant: tenant)
        }
    }

    /// The indexed texts of a node: one string per string value of the group's properties (list
    /// values give one per string element), in property order.
    func fullTextFields(of stored: StoredNode, _ group: FullTextGroup) throws -> [String] {
        var fields: [String] = []
        for property in group.properties {
            guard let key = try symbol(.propertyKey, property, create: false),
                let value = stored.properties.first(where: { $0.key == key })?.value
            else { continue }
            switch value {
            case .string(let text): fields.append(text)
            case .list(let items): fields += items.compactMap(\.stringValue)
            default: continue
            }
        }
        return fields
    }

    /// The statistics of a group in this tenant, or `nil` when the group has no record.
    func fullTextStatistics(_ group: FullTextGroup) throws -> FullTextStatistics? {
        guard let tenant else { return nil }
        return try txn.withValue(forKey: FullTextKey.group(tenant, group), in: fullTextKeyspaces.statistics) {
            try $0.map(FullTextStatistics.init(decoding:))
        }
    }

    private func saveFullTextStatistics(_ statistics: FullTextStatistics, group: FullTextGroup, tenant: UInt32) throws {
        let key = FullTextKey.group(tenant, group)
        if statistics.isVacant {
            try txn.delete(key, in: fullTextKeyspaces.statistics)
        } else {
            try txn.put(statistics.encoded, forKey: key, in: fullTextKeyspaces.statistics)
        }
    }

    private func addDocument(
        _ node: UInt64, fields: [String], group: FullTextGroup, tenant: UInt32, _ analyzer: TextAnalyzer,
        _ statistics: inout FullTextStatistics
    ) throws {
        let document = Self.fullTextEntries(node, fields: fields, group: group, tenant: tenant, analyzer)
        let k = fullTextKeyspaces
        for posting in document.postings { try txn.put(posting.value, forKey: posting.key, in: k.postings) }
        try txn.put(
            KeyWriter.bigEndian(UInt32(clamping: document.length)), forKey: FullTextKey.document(tenant, group, node),
            in: k.documents)
        statistics.documentCount += 1
        statistics.totalLength += document.length
    }

    /// The posting entries (key, value) of a document and its length.
    static func fullTextEntries(
        _ node: UInt64, fields: [String], group: FullTextGroup, tenant: UInt32, _ analyzer: TextAnalyzer
    ) -> (postings: [(key: [UInt8], value: [UInt8])], length: Int) {
        var frequencies: [String: Int] = [:]
        var length = 0
        for field in fields {
            analyzer.forEachTerm(field) {
                frequencies[$0, default: 0] += 1
                length += 1
            }
        }
        let postings = frequencies.map { term, frequency in
            (
                FullTextKey.posting(tenant, group, term, node),
                FullTextKey.postingValue(frequency: frequency, length: length)
            )
        }
        return (postings, length)
    }

    /// Removes a document's postings; a node that was never indexed (a store written before the
    /// index existed) changes nothing.
    private func removeDocument(
        _ node: UInt64, fields: [String], group: FullTextGroup, tenant: UInt32, _ analyzer: TextAnalyzer,
        _ statistics: inout FullTextStatistics
    ) throws {
        let k = fullTextKeyspaces
        let documentKey = FullTextKey.document(tenant, group, node)
        guard
            let length = try txn.withValue(
                forKey: documentKey, in: k.documents, { $0.map { Int(GraphKey.uint32($0, at: 0)) } })
        else { return }
        var seen: Set<String> = []
        for field in fields {
            analyzer.forEachTerm(field) { seen.insert($0) }
        }
        for term in seen { try txn.delete(FullTextKey.posting(tenant, group, term, node), in: k.postings) }
        try txn.delete(documentKey, in: k.documents)
        statistics.documentCount = max(0, statistics.documentCount - 1)
        statistics.totalLength = max(0, statistics.totalLength - length)
    }

    /// Rebuilds the tenant's full-text index of every group from the records, with `options`.
    /// - Returns: the number of documents indexed.
    @discardableResult
    func rebuildFullText(options: AnalyzerOptions) throws -> Int {
        if self.tenant == nil && options == .default { return 0 }  // nothing to index, nothing to remember
        let tenant = try writableTenant()
        var indexed = 0
        for group in FullTextGroup.allCases {
            let prefix = FullTextKey.group(tenant, group)
            for keyspace in fullTextKeyspaces.all { try txn.deleteRange(prefix: prefix, in: keyspace) }
            var statistics = FullTextStatistics(options: options, documentCount: 0, totalLength: 0)
            let analyzer = TextAnalyzer(options)
            if let label = try symbol(.label, group.label, create: false) {
                var nodes: [UInt64] = []
                try forEachNode(label: label) {
                    nodes.append($0); return true
                }
                for node in nodes {
                    guard let stored = try storedNode(node) else { continue }
                    try addDocument(
                        node, fields: try fullTextFields(of: stored, group), group: group, tenant: tenant, analyzer,
                        &statistics)
                }
                indexed += nodes.count
            }
            try saveFullTextStatistics(statistics, group: group, tenant: tenant)
        }
        return indexed
    }
}

extension GraphSession {
    /// Whether some group's index does not cover the tenant's records: its document count
    /// differs from the number of nodes with its label (in an index kept by every write, the two
    /// are equal). True of a store written before the index existed.
    func fullTextIsIncomplete() throws -> Bool {
        for group in FullTextGroup.allCases {
            let documents = try fullTextStatistics(group)?.documentCount ?? 0
            let nodes = try symbol(.label, group.label, create: false).map { try count(.label, $0) } ?? 0
            if documents != nodes { return true }
        }
        return false
    }

    /// The analyzer options of the tenant's index (the first group that has statistics), or the defaults.
    func fullTextOptions() throws -> AnalyzerOptions {
        for group in FullTextGroup.allCases {
            if let statistics = try fullTextStatistics(group) { return statistics.options }
        }
        return .default
    }
}

extension EngramStore {
    /// Rebuilds, with their own options, the full-text indexes of the tenants whose index does not
    /// cover their records — those of a store written before the index existed — so that
    /// keyword search never silently misses a record. Called when a store is opened writable;
    /// costs two reads per tenant and group when nothing is missing.
    func completeFullTextIndexes() throws {
        let incomplete = try tenants().filter { tenant in
            try readGraph(tenant: tenant) { try $0.fullTextIsIncomplete() }
        }
        for tenant in incomplete {
            _ = try writeGraph(tenant: tenant) { session in
                try session.rebuildFullText(options: try session.fullTextOptions())
            }
        }
    }

    /// Rebuilds the full-text index of every field group of `tenant` from its records, in one
    /// transaction, with the analyzer `options` — which every later write and query of the
    /// tenant then uses.
    ///
    /// Writes keep the index current on their own; rebuild to change the analyzer options, or
    /// after opening a store written before the index existed.
    ///
    /// ```swift
    /// try store.rebuildFullTextIndex(tenant: "acme", options: AnalyzerOptions(stopWords: false))
    /// ```
    ///
    /// - Parameters:
    ///   - tenant: the tenant whose index to rebuild.
    ///   - options: the analyzer options (``AnalyzerOptions/default`` unless given).
    /// - Returns: the number of documents indexed, all groups together.
    /// - Complexity: O(T log n) for the T terms of the tenant's texts.
    @discardableResult
    public func rebuildFullTextIndex(tenant: String = "default", options: AnalyzerOptions = .default) throws -> Int {
        try writeGraph(tenant: tenant) { try $0.rebuildFullText(options: options) }
    }
}

extension Transaction {
    /// Deletes every key of `keyspace` that starts with `prefix`.
    /// - Complexity: O(k log n) for the k keys deleted.
    func deleteRange(prefix: [UInt8], in keyspace: Keyspace) throws {
        let cursor = try makeCursor(in: keyspace)
        var entry = try cursor.seek(atOrAfter: prefix)
        while let current = entry, current.key.starts(with: prefix) {
            try cursor.deleteCurrent()
            entry = try cursor.seek(atOrAfter: prefix)
        }
    }
}
