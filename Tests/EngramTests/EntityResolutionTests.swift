import Engram
import EngramCore
import EngramTestSupport
import Foundation
import Testing

/// The tenant's nodes and relationships as sorted export lines: a full dump that ignores
/// internal ids and storage order.
private func dump(_ store: EngramStore, tenant: String = "default") throws -> [String] {
    var lines: [String] = []
    try store.exportJSONLines(.tenant(tenant)) { lines.append($0) }
    return lines.sorted()
}

private func context(_ fixture: TestEngramStore, tenant: String = "default", resolving: Bool = true) -> MemoryContext {
    var options = MemoryOptions()
    options.resolution.isEnabled = resolving
    return fixture.store.context(tenant: tenant, user: "alice", options: options)
}

@Suite("Entity resolution: bands and guards")
struct EntityResolutionBandTests {
    @Test func honorificsSuffixesAndReorderingAreExactMatches() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let jane = try await memory.addEntity(name: "Jane Smith", type: "Person")
        let again = try await memory.resolveEntity(name: "Dr. Jane Smith", type: "Person")
        #expect(again.decision == .exactMatch && again.entity.id == jane.id)
        #expect(again.entity.aliases == ["Dr. Jane Smith"])
        await #expect(try memory.resolveEntity(name: "Smith, Jane", type: "Person").entity.id == jane.id)
        let acme = try await memory.addEntity(name: "Acme Corp.", type: "Organization")
        await #expect(try memory.resolveEntity(name: "ACME, Inc", type: "Organization").decision == .exactMatch)
        await #expect(try memory.resolveEntity(name: "The Acme Company", type: "Organization").entity.id == acme.id)
        #expect(try memory.entities().total == 2)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func anAliasMatchesExactly() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let ibm = try await memory.addEntity(name: "International Business Machines", type: "Organization", aliases: ["IBM"])
        let found = try await memory.resolveEntity(name: "I.B.M.", type: "Organization", attributes: ["hq": "Armonk"])
        #expect(found.decision == .exactMatch && found.entity.id == ibm.id)
        #expect(found.entity.attributes == ["hq": "Armonk"])
    }

    @Test func typosMergeAndTheDecisionIsExplained() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let jonathan = try await memory.addEntity(name: "Jonathan Smithers", type: "Person")
        let typo = try await memory.resolveEntity(name: "Jonathon Smithers", type: "Person")
        #expect(typo.decision == .merged && typo.entity.id == jonathan.id)
        #expect(typo.entity.aliases == ["Jonathon Smithers"])
        #expect(typo.candidates.first?.band == .merge)
        #expect(typo.explanation.contains("typo"))
        #expect(try memory.entities().total == 1)
    }

    @Test func acronymsGoToReviewAndMergeWhenContextConfirms() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let ibm = try await memory.addEntity(name: "International Business Machines", type: "Organization")
        let short = try await memory.resolveEntity(name: "IBM", type: "Organization")
        #expect(short.decision == .review)
        #expect(short.candidates.map(\.targetID) == [ibm.id])
        #expect(try #require(short.candidates.first).reasons.contains { $0.contains("acronym 'ibm'") })
        #expect(try memory.duplicateReviews().map(\.sourceID) == [short.entity.id])
        // Without shared context the pair stays in review; with a shared neighbour it may merge.
        #expect(try memory.findPotentialDuplicates().first?.band == .review)
        let armonk = try await memory.addEntity(name: "Armonk", type: "Location")
        try memory.relate(ibm.id, "LOCATED_IN", armonk.id)
        try memory.relate(short.entity.id, "LOCATED_IN", armonk.id)
        let pair = try #require(try memory.findPotentialDuplicates().first)
        #expect(pair.sourceID == short.entity.id && pair.targetID == ibm.id)
        #expect(pair.band == .merge && pair.status == .pending)
        #expect(pair.reasons.contains { $0.contains("confirmed by shared context") })
    }

    @Test func identifiersWithOtherNumbersNeverMerge() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let first = try await memory.addEntity(name: "SR-2023-052", type: "Ticket")
        let second = try await memory.resolveEntity(name: "SR-2023-053", type: "Ticket")
        #expect(second.decision == .created && second.entity.id != first.id)
        try await memory.addEntity(name: "iPhone 14", type: "Product")
        await #expect(try memory.resolveEntity(name: "iPhone 15", type: "Product").decision == .created)
        // The same identifier spelt differently is one.
        await #expect(try memory.resolveEntity(name: "sr 2023 052", type: "Ticket").entity.id == first.id)
        #expect(try memory.findPotentialDuplicates(minScore: 0.6).isEmpty)
    }

    @Test func identifierLikeShortAndLowEntropyNamesGoToReviewNotMerge() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        try await memory.addEntity(name: "Galaxy S24", type: "Product")
        let product = try await memory.resolveEntity(name: "Galxy S24", type: "Product")
        #expect(product.decision == .review)
        #expect(try #require(product.candidates.first).reasons.contains { $0.contains("identifier-like") })
        try await memory.addEntity(name: "Ann", type: "Person")
        let short = try await memory.resolveEntity(name: "Anne", type: "Person")
        #expect(short.decision == .review)
        #expect(try #require(short.candidates.first).reasons.contains { $0.contains("under 4 characters") })
        try await memory.addEntity(name: "Lalala", type: "Concept")
        let low = try await memory.resolveEntity(name: "Lalalaa", type: "Concept")
        #expect(low.decision == .review)
        #expect(try #require(low.candidates.first).reasons.contains { $0.contains("low-entropy") })
    }

    @Test func differentTypesAndHardNegativesStayApart() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let company = try await memory.addEntity(name: "Apple", type: "Organization")
        let fruit = try await memory.resolveEntity(name: "Apple", type: "Object")
        #expect(fruit.decision == .created && fruit.entity.id != company.id)
        await #expect(try memory.resolveEntity(name: "Apple Inc.", type: "Organization").entity.id == company.id)
        #expect(try memory.findPotentialDuplicates(minScore: 0).isEmpty)
        try await memory.addEntity(name: "John Smith", type: "Person")
        await #expect(try memory.resolveEntity(name: "Joan Smith", type: "Person").decision != .merged)
        try await memory.addEntity(name: "Austria", type: "Location")
        await #expect(try memory.resolveEntity(name: "Australia", type: "Location").decision != .merged)
        #expect(try memory.entities(type: "Location").total == 2)
    }

    @Test func thresholdsAreConfigurable() async throws {
        let fixture = try TestEngramStore()
        var options = MemoryOptions()
        options.resolution.mergeThreshold = 0.99
        options.resolution.reviewThreshold = 0.99
        let memory = fixture.store.context(options: options)
        try await memory.addEntity(name: "Jonathan Smithers", type: "Person")
        await #expect(try memory.resolveEntity(name: "Jonathon Smithers", type: "Person").decision == .created)
    }

    @Test func embeddingNeighboursBlockAndScore() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let kodak = try await memory.addEntity(name: "Kodak Alaris", type: "Organization")
        // No shared prefix: without embeddings blocking does not meet the pair.
        let vector: [Float] = [0.6, 0.8, 0]
        let plain = try memory._resolveEntity(name: "Codak Alariz", type: "Organization", embeddings: .none)
        #expect(plain.decision == .created)
        try memory.deleteEntity(plain.entity.id)
        let embedded = try memory._resolveEntity(
            name: "Codak Alariz", type: "Organization",
            embeddings: .table([kodak.id: vector], query: vector))
        #expect(embedded.decision == .review)
        #expect(try #require(embedded.candidates.first).reasons.contains { $0.contains("embedding cosine 1.0") })
    }
}

@Suite("Entity resolution: review, merge and unmerge")
struct EntityMergeTests {
    @Test func mergeMovesAndFoldsAndUnmergeRestoresTheExactGraph() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture, resolving: false)
        let target = try await memory.addEntity(
            name: "Jonathan Smith", type: "Person", aliases: ["Jon"], attributes: ["city": "Lisbon", "age": 40],
            confidence: 0.7)
        let source = try await memory.addEntity(
            name: "J. Smith", type: "Person", description: "the engineer", aliases: ["Jon", "Johnny S"],
            attributes: ["city": "Porto", "team": "infra"], confidence: 0.9)
        let acme = try await memory.addEntity(name: "Acme", type: "Organization")
        let bob = try await memory.addEntity(name: "Bob", type: "Person")
        try memory.relate(target.id, "WORKS_AT", acme.id, confidence: 0.5, provenance: ["m1"])
        try memory.relate(
            source.id, "WORKS_AT", acme.id, properties: ["role": "lead"], confidence: 0.8, provenance: ["m2"])
        try memory.relate(source.id, "KNOWS", bob.id)
        try memory.relate(bob.id, "MANAGES", source.id)
        try memory.relate(source.id, "SIBLING_OF", target.id)
        let chat = try memory.startConversation()
        let both = try await memory.addMessage(to: chat.id, role: .user, content: "Jon and J. Smith")
        try memory.link(both.id, mentions: target.id)
        try memory.link(both.id, mentions: source.id)
        let only = try await memory.addMessage(to: chat.id, role: .user, content: "J. Smith again")
        try memory.link(only.id, mentions: source.id)
        try await memory.remember(NewMemory("J. Smith likes tea", mentions: [source.id]))
        let before = try dump(fixture.store)

        let merged = try memory.merge(source.id, into: target.id)
        #expect(try fixture.store._checkGraphInvariants() == [])
        #expect(merged.aliases == ["Jon", "Johnny S", "J. Smith"])
        #expect(merged.attributes == ["city": .list(["Lisbon", "Porto"]), "age": 40, "team": "infra"])
        #expect(merged.description == "the engineer" && merged.confidence == 0.9)
        #expect(try memory.entity(id: source.id) == merged)
        #expect(try memory.entities(type: "Person").total == 2)
        let works = try memory.relationships(of: target.id, types: ["WORKS_AT"])
        #expect(works.count == 1)
        #expect(works[0].supportCount == 2 && works[0].confidence == 0.8 && works[0].provenance == ["m1", "m2"])
        #expect(works[0].properties == ["role": "lead"])
        #expect(Set(try memory.relationships(of: target.id).map(\.type)) == ["WORKS_AT", "KNOWS", "MANAGES"])
        // A relationship between the two stays with the source (the tombstone).
        let sibling = try fixture.store.query("MATCH (s:MergedEntity)-[:SIBLING_OF]->(t:Entity) RETURN s.name AS name")
        #expect(sibling.rows.count == 1)
        let mentions = try fixture.store.query(
            "MATCH (m)-[:MENTIONS]->(e:Entity {name: 'Jonathan Smith'}) RETURN count(m) AS n")
        #expect(mentions.rows.first?.first?.description == "3")
        #expect(try memory.findEntities(named: "Johnny S").map(\.id) == [target.id])

        let restored = try memory.unmerge(source.id)
        #expect(restored == source)
        #expect(try dump(fixture.store) == before)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func mergeErrorsAreTyped() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture, resolving: false)
        let a = try await memory.addEntity(name: "Alpha One", type: "Thing")
        let b = try await memory.addEntity(name: "Beta Two", type: "Thing")
        let c = try await memory.addEntity(name: "Gamma Three", type: "Thing")
        #expect(errorCode { try memory.merge(a.id, into: a.id) } == .invalidMerge)
        #expect(errorCode { try memory.merge(a.id, into: "nobody") } == .notFound)
        #expect(errorCode { try memory.unmerge(a.id) } == .invalidMerge)
        try memory.merge(a.id, into: b.id)
        #expect(errorCode { try memory.merge(c.id, into: a.id) } == .invalidMerge)
        #expect(errorCode { try memory.merge(a.id, into: c.id) } == .invalidMerge)
        try memory.merge(b.id, into: c.id)
        #expect(try memory.entity(id: a.id)?.id == c.id)
        #expect(errorCode { try memory.unmerge(a.id) } == .invalidMerge)
        try memory.unmerge(b.id)
        try memory.unmerge(a.id)
        #expect(try memory.entities().total == 3)
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func rejectedPairsAreNeverProposedAgainAndConfirmMerges() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture)
        let ann = try await memory.addEntity(name: "Ann Lee", type: "Person")
        let anne = try await memory.resolveEntity(name: "Anne Lee", type: "Person")
        #expect(anne.decision == .review)
        let pending = try #require(try memory.findPotentialDuplicates().first)
        #expect(pending.sourceID == anne.entity.id && pending.targetID == ann.id && pending.status == .pending)
        let rejected = try memory.reviewDuplicate(pending, decision: .reject)
        #expect(rejected.status == .rejected)
        #expect(try memory.findPotentialDuplicates(minScore: 0).isEmpty)
        #expect(try memory.duplicateReviews().isEmpty)
        #expect(try memory.duplicateReviews(status: .rejected).map(\.sourceID) == [anne.entity.id])

        let mark = try await memory.addEntity(name: "Mark Tanner", type: "Person")
        let marc = try await memory.resolveEntity(name: "Marc Tanner", type: "Person")
        #expect(marc.decision == .review)
        let confirmed = try memory.reviewDuplicate(source: marc.entity.id, target: mark.id, decision: .confirm)
        #expect(confirmed.status == .confirmed)
        #expect(try memory.entity(id: marc.entity.id)?.id == mark.id)
        #expect(try memory.entity(id: mark.id)?.aliases == ["Marc Tanner"])
        #expect(try fixture.store._checkGraphInvariants() == [])
    }

    @Test func nothingCrossesTenants() async throws {
        let fixture = try TestEngramStore()
        let acme = context(fixture, tenant: "acme")
        let zeta = context(fixture, tenant: "zeta")
        let jane = try await acme.addEntity(name: "Jane Smith", type: "Person")
        try await acme.addEntity(name: "Jane Smyth", type: "Person", id: "acme-smyth")
        let other = try await zeta.resolveEntity(name: "Dr. Jane Smith", type: "Person")
        #expect(other.decision == .created && other.entity.id != jane.id)
        #expect(try zeta.findPotentialDuplicates(minScore: 0).isEmpty)
        #expect(errorCode { try zeta.merge(other.entity.id, into: jane.id) } == .notFound)
        #expect(
            errorCode { try zeta.reviewDuplicate(source: "acme-smyth", target: jane.id, decision: .reject) }
                == .notFound)
        #expect(try zeta.entity(id: jane.id) == nil)
        #expect(try acme.entities().total == 2)
    }

    @Test func findPotentialDuplicatesBlocksAndValidates() async throws {
        let fixture = try TestEngramStore()
        let memory = context(fixture, resolving: false)
        for (first, last) in [
            ("Margaret", "Hamilton"), ("Margret", "Hamilton"), ("Peggy", "Hamilton"), ("Alan", "Turing"),
        ] {
            try await memory.addEntity(name: "\(first) \(last)", type: "Person")
        }
        let pairs = try memory.findPotentialDuplicates(type: "Person")
        #expect(
            Set(pairs.map { Set([$0.sourceName, $0.targetName]) }).contains(["Margaret Hamilton", "Margret Hamilton"]))
        #expect(pairs.allSatisfy { $0.score >= 0.85 && $0.sourceName != "Alan Turing" })
        #expect(try memory.findPotentialDuplicates(type: "Person", limit: 1).count == 1)
        #expect(errorCode { _ = try memory.findPotentialDuplicates(limit: 0) } == .invalidArgument)
        #expect(errorCode { _ = try memory.findPotentialDuplicates(minScore: 2) } == .invalidArgument)
    }
}

@Suite("Entity resolution: evaluation")
struct EntityResolutionEvaluationTests {
    @Test func labelledPairsMeetTheGoals() {
        let pairs = ResolutionEvaluation.pairs()
        let report = ResolutionEvaluation.evaluate(pairs)
        print(
            "entity resolution evaluation: \(report.pairs) pairs, \(report.positives) duplicates; "
                + "auto-merge precision \(report.mergePrecision) recall \(report.mergeRecall) (\(report.merged) merged); "
                + "review precision \(report.reviewPrecision) (\(report.reviewed) reviewed); "
                + "merge+review recall \(report.mergeOrReviewRecall)")
        for error in report.errors {
            print(
                "  \(error.band) \(String(format: "%.3f", error.score)) \(error.pair.kind): '\(error.pair.a)' / '\(error.pair.b)'"
            )
        }
        #expect(pairs.count >= 500)
        #expect(Set(pairs.map(\.type)).isSuperset(of: ["Person", "Organization", "Location", "Product"]))
        #expect(report.mergePrecision >= 0.99)
        #expect(report.mergeOrReviewRecall >= 0.90)
        // Seeded: the same pairs every time.
        #expect(ResolutionEvaluation.pairs() == pairs)
    }
}

@Suite("The engram dedupe command")
struct DedupeCommandTests {
    @Test func listRejectMergeAndUnmerge() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-dedupe")
        let db = directory.appending("store")
        let (jane, smyth, ada): (String, String, String)
        do {
            let store = try EngramStore(path: db)
            let memory = store.context(tenant: "acme")
            jane = try await memory.addEntity(name: "Jane Smith", type: "Person").id
            smyth = try await memory.resolveEntity(name: "Jane Smyth", type: "Person").entity.id
            ada = try await memory.addEntity(name: "Ada Lovelace", type: "Person").id
        }
        let list = try runEngram(["dedupe", "list", "--db", db, "--tenant", "acme", "--format", "json"])
        #expect(list.status == 0, "\(list.err)")
        let pairs = try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]]
        #expect(pairs?.count == 1)
        #expect(pairs?.first?["source"] as? String == smyth && pairs?.first?["target"] as? String == jane)
        #expect(pairs?.first?["status"] as? String == "pending")
        let table = try runEngram(["dedupe", "list", "--db", db, "--tenant", "acme", "--pending"])
        #expect(table.status == 0 && table.out.contains("Jane Smyth") && table.out.contains("1 pair"))

        let reject = try runEngram(["dedupe", "reject", "--db", db, "--tenant", "acme", smyth, jane])
        #expect(reject.status == 0 && reject.out.contains("rejected"), "\(reject.err)")
        let after = try runEngram([
            "dedupe", "list", "--db", db, "--tenant", "acme", "--format", "json", "--min-score", "0",
        ])
        #expect((try JSONSerialization.jsonObject(with: Data(after.out.utf8)) as? [Any])?.isEmpty == true)

        let merge = try runEngram([
            "dedupe", "merge", "--db", db, "--tenant", "acme", ada, "--into", jane, "--format", "json",
        ])
        #expect(merge.status == 0, "\(merge.err)")
        #expect(merge.out.contains("Ada Lovelace"))
        let unmerge = try runEngram(["dedupe", "unmerge", "--db", db, "--tenant", "acme", ada])
        #expect(unmerge.status == 0 && unmerge.out.contains("Ada Lovelace"), "\(unmerge.err)")
        let bad = try runEngram(["dedupe", "merge", "--db", db, "--tenant", "acme", ada, "--into", ada])
        #expect(bad.status == 1 && bad.err.contains("invalid_merge"))
    }
}

@Suite("Entity resolution: string measures")
struct StringSimilarityTests {
    @Test func knownValues() {
        // Jaro-Winkler's textbook pairs.
        #expect(abs(StringSimilarity.jaroWinkler("martha", "marhta") - 0.9611) < 0.0001)
        #expect(abs(StringSimilarity.jaroWinkler("dwayne", "duane") - 0.84) < 0.0001)
        #expect(abs(StringSimilarity.jaroWinkler("dixon", "dicksonx") - 0.8133) < 0.0001)
        #expect(StringSimilarity.jaroWinkler("", "") == 1 && StringSimilarity.jaroWinkler("a", "") == 0)
        // 2·LCS/(|a|+|b|): "apple" / "applied" share "appl" + "e".
        #expect(abs(StringSimilarity.ratio("apple", "applied") - 10.0 / 12.0) < 1e-12)
        // Word order and repetition do not matter; a contained name scores 1.
        #expect(StringSimilarity.tokenSetRatio(["jane", "smith"], ["smith", "jane", "jane"]) == 1)
        #expect(StringSimilarity.tokenSetRatio(["acme"], ["acme", "logistics"]) == 1)
        #expect(StringSimilarity.tokenSetRatio(["north", "wind"], ["south", "park"]) < 0.6)
        // Damerau (optimal string alignment): a transposition counts one.
        #expect(StringSimilarity.editDistance("microsoft", "microsfot") == 1)
        #expect(StringSimilarity.editDistance("kitten", "sitting") == 3)
    }

    @Test(arguments: [("boston", "bsoton"), ("jane smith", "smith jane"), ("prague", "pague"), ("abc", "xyz")])
    func theCharacterBoundIsAnUpperBound(pair: (String, String)) {
        let a = Array(pair.0.unicodeScalars.map(\.value))
        let b = Array(pair.1.unicodeScalars.map(\.value))
        #expect(StringSimilarity.ratioBound(a, b) >= StringSimilarity.ratio(a, b))
    }
}

@Suite("Entity resolution with the store's embedder")
struct EntityResolutionEmbeddingTests {
    @Test func newEntitiesAreEmbeddedAndTheirVectorsTakePartInResolution() async throws {
        let directory = try TemporaryDirectory(prefix: "resolution-embedding")
        let store = try EngramStore(path: directory.appending("store"), embedder: HashingEmbedder(dimension: 128))
        let memory = store.context(tenant: "t")
        let first = try await memory.resolveEntity(name: "Jonathan Smith", type: "Person")
        #expect(first.decision == .created)
        // The new entity has a vector in the tenant's entity index…
        let definition = try #require(try store.vectorIndex("memory:entities", tenant: "t"))
        #expect(definition.model == HashingEmbedder(dimension: 128).modelID)
        // …so the next near name is scored with the embedding cosine among its reasons.
        let second = try await memory.resolveEntity(name: "Jonathon Smith", type: "Person")
        let candidate = try #require(second.candidates.first)
        #expect(candidate.targetID == first.entity.id)
        #expect(candidate.reasons.contains { $0.hasPrefix("embedding cosine") })
        // The duplicate finder reads the stored vectors as well.
        var options = MemoryOptions()
        options.resolution.isEnabled = false
        let plain = store.context(tenant: "t", options: options)
        try await plain.addEntity(name: "Jonathan Smyth", type: "Person")
        let pairs = try plain.findPotentialDuplicates(type: "Person", minScore: 0.5)
        #expect(!pairs.isEmpty && pairs.allSatisfy { $0.reasons.contains { $0.hasPrefix("embedding cosine") } })
    }
}
