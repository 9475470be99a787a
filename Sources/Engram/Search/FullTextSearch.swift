import EngramCore
import EngramStorage
import Foundation

/// The parameters of Okapi BM25 as the full-text index scores it.
///
/// For a query with distinct terms q₁…qₘ (after analysis; a term repeated in the query counts
/// once) and a document d of length |d| (in terms) in a group of N documents of mean length
/// avgdl:
///
///     score(d) = Σᵢ idf(qᵢ) · tf(qᵢ, d) · (k1 + 1) / (tf(qᵢ, d) + k1 · (1 − b + b · |d| / avgdl))
///     idf(q)   = ln(1 + (N − n(q) + 0.5) / (n(q) + 0.5))
///
/// where n(q) is the number of documents holding q — Lucene's BM25 (its idf is never negative).
/// N, n and avgdl are those of the tenant's whole group, whatever the filter of a search.
package struct BM25Parameters: Sendable, Hashable {
    /// Term-frequency saturation: 1.2, the value of Robertson's experiments and Lucene's default.
    package var k1: Double
    /// Length normalisation: 0.75, likewise.
    package var b: Double

    /// BM25 with these parameters (k1 = 1.2, b = 0.75 unless given).
    package init(k1: Double = 1.2, b: Double = 0.75) {
        self.k1 = k1
        self.b = b
    }

    /// The inverse document frequency of a term held by `n` of `count` documents.
    @inline(__always)
    package static func idf(documentCount count: Int, documentFrequency n: Int) -> Double {
        log(1 + (Double(count) - Double(n) + 0.5) / (Double(n) + 0.5))
    }
}

/// A document found by a keyword search: its internal node id and its BM25 score.
package struct KeywordHit: Sendable, Hashable {
    /// The internal id of the node.
    package var node: UInt64
    /// The BM25 score, greater for better matches.
    package var score: Double

    package init(node: UInt64, score: Double) {
        self.node = node
        self.score = score
    }
}

extension GraphSession {
    /// The best `limit` documents of `group` for `query`, best first (ties: lower node id
    /// first), scored by BM25 over this tenant's index, in this session's transaction.
    ///
    /// `allow` is asked about candidates in score order, before the cut: a rejected document
    /// does not take a place, so a filter never starves the result while enough documents
    /// match. It is called at most once per matching document, and only until `limit`
    /// documents are allowed.
    ///
    /// ```swift
    /// let hits = try session.keywordSearch("window seat", group: .memories, limit: 10) { node in
    ///     try visible(node)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - query: free text, analyzed like the indexed text (with the index's options).
    ///   - group: which documents to search.
    ///   - limit: the most hits returned; at least 1.
    ///   - parameters: BM25's k1 and b.
    ///   - allow: keeps a document when it returns `true`; `nil` keeps every document.
    /// - Returns: the hits; empty when no query term is in the index.
    /// - Throws: `invalidArgument` for a limit below 1; what `allow` throws.
    /// - Complexity: O(P · m + c + k log c) for the P postings of the m query terms, c matching
    ///   documents and k hits (or documents asked about).
    func keywordSearch(
        _ query: String, group: FullTextGroup, limit: Int, parameters: BM25Parameters = BM25Parameters(),
        allow: ((UInt64) throws -> Bool)? = nil
    ) throws -> [KeywordHit] {
        guard limit >= 1 else { throw EngramError(.invalidArgument, "a keyword search needs a limit of at least 1") }
        guard let tenant, let statistics = try fullTextStatistics(group), statistics.documentCount > 0 else { return [] }
        var terms: [String] = []
        var seen: Set<String> = []
        TextAnalyzer(statistics.options).forEachTerm(query) { if seen.insert($0).inserted { terms.append($0) } }
        var lists: [PostingList] = []
        for term in terms {
            let list = try postingList(term, group: group, tenant: tenant, statistics, parameters)
            if !list.nodes.isEmpty { lists.append(list) }
        }
        var candidates = Self.merge(lists)
        return try Self.best(&candidates, limit: limit, allow: allow)
    }

    /// The postings of one term in node order, each with its BM25 contribution.
    private func postingList(
        _ term: String, group: FullTextGroup, tenant: UInt32, _ statistics: FullTextStatistics,
        _ parameters: BM25Parameters
    ) throws -> PostingList {
        var list = PostingList()
        var frequencies: [UInt32] = []
        var lengths: [UInt32] = []
        try txn.scan(in: fullTextKeyspaces.postings, prefix: FullTextKey.term(tenant, group, term).bytes) { key, value in
            list.nodes.append(GraphKey.uint64(key, at: key.count - 8))
            frequencies.append(GraphKey.uint32(value, at: 0))
            lengths.append(GraphKey.uint32(value, at: 4))
            return true
        }
        let idf = BM25Parameters.idf(documentCount: statistics.documentCount, documentFrequency: list.nodes.count)
        let k1 = parameters.k1
        let average = max(statistics.averageLength, .leastNonzeroMagnitude)
        let lengthWeight = parameters.b / average
        let base = 1 - parameters.b
        list.weights = zip(frequencies, lengths).map { frequency, length in
            let tf = Double(frequency)
            return idf * tf * (k1 + 1) / (tf + k1 * (base + lengthWeight * Double(length)))
        }
        return list
    }

    /// Sums the lists' contributions per node (document at a time over lists sorted by node).
    private static func merge(_ lists: [PostingList]) -> [KeywordHit] {
        if lists.count == 1 {
            return zip(lists[0].nodes, lists[0].weights).map { KeywordHit(node: $0, score: $1) }
        }
        var positions = [Int](repeating: 0, count: lists.count)
        var result: [KeywordHit] = []
        result.reserveCapacity(lists.map(\.nodes.count).max() ?? 0)
        while true {
            var next = UInt64.max
            var live = false
            for (i, list) in lists.enumerated() where positions[i] < list.nodes.count {
                live = true
                next = min(next, list.nodes[positions[i]])
            }
            guard live else { return result }
            var score = 0.0
            for (i, list) in lists.enumerated() where positions[i] < list.nodes.count && list.nodes[positions[i]] == next {
                score += list.weights[positions[i]]
                positions[i] += 1
            }
            result.append(KeywordHit(node: next, score: score))
        }
    }

    /// Takes candidates best first (a max-heap: O(c) to build, O(log c) per hit) until `limit`
    /// are allowed.
    private static func best(
        _ candidates: inout [KeywordHit], limit: Int, allow: ((UInt64) throws -> Bool)?
    ) throws -> [KeywordHit] {
        var heap = CandidateHeap(&candidates)
        var hits: [KeywordHit] = []
        while hits.count < limit, let candidate = heap.popBest(&candidates) {
            if try allow?(candidate.node) ?? true { hits.append(candidate) }
        }
        return hits
    }
}

/// One query term's postings: node ids ascending, with the term's BM25 contribution to each.
private struct PostingList {
    var nodes: [UInt64] = []
    var weights: [Double] = []
}

/// A binary max-heap laid over an array of hits, ordered by score, then by lower node id.
private struct CandidateHeap {
    private var count: Int

    init(_ items: inout [KeywordHit]) {
        count = items.count
        var i = count / 2 - 1
        while i >= 0 {
            siftDown(&items, i)
            i -= 1
        }
    }

    @inline(__always)
    private static func better(_ a: KeywordHit, _ b: KeywordHit) -> Bool {
        a.score > b.score || (a.score == b.score && a.node < b.node)
    }

    private func siftDown(_ items: inout [KeywordHit], _ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var child = left
            if left + 1 < count && Self.better(items[left + 1], items[left]) { child = left + 1 }
            guard Self.better(items[child], items[parent]) else { return }
            items.swapAt(parent, child)
            parent = child
        }
    }

    mutating func popBest(_ items: inout [KeywordHit]) -> KeywordHit? {
        guard count > 0 else { return nil }
        let top = items[0]
        count -= 1
        items.swapAt(0, count)
        siftDown(&items, 0)
        return top
    }
}

extension EngramStore {
    /// A keyword search of one group of `tenant` in its own read transaction, with the public ids
    /// of the hits: what benchmarks and tests call. See
    /// ``GraphSession/keywordSearch(_:group:limit:parameters:allow:)``; `allow` here takes the
    /// public id.
    package func keywordSearch(
        _ query: String, group: FullTextGroup, tenant: String = "default", limit: Int = 10,
        allow: ((String) throws -> Bool)? = nil
    ) throws -> [(id: String, score: Double)] {
        try readGraph(tenant: tenant) { session in
            func publicID(_ node: UInt64) throws -> String {
                guard let id = try session.storedNodePublicID(node) else {
                    throw EngramError(.corrupted, "the full-text index names node \(node), which does not exist")
                }
                return id
            }
            let filter = allow.map { allow in { (node: UInt64) in try allow(try publicID(node)) } }
            return try session.keywordSearch(query, group: group, limit: limit, allow: filter).map {
                (try publicID($0.node), $0.score)
            }
        }
    }
}
