import ArgumentParser
import Engram
import Foundation

/// `engram bench graph --data DIR`: loads ../shared/bench's graph-100k-1m and times the queries
/// that `kuzu_graph.py` times on Kùzu, through Engram's graph API.
struct BenchGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Load graph-100k-1m and time point lookups, 1-hop and 2-hop queries (beside kuzu_graph.py)."
    )

    @OptionGroup var graphData: GraphBenchOptions
    @Option(help: "Scratch directory for the store (wiped).") var dir = "/tmp/engram-bench-graph"
    @Option(help: "Records per load transaction.") var batchSize = 1_000_000
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        let bench = try graphData.load()
        let repeats = graphData.repeats
        let nodes = bench.nodes
        let relationships = bench.relationships
        try? FileManager.default.removeItem(atPath: dir)
        let store = try EngramStore(path: dir)
        let graph = store.graph()
        let loadStart = DispatchTime.now()
        try graph.bulkLoad(nodes: nodes, relationships: relationships, batchSize: batchSize)
        let loadSeconds = BenchStorageCommand.seconds(since: loadStart)
        let sampled = bench.sampled
        let hub = bench.hub
        let points = bench.points

        func median(_ ids: [String], repeats: Int, _ body: (String) throws -> Int) throws -> (ms: Double, rows: Int) {
            var times: [Double] = []
            var rows: [Int] = []
            for id in ids {
                rows.append(try body(id))  // warm-up
                for _ in 0..<repeats {
                    let start = DispatchTime.now()
                    _ = try body(id)
                    times.append(BenchStorageCommand.seconds(since: start) * 1000)
                }
            }
            times.sort()
            rows.sort()
            return (times[times.count / 2], rows[rows.count / 2])
        }
        let pointLookup = try median(points, repeats: max(1, repeats / 2)) { id in
            guard let node = try graph.node(id: id), node.properties["name"] != nil else { return 0 }
            return 1
        }
        // As Kùzu's hop1_out returns (b.id, r.type, r.weight): the relationships, with the other
        // end's id; `hop1_out_full` also reads every neighbour's labels and properties.
        let hop1 = { (id: String) throws -> Int in try graph.relationships(of: id, direction: .outgoing).count }
        let hop1Full = { (id: String) throws -> Int in try graph.neighbors(of: id, direction: .outgoing).count }
        let hop2 = { (id: String) throws -> Int in try graph.countNodes(atHops: 2, from: id, direction: .outgoing) }
        let hop1Sample = try median(sampled, repeats: repeats, hop1)
        let hop2Sample = try median(sampled, repeats: repeats, hop2)
        let hop1Hub = try median([hub], repeats: 2, hop1)
        let hop1FullSample = try median(sampled, repeats: repeats, hop1Full)
        let hop1FullHub = try median([hub], repeats: 2, hop1Full)
        let hop2Hub = try median([hub], repeats: 2, hop2)

        let figures: [String: Any] = [
            "load_s": loadSeconds,
            "point_lookup_ms": pointLookup.ms,
            "hop1_out_ms": hop1Sample.ms, "hop1_out_rows": hop1Sample.rows,
            "hop1_out_full_ms": hop1FullSample.ms, "hub_hop1_out_full_ms": hop1FullHub.ms,
            "hop2_distinct_count_ms": hop2Sample.ms, "hop2_distinct_count": hop2Sample.rows,
            "hub_id": hub, "hub_out_degree": bench.hubOutDegree,
            "hub_hop1_out_ms": hop1Hub.ms, "hub_hop1_out_rows": hop1Hub.rows,
            "hub_hop2_distinct_count_ms": hop2Hub.ms, "hub_hop2_distinct_count": hop2Hub.rows,
            "nodes": nodes.count, "relationships": relationships.count,
            "store_bytes": store.info().usedBytes,
        ]
        try? FileManager.default.removeItem(atPath: dir)
        try printFigures(figures, format: format)
    }
}

