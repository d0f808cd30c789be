#define _GNU_SOURCE
/* Small-loss selection: at 1, 2 and 3 ranks (ctest runs all three) every rank's
 * kept set equals what a brute-force sort of the whole global batch by
 * (value, index) keeps, ties included (the ratio schedule itself is tested
 * against numpy in tests/train_infra). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/comm.h"
#include "scorr/rng.h"
#include "scorr/select.h"

static int cmp_idx(const void *a, const void *b, void *vals)
{
    const float *v = vals;
    int i = *(const int *)a, j = *(const int *)b;
    if (v[i] != v[j]) return v[i] < v[j] ? -1 : 1;
    return i - j;
}

int main(int argc, char **argv)
{
    struct scorr_comm *w;
    if (scorr_comm_init(&argc, &argv, &w)) return 1;
    int rank = scorr_comm_rank(w), size = scorr_comm_size(w);

    const int total = 5003; /* uneven slices */
    float *all = malloc(total * sizeof *all);
    struct scorr_rng r;
    scorr_rng_init(&r, 11, SCORR_RNG_TEST, 0, 0, 0);
    for (int i = 0; i < total; i++) all[i] = (float)scorr_rng_below(&r, 300) * 0.125f; /* many ties */
    int *order = malloc(total * sizeof *order);
    for (int i = 0; i < total; i++) order[i] = i;
    qsort_r(order, total, sizeof *order, cmp_idx, all);

    /* rank q holds [lo_q, hi_q): slice sizes differ by rank */
    int lo = (int)((long)total * rank / size), hi = (int)((long)total * (rank + 1) / size);
    struct scorr_select_ws ws;
    CHECK_OK(scorr_select_ws_init(&ws, total, size));
    uint8_t *keep = malloc((size_t)(hi - lo) + 1);
    char *want = calloc(total, 1);
    double ratios[] = {0.0, 0.2, 0.5, 0.9, 0.99999, 1.0};
    for (int t = 0; t < 6; t++) {
        int64_t nk = -1, tot = -1;
        CHECK_OK(scorr_select_small_loss(w, &ws, all + lo, hi - lo, ratios[t], keep, &nk, &tot));
        int64_t expect = ratios[t] >= 1 ? total : (int64_t)floor(ratios[t] * total);
        if (expect < 1) expect = 1;
        CHECK(nk == expect && tot == total, "ratio %g: num_keep %lld want %lld", ratios[t],
              (long long)nk, (long long)expect);
        memset(want, 0, total);
        for (int64_t i = 0; i < expect; i++) want[order[i]] = 1;
        int bad = 0, kept = 0;
        for (int i = lo; i < hi; i++) {
            bad += keep[i - lo] != want[i];
            kept += keep[i - lo];
        }
        CHECK(bad == 0, "ratio %g rank %d: %d positions differ from the brute-force selection",
              ratios[t], rank, bad);
        int64_t sum = kept;
        scorr_comm_sum_i64(w, &sum, 1);
        CHECK(sum == expect, "ratio %g: kept %lld over all ranks", ratios[t], (long long)sum);
    }

    scorr_select_ws_free(&ws);
    free(all);
    free(order);
    free(keep);
    free(want);
    int rc = scorr_test_finish("test_train_select");
    int64_t fails = rc;
    scorr_comm_sum_i64(w, &fails, 1);
    scorr_comm_finalize(w);
    return fails ? 1 : 0;
}
