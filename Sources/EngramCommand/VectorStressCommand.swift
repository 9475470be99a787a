import ArgumentParser
import Engram
import Foundation

/// `engram _vector-stress insert-loop`: writes nodes with vectors, transaction after transaction,
/// printing each transaction's number after its commit returns. The crash tests SIGKILL it at
/// random moments and check the vector index. Hidden from help: it is a test tool.
///
/// Transaction `t` creates nodes `n(20t)…n(20t+19)`, each with a vector in index `docs`; when
/// `t % 4 == 3` it also removes the vectors of `n(20(t−3))…n(20(t−3)+9)` and replaces those of
/// `n(20(t−2))…n(20(t−2)+4)`. So the nodes with a vector after `T` commits are known exactly.
struct VectorStressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_vector-stress",
        abstract: "Test tools for the vector index's crash tests.",
        shouldDisplay: false,
        subcommands: [InsertLoop.self, Open.self]
    )

    struct InsertLoop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "insert-loop", abstract: "Commit transactions of nodes with vectors, forever or --count times."
        )

        @Option(help: "Store directory.") var db: String
        @Option(help: "Vector components.") var dimension = 32
        @Option(help: "Stop after this many transactions (default: never).") var count: Int?
        @Option(help: "Initial map size in bytes (small values force map growth under the crash).")
        var initialMapSize = 1 << 20

        /// Nodes created per transaction.
        static let batch = 20

        func run() throws {
            var configuration = EngramStore.Configuration()
            configuration.initialMapSize = initialMapSize
            let store = try EngramStore(path: db, configuration: configuration)
            try store.createVectorIndex(
                "docs", dimension: dimension, parameters: HNSWParameters(m: 8, efConstruction: 40))
            var t = try store.graph().statistics().nodes / Self.batch
            while count.map({ t < $0 }) ?? true {
                let b = Self.batch
                try store.writeVectorBatch { writer in
                    for i in b * t..<b * (t + 1) {
                        try writer.createNode(id: "n\(i)")
                        try writer.setVector(
                            Self.vector(i, round: 0, dimension: dimension), forNode: "n\(i)", index: "docs")
                    }
                    if t % 4 == 3 {
                        for i in b * (t - 3)..<b * (t - 3) + 10 {
                            try writer.removeVector(forNode: "n\(i)", index: "docs")
                        }
                        for i in b * (t - 2)..<b * (t - 2) + 5 {
                            try writer.setVector(
                                Self.vector(i, round: 1, dimension: dimension), forNode: "n\(i)", index: "docs")
                        }
                    }
                }
                FileHandle.standardOutput.write(Data("\(t)\n".utf8))
                t += 1
            }
        }

        /// A deterministic vector for node `i`.
        static func vector(_ i: Int, round: Int, dimension: Int) -> [Float] {
            var z = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(round)
            return (0..<dimension).map { _ in
                z = z &+ 0x9E37_79B9_7F4A_7C15
                var x = z
                x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
                x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
                x ^= x >> 31
                return Float(x >> 40) / Float(1 << 24) - 0.5
            }
        }
    }

    /// `engram _vector-stress open --db D --index I`: opens the store and restores the index (its
    /// first search), printing the seconds each took, to measure opening without a rebuild.
    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "open", abstract: "Time opening a store and restoring one vector index.")

        @Option(help: "Store directory.") var db: String
        @Option(help: "The vector index.") var index = "bench"
        @Option(help: "The tenant.") var tenant = "default"
        @Option(help: "Searches (k = 10, seeded random queries) to time after the restore.") var searches = 0
        @Option(help: "The candidate list size of the timed searches.") var ef = 20

        func run() throws {
            let clock = ContinuousClock()
            let start = clock.now
            let store = try EngramStore(path: db)
            let opened = clock.now
            guard let definition = try store.vectorIndex(index, tenant: tenant) else {
                throw ValidationError("no vector index \(index) in tenant \(tenant)")
            }
            let query = [Float](repeating: 1, count: definition.dimension)
            _ = try store.searchVectors(index: index, tenant: tenant, query: query, k: 10)
            let restored = clock.now
            print(
                "open_seconds \(seconds(opened - start)) restore_seconds \(seconds(restored - opened)) total_seconds \(seconds(restored - start))"
            )
            guard searches > 0 else { return }
            var z: UInt64 = 7
            let queries = (0..<searches).map { _ in
                (0..<definition.dimension).map { _ -> Float in
                    z = z &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Float(z >> 40) / Float(1 << 24) - 0.5
                }
            }
            let cpuStart = threadCPUSeconds()
            let wallStart = clock.now
            for query in queries {
                _ = try store.searchVectors(index: index, tenant: tenant, query: query, k: 10, ef: ef)
            }
            let cpu = threadCPUSeconds() - cpuStart
            let wallSeconds = (clock.now - wallStart).seconds
            print(
                "searches \(searches) ef \(ef) qps_wall \(Int(Double(searches) / wallSeconds)) qps_cpu \(Int(Double(searches) / cpu))"
            )
        }

        private func seconds(_ d: Duration) -> String {
            let (s, atto) = d.components
            return String(format: "%.3f", Double(s) + Double(atto) * 1e-18)
        }
    }
}
