/// A deterministic, lexical embedder by feature hashing: no model, no network, no randomness.
///
/// **It is lexical, not semantic**: two texts are similar when they share words or parts of words,
/// not when they mean the same thing ("car" and "automobile" are unrelated to it). Use it for tests,
/// and to run Engram without a model; use ``MiniLMEmbedder`` for meaning.
///
/// Each text is lowercased and cut into words (runs of letters and digits). Its features are the
/// words, the pairs of adjacent words, and the character n-grams of each word framed as `<word>`.
/// Each feature is hashed with 64-bit FNV-1a over its UTF-8 bytes (stable across runs, processes and
/// platforms, unlike Swift's seeded `Hasher`); the hash picks a component and a sign, the component
/// gets ± the feature's weight, and the vector is L2-normalised. A text without any word gives the
/// zero vector.
///
/// ```swift
/// let embedder = HashingEmbedder(dimension: 256)
/// let vectors = try await embedder.embed(["User prefers Python", "python preferences"])
/// ```
public struct HashingEmbedder: Embedder {
    /// The length of every vector.
    public let dimension: Int
    /// The lengths of the character n-grams taken from each word (with its `<` `>` frame).
    public let characterNGrams: ClosedRange<Int>
    /// `engram-hashing-v1` with the dimension and n-gram lengths, so that vectors made with other
    /// settings are never mixed.
    public var modelID: String {
        "engram-hashing-v1-d\(dimension)-c\(characterNGrams.lowerBound)-\(characterNGrams.upperBound)"
    }

    /// Weights of the three feature kinds: whole words count most, adjacent pairs add word order,
    /// and character n-grams (many per word) add robustness to inflection and typos.
    static let wordWeight: Float = 1
    static let pairWeight: Float = 0.5
    static let nGramWeight: Float = 0.25

    /// Creates a hashing embedder.
    /// - Parameters:
    ///   - dimension: the vector length, at least 1; 384 matches MiniLM so the two can share an index layout.
    ///   - characterNGrams: the character n-gram lengths, at least 1; 3...4 is the usual choice for
    ///     subword matching.
    /// - Precondition: `dimension >= 1` and `characterNGrams.lowerBound >= 1`.
    public init(dimension: Int = 384, characterNGrams: ClosedRange<Int> = 3...4) {
        precondition(dimension >= 1, "a hashing embedder needs a dimension of at least 1")
        precondition(characterNGrams.lowerBound >= 1, "character n-grams need a length of at least 1")
        self.dimension = dimension
        self.characterNGrams = characterNGrams
    }

    /// The vectors of `texts`, in order. Never throws.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        texts.map(vector(for:))
    }

    /// The vector of one text, synchronously.
    /// - Complexity: O(n · k) for a text of n characters and k n-gram lengths.
    public func vector(for text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        let words = Self.words(of: text)
        for (index, word) in words.enumerated() {
            add(kind: 0x77, Array(word.utf8), weight: Self.wordWeight, to: &vector)
            if index > 0 {
                add(
                    kind: 0x62, Array(words[index - 1].utf8) + [0x20] + Array(word.utf8), weight: Self.pairWeight,
                    to: &vector)
            }
            let framed = ["<"] + word.unicodeScalars.map { String($0) } + [">"]
            for length in characterNGrams where length <= framed.count {
                for start in 0...(framed.count - length) {
                    add(
                        kind: 0x63, Array(framed[start..<(start + length)].joined().utf8), weight: Self.nGramWeight,
                        to: &vector)
                }
            }
        }
        let norm = vector.reduce(Double(0)) { $0 + Double($1) * Double($1) }.squareRoot()
        if norm > 0 {
            let scale = Float(1 / norm)
            for index in vector.indices { vector[index] *= scale }
        }
        return vector
    }

    /// Lowercased runs of letters and digits.
    static func words(of text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    private func add(kind: UInt8, _ bytes: [UInt8], weight: Float, to vector: inout [Float]) {
        let hash = Self.fnv1a(kind, bytes)
        let index = Int(hash % UInt64(dimension))
        vector[index] += (hash >> 63) == 0 ? weight : -weight
    }

    /// 64-bit FNV-1a of a kind byte (keeping words, pairs and n-grams apart) followed by `bytes`.
    static func fnv1a(_ kind: UInt8, _ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        hash = (hash ^ UInt64(kind)) &* 0x100_0000_01b3
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
