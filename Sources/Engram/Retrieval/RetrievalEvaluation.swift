import EngramCore
import EngramEmbedding
import Foundation

/// A generated retrieval benchmark: people with facts about them (employer, city, food, hobby, pet,
/// allergy, event, drink) stored as memories that mention the person's entity, conversations of
/// chit-chat and near-miss distractors as messages, and questions that paraphrase one fact each
/// (few shared words beyond the name) with that fact's memory as the one relevant answer.
///
/// Everything comes from the templates below and a seeded SplitMix64, so a seed always yields the
/// same corpus. Used by the retrieval test and `engram bench search --eval`; see `docs/retrieval.md`.
package struct RetrievalEvaluation: Sendable {
    /// A question and the ids of the memories that answer it.
    package struct Question: Sendable, Hashable {
        package var text: String
        package var relevant: [String]
    }

    /// One person: entity id, full name, and the ids of the facts about them.
    package struct Person: Sendable {
        package var id: String
        package var name: String
        package var first: String
    }

    package var people: [Person] = []
    package var memories: [NewMemory] = []
    package var conversations: [(id: String, user: String, messages: [NewMessage])] = []
    package var questions: [Question] = []

    /// The number of memories and messages.
    package var corpusSize: Int { memories.count + conversations.reduce(0) { $0 + $1.messages.count } }

    // MARK: Vocabulary

    static let firstNames = [
        "Maya", "Tomas", "Ingrid", "Kofi", "Lena", "Rafael", "Aiko", "Dmitri", "Priya", "Oscar", "Fatima", "Henrik",
        "Chloe", "Mateo", "Yara", "Felix", "Nadia", "Jonas", "Amara", "Lucas", "Sofia", "Emeka", "Hana", "Viktor",
        "Elena", "Samir", "Greta", "Diego", "Leila", "Arjun", "Clara", "Bruno", "Zainab", "Pavel", "Isla", "Kenji",
        "Noor", "Anton", "Beatriz", "Tariq",
    ]
    static let lastNames = [
        "Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "Ferreira", "Novak", "Brennan", "Castillo",
        "Mensah", "Varga", "Schneider", "Oyelaran", "Petrov", "Duarte", "Nakamura", "Achterberg", "Rossi", "Kaur",
        "Delacroix", "Mwangi", "Eriksen", "Santoro", "Abara", "Whitfield", "Yilmaz", "Quinlan", "Sorensen", "Baptiste",
    ]
    static let organisations = [
        "Brightwave Labs", "Northwind Logistics", "Helix Biotech", "Copperleaf Bank", "Orbital Foods",
        "Quarry Street Studio", "Meridian Health", "Tidewater Energy", "Lumen Robotics", "Saffron Media",
        "Granite Insurance", "Bluefin Analytics", "Atlas Freight", "Juniper Schools", "Falcon Aerospace",
    ]
    static let roles = [
        "a data engineer", "a nurse", "an accountant", "a product designer", "a warehouse supervisor",
        "a research chemist", "a sales manager", "a software tester", "a lawyer", "a pilot", "a teacher",
        "a marketing analyst",
    ]
    static let cities = [
        "Porto", "Utrecht", "Krakow", "Nairobi", "Osaka", "Valparaiso", "Tallinn", "Bologna", "Montreal", "Hobart",
        "Ghent", "Seville", "Leipzig", "Accra", "Busan", "Cork",
    ]
    static let cuisines = [
        ("Thai", "spicy green curry"), ("Ethiopian", "injera with lentil stew"), ("Japanese", "ramen"),
        ("Mexican", "tacos al pastor"), ("Lebanese", "mezze"), ("Italian", "fresh pasta"), ("Korean", "bibimbap"),
        ("Indian", "dosa"), ("Peruvian", "ceviche"), ("Greek", "souvlaki"),
    ]
    static let hobbies = [
        ("rock climbing at the indoor wall", "sport"), ("playing the cello in an amateur orchestra", "music"),
        ("restoring old bicycles", "craft"), ("birdwatching along the coast", "nature"),
        ("running half marathons", "sport"), ("painting watercolour landscapes", "art"),
        ("brewing beer at home", "craft"), ("sailing small dinghies", "sport"),
        ("growing tomatoes on the balcony", "nature"),
        ("playing competitive chess online", "game"),
    ]
    static let pets = [
        ("a beagle", "dog"), ("a grey tabby cat", "cat"), ("two budgies", "bird"), ("a border collie", "dog"),
        ("a corn snake", "reptile"), ("a Maine Coon cat", "cat"), ("a rescue greyhound", "dog"),
        ("a pair of rabbits", "rabbit"),
    ]
    static let petNames = [
        "Pixel", "Mango", "Biscuit", "Juno", "Pepper", "Tofu", "Nimbus", "Olive", "Rocket", "Waffle",
    ]
    static let allergies = ["peanuts", "shellfish", "gluten", "dairy", "sesame", "eggs", "kiwi fruit", "soy"]
    static let events = [
        ("the robotics summit", "conference"), ("a cousin's wedding", "wedding"), ("the city marathon", "race"),
        ("a jazz festival", "festival"), ("a medical conference", "conference"),
        ("a product launch in the office", "launch"),
        ("a pottery workshop", "workshop"), ("a chess tournament", "tournament"),
    ]
    static let months = ["March", "April", "May", "June", "September", "October", "November"]
    static let drinks = [
        "oat-milk flat white", "green tea", "double espresso", "hot chocolate", "chai latte", "sparkling water",
        "rooibos", "cold brew",
    ]

    // MARK: Generation

    /// Generates the benchmark.
    /// - Parameters:
    ///   - seed: the generator's seed.
    ///   - peopleCount: people; each brings 8 fact memories and 6 to 8 messages.
    ///   - questionCount: questions, each about one distinct fact.
    package static func generate(seed: UInt64 = 2026, peopleCount: Int = 150, questionCount: Int = 250)
        -> RetrievalEvaluation
    {
        var random = SplitMix(seed: seed)
        var evaluation = RetrievalEvaluation()
        var names = Set<String>()
        var facts: [(person: Person, topic: Int, memory: String, details: [String: String])] = []
        var workers: [String: [String]] = [:]  // "org|role" → work fact ids
        var petOwners: [String: [String]] = [:]  // "species|name" → pet fact ids
        while evaluation.people.count < peopleCount {
            let first = firstNames[random.below(firstNames.count)]
            let last = lastNames[random.below(lastNames.count)]
            guard names.insert(first + " " + last).inserted else { continue }
            let person = Person(id: "person-\(evaluation.people.count)", name: first + " " + last, first: first)
            evaluation.people.append(person)
            let n = person.name
            let org = organisations[random.below(organisations.count)]
            let role = roles[random.below(roles.count)]
            let city = cities[random.below(cities.count)]
            let (cuisine, dish) = cuisines[random.below(cuisines.count)]
            let (hobby, _) = hobbies[random.below(hobbies.count)]
            let (pet, species) = pets[random.below(pets.count)]
            let petName = petNames[random.below(petNames.count)]
            let allergy = allergies[random.below(allergies.count)]
            let (event, _) = events[random.below(events.count)]
            let month = months[random.below(months.count)]
            let drink = drinks[random.below(drinks.count)]
            let texts = [
                "\(n) works at \(org) as \(role).",
                "\(n) lives in \(city) and rents a flat near the old town.",
                "\(n) loves \(cuisine) cooking, especially \(dish).",
                "On weekends \(n) goes \(hobby).",
                "\(n) has \(pet) called \(petName).",
                "\(n) is allergic to \(allergy).",
                "\(n) is going to \(event) in \(month).",
                "Every morning \(n) orders a \(drink).",
            ]
            for (topic, text) in texts.enumerated() {
                let id = "\(person.id)-fact-\(topic)"
                evaluation.memories.append(
                    NewMemory(
                        text, kind: topic == 2 || topic == 7 ? .preference : .fact, scope: .tenant,
                        mentions: [person.id],
                        id: id))
                facts.append(
                    (person, topic, id, ["species": species, "first": first, "org": org, "role": role, "pet": petName]))
            }
            workers[org + "|" + role, default: []].append("\(person.id)-fact-0")
            petOwners[species + "|" + petName, default: []].append("\(person.id)-fact-4")
            // A conversation with chit-chat and near misses: other cities, food in general, plans.
            let otherCity = cities[random.below(cities.count)]
            let otherOrg = organisations[random.below(organisations.count)]
            var messages = [
                NewMessage(role: .user, content: "Hi, it's \(first). Can you help me plan my week?"),
                NewMessage(role: .assistant, content: "Of course, \(first). What is on the agenda?"),
                NewMessage(role: .user, content: "I need to book a table for dinner on Friday, somewhere quiet."),
                NewMessage(role: .user, content: "Also remind me to call the landlord about the heating."),
                NewMessage(role: .assistant, content: "Noted: dinner on Friday and a call to the landlord."),
                NewMessage(role: .user, content: "My friend from \(otherOrg) is visiting \(otherCity) next month."),
            ]
            if random.below(2) == 0 {
                messages.append(NewMessage(role: .user, content: "What's a good gift for someone who likes cooking?"))
                messages.append(NewMessage(role: .assistant, content: "A good knife or a cookbook is a safe choice."))
            }
            evaluation.conversations.append((id: "chat-\(person.id)", user: "user-\(person.id)", messages: messages))
        }
        // Questions about distinct facts, in a fixed mix: 7 in 10 ask a person's attribute with a
        // paraphrase (the full name, or 1 in 3 the first name only, when every person of that first
        // name has the answer's topic relevant), 3 in 20 ask who works somewhere in some role, 3 in
        // 20 whose pet has some name.
        var order = Array(facts.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.below(i + 1)) }
        for index in order.prefix(questionCount) {
            let fact = facts[index]
            let details = fact.details
            let draw = random.below(20)
            if draw < 3, fact.topic == 0 || fact.topic == 4 {
                if fact.topic == 0 {
                    let templates = ["Who is {role} at {org}?", "Which of my contacts works for {org} as {role}?"]
                    let text = templates[random.below(templates.count)]
                        .replacingOccurrences(of: "{role}", with: details["role"]!)
                        .replacingOccurrences(of: "{org}", with: details["org"]!)
                    evaluation.questions.append(
                        Question(text: text, relevant: workers[details["org"]! + "|" + details["role"]!]!))
                } else {
                    let templates = ["Whose {species} is named {pet}?", "Who has a {species} called {pet}?"]
                    let text = templates[random.below(templates.count)]
                        .replacingOccurrences(of: "{species}", with: details["species"]!)
                        .replacingOccurrences(of: "{pet}", with: details["pet"]!)
                    evaluation.questions.append(
                        Question(text: text, relevant: petOwners[details["species"]! + "|" + details["pet"]!]!))
                }
                continue
            }
            let firstOnly = random.below(3) == 0
            let who = firstOnly ? fact.person.first : fact.person.name
            let templates = questionTemplates[fact.topic]
            let template = templates[random.below(templates.count)]
            let text = template.replacingOccurrences(of: "{who}", with: who)
                .replacingOccurrences(of: "{species}", with: details["species"] ?? "pet")
            let relevant =
                firstOnly
                ? evaluation.people.filter { $0.first == fact.person.first }.map { "\($0.id)-fact-\(fact.topic)" }
                : [fact.memory]
            evaluation.questions.append(Question(text: text, relevant: relevant))
        }
        return evaluation
    }

    /// Paraphrases per fact topic, in the order of the fact templates.
    static let questionTemplates: [[String]] = [
        ["Which company employs {who}?", "What is {who}'s job?", "Who is {who}'s employer?"],
        ["Which city is {who} based in?", "Where is {who}'s home?", "In what town does {who} reside?"],
        [
            "What cuisine does {who} enjoy most?", "What is {who}'s favourite kind of food?",
            "What dish would {who} order?",
        ],
        ["What does {who} do for fun?", "How does {who} spend free time?", "What is {who}'s pastime?"],
        ["What animal does {who} keep at home?", "What is the name of {who}'s {species}?", "Does {who} own any pets?"],
        ["Which food must {who} avoid?", "What is {who} intolerant of?", "What gives {who} an allergic reaction?"],
        [
            "What is on {who}'s calendar?", "Which occasion will {who} attend?",
            "What trip or celebration is {who} planning?",
        ],
        [
            "What is {who}'s usual coffee order?", "What does {who} like to drink in the morning?",
            "Which beverage does {who} start the day with?",
        ],
    ]

    // MARK: Loading and running

    /// Writes the corpus into `tenant` of `store` (embedding it with the store's embedder, in batches).
    package func load(into store: EngramStore, tenant: String = "eval", batch: Int = 64) async throws {
        let admin = store.administrativeContext(tenant: tenant)
        for person in people { try await admin.addEntity(name: person.name, type: "Person", id: person.id) }
        var start = 0
        while start < memories.count {
            try await admin.remember(Array(memories[start..<min(start + batch, memories.count)]))
            start += batch
        }
        for conversation in conversations {
            let context = store.context(tenant: tenant, user: conversation.user)
            let chat = try context.startConversation(id: conversation.id)
            try await context.addMessages(conversation.messages, to: chat.id)
        }
    }

    /// Recall@5 and recall@10 of one mode.
    package struct Recall: Sendable, Hashable {
        package var mode: SearchMode
        package var at5: Double
        package var at10: Double
    }

    /// Asks every question in every mode (memories and messages searched, 10 results) and returns
    /// the mean recall at 5 and at 10: the share of a question's relevant memories in its top k,
    /// out of at most k (a question with 12 relevant memories is fully answered by any 10 of them).
    package func run(
        on store: EngramStore, tenant: String = "eval", modes: [SearchMode] = SearchMode.allCases,
        ranking: SearchRanking = SearchRanking()
    ) async throws -> [Recall] {
        let admin = store.administrativeContext(tenant: tenant)
        let embeddings = try await EngramStore.embed(questions.map(\.text), with: store.embedder)
        var hits: [SearchMode: (five: Double, ten: Double)] = [:]
        for (position, question) in questions.enumerated() {
            for mode in modes {
                let results = try admin.search(
                    question.text, embedding: embeddings?[position], in: [.memories, .messages], limit: 10, mode: mode,
                    ranking: ranking)
                let ids = results.map(\.id)
                var entry = hits[mode] ?? (0, 0)
                let relevant = Set(question.relevant)
                entry.five += Double(ids.prefix(5).filter(relevant.contains).count) / Double(min(5, relevant.count))
                entry.ten += Double(ids.filter(relevant.contains).count) / Double(min(10, relevant.count))
                hits[mode] = entry
            }
        }
        let count = Double(max(1, questions.count))
        return modes.map { mode in
            Recall(mode: mode, at5: (hits[mode]?.five ?? 0) / count, at10: (hits[mode]?.ten ?? 0) / count)
        }
    }
}

/// SplitMix64: the generator of the evaluation and of the benchmarks' seeded samples (the same
/// sequence on every platform).
package struct SplitMix: Sendable {
    private var state: UInt64
    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound.
    package mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
