// Distance kernels for EngramVector, compiled for several x86-64 instruction sets and chosen at
// run time (the rest of the package is built for the baseline CPU). See docs/hnsw.md,
// "Distance kernels".
//
// Every function takes two vectors of `count` floats, `count` a multiple of 16 (EngramVector pads
// its vectors with zeros), and returns the inner product or the squared Euclidean distance.

#ifndef CENGRAM_KERNELS_H
#define CENGRAM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A distance kernel: `a` and `b` hold `count` floats, `count` a multiple of 16.
typedef float (*engram_kernel_fn)(const float *a, const float *b, size_t count);

/// The instruction sets a kernel variant may need.
typedef enum {
    ENGRAM_ISA_NONE = 0,     ///< no variant of this library runs here (non-x86-64, or too old)
    ENGRAM_ISA_AVX2_FMA = 1, ///< AVX2 and FMA3 (Intel Haswell, AMD Excavator/Zen and later)
    ENGRAM_ISA_AVX512F = 2,  ///< AVX-512 Foundation (Intel Skylake-SP, AMD Zen 4 and later)
} engram_isa;

/// Whether this CPU (and the operating system, which must save the wide registers) runs
/// variant `isa`.
int engram_isa_supported(engram_isa isa);

/// The widest variant this CPU runs, or ENGRAM_ISA_NONE. The environment variable
/// ENGRAM_KERNELS=portable|avx2|avx512 caps the choice (for measurements and tests).
engram_isa engram_isa_best(void);

/// The inner product kernel of variant `isa`, or NULL when `isa` is not compiled in.
/// The caller must check `engram_isa_supported(isa)` before calling it.
engram_kernel_fn engram_dot_kernel(engram_isa isa);

/// The squared Euclidean distance kernel of variant `isa`, or NULL (as `engram_dot_kernel`).
engram_kernel_fn engram_l2sq_kernel(engram_isa isa);

/// A batch kernel: `out[i]` = the kernel of `query` and the vector at `arena + slots[i] * stride`,
/// for `i` in 0..<n; every vector holds `count` floats, a multiple of 16.
typedef void (*engram_batch_fn)(const float *query, const void *arena, size_t stride, const uint32_t *slots,
                                size_t n, size_t count, float *out);

/// The batch inner product kernel of variant `isa`, or NULL (as `engram_dot_kernel`).
engram_batch_fn engram_dot_batch(engram_isa isa);

/// The batch squared Euclidean distance kernel of variant `isa`, or NULL (as `engram_dot_kernel`).
engram_batch_fn engram_l2sq_batch(engram_isa isa);

/// `bytes` of memory aligned to at least 64 bytes, or NULL when out of memory. Large arenas
/// (8 MiB and more) are 2 MiB aligned and advised for transparent huge pages on Linux. Free with
/// `engram_arena_free`.
void *engram_arena_allocate(size_t bytes);

/// Frees memory of `engram_arena_allocate`.
void engram_arena_free(void *p);

/// Asks the CPU to start loading the `lines` cache lines (64 bytes each) from `p` into all cache
/// levels, without waiting for them; a no-op where the compiler has no prefetch builtin.
static inline void engram_prefetch_lines(const void *p, size_t lines) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < lines; i++) {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(c + 64 * i, 0, 3);
#else
        (void)c;
#endif
    }
}

#ifdef __cplusplus
}
#endif

#endif
