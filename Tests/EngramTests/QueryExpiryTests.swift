import Engram
import EngramTestSupport
import Foundation
import Testing

@Suite("Cypher hides expired records")
struct QueryExpiryTests {
    /// A user with an entity, two memories mentioning it (one expiring after 60 s, one never) and a
    /// conversation expiring after 60 s with one message.
    static func agentMemory() async throws -> (TestEngramStore, TestClock, MemoryContext) {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", agent: "bot", options: clock.options())
        let lisbon = try await memory.addEntity(name: "Lisbon", type: "LOCATION", id: "lisbon")
        _ = try await memory.remember(NewMemory("Trip next week", ttl: 60, mentions: [lisbon.id], id: "m-short"))
        _ = try await memory.remember(NewMemory("Likes the sea", ttl: 0, mentions: [lisbon.id], id: "m-long"))
        try memory.startConversation(id: "c1", title: "Trip", ttl: 60)
        try await memory.addMessage(to: "c1", role: .user, content: "Book Lisbon", id: "msg1")
        return (fixture, clock, memory)
    }

    static func count(_ store: EngramStore, _ text: String, at now: Date) throws -> Int64? {
        let result = try store.query(text, clock: { now })
        guard result.rows.count == 1, case .integer(let value) = result.rows[0][0] else { return nil }
        return value
    }

    @Test func anExpiredMemoryVanishesFromMatchCountsAndPathsBeforeAnyPurge() async throws {
        let (fixture, clock, memory) = try await Self.agentMemory()
        let store = fixture.store
        let before = clock.now
        let after = clock.now.addingTimeInterval(61)
        let hiddenIDs = "['m-short', 'c1', 'msg1']"

        // Before expiry everything is visible.
        #expect(try Self.count(store, "MATCH (m:Memory) RETURN count(m)", at: before) == 2)
        #expect(try Self.count(store, "MATCH (m:Message) RETURN count(*)", at: before) == 1)
        let allNodes = try #require(try Self.count(store, "MATCH (n) RETURN count(n)", at: before))
        let allRelationships = try #require(try Self.count(store, "MATCH ()-[r]->() RETURN count(r)", at: before))
        let touching = try #require(
            try Self.count(
                store, "MATCH (a)-[r]-() WHERE elementId(a) IN \(hiddenIDs) RETURN count(DISTINCT r)", at: before))
        #expect(touching == 3)  // MENTIONS, HAS_MESSAGE and FIRST_MESSAGE

        // One second past the TTL: gone from every read, with nothing purged.
        #expect(try Self.count(store, "MATCH (m:Memory) RETURN count(m)", at: after) == 1)
        #expect(try Self.count(store, "MATCH (m:Memory) WHERE m.content <> '' RETURN count(*)", at: after) == 1)
        #expect(try Self.count(store, "MATCH (n) RETURN count(n)", at: after) == allNodes - 3)
        #expect(try Self.count(store, "MATCH (:Conversation) RETURN count(*)", at: after) == 0)
        #expect(try Self.count(store, "MATCH (m:Message) RETURN count(*)", at: after) == 0)
        #expect(try Self.count(store, "MATCH ()-[r]->() RETURN count(r)", at: after) == allRelationships - touching)
        // Through the memory layer's property index, and counted straight from adjacency.
        #expect(try Self.count(store, "MATCH (m:Memory) WHERE m.user = 'alice' RETURN count(*)", at: after) == 1)
        #expect(
            try Self.count(store, "MATCH (:Entity {name: 'Lisbon'})<-[:MENTIONS]-(m) RETURN count(*)", at: after) == 1)
        #expect(
            try Self.count(store, "MATCH (:Entity {name: 'Lisbon'})<-[:MENTIONS]-(m) RETURN count(*)", at: before) == 2)
        let contents = try store.query(
            "MATCH (e:Entity {name: 'Lisbon'})<-[:MENTIONS]-(m) RETURN m.content ORDER BY m.content", clock: { after })
        #expect(contents.rows == [[.string("Likes the sea")]])
        let byID = try store.query("MATCH (m) WHERE elementId(m) IN \(hiddenIDs) RETURN m", clock: { after })
        #expect(byID.rows.isEmpty)
        let paths = try store.query(
            "MATCH p = (e:Entity {name: 'Lisbon'})-[*1..3]-(x) WHERE elementId(x) IN \(hiddenIDs) RETURN p",
            clock: { after })
        #expect(paths.rows.isEmpty)
        let shortest = try store.query(
            "MATCH (a:Entity {name: 'Lisbon'}), (b:Memory) MATCH p = shortestPath((a)-[*..5]-(b)) RETURN elementId(b), length(p)",
            clock: { after })
        #expect(shortest.rows == [[.string("m-long"), .integer(1)]])
        let fullText =
            "CALL db.index.fulltext.queryNodes('memories', 'trip sea') YIELD node RETURN elementId(node) ORDER BY elementId(node)"
        #expect(try store.query(fullText, clock: { before }).rows == [[.string("m-long")], [.string("m-short")]])
        #expect(try store.query(fullText, clock: { after }).rows == [[.string("m-long")]])

        // The same store read at the earlier time still sees them: nothing was deleted.
        #expect(try Self.count(store, "MATCH (n) RETURN count(n)", at: before) == allNodes)
        clock.advance(61)
        #expect(try memory.purgeExpired() == 2)
        #expect(try Self.count(store, "MATCH (n) RETURN count(n)", at: after) == allNodes - 3)
        #expect(try Self.count(store, "MATCH ()-[r]->() RETURN count(r)", at: after) == allRelationships - touching)
    }

    @Test func theTracesOfAnExpiredConversationVanishWithIt() async throws {
        let (fixture, clock, memory) = try await Self.agentMemory()
        let store = fixture.store
        let trace = try memory.startTrace(task: "Book Lisbon", conversation: "c1")
        try memory.addStep(to: trace.id, thought: "search", action: "search_flights")
        try memory.recordToolCall(trace: trace.id, tool: "search_flights", arguments: "{}", result: "3 flights")
        let other = try memory.startTrace(task: "Unrelated")  // no conversation: never expires
        let count = "MATCH (n) WHERE n:ReasoningTrace OR n:ReasoningStep OR n:ToolCall RETURN count(n)"
        #expect(try Self.count(store, count, at: clock.now) == 4)
        #expect(try memory.traces().total == 2 && memory.toolStatistics().count == 1)

        clock.advance(61)
        #expect(try Self.count(store, count, at: clock.now) == 1)
        #expect(try memory.trace(id: trace.id) == nil)
        #expect(try memory.trace(id: other.id)?.task == "Unrelated")
        #expect(try memory.traces().items.map(\.id) == [other.id])
        #expect(try memory.toolStatistics().isEmpty)
    }

    @Test func entitiesNeverExpire() throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        try graph.createNode(id: "a", labels: ["Memory"], properties: ["expires_at": 1])
        try graph.createNode(id: "b", labels: ["Entity"], properties: ["expires_at": 1])
        try graph.createRelationship(from: "a", to: "b", type: "MENTIONS")
        // A `Memory` node whose expires_at has passed is hidden even when written through the
        // graph API; an `Entity` never expires.
        #expect(try Self.count(fixture.store, "MATCH (n) RETURN count(n)", at: Date()) == 1)
        #expect(try Self.count(fixture.store, "MATCH ()-[r]-() RETURN count(r)", at: Date()) == 0)
        #expect(
            try Self.count(fixture.store, "MATCH (n) RETURN count(n)", at: Date(timeIntervalSince1970: 0)) == 2)
    }
}
