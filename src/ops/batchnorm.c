/* Batch normalisation (frozen or batch statistics) with fused residual add
 * and ReLU, NHWC. */
#include "scorr/batchnorm.h"

#include <math.h>
#include <string.h>

#include "scorr/error.h"

/* Reductions over rows: each group's rows are cut into NCHUNK fixed chunks;
 * threads take whole chunks (contiguous streaming), each chunk's partial
 * sums (double) go to scratch, and the partials are added in chunk order.
 * So sums do not depend on the thread count. */
#define NCHUNK 32
/* Channels handled per step of a row (stack buffers). */
#define CBLK 512

static size_t nparts(const struct scorr_bn_shape *s)
{
    return (size_t)(s->groups > 0 ? s->groups : 1) * NCHUNK * (size_t)s->c;
}

size_t scorr_bn_scratch_floats(const struct scorr_bn_shape *s)
{
    /* 2*G*C floats (scale/shift or k1/k2), then 2 partial-sum arrays of
     * G*NCHUNK*C doubles (64-byte aligned: the float part is padded) */
    size_t head = (2 * (size_t)(s->groups > 0 ? s->groups : 1) * (size_t)s->c + 15) / 16 * 16;
    return head + 2 * 2 * nparts(s) + 2 * 2 * (size_t)(s->groups > 0 ? s->groups : 1) * s->c;
}

static double *partials(float *scratch, const struct scorr_bn_shape *s)
{
    size_t head = (2 * (size_t)(s->groups > 0 ? s->groups : 1) * (size_t)s->c + 15) / 16 * 16;
    return (double *)(scratch + head);
}

/* Sum n doubles over the processes of a synchronised batch (batchnorm.h). */
static void sync_sum(const struct scorr_bn_shape *s, double *buf, int n)
{
    if (s->sync && s->sync->nranks > 1) s->sync->sum(s->sync->ctx, buf, n);
}

/* Rows of one group across the processes of a synchronised batch. */
static double global_rows(const struct scorr_bn_shape *s, size_t rows_g)
{
    return (double)rows_g * (s->sync && s->sync->nranks > 1 ? s->sync->nranks : 1);
}

/* Rows [*r0, *r1) of chunk j of group g. */
static void chunk_rows(size_t rows_g, int g, int j, size_t *r0, size_t *r1)
{
    *r0 = (size_t)g * rows_g + rows_g * (size_t)j / NCHUNK;
    *r1 = (size_t)g * rows_g + rows_g * (size_t)(j + 1) / NCHUNK;
}

/* out[g*C + c] = sum over chunks j of part[(g*NCHUNK + j)*C + c], in order. */
static void reduce_chunks(double *out, const double *part, int G, int C)
{
    for (int g = 0; g < G; g++)
        for (int c = 0; c < C; c++) {
            double a = 0;
            for (int j = 0; j < NCHUNK; j++) a += part[((size_t)g * NCHUNK + j) * C + c];
            out[(size_t)g * C + c] = a;
        }
}

int scorr_bn_check(const struct scorr_bn_shape *s, enum scorr_bn_mode mode, const char *what)
{
    int err = 0;
    SCORR_REQUIRE(s->n > 0 && s->hw > 0 && s->c > 0, SCORR_EINVAL,
                  "batch norm %s: sizes must be positive (N=%d, HW=%d, C=%d)", what, s->n, s->hw,
                  s->c);
    SCORR_REQUIRE(s->groups >= 1 && s->n % s->groups == 0, SCORR_EINVAL,
                  "batch norm %s: groups must divide the batch, found groups %d for N=%d", what,
                  s->groups, s->n);
    SCORR_REQUIRE(s->eps > 0 && s->momentum >= 0 && s->momentum <= 1, SCORR_EINVAL,
                  "batch norm %s: eps must be > 0 and momentum in [0, 1], found %g and %g", what,
                  (double)s->eps, (double)s->momentum);
    SCORR_REQUIRE(mode == SCORR_BN_FROZEN || (long)s->n / s->groups * s->hw > 1, SCORR_EINVAL,
                  "batch norm %s: batch statistics need more than one value per channel per "
                  "group, found %d image(s) of %d position(s) per group",
                  what, s->n / s->groups, s->hw);
done:
    return err;
}

/* Per-group statistics of the batch (BATCH mode): mean, invstd, running
 * update. Two passes (mean, then squared deviations) for accuracy. */
static void batch_stats(float *mean, float *invstd, float *rmean, float *rvar, const float *x,
                        const struct scorr_bn_shape *s, float *scratch)
{
    const int C = s->c, G = s->groups;
    const size_t rows_g = (size_t)(s->n / G) * (size_t)s->hw;
    const double m = s->momentum;
    double *part = partials(scratch, s), *sum = part + nparts(s);
    /* sum is G*NCHUNK*C long; its first G*C entries take the reduced sums */
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < G * NCHUNK; t++) {
        size_t r0, r1;
        chunk_rows(rows_g, t / NCHUNK, t % NCHUNK, &r0, &r1);
        double *acc = part + (size_t)t * C;
        for (int c = 0; c < C; c++) acc[c] = 0;
        for (size_t r = r0; r < r1; r++) {
            const float *xr = x + r * C;
#pragma omp simd
            for (int c = 0; c < C; c++) acc[c] += xr[c];
        }
    }
    reduce_chunks(sum, part, G, C);
    sync_sum(s, sum, G * C);
    const double n_g = global_rows(s, rows_g); /* rows of the whole slice */
    for (size_t i = 0; i < (size_t)G * C; i++) mean[i] = (float)(sum[i] / n_g);
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < G * NCHUNK; t++) {
        size_t r0, r1;
        const int g = t / NCHUNK;
        chunk_rows(rows_g, g, t % NCHUNK, &r0, &r1);
        double *acc = part + (size_t)t * C;
        const double *mu = sum + (size_t)g * C; /* still the sums: mean = sum / n_g */
        const double inv = 1.0 / n_g;
        for (int c = 0; c < C; c++) acc[c] = 0;
        for (size_t r = r0; r < r1; r++) {
            const float *xr = x + r * C;
#pragma omp simd
            for (int c = 0; c < C; c++) {
                double d = xr[c] - mu[c] * inv;
                acc[c] += d * d;
            }
        }
    }
    /* the squared sums go after the first G*C entries of `sum` */
    double *sq = sum + (size_t)G * C;
    reduce_chunks(sq, part, G, C);
    sync_sum(s, sq, G * C);
    for (int g = 0; g < G; g++)
        for (int c = 0; c < C; c++) {
            const size_t i = (size_t)g * C + c;
            const double mu = sum[i] / n_g;
            invstd[i] = (float)(1.0 / sqrt(sq[i] / n_g + (double)s->eps));
            /* running statistics: slice g's call comes after slice g-1's */
            rmean[c] = (float)((1.0 - m) * rmean[c] + m * mu);
            rvar[c] = (float)((1.0 - m) * rvar[c] + m * (sq[i] / (n_g - 1.0)));
        }
}

void scorr_bn_forward(float *y, float *save_mean, float *save_invstd, const float *x,
                      const float *residual, const float *gamma, const float *beta,
                      float *running_mean, float *running_var, enum scorr_bn_mode mode,
                      int relu, const struct scorr_bn_shape *s, float *scratch)
{
    const int C = s->c;
    SCORR_ASSERT(y && save_mean && save_invstd && x && gamma && beta && running_mean &&
                 running_var && scratch);
    if (mode == SCORR_BN_BATCH) {
        batch_stats(save_mean, save_invstd, running_mean, running_var, x, s, scratch);
    } else {
        for (int c = 0; c < C; c++) {
            save_mean[c] = running_mean[c];
            save_invstd[c] = (float)(1.0 / sqrt((double)running_var[c] + (double)s->eps));
        }
        for (int g = 1; g < s->groups; g++) {
            memcpy(save_mean + (size_t)g * C, save_mean, (size_t)C * sizeof(float));
            memcpy(save_invstd + (size_t)g * C, save_invstd, (size_t)C * sizeof(float));
        }
    }
    scorr_bn_apply(y, x, residual, gamma, beta, save_mean, save_invstd, mode, relu, s, scratch);
}

void scorr_bn_apply(float *y, const float *x, const float *residual, const float *gamma,
                    const float *beta, const float *save_mean, const float *save_invstd,
                    enum scorr_bn_mode mode, int relu, const struct scorr_bn_shape *s,
                    float *scratch)
{
    const int C = s->c;
    const int G = mode == SCORR_BN_BATCH ? s->groups : 1;
    const size_t rows = (size_t)s->n * s->hw, rows_g = rows / (size_t)G;
    SCORR_ASSERT(y && x && gamma && beta && save_mean && save_invstd && scratch);
    /* y = x * scale + shift, scale = gamma * invstd, shift = beta - mean * scale
     * (PyTorch's CPU form of the same affine map) */
    float *scale = scratch, *shift = scratch + (size_t)G * C;
    for (int g = 0; g < G; g++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)g * C + c;
            scale[i] = gamma[c] * save_invstd[i];
            shift[i] = beta[c] - save_mean[i] * scale[i];
        }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const size_t g = r / rows_g;
        const float *sc = scale + g * C, *sh = shift + g * C, *xr = x + r * C;
        float *yr = y + r * C;
        if (residual) {
            const float *rr = residual + r * C;
            if (relu) {
#pragma omp simd
                for (int c = 0; c < C; c++) {
                    float v = xr[c] * sc[c] + sh[c] + rr[c];
                    yr[c] = v < 0.0f ? 0.0f : v;
                }
            } else {
#pragma omp simd
                for (int c = 0; c < C; c++) yr[c] = xr[c] * sc[c] + sh[c] + rr[c];
            }
        } else if (relu) {
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float v = xr[c] * sc[c] + sh[c];
                yr[c] = v < 0.0f ? 0.0f : v;
            }
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) yr[c] = xr[c] * sc[c] + sh[c];
        }
    }
}

/* g = relu ? dy * (y > 0) : dy for one row slice (PyTorch's threshold_backward:
 * zero where the output is <= 0). */
static inline void masked(float *restrict g, const float *dy, const float *y, int relu, int nc)
{
    if (relu) {
#pragma omp simd
        for (int j = 0; j < nc; j++) g[j] = y[j] <= 0.0f ? 0.0f : dy[j];
    } else {
#pragma omp simd
        for (int j = 0; j < nc; j++) g[j] = dy[j];
    }
}

static inline void put(float *restrict d, const float *restrict v, int nc, enum scorr_grad_mode m)
{
    if (m == SCORR_GRAD_SET) {
#pragma omp simd
        for (int j = 0; j < nc; j++) d[j] = v[j];
    } else {
#pragma omp simd
        for (int j = 0; j < nc; j++) d[j] += v[j];
    }
}

/* Partial sums of g and g * (x - mean) over the rows of chunk t (group g =
 * t / NCHUNK); with `write`, also the FROZEN outputs dres = g and
 * dx = g * k (k = gamma * invstd). */
static void chunk_backward(double *sg, double *sgx, float *dx, float *dres, const float *dy,
                           const float *y, const float *x, const float *mu, const float *k,
                           int relu, int sums, enum scorr_grad_mode dmode, size_t r0, size_t r1,
                           int C)
{
    float g[CBLK], v[CBLK];
    for (int c = 0; c < C; c++) sg[c] = sgx[c] = 0;
    for (size_t r = r0; r < r1; r++) {
        const size_t o = r * C;
        for (int c0 = 0; c0 < C; c0 += CBLK) {
            const int nc = C - c0 < CBLK ? C - c0 : CBLK;
            masked(g, dy + o + c0, y ? y + o + c0 : NULL, relu, nc);
            if (sums) {
                const float *xr = x + o + c0, *m = mu + c0;
                double *a = sg + c0, *b = sgx + c0;
#pragma omp simd
                for (int j = 0; j < nc; j++) {
                    a[j] += g[j];
                    b[j] += (double)g[j] * (double)(xr[j] - m[j]);
                }
            }
            if (dres) put(dres + o + c0, g, nc, dmode);
            if (dx) {
                /* y = gamma * (x - mean) * invstd + beta  =>  dx = g * gamma * invstd */
                const float *kk = k + c0;
#pragma omp simd
                for (int j = 0; j < nc; j++) v[j] = g[j] * kk[j];
                put(dx + o + c0, v, nc, dmode);
            }
        }
    }
}

/* FROZEN: one pass over the rows. */
static void backward_frozen(float *dx, float *dres, float *dgamma, float *dbeta, const float *dy,
                            const float *y, const float *x, const float *gamma,
                            const float *mean, const float *invstd, int relu,
                            enum scorr_grad_mode dmode, const struct scorr_bn_shape *s,
                            float *scratch)
{
    const int C = s->c;
    const size_t rows = (size_t)s->n * s->hw;
    const int sums = dgamma || dbeta;
    float *k = scratch;
    double *p1 = partials(scratch, s), *p2 = p1 + nparts(s);
    for (int c = 0; c < C; c++) k[c] = gamma[c] * invstd[c];
    /* the frozen statistics are the same for every group: one group of rows */
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < NCHUNK; t++) {
        size_t r0, r1;
        chunk_rows(rows, 0, t, &r0, &r1);
        chunk_backward(p1 + (size_t)t * C, p2 + (size_t)t * C, dx, dres, dy, y, x, mean, k, relu,
                       sums, dmode, r0, r1, C);
    }
    if (!sums) return;
    for (int c = 0; c < C; c++) {
        double a = 0, b = 0;
        for (int t = 0; t < NCHUNK; t++) {
            a += p1[(size_t)t * C + c];
            b += p2[(size_t)t * C + c];
        }
        if (dgamma) dgamma[c] += (float)(b * invstd[c]);
        if (dbeta) dbeta[c] += (float)a;
    }
}

/* BATCH: pass 1 reduces per group and channel, pass 2 writes dx and dres. */
static void backward_batch(float *dx, float *dres, float *dgamma, float *dbeta, const float *dy,
                           const float *y, const float *x, const float *gamma, const float *mean,
                           const float *invstd, int relu, enum scorr_grad_mode dmode,
                           const struct scorr_bn_shape *s, float *scratch)
{
    const int C = s->c, G = s->groups;
    const size_t rows_g = (size_t)(s->n / G) * s->hw, rows = rows_g * G;
    float *k1 = scratch, *k2 = scratch + (size_t)G * C; /* mean(g), mean(g*xhat)*invstd */
    double *p1 = partials(scratch, s), *p2 = p1 + nparts(s);
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < G * NCHUNK; t++) {
        size_t r0, r1;
        const int g = t / NCHUNK;
        chunk_rows(rows_g, g, t % NCHUNK, &r0, &r1);
        chunk_backward(p1 + (size_t)t * C, p2 + (size_t)t * C, NULL, NULL, dy, y, x,
                       mean + (size_t)g * C, NULL, relu, 1, dmode, r0, r1, C);
    }
    /* this process's sums of g and g * (x - mean), per group and channel:
     * [sg | sgx] after the partials */
    double *loc = p2 + nparts(s), *sg = loc, *sgx = loc + (size_t)G * C;
    reduce_chunks(sg, p1, G, C);
    reduce_chunks(sgx, p2, G, C);
    for (int c = 0; c < C; c++) {
        double dg_tot = 0, db_tot = 0;
        for (int g = 0; g < G; g++) {
            const size_t i = (size_t)g * C + c;
            dg_tot += sgx[i] * invstd[i];
            db_tot += sg[i];
        }
        if (dgamma) dgamma[c] += (float)dg_tot;
        if (dbeta) dbeta[c] += (float)db_tot;
    }
    if (!dx && !dres) return;
    /* dx needs the sums over the whole slice (every process) */
    sync_sum(s, loc, 2 * G * C);
    const double n_g = global_rows(s, rows_g);
    for (size_t i = 0; i < (size_t)G * C; i++) {
        const double is = invstd[i];
        k1[i] = (float)(sg[i] / n_g);
        k2[i] = (float)(sgx[i] * is * is / n_g);
    }
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const size_t gr = r / rows_g, o = r * C;
        const float *mu = mean + gr * C, *is = invstd + gr * C, *a = k1 + gr * C, *b = k2 + gr * C;
        const float *xr = x + o, *dyr = dy + o, *yr = y ? y + o : NULL;
        for (int c0 = 0; c0 < C; c0 += CBLK) {
            const int nc = C - c0 < CBLK ? C - c0 : CBLK;
            float g[CBLK], v[CBLK];
            masked(g, dyr + c0, yr ? yr + c0 : NULL, relu, nc);
            if (dres) put(dres + o + c0, g, nc, dmode);
            if (dx) {
                /* dx = gamma * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))) */
#pragma omp simd
                for (int j = 0; j < nc; j++) {
                    int c = c0 + j;
                    v[j] = (g[j] - a[c] - (xr[c] - mu[c]) * b[c]) * is[c] * gamma[c];
                }
                put(dx + o + c0, v, nc, dmode);
            }
        }
    }
}

void scorr_bn_backward(float *dx, float *dres, float *dgamma, float *dbeta, const float *dy,
                       const float *y, const float *x, const float *gamma,
                       const float *save_mean, const float *save_invstd,
                       enum scorr_bn_mode mode, int relu, enum scorr_grad_mode dmode,
                       const struct scorr_bn_shape *s, float *scratch)
{
    SCORR_ASSERT(dy && x && gamma && save_mean && save_invstd && (!relu || y));
    SCORR_ASSERT(scratch);
    if (mode == SCORR_BN_BATCH)
        backward_batch(dx, dres, dgamma, dbeta, dy, relu ? y : NULL, x, gamma, save_mean,
                       save_invstd, relu, dmode, s, scratch);
    else
        backward_frozen(dx, dres, dgamma, dbeta, dy, relu ? y : NULL, x, gamma, save_mean,
                        save_invstd, relu, dmode, s, scratch);
}
