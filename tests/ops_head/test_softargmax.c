/* Fused upsampling + soft-argmax against PyTorch (up = 1, 2, 4, a
 * non-square grid, h = 3 so the align_corners taps are irregular) and
 * finite differences at smooth temperatures.
 *
 * Tolerance. Both implementations compute the upsampled column with a few
 * float roundings (|error| <= ~8 u max|C|, u = 2^-24, counting both sides) and
 * round z = (c - max) / beta (|z| <= 2 max|C| / beta, 1 ulp each side). The
 * softmax turns an absolute error dz into a relative error of p, so
 *     eps_p = (8 + 4) u max|C| / beta
 * bounds the relative error of every probability (the exp's 1-2 ulp are far
 * smaller). Then |d gx| <= sum p |x - gx| eps_p <= 2 eps_p, and the flow
 * (= (gx + 1)(G - 1)/2 - X) differs by at most (G - 1) eps_p plus its own
 * rounding (a few ulp of G). Gradients dC = U^T [p (dgx (x - gx) + ...) / beta]
 * carry the same relative error per term; summed norm-wise the error is a
 * few eps_p of the largest gradient element: atol = 4 eps_p max|dC|.
 * With beta = 0.02 and max|C| = 0.5 this is eps_p = 3.6e-5: the 1/beta
 * amplification is in the bound, not hidden in a loose constant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/softargmax.h"
/* the private vector exp of src/ops, tested directly */
#include "../../src/ops/vec8.h"

#define U32 (1.0 / 16777216.0)

static float maxabs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

/* A fixture with a learned grid ("xgrid", "ygrid" datasets, the reference's
 * x_normal / y_normal as nn.Parameters) also checks their gradients. The grid
 * gradient dxgrid[j] = sum_T dgx_T sum_Sy p_T[Sy, j] carries the same relative
 * error eps_p per probability; with cancellation between targets the bound is
 * eps_p sum_T |dgx_T| (p_T[.] <= 1), plus the float sum over the B*G*G targets. */
static void fixture(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    int b = (int)scorr_fixture_int(&f, "b"), h = (int)scorr_fixture_int(&f, "h");
    int w = (int)scorr_fixture_int(&f, "w"), up = (int)scorr_fixture_int(&f, "up");
    double beta;
    CHECK_OK(scorr_h5_get_attr_f64(&f, "/", "beta", &beta));
    const int learned = scorr_h5_has(&f, "xgrid");
    int gy = h * up, gx = w * up, ls = h * w;
    size_t nc = (size_t)b * ls * ls, nf = (size_t)b * gy * gx * 2;
    float *x = scorr_fixture_f32(&f, "x", NULL, NULL); /* (B, Ls, Lt) */
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL);
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dx_ref = scorr_fixture_f32(&f, "dx", NULL, NULL);
    float *xg = learned ? scorr_fixture_f32(&f, "xgrid", NULL, NULL) : NULL;
    float *yg = learned ? scorr_fixture_f32(&f, "ygrid", NULL, NULL) : NULL;
    struct scorr_softargmax_shape s = {.b = b, .h = h, .w = w, .up = up, .beta = (float)beta,
                                       .nthreads = 1};
    float *c = transpose_batched(x, b, ls, ls);
    float *flow = zeros(nf), *stats = zeros(scorr_softargmax_stats_floats(&s));
    float *scratch = zeros(scorr_softargmax_scratch_floats(&s));
    scorr_softargmax_forward(flow, stats, c, xg, yg, &s, scratch);
    float *fl = to_nchw(flow, b, 2, gy, gx);
    double eps_p = 12.0 * U32 * maxabs(x, nc) / beta;
    int g = gy > gx ? gy : gx;
    printf("%s: b=%d h=%d w=%d up=%d beta=%g%s eps_p=%.3g\n", file, b, h, w, up, beta,
           learned ? " learned grid" : "", eps_p);
    check_report("softargmax flow", fl, out_ref, nf, (g - 1) * eps_p + 4 * g * U32, 1e-6);

    float *g1 = to_nhwc(dout, b, 2, gy, gx), *dc = zeros(nc);
    float *dxg = zeros((size_t)gx), *dyg = zeros((size_t)gy);
    for (size_t i = 0; i < nc; i++) dc[i] = 1.0f; /* backward adds */
    for (int i = 0; i < gx; i++) dxg[i] = 1.0f;
    for (int i = 0; i < gy; i++) dyg[i] = 1.0f;
    scorr_softargmax_backward(dc, learned ? dxg : NULL, learned ? dyg : NULL, g1, c, stats, xg,
                              yg, &s, scratch);
    for (size_t i = 0; i < nc; i++) dc[i] -= 1.0f;
    float *dct = transpose_batched(dc, b, ls, ls);
    check_report("softargmax dcorr", dct, dx_ref, nc, 4 * eps_p * maxabs(dx_ref, nc), 1e-4);
    if (learned) {
        float *dxg_ref = scorr_fixture_f32(&f, "dxgrid", NULL, NULL);
        float *dyg_ref = scorr_fixture_f32(&f, "dygrid", NULL, NULL);
        double sx = 0.0, sy = 0.0;
        for (size_t i = 0; i < nf; i += 2) {
            sx += fabs((double)g1[i]) * (gx - 1) / 2.0;
            sy += fabs((double)g1[i + 1]) * (gy - 1) / 2.0;
        }
        for (int i = 0; i < gx; i++) dxg[i] -= 1.0f;
        for (int i = 0; i < gy; i++) dyg[i] -= 1.0f;
        double sum_err = (double)(nf / 2) * U32; /* float sums over the targets */
        check_report("softargmax dxgrid", dxg, dxg_ref, (size_t)gx, (2 * eps_p + sum_err) * sx,
                     1e-5);
        check_report("softargmax dygrid", dyg, dyg_ref, (size_t)gy, (2 * eps_p + sum_err) * sy,
                     1e-5);
        free(dxg_ref), free(dyg_ref);
    }
    free(x), free(out_ref), free(dout), free(dx_ref), free(c), free(flow), free(stats);
    free(scratch), free(fl), free(g1), free(dc), free(dct), free(xg), free(yg), free(dxg);
    free(dyg);
    scorr_h5_close(&f);
}

static void vector_exp(void)
{
    /* against libm in double: at most 2 ulp on [-87, 0]; flush to 0 below
     * -87.34; NaN stays NaN */
    double worst = 0.0;
    float wx = 0.0f;
    for (int i = 0; i <= 200000; i++) {
        float in[8];
        for (int j = 0; j < 8; j++) in[j] = -87.0f * (float)(i * 8 + j) / (200001.0f * 8.0f);
        v8f y = v8_exp(v8_load(in));
        for (int j = 0; j < 8; j++) {
            double r = exp((double)in[j]);
            double ulp = nextafterf((float)r, INFINITY) - (float)r;
            double e = fabs((double)y[j] - r) / ulp;
            if (e > worst) worst = e, wx = in[j];
        }
    }
    printf("  vector exp: worst %.3f ulp (at %g)\n", worst, (double)wx);
    CHECK(worst <= 2.0, "vector exp error %.3f ulp at %g", worst, (double)wx);
    float sp[8] = {-1e30f, -87.4f, NAN, -0.0f, 0.0f, 1.0f, -1.0f, 10.0f};
    v8f y = v8_exp(v8_load(sp));
    CHECK(y[0] == 0.0f && y[1] == 0.0f && isnan(y[2]) && y[3] == 1.0f && y[4] == 1.0f,
          "vector exp specials: %g %g %g %g %g", (double)y[0], (double)y[1], (double)y[2],
          (double)y[3], (double)y[4]);
    CHECK(fabsf(y[5] - 2.7182817f) <= 3e-7f && fabsf(y[6] - 0.36787944f) <= 6e-8f &&
              fabsf(y[7] - 22026.465f) <= 4e-3f,
          "vector exp at 1, -1, 10: %.9g %.9g %.9g", (double)y[5], (double)y[6], (double)y[7]);
}

static void taps(void)
{
    /* align_corners=True: first and last outputs hit the end points exactly,
     * weights are in [0, 1] and sum to 1, positions are monotone. */
    struct scorr_interp_tap t[64];
    int ins[] = {1, 2, 3, 4, 16}, ups[] = {1, 2, 3, 4};
    for (size_t a = 0; a < sizeof ins / sizeof *ins; a++)
        for (size_t u = 0; u < sizeof ups / sizeof *ups; u++) {
            int in = ins[a], out = in * ups[u];
            scorr_interp_taps(t, in, out);
            int bad = 0;
            double prev = -1.0;
            for (int o = 0; o < out; o++) {
                double pos = t[o].i0 * (double)t[o].l0 + t[o].i1 * (double)t[o].l1;
                double want = out > 1 ? (double)(in - 1) * o / (out - 1) : 0.0;
                if (fabs(pos - want) > 1e-5 * in || t[o].l0 < 0 || t[o].l1 < 0 ||
                    fabs(t[o].l0 + t[o].l1 - 1.0) > 1e-6 || t[o].i0 < 0 || t[o].i1 >= in ||
                    pos < prev)
                    bad++;
                prev = pos;
            }
            CHECK(bad == 0, "taps in=%d out=%d: %d bad rows", in, out, bad);
            CHECK(t[0].i0 == 0 && t[0].l0 == 1.0f, "taps in=%d out=%d: first", in, out);
        }
}

/* ---- finite differences at smooth temperatures ------------------------------ */

struct fdctx {
    struct scorr_softargmax_shape s;
    float *c, *dout, *flow, *stats, *scratch;
    float *xg, *yg; /* learned grids, or NULL */
    size_t nf;
};

static double fd_loss(void *p)
{
    struct fdctx *c = p;
    scorr_softargmax_forward(c->flow, c->stats, c->c, c->xg, c->yg, &c->s, c->scratch);
    return dot_d(c->flow, c->dout, c->nf);
}

static void finite_differences(float beta, int h, int w, int up)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 3, SCORR_RNG_TEST, (uint32_t)(beta * 100), (uint32_t)up, 0);
    struct fdctx c;
    memset(&c, 0, sizeof c);
    c.s = (struct scorr_softargmax_shape){.b = 2, .h = h, .w = w, .up = up, .beta = beta,
                                          .nthreads = 1};
    size_t ls = (size_t)h * w, nc = 2 * ls * ls;
    c.nf = 2 * (size_t)h * up * w * up * 2;
    c.c = randu(&r, nc, 0.0f, 1.0f);
    c.dout = randn(&r, c.nf, 1.0f);
    c.flow = zeros(c.nf);
    c.stats = zeros(scorr_softargmax_stats_floats(&c.s));
    c.scratch = zeros(scorr_softargmax_scratch_floats(&c.s));
    fd_loss(&c);
    float *dc = zeros(nc);
    scorr_softargmax_backward(dc, NULL, NULL, c.dout, c.c, c.stats, NULL, NULL, &c.s, c.scratch);
    char what[96];
    snprintf(what, sizeof what, "softargmax fd beta=%g h=%d w=%d up=%d", (double)beta, h, w, up);
    /* smooth in C at these temperatures; step 1e-2 * beta keeps the
     * truncation error ~1e-4 relative; rounding noise ~1e-7 |L| / step */
    CHECK(fd_check(what, c.c, nc, dc, fd_loss, NULL, &c, 40, 1e-2f * beta, 2e-3, 1e-2, 7) == 0,
          "%s", what);
    free(c.c), free(c.dout), free(c.flow), free(c.stats), free(c.scratch), free(dc);
}

/* The grid gradients by finite differences: the flow is linear in the grid
 * for fixed probabilities, so this holds at the paper's beta too. Also the
 * correlation gradient with a learned grid. */
static void finite_differences_grid(float beta, int h, int w, int up)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 4, SCORR_RNG_TEST, (uint32_t)(beta * 100), (uint32_t)up, 1);
    struct fdctx c;
    memset(&c, 0, sizeof c);
    c.s = (struct scorr_softargmax_shape){.b = 2, .h = h, .w = w, .up = up, .beta = beta,
                                          .nthreads = 1};
    const int gy = h * up, gx = w * up;
    size_t ls = (size_t)h * w, nc = 2 * ls * ls;
    c.nf = 2 * (size_t)gy * gx * 2;
    c.c = randu(&r, nc, 0.0f, 1.0f);
    c.dout = randn(&r, c.nf, 1.0f);
    c.flow = zeros(c.nf);
    c.stats = zeros(scorr_softargmax_stats_floats(&c.s));
    c.scratch = zeros(scorr_softargmax_scratch_floats(&c.s));
    c.xg = zeros((size_t)gx);
    c.yg = zeros((size_t)gy);
    scorr_softargmax_linspace(c.xg, gx);
    scorr_softargmax_linspace(c.yg, gy);
    float *nx = randn(&r, (size_t)gx, 0.05f), *ny = randn(&r, (size_t)gy, 0.05f);
    for (int i = 0; i < gx; i++) c.xg[i] += nx[i];
    for (int i = 0; i < gy; i++) c.yg[i] += ny[i];
    fd_loss(&c);
    float *dc = zeros(nc), *dxg = zeros((size_t)gx), *dyg = zeros((size_t)gy);
    scorr_softargmax_backward(dc, dxg, dyg, c.dout, c.c, c.stats, c.xg, c.yg, &c.s, c.scratch);
    char what[96];
    snprintf(what, sizeof what, "softargmax fd x grid beta=%g h=%d w=%d up=%d", (double)beta, h,
             w, up);
    /* linear in the grid: only rounding noise, ~1e-7 |L| / step */
    CHECK(fd_check(what, c.xg, (size_t)gx, dxg, fd_loss, NULL, &c, gx, 1e-2f, 2e-3, 1e-3, 8) == 0,
          "%s", what);
    snprintf(what, sizeof what, "softargmax fd y grid beta=%g h=%d w=%d up=%d", (double)beta, h,
             w, up);
    CHECK(fd_check(what, c.yg, (size_t)gy, dyg, fd_loss, NULL, &c, gy, 1e-2f, 2e-3, 1e-3, 9) == 0,
          "%s", what);
    if (beta >= 0.1f) {
        snprintf(what, sizeof what, "softargmax fd corr, learned grid, beta=%g", (double)beta);
        CHECK(fd_check(what, c.c, nc, dc, fd_loss, NULL, &c, 40, 1e-2f * beta, 2e-3, 1e-2, 10) ==
                  0,
              "%s", what);
    }
    /* the linspace grid given explicitly is the NULL grid, bit for bit */
    scorr_softargmax_linspace(c.xg, gx);
    scorr_softargmax_linspace(c.yg, gy);
    float *f1 = zeros(c.nf);
    scorr_softargmax_forward(f1, c.stats, c.c, c.xg, c.yg, &c.s, c.scratch);
    scorr_softargmax_forward(c.flow, c.stats, c.c, NULL, NULL, &c.s, c.scratch);
    CHECK(memcmp(f1, c.flow, c.nf * sizeof *f1) == 0,
          "an explicit linspace grid differs from the fixed one");
    free(c.c), free(c.dout), free(c.flow), free(c.stats), free(c.scratch), free(c.xg);
    free(c.yg), free(nx), free(ny), free(dc), free(dxg), free(dyg), free(f1);
}

int main(void)
{
    vector_exp();
    taps();
    fixture("head_softargmax_up1.h5");
    fixture("head_softargmax_up2.h5");
    fixture("head_softargmax_up4.h5");
    fixture("head_softargmax_rect.h5");
    fixture("head_softargmax_grid.h5");
    finite_differences(1.0f, 3, 2, 2);
    finite_differences(0.5f, 2, 3, 3);
    finite_differences(0.25f, 3, 3, 1);
    finite_differences_grid(0.5f, 3, 2, 2);
    finite_differences_grid(0.02f, 3, 3, 4);
    return scorr_test_finish("test_head_softargmax");
}
