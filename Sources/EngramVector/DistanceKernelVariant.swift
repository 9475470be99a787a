import CEngramKernels

/// The instruction-set variants of the distance kernels.
///
/// The package is compiled for the baseline CPU of its platform (SSE2 on x86-64), where a
/// 384-dimensional distance takes ~400 instructions. The C target `CEngramKernels` compiles the
/// same two kernels per function for AVX2 + FMA and for AVX-512 (`__attribute__((target))`), and
/// an index picks the widest variant the CPU runs when it is created, as hnswlib does. The Swift
/// kernels of ``DistanceKernels`` stay the portable fallback and the tests' reference.
/// `ENGRAM_KERNELS=portable|avx2|avx512` in the environment caps the choice (for measurements).
package enum DistanceKernelVariant: String, CaseIterable, Sendable {
    /// ``DistanceKernels/dot(_:_:count:)`` and ``DistanceKernels/l2Squared(_:_:count:)``: Swift
    /// `SIMD16<Float>`, compiled for the package's target CPU.
    case portable
    /// 256-bit AVX2 with fused multiply-add, four accumulators.
    case avx2
    /// 512-bit AVX-512F with fused multiply-add, two accumulators.
    case avx512

    private var isa: engram_isa {
        switch self {
        case .portable: ENGRAM_ISA_NONE
        case .avx2: ENGRAM_ISA_AVX2_FMA
        case .avx512: ENGRAM_ISA_AVX512F
        }
    }

    /// Whether this CPU runs the variant (the portable one runs everywhere).
    package var isSupported: Bool { self == .portable || engram_isa_supported(isa) != 0 }

    /// The widest variant this CPU runs (capped by `ENGRAM_KERNELS`), decided once per process.
    package static let best: DistanceKernelVariant = {
        switch engram_isa_best() {
        case ENGRAM_ISA_AVX512F: .avx512
        case ENGRAM_ISA_AVX2_FMA: .avx2
        default: .portable
        }
    }()
}

/// A distance kernel of one variant for one metric: what an index calls for every distance.
///
/// One indirect call per distance (a few nanoseconds against the 20–60 ns of a 384-dimensional
/// kernel), or one per neighbour list with ``batch(_:arena:stride:slots:n:count:into:)``; the
/// metric's sign and offset are applied after the call.
package struct DistanceFunction: Sendable {
    /// The C signature of a kernel: two padded vectors and their padded length.
    package typealias Kernel = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int) -> Float

    /// The C signature of a batch kernel: the query, an arena, its stride in bytes, the slots,
    /// their number, the padded length, and where the `n` results go.
    package typealias BatchKernel = @convention(c) (
        UnsafePointer<Float>?, UnsafeRawPointer?, Int, UnsafePointer<UInt32>?, Int, Int, UnsafeMutablePointer<Float>?
    ) -> Void

    package let variant: DistanceKernelVariant
    package let metric: VectorMetric
    private let kernel: Kernel
    private let batchKernel: BatchKernel

    /// The kernel of `variant` for `metric`; the variant must be supported by this CPU.
    package init(variant: DistanceKernelVariant = .best, metric: VectorMetric) {
        precondition(variant.isSupported, "the \(variant) distance kernels do not run on this CPU")
        self.variant = variant
        self.metric = metric
        let l2 = metric == .l2
        switch variant {
        case .portable:
            kernel = l2 ? portableL2Squared : portableDot
            batchKernel = l2 ? portableL2SquaredBatch : portableDotBatch
        case .avx2, .avx512:
            // Safe: both variants are compiled in on x86-64, where isSupported can be true.
            let isa: engram_isa = variant == .avx2 ? ENGRAM_ISA_AVX2_FMA : ENGRAM_ISA_AVX512F
            kernel = (l2 ? engram_l2sq_kernel(isa) : engram_dot_kernel(isa))!
            batchKernel = (l2 ? engram_l2sq_batch(isa) : engram_dot_batch(isa))!
        }
    }

    /// The distance of two padded vectors of `count` floats (`count` a multiple of 16): as
    /// ``DistanceKernels/distance(_:_:count:metric:)``.
    @inline(__always)
    package func callAsFunction(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let x = kernel(a, b, count)
        switch metric {
        case .cosine: return 1 - x
        case .dotProduct: return -x
        case .l2: return x
        }
    }

    /// The distances from `query` to the vectors of `slots` in `arena` (one vector every `stride`
    /// bytes, each `count` floats padded to a multiple of 16), into `out`: one call for a whole
    /// neighbour list.
    @inline(__always)
    package func batch(
        _ query: UnsafePointer<Float>, arena: UnsafeRawPointer, stride: Int, slots: UnsafePointer<UInt32>, n: Int,
        count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        batchKernel(query, arena, stride, slots, n, count, out)
        switch metric {
        case .cosine: for i in 0..<n { out[i] = 1 - out[i] }
        case .dotProduct: for i in 0..<n { out[i] = -out[i] }
        case .l2: break
        }
    }

    /// The raw kernel result: the inner product (cosine, dot product) or the squared distance (L2).
    package func raw(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        kernel(a, b, count)
    }
}

/// Asks the CPU to load the `lines` cache lines (64 bytes each) from `pointer`, without waiting.
@inline(__always)
func prefetch(_ pointer: UnsafeRawPointer, lines: Int) {
    engram_prefetch_lines(pointer, lines)
}

private func portableDot(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ count: Int) -> Float {
    // Safe: DistanceFunction passes non-nil padded vectors.
    DistanceKernels.dot(a.unsafelyUnwrapped, b.unsafelyUnwrapped, count: count)
}

private func portableL2Squared(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ count: Int) -> Float {
    DistanceKernels.l2Squared(a.unsafelyUnwrapped, b.unsafelyUnwrapped, count: count)
}

private func portableDotBatch(
    _ query: UnsafePointer<Float>?, _ arena: UnsafeRawPointer?, _ stride: Int, _ slots: UnsafePointer<UInt32>?,
    _ n: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>?
) {
    portableBatch(DistanceKernels.dot, query, arena, stride, slots, n, count, out)
}

private func portableL2SquaredBatch(
    _ query: UnsafePointer<Float>?, _ arena: UnsafeRawPointer?, _ stride: Int, _ slots: UnsafePointer<UInt32>?,
    _ n: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>?
) {
    portableBatch(DistanceKernels.l2Squared, query, arena, stride, slots, n, count, out)
}

@inline(__always)
private func portableBatch(
    _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float,
    _ query: UnsafePointer<Float>?, _ arena: UnsafeRawPointer?, _ stride: Int, _ slots: UnsafePointer<UInt32>?,
    _ n: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>?
) {
    // Safe: DistanceFunction.batch passes non-nil buffers of n slots and n results.
    let (q, a, s, o) = (query.unsafelyUnwrapped, arena.unsafelyUnwrapped, slots.unsafelyUnwrapped, out.unsafelyUnwrapped)
    for i in 0..<n { o[i] = kernel(q, (a + Int(s[i]) &* stride).assumingMemoryBound(to: Float.self), count) }
}
