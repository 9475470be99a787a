import ArgumentParser
import EngramVector
import Foundation

/// `engram bench ann`: builds an HNSW index from a TEXMEX base file and measures recall@k and
/// single-threaded queries per second against the ground truth, for several `ef`.
///
/// ```sh
/// engram bench ann --base clustered-384-100k_base.fvecs --queries clustered-384_query.fvecs \
///     --groundtruth clustered-384-100k_groundtruth.ivecs --ef 10,20,40,80,160 --format json
/// ```
struct BenchANNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Build an HNSW index from .fvecs files and measure recall@k and queries per second.")

    @Option(help: "The base vectors (.fvecs).")
    var base: String

    @Option(help: "The query vectors (.fvecs).")
    var queries: String

    @Option(help: "The exact neighbours of each query, best first (.ivecs).")
    var groundtruth: String

    @Option(help: "Comma-separated ef values to search with.")
    var ef: String = "10,20,40,80,160"

    @Option(help: "Links per node (level 0 keeps 2·M).")
    var m: Int = 16

    @Option(name: .customLong("ef-construction"), help: "Candidate list size while building.")
    var efConstruction: Int = 200

    @Option(help: "The seed of the level generator.")
    var seed: UInt64 = 100

    @Option(help: "The metric: cosine, dotProduct or l2.")
    var metric: String = "cosine"

    @Option(help: "Neighbours per query (recall@k).")
    var k: Int = 10

    @Option(help: "Timed passes over all queries per ef; the median is reported.")
    var repeats: Int = 5

    @Option(help: "Output format: json or table.")
    var format: String = "table"

    @Option(
        help: ArgumentHelp(
            "Reuse a built index: load it from this file when it exists (instead of building), else save it there.",
            visibility: .hidden))
    var snapshot: String?

    @Flag(help: "Build through the store instead (vectors written with their nodes), then reopen it and search.")
    var persist = false

    @Option(help: "With --persist: the store directory (default: a temporary one, removed afterwards).")
    var db: String?

    @Option(help: "With --persist: vectors per write transaction.")
    var batch = 1_000

    @Flag(help: "With --persist and --db: search the index an earlier --persist run left there instead of building.")
    var reuse = false

    func run() throws {
        guard let metric = VectorMetric(rawValue: metric) else {
            throw ValidationError("unknown metric \(metric); use cosine, dotProduct or l2")
        }
        let efs = try ef.split(separator: ",").map { part -> Int in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("--ef takes positive integers separated by commas, got \(ef)")
            }
            return value
        }
        guard format == "json" || format == "table" else { throw ValidationError("--format is json or table") }
        if persist {
            let parameters = HNSWParameters(m: m, efConstruction: efConstruction, seed: seed)
            return try PersistedANNBench(
                base: base, queries: queries, groundtruth: groundtruth, efs: efs, metric: metric, parameters: parameters,
                k: k, db: db, batch: batch, reuse: reuse, repeats: repeats, json: format == "json"
            ).run()
        }
        let progress = isatty(STDERR_FILENO) != 0

        let baseVectors = try TexmexFile.readFloatVectors(at: base)
        let queryVectors = try TexmexFile.readFloatVectors(at: queries)
        let truth = try TexmexFile.readIntVectors(at: groundtruth)
        guard queryVectors.dimension == baseVectors.dimension else {
            throw VectorIndexError.dimensionMismatch(expected: baseVectors.dimension, got: queryVectors.dimension)
        }
        guard truth.rows >= queryVectors.rows, truth.dimension >= k else {
            throw ValidationError(
                "the ground truth has \(truth.rows) rows of \(truth.dimension); need \(queryVectors.rows) of ≥ \(k)")
        }

        let parameters = HNSWParameters(m: m, efConstruction: efConstruction, seed: seed)
        let d = baseVectors.dimension
        let clock = ContinuousClock()
        var index = try HNSWIndex(dimension: d, metric: metric, parameters: parameters, capacity: baseVectors.rows)
        var buildSeconds = 0.0
        var buildCPUSeconds = 0.0
        if let snapshot, FileManager.default.fileExists(atPath: snapshot) {
            let records = try SnapshotFile.read(snapshot)
            index = try HNSWIndex(
                dimension: d, metric: metric, parameters: parameters, restoringFrom: records, capacity: baseVectors.rows
            )
        } else {
            let buildStart = clock.now
            let buildCPUStart = threadCPUSeconds()
            try baseVectors.values.withUnsafeBufferPointer { all in
                for row in 0..<baseVectors.rows {
                    try index.insert(UnsafeBufferPointer(rebasing: all[row * d..<(row + 1) * d]), id: UInt64(row))
                    if progress && row % 5_000 == 0 {
                        FileHandle.standardError.write("\rbuilding \(row)/\(baseVectors.rows)".data(using: .utf8)!)
                    }
                }
            }
            buildSeconds = (clock.now - buildStart).seconds
            buildCPUSeconds = threadCPUSeconds() - buildCPUStart
            if progress { FileHandle.standardError.write("\rbuilt in \(buildSeconds) s\n".data(using: .utf8)!) }
            if let snapshot { try SnapshotFile.write(index.exportRecords(), to: snapshot) }
        }

        // Reopening without a rebuild: every record of the index, restored into a new index
        // (no distance computed). The records are in memory; a store adds its read time.
        let records = index.exportRecords()
        let restoreStart = clock.now
        let restoreCPUStart = threadCPUSeconds()
        let restored = try HNSWIndex(
            dimension: d, metric: metric, parameters: parameters, restoringFrom: records, capacity: baseVectors.rows)
        let restoreSeconds = (clock.now - restoreStart).seconds
        let restoreCPUSeconds = threadCPUSeconds() - restoreCPUStart
        guard restored.count == index.count else { throw ValidationError("the restored index lost vectors") }

        // What an insert writes to a store: the change sets of 100 inserts into the restored copy.
        var changeRecords = 0
        var changeBytes = 0
        let sampleInserts = Swift.min(100, queryVectors.rows)
        try queryVectors.values.withUnsafeBufferPointer { all in
            for i in 0..<sampleInserts {
                var changes = HNSWChangeSet()
                try restored.insert(
                    Array(all[i * d..<(i + 1) * d]), id: UInt64(baseVectors.rows + i), changes: &changes)
                changeRecords += changes.records.count
                for record in changes.records {
                    switch record {
                    case .node(_, _, _, let vector): changeBytes += 13 + 4 * vector.count
                    case .links(_, _, let neighbours): changeBytes += 5 + 4 * neighbours.count
                    default: changeBytes += 5
                    }
                }
            }
        }

        var rows: [SearchRow] = []
        try queryVectors.values.withUnsafeBufferPointer { all in
            let q = queryVectors.rows
            func query(_ i: Int) -> UnsafeBufferPointer<Float> {
                UnsafeBufferPointer(rebasing: all[i * d..<(i + 1) * d])
            }
            for ef in efs {
                for i in 0..<Swift.min(50, q) { _ = try index.search(query(i), limit: k, ef: ef) }
                var rates: [Double] = []
                var cpuRates: [Double] = []
                var hits = 0
                for pass in 0..<Swift.max(1, repeats) {
                    var results: [[VectorSearchResult]] = []
                    results.reserveCapacity(q)
                    let start = clock.now
                    let cpuStart = threadCPUSeconds()
                    for i in 0..<q { results.append(try index.search(query(i), limit: k, ef: ef)) }
                    rates.append(Double(q) / (clock.now - start).seconds)
                    cpuRates.append(Double(q) / Swift.max(threadCPUSeconds() - cpuStart, 1e-9))
                    if pass == 0 {
                        for i in 0..<q {
                            let expected = Set(truth.row(i).prefix(k).map { UInt64($0) })
                            hits += results[i].filter { expected.contains($0.id) }.count
                        }
                    }
                }
                rates.sort()
                cpuRates.sort()
                rows.append(
                    SearchRow(
                        ef: ef, recall: Double(hits) / Double(q * k), qps: rates[rates.count / 2],
                        qpsMin: rates.first!, qpsMax: rates.last!, qpsCPU: cpuRates[cpuRates.count / 2]))
            }
        }

        if format == "json" {
            var json = "{"
            json +=
                "\"base\":\(quoted(base)),\"n\":\(baseVectors.rows),\"dimension\":\(d),\"queries\":\(queryVectors.rows),"
            json += "\"metric\":\(quoted(metric.rawValue)),\"m\":\(m),\"ef_construction\":\(efConstruction),\"k\":\(k),"
            json +=
                "\"build_threads\":1,\"build_seconds\":\(fmt(buildSeconds)),\"build_cpu_seconds\":\(fmt(buildCPUSeconds)),\"index_bytes\":\(index.memoryBytes),"
            json += "\"restore_seconds\":\(fmt(restoreSeconds)),\"restore_cpu_seconds\":\(fmt(restoreCPUSeconds)),"
            json += "\"records_per_insert\":\(fmt(Double(changeRecords) / Double(Swift.max(sampleInserts, 1)))),"
            json += "\"record_bytes_per_insert\":\(fmt(Double(changeBytes) / Double(Swift.max(sampleInserts, 1)))),"
            json += "\"repeats\":\(repeats),\"search\":["
            json += rows.map { row in
                "{\"ef\":\(row.ef),\"recall@\(k)\":\(fmt(row.recall)),\"qps\":\(fmt(row.qps)),"
                    + "\"qps_min\":\(fmt(row.qpsMin)),\"qps_max\":\(fmt(row.qpsMax)),\"qps_cpu\":\(fmt(row.qpsCPU))}"
            }.joined(separator: ",")
            json += "]}"
            print(json)
        } else {
            print("build \(fmt(buildSeconds)) s, index \(index.memoryBytes / (1 << 20)) MiB, n = \(baseVectors.rows)")
            print("restore from records \(fmt(restoreSeconds)) s")
            print("an insert writes \(fmt(Double(changeRecords) / Double(Swift.max(sampleInserts, 1)))) records")
            print("ef\trecall@\(k)\tqps (median of \(repeats))\tqps per CPU second")
            for row in rows { print("\(row.ef)\t\(fmt(row.recall))\t\(Int(row.qps))\t\(Int(row.qpsCPU))") }
        }
    }

    private struct SearchRow {
        var ef: Int
        var recall: Double
        var qps: Double
        var qpsMin: Double
        var qpsMax: Double
        var qpsCPU: Double
    }

    private func fmt(_ x: Double) -> String { String(format: "%.4f", x) }

    private func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A file of HNSW records, so that repeated benchmark runs can skip the build: per record a tag
/// byte, then little-endian fields (slot u32, id u64, level u8, count u32, values).
enum SnapshotFile {
    static func write(_ records: [HNSWRecord], to path: String) throws {
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
        for record in records {
            switch record {
            case .node(let slot, let id, let level, let vector):
                bytes.append(0)
                put(slot)
                put(id)
                put(UInt8(level))
                put(UInt32(vector.count))
                for x in vector { put(x.bitPattern) }
            case .links(let slot, let level, let neighbours):
                bytes.append(1)
                put(slot)
                put(UInt8(level))
                put(UInt32(neighbours.count))
                for x in neighbours { put(x) }
            case .tombstone(let slot):
                bytes.append(2)
                put(slot)
            case .freed(let slot, let level):
                bytes.append(3)
                put(slot)
                put(UInt8(level))
            case .entryPoint(let slot, let maxLevel):
                bytes.append(4)
                put(slot.map { Int64($0) } ?? -1)
                put(UInt8(maxLevel))
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> [HNSWRecord] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.withUnsafeBytes { raw in
            var offset = 0
            func get<T: FixedWidthInteger>(_: T.Type) throws -> T {
                guard offset + MemoryLayout<T>.size <= raw.count else { throw ValidationError("truncated snapshot") }
                defer { offset += MemoryLayout<T>.size }
                return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            var records: [HNSWRecord] = []
            while offset < raw.count {
                switch try get(UInt8.self) {
                case 0:
                    let slot = try get(UInt32.self)
                    let id = try get(UInt64.self)
                    let level = Int(try get(UInt8.self))
                    let count = Int(try get(UInt32.self))
                    var vector: [Float] = []
                    vector.reserveCapacity(count)
                    for _ in 0..<count { vector.append(Float(bitPattern: try get(UInt32.self))) }
                    records.append(.node(slot: slot, id: id, level: level, vector: vector))
                case 1:
                    let slot = try get(UInt32.self)
                    let level = Int(try get(UInt8.self))
                    let count = Int(try get(UInt32.self))
                    var links: [UInt32] = []
                    for _ in 0..<count { links.append(try get(UInt32.self)) }
                    records.append(.links(slot: slot, level: level, neighbours: links))
                case 2: records.append(.tombstone(slot: try get(UInt32.self)))
                case 3: records.append(.freed(slot: try get(UInt32.self), level: Int(try get(UInt8.self))))
                case 4:
                    let slot = try get(Int64.self)
                    let level = Int(try get(UInt8.self))
                    records.append(.entryPoint(slot: slot < 0 ? nil : UInt32(slot), maxLevel: level))
                default: throw ValidationError("bad snapshot record")
                }
            }
            return records
        }
    }
}


