/* Pseudo-label quality counts (scorr/pseudo_quality.h) on constructed arrays:
 * each position's set (candidate, selected, outside), the one-cell radius
 * inclusive at its boundary, unknown truth (NaN) and a NaN target; an oracle
 * target equal to the truth gives precision 1; counts add up over calls. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "scorr/pseudo_quality.h"

int main(void)
{
    /* one pair, 2 x 4 grid: positions 0..7 */
    const struct scorr_flow_shape s = {1, 2, 4};
    float truth[8 * 2], target[8 * 2];
    for (int i = 0; i < 8; i++) truth[2 * i] = (float)i, truth[2 * i + 1] = -1.0f;
    truth[2 * 6] = NAN;                       /* unknown: not counted */
    /* distances to the truth: 0, 0.5, 1 (boundary, counts), 1.5, 3, 5 (3-4-5), -, NaN target */
    const float off[8][2] = {{0, 0}, {0.5f, 0}, {0, -1}, {1.5f, 0}, {0, 3}, {3, 4}, {0, 0}, {0, 0}};
    for (int i = 0; i < 8; i++) {
        target[2 * i] = truth[2 * i] + off[i][0];
        target[2 * i + 1] = truth[2 * i + 1] + off[i][1];
    }
    target[2 * 7] = NAN;                      /* a NaN prediction is never correct */
    truth[2 * 6] = NAN;
    const uint8_t cand[8] = {1, 1, 1, 1, 1, 0, 0, 0};
    const uint8_t keep[8] = {1, 0, 1, 1, 0, 0, 0, 0};
    int64_t c[2 * SCORR_PQ_SETS] = {0};
    scorr_pq_count(c, target, truth, cand, keep, &s, 1.0f);
    /* cand: 0..4 known, ok 0, 1, 2 -> (5, 3); sel: 0, 2, 3 -> (3, 2); out: 5, 7 known (6 NaN) -> (2, 0) */
    const int64_t want[6] = {5, 3, 3, 2, 2, 0};
    for (int j = 0; j < 6; j++)
        CHECK(c[j] == want[j], "count %d: %lld, want %lld", j, (long long)c[j], (long long)want[j]);

    /* it adds: a second call doubles every count */
    scorr_pq_count(c, target, truth, cand, keep, &s, 1.0f);
    for (int j = 0; j < 6; j++)
        CHECK(c[j] == 2 * want[j], "second call, count %d: %lld", j, (long long)c[j]);

    /* a larger radius takes in 1.5 and 3 but not 5 */
    memset(c, 0, sizeof c);
    scorr_pq_count(c, target, truth, cand, keep, &s, 3.0f);
    CHECK(c[1] == 5 && c[3] == 3 && c[5] == 0, "radius 3: %lld %lld %lld", (long long)c[1],
          (long long)c[3], (long long)c[5]);

    /* oracle: the truth as its own pseudo-label is always correct */
    memset(c, 0, sizeof c);
    scorr_pq_count(c, truth, truth, cand, keep, &s, 1.0f);
    for (int set = 0; set < SCORR_PQ_SETS; set++)
        CHECK(c[2 * set] > 0 && c[2 * set + 1] == c[2 * set], "oracle set %d: %lld of %lld", set,
              (long long)c[2 * set + 1], (long long)c[2 * set]);
    return scorr_test_finish("test_train_pseudo_quality");
}
