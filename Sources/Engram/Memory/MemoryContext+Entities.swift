public import EngramCore
public import Foundation

/// An entity of the tenant's knowledge graph: node `Entity` plus its type as a label.
///
/// Entities belong to the tenant: every context of the tenant sees and changes the same ones.
/// Each alias is also an `Alias` node (`(:Alias)-[:ALIAS_OF]->(:Entity)`), so that names and
/// aliases are found through one normalised index.
public struct Entity: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// Its name.
    public var name: String
    /// Its type, also a label: `Person`, `Organization`, `Location`, `Event`, `Object`, `Concept` or custom.
    public var type: String
    /// A description.
    public var description: String?
    /// Other names.
    public var aliases: [String]
    /// Free attributes.
    public var attributes: [String: PropertyValue]
    /// 0…1.
    public var confidence: Double
    /// When it was created.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    init(_ record: MemoryNode) {
        id = record.id
        name = record.string("name") ?? ""
        type = record.string("type") ?? ""
        description = record.string("description")
        aliases = record.strings("aliases")
        attributes = record.map("attributes")
        confidence = record.double("confidence") ?? 1
        createdAt = record.date("created_at") ?? Date(timeIntervalSince1970: 0)
        updatedAt = record.date("updated_at") ?? createdAt
    }
}

/// A typed relationship between two entities.
public struct EntityRelationship: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// Its type, upper snake case (`WORKS_AT`).
    public var type: String
    /// The entity it starts at.
    public var sourceID: String
    /// The entity it ends at.
    public var targetID: String
    /// 0…1: the highest confidence it was stated with.
    public var confidence: Double
    /// How many times it was stated.
    public var supportCount: Int
    /// The ids of the messages or memories it was drawn from.
    public var provenance: [String]
    /// Since when it holds.
    public var validFrom: Date?
    /// Until when it holds.
    public var validUntil: Date?
    /// Other properties.
    public var properties: [String: PropertyValue]

    static let reserved: Set<String> = [
        "confidence", "support_count", "provenance", "valid_from", "valid_until", "created_at", "updated_at",
    ]

    init(_ relationship: GraphRelationship) {
        let p = relationship.properties
        id = relationship.id
        type = relationship.type
        sourceID = relationship.startID
        targetID = relationship.endID
        confidence = p["confidence"]?.doubleValue ?? 1
        supportCount = Int(p["support_count"]?.intValue ?? 1)
        provenance = (p["provenance"]?.listValue ?? []).compactMap(\.stringValue)
        validFrom = p["valid_from"]?.intValue.map(MemoryTime.date)
        validUntil = p["valid_until"]?.intValue.map(MemoryTime.date)
        properties = p.filter { !Self.reserved.contains($0.key) }
    }
}

extension MemoryContext {
    /// Labels an entity type may not take, since the memory model uses them.
    static let reservedLabels: Set<String> = [
        "Entity", "Memory", "Message", "Conversation", "User", "Agent", "Alias", "ReasoningTrace", "ReasoningStep",
        "ToolCall", "MergedEntity",
    ]

    /// Adds an entity, through entity resolution: an existing entity of the same type with the
    /// same normalised name or alias, or one scored in the merge band, is returned instead (its
    /// aliases grown); see ``resolveEntity(name:type:description:aliases:attributes:confidence:id:)``
    /// for the decision and its reasons, and `docs/entity-resolution.md`.
    /// - Parameters:
    ///   - type: its type, a label (letters, digits and `_`, starting with a letter).
    ///   - confidence: 0…1.
    /// - Throws: `emptyContent` for an empty name; `invalidName` for a bad type; `valueOutOfRange`;
    ///   `alreadyExists` for a taken id.
    @discardableResult
    public func addEntity(
        name: String, type: String, description: String? = nil, aliases: [String] = [],
        attributes: [String: PropertyValue] = [:],
        confidence: Double = 1, id: String? = nil
    ) async throws -> Entity {
        try await resolveEntity(
            name: name, type: type, description: description, aliases: aliases, attributes: attributes,
            confidence: confidence, id: id
        ).entity
    }

    static func validateType(_ type: String) throws {
        guard let first = type.unicodeScalars.first, CharacterSet.letters.contains(first),
            type.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" }),
            !reservedLabels.contains(type)
        else {
            throw EngramError(
                .invalidName, "'\(type)' is not an entity type: use letters, digits and '_', not a memory-model label")
        }
    }

    /// The entity `id`, or `nil`. The id of an entity merged into another leads to that one
    /// (following `merged_into`).
    public func entity(id: String) throws -> Entity? {
        try read { session in try session.followMerges(id).map(Entity.init) }
    }

    /// The entities whose name or an alias equals `name`, ignoring case, whitespace and diacritics
    /// (`"  josé   GARCÍA"` finds `José García`), through the normalised index.
    /// - Parameter type: keep only this type.
    /// - Complexity: O(log n + k).
    public func findEntities(named name: String, type: String? = nil) throws -> [Entity] {
        try read { session in
            var seen = Set<UInt64>()
            var result: [Entity] = []
            var nodes = try session.graph.nodes(
                label: "Entity", property: "name", equalTo: .string(name), normalized: true)
            for alias in try session.graph.nodes(
                label: "Alias", property: "name", equalTo: .string(name), normalized: true)
            {
                nodes += try session.graph.related(alias, "ALIAS_OF", .outgoing)
            }
            for node in nodes where seen.insert(node).inserted {
                guard let record = try session.graph.memoryNode(node) else { continue }
                if let type, record.string("type") != type { continue }
                result.append(Entity(record))
            }
            return result
        }
    }

    /// The tenant's entities (of `type`, or all), with the total.
    public func entities(type: String? = nil, options: ListOptions = ListOptions()) throws -> Page<Entity> {
        try options.validate()
        return try read { session in
            let records = try session.graph.nodes(label: type ?? "Entity").compactMap {
                try session.graph.memoryNode($0)
            }
            .filter { $0.labels.contains("Entity") }
            return try options.page(records, Entity.init)
        }
    }

    /// Changes an entity; `nil` arguments keep the current values.
    /// - Throws: `notFound`; `emptyContent`; `invalidName`; `valueOutOfRange`.
    @discardableResult
    public func updateEntity(
        _ id: String, name: String? = nil, type: String? = nil, description: String? = nil, aliases: [String]? = nil,
        attributes: [String: PropertyValue]? = nil, confidence: Double? = nil
    ) async throws -> Entity {
        if let name { try MemoryValidation.content(name, "an entity's name") }
        if let type { try Self.validateType(type) }
        if let confidence { try MemoryValidation.unit(confidence, "confidence") }
        let textChanges = name != nil || type != nil || description != nil || aliases != nil
        return try await writeEmbedded(prepare: {
            guard textChanges, let current = try entity(id: id) else { return [] }
            return [
                MemoryText.entity(
                    name: name ?? current.name, type: type ?? current.type,
                    description: description ?? current.description, aliases: aliases ?? current.aliases)
            ]
        }) { session, texts, vectors in
            var record = try session.requireEntity(id)
            if let name { record["name"] = .string(name) }
            if let type {
                record.labels = ["Entity", type]
                record["type"] = .string(type)
            }
            if let description { record["description"] = .string(description) }
            if let aliases { record["aliases"] = aliases.isEmpty ? .null : .list(aliases.map { .string($0) }) }
            if let attributes { record["attributes"] = attributes.isEmpty ? .null : .map(attributes) }
            if let confidence { record["confidence"] = .double(confidence) }
            record["updated_at"] = .int(session.now)
            try session.graph.save(record)
            try session.syncAliases(record)
            if textChanges {
                guard let text = MemoryText.of(record)?.text, texts == [text] else { throw StaleEmbedding() }
                try session.setVector(vectors?[0], node: record.node, index: .entities, in: session.graph)
            }
            return Entity(record)
        }
    }

    /// Deletes an entity, its aliases and its relationships.
    /// - Throws: `notFound`.
    public func deleteEntity(_ id: String) throws {
        try write { session in
            let record = try session.requireEntity(id)
            for alias in try session.graph.related(record.node, "ALIAS_OF", .incoming) {
                try session.graph.deleteNode(alias, detach: true)
            }
            try session.deleteNode(record.node, in: session.graph)
        }
    }

    /// Relates two entities. Stating the same (source, type, target) again raises its support
    /// count, keeps the highest confidence, folds the provenance and merges the properties
    /// instead of adding a second relationship.
    /// - Parameters:
    ///   - type: upper snake case, such as `WORKS_AT`.
    ///   - provenance: the ids of the messages or memories it is drawn from.
    /// - Throws: `notFound` for an unknown entity; `invalidName` for a bad type; `valueOutOfRange`.
    @discardableResult
    public func relate(
        _ source: String, _ type: String, _ target: String, properties: [String: PropertyValue] = [:],
        confidence: Double = 1,
        provenance: [String] = [], validFrom: Date? = nil, validUntil: Date? = nil
    ) throws -> EntityRelationship {
        guard let first = type.first, first.isASCII, first.isUppercase,
            type.allSatisfy({ ($0.isASCII && ($0.isUppercase || $0.isNumber)) || $0 == "_" })
        else {
            throw EngramError(
                .invalidName, "'\(type)' is not a relationship type: use upper snake case, such as WORKS_AT")
        }
        try MemoryValidation.unit(confidence, "confidence")
        return try write { session in
            let start = try session.requireEntity(source)
            let end = try session.requireEntity(target)
            try session.prepareWrite()
            let graph = session.graph
            var existing: UInt64?
            if let typeID = try graph.symbol(.relationshipType, type, create: false) {
                try graph.forEachRelationship(from: start.node, to: end.node, types: [typeID]) { relationship, _ in
                    existing = relationship
                    return false
                }
            }
            var values = properties.filter { !EntityRelationship.reserved.contains($0.key) }
            let relationship: UInt64
            if let existing {
                let stored = try graph.storedRelationship(existing)!
                var current = try graph.properties(stored.properties)
                for (key, value) in values { current[key] = value }
                let folded = (current["provenance"]?.listValue ?? []).compactMap(\.stringValue)
                current["provenance"] = .list((folded + provenance.filter { !folded.contains($0) }).map { .string($0) })
                current["support_count"] = .int((current["support_count"]?.intValue ?? 1) + 1)
                current["confidence"] = .double(max(current["confidence"]?.doubleValue ?? 0, confidence))
                if let validFrom { current["valid_from"] = .int(MemoryTime.millis(validFrom)) }
                if let validUntil { current["valid_until"] = .int(MemoryTime.millis(validUntil)) }
                current["updated_at"] = .int(session.now)
                try graph.replaceRelationship(existing, properties: try graph.storedProperties(current))
                relationship = existing
            } else {
                values["confidence"] = .double(confidence)
                values["support_count"] = 1
                values["provenance"] = .list(provenance.map { .string($0) })
                values["valid_from"] = validFrom.map { .int(MemoryTime.millis($0)) } ?? .null
                values["valid_until"] = validUntil.map { .int(MemoryTime.millis($0)) } ?? .null
                values["created_at"] = .int(session.now)
                values["updated_at"] = .int(session.now)
                relationship = try graph.createRelationship(
                    publicID: nil, type: type, start: start.node, end: end.node, properties: values)
            }
            return EntityRelationship(try graph.publicRelationship(graph.storedRelationship(relationship)!))
        }
    }

    /// The relationships between entities that start or end at `entity` (of `types`, or any).
    /// - Parameters:
    ///   - asOf: keep the relationships valid at this time (`valid_from <= t < valid_until`, open
    ///   bounds hold); `nil` keeps those valid now.
    ///   - includeAllValidity: keep every relationship whatever its validity.
    /// - Throws: `notFound` for an unknown entity.
    public func relationships(
        of entity: String, direction: GraphDirection = .both, types: [String] = [], asOf: Date? = nil,
        includeAllValidity: Bool = false
    ) throws -> [EntityRelationship] {
        try read { session in
            let record = try session.requireEntity(entity)
            let graph = session.graph
            let time = asOf.map(MemoryTime.millis) ?? session.now
            var result: [EntityRelationship] = []
            try graph.forEachRelationship(of: record.node, direction: direction, types: nil) {
                relationship, _, start, end in
                let public_ = try graph.publicRelationship(graph.storedRelationship(relationship)!)
                if !types.isEmpty, !types.contains(public_.type) { return true }
                let other = start == record.node ? end : start
                guard try graph.memoryNode(other)?.labels.contains("Entity") == true, public_.type != "ALIAS_OF" else {
                    return true
                }
                if !includeAllValidity {
                    if let from = public_.properties["valid_from"]?.intValue, from > time { return true }
                    if let until = public_.properties["valid_until"]?.intValue, until <= time { return true }
                }
                result.append(EntityRelationship(public_))
                return true
            }
            return result
        }
    }

    /// Ends a relationship between entities: sets its `valid_until` (now when `nil`). It leaves
    /// current reads and stays readable `asOf` an earlier time.
    /// - Throws: `notFound` for an unknown relationship.
    @discardableResult
    public func endRelationship(_ id: String, at time: Date? = nil) throws -> EntityRelationship {
        try write { session in
            let graph = session.graph
            guard let relationship = try graph.relationshipID(id),
                let stored = try graph.storedRelationship(relationship),
                try [stored.start, stored.end].allSatisfy({
                    try graph.memoryNode($0)?.labels.contains("Entity") == true
                })
            else {
                throw EngramError(.notFound, "there is no relationship '\(id)' between entities in tenant '\(tenant)'")
            }
            var properties = try graph.properties(graph.storedRelationship(relationship)!.properties)
            properties["valid_until"] = .int(time.map(MemoryTime.millis) ?? session.now)
            properties["updated_at"] = .int(session.now)
            try graph.replaceRelationship(relationship, properties: try graph.storedProperties(properties))
            return EntityRelationship(try graph.publicRelationship(graph.storedRelationship(relationship)!))
        }
    }
}

extension MemorySession {
    func requireEntity(_ id: String) throws -> MemoryNode {
        guard let record = try graph.memoryNode(id: id, label: "Entity") else {
            throw EngramError(.notFound, "there is no entity '\(id)' in tenant '\(context.tenant)'")
        }
        return record
    }

    /// Makes the entity's `Alias` nodes match its aliases.
    func syncAliases(_ record: MemoryNode) throws {
        let wanted = record.strings("aliases")
        var have: [String: UInt64] = [:]
        for alias in try graph.related(record.node, "ALIAS_OF", .incoming) {
            guard let node = try graph.memoryNode(alias), let name = node.string("name") else { continue }
            if wanted.contains(name), have[name] == nil {
                have[name] = alias
            } else {
                try graph.deleteNode(alias, detach: true)
            }
        }
        for alias in wanted where have[alias] == nil {
            let node = try graph.createMemoryNode(id: nil, labels: ["Alias"], properties: ["name": .string(alias)])
            try graph.link(node.node, record.node, "ALIAS_OF")
            have[alias] = node.node
        }
        try syncResolutionKeys(record)
    }
}
