import Engram
import Foundation

/// How the command line opens a store: with the embedder its memory vectors were made with, so
/// that what a command writes is embedded like the rest.
///
/// - A store whose vectors were made by all-MiniLM-L6-v2 opens with MiniLM (an error naming
///   `engram model install` when the model is missing); one made by the hashing embedder opens
///   with a hashing embedder of the recorded dimension.
/// - A store with no vectors yet opens with MiniLM when the model is installed, else with no
///   embedder (keyword and graph search only; `engram reindex` adds vectors later).
/// - `requested` (a command's `--model`) overrides the choice; a mismatch with the recorded model
///   is then the store's `embedding_model_mismatch` error, which names `engram reindex`.
enum StoreOpening {
    static func open(
        path: String, configuration: EngramStore.Configuration, requested: EmbedderChoice? = nil,
        modelDirectory: String? = nil
    ) throws -> EngramStore {
        let plain = try EngramStore(path: path, configuration: configuration)
        let embedder: (any Embedder)?
        if let requested {
            embedder = try requested.make(modelDirectory: modelDirectory)
        } else if let recorded = try plain.embeddingModel() {
            embedder = try Self.embedder(recorded: recorded, modelDirectory: modelDirectory)
        } else {
            embedder = try? EmbedderChoice.minilm.make(modelDirectory: modelDirectory)
        }
        guard let embedder else { return plain }
        // Opening a directory again in the process shares its environment.
        return try EngramStore(path: path, configuration: configuration, embedder: embedder)
    }

    /// The embedder whose model id is `recorded`.
    static func embedder(recorded: String, modelDirectory: String?) throws -> (any Embedder)? {
        if recorded == MiniLMEmbedder.defaultModelID {
            return try EmbedderChoice.minilm.make(modelDirectory: modelDirectory)
        }
        for dimension in [recorded.split(separator: "-").first { $0.hasPrefix("d") }.flatMap { Int($0.dropFirst()) }]
            .compactMap({ $0 })
        {
            let hashing = HashingEmbedder(dimension: dimension)
            if hashing.modelID == recorded { return hashing }
        }
        throw EngramError(
            .embeddingModelMismatch,
            "the store's vectors were made by '\(recorded)', which the command line cannot load; "
                + "open it from code with that embedder, or re-embed it with `engram reindex --model minilm|hashing`")
    }
}
