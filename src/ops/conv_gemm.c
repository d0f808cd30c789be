/* Convolutions as sgemm (oneDNN's) over NHWC rows: 1x1 stride-1 convs
 * are one GEMM on the tensors themselves; other convs go through im2col
 * (columns ordered (i, j, c), so every copy is a contiguous channel vector)
 * in row chunks that bound the scratch. Weights are OIHW in the parameter
 * buffers; GEMMs need OHWI for (i, j, c) columns, made in scratch (small). */
#include "ops/conv_gemm.h"

#include <string.h>

#include "ops/gemm.h"
#include "scorr/error.h"

/* im2col chunks hold at most this many floats (16 MB), but at least 256 rows. */
#define COL_FLOATS (4u << 20)

/* Row-major sgemm on oneDNN, whose OpenMP threads are the ones the convs
 * and our loops use (ops/gemm.h). */
static void gemm(char ta, char tb, long m, long n, long k, float alpha, const float *a, long lda,
                 const float *b, long ldb, float beta, float *c, long ldc)
{
    scorr_gemm_dnnl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* dw (K, C) (+)= dy^T x over M rows: dy (M, K) with row stride ldy, x (M, C)
 * with row stride ldx, dw row stride C. The weight-gradient GEMM reduces
 * over many rows into a small output; oneDNN's sgemm runs it at 33-50 GFLOP/s
 * per core for M <= 4096 (layer2/3 shapes) where OpenBLAS's single-thread
 * kernel reaches 57-83, while oneDNN wins for longer M (72-75 against 57-62
 * at M = 16384). OpenBLAS runs single-threaded on slices of dw from our
 * OpenMP threads (scorr_gemm_sliced), so one thread pool serves everything. */
static void gemm_tn(int K, int C, int M, const float *dy, int ldy, const float *x, int ldx,
                    float beta, float *dw)
{
    if (M > 8192)
        gemm('T', 'N', K, C, M, 1.0f, dy, ldy, x, ldx, beta, dw, C);
    else
        scorr_gemm_sliced('T', 'N', K, C, M, 1.0f, dy, ldy, x, ldx, beta, dw, C, 0, 0);
}

static size_t al(size_t bytes) { return (bytes + 63) / 64 * 64; }

static size_t out_rows(const struct scorr_conv2d *cv)
{
    return (size_t)cv->s.n * cv->ho * cv->wo;
}

/* 1x1, stride 1, pad 0: the input rows are the GEMM operand itself. */
static int plain(const struct scorr_conv2d *cv)
{
    return cv->s.kh == 1 && cv->s.kw == 1 && cv->s.stride == 1 && cv->s.pad == 0;
}

static size_t kcols(const struct scorr_conv2d *cv)
{
    return (size_t)cv->s.kh * cv->s.kw * cv->s.c;
}

static size_t chunk_rows(const struct scorr_conv2d *cv)
{
    size_t r = COL_FLOATS / kcols(cv);
    if (r < 256) r = 256;
    if (r > out_rows(cv)) r = out_rows(cv);
    return r;
}

size_t scorr_conv_gemm_scratch(const struct scorr_conv2d *cv, int pass)
{
    (void)pass;
    if (plain(cv)) return 0;
    /* [OHWI weights or weight gradient][im2col chunk] */
    return al((size_t)cv->s.k * kcols(cv) * sizeof(float)) +
           al(chunk_rows(cv) * kcols(cv) * sizeof(float));
}

/* col[r - r0, (i, j, c)] = x[n, oh*s - p + i, ow*s - p + j, c] (0 outside),
 * r = (n, oh, ow) in [r0, r1). */
static void im2col(const struct scorr_conv2d *cv, float *col, const float *x, size_t r0,
                   size_t r1)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const size_t C = (size_t)s->c, KC = kcols(cv), hw = (size_t)cv->ho * cv->wo;
#pragma omp parallel for schedule(static)
    for (size_t r = r0; r < r1; r++) {
        const int n = (int)(r / hw), oh = (int)(r % hw / cv->wo), ow = (int)(r % cv->wo);
        float *dst = col + (r - r0) * KC;
        for (int i = 0; i < s->kh; i++) {
            const int ih = oh * s->stride - s->pad + i;
            for (int j = 0; j < s->kw; j++, dst += C) {
                const int iw = ow * s->stride - s->pad + j;
                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                    memset(dst, 0, C * sizeof(float));
                else
                    memcpy(dst, x + (((size_t)n * s->h + ih) * s->w + iw) * C, C * sizeof(float));
            }
        }
    }
}

/* OIHW (K, C, kh, kw) -> OHWI (K, kh, kw, C). */
static void to_ohwi(const struct scorr_conv2d *cv, float *o, const float *w)
{
    const int C = cv->s.c, T = cv->s.kh * cv->s.kw;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < cv->s.k; k++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < T; t++)
                o[((size_t)k * T + t) * C + c] = w[((size_t)k * C + c) * T + t];
}

void scorr_conv_gemm_forward(const struct scorr_conv2d *cv, float *y, const float *x,
                             const float *w, const float *b, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const int K = s->k;
    const size_t M = out_rows(cv);
    if (plain(cv)) {
        /* y (M, K) = x (M, C) . w^T, w = (K, C) row-major (OIHW of a 1x1 conv) */
        gemm('N', 'T', (int)M, K, s->c, 1.0f, x, s->c, w,
                    s->c, 0.0f, y, K);
    } else {
        const size_t KC = kcols(cv), R = chunk_rows(cv);
        float *wt = scratch, *col = (float *)((char *)scratch + al((size_t)K * KC * sizeof(float)));
        to_ohwi(cv, wt, w);
        for (size_t r0 = 0; r0 < M; r0 += R) {
            const size_t r1 = r0 + R < M ? r0 + R : M;
            im2col(cv, col, x, r0, r1);
            /* y rows (r1 - r0, K) = col (r1 - r0, KC) . wt^T */
            gemm('N', 'T', (int)(r1 - r0), K, (int)KC, 1.0f,
                        col, (int)KC, wt, (int)KC, 0.0f, y + r0 * K, K);
        }
    }
    if (b) {
#pragma omp parallel for schedule(static)
        for (size_t m = 0; m < M; m++) {
            float *yr = y + m * K;
#pragma omp simd
            for (int k = 0; k < K; k++) yr[k] += b[k];
        }
    }
}

/* dx[n, h, w, :] (+)= sum over the (i, j) taps that read (h, w) of
 * dcol[(n, oh, ow), (i, j, :)], for the rows [r0, r1) held in dcol; a gather
 * per input pixel, so threads never write the same element. */
static void col2im(const struct scorr_conv2d *cv, float *dx, const float *dcol, size_t r0,
                   size_t r1)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const size_t C = (size_t)s->c, KC = kcols(cv);
    const int st = s->stride, p = s->pad;
#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < s->n; n++)
        for (int h = 0; h < s->h; h++) {
            for (int x = 0; x < s->w; x++) {
                float *d = dx + (((size_t)n * s->h + h) * s->w + x) * C;
                for (int i = 0; i < s->kh; i++) {
                    const int t = h + p - i;
                    if (t < 0 || t % st || t / st >= cv->ho) continue;
                    for (int j = 0; j < s->kw; j++) {
                        const int u = x + p - j;
                        if (u < 0 || u % st || u / st >= cv->wo) continue;
                        const size_t r = ((size_t)n * cv->ho + t / st) * cv->wo + u / st;
                        if (r < r0 || r >= r1) continue;
                        const float *g = dcol + (r - r0) * KC + ((size_t)i * s->kw + j) * C;
#pragma omp simd
                        for (size_t c = 0; c < C; c++) d[c] += g[c];
                    }
                }
            }
        }
}

void scorr_conv_gemm_backward_data(const struct scorr_conv2d *cv, float *dx, const float *dy,
                                   const float *w, enum scorr_grad_mode mode, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const int K = s->k;
    const size_t M = out_rows(cv);
    /* y = col(x) w^T  =>  dcol = dy w, dx = col2im(dcol) */
    if (plain(cv)) {
        gemm('N', 'N', (int)M, s->c, K, 1.0f, dy, K, w,
                    s->c, mode == SCORR_GRAD_ADD ? 1.0f : 0.0f, dx, s->c);
        return;
    }
    const size_t KC = kcols(cv), R = chunk_rows(cv);
    float *wt = scratch, *dcol = (float *)((char *)scratch + al((size_t)K * KC * sizeof(float)));
    to_ohwi(cv, wt, w);
    if (mode == SCORR_GRAD_SET) {
        const size_t nx = (size_t)s->n * s->h * s->w * s->c;
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < nx; i++) dx[i] = 0.0f;
    }
    for (size_t r0 = 0; r0 < M; r0 += R) {
        const size_t r1 = r0 + R < M ? r0 + R : M;
        gemm('N', 'N', (int)(r1 - r0), (int)KC, K, 1.0f,
                    dy + r0 * K, K, wt, (int)KC, 0.0f, dcol, (int)KC);
        col2im(cv, dx, dcol, r0, r1);
    }
}

void scorr_conv_gemm_backward_weights(const struct scorr_conv2d *cv, float *dw, const float *dy,
                                      const float *x, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const int K = s->k;
    const size_t M = out_rows(cv);
    if (plain(cv)) {
        /* y = x w^T  =>  dw (K, C) += dy^T x */
        gemm_tn(K, s->c, (int)M, dy, K, x, s->c, 1.0f, dw);
        return;
    }
    const size_t KC = kcols(cv), R = chunk_rows(cv);
    float *gt = scratch, *col = (float *)((char *)scratch + al((size_t)K * KC * sizeof(float)));
    /* gt (K, KC) = sum over chunks of dy^T col, then dw (OIHW) += gt (OHWI) */
    for (size_t r0 = 0; r0 < M; r0 += R) {
        const size_t r1 = r0 + R < M ? r0 + R : M;
        im2col(cv, col, x, r0, r1);
        gemm_tn(K, (int)KC, (int)(r1 - r0), dy + r0 * K, K, col, (int)KC, r0 ? 1.0f : 0.0f, gt);
    }
    const int C = s->c, T = s->kh * s->kw;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < T; t++)
                dw[((size_t)k * C + c) * T + t] += gt[((size_t)k * T + t) * C + c];
}

#define KBLK 64

void scorr_conv_bias_grad(const struct scorr_conv2d *cv, float *db, const float *dy)
{
    const size_t M = out_rows(cv);
    const int K = cv->s.k, nblk = (K + KBLK - 1) / KBLK;
    /* y = ... + b  =>  db = sum over positions of dy */
#pragma omp parallel for schedule(static)
    for (int bk = 0; bk < nblk; bk++) {
        const int k0 = bk * KBLK, nk = K - k0 < KBLK ? K - k0 : KBLK;
        double acc[KBLK] = {0};
        for (size_t m = 0; m < M; m++) {
            const float *r = dy + m * K + k0;
#pragma omp simd
            for (int j = 0; j < nk; j++) acc[j] += r[j];
        }
        for (int j = 0; j < nk; j++) db[k0 + j] += (float)acc[j];
    }
}
