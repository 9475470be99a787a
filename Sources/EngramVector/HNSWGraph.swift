import CEngramKernels
import Foundation
import HeapModule

/// The state of a slot of the graph.
enum SlotState: UInt8 {
    /// Never used, or freed after its tombstone was consolidated; reusable.
    case free = 0
    /// Holds a live vector.
    case live = 1
    /// Holds a deleted vector that still routes searches but is never returned.
    case deleted = 2
}

/// The HNSW graph and its memory, after hnswlib's `hnswalg.h`. Not thread-safe: ``HNSWIndex``
/// wraps it in a readers-writer lock.
///
/// Memory layout (no per-node objects):
/// - one 64-byte aligned **level-0 arena**, one fixed-size block per slot: the vector (padded to a
///   multiple of 16 floats), then the level-0 link list `[count: UInt32, links: 2·M × UInt32]`,
///   the block rounded up to 64 bytes so a vector starts on a cache line;
/// - one **upper arena** of `UInt32` words holding, for each node above level 0, its lists for
///   levels 1…level, each `[count, links: M × UInt32]`;
/// - per-slot arrays: external id, level, state, offset into the upper arena.
final class HNSWGraph {
    let dimension: Int
    let paddedDimension: Int
    let metric: VectorMetric
    let parameters: HNSWParameters
    let maxM: Int
    let maxM0: Int
    let levelMultiplier: Double
    /// The distance kernel (the widest instruction set this CPU runs).
    let distanceFunction: DistanceFunction

    /// Bytes per slot in the level-0 arena.
    let nodeStride: Int
    /// Byte offset of the level-0 link list inside a slot's block.
    let linksOffset: Int
    /// Words per upper-level link list (`1 + M`).
    let upperListWords: Int

    private(set) var arena: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// One past the highest slot ever used.
    private(set) var slotCount: Int = 0
    private(set) var ids: UnsafeMutablePointer<UInt64>
    private(set) var levels: UnsafeMutablePointer<UInt8>
    private(set) var states: UnsafeMutablePointer<SlotState>
    /// Word offset of a slot's level-1 list in ``upper``, or -1.
    private(set) var upperOffsets: UnsafeMutablePointer<Int32>
    /// Number of upper levels allocated for a slot (reused when a freed slot is taken again).
    private(set) var upperAllocated: UnsafeMutablePointer<UInt8>
    private(set) var upper: UnsafeMutablePointer<UInt32>
    /// The number of links, over all levels, that point at each slot. A live node with none is
    /// unreachable; mutations re-link such nodes (``adoptOrphans(scratch:)``).
    private(set) var inDegree: UnsafeMutablePointer<UInt32>
    /// Slots whose in-degree dropped to zero during the running mutation.
    var orphanCandidates: [UInt32] = []
    private(set) var upperCount: Int = 0
    private(set) var upperCapacity: Int

    var slotOfID: [UInt64: UInt32] = [:]
    /// Free slots below ``slotCount``, smallest first (stale entries are skipped when popped).
    var freeSlots = Heap<UInt32>()
    var entryPoint: UInt32? = nil
    var maxLevel: Int = 0
    var liveCount: Int = 0
    var deletedCount: Int = 0

    /// The change log of the running mutation, when the caller asked for one.
    var recorder: ChangeRecorder? = nil

    /// The highest level a node may get (a node reaches level `l` with probability `M^−l`; at
    /// `M = 16`, level 16 would need 2^64 nodes).
    static let levelCap = 16

    init(dimension: Int, metric: VectorMetric, parameters: HNSWParameters, capacity: Int = 1024) {
        self.dimension = dimension
        paddedDimension = DistanceKernels.paddedLength(dimension)
        self.metric = metric
        self.parameters = parameters
        maxM = parameters.m
        maxM0 = parameters.maxLinksLevel0
        levelMultiplier = parameters.levelMultiplier
        distanceFunction = DistanceFunction(metric: metric)
        linksOffset = paddedDimension * 4
        nodeStride = (linksOffset + (1 + maxM0) * 4 + 63) & ~63
        upperListWords = 1 + maxM
        self.capacity = Swift.max(capacity, 16)
        arena = Self.allocateArena(byteCount: self.capacity * nodeStride)
        ids = .allocate(capacity: self.capacity)
        levels = .allocate(capacity: self.capacity)
        states = .allocate(capacity: self.capacity)
        states.initialize(repeating: .free, count: self.capacity)
        upperOffsets = .allocate(capacity: self.capacity)
        upperAllocated = .allocate(capacity: self.capacity)
        upperAllocated.initialize(repeating: 0, count: self.capacity)
        upperCapacity = 1024
        upper = .allocate(capacity: upperCapacity)
        inDegree = .allocate(capacity: self.capacity)
        inDegree.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        engram_arena_free(arena)
        ids.deallocate()
        levels.deallocate()
        states.deallocate()
        upperOffsets.deallocate()
        upperAllocated.deallocate()
        upper.deallocate()
        inDegree.deallocate()
    }

    /// The level-0 arena's memory: 64-byte aligned; from 8 MiB on, 2 MiB aligned and advised for
    /// transparent huge pages (a search reads ~1,000 random blocks of a 100 MB+ arena, and with
    /// 4 KB pages nearly every one of them is a TLB miss). See docs/hnsw.md, "Memory layout".
    private static func allocateArena(byteCount: Int) -> UnsafeMutableRawPointer {
        guard let memory = engram_arena_allocate(byteCount) else {
            fatalError("out of memory: the vector index needs \(byteCount) bytes")  // as Swift's allocator
        }
        return memory
    }

    // MARK: Access

    /// The stored (padded, for cosine normalised) vector of `slot`.
    @inline(__always)
    func vector(_ slot: UInt32) -> UnsafeMutablePointer<Float> {
        // Safe: slot < capacity; the block starts with paddedDimension floats.
        (arena + Int(slot) &* nodeStride).assumingMemoryBound(to: Float.self)
    }

    /// The link list `[count, links…]` of `slot` at `level` (the slot must have that level).
    @inline(__always)
    func linkList(_ slot: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 {
            // Safe: the level-0 list follows the vector inside the slot's block.
            return (arena + (Int(slot) &* nodeStride &+ linksOffset)).assumingMemoryBound(to: UInt32.self)
        }
        return upper + (Int(upperOffsets[Int(slot)]) &+ (level &- 1) &* upperListWords)
    }

    /// The neighbours of `slot` at `level`.
    func neighbours(of slot: UInt32, level: Int) -> UnsafeBufferPointer<UInt32> {
        let list = linkList(slot, level: level)
        return UnsafeBufferPointer(start: list + 1, count: Int(list[0]))
    }

    @inline(__always)
    func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        distanceFunction(a, b, count: paddedDimension)
    }

    @inline(__always)
    func distance(_ a: UInt32, _ b: UInt32) -> Float { distance(vector(a), vector(b)) }

    func capacity(at level: Int) -> Int { level == 0 ? maxM0 : maxM }

    var occupiedCount: Int { liveCount + deletedCount }

    // MARK: Levels

    /// The level of the node with external id `id`: `⌊−ln(u) · mL⌋` with `u` drawn from a
    /// SplitMix64 stream seeded by the parameters' seed and the id, so that the graph does not
    /// depend on any generator state that would have to be persisted.
    func randomLevel(for id: UInt64) -> Int {
        var z = parameters.seed &+ (id &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 1) * 0x1p-53  // in (0, 1]
        return Swift.min(Int(-Foundation.log(u) * levelMultiplier), Self.levelCap)
    }

    // MARK: Mutation primitives

    /// Makes room for `slot`.
    func reserve(slot: Int) throws(VectorIndexError) {
        guard slot < Int(UInt32.max) else {
            throw VectorIndexError(code: .capacityExceeded, message: "an index holds at most 2^32 − 1 vectors")
        }
        guard slot >= capacity else { return }
        var newCapacity = capacity
        while newCapacity <= slot {
            newCapacity = newCapacity < 1 << 20 ? newCapacity * 2 : newCapacity + newCapacity / 2
        }
        reallocate(to: newCapacity)
    }

    /// Reserves capacity for at least `count` slots, so that a bulk build or load does not copy.
    func reserveCapacity(_ count: Int) {
        if count > capacity { reallocate(to: count) }
    }

    private func reallocate(to newCapacity: Int) {
        let newArena = Self.allocateArena(byteCount: newCapacity * nodeStride)
        newArena.copyMemory(from: arena, byteCount: slotCount * nodeStride)
        engram_arena_free(arena)
        arena = newArena
        func grow<T>(_ p: inout UnsafeMutablePointer<T>, fill: T?) {
            let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            q.moveInitialize(from: p, count: capacity)
            if let fill { (q + capacity).initialize(repeating: fill, count: newCapacity - capacity) }
            p.deallocate()
            p = q
        }
        grow(&ids, fill: nil)
        grow(&levels, fill: nil)
        grow(&states, fill: .free)
        grow(&upperOffsets, fill: nil)
        grow(&upperAllocated, fill: 0)
        grow(&inDegree, fill: 0)
        capacity = newCapacity
    }

    private func allocateUpper(levels count: Int) -> Int32 {
        let words = count * upperListWords
        if upperCount + words > upperCapacity {
            var newCapacity = upperCapacity * 2
            while upperCount + words > newCapacity { newCapacity *= 2 }
            let q = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
            q.moveInitialize(from: upper, count: upperCount)
            upper.deallocate()
            upper = q
            upperCapacity = newCapacity
        }
        let offset = upperCount
        upperCount += words
        return Int32(offset)
    }

    /// Takes the smallest free slot, or a new one.
    func takeSlot() throws(VectorIndexError) -> UInt32 {
        while let slot = freeSlots.popMin() {
            if Int(slot) < slotCount, states[Int(slot)] == .free { return slot }
        }
        try reserve(slot: slotCount)
        return UInt32(slotCount)
    }

    /// Places a node: its vector (already prepared and padded) and level, with empty link lists.
    /// The slot must be reserved and free.
    func place(slot: UInt32, id: UInt64, level: Int, vector source: UnsafePointer<Float>) {
        let s = Int(slot)
        vector(slot).update(from: source, count: paddedDimension)
        ids[s] = id
        levels[s] = UInt8(level)
        states[s] = .live
        inDegree[s] = 0
        linkList(slot, level: 0)[0] = 0
        if level > 0 {
            if Int(upperAllocated[s]) < level {
                upperOffsets[s] = allocateUpper(levels: level)
                upperAllocated[s] = UInt8(level)
            }
            for l in 1...level { linkList(slot, level: l)[0] = 0 }
        }
        if s >= slotCount { slotCount = s + 1 }
        slotOfID[id] = slot
        liveCount += 1
        recorder?.nodeWritten(slot)
    }

    /// Replaces the link list of `slot` at `level`.
    func setLinks(_ slot: UInt32, level: Int, to links: some Collection<UInt32>) {
        let list = linkList(slot, level: level)
        for i in 0..<Int(list[0]) { dropInLink(list[i + 1]) }
        var i = 1
        for link in links {
            list[i] = link
            inDegree[Int(link)] += 1
            i += 1
        }
        list[0] = UInt32(i - 1)
        recorder?.linksWritten(slot, level: level)
    }

    /// Appends `link` to the list of `slot` at `level`, which must have room.
    func appendLink(_ slot: UInt32, level: Int, _ link: UInt32) {
        let list = linkList(slot, level: level)
        let n = Int(list[0])
        list[n + 1] = link
        list[0] = UInt32(n + 1)
        inDegree[Int(link)] += 1
        recorder?.linksWritten(slot, level: level)
    }

    /// Marks a live slot deleted: it keeps routing searches and is never returned.
    func markDeleted(_ slot: UInt32) {
        let s = Int(slot)
        states[s] = .deleted
        if slotOfID[ids[s]] == slot { slotOfID[ids[s]] = nil }
        liveCount -= 1
        deletedCount += 1
        recorder?.tombstoneWritten(slot)
    }

    /// Frees a deleted slot (its links must no longer be referenced).
    func free(_ slot: UInt32) {
        let s = Int(slot)
        recorder?.slotFreed(slot, level: Int(levels[s]))
        for level in 0...Int(levels[s]) {
            let list = linkList(slot, level: level)
            for i in 0..<Int(list[0]) { dropInLink(list[i + 1]) }
            list[0] = 0
        }
        states[s] = .free
        deletedCount -= 1
        freeSlots.insert(slot)
    }

    @inline(__always)
    private func dropInLink(_ target: UInt32) {
        inDegree[Int(target)] -= 1
        if inDegree[Int(target)] == 0 { orphanCandidates.append(target) }
    }

    func setEntryPoint(_ slot: UInt32?, maxLevel level: Int) {
        entryPoint = slot
        maxLevel = level
        recorder?.entryPointWritten()
    }

    // MARK: Restore primitives (no distance computed)

    /// Puts a persisted node into `slot`, whatever the slot held before.
    func restoreNode(slot: UInt32, id: UInt64, level: Int, vector source: UnsafeBufferPointer<Float>)
        throws(VectorIndexError)
    {
        guard (0...Self.levelCap).contains(level) else { throw .corruptRecord("node \(slot) has level \(level)") }
        guard source.count == dimension || source.count == paddedDimension else {
            throw .corruptRecord("node \(slot) has a vector of \(source.count) components, the index \(dimension)")
        }
        // Slots are dense (an insert takes the smallest free slot), so a slot far beyond those
        // seen so far, and beyond the caller's capacity hint, is damage, not a reason to allocate.
        guard Int(slot) < Swift.max(capacity, slotCount + (1 << 20)) else {
            throw .corruptRecord("node slot \(slot) is far beyond the \(slotCount) slots restored so far")
        }
        try reserve(slot: Int(slot))
        let s = Int(slot)
        if s < slotCount { clearState(slot) }
        let destination = vector(slot)
        for i in 0..<dimension {
            let x = source[i]
            guard x.isFinite else { throw .corruptRecord("node \(slot) has a non-finite component") }
            destination[i] = x
        }
        for i in dimension..<paddedDimension { destination[i] = 0 }
        ids[s] = id
        levels[s] = UInt8(level)
        states[s] = .live
        linkList(slot, level: 0)[0] = 0
        if level > 0 {
            if Int(upperAllocated[s]) < level {
                upperOffsets[s] = allocateUpper(levels: level)
                upperAllocated[s] = UInt8(level)
            }
            for l in 1...level { linkList(slot, level: l)[0] = 0 }
        }
        if s >= slotCount {
            for free in slotCount..<s { freeSlots.insert(UInt32(free)) }
            slotCount = s + 1
        }
        liveCount += 1
    }

    /// Forgets what `slot` held (counts and id map), leaving it free.
    func clearState(_ slot: UInt32) {
        let s = Int(slot)
        switch states[s] {
        case .free: return
        case .live:
            liveCount -= 1
            if slotOfID[ids[s]] == slot { slotOfID[ids[s]] = nil }
        case .deleted:
            deletedCount -= 1
        }
        states[s] = .free
    }

    func restoreLinks(slot: UInt32, level: Int, links: UnsafeBufferPointer<UInt32>) throws(VectorIndexError) {
        let s = Int(slot)
        guard s < slotCount, states[s] != .free, level <= Int(levels[s]) else {
            throw .corruptRecord("links for slot \(slot) level \(level), which that slot does not have")
        }
        guard links.count <= capacity(at: level) else {
            throw .corruptRecord("slot \(slot) has \(links.count) links at level \(level)")
        }
        let list = linkList(slot, level: level)
        for (i, link) in links.enumerated() { list[i + 1] = link }
        list[0] = UInt32(links.count)
    }

    func restoreTombstone(slot: UInt32) throws(VectorIndexError) {
        let s = Int(slot)
        guard s < slotCount, states[s] != .free else { throw .corruptRecord("tombstone for empty slot \(slot)") }
        if states[s] == .live {
            states[s] = .deleted
            if slotOfID[ids[s]] == slot { slotOfID[ids[s]] = nil }
            liveCount -= 1
            deletedCount += 1
        }
    }

    func restoreFree(slot: UInt32) {
        guard Int(slot) < slotCount else { return }
        clearState(slot)
        freeSlots.insert(slot)
    }

    /// After records were applied: maps every live slot among `slots` to its id, and checks that
    /// every link of those slots, and the entry point, lead to occupied slots of the right level.
    func finishRestore(touched slots: some Sequence<UInt32>) throws(VectorIndexError) {
        for slot in slots where Int(slot) < slotCount && states[Int(slot)] == .live {
            let id = ids[Int(slot)]
            if let other = slotOfID[id], other != slot, states[Int(other)] == .live {
                throw .corruptRecord("id \(id) is live in slots \(other) and \(slot)")
            }
            slotOfID[id] = slot
        }
        try validateLinks(of: slots)
        recountInDegrees()
        if let entryPoint {
            guard Int(entryPoint) < slotCount, states[Int(entryPoint)] != .free,
                Int(levels[Int(entryPoint)]) == maxLevel
            else { throw .corruptRecord("the entry point \(entryPoint) is not a node of level \(maxLevel)") }
        } else if occupiedCount > 0 {
            throw .corruptRecord("the index holds nodes but has no entry point")
        }
    }

    func recountInDegrees() {
        inDegree.update(repeating: 0, count: capacity)
        for s in 0..<slotCount where states[s] != .free {
            for level in 0...Int(levels[s]) {
                for link in neighbours(of: UInt32(s), level: level) { inDegree[Int(link)] += 1 }
            }
        }
    }

    func validateLinks(of slots: some Sequence<UInt32>) throws(VectorIndexError) {
        for slot in slots where Int(slot) < slotCount && states[Int(slot)] != .free {
            for level in 0...Int(levels[Int(slot)]) {
                for link in neighbours(of: slot, level: level) {
                    guard link != slot, Int(link) < slotCount, states[Int(link)] != .free,
                        Int(levels[Int(link)]) >= level
                    else {
                        throw .corruptRecord(
                            "slot \(slot) links at level \(level) to \(link), which is not a node there")
                    }
                }
            }
        }
    }

    /// The bytes the index holds in memory (arenas and per-slot arrays; the id map estimated).
    var memoryBytes: Int {
        capacity * (nodeStride + 8 + 1 + 1 + 4 + 1) + upperCapacity * 4 + slotOfID.capacity * 16
    }
}
