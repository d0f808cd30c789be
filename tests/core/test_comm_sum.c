/* The deterministic sums of scorr/comm.h at any rank count (ctest runs it at
 * 1, 2 and 4 ranks, oversubscribed):
 *   - fp32: every element is the rank-order sum ((g_0 + g_1) + g_2) + ...,
 *     bit for bit, for the whole buffer in one call and for every split into
 *     pieces (1, 7, 1000 floats, ...) started several at a time in backward
 *     order, as the trainer's buckets are; n smaller than the rank count;
 *   - bf16: exactly bf16(sum_r fp32(bf16(g_r))) on every rank, and within
 *     2^-8 (2 + 2^-8) sum_r |g_r| + size 2^-24 sum_r |g_r| of the exact sum;
 *   - the bf16 converters round to nearest even and keep NaN and Inf.
 * The references are computed here from every rank's data (allgatherv). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/rng.h"

#define N 40009

/* Values of rank r: magnitudes over six decades, both signs, so the order
 * of the additions shows in the low bits. */
static void fill(float *g, size_t n, int r)
{
    struct scorr_rng rng;
    scorr_rng_init(&rng, 77, (uint32_t)r, 0, 0, 0);
    for (size_t i = 0; i < n; i++)
        g[i] = scorr_rng_range(&rng, -1.0f, 1.0f) * powf(10.0f, scorr_rng_range(&rng, -3, 3));
}

/* Sum buf in pieces of `piece` floats from the top down, up to 4 in flight,
 * testing the ones in flight after every start (the trainer's pattern). */
static int sum_pieces(struct scorr_sum **slots, float *buf, size_t n, size_t piece)
{
    int err = 0, started = 0, finished = 0;
    size_t hi = n;
    while (hi > 0) {
        size_t lo = hi > piece ? hi - piece : 0;
        if (started - finished == 4) SCORR_TRY(scorr_comm_sum_wait(slots[finished++ % 4]));
        SCORR_TRY(scorr_comm_sum_start(slots[started++ % 4], buf + lo, hi - lo));
        for (int k = finished; k < started; k++) {
            int done = 0;
            SCORR_TRY(scorr_comm_sum_test(slots[k % 4], &done));
        }
        hi = lo;
    }
    while (finished < started) SCORR_TRY(scorr_comm_sum_wait(slots[finished++ % 4]));
done:
    return err;
}

static void converters(void)
{
    CHECK(scorr_f32_to_bf16(1.0f) == 0x3f80, "1.0 -> %04x", scorr_f32_to_bf16(1.0f));
    /* 1 + 2^-8 is a tie between 1 and 1 + 2^-7: to even (1) */
    CHECK(scorr_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "tie down");
    /* 1 + 3 * 2^-8 is a tie between 1 + 2^-7 (odd) and 1 + 2^-6: up */
    CHECK(scorr_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82, "tie up: %04x",
          scorr_f32_to_bf16(1.0f + 3 * 0x1p-8f));
    CHECK(scorr_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81, "above the tie");
    CHECK(scorr_bf16_to_f32(scorr_f32_to_bf16(-2.5f)) == -2.5f, "exact value kept");
    CHECK(isnan(scorr_bf16_to_f32(scorr_f32_to_bf16(NAN))), "NaN");
    CHECK(isinf(scorr_bf16_to_f32(scorr_f32_to_bf16(INFINITY))), "Inf");
}

int main(int argc, char **argv)
{
    struct scorr_comm *w = NULL;
    if (scorr_comm_init(&argc, &argv, &w)) {
        scorr_error_print(stderr, "test_comm_sum");
        return 1;
    }
    const int r = scorr_comm_rank(w), size = scorr_comm_size(w);
    converters();
    float *mine = malloc(N * sizeof(float)), *all = malloc((size_t)size * N * sizeof(float));
    float *ref = malloc(N * sizeof(float)), *ref16 = malloc(N * sizeof(float));
    double *exact = malloc(N * sizeof(double)), *mag = malloc(N * sizeof(double));
    float *buf = malloc(N * sizeof(float));
    fill(mine, N, r);
    CHECK_OK(scorr_comm_allgatherv_f32(w, mine, N, all, NULL));
    for (size_t i = 0; i < N; i++) {
        float s = all[i], s16 = scorr_bf16_to_f32(scorr_f32_to_bf16(all[i]));
        exact[i] = all[i];
        mag[i] = fabs(all[i]);
        for (int p = 1; p < size; p++) {
            float x = all[(size_t)p * N + i];
            s += x;
            s16 += scorr_bf16_to_f32(scorr_f32_to_bf16(x));
            exact[i] += x;
            mag[i] += fabs(x);
        }
        ref[i] = s;
        ref16[i] = size > 1 ? scorr_bf16_to_f32(scorr_f32_to_bf16(s16)) : all[i];
    }

    struct scorr_sum *f32[4] = {NULL}, *b16[4] = {NULL};
    for (int k = 0; k < 4; k++) {
        CHECK_OK(scorr_comm_sum_create(w, N, SCORR_SUM_F32, &f32[k]));
        CHECK_OK(scorr_comm_sum_create(w, N, SCORR_SUM_BF16, &b16[k]));
    }
    static const size_t pieces[] = {N, 1, 3, 7, 1000, 4099, 33333};
    for (size_t j = 0; j < sizeof pieces / sizeof *pieces; j++) {
        if (pieces[j] < 1000 && pieces[j] > 1) {
            /* small pieces: only the top 3000 floats, the rest whole (time) */
            memcpy(buf, mine, N * sizeof(float));
            CHECK_OK(sum_pieces(f32, buf + N - 3000, 3000, pieces[j]));
            CHECK_OK(sum_pieces(f32, buf, N - 3000, N));
        } else {
            memcpy(buf, mine, N * sizeof(float));
            CHECK_OK(sum_pieces(f32, buf, pieces[j] == 1 ? 2 * (size_t)size + 1 : N,
                                pieces[j]));
            if (pieces[j] == 1) CHECK_OK(sum_pieces(f32, buf + 2 * size + 1, N - 2 * size - 1, N));
        }
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < N; i++)
            if (memcmp(&buf[i], &ref[i], sizeof(float)) && !bad++) first = i;
        CHECK(bad == 0, "fp32, pieces of %zu at %d ranks: %zu of %d elements differ from the "
              "rank-order sum (first %zu: %.9g, want %.9g)", pieces[j], size, bad, N, first,
              (double)buf[first], (double)ref[first]);

        memcpy(buf, mine, N * sizeof(float));
        CHECK_OK(sum_pieces(b16, buf, N, pieces[j] < 1000 ? 1000 : pieces[j]));
        bad = 0;
        size_t out = 0;
        double worst = 0;
        for (size_t i = 0; i < N; i++) {
            if (memcmp(&buf[i], &ref16[i], sizeof(float)) && !bad++) first = i;
            double bound = 0x1p-8 * (2 + 0x1p-8) * mag[i] + size * 0x1p-24 * mag[i];
            double e = fabs(buf[i] - exact[i]);
            if (e > bound) out++;
            if (mag[i] > 0 && e / mag[i] > worst) worst = e / mag[i];
        }
        CHECK(bad == 0, "bf16, pieces of %zu at %d ranks: %zu elements differ from "
              "bf16(sum fp32(bf16(g))) (first %zu)", pieces[j], size, bad, first);
        CHECK(out == 0, "bf16 at %d ranks: %zu elements beyond the bound", size, out);
        if (j == 0 && r == 0)
            printf("bf16 exchange at %d ranks: worst |error| / sum_r |g_r| = %.3g (bound %.3g)\n",
                   size, worst, 0x1p-8 * (2 + 0x1p-8) + size * 0x1p-24);
    }
    /* fewer floats than ranks: empty blocks */
    memcpy(buf, mine, N * sizeof(float));
    CHECK_OK(sum_pieces(f32, buf, 1, 1));
    CHECK(!memcmp(buf, ref, sizeof(float)) && !memcmp(buf + 1, mine + 1, sizeof(float)),
          "one float: %g want %g", (double)buf[0], (double)ref[0]);
    /* the comparison can fail: another order gives other bits (3+ ranks) */
    if (size >= 3) {
        size_t diff = 0;
        for (size_t i = 0; i < N; i++) {
            float s = all[(size_t)(size - 1) * N + i];
            for (int p = size - 2; p >= 0; p--) s += all[(size_t)p * N + i];
            diff += s != ref[i];
        }
        CHECK(diff > 0, "reverse order gives the same bits everywhere: the test cannot fail");
    }
    for (int k = 0; k < 4; k++) {
        scorr_comm_sum_free(f32[k]);
        scorr_comm_sum_free(b16[k]);
    }
    free(mine), free(all), free(ref), free(ref16), free(exact), free(mag), free(buf);
    int64_t fails = scorr_test_finish("test_comm_sum");
    scorr_comm_sum_i64(w, &fails, 1);
    scorr_comm_finalize(w);
    return fails ? 1 : 0;
}
