extension HNSWGraph {
    /// The violations of the graph's invariants (see ``HNSWIndex/_checkInvariants()``).
    func invariantViolations() -> [String] {
        var violations: [String] = []
        func fail(_ message: String) {
            if violations.count < 100 { violations.append(message) }
        }
        var live = 0
        var deleted = 0
        var topLevel = -1
        for s in 0..<slotCount {
            let slot = UInt32(s)
            switch states[s] {
            case .free: continue
            case .live:
                live += 1
                if slotOfID[ids[s]] != slot { fail("live slot \(s) (id \(ids[s])) is not in the id map") }
            case .deleted: deleted += 1
            }
            let level = Int(levels[s])
            topLevel = Swift.max(topLevel, level)
            for l in 0...level {
                let links = neighbours(of: slot, level: l)
                if links.count > capacity(at: l) { fail("slot \(s) has \(links.count) links at level \(l)") }
                var seen = Set<UInt32>()
                for link in links {
                    if link == slot { fail("slot \(s) links to itself at level \(l)") }
                    if !seen.insert(link).inserted { fail("slot \(s) links twice to \(link) at level \(l)") }
                    if Int(link) >= slotCount || states[Int(link)] == .free {
                        fail("slot \(s) links to empty slot \(link) at level \(l)")
                    } else if Int(levels[Int(link)]) < l {
                        fail("slot \(s) links at level \(l) to \(link), whose level is \(levels[Int(link)])")
                    }
                }
            }
        }
        if live != liveCount { fail("live count \(liveCount), but \(live) live slots") }
        if deleted != deletedCount { fail("deleted count \(deletedCount), but \(deleted) tombstones") }
        if slotOfID.count != live { fail("the id map has \(slotOfID.count) ids for \(live) live slots") }
        guard live + deleted > 0 else {
            if entryPoint != nil { fail("an empty graph has an entry point") }
            return violations
        }
        guard let entryPoint, Int(entryPoint) < slotCount, states[Int(entryPoint)] != .free else {
            fail("no valid entry point")
            return violations
        }
        if Int(levels[Int(entryPoint)]) != maxLevel {
            fail("the entry point's level is \(levels[Int(entryPoint)]), the max level \(maxLevel)")
        }
        if topLevel > maxLevel { fail("a node has level \(topLevel) above the max level \(maxLevel)") }
        // Reachability over the links of every level: the walk a search could take.
        var reached = [Bool](repeating: false, count: slotCount)
        var stack: [UInt32] = [entryPoint]
        reached[Int(entryPoint)] = true
        while let slot = stack.popLast() {
            for l in 0...Int(levels[Int(slot)]) {
                for link in neighbours(of: slot, level: l) where Int(link) < slotCount && !reached[Int(link)] {
                    reached[Int(link)] = true
                    stack.append(link)
                }
            }
        }
        var unreachable = 0
        for s in 0..<slotCount where states[s] == .live && !reached[s] { unreachable += 1 }
        if unreachable > 0 { fail("\(unreachable) live nodes are unreachable from the entry point") }
        return violations
    }
}
