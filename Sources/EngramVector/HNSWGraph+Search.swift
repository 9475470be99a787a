/// Which nodes a layer search may put into its result list (every node may route the search).
protocol SlotAdmission {
    func admits(_ slot: UInt32) -> Bool
}

/// Admits live nodes: tombstones route but are never results (queries and construction alike,
/// as in hnswlib, so new nodes never link to deleted ones).
struct AdmitLive: SlotAdmission {
    let states: UnsafeMutablePointer<SlotState>
    @inline(__always) func admits(_ slot: UInt32) -> Bool { states[Int(slot)] == .live }
}

/// Admits live nodes whose external id passes a filter.
struct AdmitFiltered: SlotAdmission {
    let states: UnsafeMutablePointer<SlotState>
    let ids: UnsafeMutablePointer<UInt64>
    let filter: VectorFilter
    @inline(__always) func admits(_ slot: UInt32) -> Bool {
        states[Int(slot)] == .live && filter.allows(ids[Int(slot)])
    }
}

extension HNSWGraph {
    /// Greedy descent from the entry point through levels `maxLevel…(target + 1)`: at each level,
    /// moves to the closest neighbour until none is closer. Returns the node to start level
    /// `target` from.
    func descend(to target: Int, query: UnsafePointer<Float>) -> Candidate? {
        guard let entryPoint else { return nil }
        var current = Candidate(distance: distance(query, vector(entryPoint)), slot: entryPoint)
        var level = maxLevel
        while level > target {
            var changed = true
            while changed {
                changed = false
                let list = linkList(current.slot, level: level)
                let n = Int(list[0])
                for i in 0..<n {
                    let next = list[i &+ 1]
                    let d = distance(query, vector(next))
                    if d < current.distance {
                        current = Candidate(distance: d, slot: next)
                        changed = true
                    }
                }
            }
            level -= 1
        }
        return current
    }

    /// The best-first search of one level (hnswlib's `searchBaseLayer` / `searchBaseLayerST`):
    /// leaves the (at most) `ef` closest admitted nodes in `scratch.results`, farthest on top.
    ///
    /// Every node routes the search; only admitted ones enter the results. While fewer than `ef`
    /// results are known every visited node is queued, so a filter that admits few nodes makes the
    /// search visit much of the graph (``HNSWIndex`` switches to exact search for those).
    func searchLayer<Admission: SlotAdmission>(
        query: UnsafePointer<Float>, entry: Candidate, level: Int, ef: Int, admission: Admission,
        scratch: SearchScratch
    ) {
        scratch.beginVisit(slotCount: slotCount)
        // The heaps and the visited array in locals: no exclusivity checks on the scratch
        // object's properties inside the loop.
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        let visited = scratch.visited
        let stamp = scratch.stamp
        let pending = scratch.pending
        let pendingDistances = scratch.pendingDistances
        let vectorLines = (paddedDimension &* 4 &+ 63) >> 6
        visited[Int(entry.slot)] = stamp
        var lowerBound: Float
        if admission.admits(entry.slot) {
            results.push(entry)
            lowerBound = entry.distance
        } else {
            lowerBound = .infinity
        }
        candidates.push(entry)
        let arena = self.arena
        let stride = nodeStride
        let linksOffset = self.linksOffset
        while !candidates.isEmpty {
            let current = candidates.top
            if current.distance > lowerBound && results.count >= ef { break }
            candidates.pop()
            if level == 0, !candidates.isEmpty {
                // The list of the next node to expand, as hnswlib does: by the time this node's
                // neighbours are measured it is in cache.
                prefetch(arena + (Int(candidates.top.slot) &* stride &+ linksOffset), lines: 1)
            }
            let list: UnsafeMutablePointer<UInt32>
            if level == 0 {
                // Safe: current.slot < slotCount; the level-0 list sits inside its block.
                list = (arena + (Int(current.slot) &* stride &+ linksOffset)).assumingMemoryBound(to: UInt32.self)
            } else {
                list = linkList(current.slot, level: level)
            }
            let n = Int(list[0])
            // First pass: the unvisited neighbours, and a prefetch of every cache line of their
            // vectors, so that the cache misses of all of them overlap instead of being taken one
            // vector at a time by the distance loop (docs/hnsw.md, "Distance kernels").
            var pendingCount = 0
            for i in 0..<n {
                let next = list[i &+ 1]
                if visited[Int(next)] == stamp { continue }
                visited[Int(next)] = stamp
                pending[pendingCount] = next
                pendingCount &+= 1
                prefetch(arena + Int(next) &* stride, lines: vectorLines)
            }
            // Safe: links always point at occupied slots (checked on restore).
            distanceFunction.batch(
                query, arena: arena, stride: stride, slots: pending, n: pendingCount, count: paddedDimension,
                into: pendingDistances)
            for j in 0..<pendingCount {
                let next = pending[j]
                let d = pendingDistances[j]
                if results.count < ef || d < lowerBound {
                    candidates.push(Candidate(distance: d, slot: next))
                    if admission.admits(next) {
                        results.push(Candidate(distance: d, slot: next))
                        if results.count > ef { results.pop() }
                        lowerBound = results.top.distance
                    }
                }
            }
        }
    }

    /// The `limit` nearest admitted nodes to a prepared query, nearest first (ties: smaller id).
    func search<Admission: SlotAdmission>(
        query: UnsafePointer<Float>, limit: Int, ef: Int, admission: Admission, scratch: SearchScratch
    ) -> [VectorSearchResult] {
        guard let start = descend(to: 0, query: query) else { return [] }
        searchLayer(
            query: query, entry: start, level: 0, ef: Swift.max(ef, limit), admission: admission, scratch: scratch)
        return drainResults(limit: limit, scratch: scratch)
    }

    /// The exact `limit` nearest nodes among `slots` (each checked with `admission`).
    func exactSearch<Admission: SlotAdmission>(
        query: UnsafePointer<Float>, limit: Int, slots: some Sequence<UInt32>, admission: Admission,
        scratch: SearchScratch
    ) -> [VectorSearchResult] {
        scratch.results.removeAll()
        for slot in slots where admission.admits(slot) {
            let d = distance(query, vector(slot))
            if scratch.results.count < limit {
                scratch.results.push(Candidate(distance: d, slot: slot))
            } else if d < scratch.results.top.distance {
                scratch.results.pop()
                scratch.results.push(Candidate(distance: d, slot: slot))
            }
        }
        return drainResults(limit: limit, scratch: scratch)
    }

    private func drainResults(limit: Int, scratch: SearchScratch) -> [VectorSearchResult] {
        while scratch.results.count > limit { scratch.results.pop() }
        var results: [VectorSearchResult] = []
        results.reserveCapacity(scratch.results.count)
        while !scratch.results.isEmpty {
            let c = scratch.results.pop()
            results.append(VectorSearchResult(id: ids[Int(c.slot)], distance: c.distance, metric: metric))
        }
        results.reverse()
        results.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        return results
    }
}
