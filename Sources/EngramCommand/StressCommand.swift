import ArgumentParser
import EngramStorage
import Foundation

/// `engram _stress write-loop`: commits numbered transactions forever, printing each number after
/// its commit returns. The crash tests SIGKILL it at random moments and check the store. Hidden
/// from help: it is a test tool, not a feature.
struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_stress",
        abstract: "Test tools for crash and concurrency tests.",
        shouldDisplay: false,
        subcommands: [WriteLoop.self]
    )

    struct WriteLoop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write-loop",
            abstract: "Commit transaction after transaction: each writes keys (i, 0..<k) and 'last' = i.")

        @Option(help: "Store directory.") var db: String
        @Option(help: "Keys written per transaction besides 'last'.") var keysPerTransaction = 10
        @Option(help: "Bytes per value.") var valueSize = 200
        @Option(help: "Stop after this many transactions (default: never).") var count: Int?
        @Option(help: "Initial map size in bytes (small values force map growth under the crash).")
        var initialMapSize = 256 << 20

        func run() throws {
            var options = StorageOptions()
            options.initialMapSize = initialMapSize
            let env = try StorageEnvironment.open(at: db, options: options, keyspaces: [KeyspaceDescriptor("items")])
            let items = try env.keyspace("items")
            let lastKey = Array("last".utf8)
            var next = try env.read { txn in
                try txn.value(forKey: lastKey, in: items).map { Self.decode($0) + 1 } ?? 0
            }
            while count.map({ next < $0 }) ?? true {
                let i = next
                try env.write { txn in
                    let value = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: valueSize) + Self.encode(i)
                    for j in 0..<keysPerTransaction {
                        try txn.put(value, forKey: Self.key(i, j), in: items)
                    }
                    try txn.put(Self.encode(i), forKey: lastKey, in: items)
                }
                FileHandle.standardOutput.write(Data("\(i)\n".utf8))
                next += 1
            }
        }

        static func key(_ i: Int, _ j: Int) -> [UInt8] {
            var writer = KeyWriter()
            writer.append(UInt8(0x01))
            writer.append(UInt64(i))
            writer.append(UInt32(j))
            return writer.bytes
        }

        static func encode(_ i: Int) -> [UInt8] { KeyWriter.bigEndian(UInt64(i)) }

        static func decode(_ bytes: [UInt8]) -> Int { Int(bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
    }
}
