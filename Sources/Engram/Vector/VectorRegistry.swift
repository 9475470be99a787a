import EngramCore
import EngramStorage
import EngramVector
import Foundation
import Synchronization

/// The in-memory HNSW indexes of one open environment, one per (tenant, index), each restored
/// from its records on first use.
///
/// See `docs/hnsw.md` ("Persistence in the store") for how an index stays equal to the committed
/// records when transactions abort or re-run, and how searches coexist with the writer.
final class VectorRegistry: Sendable {
    let keyspaces: VectorKeyspaces

    struct IndexKey: Hashable, Sendable {
        var tenant: UInt32
        var index: UInt32
    }

    private let states = Mutex<[IndexKey: VectorIndexState]>([:])

    init(keyspaces: VectorKeyspaces) {
        self.keyspaces = keyspaces
    }

    /// The in-memory state of an index, restored from `txn`'s snapshot when it is not loaded yet.
    func state(tenant: UInt32, definition: VectorIndexRecord, in txn: Transaction) throws -> VectorIndexState {
        let key = IndexKey(tenant: tenant, index: definition.id)
        if let state = states.withLock({ $0[key] }) { return state }
        let loaded = try VectorIndexState.load(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        return states.withLock { table in
            if let existing = table[key] { return existing }
            table[key] = loaded
            return loaded
        }
    }

    /// Forgets an index's in-memory state, so that its next use restores it from the store.
    func drop(tenant: UInt32, index: UInt32) {
        _ = states.withLock { $0.removeValue(forKey: IndexKey(tenant: tenant, index: index)) }
    }

    /// The loaded state of an index, if any (for tests and the invariant checker).
    func loadedState(tenant: UInt32, index: UInt32) -> VectorIndexState? {
        states.withLock { $0[IndexKey(tenant: tenant, index: index)] }
    }
}

/// One index's in-memory HNSW graph and what the last writer did to it.
///
/// The graph runs ahead of the store only by the *inserts* (and consolidations) of the one write
/// transaction in progress: a search checks every result against its own snapshot and drops what
/// it cannot see. Removals are written to the store at once but applied to the graph only after
/// their transaction committed, so readers of older snapshots still find the vectors. The writer
/// leaves a ``Pending`` note; whoever comes next (the same writer after its commit or abort, or
/// the next write transaction) resolves it against the stored generation token: equal means
/// committed (apply the deferred tombstones), different means aborted (re-apply the committed
/// records of every slot the transaction touched).
final class VectorIndexState: @unchecked Sendable {
    // Safe (@unchecked): `current` is a Mutex; `generation` and `pending` are read and written only
    // under `writerLock`.
    let tenant: UInt32
    let definition: VectorIndexRecord
    let keyspaces: VectorKeyspaces
    private let current: Mutex<HNSWIndex>
    let writerLock = NSLock()
    /// The generation token of the committed state the graph reflects (besides `pending`).
    var generation: UInt64
    var pending: Pending?

    /// What an unresolved write transaction did to the graph.
    struct Pending {
        /// The session that wrote it.
        var token: ObjectIdentifier
        /// The generation token the transaction stored; the store holds it iff it committed.
        var generation: UInt64
        /// The slots whose records the transaction changed in the graph (inserts, consolidation).
        var touched: Set<UInt32> = []
        /// The slots the transaction deleted, applied to the graph once it committed.
        var tombstones: [UInt32] = []
    }

    /// The graph searches use.
    var index: HNSWIndex { current.withLock { $0 } }

    private init(tenant: UInt32, definition: VectorIndexRecord, keyspaces: VectorKeyspaces, index: HNSWIndex, generation: UInt64) {
        self.tenant = tenant
        self.definition = definition
        self.keyspaces = keyspaces
        self.current = Mutex(index)
        self.generation = generation
    }

    static func load(tenant: UInt32, definition: VectorIndexRecord, keyspaces: VectorKeyspaces, in txn: Transaction) throws
        -> VectorIndexState
    {
        let (index, meta) = try restore(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        return VectorIndexState(
            tenant: tenant, definition: definition, keyspaces: keyspaces, index: index, generation: meta.generation)
    }

    /// Rebuilds the graph from the records in `txn`'s snapshot, without computing a distance.
    static func restore(tenant: UInt32, definition: VectorIndexRecord, keyspaces: VectorKeyspaces, in txn: Transaction)
        throws -> (HNSWIndex, VectorIndexMeta)
    {
        let meta = try readMeta(tenant: tenant, index: definition.id, keyspaces: keyspaces, in: txn)
        let prefix = VectorKey.slots(tenant, definition.id)
        var capacity = 1024
        try txn.scan(in: keyspaces.graph, prefix: prefix, direction: .reverse) { key, _ in
            capacity = max(capacity, Int(VectorKey.uint32(key, at: prefix.count)) + 1)
            return false
        }
        var records: [HNSWRecord] = []
        records.reserveCapacity(capacity * 2)
        try txn.scan(in: keyspaces.graph, prefix: prefix) { key, value in
            records.append(try decode(key: key, value: value, prefixLength: prefix.count, dimension: definition.dimension))
            return true
        }
        records.append(meta.entryPointRecord)
        do {
            let index = try HNSWIndex(
                dimension: definition.dimension, metric: definition.metric, parameters: definition.parameters,
                restoringFrom: records, capacity: capacity)
            return (index, meta)
        } catch {
            throw EngramError(.corrupted, "vector index \(definition.id) of tenant \(tenant) cannot be restored: \(error)")
        }
    }

    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, prefixLength: Int, dimension: Int) throws
        -> HNSWRecord
    {
        guard key.count == prefixLength + 5 else { throw EngramError(.corrupted, "a vector graph key has \(key.count) bytes") }
        let slot = VectorKey.uint32(key, at: prefixLength)
        let sub = key[prefixLength + 4]
        switch sub {
        case VectorKey.nodeSub: return try VectorKey.decodeNode(value, slot: slot, dimension: dimension)
        case VectorKey.tombstoneSub: return .tombstone(slot: slot)
        default: return try VectorKey.decodeLinks(value, slot: slot, level: Int(sub - VectorKey.linksSub))
        }
    }

    static func readMeta(tenant: UInt32, index: UInt32, keyspaces: VectorKeyspaces, in txn: Transaction) throws
        -> VectorIndexMeta
    {
        try txn.withValue(forKey: VectorKey.meta(tenant, index), in: keyspaces.graph) { value in
            try value.map { try VectorIndexMeta(decoding: $0) } ?? .empty
        }
    }

    /// The committed records of `slots` (a `freed` record for a slot the store does not hold).
    private func committedRecords(of slots: some Sequence<UInt32>, in txn: Transaction) throws -> [HNSWRecord] {
        var records: [HNSWRecord] = []
        for slot in slots.sorted() {
            let prefix = VectorKey.slots(tenant, definition.id, slot)
            var found = false
            try txn.scan(in: keyspaces.graph, prefix: prefix) { key, value in
                found = true
                records.append(
                    try Self.decode(key: key, value: value, prefixLength: prefix.count - 4, dimension: definition.dimension))
                return true
            }
            if !found { records.append(.freed(slot: slot, level: 0)) }
        }
        return records
    }

    // MARK: Writer side (under `writerLock`)

    /// Brings the graph to the state committed in `txn` (a write transaction, or a read
    /// transaction begun after the writer of `pending` ended): applies the tombstones of a committed
    /// pending transaction, or undoes an aborted one; reloads the whole graph when the store holds
    /// a generation it does not know (another process wrote, or a damaged record was met).
    ///
    /// - Returns: the stored meta record.
    @discardableResult
    func resolve(in txn: Transaction) throws -> VectorIndexMeta {
        let stored = try Self.readMeta(tenant: tenant, index: definition.id, keyspaces: keyspaces, in: txn)
        if let pending {
            self.pending = nil
            do {
                if stored.generation == pending.generation {
                    if !pending.tombstones.isEmpty {
                        try index.apply(pending.tombstones.map { HNSWRecord.tombstone(slot: $0) })
                    }
                    generation = pending.generation
                } else {
                    try index.apply(try committedRecords(of: pending.touched, in: txn) + [stored.entryPointRecord])
                }
            } catch {
                generation = 0 &- 1  // force the reload below
            }
        }
        if stored.generation != generation {
            let (restored, meta) = try Self.restore(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
            current.withLock { $0 = restored }
            generation = meta.generation
        }
        return stored
    }

    /// After the transaction of the session `token` committed: applies its deferred tombstones.
    func finishCommitted(token: ObjectIdentifier) {
        writerLock.lock()
        defer { writerLock.unlock() }
        guard let pending, pending.token == token else { return }
        self.pending = nil
        do {
            if !pending.tombstones.isEmpty {
                try index.apply(pending.tombstones.map { HNSWRecord.tombstone(slot: $0) })
            }
            generation = pending.generation
        } catch {
            generation = 0 &- 1  // the next writer reloads
        }
    }

    /// After the transaction of the session `token` aborted: undoes what it did to the graph, from
    /// `txn`, a read transaction begun after the abort.
    func finishAborted(token: ObjectIdentifier, in txn: Transaction) throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        guard let pending, pending.token == token else { return }
        try resolve(in: txn)
    }

    /// Every problem of the graph, plus any disagreement with the records committed in `txn`.
    func checkInvariants(in txn: Transaction) throws -> [String] {
        var problems = index._checkInvariants()
        let (restored, _) = try Self.restore(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        problems += restored._checkInvariants().map { "restored: \($0)" }
        let live = Set(index.ids)
        let stored = Set(restored.ids)
        if pending == nil, live != stored {
            problems.append("the graph holds \(live.count) live vectors, the store \(stored.count)")
        }
        // The id maps: every live key maps to a node that maps back to it and to its slot.
        var nodeOfKey: [UInt64: UInt64] = [:]
        let keyPrefix = VectorKey.index(tenant, definition.id).bytes + [0]
        try txn.scan(in: keyspaces.ids, prefix: keyPrefix) { key, value in
            nodeOfKey[VectorKey.uint64(key, at: keyPrefix.count)] = VectorKey.uint64(value, at: 0)
            return true
        }
        if Set(nodeOfKey.keys) != stored {
            problems.append("\(nodeOfKey.count) vector keys map to nodes, the store holds \(stored.count) live vectors")
        }
        let nodePrefix = VectorKey.index(tenant, definition.id).bytes + [1]
        var mapped = 0
        try txn.scan(in: keyspaces.ids, prefix: nodePrefix) { key, value in
            mapped += 1
            let node = VectorKey.uint64(key, at: nodePrefix.count)
            let vectorKey = VectorKey.uint64(value, at: 0)
            let slot = VectorKey.uint32(value, at: 8)
            if nodeOfKey[vectorKey] != node { problems.append("node \(node) maps to key \(vectorKey), which does not map back") }
            let storedKey = try txn.withValue(
                forKey: VectorKey.slot(tenant, definition.id, slot, VectorKey.nodeSub), in: keyspaces.graph
            ) { $0.map { VectorKey.uint64($0, at: 0) } }
            if storedKey != vectorKey { problems.append("node \(node): slot \(slot) does not hold key \(vectorKey)") }
            return true
        }
        if mapped != nodeOfKey.count { problems.append("\(mapped) nodes map to keys, \(nodeOfKey.count) keys to nodes") }
        return problems
    }
}
