public import Foundation

/// The built-in, offline sentence embedder: all-MiniLM-L6-v2 (384 dimensions) in pure Swift, matching
/// sentence-transformers to 1e-5.
///
/// It memory-maps `model.safetensors` and reads `vocab.txt` from the model directory (see
/// ``ModelFiles``); install them once with `engram model install` or `scripts/install-model.sh`.
/// Texts are tokenised with ``WordPieceTokenizer``, truncated to 256 tokens, run through the 6-layer
/// encoder, mean-pooled over their tokens and L2-normalised, so the dot product of two vectors is
/// their cosine similarity.
///
/// ```swift
/// let embedder = try MiniLMEmbedder()
/// let vectors = try await embedder.embed(["User prefers Python over JavaScript"])
/// ```
///
/// The instance is immutable and safe to share between tasks; each call allocates its own scratch
/// memory (about 6 MB per 512 tokens). ``vectors(for:)`` is synchronous CPU work on the calling
/// thread (about 5 ms for a 12-token query on one core); ``embed(_:)`` runs the same work off the
/// cooperative thread pool.
///
/// ## Topics
/// ### Creating
/// - ``init(modelDirectory:maximumSequenceLength:)``
/// ### Embedding
/// - ``embed(_:)``
/// - ``vectors(for:)``
/// - ``tokenIDs(for:)``
public final class MiniLMEmbedder: Embedder {
    /// The model id recorded with every vector this embedder makes.
    public static let defaultModelID = "sentence-transformers/all-MiniLM-L6-v2"

    /// `sentence-transformers/all-MiniLM-L6-v2`.
    public let modelID: String
    /// 384.
    public let dimension: Int = MiniLMModel.hidden
    /// The tokenizer, loaded from the model directory's `vocab.txt`.
    public let tokenizer: WordPieceTokenizer
    /// The longest token sequence, `[CLS]` and `[SEP]` included; longer texts are truncated.
    public let maximumSequenceLength: Int
    /// The directory the model was loaded from.
    public let modelDirectory: URL

    private let model: MiniLMModel

    /// Loads the model.
    ///
    /// - Parameters:
    ///   - modelDirectory: the directory holding `model.safetensors` and `vocab.txt`; nil means
    ///     `$ENGRAM_MODEL_DIR`, else `~/.cache/engram/models/all-MiniLM-L6-v2` (``ModelFiles/directory(explicit:environment:)``).
    ///   - maximumSequenceLength: tokens per text, `[CLS]` and `[SEP]` included, 2…512; 256 is what
    ///     the model was trained with.
    /// - Throws: ``EmbeddingError`` `.modelNotInstalled` (the message names `engram model install`)
    ///   when the files are absent, `.invalidModel` when they are not all-MiniLM-L6-v2,
    ///   `.blasUnavailable` when OpenBLAS cannot be loaded,
    ///   `.invalidConfiguration` for a sequence length out of range.
    /// - Complexity: O(vocabulary) to read `vocab.txt`; the weights are mapped, not read.
    public init(modelDirectory: URL? = nil, maximumSequenceLength: Int = WordPieceTokenizer.defaultMaximumLength) throws
    {
        guard (2...MiniLMModel.maximumPositions).contains(maximumSequenceLength) else {
            throw EmbeddingError(
                .invalidConfiguration, "maximumSequenceLength must be in 2...512, not \(maximumSequenceLength)")
        }
        let directory = modelDirectory ?? ModelFiles.directory()
        guard ModelFiles.isPresent(in: directory) else {
            throw EmbeddingError(
                .modelNotInstalled,
                "the MiniLM model is not installed in \(directory.path); run `engram model install` "
                    + "(or scripts/install-model.sh), or set \(ModelFiles.environmentVariable)")
        }
        try BLAS.ensureLoaded()
        self.modelDirectory = directory
        self.modelID = Self.defaultModelID
        self.maximumSequenceLength = maximumSequenceLength
        tokenizer = try WordPieceTokenizer(vocabularyURL: directory.appendingPathComponent(ModelFiles.vocabularyFile))
        model = try MiniLMModel(safetensorsPath: directory.appendingPathComponent(ModelFiles.weightsFile).path)
        guard model.vocabularySize == tokenizer.vocabularySize else {
            throw EmbeddingError(
                .invalidModel,
                "vocab.txt has \(tokenizer.vocabularySize) tokens but the model has \(model.vocabularySize) embeddings")
        }
    }

    /// The embeddings of `texts`: one 384-float, unit-length vector per text, in order.
    ///
    /// The computation runs on a Dispatch global queue, not on the caller's task, so that a long
    /// batch does not hold one of Swift concurrency's few cooperative threads.
    /// - Throws: never for valid input; the signature follows ``Embedder``.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        if texts.isEmpty { return [] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: self.vectors(for: texts))
            }
        }
    }

    /// The embeddings of `texts`, synchronously: one 384-float, unit-length vector per text, in order.
    /// An empty text gives the embedding of `[CLS] [SEP]`.
    /// - Complexity: O(n) in the total token count, plus O(t²) attention per text of t tokens.
    public func vectors(for texts: [String]) -> [[Float]] {
        model.embed(texts.map { tokenIDs(for: $0) })
    }

    /// The embeddings of already tokenised sequences (as from ``tokenIDs(for:)``).
    /// - Throws: ``EmbeddingError`` `.invalidInput` when a sequence is empty, longer than ``maximumSequenceLength`` or holds an id outside the vocabulary.
    public func vectors(forTokenIDs sequences: [[Int32]]) throws -> [[Float]] {
        for sequence in sequences {
            guard !sequence.isEmpty, sequence.count <= maximumSequenceLength,
                sequence.allSatisfy({ $0 >= 0 && Int($0) < model.vocabularySize })
            else {
                throw EmbeddingError(
                    .invalidInput,
                    "token sequences must hold 1…\(maximumSequenceLength) ids below \(model.vocabularySize)")
            }
        }
        return model.embed(sequences)
    }

    /// The token ids the model sees for `text`, `[CLS]` and `[SEP]` included, truncated to
    /// ``maximumSequenceLength``.
    public func tokenIDs(for text: String) -> [Int32] {
        tokenizer.tokenIDs(for: text, maximumLength: maximumSequenceLength)
    }
}
