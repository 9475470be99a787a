import Foundation

/// The weights of all-MiniLM-L6-v2 as views into the memory-mapped `model.safetensors`, and its forward
/// pass: a 6-layer post-LayerNorm BERT encoder, mean pooling over the real tokens, L2 normalisation.
///
/// Nothing is copied: matrix products read the `[out, in]` weights where they lie in the mapping
/// (`cblas_sgemm` with a transposed B), so the resident memory is the pages actually touched.
package final class MiniLMModel: @unchecked Sendable {
    // Safe to share: every stored property is immutable after init, and forward passes allocate
    // their own scratch memory.

    /// Hidden size.
    package static let hidden = 384
    /// Encoder layers.
    package static let layerCount = 6
    /// Attention heads.
    package static let headCount = 12
    /// Per-head size.
    package static let headSize = 32
    /// Feed-forward size.
    package static let intermediate = 1536
    /// Position embeddings in the file.
    package static let maximumPositions = 512
    /// BERT's LayerNorm epsilon.
    static let layerNormEpsilon: Float = 1e-12
    /// The most tokens one forward pass processes at once. A bigger batch is split; 512 rows keep
    /// the matrix products efficient while the scratch memory stays near 6 MB.
    static let tokensPerPass = 512
    /// Up to this many rows, a linear layer is one matrix-vector product per row instead of one
    /// matrix product: for so few rows the cost is reading the weights, which `sgemm` packs first.
    /// (Measured: a 3-token query, a one-word text, took 4.3–4.9 ms with `sgemm` and 2.7 ms this way;
    /// from 4 rows on `sgemm` is as fast or faster.)
    static let vectorProductRows = 3
    /// The row tile the linear layers are padded to (see `forward`).
    static let rowTile = 4

    struct Linear {
        let weight: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
        let outputs: Int
        let inputs: Int
    }

    struct Norm {
        let weight: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
    }

    struct Layer {
        let query: Linear
        let key: Linear
        let value: Linear
        let attentionOutput: Linear
        let attentionNorm: Norm
        let intermediate: Linear
        let output: Linear
        let outputNorm: Norm
    }

    private let file: SafeTensorsFile
    let vocabularySize: Int
    let wordEmbeddings: UnsafePointer<Float>
    let positionEmbeddings: UnsafePointer<Float>
    let tokenTypeEmbeddings: UnsafePointer<Float>
    let embeddingNorm: Norm
    let layers: [Layer]

    /// Maps `model.safetensors` and checks every tensor the encoder needs.
    /// - Throws: `.modelNotInstalled` when the file is absent, `.invalidModel` when a tensor is missing
    ///   or has another shape.
    package init(safetensorsPath path: String) throws {
        let file = try SafeTensorsFile(path: path)
        self.file = file
        let h = Self.hidden
        guard let words = file.entries["embeddings.word_embeddings.weight"], words.shape.count == 2 else {
            throw EmbeddingError(.invalidModel, "the model has no embeddings.word_embeddings.weight")
        }
        vocabularySize = words.shape[0]
        wordEmbeddings = try file.floats("embeddings.word_embeddings.weight", shape: [vocabularySize, h])
        positionEmbeddings = try file.floats(
            "embeddings.position_embeddings.weight", shape: [Self.maximumPositions, h])
        tokenTypeEmbeddings = try file.floats("embeddings.token_type_embeddings.weight", shape: [2, h])
        func norm(_ prefix: String) throws -> Norm {
            Norm(
                weight: try file.floats(prefix + ".weight", shape: [h]),
                bias: try file.floats(prefix + ".bias", shape: [h]))
        }
        func linear(_ prefix: String, _ outputs: Int, _ inputs: Int) throws -> Linear {
            Linear(
                weight: try file.floats(prefix + ".weight", shape: [outputs, inputs]),
                bias: try file.floats(prefix + ".bias", shape: [outputs]), outputs: outputs, inputs: inputs)
        }
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0..<Self.layerCount).map { index in
            let p = "encoder.layer.\(index)."
            return Layer(
                query: try linear(p + "attention.self.query", h, h),
                key: try linear(p + "attention.self.key", h, h),
                value: try linear(p + "attention.self.value", h, h),
                attentionOutput: try linear(p + "attention.output.dense", h, h),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try linear(p + "intermediate.dense", Self.intermediate, h),
                output: try linear(p + "output.dense", h, Self.intermediate),
                outputNorm: try norm(p + "output.LayerNorm"))
        }
    }

    /// The pooled, L2-normalised embeddings of `sequences` (token ids with `[CLS]`/`[SEP]`, each at
    /// most 512 long and with ids below the vocabulary size), in order.
    ///
    /// Sequences are packed back to back without padding: the dense layers are per token, and each
    /// sequence's attention runs over its own tokens only, which is exactly what a padding mask does
    /// (masked scores are `-inf`, so their softmax weight is exactly 0), without computing the padding.
    package func embed(_ sequences: [[Int32]]) -> [[Float]] {
        var results: [[Float]] = []
        results.reserveCapacity(sequences.count)
        var start = 0
        while start < sequences.count {
            var end = start
            var tokens = 0
            while end < sequences.count, end == start || tokens + sequences[end].count <= Self.tokensPerPass {
                tokens += sequences[end].count
                end += 1
            }
            results.append(contentsOf: forward(Array(sequences[start..<end])))
            start = end
        }
        return results
    }

    /// One forward pass over sequences packed into one matrix.
    private func forward(_ sequences: [[Int32]]) -> [[Float]] {
        let h = Self.hidden
        let lengths = sequences.map(\.count)
        let total = lengths.reduce(0, +)
        let longest = lengths.max() ?? 0
        if total == 0 { return sequences.map { _ in [Float](repeating: 0, count: h) } }
        // The linear layers run on `rows` rows: the tokens, rounded up to a multiple of 4 with zero
        // rows, because OpenBLAS's kernels work on 4-row tiles and are measurably slower on a ragged
        // edge (7 tokens took longer than 8). The extra rows are computed and ignored.
        let rows = total <= Self.vectorProductRows ? total : (total + Self.rowTile - 1) / Self.rowTile * Self.rowTile
        let scratch = Scratch(tokens: rows, longest: longest)
        defer { scratch.deallocate() }
        let x = scratch.x
        if rows > total {
            (x + total * h).update(repeating: 0, count: (rows - total) * h)
            (scratch.context + total * h).update(repeating: 0, count: (rows - total) * h)
        }

        // Embeddings: word + position + token type 0, then LayerNorm.
        var row = 0
        for sequence in sequences {
            for (position, id) in sequence.enumerated() {
                let out = x + row * h
                let word = wordEmbeddings + Int(id) * h
                let positional = positionEmbeddings + position * h
                for j in 0..<h { out[j] = word[j] + positional[j] + tokenTypeEmbeddings[j] }
                row += 1
            }
        }
        Kernels.layerNorm(x, rows: total, width: h, residual: nil, norm: embeddingNorm, epsilon: Self.layerNormEpsilon)

        let scale = 1 / Float(Double(Self.headSize).squareRoot())
        for layer in layers {
            apply(layer.query, to: x, rows: rows, into: scratch.q)
            apply(layer.key, to: x, rows: rows, into: scratch.k)
            apply(layer.value, to: x, rows: rows, into: scratch.v)
            var offset = 0
            for length in lengths {
                for head in 0..<Self.headCount {
                    let column = head * Self.headSize
                    BLAS.multiplyTransposed(
                        m: length, n: length, k: Self.headSize, alpha: scale,
                        a: scratch.q + offset * h + column, lda: h, b: scratch.k + offset * h + column, ldb: h,
                        c: scratch.scores, ldc: length)
                    Kernels.softmaxRows(scratch.scores, rows: length, width: length)
                    BLAS.multiply(
                        m: length, n: Self.headSize, k: length,
                        a: scratch.scores, lda: length, b: scratch.v + offset * h + column, ldb: h,
                        c: scratch.context + offset * h + column, ldc: h)
                }
                offset += length
            }
            apply(layer.attentionOutput, to: scratch.context, rows: rows, into: scratch.q)
            Kernels.layerNorm(
                x, rows: total, width: h, residual: scratch.q, norm: layer.attentionNorm, epsilon: Self.layerNormEpsilon
            )
            apply(layer.intermediate, to: x, rows: rows, into: scratch.wide)
            Kernels.gelu(scratch.wide, count: total * Self.intermediate)
            apply(layer.output, to: scratch.wide, rows: rows, into: scratch.q)
            Kernels.layerNorm(
                x, rows: total, width: h, residual: scratch.q, norm: layer.outputNorm, epsilon: Self.layerNormEpsilon)
        }

        // Mean pooling over every real token ([CLS] and [SEP] included), then L2 normalisation.
        var results: [[Float]] = []
        results.reserveCapacity(sequences.count)
        var offset = 0
        for length in lengths {
            var sum = [Double](repeating: 0, count: h)
            for r in offset..<(offset + length) {
                let source = x + r * h
                for j in 0..<h { sum[j] += Double(source[j]) }
            }
            offset += length
            var mean = sum.map { Float($0 / Double(max(length, 1))) }
            let norm = mean.reduce(Double(0)) { $0 + Double($1) * Double($1) }.squareRoot()
            let divisor = Float(max(norm, 1e-12))
            for j in 0..<h { mean[j] /= divisor }
            results.append(mean)
        }
        return results
    }

    /// `output[rows × outputs] = input[rows × inputs] · Wᵀ + b`.
    private func apply(
        _ linear: Linear, to input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>
    ) {
        if rows <= Self.vectorProductRows {
            for r in 0..<rows {
                BLAS.multiplyVector(
                    n: linear.outputs, k: linear.inputs, w: linear.weight, x: input + r * linear.inputs,
                    y: output + r * linear.outputs)
            }
        } else {
            BLAS.multiplyTransposed(
                m: rows, n: linear.outputs, k: linear.inputs, a: input, lda: linear.inputs, b: linear.weight,
                ldb: linear.inputs, c: output, ldc: linear.outputs)
        }
        Kernels.addBias(output, rows: rows, width: linear.outputs, bias: linear.bias)
    }

    /// The scratch matrices of one forward pass, allocated together and freed together.
    private struct Scratch {
        let x: UnsafeMutablePointer<Float>
        let q: UnsafeMutablePointer<Float>
        let k: UnsafeMutablePointer<Float>
        let v: UnsafeMutablePointer<Float>
        let context: UnsafeMutablePointer<Float>
        let wide: UnsafeMutablePointer<Float>
        let scores: UnsafeMutablePointer<Float>
        private let block: UnsafeMutablePointer<Float>

        init(tokens: Int, longest: Int) {
            let h = MiniLMModel.hidden
            let narrow = tokens * h
            let wideCount = tokens * MiniLMModel.intermediate
            // Each matrix starts on a 64-byte boundary (16 floats) for the BLAS kernels.
            func rounded(_ n: Int) -> Int { (n + 15) & ~15 }
            let total = 5 * rounded(narrow) + rounded(wideCount) + rounded(longest * longest)
            block = .allocate(capacity: total + 16)
            let aligned = UnsafeMutableRawPointer(block).alignedUp(toMultipleOf: 64).assumingMemoryBound(to: Float.self)
            x = aligned
            q = x + rounded(narrow)
            k = q + rounded(narrow)
            v = k + rounded(narrow)
            context = v + rounded(narrow)
            wide = context + rounded(narrow)
            scores = wide + rounded(wideCount)
        }

        func deallocate() { block.deallocate() }
    }
}
