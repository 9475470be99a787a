import EngramEmbedding
import EngramTestSupport
import Foundation
import Testing

/// Edge cases of the WordPiece tokenizer. The expected ids come from the reference tokenizer in
/// shared/embeddings/minilm_ref.py (with the HF tables), which matches HF tokenizers token for token.
@Suite("WordPiece tokenizer edge cases", .enabled(if: !skipModelTests, "ENGRAM_SKIP_MODEL_TESTS=1"))
struct TokenizerTests {
    static let cases: [(String, [Int32])] = [
        ("Hello, world!", [101, 7592, 1010, 2088, 999, 102]),
        ("", [101, 102]),
        ("[CLS]", [101, 101, 102]),
        ("[cls] x [SEP][MASK]", [101, 1031, 18856, 2015, 1033, 1060, 102, 103, 102]),
        ("[CLS", [101, 1031, 18856, 2015, 102]),
        ("Café naïve Ångström", [101, 7668, 15743, 17076, 15687, 102]),
        ("我爱北京", [101, 1855, 100, 1781, 1755, 102]),
        ("a\u{0007}b\u{200B}c\u{00AD}", [101, 5925, 102]),
        ("a\u{00A0}b\u{3000}c\td\ne", [101, 1037, 1038, 1039, 1040, 1041, 102]),
        (String(repeating: "x", count: 101), [101, 100, 102]),
        (String(repeating: "y", count: 100), [101, 1061] + [Int32](repeating: 2100, count: 99) + [102]),
        ("🙂 ok", [101, 100, 7929, 102]),
        ("«quoted» €5 ¿qué?", [101, 1077, 9339, 1090, 1574, 2629, 1094, 10861, 1029, 102]),
        ("ΟΔΟΣ", [101, 1169, 29722, 29730, 29733, 102]),
        ("e\u{0301}\u{0323}", [101, 1041, 102]),
        ("İstanbul", [101, 9960, 102]),
        ("don't U.S.A.", [101, 2123, 1005, 1056, 1057, 1012, 1055, 1012, 1037, 1012, 102]),
        ("한국어", [101, 1469, 30006, 30021, 29991, 30014, 30020, 29999, 30008, 102]),
        ("\u{FEFF}bom", [101, 8945, 2213, 102]),
        ("tab\tsep\r\nline", [101, 21628, 19802, 2240, 102]),
        ("\u{0000}nul\u{FFFD}", [101, 16371, 2140, 102]),
        ("###", [101, 1001, 1001, 1001, 102]),
        ("unaffable", [101, 14477, 20961, 3468, 102]),
        ("ﬁ ligature", [101, 1984, 8018, 11244, 102]),
        ("ＡＢＣ fullwidth", [101, 100, 2440, 9148, 11927, 2232, 102]),
    ]

    @Test(arguments: cases)
    func tokenIDs(text: String, expected: [Int32]) throws {
        let tokenizer = try requireMiniLM().tokenizer
        #expect(tokenizer.tokenIDs(for: text) == expected, "\(text.debugDescription)")
    }

    @Test func truncationKeepsThePrefixAndTheSpecials() throws {
        let tokenizer = try requireMiniLM().tokenizer
        let text = (0..<300).map { "w\($0)" }.joined(separator: " ")
        let full = tokenizer.wordPieceIDs(for: text)
        for length in [2, 3, 10, 256] {
            let ids = tokenizer.tokenIDs(for: text, maximumLength: length)
            #expect(ids.count == length)
            #expect(ids == [101] + full.prefix(length - 2) + [102])
        }
    }

    @Test func tokensRoundTripThroughTheVocabulary() throws {
        let tokenizer = try requireMiniLM().tokenizer
        #expect(tokenizer.vocabularySize == 30522)
        #expect(tokenizer.token(for: 101) == "[CLS]")
        #expect(tokenizer.token(for: 7592) == "hello")
        #expect(tokenizer.token(for: -1) == nil)
        #expect(tokenizer.token(for: 30522) == nil)
    }

    @Test func aVocabularyWithoutSpecialTokensIsRejected() {
        #expect(throws: EmbeddingError.self) { try WordPieceTokenizer(tokens: ["a", "b"]) }
    }

    @Test func aSmallVocabularyTokenizesGreedily() throws {
        var tokens = (0..<104).map { "[unused\($0)]" }
        for (id, name) in [(0, "[PAD]"), (100, "[UNK]"), (101, "[CLS]"), (102, "[SEP]"), (103, "[MASK]")] {
            tokens[id] = name
        }
        tokens += ["un", "##aff", "##able", "aff", "##a", "##ble", "!"]
        let tokenizer = try WordPieceTokenizer(tokens: tokens)
        #expect(tokenizer.tokenIDs(for: "Unaffable!") == [101, 104, 105, 106, 110, 102])
        #expect(tokenizer.tokenIDs(for: "unknownword") == [101, 100, 102])
    }
}

@Suite("BERT Unicode tables")
struct BertUnicodeTablesTests {
    @Test func theCompiledTablesEqualTheSharedJSON() throws {
        let url = sharedFolder().appendingPathComponent("embeddings/bert-unicode-tables.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        func ranges(_ key: String) throws -> [ClosedRange<UInt32>] {
            let raw = try #require(json[key] as? [[Int]], "\(key) missing from the JSON")
            return raw.map { UInt32($0[0])...UInt32($0[1]) }.sorted { $0.lowerBound < $1.lowerBound }
        }
        #expect(BertUnicodeTables.controlRemoved == (try ranges("control_removed")))
        #expect(BertUnicodeTables.whitespaceToSpace == (try ranges("whitespace_to_space")))
        #expect(BertUnicodeTables.nonspacingMarksRemoved == (try ranges("nonspacing_marks_removed")))
        #expect(BertUnicodeTables.punctuationNonASCII == (try ranges("punctuation_non_ascii")))
        #expect(BertUnicodeTables.chinese == (try ranges("chinese")))
    }

    @Test func theTablesAreSortedAndDisjoint() {
        for table in [
            BertUnicodeTables.controlRemoved, BertUnicodeTables.whitespaceToSpace,
            BertUnicodeTables.nonspacingMarksRemoved, BertUnicodeTables.punctuationNonASCII,
            BertUnicodeTables.chinese,
        ] {
            #expect(zip(table, table.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound })
        }
    }

    @Test func theClassesAnswerAsTheTablesSay() {
        #expect(BertCharacterClasses.isRemoved(0x200B))
        #expect(!BertCharacterClasses.isRemoved(0x09))
        #expect(BertCharacterClasses.isWhitespace(0x3000))
        #expect(BertCharacterClasses.isChinese(0x4E00))
        #expect(!BertCharacterClasses.isChinese(0xAC00))
        #expect(BertCharacterClasses.isNonspacingMark(0x0301))
        #expect(!BertCharacterClasses.isNonspacingMark(0x20E3))
        #expect(BertCharacterClasses.isPunctuation(UInt32(UInt8(ascii: "$"))))
        #expect(BertCharacterClasses.isPunctuation(0x00BF))
        #expect(!BertCharacterClasses.isPunctuation(0x20AC))
    }
}

@Suite("Encoder kernels")
struct KernelTests {
    @Test func erfIsWithinAFewULPOfLibm() {
        var worst: Double = 0
        var x = -6.0
        while x <= 6 {
            worst = max(worst, abs(Double(Kernels.erf(Float(x))) - Foundation.erf(Double(Float(x)))))
            x += 0.0003
        }
        #expect(worst < 5e-7, "max abs error \(worst)")
    }

    @Test func expIsWithinTwoULPOfLibm() {
        var worstRelative: Double = 0
        var x = -87.0
        while x <= 0 {
            let exact = Foundation.exp(Double(Float(x)))
            worstRelative = max(worstRelative, abs(Double(Kernels.exp(Float(x))) - exact) / exact)
            x += 0.001
        }
        #expect(worstRelative < 2.5e-7, "max relative error \(worstRelative)")
        #expect(Kernels.exp(-1000) == 0)
        #expect(Kernels.exp(-.infinity) == 0)
        #expect(Kernels.exp(0) == 1)
    }
}
