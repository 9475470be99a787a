import EngramCore
import EngramStorage
import Foundation

/// What ``EngramStore/exportJSONLines(tenant:user:_:)`` writes.
public enum ExportSelection: Sendable, Hashable {
    /// Every tenant, the global memories included.
    case store
    /// One tenant.
    case tenant(String)
    /// One user of a tenant: the `User` node, their conversations with messages and traces, their
    /// other traces, their user- and agent-scoped memories, the agents these name, the entities
    /// they mention or touch (with their aliases), and the relationships among all these.
    case user(tenant: String, user: String)
}

/// Counts of an import.
public struct ImportSummary: Sendable, Hashable {
    /// Nodes created.
    public var nodesCreated = 0
    /// Nodes that existed and were replaced by the imported version.
    public var nodesReplaced = 0
    /// Relationships created.
    public var relationshipsCreated = 0
    /// Relationships that existed and were replaced.
    public var relationshipsReplaced = 0
}

extension EngramStore {
    /// The format version written in the header line of an export.
    public static let exportFormatVersion = 1

    /// Writes a JSON Lines export (see `docs/export-format.md`): a header line, then one line per
    /// node and one per relationship, nodes first, each in creation order. The export reads one
    /// snapshot of the store (one read transaction). Memories, messages and entities carry their
    /// vector (`"vector"`), and the header the model id of those vectors (`"embedding_model"`).
    ///
    /// ```swift
    /// var lines: [String] = []
    /// try store.exportJSONLines(.tenant("acme")) { lines.append($0) }
    /// let copy = try EngramStore(path: "copy.engram")
    /// try copy.importJSONLines(lines)
    /// ```
    /// - Parameter emit: called with each line (without its newline).
    public func exportJSONLines(_ selection: ExportSelection, _ emit: (String) throws -> Void) throws {
        var header = "{\"engram_export\":\(Self.exportFormatVersion),\"embedding_model\":"
        if let model = try embeddingModel() {
            MemoryJSON.appendString(model, to: &header)
        } else {
            header += "null"
        }
        header += ",\"selection\":"
        switch selection {
        case .store: header += "\"store\""
        case .tenant(let tenant):
            header += "\"tenant\",\"tenant\":"
            MemoryJSON.appendString(tenant, to: &header)
        case .user(let tenant, let user):
            header += "\"user\",\"tenant\":"
            MemoryJSON.appendString(tenant, to: &header)
            header += ",\"user\":"
            MemoryJSON.appendString(user, to: &header)
        }
        try emit(header + "}")
        let registry = try vectorRegistry
        try environment.read { txn in
            let tenants: [String]
            switch selection {
            case .store: tenants = try tenantNames(in: txn)
            case .tenant(let tenant), .user(let tenant, _): tenants = [tenant]
            }
            for tenant in tenants {
                let session = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
                let vectors = VectorSession(graph: session, registry: registry)
                guard let tenantID = session.tenant else { continue }
                var selected: Set<UInt64>?
                if case .user(_, let user) = selection { selected = try Self.userNodes(user, session) }
                var nodes: [UInt64] = []
                try txn.scan(in: catalog.keyspaces.nodes, prefix: GraphKey.tenant(tenantID)) { key, _ in
                    nodes.append(GraphKey.uint64(key, at: 4))
                    return true
                }
                for node in nodes where selected?.contains(node) ?? true {
                    let stored = try session.storedNode(node)!
                    var line = "{\"kind\":\"node\",\"tenant\":"
                    MemoryJSON.appendString(tenant, to: &line)
                    line += ",\"id\":"
                    MemoryJSON.appendString(stored.publicID, to: &line)
                    line += ",\"labels\":"
                    MemoryJSON.append(.list(try stored.labels.map { .string(try session.name(.label, $0)) }), to: &line)
                    line += ",\"properties\":"
                    MemoryJSON.appendObject(try session.properties(stored.properties), to: &line)
                    if let index = MemoryVectorIndex.of(labels: try stored.labels.map { try session.name(.label, $0) }),
                        let vector = try vectors.storedVector(of: node, index: index.name)
                    {
                        line += ",\"vector\":[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
                    }
                    try emit(line + "}")
                }
                var relationships: [StoredRelationship] = []
                try txn.scan(in: catalog.keyspaces.relationships, prefix: GraphKey.tenant(tenantID)) { _, value in
                    relationships.append(try StoredRelationship.decode(value))
                    return true
                }
                for relationship in relationships {
                    if let selected, !selected.contains(relationship.start) || !selected.contains(relationship.end) {
                        continue
                    }
                    let public_ = try session.publicRelationship(relationship)
                    var line = "{\"kind\":\"relationship\",\"tenant\":"
                    MemoryJSON.appendString(tenant, to: &line)
                    line += ",\"id\":"
                    MemoryJSON.appendString(public_.id, to: &line)
                    line += ",\"type\":"
                    MemoryJSON.appendString(public_.type, to: &line)
                    line += ",\"start\":"
                    MemoryJSON.appendString(public_.startID, to: &line)
                    line += ",\"end\":"
                    MemoryJSON.appendString(public_.endID, to: &line)
                    line += ",\"properties\":"
                    MemoryJSON.appendObject(public_.properties, to: &line)
                    try emit(line + "}")
                }
            }
        }
    }

    /// The export as an array of lines.
    public func exportJSONLines(_ selection: ExportSelection) throws -> [String] {
        var lines: [String] = []
        try exportJSONLines(selection) { lines.append($0) }
        return lines
    }

    /// The nodes of one user's export.
    private static func userNodes(_ user: String, _ session: GraphSession) throws -> Set<UInt64> {
        var selected = Set<UInt64>()
        guard let userNode = try session.nodeID(MemorySession.userID(user)) else { return selected }
        selected.insert(userNode)
        var agents = Set<String>()
        var roots: [UInt64] = []
        for label in ["Conversation", "ReasoningTrace", "Memory"] {
            for node in try session.nodes(label: label) {
                guard let record = try session.memoryNode(node), record.string("user") == user else { continue }
                if label == "Memory", record.string("scope") == MemoryScope.tenant.rawValue { continue }
                roots.append(node)
                if let agent = record.string("agent") { agents.insert(agent) }
            }
        }
        for agent in agents { if let node = try session.nodeID(MemorySession.agentID(agent)) { selected.insert(node) } }
        // Everything reached downwards: messages, traces, steps, tool calls, and mentioned or touched entities.
        let downward = ["HAS_MESSAGE", "HAS_TRACE", "HAS_STEP", "USED_TOOL", "MENTIONS", "TOUCHED"]
        var queue = roots
        while let node = queue.popLast() {
            guard selected.insert(node).inserted else { continue }
            for type in downward { queue += try session.related(node, type, .outgoing) }
        }
        let entities = try selected.filter { try session.memoryNode($0)?.labels.contains("Entity") == true }
        for entity in entities { selected.formUnion(try session.related(entity, "ALIAS_OF", .incoming)) }
        return selected
    }

    /// Imports a JSON Lines export, idempotently by id: a node or relationship whose id exists in
    /// its tenant is replaced by the imported version, others are created. Exporting a store and
    /// importing the lines into an empty one yields the same graph (the same export).
    ///
    /// Lines are applied in transactions of `batchSize` lines; a bad line stops the import with
    /// the batches before it committed (importing again is safe). Vectors of the export are
    /// restored as they are when the store has no embedder or one of the export's model; else the
    /// memories, messages and entities of each batch are embedded again, before its transaction.
    /// - Parameters:
    ///   - tenant: import every line into this tenant instead of the one it names.
    /// - Throws: `decodingFailed` for a malformed line; `notFound` for a relationship whose end
    ///   nodes are neither in the store nor earlier in the import.
    @discardableResult
    public func importJSONLines(_ lines: some Sequence<String>, tenant: String? = nil, batchSize: Int = 5000)
        async throws -> ImportSummary
    {
        var summary = ImportSummary()
        var batch: [MemoryJSON.Value] = []
        var lineNumber = 0
        var exportModel: String?
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let entries = batch
            let vectors = try await importVectors(entries, exportModel: exportModel)
            summary = try importBatch(entries, vectors: vectors, tenant: tenant, summary: summary)
            batch.removeAll()
        }
        for line in lines {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            let value: MemoryJSON.Value
            do { value = try MemoryJSON.parse(line) } catch let error as EngramError {
                throw EngramError(.decodingFailed, "line \(lineNumber): \(error.message)")
            }
            guard case .object(let fields) = value else {
                throw EngramError(.decodingFailed, "line \(lineNumber) is not an object")
            }
            if fields["engram_export"] != nil {
                guard case .number(let version) = fields["engram_export"]!, Int(version) == Self.exportFormatVersion
                else {
                    throw EngramError(
                        .formatVersionMismatch,
                        "line \(lineNumber): this build imports export format \(Self.exportFormatVersion)")
                }
                if case .string(let model) = fields["embedding_model"] { exportModel = model }
                continue
            }
            batch.append(value)
            if batch.count >= max(1, batchSize) { try await flush() }
        }
        try await flush()
        return summary
    }

    /// The vector and model of each memory, message and entity line of a batch, by position: the
    /// line's own when the store has no embedder or one of `exportModel`, else a new embedding.
    private func importVectors(_ entries: [MemoryJSON.Value], exportModel: String?) async throws
        -> [Int: (vector: [Float], model: String)]
    {
        var result: [Int: (vector: [Float], model: String)] = [:]
        var toEmbed: [(position: Int, text: String)] = []
        let reuse = embedder == nil || embedder?.modelID == exportModel
        for (position, entry) in entries.enumerated() {
            guard case .object(let fields) = entry, case .array(let labelValues) = fields["labels"] else { continue }
            let labels = labelValues.compactMap { value -> String? in
                if case .string(let label) = value { return label }
                return nil
            }
            guard MemoryVectorIndex.of(labels: labels) != nil else { continue }
            if reuse, let exportModel, case .array(let components) = fields["vector"] {
                let vector = components.compactMap { value -> Float? in
                    if case .number(let number) = value { return Float(number) }
                    return nil
                }
                guard vector.count == components.count else {
                    throw EngramError(.decodingFailed, "a vector component is not a number")
                }
                result[position] = (vector, exportModel)
            } else if let embedder, embedder.modelID != exportModel || fields["vector"] == nil {
                var properties: [String: PropertyValue] = [:]
                if case .object(let map) = fields["properties"] { properties = try map.mapValues(MemoryJSON.property) }
                let record = MemoryNode(node: 0, id: "", labels: labels, properties: properties)
                if let text = MemoryText.of(record)?.text, text.contains(where: { !$0.isWhitespace }) {
                    toEmbed.append((position, text))
                }
            }
        }
        if let embedder, let vectors = try await Self.embed(toEmbed.map(\.text), with: embedder) {
            for (item, vector) in zip(toEmbed, vectors) { result[item.position] = (vector, embedder.modelID) }
        }
        return result
    }

    private func importBatch(
        _ entries: [MemoryJSON.Value], vectors: [Int: (vector: [Float], model: String)], tenant override: String?,
        summary start: ImportSummary
    ) throws -> ImportSummary {
        try writeTenants { write in
            var summary = start
            for (position, entry) in entries.enumerated() {
                guard case .object(let fields) = entry else { continue }
                func string(_ key: String) throws -> String {
                    guard case .string(let text) = fields[key] else {
                        throw EngramError(.decodingFailed, "an import line lacks '\(key)'")
                    }
                    return text
                }
                let graph = try write.graph(override ?? (try string("tenant")))
                var properties: [String: PropertyValue] = [:]
                if case .object(let map) = fields["properties"] {
                    properties = try map.mapValues(MemoryJSON.property)
                }
                let id = try string("id")
                switch try string("kind") {
                case "node":
                    guard case .array(let labelValues) = fields["labels"] else {
                        throw EngramError(.decodingFailed, "a node line lacks labels")
                    }
                    let labels = try labelValues.map {
                        guard case .string(let label) = $0 else {
                            throw EngramError(.decodingFailed, "a label is not a string")
                        }
                        return label
                    }
                    let node: UInt64
                    if let existing = try graph.nodeID(id) {
                        node = existing
                        try graph.save(MemoryNode(node: node, id: id, labels: labels, properties: properties))
                        summary.nodesReplaced += 1
                    } else {
                        node = try graph.createNode(publicID: id, labels: labels, properties: properties)
                        summary.nodesCreated += 1
                    }
                    if let index = MemoryVectorIndex.of(labels: labels) {
                        try write.vectors(graph).setMemoryVector(
                            vectors[position]?.vector, model: vectors[position]?.model, node: node, index: index,
                            path: path)
                    }
                case "relationship":
                    let type = try string("type")
                    let start = try graph.requireNodeID(try string("start"))
                    let end = try graph.requireNodeID(try string("end"))
                    if let relationship = try graph.relationshipID(id) {
                        let stored = try graph.storedRelationship(relationship)!
                        if try graph.name(.relationshipType, stored.type) == type, stored.start == start,
                            stored.end == end
                        {
                            try graph.replaceRelationship(
                                relationship, properties: try graph.storedProperties(properties))
                        } else {
                            try graph.deleteRelationship(relationship)
                            _ = try graph.createRelationship(
                                publicID: id, type: type, start: start, end: end, properties: properties)
                        }
                        summary.relationshipsReplaced += 1
                    } else {
                        _ = try graph.createRelationship(
                            publicID: id, type: type, start: start, end: end, properties: properties)
                        summary.relationshipsCreated += 1
                    }
                default: throw EngramError(.decodingFailed, "unknown line kind")
                }
            }
            return summary
        }
    }
}
