import Engram
import EngramTestSupport
import Foundation
import Testing

@Suite("Full-text: analyzer")
struct TextAnalyzerTests {
    let analyzer = TextAnalyzer()

    @Test func foldsCaseAndDiacritics() {
        #expect(analyzer.terms("Café CRÈME Straße naïve Øresund Łódź") == ["cafe", "creme", "strasse", "naive", "oresund", "lodz"])
        #expect(analyzer.terms("ＡＢＣ ﬁle Æsir") == ["abc", "file", "aesir"])
    }

    @Test func stopWordsAreOptional() {
        #expect(analyzer.terms("The cat is on the mat") == ["cat", "mat"])
        let keepAll = TextAnalyzer(AnalyzerOptions(stopWords: false))
        #expect(keepAll.terms("The cat is on the mat") == ["the", "cat", "is", "on", "the", "mat"])
    }

    @Test func stemmingIsTheMinimalEnglishStemmer() {
        let text = "memories seats boxes glass bus series queries toes ties"
        #expect(analyzer.terms(text) == ["memory", "seat", "boxe", "glass", "bus", "sery", "query", "toes", "ty"])
        let unstemmed = TextAnalyzer(AnalyzerOptions(stemming: false))
        #expect(unstemmed.terms(text) == text.split(separator: " ").map(String.init))
        #expect(TextAnalyzer.stem("cafés") == "cafés")  // not ASCII letters: left alone
        #expect(analyzer.terms("Cafés") == ["cafe"])  // folded first, then stemmed
    }

    @Test func identifiersGiveTheirPartsAndTheWhole() {
        #expect(analyzer.terms("Ticket SR-2023-052 closed") == ["ticket", "sr", "2023", "052", "sr2023052", "closed"])
        #expect(analyzer.terms("user_id e-mail") == ["user", "id", "userid", "e", "mail", "email"])
        #expect(analyzer.terms("a -- b - c-") == ["b", "c"])  // a lone or doubled dash joins nothing; "a" is a stop word
        #expect(analyzer.terms("state-of-the-art") == ["state", "art", "stateoftheart"])
    }

    @Test func emojiSymbolsAndScriptsWithoutSpaces() {
        #expect(analyzer.terms("I ❤️ pizza 🍕! 3.14 + 42%") == ["i", "pizza", "3", "14", "42"])
        #expect(analyzer.terms("東京タワー") == ["東", "京", "タ", "ワ", "ー"])
        #expect(analyzer.terms("서울 여행") == ["서울", "여행"])
        #expect(analyzer.terms("👩‍👩‍👧‍👦🏳️‍🌈").isEmpty)
        #expect(analyzer.terms("").isEmpty)
        #expect(analyzer.terms("Ελληνικά Русский") == ["ελληνικα", "русскии"])
    }

    @Test func longTermsAreCutAtACharacterBoundary() {
        let long = String(repeating: "é", count: 80)  // folds to 80 ASCII bytes: kept whole
        #expect(analyzer.terms(long) == [String(repeating: "e", count: 80)])
        let cyrillic = String(repeating: "ж", count: 80)  // 160 bytes
        let term = analyzer.terms(cyrillic)[0]
        #expect(term.utf8.count == 100 && term == String(repeating: "ж", count: 50))
    }
}

/// Plain BM25, written out as in the textbooks, over analyzed documents.
private func referenceBM25(query: [String], documents: [String: [String]], k1: Double = 1.2, b: Double = 0.75)
    -> [String: Double]
{
    let n = Double(documents.count)
    let average = Double(documents.values.map(\.count).reduce(0, +)) / n
    var scores: [String: Double] = [:]
    for term in Set(query) {
        let holding = documents.filter { $0.value.contains(term) }
        let idf = log(1 + (n - Double(holding.count) + 0.5) / (Double(holding.count) + 0.5))
        for (id, terms) in holding {
            let tf = Double(terms.filter { $0 == term }.count)
            let length = Double(terms.count)
            scores[id, default: 0] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
        }
    }
    return scores
}

@Suite("Full-text: index and BM25")
struct FullTextIndexTests {
    static let corpus: [(id: String, text: String)] = [
        ("m1", "Alice prefers a window seat on long flights"),
        ("m2", "Alice is vegetarian and avoids seafood"),
        ("m3", "The flight to Lisbon leaves at nine; Alice booked seat 12A"),
        ("m4", "Bob prefers aisle seats, never window seats"),
        ("m5", "Ticket SR-2023-052: refund for the cancelled Lisbon flight"),
        ("m6", "Lisbon trip budget is 600 euros"),
        ("m7", "Windows and seats and flights: flights flights flights"),
        ("m8", "Café near the hotel serves crème brûlée"),
    ]

    static func store(_ tenant: String = "acme") async throws -> TestEngramStore {
        let fixture = try TestEngramStore()
        let admin = fixture.store.administrativeContext(tenant: tenant)
        try await admin.remember(corpus.map { NewMemory($0.text, scope: .tenant, id: $0.id) })
        return fixture
    }

    @Test(arguments: [
        "window seat", "Lisbon flight", "flights", "SR-2023-052", "creme brulee cafe", "alice alice seat", "nothing here",
    ])
    func scoresEqualAPlainReferenceImplementation(query: String) async throws {
        let fixture = try await Self.store()
        let analyzer = TextAnalyzer()
        let documents = Dictionary(uniqueKeysWithValues: Self.corpus.map { ($0.id, analyzer.terms($0.text)) })
        let expected = referenceBM25(query: analyzer.terms(query), documents: documents)
        let hits = try fixture.store.keywordSearch(query, group: .memories, tenant: "acme", limit: 100)
        #expect(hits.count == expected.count)
        for hit in hits {
            let want = try #require(expected[hit.id])
            #expect(abs(hit.score - want) < 1e-9, "\(hit.id): \(hit.score) vs \(want)")
        }
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(try fixture.store._checkFullTextInvariants() == [])
    }

    @Test func identifiersAreFoundWholeAndByPart() async throws {
        let fixture = try await Self.store()
        #expect(try fixture.store.keywordSearch("sr-2023-052", group: .memories, tenant: "acme").first?.id == "m5")
        #expect(try fixture.store.keywordSearch("SR2023052", group: .memories, tenant: "acme").map(\.id) == ["m5"])
        #expect(try fixture.store.keywordSearch("2023", group: .memories, tenant: "acme").map(\.id) == ["m5"])
    }

    @Test func postingsFollowUpdatesAndDeletes() async throws {
        let fixture = try await Self.store()
        let store = fixture.store
        let admin = store.administrativeContext(tenant: "acme")
        func ids(_ query: String, _ group: FullTextGroup = .memories) throws -> [String] {
            try store.keywordSearch(query, group: group, tenant: "acme", limit: 100).map(\.id).sorted()
        }
        try await admin.updateMemory("m6", content: "Porto trip budget is 800 euros")
        #expect(try ids("lisbon") == ["m3", "m5"])
        #expect(try ids("porto") == ["m6"])
        try await admin.updateMemory("m6", importance: 0.9)  // text unchanged: nothing to do, still consistent
        #expect(try ids("porto") == ["m6"])
        let newer = try await admin.supersede("m2", with: NewMemory("Alice eats fish again", scope: .tenant, id: "m2b"))
        #expect(try ids("fish") == [newer.id])
        #expect(try ids("vegetarian") == ["m2"])  // the old memory stays, closed
        try admin.deleteMemory("m4")
        #expect(try ids("aisle").isEmpty)
        #expect(try store._checkFullTextInvariants() == [])

        let memory = store.context(tenant: "acme", user: "alice", agent: "bot")
        try memory.startConversation(id: "c1", title: "Trip")
        let first = try await memory.addMessage(to: "c1", role: .user, content: "Find me a hotel in Lisbon")
        try await memory.addMessages([NewMessage(role: .assistant, content: "Hotel Avenida has rooms")], to: "c1")
        #expect(try ids("hotel", .messages).count == 2)
        try await memory.updateMessage(id: first.id, content: "Find me a hostel in Porto")
        #expect(try ids("lisbon", .messages).isEmpty && ids("hostel", .messages) == [first.id])
        try memory.deleteMessage(id: first.id)
        #expect(try ids("hostel", .messages).isEmpty)

        let entity = try await admin.addEntity(name: "Ada Lovelace", type: "Person", description: "first programmer", aliases: ["Countess"])
        #expect(try ids("countess", .entities) == [entity.id])
        #expect(try ids("person", .entities) == [entity.id])
        try await admin.updateEntity(entity.id, description: "mathematician", aliases: ["Ada King"])
        #expect(try ids("countess programmer", .entities).isEmpty && ids("king mathematician", .entities) == [entity.id])

        let trace = try memory.startTrace(task: "Plan the Lisbon itinerary", conversation: "c1")
        #expect(try ids("itinerary", .traces) == [trace.id])
        #expect(try store._checkFullTextInvariants() == [])
        try memory.deleteTrace(id: trace.id)
        try admin.deleteEntity(entity.id)
        #expect(try ids("itinerary", .traces).isEmpty && ids("ada", .entities).isEmpty)
        #expect(try store._checkFullTextInvariants() == [])
    }

    @Test func cascadesLeaveNoOrphanEntry() async throws {
        let fixture = try TestEngramStore()
        let store = fixture.store
        for tenant in ["acme", "globex"] {
            for user in ["alice", "bob"] {
                let memory = store.context(tenant: tenant, user: user, agent: "bot")
                try memory.startConversation(id: "c-\(user)", title: "chat")
                try await memory.addMessages(
                    (0..<5).map { NewMessage(role: .user, content: "message \($0) about trains and \(user)") }, to: "c-\(user)")
                try await memory.remember(NewMemory("\(user) likes trains", scope: .user))
                try await memory.remember(NewMemory("\(user) asked the bot about trains", scope: .agent))
                try memory.startTrace(task: "plan a train trip for \(user)", conversation: "c-\(user)")
                try memory.startTrace(task: "a trace of \(user) outside conversations")
            }
            try await store.administrativeContext(tenant: tenant).addEntity(name: "Eurostar", type: "Organization")
        }
        #expect(try store._checkFullTextInvariants() == [])
        let before = try store._fullTextEntryCount()
        #expect(before > 100)
        let acme = store.administrativeContext(tenant: "acme")
        try store.context(tenant: "acme", user: "alice").deleteConversation(id: "c-alice")
        #expect(try store._checkFullTextInvariants() == [])
        try acme.deleteUser("alice")
        #expect(try store._checkFullTextInvariants() == [])
        try acme.deleteAgent("bot")
        #expect(try store._checkFullTextInvariants() == [])
        try acme.deleteUser("bob")
        for entity in try acme.entities().items { try acme.deleteEntity(entity.id) }
        #expect(try store._checkFullTextInvariants() == [])
        for group in FullTextGroup.allCases {
            #expect(try store.keywordSearch("trains trip eurostar bob", group: group, tenant: "acme").isEmpty)
            #expect(try !store.keywordSearch("trains trip eurostar bob", group: group, tenant: "globex").isEmpty)
        }
        #expect(try store._fullTextEntryCount() * 2 == before)  // what is left is globex's half
        try store.dropTenant("globex")
        #expect(try store._checkFullTextInvariants() == [])
        #expect(try store._fullTextEntryCount() == 0)
        #expect(try store.keywordSearch("eurostar", group: .entities, tenant: "globex").isEmpty)
    }

    @Test func anAbortedTransactionLeavesNoPostings() async throws {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph(tenant: "acme")
        let nodes = [
            NodeImport(id: "a", labels: ["Memory"], properties: ["content": "zeppelin over the harbour"]),
            NodeImport(id: "a", labels: ["Memory"], properties: ["content": "zeppelin again"]),
        ]
        #expect(errorCode { try graph.bulkLoad(nodes: nodes, relationships: []) } == .alreadyExists)
        #expect(try fixture.store.keywordSearch("zeppelin", group: .memories, tenant: "acme").isEmpty)
        #expect(try fixture.store._checkFullTextInvariants() == [])
        try graph.bulkLoad(nodes: [nodes[0]], relationships: [])
        #expect(try fixture.store.keywordSearch("zeppelin", group: .memories, tenant: "acme").map(\.id) == ["a"])
        #expect(try fixture.store._checkFullTextInvariants() == [])
    }

    @Test func tenantsAreIsolated() async throws {
        let fixture = try await Self.store("acme")
        let alone = try await Self.store("acme")
        try await fixture.store.administrativeContext(tenant: "globex").remember(
            (0..<20).map { NewMemory("globex lisbon office number \($0)", scope: .tenant, id: "g\($0)") })
        let mixed = try fixture.store.keywordSearch("lisbon", group: .memories, tenant: "acme", limit: 50)
        let single = try alone.store.keywordSearch("lisbon", group: .memories, tenant: "acme", limit: 50)
        #expect(mixed.map(\.id) == single.map(\.id))
        #expect(zip(mixed, single).allSatisfy { $0.score == $1.score })  // the other tenant's statistics do not count
        #expect(try fixture.store.keywordSearch("globex", group: .memories, tenant: "acme").isEmpty)
        #expect(try fixture.store.keywordSearch("lisbon", group: .memories, tenant: "globex", limit: 50).count == 20)
    }

    @Test func theFilterIsAppliedBeforeTheCut() async throws {
        let fixture = try TestEngramStore()
        let admin = fixture.store.administrativeContext(tenant: "acme")
        // 300 strong matches the filter rejects, then 3 weak ones it keeps: a top-3 cut before
        // filtering would leave nothing, and so would a first window of 256 candidates.
        try await admin.remember((0..<300).map { NewMemory("kiwi kiwi kiwi", scope: .tenant, id: "hidden\($0)") })
        try await admin.remember(
            (0..<3).map { NewMemory("a long note that mentions a kiwi once among many other words \($0)", scope: .tenant, id: "shown\($0)") })
        var asked = 0
        let hits = try fixture.store.keywordSearch("kiwi", group: .memories, tenant: "acme", limit: 3) { id in
            asked += 1
            return id.hasPrefix("shown")
        }
        #expect(hits.map(\.id).sorted() == ["shown0", "shown1", "shown2"])
        #expect(asked == 303)
        let unfiltered = try fixture.store.keywordSearch("kiwi", group: .memories, tenant: "acme", limit: 3)
        #expect(unfiltered.map(\.id) == ["hidden0", "hidden1", "hidden2"])  // equal scores: lower node id first
        #expect(errorCode { _ = try fixture.store.keywordSearch("kiwi", group: .memories, tenant: "acme", limit: 0) } == .invalidArgument)
    }

    @Test func importIndexesWhatItImports() async throws {
        let source = try await Self.store()
        try source.store.context(tenant: "acme", user: "alice").startTrace(task: "compare flight prices")
        let lines = try source.store.exportJSONLines(.tenant("acme"))
        let target = try TestEngramStore()
        try await target.store.importJSONLines(lines)
        for (query, group) in [("window seat", FullTextGroup.memories), ("prices", .traces)] {
            let want = try source.store.keywordSearch(query, group: group, tenant: "acme")
            let got = try target.store.keywordSearch(query, group: group, tenant: "acme")
            #expect(got.map(\.id) == want.map(\.id) && !got.isEmpty)
            #expect(zip(got, want).allSatisfy { abs($0.score - $1.score) < 1e-12 })
        }
        try await target.store.importJSONLines(lines)  // again: replaces every node, the index stays exact
        #expect(try target.store._checkFullTextInvariants() == [])
    }

    @Test func rebuildChangesTheAnalyzerOptions() async throws {
        let fixture = try await Self.store()
        let store = fixture.store
        #expect(try store.keywordSearch("the", group: .memories, tenant: "acme").isEmpty)
        #expect(try store.rebuildFullTextIndex(tenant: "acme", options: AnalyzerOptions(stopWords: false, stemming: false)) == 8)
        #expect(try store.keywordSearch("the", group: .memories, tenant: "acme", limit: 10).count == 3)
        #expect(try store.keywordSearch("seat", group: .memories, tenant: "acme", limit: 10).map(\.id).sorted() == ["m1", "m3"])
        try await store.administrativeContext(tenant: "acme").remember(NewMemory("the seats", scope: .tenant, id: "m9"))
        #expect(try store.keywordSearch("the", group: .memories, tenant: "acme", limit: 10).count == 4)
        #expect(try store._checkFullTextInvariants() == [])
        #expect(try store.rebuildFullTextIndex(tenant: "acme") == 9)
        #expect(try store.keywordSearch("the", group: .memories, tenant: "acme").isEmpty)
        #expect(try store._checkFullTextInvariants() == [])
    }

    /// Written through the graph API alone (no memory-layer call), like a store of an older build.
    @Test func openingAStoreWithoutTheIndexBuildsIt() throws {
        let fixture = try TestEngramStore()
        let acme = fixture.store.graph(tenant: "acme")
        for (id, text) in Self.corpus {
            try acme.createNode(id: id, labels: ["Memory"], properties: ["content": .string(text)])
        }
        try fixture.store.graph(tenant: "other").createNode(
            labels: ["Entity", "Location"], properties: ["name": "Lisbon", "type": "Location"])
        try fixture.store._dropFullTextIndex(tenant: "acme")
        #expect(try fixture.store.keywordSearch("lisbon", group: .memories, tenant: "acme").isEmpty)
        #expect(try !fixture.store._checkFullTextInvariants().isEmpty)
        let reopened = try EngramStore(path: fixture.store.path)
        #expect(try reopened.keywordSearch("lisbon", group: .memories, tenant: "acme", limit: 10).count == 3)
        #expect(try reopened._checkFullTextInvariants() == [])
        #expect(try reopened.keywordSearch("seats", group: .memories, tenant: "acme", limit: 10).map(\.id).sorted() == ["m1", "m3", "m4", "m7"])
        #expect(try reopened.keywordSearch("lisbon", group: .entities, tenant: "other").count == 1)
    }

    @Test func cypherQueryNodes() async throws {
        let fixture = try await Self.store()
        let result = try fixture.store.query(
            "CALL db.index.fulltext.queryNodes('memories', 'window seat') YIELD node, score RETURN node.content AS text, score LIMIT 2",
            tenant: "acme")
        let hits = try fixture.store.keywordSearch("window seat", group: .memories, tenant: "acme", limit: 2)
        #expect(result.columns == ["text", "score"])
        let texts = Dictionary(uniqueKeysWithValues: Self.corpus.map { ($0.id, $0.text) })
        #expect(result.rows == hits.map { [.string(texts[$0.id]!), .float($0.score)] })
        let all = try fixture.store.query(
            "CALL db.index.fulltext.queryNodes('MEMORIES', 'lisbon') YIELD node RETURN count(node) AS n", tenant: "acme")
        #expect(all.rows == [[.integer(3)]])
        #expect(try fixture.store.query(
            "CALL db.index.fulltext.queryNodes('memories', 'lisbon') YIELD node RETURN count(node) AS n", tenant: "other"
        ).rows == [[.integer(0)]])
        let unknown = #expect(throws: CypherError.self) {
            try fixture.store.query("CALL db.index.fulltext.queryNodes('people', 'x') YIELD node RETURN node")
        }
        #expect(unknown?.message.contains("there is no full-text index 'people'") == true)
        let badQuery = #expect(throws: CypherError.self) {
            try fixture.store.query("CALL db.index.fulltext.queryNodes('memories', 3) YIELD node RETURN node")
        }
        #expect(badQuery?.message.contains("queryString must be a string") == true)
    }
}
