/* Efficient spatial context encoder, forward and backward (include/scorr/sce.h).
 *
 * The 1x1 conv is two GEMMs sharing the weight matrix: raw feature part
 * W[:, :C] and similarity part W[:, C:] (ld = C + 4k), so the concatenated
 * (M, C + 4k) input is never built. The similarity gradient is pushed back
 * to the normalised feature as a GATHER over the positions that read each
 * position, so the loop over positions is race-free and thread-count
 * independent. */
#include "scorr/sce.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "ops/gemm.h"
#include "scorr/error.h"
#include "vec8.h"

#define SCE_NORM_EPS 1e-12f /* F.normalize's default eps */
#define SCE_BIAS_BLOCK 256

#define PAD16(n) (((size_t)(n) + 15) & ~(size_t)15)

/* The head's GEMMs: OpenBLAS on fixed-width slices over the OpenMP pool,
 * so the bits do not depend on the thread count (ops/gemm.h). */
static void gemm(char ta, char tb, int m, int n, int k, const float *a, int lda, const float *b,
                 int ldb, float beta, float *c, int ldc, int nthreads)
{
    scorr_gemm_sliced(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc, nthreads,
                      scorr_gemm_chunk(m, n));
}

static void check_shape(const struct scorr_sce_shape *s)
{
    SCORR_ASSERT(s->n >= 1 && s->h >= 1 && s->w >= 1 && s->c >= 1 && s->out >= 1);
    SCORR_ASSERT(s->k >= 1 && s->k % 2 == 1 && s->nthreads >= 1);
}

int scorr_sce_bf16_create(struct scorr_sce_bf16 *b, const struct scorr_sce_shape *s,
                          int backward)
{
    int err = 0;
    check_shape(s);
    memset(b, 0, sizeof *b);
    const int m = s->n * s->h * s->w, c = s->c, o = s->out;
    /* out (m, O) += f (m, C) W1^T, W1 = b->w (O, C) */
    const struct scorr_mm_bf16_shape fwd = {'N', 'T', m, o, c, c, c, o, 1};
    /* dW[:, :C] (O, C) += dy^T (O, m) f (m, C), into the (O, C + 4k) gradient */
    const struct scorr_mm_bf16_shape dw = {'T', 'N', o, c, m, o, c, c + scorr_sce_nsim(s), 1};
    /* df (m, C) += dy (m, O) W1 (O, C) */
    const struct scorr_mm_bf16_shape din = {'N', 'N', m, c, o, o, c, c, 1};
    SCORR_TRY(scorr_mm_bf16_create(&b->fwd, &fwd));
    if (backward) {
        SCORR_TRY(scorr_mm_bf16_create(&b->dw, &dw));
        SCORR_TRY(scorr_mm_bf16_create(&b->din, &din));
    }
done:
    if (err) scorr_sce_bf16_free(b);
    return err;
}

void scorr_sce_bf16_free(struct scorr_sce_bf16 *b)
{
    scorr_mm_bf16_free(b->fwd);
    scorr_mm_bf16_free(b->dw);
    scorr_mm_bf16_free(b->din);
    memset(b, 0, sizeof *b);
}

size_t scorr_sce_bf16_pad_bytes(const struct scorr_sce_bf16 *b)
{
    size_t p = 0;
    const struct scorr_mm_bf16 *mm[3] = {b->fwd, b->dw, b->din};
    for (int i = 0; i < 3; i++)
        if (mm[i] && scorr_mm_bf16_scratch(mm[i]) > p) p = scorr_mm_bf16_scratch(mm[i]);
    return p;
}

void scorr_sce_bf16_prepare(struct scorr_sce_bf16 *b, const float *weight,
                            const struct scorr_sce_shape *s)
{
    SCORR_ASSERT(b->w);
    scorr_bf16_round(b->w, weight, (size_t)s->out, (size_t)s->c,
                     (size_t)s->c + (size_t)scorr_sce_nsim(s), s->nthreads);
}

size_t scorr_sce_scratch_floats(const struct scorr_sce_shape *s)
{
    check_shape(s);
    size_t m = (size_t)s->n * s->h * s->w;
    return PAD16(m * (size_t)scorr_sce_nsim(s)) + (size_t)s->nthreads * PAD16((size_t)s->c);
}

void scorr_sce_offsets(int *dy, int *dx, int k)
{
    int p = k / 2;
    for (int i = 0; i < k; i++) {
        dy[i] = i - p; /* diagonal (i, i) */
        dx[i] = i - p;
        dy[k + i] = i - p; /* column (i, k/2) */
        dx[k + i] = 0;
        dy[2 * k + i] = i - p; /* anti-diagonal (i, k-1-i) */
        dx[2 * k + i] = (k - 1 - i) - p;
        dy[3 * k + i] = 0; /* row (k/2, i) */
        dx[3 * k + i] = i - p;
    }
}

void scorr_sce_forward(float *out, float *sim, float *nrm, float *den, const float *in,
                       const float *weight, const float *bias, const struct scorr_sce_shape *s,
                       const struct scorr_sce_bf16 *bf16)
{
    check_shape(s);
    const int c = s->c, k = s->k, ns = 4 * k, o = s->out, h = s->h, w = s->w;
    const long m = (long)s->n * h * w;
    const int ldw = c + ns;
    int oy[4 * 64], ox[4 * 64]; /* similarity offsets */
    SCORR_ASSERT(k <= 64);
    scorr_sce_offsets(oy, ox, k);

#pragma omp parallel num_threads(s->nthreads)
    {
        /* n = f / max(||f||, eps) */
#pragma omp for schedule(static)
        for (long i = 0; i < m; i++) {
            const float *f = in + (size_t)i * c;
            float *nv = nrm + (size_t)i * c;
            float d = sqrtf(v8_dot(f, f, c));
            d = d > SCE_NORM_EPS ? d : SCE_NORM_EPS;
            den[i] = d;
#pragma omp simd
            for (int j = 0; j < c; j++) nv[j] = f[j] / d;
        }
        /* s_o(p) = <n(p), n(p + offset_o)>, zero outside the map */
#pragma omp for schedule(static)
        for (long i = 0; i < m; i++) {
            int x = (int)(i % w), y = (int)((i / w) % h);
            long img = i / ((long)h * w);
            const float *np = nrm + (size_t)i * c;
            float *sp = sim + (size_t)i * ns;
            for (int q = 0; q < ns; q++) {
                int yy = y + oy[q], xx = x + ox[q];
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
                    sp[q] = 0.0f;
                    continue;
                }
                sp[q] = v8_dot(np, nrm + ((size_t)(img * h + yy) * w + xx) * c, c);
            }
        }
        /* out starts as the bias */
#pragma omp for schedule(static)
        for (long i = 0; i < m; i++) memcpy(out + (size_t)i * o, bias, (size_t)o * sizeof *out);
    }
    /* out += f W[:, :C]^T + s W[:, C:]^T */
    if (bf16) {
        scorr_bf16_round(bf16->f, in, (size_t)m, (size_t)c, (size_t)c, s->nthreads);
        scorr_mm_bf16_run(bf16->fwd, out, bf16->f, bf16->w, bf16->pad);
    } else {
        gemm('N', 'T', (int)m, o, c, in, c, weight, ldw, 1.0f, out, o, s->nthreads);
    }
    gemm('N', 'T', (int)m, o, ns, sim, ns, weight + c, ldw, 1.0f, out, o, s->nthreads);
    /* relu, one row per iteration */
#pragma omp parallel for schedule(static) num_threads(s->nthreads)
    for (long i = 0; i < m; i++) {
        float *r = out + (size_t)i * o;
        int j = 0;
        for (; j + 8 <= o; j += 8) v8_store(r + j, v8_max(v8_load(r + j), v8_set1(0.0f)));
        for (; j < o; j++) r[j] = r[j] > 0.0f ? r[j] : 0.0f;
    }
}

void scorr_sce_backward(float *din, float *dweight, float *dbias, float *dout, const float *out,
                        const float *sim, const float *nrm, const float *den, const float *in,
                        const float *weight, const struct scorr_sce_shape *s, float *scratch,
                        const struct scorr_sce_bf16 *bf16)
{
    check_shape(s);
    const int c = s->c, k = s->k, ns = 4 * k, o = s->out, h = s->h, w = s->w;
    const long m = (long)s->n * h * w;
    const int ldw = c + ns;
    int oy[4 * 64], ox[4 * 64]; /* similarity offsets */
    SCORR_ASSERT(k <= 64);
    scorr_sce_offsets(oy, ox, k);
    float *dsim = scratch;
    float *thread_dn = scratch + PAD16((size_t)m * ns);

    /* out = relu(y): dy = dout where out > 0 (in place) */
#pragma omp parallel for schedule(static) num_threads(s->nthreads)
    for (long i = 0; i < m; i++) {
        float *g = dout + (size_t)i * o;
        const float *r = out + (size_t)i * o;
        int j = 0;
        for (; j + 8 <= o; j += 8)
            v8_store(g + j, v8_sel(v8_load(r + j) > v8_set1(0.0f), v8_load(g + j), v8_set1(0.0f)));
        for (; j < o; j++) g[j] = r[j] > 0.0f ? g[j] : 0.0f;
    }

    /* y = ... + bias: dbias[o] += sum_m dy[m, o], column blocks per thread */
    const int nblk = (o + SCE_BIAS_BLOCK - 1) / SCE_BIAS_BLOCK;
#pragma omp parallel for schedule(static) num_threads(s->nthreads)
    for (int bk = 0; bk < nblk; bk++) {
        int o0 = bk * SCE_BIAS_BLOCK, o1 = o0 + SCE_BIAS_BLOCK < o ? o0 + SCE_BIAS_BLOCK : o;
        float acc[SCE_BIAS_BLOCK] = {0};
        for (long i = 0; i < m; i++) v8_axpy(acc, 1.0f, dout + (size_t)i * o + o0, (size_t)(o1 - o0));
        for (int j = o0; j < o1; j++) dbias[j] += acc[j - o0];
    }

    /* y = f W[:, :C]^T + s W[:, C:]^T: dW[:, :C] += dy^T f, dW[:, C:] += dy^T s */
    if (bf16) {
        SCORR_ASSERT(bf16->dw && bf16->din && bf16->dy);
        scorr_bf16_round(bf16->dy, dout, (size_t)m, (size_t)o, (size_t)o, s->nthreads);
        scorr_bf16_round(bf16->f, in, (size_t)m, (size_t)c, (size_t)c, s->nthreads);
        scorr_mm_bf16_run(bf16->dw, dweight, bf16->dy, bf16->f, bf16->pad);
    } else {
        gemm('T', 'N', o, c, (int)m, dout, o, in, c, 1.0f, dweight, ldw, s->nthreads);
    }
    gemm('T', 'N', o, ns, (int)m, dout, o, sim, ns, 1.0f, dweight + c, ldw, s->nthreads);
    if (!din) return;
    /* df += dy W[:, :C] (raw-feature path); ds = dy W[:, C:] */
    if (bf16)
        scorr_mm_bf16_run(bf16->din, din, bf16->dy, bf16->w, bf16->pad);
    else
        gemm('N', 'N', (int)m, c, o, dout, o, weight, ldw, 1.0f, din, c, s->nthreads);
    gemm('N', 'N', (int)m, ns, o, dout, o, weight + c, ldw, 0.0f, dsim, ns, s->nthreads);

#pragma omp parallel num_threads(s->nthreads)
    {
        float *dn = thread_dn + PAD16((size_t)c) * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (long i = 0; i < m; i++) {
            int x = (int)(i % w), y = (int)((i / w) % h);
            long img = i / ((long)h * w);
            const float *nq = nrm + (size_t)i * c;
            memset(dn, 0, (size_t)c * sizeof *dn);
            /* s_o(p) = <n(p), n(p + d_o)>: position q receives ds_o(q) n(q + d_o)
             * (as p) and ds_o(q - d_o) n(q - d_o) (as p + d_o) */
            for (int q = 0; q < ns; q++) {
                int yy = y + oy[q], xx = x + ox[q];
                if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                    float g = dsim[(size_t)i * ns + q];
                    const float *nb = nrm + ((size_t)(img * h + yy) * w + xx) * c;
                    v8_axpy(dn, g, nb, (size_t)c);
                }
                yy = y - oy[q];
                xx = x - ox[q];
                if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                    size_t p = (size_t)(img * h + yy) * w + xx;
                    float g = dsim[p * ns + q];
                    const float *nb = nrm + p * c;
                    v8_axpy(dn, g, nb, (size_t)c);
                }
            }
            /* n = f / max(||f||, eps): df = (dn - n <n, dn>) / ||f||, or dn / eps
             * where the clamp is active */
            float d = den[i];
            float *df = din + (size_t)i * c;
            if (d > SCE_NORM_EPS) {
                float nd = v8_dot(nq, dn, c);
                int j = 0;
                v8f vd = v8_set1(d), vnd = v8_set1(nd);
                for (; j + 8 <= c; j += 8)
                    v8_store(df + j, v8_load(df + j) +
                                         (v8_load(dn + j) - v8_load(nq + j) * vnd) / vd);
                for (; j < c; j++) df[j] += (dn[j] - nq[j] * nd) / d;
            } else {
#pragma omp simd
                for (int j = 0; j < c; j++) df[j] += dn[j] / d;
            }
        }
    }
}
