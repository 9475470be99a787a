/// `findPotentialDuplicates`: blocking over every live entity of a tenant (never all pairs),
/// then scoring of the pairs that share a block, inside one read.
///
/// Blocking keys of each name and alias (see `docs/entity-resolution.md`, "Blocking"): the first
/// ``prefixLength`` characters of the normalised name, of the name read backwards and of its
/// sorted letters (one-word names only);
/// for names of two words or more, the last word with the first word's initial (nicknames
/// folded to one group); acronyms. A block larger
/// than ``maximumBlock`` is compared only within a window of ``window`` in key order (the sorted
/// neighbourhood method), so the pairs grow as O(n · window), not O(n²).
struct DuplicateFinder {
    /// Four characters: long enough that "john" does not block with "joan"; typos rarely touch
    /// the first four letters of both the first and the last word.
    static let prefixLength = 4
    /// Blocks up to this size are compared in full.
    static let maximumBlock = 16
    /// Neighbours compared on each side within a larger block.
    static let window = 4
    /// Pairs that share no word and whose Jaro-Winkler on the whole names is below this are not
    /// scored further (a cheap filter before the score).
    static let prefilter = 0.75

    let session: MemorySession
    let embeddings: EntityEmbeddings

    func find(type: String?, minScore: Double, limit: Int) throws -> [DuplicateCandidate] {
        var records: [MemoryNode] = []
        for node in try session.graph.nodes(label: type ?? "Entity") {
            if let record = try session.liveEntity(node), type == nil || record.string("type") == type {
                records.append(record)
            }
        }
        let names = records.map(MemorySession.names)
        let hasEmbeddings = try records.first.map { try embeddings.vector($0.id) != nil } ?? false
        let floor = EntityResolver.stringFloor(for: minScore, embedding: hasEmbeddings) - 1e-9
        var byType: [String: [Int]] = [:]
        for (index, entry) in names.enumerated() { byType[entry.type, default: []].append(index) }
        var contexts = [Set<UInt64>?](repeating: nil, count: records.count)
        // Each entity's stored vector, read once (`.some(nil)`: it has none).
        var vectors = [[Float]??](repeating: nil, count: hasEmbeddings ? records.count : 0)
        func vector(_ index: Int) throws -> [Float]? {
            guard hasEmbeddings else { return nil }
            if let known = vectors[index] { return known }
            let found = try embeddings.vector(records[index].id)
            vectors[index] = .some(found)
            return found
        }
        var kept: [(score: Double, i: Int, j: Int, cosine: Double?, overlap: Double?)] = []
        for members in byType.values {
            for pair in Self.pairs(members, names) {
                let (i, j) = (Int(pair >> 32), Int(pair & 0xFFFF_FFFF))
                if !Self.mayMatch(names[i], names[j]) { continue }
                let plain = EntityResolver.score(names[i], names[j], explain: false, floor: floor)
                if EntityResolver.upperBound(string: plain.score, embedding: hasEmbeddings) < minScore { continue }
                let cosine = try vector(i).flatMap { a in try vector(j).map { EntityEmbeddings.cosine(a, $0) } }
                if contexts[i] == nil { contexts[i] = try session.contextSet(records[i].node) }
                if contexts[j] == nil { contexts[j] = try session.contextSet(records[j].node) }
                let overlap = MemorySession.overlap(contexts[i]!, contexts[j]!)
                let final =
                    cosine == nil && overlap == nil
                    ? plain : EntityResolver.score(names[i], names[j], cosine: cosine, context: overlap, explain: false)
                if final.score >= minScore { kept.append((final.score, i, j, cosine, overlap)) }
            }
        }
        // Explain only the pairs returned, best first, skipping rejected ones.
        kept.sort { ($0.score, $1.i, $1.j) > ($1.score, $0.i, $0.j) }
        var result: [DuplicateCandidate] = []
        for entry in kept {
            if result.count == limit { break }
            let (i, j) = (entry.i, entry.j)
            let status = try session.sameAsStatus(records[i].node, records[j].node)
            if status == .rejected { continue }
            let score = EntityResolver.score(names[i], names[j], cosine: entry.cosine, context: entry.overlap)
            // The newer entity is the source, merged into the older one.
            let (source, target) =
                Self.isNewer(records[i], than: records[j]) ? (records[i], records[j]) : (records[j], records[i])
            var candidate = session.candidate(
                source: source.string("name") ?? "", sourceID: source.id, target: target, score)
            candidate.status = status
            result.append(candidate)
        }
        return result
    }

    static func isNewer(_ a: MemoryNode, than b: MemoryNode) -> Bool {
        let (x, y) = (a.int("created_at") ?? 0, b.int("created_at") ?? 0)
        return x != y ? x > y : a.node > b.node
    }

    /// Whether a pair is worth scoring: a shared word, close whole names, or an acronym.
    static func mayMatch(_ a: EntityNames, _ b: EntityNames) -> Bool {
        for x in a.names {
            for y in b.names {
                if x.tokens.contains(where: y.tokens.contains) { return true }
                if StringSimilarity.jaroWinkler(x.scalars, y.scalars) >= prefilter { return true }
            }
        }
        return acronymPair(a, b)
    }

    /// Whether adding a name `new` meets an entity named `existing` in the add-time blocking of
    /// ``MemorySession/blockingCandidates(_:embeddings:limit:)``: a shared prefix of the name or of
    /// its reversed words, or a shorter existing name that starts the new one.
    static func blocks(_ new: NameProfile, _ existing: NameProfile) -> Bool {
        for (a, b) in [
            (new.key, existing.key), (new.reversedKey, existing.reversedKey), (new.sortedKey, existing.sortedKey),
        ] {
            if b.hasPrefix(a.prefix(prefixLength)) || (b.count < prefixLength && a.hasPrefix(b)) { return true }
        }
        return false
    }

    static func acronymPair(_ a: EntityNames, _ b: EntityNames) -> Bool {
        a.names.contains { x in
            b.names.contains { y in (x.mayBeAcronym && y.acronym == x.key) || (y.mayBeAcronym && x.acronym == y.key) }
        }
    }

    /// The blocking keys of one entity.
    static func keys(_ names: EntityNames) -> Set<String> {
        var keys = Set<String>()
        for profile in names.names {
            keys.insert("k" + profile.key.prefix(prefixLength))
            keys.insert("r" + profile.reversedKey.prefix(prefixLength))
            // Sorted letters for one-word names only: more words have the other keys.
            if profile.tokens.count == 1 { keys.insert("s" + profile.sortedKey.prefix(prefixLength)) }
            if profile.tokens.count >= 2, let first = profile.tokens.first, let last = profile.tokens.last {
                let group = names.type == "Person" ? Nicknames.group[first].map { "#\($0)" } ?? first : first
                keys.insert("l" + last + "|" + group.prefix(group.hasPrefix("#") ? 8 : 1))
            }
            if let acronym = profile.acronym { keys.insert("a" + acronym) }
            if profile.mayBeAcronym { keys.insert("a" + profile.key) }
        }
        return keys
    }

    /// The pairs (i << 32 | j, i < j) of `members` that share a block, in order, each once.
    static func pairs(_ members: [Int], _ names: [EntityNames]) -> [UInt64] {
        var blocks: [String: [Int]] = [:]
        for index in members {
            for key in keys(names[index]) { blocks[key, default: []].append(index) }
        }
        var pairs: [UInt64] = []
        func add(_ a: Int, _ b: Int) {
            guard a != b else { return }
            pairs.append(UInt64(min(a, b)) << 32 | UInt64(max(a, b)))
        }
        for (key, block) in blocks where block.count > 1 {
            if block.count <= maximumBlock {
                for x in 0..<block.count { for y in (x + 1)..<block.count { add(block[x], block[y]) } }
            } else {
                func order(_ profile: NameProfile?) -> String {
                    guard let profile else { return "" }
                    switch key.first {
                    case "r": return profile.reversedKey
                    case "s": return profile.sortedKey
                    default: return profile.key
                    }
                }
                let sorted = block.map { (order(names[$0].names.first), $0) }.sorted { $0 < $1 }.map(\.1)
                for x in sorted.indices {
                    for y in (x + 1)..<min(sorted.count, x + 1 + window) { add(sorted[x], sorted[y]) }
                }
            }
        }
        pairs.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(pairs.count)
        for pair in pairs where unique.last != pair { unique.append(pair) }
        return unique
    }
}
