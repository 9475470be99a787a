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
    /// - Complexity: O(P · m) to read and merge the P postings of the m query terms, then
    ///   O(c log w) to pick the best of the c matching documents, w being `limit` without a
    ///   filter and 16 · `limit` (at least 256) with one; plus O(c + a log c) when the filter
    ///   rejects so many that a documents past that window must be asked.
    func keywordSearch(
        _ query: String, group: FullTextGroup, limit: Int, parameters: BM25Parameters = BM25Parameters(),
        allow: ((UInt64) throws -> Bool)? = nil
    ) throws -> [KeywordHit] {
        guard limit >= 1 else { throw EngramError(.invalidArgument, "a keyword search needs a limit of at least 1") }
        guard let tenant, let statistics = try fullTextStatistics(group), statistics.documentCount > 0 else {
            return []
        }
        var terms: [String] = []
        var seen: Set<String> = []
        TextAnalyzer(statistics.options).forEachTerm(query) { if seen.insert($0).inserted { terms.append($0) } }
        var lists: [[KeywordHit]] = []
        for term in terms {
            let list = try postingList(term, group: group, tenant: tenant, statistics, parameters)
            if !list.isEmpty { lists.append(list) }
        }
        return try Self.best(Self.merge(lists), limit: limit, allow: allow)
    }

    /// The postings of one term in node order, each with the term's BM25 contribution as its score.
    private func postingList(
        _ term: String, group: FullTextGroup, tenant: UInt32, _ statistics: FullTextStatistics,
        _ parameters: BM25Parameters
    ) throws -> [KeywordHit] {
        let k1 = parameters.k1
        let lengthWeight = k1 * parameters.b / max(statistics.averageLength, .leastNonzeroMagnitude)
        let base = k1 * (1 - parameters.b)
        var list: [KeywordHit] = []
        list.reserveCapacity(256)
        let prefix = FullTextKey.term(tenant, group, term).bytes
        let cursor = try txn.makeCursor(in: fullTextKeyspaces.postings)
        try prefix.withUnsafeBytes { prefix in
            var entry = try cursor.seek(atOrAfter: prefix)
            while let (key, value) = entry, key.count == prefix.count + 8, value.count == 8,
                memcmp(key.baseAddress!, prefix.baseAddress!, prefix.count) == 0
            {
                // Safe: the key has 8 bytes after the prefix, the value 8 bytes (tf u32, length u32).
                let node = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self))
                let tf = Double(UInt32(bigEndian: value.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
                let length = Double(UInt32(bigEndian: value.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
                list.append(KeywordHit(node: node, score: tf / (tf + base + lengthWeight * length)))
                entry = try cursor.next()
            }
        }
        // The idf needs the document frequency, known only now.
        let idf = BM25Parameters.idf(documentCount: statistics.documentCount, documentFrequency: list.count)
        let factor = idf * (k1 + 1)
        list.withUnsafeMutableBufferPointer { postings in
            for i in postings.indices { postings[i].score *= factor }
        }
        return list
    }

    /// Sums the lists' contributions per node: pairwise merges of lists sorted by node, the
    /// shortest first.
    private static func merge(_ lists: [[KeywordHit]]) -> [KeywordHit] {
        var sorted = lists.sorted { $0.count < $1.count }
        guard var merged = sorted.first else { return [] }
        sorted.removeFirst()
        for list in sorted { merged = merge(merged, list) }
        return merged
    }

    private static func merge(_ a: [KeywordHit], _ b: [KeywordHit]) -> [KeywordHit] {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                [KeywordHit](unsafeUninitializedCapacity: a.count + b.count) { out, count in
                    var i = 0
                    var j = 0
                    var n = 0
                    // Safe: n ≤ i + j < a.count + b.count, the capacity.
                    while i < a.count && j < b.count {
                        if a[i].node < b[j].node {
                            out.initializeElement(at: n, to: a[i])
                            i += 1
                        } else if b[j].node < a[i].node {
                            out.initializeElement(at: n, to: b[j])
                            j += 1
                        } else {
                            out.initializeElement(
                                at: n, to: KeywordHit(node: a[i].node, score: a[i].score + b[j].score))
                            i += 1
                            j += 1
                        }
                        n += 1
                    }
                    while i < a.count {
                        out.initializeElement(at: n, to: a[i])
                        i += 1
                        n += 1
                    }
                    while j < b.count {
                        out.initializeElement(at: n, to: b[j])
                        j += 1
                        n += 1
                    }
                    count = n
                }
            }
        }
    }

    /// The best candidates, best first, until `limit` are allowed.
    ///
    /// Without a filter: one pass keeping the best `limit` in a small heap, O(c log k). With one:
    /// the best `16 · limit` (at least 256) the same way, asked in order — enough for a filter
    /// that keeps one candidate in ten — and only if too few pass, the remaining candidates in a
    /// max-heap (O(c) to build, O(log c) per candidate asked).
    private static func best(
        _ candidates: [KeywordHit], limit: Int, allow: ((UInt64) throws -> Bool)?
    ) throws -> [KeywordHit] {
        let first = allow == nil ? limit : max(limit.multipliedReportingOverflow(by: 16).partialValue, 256)
        var top = HitHeap<WorstOnTop>()
        for hit in candidates {
            if top.items.count < first {
                top.push(hit)
            } else if WorstOnTop.above(top.items[0], hit) {
                top.replaceTop(with: hit)
            }
        }
        let ordered = top.items.sorted(by: BestOnTop.above)
        guard let allow else { return ordered }
        var hits: [KeywordHit] = []
        for hit in ordered where try allow(hit.node) {
            hits.append(hit)
            if hits.count == limit { return hits }
        }
        guard ordered.count == first, let last = ordered.last else { return hits }
        var rest = HitHeap<BestOnTop>(heapifying: candidates.filter { BestOnTop.above(last, $0) })
        while hits.count < limit, let hit = rest.popTop() {
            if try allow(hit.node) { hits.append(hit) }
        }
        return hits
    }
}

/// Which hit a ``HitHeap`` keeps on top.
private protocol HitOrder {
    /// Whether `a` belongs above `b`.
    static func above(_ a: KeywordHit, _ b: KeywordHit) -> Bool
}

/// Higher score first; on equal scores, the lower node id (so results are deterministic).
private enum BestOnTop: HitOrder {
    @inline(__always)
    static func above(_ a: KeywordHit, _ b: KeywordHit) -> Bool {
        a.score > b.score || (a.score == b.score && a.node < b.node)
    }
}

private enum WorstOnTop: HitOrder {
    @inline(__always)
    static func above(_ a: KeywordHit, _ b: KeywordHit) -> Bool { BestOnTop.above(b, a) }
}

/// A binary heap of hits.
private struct HitHeap<Order: HitOrder> {
    private(set) var items: [KeywordHit] = []

    init() {}

    /// A heap of `hits`, built in O(n).
    init(heapifying hits: [KeywordHit]) {
        items = hits
        var i = items.count / 2 - 1
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    mutating func push(_ hit: KeywordHit) {
        items.append(hit)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Order.above(items[child], items[parent]) else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func replaceTop(with hit: KeywordHit) {
        items[0] = hit
        siftDown(0)
    }

    mutating func popTop() -> KeywordHit? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = items.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var child = left
            if left + 1 < count && Order.above(items[left + 1], items[left]) { child = left + 1 }
            guard Order.above(items[child], items[parent]) else { return }
            items.swapAt(parent, child)
            parent = child
        }
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
