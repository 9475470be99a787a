public import EngramCore
public import Foundation

/// How a tool call went.
public enum ToolCallStatus: String, Sendable, Hashable, CaseIterable {
    /// It returned a result.
    case success
    /// It failed.
    case failure
    /// It ran out of time.
    case timeout
}

/// A tool call of a reasoning step: node `ToolCall`, reached by `USED_TOOL`.
public struct ToolCall: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// The tool's name.
    public var tool: String
    /// The arguments, as JSON text.
    public var arguments: String
    /// The result, as text.
    public var result: String?
    /// How it went.
    public var status: ToolCallStatus
    /// How long it took, in milliseconds.
    public var durationMs: Double
    /// The error, when it failed.
    public var error: String?
    /// When it was recorded.
    public var timestamp: Date

    init(_ record: MemoryNode) {
        id = record.id
        tool = record.string("tool") ?? ""
        arguments = record.string("arguments") ?? "{}"
        result = record.string("result")
        status = ToolCallStatus(rawValue: record.string("status") ?? "") ?? .failure
        durationMs = record.double("duration_ms") ?? 0
        error = record.string("error")
        timestamp = record.date("timestamp") ?? Date(timeIntervalSince1970: 0)
    }
}

/// A step of a reasoning trace: node `ReasoningStep`, reached by `HAS_STEP`, chained by `NEXT_STEP`.
public struct ReasoningStep: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// Its position in the trace, from 0.
    public var index: Int
    /// What the agent thought.
    public var thought: String?
    /// What it did.
    public var action: String?
    /// What it saw.
    public var observation: String?
    /// When it was recorded.
    public var timestamp: Date
    /// The tools it called, in order.
    public var toolCalls: [ToolCall]

    init(_ record: MemoryNode, toolCalls: [ToolCall]) {
        id = record.id
        index = Int(record.int("index") ?? 0)
        thought = record.string("thought")
        action = record.string("action")
        observation = record.string("observation")
        timestamp = record.date("timestamp") ?? Date(timeIntervalSince1970: 0)
        self.toolCalls = toolCalls
    }
}

/// A reasoning trace: node `ReasoningTrace`, linked from its conversation by `HAS_TRACE`.
public struct ReasoningTrace: Sendable, Hashable {
    /// Its id.
    public var id: String
    /// The task it worked on.
    public var task: String
    /// The conversation it belongs to.
    public var conversationID: String?
    /// The user it ran for.
    public var user: String?
    /// The agent that ran it.
    public var agent: String?
    /// How it ended.
    public var outcome: String?
    /// Whether it succeeded; `nil` while running.
    public var success: Bool?
    /// When it started.
    public var startedAt: Date
    /// When it completed.
    public var completedAt: Date?
    /// Free metadata.
    public var metadata: [String: PropertyValue]
    /// Its steps in order (filled by ``MemoryContext/trace(id:)``; empty in lists).
    public var steps: [ReasoningStep]

    init(_ record: MemoryNode, steps: [ReasoningStep] = []) {
        id = record.id
        task = record.string("task") ?? ""
        conversationID = record.string("conversation")
        user = record.string("user")
        agent = record.string("agent")
        outcome = record.string("outcome")
        success = record["success"]?.boolValue
        startedAt = record.date("started_at") ?? Date(timeIntervalSince1970: 0)
        completedAt = record.date("completed_at")
        metadata = record.map("metadata")
        self.steps = steps
    }
}

/// Calls, success rate and mean duration of one tool.
public struct ToolStatistics: Sendable, Hashable {
    /// The tool's name.
    public var tool: String
    /// How many calls were recorded.
    public var calls: Int
    /// How many succeeded.
    public var successes: Int
    /// `successes / calls`.
    public var successRate: Double
    /// The mean duration, in milliseconds.
    public var meanDurationMs: Double
}

extension MemoryContext {
    /// Starts a reasoning trace for the context's user and agent.
    /// - Parameter conversation: the conversation it belongs to (`HAS_TRACE`).
    /// - Throws: `emptyContent` for an empty task; `notFound` for an unknown conversation.
    @discardableResult
    public func startTrace(
        task: String, conversation: String? = nil, metadata: [String: PropertyValue] = [:], id: String? = nil
    ) throws
        -> ReasoningTrace
    {
        try MemoryValidation.content(task, "a trace's task")
        return try write { session in
            var conversationNode: UInt64?
            if let conversation {
                guard let record = try session.visibleConversation(conversation) else {
                    throw EngramError(.notFound, "there is no conversation '\(conversation)' for this context")
                }
                conversationNode = record.node
            }
            try session.prepareWrite()
            let record = try session.graph.createMemoryNode(
                id: id, labels: ["ReasoningTrace"],
                properties: [
                    "task": .string(task), "conversation": conversation.map { .string($0) } ?? .null,
                    "user": user.map { .string($0) } ?? .null, "agent": agent.map { .string($0) } ?? .null,
                    "started_at": .int(session.now), "created_at": .int(session.now), "updated_at": .int(session.now),
                    "metadata": metadata.isEmpty ? .null : .map(metadata), "step_count": 0,
                ])
            if let conversationNode { try session.graph.link(conversationNode, record.node, "HAS_TRACE") }
            return ReasoningTrace(record)
        }
    }

    /// Adds a step to a trace.
    /// - Parameter touched: entities the step worked on (`TOUCHED`).
    /// - Throws: `notFound` for an unknown trace or entity; `emptyContent` when thought, action
    ///   and observation are all empty.
    @discardableResult
    public func addStep(
        to trace: String, thought: String? = nil, action: String? = nil, observation: String? = nil,
        touched: [String] = []
    ) throws -> ReasoningStep {
        if [thought, action, observation].allSatisfy({ ($0 ?? "").allSatisfy(\.isWhitespace) }) {
            throw EngramError(.emptyContent, "a step needs a thought, an action or an observation")
        }
        return try write { session in
            var traceRecord = try session.requireTrace(trace)
            return ReasoningStep(
                try session.appendStep(
                    &traceRecord, thought: thought, action: action, observation: observation, touched: touched),
                toolCalls: [])
        }
    }

    /// Records a tool call on a step of a trace (its last step when `step` is `nil`, or a new step
    /// whose action is the tool's name when it has none).
    /// - Parameters:
    ///   - arguments: the arguments as JSON text.
    ///   - duration: seconds.
    /// - Throws: `notFound` for an unknown trace or step; `invalidArgument` for arguments that are
    ///   not JSON or a negative duration; `emptyContent` for an empty tool name.
    @discardableResult
    public func recordToolCall(
        trace: String, step: String? = nil, tool: String, arguments: String = "{}", result: String? = nil,
        status: ToolCallStatus = .success, duration: TimeInterval = 0, error: String? = nil
    ) throws -> ToolCall {
        try MemoryValidation.content(tool, "a tool's name")
        guard (try? JSONSerialization.jsonObject(with: Data(arguments.utf8), options: [.fragmentsAllowed])) != nil
        else {
            throw EngramError(.invalidArgument, "a tool call's arguments must be JSON text")
        }
        guard duration.isFinite, duration >= 0 else {
            throw EngramError(.invalidArgument, "a duration must be 0 or more seconds")
        }
        return try write { session in
            var traceRecord = try session.requireTrace(trace)
            let steps = try session.graph.related(traceRecord.node, "HAS_STEP", .outgoing)
            let stepNode: UInt64
            if let step {
                guard let node = try session.graph.nodeID(step), steps.contains(node) else {
                    throw EngramError(.notFound, "trace '\(trace)' has no step '\(step)'")
                }
                stepNode = node
            } else if let last = try traceRecord.string("last_step").flatMap({ try session.graph.nodeID($0) }) {
                stepNode = last
            } else {
                stepNode = try session.appendStep(
                    &traceRecord, thought: nil, action: tool, observation: nil, touched: []
                ).node
            }
            let record = try session.graph.createMemoryNode(
                id: nil, labels: ["ToolCall"],
                properties: [
                    "tool": .string(tool), "arguments": .string(arguments),
                    "result": result.map { .string($0) } ?? .null,
                    "status": .string(status.rawValue), "duration_ms": .double(duration * 1000),
                    "error": error.map { .string($0) } ?? .null,
                    "timestamp": .int(session.now), "trace": .string(traceRecord.id),
                ])
            try session.graph.link(stepNode, record.node, "USED_TOOL")
            return ToolCall(record)
        }
    }

    /// Completes a trace.
    /// - Throws: `notFound` for an unknown trace.
    @discardableResult
    public func completeTrace(_ id: String, outcome: String? = nil, success: Bool) throws -> ReasoningTrace {
        try write { session in
            var record = try session.requireTrace(id)
            record["outcome"] = outcome.map { .string($0) } ?? .null
            record["success"] = .bool(success)
            record["completed_at"] = .int(session.now)
            record["updated_at"] = .int(session.now)
            try session.graph.save(record)
            return ReasoningTrace(record)
        }
    }

    /// A trace with its steps and their tool calls, in order; `nil` when unknown or another user's.
    public func trace(id: String) throws -> ReasoningTrace? {
        try read { session in
            guard let record = try session.graph.memoryNode(id: id, label: "ReasoningTrace"), try session.sees(trace: record)
            else { return nil }
            var steps: [ReasoningStep] = []
            for step in try session.graph.related(record.node, "HAS_STEP", .outgoing) {
                guard let stepRecord = try session.graph.memoryNode(step) else { continue }
                let calls = try session.graph.related(step, "USED_TOOL", .outgoing).compactMap {
                    try session.graph.memoryNode($0)
                }
                .map(ToolCall.init).sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
                steps.append(ReasoningStep(stepRecord, toolCalls: calls))
            }
            return ReasoningTrace(record, steps: steps.sorted { $0.index < $1.index })
        }
    }

    /// The context's user's traces (all of the tenant's for an administrative context), filtered,
    /// with the total; ordered by start time (`created_at`) or last change.
    /// - Parameters:
    ///   - conversation: keep the traces of this conversation.
    ///   - success: keep completed traces with this outcome.
    ///   - startedAfter: keep traces started at or after.
    public func traces(
        conversation: String? = nil, success: Bool? = nil, startedAfter: Date? = nil, startedBefore: Date? = nil,
        options: ListOptions = ListOptions()
    ) throws -> Page<ReasoningTrace> {
        try options.validate()
        return try read { session in
            let records = try session.graph.nodes(label: "ReasoningTrace").compactMap {
                try session.graph.memoryNode($0)
            }.filter { record in
                let started = record.int("started_at") ?? 0
                return try session.sees(trace: record)
                    && (conversation == nil || record.string("conversation") == conversation)
                    && (success == nil || record["success"]?.boolValue == success)
                    && (startedAfter.map { started >= MemoryTime.millis($0) } ?? true)
                    && (startedBefore.map { started < MemoryTime.millis($0) } ?? true)
            }
            return try options.page(records) { ReasoningTrace($0) }
        }
    }

    /// Calls, success rate and mean duration per tool, over the traces this context sees, by tool name.
    public func toolStatistics() throws -> [ToolStatistics] {
        try read { session in
            var table: [String: (calls: Int, successes: Int, duration: Double)] = [:]
            for node in try session.graph.nodes(label: "ReasoningTrace") {
                guard let trace = try session.graph.memoryNode(node), try session.sees(trace: trace) else { continue }
                for step in try session.graph.related(node, "HAS_STEP", .outgoing) {
                    for call in try session.graph.related(step, "USED_TOOL", .outgoing) {
                        guard let record = try session.graph.memoryNode(call) else { continue }
                        let tool = record.string("tool") ?? ""
                        var entry = table[tool] ?? (0, 0, 0)
                        entry.calls += 1
                        if record.string("status") == ToolCallStatus.success.rawValue { entry.successes += 1 }
                        entry.duration += record.double("duration_ms") ?? 0
                        table[tool] = entry
                    }
                }
            }
            return table.keys.sorted().map { tool in
                let entry = table[tool]!
                return ToolStatistics(
                    tool: tool, calls: entry.calls, successes: entry.successes,
                    successRate: Double(entry.successes) / Double(entry.calls),
                    meanDurationMs: entry.duration / Double(entry.calls))
            }
        }
    }
}

extension MemorySession {
    func requireTrace(_ id: String) throws -> MemoryNode {
        guard let record = try graph.memoryNode(id: id, label: "ReasoningTrace"), owns(record) else {
            throw EngramError(.notFound, "there is no reasoning trace '\(id)' for this context")
        }
        return record
    }

    func appendStep(
        _ trace: inout MemoryNode, thought: String?, action: String?, observation: String?, touched: [String]
    ) throws
        -> MemoryNode
    {
        let entities = try touched.map { try requireEntity($0) }
        let index = trace.int("step_count") ?? 0
        let record = try graph.createMemoryNode(
            id: nil, labels: ["ReasoningStep"],
            properties: [
                "index": .int(index), "thought": thought.map { .string($0) } ?? .null,
                "action": action.map { .string($0) } ?? .null,
                "observation": observation.map { .string($0) } ?? .null, "timestamp": .int(now),
                "trace": .string(trace.id),
            ])
        try graph.link(trace.node, record.node, "HAS_STEP")
        if let last = try trace.string("last_step").flatMap({ try graph.nodeID($0) }) {
            try graph.link(last, record.node, "NEXT_STEP")
        }
        for entity in entities { try graph.link(record.node, entity.node, "TOUCHED") }
        trace["step_count"] = .int(index + 1)
        trace["last_step"] = .string(record.id)
        trace["updated_at"] = .int(now)
        try graph.save(trace)
        return record
    }
}

extension MemoryContext {
    /// Deletes a trace with its steps and tool calls.
    /// - Throws: `notFound` for an unknown trace or another user's.
    public func deleteTrace(id: String) throws {
        try write { session in try session.deleteTrace(try session.requireTrace(id).node) }
    }
}

extension MemorySession {
    /// Whether this context sees `trace`: its user's (or any, for an administrative context), and
    /// not of a conversation that has expired — an expired conversation's traces vanish with it.
    func sees(trace: MemoryNode) throws -> Bool {
        guard owns(trace) else { return false }
        guard let conversation = trace.string("conversation"),
            let record = try graph.memoryNode(id: conversation, label: "Conversation")
        else { return true }
        return !isExpired(record)
    }
}
