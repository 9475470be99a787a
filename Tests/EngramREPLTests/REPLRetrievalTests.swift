import Engram
import EngramREPL
import EngramTestSupport
import Foundation
import Testing

@Suite("REPL search and duplicate review")
struct REPLRetrievalTests {
    @Test func searchShowsWhyEachResultRanked() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-search")
        let store = try EngramStore(path: directory.appending("store"), embedder: HashingEmbedder(dimension: 64))
        let memory = store.context(tenant: "t", user: "ann")
        try await memory.remember(NewMemory("Ann prefers green tea in the morning", kind: .preference))
        try await memory.remember(NewMemory("The build server runs on Fridays"))
        let transcript = Transcript()
        let session = REPLSession(store: store, tenant: "t", user: "ann", output: transcript.output)
        await session.handle(":search green tea --mode keyword")
        #expect(transcript.err.isEmpty)
        let lines = transcript.out.split(separator: "\n")
        #expect(lines[1].contains("rank") && lines[1].contains("why"))
        #expect(lines[3].contains("Ann prefers green tea") && lines[3].contains("bm25 #1"))
        #expect(transcript.out.hasSuffix("1 row\n\n") || transcript.out.hasSuffix("1 row\n"))
        transcript.clear()
        await session.handle(":search")
        #expect(transcript.err.contains("give the text to search for"))
        transcript.clear()
        await session.handle(":search tea --mode fuzzy")
        #expect(transcript.err.contains("--mode takes hybrid, vector or keyword"))
    }

    @Test func duplicatesAreListedMergedAndRejected() async throws {
        let directory = try TemporaryDirectory(prefix: "repl-dups")
        let store = try EngramStore(path: directory.appending("store"))
        var options = MemoryOptions()
        options.resolution.isEnabled = false  // keep the near names apart so that :dups finds them
        let memory = store.context(tenant: "t", options: options)
        try await memory.addEntity(name: "Jonathan Smith", type: "Person", id: "p1")
        try await memory.addEntity(name: "Jonathon Smith", type: "Person", id: "p2")
        try await memory.addEntity(name: "Acme Corporation", type: "Organization", id: "o1")
        try await memory.addEntity(name: "Acme Corp", type: "Organization", id: "o2")
        let transcript = Transcript()
        let session = REPLSession(store: store, tenant: "t", output: transcript.output)
        await session.handle(":dups Person --min-score 0.5")
        #expect(transcript.err.isEmpty)
        #expect(transcript.out.contains("Jonathan Smith") && transcript.out.contains("Jonathon Smith"))
        #expect(!transcript.out.contains("Acme"))
        transcript.clear()
        await session.handle(":merge p2 p1")
        #expect(transcript.out == "merged p2 (Jonathon Smith) into p1 (Jonathan Smith)\n")
        #expect(try store.context(tenant: "t").entity(id: "p2")?.id == "p1")
        transcript.clear()
        await session.handle(":reject o2 o1")
        #expect(transcript.out == "rejected o2 (Acme Corp) ~ o1 (Acme Corporation)\n")
        transcript.clear()
        await session.handle(":dups Organization --min-score 0.1")
        #expect(!transcript.out.contains("Acme Corp "))
        transcript.clear()
        await session.handle(":merge p1")
        #expect(transcript.err.contains("give the source and the target entity ids"))
        transcript.clear()
        await session.handle(":merge nope p1")
        #expect(transcript.err.contains("not_found"))
    }
}
