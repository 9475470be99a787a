import ArgumentParser
import Engram
import EngramREPL
import Foundation

/// `engram remember`: stores one memory.
struct RememberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remember",
        abstract: "Store a memory as a user (and agent).",
        discussion: """
            Example: engram remember --db memory.engram --user alice --kind preference "Alice prefers window seats"
            The store is created when missing. A memory of scope user (the default) needs --user; of scope \
            agent, --user and --agent. \
            With --format json, prints the memory's id, kind, scope and text as one JSON object.
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Kind: fact, preference, experience, decision, insight, episode or general.") var kind = "general"
    @Option(help: "Scope: agent, user, tenant or global.") var scope = "user"
    @Option(help: "Importance, 0…1.") var importance = 0.5
    @Argument(help: "The text to remember.") var text: String

    func validate() throws {
        if text.allSatisfy(\.isWhitespace) { throw ValidationError("give the text to remember") }
        if MemoryScope(rawValue: scope) == nil { throw ValidationError("--scope must be agent, user, tenant or global") }
    }

    func run() async throws {
        let memory = try await REPLMemory.remember(
            text, options: ["kind": kind, "scope": scope, "importance": String(importance)],
            in: store.session.context(try store.open(create: true, embedding: true)))
        switch store.session.format {
        case .json:
            try printJSON(["id": memory.id, "kind": memory.kind.rawValue, "scope": memory.scope.rawValue, "content": memory.content])
        case .table, .csv:
            print(REPLMemory.describe(memory))
        }
    }
}

/// `engram entities`: lists entities.
struct EntitiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entities",
        abstract: "List the entities of a tenant.",
        discussion: "Example: engram entities --db memory.engram --type Person --format json"
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Only entities of this type.") var type: String?
    @Option(help: "The most entities to list, 1…1000.") var limit = 100

    func validate() throws {
        if !(1...ListOptions.maximumLimit).contains(limit) { throw ValidationError("--limit must lie in 1…1000") }
    }

    func run() throws {
        let (result, total) = try REPLReports.entitiesResult(
            store.session.context(try store.open()), type: type, limit: limit)
        printResult(result, store.session, report: true)
        if total > result.rows.count { printDiagnostic("(\(result.rows.count) of \(total) entities; raise --limit)") }
    }
}

/// `engram stats`: counts of a tenant's graph and memories, and the store's size.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print counts of a tenant's graph and memories, and the store's size.",
        discussion: "With --schema, print labels, relationship types, property keys and indexes with their counts instead."
    )

    @OptionGroup var store: StoreOptions
    @Flag(help: "Print the schema (as the REPL's :schema).") var schema = false

    func run() throws {
        let opened = try store.open()
        let result =
            schema
            ? REPLReports.schemaResult(try opened.schema(tenant: store.session.tenant))
            : try REPLReports.statisticsResult(store: opened, memory: store.session.context(opened))
        printResult(result, store.session, report: true)
    }
}
