import ArgumentParser
import Engram
import Foundation

/// `engram demo`: a short tour on a local store, printing what it does.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Open (or create) a store and show what Engram does, step by step."
    )

    @Option(help: "Store directory.") var db = "engram-demo-store"

    func run() throws {
        print("Engram \(EngramVersion.current) demo")
        print("1. Opening the store at \(db) (created when missing) …")
        let store = try EngramStore(path: db)
        let info = store.info()
        print("   format version \(info.formatVersion), map \(info.mapSize >> 20) MiB, \(info.usedBytes >> 10) KiB used, last transaction \(info.lastTransactionID)")
        print("2. Reopening the same directory shares one environment in this process …")
        let again = try EngramStore(path: db)
        print("   same format version: \(again.formatVersion == store.formatVersion)")
        print("3. Refusing a directory that is not a store (nothing is touched) …")
        let foreign = FileManager.default.temporaryDirectory.appendingPathComponent("engram-demo-foreign-\(getpid())")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("not a store".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        defer { try? FileManager.default.removeItem(at: foreign) }
        do {
            _ = try EngramStore(path: foreign.path)
            print("   unexpectedly opened \(foreign.path)")
        } catch let error as EngramError {
            print("   \(error.code): \(error.message)")
        }
        print("Done. The graph, memory, search and Cypher layers land in the next issues; see README.md.")
    }
}
