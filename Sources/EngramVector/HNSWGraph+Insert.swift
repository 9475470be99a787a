extension HNSWGraph {
    /// hnswlib's `getNeighborsByHeuristic2`: from `candidates` (distances to the base node), keeps
    /// at most `limit`, closest first, skipping a candidate that is closer to an already kept one
    /// than to the base node (it would add a redundant direction). Returns the kept ones in
    /// `scratch.selected`, closest first.
    func selectNeighbours(_ candidates: inout [Candidate], limit: Int, scratch: SearchScratch) {
        scratch.selected.removeAll(keepingCapacity: true)
        candidates.sort { ($0.distance, $0.slot) < ($1.distance, $1.slot) }
        if candidates.count <= limit {
            scratch.selected.append(contentsOf: candidates)
            return
        }
        for candidate in candidates {
            if scratch.selected.count >= limit { break }
            let v = vector(candidate.slot)
            var good = true
            for kept in scratch.selected where distance(v, vector(kept.slot)) < candidate.distance {
                good = false
                break
            }
            if good { scratch.selected.append(candidate) }
        }
    }

    /// hnswlib's `mutuallyConnectNewElement`: links `slot` at `level` to the heuristic choice
    /// among the layer search's results, and each chosen neighbour back to it (pruning the
    /// neighbour's list with the heuristic when full). Returns the closest chosen neighbour, the
    /// entry for the next level down.
    func connect(_ slot: UInt32, level: Int, scratch: SearchScratch) -> Candidate? {
        var candidates = scratch.selection
        candidates.removeAll(keepingCapacity: true)
        while !scratch.results.isEmpty {
            let c = scratch.results.pop()
            if c.slot != slot { candidates.append(c) }
        }
        selectNeighbours(&candidates, limit: maxM, scratch: scratch)
        let chosen = scratch.selected
        scratch.selection = candidates
        guard let closest = chosen.first else { return nil }
        setLinks(slot, level: level, to: chosen.lazy.map(\.slot))
        let limit = capacity(at: level)
        let base = vector(slot)
        for neighbour in chosen {
            let list = linkList(neighbour.slot, level: level)
            let n = Int(list[0])
            if n < limit {
                appendLink(neighbour.slot, level: level, slot)
                continue
            }
            var pool = scratch.selection
            pool.removeAll(keepingCapacity: true)
            let nv = vector(neighbour.slot)
            pool.append(Candidate(distance: distance(base, nv), slot: slot))
            for i in 0..<n {
                let other = list[i + 1]
                pool.append(Candidate(distance: distance(nv, vector(other)), slot: other))
            }
            selectNeighbours(&pool, limit: limit, scratch: scratch)
            setLinks(neighbour.slot, level: level, to: scratch.selected.lazy.map(\.slot))
            scratch.selection = pool
        }
        return closest
    }

    /// Inserts a prepared (validated, padded, normalised) vector under a new id.
    func insert(prepared source: UnsafePointer<Float>, id: UInt64, scratch: SearchScratch) throws(VectorIndexError) {
        let slot = try takeSlot()
        let level = randomLevel(for: id)
        place(slot: slot, id: id, level: level, vector: source)
        guard let entryPoint else {
            for l in 0...level { recorder?.linksWritten(slot, level: l) }
            setEntryPoint(slot, maxLevel: level)
            return
        }
        let base = vector(slot)
        for l in 0...level { recorder?.linksWritten(slot, level: l) }
        var current = Candidate(distance: distance(base, vector(entryPoint)), slot: entryPoint)
        if level < maxLevel, let start = descend(to: level, query: base) { current = start }
        var l = Swift.min(level, maxLevel)
        while l >= 0 {
            searchLayer(
                query: base, entry: current, level: l, ef: parameters.efConstruction,
                admission: AdmitLive(states: states), scratch: scratch)
            if let next = connect(slot, level: l, scratch: scratch) { current = next }
            l -= 1
        }
        if level > maxLevel {
            // The old entry point loses its role as the root of every walk: it now needs a link.
            if inDegree[Int(entryPoint)] == 0 { orphanCandidates.append(entryPoint) }
            setEntryPoint(slot, maxLevel: level)
        }
        if inDegree[Int(slot)] == 0 { orphanCandidates.append(slot) }
        adoptOrphans(scratch: scratch)
    }

    /// Re-links every live node that lost its last incoming link during the mutation (a neighbour
    /// list pruned by the heuristic, or a deleted node freed), so that every live node stays
    /// reachable: the nearest node with room takes it; failing that, the nearest whose farthest
    /// link leads to a node that has other incoming links swaps that link for it.
    func adoptOrphans(scratch: SearchScratch) {
        while let orphan = orphanCandidates.popLast() {
            let o = Int(orphan)
            guard states[o] == .live, inDegree[o] == 0, orphan != entryPoint, liveCount > 1 else { continue }
            adopt(orphan, scratch: scratch)
        }
    }

    private func adopt(_ orphan: UInt32, scratch: SearchScratch) {
        let base = vector(orphan)
        guard let start = descend(to: 0, query: base) else { return }
        searchLayer(
            query: base, entry: start, level: 0, ef: parameters.efConstruction, admission: AdmitLive(states: states),
            scratch: scratch)
        var hosts = scratch.selection
        hosts.removeAll(keepingCapacity: true)
        while !scratch.results.isEmpty {
            let c = scratch.results.pop()
            if c.slot != orphan { hosts.append(c) }
        }
        hosts.reverse()  // nearest first
        defer { scratch.selection = hosts }
        for host in hosts where Int(linkList(host.slot, level: 0)[0]) < maxM0 {
            appendLink(host.slot, level: 0, orphan)
            return
        }
        for host in hosts {
            let list = linkList(host.slot, level: 0)
            let hv = vector(host.slot)
            var victim = -1
            var victimDistance = -Float.infinity
            for i in 0..<Int(list[0]) where list[i + 1] != orphan && inDegree[Int(list[i + 1])] > 1 {
                let d = distance(hv, vector(list[i + 1]))
                if d > victimDistance {
                    victim = i
                    victimDistance = d
                }
            }
            guard victim >= 0 else { continue }
            var links = Array(UnsafeBufferPointer(start: list + 1, count: Int(list[0])))
            links[victim] = orphan
            setLinks(host.slot, level: 0, to: links)
            return
        }
    }
}
