import EngramTestSupport
import EngramVector
import Foundation
import Testing

@Suite("Bad input gets typed errors")
struct VectorInputTests {
    static func indexes() throws -> [any VectorIndex] {
        [
            try HNSWIndex(dimension: 4, metric: .cosine, parameters: HNSWParameters(m: 4, efConstruction: 8)),
            try ExactVectorIndex(dimension: 4, metric: .cosine),
        ]
    }

    @Test("Wrong dimensions, NaN, infinities and zero vectors are rejected")
    func badVectors() throws {
        for index in try Self.indexes() {
            try index.insert([1, 0, 0, 0], id: 1)
            #expect(throws: VectorIndexError.dimensionMismatch(expected: 4, got: 3)) {
                try index.insert([1, 2, 3], id: 2)
            }
            expectError(.dimensionMismatch) { try index.search([1, 2, 3, 4, 5], limit: 1) }
            expectError(.nonFiniteComponent) { try index.insert([1, .nan, 0, 0], id: 3) }
            expectError(.nonFiniteComponent) { try index.insert([1, 0, .infinity, 0], id: 3) }
            expectError(.nonFiniteComponent) { try index.search([.nan, 0, 0, 0], limit: 1) }
            expectError(.nonFiniteComponent) { try index.update([.nan, 0, 0, 0], id: 1) }
            expectError(.zeroVector) { try index.insert([0, 0, 0, 0], id: 4) }
            expectError(.duplicateID) { try index.insert([0, 1, 0, 0], id: 1) }
            expectError(.unknownID) { try index.remove(9) }
            expectError(.unknownID) { try index.update([0, 1, 0, 0], id: 9) }
            expectError(.invalidParameter) { try index.search([1, 0, 0, 0], limit: 0) }
            #expect(index.count == 1)
            #expect(try index.search([1, 0, 0, 0], limit: 5).map(\.id) == [1])
        }
        expectError(.invalidParameter) { try HNSWIndex(dimension: 0, metric: .l2) }
        expectError(.invalidParameter) {
            try HNSWIndex(dimension: 4, metric: .l2, parameters: HNSWParameters(m: 1))
        }
        expectError(.invalidParameter) {
            try HNSWIndex(dimension: 4, metric: .l2).search([1, 0, 0, 0], limit: 1, ef: 0)
        }
    }

    @Test("An error names its code and says what happened")
    func errorDescription() {
        let error = VectorIndexError.dimensionMismatch(expected: 384, got: 768)
        #expect(error.code.rawValue == "dimensionMismatch")
        #expect(error.description.contains("384") && error.description.contains("768"))
    }

    @Test("Scores follow the metric")
    func scores() throws {
        for metric in VectorMetric.allCases {
            let index = try ExactVectorIndex(dimension: 2, metric: metric)
            try index.insert([3, 4], id: 1)
            let hit = try #require(try index.search([3, 4], limit: 1).first)
            switch metric {
            case .cosine: #expect(abs(hit.score - 1) < 1e-6)
            case .dotProduct: #expect(hit.score == 25)
            case .l2: #expect(hit.score == 0)
            }
        }
    }

    @Test("Concurrent searches run beside one writer")
    func concurrentSearches() async throws {
        let index = try HNSWIndex(dimension: 16, metric: .l2, parameters: HNSWParameters(m: 8, efConstruction: 32))
        var data = ClusteredData(dimension: 16, clusters: 4, seed: 9)
        for i in 0..<500 { try index.insert(data.point(), id: UInt64(i)) }
        let more = data.points(500)
        let queries = data.points(50)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for (i, v) in more.enumerated() {
                    try index.insert(v, id: UInt64(500 + i))
                    if i % 3 == 0 { try index.remove(UInt64(i)) }
                }
            }
            for worker in 0..<3 {
                group.addTask {
                    for round in 0..<20 {
                        let results = try index.search(queries[(worker + round) % queries.count], limit: 10)
                        #expect(results.count == 10)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(index._checkInvariants() == [])
    }
}

@Suite("TEXMEX files")
struct TexmexFileTests {
    private func write(_ words: [UInt32], to path: String) throws {
        let data = words.withUnsafeBufferPointer { Data(buffer: $0) }
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test("fvecs and ivecs files are read row by row")
    func readsRows() throws {
        let directory = try TemporaryDirectory(prefix: "texmex")
        let path = directory.appending("a.fvecs")
        try write(
            [2, Float(1.5).bitPattern, Float(-2).bitPattern, 2, Float(3).bitPattern, Float(4).bitPattern], to: path)
        let matrix = try TexmexFile.readFloatVectors(at: path)
        #expect(matrix.dimension == 2 && matrix.rows == 2)
        #expect(matrix.values == [1.5, -2, 3, 4])
        #expect(Array(matrix.row(1)) == [3, 4])
        let ipath = directory.appending("a.ivecs")
        try write([3, 7, 8, 9], to: ipath)
        let ints = try TexmexFile.readIntVectors(at: ipath)
        #expect(ints.values == [7, 8, 9] && ints.rows == 1)
    }

    @Test(
        "Malformed files give malformedFile",
        arguments: [
            [], [2], [0, 1], [UInt32(bitPattern: -3), 1, 2], [2, 1, 2, 2, 1], [2, 1, 2, 3, 1, 2],
        ] as [[UInt32]])
    func malformed(words: [UInt32]) throws {
        let directory = try TemporaryDirectory(prefix: "texmex")
        let path = directory.appending("bad.fvecs")
        try write(words, to: path)
        expectError(.malformedFile) { try TexmexFile.readFloatVectors(at: path) }
        expectError(.malformedFile) { try TexmexFile.readIntVectors(at: path) }
    }

    @Test("A missing file gives malformedFile")
    func missing() throws {
        let directory = try TemporaryDirectory(prefix: "texmex")
        expectError(.malformedFile) {
            try TexmexFile.readFloatVectors(at: directory.appending("nope.fvecs"))
        }
    }
}
