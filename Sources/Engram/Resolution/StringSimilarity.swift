/// String similarity measures used by entity resolution. Pure functions over characters.
package enum StringSimilarity {
    /// Jaro-Winkler similarity in 0…1, with the usual prefix scale 0.1 over at most 4 characters.
    /// - Complexity: O(n · m) in the worst case, O(n · w) with the matching window w.
    package static func jaroWinkler(_ a: String, _ b: String) -> Double {
        jaroWinkler(Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)))
    }

    /// ``jaroWinkler(_:_:)-(String,String)`` over code points.
    package static func jaroWinkler(_ s: [UInt32], _ t: [UInt32]) -> Double {
        if s.isEmpty && t.isEmpty { return 1 }
        if s.isEmpty || t.isEmpty { return 0 }
        let window = max(0, max(s.count, t.count) / 2 - 1)
        var sMatched = [Bool](repeating: false, count: s.count)
        var tMatched = [Bool](repeating: false, count: t.count)
        var matches = 0
        for i in s.indices {
            let low = max(0, i - window)
            let high = min(t.count - 1, i + window)
            if low > high { continue }
            for j in low...high where !tMatched[j] && s[i] == t[j] {
                sMatched[i] = true
                tMatched[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0
        var k = 0
        for i in s.indices where sMatched[i] {
            while !tMatched[k] { k += 1 }
            if s[i] != t[k] { transpositions += 1 }
            k += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(s.count) + m / Double(t.count) + (m - Double(transpositions / 2)) / m) / 3
        var prefix = 0
        while prefix < min(4, s.count, t.count), s[prefix] == t[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    /// `2 · LCS / (|a| + |b|)`: the indel similarity that `difflib` and fuzzywuzzy's `ratio` approximate.
    package static func ratio(_ a: String, _ b: String) -> Double {
        ratio(Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)))
    }

    /// ``ratio(_:_:)-(String,String)`` over code points.
    package static func ratio(_ s: [UInt32], _ t: [UInt32]) -> Double {
        if s.isEmpty && t.isEmpty { return 1 }
        if s.isEmpty || t.isEmpty { return 0 }
        let width = t.count + 1
        // Two rows of the LCS table on the stack: this runs for every scored pair.
        let common = withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * width) { rows -> Int in
            rows.initialize(repeating: 0)
            var previous = 0
            var current = width
            for i in 1...s.count {
                for j in 1...t.count {
                    rows[current + j] =
                        s[i - 1] == t[j - 1]
                        ? rows[previous + j - 1] + 1 : max(rows[previous + j], rows[current + j - 1])
                }
                swap(&previous, &current)
            }
            return rows[previous + t.count]
        }
        return 2 * Double(common) / Double(s.count + t.count)
    }

    /// Token-set ratio (as fuzzywuzzy's `token_set_ratio`): the best ``ratio(_:_:)-(String,String)``
    /// between the sorted common tokens and each side's common-plus-remaining tokens, so that
    /// word order and a repeated word do not matter, and a name contained in another scores high.
    package static func tokenSetRatio(_ a: [String], _ b: [String]) -> Double {
        tokenSetRatio(
            Set(a).sorted().map { Array($0.unicodeScalars.map(\.value)) },
            Set(b).sorted().map { Array($0.unicodeScalars.map(\.value)) })
    }

    /// ``tokenSetRatio(_:_:)-([String],[String])`` over sorted, distinct tokens as code points.
    package static func tokenSetRatio(_ a: [[UInt32]], _ b: [[UInt32]]) -> Double {
        var common: [[UInt32]] = []
        var onlyA: [[UInt32]] = []
        var onlyB: [[UInt32]] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].lexicographicallyPrecedes(b[j])) {
                onlyA.append(a[i])
                i += 1
            } else if i == a.count || b[j].lexicographicallyPrecedes(a[i]) {
                onlyB.append(b[j])
                j += 1
            } else {
                common.append(a[i])
                i += 1
                j += 1
            }
        }
        func joined(_ parts: [[UInt32]]...) -> [UInt32] {
            var result: [UInt32] = []
            for part in parts {
                for token in part {
                    if !result.isEmpty { result.append(32) }
                    result += token
                }
            }
            return result
        }
        let shared = joined(common)
        let left = joined(common, onlyA)
        let right = joined(common, onlyB)
        var best = ratio(left, right)
        if !shared.isEmpty { best = max(best, ratio(shared, left), ratio(shared, right)) }
        return best
    }

    /// An upper bound of ``ratio(_:_:)-([UInt32],[UInt32])``: the longest common subsequence is
    /// at most the overlap of the two multisets of characters. O(n + m).
    package static func ratioBound(_ s: [UInt32], _ t: [UInt32]) -> Double {
        guard !s.isEmpty || !t.isEmpty else { return 1 }
        var counts = [Int](repeating: 0, count: 64)
        for c in s { counts[Int(c & 63)] += 1 }
        var overlap = 0
        for c in t where counts[Int(c & 63)] > 0 {
            counts[Int(c & 63)] -= 1
            overlap += 1
        }
        return 2 * Double(overlap) / Double(s.count + t.count)
    }

    /// Damerau-Levenshtein distance (optimal string alignment: an adjacent transposition counts one).
    package static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a)
        let t = Array(b)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
        for i in 0...s.count { rows[i][0] = i }
        for j in 0...t.count { rows[0][j] = j }
        for i in 1...s.count {
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                var value = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    value = min(value, rows[i - 2][j - 2] + 1)
                }
                rows[i][j] = value
            }
        }
        return rows[s.count][t.count]
    }
}
