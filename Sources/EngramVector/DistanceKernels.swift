/// The SIMD distance kernels.
///
/// Every vector the indexes store, and every query they search with, is copied into a buffer whose
/// length is padded with zeros to a multiple of 16 components (``paddedLength(_:)``), so the
/// kernels run whole `SIMD16<Float>` steps with no scalar tail; zero padding changes neither a dot
/// product nor a squared distance. See `docs/hnsw.md` for the measurements.
package enum DistanceKernels {
    /// `count` rounded up to a multiple of 16.
    @inlinable
    package static func paddedLength(_ count: Int) -> Int { (count + 15) & ~15 }

    /// The inner product of two padded vectors.
    ///
    /// Two `SIMD16<Float>` accumulators: on baseline x86-64 (SSE2) they take 8 of the 16 vector
    /// registers, leaving room for the loads (four accumulators spill); with AVX2 or AVX-512 the
    /// loop is bound by memory, not by the adds. Measured in `docs/hnsw.md`.
    ///
    /// - Parameters:
    ///   - a: the first vector, `count` floats.
    ///   - b: the second vector, `count` floats.
    ///   - count: a multiple of 16.
    /// - Complexity: O(count).
    @inlinable
    package static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        // Safe: both buffers hold `count` floats, a multiple of 16 (callers pad).
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var s0 = SIMD16<Float>()
        var s1 = SIMD16<Float>()
        let bytes = count &* 4
        var offset = 0
        while offset &+ 128 <= bytes {
            s0 +=
                ra.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            s1 +=
                ra.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
            offset &+= 128
        }
        if offset < bytes {
            s0 +=
                ra.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
        }
        return horizontalSum(s0 + s1)
    }

    /// The squared Euclidean distance of two padded vectors (same structure as ``dot(_:_:count:)``).
    ///
    /// - Parameters:
    ///   - a: the first vector, `count` floats.
    ///   - b: the second vector, `count` floats.
    ///   - count: a multiple of 16.
    /// - Complexity: O(count).
    @inlinable
    package static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        // Safe: both buffers hold `count` floats, a multiple of 16 (callers pad).
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var s0 = SIMD16<Float>()
        var s1 = SIMD16<Float>()
        let bytes = count &* 4
        var offset = 0
        while offset &+ 128 <= bytes {
            let d0 =
                ra.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            let d1 =
                ra.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
            s0 += d0 * d0
            s1 += d1 * d1
            offset &+= 128
        }
        if offset < bytes {
            let d =
                ra.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            s0 += d * d
        }
        return horizontalSum(s0 + s1)
    }

    /// The sum of the lanes by halving (the standard library's `sum()` reduces lane by lane).
    @inlinable @inline(__always)
    package static func horizontalSum(_ s: SIMD16<Float>) -> Float {
        let h8 = s.lowHalf + s.highHalf
        let h4 = h8.lowHalf + h8.highHalf
        let h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }

    /// The distance of two padded vectors under `metric` (for cosine, both must be unit length).
    @inlinable
    package static func distance(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, metric: VectorMetric
    ) -> Float {
        switch metric {
        case .cosine: return 1 - dot(a, b, count: count)
        case .dotProduct: return -dot(a, b, count: count)
        case .l2: return l2Squared(a, b, count: count)
        }
    }

    /// Checks `vector` against `dimension` and finiteness, and writes it, normalised for the cosine
    /// metric and padded with zeros, into `destination` (``paddedLength(_:)`` floats).
    ///
    /// - Throws: ``VectorIndexError`` `dimensionMismatch`, `nonFiniteComponent`, or `zeroVector`.
    package static func prepare(
        _ vector: UnsafeBufferPointer<Float>, dimension: Int, metric: VectorMetric,
        into destination: UnsafeMutablePointer<Float>
    ) throws(VectorIndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        var norm: Float = 0
        for i in 0..<dimension {
            let x = vector[i]
            guard x.isFinite else { throw .nonFiniteComponent(index: i, value: x) }
            norm += x * x
        }
        let padded = paddedLength(dimension)
        if metric == .cosine {
            guard norm > 0, norm.isFinite else {
                // The squared norm underflowed or overflowed: scale by the largest component first.
                var maxAbs: Float = 0
                for i in 0..<dimension { maxAbs = Swift.max(maxAbs, abs(vector[i])) }
                guard maxAbs > 0 else { throw .zeroVector() }
                var scaledNorm: Float = 0
                for i in 0..<dimension {
                    let x = vector[i] / maxAbs
                    scaledNorm += x * x
                }
                let root = scaledNorm.squareRoot()
                for i in 0..<dimension { destination[i] = (vector[i] / maxAbs) / root }
                for i in dimension..<padded { destination[i] = 0 }
                return
            }
            let scale = 1 / norm.squareRoot()
            for i in 0..<dimension { destination[i] = vector[i] * scale }
        } else {
            for i in 0..<dimension { destination[i] = vector[i] }
        }
        for i in dimension..<padded { destination[i] = 0 }
    }
}
