/* SCE forward/backward against PyTorch (k = 3, 5) and finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/sce.h"

/* Plain float32 ops: errors are a few ulp of the largest term of each
 * reduction (C + 4k <= 26 terms of size ~1 here), far below 1e-5 absolute;
 * 1e-4 relative covers outputs that are small differences of larger terms. */
#define ATOL 1e-5
#define RTOL 1e-4

static void fixture(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    int n = (int)scorr_fixture_int(&f, "n"), c = (int)scorr_fixture_int(&f, "c");
    int h = (int)scorr_fixture_int(&f, "h"), w = (int)scorr_fixture_int(&f, "w");
    int k = (int)scorr_fixture_int(&f, "k"), o = (int)scorr_fixture_int(&f, "out_channels");
    printf("%s: n=%d c=%d h=%d w=%d k=%d out=%d\n", file, n, c, h, w, k, o);
    struct scorr_sce_shape s = {.n = n, .h = h, .w = w, .c = c, .k = k, .out = o, .nthreads = 1};
    size_t m = (size_t)n * h * w;
    int ns = 4 * k;
    float *x = scorr_fixture_f32(&f, "x", NULL, NULL);
    float *wt = scorr_fixture_f32(&f, "weight", NULL, NULL);
    float *bias = scorr_fixture_f32(&f, "bias", NULL, NULL);
    float *sim_ref = scorr_fixture_f32(&f, "sim", NULL, NULL);
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL);
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dx_ref = scorr_fixture_f32(&f, "dx", NULL, NULL);
    float *dw_ref = scorr_fixture_f32(&f, "dweight", NULL, NULL);
    float *db_ref = scorr_fixture_f32(&f, "dbias", NULL, NULL);

    float *xin = to_nhwc(x, n, c, h, w);
    float *out = zeros(m * o), *sim = zeros(m * ns), *nrm = zeros(m * c), *den = zeros(m);
    scorr_sce_forward(out, sim, nrm, den, xin, wt, bias, &s, NULL);
    float *out_nchw = to_nchw(out, n, o, h, w), *sim_nchw = to_nchw(sim, n, ns, h, w);
    check_report("sce out", out_nchw, out_ref, m * o, ATOL, RTOL);
    check_report("sce similarities", sim_nchw, sim_ref, m * ns, ATOL, RTOL);

    float *g = to_nhwc(dout, n, o, h, w);
    float *dx = zeros(m * c), *dw = zeros((size_t)o * (c + ns)), *db = zeros(o);
    /* backward adds: start from a known non-zero value and subtract it */
    for (size_t i = 0; i < m * c; i++) dx[i] = 0.5f;
    float *scratch = zeros(scorr_sce_scratch_floats(&s));
    scorr_sce_backward(dx, dw, db, g, out, sim, nrm, den, xin, wt, &s, scratch, NULL);
    for (size_t i = 0; i < m * c; i++) dx[i] -= 0.5f;
    float *dx_nchw = to_nchw(dx, n, c, h, w);
    check_report("sce dx", dx_nchw, dx_ref, m * c, ATOL, RTOL);
    check_report("sce dweight", dw, dw_ref, (size_t)o * (c + ns), ATOL, RTOL);
    check_report("sce dbias", db, db_ref, o, ATOL, RTOL);

    /* din = NULL: parameter gradients only, identical to the full call */
    float *g2 = to_nhwc(dout, n, o, h, w), *dw2 = zeros((size_t)o * (c + ns)), *db2 = zeros(o);
    scorr_sce_backward(NULL, dw2, db2, g2, out, sim, nrm, den, xin, wt, &s, scratch, NULL);
    CHECK(memcmp(dw2, dw, (size_t)o * (c + ns) * sizeof *dw) == 0, "dweight differs with din=NULL");
    CHECK(memcmp(db2, db, (size_t)o * sizeof *db) == 0, "dbias differs with din=NULL");

    free(x), free(wt), free(bias), free(sim_ref), free(out_ref), free(dout), free(dx_ref);
    free(dw_ref), free(db_ref), free(xin), free(out), free(sim), free(nrm), free(den);
    free(out_nchw), free(sim_nchw), free(g), free(dx), free(dw), free(db), free(scratch);
    free(dx_nchw), free(g2), free(dw2), free(db2);
    scorr_h5_close(&f);
}

/* ---- finite differences ---------------------------------------------------- */

struct fdctx {
    struct scorr_sce_shape s;
    float *x, *wt, *bias, *dout, *out, *sim, *nrm, *den;
    size_t m;
};

static double fd_loss(void *p)
{
    struct fdctx *c = p;
    scorr_sce_forward(c->out, c->sim, c->nrm, c->den, c->x, c->wt, c->bias, &c->s, NULL);
    return dot_d(c->out, c->dout, c->m * c->s.out);
}

/* fingerprint of the ReLU pattern: a perturbation that flips a unit is a kink */
static uint64_t fd_state(void *p)
{
    struct fdctx *c = p;
    uint64_t hsh = 1469598103934665603ull;
    for (size_t i = 0; i < c->m * c->s.out; i++) hsh = (hsh ^ (c->out[i] > 0.0f)) * 1099511628211ull;
    return hsh;
}

static void finite_differences(int k, int nthreads)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 5, SCORR_RNG_TEST, (uint32_t)k, 1, 0);
    struct fdctx c;
    c.s = (struct scorr_sce_shape){.n = 2, .h = 4, .w = 3, .c = 4, .k = k, .out = 3,
                                   .nthreads = nthreads};
    c.m = (size_t)c.s.n * c.s.h * c.s.w;
    int ns = 4 * k, cin = c.s.c + ns;
    c.x = randn(&r, c.m * c.s.c, 1.0f);
    c.wt = randn(&r, (size_t)c.s.out * cin, 0.4f);
    c.bias = randn(&r, c.s.out, 0.2f);
    c.dout = randn(&r, c.m * c.s.out, 1.0f);
    c.out = zeros(c.m * c.s.out), c.sim = zeros(c.m * ns), c.nrm = zeros(c.m * c.s.c);
    c.den = zeros(c.m);
    fd_loss(&c);
    float *g = copy_of(c.dout, c.m * c.s.out);
    float *dx = zeros(c.m * c.s.c), *dw = zeros((size_t)c.s.out * cin), *db = zeros(c.s.out);
    float *scratch = zeros(scorr_sce_scratch_floats(&c.s));
    scorr_sce_backward(dx, dw, db, g, c.out, c.sim, c.nrm, c.den, c.x, c.wt, &c.s, scratch, NULL);
    /* float forward, double loss: step 1e-2 keeps rounding noise (~1e-7 * |L| / h)
     * and truncation (~h^2) both near 1e-4; a wrong formula is off by O(1). */
    CHECK(fd_check("sce fd dx", c.x, c.m * c.s.c, dx, fd_loss, fd_state, &c, 40, 1e-2f, 2e-3, 1e-2,
                   11) == 0, "k=%d", k);
    CHECK(fd_check("sce fd dweight", c.wt, (size_t)c.s.out * cin, dw, fd_loss, fd_state, &c, 40,
                   1e-2f, 2e-3, 1e-2, 12) == 0, "k=%d", k);
    CHECK(fd_check("sce fd dbias", c.bias, c.s.out, db, fd_loss, fd_state, &c, 6, 1e-2f, 2e-3, 1e-2,
                   13) == 0, "k=%d", k);
    free(c.x), free(c.wt), free(c.bias), free(c.dout), free(c.out), free(c.sim), free(c.nrm);
    free(c.den), free(g), free(dx), free(dw), free(db), free(scratch);
}

int main(void)
{
    fixture("head_sce_k3.h5");
    fixture("head_sce_k5.h5");
    finite_differences(3, 1);
    finite_differences(5, 1);
    return scorr_test_finish("test_head_sce");
}
