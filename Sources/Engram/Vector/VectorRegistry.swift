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
        // An index created in an aborted transaction may leave a state whose (tenant, index) ids a
        // later index reuses (the sequences rolled back too): the definition tells them apart.
        if let state = states.withLock({ $0[key] }), state.definition == definition { return state }
        let loaded = try VectorIndexState.load(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        return states.withLock { table in
            if let existing = table[key], existing.definition == definition { return existing }
            table[key] = loaded
            return loaded
        }
    }

    /// Forgets an index's in-memory state, so that its next use restores it from the store.
    func drop(tenant: UInt32, index: UInt32) {
        _ = states.withLock { $0.removeValue(forKey: IndexKey(tenant: tenant, index: index)) }
    }

    /// Forgets every in-memory index of a tenant, after the tenant was dropped.
    func drop(tenant: UInt32) {
        states.withLock { table in table = table.filter { $0.key.tenant != tenant } }
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
    /// The sequence number of that state (see ``VectorIndexMeta/sequence``); read without a lock
    /// by searches, to notice a snapshot newer than the graph (another process wrote).
    let sequence: Atomic<UInt64>
    var pending: Pending?
    /// The node of every vector key the graph holds (and of some it no longer does), and the
    /// graph version that last equalled a committed state: what lets a search skip the
    /// per-hit lookup of `t i 00 k` (see ``nodes(ofKeys:index:version:sequence:)``).
    private let nodeMap: Mutex<NodeMap>

    struct NodeMap {
        /// Vector key → internal node id: every committed key, plus the keys of the pending
        /// writer's inserts (a key is reused only after its transaction aborted, and then
        /// overwritten here). Removed keys go once their removal committed.
        var nodeOfKey: [UInt64: UInt64] = [:]
        /// The graph and its ``HNSWIndex/version`` when they last equalled the committed state of
        /// meta sequence `sequence`; `nil` while unknown.
        var settled: (index: HNSWIndex, version: UInt64, sequence: UInt64)?
    }

    /// What an unresolved write transaction did to the graph.
    struct Pending {
        /// The session that wrote it.
        var token: ObjectIdentifier
        /// The generation token the transaction stored; the store holds it iff it committed.
        var generation: UInt64
        /// The sequence number the transaction stored.
        var sequence: UInt64
        /// The slots whose records the transaction changed in the graph (inserts, consolidation).
        var touched: Set<UInt32> = []
        /// The slots the transaction deleted, applied to the graph once it committed.
        var tombstones: [UInt32] = []
        /// The vector keys of those slots, dropped from the node map once it committed.
        var removedKeys: [UInt64] = []
    }

    /// The graph searches use.
    var index: HNSWIndex { current.withLock { $0 } }

    private init(
        tenant: UInt32, definition: VectorIndexRecord, keyspaces: VectorKeyspaces, index: HNSWIndex,
        meta: VectorIndexMeta, nodeOfKey: [UInt64: UInt64]
    ) {
        self.tenant = tenant
        self.definition = definition
        self.keyspaces = keyspaces
        self.current = Mutex(index)
        self.generation = meta.generation
        self.sequence = Atomic(meta.sequence)
        self.nodeMap = Mutex(NodeMap(nodeOfKey: nodeOfKey, settled: (index, index.version, meta.sequence)))
    }

    static func load(tenant: UInt32, definition: VectorIndexRecord, keyspaces: VectorKeyspaces, in txn: Transaction)
        throws
        -> VectorIndexState
    {
        let (index, meta) = try restore(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        let nodeOfKey = try readNodeMap(
            tenant: tenant, index: definition.id, keyspaces: keyspaces, expectedCount: index.count, in: txn)
        return VectorIndexState(
            tenant: tenant, definition: definition, keyspaces: keyspaces, index: index, meta: meta,
            nodeOfKey: nodeOfKey)
    }

    /// Every `t i 00 k → n` of the snapshot (one forward scan).
    static func readNodeMap(
        tenant: UInt32, index: UInt32, keyspaces: VectorKeyspaces, expectedCount: Int, in txn: Transaction
    ) throws -> [UInt64: UInt64] {
        var map: [UInt64: UInt64] = [:]
        map.reserveCapacity(expectedCount)
        let prefix = VectorKey.index(tenant, index).bytes + [0]
        try txn.scan(in: keyspaces.ids, prefix: prefix) { key, value in
            guard key.count == prefix.count + 8, value.count >= 8 else {
                throw EngramError(.corrupted, "a vector id map entry of index \(index) has \(key.count)/\(value.count) bytes")
            }
            map[VectorKey.uint64(key, at: prefix.count)] = VectorKey.uint64(value, at: 0)
            return true
        }
        return map
    }

    /// Replaces the graph (and the node map) with a restore from `txn`'s snapshot.
    private func replace(with restored: HNSWIndex, meta: VectorIndexMeta, in txn: Transaction) throws {
        let nodeOfKey = try Self.readNodeMap(
            tenant: tenant, index: definition.id, keyspaces: keyspaces, expectedCount: restored.count, in: txn)
        current.withLock { $0 = restored }
        nodeMap.withLock { $0 = NodeMap(nodeOfKey: nodeOfKey, settled: (restored, restored.version, meta.sequence)) }
        generation = meta.generation
        sequence.store(meta.sequence, ordering: .releasing)
    }

    /// Marks the graph as it is now as equal to the committed state of meta sequence `sequence`.
    private func markSettled(sequence: UInt64, removing removedKeys: [UInt64] = []) {
        let index = self.index
        let version = index.version
        nodeMap.withLock { map in
            for key in removedKeys { map.nodeOfKey[key] = nil }
            map.settled = (index, version, sequence)
        }
    }

    /// Notes the node of a vector key the pending writer inserted.
    func noteInserted(key: UInt64, node: UInt64) {
        nodeMap.withLock { $0.nodeOfKey[key] = node }
    }

    /// The nodes of `keys`, when a search that observed `version` of `index` ran on a graph equal
    /// to the committed state of meta sequence `sequence` (the snapshot's): then every key it
    /// returned is committed in that snapshot and the node map holds its node, so the search
    /// needs no lookup per hit. `nil` otherwise (a writer's inserts or an unapplied removal in
    /// the graph, or a snapshot older or newer than the graph): the search checks each hit in
    /// its snapshot. An entry is `nil` for a key the map lacks (never expected; checked in the
    /// snapshot as well).
    func nodes(ofKeys keys: some Sequence<UInt64>, index: HNSWIndex, version: UInt64, sequence: UInt64)
        -> [UInt64?]?
    {
        nodeMap.withLock { map in
            guard let settled = map.settled, settled.index === index, settled.version == version,
                settled.sequence == sequence
            else { return nil }
            return keys.map { map.nodeOfKey[$0] }
        }
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
        let records = RecordScan(
            cursor: try txn.makeCursor(in: keyspaces.graph), prefix: prefix, dimension: definition.dimension,
            entryPoint: meta.entryPointRecord)
        let index: HNSWIndex
        do {
            index = try HNSWIndex(
                dimension: definition.dimension, metric: definition.metric, parameters: definition.parameters,
                restoringFrom: records, capacity: capacity)
        } catch {
            throw records.failure.value
                ?? EngramError(
                    .corrupted, "vector index \(definition.id) of tenant \(tenant) cannot be restored: \(error)")
        }
        if let failure = records.failure.value { throw failure }
        return (index, meta)
    }

    /// The records of one index, decoded one at a time from a cursor (no array of 100,000 vectors
    /// in between), then the entry point. Valid only inside the transaction of its cursor.
    struct RecordScan: Sequence {
        let cursor: Cursor
        let prefix: [UInt8]
        let dimension: Int
        let entryPoint: HNSWRecord
        /// The first storage or decoding error, which ends the sequence.
        let failure = Box<(any Error)?>(nil)

        final class Box<T> {
            var value: T
            init(_ value: T) { self.value = value }
        }

        struct Iterator: IteratorProtocol {
            let scan: RecordScan
            var started = false
            var finished = false

            mutating func next() -> HNSWRecord? {
                guard !finished else { return nil }
                do {
                    let entry = try started ? scan.cursor.next() : scan.cursor.seek(atOrAfter: scan.prefix)
                    started = true
                    if let (key, value) = entry, key.starts(with: scan.prefix) {
                        return try VectorIndexState.decode(
                            key: key, value: value, prefixLength: scan.prefix.count, dimension: scan.dimension)
                    }
                } catch {
                    scan.failure.value = error
                }
                finished = true
                return scan.failure.value == nil ? scan.entryPoint : nil
            }
        }

        func makeIterator() -> Iterator { Iterator(scan: self) }
    }

    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, prefixLength: Int, dimension: Int)
        throws
        -> HNSWRecord
    {
        guard key.count == prefixLength + 5 else {
            throw EngramError(.corrupted, "a vector graph key has \(key.count) bytes")
        }
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
                    try Self.decode(
                        key: key, value: value, prefixLength: prefix.count - 4, dimension: definition.dimension))
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
                    sequence.store(pending.sequence, ordering: .releasing)
                    nodeMap.withLock { map in for key in pending.removedKeys { map.nodeOfKey[key] = nil } }
                } else {
                    try index.apply(try committedRecords(of: pending.touched, in: txn) + [stored.entryPointRecord])
                }
            } catch {
                generation = 0 &- 1  // force the reload below
            }
        }
        if stored.generation != generation {
            let (restored, meta) = try Self.restore(
                tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
            try replace(with: restored, meta: meta, in: txn)
        } else {
            // The graph now equals the state committed in `txn` (nothing of this transaction is
            // written yet when a writer calls this).
            markSettled(sequence: stored.sequence)
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
            sequence.store(pending.sequence, ordering: .releasing)
            markSettled(sequence: pending.sequence, removing: pending.removedKeys)
        } catch {
            generation = 0 &- 1  // the next writer reloads
        }
    }

    /// Called by a search whose snapshot holds `stored`: when that is newer than the graph and no
    /// write of this process is pending (so another process wrote), restores the graph from the
    /// snapshot. Skipped when a writer of this process holds the lock: it settles the graph itself.
    func refreshIfBehind(_ stored: VectorIndexMeta, in txn: Transaction) throws {
        guard stored.sequence > sequence.load(ordering: .acquiring), writerLock.try() else { return }
        defer { writerLock.unlock() }
        guard pending == nil, stored.sequence > sequence.load(ordering: .acquiring) else { return }
        let (restored, meta) = try Self.restore(tenant: tenant, definition: definition, keyspaces: keyspaces, in: txn)
        try replace(with: restored, meta: meta, in: txn)
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
            if nodeOfKey[vectorKey] != node {
                problems.append("node \(node) maps to key \(vectorKey), which does not map back")
            }
            let storedKey = try txn.withValue(
                forKey: VectorKey.slot(tenant, definition.id, slot, VectorKey.nodeSub), in: keyspaces.graph
            ) { $0.map { VectorKey.uint64($0, at: 0) } }
            if storedKey != vectorKey { problems.append("node \(node): slot \(slot) does not hold key \(vectorKey)") }
            return true
        }
        if mapped != nodeOfKey.count {
            problems.append("\(mapped) nodes map to keys, \(nodeOfKey.count) keys to nodes")
        }
        return problems
    }
}
