import EngramCore
import EngramStorage
import EngramTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Durability and concurrency", .serialized)
struct DurabilityTests {
    /// Decodes the big-endian integer the write loop stores.
    static func number(_ bytes: [UInt8]) -> Int { Int(bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }

    static func loopKey(_ i: Int, _ j: Int) -> [UInt8] {
        var writer = KeyWriter()
        writer.append(UInt8(0x01))
        writer.append(UInt64(i))
        writer.append(UInt32(j))
        return writer.bytes
    }

    /// Starts the write loop, lets it commit until `kill` commits were reported (at least), then
    /// SIGKILLs it. Returns the highest transaction number it reported as committed.
    static func runWriteLoopAndKill(db: String, afterReports target: Int, initialMapSize: Int) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: engramBinary())
        process.arguments = ["_stress", "write-loop", "--db", db, "--initial-map-size", String(initialMapSize)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        var reported = -1
        var lines = 0
        let reader = pipe.fileHandleForReading
        while lines < target {
            let chunk = reader.availableData
            if chunk.isEmpty { break }  // the child exited
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if let value = Int(line) {
                    reported = value
                    lines += 1
                }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return reported
    }

    @Test func sigkillDuringCommitsLeavesTheLastCommit() throws {
        let binary = engramBinary()
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the engram executable first: \(binary)")
        let directory = try TemporaryDirectory(prefix: "engram-crash")
        let db = directory.appending("store")
        var generator = SeededGenerator(seed: 99)
        var reportedSoFar = -1
        for round in 0..<6 {
            // A tiny map in odd rounds, so some kills land while the map grows.
            let mapSize = round % 2 == 1 ? 64 << 10 : 256 << 20
            let reported = try Self.runWriteLoopAndKill(
                db: db, afterReports: Int.random(in: 20...150, using: &generator), initialMapSize: mapSize)
            #expect(reported > reportedSoFar, "round \(round): the child made no progress")
            reportedSoFar = max(reportedSoFar, reported)

            let env = try StorageEnvironment.open(at: db, keyspaces: [KeyspaceDescriptor("items")])
            let items = try env.keyspace("items")
            try env.read { (txn) throws in
                let last = try #require(try txn.value(forKey: Array("last".utf8), in: items).map(Self.number))
                #expect(last >= reported, "round \(round): commit \(reported) was reported but the store ends at \(last)")
                // Every transaction up to `last` is whole, none after it exists.
                #expect(try txn.count(in: items) == (last + 1) * 10 + 1)
                for i in 0...last {
                    for j in 0..<10 {
                        let value = try #require(try txn.value(forKey: Self.loopKey(i, j), in: items), "round \(round): key (\(i), \(j)) lost")
                        #expect(Self.number(Array(value.suffix(8))) == i)
                    }
                }
            }
        }
    }

    @Test func mapGrowsFromATinyMapWhileWriting100MB() throws {
        var options = StorageOptions()
        options.initialMapSize = 64 << 10
        options.durability = .noSync  // growth is under test, not fsync
        let store = try TestStore(options: options)
        let startSize = store.environment.info().mapSize
        var generator = SeededGenerator(seed: 5)
        let valueSize = 100_000
        let transactions = 50
        let perTransaction = 20  // 50 × 20 × 100 kB = 100 MB
        var checksums: [Int: UInt8] = [:]
        for t in 0..<transactions {
            try store.environment.write { (txn) throws in
                for k in 0..<perTransaction {
                    let i = t * perTransaction + k
                    let fill = UInt8.random(in: 0...255, using: &generator)
                    checksums[i] = fill
                    try txn.put([UInt8](repeating: fill, count: valueSize), forKey: key(i), in: store.items)
                }
            }
        }
        let info = store.environment.info()
        #expect(startSize < 1 << 20)
        #expect(info.mapSize >= 100 << 20)
        try store.reopen(options: options)
        try store.environment.read { (txn) throws in
            let items = try store.environment.keyspace("items")
            #expect(try txn.count(in: items) == transactions * perTransaction)
            for (i, fill) in checksums {
                let value = try #require(try txn.value(forKey: key(i), in: items))
                #expect(value.count == valueSize && value.first == fill && value.last == fill)
            }
        }
    }

    @Test func readersSeeConsistentSnapshotsWhileAWriterCommits() throws {
        var options = StorageOptions()
        options.durability = .noSync
        options.initialMapSize = 64 << 10  // growth happens while the readers run
        let store = try TestStore(options: options)
        let env = store.environment!
        let items = store.items
        let slots = 16
        try env.write { (txn) throws in
            for s in 0..<slots { try txn.put(KeyWriter.bigEndian(UInt64(0)) + [UInt8](repeating: 0, count: 64), forKey: key(s), in: items) }
        }
        let done = Atomic<Bool>(false)
        let inconsistencies = Atomic<Int>(0)
        let snapshotsRead = Atomic<Int>(0)
        let readersRunning = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                readersRunning.add(1, ordering: .relaxed)
                while !done.load(ordering: .relaxed) {
                    let values: [UInt64] = (try? env.read { (txn) throws in
                        var seen: [UInt64] = []
                        for s in 0..<slots {
                            if let v = try txn.value(forKey: key(s), in: items) {
                                seen.append(v.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
                            }
                        }
                        // The snapshot must not move under a long read.
                        let again = try txn.value(forKey: key(0), in: items)!.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                        seen.append(again)
                        return seen
                    }) ?? []
                    if values.count != slots + 1 || Set(values).count != 1 {
                        inconsistencies.add(1, ordering: .relaxed)
                    }
                    snapshotsRead.add(1, ordering: .relaxed)
                }
            }.start()
        }
        while readersRunning.load(ordering: .relaxed) < 4 { usleep(1_000) }
        for version in 1...2_000 {
            try env.write { (txn) throws in
                for s in 0..<slots {
                    // Grow each value so the map must grow too.
                    let padding = [UInt8](repeating: UInt8(truncatingIfNeeded: version), count: 64 + version * 2)
                    try txn.put(KeyWriter.bigEndian(UInt64(version)) + padding, forKey: key(s), in: items)
                }
            }
        }
        let readBeforeStop = snapshotsRead.load(ordering: .relaxed)
        while snapshotsRead.load(ordering: .relaxed) < readBeforeStop + 4 { usleep(1_000) }
        done.store(true, ordering: .relaxed)
        group.wait()
        #expect(inconsistencies.load(ordering: .relaxed) == 0)
        #expect(snapshotsRead.load(ordering: .relaxed) > 0)
        #expect(env.info().mapSize > 64 << 10)
    }
}
