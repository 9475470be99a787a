import Engram
import EngramTestSupport
import Foundation
import Testing

/// A store with an embedder in its own temporary directory.
final class EmbeddedTestStore {
    let directory: TemporaryDirectory
    let store: EngramStore
    var path: String { directory.appending("store") }

    init(embedder: (any Embedder)? = HashingEmbedder(dimension: 64)) throws {
        directory = try TemporaryDirectory(prefix: "engram-search")
        store = try EngramStore(path: directory.appending("store"), embedder: embedder)
    }
}

/// An embedder with fixed vectors for some texts (by substring) and hashing for the rest, so that
/// a test can decide what is near what.
struct TableEmbedder: Embedder {
    let table: [(substring: String, vector: [Float])]
    let fallback = HashingEmbedder(dimension: 8)
    var modelID: String { "test-table" }
    var dimension: Int { 8 }

    func embed(_ texts: [String]) async throws -> [[Float]] {
        var result: [[Float]] = []
        for text in texts {
            if let entry = table.first(where: { text.contains($0.substring) }) {
                result.append(entry.vector)
            } else {
                result.append(try await fallback.embed(text))
            }
        }
        return result
    }
}

/// An embedder that always fails.
struct FailingEmbedder: Embedder {
    var modelID = "failing"
    var dimension = 8
    func embed(_ texts: [String]) async throws -> [[Float]] {
        throw EmbeddingError(.server, "the model server is down")
    }
}

@Suite("Search: hybrid fusion")
struct SearchFusionTests {
    @Test func aKeywordOnlyHitSurvivesHybridFusion() async throws {
        // Every distractor sits right on the query's vector; the ticket is orthogonal to it.
        let near: [Float] = [1, 0, 0, 0, 0, 0, 0, 0]
        let embedder = TableEmbedder(table: [
            ("refund status", near), ("SR-2023-052", [0, 1, 0, 0, 0, 0, 0, 0]), ("travel note", near),
        ])
        let fixture = try EmbeddedTestStore(embedder: embedder)
        let memory = fixture.store.context(user: "alice")
        var memories = (0..<40).map { NewMemory("travel note number \($0) about hotels", id: "note-\($0)") }
        memories.append(NewMemory("Ticket SR-2023-052 was closed by the airline", id: "ticket"))
        try await memory.remember(memories)

        let vectorOnly = try await memory.search("refund status SR-2023-052", limit: 10, mode: .vector)
        #expect(!vectorOnly.map(\.id).contains("ticket"))
        let hybrid = try await memory.search("refund status SR-2023-052", limit: 10)
        let ticket = try #require(hybrid.first { $0.id == "ticket" })
        #expect(ticket.components.keywordRank == 1)
        #expect(ticket.components.vectorSimilarity.map { abs($0) < 1e-6 } ?? true)
        #expect(hybrid.count == 10)
    }

    @Test func graphExpansionFindsAMemoryThatOnlyMentionsTheNamedEntity() async throws {
        let fixture = try EmbeddedTestStore()
        let memory = fixture.store.context(user: "alice")
        let company = try await memory.addEntity(name: "Zorblax Industries", type: "Organization", aliases: ["ZBX"])
        try await memory.remember(
            (0..<30).map { NewMemory("the weekly report number \($0) was filed on time", id: "report-\($0)") })
        try await memory.remember(NewMemory("The blue cabinet is locked", mentions: [company.id], id: "cabinet"))

        let query = "what do we know about zorblax industries"
        #expect(try await !memory.search(query, limit: 10, mode: .keyword).map(\.id).contains("cabinet"))
        let results = try await memory.search(query, limit: 5)
        #expect(results.first?.id == company.id)
        let cabinet = try #require(results.first { $0.id == "cabinet" })
        #expect(cabinet.components.graphScore == 0.5)
        #expect(cabinet.components.keywordRank == nil)
        // An alias names the entity too, in any case and with punctuation around it.
        let byAlias = try await memory.search("Anything new on zbx?", in: [.memories], limit: 3)
        #expect(byAlias.map(\.id).contains("cabinet"))
    }

    @Test func componentsFuseExactlyAsDocumented() async throws {
        let clock = TestClock()
        let fixture = try EmbeddedTestStore()
        let memory = fixture.store.context(user: "alice", options: clock.options())
        try await memory.remember(NewMemory("Alice prefers window seats on long flights", importance: 0.8, id: "seat"))
        try await memory.remember(NewMemory("Bob likes the aisle", importance: 0.2, id: "aisle"))
        clock.advance(30 * 86_400)  // one half-life later: recency 0.5
        let ranking = SearchRanking(k: 60, recencyWeight: 0.01, importanceWeight: 0.02)
        let results = try await memory.search("window seats", limit: 10, ranking: ranking)
        let seat = try #require(results.first { $0.id == "seat" })
        #expect(seat.components.vectorRank == 1)
        #expect(seat.components.keywordRank == 1)
        #expect(seat.components.graphRank == nil)
        #expect(abs(seat.components.recency - 0.5) < 1e-12)
        #expect(seat.components.importance == 0.8)
        let expected = 1.0 / 61 + 1.0 / 61 + 0.01 * 0.5 + 0.02 * 0.8
        #expect(abs(seat.score - expected) < 1e-12)
        let aisle = try #require(results.first { $0.id == "aisle" })
        #expect(aisle.components.keywordRank == nil)
        #expect(abs(aisle.score - (1.0 / 62 + 0.01 * 0.5 + 0.02 * 0.2)) < 1e-12)
        // The minimum score drops what is below it.
        var filter = SearchFilter()
        filter.minimumScore = expected - 1e-9
        #expect(try await memory.search("window seats", filter: filter, ranking: ranking).map(\.id) == ["seat"])
    }

    @Test func badSearchesAreRefused() async throws {
        let fixture = try EmbeddedTestStore(embedder: nil)
        let memory = fixture.store.context(user: "alice")
        #expect(await asyncErrorCode { _ = try await memory.search("  ") } == .invalidArgument)
        #expect(await asyncErrorCode { _ = try await memory.search("x", in: []) } == .invalidArgument)
        #expect(await asyncErrorCode { _ = try await memory.search("x", limit: 0) } == .invalidArgument)
        #expect(await asyncErrorCode { _ = try await memory.search("x", mode: .vector) } == .invalidArgument)
        // Without an embedder, hybrid search runs on keywords and the graph.
        try await memory.remember(NewMemory("plain keyword memory", id: "plain"))
        #expect(try await memory.search("keyword").map(\.id) == ["plain"])
    }
}

@Suite("Search: filters inside candidate generation")
struct SearchFilterTests {
    /// Two tenants; in each, alice and bob with two agents, conversations, memories of every
    /// scope and entities — every text holds the word "apple".
    static func populate(_ store: EngramStore, clock: TestClock) async throws {
        for tenant in ["acme", "zeta"] {
            for user in ["alice", "bob"] {
                for agent in ["bot", "helper"] {
                    let memory = store.context(tenant: tenant, user: user, agent: agent, options: clock.options())
                    let chat = try memory.startConversation(
                        id: "\(tenant)-\(user)-\(agent)", annotations: ["topic": agent == "bot" ? "fruit" : "misc"])
                    try await memory.addMessages(
                        [
                            NewMessage(role: .user, content: "apple pie from \(user) to \(agent)"),
                            NewMessage(role: .assistant, content: "apple noted for \(user)"),
                        ], to: chat.id)
                    try await memory.remember([
                        NewMemory("apple agent fact \(user) \(agent)", scope: .agent, conversationID: chat.id),
                        NewMemory(
                            "apple user preference \(user) \(agent)", kind: .preference, scope: .user,
                            annotations: ["source": agent]),
                        NewMemory("apple archived \(user) \(agent)", scope: .user, state: .archived),
                    ])
                    clock.advance(10)
                }
            }
            let admin = store.administrativeContext(tenant: tenant, options: clock.options())
            try await admin.remember(NewMemory("apple tenant-wide \(tenant)", scope: .tenant))
            try await admin.addEntity(name: "Apple \(tenant)", type: "Organization")
            try await admin.addEntity(name: "apple orchard \(tenant)", type: "Location")
        }
        try await store.administrativeContext(tenant: "acme", options: clock.options()).remember(
            NewMemory("apple global", scope: .global))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var tenant = "acme"
        var user: String? = "alice"
        var agent: String? = "bot"
        var admin = false
        var kinds: [SearchKind] = SearchKind.allCases
        var filter = SearchFilter()
        var testDescription: String { name }
    }

    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    static let cases: [Case] = [
        Case(name: "alice/bot, defaults"),
        Case(name: "alice/helper", agent: "helper"),
        Case(name: "bob without agent", user: "bob", agent: nil),
        Case(name: "no user", user: nil, agent: nil),
        Case(name: "administrative", user: nil, agent: nil, admin: true),
        Case(name: "other tenant", tenant: "zeta", user: "bob", agent: "helper"),
        Case(name: "one conversation", filter: SearchFilter(conversationIDs: ["acme-alice-bot"])),
        Case(
            name: "two conversations", filter: SearchFilter(conversationIDs: ["acme-alice-bot", "acme-alice-helper"])),
        Case(name: "a foreign conversation", filter: SearchFilter(conversationIDs: ["acme-bob-bot"])),
        Case(name: "memories only", kinds: [.memories]),
        Case(name: "messages and entities", kinds: [.messages, .entities]),
        Case(name: "every state", filter: SearchFilter(states: MemoryState.allCases)),
        Case(name: "archived only", filter: SearchFilter(states: [.archived])),
        Case(name: "preferences", filter: SearchFilter(memoryKinds: [.preference])),
        Case(name: "user scope", filter: SearchFilter(scopes: [.user])),
        Case(name: "created after", filter: SearchFilter(createdAfter: start.addingTimeInterval(15))),
        Case(name: "created before", filter: SearchFilter(createdBefore: start.addingTimeInterval(15))),
        Case(name: "annotations", filter: SearchFilter(annotations: ["source": "bot"])),
        Case(
            name: "conversation annotations", kinds: [.messages], filter: SearchFilter(annotations: ["topic": "fruit"])),
        Case(name: "entity type", kinds: [.entities], filter: SearchFilter(entityTypes: ["Location"])),
        Case(name: "as of early", filter: SearchFilter(asOf: start.addingTimeInterval(5))),
        Case(
            name: "combined", user: "bob", agent: "helper",
            filter: SearchFilter(
                conversationIDs: ["acme-bob-helper"], states: MemoryState.allCases,
                createdAfter: start.addingTimeInterval(5), annotations: [:])),
    ]

    /// What the case may see, computed from the listing APIs (the oracle).
    static func expected(_ store: EngramStore, _ item: Case, clock: TestClock) throws -> Set<String> {
        let context =
            item.admin
            ? store.administrativeContext(tenant: item.tenant, options: clock.options())
            : store.context(tenant: item.tenant, user: item.user, agent: item.agent, options: clock.options())
        let filter = item.filter
        var ids = Set<String>()
        if item.kinds.contains(.memories) {
            var memoryFilter = MemoryFilter(
                kinds: filter.memoryKinds, states: filter.states, scopes: filter.scopes,
                annotations: filter.annotations, createdAfter: filter.createdAfter,
                createdBefore: filter.createdBefore, asOf: filter.asOf)
            memoryFilter.conversationID = nil
            for memory in try context.memories(memoryFilter, options: ListOptions(limit: 1000)).items {
                if let conversations = filter.conversationIDs,
                    !conversations.contains(memory.conversationID ?? "")
                {
                    continue
                }
                ids.insert(memory.id)
            }
        }
        if item.kinds.contains(.messages) {
            for conversation in try context.conversations(
                annotations: filter.annotations, options: ListOptions(limit: 1000)
            ).items {
                if let conversations = filter.conversationIDs, !conversations.contains(conversation.id) { continue }
                for message in try context.messages(in: conversation.id).items {
                    if let after = filter.createdAfter, message.timestamp < after { continue }
                    if let before = filter.createdBefore, message.timestamp >= before { continue }
                    if let asOf = filter.asOf, message.timestamp > asOf { continue }
                    ids.insert(message.id)
                }
            }
        }
        if item.kinds.contains(.entities), filter.annotations.isEmpty {
            for entity in try context.entities(options: ListOptions(limit: 1000)).items {
                if !filter.entityTypes.isEmpty, !filter.entityTypes.contains(entity.type) { continue }
                if let after = filter.createdAfter, entity.createdAt < after { continue }
                if let before = filter.createdBefore, entity.createdAt >= before { continue }
                if let asOf = filter.asOf, entity.createdAt > asOf { continue }
                ids.insert(entity.id)
            }
        }
        return ids
    }

    @Test(arguments: cases)
    func filtersNeverLeak(_ item: Case) async throws {
        let clock = TestClock(Self.start)
        let fixture = try EmbeddedTestStore()
        try await Self.populate(fixture.store, clock: clock)
        let context =
            item.admin
            ? fixture.store.administrativeContext(tenant: item.tenant, options: clock.options())
            : fixture.store.context(tenant: item.tenant, user: item.user, agent: item.agent, options: clock.options())
        let expected = try Self.expected(fixture.store, item, clock: clock)
        // A one-result cut would starve under a post-filter; inside generation it finds the best allowed.
        for mode in SearchMode.allCases {
            let all = try await context.search(
                "apple", in: item.kinds, filter: item.filter, limit: 1000, mode: mode,
                ranking: SearchRanking(candidates: 1000))
            #expect(Set(all.map(\.id)).isSubset(of: expected), "\(mode) leaked")
            if mode == .keyword { #expect(Set(all.map(\.id)) == expected, "keyword missed some") }
            let one = try await context.search("apple", in: item.kinds, filter: item.filter, limit: 1, mode: mode)
            #expect(one.count == min(1, expected.count), "\(mode) starved")
        }
    }
}

@Suite("Search: time, models and vector upkeep")
struct SearchUpkeepTests {
    @Test func asOfReturnsThePastState() async throws {
        let clock = TestClock()
        let fixture = try EmbeddedTestStore()
        let memory = fixture.store.context(user: "alice", options: clock.options())
        let old = try await memory.remember(NewMemory("Alice's budget is 400 euros", kind: .fact, id: "old"))
        clock.advance(60)
        let before = clock.now
        clock.advance(60)
        try await memory.supersede(old.id, with: NewMemory("Alice's budget is 600 euros", kind: .fact, id: "new"))
        clock.advance(60)
        #expect(try await memory.search("budget", in: [.memories]).map(\.id) == ["new"])
        #expect(
            try await memory.search("budget", in: [.memories], filter: SearchFilter(asOf: before)).map(\.id) == ["old"])
        #expect(
            try await memory.search("budget", in: [.memories], filter: SearchFilter(asOf: before), mode: .vector).map(
                \.id) == ["old"])
    }

    @Test func aModelMismatchAtOpenIsFixedByReindex() async throws {
        let directory = try TemporaryDirectory(prefix: "engram-reindex")
        let path = directory.appending("store")
        do {
            let store = try EngramStore(path: path, embedder: HashingEmbedder(dimension: 64))
            let memory = store.context(user: "alice")
            try await memory.remember(NewMemory("Alice prefers window seats", id: "seat"))
            let chat = try memory.startConversation(id: "chat")
            try await memory.addMessage(to: chat.id, role: .user, content: "book me a window seat", id: "m1")
            try await memory.addEntity(name: "Alice", type: "Person", id: "alice")
        }
        let other = HashingEmbedder(dimension: 32)
        #expect(errorCode { _ = try EngramStore(path: path, embedder: other) } == .embeddingModelMismatch)
        do {
            _ = try EngramStore(path: path, embedder: other)
        } catch let error as EngramError {
            #expect(error.message.contains("engram reindex"))
        }
        let plain = try EngramStore(path: path)
        let summary = try await plain.reindex(with: other, batchSize: 2)
        #expect(summary.records == 3)
        #expect(summary.model == other.modelID)
        let store = try EngramStore(path: path, embedder: other)
        let results = try await store.context(user: "alice").search("window seat", limit: 3, mode: .vector)
        #expect(Set(results.map(\.id)) == ["seat", "m1", "alice"])
        #expect(try store._vectorNodeIDs(index: "memory:memories") == ["seat"])
        #expect(try store._checkVectorInvariants(index: "memory:messages") == [])
    }

    @Test func aWriteWhoseEmbeddingFailsWritesNothing() async throws {
        let fixture = try EmbeddedTestStore(embedder: FailingEmbedder())
        let memory = fixture.store.context(user: "alice")
        let chat = try memory.startConversation(id: "chat")
        await #expect(throws: EmbeddingError.self) { try await memory.remember(NewMemory("a fact")) }
        await #expect(throws: EmbeddingError.self) {
            try await memory.addMessages([NewMessage(role: .user, content: "hello")], to: chat.id)
        }
        await #expect(throws: EmbeddingError.self) { try await memory.addEntity(name: "Alice", type: "Person") }
        #expect(try memory.memories(.everything).total == 0)
        #expect(try memory.messages(in: chat.id).total == 0)
        #expect(try memory.entities().total == 0)
    }

    @Test func deletesAndCascadesLeaveNoVectors() async throws {
        let clock = TestClock()
        let fixture = try EmbeddedTestStore()
        let store = fixture.store
        let ids: (String) -> Set<String> = { (try? store._vectorNodeIDs(index: "memory:" + $0, tenant: "acme")) ?? [] }
        for user in ["alice", "bob"] {
            let memory = store.context(tenant: "acme", user: user, agent: "bot", options: clock.options())
            let chat = try memory.startConversation(id: "chat-\(user)")
            try await memory.addMessages(
                [NewMessage(role: .user, content: "hi from \(user)"), NewMessage(role: .assistant, content: "hello")],
                to: chat.id)
            try await memory.remember([
                NewMemory("\(user) likes tea", scope: .user, id: "tea-\(user)"),
                NewMemory("\(user) agent note", scope: .agent, id: "note-\(user)"),
                NewMemory("\(user) short-lived", ttl: 10, id: "short-\(user)"),
            ])
            try await memory.addEntity(name: "Place of \(user)", type: "Location", id: "place-\(user)")
        }
        #expect(ids("memories").count == 6)
        #expect(ids("messages").count == 4)
        let alice = store.context(tenant: "acme", user: "alice", agent: "bot", options: clock.options())
        try alice.deleteConversation(id: "chat-alice")
        #expect(ids("messages").count == 2)
        try alice.deleteMemory("tea-alice")
        try alice.deleteEntity("place-alice")
        #expect(ids("entities") == ["place-bob"])
        clock.advance(60)
        try alice.purgeExpired()
        #expect(!ids("memories").contains("short-alice"))
        try store.administrativeContext(tenant: "acme").deleteUser("bob")
        #expect(ids("memories") == ["note-alice"])
        #expect(ids("messages").isEmpty)
        try alice.deleteAgent("bot")
        #expect(ids("memories").isEmpty)
        for index in ["memories", "messages", "entities"] {
            #expect(try store._checkVectorInvariants(index: "memory:" + index, tenant: "acme") == [])
        }
        #expect(try store._checkGraphInvariants() == [])
    }

    /// An export line without its vector, and the vector.
    static func split(_ line: String) -> (String, [Float]) {
        guard let range = line.range(of: ",\"vector\":[") else { return (line, []) }
        let numbers = line[range.upperBound...].prefix { $0 != "]" }
        return (String(line[..<range.lowerBound]), numbers.split(separator: ",").compactMap { Float(String($0)) })
    }

    @Test func updatesReEmbedAndExportImportKeepVectors() async throws {
        let fixture = try EmbeddedTestStore()
        let memory = fixture.store.context(tenant: "acme", user: "alice")
        let fact = try await memory.remember(NewMemory("the sky is green", id: "sky"))
        try await memory.updateMemory(fact.id, content: "the ocean is blue")
        #expect(
            try await memory.search("ocean", mode: .vector, ranking: SearchRanking(candidates: 1)).first?.id == "sky")
        let entity = try await memory.addEntity(name: "Lisboa", type: "Location", id: "lisbon")
        try await memory.updateEntity(entity.id, aliases: ["Lisbon"])
        let lines = try fixture.store.exportJSONLines(.tenant("acme"))
        #expect(lines[0].contains("\"embedding_model\":\"\(HashingEmbedder(dimension: 64).modelID)\""))
        #expect(lines.contains { $0.contains("\"id\":\"sky\"") && $0.contains("\"vector\":[") })

        // Same model: the vectors come back as they were, not re-embedded (an embedder that fails proves it).
        let hashing = HashingEmbedder(dimension: 64)
        let sameModel = try EmbeddedTestStore(
            embedder: FailingEmbedder(modelID: hashing.modelID, dimension: hashing.dimension))
        try await sameModel.store.importJSONLines(lines)
        let copied = try sameModel.store.exportJSONLines(.tenant("acme"))
        #expect(copied.count == lines.count)
        for (a, b) in zip(copied, lines) {
            // A cosine index keeps unit vectors: normalising again may move the last bit.
            let (textA, vectorA) = Self.split(a)
            let (textB, vectorB) = Self.split(b)
            #expect(textA == textB)
            #expect(vectorA.count == vectorB.count)
            #expect(zip(vectorA, vectorB).allSatisfy { abs($0 - $1) < 1e-6 })
        }
        // Another model: re-embedded on import.
        let otherModel = try EmbeddedTestStore(embedder: HashingEmbedder(dimension: 16))
        try await otherModel.store.importJSONLines(lines)
        #expect(try otherModel.store._vectorNodeIDs(index: "memory:entities", tenant: "acme") == ["lisbon"])
        let results = try await otherModel.store.context(tenant: "acme", user: "alice").search(
            "blue ocean", in: [.memories], mode: .vector)
        #expect(results.first?.id == "sky")
    }
}

@Suite("Context builder")
struct ContextPackTests {
    @Test func theContextHoldsMemoriesEntitiesMessagesAndTracesWithinTheBudget() async throws {
        let fixture = try EmbeddedTestStore()
        let memory = fixture.store.context(user: "alice", agent: "travel")
        let alice = try await memory.addEntity(name: "Alice", type: "Person", id: "alice")
        let lisbon = try await memory.addEntity(name: "Lisboa", type: "Location", aliases: ["Lisbon"], id: "lisbon")
        try memory.relate(alice.id, "TRAVELS_TO", lisbon.id, confidence: 0.9)
        try await memory.remember(NewMemory("Alice prefers window seats on flights", mentions: [alice.id], id: "seat"))
        try await memory.remember(NewMemory("Alice's budget for the Lisbon trip is 600 euros", id: "budget"))
        let chat = try memory.startConversation(id: "chat")
        try await memory.addMessage(to: chat.id, role: .user, content: "Find me a flight to Lisbon in May", id: "m1")
        let trace = try memory.startTrace(task: "Book a flight to Lisbon", conversation: chat.id)
        try memory.completeTrace(trace.id, outcome: "Booked TP1350", success: true)

        let pack = try await memory.context(for: "Book Alice a flight to Lisbon", tokenBudget: 400)
        #expect(pack.estimatedTokens <= 400)
        #expect(Set(pack.memories.map(\.id)) == ["seat", "budget"])
        #expect(pack.entities.first { $0.entity.id == "alice" }?.relationships == ["Alice -[TRAVELS_TO]-> Lisboa"])
        #expect(pack.messages.map(\.id) == ["m1"])
        #expect(pack.traces.map(\.task) == ["Book a flight to Lisbon"])
        #expect(pack.text.contains("Similar past tasks:\n- Book a flight to Lisbon (succeeded: Booked TP1350)"))
        #expect(
            pack.text.split(separator: "\n").reduce(0) { $0 + ContextPack.estimateTokens(String($1)) }
                == pack.estimatedTokens)

        let small = try await memory.context(for: "Book Alice a flight to Lisbon", tokenBudget: 30)
        #expect(small.estimatedTokens <= 30)
        #expect(small.memories.count + small.entities.count + small.messages.count + small.traces.count < 6)
        #expect(await asyncErrorCode { _ = try await memory.context(for: "x", tokenBudget: 3) } == .invalidArgument)
    }
}
