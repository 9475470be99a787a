public import Engram

// The commands of the agent memory API: remember, entities.
extension REPLCommand {
    static let remember = REPLCommand(
        name: "remember", usage: ":remember TEXT [--kind KIND] [--scope SCOPE] [--importance X]",
        help: "Store a memory as the current user and agent (kind: fact, preference, …; scope: user, agent, tenant)."
    ) { session, argument in
        let parsed = try options(words(argument), allowed: ["kind", "scope", "importance"])
        let text = parsed.rest.joined(separator: " ")
        guard !text.isEmpty else { throw REPLUsageError("give the text to remember") }
        let memory = try await REPLMemory.remember(text, options: parsed.options, in: session.memory)
        session.write(REPLMemory.describe(memory))
    }

    static let entities = REPLCommand(
        name: "entities", usage: ":entities [TYPE] [--limit N]", help: "List the tenant's entities (of one type)."
    ) { session, argument in
        let parsed = try options(words(argument), allowed: ["limit"])
        guard parsed.rest.count <= 1 else { throw REPLUsageError("give at most one type") }
        guard let limit = Int(parsed.options["limit"] ?? "100"), (1...ListOptions.maximumLimit).contains(limit) else {
            throw REPLUsageError("--limit takes 1…\(ListOptions.maximumLimit)")
        }
        let (result, total) = try REPLReports.entitiesResult(session.memory, type: parsed.rest.first, limit: limit)
        session.write(result, report: true)
        if total > result.rows.count { session.writeError("(\(result.rows.count) of \(total) entities; use --limit)") }
    }
}

/// Memory calls shared by the REPL's commands and the one-shot subcommands.
public enum REPLMemory {
    /// Stores `text` as a memory of `context`, with `kind`, `scope` and `importance` read from
    /// `options` (as typed: `fact`, `user`, `0.8`).
    ///
    /// `async` so that it stays one `await` away from the memory API's writes becoming `async`.
    /// - Throws: ``REPLUsageError`` for an unknown scope or a malformed importance; the memory API's
    ///   ``EngramError``s (a user-scoped memory without a user is `invalidArgument`).
    public static func remember(_ text: String, options: [String: String], in context: MemoryContext) async throws -> Memory {
        var memory = NewMemory(text)
        if let kind = options["kind"] { memory.kind = MemoryKind(rawValue: kind) }
        if let scope = options["scope"] {
            guard let value = MemoryScope(rawValue: scope) else {
                throw REPLUsageError("'\(scope)' is not a scope: use agent, user, tenant or global")
            }
            memory.scope = value
        }
        if let importance = options["importance"] {
            guard let value = Double(importance) else { throw REPLUsageError("'\(importance)' is not a number") }
            memory.importance = value
        }
        return try await context.remember(memory)
    }

    /// One line about a stored memory: `remembered <id> (fact, user scope): <text>`.
    public static func describe(_ memory: Memory) -> String {
        "remembered \(memory.id) (\(memory.kind), \(memory.scope.rawValue) scope): \(memory.content)"
    }
}
