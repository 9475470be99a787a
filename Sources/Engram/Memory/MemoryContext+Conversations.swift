public import EngramCore
public import Foundation

/// A conversation (a session): node `Conversation`, its messages reached by `HAS_MESSAGE`, in
/// order along `FIRST_MESSAGE` and `NEXT_MESSAGE`.
public struct Conversation: Sendable, Hashable {
    /// The conversation's id.
    public var id: String
    /// The user it belongs to.
    public var user: String
    /// The agent that started it, if the context had one.
    public var agent: String?
    /// A title.
    public var title: String?
    /// String annotations (exact-match filters).
    public var annotations: [String: String]
    /// When it started.
    public var createdAt: Date
    /// When it last changed (a message added, ended).
    public var updatedAt: Date
    /// When it ended, if it has.
    public var endedAt: Date?
    /// Its own time to live in seconds (`0` = never); `nil` defers to the store default.
    public var ttl: TimeInterval?
    /// When it expires: its last change plus its TTL; `nil` = never.
    public var expiresAt: Date?
    /// How many messages it has.
    public var messageCount: Int

    init(_ record: MemoryNode) {
        id = record.id
        user = record.string("user") ?? ""
        agent = record.string("agent")
        title = record.string("title")
        annotations = record.stringMap("annotations")
        createdAt = record.date("created_at") ?? Date(timeIntervalSince1970: 0)
        updatedAt = record.date("updated_at") ?? createdAt
        endedAt = record.date("ended_at")
        ttl = record.double("ttl")
        expiresAt = record.date("expires_at")
        messageCount = Int(record.int("message_count") ?? 0)
    }
}

/// Who wrote a message: `user`, `assistant`, `system` or `tool`.
///
/// A role made from another string (``init(rawValue:)``) is refused with `invalidRole` when the
/// message is added.
public struct MessageRole: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The role's name.
    public let rawValue: String
    /// Creates a role from its name; only the four standard names are accepted by the store.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The person talking to the agent.
    public static let user = MessageRole(rawValue: "user")
    /// The agent.
    public static let assistant = MessageRole(rawValue: "assistant")
    /// Instructions to the agent.
    public static let system = MessageRole(rawValue: "system")
    /// A tool's output.
    public static let tool = MessageRole(rawValue: "tool")
    /// The four valid roles.
    public static let all: [MessageRole] = [.user, .assistant, .system, .tool]
    /// The role's name.
    public var description: String { rawValue }
}

/// A message to add to a conversation.
public struct NewMessage: Sendable, Hashable {
    /// The message's id; `nil` generates one.
    public var id: String?
    /// Who wrote it.
    public var role: MessageRole
    /// What it says; must not be empty or blank.
    public var content: String
    /// When it was written; `nil` is now. Raised by 1 ms when not after the conversation's last message.
    public var timestamp: Date?
    /// Free metadata.
    public var metadata: [String: PropertyValue]
    /// Entities the message mentions (`MENTIONS` relationships).
    public var mentions: [String]

    /// Creates a message to add.
    public init(
        id: String? = nil, role: MessageRole, content: String, timestamp: Date? = nil,
        metadata: [String: PropertyValue] = [:], mentions: [String] = []
    ) {
        self.id = id
        self.mentions = mentions
        self.role = role
        self.content = content
        self.timestamp = timestamp
        self.metadata = metadata
    }
}

/// A message of a conversation: node `Message`.
public struct Message: Sendable, Hashable {
    /// The message's id.
    public var id: String
    /// The conversation it belongs to.
    public var conversationID: String
    /// Who wrote it.
    public var role: MessageRole
    /// What it says.
    public var content: String
    /// When it was written; strictly increasing along a conversation.
    public var timestamp: Date
    /// Free metadata.
    public var metadata: [String: PropertyValue]

    init(_ record: MemoryNode) {
        id = record.id
        conversationID = record.string("conversation") ?? ""
        role = MessageRole(rawValue: record.string("role") ?? "")
        content = record.string("content") ?? ""
        timestamp = record.date("timestamp") ?? Date(timeIntervalSince1970: 0)
        metadata = record.map("metadata")
    }
}

enum MemoryValidation {
    static func annotations(_ annotations: [String: String]) throws -> PropertyValue? {
        for key in annotations.keys {
            if key.isEmpty || key.contains(where: { $0 == "-" || $0 == "." || $0.isWhitespace }) {
                throw EngramError(
                    .invalidAnnotationKey, "annotation key '\(key)' must be non-empty, without '-', '.' or spaces")
            }
        }
        return annotations.isEmpty ? nil : .map(annotations.mapValues { .string($0) })
    }

    static func content(_ text: String, _ what: String) throws {
        if text.allSatisfy(\.isWhitespace) { throw EngramError(.emptyContent, "\(what) must not be empty") }
    }

    static func unit(_ value: Double, _ what: String) throws {
        guard value.isFinite, (0...1).contains(value) else {
            throw EngramError(.valueOutOfRange, "\(what) must lie in 0…1, not \(value)")
        }
    }
}

extension MemoryContext {
    /// Starts a conversation of the context's user (and agent).
    /// - Parameters:
    ///   - id: its id; `nil` generates one that sorts by creation time.
    ///   - title: a title.
    ///   - annotations: string annotations; keys without `-`, `.` or spaces.
    ///   - ttl: its time to live in seconds, counted from its last change; `0` = never; `nil` = the store default.
    /// - Throws: `invalidArgument` without a user; `invalidAnnotationKey`; `invalidTTL`; `alreadyExists`.
    @discardableResult
    public func startConversation(
        id: String? = nil, title: String? = nil, annotations: [String: String] = [:], ttl: TimeInterval? = nil
    )
        throws -> Conversation
    {
        try write { session in
            let user = try session.requireUser("a conversation")
            let annotationValue = try MemoryValidation.annotations(annotations)
            let ttlMillis = try (ttl ?? options.defaultTTL).flatMap(MemoryTime.ttlMillis)
            try session.prepareWrite()
            let record = try session.graph.createMemoryNode(
                id: id, labels: ["Conversation"],
                properties: [
                    "user": .string(user), "agent": agent.map { .string($0) } ?? .null,
                    "title": title.map { .string($0) } ?? .null,
                    "annotations": annotationValue ?? .null, "created_at": .int(session.now),
                    "updated_at": .int(session.now),
                    "ttl": ttl.map { .double($0) } ?? .null,
                    "expires_at": ttlMillis.map { .int(session.now + $0) } ?? .null,
                    "message_count": 0,
                ])
            return Conversation(record)
        }
    }

    /// The conversation `id`, or `nil` when it does not exist, has expired, or belongs to another user.
    public func conversation(id: String) throws -> Conversation? {
        try read { session in try session.visibleConversation(id).map(Conversation.init) }
    }

    /// The context's user's conversations (every conversation of the tenant for an administrative
    /// context without a user), with the total.
    /// - Parameter annotations: keep only conversations with all these annotations.
    /// - Complexity: O(c log c) for the user's c conversations (an index lookup, then a sort).
    public func conversations(annotations: [String: String] = [:], options: ListOptions = ListOptions()) throws -> Page<
        Conversation
    > {
        try options.validate()
        return try read { session in
            let nodes: [UInt64]
            if let user {
                nodes = try session.graph.nodes(
                    label: "Conversation", property: "user", equalTo: .string(user), normalized: false)
            } else if isAdministrative {
                nodes = try session.graph.nodes(label: "Conversation")
            } else {
                nodes = []
            }
            let records = try nodes.compactMap { try session.graph.memoryNode($0) }.filter { record in
                !session.isExpired(record)
                    && annotations.allSatisfy { record.stringMap("annotations")[$0.key] == $0.value }
            }
            return try options.page(records, Conversation.init)
        }
    }

    /// Adds one message to a conversation.
    /// - Throws: `notFound` for an unknown, expired or foreign conversation; `conversationEnded`;
    ///   `invalidRole`; `emptyContent`.
    @discardableResult
    public func addMessage(
        to conversation: String, role: MessageRole, content: String, timestamp: Date? = nil,
        metadata: [String: PropertyValue] = [:],
        id: String? = nil
    ) async throws -> Message {
        try await addMessages(
            [NewMessage(id: id, role: role, content: content, timestamp: timestamp, metadata: metadata)],
            to: conversation)[0]
    }

    /// Adds messages to a conversation in one transaction: all of them or, on any bad one, none.
    /// With an embedder, `"<role>: <content>"` of each is embedded in one batch before the
    /// transaction opens.
    /// - Returns: the messages as stored, in order.
    /// - Throws: as ``addMessage(to:role:content:timestamp:metadata:id:)``, or what the embedder throws.
    @discardableResult
    public func addMessages(_ messages: [NewMessage], to conversation: String) async throws -> [Message] {
        for message in messages {
            guard MessageRole.all.contains(message.role) else {
                throw EngramError(.invalidRole, "'\(message.role)' is not a role; use user, assistant, system or tool")
            }
            try MemoryValidation.content(message.content, "a message's content")
        }
        let vectors = try await embed(messages.map { MemoryText.message(role: $0.role.rawValue, content: $0.content) })
        return try write { session in
            guard var record = try session.visibleConversation(conversation) else {
                throw EngramError(.notFound, "there is no conversation '\(conversation)' for this context")
            }
            if record.int("ended_at") != nil {
                throw EngramError(.conversationEnded, "conversation '\(conversation)' has ended; start a new one")
            }
            if messages.isEmpty { return [] }
            try session.prepareWrite()
            var last = try record.string("last_message").flatMap { try session.graph.nodeID($0) }
            var lastTimestamp = record.int("last_message_at") ?? Int64.min
            var stored: [Message] = []
            for (position, message) in messages.enumerated() {
                let timestamp = max(
                    message.timestamp.map(MemoryTime.millis) ?? session.now,
                    lastTimestamp == .min ? .min : lastTimestamp + 1)
                let node = try session.graph.createMemoryNode(
                    id: message.id, labels: ["Message"],
                    properties: [
                        "conversation": .string(record.id), "role": .string(message.role.rawValue),
                        "content": .string(message.content),
                        "timestamp": .int(timestamp),
                        "metadata": message.metadata.isEmpty ? .null : .map(message.metadata),
                    ])
                try session.graph.link(record.node, node.node, "HAS_MESSAGE")
                try session.setVector(vectors?[position], node: node.node, index: .messages, in: session.graph)
                for entity in Set(message.mentions) {
                    try session.graph.link(node.node, try session.requireEntity(entity).node, "MENTIONS")
                }
                if let last {
                    try session.graph.link(last, node.node, "NEXT_MESSAGE")
                } else {
                    try session.graph.link(record.node, node.node, "FIRST_MESSAGE")
                }
                last = node.node
                lastTimestamp = timestamp
                stored.append(Message(node))
            }
            if let final = stored.last {
                record["last_message"] = .string(final.id)
                record["last_message_at"] = .int(lastTimestamp)
            }
            record["message_count"] = .int((record.int("message_count") ?? 0) + Int64(messages.count))
            session.touch(&record)
            try session.graph.save(record)
            return stored
        }
    }

    /// A conversation's messages in order (by timestamp), with the total.
    /// - Throws: `notFound` for an unknown, expired or foreign conversation; `invalidArgument` for bad options.
    public func messages(in conversation: String, options: ListOptions = ListOptions()) throws -> Page<Message> {
        try options.validate()
        return try read { session in
            guard let record = try session.visibleConversation(conversation) else {
                throw EngramError(.notFound, "there is no conversation '\(conversation)' for this context")
            }
            let messages = try session.graph.related(record.node, "HAS_MESSAGE", .outgoing).compactMap {
                try session.graph.memoryNode($0)
            }
            var byTime = options
            byTime.order = .createdAt
            return try byTime.page(messages, Message.init)
        }
    }

    /// Ends a conversation: no message can be added after.
    /// - Throws: `notFound` for an unknown, expired or foreign conversation.
    @discardableResult
    public func endConversation(id: String) throws -> Conversation {
        try write { session in
            guard var record = try session.visibleConversation(id) else {
                throw EngramError(.notFound, "there is no conversation '\(id)' for this context")
            }
            if record.int("ended_at") == nil { record["ended_at"] = .int(session.now) }
            session.touch(&record)
            try session.graph.save(record)
            return Conversation(record)
        }
    }

    /// Deletes a conversation with its messages and its reasoning traces (steps and tool calls).
    /// Memories drawn from it stay.
    /// - Throws: `notFound` for an unknown or foreign conversation.
    public func deleteConversation(id: String) throws {
        try write { session in
            guard let record = try session.graph.memoryNode(id: id, label: "Conversation"), session.owns(record) else {
                throw EngramError(.notFound, "there is no conversation '\(id)' for this context")
            }
            try session.deleteConversation(record.node)
        }
    }
}

extension MemorySession {
    /// A conversation the context may see, not expired.
    func visibleConversation(_ id: String) throws -> MemoryNode? {
        guard let record = try graph.memoryNode(id: id, label: "Conversation"), owns(record), !isExpired(record) else {
            return nil
        }
        return record
    }

    /// Sets `updated_at` to now and slides the expiry of a conversation.
    func touch(_ record: inout MemoryNode) {
        record["updated_at"] = .int(max(now, record.int("updated_at") ?? now))
        if record.labels.contains("Conversation") {
            let ttl = record.double("ttl") ?? context.options.defaultTTL
            if let ttl, ttl > 0 { record["expires_at"] = .int(record.int("updated_at")! + Int64(ttl * 1000)) }
        }
    }

    func deleteConversation(_ node: UInt64) throws {
        for message in try graph.related(node, "HAS_MESSAGE", .outgoing) { try deleteNode(message, in: graph) }
        for trace in try graph.related(node, "HAS_TRACE", .outgoing) { try deleteTrace(trace) }
        try graph.deleteNode(node, detach: true)
    }

    func deleteTrace(_ node: UInt64) throws {
        for step in try graph.related(node, "HAS_STEP", .outgoing) {
            for call in try graph.related(step, "USED_TOOL", .outgoing) { try graph.deleteNode(call, detach: true) }
            try graph.deleteNode(step, detach: true)
        }
        try graph.deleteNode(node, detach: true)
    }
}

extension MemoryContext {
    /// Changes a conversation's title, annotations or TTL; `nil` arguments keep the current values.
    /// - Parameter ttl: seconds from the last change; `0` = never.
    /// - Throws: `notFound`; `invalidAnnotationKey`; `invalidTTL`.
    @discardableResult
    public func updateConversation(
        id: String, title: String? = nil, annotations: [String: String]? = nil, ttl: TimeInterval? = nil
    ) throws -> Conversation {
        let annotationValue = try annotations.map(MemoryValidation.annotations)
        if let ttl { _ = try MemoryTime.ttlMillis(ttl) }
        return try write { session in
            guard var record = try session.visibleConversation(id) else {
                throw EngramError(.notFound, "there is no conversation '\(id)' for this context")
            }
            if let title { record["title"] = .string(title) }
            if let annotationValue { record["annotations"] = annotationValue ?? .null }
            if let ttl {
                record["ttl"] = .double(ttl)
                if ttl == 0 { record["expires_at"] = nil }
            }
            session.touch(&record)
            try session.graph.save(record)
            return Conversation(record)
        }
    }

    /// The message `id`, or `nil` when it does not exist or its conversation is not visible.
    public func message(id: String) throws -> Message? {
        try read { session in try session.visibleMessage(id).map { Message($0.message) } }
    }

    /// Changes a message's content or metadata; `nil` arguments keep the current values.
    /// - Throws: `notFound`; `emptyContent`.
    @discardableResult
    public func updateMessage(id: String, content: String? = nil, metadata: [String: PropertyValue]? = nil)
        async throws -> Message
    {
        if let content { try MemoryValidation.content(content, "a message's content") }
        return try await writeEmbedded(prepare: {
            guard let content, let role = try message(id: id)?.role else { return [] }
            return [MemoryText.message(role: role.rawValue, content: content)]
        }) { session, texts, vectors in
            guard var (message, conversation) = try session.visibleMessage(id) else {
                throw EngramError(.notFound, "there is no message '\(id)' for this context")
            }
            if let content {
                message["content"] = .string(content)
                guard texts == [MemoryText.message(role: message.string("role") ?? "", content: content)] else {
                    throw StaleEmbedding()
                }
                try session.setVector(vectors?[0], node: message.node, index: .messages, in: session.graph)
            }
            if let metadata { message["metadata"] = metadata.isEmpty ? .null : .map(metadata) }
            try session.graph.save(message)
            session.touch(&conversation)
            try session.graph.save(conversation)
            return Message(message)
        }
    }

    /// Deletes one message; the `FIRST_MESSAGE` / `NEXT_MESSAGE` chain is joined around it.
    /// - Throws: `notFound`.
    public func deleteMessage(id: String) throws {
        try write { session in
            guard let (message, found) = try session.visibleMessage(id) else {
                throw EngramError(.notFound, "there is no message '\(id)' for this context")
            }
            var conversation = found
            let graph = session.graph
            let previous = try graph.related(message.node, "NEXT_MESSAGE", .incoming).first
            let next = try graph.related(message.node, "NEXT_MESSAGE", .outgoing).first
            try session.deleteNode(message.node, in: graph)
            if let next {
                if let previous {
                    try graph.link(previous, next, "NEXT_MESSAGE")
                } else {
                    try graph.link(conversation.node, next, "FIRST_MESSAGE")
                }
            }
            if next == nil {
                if let previous, let record = try graph.memoryNode(previous) {
                    conversation["last_message"] = .string(record.id)
                    conversation["last_message_at"] = record["timestamp"]
                } else {
                    conversation["last_message"] = nil
                    conversation["last_message_at"] = nil
                }
            }
            conversation["message_count"] = .int(max(0, (conversation.int("message_count") ?? 1) - 1))
            session.touch(&conversation)
            try graph.save(conversation)
        }
    }
}

extension MemorySession {
    /// A message whose conversation the context sees, with that conversation.
    func visibleMessage(_ id: String) throws -> (message: MemoryNode, conversation: MemoryNode)? {
        guard let message = try graph.memoryNode(id: id, label: "Message"),
            let conversation = try visibleConversation(message.string("conversation") ?? "")
        else { return nil }
        return (message, conversation)
    }
}
