import Engram
import EngramTestSupport
import Foundation
import Testing

@Suite("Vector index: crashes")
struct VectorCrashTests {
    /// The nodes with a vector after `t` commits of `engram _vector-stress insert-loop` (see
    /// `VectorStressCommand`): 20 nodes per transaction; transaction `t % 4 == 3` removes the
    /// vectors of the first 10 nodes of transaction `t − 3`.
    static func expectedNodes(afterCommits t: Int) -> Set<String> {
        var nodes = Set((0..<20 * t).map { "n\($0)" })
        for u in 0..<t where u % 4 == 3 {
            for i in 20 * (u - 3)..<20 * (u - 3) + 10 { nodes.remove("n\(i)") }
        }
        return nodes
    }

    @Test func sigkillDuringInsertsLeavesAnIndexConsistentWithTheCommittedRecords() throws {
        let binary = engramBinary()
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "build the engram executable first: \(binary)")
        let directory = try TemporaryDirectory(prefix: "engram-vector-crash")
        var generator = SeededGenerator(seed: 31)
        var killedMidway = 0
        for round in 0..<3 {
            let db = directory.appending("store\(round)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["_vector-stress", "insert-loop", "--db", db, "--count", "400"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: db + "/data.mdb") && Date() < deadline { usleep(2_000) }
            usleep(UInt32.random(in: 200_000...900_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard FileManager.default.fileExists(atPath: db + "/data.mdb") else { continue }
            let store = try EngramStore(path: db)
            guard try store.vectorIndex("docs") != nil else { continue }  // killed before the index existed
            let nodes = try store.graph().statistics().nodes
            #expect(nodes % 20 == 0, "round \(round): a transaction was half committed")
            let commits = nodes / 20
            if commits < 400 { killedMidway += 1 }
            #expect(try store._checkVectorInvariants(index: "docs") == [], "round \(round)")
            #expect(
                try store._vectorNodeIDs(index: "docs") == Self.expectedNodes(afterCommits: commits), "round \(round)")
            // The restored index goes on growing, and finds what it is given.
            let probe: [Float] = (0..<32).map { Float($0 % 7) - 3 }
            try store.graph().createNode(id: "probe")
            try store.setVector(probe, forNode: "probe", index: "docs")
            #expect(try store.searchVectors(index: "docs", query: probe, k: 1).first?.node.id == "probe")
            #expect(try store._checkVectorInvariants(index: "docs") == [], "round \(round), after growing")
        }
        #expect(killedMidway > 0, "every run finished before the kill; the test proved nothing")
    }

    /// `VectorStressCommand.InsertLoop.vector`: the stress tool's vector of node `i`.
    static func stressVector(_ i: Int, dimension: Int = 32) -> [Float] {
        var z = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        return (0..<dimension).map { _ in
            z = z &+ 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            x ^= x >> 31
            return Float(x >> 40) / Float(1 << 24) - 0.5
        }
    }

    @Test func aReaderFindsVectorsAnotherProcessCommitted() throws {
        let binary = engramBinary()
        try #require(
            FileManager.default.isExecutableFile(atPath: binary), "build the engram executable first: \(binary)")
        let directory = try TemporaryDirectory(prefix: "engram-vector-processes")
        let db = directory.appending("store")
        func stress(count: Int) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["_vector-stress", "insert-loop", "--db", db, "--count", "\(count)"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0)
        }
        try stress(count: 5)
        let store = try EngramStore(path: db)
        #expect(try store.searchVectors(index: "docs", query: Self.stressVector(50), k: 1).first?.node.id == "n50")
        try stress(count: 10)  // another process adds n100…n199 while this one has the index loaded
        #expect(try store.searchVectors(index: "docs", query: Self.stressVector(150), k: 1).first?.node.id == "n150")
        #expect(try store._checkVectorInvariants(index: "docs") == [])
    }
}
