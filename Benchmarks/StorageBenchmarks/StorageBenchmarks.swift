import Benchmark
import EngramStorage
import Foundation

/// Micro-benchmarks of the storage engine: wall clock, throughput and allocations per operation.
///
/// Run with `ENGRAM_BENCHMARKS=1 swift package benchmark --target StorageBenchmarks`. The
/// dataset-level figures beside C LMDB come from `engram bench storage` (docs/benchmarks.md).
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    let keyCount = 10_000

    func makeStore(_ name: String, options: StorageOptions = StorageOptions()) -> (StorageEnvironment, Keyspace) {
        let path = NSTemporaryDirectory() + "engram-benchmark-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        let env = try! StorageEnvironment.open(at: path, options: options, keyspaces: [KeyspaceDescriptor("bench")])
        return (env, try! env.keyspace("bench"))
    }

    func key(_ i: Int) -> [UInt8] {
        var writer = KeyWriter(capacity: 16)
        writer.append(UInt64(i / 100))
        writer.append(UInt64(i % 100))
        return writer.bytes
    }

    let keys = (0..<keyCount).map(key)
    let value = [UInt8](repeating: 0xAB, count: 100)

    Benchmark(
        "put 10,000 keys in one transaction (noSync)",
        configuration: .init(metrics: metrics, maxDuration: .seconds(5))
    ) { benchmark in
        var options = StorageOptions()
        options.durability = .noSync
        let (env, keyspace) = makeStore("put", options: options)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try env.write { txn in
                for k in keys { try txn.put(value, forKey: k, in: keyspace) }
            }
        }
    }

    Benchmark(
        "get 10,000 keys in one read transaction",
        configuration: .init(metrics: metrics, maxDuration: .seconds(5))
    ) { benchmark in
        let (env, keyspace) = makeStore("get")
        try env.write { txn in for k in keys { try txn.put(value, forKey: k, in: keyspace) } }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try env.read { txn in
                var sum = 0
                for k in keys { sum &+= try txn.withValue(forKey: k, in: keyspace) { Int($0?.first ?? 0) } }
                blackHole(sum)
            }
        }
    }

    Benchmark(
        "prefix scan of 100 keys",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(5))
    ) { benchmark in
        let (env, keyspace) = makeStore("scan")
        try env.write { txn in for k in keys { try txn.put(value, forKey: k, in: keyspace) } }
        let prefix = KeyWriter.bigEndian(UInt64(42))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try env.read { txn in
                var count = 0
                try txn.scan(in: keyspace, prefix: prefix) { _, _ in
                    count += 1
                    return true
                }
                blackHole(count)
            }
        }
    }

    Benchmark(
        "empty read transaction",
        configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(5))
    ) { benchmark in
        let (env, _) = makeStore("txn")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try env.read { _ in }
        }
    }
}
