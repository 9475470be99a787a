/// Something that turns texts into fixed-length vectors.
///
/// Engram stores, with every vector, the ``modelID`` of the embedder that produced it, and refuses to
/// mix vectors of different models in one index. Implement this protocol to plug in your own model.
///
/// ```swift
/// let embedder = try MiniLMEmbedder()
/// let vectors = try await embedder.embed(["User prefers Python", "programming language"])
/// ```
///
/// ## Topics
/// ### Built-in embedders
/// - ``MiniLMEmbedder``
/// - ``OpenAIEmbedder``
/// - ``HashingEmbedder``
public protocol Embedder: Sendable {
    /// A stable identifier of the model and its settings, such as `sentence-transformers/all-MiniLM-L6-v2`.
    /// Vectors with different model ids are not comparable.
    var modelID: String { get }

    /// The length of every vector that ``embed(_:)`` returns.
    var dimension: Int { get }

    /// The vectors of `texts`, one per text, in order, each of length ``dimension``.
    /// - Throws: an ``EmbeddingError`` (or the implementation's own error) when the texts cannot be
    ///   embedded; then no vector is returned.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

extension Embedder {
    /// The vector of one text: `embed([text])[0]`.
    /// - Throws: what ``embed(_:)`` throws, or ``EmbeddingError`` `.badResponse` when it returns no vector.
    public func embed(_ text: String) async throws -> [Float] {
        guard let vector = try await embed([text]).first else {
            throw EmbeddingError(.badResponse, "\(modelID) returned no vector for one text")
        }
        return vector
    }
}
