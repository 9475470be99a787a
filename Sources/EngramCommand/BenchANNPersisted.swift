import ArgumentParser
import Engram
import Foundation

/// `engram bench ann --persist`: the same vectors through the store: every vector inserted with
/// its node in write transactions (HNSW records written beside it), then the store closed and
/// reopened (the index restored from its records, no rebuild), then searched through the public
/// API (results checked against the read snapshot and turned into nodes).
struct PersistedANNBench {
    var base: String
    var queries: String
    var groundtruth: String
    var efs: [Int]
    var metric: VectorMetric
    var parameters: HNSWParameters
    var k: Int
    /// The store directory; a temporary one (removed afterwards) when `nil`.
    var db: String?
    /// Vectors (with their nodes) per write transaction.
    var batch: Int
    /// Search the index an earlier run left in `db` instead of building it again.
    var reuse: Bool = false
    /// Timed passes over all queries per ef; the median is reported.
    var repeats: Int = 1
    var json: Bool

    func run() throws {
        let baseVectors = try TexmexFile.readFloatVectors(at: base)
        let queryVectors = try TexmexFile.readFloatVectors(at: queries)
        let truth = try TexmexFile.readIntVectors(at: groundtruth)
        let d = baseVectors.dimension
        let temporary = db == nil
        let path = db ?? NSTemporaryDirectory() + "engram-bench-ann-\(UUID().uuidString)"
        defer { if temporary { try? FileManager.default.removeItem(atPath: path) } }
        let progress = isatty(STDERR_FILENO) != 0
        let clock = ContinuousClock()

        var configuration = EngramStore.Configuration()
        configuration.durability = .noSync
        var buildSeconds = 0.0
        var buildCPUSeconds = 0.0
        var storeBytes = 0
        if reuse {
            guard db != nil, try EngramStore(path: path, configuration: configuration).vectorIndex("bench") != nil else {
                throw ValidationError("--reuse needs --db with a store an earlier --persist run built")
            }
        } else {
            let store = try EngramStore(path: path, configuration: configuration)
            try store.createVectorIndex("bench", dimension: d, metric: metric, parameters: parameters)
            let start = clock.now
            let cpuStart = threadCPUSeconds()
            for first in stride(from: 0, to: baseVectors.rows, by: batch) {
                try store.writeVectorBatch { writer in
                    for row in first..<min(first + batch, baseVectors.rows) {
                        try writer.createNode(id: "v\(row)")
                        let vector = Array(baseVectors.values[row * d..<(row + 1) * d])
                        try writer.setVector(vector, forNode: "v\(row)", index: "bench")
                    }
                }
                if progress {
                    FileHandle.standardError.write(Data("\rpersisted \(first + batch)/\(baseVectors.rows)".utf8))
                }
            }
            try store.sync()
            buildSeconds = (clock.now - start).seconds
            buildCPUSeconds = threadCPUSeconds() - cpuStart
            storeBytes = store.info().usedBytes
        }
        // Reopen: open the store, then the first search restores the index from its records.
        let openStart = clock.now
        let store = try EngramStore(path: path, configuration: configuration)
        let openSeconds = (clock.now - openStart).seconds
        let query0 = Array(queryVectors.values[0..<d])
        let restoreStart = clock.now
        _ = try store.searchVectors(index: "bench", query: query0, k: k)
        let reopenSeconds = openSeconds + (clock.now - restoreStart).seconds

        var rows: [(ef: Int, recall: Double, qps: Double, qpsCPU: Double, directCPU: Double)] = []
        for ef in efs {
            var hits = 0
            var rates: [Double] = []
            var cpuRates: [Double] = []
            let queries = (0..<queryVectors.rows).map { Array(queryVectors.values[$0 * d..<($0 + 1) * d]) }
            for pass in 0..<max(1, repeats) {
                let start = clock.now
                let cpuStart = threadCPUSeconds()
                var found: [[VectorMatch]] = []
                found.reserveCapacity(queries.count)
                for query in queries { found.append(try store.searchVectors(index: "bench", query: query, k: k, ef: ef)) }
                let cpu = threadCPUSeconds() - cpuStart
                rates.append(Double(queries.count) / (clock.now - start).seconds)
                cpuRates.append(Double(queries.count) / max(cpu, 1e-9))
                if pass == 0 {
                    for (i, matches) in found.enumerated() {
                        let expected = Set(truth.row(i).prefix(k).map { "v\($0)" })
                        hits += matches.filter { expected.contains($0.node.id) }.count
                    }
                }
            }
            // The same queries on the same graph without the store (no transaction, no snapshot
            // check, no node read): what the store costs on top of the HNSW walk.
            let graph = try store._loadedVectorIndex(index: "bench")
            var directRates: [Double] = []
            for _ in 0..<max(1, repeats) {
                let cpuStart = threadCPUSeconds()
                for query in queries { _ = try graph.search(query, limit: k, ef: ef) }
                directRates.append(Double(queries.count) / max(threadCPUSeconds() - cpuStart, 1e-9))
            }
            directRates.sort()
            rates.sort()
            cpuRates.sort()
            rows.append(
                (
                    ef, Double(hits) / Double(queryVectors.rows * k), rates[rates.count / 2], cpuRates[cpuRates.count / 2],
                    directRates[directRates.count / 2]
                ))
        }
        try store._checkVectorInvariants(index: "bench").first.map { throw ValidationError("index damaged: \($0)") }

        func fmt(_ x: Double) -> String { String(format: "%.4f", x) }
        if json {
            var out =
                "{\"persist\":true,\"reused\":\(reuse),\"n\":\(baseVectors.rows),\"dimension\":\(d),\"metric\":\"\(metric.rawValue)\","
            out +=
                "\"m\":\(parameters.m),\"ef_construction\":\(parameters.efConstruction),\"k\":\(k),\"batch\":\(batch),"
            out +=
                "\"persisted_build_seconds\":\(fmt(buildSeconds)),\"persisted_build_cpu_seconds\":\(fmt(buildCPUSeconds)),\"store_bytes\":\(storeBytes),"
            out += "\"open_seconds\":\(fmt(openSeconds)),\"reopen_seconds\":\(fmt(reopenSeconds)),\"search\":["
            out += rows.map {
                "{\"ef\":\($0.ef),\"recall@\(k)\":\(fmt($0.recall)),\"qps\":\(fmt($0.qps)),\"qps_cpu\":\(fmt($0.qpsCPU)),"
                    + "\"graph_only_qps_cpu\":\(fmt($0.directCPU))}"
            }.joined(separator: ",")
            out += "]}"
            print(out)
        } else {
            print(
                "persisted build \(fmt(buildSeconds)) s, \(fmt(buildCPUSeconds)) CPU s (\(batch) vectors per transaction), store \(storeBytes / (1 << 20)) MiB"
            )
            print("reopen \(fmt(reopenSeconds)) s (open \(fmt(openSeconds)) s + restore on first search)")
            print("ef\trecall@\(k)\tqps through the store\tper CPU second\tgraph alone per CPU second")
            for row in rows {
                print("\(row.ef)\t\(fmt(row.recall))\t\(Int(row.qps))\t\(Int(row.qpsCPU))\t\(Int(row.directCPU))")
            }
        }
    }
}
