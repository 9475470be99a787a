import EngramTestSupport
import EngramVector
import Testing

@Suite("HNSW mutations, invariants and persistence")
struct HNSWMutationTests {
    /// A random sequence of inserts, deletes and updates over a small graph (M = 4 so that lists
    /// fill and get pruned), checking the invariants along the way, and that the index and the
    /// exact index agree on which ids exist.
    @Test("Invariants hold after random insert, delete and update sequences", arguments: [1, 2, 3] as [UInt64])
    func randomSequence(seed: UInt64) throws {
        let dimension = 24
        let index = try HNSWIndex(
            dimension: dimension, metric: .l2, parameters: HNSWParameters(m: 4, efConstruction: 32, seed: seed))
        let exact = try ExactVectorIndex(dimension: dimension, metric: .l2)
        var data = ClusteredData(dimension: dimension, clusters: 5, seed: seed)
        var generator = SeededGenerator(seed: seed)
        var live: [UInt64] = []
        var nextID: UInt64 = 0
        for step in 0..<3_000 {
            let roll = generator.next() % 10
            if roll < 6 || live.count < 10 {
                let v = data.point()
                try index.insert(v, id: nextID)
                try exact.insert(v, id: nextID)
                live.append(nextID)
                nextID += 1
            } else if roll < 9 {
                let id = live.remove(at: Int(generator.next() % UInt64(live.count)))
                try index.remove(id)
                try exact.remove(id)
            } else {
                let id = live[Int(generator.next() % UInt64(live.count))]
                let v = data.point()
                try index.update(v, id: id)
                try exact.update(v, id: id)
            }
            if step % 250 == 249 {
                #expect(index._checkInvariants() == [], "step \(step)")
            }
        }
        index.consolidateDeletions()
        #expect(index._checkInvariants() == [])
        #expect(index.count == live.count && exact.count == live.count)
        #expect(Set(index.ids) == Set(live))
        let queries = data.points(50)
        let approximate = try queries.map { try index.search($0, limit: 10, ef: 64) }
        let truth = try queries.map { try exact.search($0, limit: 10) }
        #expect(recall(approximate, truth) >= 0.95)
    }

    @Test("Change sets replayed into an empty index give identical search results")
    func changeSetsRoundTrip() throws {
        let dimension = 32
        var data = ClusteredData(dimension: dimension, clusters: 8, seed: 21)
        let parameters = HNSWParameters(m: 6, efConstruction: 40)
        let index = try HNSWIndex(dimension: dimension, metric: .dotProduct, parameters: parameters)
        index.consolidationThreshold = 0.1
        var log: [HNSWChangeSet] = []
        var generator = SeededGenerator(seed: 21)
        for i in 0..<1_500 {
            var changes = HNSWChangeSet()
            try index.insert(data.point(), id: UInt64(i), changes: &changes)
            #expect(!changes.isEmpty)
            log.append(changes)
            if i % 3 == 2 {
                var changes = HNSWChangeSet()
                let victim = UInt64(generator.next() % UInt64(i))
                if index.contains(victim) {
                    try index.remove(victim, changes: &changes)
                    log.append(changes)
                } else {
                    let id = UInt64(i - 1)
                    try index.update(data.point(), id: id, changes: &changes)
                    log.append(changes)
                }
            }
        }
        var changes = HNSWChangeSet()
        index.consolidateDeletions(changes: &changes)
        log.append(changes)

        // A key-value "store": records replace what was under their key, as LMDB would.
        let store = KeyValueStore(log.flatMap(\.records))
        let replayed = try HNSWIndex(
            dimension: dimension, metric: .dotProduct, parameters: parameters, restoringFrom: store.records)
        let exported = try HNSWIndex(
            dimension: dimension, metric: .dotProduct, parameters: parameters, restoringFrom: index.exportRecords())
        #expect(replayed._checkInvariants() == [])
        #expect(replayed.count == index.count)
        #expect(Set(replayed.exportRecords()) == Set(index.exportRecords()))
        let queries = data.points(40)
        for q in queries {
            let original = try index.search(q, limit: 10)
            #expect(try replayed.search(q, limit: 10) == original)
            #expect(try exported.search(q, limit: 10) == original)
        }
        // Both go on identically: the next inserts reuse the same slots and links.
        for i in 0..<50 {
            let v = data.point()
            try index.insert(v, id: 10_000 + UInt64(i))
            try replayed.insert(v, id: 10_000 + UInt64(i))
        }
        #expect(Set(replayed.exportRecords()) == Set(index.exportRecords()))
    }

    @Test("The built fixture round-trips through its insert change sets")
    func fixtureChangeSets() throws {
        let (index, changes) = Fixture.built
        let restored = try HNSWIndex(
            dimension: Fixture.dimension, metric: .cosine, parameters: index.parameters,
            restoringFrom: KeyValueStore(changes.records).records, capacity: Fixture.baseCount)
        for q in Fixture.data.queries.prefix(30) {
            #expect(try restored.search(q, limit: 10) == index.search(q, limit: 10))
        }
    }

    @Test("Records that contradict each other are rejected, not trusted")
    func corruptRecords() throws {
        let parameters = HNSWParameters(m: 4, efConstruction: 8)
        func restore(_ records: [HNSWRecord]) throws {
            _ = try HNSWIndex(dimension: 2, metric: .l2, parameters: parameters, restoringFrom: records)
        }
        let node = HNSWRecord.node(slot: 0, id: 1, level: 0, vector: [1, 2])
        expectError(.corruptRecord) {
            try restore([node, .links(slot: 0, level: 0, neighbours: [7]), .entryPoint(slot: 0, maxLevel: 0)])
        }
        expectError(.corruptRecord) { try restore([node]) }
        expectError(.corruptRecord) {
            try restore([.node(slot: 0, id: 1, level: 0, vector: [1]), .entryPoint(slot: 0, maxLevel: 0)])
        }
        expectError(.corruptRecord) {
            try restore([.node(slot: 0, id: 1, level: 0, vector: [.nan, 1]), .entryPoint(slot: 0, maxLevel: 0)])
        }
        expectError(.corruptRecord) {
            try restore([node, .links(slot: 0, level: 1, neighbours: []), .entryPoint(slot: 0, maxLevel: 0)])
        }
        expectError(.corruptRecord) {
            try restore([
                node, .node(slot: 1, id: 1, level: 0, vector: [3, 4]), .entryPoint(slot: 0, maxLevel: 0),
            ])
        }
        expectError(.corruptRecord) { try restore([node, .entryPoint(slot: 0, maxLevel: 3)]) }
        expectError(.corruptRecord) {
            try restore([
                .node(slot: 4_000_000_000, id: 1, level: 0, vector: [1, 2]), .entryPoint(slot: 0, maxLevel: 0),
            ])
        }
        expectError(.corruptRecord) {
            try restore([node, .links(slot: 0, level: 0, neighbours: [0]), .entryPoint(slot: 0, maxLevel: 0)])
        }
        try restore([node, .links(slot: 0, level: 0, neighbours: []), .entryPoint(slot: 0, maxLevel: 0)])

        // A rejected batch leaves a live index safe to search: bad links are dropped.
        let index = try HNSWIndex(dimension: 8, metric: .l2, parameters: parameters)
        var data = ClusteredData(dimension: 8, clusters: 2, seed: 4)
        for i in 0..<50 { try index.insert(data.point(), id: UInt64(i)) }
        expectError(.corruptRecord) { try index.apply([.links(slot: 3, level: 0, neighbours: [1, 9_999, 3])]) }
        #expect(try index.search(data.point(), limit: 5).count == 5)
        #expect(index._checkInvariants().allSatisfy { !$0.contains("links") })
        #expect(index.count == 50)
    }

    @Test("Removing every vector leaves an empty, searchable index")
    func removeEverything() throws {
        let index = try HNSWIndex(dimension: 8, metric: .cosine, parameters: HNSWParameters(m: 4, efConstruction: 16))
        var data = ClusteredData(dimension: 8, clusters: 2, seed: 3)
        for i in 0..<200 { try index.insert(data.point(), id: UInt64(i)) }
        for i in 0..<200 { try index.remove(UInt64(i)) }
        index.consolidateDeletions()
        #expect(index.count == 0)
        #expect(try index.search(data.point(), limit: 5).isEmpty)
        #expect(index._checkInvariants() == [])
        try index.insert(data.point(), id: 7)
        #expect(try index.search(data.point(), limit: 5).map(\.id) == [7])
        #expect(index._checkInvariants() == [])
    }
}

/// A key-value store in a dictionary: a record replaces what its key held, `freed` deletes a
/// node's keys; `records` lists what is left in key order (node, tombstone, links…, then the
/// entry point), as an LMDB scan would.
struct KeyValueStore {
    private var nodes: [UInt32: HNSWRecord] = [:]
    private var tombstones: Set<UInt32> = []
    private var links: [UInt32: [Int: [UInt32]]] = [:]
    private var entryPoint: HNSWRecord? = nil

    init(_ writes: [HNSWRecord]) {
        for record in writes {
            switch record {
            case .node(let slot, _, _, _):
                nodes[slot] = record
                tombstones.remove(slot)
            case .links(let slot, let level, let neighbours): links[slot, default: [:]][level] = neighbours
            case .tombstone(let slot): tombstones.insert(slot)
            case .freed(let slot, _):
                nodes[slot] = nil
                tombstones.remove(slot)
                links[slot] = nil
            case .entryPoint: entryPoint = record
            }
        }
    }

    var records: [HNSWRecord] {
        var result: [HNSWRecord] = []
        for slot in nodes.keys.sorted() {
            result.append(nodes[slot]!)
            if tombstones.contains(slot) { result.append(.tombstone(slot: slot)) }
            for (level, neighbours) in (links[slot] ?? [:]).sorted(by: { $0.key < $1.key }) {
                result.append(.links(slot: slot, level: level, neighbours: neighbours))
            }
        }
        if let entryPoint { result.append(entryPoint) }
        return result
    }
}
