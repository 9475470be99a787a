// Large arenas for the HNSW graph, backed by transparent huge pages where the OS offers them.

#include "CEngramKernels.h"

#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define ENGRAM_HUGE_PAGE ((size_t)2 << 20)

void *engram_arena_allocate(size_t bytes) {
    if (bytes == 0) bytes = 64;
    size_t alignment = 64;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // 2 MiB aligned and advised: random reads over a 100 MB+ arena then miss the TLB far less.
    // Where THP is "madvise" (Debian's default) nothing else asks for huge pages.
    if (bytes >= 4 * ENGRAM_HUGE_PAGE) alignment = ENGRAM_HUGE_PAGE;
#endif
    void *p = NULL;
    if (posix_memalign(&p, alignment, bytes) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == ENGRAM_HUGE_PAGE) {
        size_t rounded = bytes & ~(ENGRAM_HUGE_PAGE - 1);
        if (rounded > 0) (void)madvise(p, rounded, MADV_HUGEPAGE);
    }
#endif
    return p;
}

void engram_arena_free(void *p) { free(p); }
