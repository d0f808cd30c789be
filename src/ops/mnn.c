/* Mutual nearest-neighbour filter (include/scorr/corr.h).
 *
 * corr is (B, Lt, Ls): row t holds all sources of target t. tmax/targ are row
 * maxima (over sources), smax/sarg column maxima (over targets). Rows are
 * handled by one thread each and columns in blocks of MNN_BLOCK by one thread
 * each, so every element is written by one thread in a fixed order. */
#include "scorr/corr.h"

#include <stddef.h>

#include "scorr/error.h"

#define MNN_BLOCK 64
#define MNN_ZERO_FIX 1e-30f

void scorr_mnn_forward(float *out, float *smax, int32_t *sarg, float *tmax, int32_t *targ,
                       const float *corr, const struct scorr_corr_shape *s)
{
    SCORR_ASSERT(s->b >= 1 && s->ls >= 1 && s->lt >= 1);
    const int ls = s->ls, lt = s->lt;
    const size_t nc = (size_t)lt * ls;
    const int nblk = (ls + MNN_BLOCK - 1) / MNN_BLOCK;
#pragma omp parallel num_threads(s->nthreads)
    {
        /* row maxima: first occurrence wins (strict >), as torch.max(dim) */
#pragma omp for schedule(static)
        for (long bt = 0; bt < (long)s->b * lt; bt++) {
            const float *c = corr + (size_t)bt * ls;
            float m = c[0];
            int32_t a = 0;
            for (int j = 1; j < ls; j++)
                if (c[j] > m) {
                    m = c[j];
                    a = j;
                }
            tmax[bt] = m == 0.0f ? MNN_ZERO_FIX : m;
            targ[bt] = a;
        }
        /* column maxima, a block of columns per job */
#pragma omp for schedule(static)
        for (long bj = 0; bj < (long)s->b * nblk; bj++) {
            int b = (int)(bj / nblk), s0 = (int)(bj % nblk) * MNN_BLOCK;
            int s1 = s0 + MNN_BLOCK < ls ? s0 + MNN_BLOCK : ls;
            const float *cb = corr + (size_t)b * nc;
            float *sm = smax + (size_t)b * ls;
            int32_t *sa = sarg + (size_t)b * ls;
            for (int j = s0; j < s1; j++) {
                sm[j] = cb[j];
                sa[j] = 0;
            }
            for (int t = 1; t < lt; t++)
                for (int j = s0; j < s1; j++)
                    if (cb[(size_t)t * ls + j] > sm[j]) {
                        sm[j] = cb[(size_t)t * ls + j];
                        sa[j] = t;
                    }
            for (int j = s0; j < s1; j++)
                if (sm[j] == 0.0f) sm[j] = MNN_ZERO_FIX;
        }
        /* out = C * ((C / ms) * (C / mt)) */
#pragma omp for schedule(static)
        for (long bt = 0; bt < (long)s->b * lt; bt++) {
            const float *c = corr + (size_t)bt * ls;
            const float *sm = smax + (size_t)(bt / lt) * ls;
            float *o = out + (size_t)bt * ls, mt = tmax[bt];
#pragma omp simd
            for (int j = 0; j < ls; j++) o[j] = c[j] * ((c[j] / sm[j]) * (c[j] / mt));
        }
    }
}

void scorr_mnn_backward(float *dcorr, const float *dout, const float *corr, const float *smax,
                        const int32_t *sarg, const float *tmax, const int32_t *targ,
                        const struct scorr_corr_shape *s)
{
    const int ls = s->ls, lt = s->lt;
    const size_t nc = (size_t)lt * ls;
    const int nblk = (ls + MNN_BLOCK - 1) / MNN_BLOCK;
#pragma omp parallel num_threads(s->nthreads)
    {
        /* out = C * (a * b), a = C / ms[s], b = C / mt[t]:
         *   dC  += g * (a b + C b / ms + C a / mt)
         *   dmt  = -sum_s g C a b / mt, routed to (t, targ[t]) */
#pragma omp for schedule(static)
        for (long bt = 0; bt < (long)s->b * lt; bt++) {
            const float *c = corr + (size_t)bt * ls, *g = dout + (size_t)bt * ls;
            const float *sm = smax + (size_t)(bt / lt) * ls;
            float *dc = dcorr + (size_t)bt * ls, mt = tmax[bt];
            float dmt = 0.0f;
#pragma omp simd reduction(+ : dmt)
            for (int j = 0; j < ls; j++) {
                float a = c[j] / sm[j], b = c[j] / mt;
                dc[j] += g[j] * (a * b) + g[j] * c[j] * b / sm[j] + g[j] * c[j] * a / mt;
                dmt -= g[j] * c[j] * a * b / mt;
            }
            dc[targ[bt]] += dmt;
        }
        /* dms[s] = -sum_t g C a b / ms[s], routed to (sarg[s], s) */
#pragma omp for schedule(static)
        for (long bj = 0; bj < (long)s->b * nblk; bj++) {
            int b = (int)(bj / nblk), s0 = (int)(bj % nblk) * MNN_BLOCK;
            int s1 = s0 + MNN_BLOCK < ls ? s0 + MNN_BLOCK : ls;
            const float *cb = corr + (size_t)b * nc, *gb = dout + (size_t)b * nc;
            const float *sm = smax + (size_t)b * ls, *mtb = tmax + (size_t)b * lt;
            float acc[MNN_BLOCK] = {0};
            for (int t = 0; t < lt; t++) {
                const float *c = cb + (size_t)t * ls, *g = gb + (size_t)t * ls;
                float mt = mtb[t];
                for (int j = s0; j < s1; j++) {
                    float a = c[j] / sm[j], bb = c[j] / mt;
                    acc[j - s0] -= g[j] * c[j] * a * bb / sm[j];
                }
            }
            float *db = dcorr + (size_t)b * nc;
            for (int j = s0; j < s1; j++) db[(size_t)sarg[(size_t)b * ls + j] * ls + j] += acc[j - s0];
        }
    }
}
