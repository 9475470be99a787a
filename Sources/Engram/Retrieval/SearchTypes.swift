public import Foundation

/// The kinds of records ``MemoryContext/search(_:in:filter:limit:mode:ranking:)`` looks through.
public enum SearchKind: String, Sendable, Hashable, CaseIterable {
    /// Long-term memories (the context's tenant's and the global ones it sees).
    case memories
    /// Messages of the conversations the context sees.
    case messages
    /// The tenant's entities.
    case entities
}

/// Which candidate lists a search draws from.
public enum SearchMode: String, Sendable, Hashable, CaseIterable {
    /// The union of the vector, keyword and graph candidates, fused by reciprocal rank.
    case hybrid
    /// Vector similarity only (needs a store with an embedder).
    case vector
    /// BM25 keyword matches only.
    case keyword
}

/// Which records a search may return. Every condition is checked while the candidates are
/// generated (the HNSW walk and the BM25 scan skip what fails it), not after a cut, so a narrow
/// filter never starves the results.
///
/// The defaults keep active, currently valid, unexpired records of every conversation.
public struct SearchFilter: Sendable, Hashable {
    /// Keep memories and messages of these conversations (`nil`: every conversation, and memories
    /// drawn from none). Entities, which belong to no conversation, are kept.
    public var conversationIDs: [String]?
    /// Keep memories in these states (``MemoryState/active``).
    public var states: [MemoryState]
    /// Keep memories of these kinds (any when empty).
    public var memoryKinds: [MemoryKind]
    /// Keep memories of these scopes (any visible when empty).
    public var scopes: [MemoryScope]
    /// Keep records created at or after (a message's timestamp, a memory's or entity's creation).
    public var createdAfter: Date?
    /// Keep records created before.
    public var createdBefore: Date?
    /// Keep memories with all of these annotations, and messages whose conversation has all of
    /// them (exact match); entities have none, so a non-empty filter drops them.
    public var annotations: [String: String]
    /// Keep entities of these types (any when empty).
    public var entityTypes: [String]
    /// Search the store as it was believed at this time: records created by then, memories valid
    /// then (`valid_from <= t < valid_until`: superseded ones come back). `nil` is now.
    public var asOf: Date?
    /// Drop results whose final score is below.
    public var minimumScore: Double?

    /// Creates a filter; the default keeps every active, currently valid record the context sees.
    public init(
        conversationIDs: [String]? = nil, states: [MemoryState] = [.active], memoryKinds: [MemoryKind] = [],
        scopes: [MemoryScope] = [], createdAfter: Date? = nil, createdBefore: Date? = nil,
        annotations: [String: String] = [:], entityTypes: [String] = [], asOf: Date? = nil,
        minimumScore: Double? = nil
    ) {
        self.conversationIDs = conversationIDs
        self.states = states
        self.memoryKinds = memoryKinds
        self.scopes = scopes
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.annotations = annotations
        self.entityTypes = entityTypes
        self.asOf = asOf
        self.minimumScore = minimumScore
    }
}

/// How the candidate lists are fused (see `docs/retrieval.md`, "Fusion"):
///
///     score = Σ_lists weight_list / (k + rank_list) + recencyWeight · 0.5^(age / recencyHalfLife)
///                                                   + importanceWeight · importance
///
/// over the lists (vector, keyword, graph) that ranked the record, ranks counted from 1.
public struct SearchRanking: Sendable, Hashable {
    /// How the lists' evidence is combined.
    public enum Fusion: String, Sendable, Hashable, CaseIterable {
        /// `Σ weight / (k + rank)` over the lists that ranked the record.
        case reciprocalRank
        /// `vectorWeight · max(0, cosine) + keywordWeight · BM25 / best BM25 of the query + graphWeight · graph score`.
        case relativeScore
    }

    /// How the lists are fused.
    public var fusion: Fusion = .reciprocalRank
    /// The reciprocal-rank constant k (60, as in Cormack et al. 2009).
    public var k: Double
    /// The weight of the vector list (1).
    public var vectorWeight: Double
    /// The weight of the keyword list (1).
    public var keywordWeight: Double
    /// The weight of the graph list (1).
    public var graphWeight: Double
    /// The weight of the recency term (0.001: a tie-breaker, worth about a tenth of a first rank).
    public var recencyWeight: Double
    /// The age at which recency is 0.5, in seconds (30 days).
    public var recencyHalfLife: TimeInterval
    /// The weight of the importance term (0.001).
    public var importanceWeight: Double
    /// The distinct query terms a keyword hit must hold for its keyword term to count, when the
    /// query has that many (2; Elasticsearch's `minimum_should_match`): one shared word of a
    /// longer question, often just a name, is no keyword evidence.
    public var keywordMinimumMatch: Int = 2
    /// How many candidates each list contributes before fusion: at least the limit (default 50).
    public var candidates: Int
    /// The HNSW candidate list size of the vector searches (`nil`: the index's default).
    public var ef: Int?

    /// The documented defaults.
    public init(
        k: Double = 60, vectorWeight: Double = 1, keywordWeight: Double = 1, graphWeight: Double = 1,
        recencyWeight: Double = 0.001, recencyHalfLife: TimeInterval = 30 * 86_400, importanceWeight: Double = 0.001,
        candidates: Int = 50, ef: Int? = nil
    ) {
        self.k = k
        self.vectorWeight = vectorWeight
        self.keywordWeight = keywordWeight
        self.graphWeight = graphWeight
        self.recencyWeight = recencyWeight
        self.recencyHalfLife = recencyHalfLife
        self.importanceWeight = importanceWeight
        self.candidates = candidates
        self.ef = ef
    }
}

/// Why a result ranked where it did: each list's raw score and rank, and the priors.
public struct SearchComponents: Sendable, Hashable {
    /// The cosine similarity to the query's embedding, when the vector list ranked it.
    public var vectorSimilarity: Double?
    /// Its rank (from 1) in the vector list.
    public var vectorRank: Int?
    /// Its BM25 score, when the keyword list ranked it.
    public var keywordScore: Double?
    /// Its rank in the keyword list.
    public var keywordRank: Int?
    /// The share of the query's distinct terms (as the full-text analyzer makes them) that its
    /// text holds, when the keyword list ranked it: Lucene's classic "coord" factor, which scales
    /// its keyword term so that matching one word of a long question counts for little.
    public var keywordCoverage: Double?
    /// How many distinct query terms its text holds, when the keyword list ranked it (`Int.max`
    /// when the query has fewer terms than ``SearchRanking/keywordMinimumMatch``).
    public var keywordMatches: Int?
    /// Its graph score, when the graph list ranked it: 1 for an entity the query names, 0.5 for a
    /// record one hop from one (a memory or message that mentions it, a related entity).
    public var graphScore: Double?
    /// Its rank in the graph list.
    public var graphRank: Int?
    /// `0.5^(age / half-life)`, in 0…1.
    public var recency: Double
    /// A memory's importance; 0.5 for messages and entities.
    public var importance: Double
}

/// One result of ``MemoryContext/search(_:in:filter:limit:mode:ranking:)``.
public struct SearchResult: Sendable, Hashable {
    /// The record's id.
    public var id: String
    /// What it is.
    public var kind: SearchKind
    /// Its text: a memory's or message's content, an entity's embedded text (name, type,
    /// description, aliases).
    public var text: String
    /// The fused score; results come best first.
    public var score: Double
    /// The parts of ``score``.
    public var components: SearchComponents
    /// When it was created (a message's timestamp).
    public var createdAt: Date
    /// The conversation of a message or the conversation a memory was drawn from.
    public var conversationID: String?
}
