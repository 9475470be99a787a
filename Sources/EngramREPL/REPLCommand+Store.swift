public import Engram
import Foundation

// The commands that read or load the store: schema, explain, profile, stats, export, import.
extension REPLCommand {
    static let schema = REPLCommand(
        name: "schema", usage: ":schema",
        help: "Labels, relationship types, property keys and indexes of the tenant, with counts."
    ) { session, argument in
        guard argument.isEmpty else { throw REPLUsageError("':schema' takes no argument") }
        session.write(try REPLReports.schemaResult(session.store.schema(tenant: session.tenant)), report: true)
    }

    static let explain = REPLCommand(
        name: "explain", usage: ":explain QUERY", help: "Show the plan of a query without running it."
    ) { session, argument in
        let query = try queryText(argument)
        await session.run(query, prefix: "EXPLAIN")
    }

    static let profile = REPLCommand(
        name: "profile", usage: ":profile QUERY", help: "Run a query and show its rows and the plan with rows and time per step."
    ) { session, argument in
        let query = try queryText(argument)
        await session.run(query, prefix: "PROFILE")
    }

    static let stats = REPLCommand(
        name: "stats", usage: ":stats", help: "Counts of the tenant's graph and memories, and the store's size."
    ) { session, argument in
        guard argument.isEmpty else { throw REPLUsageError("':stats' takes no argument") }
        session.write(try REPLReports.statisticsResult(store: session.store, memory: session.memory), report: true)
    }

    static let export = REPLCommand(
        name: "export", usage: ":export FILE", help: "Write the tenant as JSON Lines (as 'engram export --tenant')."
    ) { session, argument in
        let parts = try words(argument)
        guard parts.count == 1 else { throw REPLUsageError("give one file") }
        let lines = try REPLFiles.export(session.store, tenant: session.tenant, to: parts[0])
        session.writeError("exported \(lines) lines of tenant \(session.tenant) to \(parts[0])")
    }

    static let importFile = REPLCommand(
        name: "import", usage: ":import FILE",
        help: "Load a JSON Lines export (.jsonl) or a Cypher CREATE script (.cypher, .cql) into the tenant."
    ) { session, argument in
        let parts = try words(argument)
        guard parts.count == 1 else { throw REPLUsageError("give one file") }
        session.writeError(try await REPLFiles.importFile(parts[0], into: session.store, tenant: session.tenant))
    }

    /// The query after `:explain` or `:profile`, without a final `;`.
    static func queryText(_ argument: String) throws -> String {
        var query = argument.trimmingCharacters(in: .whitespacesAndNewlines)
        while query.hasSuffix(";") { query.removeLast() }
        guard !query.isEmpty else { throw REPLUsageError("give a query") }
        return query
    }
}

/// Reports shared by the REPL's commands and the one-shot subcommands.
public enum REPLReports {
    /// The schema as a table (or JSON/CSV) of `kind, name, nodes, relationships`: one row per label,
    /// relationship type, property key and index (an index's `nodes` is its number of entries).
    public static func schemaResult(_ schema: GraphSchema) -> CypherResult {
        var rows: [[CypherValue]] = []
        for label in schema.labels { rows.append([.string("label"), .string(label.name), .integer(Int64(label.nodes)), .null]) }
        for type in schema.relationshipTypes {
            rows.append([.string("relationship type"), .string(type.name), .null, .integer(Int64(type.relationships))])
        }
        for key in schema.propertyKeys {
            rows.append([
                .string("property key"), .string(key.name), .integer(Int64(key.nodes)), .integer(Int64(key.relationships)),
            ])
        }
        for index in schema.indexes {
            rows.append([
                .string(index.normalized ? "index (normalized)" : "index"), .string("\(index.label)(\(index.property))"),
                .integer(Int64(index.entries)), .null,
            ])
        }
        return CypherResult(columns: ["kind", "name", "nodes", "relationships"], rows: rows)
    }

    /// Statistics as rows of `statistic, value`: the graph's node and relationship counts (with
    /// each label and type), the memories the context sees (by kind, state and scope), and the
    /// store's size.
    public static func statisticsResult(store: EngramStore, memory: MemoryContext) throws -> CypherResult {
        let graph = try store.graph(tenant: memory.tenant).statistics()
        let memories = try memory.memoryStatistics()
        let info = store.info()
        var rows: [(String, CypherValue)] = [
            ("nodes", .integer(Int64(graph.nodes))), ("relationships", .integer(Int64(graph.relationships))),
        ]
        rows += graph.nodesByLabel.sorted { $0.key < $1.key }.map { ("nodes:" + $0.key, .integer(Int64($0.value))) }
        rows += graph.relationshipsByType.sorted { $0.key < $1.key }.map {
            ("relationships:" + $0.key, .integer(Int64($0.value)))
        }
        rows.append(("memories", .integer(Int64(memories.total))))
        rows += memories.byKind.sorted { $0.key < $1.key }.map { ("memories.kind:" + $0.key, .integer(Int64($0.value))) }
        rows += memories.byState.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            ("memories.state:" + $0.key.rawValue, .integer(Int64($0.value)))
        }
        rows += memories.byScope.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            ("memories.scope:" + $0.key.rawValue, .integer(Int64($0.value)))
        }
        rows += [
            ("store.format_version", .integer(Int64(info.formatVersion))),
            ("store.used_bytes", .integer(Int64(info.usedBytes))),
            ("store.map_bytes", .integer(Int64(info.mapSize))),
        ]
        return CypherResult(columns: ["statistic", "value"], rows: rows.map { [.string($0.0), $0.1] })
    }

    /// The entities of the context's tenant (of `type`, or all) as rows of
    /// `id, name, type, aliases, description`, and how many there are in all.
    public static func entitiesResult(_ memory: MemoryContext, type: String?, limit: Int) throws -> (CypherResult, total: Int) {
        let page = try memory.entities(type: type, options: ListOptions(limit: limit))
        let rows: [[CypherValue]] = page.items.map { entity in
            [
                .string(entity.id), .string(entity.name), .string(entity.type), .list(entity.aliases.map { .string($0) }),
                entity.description.map { .string($0) } ?? .null,
            ]
        }
        return (CypherResult(columns: ["id", "name", "type", "aliases", "description"], rows: rows), page.total)
    }
}

/// Export and import of files, shared by the REPL's commands and the one-shot subcommands.
public enum REPLFiles {
    /// The kinds of file ``importFile(_:into:tenant:progress:)`` reads, by extension.
    public enum Kind: String, Sendable {
        /// A JSON Lines export (`.jsonl`, `.ndjson`, `.json`).
        case jsonLines
        /// A Cypher script of `CREATE` statements (`.cypher`, `.cql`, `.cyp`).
        case cypher

        /// The kind a file's extension names, or `nil`.
        public init?(path: String) {
            switch URL(fileURLWithPath: path).pathExtension.lowercased() {
            case "jsonl", "ndjson", "json": self = .jsonLines
            case "cypher", "cql", "cyp": self = .cypher
            default: return nil
            }
        }
    }

    /// Writes `tenant` as JSON Lines to `path`; returns the number of lines.
    public static func export(_ store: EngramStore, tenant: String, to path: String) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw EngramError(.ioError, "cannot create '\(path)': check that its folder exists and is writable")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var buffer = Data()
        var lines = 0
        try store.exportJSONLines(.tenant(tenant)) { line in
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            lines += 1
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        return lines
    }

    /// Reads a whole file as UTF-8 text.
    public static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngramError(.notFound, "cannot read '\(path)': no such file, or not readable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Imports a file into `tenant`, by its extension; returns a one-line summary.
    /// - Throws: ``EngramError`` `invalidArgument` for an extension it does not know; the import's errors.
    public static func importFile(
        _ path: String, into store: EngramStore, tenant: String, progress: ((Int, Int) -> Void)? = nil
    ) async throws -> String {
        guard let kind = Kind(path: path) else {
            throw EngramError(
                .invalidArgument,
                "cannot tell what '\(path)' holds: name it .jsonl (an export) or .cypher (a CREATE script); CSV goes through 'engram import graph'"
            )
        }
        let text = try read(path)
        switch kind {
        case .jsonLines:
            let summary = try await store.importJSONLines(text.split(separator: "\n").lazy.map(String.init), tenant: tenant)
            return "imported \(path) into tenant \(tenant): \(summary.nodesCreated) nodes created, \(summary.nodesReplaced) replaced, "
                + "\(summary.relationshipsCreated) relationships created, \(summary.relationshipsReplaced) replaced"
        case .cypher:
            let summary = try store.importCypher(text, tenant: tenant) { progress?($0.statementsDone, $0.statementsTotal) }
            return "imported \(path) into tenant \(tenant): \(summary.statements) statements, "
                + "\(summary.nodesCreated) nodes and \(summary.relationshipsCreated) relationships created"
        }
    }
}
