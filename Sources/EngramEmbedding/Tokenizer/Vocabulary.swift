/// A WordPiece vocabulary: token strings by id, and a hash table from a token's UTF-8 bytes to its id.
///
/// Lookups compare bytes, not `String`s: Swift's `String` equality is canonical equivalence, so a
/// precomposed "é" would equal a decomposed one, while the reference tokenizer compares code points.
/// The table also lets the tokenizer look up a piece of a word, with or without the `##`
/// continuation prefix, without building a `String` for it.
package struct Vocabulary: Sendable {
    /// The token strings, indexed by id.
    package let tokens: [String]
    /// Every token's UTF-8 bytes, back to back.
    private let bytes: [UInt8]
    /// `offsets[id] ..< offsets[id + 1]` are token `id`'s bytes in `bytes`.
    private let offsets: [Int32]
    /// Open addressing with linear probing; each slot holds an id or -1. Its capacity is a power of
    /// two at least twice the token count, so probe chains stay short.
    private let slots: [Int32]

    /// The FNV-1a offset basis and prime (64-bit): a stable, fast hash for short byte strings.
    private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let fnvPrime: UInt64 = 0x100_0000_01b3

    /// Builds the vocabulary from its tokens, id = position. A token that appears twice keeps its
    /// last id, as the reference tokenizer's dictionary does.
    package init(tokens: [String]) {
        self.tokens = tokens
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for token in tokens {
            bytes.append(contentsOf: token.utf8)
            offsets.append(Int32(bytes.count))
        }
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        bytes.withUnsafeBufferPointer { all in
            for id in tokens.indices {
                let token = UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])])
                var slot = Int(Self.hash(token, continuation: false) & UInt64(mask))
                while slots[slot] >= 0 {
                    let other = Int(slots[slot])
                    if all[Int(offsets[other])..<Int(offsets[other + 1])].elementsEqual(token) { break }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id)
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
    }

    /// The number of tokens.
    package var count: Int { tokens.count }

    /// The id of the token whose UTF-8 bytes are `piece`, preceded by `##` when `continuation` is
    /// true; nil when there is none.
    package func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        let mask = slots.count - 1
        var slot = Int(Self.hash(piece, continuation: continuation) & UInt64(mask))
        let extra = continuation ? 2 : 0
        return bytes.withUnsafeBufferPointer { all in
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                let start = Int(offsets[Int(id)])
                let end = Int(offsets[Int(id) + 1])
                if end - start == piece.count + extra {
                    if !continuation || (all[start] == 0x23 && all[start + 1] == 0x23) {
                        if all[(start + extra)..<end].elementsEqual(piece) { return id }
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The id of `token`, compared by UTF-8 bytes; nil when it is not in the vocabulary.
    package func id(of token: String) -> Int32? {
        var token = token
        return token.withUTF8 { id(of: $0, continuation: false) }
    }

    private static func hash(_ piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> UInt64 {
        var h = fnvOffset
        if continuation {
            h = (h ^ 0x23) &* fnvPrime
            h = (h ^ 0x23) &* fnvPrime
        }
        for byte in piece { h = (h ^ UInt64(byte)) &* fnvPrime }
        return h
    }
}
