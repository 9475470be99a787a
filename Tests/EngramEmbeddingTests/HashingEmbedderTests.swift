import EngramEmbedding
import Testing

@Suite("Hashing embedder")
struct HashingEmbedderTests {
    func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { $0 * $1 }.reduce(0, +) }

    @Test(arguments: [1, 7, 64, 384, 1024])
    func vectorsHaveTheDimensionAndUnitLength(dimension: Int) async throws {
        let embedder = HashingEmbedder(dimension: dimension)
        let vectors = try await embedder.embed(["User prefers Python over JavaScript", "Ünïcödé wörds ✓ 東京"])
        for vector in vectors {
            #expect(vector.count == dimension)
            let norm = vector.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func vectorsAreDeterministicAcrossInstances() async throws {
        let text = "The quick brown fox jumps over the lazy dog"
        let first = try await HashingEmbedder().embed([text])
        let second = try await HashingEmbedder().embed([text])
        #expect(first == second)
    }

    @Test func vectorsAreStableAcrossReleases() {
        // Pinned values: a change to the hashing or the features changes stored vectors, so it must
        // come with a new model id.
        let vector = HashingEmbedder(dimension: 8).vector(for: "hello world")
        // Computed independently by a few lines of Python implementing the documented features.
        let expected: [Float] = [0.0, -0.176777, 0.53033, 0.0, 0.176777, -0.176777, 0.707107, -0.353553]
        #expect(vector.count == expected.count)
        #expect(zip(vector, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "got \(vector)")
    }

    @Test func oneTextGivesOneVector() async throws {
        let embedder = HashingEmbedder(dimension: 32)
        let single: [Float] = try await embedder.embed("one text")
        #expect(single == embedder.vector(for: "one text"))
    }

    @Test func textWithoutWordsIsTheZeroVector() {
        #expect(HashingEmbedder(dimension: 16).vector(for: "  ... !!! ") == [Float](repeating: 0, count: 16))
    }

    @Test func sharedWordsScoreHigherThanUnrelatedText() {
        let embedder = HashingEmbedder()
        let query = embedder.vector(for: "python programming")
        let related = embedder.vector(for: "User prefers Python for programming")
        let unrelated = embedder.vector(for: "The meeting is on Tuesday in Berlin")
        #expect(cosine(query, related) > cosine(query, unrelated) + 0.2)
    }

    @Test func caseAndPunctuationDoNotMatter() {
        let embedder = HashingEmbedder()
        #expect(embedder.vector(for: "Hello, World!") == embedder.vector(for: "hello world"))
    }

    @Test func theModelIDNamesTheSettings() {
        #expect(HashingEmbedder(dimension: 128).modelID == "engram-hashing-v1-d128-c3-4")
        #expect(HashingEmbedder(dimension: 128).modelID != HashingEmbedder(dimension: 256).modelID)
    }
}
