/* Keypoints -> sparse flow labels; see include/scorr/sparse_flow.h. */
#include "scorr/sparse_flow.h"

#include <math.h>
#include <string.h>

#include "scorr/error.h"

int scorr_sparse_flow_default_box(int stride) { return 2 * stride + 3; }

int scorr_sparse_flow_check(int image_size, int stride, int box)
{
    int err = 0;
    SCORR_REQUIRE(stride >= 1 && image_size >= stride && image_size % stride == 0, SCORR_EINVAL,
                  "sparse flow: image size %d must be a positive multiple of the stride %d",
                  image_size, stride);
    SCORR_REQUIRE(box >= 1, SCORR_EINVAL, "sparse flow: receptive box must be >= 1, found %d", box);
done:
    return err;
}

/* First and last cell index c whose box [c*stride + lo, c*stride + hi]
 * contains coordinate v; returns 0 when none. */
static int cell_range(float v, int lo, int hi, int stride, int G, int *c0, int *c1)
{
    /* c*stride + lo <= v  <=>  c <= (v - lo) / stride;  v <= c*stride + hi  <=>  c >= (v - hi) / stride */
    int a = (int)ceilf((v - (float)hi) / (float)stride);
    int b = (int)floorf((v - (float)lo) / (float)stride);
    if (a < 0) a = 0;
    if (b > G - 1) b = G - 1;
    /* Guard the float division against an off-by-one at exact boundaries. */
    while (a <= b && !((float)(a * stride + lo) <= v && v <= (float)(a * stride + hi))) a++;
    while (b >= a && !((float)(b * stride + lo) <= v && v <= (float)(b * stride + hi))) b--;
    *c0 = a;
    *c1 = b;
    return a <= b;
}

void scorr_sparse_flow(float *flow, uint8_t *mask, const float *src_kps, const float *trg_kps,
                       int n, int image_size, int stride, int box)
{
    SCORR_ASSERT(n >= 0 && n <= 255);
    int G = image_size / stride;
    int lo = -(box / 2) + stride / 2, hi = box / 2 + stride / 2;
    memset(flow, 0, sizeof(float) * 2 * (size_t)G * (size_t)G);
    memset(mask, 0, (size_t)G * (size_t)G);
    /* Accumulate sums of (src - trg) per covered cell; mask counts them. */
    for (int k = 0; k < n; k++) {
        float tx = trg_kps[2 * k], ty = trg_kps[2 * k + 1];
        float sx = src_kps[2 * k], sy = src_kps[2 * k + 1];
        if (isnan(tx) || isnan(ty) || isnan(sx) || isnan(sy)) continue;
        int c0, c1, r0, r1;
        if (!cell_range(tx, lo, hi, stride, G, &c0, &c1)) continue;
        if (!cell_range(ty, lo, hi, stride, G, &r0, &r1)) continue;
        for (int r = r0; r <= r1; r++)
            for (int c = c0; c <= c1; c++) {
                size_t i = (size_t)r * G + c;
                flow[2 * i] += sx - tx;
                flow[2 * i + 1] += sy - ty;
                mask[i]++;
            }
    }
    for (size_t i = 0; i < (size_t)G * G; i++) {
        if (!mask[i]) continue;
        float inv = 1.0f / ((float)mask[i] * (float)stride);
        flow[2 * i] *= inv;
        flow[2 * i + 1] *= inv;
        mask[i] = 1;
    }
}
