public import EngramCore
import EngramStorage
public import Foundation

/// Who is asking: a tenant, and optionally a user and an agent inside it. Every call of the agent
/// memory API goes through a context.
///
/// A context is a small `Sendable` value: make one per request, or keep one per agent. It holds no
/// transaction; each call runs in its own transaction and is all or nothing.
///
/// ```swift
/// let store = try EngramStore(path: "memory.engram")
/// let memory = store.context(tenant: "acme", user: "alice", agent: "planner")
/// let chat = try memory.startConversation(title: "Trip to Lisbon")
/// try memory.addMessage(to: chat.id, role: .user, content: "I prefer window seats.")
/// try memory.remember(NewMemory("Alice prefers window seats", kind: .preference, scope: .user))
/// ```
///
/// Users and agents are created on the first write made in their name (nodes `User` and `Agent`
/// of the tenant) and are listed by ``users(_:)`` and ``agents(_:)``.
///
/// Visibility: a memory of scope ``MemoryScope/agent`` is seen by contexts with the same user and
/// agent; ``MemoryScope/user`` by every context of that user; ``MemoryScope/tenant`` by every
/// context of the tenant; ``MemoryScope/global`` by every context of every tenant. Conversations
/// and reasoning traces belong to their user. An administrative context
/// (``EngramStore/administrativeContext(tenant:user:agent:options:)``) sees everything of its
/// tenant and is the only one that may write global memories. See `docs/memory-model.md`.
///
/// ## Topics
/// ### Making contexts
/// - ``EngramStore/context(tenant:user:agent:options:)``
/// - ``EngramStore/administrativeContext(tenant:user:agent:options:)``
/// - ``MemoryOptions``
/// ### Users and agents
/// - ``users(_:)``
/// - ``agents(_:)``
/// - ``deleteUser(_:)``
/// - ``deleteAgent(_:)``
public struct MemoryContext: Sendable {
    /// The tenant every record of this context belongs to.
    public let tenant: String
    /// The user the context acts for, if any.
    public let user: String?
    /// The agent the context acts as, if any.
    public let agent: String?
    /// Whether this is an administrative context: it sees all of its tenant and may write global memories.
    public let isAdministrative: Bool
    /// The clock and default time to live.
    public let options: MemoryOptions
    let store: EngramStore

    /// The reserved tenant that holds global memories.
    static let globalTenant = "_global"

    init(
        store: EngramStore, tenant: String, user: String?, agent: String?, administrative: Bool, options: MemoryOptions
    ) {
        self.store = store
        self.tenant = tenant
        self.user = user
        self.agent = agent
        self.isAdministrative = administrative
        self.options = options
    }

    func validate() throws {
        guard tenant != Self.globalTenant else {
            throw EngramError(.invalidName, "tenant '\(Self.globalTenant)' is reserved for global memories")
        }
        guard !tenant.isEmpty, tenant.utf8.count <= 200 else {
            throw EngramError(.invalidName, "a tenant name must have 1 to 200 bytes")
        }
        for (what, name) in [("user", user), ("agent", agent)] {
            if let name, name.isEmpty || name.utf8.count > 200 {
                throw EngramError(.invalidName, "a \(what) name must have 1 to 200 bytes")
            }
        }
    }

    // MARK: Transactions

    func read<T>(_ body: (MemorySession) throws -> T) throws -> T {
        try validate()
        let (result, learned) = try store.environment.read { txn in
            let session = try MemorySession(context: self, txn: txn)
            return (try body(session), session.learned)
        }
        store.catalog.absorb(learned)
        return result
    }

    func write<T>(_ body: (MemorySession) throws -> T) throws -> T {
        try validate()
        var sessions: [MemorySession] = []  // one per run of `body` (LMDB may run it again)
        let result: T
        let learned: GraphCatalog.Names
        do {
            (result, learned) = try store.environment.write { txn in
                let session = try MemorySession(context: self, txn: txn)
                sessions.append(session)
                return (try body(session), session.learned)
            }
        } catch {
            store.settleVectors(sessions.flatMap(\.vectorSessions), committed: nil)
            throw error
        }
        store.catalog.absorb(learned)  // only now: the symbols it created are committed
        store.settleVectors(sessions.flatMap(\.vectorSessions), committed: sessions.last?.vectorSessions)
        return result
    }
}

/// The clock and time-to-live default of a ``MemoryContext``.
public struct MemoryOptions: Sendable {
    /// The store-level time to live of memories and conversations, in seconds; `nil` or `0` means
    /// they never expire. A memory's own TTL overrides its conversation's, which overrides this one.
    public var defaultTTL: TimeInterval?
    /// The clock every timestamp and every expiry check reads; inject a fixed or stepping clock in tests.
    public var clock: @Sendable () -> Date
    /// The thresholds and limits of entity resolution (see `docs/entity-resolution.md`).
    public var resolution = ResolutionOptions()

    /// Options with the system clock and no default expiry.
    public init(defaultTTL: TimeInterval? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.defaultTTL = defaultTTL
        self.clock = clock
    }
}

extension EngramStore {
    /// A context for the agent memory API.
    ///
    /// - Parameters:
    ///   - tenant: the tenant (`"default"` unless given); `_global` is reserved.
    ///   - user: the user the calls act for; needed for conversations, traces and user- or
    ///     agent-scoped memories.
    ///   - agent: the agent the calls act as; needed for agent-scoped memories.
    ///   - options: the clock and the store-level default TTL.
    /// - Returns: a context; nothing is written until the first write through it.
    public func context(
        tenant: String = "default", user: String? = nil, agent: String? = nil, options: MemoryOptions = MemoryOptions()
    )
        -> MemoryContext
    {
        MemoryContext(store: self, tenant: tenant, user: user, agent: agent, administrative: false, options: options)
    }

    /// An administrative context: sees every record of its tenant whatever its user, may delete
    /// any user or agent, and is the only kind of context that may write ``MemoryScope/global``
    /// memories.
    public func administrativeContext(
        tenant: String = "default", user: String? = nil, agent: String? = nil, options: MemoryOptions = MemoryOptions()
    ) -> MemoryContext {
        MemoryContext(store: self, tenant: tenant, user: user, agent: agent, administrative: true, options: options)
    }
}

/// A node read for the memory layer: its internal id, public id, labels and properties.
struct MemoryNode {
    var node: UInt64
    var id: String
    var labels: [String]
    var properties: [String: PropertyValue]

    subscript(key: String) -> PropertyValue? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    func string(_ key: String) -> String? { properties[key]?.stringValue }
    func int(_ key: String) -> Int64? { properties[key]?.intValue }
    func double(_ key: String) -> Double? { properties[key]?.doubleValue }
    func date(_ key: String) -> Date? { properties[key]?.intValue.map(MemoryTime.date) }
    func map(_ key: String) -> [String: PropertyValue] { properties[key]?.mapValue ?? [:] }
    func stringMap(_ key: String) -> [String: String] {
        (properties[key]?.mapValue ?? [:]).compactMapValues(\.stringValue)
    }
    func strings(_ key: String) -> [String] { (properties[key]?.listValue ?? []).compactMap(\.stringValue) }
}

/// Conversions between `Date` and the stored form of times: integer milliseconds since 1970.
enum MemoryTime {
    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// Milliseconds of a TTL in seconds, `nil` for "never" (0); throws on a negative or non-finite TTL.
    static func ttlMillis(_ ttl: TimeInterval) throws -> Int64? {
        guard ttl.isFinite, ttl >= 0 else {
            throw EngramError(
                .invalidTTL, "a time to live must be 0 (never) or a positive number of seconds, not \(ttl)")
        }
        return ttl == 0 ? nil : Int64(ttl * 1000)
    }
}

extension GraphSession {
    func memoryNode(_ node: UInt64) throws -> MemoryNode? {
        guard let stored = try storedNode(node) else { return nil }
        return MemoryNode(
            node: node, id: stored.publicID, labels: try stored.labels.map { try name(.label, $0) },
            properties: try properties(stored.properties))
    }

    /// The node with public id `id`, if it has `label`.
    func memoryNode(id: String, label: String) throws -> MemoryNode? {
        guard let node = try nodeID(id), let record = try memoryNode(node), record.labels.contains(label) else {
            return nil
        }
        return record
    }

    @discardableResult
    func createMemoryNode(id: String?, labels: [String], properties: [String: PropertyValue]) throws -> MemoryNode {
        let node = try createNode(publicID: id, labels: labels, properties: properties)
        return MemoryNode(
            node: node, id: try storedNodePublicID(node)!, labels: labels,
            properties: properties.filter { !$0.value.isNull })
    }

    func save(_ record: MemoryNode) throws {
        var labelIDs: [UInt32] = []
        for label in record.labels {
            let labelID = try symbol(.label, label, create: true)!
            if !labelIDs.contains(labelID) { labelIDs.append(labelID) }
        }
        try replaceNode(
            record.node,
            with: StoredNode(publicID: record.id, labels: labelIDs, properties: try storedProperties(record.properties))
        )
    }

    /// The nodes at the other end of `node`'s relationships of `type` in `direction`, in key order.
    func related(_ node: UInt64, _ type: String, _ direction: GraphDirection) throws -> [UInt64] {
        guard let typeID = try symbol(.relationshipType, type, create: false) else { return [] }
        var result: [UInt64] = []
        try forEachRelationship(of: node, direction: direction, types: [typeID]) { _, _, start, end in
            result.append(start == node ? end : start)
            return true
        }
        return result
    }

    /// Whether a relationship of `type` runs from `start` to `end`.
    func isLinked(_ start: UInt64, _ end: UInt64, _ type: String) throws -> Bool {
        guard let typeID = try symbol(.relationshipType, type, create: false) else { return false }
        var found = false
        try forEachRelationship(from: start, to: end, types: [typeID]) { _, _ in
            found = true
            return false
        }
        return found
    }

    func link(_ start: UInt64, _ end: UInt64, _ type: String, _ properties: [String: PropertyValue] = [:]) throws {
        _ = try createRelationship(publicID: nil, type: type, start: start, end: end, properties: properties)
    }

    /// The ids of nodes with `label`, in creation order.
    func nodes(label: String) throws -> [UInt64] {
        guard let labelID = try symbol(.label, label, create: false) else { return [] }
        var result: [UInt64] = []
        try forEachNode(label: labelID) {
            result.append($0); return true
        }
        return result
    }
}

/// The memory layer's view of one call: the context's tenant and, when needed, the global tenant,
/// inside one transaction, with the time of the call read once from the context's clock.
final class MemorySession {
    let context: MemoryContext
    let txn: Transaction
    let graph: GraphSession
    /// The time of the call, in milliseconds since 1970.
    let now: Int64
    private var globalGraph: GraphSession?
    private var schemaReady = false
    /// The vector sessions of the tenants this call wrote vectors to (see MemoryContext+Vectors.swift).
    var vectorSessions: [VectorSession] = []

    init(context: MemoryContext, txn: Transaction) throws {
        self.context = context
        self.txn = txn
        graph = try GraphSession(txn: txn, catalog: context.store.catalog, tenant: context.tenant)
        now = MemoryTime.millis(context.options.clock())
    }

    /// The session of the reserved global tenant.
    func global() throws -> GraphSession {
        if let globalGraph { return globalGraph }
        let session = try GraphSession(txn: txn, catalog: context.store.catalog, tenant: MemoryContext.globalTenant)
        globalGraph = session
        return session
    }

    var learned: GraphCatalog.Names {
        var names = graph.learned
        if let globalGraph { names.merge(globalGraph.learned) }
        return names
    }

    /// The property indexes the memory layer relies on, declared on the tenant's first memory write.
    static let indexes: [(label: String, property: String, normalized: Bool)] = [
        ("Conversation", "user", false), ("Entity", "name", true), ("Alias", "name", true), ("Memory", "user", false),
        ("Memory", "scope", false),
    ]

    func prepareSchema(_ session: GraphSession) throws {
        for index in Self.indexes {
            let labelID = try session.symbol(.label, index.label, create: true)!
            let keyID = try session.symbol(.propertyKey, index.property, create: true)!
            if try session.indexDefinition(label: labelID, key: keyID) == nil {
                try session.declareIndex(label: index.label, property: index.property, normalized: index.normalized)
            }
        }
    }

    /// Makes the tenant ready for a write: its indexes and the context's user and agent nodes.
    func prepareWrite() throws {
        guard !schemaReady else { return }
        schemaReady = true
        try prepareSchema(graph)
        let created = MemoryNode.timeValue(now)
        if let user = context.user, try graph.nodeID(Self.userID(user)) == nil {
            try graph.createMemoryNode(
                id: Self.userID(user), labels: ["User"], properties: ["name": .string(user), "created_at": created])
        }
        if let agent = context.agent, try graph.nodeID(Self.agentID(agent)) == nil {
            try graph.createMemoryNode(
                id: Self.agentID(agent), labels: ["Agent"], properties: ["name": .string(agent), "created_at": created])
        }
    }

    static func userID(_ name: String) -> String { "user:" + name }
    static func agentID(_ name: String) -> String { "agent:" + name }

    func requireUser(_ what: String) throws -> String {
        guard let user = context.user else {
            throw EngramError(
                .invalidArgument, "\(what) needs a context with a user: store.context(tenant:user:agent:)")
        }
        return user
    }

    /// Whether the context may see a record owned by `user` (conversations, traces).
    func owns(_ record: MemoryNode) -> Bool {
        context.isAdministrative || record.string("user") == context.user
    }

    /// Whether a record has expired by now.
    func isExpired(_ record: MemoryNode) -> Bool {
        guard let expires = record.int("expires_at") else { return false }
        return expires <= now
    }
}

extension MemoryNode {
    static func timeValue(_ millis: Int64) -> PropertyValue { .int(millis) }
}

// MARK: Users and agents

/// A user or an agent known to a tenant.
public struct MemoryParticipant: Sendable, Hashable {
    /// The user's or agent's name, as given to ``EngramStore/context(tenant:user:agent:options:)``.
    public var name: String
    /// Free attributes.
    public var attributes: [String: PropertyValue]
    /// When the first write in its name happened.
    public var createdAt: Date

    init(_ record: MemoryNode) {
        name = record.string("name") ?? record.id
        attributes = record.map("attributes")
        createdAt = record.date("created_at") ?? Date(timeIntervalSince1970: 0)
    }
}

extension MemoryContext {
    /// The tenant's users, in order of creation, with the total.
    /// - Throws: `invalidArgument` for bad list options.
    public func users(_ options: ListOptions = ListOptions()) throws -> Page<MemoryParticipant> {
        try participants("User", options)
    }

    /// The tenant's agents, in order of creation, with the total.
    /// - Throws: `invalidArgument` for bad list options.
    public func agents(_ options: ListOptions = ListOptions()) throws -> Page<MemoryParticipant> {
        try participants("Agent", options)
    }

    private func participants(_ label: String, _ options: ListOptions) throws -> Page<MemoryParticipant> {
        try options.validate()
        return try read { session in
            let records = try session.graph.nodes(label: label).compactMap { try session.graph.memoryNode($0) }
            return try options.page(records, MemoryParticipant.init)
        }
    }
}

extension MemoryContext {
    /// The user `name` of the tenant, or `nil` before any write in their name.
    public func user(named name: String) throws -> MemoryParticipant? {
        try read { session in
            try session.graph.memoryNode(id: MemorySession.userID(name), label: "User").map(MemoryParticipant.init)
        }
    }

    /// The agent `name` of the tenant, or `nil` before any write in its name.
    public func agent(named name: String) throws -> MemoryParticipant? {
        try read { session in
            try session.graph.memoryNode(id: MemorySession.agentID(name), label: "Agent").map(MemoryParticipant.init)
        }
    }

    /// Sets the context's user's attributes (creating the user when needed).
    /// - Throws: `invalidArgument` for a context without a user.
    @discardableResult
    public func setUserAttributes(_ attributes: [String: PropertyValue]) throws -> MemoryParticipant {
        try write { session in
            let user = try session.requireUser("setting user attributes")
            try session.prepareWrite()
            var record = try session.graph.memoryNode(id: MemorySession.userID(user), label: "User")!
            record["attributes"] = attributes.isEmpty ? .null : .map(attributes)
            try session.graph.save(record)
            return MemoryParticipant(record)
        }
    }

    /// Sets the context's agent's attributes (creating the agent when needed).
    /// - Throws: `invalidArgument` for a context without an agent.
    @discardableResult
    public func setAgentAttributes(_ attributes: [String: PropertyValue]) throws -> MemoryParticipant {
        try write { session in
            guard let agent else {
                throw EngramError(.invalidArgument, "setting agent attributes needs a context with an agent")
            }
            try session.prepareWrite()
            var record = try session.graph.memoryNode(id: MemorySession.agentID(agent), label: "Agent")!
            record["attributes"] = attributes.isEmpty ? .null : .map(attributes)
            try session.graph.save(record)
            return MemoryParticipant(record)
        }
    }
}

extension MemoryContext {
    /// Runs `body` on a dispatch queue and resumes the caller when it returns, so that memory calls
    /// made from async code never occupy one of Swift's cooperative threads while they wait for the
    /// writer lock or read.
    ///
    /// ```swift
    /// let page = try await memory.perform { try $0.memories(MemoryFilter(kinds: [.preference])) }
    /// ```
    ///
    /// Each call inside `body` is still its own transaction.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (MemoryContext) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }
}
