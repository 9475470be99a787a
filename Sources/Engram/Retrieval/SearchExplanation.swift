import Foundation

extension SearchComponents {
    /// The components in one line, as `engram search --explain` and the REPL's `:search` print them:
    /// `vector #2 (0.613), bm25 #1 (4.210, coverage 1.00), graph #1 (1.0), recency 0.998, importance 0.50`
    /// — each list the result came from, with its rank and score, then the recency and importance terms.
    public var explanation: String {
        var parts: [String] = []
        if let rank = vectorRank {
            parts.append("vector #\(rank) (\(String(format: "%.3f", vectorSimilarity ?? 0)))")
        }
        if let rank = keywordRank {
            parts.append(
                "bm25 #\(rank) (\(String(format: "%.3f", keywordScore ?? 0)), coverage \(String(format: "%.2f", keywordCoverage ?? 0)))"
            )
        }
        if let rank = graphRank { parts.append("graph #\(rank) (\(graphScore ?? 0))") }
        parts.append("recency \(String(format: "%.3f", recency))")
        parts.append("importance \(String(format: "%.2f", importance))")
        return parts.joined(separator: ", ")
    }
}
