public import Foundation

/// The BERT uncased WordPiece tokenizer of all-MiniLM-L6-v2, token for token as HF tokenizers runs it.
///
/// The pipeline, in order:
/// 1. the raw text is cut at exact, case-sensitive occurrences of the special tokens `[PAD]`, `[UNK]`,
///    `[CLS]`, `[SEP]` and `[MASK]`, which become their ids directly;
/// 2. each piece between them is normalised: control characters removed, whitespace mapped to a space,
///    CJK ideographs surrounded by spaces, NFD with non-spacing marks removed, then lowercased scalar by
///    scalar (full Unicode mapping, no final-sigma rule);
/// 3. pre-tokenised: split at whitespace, every punctuation character its own word;
/// 4. WordPiece: greedy longest match first with `##` continuations; a word that cannot be covered, or
///    is longer than 100 scalars, becomes `[UNK]`;
/// 5. `[CLS] … [SEP]` around the ids, truncated so that the whole is at most `maximumLength`.
///
/// The character classes come from ``BertUnicodeTables``, compiled in; nothing is read at run time
/// but the vocabulary.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabularyURL: modelDirectory.appendingPathComponent("vocab.txt"))
/// tokenizer.tokenIDs(for: "Hello, world!")  // [101, 7592, 1010, 2088, 999, 102]
/// ```
public struct WordPieceTokenizer: Sendable {
    /// The id of `[PAD]`.
    public static let padID: Int32 = 0
    /// The id of `[UNK]`, which stands for a word the vocabulary cannot cover.
    public static let unknownID: Int32 = 100
    /// The id of `[CLS]`, the first token of every sequence.
    public static let classID: Int32 = 101
    /// The id of `[SEP]`, the last token of every sequence.
    public static let separatorID: Int32 = 102
    /// The id of `[MASK]`.
    public static let maskID: Int32 = 103
    /// The sequence length all-MiniLM-L6-v2 was trained with (`sentence_bert_config.json`
    /// `max_seq_length`), including `[CLS]` and `[SEP]`.
    public static let defaultMaximumLength = 256
    /// Longer words become `[UNK]` (HF `max_input_chars_per_word`), counted in Unicode scalars.
    static let maximumWordLength = 100

    /// The special tokens that are matched in the raw text, before normalisation.
    private static let specialTokens: [(scalars: [UInt32], id: Int32)] = [
        ("[PAD]", padID), ("[UNK]", unknownID), ("[CLS]", classID), ("[SEP]", separatorID), ("[MASK]", maskID),
    ].map { (Array($0.0.unicodeScalars.map(\.value)), $0.1) }

    package let vocabulary: Vocabulary

    /// Creates a tokenizer from the tokens of a `vocab.txt`, id = line number.
    /// - Throws: ``EmbeddingError`` `.invalidModel` when the vocabulary lacks the special tokens.
    public init(tokens: [String]) throws {
        vocabulary = Vocabulary(tokens: tokens)
        for (name, id) in [
            ("[PAD]", Self.padID), ("[UNK]", Self.unknownID), ("[CLS]", Self.classID),
            ("[SEP]", Self.separatorID), ("[MASK]", Self.maskID),
        ]
        where vocabulary.id(of: name) != id {
            throw EmbeddingError(.invalidModel, "the vocabulary does not have \(name) at id \(id)")
        }
    }

    /// Reads a `vocab.txt` (one token a line, id = line number, UTF-8).
    /// - Throws: ``EmbeddingError`` `.modelNotInstalled` when the file is missing, `.invalidModel`
    ///   when it is not a BERT vocabulary.
    public init(vocabularyURL: URL) throws {
        guard let data = FileManager.default.contents(atPath: vocabularyURL.path) else {
            throw EmbeddingError(
                .modelNotInstalled,
                "cannot read \(vocabularyURL.path); run `engram model install` (or scripts/install-model.sh)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EmbeddingError(.invalidModel, "\(vocabularyURL.path) is not UTF-8")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines)
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// The vocabulary string of `id`, or nil when `id` is out of range.
    public func token(for id: Int32) -> String? {
        vocabulary.tokens.indices.contains(Int(id)) ? vocabulary.tokens[Int(id)] : nil
    }

    /// The token ids of `text`: `[CLS]`, the WordPiece ids, `[SEP]`, at most `maximumLength` in all.
    ///
    /// - Parameters:
    ///   - text: any string; nothing is rejected.
    ///   - maximumLength: the longest sequence to return, at least 2; ids past it are dropped.
    /// - Complexity: O(n) in the text's length for ASCII text; a word of k scalars costs O(k²) lookups
    ///   at worst.
    public func tokenIDs(for text: String, maximumLength: Int = defaultMaximumLength) -> [Int32] {
        let budget = max(0, maximumLength - 2)
        var ids: [Int32] = [Self.classID]
        ids.reserveCapacity(min(budget, 64) + 2)
        appendIDs(of: text, into: &ids, limit: budget + 1)
        if ids.count > budget + 1 { ids.removeSubrange((budget + 1)...) }
        ids.append(Self.separatorID)
        return ids
    }

    /// The WordPiece ids of `text` without `[CLS]`/`[SEP]` and without truncation.
    public func wordPieceIDs(for text: String) -> [Int32] {
        var ids: [Int32] = []
        appendIDs(of: text, into: &ids, limit: Int.max)
        return ids
    }

    /// Appends the ids of `text` to `ids` until `ids.count` reaches `limit` (a prefix of the ids is
    /// all that truncation keeps, so the rest of the text need not be tokenised).
    private func appendIDs(of text: String, into ids: inout [Int32], limit: Int) {
        var text = text
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        if isASCII, !text.utf8.contains(UInt8(ascii: "[")) {
            text.withUTF8 { appendASCIIIDs(of: $0, into: &ids, limit: limit) }
            return
        }
        let scalars = text.unicodeScalars.map(\.value)
        var start = 0
        var index = 0
        while index < scalars.count, ids.count < limit {
            if scalars[index] == 0x5B, let special = Self.special(in: scalars, at: index) {
                appendNormalisedIDs(of: scalars[start..<index], into: &ids, limit: limit)
                if ids.count < limit { ids.append(special.id) }
                index += special.length
                start = index
            } else {
                index += 1
            }
        }
        if ids.count < limit { appendNormalisedIDs(of: scalars[start..<scalars.count], into: &ids, limit: limit) }
    }

    private static func special(in scalars: [UInt32], at index: Int) -> (id: Int32, length: Int)? {
        for special in specialTokens where scalars.count - index >= special.scalars.count {
            if scalars[index..<(index + special.scalars.count)].elementsEqual(special.scalars) {
                return (special.id, special.scalars.count)
            }
        }
        return nil
    }

    /// The fast path for ASCII text without special tokens: normalisation is byte-wise.
    private func appendASCIIIDs(of bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], limit: Int) {
        var word: [UInt8] = []
        word.reserveCapacity(32)
        var boundaries: [Int] = []
        for byte in bytes {
            if ids.count >= limit { return }
            switch byte {
            case 0x09, 0x0A, 0x0D, 0x20:
                flush(&word, &boundaries, into: &ids)
            case 0x00...0x1F, 0x7F:
                continue
            default:
                if BertCharacterClasses.isASCIIPunctuation(byte) {
                    flush(&word, &boundaries, into: &ids)
                    word.append(byte)
                    flush(&word, &boundaries, into: &ids)
                } else {
                    boundaries.append(word.count)
                    word.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
                }
            }
        }
        flush(&word, &boundaries, into: &ids)
    }

    /// Normalises, pre-tokenises and WordPieces a piece of text that holds no special token.
    private func appendNormalisedIDs(of scalars: ArraySlice<UInt32>, into ids: inout [Int32], limit: Int) {
        if scalars.isEmpty { return }
        // clean_text and handle_chinese_chars.
        var cleaned = String.UnicodeScalarView()
        var needsDecomposition = false
        for value in scalars {
            if BertCharacterClasses.isRemoved(value) { continue }
            if BertCharacterClasses.isWhitespace(value) {
                cleaned.append(" ")
            } else if BertCharacterClasses.isChinese(value) {
                cleaned.append(" ")
                cleaned.append(Unicode.Scalar(value)!)
                cleaned.append(" ")
            } else {
                // Safe: every value came from a String's unicode scalars.
                cleaned.append(Unicode.Scalar(value)!)
                if value >= 0xC0 { needsDecomposition = true }
            }
        }
        // strip_accents: NFD (canonical decomposition and ordering, no recomposition), drop Mn.
        let decomposed =
            needsDecomposition
            ? String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars : cleaned
        // lowercase, pre-tokenise and WordPiece in one pass.
        var word: [UInt8] = []
        var boundaries: [Int] = []
        for scalar in decomposed {
            if ids.count >= limit { return }
            let value = scalar.value
            if BertCharacterClasses.isNonspacingMark(value) { continue }
            let lowered: String.UnicodeScalarView =
                value < 0x80 ? String.UnicodeScalarView([scalar]) : scalar.properties.lowercaseMapping.unicodeScalars
            for scalar in lowered {
                let value = scalar.value
                if value < 0x80 {
                    let byte = UInt8(value)
                    if BertCharacterClasses.isWhitespace(value) {
                        flush(&word, &boundaries, into: &ids)
                    } else if BertCharacterClasses.isASCIIPunctuation(byte) {
                        flush(&word, &boundaries, into: &ids)
                        word.append(byte)
                        flush(&word, &boundaries, into: &ids)
                    } else {
                        boundaries.append(word.count)
                        word.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
                    }
                } else if BertCharacterClasses.isWhitespace(value) {
                    flush(&word, &boundaries, into: &ids)
                } else if BertCharacterClasses.isPunctuation(value) {
                    flush(&word, &boundaries, into: &ids)
                    word.append(contentsOf: String(scalar).utf8)
                    boundaries.append(0)
                    flush(&word, &boundaries, into: &ids)
                } else {
                    boundaries.append(word.count)
                    word.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        flush(&word, &boundaries, into: &ids)
    }

    /// WordPieces the pending word (its UTF-8 bytes and the byte offset of each scalar), appends its
    /// ids, and clears it.
    private func flush(_ word: inout [UInt8], _ boundaries: inout [Int], into ids: inout [Int32]) {
        if word.isEmpty { return }
        defer {
            word.removeAll(keepingCapacity: true)
            boundaries.removeAll(keepingCapacity: true)
        }
        if boundaries.isEmpty { boundaries.append(0) }
        let scalarCount = boundaries.count
        if scalarCount > Self.maximumWordLength {
            ids.append(Self.unknownID)
            return
        }
        let mark = ids.count
        word.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < scalarCount {
                var end = scalarCount
                var found: Int32? = nil
                while start < end {
                    let lower = boundaries[start]
                    let upper = end == scalarCount ? bytes.count : boundaries[end]
                    if let id = vocabulary.id(
                        of: UnsafeBufferPointer(rebasing: bytes[lower..<upper]), continuation: start > 0)
                    {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else {
                    ids.removeSubrange(mark...)
                    ids.append(Self.unknownID)
                    return
                }
                ids.append(id)
                start = end
            }
        }
    }
}
