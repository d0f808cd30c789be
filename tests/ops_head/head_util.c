#include "head_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/softargmax.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

float *to_nhwc(const float *x, int n, int c, int h, int w)
{
    float *y = xmalloc((size_t)n * c * h * w * sizeof *y);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
            for (int p = 0; p < h * w; p++)
                y[((size_t)i * h * w + p) * c + k] = x[((size_t)i * c + k) * h * w + p];
    return y;
}

float *to_nchw(const float *x, int n, int c, int h, int w)
{
    float *y = xmalloc((size_t)n * c * h * w * sizeof *y);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
            for (int p = 0; p < h * w; p++)
                y[((size_t)i * c + k) * h * w + p] = x[((size_t)i * h * w + p) * c + k];
    return y;
}

float *transpose_batched(const float *x, int b, int r, int c)
{
    float *y = xmalloc((size_t)b * r * c * sizeof *y);
    for (int i = 0; i < b; i++)
        for (int j = 0; j < r; j++)
            for (int k = 0; k < c; k++)
                y[((size_t)i * c + k) * r + j] = x[((size_t)i * r + j) * c + k];
    return y;
}

uint8_t *mask_u8(const float *m, size_t n)
{
    uint8_t *y = xmalloc(n);
    for (size_t i = 0; i < n; i++) y[i] = m[i] != 0.0f;
    return y;
}

float *randn(struct scorr_rng *r, size_t n, float sd)
{
    float *y = xmalloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = sd * scorr_rng_normal(r);
    return y;
}

float *randu(struct scorr_rng *r, size_t n, float lo, float hi)
{
    float *y = xmalloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = scorr_rng_range(r, lo, hi);
    return y;
}

float *zeros(size_t n)
{
    float *y = xmalloc(n * sizeof *y);
    memset(y, 0, n * sizeof *y);
    return y;
}

float *copy_of(const float *x, size_t n)
{
    float *y = xmalloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

int check_report(const char *what, const float *got, const float *ref, size_t n, double atol,
                 double rtol)
{
    double wa = 0.0, wr = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > wa) wa = d;
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
        double rel = d / (fabs(ref[i]) > 1e-30 ? fabs(ref[i]) : 1e-30);
        if (d > atol && rel > wr) wr = rel;
    }
    printf("  %-28s n=%-6zu max|ref| %-10.3g max|diff| %-10.3g max rel (where |diff|>atol) %.3g\n",
           what, n, scale, wa, wr);
    return scorr_check_close(what, got, ref, n, atol, rtol);
}

double dot_d(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* ---- unfused reference (double inside) ---------------------------------- */

struct ref_geom {
    int h, w, gy, gx, ls, gg;
    struct scorr_interp_tap *ty, *tx;
    double *yg, *xg;
};

static void ref_setup(struct ref_geom *g, int h, int w, int up)
{
    g->h = h;
    g->w = w;
    g->gy = h * up;
    g->gx = w * up;
    g->ls = h * w;
    g->gg = g->gy * g->gx;
    g->ty = xmalloc((size_t)g->gy * sizeof *g->ty);
    g->tx = xmalloc((size_t)g->gx * sizeof *g->tx);
    scorr_interp_taps(g->ty, h, g->gy);
    scorr_interp_taps(g->tx, w, g->gx);
    g->yg = xmalloc((size_t)g->gy * sizeof *g->yg);
    g->xg = xmalloc((size_t)g->gx * sizeof *g->xg);
    /* np.linspace(-1, 1, G) stored as float32, as the reference model */
    for (int i = 0; i < g->gy; i++)
        g->yg[i] = g->gy > 1 ? (float)(i == g->gy - 1 ? 1.0 : -1.0 + 2.0 * i / (g->gy - 1)) : -1.0;
    for (int i = 0; i < g->gx; i++)
        g->xg[i] = g->gx > 1 ? (float)(i == g->gx - 1 ? 1.0 : -1.0 + 2.0 * i / (g->gx - 1)) : -1.0;
}

static void ref_free(struct ref_geom *g)
{
    free(g->ty);
    free(g->tx);
    free(g->yg);
    free(g->xg);
}

/* 2D bilinear of a (h, w) map at output (Y, X), PyTorch's order. */
static double interp2(const double *m, int w, const struct scorr_interp_tap *ty,
                      const struct scorr_interp_tap *tx)
{
    return ty->l0 * (tx->l0 * m[ty->i0 * w + tx->i0] + tx->l1 * m[ty->i0 * w + tx->i1]) +
           ty->l1 * (tx->l0 * m[ty->i1 * w + tx->i0] + tx->l1 * m[ty->i1 * w + tx->i1]);
}

/* cup (GG_T, GG_S) for one pair; corr (Lt, Ls). */
static void ref_upsample(double *cup, const float *corr, const struct ref_geom *g)
{
    double *a = xmalloc((size_t)g->ls * g->gg * sizeof *a); /* (Lt, GG_S) */
    double *m = xmalloc((size_t)g->ls * sizeof *m);
    double *mt = xmalloc((size_t)g->ls * sizeof *mt);
    for (int t = 0; t < g->ls; t++) { /* source axes first */
        for (int s = 0; s < g->ls; s++) m[s] = corr[(size_t)t * g->ls + s];
        for (int S = 0; S < g->gg; S++)
            a[(size_t)t * g->gg + S] = interp2(m, g->w, &g->ty[S / g->gx], &g->tx[S % g->gx]);
    }
    for (int S = 0; S < g->gg; S++) { /* then the target axes */
        for (int t = 0; t < g->ls; t++) mt[t] = a[(size_t)t * g->gg + S];
        for (int T = 0; T < g->gg; T++)
            cup[(size_t)T * g->gg + S] = interp2(mt, g->w, &g->ty[T / g->gx], &g->tx[T % g->gx]);
    }
    free(a);
    free(m);
    free(mt);
}

/* softmax of cup[T, :] / beta -> p (GG_S); returns gx, gy */
static void ref_softmax(double *p, double *gx, double *gy, const double *col, double beta,
                        const struct ref_geom *g)
{
    double mx = -INFINITY, sum = 0.0;
    for (int S = 0; S < g->gg; S++) mx = col[S] > mx ? col[S] : mx;
    for (int S = 0; S < g->gg; S++) sum += p[S] = exp((col[S] - mx) / beta);
    *gx = *gy = 0.0;
    for (int S = 0; S < g->gg; S++) {
        p[S] /= sum;
        *gx += p[S] * g->xg[S % g->gx];
        *gy += p[S] * g->yg[S / g->gx];
    }
}

void ref_softargmax_forward(float *flow, const float *corr, int b, int h, int w, int up,
                            float beta)
{
    struct ref_geom g;
    ref_setup(&g, h, w, up);
    double *cup = xmalloc((size_t)g.gg * g.gg * sizeof *cup);
    double *p = xmalloc((size_t)g.gg * sizeof *p);
    for (int i = 0; i < b; i++) {
        ref_upsample(cup, corr + (size_t)i * g.ls * g.ls, &g);
        for (int T = 0; T < g.gg; T++) {
            double gx, gy;
            ref_softmax(p, &gx, &gy, cup + (size_t)T * g.gg, beta, &g);
            float *f = flow + ((size_t)i * g.gg + T) * 2;
            f[0] = (float)((gx + 1.0) * (g.gx - 1) / 2.0 - T % g.gx);
            f[1] = (float)((gy + 1.0) * (g.gy - 1) / 2.0 - T / g.gx);
        }
    }
    free(cup);
    free(p);
    ref_free(&g);
}

void ref_softargmax_backward(float *dcorr, const float *dflow, const float *corr, int b, int h,
                             int w, int up, float beta)
{
    struct ref_geom g;
    ref_setup(&g, h, w, up);
    double *cup = xmalloc((size_t)g.gg * g.gg * sizeof *cup);
    double *p = xmalloc((size_t)g.gg * sizeof *p);
    double *da = xmalloc((size_t)g.ls * g.gg * sizeof *da); /* (Lt, GG_S) */
    for (int i = 0; i < b; i++) {
        ref_upsample(cup, corr + (size_t)i * g.ls * g.ls, &g);
        /* dcup overwrites cup, row by row */
        for (int T = 0; T < g.gg; T++) {
            double gx, gy;
            double *col = cup + (size_t)T * g.gg;
            ref_softmax(p, &gx, &gy, col, beta, &g);
            const float *df = dflow + ((size_t)i * g.gg + T) * 2;
            double dgx = df[0] * (g.gx - 1) / 2.0, dgy = df[1] * (g.gy - 1) / 2.0;
            for (int S = 0; S < g.gg; S++)
                col[S] = p[S] * (dgx * (g.xg[S % g.gx] - gx) + dgy * (g.yg[S / g.gx] - gy)) / beta;
        }
        /* target axes: da[t, S] = sum_T U(T, t) dcup[T, S] */
        memset(da, 0, (size_t)g.ls * g.gg * sizeof *da);
        for (int T = 0; T < g.gg; T++) {
            const struct scorr_interp_tap *ty = &g.ty[T / g.gx], *tx = &g.tx[T % g.gx];
            int ts[4] = {ty->i0 * w + tx->i0, ty->i0 * w + tx->i1, ty->i1 * w + tx->i0,
                         ty->i1 * w + tx->i1};
            double ws[4] = {ty->l0 * tx->l0, ty->l0 * tx->l1, ty->l1 * tx->l0, ty->l1 * tx->l1};
            for (int q = 0; q < 4; q++)
                for (int S = 0; S < g.gg; S++)
                    da[(size_t)ts[q] * g.gg + S] += ws[q] * cup[(size_t)T * g.gg + S];
        }
        /* source axes: dc[t, s] = sum_S U(S, s) da[t, S] */
        float *dc = dcorr + (size_t)i * g.ls * g.ls;
        for (int t = 0; t < g.ls; t++) {
            double acc[4096];
            if (g.ls > 4096) {
                fprintf(stderr, "ref_softargmax_backward: h*w too large\n");
                exit(2);
            }
            memset(acc, 0, (size_t)g.ls * sizeof *acc);
            for (int S = 0; S < g.gg; S++) {
                const struct scorr_interp_tap *ty = &g.ty[S / g.gx], *tx = &g.tx[S % g.gx];
                double v = da[(size_t)t * g.gg + S];
                acc[ty->i0 * w + tx->i0] += ty->l0 * tx->l0 * v;
                acc[ty->i0 * w + tx->i1] += ty->l0 * tx->l1 * v;
                acc[ty->i1 * w + tx->i0] += ty->l1 * tx->l0 * v;
                acc[ty->i1 * w + tx->i1] += ty->l1 * tx->l1 * v;
            }
            for (int s = 0; s < g.ls; s++) dc[(size_t)t * g.ls + s] = (float)acc[s];
        }
    }
    free(cup);
    free(p);
    free(da);
    ref_free(&g);
}

/* ---- finite differences -------------------------------------------------- */

int fd_check(const char *what, float *x, size_t n, const float *analytic, fd_loss_fn loss,
             fd_state_fn state, void *ctx, int count, float h, double atol, double rtol,
             uint64_t seed)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_TEST, 77, 0, 0);
    int bad = 0, checked = 0, skipped = 0;
    double worst = -1.0, wfd = 0, wan = 0;
    size_t wi = 0;
    uint64_t s0 = 0;
    if (state) {
        loss(ctx);
        s0 = state(ctx);
    }
    for (int c = 0; c < count; c++) {
        size_t i = scorr_rng_below(&r, (uint32_t)n);
        float x0 = x[i];
        float xp = x0 + h, xm = x0 - h;
        x[i] = xp;
        double lp = loss(ctx);
        uint64_t sp = state ? state(ctx) : 0;
        x[i] = xm;
        double lm = loss(ctx);
        uint64_t sm = state ? state(ctx) : 0;
        x[i] = x0;
        if (state && (sp != s0 || sm != s0)) { /* the step crosses a kink */
            skipped++;
            continue;
        }
        double fd = (lp - lm) / ((double)xp - (double)xm);
        double an = analytic[i];
        double excess = fabs(fd - an) - (atol + rtol * fabs(an));
        checked++;
        if (excess > 0) bad++;
        if (excess > worst) {
            worst = excess;
            wi = i;
            wfd = fd;
            wan = an;
        }
    }
    if (state) loss(ctx); /* leave the op's saved state at the unperturbed x */
    if (checked < (count + 1) / 2) {
        fprintf(stderr, "FAIL %s: finite differences checked only %d of %d elements (%d at kinks)\n",
                what, checked, count, skipped);
        return 1;
    }
    if (bad) {
        fprintf(stderr,
                "FAIL %s: %d of %d finite-difference checks off (atol %g, rtol %g); worst at [%zu]: "
                "fd %.9g, analytic %.9g\n",
                what, bad, checked, atol, rtol, wi, wfd, wan);
        return 1;
    }
    printf("  %s: %d finite-difference checks ok (%d skipped at kinks)\n", what, checked, skipped);
    return 0;
}
