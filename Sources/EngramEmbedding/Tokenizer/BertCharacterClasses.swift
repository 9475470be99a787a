/// Character-class predicates of the BERT uncased normaliser and pre-tokeniser, backed by
/// ``BertUnicodeTables`` (the classes HF tokenizers applies, probed over every code point).
package enum BertCharacterClasses {
    /// Whether `value` lies in one of the sorted, non-overlapping `ranges`. O(log n).
    @inline(__always)
    package static func contains(_ ranges: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) >> 1
            let range = ranges[mid]
            if value < range.lowerBound {
                high = mid
            } else if value > range.upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Deleted by `clean_text`: U+0000, U+FFFD and the control/format/private-use table.
    package static func isRemoved(_ value: UInt32) -> Bool {
        value == 0 || value == 0xFFFD || contains(BertUnicodeTables.controlRemoved, value)
    }

    /// A separator: the space itself or a character `clean_text` maps to a space.
    package static func isWhitespace(_ value: UInt32) -> Bool {
        value == 0x20 || contains(BertUnicodeTables.whitespaceToSpace, value)
    }

    /// A CJK ideograph that gets spaces on both sides.
    package static func isChinese(_ value: UInt32) -> Bool {
        value >= 0x3400 && contains(BertUnicodeTables.chinese, value)
    }

    /// A non-spacing mark (Mn), deleted after NFD.
    package static func isNonspacingMark(_ value: UInt32) -> Bool {
        value >= 0x300 && contains(BertUnicodeTables.nonspacingMarksRemoved, value)
    }

    /// Punctuation that becomes a one-character word: every ASCII punctuation character
    /// (including the symbols `$+<=>^`|~`) and the non-ASCII table.
    package static func isPunctuation(_ value: UInt32) -> Bool {
        if value < 0x80 { return isASCIIPunctuation(UInt8(value)) }
        return contains(BertUnicodeTables.punctuationNonASCII, value)
    }

    /// Whether an ASCII byte is one of ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``.
    @inline(__always)
    package static func isASCIIPunctuation(_ byte: UInt8) -> Bool {
        (33...47).contains(byte) || (58...64).contains(byte) || (91...96).contains(byte) || (123...126).contains(byte)
    }
}
