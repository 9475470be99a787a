import Engram
import EngramTestSupport
import Testing

/// A search whose graph equals its snapshot's committed state names each hit's node from the
/// in-memory node map instead of looking the vector key up; these cases must still give the
/// snapshot's answer.
@Suite("Vector search: the in-memory node map")
struct VectorNodeMapTests {
    @Test func aKeyReusedAfterAnAbortNamesItsCommittedNode() throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let vectors = randomVectors(80, dimension: 16, seed: 7)
        try fillVectorStore(store, vectors: Array(vectors[0..<50]))
        try store.graph().createNode(id: "a")
        try store.graph().createNode(id: "b")
        // The aborted transaction draws the next vector key for "a"; the committed one draws the
        // same key again, for "b".
        #expect(throws: IntentionalAbort.self) {
            try store.writeVectorBatch { batch in
                try batch.setVector(vectors[60], forNode: "a", index: "docs")
                throw IntentionalAbort()
            }
        }
        try store.setVector(vectors[60], forNode: "b", index: "docs")
        let hits = try store.searchVectors(index: "docs", query: vectors[60], k: 5).map(\.node.id)
        #expect(hits.first == "b")
        #expect(!hits.contains("a"))
        #expect(try store._checkVectorInvariants(index: "docs") == [])
    }

    @Test func replacedAndRemovedVectorsNameTheCurrentNodes() throws {
        let directory = try TemporaryDirectory(prefix: "engram-vector-node-map")
        let path = directory.appending("store")
        let vectors = randomVectors(80, dimension: 16, seed: 8)
        do {
            let store = try EngramStore(path: path)
            try checkReplacedAndRemoved(store, vectors: vectors)
        }
        // Reopened (the map rebuilt from the store), the same answers.
        let reopened = try EngramStore(path: path)
        #expect(try reopened.searchVectors(index: "docs", query: vectors[70], k: 1).first?.node.id == "n5")
        #expect(try !reopened.searchVectors(index: "docs", query: vectors[6], k: 10).map(\.node.id).contains("n6"))
        #expect(try reopened.searchVectors(index: "docs", query: vectors[30], k: 1).first?.node.id == "n30")
        #expect(try reopened._checkVectorInvariants(index: "docs") == [])
    }

    private func checkReplacedAndRemoved(_ store: EngramStore, vectors: [[Float]]) throws {
        try fillVectorStore(store, vectors: Array(vectors[0..<60]))
        // n5 moves to another vector, n6 loses its vector, n7 is deleted with its vectors.
        try store.setVector(vectors[70], forNode: "n5", index: "docs")
        #expect(try store.removeVector(forNode: "n6", index: "docs"))
        try store.writeVectorBatch { batch in try batch.deleteNode(id: "n7") }
        #expect(try store.searchVectors(index: "docs", query: vectors[70], k: 1).first?.node.id == "n5")
        let nearOld5 = try store.searchVectors(index: "docs", query: vectors[5], k: 10).map(\.node.id)
        #expect(nearOld5.filter { $0 == "n5" }.count <= 1)
        #expect(try !store.searchVectors(index: "docs", query: vectors[6], k: 10).map(\.node.id).contains("n6"))
        #expect(try !store.searchVectors(index: "docs", query: vectors[7], k: 10).map(\.node.id).contains("n7"))
        // Every other node is still found at its own vector, with the exact score.
        for i in [0, 1, 2, 30, 59] {
            let hit = try #require(try store.searchVectors(index: "docs", query: vectors[i], k: 1).first)
            #expect(hit.node.id == "n\(i)" && abs(hit.score - 1) < 1e-5)
        }
    }
}
