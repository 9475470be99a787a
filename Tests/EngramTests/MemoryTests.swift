import Engram
import EngramTestSupport
import Foundation
import Synchronization
import Testing

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }

    func options(defaultTTL: TimeInterval? = nil) -> MemoryOptions {
        MemoryOptions(defaultTTL: defaultTTL, clock: { self.now })
    }
}

@Suite("Memory: contexts and short-term memory")
struct MemoryConversationTests {
    @Test func usersAndAgentsAreCreatedOnFirstWriteAndListed() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let alice = fixture.store.context(tenant: "acme", user: "alice", agent: "planner", options: clock.options())
        #expect(try alice.users().total == 0)
        try alice.startConversation(title: "one")
        clock.advance(1)
        try fixture.store.context(tenant: "acme", user: "bob", agent: "planner", options: clock.options())
            .startConversation()
        let users = try alice.users()
        #expect(users.items.map(\.name) == ["alice", "bob"])
        #expect(users.total == 2)
        #expect(try alice.agents().items.map(\.name) == ["planner"])
        #expect(try fixture.store.context(tenant: "other").users().total == 0)
        #expect(errorCode { _ = try fixture.store.context(tenant: "_global", user: "x").users() } == .invalidName)
    }

    @Test func messagesKeepOrderAndStrictlyIncreasingTimestamps() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", agent: "bot", options: clock.options())
        let chat = try memory.startConversation(id: "c1", title: "Trip", annotations: ["topic": "travel"])
        #expect(chat.title == "Trip" && chat.user == "alice" && chat.agent == "bot" && chat.messageCount == 0)
        let first = try await memory.addMessage(to: "c1", role: .user, content: "Hello")
        // The clock does not move: the next messages get +1 ms each, and an older timestamp is raised.
        let batch = try await memory.addMessages(
            [
                NewMessage(role: .assistant, content: "Hi, how can I help?", metadata: ["model": "test"]),
                NewMessage(role: .user, content: "Book Lisbon", timestamp: clock.now.addingTimeInterval(-60)),
            ], to: "c1")
        let times = [first.timestamp] + batch.map(\.timestamp)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        let page = try memory.messages(in: "c1")
        #expect(page.items.map(\.content) == ["Hello", "Hi, how can I help?", "Book Lisbon"])
        #expect(page.items[1].metadata == ["model": "test"])
        #expect(page.total == 3)
        #expect(try memory.conversation(id: "c1")?.messageCount == 3)

        // Pagination by offset and by cursor agree; descending reverses.
        let firstTwo = try memory.messages(in: "c1", options: ListOptions(limit: 2))
        #expect(firstTwo.items.map(\.content) == ["Hello", "Hi, how can I help?"])
        let rest = try memory.messages(in: "c1", options: ListOptions(limit: 2, cursor: firstTwo.nextCursor))
        #expect(rest.items.map(\.content) == ["Book Lisbon"] && rest.nextCursor == nil)
        #expect(try memory.messages(in: "c1", options: ListOptions(limit: 2, offset: 2)).items == rest.items)
        #expect(
            try memory.messages(in: "c1", options: ListOptions(descending: true)).items.map(\.content).first
                == "Book Lisbon")

        // The chain is visible to Cypher.
        let result = try fixture.store.query(
            "MATCH (c:Conversation {title: 'Trip'})-[:FIRST_MESSAGE]->(m:Message)-[:NEXT_MESSAGE]->(n) RETURN m.content, n.content"
        )
        #expect(result.rows.count == 1)

        try memory.endConversation(id: "c1")
        #expect(
            await asyncErrorCode { try await memory.addMessage(to: "c1", role: .user, content: "more") }
                == .conversationEnded)
        #expect(try memory.conversation(id: "c1")?.endedAt != nil)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func badMessagesWriteNothing() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        try memory.startConversation(id: "c")
        let before = try fixture.store.graph().statistics()
        #expect(
            await asyncErrorCode {
                try await memory.addMessage(to: "c", role: MessageRole(rawValue: "robot"), content: "x")
            }
                == .invalidRole)
        #expect(
            await asyncErrorCode { try await memory.addMessage(to: "c", role: .user, content: "  ") } == .emptyContent)
        #expect(
            await asyncErrorCode { try await memory.addMessage(to: "nope", role: .user, content: "x") } == .notFound)
        #expect(
            await asyncErrorCode {
                try await memory.addMessages(
                    [NewMessage(role: .user, content: "ok"), NewMessage(role: .user, content: "")], to: "c")
            } == .emptyContent)
        #expect(errorCode { try memory.startConversation(annotations: ["bad-key": "x"]) } == .invalidAnnotationKey)
        #expect(errorCode { try memory.startConversation(ttl: -1) } == .invalidTTL)
        #expect(errorCode { try fixture.store.context().startConversation() } == .invalidArgument)
        #expect(errorCode { _ = try memory.messages(in: "c", options: ListOptions(limit: 0)) } == .invalidArgument)
        #expect(try await memory.addMessages([], to: "c") == [])
        #expect(await asyncErrorCode { try await memory.addMessages([], to: "nope") } == .notFound)
        #expect(errorCode { _ = try memory.messages(in: "c", options: ListOptions(limit: 1001)) } == .invalidArgument)
        #expect(try fixture.store.graph().statistics() == before)
    }

    @Test func conversationsOfAUserAreListedAndIsolated() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let alice = fixture.store.context(user: "alice", options: clock.options())
        let bob = fixture.store.context(user: "bob", options: clock.options())
        var ids: [String] = []
        for i in 0..<5 {
            ids.append(
                try alice.startConversation(title: "a\(i)", annotations: ["parity": i % 2 == 0 ? "even" : "odd"]).id)
            clock.advance(1)
        }
        try bob.startConversation(id: "bob-chat")
        #expect(try alice.conversations().items.map(\.id) == ids)
        #expect(try alice.conversations().total == 5)
        #expect(
            try alice.conversations(options: ListOptions(limit: 2, descending: true)).items.map(\.id) == [
                ids[4], ids[3],
            ])
        #expect(try alice.conversations(annotations: ["parity": "even"]).total == 3)
        #expect(try alice.conversation(id: "bob-chat") == nil)
        #expect(
            await asyncErrorCode { try await alice.addMessage(to: "bob-chat", role: .user, content: "hi") } == .notFound
        )
        #expect(errorCode { try alice.deleteConversation(id: "bob-chat") } == .notFound)
        #expect(try fixture.store.administrativeContext().conversations().total == 6)
    }

    @Test func deletingAConversationCascades() async throws {
        let fixture = try TestEngramStore()
        let alice = fixture.store.context(user: "alice", agent: "bot")
        let bob = fixture.store.context(user: "bob", agent: "bot")
        let entity = try await alice.addEntity(name: "Lisbon", type: "Location")
        for (context, id) in [(alice, "a"), (bob, "b")] {
            try context.startConversation(id: id)
            let message = try await context.addMessage(to: id, role: .user, content: "to Lisbon")
            try context.link(message.id, mentions: entity.id)
            let trace = try context.startTrace(task: "plan", conversation: id)
            try context.addStep(to: trace.id, thought: "look up", touched: [entity.id])
            try context.recordToolCall(trace: trace.id, tool: "search", arguments: "{\"q\":\"Lisbon\"}")
        }
        let bobBefore = try fixture.store.exportJSONLines(.user(tenant: "default", user: "bob"))
        try alice.deleteConversation(id: "a")
        #expect(try alice.conversation(id: "a") == nil)
        #expect(try fixture.store._checkGraphInvariants() == [])
        #expect(try fixture.store.exportJSONLines(.user(tenant: "default", user: "bob")) == bobBefore)
        let labels = try fixture.store.graph().statistics().nodesByLabel
        #expect(
            labels["Message"] == 1 && labels["ReasoningTrace"] == 1 && labels["ToolCall"] == 1 && labels["Entity"] == 1)
    }
}

@Suite("Memory: long-term memory")
struct MemoryLongTermTests {
    @Test func entitiesAreFoundByNameOrAliasIgnoringCaseSpaceAndDiacritics() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let jose = try await memory.addEntity(
            name: "José García", type: "Person", description: "a friend", aliases: ["Pepe", "J. García"],
            attributes: ["age": 40],
            confidence: 0.9)
        try await memory.addEntity(name: "Acme Corp", type: "Organization")
        #expect(try memory.findEntities(named: "  jose   GARCIA ").map(\.id) == [jose.id])
        #expect(try memory.findEntities(named: "pépé").map(\.id) == [jose.id])
        #expect(try memory.findEntities(named: "pepe", type: "Organization").isEmpty)
        #expect(try memory.entity(id: jose.id) == jose)
        #expect(try memory.entities(type: "Person").items == [jose])
        #expect(try memory.entities().total == 2)

        let updated = try await memory.updateEntity(jose.id, type: "Contact", aliases: ["Joe"])
        #expect(updated.type == "Contact" && updated.aliases == ["Joe"])
        #expect(try memory.findEntities(named: "pepe").isEmpty)
        #expect(try memory.findEntities(named: "JOE").map(\.id) == [jose.id])
        #expect(try memory.entities(type: "Person").total == 0)
        #expect(await asyncErrorCode { try await memory.addEntity(name: " ", type: "Person") } == .emptyContent)
        #expect(await asyncErrorCode { try await memory.addEntity(name: "x", type: "Memory") } == .invalidName)
        #expect(
            await asyncErrorCode { try await memory.addEntity(name: "x", type: "Person", confidence: 1.5) }
                == .valueOutOfRange)
        try memory.deleteEntity(jose.id)
        #expect(try memory.findEntities(named: "joe").isEmpty)
        #expect(try fixture.store.graph().statistics().nodesByLabel["Alias"] == nil)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func repeatedRelationshipsFoldSupportAndProvenance() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let ada = try await memory.addEntity(name: "Ada", type: "Person")
        let acme = try await memory.addEntity(name: "Acme", type: "Organization")
        let first = try memory.relate(
            ada.id, "WORKS_AT", acme.id, properties: ["role": "engineer"], confidence: 0.6, provenance: ["m1"])
        let again = try memory.relate(ada.id, "WORKS_AT", acme.id, confidence: 0.8, provenance: ["m2", "m1"])
        #expect(again.id == first.id)
        #expect(again.supportCount == 2 && again.confidence == 0.8 && again.provenance == ["m1", "m2"])
        #expect(again.properties == ["role": "engineer"])
        #expect(try memory.relationships(of: ada.id).count == 1)
        #expect(errorCode { try memory.relate(ada.id, "works at", acme.id) } == .invalidName)
        #expect(errorCode { try memory.relate(ada.id, "KNOWS", "nobody") } == .notFound)
        let rows = try fixture.store.query("MATCH (a:Person)-[r:WORKS_AT]->(o:Organization) RETURN r.support_count")
            .rows
        #expect(rows.count == 1)
    }

    @Test func memoryLifecycleAndAnnotations() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", agent: "bot", options: clock.options())
        let a = try await memory.remember(NewMemory("likes tea", kind: .preference, annotations: ["source": "chat"]))
        let b = try await memory.remember(NewMemory("proposed fact", kind: .fact, state: .inactive, importance: 0.9))
        let c = try await memory.remember(NewMemory("old", createdAt: clock.now.addingTimeInterval(-86_400)))
        #expect(c.createdAt == clock.now.addingTimeInterval(-86_400))
        #expect(try memory.memories().items.map(\.id).sorted() == [a.id, c.id].sorted())
        #expect(try memory.memories(MemoryFilter(kinds: [.preference])).items.map(\.id) == [a.id])
        #expect(try memory.memories(MemoryFilter(annotations: ["source": "chat"])).items.map(\.id) == [a.id])
        #expect(try memory.memories(MemoryFilter(annotations: ["source": "mail"])).total == 0)
        #expect(try memory.memories(MemoryFilter.allStates).total == 3)
        #expect(try memory.memories(options: ListOptions(order: .createdAt)).items.first?.id == c.id)

        let results = try memory.approve([b.id, a.id, "missing"])
        #expect(results.map(\.result) == [.approved, .alreadyActive, .notFound])
        try memory.deactivate(a.id)
        try memory.archive(c.id)
        #expect(try memory.memories().items.map(\.id) == [b.id])
        #expect(try memory.memories(MemoryFilter(states: [.archived])).items.map(\.id) == [c.id])
        clock.advance(5)
        let updated = try await memory.updateMemory(
            b.id, content: "confirmed fact", importance: 0.2, annotations: ["checked": "yes"])
        #expect(
            updated.content == "confirmed fact" && updated.importance == 0.2 && updated.updatedAt > updated.createdAt)
        #expect(try memory.memories(options: ListOptions(order: .updatedAt, descending: true)).items.first?.id == b.id)
        try memory.deleteMemory(a.id)
        #expect(try memory.memory(id: a.id) == nil)
        #expect(
            Set(try fixture.store.graph().statistics().nodesByLabel.keys).isSuperset(of: [
                "Memory", "Fact", "User", "Agent",
            ]))
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func badMemoriesWriteNothing() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice", agent: "bot")
        let before = try fixture.store.graph().statistics()
        let bad: [(NewMemory, EngramError.Code)] = [
            (NewMemory(""), .emptyContent),
            (NewMemory("x", importance: 1.01), .valueOutOfRange),
            (NewMemory("x", importance: -0.1), .valueOutOfRange),
            (NewMemory("x", annotations: ["a.b": "1"]), .invalidAnnotationKey),
            (NewMemory("x", annotations: ["a b": "1"]), .invalidAnnotationKey),
            (NewMemory("x", ttl: -5), .invalidTTL),
            (NewMemory("x", scope: .global), .notPermitted),
            (NewMemory("x", conversationID: "nope"), .notFound),
            (NewMemory("x", mentions: ["nope"]), .notFound),
        ]
        for (input, code) in bad {
            #expect(await asyncErrorCode { try await memory.remember([NewMemory("fine"), input]) } == code)
        }
        #expect(
            await asyncErrorCode { try await fixture.store.context().remember(NewMemory("x", scope: .user)) }
                == .invalidArgument)
        #expect(
            await asyncErrorCode { try await fixture.store.context(user: "u").remember(NewMemory("x", scope: .agent)) }
                == .invalidArgument)
        #expect(errorCode { try memory.approve("nope") } == .notFound)
        #expect(await asyncErrorCode { try await memory.updateMemory("nope", content: "x") } == .notFound)
        #expect(try fixture.store.graph().statistics() == before)
    }

    @Test func ttlPrecedenceAndExpiry() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", options: clock.options(defaultTTL: 100))
        let chat = try memory.startConversation(id: "c", ttl: 50)
        let storeDefault = try await memory.remember(NewMemory("store default"))
        let fromConversation = try await memory.remember(NewMemory("conversation ttl", conversationID: chat.id))
        let own = try await memory.remember(NewMemory("own ttl", ttl: 10, conversationID: chat.id))
        let never = try await memory.remember(NewMemory("never", ttl: 0, conversationID: chat.id))
        #expect(storeDefault.expiresAt == clock.now.addingTimeInterval(100))
        #expect(fromConversation.expiresAt == clock.now.addingTimeInterval(50))
        #expect(own.expiresAt == clock.now.addingTimeInterval(10))
        #expect(never.expiresAt == nil)
        clock.advance(10)
        #expect(try memory.memory(id: own.id) == nil)
        #expect(try memory.memories().total == 3)
        clock.advance(40)
        #expect(try memory.memories().items.map(\.id).sorted() == [storeDefault.id, never.id].sorted())
        #expect(try memory.conversation(id: "c") == nil)
        #expect(
            await asyncErrorCode { try await memory.addMessage(to: "c", role: .user, content: "late") } == .notFound)
        clock.advance(50)
        #expect(try memory.memories().items.map(\.id) == [never.id])
        #expect(try memory.purgeExpired() == 4)
        #expect(try memory.memories(MemoryFilter.allStates).total == 1)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func supersedeKeepsTheOldFactReadableAsOf() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", options: clock.options())
        let old = try await memory.remember(NewMemory("lives in Paris", kind: .fact))
        let before = clock.now
        clock.advance(60)
        let new = try await memory.supersede(old.id, with: NewMemory("lives in Lisbon", kind: .fact))
        #expect(try memory.memories().items.map(\.id) == [new.id])
        #expect(try memory.memories(MemoryFilter(asOf: before)).items.map(\.id) == [old.id])
        #expect(try memory.memories(MemoryFilter(asOf: clock.now)).items.map(\.id) == [new.id])
        #expect(try memory.memory(id: old.id)?.validUntil == new.validFrom)
        let rows = try fixture.store.query("MATCH (n:Memory)-[:SUPERSEDES]->(o:Memory) RETURN n.content, o.content")
            .rows
        #expect(rows.count == 1)
        #expect(await asyncErrorCode { try await memory.supersede("nope", with: NewMemory("x")) } == .notFound)
    }
}

/// Who reads, in the scope visibility matrix.
enum Reader: String, CaseIterable, Sendable {
    case sameAgent, otherAgentSameUser, userWithoutAgent, otherUser, tenantOnly, otherTenant, admin
}

@Suite("Memory: scope visibility")
struct MemoryVisibilityTests {
    /// Each scope × each reader: whether the reader sees a memory written by alice through agent "bot" in tenant "acme".
    static let matrix: [(MemoryScope, Reader, Bool)] = [
        (.agent, .sameAgent, true), (.agent, .otherAgentSameUser, false), (.agent, .userWithoutAgent, false),
        (.agent, .otherUser, false), (.agent, .tenantOnly, false), (.agent, .otherTenant, false),
        (.agent, .admin, true),
        (.user, .sameAgent, true), (.user, .otherAgentSameUser, true), (.user, .userWithoutAgent, true),
        (.user, .otherUser, false), (.user, .tenantOnly, false), (.user, .otherTenant, false), (.user, .admin, true),
        (.tenant, .sameAgent, true), (.tenant, .otherAgentSameUser, true), (.tenant, .userWithoutAgent, true),
        (.tenant, .otherUser, true), (.tenant, .tenantOnly, true), (.tenant, .otherTenant, false),
        (.tenant, .admin, true),
        (.global, .sameAgent, true), (.global, .otherAgentSameUser, true), (.global, .userWithoutAgent, true),
        (.global, .otherUser, true), (.global, .tenantOnly, true), (.global, .otherTenant, true),
        (.global, .admin, true),
    ]

    static func context(_ reader: Reader, _ store: EngramStore) -> MemoryContext {
        switch reader {
        case .sameAgent: return store.context(tenant: "acme", user: "alice", agent: "bot")
        case .otherAgentSameUser: return store.context(tenant: "acme", user: "alice", agent: "helper")
        case .userWithoutAgent: return store.context(tenant: "acme", user: "alice")
        case .otherUser: return store.context(tenant: "acme", user: "bob", agent: "bot")
        case .tenantOnly: return store.context(tenant: "acme")
        case .otherTenant: return store.context(tenant: "zeta", user: "alice", agent: "bot")
        case .admin: return store.administrativeContext(tenant: "acme")
        }
    }

    @Test(arguments: matrix)
    func visibility(scope: MemoryScope, reader: Reader, visible: Bool) async throws {
        let fixture = try TestEngramStore()
        let writer =
            scope == .global
            ? fixture.store.administrativeContext(tenant: "acme", user: "alice", agent: "bot")
            : fixture.store.context(tenant: "acme", user: "alice", agent: "bot")
        let stored = try await writer.remember(NewMemory("secret", scope: scope))
        let context = Self.context(reader, fixture.store)
        #expect((try context.memory(id: stored.id) != nil) == visible)
        #expect(try context.memories().items.map(\.id) == (visible ? [stored.id] : []))
    }

    @Test func globalMemoriesNeedTheAdministrativeContextToChange() async throws {
        let fixture = try TestEngramStore()
        let admin = fixture.store.administrativeContext(tenant: "acme")
        let global = try await admin.remember(NewMemory("the earth is round", kind: .fact, scope: .global))
        let reader = fixture.store.context(tenant: "zeta", user: "x")
        #expect(errorCode { try reader.deactivate(global.id) } == .notPermitted)
        #expect(errorCode { try reader.deleteMemory(global.id) } == .notPermitted)
        try admin.deactivate(global.id)
        #expect(try reader.memories().total == 0)
        // Expired global memories are purged through an administrative context only.
        let clock = TestClock(Date())
        let timed = fixture.store.administrativeContext(tenant: "acme", options: clock.options())
        try await timed.remember(NewMemory("short-lived", scope: .global, ttl: 1))
        clock.advance(2)
        #expect(try fixture.store.context(tenant: "acme", options: clock.options()).purgeExpired() == 0)
        #expect(try timed.purgeExpired() == 1)
        #expect(try timed.memories(MemoryFilter.everything).total == 1)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }
}

@Suite("Memory: reasoning, cascades, export")
struct MemoryReasoningAndCascadeTests {
    @Test func tracesStepsToolCallsAndStatistics() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", agent: "bot", options: clock.options())
        try memory.startConversation(id: "c")
        let trace = try memory.startTrace(task: "find a flight", conversation: "c", metadata: ["priority": 1])
        let step = try memory.addStep(to: trace.id, thought: "search flights", action: "call search")
        try memory.recordToolCall(
            trace: trace.id, step: step.id, tool: "search", arguments: "{\"to\":\"LIS\"}", result: "3 flights",
            duration: 0.2)
        try memory.recordToolCall(trace: trace.id, tool: "search", status: .timeout, duration: 1.0, error: "slow")
        try memory.addStep(to: trace.id, observation: "picked TP123")
        try memory.recordToolCall(trace: trace.id, tool: "book", status: .success, duration: 0.5)
        try memory.completeTrace(trace.id, outcome: "booked", success: true)
        clock.advance(1)
        let failed = try memory.startTrace(task: "refund")
        try memory.recordToolCall(trace: failed.id, tool: "refund", status: .failure, error: "denied")
        try memory.completeTrace(failed.id, success: false)

        let read = try #require(try memory.trace(id: trace.id))
        #expect(read.success == true && read.outcome == "booked" && read.completedAt != nil)
        #expect(read.steps.map(\.index) == [0, 1])
        #expect(read.steps[0].toolCalls.map(\.tool) == ["search", "search"])
        #expect(read.steps[1].toolCalls.map(\.tool) == ["book"])
        #expect(try memory.traces(conversation: "c").items.map(\.id) == [trace.id])
        #expect(try memory.traces(success: false).items.map(\.id) == [failed.id])
        #expect(try memory.traces(options: ListOptions(descending: true)).items.map(\.id) == [failed.id, trace.id])
        let stats = try memory.toolStatistics()
        #expect(stats.map(\.tool) == ["book", "refund", "search"])
        let search = stats[2]
        #expect(
            search.calls == 2 && search.successes == 1 && search.successRate == 0.5
                && abs(search.meanDurationMs - 600) < 1e-6)
        #expect(
            errorCode { try memory.recordToolCall(trace: trace.id, tool: "x", arguments: "{not json") }
                == .invalidArgument)
        #expect(errorCode { try memory.addStep(to: "nope", thought: "x") } == .notFound)
        #expect(errorCode { try memory.addStep(to: trace.id) } == .emptyContent)
        #expect(try fixture.store.context(user: "bob").trace(id: trace.id) == nil)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    /// Fills alice's and bob's data in two tenants.
    static func populate(_ store: EngramStore, clock: TestClock) async throws {
        for tenant in ["acme", "zeta"] {
            for user in ["alice", "bob"] {
                for agent in ["bot", "helper"] {
                    let memory = store.context(tenant: tenant, user: user, agent: agent, options: clock.options())
                    let entity = try await memory.addEntity(
                        name: "\(user) \(agent) place", type: "Location", aliases: ["\(user)-\(agent)"])
                    let chat = try memory.startConversation(title: "\(user)/\(agent)", annotations: ["tenant": tenant])
                    let message = try await memory.addMessage(
                        to: chat.id, role: .user, content: "hello from \(user)", metadata: ["n": 1.5])
                    try memory.link(message.id, mentions: entity.id)
                    try await memory.remember(NewMemory("agent fact", scope: .agent, mentions: [entity.id]))
                    try await memory.remember(
                        NewMemory("user fact", kind: .preference, scope: .user, annotations: ["k": "v"]))
                    let trace = try memory.startTrace(task: "task", conversation: chat.id)
                    try memory.addStep(to: trace.id, thought: "think", touched: [entity.id])
                    try memory.recordToolCall(trace: trace.id, tool: "t", arguments: "[1,2]")
                    try memory.completeTrace(trace.id, success: true)
                    clock.advance(1)
                }
            }
            try await store.context(tenant: tenant, user: "alice", options: clock.options()).remember(
                NewMemory("shared", scope: .tenant))
        }
        try await store.administrativeContext(tenant: "acme", options: clock.options()).remember(
            NewMemory("global", scope: .global))
    }

    @Test func deletingAUserIsExactAndComplete() async throws {
        let fixture = try TestEngramStore()
        try await Self.populate(fixture.store, clock: TestClock())
        let bob = try fixture.store.exportJSONLines(.user(tenant: "acme", user: "bob"))
        let zeta = try fixture.store.exportJSONLines(.tenant("zeta"))
        let alice = fixture.store.context(tenant: "acme", user: "alice")
        #expect(errorCode { try alice.deleteUser("bob") } == .notPermitted)
        #expect(try alice.deleteUser("alice") > 0)
        #expect(try fixture.store._checkGraphInvariants() == [])
        #expect(try fixture.store.exportJSONLines(.user(tenant: "acme", user: "bob")) == bob)
        #expect(try fixture.store.exportJSONLines(.tenant("zeta")) == zeta)
        #expect(try alice.users().items.map(\.name) == ["bob"])
        #expect(try alice.conversations().total == 0)
        #expect(try alice.memories(MemoryFilter(scopes: [.user, .agent])).total == 0)
        #expect(try alice.memories().items.map(\.content).sorted() == ["global", "shared"])
        #expect(errorCode { try alice.deleteUser("alice") } == .notFound)
    }

    @Test func deletingAnAgentIsExactAndComplete() async throws {
        let fixture = try TestEngramStore()
        try await Self.populate(fixture.store, clock: TestClock())
        let zeta = try fixture.store.exportJSONLines(.tenant("zeta"))
        let admin = fixture.store.administrativeContext(tenant: "acme")
        try admin.deleteAgent("helper")
        #expect(try fixture.store._checkGraphInvariants() == [])
        #expect(try fixture.store.exportJSONLines(.tenant("zeta")) == zeta)
        #expect(try admin.agents().items.map(\.name) == ["bot"])
        #expect(try admin.conversations().items.allSatisfy { $0.agent == "bot" })
        #expect(try admin.conversations().total == 2)
        #expect(try admin.memories(MemoryFilter(scopes: [.agent])).items.allSatisfy { $0.agent == "bot" })
        #expect(try admin.memories(MemoryFilter(scopes: [.user])).total == 4)
    }

    @Test func deletingATenantIsExactAndComplete() async throws {
        let fixture = try TestEngramStore()
        try await Self.populate(fixture.store, clock: TestClock())
        let zeta = try fixture.store.exportJSONLines(.tenant("zeta"))
        try fixture.store.dropTenant("acme")
        #expect(try fixture.store._checkGraphInvariants() == [])
        #expect(try fixture.store.graph(tenant: "acme").statistics().nodes == 0)
        #expect(try fixture.store.exportJSONLines(.tenant("zeta")) == zeta)
        #expect(
            try fixture.store.context(tenant: "zeta", user: "bob").memories().items.map(\.content).contains("global"))
        #expect(try !fixture.store.tenants().contains("acme"))
        // The tenant starts again from nothing, its indexes declared anew.
        let again = fixture.store.context(tenant: "acme", user: "alice")
        try await again.addEntity(name: "Zoë", type: "Person", aliases: ["Zoe B"])
        #expect(try again.findEntities(named: "zoe b").count == 1)
        #expect(try again.users().items.map(\.name) == ["alice"])
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func exportImportRoundTrip() async throws {
        let fixture = try TestEngramStore()
        try await Self.populate(fixture.store, clock: TestClock())
        let lines = try fixture.store.exportJSONLines(.store)
        let copy = try TestEngramStore()
        let summary = try await copy.store.importJSONLines(lines, batchSize: 37)
        #expect(summary.nodesCreated > 0 && summary.nodesReplaced == 0)
        #expect(try copy.store.exportJSONLines(.store) == lines)
        // Idempotent by id: a second import replaces and changes nothing.
        let again = try await copy.store.importJSONLines(lines)
        #expect(again.nodesCreated == 0 && again.nodesReplaced == summary.nodesCreated)
        #expect(try copy.store.exportJSONLines(.store) == lines)
        #expect(try copy.store._checkGraphInvariants() == [])
        // The copy works as a memory store.
        let alice = copy.store.context(tenant: "acme", user: "alice", agent: "bot")
        #expect(try alice.findEntities(named: "ALICE BOT PLACE").count == 1)
        #expect(try alice.findEntities(named: "alice-bot").count == 1)
        #expect(try alice.memories().total == 5)  // its agent fact, two user facts, the tenant and the global memory

        // One user's export into an empty store.
        let bobLines = try fixture.store.exportJSONLines(.user(tenant: "acme", user: "bob"))
        let bobCopy = try TestEngramStore()
        try await bobCopy.store.importJSONLines(bobLines)
        #expect(try bobCopy.store.exportJSONLines(.user(tenant: "acme", user: "bob")) == bobLines)
        #expect(try bobCopy.store.context(tenant: "acme", user: "bob").conversations().total == 2)
        #expect(
            await asyncErrorCode { try await bobCopy.store.importJSONLines(["{\"kind\":\"node\""]) } == .decodingFailed)
    }

    @Test func propertyValuesSurviveTheJSONForm() async throws {
        let fixture = try TestEngramStore()
        let values: [String: PropertyValue] = [
            "int": 42, "negative": -7, "double": 1.0, "fraction": 0.1, "tiny": 1e-300, "nan": .double(.nan),
            "inf": .double(.infinity),
            "text": "line\n\"quoted\" \u{1} é 😀", "bytes": .bytes([0, 255, 7]), "vector": .vector([0.1, -2.5, 3e-8]),
            "list": [1, "two", 3.0, nil], "map": ["$odd": 1, "plain": ["x": true]], "false": false,
        ]
        try fixture.store.graph(tenant: "t").createNode(id: "n", labels: ["Thing"], properties: values)
        let lines = try fixture.store.exportJSONLines(.tenant("t"))
        let copy = try TestEngramStore()
        try await copy.store.importJSONLines(lines)
        let node = try #require(try copy.store.graph(tenant: "t").node(id: "n"))
        for (key, value) in values where key != "nan" { #expect(node.properties[key] == value, "\(key)") }
        #expect(node.properties["nan"]?.doubleValue?.isNaN == true)
        #expect(node.properties["int"]?.intValue == 42 && node.properties["double"]?.intValue == nil)
    }
}

@Suite("Memory: summaries and the demo")
struct MemorySummaryTests {
    @Test func extractiveSummaryKeepsTheCentralSentencesInOrder() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let chat = try memory.startConversation()
        try await memory.addMessages(
            [
                NewMessage(role: .system, content: "You are a travel agent."),
                NewMessage(role: .user, content: "Hello! I want a flight to Lisbon. A cheap flight to Lisbon in May."),
                NewMessage(role: .assistant, content: "Sure. Flights to Lisbon in May start at 90 euros."),
                NewMessage(role: .user, content: "Thanks."),
            ], to: chat.id)
        let episode = try await memory.summarizeConversation(chat.id, using: ExtractiveSummarizer(maximumSentences: 2))
        #expect(episode.kind == .episode && episode.conversationID == chat.id)
        #expect(episode.content == "I want a flight to Lisbon. A cheap flight to Lisbon in May.")
        #expect(try memory.memories(MemoryFilter(kinds: [.episode])).total == 1)
        let empty = try memory.startConversation()
        #expect(await asyncErrorCode { try await memory.summarizeConversation(empty.id) } == .emptyContent)
    }

    @Test func demoRunsTheSameTwice() async throws {
        let fixture = try TestEngramStore()
        let first = try await MemoryDemo.run(store: fixture.store)
        let second = try await MemoryDemo.run(store: fixture.store)
        #expect(first == second)
        #expect(first.contains("  fact: Alice's budget is 600 euros"))
        #expect(first.contains("  fact: Alice's budget is 400 euros"))
        #expect(try fixture.store._checkGraphInvariants() == [])
    }
}

@Suite("Memory: listing, statistics, isolation")
struct MemoryListingTests {
    @Test func cursorAndOffsetPagesCoverTheListOnce() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", options: clock.options())
        var generator = SeededGenerator(seed: 7)
        var ids: [String] = []
        for i in 0..<23 {
            // Backfilled creation times in a shuffled order, with ties, so that the order is by time then id.
            let age = TimeInterval(Int.random(in: 0..<10, using: &generator)) * 60
            ids.append(try await memory.remember(NewMemory("m\(i)", createdAt: clock.now.addingTimeInterval(-age))).id)
        }
        for descending in [false, true] {
            for order in ListOptions.Order.allCases {
                let all = try memory.memories(options: ListOptions(limit: 1000, order: order, descending: descending))
                #expect(all.total == 23 && Set(all.items.map(\.id)) == Set(ids))
                var options = ListOptions(limit: 5, order: order, descending: descending)
                var viaCursor: [String] = []
                var page = try memory.memories(options: options)
                viaCursor += page.items.map(\.id)
                while let cursor = page.nextCursor {
                    options.cursor = cursor
                    page = try memory.memories(options: options)
                    viaCursor += page.items.map(\.id)
                    #expect(page.total == 23)
                }
                #expect(viaCursor == all.items.map(\.id))
                var viaOffset: [String] = []
                for offset in stride(from: 0, to: 23, by: 5) {
                    viaOffset += try memory.memories(
                        options: ListOptions(limit: 5, offset: offset, order: order, descending: descending)
                    )
                    .items.map(\.id)
                }
                #expect(viaOffset == all.items.map(\.id))
            }
        }
        let byCreation = try memory.memories(options: ListOptions(limit: 1000)).items.map(\.createdAt)
        #expect(byCreation == byCreation.sorted())
        #expect(errorCode { _ = try memory.memories(options: ListOptions(cursor: "garbage")) } == .invalidArgument)
        #expect(errorCode { _ = try memory.memories(options: ListOptions(offset: -1)) } == .invalidArgument)
    }

    @Test func statisticsCountByKindStateAndScope() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice", agent: "bot")
        let old = try await memory.remember(NewMemory("a", kind: .fact))
        try await memory.supersede(old.id, with: NewMemory("b", kind: .fact))
        try await memory.remember(NewMemory("c", kind: .preference, scope: .agent, state: .inactive))
        try await memory.remember(NewMemory("d", scope: .tenant))
        let statistics = try memory.memoryStatistics()
        #expect(statistics.total == 4)
        #expect(statistics.byKind == ["fact": 2, "preference": 1, "general": 1])
        #expect(statistics.byState == [.active: 3, .inactive: 1])
        #expect(statistics.byScope == [.user: 2, .agent: 1, .tenant: 1])
        #expect(try memory.memories(MemoryFilter.everything).total == 4)
        #expect(try fixture.store.context(user: "bob").memoryStatistics().total == 1)
    }

    @Test func tenantsAreIsolatedThroughCypherToo() async throws {
        let fixture = try TestEngramStore()
        let acme = fixture.store.context(tenant: "acme", user: "alice")
        let entity = try await acme.addEntity(name: "Ada", type: "Person")
        let chat = try acme.startConversation()
        let message = try await acme.addMessage(to: chat.id, role: .user, content: "I met Ada")
        try acme.link(message.id, mentions: entity.id)
        try await acme.remember(NewMemory("Ada is a friend", scope: .tenant, mentions: [entity.id]))
        let query = "MATCH (x)-[:MENTIONS]->(e:Entity) RETURN count(x)"
        #expect(try fixture.store.query(query, tenant: "acme").rows.first?.first == .integer(2))
        #expect(try fixture.store.query(query, tenant: "zeta").rows.first?.first == .integer(0))
        let zeta = fixture.store.context(tenant: "zeta", user: "alice")
        #expect(try zeta.entity(id: entity.id) == nil)
        #expect(try zeta.memories().total == 0)
        #expect(errorCode { try zeta.link(message.id, mentions: entity.id) } == .notFound)
        #expect(
            errorCode { try fixture.store.context(tenant: "acme", user: "bob").link(message.id, mentions: entity.id) }
                == .notFound)
    }
}

@Suite("Memory: bi-temporal relationships and mentions")
struct MemoryTemporalTests {
    @Test func relationshipsAreReadAsOfATime() async throws {
        let fixture = try TestEngramStore()
        let clock = TestClock()
        let memory = fixture.store.context(user: "alice", options: clock.options())
        let ada = try await memory.addEntity(name: "Ada", type: "Person")
        let acme = try await memory.addEntity(name: "Acme", type: "Organization", aliases: ["ACME Inc"])
        let initech = try await memory.addEntity(name: "Initech", type: "Organization")
        let start = clock.now
        let job = try memory.relate(ada.id, "WORKS_AT", acme.id)
        clock.advance(100)
        try memory.endRelationship(job.id)
        try memory.relate(ada.id, "WORKS_AT", initech.id, validFrom: clock.now)
        #expect(try memory.relationships(of: ada.id).map(\.targetID) == [initech.id])
        #expect(try memory.relationships(of: ada.id, asOf: start.addingTimeInterval(50)).map(\.targetID) == [acme.id])
        #expect(try memory.relationships(of: ada.id, includeAllValidity: true).count == 2)
        #expect(try memory.relationships(of: acme.id, includeAllValidity: true).count == 1)  // not its ALIAS_OF
        #expect(errorCode { try memory.endRelationship("nope") } == .notFound)
    }

    @Test func messagesMentionEntitiesInTheSameTransaction() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let ada = try await memory.addEntity(name: "Ada", type: "Person")
        let chat = try memory.startConversation()
        try await memory.addMessages(
            [NewMessage(role: .user, content: "Ada called", mentions: [ada.id, ada.id])], to: chat.id)
        let before = try fixture.store.graph().statistics()
        #expect(
            await asyncErrorCode {
                try await memory.addMessages(
                    [
                        NewMessage(role: .user, content: "ok"),
                        NewMessage(role: .user, content: "x", mentions: ["nope"]),
                    ],
                    to: chat.id)
            } == .notFound)
        #expect(try fixture.store.graph().statistics() == before)
        let rows = try fixture.store.query("MATCH (m:Message)-[:MENTIONS]->(e:Person {name: 'Ada'}) RETURN m.content")
            .rows
        #expect(rows.count == 1)
    }
}

@Suite("Memory: concurrency")
struct MemoryConcurrencyTests {
    @Test func concurrentContextsWriteAndReadConsistently() async throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        let users = ["u0", "u1", "u2", "u3"]
        let failures = await withTaskGroup(of: String?.self) { group in
            for index in 0..<users.count * 2 {
                group.addTask { () -> String? in
                    let user = users[index % users.count]
                    let memory = store.context(tenant: "acme", user: user, agent: "a\(index)")
                    do {
                        if index < users.count {
                            let chat = try memory.startConversation(id: "chat-\(user)")
                            for i in 0..<10 {
                                try await memory.addMessage(
                                    to: chat.id, role: i % 2 == 0 ? .user : .assistant, content: "m\(i)")
                            }
                        } else {
                            for i in 0..<10 {
                                try await memory.remember(NewMemory("fact \(i)", kind: .fact))
                                // A reader never sees a half-written batch: the count is always whole.
                                let count = try memory.memories(MemoryFilter(kinds: [.fact])).total
                                if count > 10 { throw EngramError(.corrupted, "saw \(count) facts") }
                            }
                        }
                    } catch {
                        return "\(error)"
                    }
                    return nil
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(failures == [])
        for user in users {
            let memory = store.context(tenant: "acme", user: user)
            let messages = try memory.messages(in: "chat-\(user)").items
            #expect(messages.map(\.content) == (0..<10).map { "m\($0)" })
            #expect(try memory.memories().total == 10)
        }
        #expect(try store.context(tenant: "acme").users().total == 4)
        #expect(try store._checkGraphInvariants() == [])
    }
}

@Suite("Memory: updates of every record type")
struct MemoryUpdateTests {
    @Test func messagesAreReadUpdatedAndDeletedKeepingTheChain() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let chat = try memory.startConversation(id: "c")
        let messages = try await memory.addMessages((0..<4).map { NewMessage(role: .user, content: "m\($0)") }, to: "c")
        #expect(try memory.message(id: messages[1].id) == messages[1])
        #expect(try fixture.store.context(user: "bob").message(id: messages[1].id) == nil)
        let edited = try await memory.updateMessage(id: messages[1].id, content: "edited", metadata: ["edited": true])
        #expect(edited.content == "edited" && edited.metadata == ["edited": true])
        #expect(
            await asyncErrorCode { try await memory.updateMessage(id: messages[1].id, content: "") } == .emptyContent)

        let chain = "MATCH (:Conversation {title: 'T'})-[:FIRST_MESSAGE]->(f)-[:NEXT_MESSAGE*0..]->(m) RETURN m.content"
        try memory.updateConversation(id: chat.id, title: "T", annotations: ["k": "v"], ttl: 0)
        func contents() throws -> [String] {
            try fixture.store.query(chain).rows.compactMap {
                if case .string(let text) = $0[0] { return text } else { return nil }
            }
        }
        #expect(try contents() == ["m0", "edited", "m2", "m3"])
        try memory.deleteMessage(id: messages[0].id)  // the first
        try memory.deleteMessage(id: messages[2].id)  // a middle one
        #expect(try contents() == ["edited", "m3"])
        try memory.deleteMessage(id: messages[3].id)  // the last
        let after = try await memory.addMessage(to: "c", role: .assistant, content: "new")
        #expect(try contents() == ["edited", "new"])
        #expect(try memory.messages(in: "c").items.map(\.id) == [messages[1].id, after.id])
        let conversation = try #require(try memory.conversation(id: "c"))
        #expect(conversation.messageCount == 2 && conversation.title == "T" && conversation.annotations == ["k": "v"])
        #expect(errorCode { try memory.deleteMessage(id: "nope") } == .notFound)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func usersAgentsAndTracesAreReadUpdatedAndDeleted() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice", agent: "bot")
        #expect(try memory.user(named: "alice") == nil)
        let alice = try memory.setUserAttributes(["plan": "pro"])
        #expect(alice.attributes == ["plan": "pro"] && alice.name == "alice")
        try memory.setAgentAttributes(["model": "small"])
        #expect(try memory.agent(named: "bot")?.attributes == ["model": "small"])
        #expect(try memory.user(named: "alice") == alice)
        #expect(errorCode { try fixture.store.context().setUserAttributes([:]) } == .invalidArgument)
        let trace = try memory.startTrace(task: "t")
        try memory.recordToolCall(trace: trace.id, tool: "x")
        try memory.deleteTrace(id: trace.id)
        #expect(try memory.trace(id: trace.id) == nil)
        let labels = try fixture.store.graph().statistics().nodesByLabel
        #expect(labels["ReasoningStep"] == nil && labels["ToolCall"] == nil)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }
}

@Suite("Memory: async")
struct MemoryAsyncTests {
    @Test func performRunsCallsFromAsyncCode() async throws {
        let fixture = try TestEngramStore()
        let memory = fixture.store.context(user: "alice")
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<8 {
                group.addTask { try await memory.remember(NewMemory("fact \(i)", kind: .fact)).id }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 8)
        #expect(try await memory.perform { try $0.memories().total } == 8)
        await #expect(throws: EngramError.self) {
            try await memory.perform { try $0.memories(options: ListOptions(limit: 0)) }
        }
        await #expect(throws: EngramError.self) { try await memory.remember(NewMemory("")) }
    }
}
