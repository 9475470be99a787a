import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one door to BLAS: OpenBLAS's `cblas_sgemm`, loaded with `dlopen` the first time a model needs it.
///
/// Why at run time rather than linked: OpenBLAS picks its kernels for the CPU when it is loaded, from
/// `OPENBLAS_CORETYPE` or its own detection, and Debian's 0.3.21 does not know recent AVX-512 CPUs
/// (AMD Zen 5 is run with its Haswell/AVX2 kernels, half the speed of its SkylakeX/AVX-512 ones here).
/// Loading it ourselves lets us set `OPENBLAS_CORETYPE=SkylakeX` first when the CPU has AVX-512 and the
/// user has not chosen; it also keeps OpenBLAS a run-time dependency only (`apt-get install libopenblas0`),
/// with a typed error when it is missing. `ENGRAM_BLAS_LIBRARY` names another library exporting
/// `cblas_sgemm` (on macOS, Accelerate is used).
///
/// Matrices are row-major `Float`; pointers are borrowed for the duration of a call only.
package enum BLAS {
    private typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    private typealias SGEMV =
        @convention(c) (
            Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
            UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32
    private typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?

    // CBLAS enum values (cblas.h).
    private static let rowMajor: Int32 = 101
    private static let noTranspose: Int32 = 111
    private static let transpose: Int32 = 112

    private struct Library: @unchecked Sendable {
        // Safe to share: C function pointers into a library that is never unloaded.
        let path: String
        let sgemm: SGEMM
        let sgemv: SGEMV?
        let setThreads: SetThreads?
        let getThreads: GetThreads?
        let coreName: CoreName?
    }

    /// The library, loaded once, or the error that says how to install one.
    private static let loaded: Result<Library, EmbeddingError> = load()

    /// Loads BLAS if needed.
    /// - Throws: ``EmbeddingError`` `.blasUnavailable` naming the package to install.
    package static func ensureLoaded() throws {
        _ = try loaded.get()
    }

    /// The path of the loaded library and OpenBLAS's kernel family (such as `SkylakeX`), for reports.
    package static var description: String {
        switch loaded {
        case .success(let library):
            let core = library.coreName?().map { String(cString: $0) } ?? "unknown"
            return "\(library.path) (kernels: \(core))"
        case .failure(let error):
            return error.message
        }
    }

    /// The number of threads OpenBLAS uses for one call (process-wide); 1 when unknown.
    package static var threadCount: Int {
        guard case .success(let library) = loaded, let get = library.getThreads else { return 1 }
        return Int(get())
    }

    /// Sets the number of threads OpenBLAS uses (process-wide). One thread is the fastest for the
    /// small matrices of a query and leaves the other cores to concurrent callers.
    package static func setThreadCount(_ count: Int) {
        guard case .success(let library) = loaded, let set = library.setThreads else { return }
        set(Int32(max(1, count)))
    }

    /// `c[m×n] = alpha · a[m×k] · bᵀ + beta · c`, where `b` is `n×k` row-major (a PyTorch `Linear`
    /// weight as stored: `[out, in]`). Call only after ``ensureLoaded()`` succeeded.
    @inline(__always)
    static func multiplyTransposed(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(
            transposeB: true, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc
        )
    }

    /// `c[m×n] = alpha · a[m×k] · b[k×n] + beta · c`. Call only after ``ensureLoaded()`` succeeded.
    @inline(__always)
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(
            transposeB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
            ldc: ldc)
    }

    /// `y[n] = w[n×k] · x[k]`, for one row of input against a `[out, in]` weight: BLAS's matrix-vector
    /// product reads the weight once without packing it, which for one or two rows is faster than
    /// `sgemm`. Falls back to `sgemm` when the library has no `cblas_sgemv`.
    @inline(__always)
    static func multiplyVector(
        n: Int, k: Int, w: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    ) {
        guard case .success(let library) = loaded else {
            preconditionFailure("BLAS used without a successful BLAS.ensureLoaded()")
        }
        if let sgemv = library.sgemv {
            sgemv(rowMajor, noTranspose, Int32(n), Int32(k), 1, w, Int32(k), x, 1, 0, y, 1)
        } else {
            multiplyTransposed(m: 1, n: n, k: k, a: x, lda: k, b: w, ldb: k, c: y, ldc: n)
        }
    }

    @inline(__always)
    private static func sgemm(
        transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard case .success(let library) = loaded else {
            preconditionFailure("BLAS used without a successful BLAS.ensureLoaded()")
        }
        library.sgemm(
            rowMajor, noTranspose, transposeB ? transpose : noTranspose, Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    private static func load() -> Result<Library, EmbeddingError> {
        let environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_CORETYPE"] == nil, cpuHasAVX512() {
            // Must happen before OpenBLAS is loaded: it reads the variable once, in its constructor.
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 0)
        }
        var candidates: [String] = []
        if let explicit = environment["ENGRAM_BLAS_LIBRARY"], !explicit.isEmpty { candidates.append(explicit) }
        #if canImport(Darwin)
            candidates += [
                "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
                "/System/Library/Frameworks/Accelerate.framework/Accelerate",
            ]
        #else
            candidates += ["libopenblas.so.0", "libopenblas.so", "libopenblas64_.so.0"]
        #endif
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL), let sgemm = dlsym(handle, "cblas_sgemm") else {
                continue
            }
            let library = Library(
                path: path,
                sgemm: unsafeBitCast(sgemm, to: SGEMM.self),
                sgemv: dlsym(handle, "cblas_sgemv").map { unsafeBitCast($0, to: SGEMV.self) },
                setThreads: dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) },
                getThreads: dlsym(handle, "openblas_get_num_threads").map { unsafeBitCast($0, to: GetThreads.self) },
                coreName: dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: CoreName.self) })
            // One thread unless the user said otherwise: see setThreadCount.
            if environment["OPENBLAS_NUM_THREADS"] == nil { library.setThreads?(1) }
            return .success(library)
        }
        return .failure(
            EmbeddingError(
                .blasUnavailable,
                "cannot load OpenBLAS (tried \(candidates.joined(separator: ", "))); install it with "
                    + "`apt-get install libopenblas0` or set ENGRAM_BLAS_LIBRARY to a library exporting cblas_sgemm"))
    }

    /// Whether the CPU has the AVX-512 subsets OpenBLAS's SkylakeX kernels use (Linux `/proc/cpuinfo`).
    private static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return false }
        let set = Set(flags.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(set.contains)
    }
}
