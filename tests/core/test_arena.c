/* A planning pass and a real pass hand out the same layout; marks release. */
#include <stdint.h>

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
    return scorr_test_finish("test_core_arena");
}
