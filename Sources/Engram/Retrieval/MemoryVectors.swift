import EngramCore
import EngramEmbedding
import EngramStorage
import EngramVector
import Foundation

/// The memory layer's vector indexes: one per tenant and kind of record, named `memory:<kind>`,
/// built with the store's embedder (its dimension, cosine, and its model id recorded in the
/// definition). Global memories live in the `_global` tenant's `memory:memories`.
enum MemoryVectorIndex: String, CaseIterable, Sendable {
    case memories, messages, entities

    /// The index's name in its tenant.
    var name: String { "memory:" + rawValue }

    /// The index a memory-layer node's vector lives in, by its labels.
    static func of(labels: [String]) -> MemoryVectorIndex? {
        if labels.contains("Memory") { return .memories }
        if labels.contains("Message") { return .messages }
        if labels.contains("Entity") { return .entities }
        return nil
    }
}

/// Exactly what text of each record is embedded (documented in `docs/retrieval.md`).
enum MemoryText {
    /// A memory: its content, as it is.
    static func memory(content: String) -> String { content }

    /// A message: `"<role>: <content>"`, so that who said it is part of its meaning.
    static func message(role: String, content: String) -> String { role + ": " + content }

    /// An entity: `"<name> (<type>)"`, then `": <description>"` when it has one, then
    /// `". Also known as <alias>, <alias>."` when it has aliases.
    static func entity(name: String, type: String, description: String?, aliases: [String]) -> String {
        var text = "\(name) (\(type))"
        if let description, !description.isEmpty { text += ": " + description }
        if !aliases.isEmpty { text += ". Also known as " + aliases.joined(separator: ", ") + "." }
        return text
    }

    /// The embedded text of a memory-layer node, with its index; `nil` for nodes without one.
    static func of(_ record: MemoryNode) -> (index: MemoryVectorIndex, text: String)? {
        switch MemoryVectorIndex.of(labels: record.labels) {
        case .memories: return (.memories, memory(content: record.string("content") ?? ""))
        case .messages:
            return (.messages, message(role: record.string("role") ?? "", content: record.string("content") ?? ""))
        case .entities:
            return (
                .entities,
                entity(
                    name: record.string("name") ?? "", type: record.string("type") ?? "",
                    description: record.string("description"), aliases: record.strings("aliases"))
            )
        case nil: return nil
        }
    }
}

extension EngramStore {
    /// `texts` embedded with `embedder`, each checked for count and dimension; `nil` without an
    /// embedder or without texts. Runs before any transaction opens: no lock is held while a model works.
    static func embed(_ texts: [String], with embedder: (any Embedder)?) async throws -> [[Float]]? {
        guard let embedder, !texts.isEmpty else { return nil }
        let vectors = try await embedder.embed(texts)
        guard vectors.count == texts.count else {
            throw EmbeddingError(
                .badResponse, "\(embedder.modelID) returned \(vectors.count) vectors for \(texts.count) texts")
        }
        for vector in vectors where vector.count != embedder.dimension {
            throw EmbeddingError(
                .dimensionMismatch,
                "\(embedder.modelID) returned a vector of \(vector.count) components, not \(embedder.dimension)")
        }
        return vectors
    }

    /// Throws `embeddingModelMismatch` when a memory vector index of any tenant was built with
    /// another model or dimension than `embedder`'s.
    func checkEmbeddingModel(_ embedder: any Embedder) throws {
        let registry = try vectorRegistry
        try environment.read { txn in
            for tenant in try memoryTenants(in: txn) {
                let graph = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
                let vectors = VectorSession(graph: graph, registry: registry)
                for index in MemoryVectorIndex.allCases {
                    guard let definition = try vectors.definition(index.name) else { continue }
                    if definition.model != embedder.modelID || definition.dimension != embedder.dimension {
                        throw Self.modelMismatch(
                            path: path, built: definition.model, dimension: definition.dimension,
                            model: embedder.modelID, wanted: embedder.dimension)
                    }
                }
            }
        }
    }

    static func modelMismatch(path: String, built: String?, dimension: Int, model: String, wanted: Int) -> EngramError {
        EngramError(
            .embeddingModelMismatch,
            "the store at \(path) holds embeddings of model '\(built ?? "unrecorded")' (\(dimension) dimensions), "
                + "not of '\(model)' (\(wanted)); re-embed it with `engram reindex --db \(path)` or "
                + "EngramStore(path:).reindex(with:), or open it with the model it was built with")
    }

    /// The id of the model the memory layer's vectors were made with (the first memory vector
    /// index found over the tenants), or `nil` when the store holds no such vectors yet. Open the
    /// store with an embedder of this id to keep embedding on write.
    public func embeddingModel() throws -> String? {
        let registry = try vectorRegistry
        return try environment.read { txn in
            for tenant in try memoryTenants(in: txn) {
                let vectors = VectorSession(
                    graph: try GraphSession(txn: txn, catalog: catalog, tenant: tenant), registry: registry)
                for index in MemoryVectorIndex.allCases {
                    if let model = try vectors.definition(index.name)?.model { return model }
                }
            }
            return nil
        }
    }

    /// The store's tenants and the global one (even before it holds anything).
    func memoryTenants(in txn: Transaction) throws -> [String] {
        let names = try tenantNames(in: txn)
        return names.contains(MemoryContext.globalTenant) ? names : names + [MemoryContext.globalTenant]
    }

    /// The names of the store's tenants, in key order.
    func tenantNames(in txn: Transaction) throws -> [String] {
        var names: [String] = []
        try txn.scan(in: catalog.keyspaces.tenants, prefix: []) { key, _ in
            var reader = KeyReader(key)
            names.append(try reader.readString())
            return true
        }
        return names
    }
}

extension MemoryContext {
    /// The store's embedder's vectors of `texts` (`nil` without an embedder).
    func embed(_ texts: [String]) async throws -> [[Float]]? {
        try await EngramStore.embed(texts, with: store.embedder)
    }

    /// Embeds the texts `prepare` reads, then runs `body` in a write transaction with them. When
    /// the texts `body` would embed differ from those embedded (another writer changed the record
    /// in between), it embeds again, up to three times. Never holds the write lock while embedding.
    func writeEmbedded<T>(
        prepare: () throws -> [String], _ body: (MemorySession, _ texts: [String], [[Float]]?) throws -> T
    ) async throws -> T {
        var attempts = 0
        while true {
            attempts += 1
            let texts = try prepare()
            let vectors = try await embed(texts)
            do {
                return try write { session in try body(session, texts, vectors) }
            } catch is StaleEmbedding {
                if attempts < 3 { continue }
                throw EngramError(
                    .storageFailure, "the record changed three times while its text was embedded; try the call again")
            }
        }
    }
}

/// Thrown inside a write when the record's text is no longer the one embedded before it.
struct StaleEmbedding: Error {}

extension MemorySession {
    /// The vector session of `graph` (the tenant's or the global one) in this transaction.
    func vectorSession(_ graph: GraphSession) throws -> VectorSession {
        if let session = vectorSessions.first(where: { $0.graph === graph }) { return session }
        let session = VectorSession(graph: graph, registry: try context.store.vectorRegistry)
        vectorSessions.append(session)
        return session
    }

    /// Sets the vector of `node` in `graph`'s memory index `index`, creating the index with the
    /// store's embedder on first use. With `vector` `nil` (a store without an embedder) or the zero
    /// vector (a text the embedder finds nothing in), removes the node's now stale vector, if any.
    func setVector(_ vector: [Float]?, node: UInt64, index: MemoryVectorIndex, in graph: GraphSession) throws {
        try vectorSession(graph).setMemoryVector(
            vector, model: context.store.embedder?.modelID, node: node, index: index, path: context.store.path)
    }

    /// Deletes `node` of `graph` with its relationships and its vectors in every index of the tenant.
    func deleteNode(_ node: UInt64, in graph: GraphSession) throws {
        try vectorSession(graph).removeVectors(ofNode: node)
        try graph.deleteNode(node, detach: true)
    }
}

extension VectorSession {
    /// Sets the vector of `node` in the memory index `index`, made by `model`, creating the index
    /// (cosine, the vector's dimension, `model` recorded) on first use. With `vector` or `model`
    /// `nil`, or the zero vector, removes the node's vector from the index instead, if any.
    /// - Throws: `embeddingModelMismatch` when the index holds another model's vectors.
    func setMemoryVector(_ vector: [Float]?, model: String?, node: UInt64, index: MemoryVectorIndex, path: String)
        throws
    {
        guard let vector, let model, vector.contains(where: { $0 != 0 }) else {
            if try definition(index.name) != nil { try remove(node: node, index: index.name) }
            return
        }
        if let definition = try definition(index.name) {
            guard definition.model == model, definition.dimension == vector.count else {
                throw EngramStore.modelMismatch(
                    path: path, built: definition.model, dimension: definition.dimension, model: model,
                    wanted: vector.count)
            }
        } else {
            _ = try createIndex(
                index.name, dimension: vector.count, metric: .cosine, parameters: HNSWParameters(), model: model)
        }
        try upsert(vector, node: node, index: index.name, model: model)
    }

    /// The vector of `node` in index `name` as this transaction sees it, or `nil`.
    func storedVector(of node: UInt64, index name: String) throws -> [Float]? {
        guard let tenant = graph.tenant, let definition = try definition(name) else { return nil }
        let keyspaces = registry.keyspaces
        let location = try graph.txn.withValue(
            forKey: VectorKey.nodeToKey(tenant, definition.id, node), in: keyspaces.ids
        ) { value in value.map { VectorKey.uint32($0, at: 8) } }
        guard let slot = location else { return nil }
        return try graph.txn.withValue(
            forKey: VectorKey.slot(tenant, definition.id, slot, VectorKey.nodeSub), in: keyspaces.graph
        ) { value -> [Float]? in
            guard let value else { return nil }
            if case .node(_, _, _, let vector) = try VectorKey.decodeNode(
                value, slot: slot, dimension: definition.dimension)
            {
                return vector
            }
            return nil
        }
    }
}

/// The graph and vector sessions of any tenants inside one write transaction; lent by
/// ``EngramStore/writeTenants(_:)``.
final class TenantWrite {
    let txn: Transaction
    let catalog: GraphCatalog
    let registry: VectorRegistry
    private(set) var graphs: [String: GraphSession] = [:]
    private(set) var vectorSessions: [VectorSession] = []

    init(txn: Transaction, catalog: GraphCatalog, registry: VectorRegistry) {
        self.txn = txn
        self.catalog = catalog
        self.registry = registry
    }

    /// The graph session of `tenant` in this transaction.
    func graph(_ tenant: String) throws -> GraphSession {
        if let existing = graphs[tenant] { return existing }
        let created = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
        graphs[tenant] = created
        return created
    }

    /// The vector session of `graph` in this transaction.
    func vectors(_ graph: GraphSession) -> VectorSession {
        if let existing = vectorSessions.first(where: { $0.graph === graph }) { return existing }
        let created = VectorSession(graph: graph, registry: registry)
        vectorSessions.append(created)
        return created
    }
}

extension EngramStore {
    /// Runs `body` in one write transaction over any tenants; the symbols learned are absorbed and
    /// the in-memory vector indexes settled after the commit or the abort. `body` may run again.
    func writeTenants<T>(_ body: (TenantWrite) throws -> T) throws -> T {
        let registry = try vectorRegistry
        var runs: [TenantWrite] = []
        let result: T
        let learned: GraphCatalog.Names
        do {
            (result, learned) = try environment.write { txn in
                let write = TenantWrite(txn: txn, catalog: catalog, registry: registry)
                runs.append(write)
                let result = try body(write)
                var learned = GraphCatalog.Names()
                for session in write.graphs.values { learned.merge(session.learned) }
                return (result, learned)
            }
        } catch {
            settleVectors(runs.flatMap(\.vectorSessions), committed: nil)
            throw error
        }
        catalog.absorb(learned)
        settleVectors(runs.flatMap(\.vectorSessions), committed: runs.last?.vectorSessions)
        return result
    }
}
