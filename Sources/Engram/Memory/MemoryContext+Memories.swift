import EngramCore
import EngramStorage
public import Foundation

/// What a memory is about; each kind but ``general`` is also a label of the memory's node.
public struct MemoryKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The kind's name, in lower case.
    public let rawValue: String
    /// Creates a kind; custom kinds are allowed and become labels too (`"plan"` → `:Plan`).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A fact about the world (`:Fact`).
    public static let fact = MemoryKind(rawValue: "fact")
    /// A preference of the user (`:Preference`).
    public static let preference = MemoryKind(rawValue: "preference")
    /// Something that happened (`:Experience`).
    public static let experience = MemoryKind(rawValue: "experience")
    /// A decision taken (`:Decision`).
    public static let decision = MemoryKind(rawValue: "decision")
    /// A conclusion drawn (`:Insight`).
    public static let insight = MemoryKind(rawValue: "insight")
    /// A summary of a stretch of conversation (`:Episode`).
    public static let episode = MemoryKind(rawValue: "episode")
    /// Anything else; no extra label.
    public static let general = MemoryKind(rawValue: "general")
    /// The kind's name.
    public var description: String { rawValue }

    /// The label of the kind, `nil` for ``general``.
    var label: String? {
        rawValue == "general" ? nil : rawValue.prefix(1).uppercased() + rawValue.dropFirst()
    }
}

/// Who sees a memory.
public enum MemoryScope: String, Sendable, Hashable, CaseIterable {
    /// Only the agent that wrote it, for the same user.
    case agent
    /// Every agent of the user.
    case user
    /// Everyone in the tenant.
    case tenant
    /// Every tenant; written only through an administrative context.
    case global
}

/// A memory's review state; reads see ``active`` memories unless asked otherwise.
public enum MemoryState: String, Sendable, Hashable, CaseIterable {
    /// In use.
    case active
    /// Proposed or switched off; comes back with ``MemoryContext/approve(_:)``.
    case inactive
    /// Kept for the record only.
    case archived
}

/// A memory to store.
public struct NewMemory: Sendable, Hashable {
    /// Its id; `nil` generates one.
    public var id: String?
    /// What to remember; must not be empty.
    public var content: String
    /// Its kind (``MemoryKind/general``).
    public var kind: MemoryKind
    /// Who sees it (``MemoryScope/user``).
    public var scope: MemoryScope
    /// Its state (``MemoryState/active``); ``MemoryState/inactive`` puts it up for approval.
    public var state: MemoryState
    /// 0…1 (0.5).
    public var importance: Double
    /// String annotations; keys without `-`, `.` or spaces.
    public var annotations: [String: String]
    /// Its creation time, for backfilling imports; `nil` is now.
    public var createdAt: Date?
    /// Its own time to live in seconds (`0` = never); `nil` defers to its conversation's, then to the store default.
    public var ttl: TimeInterval?
    /// Since when it holds (its creation time).
    public var validFrom: Date?
    /// Until when it holds (open).
    public var validUntil: Date?
    /// The conversation it was drawn from.
    public var conversationID: String?
    /// Entities it mentions (`MENTIONS` relationships).
    public var mentions: [String]

    /// Creates a memory to store.
    public init(
        _ content: String, kind: MemoryKind = .general, scope: MemoryScope = .user, state: MemoryState = .active,
        importance: Double = 0.5,
        annotations: [String: String] = [:], createdAt: Date? = nil, ttl: TimeInterval? = nil, validFrom: Date? = nil,
        validUntil: Date? = nil, conversationID: String? = nil, mentions: [String] = [], id: String? = nil
    ) {
        self.id = id
        self.content = content
        self.kind = kind
        self.scope = scope
        self.state = state
        self.importance = importance
        self.annotations = annotations
        self.createdAt = createdAt
        self.ttl = ttl
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.conversationID = conversationID
        self.mentions = mentions
    }
}

/// A stored memory: node `Memory` plus its kind's label.
public struct Memory: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// What it says.
    public var content: String
    /// Its kind.
    public var kind: MemoryKind
    /// Who sees it.
    public var scope: MemoryScope
    /// Its review state.
    public var state: MemoryState
    /// 0…1.
    public var importance: Double
    /// String annotations.
    public var annotations: [String: String]
    /// The user it belongs to (user and agent scopes).
    public var user: String?
    /// The agent it belongs to (agent scope).
    public var agent: String?
    /// The conversation it was drawn from.
    public var conversationID: String?
    /// When it was created (possibly backfilled).
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// When it expires; `nil` = never.
    public var expiresAt: Date?
    /// Since when it holds.
    public var validFrom: Date
    /// Until when it holds; set when superseded.
    public var validUntil: Date?

    init(_ record: MemoryNode) {
        id = record.id
        content = record.string("content") ?? ""
        kind = MemoryKind(rawValue: record.string("kind") ?? "general")
        scope = MemoryScope(rawValue: record.string("scope") ?? "") ?? .tenant
        state = MemoryState(rawValue: record.string("state") ?? "") ?? .active
        importance = record.double("importance") ?? 0.5
        annotations = record.stringMap("annotations")
        user = record.string("user")
        agent = record.string("agent")
        conversationID = record.string("conversation")
        createdAt = record.date("created_at") ?? Date(timeIntervalSince1970: 0)
        updatedAt = record.date("updated_at") ?? createdAt
        expiresAt = record.date("expires_at")
        validFrom = record.date("valid_from") ?? createdAt
        validUntil = record.date("valid_until")
    }
}

/// Which memories a read returns.
public struct MemoryFilter: Sendable, Hashable {
    /// Keep these kinds (any when empty).
    public var kinds: [MemoryKind]
    /// Keep these states (``MemoryState/active``).
    public var states: [MemoryState]
    /// Keep these scopes (any visible when empty).
    public var scopes: [MemoryScope]
    /// Keep memories with every one of these annotations (exact match).
    public var annotations: [String: String]
    /// Keep memories created at or after.
    public var createdAfter: Date?
    /// Keep memories created before.
    public var createdBefore: Date?
    /// Read as the store believed at this time: memories created by then and valid then. `nil`
    /// reads the current ones (valid now).
    public var asOf: Date?
    /// Keep memories drawn from this conversation.
    public var conversationID: String?
    /// Keep memories whatever their validity (superseded and not yet valid ones too); ignores ``asOf``.
    public var includeAllValidity: Bool

    /// Creates a filter; the default keeps the active, currently valid memories the context sees.
    public init(
        kinds: [MemoryKind] = [], states: [MemoryState] = [.active], scopes: [MemoryScope] = [],
        annotations: [String: String] = [:],
        createdAfter: Date? = nil, createdBefore: Date? = nil, asOf: Date? = nil, conversationID: String? = nil,
        includeAllValidity: Bool = false
    ) {
        self.includeAllValidity = includeAllValidity
        self.kinds = kinds
        self.states = states
        self.scopes = scopes
        self.annotations = annotations
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.asOf = asOf
        self.conversationID = conversationID
    }

    /// Every state, every validity: all the memories a context sees.
    public static let everything = MemoryFilter(states: MemoryState.allCases, includeAllValidity: true)

    /// Every state, currently valid.
    public static let allStates = MemoryFilter(states: MemoryState.allCases)
}

/// The result of approving one memory of a batch.
public enum ApprovalResult: Sendable, Hashable {
    /// It was inactive or archived and is active now.
    case approved
    /// It was active already.
    case alreadyActive
    /// There is no such memory this context may change.
    case notFound
}

extension MemoryContext {
    // MARK: Writing

    /// Stores a memory.
    /// - Returns: the memory as stored.
    /// - Throws: `emptyContent`; `valueOutOfRange` for importance outside 0…1; `invalidAnnotationKey`;
    ///   `invalidTTL`; `notPermitted` for a global memory outside an administrative context;
    ///   `invalidArgument` for a user or agent scope without a user or agent in the context;
    ///   `notFound` for an unknown conversation or mentioned entity.
    ///   Or what the store's embedder throws: then nothing is written.
    @discardableResult
    public func remember(_ memory: NewMemory) async throws -> Memory {
        try await remember([memory])[0]
    }

    /// Stores memories in one transaction: all or none. With an embedder, their contents are
    /// embedded in one batch before the transaction opens.
    /// - Throws: as ``remember(_:)``.
    @discardableResult
    public func remember(_ memories: [NewMemory]) async throws -> [Memory] {
        let vectors = try await embed(memories.map { MemoryText.memory(content: $0.content) })
        return try write { session in
            try memories.indices.map { try session.storeMemory(memories[$0], vector: vectors?[$0]) }
        }
    }

    /// Stores `replacement` and closes `id`: the old memory's `valid_until` becomes the new one's
    /// `valid_from`, and a `SUPERSEDES` relationship runs from new to old. The old memory leaves
    /// current reads and stays readable with ``MemoryFilter/asOf`` a time before.
    /// - Throws: `notFound` for an unknown or invisible memory; as ``remember(_:)``.
    @discardableResult
    public func supersede(_ id: String, with replacement: NewMemory) async throws -> Memory {
        let vector = try await embed([MemoryText.memory(content: replacement.content)])?[0]
        return try write { session in
            guard var old = try session.memoryRecord(id, forWriting: true).map({ $0.1 }) else {
                throw EngramError(.notFound, "there is no memory '\(id)' for this context")
            }
            let graph = try session.memoryGraph(MemoryScope(rawValue: old.string("scope") ?? "") ?? .tenant)
            let new = try session.storeMemory(replacement, vector: vector)
            guard let newNode = try graph.nodeID(new.id) else {
                throw EngramError(
                    .invalidArgument, "a global memory supersedes only global memories, and the other way round")
            }
            old["valid_until"] = .int(MemoryTime.millis(new.validFrom))
            old["updated_at"] = .int(session.now)
            try graph.save(old)
            try graph.link(newNode, old.node, "SUPERSEDES")
            return new
        }
    }

    /// Changes a memory; `nil` arguments keep the current values. A content change is embedded
    /// again (before the transaction) and re-indexed in the same transaction.
    /// - Throws: `notFound`; `emptyContent`; `valueOutOfRange`; `invalidAnnotationKey`; `notPermitted`.
    @discardableResult
    public func updateMemory(
        _ id: String, content: String? = nil, kind: MemoryKind? = nil, importance: Double? = nil,
        annotations: [String: String]? = nil,
        validUntil: Date? = nil
    ) async throws -> Memory {
        if let content { try MemoryValidation.content(content, "a memory's content") }
        if let importance { try MemoryValidation.unit(importance, "importance") }
        let annotationValue = try annotations.map(MemoryValidation.annotations)
        var vector: [Float]?
        if let content { vector = try await embed([MemoryText.memory(content: content)])?[0] }
        return try write { session in
            guard let (graph, found) = try session.memoryRecord(id, forWriting: true) else {
                throw EngramError(.notFound, "there is no memory '\(id)' for this context")
            }
            var record = found
            if let content { record["content"] = .string(content) }
            if let kind {
                record.labels = ["Memory"] + (kind.label.map { [$0] } ?? [])
                record["kind"] = .string(kind.rawValue)
            }
            if let importance { record["importance"] = .double(importance) }
            if let annotationValue { record["annotations"] = annotationValue ?? .null }
            if let validUntil { record["valid_until"] = .int(MemoryTime.millis(validUntil)) }
            record["updated_at"] = .int(session.now)
            try graph.save(record)
            if content != nil { try session.setVector(vector, node: record.node, index: .memories, in: graph) }
            return Memory(record)
        }
    }

    /// Deletes a memory and its relationships.
    /// - Throws: `notFound`; `notPermitted` for a global memory outside an administrative context.
    public func deleteMemory(_ id: String) throws {
        try write { session in
            guard let (graph, record) = try session.memoryRecord(id, forWriting: true) else {
                throw EngramError(.notFound, "there is no memory '\(id)' for this context")
            }
            try session.deleteNode(record.node, in: graph)
        }
    }

    /// Makes a memory active.
    /// - Throws: `notFound`; `notPermitted`.
    @discardableResult
    public func approve(_ id: String) throws -> Memory { try setState(id, .active) }

    /// Makes a memory inactive: it leaves default reads.
    /// - Throws: `notFound`; `notPermitted`.
    @discardableResult
    public func deactivate(_ id: String) throws -> Memory { try setState(id, .inactive) }

    /// Archives a memory: it leaves default reads and stays for the record.
    /// - Throws: `notFound`; `notPermitted`.
    @discardableResult
    public func archive(_ id: String) throws -> Memory { try setState(id, .archived) }

    /// Approves memories in one transaction, with one result per id (unknown ids do not stop the others).
    /// - Returns: the result of each id, in the order given.
    /// - Throws: `notPermitted` when an id names a global memory outside an administrative context.
    public func approve(_ ids: [String]) throws -> [(id: String, result: ApprovalResult)] {
        try write { session in
            try ids.map { id in
                guard let (graph, found) = try session.memoryRecord(id, forWriting: true) else {
                    return (id, .notFound)
                }
                var record = found
                if record.string("state") == MemoryState.active.rawValue { return (id, .alreadyActive) }
                record["state"] = .string(MemoryState.active.rawValue)
                record["updated_at"] = .int(session.now)
                try graph.save(record)
                return (id, .approved)
            }
        }
    }

    private func setState(_ id: String, _ state: MemoryState) throws -> Memory {
        try write { session in
            guard let (graph, found) = try session.memoryRecord(id, forWriting: true) else {
                throw EngramError(.notFound, "there is no memory '\(id)' for this context")
            }
            var record = found
            if record.string("state") != state.rawValue {
                record["state"] = .string(state.rawValue)
                record["updated_at"] = .int(session.now)
                try graph.save(record)
            }
            return Memory(record)
        }
    }

    /// Adds a `MENTIONS` relationship from a message or a memory to an entity (once).
    /// - Throws: `notFound` for an unknown source or entity.
    public func link(_ source: String, mentions entity: String) throws {
        try write { session in
            let sourceNode: UInt64
            if let (graph, record) = try session.memoryRecord(source, forWriting: true) {
                guard graph === session.graph else {
                    throw EngramError(.invalidArgument, "a global memory cannot mention an entity of a tenant")
                }
                sourceNode = record.node
            } else if let message = try session.graph.memoryNode(id: source, label: "Message"),
                let conversation = try session.visibleConversation(message.string("conversation") ?? "")
            {
                _ = conversation
                sourceNode = message.node
            } else {
                throw EngramError(.notFound, "there is no message or memory '\(source)' for this context")
            }
            let target = try session.requireEntity(entity)
            if try !session.graph.isLinked(sourceNode, target.node, "MENTIONS") {
                try session.graph.link(sourceNode, target.node, "MENTIONS")
            }
        }
    }

    // MARK: Reading

    /// The memory `id` if this context sees it and it has not expired (whatever its state and validity).
    public func memory(id: String) throws -> Memory? {
        try read { session in try session.memoryRecord(id, forWriting: false).map { Memory($0.1) } }
    }

    /// The memories this context sees that pass `filter`, from its tenant and the global one, with the total.
    /// - Complexity: O(m log m) over the memories of the tenant and the global tenant.
    public func memories(_ filter: MemoryFilter = MemoryFilter(), options: ListOptions = ListOptions()) throws -> Page<
        Memory
    > {
        try options.validate()
        return try read { session in
            try options.page(
                try session.visibleMemories(filter),
                value: { $0.record.int(options.order.rawValue) ?? 0 }, id: \.record.id
            ) { candidate in
                Memory(try candidate.graph.memoryNode(candidate.record.node)!)
            }
        }
    }

    /// Deletes every expired memory and conversation of the tenant (conversations with their
    /// messages and traces), and through an administrative context the expired global memories
    /// too. Reads hide expired records already; this frees their space.
    /// - Returns: how many memories and conversations were deleted.
    @discardableResult
    public func purgeExpired() throws -> Int {
        try write { session in
            var purged = 0
            for graph in isAdministrative ? [session.graph, try session.global()] : [session.graph] {
                for node in try graph.nodes(label: "Memory") {
                    if let record = try graph.memoryNode(node), session.isExpired(record) {
                        try session.deleteNode(node, in: graph)
                        purged += 1
                    }
                }
            }
            for node in try session.graph.nodes(label: "Conversation") {
                if let record = try session.graph.memoryNode(node), session.isExpired(record) {
                    try session.deleteConversation(node)
                    purged += 1
                }
            }
            return purged
        }
    }
}

extension MemorySession {
    /// The tenant a memory of `scope` lives in.
    func memoryGraph(_ scope: MemoryScope) throws -> GraphSession {
        scope == .global ? try global() : graph
    }

    /// Whether this context sees a memory (scope rules), ignoring state, validity and expiry.
    func sees(_ record: MemoryNode) -> Bool {
        if context.isAdministrative { return true }
        switch MemoryScope(rawValue: record.string("scope") ?? "") ?? .tenant {
        case .global, .tenant: return true
        case .user: return context.user != nil && record.string("user") == context.user
        case .agent:
            return context.user != nil && record.string("user") == context.user && context.agent != nil
                && record.string("agent") == context.agent
        }
    }

    /// A memory the context sees and that has not expired, with the session of its tenant.
    /// Writing to a global memory needs an administrative context.
    func memoryRecord(_ id: String, forWriting: Bool) throws -> (GraphSession, MemoryNode)? {
        var found: (GraphSession, MemoryNode)?
        if let record = try graph.memoryNode(id: id, label: "Memory") {
            found = (graph, record)
        } else if let record = try global().memoryNode(id: id, label: "Memory") {
            found = (try global(), record)
        }
        guard let (session, record) = found, sees(record), !isExpired(record) else { return nil }
        if forWriting, session !== graph, !context.isAdministrative {
            throw EngramError(
                .notPermitted, "global memory '\(id)' can be changed only through an administrative context")
        }
        return (session, record)
    }

    func storeMemory(_ memory: NewMemory, vector: [Float]?) throws -> Memory {
        try MemoryValidation.content(memory.content, "a memory's content")
        try MemoryValidation.unit(memory.importance, "importance")
        let annotations = try MemoryValidation.annotations(memory.annotations)
        if let ttl = memory.ttl { _ = try MemoryTime.ttlMillis(ttl) }
        var owner: (user: String?, agent: String?) = (nil, nil)
        switch memory.scope {
        case .global:
            guard context.isAdministrative else {
                throw EngramError(
                    .notPermitted, "a global memory can be written only through store.administrativeContext(...)")
            }
        case .tenant: break
        case .user: owner.user = try requireUser("a user-scoped memory")
        case .agent:
            owner.user = try requireUser("an agent-scoped memory")
            guard let agent = context.agent else {
                throw EngramError(.invalidArgument, "an agent-scoped memory needs a context with an agent")
            }
            owner.agent = agent
        }
        try prepareWrite()
        let target = try memoryGraph(memory.scope)
        if memory.scope == .global { try prepareSchema(target) }
        var conversationTTL: TimeInterval?
        if let conversation = memory.conversationID {
            guard let record = try visibleConversation(conversation) else {
                throw EngramError(.notFound, "there is no conversation '\(conversation)' for this context")
            }
            conversationTTL = record.double("ttl")
        }
        let created = memory.createdAt.map(MemoryTime.millis) ?? now
        let ttl = try (memory.ttl ?? conversationTTL ?? context.options.defaultTTL).flatMap(MemoryTime.ttlMillis)
        let record = try target.createMemoryNode(
            id: memory.id, labels: ["Memory"] + (memory.kind.label.map { [$0] } ?? []),
            properties: [
                "content": .string(memory.content), "kind": .string(memory.kind.rawValue),
                "scope": .string(memory.scope.rawValue),
                "state": .string(memory.state.rawValue), "importance": .double(memory.importance),
                "annotations": annotations ?? .null,
                "user": owner.user.map { .string($0) } ?? .null, "agent": owner.agent.map { .string($0) } ?? .null,
                "conversation": memory.conversationID.map { .string($0) } ?? .null, "created_at": .int(created),
                "updated_at": .int(now),
                "ttl": memory.ttl.map { .double($0) } ?? .null, "expires_at": ttl.map { .int(created + $0) } ?? .null,
                "valid_from": .int(memory.validFrom.map(MemoryTime.millis) ?? created),
                "valid_until": memory.validUntil.map { .int(MemoryTime.millis($0)) } ?? .null,
            ])
        try setVector(vector, node: record.node, index: .memories, in: target)
        for entity in memory.mentions {
            guard target === graph else {
                throw EngramError(.invalidArgument, "a global memory cannot mention an entity of a tenant")
            }
            let node = try requireEntity(entity)
            if try !graph.isLinked(record.node, node.node, "MENTIONS") {
                try graph.link(record.node, node.node, "MENTIONS")
            }
        }
        return Memory(record)
    }

    /// The properties a memory read filters and sorts on: everything but the content.
    static let filterKeys = [
        "scope", "user", "agent", "state", "kind", "annotations", "created_at", "updated_at", "expires_at",
        "valid_from", "valid_until", "conversation",
    ]

    /// The memory nodes of `session` this context may see, in id order: in its own tenant, through
    /// the `Memory.scope` and `Memory.user` indexes (the tenant-scoped ones and its user's), unless
    /// it is administrative; every global memory.
    func memoryCandidates(_ session: GraphSession) throws -> [UInt64] {
        if session !== graph || context.isAdministrative { return try session.nodes(label: "Memory") }
        var candidates = Set(
            try session.nodes(
                label: "Memory", property: "scope", equalTo: .string(MemoryScope.tenant.rawValue), normalized: false))
        if let user = context.user {
            candidates.formUnion(
                try session.nodes(label: "Memory", property: "user", equalTo: .string(user), normalized: false))
        }
        return candidates.sorted()
    }

    /// The memories this context sees that pass `filter`, each with the session of its tenant and
    /// only the properties in ``filterKeys`` decoded (no labels, no content).
    func visibleMemories(_ filter: MemoryFilter) throws -> [(graph: GraphSession, record: MemoryNode)] {
        let sessions = [graph, try global()]
        var keys: [UInt32: String] = [:]
        for name in Self.filterKeys {
            if let key = try graph.symbol(.propertyKey, name, create: false) { keys[key] = name }
        }
        var result: [(graph: GraphSession, record: MemoryNode)] = []
        for session in sessions {
            for node in try memoryCandidates(session) {
                guard let record = try session.partialNode(node, keys: keys), passes(record, filter) else { continue }
                result.append((session, record))
            }
        }
        return result
    }

    /// Whether the context sees a memory read with at least the ``filterKeys``, unexpired, and it
    /// passes `filter`.
    func passes(_ record: MemoryNode, _ filter: MemoryFilter) -> Bool {
        guard sees(record), !isExpired(record) else { return false }
        let created = record.int("created_at") ?? 0
        if !filter.states.isEmpty, !filter.states.contains(where: { $0.rawValue == record.string("state") }) {
            return false
        }
        if !filter.kinds.isEmpty, !filter.kinds.contains(where: { $0.rawValue == record.string("kind") }) {
            return false
        }
        if !filter.scopes.isEmpty, !filter.scopes.contains(where: { $0.rawValue == record.string("scope") }) {
            return false
        }
        let annotations = record.stringMap("annotations")
        if !filter.annotations.allSatisfy({ annotations[$0.key] == $0.value }) { return false }
        if let after = filter.createdAfter, created < MemoryTime.millis(after) { return false }
        if let before = filter.createdBefore, created >= MemoryTime.millis(before) { return false }
        if let conversation = filter.conversationID, record.string("conversation") != conversation { return false }
        if filter.includeAllValidity { return true }
        let time = filter.asOf.map(MemoryTime.millis) ?? now
        if filter.asOf != nil, created > time { return false }
        if (record.int("valid_from") ?? created) > time { return false }
        if let until = record.int("valid_until"), until <= time { return false }
        return true
    }
}

/// Counts of the memories a context sees, by kind, state and scope.
public struct MemoryStatistics: Sendable, Hashable {
    /// Every memory the context sees and that has not expired, whatever its state and validity.
    public var total: Int
    /// By kind name (`fact`, `preference`, …, `general`).
    public var byKind: [String: Int]
    /// By state.
    public var byState: [MemoryState: Int]
    /// By scope.
    public var byScope: [MemoryScope: Int]
}

extension MemoryContext {
    /// Counts of the memories this context sees (its tenant's and the global ones), by kind, state and scope.
    /// - Complexity: O(m) over the memories of the tenant and the global tenant.
    public func memoryStatistics() throws -> MemoryStatistics {
        try read { session in
            let records = try session.visibleMemories(MemoryFilter(states: [], includeAllValidity: true))
            var statistics = MemoryStatistics(total: records.count, byKind: [:], byState: [:], byScope: [:])
            for (_, record) in records {
                let memory = Memory(record)
                statistics.byKind[memory.kind.rawValue, default: 0] += 1
                statistics.byState[memory.state, default: 0] += 1
                statistics.byScope[memory.scope, default: 0] += 1
            }
            return statistics
        }
    }
}

extension GraphSession {
    /// A node with only the properties named in `keys` decoded (by key id), and no labels: the
    /// other values are skipped without being decoded.
    func partialNode(_ node: UInt64, keys: [UInt32: String]) throws -> MemoryNode? {
        try withNodeRecord(node) { bytes in
            guard let bytes else { return nil }
            var reader = ValueReader(bytes)
            try GraphRecordCodec.checkVersion(&reader)
            let id = try reader.string()
            let labelCount = try reader.count(of: "labels", minimumSize: 1)
            for _ in 0..<labelCount { _ = try reader.varint() }
            let count = try reader.count(of: "properties", minimumSize: 2)
            var properties: [String: PropertyValue] = [:]
            properties.reserveCapacity(keys.count)
            for _ in 0..<count {
                let key = try GraphRecordCodec.symbol(&reader)
                if let name = keys[key] { properties[name] = try reader.value() } else { try reader.skipValue() }
            }
            return MemoryNode(node: node, id: id, labels: [], properties: properties)
        }
    }
}
