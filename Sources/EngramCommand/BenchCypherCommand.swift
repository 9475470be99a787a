import ArgumentParser
import Engram
import Foundation

/// `engram bench cypher --data DIR`: the queries of `kuzu_graph.py`, through Engram's Cypher, on
/// graph-100k-1m.
///
/// Kùzu's schema keeps the relationship type as a property of one `RELATED` table and the entity id
/// as a property; Engram stores the type as the relationship's type and the id as the node's public
/// id, so the queries are translated one to one: `{id: $id}` → `WHERE elementId(a) = $id`,
/// `[r:RELATED]` → `[r]`, `r.type` → `type(r)`.
struct BenchCypherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cypher",
        abstract: "Time kuzu_graph.py's queries through Engram's Cypher on graph-100k-1m."
    )

    @OptionGroup var graphData: GraphBenchOptions
    @Option(help: "Scratch directory for the store (wiped).") var dir = "/tmp/engram-bench-cypher"
    @Option(help: "Per-query time limit in seconds (Kùzu's script uses 60).") var timeout = 60.0
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Option(help: "Run only the queries with these names (repeatable); all when absent.") var only: [String] = []
    @Flag(help: "Keep the loaded store in --dir, and reuse it when it is already there (skips the load).")
    var keep = false
    @Option(help: "kuzu_answers.json of a kuzu_graph.py run: time the very same sampled and point-lookup nodes.")
    var nodesFrom: String?
    @Option(
        name: .customLong("query"),
        help: "Time this query (no parameters) on the store kept in --dir instead of kuzu_graph.py's (repeatable).")
    var customQueries: [String] = []

    static let queries: [(name: String, text: String, kind: String)] = [
        ("point_lookup", "MATCH (e:Entity) WHERE elementId(e) = $id RETURN e.name, e.type", "point"),
        ("hop1_out", "MATCH (a:Entity)-[r]->(b:Entity) WHERE elementId(a) = $id RETURN elementId(b), type(r), r.weight", "node"),
        ("hop1_out_count", "MATCH (a:Entity)-[r]->(b:Entity) WHERE elementId(a) = $id RETURN count(*)", "node"),
        (
            "hop2_distinct_count",
            "MATCH (a:Entity)-[]->(:Entity)-[]->(c:Entity) WHERE elementId(a) = $id RETURN count(DISTINCT c)", "node"
        ),
        (
            "agg_person_weight",
            "MATCH (a:Entity)-[r]->(b:Entity) WHERE a.type = 'PERSON' AND r.weight > 0.5 RETURN b.type, count(*) ORDER BY count(*) DESC LIMIT 10",
            "global"
        ),
        ("varlen_1_3_count", "MATCH (a:Entity)-[*1..3]->(b:Entity) WHERE elementId(a) = $id RETURN count(*)", "node"),
        (
            "varlen_1_3_distinct",
            "MATCH (a:Entity)-[*1..3]->(b:Entity) WHERE elementId(a) = $id RETURN count(DISTINCT b)", "node"
        ),
    ]

    func run() throws {
        if !customQueries.isEmpty { return try runCustom() }
        var bench = try graphData.load()
        let repeats = graphData.repeats
        if let nodesFrom { try bench.useNodes(fromKuzuAnswers: nodesFrom) }
        let reuse = keep && FileManager.default.fileExists(atPath: dir + "/data.mdb")
        if !reuse { try? FileManager.default.removeItem(atPath: dir) }
        let store = try EngramStore(path: dir)
        if !reuse { try store.graph().bulkLoad(nodes: bench.nodes, relationships: bench.relationships) }
        let limits = CypherLimits(timeout: .seconds(timeout))

        var results: [[String: Any]] = []
        for query in Self.queries where only.isEmpty || only.contains(query.name) {
            let sets: [(String, [String?])] =
                switch query.kind {
                case "point": [("random200", bench.points.map { $0 })]
                case "global": [("-", [nil])]
                default: [("sample", bench.sampled.map { $0 }), ("hub", [bench.hub])]
                }
            for (setName, ids) in sets {
                let reps = setName == "hub" ? (query.name.hasPrefix("varlen") ? 1 : 2) : (query.kind == "point" ? max(1, repeats / 2) : repeats)
                var times: [Double] = []
                var cpuTimes: [Double] = []
                var rows: [Int] = []
                var firstResult = ""
                var failure: String?
                for id in ids {
                    let parameters: [String: PropertyValue] = id.map { ["id": .string($0)] } ?? [:]
                    do {
                        let warm = try store.query(query.text, parameters: parameters, limits: limits)
                        rows.append(warm.rows.count)
                        if firstResult.isEmpty { firstResult = String(warm.rows.prefix(3).description.prefix(80)) }
                        for _ in 0..<reps {
                            let start = DispatchTime.now()
                            let cpuStart = threadCPUSeconds()
                            _ = try store.query(query.text, parameters: parameters, limits: limits)
                            cpuTimes.append((threadCPUSeconds() - cpuStart) * 1000)
                            times.append(BenchStorageCommand.seconds(since: start) * 1000)
                        }
                    } catch {
                        failure = "\(error)".prefix(120).description
                        break
                    }
                }
                times.sort()
                cpuTimes.sort()
                rows.sort()
                var row: [String: Any] = ["query": query.name, "nodes": setName]
                if let failure {
                    row["error"] = failure
                } else {
                    row["ms_median"] = times[times.count / 2]
                    row["ms_p90"] = times[min(times.count - 1, times.count * 9 / 10)]
                    // The querying thread's CPU time: on a shared machine, wall time also counts the
                    // time the thread waited for a core (kuzu_graph.py reports the same).
                    row["cpu_ms_median"] = cpuTimes[cpuTimes.count / 2]
                    row["rows_median"] = rows[rows.count / 2]
                    row["first_result"] = firstResult
                }
                results.append(row)
                if format != .json {
                    let figure =
                        failure
                        ?? String(
                            format: "median %.3f ms, p90 %.3f ms, CPU %.3f ms", row["ms_median"] as! Double,
                            row["ms_p90"] as! Double, row["cpu_ms_median"] as! Double)
                    print("\(query.name) [\(setName)]: \(figure) \(failure == nil ? firstResult : "")")
                }
            }
        }
        if !keep { try? FileManager.default.removeItem(atPath: dir) }
        if format == .json { try printJSON(["queries": results, "hub_id": bench.hub]) }
    }
}

extension BenchCypherCommand {
    /// Times the `--query` queries on the store kept in `--dir`, which must exist.
    func runCustom() throws {
        guard FileManager.default.fileExists(atPath: dir + "/data.mdb") else {
            throw ValidationError("--query times queries on a store kept in --dir; run once with --keep and no --query first")
        }
        let store = try EngramStore(path: dir)
        let limits = CypherLimits(timeout: .seconds(timeout))
        var results: [[String: Any]] = []
        for (index, text) in customQueries.enumerated() {
            let name = "query\(index + 1)"
            let warm = try store.query(text, limits: limits)
            var cpuTimes: [Double] = []
            for _ in 0..<graphData.repeats {
                let cpuStart = threadCPUSeconds()
                _ = try store.query(text, limits: limits)
                cpuTimes.append((threadCPUSeconds() - cpuStart) * 1000)
            }
            cpuTimes.sort()
            let first = String(warm.rows.prefix(3).description.prefix(80))
            results.append(["query": name, "text": text, "cpu_ms_median": cpuTimes[cpuTimes.count / 2], "first_result": first])
            if format != .json {
                print(String(format: "%@: CPU median %.3f ms, min %.3f ms  %@", name, cpuTimes[cpuTimes.count / 2], cpuTimes[0], first))
            }
        }
        if format == .json { try printJSON(["queries": results]) }
    }
}

/// The options both graph benchmarks take: where graph-100k-1m is, which typical nodes to time
/// (a seeded sample), and how often.
struct GraphBenchOptions: ParsableArguments {
    @Option(help: "Data directory holding graph-100k-1m/ (../shared/bench/make_data.py).") var data = "/tmp/benchdata"
    @Option(help: "Typical nodes to sample (out-degree ≥ 1).") var sample = 20
    @Option(help: "Repeats of each query per node.") var repeats = 10
    @Option(help: "Seed of the node sample.") var seed: UInt64 = 42

    /// Reads the graph and draws the node sample.
    func load() throws -> GraphBenchData { try GraphBenchData(data: data, sample: sample, seed: seed) }
}

/// graph-100k-1m read from its CSV files, with a seeded sample of typical nodes, the hub and 200
/// random point-lookup ids.
struct GraphBenchData {
    let nodes: [NodeImport]
    let relationships: [RelationshipImport]
    private(set) var sampled: [String]
    let hub: String
    let hubOutDegree: Int
    private(set) var points: [String]

    /// Takes the sampled nodes and the point-lookup ids from the `answers` of `kuzu_answers.json`
    /// (`hop1_out` on `sample`, `point_lookup`), so that both engines time the same nodes.
    mutating func useNodes(fromKuzuAnswers path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let answers = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["answers"] as? [[String: Any]] ?? []
        func ids(_ query: String, _ nodes: String) -> [String] {
            let entry = answers.first { $0["query"] as? String == query && $0["nodes"] as? String == nodes }
            return (entry?["answers"] as? [[String: Any]] ?? []).compactMap { ($0["params"] as? [String: Any])?["id"] as? String }
        }
        let sample = ids("hop1_out", "sample")
        let lookups = ids("point_lookup", "random200")
        guard !sample.isEmpty, !lookups.isEmpty else {
            throw ValidationError("\(path) holds no hop1_out sample or point_lookup ids")
        }
        sampled = sample
        points = lookups
    }

    init(data: String, sample: Int, seed: UInt64) throws {
        let folder = data + "/graph-100k-1m"
        nodes = try GraphCSV.nodes(atPath: folder + "/entities.csv")
        relationships = try GraphCSV.relationships(atPath: folder + "/relations.csv")
        var outDegree: [String: Int] = [:]
        for relationship in relationships { outDegree[relationship.from, default: 0] += 1 }
        let candidates = outDegree.keys.sorted()
        var generator = SplitMix(seed: seed)
        var sampled: [String] = []
        var chosen = Set<Int>()
        while sampled.count < min(sample, candidates.count) {
            let index = Int(generator.next() % UInt64(candidates.count))
            if chosen.insert(index).inserted { sampled.append(candidates[index]) }
        }
        self.sampled = sampled
        let hub = outDegree.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!
        self.hub = hub.key
        hubOutDegree = hub.value
        let nodes = nodes
        points = (0..<200).map { _ in nodes[Int(generator.next() % UInt64(nodes.count))].id }
    }
}
