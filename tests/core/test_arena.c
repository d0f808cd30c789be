/* A planning pass and a real pass hand out the same layout; marks release;
 * an arena starts zeroed, and discarding it zeroes it again, gives its pages
 * back (the resident set shrinks) and leaves it usable; a borrowed arena is
 * not discarded. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"

static void layout(struct scorr_arena *a, void **ptrs)
{
    ptrs[0] = scorr_arena_alloc(a, 3);
    ptrs[1] = scorr_arena_floats(a, 1000);
    size_t m = scorr_arena_mark(a);
    ptrs[2] = scorr_arena_alloc(a, 4096);
    scorr_arena_release(a, m);
    ptrs[3] = scorr_arena_alloc(a, 10);
}

/* VmRSS of this process in kB (-1 where /proc is not there). */
static long resident_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

int main(void)
{
    struct scorr_arena plan, real;
    void *pp[4], *rp[4];
    scorr_arena_plan(&plan);
    layout(&plan, pp);
    CHECK(pp[0] == NULL && pp[1] == NULL, "planning arena returned memory");
    CHECK(plan.peak == 64 + 4032 + 4096, "peak %zu", plan.peak);
    CHECK_OK(scorr_arena_init(&real, plan.peak, "test"));
    layout(&real, rp);
    for (int i = 0; i < 4; i++)
        CHECK(((uintptr_t)rp[i] % SCORR_ALIGN) == 0, "pointer %d not aligned", i);
    CHECK((char *)rp[3] == (char *)rp[2], "release did not rewind");
    CHECK(real.peak == plan.peak, "real peak %zu != planned %zu", real.peak, plan.peak);
    scorr_arena_free(&real);

    /* discard: 64 MiB written, then given back */
    const size_t big = (size_t)64 << 20;
    CHECK_OK(scorr_arena_init(&real, big, "test"));
    unsigned char *b = scorr_arena_alloc(&real, big);
    size_t nonzero = 0;
    for (size_t i = 0; i < big; i += 4093) nonzero += b[i] != 0;
    CHECK(nonzero == 0, "a new arena holds %zu non-zero sampled bytes", nonzero);
    memset(b, 0x5a, big);
    struct scorr_arena view = real; /* as a model sharing the arena holds it */
    view.owns = 0;
    scorr_arena_discard(&view);
    CHECK(b[0] == 0x5a && b[big - 1] == 0x5a, "discarding a borrowed arena changed it");
    const long before = resident_kb();
    scorr_arena_discard(&real);
    const long after = resident_kb();
    CHECK(before < 0 || before - after > 60 * 1024,
          "the resident set went from %ld to %ld kB: the pages were not given back", before,
          after);
    nonzero = 0;
    for (size_t i = 0; i < big; i += 4093) nonzero += b[i] != 0;
    CHECK(nonzero == 0 && b[big - 1] == 0, "a discarded arena holds non-zero bytes");
    b[7] = 1; /* still writable */
    CHECK(b[7] == 1, "a discarded arena is not usable");
    scorr_arena_free(&real);
    return scorr_test_finish("test_core_arena");
}
