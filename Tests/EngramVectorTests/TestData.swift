import EngramTestSupport
import EngramVector
import Foundation
import Testing

/// Seeded test vectors that look like sentence embeddings: points scattered around cluster
/// centres on the unit sphere, most of the spread in a few private directions per cluster.
struct ClusteredData {
    let dimension: Int
    private var centres: [[Float]] = []
    private var bases: [[[Float]]] = []
    private var generator: SeededGenerator

    init(dimension: Int = 384, clusters: Int = 40, seed: UInt64) {
        self.dimension = dimension
        generator = SeededGenerator(seed: seed)
        for _ in 0..<clusters {
            centres.append(Self.unit(randomGaussian(dimension)))
            bases.append((0..<8).map { _ in Self.unit(randomGaussian(dimension)) })
        }
    }

    /// `count` further points of the mixture.
    mutating func points(_ count: Int) -> [[Float]] {
        (0..<count).map { _ in point() }
    }

    mutating func point() -> [Float] {
        let c = Int(generator.next() % UInt64(centres.count))
        var v = centres[c]
        for direction in bases[c] {
            let g = 0.45 * gaussian()
            for i in 0..<dimension { v[i] += g * direction[i] }
        }
        for i in 0..<dimension { v[i] += 0.04 * gaussian() }
        return Self.unit(v)
    }

    private mutating func randomGaussian(_ n: Int) -> [Float] { (0..<n).map { _ in gaussian() } }

    mutating func gaussian() -> Float {
        let u1 = Double(generator.next() >> 11) * 0x1p-53 + 0x1p-54
        let u2 = Double(generator.next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
    }

    static func unit(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}

/// The fraction of `exact`'s ids that `approximate` found, over all queries.
func recall(_ approximate: [[VectorSearchResult]], _ exact: [[VectorSearchResult]]) -> Double {
    var hits = 0
    var total = 0
    for (a, e) in zip(approximate, exact) {
        let truth = Set(e.map(\.id))
        hits += a.filter { truth.contains($0.id) }.count
        total += e.count
    }
    return total == 0 ? 1 : Double(hits) / Double(total)
}

/// A shared, built-once data set and index (building is the slow part of these tests).
enum Fixture {
    static let dimension = 384
    static let baseCount = 10_000

    /// The base vectors, then 100 queries.
    static let data: (base: [[Float]], queries: [[Float]]) = {
        var generator = ClusteredData(dimension: dimension, seed: 7)
        return (generator.points(baseCount), generator.points(100))
    }()

    /// The index over `data.base`, ids 0..<baseCount, with the change set of every insert.
    static let built: (index: HNSWIndex, changes: HNSWChangeSet) = {
        let index = try! HNSWIndex(dimension: dimension, metric: .cosine, capacity: baseCount)
        var changes = HNSWChangeSet()
        for (i, v) in data.base.enumerated() { try! index.insert(v, id: UInt64(i), changes: &changes) }
        return (index, changes)
    }()

    static let exact: ExactVectorIndex = {
        let exact = try! ExactVectorIndex(dimension: dimension, metric: .cosine)
        for (i, v) in data.base.enumerated() { try! exact.insert(v, id: UInt64(i)) }
        return exact
    }()

    /// A private copy of the built index, restored from its records (no distance computed).
    static func copy() throws -> HNSWIndex {
        let index = built.index
        return try HNSWIndex(
            dimension: dimension, metric: .cosine, parameters: index.parameters, restoringFrom: index.exportRecords(),
            capacity: baseCount)
    }
}

/// Expects `body` to throw a ``VectorIndexError`` with `code`.
func expectError<R>(
    _ code: VectorIndexError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) {
    let error = #expect(throws: VectorIndexError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
}
