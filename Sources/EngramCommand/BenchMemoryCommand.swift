import ArgumentParser
import Engram
import Foundation

/// `engram bench memory`: the record-keeping cost of the agent memory API, without embeddings —
/// messages appended one per call and in batches, and memories stored one per call.
struct BenchMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Time message appends (single and batched) and memory writes, without embeddings.",
        discussion: """
            Each phase writes --records records into a fresh store: messages one per call (one \
            transaction each), messages in batches of --batch per call, and memories one per call; \
            then the first page of the memories (all of them are read to sort and count) and of the \
            last conversation's messages. Conversations hold --per-conversation messages each. Commits are not flushed unless \
            --durable is given, so that the figures measure Engram, not the disk's flush latency.
            """
    )

    @Option(help: "Records per phase.") var records = 100_000
    @Option(help: "Messages per call in the batched phase.") var batch = 100
    @Option(help: "Messages per conversation.") var perConversation = 1000
    @Option(help: "Scratch directory for the store (wiped).") var dir = "/tmp/engram-bench-memory"
    @Flag(help: "Flush every commit to disk (durability full).") var durable = false
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        guard records > 0, batch > 0, perConversation > 0 else { throw ValidationError("counts must be positive") }
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = EngramStore.Configuration()
        configuration.durability = durable ? .full : .noSync
        let store = try EngramStore(path: dir, configuration: configuration)
        let memory = store.context(tenant: "bench", user: "user", agent: "agent")
        let roles: [MessageRole] = [.user, .assistant]
        func content(_ i: Int) -> String { "message \(i): the quick brown fox jumps over the lazy dog" }

        var start = DispatchTime.now()
        var conversation = ""
        for i in 0..<records {
            if i % perConversation == 0 { conversation = try memory.startConversation().id }
            let (role, text) = (roles[i & 1], content(i))
            try blocking { [conversation] in try await memory.addMessage(to: conversation, role: role, content: text) }
        }
        let single = BenchStorageCommand.seconds(since: start)

        start = DispatchTime.now()
        var written = 0
        while written < records {
            if written % perConversation == 0 { conversation = try memory.startConversation().id }
            let count = min(batch, records - written, perConversation - written % perConversation)
            let messages = (written..<written + count).map { NewMessage(role: roles[$0 & 1], content: content($0)) }
            try blocking { [conversation] in try await memory.addMessages(messages, to: conversation) }
            written += count
        }
        let batched = BenchStorageCommand.seconds(since: start)

        let kinds: [MemoryKind] = [.fact, .preference, .experience, .decision, .insight, .episode, .general]
        start = DispatchTime.now()
        for i in 0..<records {
            let new = NewMemory(
                "memory \(i): the user prefers window seats", kind: kinds[i % kinds.count], importance: 0.5,
                annotations: ["source": "bench"])
            try blocking { try await memory.remember(new) }
        }
        let memories = BenchStorageCommand.seconds(since: start)

        start = DispatchTime.now()
        let listed = try memory.memories(options: ListOptions(limit: 10, order: .updatedAt, descending: true))
        let listSeconds = BenchStorageCommand.seconds(since: start)
        // Warm the pages of the last conversation.
        _ = try memory.messages(in: conversation, options: ListOptions(limit: 50))
        start = DispatchTime.now()
        let page = try memory.messages(in: conversation, options: ListOptions(limit: 50))
        let messagesPageSeconds = BenchStorageCommand.seconds(since: start)

        let figures: [String: Any] = [
            "records": records, "batch": batch, "messages_per_conversation": perConversation,
            "durability": durable ? "full" : "nosync",
            "messages_single_per_s": Double(records) / single,
            "messages_batched_per_s": Double(records) / batched,
            "memories_single_per_s": Double(records) / memories,
            "memories_list_first_page_ms": listSeconds * 1000, "memories_listed_total": listed.total,
            "messages_first_page_ms": messagesPageSeconds * 1000, "messages_page_total": page.total,
            "store_bytes": store.info().usedBytes,
        ]
        try printFigures(figures, format: format)
    }
}
