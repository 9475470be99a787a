import Foundation

/// How text is turned into index terms by the full-text index: the two optional steps of the
/// analyzer. Lowercasing and diacritics folding always happen.
///
/// The options of an index are stored with it (per tenant and field group), so the query side
/// always analyzes with the options the index was built with; change them with
/// ``EngramStore/rebuildFullTextIndex(tenant:options:)``.
///
/// ```swift
/// try store.rebuildFullTextIndex(tenant: "acme", options: AnalyzerOptions(stemming: false))
/// ```
public struct AnalyzerOptions: Sendable, Hashable {
    /// Drop the English stop words of ``TextAnalyzer/stopWords`` (Lucene's English set of 33
    /// words). Default `true`: they occur in nearly every text, so they add index size and no
    /// ranking signal.
    public var stopWords: Bool
    /// Apply the English minimal ("S") stemmer to words of ASCII letters, so that plurals meet
    /// their singular (`memories` → `memory`, `seats` → `seat`). Default `true`: it is light
    /// enough never to merge unrelated words (see ``TextAnalyzer/stem(_:)``).
    public var stemming: Bool

    /// Options with both steps switchable; by default both are on.
    public init(stopWords: Bool = true, stemming: Bool = true) {
        self.stopWords = stopWords
        self.stemming = stemming
    }

    /// The defaults: stop words removed, plurals stemmed.
    public static let `default` = AnalyzerOptions()

    /// The options as the flags byte stored with an index (bit 0: stop words, bit 1: stemming).
    var flags: UInt8 { (stopWords ? 1 : 0) | (stemming ? 2 : 0) }

    init(flags: UInt8) {
        self.init(stopWords: flags & 1 != 0, stemming: flags & 2 != 0)
    }
}

/// The analyzer of the full-text index, used alike on the index and on the query side.
///
/// Steps, in order (`docs/storage-format.md`, "Full-text index", documents the same):
///
/// 1. **Tokenisation.** Word characters are the Unicode letters, marks and numbers; everything
///    else (spaces, punctuation, symbols, emoji) separates words. Each Han ideograph, Hiragana
///    and Katakana character is a word of its own, since those scripts do not separate words.
/// 2. **Identifiers.** Words joined by a single `-` or `_` (`SR-2023-052`, `user_id`,
///    `e-mail`) give each part as a term **and** the parts concatenated (`sr2023052`, `userid`,
///    `email`), so an identifier is found whole or by its parts, and `e-mail` meets `email`.
/// 3. **Folding.** Compatibility decomposition (NFKD: width and ligature variants), lowercase,
///    nonspacing marks removed (`é` → `e`), and the letters that do not decompose mapped:
///    `ß` → `ss`, `æ` → `ae`, `œ` → `oe`, `ø` → `o`, `ł` → `l`, `đ`/`ð` → `d`, `þ` → `th`, `ı` → `i`.
/// 4. **Stop words** (``AnalyzerOptions/stopWords``): the parts in ``stopWords`` are dropped.
/// 5. **Stemming** (``AnalyzerOptions/stemming``): ``stem(_:)`` on parts made of ASCII letters.
/// 6. Terms longer than ``maximumTermBytes`` bytes are cut there (at a character boundary).
///
/// Concatenated identifiers are neither stop-word-filtered nor stemmed. A document's length
/// is the number of terms it gives, concatenations included.
package struct TextAnalyzer: Sendable {
    /// The options applied.
    package var options: AnalyzerOptions

    /// Terms are cut at 100 UTF-8 bytes: longer "words" are hashes or encoded blobs, whose
    /// prefix identifies them as well, and the cut keeps every posting key far below LMDB's
    /// 511-byte limit.
    package static let maximumTermBytes = 100

    /// Lucene's English stop words (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`).
    package static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    ]

    /// An analyzer with these options.
    package init(_ options: AnalyzerOptions = .default) {
        self.options = options
    }

    /// The terms of `text`, in text order, repeated as often as they occur.
    package func terms(_ text: String) -> [String] {
        var result: [String] = []
        forEachTerm(text) { result.append($0) }
        return result
    }

    /// Calls `body` with each term of `text`.
    package func forEachTerm(_ text: String, _ body: (String) -> Void) {
        var parts: [String] = []
        var current: [UInt8] = []  // the folded UTF-8 of the word being read
        current.reserveCapacity(64)
        func endWord() {
            if !current.isEmpty { parts.append(String(decoding: current, as: UTF8.self)) }
            current.removeAll(keepingCapacity: true)
        }
        func endCompound() {
            endWord()
            for part in parts { emitPart(part, body) }
            if parts.count > 1 { body(Self.cut(parts.joined())) }
            parts.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            if Self.isWordScalar(scalar) {
                if Self.isStandaloneScalar(scalar) {
                    endCompound()
                    var single: [UInt8] = []
                    Self.appendFolded(scalar, to: &single)
                    body(String(decoding: single, as: UTF8.self))
                } else {
                    Self.appendFolded(scalar, to: &current)
                }
            } else if (scalar == "-" || scalar == "_") && !current.isEmpty {
                endWord()  // a joiner: the compound goes on if a word follows
            } else {
                endCompound()
            }
        }
        endCompound()
    }

    /// The longest stop word has 5 letters: longer words skip the set lookup.
    private static let longestStopWord = stopWords.map(\.utf8.count).max() ?? 0

    private func emitPart(_ part: String, _ body: (String) -> Void) {
        if options.stopWords && part.utf8.count <= Self.longestStopWord && Self.stopWords.contains(part) { return }
        body(Self.cut(options.stemming ? Self.stem(part) : part))
    }

    /// The English minimal stemmer (Lucene's `EnglishMinimalStemmer`, after Harman's "S"
    /// stemmer), applied only to words of ASCII lowercase letters:
    ///
    /// - fewer than 3 letters, or not ending in `s`, or ending in `us` or `ss`: unchanged;
    /// - `…ies` (not `…eies`, `…aies`): `…y` (`memories` → `memory`);
    /// - `…ies` after `e`/`a`, `…aes`, `…ees`, `…oes`: unchanged;
    /// - otherwise the final `s` goes (`seats` → `seat`, `boxes` → `boxe`).
    package static func stem(_ word: String) -> String {
        var word = word
        let cut = word.withUTF8 { bytes -> Int in
            let n = bytes.count
            guard n >= 3, bytes[n - 1] == UInt8(ascii: "s"), bytes.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
                return 0
            }
            switch bytes[n - 2] {
            case UInt8(ascii: "u"), UInt8(ascii: "s"):
                return 0
            case UInt8(ascii: "e"):
                if n > 3 && bytes[n - 3] == UInt8(ascii: "i") && bytes[n - 4] != UInt8(ascii: "a")
                    && bytes[n - 4] != UInt8(ascii: "e")
                {
                    return 3  // "ies" → "y"
                }
                return [UInt8(ascii: "i"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "e")].contains(
                    bytes[n - 3])
                    ? 0 : 1
            default:
                return 1
            }
        }
        switch cut {
        case 0: return word
        case 3: return String(word.utf8.dropLast(3))! + "y"
        default: return String(word.utf8.dropLast())!
        }
    }

    // MARK: Characters

    /// Letters, marks and numbers.
    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// Scripts written without spaces between words: each character is a term.
    @inline(__always)
    static func isStandaloneScalar(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.value >= 0x3040 else { return false }
        if scalar.properties.isIdeographic { return true }
        switch scalar.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return true  // Hiragana, Katakana, half-width Katakana
        default: return false
        }
    }

    /// Letters that compatibility decomposition leaves alone, with their folded form.
    private static let specialFolds: [Unicode.Scalar: String] = [
        "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
        "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i",
    ]

    /// Appends the folded form of a word character, as UTF-8: NFKD, lowercase, without nonspacing marks.
    @inline(__always)
    static func appendFolded(_ scalar: Unicode.Scalar, to word: inout [UInt8]) {
        if scalar.isASCII {
            let v = UInt8(scalar.value)
            word.append(v >= 0x41 && v <= 0x5A ? v + 0x20 : v)
            return
        }
        if let special = specialFolds[scalar] {
            word += special.utf8
            return
        }
        if scalar.properties.generalCategory == .nonspacingMark { return }
        let decomposed = String(scalar).decomposedStringWithCompatibilityMapping
        for part in decomposed.unicodeScalars where part.properties.generalCategory != .nonspacingMark {
            if part.isASCII {
                appendFolded(part, to: &word)
            } else if let special = specialFolds[part] {
                word += special.utf8
            } else {
                word += part.properties.lowercaseMapping.utf8
            }
        }
    }

    /// `term` cut to at most ``maximumTermBytes`` UTF-8 bytes, at a scalar boundary.
    static func cut(_ term: String) -> String {
        guard term.utf8.count > maximumTermBytes else { return term }
        var result = ""
        var bytes = 0
        for scalar in term.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > maximumTermBytes { break }
            result.unicodeScalars.append(scalar)
            bytes += width
        }
        return result
    }
}
