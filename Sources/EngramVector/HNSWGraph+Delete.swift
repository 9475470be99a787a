extension HNSWGraph {
    /// Repairs the graph around every tombstone and frees the tombstones' slots.
    ///
    /// For each live node with a deleted neighbour at some level, the new list is the heuristic
    /// choice among its live neighbours and the live nodes reached through its deleted neighbours
    /// (following chains of deleted nodes up to ``repairHops`` links away). When that leaves fewer
    /// than `M / 2` candidates, a layer search from the entry point adds more (as hnswlib's
    /// `repairConnectionsForUpdate` does). Afterwards no link leads to a deleted node and the
    /// deleted slots are free for reuse.
    ///
    /// - Complexity: O(n · M) to scan, plus a heuristic selection per repaired list.
    func consolidateDeletions(scratch: SearchScratch) {
        guard deletedCount > 0 else { return }
        // A live entry point first, so that searches made during the repair start from a node
        // that stays.
        if let entryPoint, states[Int(entryPoint)] != .live {
            var best: UInt32? = nil
            var bestLevel = -1
            for s in 0..<slotCount where states[s] == .live && Int(levels[s]) > bestLevel {
                best = UInt32(s)
                bestLevel = Int(levels[s])
            }
            setEntryPoint(best, maxLevel: Swift.max(bestLevel, 0))
        }
        var deleted: [UInt32] = []
        for s in 0..<slotCount where states[s] == .deleted { deleted.append(UInt32(s)) }
        if entryPoint != nil {
            var pool: [Candidate] = []
            var seen = Set<UInt32>()
            for s in 0..<slotCount where states[s] == .live {
                let slot = UInt32(s)
                for level in 0...Int(levels[s]) {
                    let links = neighbours(of: slot, level: level)
                    guard links.contains(where: { states[Int($0)] == .deleted }) else { continue }
                    repair(slot, level: level, pool: &pool, seen: &seen, scratch: scratch)
                }
            }
        }
        for slot in deleted { free(slot) }
        if entryPoint == nil || liveCount == 0 {
            setEntryPoint(nil, maxLevel: 0)
            orphanCandidates.removeAll()
        } else {
            adoptOrphans(scratch: scratch)
        }
    }

    /// How far the repair follows chains of deleted nodes to find replacement neighbours.
    static var repairHops: Int { 2 }

    private func repair(
        _ slot: UInt32, level: Int, pool: inout [Candidate], seen: inout Set<UInt32>, scratch: SearchScratch
    ) {
        pool.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
        seen.insert(slot)
        let base = vector(slot)
        var frontier: [UInt32] = []
        for link in neighbours(of: slot, level: level) where seen.insert(link).inserted {
            if states[Int(link)] == .live {
                pool.append(Candidate(distance: distance(base, vector(link)), slot: link))
            } else {
                frontier.append(link)
            }
        }
        var hops = 0
        while !frontier.isEmpty && hops < Self.repairHops {
            var next: [UInt32] = []
            for dead in frontier where Int(levels[Int(dead)]) >= level {
                for link in neighbours(of: dead, level: level) where seen.insert(link).inserted {
                    switch states[Int(link)] {
                    case .live: pool.append(Candidate(distance: distance(base, vector(link)), slot: link))
                    case .deleted: next.append(link)
                    case .free: break
                    }
                }
            }
            frontier = next
            hops += 1
        }
        if pool.count < maxM / 2, let start = descend(to: level, query: base) {
            searchLayer(
                query: base, entry: start, level: level, ef: parameters.efConstruction,
                admission: AdmitLive(states: states), scratch: scratch)
            while !scratch.results.isEmpty {
                let c = scratch.results.pop()
                if seen.insert(c.slot).inserted { pool.append(c) }
            }
        }
        selectNeighbours(&pool, limit: capacity(at: level), scratch: scratch)
        setLinks(slot, level: level, to: scratch.selected.lazy.map(\.slot))
    }
}
