import EngramCore
import Foundation

/// Turns a conversation's messages into a short summary. Implement it to summarise with an LLM;
/// ``ExtractiveSummarizer`` needs none.
public protocol ConversationSummarizer: Sendable {
    /// A summary of `messages`, which are in order.
    /// - Throws: whatever the summariser fails with; nothing is stored then.
    func summarize(_ messages: [Message]) throws -> String
}

/// An extractive summariser: keeps the conversation's most informative sentences, in their order.
///
/// A sentence scores the mean frequency, over the conversation, of its words that are not stop
/// words; the `maximumSentences` best are kept. Deterministic, and no model is needed.
public struct ExtractiveSummarizer: ConversationSummarizer {
    /// How many sentences the summary keeps (3).
    public var maximumSentences: Int

    /// Creates an extractive summariser.
    public init(maximumSentences: Int = 3) {
        self.maximumSentences = maximumSentences
    }

    /// Words too common to say what a conversation is about.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "for", "from", "have", "he", "her", "his",
        "how",
        "i", "if", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "that",
        "the",
        "their", "them", "there", "they", "this", "to", "too", "was", "we", "what", "when", "which", "who", "will",
        "with",
        "would", "you", "your", "yes", "ok", "okay", "please", "thanks", "thank", "hi", "hello",
    ]

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { !stopWords.contains($0) }
    }

    /// The best sentences of the messages, in order, joined by spaces.
    public func summarize(_ messages: [Message]) throws -> String {
        var sentences: [String] = []
        for message in messages where message.role != .system {
            var current = ""
            for character in message.content {
                current.append(character)
                if ".!?\n".contains(character) {
                    let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !trimmed.isEmpty { sentences.append(trimmed) }
                    current = ""
                }
            }
            let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { sentences.append(trimmed) }
        }
        var frequency: [String: Int] = [:]
        for sentence in sentences { for word in Self.words(sentence) { frequency[word, default: 0] += 1 } }
        let scored = sentences.enumerated().map { index, sentence -> (index: Int, score: Double) in
            let words = Self.words(sentence)
            guard !words.isEmpty else { return (index, 0) }
            return (index, Double(words.reduce(0) { $0 + frequency[$1]! }) / Double(words.count))
        }
        let kept = scored.sorted { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
            .prefix(max(1, maximumSentences)).map(\.index).sorted()
        return kept.map { sentences[$0] }.joined(separator: " ")
    }
}

extension MemoryContext {
    /// Summarises a conversation with `summarizer` and stores the summary: as the conversation's
    /// `summary` property and as a user-scoped ``MemoryKind/episode`` memory drawn from it.
    ///
    /// The messages are read in one transaction, the summariser runs outside any transaction, and
    /// the summary is written in another; a conversation changed in between is summarised as read.
    /// - Returns: the episode memory.
    /// - Throws: `notFound` for an unknown conversation; `emptyContent` when there is nothing to summarise.
    @discardableResult
    public func summarizeConversation(
        _ id: String, using summarizer: some ConversationSummarizer = ExtractiveSummarizer()
    )
        async throws -> Memory
    {
        var messages: [Message] = []
        var options = ListOptions(limit: ListOptions.maximumLimit)
        while true {
            let page = try self.messages(in: id, options: options)
            messages += page.items
            guard let cursor = page.nextCursor else { break }
            options.cursor = cursor
        }
        let summary = try summarizer.summarize(messages)
        try MemoryValidation.content(summary, "a conversation's summary")
        let vector = try await embed([MemoryText.memory(content: summary)])?[0]
        return try write { session in
            guard var record = try session.visibleConversation(id) else {
                throw EngramError(.notFound, "there is no conversation '\(id)' for this context")
            }
            record["summary"] = .string(summary)
            session.touch(&record)
            try session.graph.save(record)
            return try session.storeMemory(NewMemory(summary, kind: .episode, scope: .user, conversationID: id), vector: vector)
        }
    }
}
