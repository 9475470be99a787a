// Distance kernels compiled with per-function target attributes and chosen at run time: the
// package is built for the baseline x86-64 CPU (SSE2), and Swift has no per-function targets.
// This is how hnswlib (and faiss, usearch) ship one binary for every x86-64 CPU.

#include "CEngramKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define ENGRAM_X86 1
#include <immintrin.h>
#else
#define ENGRAM_X86 0
#endif

#if ENGRAM_X86

// MARK: AVX2 + FMA: 8 floats a register, four accumulators (32 floats a step), FMA.

__attribute__((target("avx2,fma"))) static inline float engram_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static float engram_dot_avx2(const float *a, const float *b, size_t count) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    if (i < count) {  // count is a multiple of 16: one half step left
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    return engram_hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

__attribute__((target("avx2,fma"))) static float engram_l2sq_avx2(const float *a, const float *b, size_t count) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    if (i < count) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    return engram_hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// MARK: AVX-512F: 16 floats a register, two accumulators (32 floats a step), FMA.

__attribute__((target("avx512f"))) static float engram_dot_avx512(const float *a, const float *b, size_t count) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i < count) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f"))) static float engram_l2sq_avx512(const float *a, const float *b, size_t count) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    if (i < count) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

// MARK: Batches: the distances from one query to the vectors of several slots of an arena.

#define ENGRAM_BATCH(name, kernel, features)                                                        \
    __attribute__((target(features))) static void name(                                              \
        const float *query, const void *arena, size_t stride, const uint32_t *slots, size_t n,        \
        size_t count, float *out) {                                                                  \
        const char *base = (const char *)arena;                                                      \
        for (size_t i = 0; i < n; i++) {                                                             \
            out[i] = kernel(query, (const float *)(base + (size_t)slots[i] * stride), count);       \
        }                                                                                            \
    }

ENGRAM_BATCH(engram_dot_batch_avx2, engram_dot_avx2, "avx2,fma")
ENGRAM_BATCH(engram_l2sq_batch_avx2, engram_l2sq_avx2, "avx2,fma")
ENGRAM_BATCH(engram_dot_batch_avx512, engram_dot_avx512, "avx512f")
ENGRAM_BATCH(engram_l2sq_batch_avx512, engram_l2sq_avx512, "avx512f")

engram_batch_fn engram_dot_batch(engram_isa isa) {
    switch (isa) {
    case ENGRAM_ISA_AVX2_FMA: return engram_dot_batch_avx2;
    case ENGRAM_ISA_AVX512F: return engram_dot_batch_avx512;
    default: return NULL;
    }
}

engram_batch_fn engram_l2sq_batch(engram_isa isa) {
    switch (isa) {
    case ENGRAM_ISA_AVX2_FMA: return engram_l2sq_batch_avx2;
    case ENGRAM_ISA_AVX512F: return engram_l2sq_batch_avx512;
    default: return NULL;
    }
}

int engram_isa_supported(engram_isa isa) {
    __builtin_cpu_init();
    switch (isa) {
    case ENGRAM_ISA_AVX2_FMA: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ENGRAM_ISA_AVX512F: return __builtin_cpu_supports("avx512f");
    default: return 0;
    }
}

engram_kernel_fn engram_dot_kernel(engram_isa isa) {
    switch (isa) {
    case ENGRAM_ISA_AVX2_FMA: return engram_dot_avx2;
    case ENGRAM_ISA_AVX512F: return engram_dot_avx512;
    default: return NULL;
    }
}

engram_kernel_fn engram_l2sq_kernel(engram_isa isa) {
    switch (isa) {
    case ENGRAM_ISA_AVX2_FMA: return engram_l2sq_avx2;
    case ENGRAM_ISA_AVX512F: return engram_l2sq_avx512;
    default: return NULL;
    }
}

#else  // not x86-64: no variant; EngramVector uses its portable Swift kernels.

int engram_isa_supported(engram_isa isa) { return 0; }
engram_kernel_fn engram_dot_kernel(engram_isa isa) { return NULL; }
engram_kernel_fn engram_l2sq_kernel(engram_isa isa) { return NULL; }
engram_batch_fn engram_dot_batch(engram_isa isa) { return NULL; }
engram_batch_fn engram_l2sq_batch(engram_isa isa) { return NULL; }

#endif

engram_isa engram_isa_best(void) {
    engram_isa cap = ENGRAM_ISA_AVX512F;
    const char *choice = getenv("ENGRAM_KERNELS");
    if (choice != NULL) {
        if (strcmp(choice, "portable") == 0) cap = ENGRAM_ISA_NONE;
        else if (strcmp(choice, "avx2") == 0) cap = ENGRAM_ISA_AVX2_FMA;
    }
    for (int isa = cap; isa > ENGRAM_ISA_NONE; isa--) {
        if (engram_isa_supported((engram_isa)isa)) return (engram_isa)isa;
    }
    return ENGRAM_ISA_NONE;
}
