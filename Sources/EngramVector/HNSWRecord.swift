/// One persisted fact about an ``HNSWIndex``: the unit in which a mutation reports what it
/// changed, and from which an index is restored without computing a single distance.
///
/// A key-value store keeps one entry per node, per (node, level) link list, per tombstone, and one
/// for the entry point; `docs/hnsw.md` proposes a key layout. Records are *states*, not deltas:
/// writing a record replaces what the store held under its key, so replaying the records of a
/// change set twice is harmless.
package enum HNSWRecord: Sendable, Hashable {
    /// `slot` now holds the vector of `id`, with the node's `level`. The vector is as the index
    /// stores it (normalised for cosine), `dimension` components. Overwrites the slot's node and
    /// clears its tombstone; its link lists follow as ``links(slot:level:neighbours:)`` records.
    case node(slot: UInt32, id: UInt64, level: Int, vector: [Float])
    /// The link list of `slot` at `level` is now `neighbours` (slots).
    case links(slot: UInt32, level: Int, neighbours: [UInt32])
    /// The node in `slot` is deleted: it still routes searches but is never returned.
    case tombstone(slot: UInt32)
    /// `slot` is empty: the store deletes its node, its tombstone and its link lists at levels
    /// `0...level`.
    case freed(slot: UInt32, level: Int)
    /// The entry point is now `slot` (or none, for an empty graph) and the top level `maxLevel`.
    case entryPoint(slot: UInt32?, maxLevel: Int)
}

/// The records one or more mutations of an ``HNSWIndex`` wrote, in the order to apply them.
///
/// Pass one to ``HNSWIndex/insert(_:id:changes:)`` (or `update`, `remove`,
/// `consolidateDeletions`) and write its ``records`` in the same write transaction as the data
/// they belong to.
package struct HNSWChangeSet: Sendable, Hashable {
    /// The records, in order.
    package var records: [HNSWRecord] = []

    /// An empty change set.
    package init() {}

    /// Whether no record was written.
    package var isEmpty: Bool { records.isEmpty }
}

/// Collects what a running mutation touched; turned into records when the mutation ends, so a
/// list rewritten many times is reported once, in its final state.
struct ChangeRecorder {
    private var freed: [(slot: UInt32, level: Int)] = []
    private var nodes: [UInt32] = []
    private var nodeSet: Set<UInt32> = []
    private var tombstones: [UInt32] = []
    private var links: [LinkKey] = []
    private var linkSet: Set<LinkKey> = []
    private var entryPoint = false

    struct LinkKey: Hashable {
        var slot: UInt32
        var level: Int
    }

    mutating func nodeWritten(_ slot: UInt32) {
        if nodeSet.insert(slot).inserted { nodes.append(slot) }
    }

    mutating func linksWritten(_ slot: UInt32, level: Int) {
        let key = LinkKey(slot: slot, level: level)
        if linkSet.insert(key).inserted { links.append(key) }
    }

    mutating func tombstoneWritten(_ slot: UInt32) { tombstones.append(slot) }

    mutating func slotFreed(_ slot: UInt32, level: Int) { freed.append((slot, level)) }

    mutating func entryPointWritten() { entryPoint = true }

    /// The records, read from the graph's current state: freed slots, nodes, tombstones, link
    /// lists, entry point.
    func records(from graph: HNSWGraph) -> [HNSWRecord] {
        var result: [HNSWRecord] = []
        result.reserveCapacity(freed.count + nodes.count + tombstones.count + links.count + 1)
        for (slot, level) in freed where graph.states[Int(slot)] == .free {
            result.append(.freed(slot: slot, level: level))
        }
        for slot in nodes where graph.states[Int(slot)] != .free {
            result.append(graph.nodeRecord(slot))
        }
        for slot in tombstones where graph.states[Int(slot)] == .deleted {
            result.append(.tombstone(slot: slot))
        }
        for key in links where graph.states[Int(key.slot)] != .free && key.level <= Int(graph.levels[Int(key.slot)]) {
            result.append(
                .links(
                    slot: key.slot, level: key.level,
                    neighbours: Array(graph.neighbours(of: key.slot, level: key.level))))
        }
        if entryPoint { result.append(.entryPoint(slot: graph.entryPoint, maxLevel: graph.maxLevel)) }
        return result
    }
}

extension HNSWGraph {
    func nodeRecord(_ slot: UInt32) -> HNSWRecord {
        .node(
            slot: slot, id: ids[Int(slot)], level: Int(levels[Int(slot)]),
            vector: Array(UnsafeBufferPointer(start: vector(slot), count: dimension)))
    }

    /// Every record needed to restore the graph: nodes, tombstones, link lists, entry point.
    func allRecords() -> [HNSWRecord] {
        var result: [HNSWRecord] = []
        for s in 0..<slotCount where states[s] != .free {
            let slot = UInt32(s)
            result.append(nodeRecord(slot))
            if states[s] == .deleted { result.append(.tombstone(slot: slot)) }
            for level in 0...Int(levels[s]) {
                result.append(.links(slot: slot, level: level, neighbours: Array(neighbours(of: slot, level: level))))
            }
        }
        result.append(.entryPoint(slot: entryPoint, maxLevel: maxLevel))
        return result
    }

    /// Applies persisted records in order, then checks what they touched. When a record is
    /// rejected, the graph is sanitised (``sanitize()``) before the error is rethrown, so that a
    /// live index stays memory-safe to search.
    func apply(_ records: some Sequence<HNSWRecord>) throws(VectorIndexError) {
        do {
            try applyUnchecked(records)
        } catch {
            sanitize()
            throw error
        }
    }

    /// Drops every link that does not lead to an occupied slot present at that level (and self
    /// and duplicate links), re-derives the id map, counts and in-degrees, and picks a valid entry
    /// point: the state a rejected ``apply(_:)`` leaves behind.
    func sanitize() {
        slotOfID.removeAll(keepingCapacity: true)
        var live = 0
        var deleted = 0
        var best: UInt32? = nil
        var bestLevel = -1
        for s in 0..<slotCount {
            let slot = UInt32(s)
            switch states[s] {
            case .free: continue
            case .live:
                if slotOfID[ids[s]] == nil {
                    slotOfID[ids[s]] = slot
                    live += 1
                } else {
                    states[s] = .deleted
                    deleted += 1
                }
            case .deleted: deleted += 1
            }
            if Int(levels[s]) > bestLevel {
                best = slot
                bestLevel = Int(levels[s])
            }
            for level in 0...Int(levels[s]) {
                let list = linkList(slot, level: level)
                var kept = 0
                var seen = Set<UInt32>()
                for i in 0..<Swift.min(Int(list[0]), capacity(at: level)) {
                    let link = list[i + 1]
                    guard link != slot, Int(link) < slotCount, states[Int(link)] != .free,
                        Int(levels[Int(link)]) >= level, seen.insert(link).inserted
                    else { continue }
                    list[kept + 1] = link
                    kept += 1
                }
                list[0] = UInt32(kept)
            }
        }
        liveCount = live
        deletedCount = deleted
        if let entryPoint, Int(entryPoint) < slotCount, states[Int(entryPoint)] != .free,
            Int(levels[Int(entryPoint)]) == maxLevel, maxLevel == bestLevel
        {
            // Keep it.
        } else {
            entryPoint = best
            maxLevel = Swift.max(bestLevel, 0)
        }
        recountInDegrees()
    }

    private func applyUnchecked(_ records: some Sequence<HNSWRecord>) throws(VectorIndexError) {
        var touched: [UInt32] = []
        for record in records {
            switch record {
            case .node(let slot, let id, let level, let vector):
                try vector.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
                    try restoreNode(slot: slot, id: id, level: level, vector: buffer)
                }
                touched.append(slot)
            case .links(let slot, let level, let neighbours):
                try neighbours.withUnsafeBufferPointer { (buffer) throws(VectorIndexError) in
                    try restoreLinks(slot: slot, level: level, links: buffer)
                }
                touched.append(slot)
            case .tombstone(let slot):
                try restoreTombstone(slot: slot)
                touched.append(slot)
            case .freed(let slot, _):
                restoreFree(slot: slot)
            case .entryPoint(let slot, let level):
                guard (0...Self.levelCap).contains(level) else { throw .corruptRecord("max level \(level)") }
                entryPoint = slot
                maxLevel = level
            }
        }
        try finishRestore(touched: touched)
    }
}
