import ArgumentParser
import Engram
import EngramREPL
import Foundation

/// `engram import cypher --db PATH FILE`: runs a script of `CREATE` statements.
struct ImportCypherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cypher",
        abstract: "Load a Cypher script of CREATE statements (ended by ';') into a tenant.",
        discussion: """
            Statements may MATCH what earlier ones created: MATCH (a:Person {name: 'Ada'}) CREATE (a)-[:KNOWS]->(:Person). \
            Every --batch-size statements are one transaction; if a statement fails, its batch is rolled back \
            and the error names it and its line. A progress bar is shown on a terminal.
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Statements per transaction.") var batchSize = 1000
    @Argument(help: "The script ('-' for standard input).") var file: String

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let text = file == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : try REPLFiles.read(file)
        let opened = try store.open(create: true)
        let progress = ProgressBar(enabled: standardOutputIsTerminal && store.session.format == .table)
        let summary: CypherImportSummary
        do {
            summary = try opened.importCypher(text, tenant: store.session.tenant, batchSize: batchSize) {
                progress.show(done: $0.statementsDone, of: $0.statementsTotal, unit: "statements")
            }
        } catch let error as CypherError {
            progress.finish()
            printDiagnostic(REPLErrorText.render(error, in: nil))
            throw ExitCode.failure
        }
        progress.finish()
        switch store.session.format {
        case .json:
            try printJSON([
                "statements": summary.statements, "nodes_created": summary.nodesCreated,
                "relationships_created": summary.relationshipsCreated,
            ])
        case .table, .csv:
            print(
                "imported \(file) into tenant \(store.session.tenant): \(summary.statements) statements, "
                    + "\(summary.nodesCreated) nodes and \(summary.relationshipsCreated) relationships created")
        }
    }
}

/// A one-line progress bar on standard error, redrawn in place; silent when not enabled.
struct ProgressBar {
    let enabled: Bool

    func show(done: Int, of total: Int, unit: String) {
        guard enabled else { return }
        let fraction = Double(done) / Double(max(total, 1))
        let bar = String(repeating: "#", count: Int(fraction * 30)).padding(toLength: 30, withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(unit)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
