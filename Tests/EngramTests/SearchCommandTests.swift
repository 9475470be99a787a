import EngramTestSupport
import Foundation
import Testing

@Suite("engram search and engram reindex")
struct SearchCommandTests {
    @Test func searchFindsWhatRememberWroteAndReindexSwitchesTheModel() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "cli-search")
        let db = directory.appending("db")
        // A new store opens with MiniLM (installed by the test command), so what `remember` writes is embedded.
        for text in ["Ann prefers green tea in the morning", "The build server restarts every Friday"] {
            let remembered = try runEngram(["remember", "--db", db, "--user", "ann", text], input: "")
            #expect(remembered.status == 0, "\(remembered.err)")
        }
        let hybrid = try runEngram(
            ["search", "--db", db, "--user", "ann", "--explain", "--format", "json", "what does Ann drink?"], input: "")
        #expect(hybrid.status == 0, "\(hybrid.err)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(hybrid.out.utf8)) as? [[String: Any]])
        #expect(results.first?["text"] as? String == "Ann prefers green tea in the morning")
        let components = try #require(results.first?["components"] as? [String: Any])
        #expect(components["vector_rank"] as? Int == 1)

        let keyword = try runEngram(["search", "--db", db, "--user", "ann", "--mode", "keyword", "friday server"], input: "")
        #expect(keyword.status == 0 && keyword.out.hasPrefix("1. [memories]") && keyword.out.contains("build server"))

        // Another model: reindex re-embeds, and later commands pick the recorded model by themselves.
        let reindex = try runEngram(["reindex", "--db", db, "--model", "hashing", "--format", "json"], input: "")
        #expect(reindex.status == 0, "\(reindex.err)")
        let again = try runEngram(["search", "--db", db, "--user", "ann", "--mode", "vector", "green tea"], input: "")
        #expect(again.status == 0 && again.out.contains("green tea"), "\(again.err)")
        let mismatch = try runEngram(["search", "--db", db, "--user", "ann", "--model", "minilm", "tea"], input: "")
        #expect(mismatch.status == 1 && mismatch.err.contains("embedding_model_mismatch") && mismatch.err.contains("engram reindex"))

        // Errors: no such store (1), a bad mode (2).
        let missing = try runEngram(["search", "--db", directory.appending("none"), "tea"], input: "")
        #expect(missing.status == 1 && !missing.err.isEmpty)
        let badMode = try runEngram(["search", "--db", db, "--mode", "fuzzy", "tea"], input: "")
        #expect(badMode.status == 2)
        let reindexMissing = try runEngram(["reindex", "--db", directory.appending("none"), "--model", "hashing"], input: "")
        #expect(reindexMissing.status == 1)
    }
}
