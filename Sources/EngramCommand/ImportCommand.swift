import ArgumentParser
import Engram
import Foundation

/// `engram import …`: bulk loads into a store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load data into a store.",
        subcommands: [ImportGraphCommand.self, ImportJSONLinesCommand.self, ImportCypherCommand.self]
    )
}

/// `engram import graph --nodes F.csv --relationships F.csv`.
struct ImportGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Bulk-load nodes and relationships from CSV files.",
        discussion: """
            Nodes: a header with an 'id' column; other columns become properties; every node gets the \
            label Entity. Relationships: 'from', 'to' and 'type' columns; type becomes the relationship \
            type, other columns properties. Each batch is one transaction.
            """
    )

    @Option(help: "Store directory (created when missing).") var db: String
    @Option(help: "Tenant to load into.") var tenant = "default"
    @Option(help: "Node CSV file.") var nodes: String?
    @Option(help: "Relationship CSV file.") var relationships: String?
    @Option(help: "Records per transaction.") var batchSize = 1_000_000
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        guard nodes != nil || relationships != nil else {
            throw ValidationError("give --nodes, --relationships, or both")
        }
        let started = DispatchTime.now()
        let nodeRecords = try nodes.map { try GraphCSV.nodes(atPath: $0) } ?? []
        let relationshipRecords = try relationships.map { try GraphCSV.relationships(atPath: $0) } ?? []
        let parsed = BenchStorageCommand.seconds(since: started)
        let store = try EngramStore(path: db)
        let showProgress = standardOutputIsTerminal && format != .json
        let total = nodeRecords.count + relationshipRecords.count
        let done = try store.graph(tenant: tenant).bulkLoad(
            nodes: nodeRecords, relationships: relationshipRecords, batchSize: batchSize
        ) { progress in
            if showProgress {
                let fraction = Double(progress.nodes + progress.relationships) / Double(max(total, 1))
                let bar = String(repeating: "#", count: Int(fraction * 30)).padding(toLength: 30, withPad: " ", startingAt: 0)
                FileHandle.standardError.write(Data("\r[\(bar)] \(progress.nodes) nodes, \(progress.relationships) relationships".utf8))
            }
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = BenchStorageCommand.seconds(since: started)
        if format == .json {
            try printJSON(["nodes": done.nodes, "relationships": done.relationships, "parse_s": parsed, "total_s": seconds])
        } else {
            print("loaded \(done.nodes) nodes and \(done.relationships) relationships into \(db) (tenant \(tenant)) in \(String(format: "%.2f", seconds)) s")
        }
    }
}
