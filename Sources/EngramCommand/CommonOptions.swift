public import ArgumentParser
import Engram
public import EngramREPL

/// The options every store command takes (SPEC §6): `--db`, `--tenant`, `--user`, `--agent`, `--format`.
struct StoreOptions: ParsableArguments {
    @Option(help: "Store directory.") var db: String
    @OptionGroup var session: SessionOptions

    /// Opens the store — with the embedder its vectors were made with (``StoreOpening``) when the
    /// command writes text (`embedding`), plainly otherwise; a missing store is created only when
    /// `create` is true (else `notFound`).
    func open(create: Bool = false, embedding: Bool = false) throws -> EngramStore {
        var configuration = EngramStore.Configuration()
        configuration.createIfMissing = create
        return embedding
            ? try StoreOpening.open(path: db, configuration: configuration)
            : try EngramStore(path: db, configuration: configuration)
    }
}

/// Who is asking and how results are printed: `--tenant`, `--user`, `--agent`, `--format`, `--wide`.
struct SessionOptions: ParsableArguments {
    @Option(help: "Tenant.") var tenant = "default"
    @Option(help: "User that memory calls act for.") var user: String?
    @Option(help: "Agent that memory calls act as.") var agent: String?
    @Option(help: "Output format: table, json or csv.") var format: ResultFormat = .table
    @Flag(help: "Show long table cells whole instead of cutting them.") var wide = false

    var renderer: ResultRenderer {
        ResultRenderer(format: format, maximumCellWidth: wide ? nil : ResultRenderer.defaultCellWidth)
    }

    func validate() throws {
        if tenant.isEmpty { throw ValidationError("--tenant cannot be empty") }
        if user?.isEmpty == true { throw ValidationError("--user cannot be empty") }
        if agent?.isEmpty == true { throw ValidationError("--agent cannot be empty") }
    }

    func context(_ store: EngramStore) -> MemoryContext {
        store.context(tenant: tenant, user: user, agent: agent)
    }
}

extension ResultFormat: ExpressibleByArgument {}

/// Prints a result on standard output in the chosen format.
/// With `report`, table cells that are strings are written bare.
func printResult(_ result: CypherResult, _ options: SessionOptions, report: Bool = false) {
    print(options.renderer.render(result, bareStrings: report))
}
