import EngramCore
import Foundation

/// What an agent should know before answering a question, trimmed to a token budget: the
/// relevant memories, entities with their main relationships, relevant messages and similar past
/// reasoning traces, as data and as prompt-ready ``text``. Made by
/// ``MemoryContext/context(for:tokenBudget:filter:)``.
public struct ContextPack: Sendable {
    /// An entity with its main relationships, as lines such as `Alice -[WORKS_AT]-> Acme`.
    public struct EntityContext: Sendable, Hashable {
        /// The entity's search result.
        public var entity: SearchResult
        /// Its relationships valid now, highest confidence · support first, at most 5.
        public var relationships: [String]
    }

    /// A past reasoning trace whose task resembles the query.
    public struct TraceContext: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its task.
        public var task: String
        /// How it ended, if it did.
        public var outcome: String?
        /// Whether it succeeded, if it completed.
        public var success: Bool?
        /// Its BM25 score against the query.
        public var score: Double
    }

    /// The question the pack was made for.
    public var query: String
    /// Memories, best first.
    public var memories: [SearchResult]
    /// Entities, best first, with their relationships.
    public var entities: [EntityContext]
    /// Messages, oldest first (as they were said).
    public var messages: [SearchResult]
    /// Similar past traces, best first.
    public var traces: [TraceContext]
    /// The budget it was trimmed to.
    public var tokenBudget: Int
    /// The estimated tokens of ``text``: ⌈UTF-8 bytes / 4⌉ per line, plus one per line.
    public var estimatedTokens: Int
    /// The pack as text for a prompt: one section per kind, one line per item.
    public var text: String

    /// The token estimate of one line of text: ⌈UTF-8 bytes / 4⌉ + 1 (the line break) — about
    /// what BPE tokenizers give for English prose, and never below it by much for other text.
    public static func estimateTokens(_ line: String) -> Int { (line.utf8.count + 3) / 4 + 1 }
}

extension MemoryContext {
    /// Gathers what the agent should know to answer `query`, within `tokenBudget` tokens.
    ///
    /// ```swift
    /// let pack = try await memory.context(for: "Book Alice's flight to Lisbon", tokenBudget: 800)
    /// let prompt = pack.text + "\n\nUser: Book Alice's flight to Lisbon"
    /// ```
    ///
    /// One hybrid search (30 results over memories, messages and entities) ranks the candidates;
    /// items are taken best first while their lines fit the budget (an item that does not fit is
    /// skipped, smaller ones after it may still fit); an entity brings its top 5 relationships
    /// with it; then the past traces whose task best matches the query (BM25 over trace tasks, the
    /// context's user's, at most 3) fill what is left. See `docs/retrieval.md`.
    /// - Parameters:
    ///   - tokenBudget: the most estimated tokens of ``ContextPack/text``, at least 16.
    ///   - filter: which records may be used (as for search).
    /// - Throws: `invalidArgument` for an empty query or a budget below 16; what search throws.
    public func context(for query: String, tokenBudget: Int, filter: SearchFilter = SearchFilter()) async throws
        -> ContextPack
    {
        guard tokenBudget >= 16 else {
            throw EngramError(.invalidArgument, "a context needs a token budget of at least 16, got \(tokenBudget)")
        }
        let results = try await search(query, filter: filter, limit: 30)
        return try read { session in
            var used = ContextPack.estimateTokens("Relevant memory for: \(query)")
            var memories: [SearchResult] = []
            var entities: [ContextPack.EntityContext] = []
            var messages: [SearchResult] = []
            func take(_ lines: [String]) -> Bool {
                let cost = lines.reduce(0) { $0 + ContextPack.estimateTokens($1) }
                guard used + cost <= tokenBudget else { return false }
                used += cost
                return true
            }
            for result in results {
                switch result.kind {
                case .memories:
                    if take([Self.line(result)]) { memories.append(result) }
                case .messages:
                    if take([Self.line(result)]) { messages.append(result) }
                case .entities:
                    let relationships = try session.mainRelationships(of: result.id)
                    if take([Self.line(result)] + relationships.map { "  " + $0 }) {
                        entities.append(ContextPack.EntityContext(entity: result, relationships: relationships))
                    } else if take([Self.line(result)]) {
                        entities.append(ContextPack.EntityContext(entity: result, relationships: []))
                    }
                }
            }
            var traces: [ContextPack.TraceContext] = []
            for hit in try session.similarTraces(SearchRun.keywordQuery(query), limit: 3) {
                if take([Self.line(hit)]) { traces.append(hit) }
            }
            messages.sort { $0.createdAt < $1.createdAt }
            var lines = ["Relevant memory for: \(query)"]
            if !memories.isEmpty { lines += ["Memories:"] + memories.map(Self.line) }
            if !entities.isEmpty {
                lines +=
                    ["Entities:"] + entities.flatMap { [Self.line($0.entity)] + $0.relationships.map { "  " + $0 } }
            }
            if !messages.isEmpty { lines += ["Conversation excerpts:"] + messages.map(Self.line) }
            if !traces.isEmpty { lines += ["Similar past tasks:"] + traces.map(Self.line) }
            let headers = [memories.isEmpty, entities.isEmpty, messages.isEmpty, traces.isEmpty].filter { !$0 }.count
            // Section headers are small; trim items from the end if they push the text over.
            var text = lines.joined(separator: "\n")
            var total = lines.reduce(0) { $0 + ContextPack.estimateTokens($1) }
            while total > tokenBudget, lines.count > 1 + headers {
                let removed = lines.removeLast()
                total -= ContextPack.estimateTokens(removed)
                text = lines.joined(separator: "\n")
            }
            return ContextPack(
                query: query, memories: memories, entities: entities, messages: messages, traces: traces,
                tokenBudget: tokenBudget, estimatedTokens: total, text: text)
        }
    }

    static func line(_ result: SearchResult) -> String {
        switch result.kind {
        case .memories: return "- " + result.text
        case .entities: return "- " + result.text
        case .messages:
            return "- [\(ISO8601DateFormatter().string(from: result.createdAt))] " + result.text
        }
    }

    static func line(_ trace: ContextPack.TraceContext) -> String {
        let status = trace.success.map { $0 ? "succeeded" : "failed" } ?? "unfinished"
        return "- \(trace.task) (\(status)\(trace.outcome.map { ": " + $0 } ?? ""))"
    }
}

extension MemorySession {
    /// Up to 5 relationships of entity `id` to other entities, valid now, as readable lines.
    func mainRelationships(of id: String) throws -> [String] {
        guard let entity = try graph.memoryNode(id: id, label: "Entity") else { return [] }
        var found: [(weight: Double, line: String)] = []
        try graph.forEachRelationship(of: entity.node, direction: .both, types: nil) { relationship, _, start, end in
            guard let stored = try graph.storedRelationship(relationship) else { return true }
            let type = try graph.name(.relationshipType, stored.type)
            guard type != "ALIAS_OF", type != "MENTIONS" else { return true }
            let properties = try graph.properties(stored.properties)
            if let from = properties["valid_from"]?.intValue, from > now { return true }
            if let until = properties["valid_until"]?.intValue, until <= now { return true }
            guard let startNode = try graph.memoryNode(start), let endNode = try graph.memoryNode(end),
                startNode.labels.contains("Entity"), endNode.labels.contains("Entity")
            else { return true }
            let weight =
                (properties["confidence"]?.doubleValue ?? 1) * Double(properties["support_count"]?.intValue ?? 1)
            found.append(
                (
                    weight,
                    "\(startNode.string("name") ?? startNode.id) -[\(type)]-> \(endNode.string("name") ?? endNode.id)"
                ))
            return true
        }
        return found.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.line < $1.line }.prefix(5).map(\.line)
    }

    /// The context's user's unexpired reasoning traces whose task best matches `query` (BM25).
    func similarTraces(_ query: String, limit: Int) throws -> [ContextPack.TraceContext] {
        try graph.keywordSearch(
            query, group: .traces, limit: limit,
            allow: { node in
                guard let record = try self.graph.memoryNode(node) else { return false }
                return self.owns(record) && !self.isExpired(record)
            }
        ).compactMap { hit in
            guard let record = try graph.memoryNode(hit.node) else { return nil }
            return ContextPack.TraceContext(
                id: record.id, task: record.string("task") ?? "", outcome: record.string("outcome"),
                success: record.properties["success"]?.boolValue, score: hit.score)
        }
    }
}
