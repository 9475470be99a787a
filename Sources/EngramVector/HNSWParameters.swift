import Foundation

/// The construction and search parameters of an HNSW index.
///
/// The defaults are hnswlib's and are explained in `docs/hnsw.md`:
///
/// ```swift
/// var parameters = HNSWParameters()      // M = 16, efConstruction = 200, efSearch = 64
/// parameters.efSearch = 100                // more recall, fewer queries per second
/// ```
public struct HNSWParameters: Sendable, Hashable, Codable {
    /// The number of links a node keeps on each upper level (`M`); level 0 keeps `2·M`.
    ///
    /// 16 is hnswlib's and faiss's default: at 384 dimensions it gives recall@10 ≥ 0.95 at small
    /// `ef` while a node's level-0 list (32 × 4 bytes) stays a small fraction of its vector (1,536
    /// bytes). Must be between 2 and 255.
    public var m: Int

    /// The size of the candidate list while inserting (`efConstruction`).
    ///
    /// 200 is hnswlib's default: the graph quality stops improving noticeably above it at `M = 16`,
    /// while build time grows about linearly with it. Must be at least ``m``.
    public var efConstruction: Int

    /// The default size of the candidate list at query time (`ef`), used when a search does not
    /// give its own; it is raised to the number of results asked for when that is larger.
    ///
    /// 64 reaches recall@10 ≥ 0.95 on clustered 384-dimensional sentence-like embeddings up to
    /// 100,000 vectors (see `docs/hnsw.md`), at a few thousand queries per second per core.
    public var efSearch: Int

    /// The seed of the level generator, so that building the same vectors in the same order gives
    /// the same graph.
    public var seed: UInt64

    /// Creates parameters.
    ///
    /// - Parameters:
    ///   - m: links per node on upper levels (level 0 keeps `2·m`).
    ///   - efConstruction: candidate list size while inserting.
    ///   - efSearch: default candidate list size while searching.
    ///   - seed: seed of the level generator.
    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 100) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
    }

    /// The number of links a node keeps on level 0 (`2·M`, as in hnswlib: level 0 holds every
    /// node, so it needs the denser graph).
    public var maxLinksLevel0: Int { 2 * m }

    /// The level multiplier `mL = 1 / ln(M)`: a node reaches level `l` with probability `M^−l`.
    public var levelMultiplier: Double { 1 / Foundation.log(Double(m)) }

    /// Throws ``VectorIndexError`` with code ``VectorIndexError/Code/invalidParameter`` unless every
    /// parameter is in range.
    package func validate() throws(VectorIndexError) {
        guard (2...255).contains(m) else { throw .invalidParameter("m must be in 2...255, got \(m)") }
        guard efConstruction >= m, efConstruction <= 1 << 16 else {
            throw .invalidParameter("efConstruction must be in \(m)...65536, got \(efConstruction)")
        }
        guard efSearch >= 1, efSearch <= 1 << 16 else {
            throw .invalidParameter("efSearch must be in 1...65536, got \(efSearch)")
        }
    }
}
