/// A node of the graph with its distance to the current query or base vector.
struct Candidate {
    var distance: Float
    var slot: UInt32
}

/// The order of a ``CandidateHeap``.
protocol CandidateOrder {
    /// Whether `a` belongs above `b` in the heap.
    static func precedes(_ a: Candidate, _ b: Candidate) -> Bool
}

/// The nearest candidate on top (the queue of nodes still to expand).
enum NearestFirst: CandidateOrder {
    @inline(__always) static func precedes(_ a: Candidate, _ b: Candidate) -> Bool { a.distance < b.distance }
}

/// The farthest candidate on top (the bounded list of the best results found so far).
enum FarthestFirst: CandidateOrder {
    @inline(__always) static func precedes(_ a: Candidate, _ b: Candidate) -> Bool { a.distance > b.distance }
}

/// A binary heap of candidates in a buffer that is reused from search to search.
///
/// A plain binary heap over a raw buffer that lives as long as the scratch, so a search allocates
/// nothing. In the layer search it measured 2–4 % more queries/s than `HeapModule.Heap` (a min-max
/// heap over an array), within the noise of the shared machine; see `docs/hnsw.md`. The owner
/// calls ``deallocate()``.
struct CandidateHeap<Order: CandidateOrder> {
    private(set) var storage: UnsafeMutablePointer<Candidate>
    private(set) var count: Int
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 16)
        storage = .allocate(capacity: self.capacity)
        count = 0
    }

    func deallocate() { storage.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// The top element; the heap must not be empty.
    var top: Candidate {
        @inline(__always) get { storage[0] }
    }

    @inline(__always)
    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func push(_ element: Candidate) {
        if count == capacity { grow() }
        var child = count
        count &+= 1
        while child > 0 {
            let parent = (child &- 1) >> 1
            guard Order.precedes(element, storage[parent]) else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = element
    }

    /// Removes and returns the top element; the heap must not be empty.
    @inline(__always)
    @discardableResult
    mutating func pop() -> Candidate {
        let result = storage[0]
        count &-= 1
        if count > 0 {
            let last = storage[count]
            var parent = 0
            while true {
                var child = 2 &* parent &+ 1
                if child >= count { break }
                if child &+ 1 < count, Order.precedes(storage[child &+ 1], storage[child]) { child &+= 1 }
                guard Order.precedes(storage[child], last) else { break }
                storage[parent] = storage[child]
                parent = child
            }
            storage[parent] = last
        }
        return result
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutablePointer<Candidate>.allocate(capacity: newCapacity)
        newStorage.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }
}

/// The per-search working memory: the visited set, the two candidate heaps and the padded query.
///
/// The visited set is an array of generation stamps, one per slot: a slot is visited in the
/// current search when its stamp equals ``stamp``. Starting a search bumps the stamp instead of
/// clearing the array (cleared only when the 16-bit stamp wraps, once every 65,535 searches).
final class SearchScratch {
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private(set) var visitedCapacity: Int
    private(set) var stamp: UInt16 = 0
    var candidates = CandidateHeap<NearestFirst>(capacity: 256)
    var results = CandidateHeap<FarthestFirst>(capacity: 256)
    /// A padded, prepared copy of the query (or of a vector being inserted).
    let query: UnsafeMutablePointer<Float>
    /// Working lists for neighbour selection.
    var selection: [Candidate] = []
    var selected: [Candidate] = []
    /// The unvisited neighbours of the node being expanded (at most 2·M, up to 255·2).
    let pending: UnsafeMutablePointer<UInt32> = .allocate(capacity: 512)
    /// Their distances to the query.
    let pendingDistances: UnsafeMutablePointer<Float> = .allocate(capacity: 512)

    init(paddedDimension: Int) {
        visitedCapacity = 0
        visited = .allocate(capacity: 1)
        query = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(paddedDimension, 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: Swift.max(paddedDimension, 16))
        selection.reserveCapacity(512)
        selected.reserveCapacity(64)
    }

    deinit {
        visited.deallocate()
        UnsafeMutableRawPointer(query).deallocate()
        candidates.deallocate()
        results.deallocate()
        pending.deallocate()
        pendingDistances.deallocate()
    }

    /// Starts a new visited generation covering `slotCount` slots.
    @inline(__always)
    func beginVisit(slotCount: Int) {
        if slotCount > visitedCapacity {
            let newCapacity = Swift.max(slotCount, visitedCapacity * 2, 1024)
            visited.deallocate()
            visited = .allocate(capacity: newCapacity)
            visited.initialize(repeating: 0, count: newCapacity)
            visitedCapacity = newCapacity
            stamp = 0
        }
        stamp &+= 1
        if stamp == 0 {
            visited.update(repeating: 0, count: visitedCapacity)
            stamp = 1
        }
        candidates.removeAll()
        results.removeAll()
    }

    /// Marks `slot` visited; returns whether it already was.
    @inline(__always)
    func visit(_ slot: UInt32) -> Bool {
        let p = visited + Int(slot)
        if p.pointee == stamp { return true }
        p.pointee = stamp
        return false
    }
}
