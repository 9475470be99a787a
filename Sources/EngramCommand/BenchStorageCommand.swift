import ArgumentParser
import Engram
import EngramStorage
import Foundation

/// `engram bench storage`: the storage engine on the workload of `../shared/bench/lmdb_raw.c`.
///
/// 1,000,000 keys of 16 bytes (big-endian `i / 10,000` ‖ big-endian `i % 10,000`), values of 100
/// bytes (`(i·31 + j·7) & 0xFF`), the random order a splitmix64 shuffle seeded with 42 — the same
/// keys, values and order as the C program, so the figures compare one to one.
struct BenchStorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Puts, gets and prefix scans on 1M keys, as ../shared/bench/lmdb_raw.c does in C."
    )

    @Option(help: "Number of keys.") var n = 1_000_000
    @Option(help: "Repeats of each test; the median is reported.") var repeats = 3
    @Option(help: "Keys per durable transaction in the batched put test.") var batch = 1_000
    @Option(help: "Keys sharing one 8-byte prefix (the scan length).") var scan = 10_000
    @Option(help: "Scratch directory (wiped).") var dir = "/tmp/engram-bench-storage"
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Option(help: "Tests to run, comma-separated: put,batch,get,scan.") var tests = "put,batch,get,scan"

    static let keyLength = 16
    static let valueLength = 100

    func run() throws {
        guard n > 0, scan > 0, batch > 0, repeats > 0 else {
            throw ValidationError("--n, --scan, --batch and --repeats must be positive")
        }
        let keys = makeKeys()
        let order = shuffledOrder()
        var figures: [String: [Double]] = [:]

        let selected = Set(tests.split(separator: ",").map(String.init))
        for _ in 0..<repeats {
            if selected.contains("put") {
                figures["seq_put_1txn_per_s", default: []].append(Double(n) / (try timePut(batch: nil)))
            }
            if selected.contains("batch") {
                figures["seq_put_batch\(batch)_per_s", default: []].append(Double(n) / (try timePut(batch: batch)))
            }
        }
        if selected.contains("get") || selected.contains("scan") {
            try fillForReads(keys: keys)
        }
        for _ in 0..<repeats {
            if selected.contains("get") {
                figures["rand_get_per_s", default: []].append(Double(n) / (try timeRandomGets(keys: keys, order: order)))
            }
            if selected.contains("scan") {
                let (seconds, count) = try timePrefixScans()
                figures["prefix_scan_keys_per_s", default: []].append(Double(count) / seconds)
            }
        }
        try? FileManager.default.removeItem(atPath: dir)

        let medians = figures.mapValues { values in values.sorted()[values.count / 2] }
        switch format {
        case .json:
            var object: [String: Any] = medians.mapValues { ($0).rounded() }
            object["n"] = n
            object["repeats"] = repeats
            object["runs"] = figures.mapValues { $0.map { $0.rounded() } }
            try printJSON(object)
        case .table, .csv:
            for name in medians.keys.sorted() {
                print(name.padding(toLength: 28, withPad: " ", startingAt: 0), String(format: "%14.0f", medians[name]!))
            }
        }
    }

    // MARK: Workload

    func makeKeys() -> [UInt8] {
        var keys = [UInt8](repeating: 0, count: n * Self.keyLength)
        for i in 0..<n {
            let group = UInt64(i / scan).bigEndian
            let member = UInt64(i % scan).bigEndian
            withUnsafeBytes(of: group) { keys.replaceSubrange(i * 16..<i * 16 + 8, with: $0) }
            withUnsafeBytes(of: member) { keys.replaceSubrange(i * 16 + 8..<i * 16 + 16, with: $0) }
        }
        return keys
    }

    func shuffledOrder() -> [Int] {
        var generator = SplitMix(seed: 42)
        var order = Array(0..<n)
        var i = n
        while i > 1 {
            let j = Int(generator.next() % UInt64(i))
            order.swapAt(i - 1, j)
            i -= 1
        }
        return order
    }

    func openFresh(durability: StorageOptions.Durability = .full) throws -> StorageEnvironment {
        try? FileManager.default.removeItem(atPath: dir)
        return try open(durability: durability)
    }

    func open(durability: StorageOptions.Durability = .full) throws -> StorageEnvironment {
        var options = StorageOptions()
        options.initialMapSize = 4 << 30  // as lmdb_raw.c, so that no test pays for a map resize
        options.durability = durability
        return try StorageEnvironment.open(at: dir, options: options, keyspaces: [KeyspaceDescriptor("bench")])
    }

    @inline(__always)
    static func fillValue(_ value: UnsafeMutableRawBufferPointer, _ i: Int) {
        for j in 0..<valueLength { value[j] = UInt8(truncatingIfNeeded: i &* 31 &+ j &* 7) }
    }

    /// Sequential puts in one transaction (`batch == nil`) or in durable transactions of `batch` keys.
    func timePut(batch: Int?) throws -> Double {
        let env = try openFresh()
        let keyspace = try env.keyspace("bench")
        let keys = makeKeys()
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.valueLength, alignment: 8)
        defer { value.deallocate() }
        let start = DispatchTime.now()
        try keys.withUnsafeBytes { keyBytes in
            var next = 0
            while next < n {
                let end = min(n, next + (batch ?? n))
                try env.write { txn in
                    for i in next..<end {
                        Self.fillValue(value, i)
                        try txn.put(
                            UnsafeRawBufferPointer(value),
                            forKey: UnsafeRawBufferPointer(rebasing: keyBytes[i * 16..<i * 16 + 16]), in: keyspace)
                    }
                }
                next = end
            }
        }
        let seconds = Self.seconds(since: start)
        let count = try env.read { try $0.count(in: keyspace) }
        guard count == n else { throw ValidationError("expected \(n) entries, found \(count)") }
        return seconds
    }

    func fillForReads(keys: [UInt8]) throws {
        let env = try openFresh(durability: .noSync)
        let keyspace = try env.keyspace("bench")
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.valueLength, alignment: 8)
        defer { value.deallocate() }
        try keys.withUnsafeBytes { keyBytes in
            try env.write { txn in
                for i in 0..<n {
                    Self.fillValue(value, i)
                    try txn.append(
                        UnsafeRawBufferPointer(value),
                        forKey: UnsafeRawBufferPointer(rebasing: keyBytes[i * 16..<i * 16 + 16]), in: keyspace)
                }
            }
        }
        try env.sync()
    }

    func timeRandomGets(keys: [UInt8], order: [Int]) throws -> Double {
        let env = try open()
        let keyspace = try env.keyspace("bench")
        var sum = 0
        let start = DispatchTime.now()
        try keys.withUnsafeBytes { keyBytes in
            try env.read { txn in
                for id in order {
                    sum &+= try txn.withValue(
                        forKey: UnsafeRawBufferPointer(rebasing: keyBytes[id * 16..<id * 16 + 16]), in: keyspace
                    ) { Int($0![0]) }
                }
            }
        }
        let seconds = Self.seconds(since: start)
        if sum == 42 { printDiagnostic(" ") }
        return seconds
    }

    /// Scans every group of `scan` keys sharing an 8-byte prefix, in shuffled group order.
    func timePrefixScans() throws -> (seconds: Double, keys: Int) {
        let env = try open()
        let keyspace = try env.keyspace("bench")
        let groups = n / scan
        // Seeded splitmix64 like lmdb_raw.c (whose group shuffle continues its key shuffle's stream, so
        // the order differs; every group is scanned either way).
        var generator = SplitMix(seed: 42)
        var groupOrder = Array(0..<groups)
        var i = groups
        while i > 1 {
            groupOrder.swapAt(i - 1, Int(generator.next() % UInt64(i)))
            i -= 1
        }
        var total = 0
        var sum = 0
        let start = DispatchTime.now()
        try env.read { txn in
            for group in groupOrder {
                let prefix = withUnsafeBytes(of: UInt64(group).bigEndian) { Array($0) }
                try txn.scan(in: keyspace, prefix: prefix) { _, value in
                    sum &+= Int(value[1])
                    total += 1
                    return true
                }
            }
        }
        let seconds = Self.seconds(since: start)
        if sum == 42 { printDiagnostic(" ") }
        return (seconds, total)
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
