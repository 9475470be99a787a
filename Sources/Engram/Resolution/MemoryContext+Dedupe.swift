public import EngramCore
import Foundation

/// What happened when an entity was added: ``MemoryContext/resolveEntity(name:type:description:aliases:attributes:confidence:id:)``.
public struct EntityResolution: Sendable, Hashable {
    /// The decision taken.
    public enum Decision: String, Sendable, Hashable {
        /// The normalised name or an alias equals one of an existing entity of the same type:
        /// that entity is returned, with its aliases grown.
        case exactMatch = "exact_match"
        /// A candidate scored in the merge band: it is returned, with its aliases grown.
        case merged
        /// A new entity was created, with a pending `SAME_AS` to each candidate of the review band.
        case review
        /// A new entity was created.
        case created
    }

    /// The entity: the existing one for ``Decision/exactMatch`` and ``Decision/merged``, else the new one.
    public var entity: Entity
    /// The decision.
    public var decision: Decision
    /// The candidates scored at or above the review threshold, best first: for ``Decision/review``
    /// the pending pairs (`sourceID` is the new entity's id); for ``Decision/merged`` the pair that
    /// merged (`sourceID` is empty: no entity was created).
    public var candidates: [DuplicateCandidate]
    /// Why, in words.
    public var explanation: String
}

/// The review status of a `SAME_AS` relationship.
public enum DuplicateStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for a person.
    case pending
    /// Confirmed: the two were merged.
    case confirmed
    /// Rejected: the pair is never proposed again.
    case rejected
}

/// A decision on a proposed duplicate.
public enum DuplicateDecision: String, Sendable, Hashable, CaseIterable {
    /// The two are one: merge the source into the target.
    case confirm
    /// The two are different: remember it, never propose the pair again.
    case reject
}

/// A pair of entities that may be one, with its score and the reasons.
public struct DuplicateCandidate: Sendable, Hashable {
    /// The entity that would be merged away (the newer one).
    public var sourceID: String
    /// The entity it would be merged into (the older one).
    public var targetID: String
    /// The source's name.
    public var sourceName: String
    /// The target's name.
    public var targetName: String
    /// The type of both.
    public var type: String
    /// 0…1.
    public var score: Double
    /// The band of the score under the context's thresholds.
    public var band: ResolutionBand
    /// Why: the measures, the guards, the evidence.
    public var reasons: [String]
    /// The status of the pair's `SAME_AS` relationship, if one is recorded.
    public var status: DuplicateStatus?
}

/// The embedding side of entity resolution, kept behind a small seam so that resolution works
/// (on strings and context) without an embedder. When the store embeds entities, the memory
/// layer fills it: the vector of the name being added, the stored vector of an entity, and the
/// nearest entities to a vector (blocking). Every closure may return nothing.
package struct EntityEmbeddings: Sendable {
    /// The embedding of the name being added, if any.
    package var query: [Float]?
    /// The stored embedding of an entity, by id.
    package var vector: @Sendable (_ entityID: String) throws -> [Float]?
    /// The ids of the entities nearest to a vector, with their cosine, nearest first.
    package var nearest: @Sendable (_ vector: [Float], _ limit: Int) throws -> [(id: String, cosine: Double)]

    /// No embeddings: the score blend leaves the cosine out.
    package static let none = EntityEmbeddings(query: nil, vector: { _ in nil }, nearest: { _, _ in [] })

    /// Embeddings from a fixed table of entity vectors (tests, tools).
    package static func table(_ vectors: [String: [Float]], query: [Float]? = nil) -> EntityEmbeddings {
        EntityEmbeddings(
            query: query, vector: { vectors[$0] },
            nearest: { vector, limit in
                vectors.map { (id: $0.key, cosine: cosine($0.value, vector)) }.sorted { $0.cosine > $1.cosine }
                    .prefix(limit).map { $0 }
            })
    }

    /// Creates a seam from its three parts.
    package init(
        query: [Float]?, vector: @escaping @Sendable (String) throws -> [Float]?,
        nearest: @escaping @Sendable ([Float], Int) throws -> [(id: String, cosine: Double)]
    ) {
        self.query = query
        self.vector = vector
        self.nearest = nearest
    }

    /// Cosine similarity, 0 for a zero vector or different lengths.
    package static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var dot = 0.0
        var na = 0.0
        var nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }
}

extension MemoryContext {
    /// Adds an entity through entity resolution and says what was decided.
    ///
    /// An existing entity of the same type whose normalised name or alias equals the name or an
    /// alias given is returned (its aliases grow by the new names; missing attributes and
    /// description are filled). Otherwise candidates of the same type come from blocking (shared
    /// name prefixes, last words, acronyms, and the nearest neighbours of the name's embedding
    /// when the store embeds) and are scored: in the merge band the best candidate is returned as
    /// above; in the review band the entity is created with a pending `SAME_AS` to each
    /// candidate; else it is created. See `docs/entity-resolution.md`.
    ///
    /// ```swift
    /// try memory.addEntity(name: "Jane Smith", type: "Person")
    /// let again = try memory.resolveEntity(name: "Dr. Jane Smith", type: "Person")
    /// again.decision  // .exactMatch
    /// ```
    ///
    /// - Parameters: as ``addEntity(name:type:description:aliases:attributes:confidence:id:)``;
    ///   an `id` is used only when a new entity is created.
    /// - Throws: `emptyContent`; `invalidName`; `valueOutOfRange`; `alreadyExists` for a taken id.
    /// - Complexity: a few index range scans of at most ``ResolutionOptions/candidatesPerKey`` entries each.
    public func resolveEntity(
        name: String, type: String, description: String? = nil, aliases: [String] = [],
        attributes: [String: PropertyValue] = [:], confidence: Double = 1, id: String? = nil
    ) async throws -> EntityResolution {
        try MemoryValidation.content(name, "an entity's name")
        try Self.validateType(type)
        try MemoryValidation.unit(confidence, "confidence")
        // Embedded before the write opens, as every memory write: the name's vector is both the
        // query of the embedding side of resolution and, for a new entity, its stored vector.
        let text = MemoryText.entity(name: name, type: type, description: description, aliases: aliases)
        let vector = try await embed([text])?[0]
        var new = NewEntityFields(
            name: name, type: type, description: description, aliases: aliases, attributes: attributes,
            confidence: confidence, id: id)
        new.vector = vector
        return try write { session in
            try session.prepareWrite()
            try session.prepareResolution()
            return try session.resolve(new, embeddings: try session.entityEmbeddings(query: vector))
        }
    }

    /// ``resolveEntity(name:type:description:aliases:attributes:confidence:id:)`` with the
    /// embedding seam filled.
    package func _resolveEntity(
        name: String, type: String, description: String? = nil, aliases: [String] = [],
        attributes: [String: PropertyValue] = [:], confidence: Double = 1, id: String? = nil,
        embeddings: EntityEmbeddings
    ) throws -> EntityResolution {
        try MemoryValidation.content(name, "an entity's name")
        try Self.validateType(type)
        try MemoryValidation.unit(confidence, "confidence")
        let new = NewEntityFields(
            name: name, type: type, description: description, aliases: aliases, attributes: attributes,
            confidence: confidence, id: id)
        return try write { session in
            try session.prepareWrite()
            try session.prepareResolution()
            return try session.resolve(new, embeddings: embeddings)
        }
    }

    /// Pairs of entities that may be one, found by blocking (never all pairs), best first.
    ///
    /// Each type is blocked on the first three letters of each name and alias, of its last word
    /// first, on every word, and on acronyms; a block larger than 64 entities is compared only
    /// within a sliding window of 16 in name order (sorted neighbourhood). Pairs whose `SAME_AS`
    /// was rejected are left out; pending ones carry their status.
    ///
    /// - Parameters:
    ///   - type: one entity type, or all.
    ///   - minScore: the lowest score returned; the review threshold when `nil`.
    ///   - limit: the most pairs returned, 1…10,000.
    /// - Throws: `invalidArgument` for a limit or score out of range.
    /// - Complexity: O(n · w) pairs scored for n entities; `engram bench dedupe` measures 100,000.
    public func findPotentialDuplicates(type: String? = nil, minScore: Double? = nil, limit: Int = 100) throws
        -> [DuplicateCandidate]
    {
        try _findPotentialDuplicates(type: type, minScore: minScore, limit: limit, embeddings: nil)
    }

    /// ``findPotentialDuplicates(type:minScore:limit:)`` with the embedding seam filled.
    /// `embeddings` `nil` reads the store's entity vectors, when it embeds entities.
    package func _findPotentialDuplicates(type: String?, minScore: Double?, limit: Int, embeddings: EntityEmbeddings?)
        throws -> [DuplicateCandidate]
    {
        guard (1...10_000).contains(limit) else {
            throw EngramError(.invalidArgument, "limit must be in 1...10000, not \(limit)")
        }
        let threshold = minScore ?? options.resolution.reviewThreshold
        guard (0...1).contains(threshold) else {
            throw EngramError(.invalidArgument, "minScore must be in 0...1, not \(threshold)")
        }
        return try read { session in
            try DuplicateFinder(session: session, embeddings: try embeddings ?? session.entityEmbeddings(query: nil)).find(
                type: type, minScore: threshold, limit: limit)
        }
    }

    /// The recorded `SAME_AS` pairs of a status (the review queue: `.pending`), best first.
    public func duplicateReviews(status: DuplicateStatus = .pending) throws -> [DuplicateCandidate] {
        try read { session in
            guard let typeID = try session.graph.symbol(.relationshipType, "SAME_AS", create: false) else { return [] }
            var result: [DuplicateCandidate] = []
            for node in try session.graph.nodes(label: "Entity") {
                try session.graph.forEachRelationship(of: node, direction: .outgoing, types: [typeID]) {
                    relationship, _, start, end in
                    if let candidate = try session.sameAsCandidate(relationship, start, end), candidate.status == status
                    {
                        result.append(candidate)
                    }
                    return true
                }
            }
            return result.sorted { ($0.score, $1.sourceID) > ($1.score, $0.sourceID) }
        }
    }
}

/// The fields of an entity being added.
struct NewEntityFields {
    var name: String
    var type: String
    var description: String?
    var aliases: [String]
    var attributes: [String: PropertyValue]
    var confidence: Double
    var id: String?
    /// The embedding of the entity's text (``MemoryText/entity(name:type:description:aliases:)``),
    /// stored with it when it is created; `nil` without an embedder.
    var vector: [Float]? = nil
}

extension MemorySession {
    /// The indexes resolution reads, all exact (the keys are normalised already): the normalised
    /// name, the name read backwards, its sorted letters and the acronym of each entity, and the
    /// normalised name of each alias.
    static let resolutionIndexes: [(label: String, property: String)] = [
        ("Entity", "name_key"), ("Entity", "name_key_reversed"), ("Entity", "name_key_sorted"),
        ("Entity", "name_acronym"),
        ("Alias", "name_key"),
    ]

    /// Declares the resolution indexes when the tenant lacks them.
    func prepareResolution() throws {
        for index in Self.resolutionIndexes {
            let labelID = try graph.symbol(.label, index.label, create: true)!
            let keyID = try graph.symbol(.propertyKey, index.property, create: true)!
            if try graph.indexDefinition(label: labelID, key: keyID) == nil {
                try graph.declareIndex(label: index.label, property: index.property, normalized: false)
            }
        }
    }

    /// Sets the resolution keys of an entity and of its `Alias` nodes from their names.
    func syncResolutionKeys(_ record: MemoryNode) throws {
        try prepareResolution()
        let type = record.string("type") ?? ""
        let profile = EntityNormalizer.profile(record.string("name") ?? "", type: type)
        guard var current = try graph.memoryNode(record.node) else { return }
        let wanted: [String: PropertyValue] = [
            "name_key": .string(profile.key), "name_key_reversed": .string(profile.reversedKey),
            "name_key_sorted": .string(profile.sortedKey),
            "name_acronym": profile.acronym.map { .string($0) } ?? .null,
        ]
        if wanted.contains(where: { current[$0.key] ?? .null != $0.value }) {
            for (key, value) in wanted { current[key] = value.isNull ? nil : value }
            try graph.save(current)
        }
        for alias in try graph.related(record.node, "ALIAS_OF", .incoming) {
            guard var node = try graph.memoryNode(alias), let name = node.string("name") else { continue }
            let key = PropertyValue.string(EntityNormalizer.profile(name, type: type).key)
            if node["name_key"] != key {
                node["name_key"] = key
                try graph.save(node)
            }
        }
    }

    /// A live entity (not a merge tombstone) of the tenant.
    func liveEntity(_ node: UInt64) throws -> MemoryNode? {
        guard let record = try graph.memoryNode(node), record.labels.contains("Entity") else { return nil }
        return record
    }

    static func names(_ record: MemoryNode) -> EntityNames {
        EntityNames(
            type: record.string("type") ?? "", name: record.string("name") ?? "", aliases: record.strings("aliases"),
            storedKey: record.string("name_key"))
    }

    /// Live entities of `type` whose normalised name or alias equals one of `names`, oldest first.
    func exactMatches(_ names: EntityNames) throws -> [MemoryNode] {
        var found: [UInt64: MemoryNode] = [:]
        for profile in names.names {
            var nodes = try graph.nodes(
                label: "Entity", property: "name_key", equalTo: .string(profile.key), normalized: false)
            for alias in try graph.nodes(
                label: "Alias", property: "name_key", equalTo: .string(profile.key), normalized: false)
            {
                nodes += try graph.related(alias, "ALIAS_OF", .outgoing)
            }
            for node in nodes where found[node] == nil {
                if let record = try liveEntity(node), record.string("type") == names.type { found[node] = record }
            }
        }
        return found.values.sorted { $0.node < $1.node }
    }

    /// Calls `body` for up to `limit` nodes whose exact-indexed `property` starts with `prefix`.
    func scanPrefix(label: String, property: String, prefix: String, limit: Int, _ body: (UInt64) throws -> Void)
        throws
    {
        guard !prefix.isEmpty, let labelID = try graph.symbol(.label, label, create: false),
            let keyID = try graph.symbol(.propertyKey, property, create: false),
            let definition = try graph.indexDefinition(label: labelID, key: keyID)
        else { return }
        var count = 0
        try graph.indexCandidates(
            definition, lower: (.string(prefix), true), upper: (.string(prefix + "\u{10FFFF}"), false)
        ) { node in
            try body(node)
            count += 1
            return count < limit
        }
    }

    /// Candidates of blocking for a new entity: live entities sharing the first
    /// ``DuplicateFinder/prefixLength`` characters of the name, of the name read backwards or of
    /// its sorted letters, an alias prefix or an acronym, plus embedding neighbours (with their cosine).
    func blockingCandidates(_ names: EntityNames, embeddings: EntityEmbeddings, limit: Int) throws -> [UInt64: Double?]
    {
        var nodes = Set<UInt64>()
        let length = DuplicateFinder.prefixLength
        for profile in names.names {
            let keys = [
                ("name_key", profile.key), ("name_key_reversed", profile.reversedKey),
                ("name_key_sorted", profile.sortedKey),
            ]
            for (property, key) in keys {
                // The longer prefix first, so that the closest names are never crowded out of a
                // large block by the limit.
                for prefix in Set([key.prefix(2 * length), key.prefix(length)]) {
                    try scanPrefix(label: "Entity", property: property, prefix: String(prefix), limit: limit) {
                        nodes.insert($0)
                    }
                }
                // Names shorter than the prefix that start the new one ("ann" for "anne").
                for count in 1..<min(length, key.count) {
                    let shorter = String(key.prefix(count))
                    nodes.formUnion(
                        try graph.nodes(
                            label: "Entity", property: property, equalTo: .string(shorter), normalized: false))
                }
            }
            try scanPrefix(
                label: "Alias", property: "name_key", prefix: String(profile.key.prefix(length)), limit: limit
            ) {
                nodes.formUnion(try graph.related($0, "ALIAS_OF", .outgoing))
            }
            if profile.mayBeAcronym {
                nodes.formUnion(
                    try graph.nodes(
                        label: "Entity", property: "name_acronym", equalTo: .string(profile.key), normalized: false))
            }
            if let acronym = profile.acronym {
                nodes.formUnion(
                    try graph.nodes(label: "Entity", property: "name_key", equalTo: .string(acronym), normalized: false)
                )
                for alias in try graph.nodes(
                    label: "Alias", property: "name_key", equalTo: .string(acronym), normalized: false)
                {
                    nodes.formUnion(try graph.related(alias, "ALIAS_OF", .outgoing))
                }
            }
        }
        var result: [UInt64: Double?] = [:]
        for node in nodes { result[node] = .some(nil) }
        if let query = embeddings.query {
            for neighbour in try embeddings.nearest(query, limit) {
                if let node = try graph.nodeID(neighbour.id) { result[node] = neighbour.cosine }
            }
        }
        return result
    }

    /// The nodes around an entity that count as its context: the other ends of its relationships
    /// (entities, mentioning messages and memories, reasoning steps), but aliases and `SAME_AS`.
    func contextSet(_ node: UInt64) throws -> Set<UInt64> {
        let skipped = try ["ALIAS_OF", "SAME_AS"].compactMap { try graph.symbol(.relationshipType, $0, create: false) }
        var result = Set<UInt64>()
        try graph.forEachRelationship(of: node, direction: .both, types: nil) { _, type, start, end in
            if !skipped.contains(type) { result.insert(start == node ? end : start) }
            return true
        }
        return result
    }

    /// Jaccard overlap of two context sets, `nil` when either is empty (no evidence either way).
    static func overlap(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        return Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    /// The `SAME_AS` relationship between two nodes, in either direction.
    func sameAs(_ a: UInt64, _ b: UInt64) throws -> UInt64? {
        guard let typeID = try graph.symbol(.relationshipType, "SAME_AS", create: false) else { return nil }
        var found: UInt64?
        for (start, end) in [(a, b), (b, a)] where found == nil {
            try graph.forEachRelationship(from: start, to: end, types: [typeID]) { relationship, _ in
                found = relationship
                return false
            }
        }
        return found
    }

    func sameAsStatus(_ a: UInt64, _ b: UInt64) throws -> DuplicateStatus? {
        guard let relationship = try sameAs(a, b), let stored = try graph.storedRelationship(relationship) else {
            return nil
        }
        return DuplicateStatus(rawValue: try graph.properties(stored.properties)["status"]?.stringValue ?? "")
    }

    /// Records (or updates) the `SAME_AS` of a pair with its score, reasons and status.
    @discardableResult
    func recordSameAs(from source: UInt64, to target: UInt64, score: Double, reasons: [String], status: DuplicateStatus)
        throws -> UInt64
    {
        if let existing = try sameAs(source, target), let stored = try graph.storedRelationship(existing) {
            var properties = try graph.properties(stored.properties)
            properties["status"] = .string(status.rawValue)
            properties["updated_at"] = .int(now)
            try graph.replaceRelationship(existing, properties: try graph.storedProperties(properties))
            return existing
        }
        return try graph.createRelationship(
            publicID: nil, type: "SAME_AS", start: source, end: target,
            properties: [
                "score": .double(score), "reasons": .list(reasons.map { .string($0) }),
                "status": .string(status.rawValue),
                "created_at": .int(now), "updated_at": .int(now),
            ])
    }

    func sameAsCandidate(_ relationship: UInt64, _ start: UInt64, _ end: UInt64) throws -> DuplicateCandidate? {
        guard let stored = try graph.storedRelationship(relationship), let source = try graph.memoryNode(start),
            let target = try graph.memoryNode(end)
        else { return nil }
        let properties = try graph.properties(stored.properties)
        let score = properties["score"]?.doubleValue ?? 0
        return DuplicateCandidate(
            sourceID: source.id, targetID: target.id, sourceName: source.string("name") ?? "",
            targetName: target.string("name") ?? "", type: source.string("type") ?? "", score: score,
            band: PairScore(score: score, mayMerge: false, reasons: []).band(context.options.resolution),
            reasons: (properties["reasons"]?.listValue ?? []).compactMap(\.stringValue),
            status: DuplicateStatus(rawValue: properties["status"]?.stringValue ?? ""))
    }

    /// The resolution of a new entity, inside the caller's write.
    func resolve(_ new: NewEntityFields, embeddings: EntityEmbeddings) throws -> EntityResolution {
        let options = context.options.resolution
        let names = EntityNames(type: new.type, name: new.name, aliases: new.aliases)
        if options.isEnabled {
            if let match = try exactMatches(names).first {
                let entity = try absorb(new, into: match)
                return EntityResolution(
                    entity: entity, decision: .exactMatch, candidates: [],
                    explanation: "'\(new.name)' has the normalised name or alias of \(new.type) '\(match.id)'")
            }
            var scored: [(record: MemoryNode, score: PairScore)] = []
            for (node, cosine) in try blockingCandidates(names, embeddings: embeddings, limit: options.candidatesPerKey)
            {
                guard let record = try liveEntity(node), record.string("type") == new.type else { continue }
                var storedCosine = cosine
                if storedCosine == nil, let query = embeddings.query {
                    storedCosine = try embeddings.vector(record.id).map { EntityEmbeddings.cosine(query, $0) }
                }
                let quick = EntityResolver.score(names, Self.names(record), cosine: storedCosine, explain: false)
                if quick.band(options) != .create {
                    scored.append((record, EntityResolver.score(names, Self.names(record), cosine: storedCosine)))
                }
            }
            scored.sort {
                ($0.score.band(options) == .merge ? 1 : 0, $0.score.score, $1.record.id) > (
                    $1.score.band(options) == .merge ? 1 : 0, $1.score.score, $0.record.id
                )
            }
            if let best = scored.first, best.score.band(options) == .merge {
                let entity = try absorb(new, into: best.record)
                let candidate = candidate(source: new.name, sourceID: "", target: best.record, best.score)
                return EntityResolution(
                    entity: entity, decision: .merged, candidates: [candidate],
                    explanation: "merged into '\(best.record.id)' at \(EntityResolver.format(best.score.score)): "
                        + best.score.reasons.joined(separator: "; "))
            }
            let record = try create(new)
            var candidates: [DuplicateCandidate] = []
            for entry in scored.prefix(options.reviewLinksPerEntity) {
                try recordSameAs(
                    from: record.node, to: entry.record.node, score: entry.score.score, reasons: entry.score.reasons,
                    status: .pending)
                var candidate = candidate(source: new.name, sourceID: record.id, target: entry.record, entry.score)
                candidate.status = .pending
                candidates.append(candidate)
            }
            if let best = candidates.first {
                return EntityResolution(
                    entity: Entity(record), decision: .review, candidates: candidates,
                    explanation:
                        "created '\(record.id)' with \(candidates.count) pending SAME_AS; best '\(best.targetID)' at "
                        + EntityResolver.format(best.score) + ": " + best.reasons.joined(separator: "; "))
            }
            return EntityResolution(
                entity: Entity(record), decision: .created, candidates: [],
                explanation: "created '\(record.id)': no candidate of type \(new.type) reached the review threshold")
        }
        let record = try create(new)
        return EntityResolution(
            entity: Entity(record), decision: .created, candidates: [], explanation: "created: resolution is disabled")
    }

    func candidate(source name: String, sourceID: String, target: MemoryNode, _ score: PairScore) -> DuplicateCandidate
    {
        DuplicateCandidate(
            sourceID: sourceID, targetID: target.id, sourceName: name, targetName: target.string("name") ?? "",
            type: target.string("type") ?? "", score: score.score, band: score.band(context.options.resolution),
            reasons: score.reasons, status: nil)
    }

    /// Creates the entity node, its aliases and its resolution keys.
    func create(_ new: NewEntityFields) throws -> MemoryNode {
        let profile = EntityNormalizer.profile(new.name, type: new.type)
        let record = try graph.createMemoryNode(
            id: new.id, labels: ["Entity", new.type],
            properties: [
                "name": .string(new.name), "type": .string(new.type),
                "description": new.description.map { .string($0) } ?? .null,
                "aliases": new.aliases.isEmpty ? .null : .list(new.aliases.map { .string($0) }),
                "attributes": new.attributes.isEmpty ? .null : .map(new.attributes),
                "confidence": .double(new.confidence), "created_at": .int(now), "updated_at": .int(now),
                "name_key": .string(profile.key), "name_key_reversed": .string(profile.reversedKey),
                "name_key_sorted": .string(profile.sortedKey),
                "name_acronym": profile.acronym.map { .string($0) } ?? .null,
            ])
        try syncAliases(record)
        try setVector(new.vector, node: record.node, index: .entities, in: graph)
        return record
    }

    /// The embedding side of resolution over this tenant's entity vectors, read in this
    /// transaction: `query` (the new name's embedding, if any), the stored vector of an entity, and
    /// the live entities nearest to a vector. ``EntityEmbeddings/none`` when the store does not
    /// embed or the tenant has no entity vectors yet.
    func entityEmbeddings(query: [Float]?) throws -> EntityEmbeddings {
        let index = MemoryVectorIndex.entities.name
        let vectors = try vectorSession(graph)
        guard let model = context.store.embedder?.modelID, let definition = try vectors.definition(index),
            definition.model == model
        else { return .none }
        // The seam is a value of closures; they are called only inside this transaction, by
        // `resolve` or the duplicate finder, never after it ends.
        nonisolated(unsafe) let graph = self.graph
        nonisolated(unsafe) let session = vectors
        let dimension = definition.dimension
        return EntityEmbeddings(
            query: query.flatMap { $0.count == dimension ? $0 : nil },
            vector: { id in
                guard let node = try graph.nodeID(id) else { return nil }
                return try session.storedVector(of: node, index: index)
            },
            nearest: { vector, limit in
                try session.search(index, query: vector, k: max(1, limit)).compactMap { hit in
                    guard let record = try graph.memoryNode(hit.node), record.labels.contains("Entity") else { return nil }
                    return (id: record.id, cosine: Double(hit.score))
                }
            })
    }

    /// Folds the names and facts of a new entity into an existing one: the new name and aliases
    /// become aliases, a missing description is filled, attributes merge by
    /// ``mergeAttributes(_:_:)``, the confidence is the higher one.
    func absorb(_ new: NewEntityFields, into existing: MemoryNode) throws -> Entity {
        var record = existing
        let name = record.string("name") ?? ""
        var aliases = record.strings("aliases")
        for alias in [new.name] + new.aliases where alias != name && !aliases.contains(alias) { aliases.append(alias) }
        record["aliases"] = aliases.isEmpty ? nil : .list(aliases.map { .string($0) })
        if record["description"] == nil, let description = new.description {
            record["description"] = .string(description)
        }
        let attributes = Self.mergeAttributes(record.map("attributes"), new.attributes)
        record["attributes"] = attributes.isEmpty ? nil : .map(attributes)
        record["confidence"] = .double(max(record.double("confidence") ?? 0, new.confidence))
        record["updated_at"] = .int(now)
        try graph.save(record)
        try syncAliases(record)
        return Entity(record)
    }

    /// Merges attributes without losing any: a key on one side only is kept; a key with equal
    /// values is kept once; a key with different values gets the list of the distinct values,
    /// the target's first (a list value contributes its elements).
    static func mergeAttributes(_ target: [String: PropertyValue], _ source: [String: PropertyValue])
        -> [String: PropertyValue]
    {
        var result = target
        for (key, value) in source {
            guard let current = result[key] else {
                result[key] = value
                continue
            }
            if current == value { continue }
            var values = current.listValue ?? [current]
            for element in value.listValue ?? [value] where !values.contains(element) { values.append(element) }
            result[key] = .list(values)
        }
        return result
    }
}
