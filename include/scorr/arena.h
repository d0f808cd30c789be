/* One block of memory sized up front, handed out in 64-byte aligned pieces.
 *
 * Two passes: a planning arena (base == NULL) only counts bytes; a real arena
 * created with that count hands out the same layout. Model and trainer
 * set-up run their allocation code twice, first on a planning arena, so no
 * forward or backward pass ever calls malloc. Not thread-safe; local. */
#ifndef SCORR_ARENA_H
#define SCORR_ARENA_H

#include <stddef.h>

#define SCORR_ALIGN 64

struct scorr_arena {
    char *base;   /* NULL while planning */
    size_t size;  /* capacity in bytes (0 while planning) */
    size_t used;  /* bytes handed out so far, aligned */
    size_t peak;  /* largest `used` seen (after resets) */
    int owns;     /* base was allocated by scorr_arena_init */
};

/* A planning arena: alloc returns NULL but counts. */
void scorr_arena_plan(struct scorr_arena *a);

/* Allocate `bytes` (zeroed): a memory mapping of its own, whose pages count
 * in the resident set only once touched. Returns 0 or SCORR_ENOMEM with a
 * message. */
int scorr_arena_init(struct scorr_arena *a, size_t bytes, const char *what);
void scorr_arena_free(struct scorr_arena *a);

/* Give the pages of an arena created by scorr_arena_init back to the kernel
 * (madvise MADV_DONTNEED): its bytes leave the resident set, and every byte
 * reads as zero again (as after init) once touched. Whatever the arena held
 * is lost: only for arenas holding nothing live. No-op for an arena that
 * does not own its memory (the owner discards it). */
void scorr_arena_discard(struct scorr_arena *a);

/* Hand out n bytes aligned to SCORR_ALIGN. While planning returns NULL; on a
 * real arena an overflow is an internal error (the plan was wrong) and aborts. */
void *scorr_arena_alloc(struct scorr_arena *a, size_t n);
float *scorr_arena_floats(struct scorr_arena *a, size_t n);

/* Bytes an allocation of n bytes takes from an arena (n rounded up to
 * SCORR_ALIGN): what memory accounting adds up. */
size_t scorr_arena_bytes(size_t n);

/* Mark and release: scratch used inside one call and given back after. */
size_t scorr_arena_mark(const struct scorr_arena *a);
void scorr_arena_release(struct scorr_arena *a, size_t mark);

/* Aligned heap allocation for buffers that live outside an arena (flat
 * parameter buffers, dataset caches). Zeroed. NULL on failure. */
void *scorr_aligned_calloc(size_t n);
void scorr_aligned_free(void *p);

#endif
