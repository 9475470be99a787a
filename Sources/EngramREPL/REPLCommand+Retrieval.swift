public import Engram

// Search and the duplicate review queue: :search, :dups, :merge, :reject.
extension REPLCommand {
    static let search = REPLCommand(
        name: "search", usage: ":search TEXT [--mode hybrid|vector|keyword] [--limit N]",
        help: "Search memories, messages and entities; each result says why it ranked."
    ) { session, argument in
        let parsed = try options(words(argument), allowed: ["mode", "limit"])
        let text = parsed.rest.joined(separator: " ")
        guard !text.isEmpty else { throw REPLUsageError("give the text to search for") }
        guard let mode = SearchMode(rawValue: parsed.options["mode"] ?? "hybrid") else {
            throw REPLUsageError("--mode takes hybrid, vector or keyword")
        }
        guard let limit = Int(parsed.options["limit"] ?? "10"), (1...1000).contains(limit) else {
            throw REPLUsageError("--limit takes 1…1000")
        }
        let results = try await session.memory.search(text, limit: limit, mode: mode)
        session.write(REPLReports.searchResult(results), report: true)
    }

    static let dups = REPLCommand(
        name: "dups", usage: ":dups [TYPE] [--min-score X] [--limit N]",
        help: "Entities that may be duplicates, best first; decide with :merge or :reject."
    ) { session, argument in
        let parsed = try options(words(argument), allowed: ["min-score", "limit"])
        guard parsed.rest.count <= 1 else { throw REPLUsageError("give at most one type") }
        let minScore = try parsed.options["min-score"].map { text in
            guard let value = Double(text), (0...1).contains(value) else {
                throw REPLUsageError("--min-score takes a number in 0…1")
            }
            return value
        }
        guard let limit = Int(parsed.options["limit"] ?? "20"), (1...10_000).contains(limit) else {
            throw REPLUsageError("--limit takes 1…10000")
        }
        let pairs = try session.memory.findPotentialDuplicates(type: parsed.rest.first, minScore: minScore, limit: limit)
        session.write(REPLReports.duplicatesResult(pairs), report: true)
    }

    static let merge = REPLCommand(
        name: "merge", usage: ":merge SOURCE_ID TARGET_ID",
        help: "Confirm a duplicate: merge the source entity into the target (undo with 'engram dedupe unmerge')."
    ) { session, argument in
        let ids = try words(argument)
        guard ids.count == 2 else { throw REPLUsageError("give the source and the target entity ids") }
        let pair = try session.memory.reviewDuplicate(source: ids[0], target: ids[1], decision: .confirm)
        session.write("merged \(pair.sourceID) (\(pair.sourceName)) into \(pair.targetID) (\(pair.targetName))")
    }

    static let reject = REPLCommand(
        name: "reject", usage: ":reject SOURCE_ID TARGET_ID",
        help: "Reject a duplicate: the two entities stay apart and the pair is never proposed again."
    ) { session, argument in
        let ids = try words(argument)
        guard ids.count == 2 else { throw REPLUsageError("give the two entity ids") }
        let pair = try session.memory.reviewDuplicate(source: ids[0], target: ids[1], decision: .reject)
        session.write("rejected \(pair.sourceID) (\(pair.sourceName)) ~ \(pair.targetID) (\(pair.targetName))")
    }
}

extension REPLReports {
    /// Search results as a table: rank, kind, id, score, text and the components' explanation.
    public static func searchResult(_ results: [SearchResult]) -> CypherResult {
        let rows: [[CypherValue]] = results.enumerated().map { position, result in
            [
                .integer(Int64(position + 1)), .string(result.kind.rawValue), .string(result.id),
                .float(result.score), .string(result.text), .string(result.components.explanation),
            ]
        }
        return CypherResult(columns: ["rank", "kind", "id", "score", "text", "why"], rows: rows)
    }

    /// Duplicate candidates as a table, best first.
    public static func duplicatesResult(_ pairs: [DuplicateCandidate]) -> CypherResult {
        let rows: [[CypherValue]] = pairs.map { pair in
            [
                .string(pair.sourceID), .string(pair.sourceName), .string(pair.targetID), .string(pair.targetName),
                .string(pair.type), .float(pair.score), .string(pair.band.rawValue),
                pair.status.map { .string($0.rawValue) } ?? .null, .string(pair.reasons.joined(separator: "; ")),
            ]
        }
        return CypherResult(
            columns: ["source", "source_name", "target", "target_name", "type", "score", "band", "status", "reasons"],
            rows: rows)
    }
}
