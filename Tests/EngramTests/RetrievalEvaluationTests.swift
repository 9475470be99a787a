import EngramTestSupport
import Foundation
import Testing

import Engram

@Suite("Retrieval evaluation")
struct RetrievalEvaluationTests {
    @Test func theGeneratedBenchmarkIsLargeEnoughAndStable() {
        let evaluation = RetrievalEvaluation.generate()
        #expect(evaluation.corpusSize >= 2000)
        #expect(evaluation.questions.count >= 200)
        let ids = Set(evaluation.memories.compactMap(\.id))
        #expect(evaluation.questions.allSatisfy { !$0.relevant.isEmpty && $0.relevant.allSatisfy(ids.contains) })
        #expect(RetrievalEvaluation.generate().questions == evaluation.questions)
    }

    /// Hybrid beats keyword and vector alone with MiniLM (the figures are printed; see docs/retrieval.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ENGRAM_SKIP_MODEL_TESTS"] != "1"))
    func hybridBeatsKeywordAndVectorWithMiniLM() async throws {
        let directory = try TemporaryDirectory(prefix: "engram-eval")
        let store = try EngramStore(path: directory.appending("store"), embedder: try MiniLMEmbedder())
        let evaluation = RetrievalEvaluation.generate()
        try await evaluation.load(into: store)
        let recalls = try await evaluation.run(on: store)
        for recall in recalls {
            print("retrieval evaluation \(recall.mode): recall@5 \(recall.at5), recall@10 \(recall.at10)")
        }
        let by = Dictionary(uniqueKeysWithValues: recalls.map { ($0.mode, $0) })
        let hybrid = try #require(by[.hybrid])
        for other in [SearchMode.keyword, .vector] {
            let recall = try #require(by[other])
            #expect(hybrid.at5 > recall.at5, "recall@5 hybrid \(hybrid.at5) vs \(other) \(recall.at5)")
            #expect(hybrid.at10 > recall.at10, "recall@10 hybrid \(hybrid.at10) vs \(other) \(recall.at10)")
        }
    }
}
