/* Pseudo-label quality counts; see include/scorr/pseudo_quality.h. */
#include "scorr/pseudo_quality.h"

#include <math.h>

void scorr_pq_count(int64_t *counts, const float *target, const float *truth,
                    const uint8_t *cand, const uint8_t *keep, const struct scorr_flow_shape *s,
                    float radius)
{
    const size_t n = (size_t)s->b * s->h * s->w;
    const float r2 = radius * radius;
    for (size_t i = 0; i < n; i++) {
        const float tx = truth[2 * i], ty = truth[2 * i + 1];
        if (!isfinite(tx) || !isfinite(ty)) continue;
        const float dx = target[2 * i] - tx, dy = target[2 * i + 1] - ty;
        const int ok = dx * dx + dy * dy <= r2;
        const int set = cand[i] ? SCORR_PQ_CAND : SCORR_PQ_OUT;
        counts[2 * set] += 1;
        counts[2 * set + 1] += ok;
        if (cand[i] && keep[i]) {
            counts[2 * SCORR_PQ_SEL] += 1;
            counts[2 * SCORR_PQ_SEL + 1] += ok;
        }
    }
}
