#include "scorr/arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scorr/error.h"

static size_t round_up(size_t n) { return (n + SCORR_ALIGN - 1) & ~(size_t)(SCORR_ALIGN - 1); }

/* The bytes of the mapping behind an arena of `size` bytes: whole pages. */
static size_t mapped(size_t size)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) / page * page;
}

void scorr_arena_plan(struct scorr_arena *a) { memset(a, 0, sizeof *a); }

int scorr_arena_init(struct scorr_arena *a, size_t bytes, const char *what)
{
    int err = 0;
    memset(a, 0, sizeof *a);
    bytes = round_up(bytes ? bytes : SCORR_ALIGN);
    /* a private anonymous mapping: zero pages, resident only once touched
     * (a heap block would be, by its memset), and whole pages for
     * scorr_arena_discard */
    void *p = mmap(NULL, mapped(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a->base = p == MAP_FAILED ? NULL : p;
    SCORR_REQUIRE(a->base, SCORR_ENOMEM, "cannot allocate %.1f MiB for %s",
                  (double)bytes / (1 << 20), what ? what : "arena");
    a->size = bytes;
    a->owns = 1;
done:
    return err;
}

void scorr_arena_free(struct scorr_arena *a)
{
    if (a->owns && a->base) munmap(a->base, mapped(a->size));
    memset(a, 0, sizeof *a);
}

void scorr_arena_discard(struct scorr_arena *a)
{
    if (!a->owns || !a->base) return;
    /* Linux: the pages are dropped and read as zero at their next touch */
    if (madvise(a->base, mapped(a->size), MADV_DONTNEED))
        scorr_fatal(__FILE__, __LINE__, "madvise(MADV_DONTNEED) of an arena of %zu bytes failed",
                    a->size);
}

void *scorr_arena_alloc(struct scorr_arena *a, size_t n)
{
    size_t start = a->used;
    a->used = start + round_up(n);
    if (a->used > a->peak) a->peak = a->used;
    if (!a->base) return NULL;
    if (a->used > a->size)
        scorr_fatal(__FILE__, __LINE__, "arena overflow: %zu of %zu bytes (plan too small)",
                    a->used, a->size);
    return a->base + start;
}

float *scorr_arena_floats(struct scorr_arena *a, size_t n)
{
    return scorr_arena_alloc(a, n * sizeof(float));
}

size_t scorr_arena_bytes(size_t n) { return round_up(n); }

size_t scorr_arena_mark(const struct scorr_arena *a) { return a->used; }

void scorr_arena_release(struct scorr_arena *a, size_t mark)
{
    SCORR_ASSERT(mark <= a->used);
    a->used = mark;
}

void *scorr_aligned_calloc(size_t n)
{
    void *p = NULL;
    n = round_up(n ? n : 1);
    if (posix_memalign(&p, SCORR_ALIGN, n)) return NULL;
    memset(p, 0, n);
    return p;
}

void scorr_aligned_free(void *p) { free(p); }
