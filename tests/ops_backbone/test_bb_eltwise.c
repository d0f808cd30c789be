/* ReLU, residual add and max-pool (ties: first maximum) against PyTorch,
 * plus max-pool finite differences away from ties. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bb_util.h"
#include "scorr/arena.h"
#include "scorr/eltwise.h"
#include "scorr/pool.h"

static void relu(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "backbone_relu.h5");
    struct bb_tensor x = bb_load(&f, "x"), dout = bb_load(&f, "dout"), y = bb_load(&f, "y"),
                     dx = bb_load(&f, "dx");
    float *gy = bb_floats(x.n), *gdx = bb_floats(x.n);
    scorr_relu_forward(gy, x.d, x.n);
    scorr_check_close("relu y", gy, y.d, y.n, 0, 0);
    scorr_relu_backward(gdx, dout.d, gy, x.n, SCORR_GRAD_SET);
    scorr_check_close("relu dx (output mask)", gdx, dx.d, x.n, 0, 0);
    scorr_relu_backward(gdx, dout.d, x.d, x.n, SCORR_GRAD_ADD);
    for (size_t i = 0; i < x.n; i++) dx.d[i] *= 2;
    scorr_check_close("relu dx (input mask, ADD)", gdx, dx.d, x.n, 0, 0);
    /* in place */
    memcpy(gy, x.d, x.n * sizeof(float));
    scorr_relu_forward(gy, gy, x.n);
    scorr_check_close("relu y (in place)", gy, y.d, y.n, 0, 0);
    float nan_in = NAN, nan_out = 0;
    scorr_relu_forward(&nan_out, &nan_in, 1);
    CHECK(isnan(nan_out), "relu(NaN) must be NaN as torch.relu, got %g", (double)nan_out);
    scorr_aligned_free(gy);
    scorr_aligned_free(gdx);
    struct bb_tensor *all[] = {&x, &dout, &y, &dx};
    for (size_t i = 0; i < 4; i++) bb_free(all[i]);
    scorr_h5_close(&f);
}

static void add(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "backbone_add.h5");
    struct bb_tensor a = bb_load(&f, "a"), b = bb_load(&f, "b"), dout = bb_load(&f, "dout"),
                     y = bb_load(&f, "y"), da = bb_load(&f, "da"), db = bb_load(&f, "db");
    float *gy = bb_floats(a.n), *gda = bb_floats(a.n), *gdb = bb_floats(a.n);
    scorr_add_forward(gy, a.d, b.d, a.n);
    bb_close("add y", gy, y.d, y.n, 1e-6, 1e-7);
    scorr_add_backward(gda, gdb, dout.d, a.n, SCORR_GRAD_SET);
    scorr_check_close("add da", gda, da.d, a.n, 0, 0);
    scorr_check_close("add db", gdb, db.d, a.n, 0, 0);
    scorr_add_backward(gda, NULL, dout.d, a.n, SCORR_GRAD_ADD);
    for (size_t i = 0; i < a.n; i++) da.d[i] *= 2;
    scorr_check_close("add da (ADD)", gda, da.d, a.n, 0, 0);
    scorr_check_close("add db untouched", gdb, db.d, a.n, 0, 0);
    float *bufs[] = {gy, gda, gdb};
    for (size_t i = 0; i < 3; i++) scorr_aligned_free(bufs[i]);
    struct bb_tensor *all[] = {&a, &b, &dout, &y, &da, &db};
    for (size_t i = 0; i < 6; i++) bb_free(all[i]);
    scorr_h5_close(&f);
}

static void maxpool(const char *file)
{
    struct scorr_h5 f;
    char what[256];
    scorr_fixture_open(&f, file);
    struct bb_tensor x = bb_load_nhwc(&f, "x"), dout = bb_load_nhwc(&f, "dout"),
                     y = bb_load_nhwc(&f, "y"), dx = bb_load_nhwc(&f, "dx");
    struct scorr_pool_shape s = {.n = (int)x.shape[0], .c = (int)x.shape[1], .h = (int)x.shape[2],
                                 .w = (int)x.shape[3], .k = (int)scorr_fixture_int(&f, "kernel"),
                                 .stride = (int)scorr_fixture_int(&f, "stride"),
                                 .pad = (int)scorr_fixture_int(&f, "pad")};
    CHECK_OK(scorr_maxpool_check(&s, file));
    CHECK(scorr_pool_out(s.h, s.k, s.stride, s.pad) == y.shape[2] &&
              scorr_pool_out(s.w, s.k, s.stride, s.pad) == y.shape[3],
          "%s: output size", file);
    float *gy = bb_floats(y.n), *gdx = bb_floats(x.n);
    int32_t *arg = bb_bytes(y.n * sizeof(int32_t));
    scorr_maxpool_forward(gy, arg, x.d, &s);
    snprintf(what, sizeof what, "%s y", file);
    scorr_check_close(what, gy, y.d, y.n, 0, 0);
    for (size_t i = 0; i < x.n; i++) gdx[i] = 99.0f;
    scorr_maxpool_backward(gdx, dout.d, arg, &s, SCORR_GRAD_SET);
    snprintf(what, sizeof what, "%s dx (ties to the first maximum)", file);
    bb_close(what, gdx, dx.d, dx.n, 1e-6, 1e-7);
    scorr_maxpool_backward(gdx, dout.d, arg, &s, SCORR_GRAD_ADD);
    for (size_t i = 0; i < x.n; i++) dx.d[i] *= 2;
    snprintf(what, sizeof what, "%s dx (ADD)", file);
    bb_close(what, gdx, dx.d, dx.n, 1e-6, 1e-7);
    /* forward without winners gives the same output */
    memset(gy, 0, y.n * sizeof(float));
    scorr_maxpool_forward(gy, NULL, x.d, &s);
    snprintf(what, sizeof what, "%s y (no argmax)", file);
    scorr_check_close(what, gy, y.d, y.n, 0, 0);
    scorr_aligned_free(gy);
    scorr_aligned_free(gdx);
    scorr_aligned_free(arg);
    struct bb_tensor *all[] = {&x, &dout, &y, &dx};
    for (size_t i = 0; i < 4; i++) bb_free(all[i]);
    scorr_h5_close(&f);
}

struct fd_ctx {
    struct scorr_pool_shape s;
    float *y, *x, *r;
    int32_t *arg;
    size_t ny;
};

static double pool_loss(void *p)
{
    struct fd_ctx *c = p;
    scorr_maxpool_forward(c->y, c->arg, c->x, &c->s);
    return bb_dot(c->y, c->r, c->ny);
}

static void finite_differences(void)
{
    struct fd_ctx c = {.s = {.n = 2, .h = 7, .w = 6, .c = 3, .k = 3, .stride = 2, .pad = 1}};
    const size_t nx = (size_t)c.s.n * c.s.h * c.s.w * c.s.c;
    c.ny = (size_t)c.s.n * scorr_pool_out(7, 3, 2, 1) * scorr_pool_out(6, 3, 2, 1) * c.s.c;
    c.y = bb_floats(c.ny);
    c.x = bb_floats(nx);
    c.r = bb_floats(c.ny);
    c.arg = bb_bytes(c.ny * sizeof(int32_t));
    int32_t *arg0 = bb_bytes(c.ny * sizeof(int32_t));
    bb_fill(c.x, nx, 21);
    bb_fill(c.r, c.ny, 22);
    float *dx = bb_floats(nx);
    pool_loss(&c);
    memcpy(arg0, c.arg, c.ny * sizeof(int32_t));
    scorr_maxpool_backward(dx, c.r, c.arg, &c.s, SCORR_GRAD_SET);
    const float h = 1e-3f;
    int checked = 0;
    for (size_t i = 0; i < nx; i++) {
        /* skip kinks: a perturbation that changes any winner */
        int kink = 0;
        for (int sgn = -1; sgn <= 1 && !kink; sgn += 2) {
            float save = c.x[i];
            c.x[i] = save + (float)sgn * h;
            pool_loss(&c);
            c.x[i] = save;
            kink = memcmp(c.arg, arg0, c.ny * sizeof(int32_t)) != 0;
        }
        if (kink) continue;
        bb_fd_check("maxpool dx", i, bb_fd(pool_loss, &c, &c.x[i], h), dx[i], 1e-3);
        checked++;
    }
    CHECK(checked > (int)nx / 2, "only %d of %zu elements checked", checked, nx);
    float *bufs[] = {c.y, c.x, c.r, dx};
    for (size_t i = 0; i < 4; i++) scorr_aligned_free(bufs[i]);
    scorr_aligned_free(c.arg);
    scorr_aligned_free(arg0);
}

int main(void)
{
    relu();
    add();
    maxpool("backbone_maxpool_odd.h5");
    maxpool("backbone_maxpool_even.h5");
    finite_differences();
    struct scorr_pool_shape bad = {.n = 1, .h = 4, .w = 4, .c = 1, .k = 3, .stride = 2, .pad = 2};
    CHECK(scorr_maxpool_check(&bad, "pool") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "half the kernel"),
          "pad > k/2 accepted: %s", scorr_error_message());
    return scorr_test_finish("test_bb_eltwise");
}
