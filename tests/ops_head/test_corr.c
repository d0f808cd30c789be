/* L2 norm, correlation and mutual NN filter against PyTorch, plus finite
 * differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/corr.h"
#include "scorr/l2norm.h"

/* float32 reductions of <= 12 terms of size ~1: a few ulp; see test_sce.c */
#define ATOL 1e-5
#define RTOL 1e-4

static void l2norm_fixture(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "head_l2norm.h5");
    int64_t sh[8];
    int nd;
    float *x = scorr_fixture_f32(&f, "x", &nd, sh);
    int n = (int)sh[0], c = (int)sh[1], h = (int)sh[2], w = (int)sh[3];
    size_t m = (size_t)n * h * w;
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL);
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dx_ref = scorr_fixture_f32(&f, "dx", NULL, NULL);
    float *xin = to_nhwc(x, n, c, h, w), *out = zeros(m * c), *r = zeros(m);
    scorr_l2norm_forward(out, r, xin, m, c, 1);
    float *o1 = to_nchw(out, n, c, h, w);
    check_report("l2norm out", o1, out_ref, m * c, ATOL, RTOL);
    float *g = to_nhwc(dout, n, c, h, w), *dx = zeros(m * c);
    scorr_l2norm_backward(dx, g, out, r, m, c, 1);
    float *d1 = to_nchw(dx, n, c, h, w);
    /* the all-zero vector's gradient is dout / sqrt(1e-6) = 1000 dout */
    check_report("l2norm dx", d1, dx_ref, m * c, ATOL, RTOL);
    /* SET in place over dout: the bits of the ADD into zeros, -0 included */
    float *gs = to_nhwc(dout, n, c, h, w);
    for (size_t i = 0; i < m * c; i += 7) gs[i] = -0.0f;
    float *da = zeros(m * c);
    scorr_l2norm_backward(da, gs, out, r, m, c, 1);
    scorr_l2norm_backward_set(gs, gs, out, r, m, c, 1);
    CHECK(!memcmp(gs, da, m * c * sizeof(float)), "l2norm backward SET in place differs from ADD");
    free(gs), free(da);
    free(x), free(out_ref), free(dout), free(dx_ref), free(xin), free(out), free(r), free(o1);
    free(g), free(dx), free(d1);
    scorr_h5_close(&f);
}

static void corr_fixture(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "head_corr.h5");
    int64_t ss[8], ts[8];
    int nd;
    float *src = scorr_fixture_f32(&f, "src", &nd, ss);
    float *trg = scorr_fixture_f32(&f, "trg", &nd, ts);
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL); /* (B, Ls, Lt) */
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dsrc_ref = scorr_fixture_f32(&f, "dsrc", NULL, NULL);
    float *dtrg_ref = scorr_fixture_f32(&f, "dtrg", NULL, NULL);
    int b = (int)ss[0], d = (int)ss[1], ls = (int)(ss[2] * ss[3]), lt = (int)(ts[2] * ts[3]);
    struct scorr_corr_shape s = {.b = b, .ls = ls, .lt = lt, .d = d, .nthreads = 1};
    float *fs = to_nhwc(src, b, d, (int)ss[2], (int)ss[3]);
    float *ft = to_nhwc(trg, b, d, (int)ts[2], (int)ts[3]);
    float *c = zeros((size_t)b * ls * lt);
    scorr_corr_forward(c, fs, ft, &s);
    float *ct = transpose_batched(c, b, lt, ls);
    check_report("corr out", ct, out_ref, (size_t)b * ls * lt, ATOL, RTOL);
    float *g = transpose_batched(dout, b, ls, lt);
    float *dfs = zeros((size_t)b * ls * d), *dft = zeros((size_t)b * lt * d);
    scorr_corr_backward(dfs, dft, g, fs, ft, &s);
    float *a1 = to_nchw(dfs, b, d, (int)ss[2], (int)ss[3]);
    float *a2 = to_nchw(dft, b, d, (int)ts[2], (int)ts[3]);
    check_report("corr dsrc", a1, dsrc_ref, (size_t)b * ls * d, ATOL, RTOL);
    check_report("corr dtrg", a2, dtrg_ref, (size_t)b * lt * d, ATOL, RTOL);
    /* NULL gradients are skipped, and the other one is unchanged */
    float *dft2 = zeros((size_t)b * lt * d);
    scorr_corr_backward(NULL, dft2, g, fs, ft, &s);
    CHECK(memcmp(dft2, dft, (size_t)b * lt * d * sizeof *dft) == 0, "dtrg differs with dsrc=NULL");
    free(src), free(trg), free(out_ref), free(dout), free(dsrc_ref), free(dtrg_ref), free(fs);
    free(ft), free(c), free(ct), free(g), free(dfs), free(dft), free(a1), free(a2), free(dft2);
    scorr_h5_close(&f);
}

static void mnn_fixture(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "head_mnn.h5");
    int64_t sh[8];
    int nd;
    float *x = scorr_fixture_f32(&f, "x", &nd, sh); /* (B, Ls, Lt) */
    int b = (int)sh[0], ls = (int)sh[1], lt = (int)sh[2];
    size_t n = (size_t)b * ls * lt;
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL);
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dx_ref = scorr_fixture_f32(&f, "dx", NULL, NULL);
    struct scorr_corr_shape s = {.b = b, .ls = ls, .lt = lt, .d = 1, .nthreads = 1};
    float *c = transpose_batched(x, b, ls, lt), *o = zeros(n);
    float *smax = zeros((size_t)b * ls), *tmax = zeros((size_t)b * lt);
    int32_t *sarg = calloc((size_t)b * ls, sizeof *sarg), *targ = calloc((size_t)b * lt, sizeof *targ);
    scorr_mnn_forward(o, smax, sarg, tmax, targ, c, &s);
    float *ot = transpose_batched(o, b, lt, ls);
    check_report("mnn out", ot, out_ref, n, ATOL, RTOL);
    /* ties resolve to the first index: source 2 of pair 0 has equal maxima at
     * targets 1 and 6; target 5 of pair 1 at sources 3 and 8 */
    CHECK(sarg[2] == 1, "pair 0 source 2: argmax %d, expected first tie 1", sarg[2]);
    CHECK(targ[lt + 5] == 3, "pair 1 target 5: argmax %d, expected first tie 3", targ[lt + 5]);
    CHECK(smax[4] == 1e-30f, "zero maximum of the all-zero source row must become 1e-30, found %g",
          (double)smax[4]);
    CHECK(tmax[lt + 0] == 1e-30f, "zero maximum of the all-zero target column must become 1e-30, "
          "found %g", (double)tmax[lt + 0]);
    float *g = transpose_batched(dout, b, ls, lt), *dc = zeros(n);
    scorr_mnn_backward(dc, g, c, smax, sarg, tmax, targ, &s);
    float *dct = transpose_batched(dc, b, lt, ls);
    /* the gradient through the maxima sums Lt (or Ls) products of size up to
     * ~400: a few ulp of that sum is ~1e-4 absolute */
    check_report("mnn dx", dct, dx_ref, n, 2e-4, RTOL);
    free(x), free(out_ref), free(dout), free(dx_ref), free(c), free(o), free(smax), free(tmax);
    free(sarg), free(targ), free(ot), free(g), free(dc), free(dct);
    scorr_h5_close(&f);
}

/* ---- finite differences ---------------------------------------------------- */

struct fdctx {
    int which; /* 0 l2norm, 1 corr (src), 2 corr (trg), 3 mnn */
    struct scorr_corr_shape s;
    float *x, *y, *dout, *out, *r, *smax, *tmax;
    int32_t *sarg, *targ;
    size_t m;
    int d;
};

static double fd_loss(void *p)
{
    struct fdctx *c = p;
    size_t nout;
    if (c->which == 0) {
        scorr_l2norm_forward(c->out, c->r, c->x, c->m, c->d, 1);
        nout = c->m * c->d;
    } else if (c->which <= 2) {
        scorr_corr_forward(c->out, c->x, c->y, &c->s);
        nout = (size_t)c->s.b * c->s.ls * c->s.lt;
    } else {
        scorr_mnn_forward(c->out, c->smax, c->sarg, c->tmax, c->targ, c->x, &c->s);
        nout = (size_t)c->s.b * c->s.ls * c->s.lt;
    }
    return dot_d(c->out, c->dout, nout);
}

/* MNN kinks: an argmax that changes under the perturbation */
static uint64_t mnn_state(void *p)
{
    struct fdctx *c = p;
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < c->s.b * c->s.ls; i++) h = (h ^ (uint64_t)c->sarg[i]) * 1099511628211ull;
    for (int i = 0; i < c->s.b * c->s.lt; i++) h = (h ^ (uint64_t)c->targ[i]) * 1099511628211ull;
    return h;
}

static void finite_differences(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 9, SCORR_RNG_TEST, 2, 0, 0);
    struct fdctx c;
    memset(&c, 0, sizeof c);
    /* l2norm */
    c.which = 0;
    c.m = 6;
    c.d = 5;
    c.x = randn(&r, c.m * c.d, 1.0f);
    c.dout = randn(&r, c.m * c.d, 1.0f);
    c.out = zeros(c.m * c.d);
    c.r = zeros(c.m);
    fd_loss(&c);
    float *dx = zeros(c.m * c.d);
    scorr_l2norm_backward(dx, c.dout, c.out, c.r, c.m, c.d, 1);
    CHECK(fd_check("l2norm fd", c.x, c.m * c.d, dx, fd_loss, NULL, &c, 30, 1e-2f, 1e-3, 1e-2, 1) == 0,
          "l2norm");
    free(c.x), free(c.dout), free(c.out), free(c.r), free(dx);

    /* correlation: linear, so central differences are exact up to rounding */
    c.which = 1;
    c.s = (struct scorr_corr_shape){.b = 2, .ls = 6, .lt = 4, .d = 3, .nthreads = 1};
    size_t nc = (size_t)c.s.b * c.s.ls * c.s.lt;
    c.x = randn(&r, (size_t)c.s.b * c.s.ls * c.s.d, 1.0f);
    c.y = randn(&r, (size_t)c.s.b * c.s.lt * c.s.d, 1.0f);
    c.dout = randn(&r, nc, 1.0f);
    c.out = zeros(nc);
    float *ds = zeros((size_t)c.s.b * c.s.ls * c.s.d), *dt = zeros((size_t)c.s.b * c.s.lt * c.s.d);
    scorr_corr_backward(ds, dt, c.dout, c.x, c.y, &c.s);
    CHECK(fd_check("corr fd dsrc", c.x, (size_t)c.s.b * c.s.ls * c.s.d, ds, fd_loss, NULL, &c, 20,
                   1e-2f, 1e-3, 1e-3, 2) == 0, "corr");
    CHECK(fd_check("corr fd dtrg", c.y, (size_t)c.s.b * c.s.lt * c.s.d, dt, fd_loss, NULL, &c, 20,
                   1e-2f, 1e-3, 1e-3, 3) == 0, "corr");
    free(c.x), free(c.y), free(c.dout), free(c.out), free(ds), free(dt);

    /* MNN on positive values (as after the SCE's ReLU) plus some negatives */
    c.which = 3;
    c.s = (struct scorr_corr_shape){.b = 2, .ls = 5, .lt = 4, .d = 1, .nthreads = 1};
    nc = (size_t)c.s.b * c.s.ls * c.s.lt;
    c.x = randu(&r, nc, -0.3f, 1.0f);
    c.dout = randn(&r, nc, 1.0f);
    c.out = zeros(nc);
    c.smax = zeros((size_t)c.s.b * c.s.ls);
    c.tmax = zeros((size_t)c.s.b * c.s.lt);
    c.sarg = calloc((size_t)c.s.b * c.s.ls, sizeof *c.sarg);
    c.targ = calloc((size_t)c.s.b * c.s.lt, sizeof *c.targ);
    fd_loss(&c);
    float *dm = zeros(nc);
    scorr_mnn_backward(dm, c.dout, c.x, c.smax, c.sarg, c.tmax, c.targ, &c.s);
    CHECK(fd_check("mnn fd", c.x, nc, dm, fd_loss, mnn_state, &c, 60, 1e-3f, 1e-3, 1e-2, 4) == 0,
          "mnn");
    /* the maxima themselves must be exercised: check every argmax element */
    {
        int bad = 0;
        for (int i = 0; i < c.s.b * c.s.ls; i++) {
            int b = i / c.s.ls, sidx = i % c.s.ls;
            size_t e = ((size_t)b * c.s.lt + c.sarg[i]) * c.s.ls + sidx;
            float x0 = c.x[e];
            c.x[e] = x0 + 1e-3f;
            double lp = fd_loss(&c);
            uint64_t sp = mnn_state(&c);
            c.x[e] = x0 - 1e-3f;
            double lm = fd_loss(&c);
            uint64_t sm = mnn_state(&c);
            c.x[e] = x0;
            fd_loss(&c);
            if (sp != mnn_state(&c) || sm != mnn_state(&c)) continue;
            double fd = (lp - lm) / ((double)(x0 + 1e-3f) - (double)(x0 - 1e-3f));
            if (fabs(fd - dm[e]) > 1e-3 + 1e-2 * fabs(dm[e])) {
                fprintf(stderr, "  argmax element %zu: fd %.6g analytic %.6g\n", e, fd, (double)dm[e]);
                bad++;
            }
        }
        CHECK(bad == 0, "%d argmax elements have a wrong gradient", bad);
    }
    free(c.x), free(c.dout), free(c.out), free(c.smax), free(c.tmax), free(c.sarg), free(c.targ);
    free(dm);
}

int main(void)
{
    l2norm_fixture();
    corr_fixture();
    mnn_fixture();
    finite_differences();
    return scorr_test_finish("test_head_corr");
}
