import EngramCore
import Foundation

extension MemoryContext {
    /// Merges entity `source` into entity `target`, in one transaction.
    ///
    /// - The source's relationships move to the target, keeping their ids. One that would
    ///   duplicate a relationship of the target (same type, direction and other end) is folded
    ///   into it instead: support counts add up, the higher confidence stays, provenance is
    ///   united, properties the target's lacks are added. Mentions and other links move the same way.
    /// - The source's name and aliases become aliases of the target (an `Alias` node that would
    ///   repeat a name of the target is removed); attributes merge by the rule that loses nothing
    ///   (a key on one side is kept; different values become the list of both, the target's
    ///   first); a missing description is filled; the higher confidence stays.
    /// - Relationships between the two (a `SAME_AS`, now `confirmed`) stay with the source.
    /// - The source stays as a tombstone (label `MergedEntity`, property `merged_into`), so that
    ///   ``entity(id:)`` of its id returns the target, with a `merge_log` of what the merge did,
    ///   which ``unmerge(_:)`` undoes exactly.
    ///
    /// ```swift
    /// try memory.merge(duplicate.id, into: original.id)
    /// try memory.entity(id: duplicate.id)?.id == original.id  // true
    /// ```
    ///
    /// - Returns: the target as merged.
    /// - Throws: `notFound`; `invalidMerge` for an entity into itself, or when either is merged already.
    @discardableResult
    public func merge(_ source: String, into target: String) throws -> Entity {
        try write { session in
            try session.prepareWrite()
            return Entity(try session.merge(source, into: target))
        }
    }

    /// Undoes the merge of `source`: the entity comes back with its labels and properties, and
    /// exactly what the merge moved goes back to it — moved relationships (with their current
    /// properties), folded relationships (and the relationships they were folded into, as they
    /// were), removed aliases; the target's aliases, attributes, description, confidence and
    /// `updated_at` return to their values before the merge.
    ///
    /// - Returns: the restored entity.
    /// - Throws: `notFound`; `invalidMerge` when `source` is not merged, or when its target was
    ///   merged since (unmerge that one first).
    @discardableResult
    public func unmerge(_ source: String) throws -> Entity {
        try write { session in
            try session.prepareWrite()
            return Entity(try session.unmerge(source))
        }
    }

    /// Decides on a proposed duplicate: ``DuplicateDecision/confirm`` merges the source into the
    /// target (``merge(_:into:)``) and marks the `SAME_AS` `confirmed`; ``DuplicateDecision/reject``
    /// marks it `rejected` (recording one when there was none), and the pair is never proposed again.
    ///
    /// - Returns: the pair with its new status.
    /// - Throws: `notFound`; `invalidMerge` as ``merge(_:into:)``.
    @discardableResult
    public func reviewDuplicate(_ candidate: DuplicateCandidate, decision: DuplicateDecision) throws
        -> DuplicateCandidate
    {
        try reviewDuplicate(source: candidate.sourceID, target: candidate.targetID, decision: decision)
    }

    /// ``reviewDuplicate(_:decision:)`` by the ids of the pair.
    @discardableResult
    public func reviewDuplicate(source: String, target: String, decision: DuplicateDecision) throws
        -> DuplicateCandidate
    {
        try write { session in
            try session.prepareWrite()
            let from = try session.requireEntity(source)
            let to = try session.requireEntity(target)
            guard from.node != to.node else {
                throw EngramError(.invalidMerge, "'\(source)' and '\(target)' are one entity already")
            }
            let score = EntityResolver.score(MemorySession.names(from), MemorySession.names(to))
            try session.recordSameAs(
                from: from.node, to: to.node, score: score.score, reasons: score.reasons, status: .pending)
            switch decision {
            case .confirm: _ = try session.merge(source, into: target)
            case .reject:
                try session.recordSameAs(
                    from: from.node, to: to.node, score: score.score, reasons: score.reasons, status: .rejected)
            }
            let relationship = try session.sameAs(from.node, to.node)!
            let stored = try session.graph.storedRelationship(relationship)!
            return try session.sameAsCandidate(relationship, stored.start, stored.end)!
        }
    }
}

extension MemorySession {
    /// The live entity `id` leads to: itself, or the end of its `merged_into` chain.
    func followMerges(_ id: String) throws -> MemoryNode? {
        var current = id
        for _ in 0..<64 {
            guard let node = try graph.nodeID(current), let record = try graph.memoryNode(node) else { return nil }
            if record.labels.contains("Entity") { return record }
            guard record.labels.contains("MergedEntity"), let next = record.string("merged_into") else { return nil }
            current = next
        }
        return nil
    }

    /// Properties of the target that a merge may change, restored by an unmerge.
    static let mergedTargetKeys = ["aliases", "attributes", "description", "confidence", "updated_at"]

    func requireMergeable(_ id: String, role: String) throws -> MemoryNode {
        guard let node = try graph.nodeID(id), let record = try graph.memoryNode(node),
            record.labels.contains("Entity") || record.labels.contains("MergedEntity")
        else {
            throw EngramError(.notFound, "there is no entity '\(id)' in tenant '\(context.tenant)'")
        }
        if let next = record.string("merged_into"), record.labels.contains("MergedEntity") {
            throw EngramError(
                .invalidMerge,
                "the \(role) '\(id)' was merged into '\(next)' already; use that entity, or unmerge '\(id)' first")
        }
        return record
    }

    func merge(_ sourceID: String, into targetID: String) throws -> MemoryNode {
        guard sourceID != targetID else {
            throw EngramError(.invalidMerge, "cannot merge entity '\(sourceID)' into itself")
        }
        var source = try requireMergeable(sourceID, role: "source")
        var target = try requireMergeable(targetID, role: "target")
        let aliasType = try graph.symbol(.relationshipType, "ALIAS_OF", create: true)!
        let sameAsType = try graph.symbol(.relationshipType, "SAME_AS", create: true)!
        var log: [String: PropertyValue] = [
            "target": .string(targetID), "labels": .list(source.labels.map { .string($0) }),
        ]
        var before: [String: PropertyValue] = [:]
        for key in Self.mergedTargetKeys { if let value = target[key] { before[key] = value } }
        log["target_before"] = .map(before)

        // The target's names, so that aliases repeating them are dropped.
        let targetName = target.string("name") ?? ""
        var aliases = target.strings("aliases")
        var moved: [PropertyValue] = []
        var folded: [PropertyValue] = []
        var removedAliases: [PropertyValue] = []
        var confirmed: [PropertyValue] = []
        var attached: [(relationship: UInt64, type: UInt32, start: UInt64, end: UInt64)] = []
        try graph.forEachRelationship(of: source.node, direction: .both, types: nil) { relationship, type, start, end in
            attached.append((relationship, type, start, end))
            return true
        }
        for link in attached {
            let outgoing = link.start == source.node
            let other = outgoing ? link.end : link.start
            let stored = try graph.storedRelationship(link.relationship)!
            let properties = try graph.properties(stored.properties)
            if other == target.node || other == source.node {
                if link.type == sameAsType {
                    confirmed.append(
                        .map(["id": .string(stored.publicID), "status": properties["status"] ?? .string("pending")]))
                    var updated = properties
                    updated["status"] = .string(DuplicateStatus.confirmed.rawValue)
                    updated["updated_at"] = .int(now)
                    try graph.replaceRelationship(link.relationship, properties: try graph.storedProperties(updated))
                }
                continue
            }
            let record: [String: PropertyValue] = [
                "id": .string(stored.publicID), "type": .string(try graph.name(.relationshipType, link.type)),
                "start": .string(try graph.storedNodePublicID(link.start)!),
                "end": .string(try graph.storedNodePublicID(link.end)!), "properties": .map(properties),
            ]
            if link.type == aliasType, let alias = try graph.memoryNode(other) {
                let name = alias.string("name") ?? ""
                if name == targetName || aliases.contains(name) {
                    var entry = record
                    entry["node"] = .map(alias.properties)
                    entry["node_id"] = .string(alias.id)
                    removedAliases.append(.map(entry))
                    try graph.deleteNode(other, detach: true)
                    continue
                }
                aliases.append(name)
            }
            var existing: UInt64?
            let (start, end) = outgoing ? (target.node, other) : (other, target.node)
            try graph.forEachRelationship(from: start, to: end, types: [link.type]) { relationship, _ in
                existing = relationship
                return false
            }
            try graph.deleteRelationship(link.relationship)
            if let existing, link.type != aliasType {
                let into = try graph.storedRelationship(existing)!
                let intoProperties = try graph.properties(into.properties)
                var entry = record
                entry["into"] = .string(into.publicID)
                entry["into_before"] = .map(intoProperties)
                folded.append(.map(entry))
                try graph.replaceRelationship(
                    existing,
                    properties: try graph.storedProperties(Self.fold(properties, into: intoProperties, now: now)))
            } else {
                _ = try graph.createRelationship(
                    publicID: stored.publicID, type: try graph.name(.relationshipType, link.type), start: start,
                    end: end,
                    properties: properties)
                moved.append(.map(record))
            }
        }
        // The source's own name becomes an alias of the target.
        let sourceName = source.string("name") ?? ""
        if sourceName != targetName && !aliases.contains(sourceName) {
            aliases.append(sourceName)
            let node = try graph.createMemoryNode(id: nil, labels: ["Alias"], properties: ["name": .string(sourceName)])
            try graph.link(node.node, target.node, "ALIAS_OF")
            log["alias_created"] = .string(node.id)
        }
        target["aliases"] = aliases.isEmpty ? nil : .list(aliases.map { .string($0) })
        let attributes = Self.mergeAttributes(target.map("attributes"), source.map("attributes"))
        target["attributes"] = attributes.isEmpty ? nil : .map(attributes)
        if target["description"] == nil, let description = source["description"] { target["description"] = description }
        target["confidence"] = .double(max(target.double("confidence") ?? 0, source.double("confidence") ?? 0))
        target["updated_at"] = .int(now)
        try graph.save(target)
        try syncResolutionKeys(target)

        log["moved"] = .list(moved)
        log["folded"] = .list(folded)
        log["aliases_removed"] = .list(removedAliases)
        log["same_as"] = .list(confirmed)
        source.labels = ["MergedEntity"]
        source["merged_into"] = .string(targetID)
        source["merged_at"] = .int(now)
        source["merge_log"] = .map(log)
        try graph.save(source)
        return try graph.memoryNode(target.node)!
    }

    /// A relationship folded into an equal one: support counts add, the higher confidence
    /// stays, provenance is united, properties the target lacks are added.
    static func fold(_ source: [String: PropertyValue], into target: [String: PropertyValue], now: Int64)
        -> [String: PropertyValue]
    {
        var result = target
        for (key, value) in source where result[key] == nil { result[key] = value }
        if source["support_count"] != nil || target["support_count"] != nil {
            result["support_count"] = .int(
                (target["support_count"]?.intValue ?? 1) + (source["support_count"]?.intValue ?? 1))
        }
        if let a = source["confidence"]?.doubleValue, let b = target["confidence"]?.doubleValue {
            result["confidence"] = .double(max(a, b))
        }
        if source["provenance"] != nil || target["provenance"] != nil {
            var provenance = target["provenance"]?.listValue ?? []
            for item in source["provenance"]?.listValue ?? [] where !provenance.contains(item) {
                provenance.append(item)
            }
            result["provenance"] = .list(provenance)
        }
        if target["updated_at"] != nil { result["updated_at"] = .int(now) }
        return result
    }

    func unmerge(_ sourceID: String) throws -> MemoryNode {
        guard let node = try graph.nodeID(sourceID), var source = try graph.memoryNode(node) else {
            throw EngramError(.notFound, "there is no entity '\(sourceID)' in tenant '\(context.tenant)'")
        }
        guard source.labels.contains("MergedEntity"), let log = source["merge_log"]?.mapValue,
            let targetID = log["target"]?.stringValue
        else {
            throw EngramError(.invalidMerge, "entity '\(sourceID)' is not merged into another; nothing to unmerge")
        }
        guard let targetNode = try graph.nodeID(targetID), var target = try liveEntity(targetNode) else {
            let next = try graph.nodeID(targetID).flatMap { try graph.memoryNode($0)?.string("merged_into") }
            throw EngramError(
                .invalidMerge,
                "the target '\(targetID)' of '\(sourceID)' was "
                    + (next.map { "merged into '\($0)' since: unmerge '\(targetID)' first" }
                        ?? "deleted: nothing to restore into"))
        }
        if let alias = log["alias_created"]?.stringValue, let aliasNode = try graph.nodeID(alias) {
            try graph.deleteNode(aliasNode, detach: true)
        }
        func restore(_ entry: [String: PropertyValue], properties: [String: PropertyValue]) throws {
            guard let id = entry["id"]?.stringValue, let type = entry["type"]?.stringValue,
                let start = try entry["start"]?.stringValue.flatMap(graph.nodeID),
                let end = try entry["end"]?.stringValue.flatMap(graph.nodeID)
            else { return }
            _ = try graph.createRelationship(publicID: id, type: type, start: start, end: end, properties: properties)
        }
        for case .map(let entry) in log["moved"]?.listValue ?? [] {
            // The relationship may have changed since: it goes back with its current properties.
            guard let id = entry["id"]?.stringValue, let relationship = try graph.relationshipID(id),
                let stored = try graph.storedRelationship(relationship)
            else { continue }
            let properties = try graph.properties(stored.properties)
            try graph.deleteRelationship(relationship)
            try restore(entry, properties: properties)
        }
        for case .map(let entry) in log["folded"]?.listValue ?? [] {
            if let into = entry["into"]?.stringValue, let relationship = try graph.relationshipID(into),
                let before = entry["into_before"]?.mapValue
            {
                try graph.replaceRelationship(relationship, properties: try graph.storedProperties(before))
            }
            try restore(entry, properties: entry["properties"]?.mapValue ?? [:])
        }
        for case .map(let entry) in log["aliases_removed"]?.listValue ?? [] {
            guard let id = entry["node_id"]?.stringValue, let properties = entry["node"]?.mapValue else { continue }
            try graph.createMemoryNode(id: id, labels: ["Alias"], properties: properties)
            try restore(entry, properties: entry["properties"]?.mapValue ?? [:])
        }
        for case .map(let entry) in log["same_as"]?.listValue ?? [] {
            guard let id = entry["id"]?.stringValue, let relationship = try graph.relationshipID(id),
                let stored = try graph.storedRelationship(relationship)
            else { continue }
            var properties = try graph.properties(stored.properties)
            properties["status"] = entry["status"]
            properties["updated_at"] = .int(now)
            try graph.replaceRelationship(relationship, properties: try graph.storedProperties(properties))
        }
        let before = log["target_before"]?.mapValue ?? [:]
        for key in Self.mergedTargetKeys { target[key] = before[key] }
        try graph.save(target)
        try syncResolutionKeys(target)
        source.labels = (log["labels"]?.listValue ?? []).compactMap(\.stringValue)
        for key in ["merged_into", "merged_at", "merge_log"] { source[key] = nil }
        try graph.save(source)
        try syncResolutionKeys(source)
        return try graph.memoryNode(node)!
    }
}
