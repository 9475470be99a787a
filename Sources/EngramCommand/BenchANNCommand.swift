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

    @Option(help: "The metric: cosine, dotProduct or l2.")
    var metric: String = "cosine"

    @Option(help: "Neighbours per query (recall@k).")
    var k: Int = 10

    @Option(help: "Timed passes over all queries per ef; the median is reported.")
    var repeats: Int = 5

    @Option(help: "Output format: json or table.")
    var format: String = "table"

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
        let progress = isatty(STDERR_FILENO) != 0

        let baseVectors = try TexmexFile.readFloatVectors(at: base)
        let queryVectors = try TexmexFile.readFloatVectors(at: queries)
        let truth = try TexmexFile.readIntVectors(at: groundtruth)
        guard queryVectors.dimension == baseVectors.dimension else {
            throw VectorIndexError.dimensionMismatch(expected: baseVectors.dimension, got: queryVectors.dimension)
        }
        guard truth.rows >= queryVectors.rows, truth.dimension >= k else {
            throw ValidationError("the ground truth has \(truth.rows) rows of \(truth.dimension); need \(queryVectors.rows) of ≥ \(k)")
        }

        let parameters = HNSWParameters(m: m, efConstruction: efConstruction)
        let index = try HNSWIndex(
            dimension: baseVectors.dimension, metric: metric, parameters: parameters, capacity: baseVectors.rows)
        let d = baseVectors.dimension
        let clock = ContinuousClock()
        let buildStart = clock.now
        try baseVectors.values.withUnsafeBufferPointer { all in
            for row in 0..<baseVectors.rows {
                try index.insert(UnsafeBufferPointer(rebasing: all[row * d..<(row + 1) * d]), id: UInt64(row))
                if progress && row % 5_000 == 0 {
                    FileHandle.standardError.write("\rbuilding \(row)/\(baseVectors.rows)".data(using: .utf8)!)
                }
            }
        }
        let buildSeconds = (clock.now - buildStart).seconds
        if progress { FileHandle.standardError.write("\rbuilt in \(buildSeconds) s\n".data(using: .utf8)!) }

        var rows: [SearchRow] = []
        try queryVectors.values.withUnsafeBufferPointer { all in
            let q = queryVectors.rows
            func query(_ i: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: all[i * d..<(i + 1) * d]) }
            for ef in efs {
                for i in 0..<Swift.min(50, q) { _ = try index.search(query(i), limit: k, ef: ef) }
                var rates: [Double] = []
                var hits = 0
                for pass in 0..<Swift.max(1, repeats) {
                    var results: [[VectorSearchResult]] = []
                    results.reserveCapacity(q)
                    let start = clock.now
                    for i in 0..<q { results.append(try index.search(query(i), limit: k, ef: ef)) }
                    rates.append(Double(q) / (clock.now - start).seconds)
                    if pass == 0 {
                        for i in 0..<q {
                            let expected = Set(truth.row(i).prefix(k).map { UInt64($0) })
                            hits += results[i].filter { expected.contains($0.id) }.count
                        }
                    }
                }
                rates.sort()
                rows.append(
                    SearchRow(
                        ef: ef, recall: Double(hits) / Double(q * k), qps: rates[rates.count / 2],
                        qpsMin: rates.first!, qpsMax: rates.last!))
            }
        }

        if format == "json" {
            var json = "{"
            json += "\"base\":\(quoted(base)),\"n\":\(baseVectors.rows),\"dimension\":\(d),\"queries\":\(queryVectors.rows),"
            json += "\"metric\":\(quoted(metric.rawValue)),\"m\":\(m),\"ef_construction\":\(efConstruction),\"k\":\(k),"
            json += "\"build_threads\":1,\"build_seconds\":\(fmt(buildSeconds)),\"index_bytes\":\(index.memoryBytes),"
            json += "\"repeats\":\(repeats),\"search\":["
            json += rows.map { row in
                "{\"ef\":\(row.ef),\"recall@\(k)\":\(fmt(row.recall)),\"qps\":\(fmt(row.qps)),"
                    + "\"qps_min\":\(fmt(row.qpsMin)),\"qps_max\":\(fmt(row.qpsMax))}"
            }.joined(separator: ",")
            json += "]}"
            print(json)
        } else {
            print("build \(fmt(buildSeconds)) s, index \(index.memoryBytes / (1 << 20)) MiB, n = \(baseVectors.rows)")
            print("ef\trecall@\(k)\tqps (median of \(repeats))")
            for row in rows { print("\(row.ef)\t\(fmt(row.recall))\t\(Int(row.qps))") }
        }
    }

    private struct SearchRow {
        var ef: Int
        var recall: Double
        var qps: Double
        var qpsMin: Double
        var qpsMax: Double
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

extension Duration {
    fileprivate var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
