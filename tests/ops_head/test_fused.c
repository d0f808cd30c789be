/* The fused upsampling + soft-argmax against the plain materialising
 * reference (test code, double inside) at a moderate size (h = w = 8, up = 4:
 * a 1024 x 1024 upsampled correlation per pair), and thread-count invariance
 * of our own kernels (fused op, MNN, SCE with BLAS threads fixed). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/corr.h"
#include "scorr/sce.h"
#include "scorr/softargmax.h"

#define U32 (1.0 / 16777216.0)

static float maxabs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

static void run_fused(float *flow, float *dc, const float *c, const float *dflow,
                      const struct scorr_softargmax_shape *s)
{
    float *stats = zeros(scorr_softargmax_stats_floats(s));
    float *scratch = zeros(scorr_softargmax_scratch_floats(s));
    scorr_softargmax_forward(flow, stats, c, NULL, NULL, s, scratch);
    memset(dc, 0, (size_t)s->b * s->h * s->w * s->h * s->w * sizeof *dc);
    scorr_softargmax_backward(dc, NULL, NULL, dflow, c, stats, NULL, NULL, s, scratch);
    free(stats), free(scratch);
}

static void fused_vs_reference(int h, int w, int up, float beta, int zero_half)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 21, SCORR_RNG_TEST, (uint32_t)h, (uint32_t)up, (uint32_t)zero_half);
    int b = 2, ls = h * w, gy = h * up, gx = w * up;
    size_t nc = (size_t)b * ls * ls, nf = (size_t)b * gy * gx * 2;
    /* MNN-like values: mostly small, a few near 1 */
    float *c = randu(&r, nc, 0.0f, 1.0f);
    for (size_t i = 0; i < nc; i++) c[i] = c[i] * c[i] * c[i];
    float *dflow = randn(&r, nf, 1.0f);
    if (zero_half) { /* targets with a zero upstream gradient take the skip path */
        for (size_t i = 0; i < nf / 2; i += 2) dflow[i] = dflow[i + 1] = 0.0f;
        /* ... which targets with only one zero component must not take */
        for (size_t i = nf / 2; i < nf; i += 8) dflow[i] = 0.0f;
        for (size_t i = nf / 2 + 5; i < nf; i += 8) dflow[i] = 0.0f;
    }
    struct scorr_softargmax_shape s = {.b = b, .h = h, .w = w, .up = up, .beta = beta,
                                       .nthreads = 2};
    float *flow = zeros(nf), *dc = zeros(nc), *rflow = zeros(nf), *rdc = zeros(nc);
    run_fused(flow, dc, c, dflow, &s);
    ref_softargmax_forward(rflow, c, b, h, w, up, beta);
    ref_softargmax_backward(rdc, dflow, c, b, h, w, up, beta);
    /* The reference is exact to double precision here, so only our own
     * float roundings count: half of test_softargmax.c's two-sided bound,
     * eps_p = 6 u max|C| / beta, rounded up to 8. */
    double eps_p = 8.0 * U32 * maxabs(c, nc) / beta;
    int g = gy > gx ? gy : gx;
    printf("fused vs unfused: b=%d h=%d w=%d up=%d beta=%g%s eps_p=%.3g\n", b, h, w, up,
           (double)beta, zero_half ? " (half the targets without gradient)" : "", eps_p);
    check_report("fused flow", flow, rflow, nf, (g - 1) * eps_p + 4 * g * U32, 1e-6);
    check_report("fused dcorr", dc, rdc, nc, 4 * eps_p * maxabs(rdc, nc), 1e-4);

    /* same bits with one thread, and run to run */
    struct scorr_softargmax_shape s1 = s;
    s1.nthreads = 1;
    float *flow1 = zeros(nf), *dc1 = zeros(nc), *flow2 = zeros(nf), *dc2 = zeros(nc);
    run_fused(flow1, dc1, c, dflow, &s1);
    run_fused(flow2, dc2, c, dflow, &s);
    CHECK(memcmp(flow1, flow, nf * sizeof *flow) == 0, "fused flow differs between 1 and 2 threads");
    CHECK(memcmp(dc1, dc, nc * sizeof *dc) == 0, "fused dcorr differs between 1 and 2 threads");
    CHECK(memcmp(flow2, flow, nf * sizeof *flow) == 0, "fused flow differs run to run");
    CHECK(memcmp(dc2, dc, nc * sizeof *dc) == 0, "fused dcorr differs run to run");

    /* a learned grid: its gradients too are the same bits at 1 and 2 threads */
    float *xg = zeros((size_t)gx), *yg = zeros((size_t)gy);
    float *gxa = zeros((size_t)gx), *gya = zeros((size_t)gy);
    float *gxb = zeros((size_t)gx), *gyb = zeros((size_t)gy);
    scorr_softargmax_linspace(xg, gx);
    scorr_softargmax_linspace(yg, gy);
    xg[1] += 0.03f, yg[gy - 2] -= 0.02f;
    float *stats = zeros(scorr_softargmax_stats_floats(&s));
    float *scratch = zeros(scorr_softargmax_scratch_floats(&s));
    const struct scorr_softargmax_shape *sh[2] = {&s1, &s};
    float *gxs[2] = {gxa, gxb}, *gys[2] = {gya, gyb};
    for (int t = 0; t < 2; t++) {
        scorr_softargmax_forward(flow, stats, c, xg, yg, sh[t], scratch);
        scorr_softargmax_backward(dc, gxs[t], gys[t], dflow, c, stats, xg, yg, sh[t], scratch);
    }
    CHECK(memcmp(gxa, gxb, (size_t)gx * sizeof *gxa) == 0 &&
              memcmp(gya, gyb, (size_t)gy * sizeof *gya) == 0,
          "fused grid gradients differ between 1 and 2 threads");
    free(xg), free(yg), free(gxa), free(gya), free(gxb), free(gyb), free(stats), free(scratch);
    free(c), free(dflow), free(flow), free(dc), free(rflow), free(rdc), free(flow1), free(dc1);
    free(flow2), free(dc2);
}

static void mnn_threads(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 22, SCORR_RNG_TEST, 0, 0, 0);
    struct scorr_corr_shape s = {.b = 3, .ls = 150, .lt = 130, .d = 1, .nthreads = 1};
    size_t nc = (size_t)s.b * s.ls * s.lt;
    float *c = randn(&r, nc, 1.0f), *g = randn(&r, nc, 1.0f);
    float *o[2], *dc[2], *sm[2], *tm[2];
    int32_t *sa[2], *ta[2];
    for (int k = 0; k < 2; k++) {
        s.nthreads = k + 1;
        o[k] = zeros(nc), dc[k] = zeros(nc), sm[k] = zeros((size_t)s.b * s.ls);
        tm[k] = zeros((size_t)s.b * s.lt);
        sa[k] = calloc((size_t)s.b * s.ls, sizeof(int32_t));
        ta[k] = calloc((size_t)s.b * s.lt, sizeof(int32_t));
        scorr_mnn_forward(o[k], sm[k], sa[k], tm[k], ta[k], c, &s);
        scorr_mnn_backward(dc[k], g, c, sm[k], sa[k], tm[k], ta[k], &s);
    }
    CHECK(memcmp(o[0], o[1], nc * sizeof(float)) == 0, "mnn out differs between 1 and 2 threads");
    CHECK(memcmp(dc[0], dc[1], nc * sizeof(float)) == 0, "mnn dcorr differs between 1 and 2 threads");
    for (int k = 0; k < 2; k++) free(o[k]), free(dc[k]), free(sm[k]), free(tm[k]), free(sa[k]), free(ta[k]);
    free(c), free(g);
}

static void sce_threads(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 23, SCORR_RNG_TEST, 0, 0, 0);
    struct scorr_sce_shape s = {.n = 2, .h = 6, .w = 5, .c = 40, .k = 5, .out = 24, .nthreads = 1};
    size_t m = (size_t)s.n * s.h * s.w, cin = (size_t)s.c + 4 * s.k;
    float *x = randn(&r, m * s.c, 1.0f), *wt = randn(&r, s.out * cin, 0.2f);
    float *bias = randn(&r, s.out, 0.1f), *dout = randn(&r, m * s.out, 1.0f);
    float *out[2], *dx[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        s.nthreads = k + 1;
        float *sim = zeros(m * 4 * s.k), *nrm = zeros(m * s.c), *den = zeros(m);
        float *g = copy_of(dout, m * s.out), *scratch = zeros(scorr_sce_scratch_floats(&s));
        out[k] = zeros(m * s.out), dx[k] = zeros(m * s.c), dw[k] = zeros(s.out * cin);
        db[k] = zeros(s.out);
        scorr_sce_forward(out[k], sim, nrm, den, x, wt, bias, &s, NULL);
        scorr_sce_backward(dx[k], dw[k], db[k], g, out[k], sim, nrm, den, x, wt, &s, scratch, NULL);
        free(sim), free(nrm), free(den), free(g), free(scratch);
    }
    CHECK(memcmp(out[0], out[1], m * s.out * sizeof(float)) == 0, "sce out differs with threads");
    CHECK(memcmp(dx[0], dx[1], m * s.c * sizeof(float)) == 0, "sce dx differs with threads");
    CHECK(memcmp(dw[0], dw[1], s.out * cin * sizeof(float)) == 0, "sce dweight differs with threads");
    CHECK(memcmp(db[0], db[1], s.out * sizeof(float)) == 0, "sce dbias differs with threads");
    for (int k = 0; k < 2; k++) free(out[k]), free(dx[k]), free(dw[k]), free(db[k]);
    free(x), free(wt), free(bias), free(dout);
}

int main(void)
{
    fused_vs_reference(8, 8, 4, 0.02f, 0);
    fused_vs_reference(5, 7, 3, 0.02f, 1);
    fused_vs_reference(6, 6, 1, 0.05f, 0);
    mnn_threads();
    sce_threads();
    return scorr_test_finish("test_head_fused");
}
