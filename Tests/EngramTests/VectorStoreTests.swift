import Engram
import EngramTestSupport
import Foundation
import Synchronization
import Testing

/// Seeded unit vectors of `dimension` components.
func randomVectors(_ count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let v = (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}

struct IntentionalAbort: Error {}

/// A store with index `name` and nodes `n0…` whose vectors are `vectors`, written in batches.
func fillVectorStore(_ store: EngramStore, vectors: [[Float]], index: String = "docs", tenant: String = "default", batch: Int = 200)
    throws
{
    try store.createVectorIndex(index, tenant: tenant, dimension: vectors[0].count, parameters: HNSWParameters(m: 8, efConstruction: 64))
    for start in stride(from: 0, to: vectors.count, by: batch) {
        try store.writeVectorBatch(tenant: tenant) { batchWriter in
            for i in start..<min(start + batch, vectors.count) {
                try batchWriter.createNode(id: "n\(i)", labels: ["Doc"], properties: ["name": .string("n\(i)")])
                try batchWriter.setVector(vectors[i], forNode: "n\(i)", index: index)
            }
        }
    }
}

@Suite("Vector indexes in the store")
struct VectorStoreTests {
    @Test func definitionsAreCheckedAndVectorsValidated() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let created = try store.createVectorIndex("memories", dimension: 4, model: "mini")
        #expect(created.dimension == 4 && created.metric == .cosine && created.model == "mini")
        #expect(try store.createVectorIndex("memories", dimension: 4, model: "mini") == created)
        #expect(errorCode { try store.createVectorIndex("memories", dimension: 8, model: "mini") } == .alreadyExists)
        #expect(try store.vectorIndex("memories") == created)
        #expect(try store.vectorIndex("nothing") == nil)
        try store.graph().createNode(id: "a")

        do {
            try store.setVector([1, 2, 3], forNode: "a", index: "memories")
            Issue.record("a 3-component vector entered a 4-dimension index")
        } catch let error as EngramError {
            #expect(error.code == .dimensionMismatch)
            #expect(error.message.contains("expected 4") && error.message.contains("got 3"))
        }
        #expect(errorCode { try store.setVector([1, .nan, 0, 0], forNode: "a", index: "memories") } == .invalidVector)
        #expect(errorCode { try store.setVector([1, .infinity, 0, 0], forNode: "a", index: "memories") } == .invalidVector)
        #expect(errorCode { try store.setVector([0, 0, 0, 0], forNode: "a", index: "memories") } == .invalidVector)
        #expect(errorCode { _ = try store.searchVectors(index: "memories", query: [1, 2], k: 1) } == .dimensionMismatch)
        #expect(errorCode { _ = try store.searchVectors(index: "memories", query: [1, .nan, 0, 0], k: 1) } == .invalidVector)
        #expect(errorCode { try store.setVector([1, 0, 0, 0], forNode: "zz", index: "memories") } == .notFound)
        #expect(errorCode { try store.setVector([1, 0, 0, 0], forNode: "a", index: "nothing") } == .notFound)
        do {
            try store.setVector([1, 0, 0, 0], forNode: "a", index: "memories", model: "other")
            Issue.record("a vector of another model was accepted")
        } catch {
            #expect("\(error)".hasPrefix("model_mismatch") && "\(error)".contains("'mini'"))
        }
        try store.setVector([1, 0, 0, 0], forNode: "a", index: "memories", model: "mini")
        #expect(try store.searchVectors(index: "memories", query: [1, 0, 0, 0], k: 5).map(\.node.id) == ["a"])
        #expect(try store._checkVectorInvariants(index: "memories") == [])
    }

    @Test func committedVectorsAreFoundAndAbortedOnesNever() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let vectors = randomVectors(300, dimension: 16, seed: 1)
        try fillVectorStore(store, vectors: Array(vectors[0..<200]))
        let probe = vectors[0]

        // An aborted transaction: new nodes with vectors, a replaced vector and a removed one.
        #expect(throws: IntentionalAbort.self) {
            try store.writeVectorBatch { batch in
                for i in 200..<300 {
                    try batch.createNode(id: "n\(i)")
                    try batch.setVector(vectors[i], forNode: "n\(i)", index: "docs")
                }
                try batch.setVector(vectors[299], forNode: "n0", index: "docs")
                try batch.removeVector(forNode: "n1", index: "docs")
                #expect(try batch.searchVectors(index: "docs", query: vectors[250], k: 1) == ["n250"])
                #expect(!(try batch.searchVectors(index: "docs", query: vectors[1], k: 5).contains("n1")))
                throw IntentionalAbort()
            }
        }
        // Vectors of committed nodes changed in the aborted transaction: back to committed state.
        #expect(try store.searchVectors(index: "docs", query: probe, k: 1).first?.node.id == "n0")
        #expect(try store.searchVectors(index: "docs", query: vectors[1], k: 1).first?.node.id == "n1")
        #expect(try store.searchVectors(index: "docs", query: vectors[299], k: 1).first?.node.id != "n0")
        #expect(try store._checkVectorInvariants(index: "docs") == [])

        // The same vector change, aborted for a committed node that had none.
        try store.graph().createNode(id: "late")
        #expect(throws: IntentionalAbort.self) {
            try store.writeVectorBatch { batch in
                try batch.setVector(vectors[250], forNode: "late", index: "docs")
                throw IntentionalAbort()
            }
        }
        #expect(try !store.searchVectors(index: "docs", query: vectors[250], k: 10).map(\.node.id).contains("late"))

        // Committed: found at once, with the exact vector at the top.
        try store.setVector(vectors[250], forNode: "late", index: "docs")
        let hit = try #require(try store.searchVectors(index: "docs", query: vectors[250], k: 1).first)
        #expect(hit.node.id == "late" && abs(hit.score - 1) < 1e-5)
        #expect(try store.removeVector(forNode: "late", index: "docs"))
        #expect(try !store.removeVector(forNode: "late", index: "docs"))
        #expect(try store.searchVectors(index: "docs", query: vectors[250], k: 1).first?.node.id != "late")
        #expect(try store._checkVectorInvariants(index: "docs") == [])
    }

    @Test func removalsReplacementsAndConsolidationSurviveReopening() throws {
        let directory = try TemporaryDirectory(prefix: "engram-vector-reopen")
        let path = directory.appending("store")
        let vectors = randomVectors(1_500, dimension: 24, seed: 2)
        let queries = randomVectors(30, dimension: 24, seed: 3)
        var generator = SeededGenerator(seed: 4)
        var before: [[VectorMatch]] = []
        do {
            let store = try EngramStore(path: path)
            try fillVectorStore(store, vectors: Array(vectors[0..<1_000]))
            // Remove 40 % (past the consolidation threshold) and replace some vectors.
            let removed = Array((0..<1_000).shuffled(using: &generator).prefix(400))
            for chunk in stride(from: 0, to: removed.count, by: 100) {
                try store.writeVectorBatch { batch in
                    for i in removed[chunk..<chunk + 100] { try batch.removeVector(forNode: "n\(i)", index: "docs") }
                }
            }
            try store.writeVectorBatch { batch in
                for i in 1_000..<1_100 { try batch.setVector(vectors[i], forNode: "n\(removed[i - 1_000])", index: "docs") }
                for i in 1_100..<1_500 {
                    try batch.createNode(id: "n\(i)")
                    try batch.setVector(vectors[i], forNode: "n\(i)", index: "docs")
                }
            }
            #expect(try store._checkVectorInvariants(index: "docs") == [])
            before = try queries.map { try store.searchVectors(index: "docs", query: $0, k: 10) }
            for match in before.joined() {
                #expect(!removed[100...].contains(Int(match.node.id.dropFirst())!), "a removed vector was returned")
            }
        }
        let reopened = try EngramStore(path: path)
        let after = try queries.map { try reopened.searchVectors(index: "docs", query: $0, k: 10) }
        #expect(after == before)
        #expect(try reopened._checkVectorInvariants(index: "docs") == [])
        #expect(errorCode { try reopened.createVectorIndex("docs", dimension: 25) } == .alreadyExists)
    }

    @Test func recallAgainstExactSearch() throws {
        let fixture = try TestEngramStore()
        let vectors = randomVectors(2_000, dimension: 32, seed: 5)
        try fillVectorStore(fixture.store, vectors: vectors, batch: 500)
        let queries = randomVectors(50, dimension: 32, seed: 6)
        var found = 0
        func similarity(_ a: [Float], _ b: [Float]) -> Float {
            var sum: Float = 0
            for i in a.indices { sum += a[i] * b[i] }
            return sum
        }
        for query in queries {
            let scores = vectors.map { similarity($0, query) }
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] }
            let exact = Set(ranked.prefix(10).map { "n\($0)" })
            let hits = try fixture.store.searchVectors(index: "docs", query: query, k: 10, ef: 64)
            found += hits.filter { exact.contains($0.node.id) }.count
        }
        let recall = Double(found) / Double(queries.count * 10)
        #expect(recall >= 0.95, "recall@10 \(recall)")
        // A narrow allow-list: exact answers among the allowed nodes only.
        let allowed = Set((0..<50).map { "n\($0 * 7)" })
        let filtered = try fixture.store.searchVectors(index: "docs", query: queries[0], k: 5, allowing: allowed)
        #expect(filtered.count == 5 && filtered.allSatisfy(allowed.contains))
    }

    @Test func tenantsAreIsolated() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let vectors = randomVectors(40, dimension: 8, seed: 7)
        try fillVectorStore(store, vectors: Array(vectors[0..<20]), tenant: "acme")
        try fillVectorStore(store, vectors: Array(vectors[20..<40]), tenant: "globex")
        let acme = try store.searchVectors(index: "docs", tenant: "acme", query: vectors[25], k: 40)
        #expect(acme.count == 20)
        let globex = try store.searchVectors(index: "docs", tenant: "globex", query: vectors[25], k: 40)
        #expect(globex.count == 20 && globex.first?.node.id == "n5")
        #expect(errorCode { _ = try store.searchVectors(index: "docs", tenant: "initech", query: vectors[0], k: 1) } == .notFound)
        let rows = try store.query(
            "CALL db.index.vector.queryNodes('docs', 3, $v) YIELD node, score RETURN node.name AS id, score",
            parameters: ["v": .list(vectors[25].map { .double(Double($0)) })], tenant: "globex")
        #expect(rows.rows.count == 3)
        #expect(rows.rows.first?.first == .string("n5"))
    }

    @Test func cypherQueryNodes() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        try store.createVectorIndex("people", dimension: 3, metric: .cosine)
        let graph = store.graph()
        for (name, vector) in [("ada", [1, 0, 0]), ("bob", [0.9, 0.1, 0]), ("cy", [0, 0, 1])] as [(String, [Float])] {
            try graph.createNode(id: name, labels: ["Person"], properties: ["name": .string(name)])
            try store.setVector(vector, forNode: name, index: "people")
        }
        let result = try store.query(
            """
            CALL db.index.vector.queryNodes('people', 2, [1.0, 0.0, 0.0]) YIELD node, score
            RETURN node.name AS name, score ORDER BY score DESC
            """)
        #expect(result.columns == ["name", "score"])
        #expect(result.rows.map { $0[0] } == [.string("ada"), .string("bob")])
        #expect(throws: (any Error).self) { try store.query("CALL db.index.vector.queryNodes('people', 2, [1.0, 0.0]) YIELD node RETURN node") }
        #expect(throws: (any Error).self) { try store.query("CALL db.index.vector.queryNodes('nobody', 2, [1.0, 0.0, 0.0]) YIELD node RETURN node") }
    }

    @Test func searchesRunBesideAWriter() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let vectors = randomVectors(1_200, dimension: 16, seed: 8)
        try fillVectorStore(store, vectors: Array(vectors[0..<200]))
        let committed = Atomic<Int>(200)
        let done = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let writer = Thread {
            var i = 200
            while i < 1_200 {
                let start = i
                do {
                    // Every third transaction aborts after writing: its vectors must never show.
                    try store.writeVectorBatch { batch in
                        for j in start..<start + 20 {
                            try batch.createNode(id: "n\(j)")
                            try batch.setVector(vectors[j], forNode: "n\(j)", index: "docs")
                        }
                        if (start / 20) % 3 == 0 { throw IntentionalAbort() }
                    }
                    committed.store(start + 20, ordering: .releasing)
                } catch is IntentionalAbort {
                    // Write the same ids again in the next round, for real this time.
                    try? store.writeVectorBatch { batch in
                        for j in start..<start + 20 {
                            try batch.createNode(id: "n\(j)")
                            try batch.setVector(vectors[j], forNode: "n\(j)", index: "docs")
                        }
                    }
                    committed.store(start + 20, ordering: .releasing)
                } catch {
                    failures.withLock { $0.append("writer: \(error)") }
                }
                i += 20
            }
            done.store(true, ordering: .releasing)
        }
        writer.start()
        var generator = SeededGenerator(seed: 9)
        var searches = 0
        while !done.load(ordering: .acquiring) || searches < 50 {
            let known = committed.load(ordering: .acquiring)
            let j = Int.random(in: 0..<known, using: &generator)
            let hits = try store.searchVectors(index: "docs", query: vectors[j], k: 5, ef: 100)
            if !hits.map(\.node.id).contains("n\(j)") { failures.withLock { $0.append("n\(j) (committed) not found") } }
            searches += 1
        }
        #expect(failures.withLock { $0 } == [])
        #expect(try store._checkVectorInvariants(index: "docs") == [])
        #expect(try store.searchVectors(index: "docs", query: vectors[1_199], k: 1).first?.node.id == "n1199")
    }
}
