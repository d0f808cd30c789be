/* Batch norm (frozen / batch statistics with groups, fused residual + ReLU)
 * against PyTorch, gradient modes, in-place backward, finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bb_util.h"
#include "scorr/arena.h"
#include "scorr/batchnorm.h"

#define RTOL 1e-4
#define AFRAC 1e-5

static void parity(const char *file)
{
    struct scorr_h5 f;
    char what[256];
    scorr_fixture_open(&f, file);
    const int batch = (int)scorr_fixture_int(&f, "batch"), fused = (int)scorr_fixture_int(&f, "fused");
    const int groups = (int)scorr_fixture_int(&f, "groups");
    struct bb_tensor x = bb_load_nhwc(&f, "x"), dout = bb_load_nhwc(&f, "dout");
    struct bb_tensor y = bb_load_nhwc(&f, "y"), dx = bb_load_nhwc(&f, "dx");
    struct bb_tensor g = bb_load(&f, "gamma"), b = bb_load(&f, "beta");
    struct bb_tensor rm = bb_load(&f, "running_mean"), rv = bb_load(&f, "running_var");
    struct bb_tensor dg = bb_load(&f, "dgamma"), dbt = bb_load(&f, "dbeta");
    struct bb_tensor res = {0}, dres = {0}, rmo = {0}, rvo = {0};
    if (fused) {
        res = bb_load_nhwc(&f, "residual");
        dres = bb_load_nhwc(&f, "dres");
    }
    if (batch) {
        rmo = bb_load(&f, "running_mean_out");
        rvo = bb_load(&f, "running_var_out");
    }
    struct scorr_bn_shape s = {.n = (int)x.shape[0], .hw = (int)(x.shape[2] * x.shape[3]),
                               .c = (int)x.shape[1], .groups = groups, .eps = 1e-5f,
                               .momentum = 0.1f};
    enum scorr_bn_mode mode = batch ? SCORR_BN_BATCH : SCORR_BN_FROZEN;
    CHECK_OK(scorr_bn_check(&s, mode, file));
    const int C = s.c;
    float *gy = bb_floats(x.n), *mean = bb_floats((size_t)groups * C);
    float *invstd = bb_floats((size_t)groups * C), *scr = bb_floats(scorr_bn_scratch_floats(&s));
    float *gdx = bb_floats(x.n), *gdres = bb_floats(x.n), *gdg = bb_floats(C), *gdb = bb_floats(C);
    float *rmean = bb_floats(C), *rvar = bb_floats(C);
    memcpy(rmean, rm.d, C * sizeof(float));
    memcpy(rvar, rv.d, C * sizeof(float));
    scorr_bn_forward(gy, mean, invstd, x.d, fused ? res.d : NULL, g.d, b.d, rmean, rvar, mode,
                     fused, &s, scr);
    snprintf(what, sizeof what, "%s y", file);
    bb_close(what, gy, y.d, y.n, RTOL, AFRAC);
    if (batch) {
        snprintf(what, sizeof what, "%s running_mean", file);
        bb_close(what, rmean, rmo.d, C, RTOL, AFRAC);
        snprintf(what, sizeof what, "%s running_var", file);
        bb_close(what, rvar, rvo.d, C, RTOL, AFRAC);
    } else {
        CHECK(memcmp(rmean, rm.d, C * sizeof(float)) == 0 && memcmp(rvar, rv.d, C * sizeof(float)) == 0,
              "%s: frozen mode changed the running statistics", file);
    }
    /* SET into garbage */
    for (size_t i = 0; i < x.n; i++) gdx[i] = gdres[i] = -7.0f;
    scorr_bn_backward(gdx, fused ? gdres : NULL, gdg, gdb, dout.d, gy, x.d, g.d, mean, invstd,
                      mode, fused, SCORR_GRAD_SET, &s, scr);
    snprintf(what, sizeof what, "%s dx", file);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s dgamma", file);
    bb_close(what, gdg, dg.d, C, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s dbeta", file);
    bb_close(what, gdb, dbt.d, C, RTOL, AFRAC);
    if (fused) {
        snprintf(what, sizeof what, "%s dres", file);
        bb_close(what, gdres, dres.d, dres.n, RTOL, AFRAC);
    }
    /* ADD: twice the gradients */
    scorr_bn_backward(gdx, fused ? gdres : NULL, gdg, gdb, dout.d, gy, x.d, g.d, mean, invstd,
                      mode, fused, SCORR_GRAD_ADD, &s, scr);
    for (size_t i = 0; i < x.n; i++) {
        dx.d[i] *= 2;
        if (fused) dres.d[i] *= 2;
    }
    for (int c = 0; c < C; c++) {
        dg.d[c] *= 2;
        dbt.d[c] *= 2;
    }
    snprintf(what, sizeof what, "%s dx (ADD)", file);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s dgamma (ADD)", file);
    bb_close(what, gdg, dg.d, C, RTOL, AFRAC);
    if (fused) {
        snprintf(what, sizeof what, "%s dres (ADD)", file);
        bb_close(what, gdres, dres.d, dres.n, RTOL, AFRAC);
    }
    /* in place: dx is dy's buffer */
    memcpy(gdx, dout.d, x.n * sizeof(float));
    scorr_bn_backward(gdx, NULL, NULL, NULL, gdx, gy, x.d, g.d, mean, invstd, mode, fused,
                      SCORR_GRAD_SET, &s, scr);
    for (size_t i = 0; i < x.n; i++) dx.d[i] *= 0.5f;
    snprintf(what, sizeof what, "%s dx (in place)", file);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    /* forward in place (y = x) gives the same output when there is no residual */
    if (!fused) {
        float *xx = bb_floats(x.n);
        memcpy(xx, x.d, x.n * sizeof(float));
        memcpy(rmean, rm.d, C * sizeof(float));
        memcpy(rvar, rv.d, C * sizeof(float));
        scorr_bn_forward(xx, mean, invstd, xx, NULL, g.d, b.d, rmean, rvar, mode, 0, &s, scr);
        snprintf(what, sizeof what, "%s y (in place)", file);
        bb_close(what, xx, y.d, y.n, RTOL, AFRAC);
        scorr_aligned_free(xx);
    }
    float *bufs[] = {gy, mean, invstd, scr, gdx, gdres, gdg, gdb, rmean, rvar};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) scorr_aligned_free(bufs[i]);
    struct bb_tensor *all[] = {&x, &dout, &y, &dx, &g, &b, &rm, &rv, &dg, &dbt, &res, &dres, &rmo, &rvo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) bb_free(all[i]);
    scorr_h5_close(&f);
}

/* Finite differences in BATCH mode (groups 2, residual, ReLU): the forward
 * is smooth except at ReLU kinks, which the checked elements avoid. */
struct fd_ctx {
    struct scorr_bn_shape s;
    float *y, *x, *res, *gamma, *beta, *rm, *rv, *mean, *invstd, *r, *scr;
    int relu;
    enum scorr_bn_mode mode;
};

static double bn_loss(void *p)
{
    struct fd_ctx *c = p;
    scorr_bn_forward(c->y, c->mean, c->invstd, c->x, c->res, c->gamma, c->beta, c->rm, c->rv,
                     c->mode, c->relu, &c->s, c->scr);
    return bb_dot(c->y, c->r, (size_t)c->s.n * c->s.hw * c->s.c);
}

static void finite_differences(enum scorr_bn_mode mode)
{
    struct fd_ctx c = {.s = {.n = 4, .hw = 6, .c = 5, .groups = 2, .eps = 1e-5f, .momentum = 0.1f},
                       .relu = 1, .mode = mode};
    const size_t n = (size_t)c.s.n * c.s.hw * c.s.c, C = (size_t)c.s.c;
    c.y = bb_floats(n);
    c.x = bb_floats(n);
    c.res = bb_floats(n);
    c.r = bb_floats(n);
    c.gamma = bb_floats(C);
    c.beta = bb_floats(C);
    c.rm = bb_floats(C);
    c.rv = bb_floats(C);
    c.mean = bb_floats(2 * C);
    c.invstd = bb_floats(2 * C);
    c.scr = bb_floats(scorr_bn_scratch_floats(&c.s));
    bb_fill(c.x, n, 11);
    bb_fill(c.res, n, 12);
    bb_fill(c.r, n, 13);
    bb_fill(c.gamma, C, 14);
    bb_fill(c.beta, C, 15);
    for (size_t i = 0; i < C; i++) {
        c.gamma[i] += 1.5f;
        c.rv[i] = 1.0f + 0.1f * (float)i;
        c.rm[i] = 0.05f * (float)i;
    }
    float *dx = bb_floats(n), *dres = bb_floats(n), *dg = bb_floats(C), *db = bb_floats(C);
    float *rm0 = bb_floats(C), *rv0 = bb_floats(C);
    memcpy(rm0, c.rm, C * sizeof(float));
    memcpy(rv0, c.rv, C * sizeof(float));
    bn_loss(&c);
    scorr_bn_backward(dx, dres, dg, db, c.r, c.y, c.x, c.gamma, c.mean, c.invstd, mode, 1,
                      SCORR_GRAD_SET, &c.s, c.scr);
    const float h = 1e-2f;
    const char *tag = mode == SCORR_BN_BATCH ? "batch" : "frozen";
    char what[64];
    /* skip elements whose pre-activation is within reach of the ReLU kink */
    float *pre = bb_floats(n);
    for (size_t i = 0; i < n; i += 3) {
        /* the running statistics change with every forward in BATCH mode:
         * restore them, they must not influence the output anyway */
        memcpy(c.rm, rm0, C * sizeof(float));
        memcpy(c.rv, rv0, C * sizeof(float));
        int kink = 0;
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            float save = c.x[i];
            c.x[i] = save + (float)sgn * h;
            bn_loss(&c);
            for (size_t j = 0; j < n; j++) pre[j] = c.y[j];
            c.x[i] = save;
            bn_loss(&c);
            for (size_t j = 0; j < n; j++)
                if ((pre[j] > 0) != (c.y[j] > 0)) kink = 1;
        }
        if (kink) continue;
        snprintf(what, sizeof what, "bn %s dx", tag);
        bb_fd_check(what, i, bb_fd(bn_loss, &c, &c.x[i], h), dx[i], 2e-3);
        snprintf(what, sizeof what, "bn %s dres", tag);
        bb_fd_check(what, i, bb_fd(bn_loss, &c, &c.res[i], h), dres[i], 2e-3);
    }
    for (size_t i = 0; i < C; i++) {
        snprintf(what, sizeof what, "bn %s dgamma", tag);
        bb_fd_check(what, i, bb_fd(bn_loss, &c, &c.gamma[i], h), dg[i], 2e-3);
        snprintf(what, sizeof what, "bn %s dbeta", tag);
        bb_fd_check(what, i, bb_fd(bn_loss, &c, &c.beta[i], h), db[i], 2e-3);
    }
    float *bufs[] = {c.y, c.x, c.res, c.r, c.gamma, c.beta, c.rm, c.rv, c.mean, c.invstd, c.scr,
                     dx, dres, dg, db, rm0, rv0, pre};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) scorr_aligned_free(bufs[i]);
}

static void bad_shapes(void)
{
    struct scorr_bn_shape s = {.n = 3, .hw = 4, .c = 2, .groups = 2, .eps = 1e-5f, .momentum = 0.1f};
    CHECK(scorr_bn_check(&s, SCORR_BN_FROZEN, "layerX") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "layerX") && strstr(scorr_error_message(), "groups"),
          "groups not dividing N: %s", scorr_error_message());
    s.n = 2;
    s.hw = 1;
    CHECK(scorr_bn_check(&s, SCORR_BN_BATCH, "layerY") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "more than one value"),
          "one value per channel accepted: %s", scorr_error_message());
    CHECK_OK(scorr_bn_check(&s, SCORR_BN_FROZEN, "layerY"));
}

int main(void)
{
    parity("backbone_bn_frozen.h5");
    parity("backbone_bn_frozen_fused.h5");
    parity("backbone_bn_batch_g1.h5");
    parity("backbone_bn_batch_g2_fused.h5");
    finite_differences(SCORR_BN_BATCH);
    finite_differences(SCORR_BN_FROZEN);
    bad_shapes();
    return scorr_test_finish("test_bb_bn");
}
