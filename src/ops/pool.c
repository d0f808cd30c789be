/* Max pooling, NHWC, with stored winners. */
#include "scorr/pool.h"

#include <math.h>

#include "scorr/error.h"

#define CBLK 64

int scorr_maxpool_check(const struct scorr_pool_shape *s, const char *what)
{
    int err = 0;
    SCORR_REQUIRE(s->n > 0 && s->h > 0 && s->w > 0 && s->c > 0 && s->k > 0 && s->stride > 0,
                  SCORR_EINVAL, "max pool %s: sizes must be positive", what);
    SCORR_REQUIRE(s->pad >= 0 && 2 * s->pad <= s->k, SCORR_EINVAL,
                  "max pool %s: padding must be at most half the kernel, found pad %d, kernel %d",
                  what, s->pad, s->k);
    SCORR_REQUIRE(s->h + 2 * s->pad >= s->k && s->w + 2 * s->pad >= s->k, SCORR_EINVAL,
                  "max pool %s: input %dx%d is smaller than the kernel %d", what, s->h, s->w,
                  s->k);
done:
    return err;
}

void scorr_maxpool_forward(float *y, int32_t *argmax, const float *x,
                           const struct scorr_pool_shape *s)
{
    const int H = s->h, W = s->w, C = s->c;
    const int Ho = scorr_pool_out(H, s->k, s->stride, s->pad);
    const int Wo = scorr_pool_out(W, s->k, s->stride, s->pad);
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->n; n++)
        for (int oh = 0; oh < Ho; oh++) {
            const int h0 = oh * s->stride - s->pad;
            const int hs = h0 < 0 ? 0 : h0, he = h0 + s->k > H ? H : h0 + s->k;
            for (int ow = 0; ow < Wo; ow++) {
                const int w0 = ow * s->stride - s->pad;
                const int ws = w0 < 0 ? 0 : w0, we = w0 + s->k > W ? W : w0 + s->k;
                const size_t o = (((size_t)n * Ho + oh) * Wo + ow) * C;
                for (int c0 = 0; c0 < C; c0 += CBLK) {
                    const int nc = C - c0 < CBLK ? C - c0 : CBLK;
                    float best[CBLK];
                    int32_t arg[CBLK];
                    for (int j = 0; j < nc; j++) {
                        best[j] = -INFINITY;
                        arg[j] = hs * W + ws;
                    }
                    for (int h = hs; h < he; h++)
                        for (int w = ws; w < we; w++) {
                            const float *xr = x + (((size_t)n * H + h) * W + w) * C + c0;
                            const int32_t id = h * W + w;
#pragma omp simd
                            for (int j = 0; j < nc; j++) {
                                /* strict '>' keeps the first maximum; a NaN wins */
                                int take = xr[j] > best[j] || isnan(xr[j]);
                                best[j] = take ? xr[j] : best[j];
                                arg[j] = take ? id : arg[j];
                            }
                        }
                    for (int j = 0; j < nc; j++) y[o + c0 + j] = best[j];
                    if (argmax)
                        for (int j = 0; j < nc; j++) argmax[o + c0 + j] = arg[j];
                }
            }
        }
}

void scorr_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                            const struct scorr_pool_shape *s, enum scorr_grad_mode mode)
{
    const int H = s->h, W = s->w, C = s->c, st = s->stride, k = s->k, p = s->pad;
    const int Ho = scorr_pool_out(H, k, st, p), Wo = scorr_pool_out(W, k, st, p);
    /* y = x[argmax]  =>  dx[i] = sum of dy over the outputs whose winner is i */
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->n; n++)
        for (int h = 0; h < H; h++) {
            /* outputs whose window holds row h: oh*st - p <= h <= oh*st - p + k - 1 */
            int oh0 = h + p - k + 1 <= 0 ? 0 : (h + p - k + 1 + st - 1) / st;
            int oh1 = (h + p) / st;
            if (oh1 > Ho - 1) oh1 = Ho - 1;
            for (int w = 0; w < W; w++) {
                int ow0 = w + p - k + 1 <= 0 ? 0 : (w + p - k + 1 + st - 1) / st;
                int ow1 = (w + p) / st;
                if (ow1 > Wo - 1) ow1 = Wo - 1;
                const int32_t id = h * W + w;
                float *dxr = dx + (((size_t)n * H + h) * W + w) * C;
                for (int c0 = 0; c0 < C; c0 += CBLK) {
                    const int nc = C - c0 < CBLK ? C - c0 : CBLK;
                    float acc[CBLK] = {0};
                    for (int oh = oh0; oh <= oh1; oh++)
                        for (int ow = ow0; ow <= ow1; ow++) {
                            const size_t o = (((size_t)n * Ho + oh) * Wo + ow) * C + c0;
#pragma omp simd
                            for (int j = 0; j < nc; j++)
                                acc[j] += argmax[o + j] == id ? dy[o + j] : 0.0f;
                        }
                    if (mode == SCORR_GRAD_SET)
                        for (int j = 0; j < nc; j++) dxr[c0 + j] = acc[j];
                    else
                        for (int j = 0; j < nc; j++) dxr[c0 + j] += acc[j];
                }
            }
        }
}
