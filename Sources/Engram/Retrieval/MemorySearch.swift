import EngramCore
import EngramEmbedding
import EngramStorage
import EngramVector
import Foundation

extension MemoryContext {
    /// The records this context sees that best answer `query`: memories, messages and entities,
    /// ranked by the fusion of vector similarity, BM25 keyword matches and the graph around the
    /// entities the query names, with recency and importance as small priors.
    ///
    /// ```swift
    /// let results = try await memory.search("where does Alice work?", limit: 5)
    /// for result in results {
    ///     print(result.kind, result.text, result.score, result.components.keywordRank ?? 0)
    /// }
    /// ```
    ///
    /// The query is embedded (with the store's embedder, in `.hybrid` and `.vector` modes) before
    /// the read transaction opens; everything else reads one snapshot. See `docs/retrieval.md`.
    /// - Parameters:
    ///   - query: free text; entity names in it are matched exactly, ignoring case and diacritics.
    ///   - kinds: which records to look through.
    ///   - filter: which records may be returned; checked while generating candidates.
    ///   - limit: 1…1000 results.
    ///   - mode: hybrid (the default), vector only or keyword only.
    ///   - ranking: the fusion's constants.
    /// - Returns: the results, best first (ties: by id).
    /// - Throws: `invalidArgument` for an empty query or kinds, a bad limit or ranking, or `.vector`
    ///   mode on a store without an embedder; what the embedder throws.
    public func search(
        _ query: String, in kinds: [SearchKind] = SearchKind.allCases, filter: SearchFilter = SearchFilter(),
        limit: Int = 10, mode: SearchMode = .hybrid, ranking: SearchRanking = SearchRanking()
    ) async throws -> [SearchResult] {
        guard mode == .keyword || store.embedder != nil || mode == .hybrid else {
            throw EngramError(
                .invalidArgument, "vector search needs a store opened with an embedder: EngramStore(path:embedder:)")
        }
        try Self.validateSearch(query, kinds: kinds, limit: limit, ranking: ranking)
        let vector = mode == .keyword ? nil : try await embed([query])?[0]
        return try search(
            query, embedding: vector, in: kinds, filter: filter, limit: limit, mode: mode, ranking: ranking)
    }

    static func validateSearch(_ query: String, kinds: [SearchKind], limit: Int, ranking: SearchRanking) throws {
        guard query.contains(where: { !$0.isWhitespace }) else {
            throw EngramError(.invalidArgument, "a search needs a query with at least one word")
        }
        guard !kinds.isEmpty else { throw EngramError(.invalidArgument, "a search needs at least one kind") }
        guard (1...1000).contains(limit) else {
            throw EngramError(.invalidArgument, "a search limit must be in 1...1000, got \(limit)")
        }
        guard ranking.k >= 0, ranking.recencyHalfLife > 0, (1...10_000).contains(ranking.candidates),
            [
                ranking.vectorWeight, ranking.keywordWeight, ranking.graphWeight, ranking.recencyWeight,
                ranking.importanceWeight,
            ].allSatisfy({ $0.isFinite && $0 >= 0 })
        else {
            throw EngramError(
                .invalidArgument,
                "a ranking needs k >= 0, a positive half-life, finite non-negative weights and 1...10000 candidates")
        }
    }

    /// ``search(_:in:filter:limit:mode:ranking:)`` with the query's embedding already made (`nil`:
    /// no vector list): synchronous, one read transaction. For benchmarks and the context builder.
    package func search(
        _ query: String, embedding: [Float]?, in kinds: [SearchKind] = SearchKind.allCases,
        filter: SearchFilter = SearchFilter(), limit: Int = 10, mode: SearchMode = .hybrid,
        ranking: SearchRanking = SearchRanking()
    ) throws -> [SearchResult] {
        try Self.validateSearch(query, kinds: kinds, limit: limit, ranking: ranking)
        return try read { session in
            let run = try SearchRun(session: session, filter: filter, kinds: Set(kinds), ranking: ranking)
            var lists: [SearchRun.List: [SearchRun.Hit]] = [:]
            if mode != .keyword, let embedding { lists[.vector] = try run.vectorList(embedding) }
            let keywords = SearchRun.keywordQuery(query)
            if mode != .vector { lists[.keyword] = try run.keywordList(keywords) }
            if mode == .hybrid { lists[.graph] = try run.graphList(query) }
            return try run.fuse(lists, limit: limit, query: keywords)
        }
    }
}

/// One search inside one read transaction: the allow predicates of the filter (with their caches),
/// the three candidate lists, and the fusion.
final class SearchRun {
    enum List: Hashable { case vector, keyword, graph }

    /// A candidate: the node of the tenant (or of the global tenant), its kind, its list score.
    struct Hit: Hashable {
        var global: Bool
        var node: UInt64
        var kind: SearchKind
        var score: Double
    }

    struct Key: Hashable {
        var global: Bool
        var node: UInt64
    }

    let session: MemorySession
    let filter: SearchFilter
    let memoryFilter: MemoryFilter
    let kinds: Set<SearchKind>
    let ranking: SearchRanking
    /// The time the search reads the store at (`asOf`, else now), in milliseconds.
    let time: Int64
    private let keys: [UInt32: String]
    /// The properties the fusion reads: dates, importance and the texts.
    private let resultKeys: [UInt32: String]
    private var conversations: [String: Bool] = [:]
    private var allowed: [Key: Bool] = [:]

    /// The properties the allow predicates read.
    static let keyNames = MemorySession.filterKeys + ["timestamp", "type", "role"]

    init(session: MemorySession, filter: SearchFilter, kinds: Set<SearchKind>, ranking: SearchRanking) throws {
        self.session = session
        self.filter = filter
        self.kinds = kinds
        self.ranking = ranking
        memoryFilter = MemoryFilter(
            kinds: filter.memoryKinds, states: filter.states, scopes: filter.scopes, annotations: filter.annotations,
            createdAfter: filter.createdAfter, createdBefore: filter.createdBefore, asOf: filter.asOf)
        time = filter.asOf.map(MemoryTime.millis) ?? session.now
        var keys: [UInt32: String] = [:]
        for name in Self.keyNames {
            if let key = try session.graph.symbol(.propertyKey, name, create: false) { keys[key] = name }
        }
        self.keys = keys
        var resultKeys: [UInt32: String] = [:]
        for name in Self.resultKeyNames {
            if let key = try session.graph.symbol(.propertyKey, name, create: false) { resultKeys[key] = name }
        }
        self.resultKeys = resultKeys
    }

    static let resultKeyNames = [
        "content", "role", "name", "type", "description", "aliases", "importance", "created_at", "timestamp",
        "conversation",
    ]

    func graph(global: Bool) throws -> GraphSession { global ? try session.global() : session.graph }

    // MARK: Filters

    /// Whether the filter keeps `node` as a record of `kind`; asked inside candidate generation.
    func allow(_ kind: SearchKind, global: Bool, node: UInt64) throws -> Bool {
        guard kinds.contains(kind) else { return false }
        let key = Key(global: global, node: node)
        if let known = allowed[key] { return known }
        let graph = try graph(global: global)
        let verdict: Bool
        if let record = try graph.partialNode(node, keys: keys) {
            switch kind {
            case .memories: verdict = allowMemory(record)
            case .messages: verdict = try allowMessage(record)
            case .entities: verdict = allowEntity(record)
            }
        } else {
            verdict = false
        }
        allowed[key] = verdict
        return verdict
    }

    private func allowMemory(_ record: MemoryNode) -> Bool {
        guard session.passes(record, memoryFilter) else { return false }
        if let conversations = filter.conversationIDs {
            guard let conversation = record.string("conversation"), conversations.contains(conversation) else {
                return false
            }
        }
        return true
    }

    private func allowMessage(_ record: MemoryNode) throws -> Bool {
        guard let conversation = record.string("conversation") else { return false }
        if let conversations = filter.conversationIDs, !conversations.contains(conversation) { return false }
        guard try visibleConversation(conversation) else { return false }
        return withinTime(record.int("timestamp") ?? 0)
    }

    private func allowEntity(_ record: MemoryNode) -> Bool {
        guard filter.annotations.isEmpty else { return false }
        if !filter.entityTypes.isEmpty, !filter.entityTypes.contains(record.string("type") ?? "") { return false }
        return withinTime(record.int("created_at") ?? 0)
    }

    /// Created-after/before and, reading as of a time, created by then.
    private func withinTime(_ created: Int64) -> Bool {
        if let after = filter.createdAfter, created < MemoryTime.millis(after) { return false }
        if let before = filter.createdBefore, created >= MemoryTime.millis(before) { return false }
        if filter.asOf != nil, created > time { return false }
        return true
    }

    /// Whether the context sees conversation `id` (its user's, unexpired) and it has the
    /// filter's annotations.
    private func visibleConversation(_ id: String) throws -> Bool {
        if let known = conversations[id] { return known }
        var visible = false
        if let record = try session.visibleConversation(id) {
            let annotations = record.stringMap("annotations")
            visible = filter.annotations.allSatisfy { annotations[$0.key] == $0.value }
        }
        conversations[id] = visible
        return visible
    }

    // MARK: Candidate lists

    /// Where each kind's records live: the tenant, and the global tenant for memories.
    private var sources: [(kind: SearchKind, global: Bool, index: MemoryVectorIndex, group: FullTextGroup)] {
        var result: [(SearchKind, Bool, MemoryVectorIndex, FullTextGroup)] = []
        if kinds.contains(.memories) {
            result.append((.memories, false, .memories, .memories))
            result.append((.memories, true, .memories, .memories))
        }
        if kinds.contains(.messages) { result.append((.messages, false, .messages, .messages)) }
        if kinds.contains(.entities) { result.append((.entities, false, .entities, .entities)) }
        return result
    }

    /// The nearest allowed records to the query's embedding over every kind's index, best first.
    func vectorList(_ embedding: [Float]) throws -> [Hit] {
        var hits: [Hit] = []
        for source in sources {
            let graph = try graph(global: source.global)
            let vectors = try session.vectorSession(graph)
            guard let definition = try vectors.definition(source.index.name), definition.dimension == embedding.count,
                definition.model == session.context.store.embedder?.modelID
            else { continue }
            // The index's predicate cannot throw: the first error of the filter ends the search
            // and is thrown once the index returns.
            var failure: (any Error)?
            let filter = VectorSession.NodeFilter(
                allowedNodes: nil,
                predicate: { node in
                    guard failure == nil else { return false }
                    do {
                        return try self.allow(source.kind, global: source.global, node: node)
                    } catch {
                        failure = error
                        return false
                    }
                })
            let found = try vectors.search(
                source.index.name, query: embedding, k: ranking.candidates, ef: ranking.ef, filter: filter)
            if let failure { throw failure }
            for hit in found {
                hits.append(Hit(global: source.global, node: hit.node, kind: source.kind, score: Double(hit.score)))
            }
        }
        return Self.best(hits, ranking.candidates)
    }

    /// The words that make a question a question; they are dropped from the keyword query
    /// (statements do not hold them, and chit-chat that does is no answer).
    static let questionWords: Set<String> = [
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "does", "did", "do",
    ]

    /// The query the keyword list searches: `query` without ``questionWords`` (ignoring case) and
    /// without English possessives (`Chloe's` → `Chloe`, as Lucene's EnglishPossessiveFilter),
    /// unless nothing else is left.
    static func keywordQuery(_ query: String) -> String {
        let words = query.split(whereSeparator: \.isWhitespace).map(Self.withoutPossessive)
        let kept = words.filter {
            !questionWords.contains($0.trimmingCharacters(in: .punctuationCharacters).lowercased())
        }
        return kept.isEmpty ? query : kept.joined(separator: " ")
    }

    /// `word` without a trailing `'s` or `’s` (punctuation after it stays).
    static func withoutPossessive(_ word: Substring) -> String {
        let core = word.trimmingCharacters(in: .punctuationCharacters.subtracting(["'", "’"]))
        for suffix in ["'s", "’s"] where core.count > 2 && core.lowercased().hasSuffix(suffix) {
            return String(core.dropLast(2))
        }
        return String(word)
    }

    /// The best allowed BM25 matches of the query over every kind's group, best first.
    func keywordList(_ query: String) throws -> [Hit] {
        var hits: [Hit] = []
        for source in sources {
            let graph = try graph(global: source.global)
            for hit in try graph.keywordSearch(
                query, group: source.group, limit: ranking.candidates,
                allow: { try self.allow(source.kind, global: source.global, node: $0) })
            {
                hits.append(Hit(global: source.global, node: hit.node, kind: source.kind, score: hit.score))
            }
        }
        return Self.best(hits, ranking.candidates)
    }

    /// The entities the query names (graph score 1) and the allowed records one hop from them —
    /// memories and messages that mention them, related entities — (0.5), best first, newer
    /// first among equals.
    func graphList(_ query: String) throws -> [Hit] {
        let graph = session.graph
        var scores: [UInt64: (kind: SearchKind, score: Double)] = [:]
        let named = try Self.namedEntities(query, in: graph)
        for entity in named where try allow(.entities, global: false, node: entity) {
            scores[entity] = (.entities, 1)
        }
        for entity in named {
            var neighbours: [(node: UInt64, type: UInt32)] = []
            try graph.forEachRelationship(of: entity, direction: .both, types: nil) { _, type, start, end in
                neighbours.append((start == entity ? end : start, type))
                return true
            }
            // Newest first (node ids grow with creation); at most `candidates` allowed per entity.
            var taken = 0
            for (node, _) in neighbours.sorted(by: { $0.node > $1.node }) where scores[node] == nil {
                guard taken < ranking.candidates, let kind = try kind(of: node, in: graph) else { continue }
                if try allow(kind, global: false, node: node) {
                    scores[node] = (kind, 0.5)
                    taken += 1
                }
            }
        }
        let hits = scores.map { Hit(global: false, node: $0.key, kind: $0.value.kind, score: $0.value.score) }
        return Array(
            hits.sorted { $0.score != $1.score ? $0.score > $1.score : $0.node > $1.node }.prefix(ranking.candidates))
    }

    /// The search kind of a memory-layer node, by its labels; `nil` for anything else.
    private func kind(of node: UInt64, in graph: GraphSession) throws -> SearchKind? {
        guard let stored = try graph.storedNode(node) else { return nil }
        let labels = try stored.labels.map { try graph.name(.label, $0) }
        switch MemoryVectorIndex.of(labels: labels) {
        case .memories: return .memories
        case .messages: return .messages
        case .entities: return .entities
        case nil: return nil
        }
    }

    /// The longest word run the query is searched for as an entity name.
    static let maximumNameWords = 6

    /// The entities whose name or an alias equals a run of 1…6 consecutive words of the query,
    /// ignoring case, diacritics and whitespace (words lose the punctuation around them, and a
    /// trailing `'s`).
    static func namedEntities(_ query: String, in graph: GraphSession) throws -> [UInt64] {
        let words = query.split(whereSeparator: \.isWhitespace).compactMap { raw -> String? in
            let word = withoutPossessive(raw).trimmingCharacters(in: .punctuationCharacters.union(.symbols))
            return word.isEmpty ? nil : word
        }
        var found: [UInt64] = []
        var seen = Set<UInt64>()
        var phrases = Set<String>()
        for start in words.indices {
            for end in start..<min(words.count, start + maximumNameWords) {
                let phrase = words[start...end].joined(separator: " ")
                guard phrases.insert(GraphSession.normalize(phrase)).inserted else { continue }
                var nodes = try graph.nodes(
                    label: "Entity", property: "name", equalTo: .string(phrase), normalized: true)
                for alias in try graph.nodes(
                    label: "Alias", property: "name", equalTo: .string(phrase), normalized: true)
                {
                    nodes += try graph.related(alias, "ALIAS_OF", .outgoing)
                }
                for node in nodes where seen.insert(node).inserted { found.append(node) }
            }
        }
        return found
    }

    /// The best `count` hits by score (ties: tenant before global, lower node first).
    static func best(_ hits: [Hit], _ count: Int) -> [Hit] {
        Array(
            hits.sorted {
                if $0.score != $1.score { return $0.score > $1.score }
                if $0.global != $1.global { return !$0.global }
                return $0.node < $1.node
            }.prefix(count))
    }

    // MARK: Fusion

    /// Fuses the lists by weighted reciprocal rank plus the recency and importance priors.
    func fuse(_ lists: [List: [Hit]], limit: Int, query: String) throws -> [SearchResult] {
        let bestKeyword = lists[.keyword]?.first?.score ?? 0
        let analyzer = TextAnalyzer(try session.graph.fullTextStatistics(.memories)?.options ?? .default)
        var queryTerms = Set<String>()
        analyzer.forEachTerm(query) { queryTerms.insert($0) }
        var components: [Key: (kind: SearchKind, parts: SearchComponents)] = [:]
        for (list, hits) in lists {
            var rank = 0
            for (position, hit) in hits.enumerated() {
                // The graph's scores are levels, not measurements: a level's records share its best
                // rank. Elsewhere an equal score is a coincidence (or a duplicate text): ranks run on.
                if list != .graph || position == 0 || hit.score != hits[position - 1].score { rank = position + 1 }
                let key = Key(global: hit.global, node: hit.node)
                var entry =
                    components[key]
                    ?? (
                        hit.kind,
                        SearchComponents(recency: 0, importance: 0.5)
                    )
                switch list {
                case .vector:
                    entry.parts.vectorSimilarity = hit.score
                    entry.parts.vectorRank = rank
                case .keyword:
                    entry.parts.keywordScore = hit.score
                    entry.parts.keywordRank = rank
                case .graph:
                    entry.parts.graphScore = hit.score
                    entry.parts.graphRank = rank
                }
                components[key] = entry
            }
        }
        var results: [SearchResult] = []
        for (key, entry) in components {
            // Only the properties used below are decoded; the label says which text to make.
            guard var record = try graph(global: key.global).partialNode(key.node, keys: resultKeys) else { continue }
            record.labels = [Self.label(entry.kind)]
            var parts = entry.parts
            let created = record.int(entry.kind == .messages ? "timestamp" : "created_at") ?? time
            let age = Double(max(0, time - created)) / 1000
            parts.recency = pow(0.5, age / ranking.recencyHalfLife)
            if entry.kind == .memories { parts.importance = record.double("importance") ?? 0.5 }
            if parts.keywordRank != nil, let text = MemoryText.of(record)?.text, !queryTerms.isEmpty {
                var matched = Set<String>()
                analyzer.forEachTerm(text) { if queryTerms.contains($0) { matched.insert($0) } }
                parts.keywordCoverage = Double(matched.count) / Double(queryTerms.count)
                parts.keywordMatches = min(matched.count, queryTerms.count)
                if queryTerms.count < ranking.keywordMinimumMatch { parts.keywordMatches = Int.max }
            }
            let score = Self.score(parts, ranking, bestKeyword: bestKeyword)
            if let minimum = filter.minimumScore, score < minimum { continue }
            let text: String
            switch entry.kind {
            case .memories, .messages: text = record.string("content") ?? ""
            case .entities: text = MemoryText.of(record)?.text ?? ""
            }
            results.append(
                SearchResult(
                    id: record.id, kind: entry.kind, text: text, score: score, components: parts,
                    createdAt: MemoryTime.date(created), conversationID: record.string("conversation")))
        }
        results.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return Array(results.prefix(limit))
    }

    /// The memory-layer label of a kind's records.
    static func label(_ kind: SearchKind) -> String {
        switch kind {
        case .memories: "Memory"
        case .messages: "Message"
        case .entities: "Entity"
        }
    }

    /// The documented fused score of one result's components.
    static func score(_ parts: SearchComponents, _ ranking: SearchRanking, bestKeyword: Double) -> Double {
        var score = 0.0
        switch ranking.fusion {
        case .reciprocalRank:
            if let rank = parts.vectorRank { score += ranking.vectorWeight / (ranking.k + Double(rank)) }
            if let rank = parts.keywordRank, parts.keywordMatches ?? Int.max >= ranking.keywordMinimumMatch {
                score += ranking.keywordWeight * (parts.keywordCoverage ?? 1) / (ranking.k + Double(rank))
            }
            if let rank = parts.graphRank { score += ranking.graphWeight / (ranking.k + Double(rank)) }
        case .relativeScore:
            if let similarity = parts.vectorSimilarity { score += ranking.vectorWeight * max(0, similarity) }
            if let bm25 = parts.keywordScore, bestKeyword > 0 { score += ranking.keywordWeight * bm25 / bestKeyword }
            if let graph = parts.graphScore { score += ranking.graphWeight * graph }
        }
        return score + ranking.recencyWeight * parts.recency + ranking.importanceWeight * parts.importance
    }
}
