import Foundation

/// The normalised form of one entity name, with the facts entity resolution reads from it.
///
/// See `docs/entity-resolution.md`, "Normalisation": case, diacritics and width are folded;
/// punctuation becomes a space (an apostrophe disappears: `O'Brien` → `obrien`); honorifics are
/// dropped from persons (`Dr. Jane Smith` → `jane smith`), corporate suffixes from organisations
/// (`Acme Corp.` → `acme`), and `Last, First` is turned round for persons.
final class NameProfile: Sendable {
    /// The name as given.
    let raw: String
    /// The tokens of the normalised name, in order.
    let tokens: [String]
    /// The tokens joined by one space: the key of the exact-match index.
    let key: String
    /// For organisations of two significant words or more, their initials (`ibm`); else `nil`.
    let acronym: String?
    /// Whether the name could itself be an acronym: one token of 2 to 6 letters.
    let mayBeAcronym: Bool
    /// The key's code points, for the string measures.
    let scalars: [UInt32]
    /// The distinct tokens in sorted order, as code points, for the token-set ratio.
    let sortedTokens: [[UInt32]]
    /// The tokens that hold a digit, in order.
    let numberTokens: [String]
    /// Names under 4 characters (spaces not counted).
    let isShort: Bool
    /// Names whose characters carry less than ``EntityNormalizer/minimumEntropy`` bits each.
    let isLowEntropy: Bool

    init(raw: String, tokens: [String], acronym: String?, mayBeAcronym: Bool) {
        self.raw = raw
        self.tokens = tokens
        key = tokens.joined(separator: " ")
        self.acronym = acronym
        self.mayBeAcronym = mayBeAcronym
        scalars = Array(key.unicodeScalars.map(\.value))
        sortedTokens = Set(tokens).sorted().map { Array($0.unicodeScalars.map(\.value)) }
        numberTokens = tokens.filter { $0.contains(where: \.isNumber) }
        isShort = key.filter { $0 != " " }.count < EntityNormalizer.minimumFuzzyLength
        isLowEntropy = EntityNormalizer.entropy(of: key) < EntityNormalizer.minimumEntropy
    }

    /// The key read backwards: the key of the second blocking index, so that names sharing
    /// their ending (a last word, the end of a misspelt word) meet.
    var reversedKey: String { String(key.reversed()) }
    /// The letters and digits of the key in sorted order: the key of the third blocking index,
    /// so that a transposition or a typo late in the sorted order still meets its original.
    var sortedKey: String { String(key.filter { $0 != " " }.sorted()) }

    /// Names with a digit look like identifiers (`SR-2023-052`, `iPhone 15`).
    var isIdentifierLike: Bool { !numberTokens.isEmpty }
}

/// Turns names into ``NameProfile``s. Pure: no store access.
enum EntityNormalizer {
    /// Fuzzy similarity alone never merges names shorter than this: two short names differ by a
    /// letter too easily (`Ann`/`Anne`, `ABC`/`ABD`).
    static let minimumFuzzyLength = 4
    /// Shannon entropy (bits per character) below which a name is too repetitive to merge on
    /// fuzzy similarity alone (`aaaa`, `xx-xx`): 1.5 bits is fewer than three equally used letters.
    static let minimumEntropy = 1.5

    /// Titles dropped at the start of a person's name.
    static let honorifics: Set<String> = [
        "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "madam", "madame",
        "rev", "reverend", "hon", "lord", "lady", "mme", "mlle", "herr", "frau", "sr", "sra", "srta", "capt",
        "captain", "col", "gen", "lt", "sgt",
    ]
    /// Post-nominal letters dropped at the end of a person's name (`Jr` and `Sr` are kept: they
    /// tell a father from a son).
    static let postNominals: Set<String> = ["phd", "md", "esq", "mba", "dds", "jd", "cpa", "obe", "mbe", "cbe"]
    /// Legal-form suffixes dropped at the end of an organisation's name.
    static let corporateSuffixes: Set<String> = [
        "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "corp", "corporation", "co", "company", "gmbh",
        "ag", "sa", "plc", "nv", "bv", "sarl", "sas", "spa", "srl", "oy", "oyj", "ab", "asa", "kg", "pty", "pte",
        "kk", "se", "sl", "bhd", "sdn", "ulc", "pc", "pllc",
    ]
    /// Words that do not count towards an acronym.
    static let acronymStopWords: Set<String> = ["of", "and", "the", "for", "de", "la", "du", "des", "der", "und", "at"]
    /// Abbreviations spelt out in every type but persons, so that `St. Louis` meets `Saint Louis`.
    static let abbreviations: [String: String] = [
        "st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "intl": "international", "univ": "university",
        "natl": "national", "dept": "department", "assn": "association", "bros": "brothers", "mfg": "manufacturing",
        "ctr": "center", "centre": "center", "tech": "technology", "labs": "laboratories",
        "lab": "laboratory", "svcs": "services", "sys": "systems",
    ]

    /// The profile of `name` for an entity of `type`.
    static func profile(_ name: String, type: String) -> NameProfile {
        var text = name
        let isPerson = type == "Person"
        let isOrganization = type == "Organization"
        if isPerson, text.filter({ $0 == "," }).count == 1 {
            // "Smith, Jane" → "Jane Smith"; a post-nominal after the comma ("Jane Smith, PhD") stays put.
            let parts = text.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let after = words(parts.count == 2 ? parts[1] : "")
            if parts.count == 2, !after.isEmpty, !after.allSatisfy({ postNominals.contains($0) }) {
                text = parts[1] + " " + parts[0]
            }
        }
        var tokens = words(text)
        if !isPerson { tokens = joinInitials(tokens) }
        if isPerson {
            while tokens.count > 1, let first = tokens.first, honorifics.contains(first) { tokens.removeFirst() }
            while tokens.count > 1, let last = tokens.last, postNominals.contains(last) { tokens.removeLast() }
        } else {
            tokens = tokens.map { abbreviations[$0] ?? $0 }
            if isOrganization {
                if tokens.count > 1, tokens.first == "the" { tokens.removeFirst() }
                while tokens.count > 1, let last = tokens.last, corporateSuffixes.contains(last) { tokens.removeLast() }
            }
        }
        return profile(tokens: tokens, raw: name, type: type)
    }

    /// The profile of a name already normalised to `key` (the stored `name_key`).
    static func profile(key: String, raw: String, type: String) -> NameProfile {
        profile(tokens: key.split(separator: " ").map(String.init), raw: raw, type: type)
    }

    static func profile(tokens: [String], raw name: String, type: String) -> NameProfile {
        let isOrganization = type == "Organization"
        let significant = tokens.filter { !acronymStopWords.contains($0) }
        let acronym =
            isOrganization && significant.count >= 2 && significant.allSatisfy({ $0.first?.isLetter == true })
            ? String(significant.compactMap(\.first)) : nil
        let mayBeAcronym = tokens.count == 1 && (2...6).contains(tokens[0].count) && tokens[0].allSatisfy(\.isLetter)
        return NameProfile(raw: name, tokens: tokens, acronym: acronym, mayBeAcronym: mayBeAcronym)
    }

    /// Runs of two or more one-letter words joined into one (`I.B.M.` → `ibm`, `U.S. Steel` → `us steel`).
    static func joinInitials(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var run = ""
        func flush() {
            if !run.isEmpty { result.append(run) }
            run = ""
        }
        for token in tokens {
            if token.count == 1, token.first!.isLetter {
                run += token
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// Folded words of a text: case, diacritics and width folded, apostrophes removed, every other
    /// character that is not a letter or a digit a separator; `&` becomes `and`.
    static func words(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var result: [String] = []
        var current = ""
        for character in folded {
            if character.isLetter || character.isNumber {
                // A boundary between letters and digits separates words: "iPhone15" → "iphone 15".
                if let last = current.last, last.isNumber != character.isNumber {
                    result.append(current)
                    current = ""
                }
                current.append(character)
            } else if character == "'" || character == "’" {
                continue
            } else {
                if !current.isEmpty { result.append(current) }
                current = ""
                if character == "&" { result.append("and") }
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Shannon entropy of the characters of `text` (spaces ignored), in bits per character.
    static func entropy(of text: String) -> Double {
        var counts: [Character: Int] = [:]
        var total = 0
        for character in text where character != " " {
            counts[character, default: 0] += 1
            total += 1
        }
        guard total > 0 else { return 0 }
        return counts.values.reduce(0) { sum, count in
            let p = Double(count) / Double(total)
            return sum - p * log2(p)
        }
    }
}
