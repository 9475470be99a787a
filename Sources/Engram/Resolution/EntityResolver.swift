/// How entity resolution decides, with the thresholds of its three bands.
///
/// A candidate pair gets a score in 0…1 (see `docs/entity-resolution.md`, "Score"). At or above
/// ``mergeThreshold`` — and only when no guard forbids it — the new entity is merged into the
/// existing one; at or above ``reviewThreshold`` it is created with a pending `SAME_AS` to the
/// candidate for a person to review; below, it is created.
///
/// ```swift
/// var options = MemoryOptions()
/// options.resolution.mergeThreshold = 0.95   // merge less eagerly
/// let memory = store.context(tenant: "acme", options: options)
/// ```
public struct ResolutionOptions: Sendable, Hashable {
    /// Whether adding an entity resolves it at all; `false` always creates (bulk loads of
    /// entities known to be distinct). The resolution keys are kept up to date either way.
    public var isEnabled: Bool
    /// The score at or above which a pair merges. 0.90 as Neo4j Agent Memory: with the guards,
    /// the evaluation in the doc measures an auto-merge precision of 1.0 at this value.
    public var mergeThreshold: Double
    /// The score at or above which a pair goes to review. 0.85 as Neo4j Agent Memory; the
    /// evaluation measures the recall of merge plus review at this value.
    public var reviewThreshold: Double
    /// The most entities one blocking key may bring (prefix scans stop there), so that a common
    /// prefix never turns an add into a scan of the tenant (each key is scanned with a prefix of
    /// 8 characters, then of 4). 50 keeps an add at a few milliseconds in a tenant of 100,000
    /// entities (`engram bench dedupe`).
    public var candidatesPerKey: Int
    /// The most pending `SAME_AS` links one added entity gets (the best candidates first): 3
    /// keeps the review queue readable.
    public var reviewLinksPerEntity: Int

    /// Options with the defaults above.
    public init(
        isEnabled: Bool = true, mergeThreshold: Double = 0.90, reviewThreshold: Double = 0.85,
        candidatesPerKey: Int = 50, reviewLinksPerEntity: Int = 3
    ) {
        self.isEnabled = isEnabled
        self.mergeThreshold = mergeThreshold
        self.reviewThreshold = reviewThreshold
        self.candidatesPerKey = candidatesPerKey
        self.reviewLinksPerEntity = reviewLinksPerEntity
    }
}

/// The band a scored pair falls in.
public enum ResolutionBand: String, Sendable, Hashable, CaseIterable {
    /// Merged automatically.
    case merge
    /// Created, with a pending `SAME_AS` for review.
    case review
    /// Created, unrelated.
    case create
}

/// The score of one candidate pair and why.
struct PairScore: Hashable {
    /// 0…1.
    var score: Double
    /// Whether the pair may merge automatically (no guard holds).
    var mayMerge: Bool
    /// Why, in words: the measures, the guards, the evidence.
    var reasons: [String]

    func band(_ options: ResolutionOptions) -> ResolutionBand {
        if mayMerge && score >= options.mergeThreshold { return .merge }
        return score >= options.reviewThreshold ? .review : .create
    }
}

/// The side of a pair the scorer sees: the entity's type and its name and aliases, normalised.
struct EntityNames {
    var type: String
    var names: [NameProfile]

    /// - Parameter storedKey: the entity's stored `name_key` for `name`, when it has one: the
    ///   name's profile is then rebuilt from it without normalising the name again.
    init(type: String, name: String, aliases: [String], storedKey: String? = nil) {
        self.type = type
        var seen = Set<String>()
        let first =
            storedKey.map { EntityNormalizer.profile(key: $0, raw: name, type: type) }
            ?? EntityNormalizer.profile(name, type: type)
        names = ([first] + aliases.map { EntityNormalizer.profile($0, type: type) }).filter {
            !$0.key.isEmpty && seen.insert($0.key).inserted
        }
    }
}

/// Scores candidate pairs. Pure: the store hands it the names, the cosine and the context overlap.
///
/// The score (see `docs/entity-resolution.md`):
/// - string similarity `s` = the best, over every name or alias of one side against every one of
///   the other, of `max(0.5 · JaroWinkler + 0.5 · tokenSetRatio, alignment)`, where the alignment
///   pairs each word of the shorter name with a word of the other (equal 1, typo 0.94 or 0.88,
///   nickname 0.92, initial 0.85) over the longer name's word count; an acronym match of
///   organisations counts 0.92;
/// - with an embedding cosine `c`: `b = 0.8 · s + 0.2 · c`, else `b = s`;
/// - with context on both sides (shared neighbours and mentions, Jaccard `j`):
///   `score = b + 0.15 · j · (1 − b)`, else `score = b`. Context only adds: two mentions of one
///   person in different conversations share no context, and must not be pushed apart for it.
enum EntityResolver {
    /// Weight of the embedding cosine in the blend: enough to lift a paraphrase the strings miss,
    /// not enough to merge two names that only mean similar things.
    static let embeddingWeight = 0.2
    /// Weight of the context overlap: positive evidence only.
    static let contextWeight = 0.15
    /// Score of an acronym match (`IBM` ↔ `International Business Machines`): at the merge
    /// threshold, so that it merges when context or the embedding confirms it and goes to review otherwise.
    static let acronymScore = 0.92
    /// Words shorter than this never count as typos of one another: one letter apart, short
    /// words are as often other words (`Mali`/`Malta` aside, `Lyon`/`Leon`).
    static let minimumTypoLength = 5
    /// For persons, one more: five-letter given names one letter apart are mostly other names
    /// (Karen/Karin, Aaron/Arron, Smith/Smyth).
    static let minimumPersonTypoLength = 6
    /// A name of a single word merges on a typo only from this length: a one-letter difference
    /// in a shorter word is as often another name (Iceland/Ireland, Columbia/Colombia) as a typo.
    static let minimumSingleWordTypoLength = 9
    /// The cosine at which an embedding confirms an acronym or initial match.
    static let confirmingCosine = 0.8

    /// The best score over every name pair of the two sides; with `explain` false the reasons
    /// are left empty (the duplicate finder scores many pairs and explains the few it keeps).
    /// The highest score a pair of string score `s` can reach once the embedding (when there may
    /// be one) and the context are added: the duplicate finder skips pairs that cannot reach the minimum.
    static func upperBound(string s: Double, embedding: Bool) -> Double {
        let blended = embedding ? (1 - embeddingWeight) * s + embeddingWeight : s
        return blended + contextWeight * (1 - blended)
    }

    /// The lowest string score whose ``upperBound(string:embedding:)`` reaches `score`.
    static func stringFloor(for score: Double, embedding: Bool) -> Double {
        let blended = (score - contextWeight) / (1 - contextWeight)
        return embedding ? (blended - embeddingWeight) / (1 - embeddingWeight) : blended
    }

    static func score(
        _ a: EntityNames, _ b: EntityNames, cosine: Double? = nil, context: Double? = nil, explain: Bool = true,
        floor: Double = 0
    ) -> PairScore {
        var best: PairScore?
        for x in a.names {
            for y in b.names {
                let candidate = score(
                    x, y, type: a.type, cosine: cosine, context: context, explain: explain, floor: floor)
                if let current = best,
                    (current.mayMerge ? 1 : 0, current.score) >= (candidate.mayMerge ? 1 : 0, candidate.score)
                {
                    continue
                }
                best = candidate
            }
        }
        return best ?? PairScore(score: 0, mayMerge: false, reasons: ["no name"])
    }

    /// The score of one name pair. With `explain` false, a pair whose string score cannot reach
    /// `floor` returns early with a lower bound of its score.
    static func score(
        _ x: NameProfile, _ y: NameProfile, type: String, cosine: Double?, context: Double?, explain: Bool = true,
        floor: Double = 0
    ) -> PairScore {
        if x.key == y.key {
            return PairScore(score: 1, mayMerge: true, reasons: explain ? ["same normalised name '\(x.key)'"] : [])
        }
        let isPerson = type == "Person"
        var reasons = Reasons(enabled: explain)
        let jaroWinkler = StringSimilarity.jaroWinkler(x.scalars, y.scalars)
        let alignment = align(x.tokens, y.tokens, isPerson: isPerson, explain: explain)
        let isAcronym =
            type == "Organization" && ((x.mayBeAcronym && y.acronym == x.key) || (y.mayBeAcronym && x.acronym == y.key))
        // The token-set ratio is at most 1, and at most the character overlap of the whole keys
        // (its best sides hold every character of the shorter key).
        if !explain, !isAcronym,
            max(0.5 * jaroWinkler + 0.5, alignment.score) < floor
                || max(0.5 * jaroWinkler + 0.5 * tokenSetBound(x, y), alignment.score) < floor
        {
            // Even the best token-set ratio cannot lift it to the floor: skip the costliest measure.
            return PairScore(score: max(0.5 * jaroWinkler, alignment.score), mayMerge: false, reasons: [])
        }
        let tokenSet = StringSimilarity.tokenSetRatio(x.sortedTokens, y.sortedTokens)
        var string = max(0.5 * jaroWinkler + 0.5 * tokenSet, alignment.score)
        reasons.append(
            "names '\(x.raw)' / '\(y.raw)': jaro-winkler \(format(jaroWinkler)), token-set \(format(tokenSet)), "
                + "alignment \(format(alignment.score))"
                + (alignment.notes.isEmpty ? "" : " (\(alignment.notes.joined(separator: ", ")))"))
        var mayMerge = alignment.complete && !alignment.usedInitial
        if mayMerge, x.tokens.count == 1, y.tokens.count == 1,
            min(x.key.count, y.key.count) < minimumSingleWordTypoLength
        {
            // One short word one letter off is all the evidence: Iceland/Ireland, Granada/Grenada.
            mayMerge = false
            reasons.append("guard: one word under \(minimumSingleWordTypoLength) characters, not identical")
        }
        var needsConfirmation = alignment.complete && alignment.usedInitial
        if isAcronym {
            string = max(string, acronymScore)
            reasons.append("acronym '\(x.mayBeAcronym ? x.key : y.key)'")
            needsConfirmation = true
            mayMerge = false
        }
        var blended = string
        if let cosine {
            blended = (1 - embeddingWeight) * string + embeddingWeight * cosine
            reasons.append("embedding cosine \(format(cosine))")
        }
        if let context, context > 0 {
            blended += contextWeight * context * (1 - blended)
            reasons.append("context overlap \(format(context))")
        }
        if needsConfirmation {
            if (context ?? 0) > 0 || (cosine ?? 0) >= confirmingCosine {
                mayMerge = true
                reasons.append("confirmed by \((context ?? 0) > 0 ? "shared context" : "embedding")")
            } else {
                reasons.append("needs confirmation: no shared context")
            }
        }
        // Guards: fuzzy similarity alone never merges these.
        if x.numberTokens != y.numberTokens {
            blended = min(blended, 0.5)
            mayMerge = false
            reasons.append("guard: identifiers or numbers differ (capped at 0.5)")
        } else if x.isIdentifierLike || y.isIdentifierLike {
            mayMerge = false
            reasons.append("guard: identifier-like name")
        }
        if x.isShort || y.isShort, !(needsConfirmation && mayMerge) {
            mayMerge = false
            reasons.append("guard: name under \(EntityNormalizer.minimumFuzzyLength) characters")
        }
        if x.isLowEntropy || y.isLowEntropy {
            mayMerge = false
            reasons.append("guard: low-entropy name")
        }
        if !alignment.complete && !needsConfirmation {
            reasons.append("words do not all correspond")
        }
        return PairScore(score: min(1, blended), mayMerge: mayMerge, reasons: reasons.items)
    }

    /// An upper bound of the token-set ratio of two names: each of its three ratios compares
    /// strings whose characters are drawn from the two keys, so none exceeds 1, and the ratio of
    /// the common-plus-rest sides is bounded by the character overlap of the keys.
    static func tokenSetBound(_ x: NameProfile, _ y: NameProfile) -> Double {
        x.tokens.contains(where: y.tokens.contains) ? 1 : StringSimilarity.ratioBound(x.scalars, y.scalars)
    }

    /// How the words of two names correspond.
    struct Alignment {
        var score: Double
        /// Every word of the shorter name has a partner, and the longer one has no other word
        /// (but a person's middle initials).
        var complete: Bool
        var usedInitial: Bool
        var notes: [String]
    }

    static func align(_ a: [String], _ b: [String], isPerson: Bool, explain: Bool = true) -> Alignment {
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        guard !short.isEmpty else { return Alignment(score: 0, complete: false, usedInitial: false, notes: []) }
        var used = [Bool](repeating: false, count: long.count)
        var total = 0.0
        var complete = true
        var usedInitial = false
        var notes: [String] = []
        for token in short {
            var bestIndex: Int?
            var bestRelation: Relation?
            for (index, other) in long.enumerated() where !used[index] {
                guard let relation = relation(token, other, isPerson: isPerson) else { continue }
                if bestRelation == nil || relation.weight > bestRelation!.weight {
                    bestRelation = relation
                    bestIndex = index
                }
            }
            if let bestIndex, let bestRelation {
                used[bestIndex] = true
                total += bestRelation.weight
                usedInitial = usedInitial || bestRelation.initial
                if explain, let note = bestRelation.note(token, long[bestIndex]) { notes.append(note) }
            } else {
                complete = false
            }
        }
        for (index, token) in long.enumerated() where !used[index] {
            if isPerson && token.count == 1 {
                total += 0.9
                if explain { notes.append("middle initial '\(token)'") }
            } else {
                complete = false
            }
        }
        return Alignment(score: total / Double(long.count), complete: complete, usedInitial: usedInitial, notes: notes)
    }

    static func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }

    /// How two words correspond.
    struct Relation {
        enum Kind { case equal, initial, nickname, typo }
        var weight: Double
        var kind: Kind
        var initial: Bool { kind == .initial }

        func note(_ a: String, _ b: String) -> String? {
            switch kind {
            case .equal: return nil
            case .initial: return "initial '\(a.count == 1 ? a : b)'"
            case .nickname: return "nickname '\(a)'/'\(b)'"
            case .typo: return "typo '\(a)'/'\(b)'"
            }
        }
    }

    /// The correspondence of two words, or `nil`.
    static func relation(_ a: String, _ b: String, isPerson: Bool) -> Relation? {
        if a == b { return Relation(weight: 1, kind: .equal) }
        if a.utf8.contains(where: Self.isDigit) || b.utf8.contains(where: Self.isDigit) { return nil }
        if isPerson {
            if (a.count == 1 && b.first == a.first) || (b.count == 1 && a.first == b.first) {
                return Relation(weight: 0.85, kind: .initial)
            }
            if let group = Nicknames.group[a], group == Nicknames.group[b] {
                return Relation(weight: 0.92, kind: .nickname)
            }
        }
        let shorter = min(a.count, b.count)
        guard shorter >= (isPerson ? minimumPersonTypoLength : minimumTypoLength), a.first == b.first else {
            return nil
        }
        // A person's names that differ only in their ending are other names, not typos
        // (Daniel/Daniela, Mario/Maria, Julian/Julia).
        if isPerson, a.dropLast() == b.dropLast() || a.dropLast() == b || b.dropLast() == a { return nil }
        let distance = StringSimilarity.editDistance(a, b)
        let allowed = shorter >= 9 ? 2 : 1
        guard distance <= allowed else { return nil }
        return Relation(weight: distance == 1 ? 0.94 : 0.88, kind: .typo)
    }

    /// Reasons collected only when asked for.
    struct Reasons {
        let enabled: Bool
        private(set) var items: [String] = []

        init(enabled: Bool) { self.enabled = enabled }

        mutating func append(_ text: @autoclosure () -> String) {
            if enabled { items.append(text()) }
        }
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return String(scaled)
    }
}

/// Common English given-name variants, each group one person's name (`bob` ~ `robert`).
enum Nicknames {
    static let groups: [[String]] = [
        ["robert", "bob", "bobby", "rob", "robbie", "bert"], ["william", "bill", "billy", "will", "willy", "liam"],
        ["richard", "dick", "rick", "ricky", "rich"], ["james", "jim", "jimmy", "jamie"],
        ["john", "johnny", "jack"], ["jonathan", "jon", "jonny"], ["michael", "mike", "mikey", "mick"],
        ["elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby"],
        ["margaret", "maggie", "meg", "peggy", "marge"],
        ["katherine", "kate", "katie", "kathy", "kat"], ["catherine", "cathy", "cate"],
        ["christopher", "chris", "kit"],
        ["christine", "chris", "christy"], ["thomas", "tom", "tommy"], ["joseph", "joe", "joey"],
        ["charles", "charlie", "chuck"], ["edward", "ed", "eddie", "ted", "ned"], ["anthony", "tony"],
        ["daniel", "dan", "danny"], ["david", "dave", "davy"], ["matthew", "matt"], ["andrew", "andy", "drew"],
        ["alexander", "alex", "sasha", "xander"], ["alexandra", "alex", "sandra", "lexi"],
        ["patricia", "pat", "patty", "trish"],
        ["patrick", "pat", "paddy"], ["steven", "steve"], ["stephen", "steve"], ["nicholas", "nick", "nicky"],
        ["benjamin", "ben", "benny"], ["samuel", "sam", "sammy"], ["samantha", "sam"], ["jennifer", "jen", "jenny"],
        ["jessica", "jess", "jessie"], ["susan", "sue", "susie"], ["deborah", "deb", "debbie"],
        ["rebecca", "becky", "becca"],
        ["victoria", "vicky", "tori"], ["timothy", "tim", "timmy"], ["gregory", "greg"], ["peter", "pete"],
        ["frederick", "fred", "freddie"], ["henry", "harry", "hank"], ["lawrence", "larry"], ["raymond", "ray"],
        ["ronald", "ron", "ronnie"], ["donald", "don", "donnie"], ["kenneth", "ken", "kenny"],
        ["gerald", "gerry", "jerry"],
        ["douglas", "doug"], ["zachary", "zach", "zack"], ["nathaniel", "nate", "nat"], ["theodore", "ted", "theo"],
        ["abigail", "abby"], ["barbara", "barb", "barbie"], ["dorothy", "dot", "dottie"], ["eleanor", "ellie", "nora"],
        ["josephine", "jo", "josie"], ["kimberly", "kim"], ["pamela", "pam"], ["cynthia", "cindy"], ["judith", "judy"],
        ["francis", "frank", "frankie"], ["vincent", "vince", "vinny"], ["leonard", "leo", "len", "lenny"],
        ["jose", "pepe"], ["francisco", "paco", "pancho"], ["ignacio", "nacho"], ["guillermo", "memo"],
    ]

    /// The group index of each name.
    static let group: [String: Int] = {
        var result: [String: Int] = [:]
        for (index, names) in groups.enumerated() {
            for name in names where result[name] == nil { result[name] = index }
        }
        return result
    }()
}
