import EngramTestSupport
import EngramVector
import Testing

@Suite("HNSW recall, deletes and filters (10,000 × 384, clustered)")
struct HNSWRecallTests {
    @Test("Recall@10 at ef = 64 is at least 0.95 against the exact index")
    func recallAgainstExact() throws {
        let index = Fixture.built.index
        let queries = Fixture.data.queries
        let approximate = try queries.map { try index.search($0, limit: 10, ef: 64) }
        let exact = try queries.map { try Fixture.exact.search($0, limit: 10) }
        let r = recall(approximate, exact)
        #expect(r >= 0.95, "recall@10 = \(r)")
        #expect(index.count == Fixture.baseCount)
        #expect(index._checkInvariants() == [])
        // Results are sorted, nearest first, and distances agree with the exact index's.
        for results in approximate {
            #expect(zip(results, results.dropFirst()).allSatisfy { $0.distance <= $1.distance })
        }
        #expect(abs(approximate[0][0].distance - exact[0][0].distance) < 1e-5)
    }

    @Test(
        "After deleting 30 %, recall stays ≥ 0.95 and no deleted id is returned",
        arguments: [false, true])
    func deleteThirtyPercent(consolidate: Bool) throws {
        let index = try Fixture.copy()
        index.consolidationThreshold = consolidate ? 0.2 : 1.1
        let exact = try ExactVectorIndex(dimension: Fixture.dimension, metric: .cosine)
        var generator = SeededGenerator(seed: 11)
        var deleted = Set<UInt64>()
        for i in 0..<Fixture.baseCount {
            if generator.next() % 10 < 3 {
                try index.remove(UInt64(i))
                deleted.insert(UInt64(i))
            } else {
                try exact.insert(Fixture.data.base[i], id: UInt64(i))
            }
        }
        if consolidate { index.consolidateDeletions() }
        #expect(index.count == Fixture.baseCount - deleted.count)
        #expect(index.deletedCount == (consolidate ? 0 : deleted.count))
        let queries = Fixture.data.queries
        let approximate = try queries.map { try index.search($0, limit: 10, ef: 64) }
        let truth = try queries.map { try exact.search($0, limit: 10) }
        let r = recall(approximate, truth)
        #expect(r >= 0.95, "recall@10 after deletes = \(r)")
        #expect(approximate.allSatisfy { $0.count == 10 && $0.allSatisfy { !deleted.contains($0.id) } })
        #expect(index._checkInvariants() == [])
        for id in deleted.prefix(20) {
            #expect(!index.contains(id))
            expectError(.unknownID) { try index.remove(id) }
        }
        // Freed slots are reused by new inserts, and the graph stays sound.
        var data = ClusteredData(dimension: Fixture.dimension, seed: 7)
        for (offset, v) in data.points(500).enumerated() { try index.insert(v, id: 1_000_000 + UInt64(offset)) }
        #expect(index._checkInvariants() == [])
        #expect(index.count == Fixture.baseCount - deleted.count + 500)
    }

    @Test("Filtered search reaches recall ≥ 0.95 against exact filtered search", arguments: [0.5, 0.1, 0.01])
    func filteredRecall(selectivity: Double) throws {
        let index = Fixture.built.index
        let threshold = UInt64(selectivity * 1000)
        var generator = SeededGenerator(seed: 5)
        let allowed = Set((0..<UInt64(Fixture.baseCount)).filter { _ in generator.next() % 1000 < threshold })
        let filters: [VectorFilter] = [
            .allowing(allowed),
            .matching { $0 % 1000 < threshold },
            VectorFilter(allowedIDs: allowed, predicate: { $0 % 2 == 0 }),
        ]
        for filter in filters {
            let queries = Fixture.data.queries
            let approximate = try queries.map { try index.search($0, limit: 10, ef: 64, filter: filter) }
            let exact = try queries.map { try Fixture.exact.search($0, limit: 10, ef: nil, filter: filter) }
            let r = recall(approximate, exact)
            #expect(r >= 0.95, "filtered recall@10 at selectivity \(selectivity) = \(r)")
            #expect(approximate.allSatisfy { $0.allSatisfy { filter.allows($0.id) } })
            #expect(zip(approximate, exact).allSatisfy { $0.count == $1.count })
        }
    }

    @Test("Updated vectors are found at their new place, never at the old one")
    func updateMovesVector() throws {
        let index = try Fixture.copy()
        let queries = Fixture.data.queries
        // Give ids 0..<50 the vectors of queries: each must become its query's nearest.
        for i in 0..<50 { try index.update(queries[i], id: UInt64(i)) }
        for i in 0..<50 {
            let top = try index.search(queries[i], limit: 3)
            #expect(top.first?.id == UInt64(i))
            #expect(top.first.map { abs($0.score - 1) < 1e-5 } == true)
            #expect(Set(top.map(\.id)).count == top.count)
        }
        #expect(index.count == Fixture.baseCount)
        #expect(index._checkInvariants() == [])
        expectError(.unknownID) { try index.update(queries[0], id: 99_999_999) }
    }
}
