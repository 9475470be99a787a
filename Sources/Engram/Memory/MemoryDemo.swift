import Foundation
import Synchronization

/// A short agent session, end to end, for `engram demo`: a conversation, entities with a
/// relationship, a preference and a fact superseded by another, a reasoning trace with tool
/// calls, and what reads give back.
public enum MemoryDemo {
    /// The tenant the demo writes; it is emptied first, so the demo can run again on the same store.
    public static let tenant = "memory-demo"

    /// Runs the session on `store` (in tenant ``tenant``) and returns the lines to print. The
    /// session's clock starts at 2026-01-01 and moves one second per reading, so the output is the
    /// same on every run.
    public static func run(store: EngramStore) async throws -> [String] {
        var lines: [String] = []
        try store.dropTenant(tenant)
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let tick = DemoTicker()
        let options = MemoryOptions(clock: { start.addingTimeInterval(tick.next()) })
        let memory = store.context(tenant: tenant, user: "alice", agent: "travel-agent", options: options)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions.insert(.withFractionalSeconds)

        let chat = try memory.startConversation(id: "trip", title: "Trip to Lisbon", annotations: ["topic": "travel"])
        try await memory.addMessages(
            [
                NewMessage(
                    role: .user, content: "I work at Acme and I'm flying to Lisbon in May. I prefer window seats."),
                NewMessage(role: .assistant, content: "Noted. I'll look for flights to Lisbon with a window seat."),
                NewMessage(role: .user, content: "Actually my budget is now 600 euros, not 400."),
            ], to: chat.id)
        lines.append("conversation '\(chat.title ?? "")' (\(chat.id)):")
        for message in try memory.messages(in: chat.id).items {
            lines.append("  [\(formatter.string(from: message.timestamp))] \(message.role): \(message.content)")
        }

        let alice = try await memory.addEntity(name: "Alice", type: "Person", id: "alice")
        let acme = try await memory.addEntity(name: "Acme Corporation", type: "Organization", aliases: ["Acme"], id: "acme")
        let lisbon = try await memory.addEntity(name: "Lisboa", type: "Location", aliases: ["Lisbon"], id: "lisbon")
        try memory.relate(alice.id, "WORKS_AT", acme.id, confidence: 0.9, provenance: ["trip"])
        try memory.relate(alice.id, "TRAVELS_TO", lisbon.id, confidence: 0.7, provenance: ["trip"])
        let travels = try memory.relate(alice.id, "TRAVELS_TO", lisbon.id, confidence: 0.8, provenance: ["trip-2"])
        lines.append(
            "entities: " + (try memory.entities().items.map { "\($0.name) (:\($0.type))" }.joined(separator: ", ")))
        lines.append(
            "find 'LISBON' → " + (try memory.findEntities(named: "LISBON").map(\.name).joined(separator: ", ")))
        lines.append(
            "Alice TRAVELS_TO Lisboa: support \(travels.supportCount), confidence \(travels.confidence), provenance "
                + travels.provenance.joined(separator: ", "))

        try await memory.remember(
            NewMemory("Alice prefers window seats", kind: .preference, importance: 0.8, mentions: [alice.id]))
        let budget = try await memory.remember(NewMemory("Alice's budget is 400 euros", kind: .fact, conversationID: chat.id, mentions: [alice.id]))
        let beforeChange = start.addingTimeInterval(tick.peek())
        try await memory.supersede(
            budget.id, with: NewMemory("Alice's budget is 600 euros", kind: .fact, conversationID: chat.id, mentions: [alice.id]))
        lines.append("current memories:")
        for item in try memory.memories().items { lines.append("  \(item.kind): \(item.content)") }
        lines.append("memories as of before the change:")
        for item in try memory.memories(MemoryFilter(asOf: beforeChange)).items {
            lines.append("  \(item.kind): \(item.content)")
        }

        let trace = try memory.startTrace(task: "Book a flight to Lisbon", conversation: chat.id)
        try memory.addStep(
            to: trace.id, thought: "Search flights under 600 euros", action: "search_flights", touched: [lisbon.id])
        try memory.recordToolCall(
            trace: trace.id, tool: "search_flights", arguments: #"{"to":"LIS","max_price":600}"#, result: "3 flights",
            duration: 0.42)
        try memory.addStep(to: trace.id, thought: "TP1350 has a window seat", action: "book")
        try memory.recordToolCall(
            trace: trace.id, tool: "book", arguments: #"{"flight":"TP1350"}"#, status: .timeout, duration: 5)
        try memory.recordToolCall(
            trace: trace.id, tool: "book", arguments: #"{"flight":"TP1350"}"#, result: "booked", duration: 1.1)
        try memory.completeTrace(trace.id, outcome: "Booked TP1350, seat 12A", success: true)
        if let read = try memory.trace(id: trace.id) {
            lines.append(
                "trace '\(read.task)': \(read.success == true ? "succeeded" : "failed") — \(read.outcome ?? "")")
            for step in read.steps {
                lines.append("  step \(step.index): \(step.thought ?? "") → \(step.action ?? "")")
                for call in step.toolCalls {
                    lines.append("    \(call.tool)(\(call.arguments)) \(call.status) in \(Int(call.durationMs)) ms")
                }
            }
        }
        for stats in try memory.toolStatistics() {
            lines.append(
                "tool \(stats.tool): \(stats.calls) calls, \(Int(stats.successRate * 100))% success, mean \(Int(stats.meanDurationMs)) ms"
            )
        }
        let episode = try await memory.summarizeConversation(chat.id)
        lines.append("summary: \(episode.content)")

        // Hybrid search: the union of vector, keyword and graph candidates ("Alice" and "Lisbon"
        // name entities), each result with the components of its score.
        let question = "How much can Alice spend on the trip to Lisbon?"
        let mode = store.embedder == nil ? "keyword and graph; no embedder" : "hybrid, \(store.embedder!.modelID)"
        lines.append("search '\(question)' (\(mode)):")
        for result in try await memory.search(question, in: [.memories], limit: 3) {
            lines.append("  \(result.text) — \(result.components.explanation)")
        }
        return lines
    }
}

/// The demo's clock: one second later at every reading.
private final class DemoTicker: Sendable {
    private let seconds = Mutex<Double>(0)

    func next() -> Double {
        seconds.withLock {
            $0 += 1; return $0
        }
    }
    func peek() -> Double { seconds.withLock { $0 } }
}
