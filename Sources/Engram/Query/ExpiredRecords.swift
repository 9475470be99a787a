import EngramCore
import Foundation

/// Which nodes a Cypher query must not see because they have expired (SPEC §4: expired memories,
/// conversations and their messages vanish from every read at once, before `purgeExpired()`
/// deletes them).
///
/// A `Memory` or `Conversation` node is expired when its `expires_at` (milliseconds since 1970) is
/// at or before the query's time, taken once per query; a `Message` is expired with the
/// conversation named by its `conversation` property, a `ReasoningTrace` likewise, and a
/// `ReasoningStep` or `ToolCall` with the trace named by its `trace` property. The answer needs one record read per node
/// the query touches, kept for the rest of the query. A tenant without memories and conversations,
/// or in which no record ever had an `expires_at`, has nothing to hide, and ``make(session:now:)``
/// returns `nil` so that such graphs pay nothing.
final class ExpiredRecords {
    private let session: GraphSession
    private let now: Int64
    private let memory: UInt32?
    private let conversation: UInt32?
    private let message: UInt32?
    private let expiresAt: UInt32
    private let conversationKey: UInt32?
    private let trace: UInt32?
    private let step: UInt32?
    private let toolCall: UInt32?
    private let traceKey: UInt32?
    /// Nodes already decided during this query.
    private var known: [UInt64: Bool] = [:]

    /// The filter of one query over `session`'s tenant at time `now`, or `nil` when nothing in the
    /// tenant can expire.
    static func make(session: GraphSession, now: Date) throws -> ExpiredRecords? {
        guard let expiresAt = try session.symbol(.propertyKey, "expires_at", create: false) else { return nil }
        let memory = try session.symbol(.label, "Memory", create: false)
        let conversation = try session.symbol(.label, "Conversation", create: false)
        let memories = try memory.map { try session.count(.label, $0) } ?? 0
        let conversations = try conversation.map { try session.count(.label, $0) } ?? 0
        guard memories + conversations > 0 else { return nil }
        return ExpiredRecords(
            session: session, now: MemoryTime.millis(now), memory: memory, conversation: conversation,
            message: try session.symbol(.label, "Message", create: false), expiresAt: expiresAt,
            conversationKey: try session.symbol(.propertyKey, "conversation", create: false),
            trace: try session.symbol(.label, "ReasoningTrace", create: false),
            step: try session.symbol(.label, "ReasoningStep", create: false),
            toolCall: try session.symbol(.label, "ToolCall", create: false),
            traceKey: try session.symbol(.propertyKey, "trace", create: false))
    }

    private init(
        session: GraphSession, now: Int64, memory: UInt32?, conversation: UInt32?, message: UInt32?,
        expiresAt: UInt32, conversationKey: UInt32?, trace: UInt32?, step: UInt32?, toolCall: UInt32?,
        traceKey: UInt32?
    ) {
        self.session = session
        self.now = now
        self.memory = memory
        self.conversation = conversation
        self.message = message
        self.expiresAt = expiresAt
        self.conversationKey = conversationKey
        self.trace = trace
        self.step = step
        self.toolCall = toolCall
        self.traceKey = traceKey
    }

    /// Whether `node` has expired (a missing node is not "expired": callers check existence).
    func isExpired(_ node: UInt64) throws -> Bool {
        if let answer = known[node] { return answer }
        enum Verdict {
            case expired(Bool)
            case belongsTo(String)
        }
        let verdict: Verdict = try session.withNodeRecord(node) { bytes in
            guard let bytes else { return .expired(false) }
            let labels = try StoredNode.labels(bytes)
            if labels.contains(where: { $0 == memory || $0 == conversation }) {
                guard case .int(let expires) = try StoredNode.property(expiresAt, in: bytes) else { return .expired(false) }
                return .expired(expires <= now)
            }
            if let conversationKey, labels.contains(where: { $0 == message || $0 == trace }),
                case .string(let owner) = try StoredNode.property(conversationKey, in: bytes)
            {
                return .belongsTo(owner)
            }
            if let traceKey, labels.contains(where: { $0 == step || $0 == toolCall }),
                case .string(let owner) = try StoredNode.property(traceKey, in: bytes)
            {
                return .belongsTo(owner)
            }
            return .expired(false)
        }
        let answer: Bool
        switch verdict {
        case .expired(let expired): answer = expired
        case .belongsTo(let owner):
            known[node] = false  // a malformed cycle of messages ends here
            answer = try session.nodeID(owner).map(isExpired) ?? false
        }
        known[node] = answer
        return answer
    }
}
