/* torchvision BasicBlock / Bottleneck (stride 2, downsample) against
 * PyTorch in both batch-norm modes: output, input gradient, every parameter
 * gradient, updated running statistics. Plus finite differences on a block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bb_util.h"
#include "scorr/arena.h"
#include "scorr/resblock.h"

#define RTOL 1e-4
#define AFRAC 1e-5

struct rig {
    struct scorr_params t;
    struct scorr_resblock b;
    struct scorr_arena arena;
    float *params, *grads;
    void *scr;
};

static int rig_init(struct rig *r, const struct scorr_resblock_config *cfg)
{
    scorr_params_init(&r->t);
    int err = scorr_resblock_build(&r->b, cfg, &r->t, "");
    if (err) return err;
    struct scorr_arena plan;
    scorr_arena_plan(&plan);
    scorr_resblock_alloc(&r->b, &plan);
    CHECK_OK(scorr_arena_init(&r->arena, plan.peak + 64, "block"));
    scorr_resblock_alloc(&r->b, &r->arena);
    r->params = bb_floats(r->t.total);
    r->grads = bb_floats(r->t.total);
    r->scr = bb_bytes(r->b.scratch);
    return 0;
}

static void rig_free(struct rig *r)
{
    scorr_resblock_free(&r->b);
    scorr_arena_free(&r->arena);
    scorr_aligned_free(r->params);
    scorr_aligned_free(r->grads);
    scorr_aligned_free(r->scr);
    scorr_params_free(&r->t);
}

static void parity(const char *file)
{
    struct scorr_h5 f;
    char what[256], name[256];
    scorr_fixture_open(&f, file);
    const int batch = (int)scorr_fixture_int(&f, "batch");
    struct bb_tensor x = bb_load_nhwc(&f, "x"), dout = bb_load_nhwc(&f, "dout"),
                     out = bb_load_nhwc(&f, "out"), dx = bb_load_nhwc(&f, "dx");
    struct scorr_resblock_config cfg = {
        .bottleneck = (int)scorr_fixture_int(&f, "bottleneck"), .n = (int)x.shape[0],
        .h = (int)x.shape[2], .w = (int)x.shape[3], .inplanes = (int)x.shape[1],
        .planes = (int)scorr_fixture_int(&f, "planes"),
        .stride = (int)scorr_fixture_int(&f, "stride"),
        .downsample = (int)scorr_fixture_int(&f, "downsample"), .relu_out = 1,
        .bn_groups = (int)scorr_fixture_int(&f, "groups"),
        .bn_mode = batch ? SCORR_BN_BATCH : SCORR_BN_FROZEN, .grad = 1, .input_grad = 1};
    struct rig r;
    CHECK_OK(rig_init(&r, &cfg));
    CHECK(r.b.ho == out.shape[2] && r.b.wo == out.shape[3] && r.b.cout == out.shape[1],
          "%s: output shape", file);
    bb_load_params(&f, "p", &r.t, r.params, NULL);
    float *gout = bb_floats(out.n), *gdx = bb_floats(x.n);
    scorr_resblock_forward(&r.b, gout, x.d, r.params, cfg.bn_mode, r.scr);
    snprintf(what, sizeof what, "%s out", file);
    bb_close(what, gout, out.d, out.n, RTOL, AFRAC);
    scorr_resblock_backward(&r.b, gdx, r.grads, dout.d, x.d, gout, r.params, SCORR_GRAD_SET, r.scr);
    snprintf(what, sizeof what, "%s dx", file);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    for (int i = 0; i < r.t.n; i++) {
        const struct scorr_param *e = &r.t.p[i];
        if (e->kind == SCORR_PARAM_WEIGHT) {
            snprintf(name, sizeof name, "g/%s", e->name);
            struct bb_tensor g = bb_load(&f, name);
            snprintf(what, sizeof what, "%s grad %s", file, e->name);
            bb_close(what, r.grads + e->offset, g.d, g.n, RTOL, AFRAC);
            bb_free(&g);
        } else if (batch) {
            snprintf(name, sizeof name, "rs/%s", e->name);
            struct bb_tensor g = bb_load(&f, name);
            snprintf(what, sizeof what, "%s updated %s", file, e->name);
            bb_close(what, r.params + e->offset, g.d, g.n, RTOL, AFRAC);
            bb_free(&g);
        }
    }
    /* ADD mode accumulates into dx */
    scorr_resblock_backward(&r.b, gdx, r.grads, dout.d, x.d, gout, r.params, SCORR_GRAD_ADD, r.scr);
    for (size_t i = 0; i < dx.n; i++) dx.d[i] *= 2;
    snprintf(what, sizeof what, "%s dx (ADD)", file);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    scorr_aligned_free(gout);
    scorr_aligned_free(gdx);
    struct bb_tensor *all[] = {&x, &dout, &out, &dx};
    for (size_t i = 0; i < 4; i++) bb_free(all[i]);
    rig_free(&r);
    scorr_h5_close(&f);
}

/* Finite differences through a Bottleneck with an identity skip, both modes. */
struct fd_ctx {
    struct rig *r;
    float *out, *x, *w;
    size_t nout;
    enum scorr_bn_mode mode;
};

static double block_loss(void *p)
{
    struct fd_ctx *c = p;
    scorr_resblock_forward(&c->r->b, c->out, c->x, c->r->params, c->mode, c->r->scr);
    return bb_dot(c->out, c->w, c->nout);
}

static void finite_differences(enum scorr_bn_mode mode, int bottleneck)
{
    struct scorr_resblock_config cfg = {.bottleneck = bottleneck, .n = 2, .h = 5, .w = 4,
                                        .inplanes = bottleneck ? 12 : 5, .planes = bottleneck ? 3 : 5,
                                        .stride = 1, .downsample = 0, .relu_out = 0,
                                        .bn_groups = 2, .bn_mode = mode, .grad = 1, .input_grad = 1};
    struct rig r;
    CHECK_OK(rig_init(&r, &cfg));
    scorr_params_initialise(&r.t, r.params, 5);
    /* non-trivial BN affine parameters and statistics */
    for (int i = 0; i < r.t.n; i++) {
        const struct scorr_param *e = &r.t.p[i];
        if (e->ndim != 1) continue;
        bb_fill(r.params + e->offset, e->numel, 100 + (uint64_t)i);
        for (size_t k = 0; k < e->numel; k++) {
            float *v = r.params + e->offset + k;
            if (strstr(e->name, "running_var") || strstr(e->name, ".weight")) *v = 1.0f + 0.3f * *v;
            else *v *= 0.2f;
        }
    }
    const size_t nx = (size_t)cfg.n * cfg.h * cfg.w * cfg.inplanes;
    const size_t nout = (size_t)cfg.n * r.b.ho * r.b.wo * r.b.cout;
    struct fd_ctx c = {&r, bb_floats(nout), bb_floats(nx), bb_floats(nout), nout, mode};
    bb_fill(c.x, nx, 31);
    bb_fill(c.w, nout, 32);
    float *dx = bb_floats(nx), *p0 = bb_floats(r.t.total);
    memcpy(p0, r.params, r.t.total * sizeof(float));
    block_loss(&c);
    scorr_resblock_backward(&r.b, dx, r.grads, c.w, c.x, NULL, r.params, SCORR_GRAD_SET, r.scr);
    const float h = 2e-3f;
    const double tol = 1e-2; /* float32 forward differences over ~1e2 terms, h = 2e-3 */
    char what[128];
    int checked = 0, skipped = 0;
    /* a difference with h and with h/2 disagreeing marks a kink (ReLU) in between */
    for (size_t i = 0; i < nx; i += 5) {
        memcpy(r.params, p0, r.t.total * sizeof(float));
        double a = bb_fd(block_loss, &c, &c.x[i], h), b = bb_fd(block_loss, &c, &c.x[i], h / 2);
        if (fabs(a - b) > 0.02 * (fabs(a) + 1e-3)) {
            skipped++;
            continue;
        }
        snprintf(what, sizeof what, "block(%s) dx", mode == SCORR_BN_BATCH ? "batch" : "frozen");
        bb_fd_check(what, i, a, dx[i], tol);
        checked++;
    }
    for (int i = 0; i < r.t.n; i++) {
        const struct scorr_param *e = &r.t.p[i];
        if (e->kind != SCORR_PARAM_WEIGHT) continue;
        for (size_t k = 0; k < e->numel; k += e->numel / 3 + 1) {
            memcpy(r.params, p0, r.t.total * sizeof(float));
            float *p = r.params + e->offset + k;
            double a = bb_fd(block_loss, &c, p, h), b = bb_fd(block_loss, &c, p, h / 2);
            if (fabs(a - b) > 0.02 * (fabs(a) + 1e-3)) {
                skipped++;
                continue;
            }
            snprintf(what, sizeof what, "block(%s) d %s", mode == SCORR_BN_BATCH ? "batch" : "frozen",
                     e->name);
            bb_fd_check(what, k, a, r.grads[e->offset + k], tol);
            checked++;
        }
    }
    CHECK(checked > 3 * skipped, "too many kinks: %d checked, %d skipped", checked, skipped);
    float *bufs[] = {c.out, c.x, c.w, dx, p0};
    for (size_t i = 0; i < 5; i++) scorr_aligned_free(bufs[i]);
    rig_free(&r);
}

static void config_errors(void)
{
    struct scorr_params t;
    struct scorr_resblock b;
    scorr_params_init(&t);
    struct scorr_resblock_config cfg = {.bottleneck = 1, .n = 1, .h = 4, .w = 4, .inplanes = 8,
                                        .planes = 4, .stride = 1, .downsample = 0, .bn_groups = 1};
    CHECK(scorr_resblock_build(&b, &cfg, &t, "layer9.0.") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "layer9.0.") && strstr(scorr_error_message(), "16"),
          "identity skip with wrong channels: %s", scorr_error_message());
    /* binding: a second block with the same names but other shapes */
    cfg.downsample = 1;
    CHECK_OK(scorr_resblock_build(&b, &cfg, &t, "x."));
    scorr_resblock_free(&b);
    int n = t.n;
    CHECK_OK(scorr_resblock_build(&b, &cfg, &t, "x."));
    CHECK(t.n == n, "rebuilding with the same names added entries (%d -> %d)", n, t.n);
    scorr_resblock_free(&b);
    cfg.planes = 5;
    CHECK(scorr_resblock_build(&b, &cfg, &t, "x.") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "x.conv1.weight") &&
              strstr(scorr_error_message(), "(4, 8, 1, 1)") &&
              strstr(scorr_error_message(), "(5, 8, 1, 1)"),
          "shape clash: %s", scorr_error_message());
    scorr_params_free(&t);
}

int main(void)
{
    parity("backbone_block_basic_frozen.h5");
    parity("backbone_block_basic_batch.h5");
    parity("backbone_block_bottleneck_frozen.h5");
    parity("backbone_block_bottleneck_batch.h5");
    finite_differences(SCORR_BN_FROZEN, 1);
    finite_differences(SCORR_BN_BATCH, 1);
    finite_differences(SCORR_BN_BATCH, 0);
    config_errors();
    return scorr_test_finish("test_bb_block");
}
