/* Flow losses (include/scorr/loss.h). */
#include "scorr/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"

static size_t npos(const struct scorr_flow_shape *s)
{
    SCORR_ASSERT(s->b >= 0 && s->h >= 0 && s->w >= 0);
    return (size_t)s->b * s->h * s->w;
}

static inline float epe_at(const float *flow, const float *ref, size_t p)
{
    float dx = ref[2 * p] - flow[2 * p], dy = ref[2 * p + 1] - flow[2 * p + 1];
    return sqrtf(dx * dx + dy * dy);
}

void scorr_epe_forward(double *sum, int64_t *count, const float *flow, const float *ref,
                       const uint8_t *mask, const struct scorr_flow_shape *s)
{
    size_t n = npos(s);
    double acc = 0.0;
    int64_t cnt = 0;
    for (size_t p = 0; p < n; p++)
        if (mask[p]) {
            acc += epe_at(flow, ref, p);
            cnt++;
        }
    *sum = acc;
    *count = cnt;
}

void scorr_epe_backward(float *dflow, const float *flow, const float *ref, const uint8_t *mask,
                        double weight, double normaliser, const struct scorr_flow_shape *s)
{
    if (!(normaliser > 0.0)) return;
    size_t n = npos(s);
    float scale = (float)(weight / normaliser);
    for (size_t p = 0; p < n; p++) {
        if (!mask[p]) continue;
        /* e = ||flow - ref||  =>  de/dflow = (flow - ref) / e, 0 at e == 0 */
        float dx = flow[2 * p] - ref[2 * p], dy = flow[2 * p + 1] - ref[2 * p + 1];
        float e = sqrtf(dx * dx + dy * dy);
        if (e == 0.0f) continue;
        dflow[2 * p] += scale * (dx / e);
        dflow[2 * p + 1] += scale * (dy / e);
    }
}

void scorr_mask_dilate(uint8_t *out, const uint8_t *in, int k, const struct scorr_flow_shape *s)
{
    size_t n = npos(s);
    if (k == SCORR_DILATE_NONE) {
        memset(out, 1, n);
        return;
    }
    SCORR_ASSERT(k >= 1 && k % 2 == 1);
    int r = k / 2, h = s->h, w = s->w;
    for (int b = 0; b < s->b; b++) {
        const uint8_t *mi = in + (size_t)b * h * w;
        uint8_t *mo = out + (size_t)b * h * w;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t v = 0;
                int y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= h ? h - 1 : y + r;
                int x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= w ? w - 1 : x + r;
                for (int yy = y0; yy <= y1 && !v; yy++)
                    for (int xx = x0; xx <= x1; xx++)
                        if (mi[(size_t)yy * w + xx]) {
                            v = 1;
                            break;
                        }
                mo[(size_t)y * w + x] = v;
            }
    }
}

void scorr_epe_map(float *epe, const float *flow, const float *ref, const uint8_t *mask,
                   const struct scorr_flow_shape *s)
{
    size_t n = npos(s);
    for (size_t p = 0; p < n; p++) epe[p] = mask[p] ? epe_at(flow, ref, p) : 0.0f;
}

/* Sort key context for qsort (not thread-safe by itself: one sort at a time
 * per thread through the thread-local pointer). */
static _Thread_local const float *sort_values;

static int by_value_then_index(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    float va = sort_values[a], vb = sort_values[b];
    int na = isnan(va), nb = isnan(vb);
    if (na != nb) return na - nb; /* NaN last */
    if (!na && va != vb) return va < vb ? -1 : 1;
    return (a > b) - (a < b);
}

int64_t scorr_select_smallest(uint8_t *keep, const float *values, const uint8_t *mask,
                              int64_t count, double ratio, int32_t *order)
{
    int64_t n = 0;
    for (int64_t i = 0; i < count; i++) {
        keep[i] = 0;
        if (mask[i]) order[n++] = (int32_t)i;
    }
    if (n == 0) return 0;
    int64_t num_keep = ratio >= 1.0 ? n : (int64_t)floor(ratio * (double)n);
    if (num_keep < 1) num_keep = 1;
    sort_values = values;
    qsort(order, (size_t)n, sizeof *order, by_value_then_index);
    sort_values = NULL;
    for (int64_t i = 0; i < num_keep; i++) keep[order[i]] = 1;
    return num_keep;
}
