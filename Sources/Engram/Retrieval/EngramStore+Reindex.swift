import EngramCore
import EngramEmbedding
import EngramStorage
import EngramVector
import Foundation

/// How far ``EngramStore/reindex(with:batchSize:progress:)`` is.
public struct ReindexProgress: Sendable, Hashable {
    /// Records embedded and written so far.
    public var done: Int
    /// Records to embed in all.
    public var total: Int
}

/// What ``EngramStore/reindex(with:batchSize:progress:)`` did.
public struct ReindexSummary: Sendable, Hashable {
    /// The model id the indexes hold now.
    public var model: String
    /// The memories, messages and entities embedded.
    public var records: Int
    /// The records left without a vector because the embedder found nothing in their text.
    public var empty: Int
    /// The tenants whose indexes were rebuilt (the global one included when it has memories).
    public var tenants: Int
}

extension EngramStore {
    /// Re-embeds every memory, message and entity of every tenant with `embedder` and rebuilds the
    /// memory layer's vector indexes under its model id: what fixes `embeddingModelMismatch` at
    /// open, or switches a store to another model.
    ///
    /// ```swift
    /// let store = try EngramStore(path: "memory.engram")          // no embedder: no model check
    /// try await store.reindex(with: try MiniLMEmbedder())
    /// let ready = try EngramStore(path: "memory.engram", embedder: try MiniLMEmbedder())
    /// ```
    ///
    /// The old indexes are dropped in one transaction, then the records are read in one snapshot,
    /// embedded `batchSize` at a time outside any transaction, and each batch's vectors written in
    /// one write transaction (a record deleted or changed meanwhile is skipped: its own write embeds
    /// it). Searches meanwhile find only the records re-embedded so far; run it while no agent writes.
    /// - Parameters:
    ///   - batchSize: texts per call of the embedder, 1…10,000.
    ///   - progress: called after each batch.
    /// - Returns: what was done.
    /// - Throws: `invalidArgument` for a bad batch size; what the embedder throws (the batches
    ///   before stay written; running it again starts over).
    @discardableResult
    public func reindex(
        with embedder: any Embedder, batchSize: Int = 256, progress: (@Sendable (ReindexProgress) -> Void)? = nil
    ) async throws -> ReindexSummary {
        guard (1...10_000).contains(batchSize) else {
            throw EngramError(.invalidArgument, "a reindex batch size must be in 1...10000, got \(batchSize)")
        }
        try dropMemoryIndexes()
        let work = try reindexWork()
        var summary = ReindexSummary(
            model: embedder.modelID, records: 0, empty: 0, tenants: Set(work.map(\.tenant)).count)
        var start = 0
        while start < work.count {
            let batch = Array(work[start..<min(start + batchSize, work.count)])
            let vectors = try await Self.embed(batch.map(\.text), with: embedder) ?? []
            let written = try writeTenants { write in
                var written = (records: 0, empty: 0)
                for (item, vector) in zip(batch, vectors) {
                    let graph = try write.graph(item.tenant)
                    guard let record = try graph.memoryNode(item.node), MemoryText.of(record)?.text == item.text else {
                        continue
                    }
                    try write.vectors(graph).setMemoryVector(
                        vector, model: embedder.modelID, node: item.node, index: item.index, path: path)
                    if vector.contains(where: { $0 != 0 }) { written.records += 1 } else { written.empty += 1 }
                }
                return written
            }
            summary.records += written.records
            summary.empty += written.empty
            start += batch.count
            progress?(ReindexProgress(done: start, total: work.count))
        }
        return summary
    }

    /// Drops every tenant's memory vector indexes, in one transaction.
    private func dropMemoryIndexes() throws {
        var dropped: [(tenant: UInt32, index: UInt32)] = []
        try writeTenants { write in
            dropped = []
            for tenant in try memoryTenants(in: write.txn) {
                let graph = try write.graph(tenant)
                guard let tenantID = graph.tenant else { continue }
                let keyspaces = write.registry.keyspaces
                for index in MemoryVectorIndex.allCases {
                    guard let definition = try write.vectors(graph).definition(index.name) else { continue }
                    try write.txn.delete(VectorKey.definition(tenantID, index.name), in: keyspaces.indexes)
                    let prefix = VectorKey.index(tenantID, definition.id).bytes
                    for keyspace in [keyspaces.graph, keyspaces.ids] {
                        let cursor = try write.txn.makeCursor(in: keyspace)
                        var entry = try cursor.seek(atOrAfter: prefix)
                        while let current = entry, current.key.starts(with: prefix) {
                            try cursor.deleteCurrent()
                            entry = try cursor.seek(atOrAfter: prefix)
                        }
                    }
                    dropped.append((tenantID, definition.id))
                }
            }
        }
        let registry = try vectorRegistry
        for (tenant, index) in dropped { registry.drop(tenant: tenant, index: index) }
    }

    /// Every memory, message and entity of every tenant with the text to embed, from one snapshot.
    private func reindexWork() throws -> [(tenant: String, node: UInt64, index: MemoryVectorIndex, text: String)] {
        try environment.read { txn in
            var work: [(tenant: String, node: UInt64, index: MemoryVectorIndex, text: String)] = []
            for tenant in try memoryTenants(in: txn) {
                let graph = try GraphSession(txn: txn, catalog: catalog, tenant: tenant)
                for label in ["Memory", "Message", "Entity"] {
                    for node in try graph.nodes(label: label) {
                        guard let record = try graph.memoryNode(node), let (index, text) = MemoryText.of(record) else {
                            continue
                        }
                        work.append((tenant, node, index, text))
                    }
                }
            }
            return work
        }
    }
}
