import ArgumentParser
import Engram
import Foundation

/// `engram export --db PATH [--tenant T [--user U]] [--output FILE]`: JSON Lines of a whole store,
/// one tenant or one user (docs/export-format.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a store, a tenant or a user as JSON Lines (one node or relationship per line).",
        discussion: "Without --tenant the whole store is exported. Import the lines with 'engram import jsonl'."
    )

    @Option(help: "Store directory.") var db: String
    @Option(help: "Export only this tenant.") var tenant: String?
    @Option(help: "Export only this user of --tenant (default tenant 'default').") var user: String?
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        var configuration = EngramStore.Configuration()
        configuration.createIfMissing = false
        let store = try EngramStore(path: db, configuration: configuration)
        let selection: ExportSelection
        if let user {
            selection = .user(tenant: tenant ?? "default", user: user)
        } else if let tenant {
            selection = .tenant(tenant)
        } else {
            selection = .store
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw ValidationError("cannot create \(output)")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            handle = FileHandle.standardOutput
        }
        var buffer = Data()
        var lines = 0
        try store.exportJSONLines(selection) { line in
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            lines += 1
            if buffer.count >= 1 << 20 {
                handle.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(buffer)
        if output != nil {
            try handle.close()
            printDiagnostic("exported \(lines) lines to \(output!)")
        }
    }
}

/// `engram import jsonl --db PATH FILE`: imports an export, idempotently by id.
struct ImportJSONLinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl",
        abstract: "Import a JSON Lines export (from 'engram export'); records with existing ids are replaced."
    )

    @Option(help: "Store directory (created when missing).") var db: String
    @Option(help: "Import every record into this tenant instead of the one it names.") var tenant: String?
    @Option(help: "Lines per transaction.") var batchSize = 5000
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Argument(help: "The export file ('-' for standard input).") var file: String

    func run() throws {
        let data =
            file == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        let text = String(decoding: data, as: UTF8.self)
        let store = try EngramStore(path: db)
        let (tenant, batchSize) = (tenant, batchSize)
        let summary = try blocking {
            try await store.importJSONLines(
                text.split(separator: "\n").lazy.map(String.init), tenant: tenant, batchSize: batchSize)
        }
        if format == .json {
            try printJSON([
                "nodes_created": summary.nodesCreated, "nodes_replaced": summary.nodesReplaced,
                "relationships_created": summary.relationshipsCreated,
                "relationships_replaced": summary.relationshipsReplaced,
            ])
        } else {
            print(
                "imported into \(db): \(summary.nodesCreated) nodes created, \(summary.nodesReplaced) replaced, "
                    + "\(summary.relationshipsCreated) relationships created, \(summary.relationshipsReplaced) replaced"
            )
        }
    }
}
