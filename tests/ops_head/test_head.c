/* The head module: the whole chain (features -> flow) against PyTorch with
 * and without the SCE, finite differences through the whole head at a smooth
 * temperature, the parameter table, NULL input gradients, and config errors.
 *
 * Tolerance of the chain. Before the soft-argmax every value is a short
 * float32 computation (SCE reductions over C + 4k = 28 terms, L2 norms and
 * correlations over <= 16 terms, the MNN's 3 products): the two
 * implementations differ by at most ~30 u relative per element, u = 2^-24
 * (worst case; typical is sqrt of that). So the soft-argmax input differs by
 * |dC| <= 30 u max|C|, and with the soft-argmax's own roundings (see
 * test_softargmax.c) every probability carries a relative error of at most
 *     eps_p = (30 + 12) u max|C| / beta.
 * The flow then differs by <= (G - 1) eps_p, and gradients (norm-wise) by a
 * few eps_p of their largest element. Backward through the MNN, L2 norm and
 * SCE adds only a few more u relative per element. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/head.h"

#define U32 (1.0 / 16777216.0)

static float maxabs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

struct built {
    struct scorr_head hd;
    struct scorr_params table;
    struct scorr_arena arena;
    float *params, *grads;
};

static int build(struct built *b, const struct scorr_head_config *cfg)
{
    int err = 0;
    struct scorr_arena plan;
    scorr_params_init(&b->table);
    err = scorr_head_build(&b->hd, cfg, &b->table);
    if (err) return err;
    scorr_arena_plan(&plan);
    scorr_head_alloc(&b->hd, &plan);
    err = scorr_arena_init(&b->arena, plan.peak, "head test");
    if (err) return err;
    scorr_head_alloc(&b->hd, &b->arena);
    b->params = zeros(b->table.total ? b->table.total : 1);
    b->grads = zeros(b->table.total ? b->table.total : 1);
    return 0;
}

static void unbuild(struct built *b)
{
    scorr_arena_free(&b->arena);
    scorr_params_free(&b->table);
    free(b->params), free(b->grads);
}

static void chain_fixture(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    struct scorr_head_config cfg;
    scorr_head_config_default(&cfg);
    cfg.batch = (int)scorr_fixture_int(&f, "b");
    cfg.h = (int)scorr_fixture_int(&f, "h");
    cfg.w = (int)scorr_fixture_int(&f, "w");
    cfg.channels = (int)scorr_fixture_int(&f, "c");
    cfg.sce = (int)scorr_fixture_int(&f, "sce");
    cfg.sce_kernel = (int)scorr_fixture_int(&f, "k");
    cfg.sce_out = (int)scorr_fixture_int(&f, "sce_out");
    cfg.up = (int)scorr_fixture_int(&f, "up");
    double beta;
    CHECK_OK(scorr_h5_get_attr_f64(&f, "/", "beta", &beta));
    cfg.beta = (float)beta;
    cfg.learn_grid = scorr_h5_has(&f, "xgrid");
    struct built b;
    CHECK_OK(build(&b, &cfg));
    int B = cfg.batch, h = cfg.h, w = cfg.w, C = cfg.channels, G = h * cfg.up, L = h * w;
    size_t nfeat = (size_t)B * h * w * C, nflow = (size_t)B * G * G * 2, nc = (size_t)B * L * L;
    float *src_c = scorr_fixture_f32(&f, "src", NULL, NULL);
    float *trg_c = scorr_fixture_f32(&f, "trg", NULL, NULL);
    float *corr_ref = scorr_fixture_f32(&f, "corr", NULL, NULL);
    float *mnn_ref = scorr_fixture_f32(&f, "mnn", NULL, NULL);
    float *out_ref = scorr_fixture_f32(&f, "out", NULL, NULL);
    float *dout = scorr_fixture_f32(&f, "dout", NULL, NULL);
    float *dsrc_ref = scorr_fixture_f32(&f, "dsrc", NULL, NULL);
    float *dtrg_ref = scorr_fixture_f32(&f, "dtrg", NULL, NULL);
    size_t nw = 0;
    if (cfg.sce) {
        float *wt = scorr_fixture_f32(&f, "weight", NULL, NULL);
        float *bias = scorr_fixture_f32(&f, "bias", NULL, NULL);
        const struct scorr_param *pw = &b.table.p[scorr_params_find(&b.table, "SCEs.0.conv.weight")];
        const struct scorr_param *pb = &b.table.p[scorr_params_find(&b.table, "SCEs.0.conv.bias")];
        nw = pw->numel;
        memcpy(b.params + pw->offset, wt, pw->numel * sizeof(float));
        memcpy(b.params + pb->offset, bias, pb->numel * sizeof(float));
        free(wt), free(bias);
    }
    if (cfg.learn_grid) {
        /* the reference's x_normal / y_normal, trained away from linspace */
        float *xg = scorr_fixture_f32(&f, "xgrid", NULL, NULL);
        float *yg = scorr_fixture_f32(&f, "ygrid", NULL, NULL);
        const struct scorr_param *px = &b.table.p[scorr_params_find(&b.table, "x_normal")];
        const struct scorr_param *py = &b.table.p[scorr_params_find(&b.table, "y_normal")];
        CHECK(px->numel == (size_t)G && py->numel == (size_t)G, "grid sizes %zu, %zu, expected %d",
              px->numel, py->numel, G);
        memcpy(b.params + px->offset, xg, px->numel * sizeof(float));
        memcpy(b.params + py->offset, yg, py->numel * sizeof(float));
        free(xg), free(yg);
    }
    float *src = to_nhwc(src_c, B, C, h, w), *trg = to_nhwc(trg_c, B, C, h, w);
    float *flow = zeros(nflow);
    scorr_head_forward(&b.hd, b.params, src, trg, flow);
    printf("%s: B=%d h=%d w=%d C=%d sce=%d k=%d out=%d up=%d beta=%g learn_grid=%d\n", file, B, h,
           w, C, cfg.sce, cfg.sce_kernel, cfg.sce_out, cfg.up, beta, cfg.learn_grid);
    float *ct = transpose_batched(b.hd.corr, B, L, L), *mt = transpose_batched(b.hd.mnn, B, L, L);
    double du = 30 * U32; /* per-element relative difference before the soft-argmax */
    check_report("chain corr", ct, corr_ref, nc, du * maxabs(corr_ref, nc), 1e-5);
    check_report("chain mnn", mt, mnn_ref, nc, du * maxabs(mnn_ref, nc), 1e-5);
    double eps_p = 42 * U32 * maxabs(mnn_ref, nc) / beta;
    printf("  eps_p = %.3g\n", eps_p);
    float *fl = to_nchw(flow, B, 2, G, G);
    check_report("chain flow", fl, out_ref, nflow, (G - 1) * eps_p + 4 * G * U32, 1e-6);

    float *g = to_nhwc(dout, B, 2, G, G), *dsrc = zeros(nfeat), *dtrg = zeros(nfeat);
    scorr_head_backward(&b.hd, b.params, b.grads, src, trg, g, dsrc, dtrg);
    float *a1 = to_nchw(dsrc, B, C, h, w), *a2 = to_nchw(dtrg, B, C, h, w);
    check_report("chain dsrc", a1, dsrc_ref, nfeat, 4 * eps_p * maxabs(dsrc_ref, nfeat), 1e-4);
    check_report("chain dtrg", a2, dtrg_ref, nfeat, 4 * eps_p * maxabs(dtrg_ref, nfeat), 1e-4);
    if (cfg.learn_grid) {
        /* bound of test_softargmax.c: eps_p times sum_T |dg_T|, plus the float
         * sum over the B*G*G targets */
        float *dxg_ref = scorr_fixture_f32(&f, "dxgrid", NULL, NULL);
        float *dyg_ref = scorr_fixture_f32(&f, "dygrid", NULL, NULL);
        double sx = 0.0, sy = 0.0;
        for (size_t i = 0; i < nflow; i += 2) {
            sx += fabs((double)g[i]) * (G - 1) / 2.0;
            sy += fabs((double)g[i + 1]) * (G - 1) / 2.0;
        }
        double tol = 2 * eps_p + (double)(nflow / 2) * U32;
        check_report("chain dx_normal", b.grads + b.table.p[b.hd.p_xgrid].offset, dxg_ref,
                     (size_t)G, tol * sx, 1e-5);
        check_report("chain dy_normal", b.grads + b.table.p[b.hd.p_ygrid].offset, dyg_ref,
                     (size_t)G, tol * sy, 1e-5);
        if (!cfg.sce) {
            /* no SCE, no input gradients: the grid's gradient alone */
            float *g0 = copy_of(b.grads, b.table.total);
            memset(b.grads, 0, b.table.total * sizeof(float));
            scorr_head_backward(&b.hd, b.params, b.grads, src, trg, g, NULL, NULL);
            CHECK(memcmp(g0, b.grads, b.table.total * sizeof(float)) == 0,
                  "grid gradients differ with dsrc = dtrg = NULL and no SCE");
            free(g0);
        }
        free(dxg_ref), free(dyg_ref);
    }
    if (cfg.sce) {
        float *dw_ref = scorr_fixture_f32(&f, "dweight", NULL, NULL);
        float *db_ref = scorr_fixture_f32(&f, "dbias", NULL, NULL);
        const struct scorr_param *pw = &b.table.p[b.hd.p_weight], *pb = &b.table.p[b.hd.p_bias];
        check_report("chain dweight", b.grads + pw->offset, dw_ref, nw,
                     4 * eps_p * maxabs(dw_ref, nw), 1e-4);
        check_report("chain dbias", b.grads + pb->offset, db_ref, pb->numel,
                     4 * eps_p * maxabs(db_ref, pb->numel), 1e-4);
        /* NULL input gradients (frozen backbone): same parameter gradients */
        float *g1 = copy_of(b.grads, b.table.total);
        memset(b.grads, 0, b.table.total * sizeof(float));
        scorr_head_backward(&b.hd, b.params, b.grads, src, trg, g, NULL, NULL);
        CHECK(memcmp(g1, b.grads, b.table.total * sizeof(float)) == 0,
              "parameter gradients differ with dsrc = dtrg = NULL");
        /* backward adds */
        scorr_head_backward(&b.hd, b.params, b.grads, src, trg, g, NULL, NULL);
        int bad = 0;
        for (size_t i = 0; i < b.table.total; i++)
            bad += fabsf(b.grads[i] - 2.0f * g1[i]) > 1e-5f * (1.0f + fabsf(g1[i]));
        CHECK(bad == 0, "a second backward must add (%d elements)", bad);
        free(g1), free(dw_ref), free(db_ref);
    }
    free(src_c), free(trg_c), free(corr_ref), free(mnn_ref), free(out_ref), free(dout);
    free(dsrc_ref), free(dtrg_ref), free(src), free(trg), free(flow), free(ct), free(mt), free(fl);
    free(g), free(dsrc), free(dtrg), free(a1), free(a2);
    unbuild(&b);
    scorr_h5_close(&f);
}

/* ---- finite differences through the whole head ------------------------------ */

struct fdctx {
    struct built b;
    float *src, *trg, *dout, *flow;
    size_t nflow;
};

static double fd_loss(void *p)
{
    struct fdctx *c = p;
    scorr_head_forward(&c->b.hd, c->b.params, c->src, c->trg, c->flow);
    return dot_d(c->flow, c->dout, c->nflow);
}

/* kinks: SCE ReLU pattern and MNN argmaxes */
static uint64_t fd_state(void *p)
{
    struct fdctx *c = p;
    const struct scorr_head *hd = &c->b.hd;
    uint64_t hsh = 1469598103934665603ull;
    size_t ny = hd->m * (size_t)hd->dim, l = (size_t)hd->cfg.batch * hd->cfg.h * hd->cfg.w;
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; hd->cfg.sce && i < ny; i++)
            hsh = (hsh ^ (hd->sce_y[side][i] > 0.0f)) * 1099511628211ull;
    for (size_t i = 0; i < l; i++) {
        hsh = (hsh ^ (uint64_t)hd->sarg[i]) * 1099511628211ull;
        hsh = (hsh ^ (uint64_t)hd->targ[i]) * 1099511628211ull;
    }
    return hsh;
}

static void finite_differences(int sce)
{
    struct fdctx c;
    struct scorr_head_config cfg = {.batch = 2, .h = 3, .w = 3, .channels = 6, .sce = sce,
                                    .sce_kernel = 3, .sce_out = 5, .up = 2, .beta = 0.5f};
    CHECK_OK(build(&c.b, &cfg));
    scorr_params_initialise(&c.b.table, c.b.params, 1234);
    /* shift the SCE bias up so few units sit near the ReLU kink: a weight
     * perturbation moves every position's pre-activation at once */
    if (sce)
        for (size_t i = 0; i < c.b.table.p[c.b.hd.p_bias].numel; i++)
            c.b.params[c.b.table.p[c.b.hd.p_bias].offset + i] += 0.5f;
    struct scorr_rng r;
    scorr_rng_init(&r, 41, SCORR_RNG_TEST, (uint32_t)sce, 0, 0);
    size_t nfeat = (size_t)cfg.batch * cfg.h * cfg.w * cfg.channels;
    c.nflow = (size_t)cfg.batch * cfg.h * cfg.up * cfg.w * cfg.up * 2;
    c.src = randn(&r, nfeat, 1.0f);
    /* the target is a noisy copy of the source, so each MNN maximum sits at the
     * matching position with a margin and weight perturbations (which move
     * every correlation at once) rarely switch an argmax */
    c.trg = randn(&r, nfeat, 0.3f);
    for (size_t i = 0; i < nfeat; i++) c.trg[i] += c.src[i];
    c.dout = randn(&r, c.nflow, 1.0f);
    c.flow = zeros(c.nflow);
    fd_loss(&c);
    float *dsrc = zeros(nfeat), *dtrg = zeros(nfeat);
    scorr_head_backward(&c.b.hd, c.b.params, c.b.grads, c.src, c.trg, c.dout, dsrc, dtrg);
    /* beta = 0.5 keeps the chain smooth at step 1e-2 (see test_softargmax.c) */
    const char *tag = sce ? "head fd (sce)" : "head fd (no sce)";
    char what[64];
    snprintf(what, sizeof what, "%s dsrc", tag);
    CHECK(fd_check(what, c.src, nfeat, dsrc, fd_loss, fd_state, &c, 30, 1e-2f, 3e-3, 2e-2, 1) == 0,
          "%s", what);
    snprintf(what, sizeof what, "%s dtrg", tag);
    CHECK(fd_check(what, c.trg, nfeat, dtrg, fd_loss, fd_state, &c, 30, 1e-2f, 3e-3, 2e-2, 2) == 0,
          "%s", what);
    if (sce) {
        const struct scorr_param *pw = &c.b.table.p[c.b.hd.p_weight], *pb = &c.b.table.p[c.b.hd.p_bias];
        CHECK(fd_check("head fd dweight", c.b.params + pw->offset, pw->numel, c.b.grads + pw->offset,
                       fd_loss, fd_state, &c, 30, 5e-3f, 3e-3, 2e-2, 3) == 0, "dweight");
        CHECK(fd_check("head fd dbias", c.b.params + pb->offset, pb->numel, c.b.grads + pb->offset,
                       fd_loss, fd_state, &c, 5, 5e-3f, 3e-3, 2e-2, 4) == 0, "dbias");
    }
    free(c.src), free(c.trg), free(c.dout), free(c.flow), free(dsrc), free(dtrg);
    unbuild(&c.b);
}

/* ---- parameter table and config errors ------------------------------------- */

static void table_and_errors(void)
{
    struct scorr_head_config cfg;
    scorr_head_config_default(&cfg);
    cfg.channels = 32;
    cfg.sce_out = 16;
    cfg.h = cfg.w = 4;
    struct built b;
    CHECK_OK(build(&b, &cfg));
    int iw = scorr_params_find(&b.table, "SCEs.0.conv.weight");
    int ib = scorr_params_find(&b.table, "SCEs.0.conv.bias");
    CHECK(iw >= 0 && ib >= 0 && b.table.n == 2, "table must hold exactly the SCE conv");
    if (iw >= 0 && ib >= 0) {
        const struct scorr_param *pw = &b.table.p[iw], *pb = &b.table.p[ib];
        CHECK(pw->ndim == 4 && pw->shape[0] == 16 && pw->shape[1] == 32 + 28 && pw->shape[2] == 1 &&
                  pw->shape[3] == 1,
              "weight shape (%lld, %lld, %lld, %lld)", (long long)pw->shape[0],
              (long long)pw->shape[1], (long long)pw->shape[2], (long long)pw->shape[3]);
        CHECK(pb->ndim == 1 && pb->shape[0] == 16, "bias shape");
        CHECK(pw->group == SCORR_GROUP_HEAD && pb->group == SCORR_GROUP_HEAD, "group");
        CHECK(pw->init == SCORR_INIT_TORCH_CONV_WEIGHT && pb->init == SCORR_INIT_TORCH_CONV_BIAS,
              "init");
        CHECK(pw->fan_in == 60 && pb->fan_in == 60, "fan_in %lld / %lld, expected 60",
              (long long)pw->fan_in, (long long)pb->fan_in);
        scorr_params_initialise(&b.table, b.params, 7);
        float bound = 1.0f / sqrtf(60.0f), mb = 0.0f;
        for (size_t i = 0; i < pb->numel; i++) mb = fmaxf(mb, fabsf(b.params[pb->offset + i]));
        CHECK(mb <= bound && mb > 0.5f * bound, "bias init max %g, bound %g", (double)mb,
              (double)bound);
    }
    /* a second head (a peer network) binds to the same entries ... */
    struct scorr_head h2;
    CHECK_OK(scorr_head_build(&h2, &cfg, &b.table));
    CHECK(b.table.n == 2 && h2.off_weight == b.hd.off_weight && h2.off_bias == b.hd.off_bias,
          "second head must bind to the existing entries");
    /* ... unless the shapes differ */
    struct scorr_head_config c3 = cfg;
    c3.sce_kernel = 5;
    CHECK(scorr_head_build(&h2, &c3, &b.table) == SCORR_EINVAL &&
              strstr(scorr_error_message(), "SCEs.0.conv.weight"),
          "a shape mismatch must name the tensor: '%s'", scorr_error_message());
    scorr_error_clear();
    unbuild(&b);

    /* each bad value must name its key */
    const char *keys[5] = {"sce_kernel", "beta", "'up'", "'batch'", "sce_out"};
    for (int i = 0; i < 5; i++) {
        struct scorr_head_config c2;
        scorr_head_config_default(&c2);
        if (i == 0) c2.sce_kernel = 4;
        if (i == 1) c2.beta = 0.0f;
        if (i == 2) c2.up = 0;
        if (i == 3) c2.batch = 0;
        if (i == 4) c2.sce_out = -1;
        struct scorr_params t;
        struct scorr_head hd;
        scorr_params_init(&t);
        int rc = scorr_head_build(&hd, &c2, &t);
        CHECK(rc == SCORR_EINVAL && strstr(scorr_error_message(), keys[i]),
              "bad %s: rc %d, message '%s'", keys[i], rc, scorr_error_message());
        CHECK(t.n == 0, "a failed build must not add parameters");
        scorr_params_free(&t);
        scorr_error_clear();
    }
    /* inference only: a smaller arena, the same flow */
    {
        struct scorr_head_config ci = {.batch = 2, .h = 4, .w = 3, .channels = 12, .sce = 1,
                                       .sce_kernel = 3, .sce_out = 10, .up = 3, .beta = 0.05f};
        struct built full, inf;
        CHECK_OK(build(&full, &ci));
        ci.inference_only = 1;
        CHECK_OK(build(&inf, &ci));
        CHECK(inf.arena.size < full.arena.size, "inference arena %zu not smaller than %zu",
              inf.arena.size, full.arena.size);
        scorr_params_initialise(&full.table, full.params, 3);
        memcpy(inf.params, full.params, full.table.total * sizeof(float));
        struct scorr_rng r;
        scorr_rng_init(&r, 43, SCORR_RNG_TEST, 0, 0, 0);
        size_t nfeat = 2 * 4 * 3 * 12, nflow = 2 * 12 * 9 * 2;
        float *x = randn(&r, nfeat, 1.0f), *y = randn(&r, nfeat, 1.0f);
        float *f1 = zeros(nflow), *f2 = zeros(nflow);
        scorr_head_forward(&full.hd, full.params, x, y, f1);
        scorr_head_forward(&inf.hd, inf.params, x, y, f2);
        CHECK(memcmp(f1, f2, nflow * sizeof(float)) == 0, "inference-only flow differs");
        free(x), free(y), free(f1), free(f2);
        unbuild(&full);
        unbuild(&inf);
    }
    /* a learned grid: x_normal (G_x) and y_normal (G_y), head group, trained,
     * initialised to linspace; a peer head binds to them */
    {
        struct scorr_head_config cg = {.batch = 1, .h = 2, .w = 3, .channels = 4, .sce = 1,
                                       .sce_kernel = 3, .sce_out = 4, .up = 4, .beta = 0.02f,
                                       .learn_grid = 1};
        struct built bg;
        CHECK_OK(build(&bg, &cg));
        int ix = scorr_params_find(&bg.table, "x_normal"), iy = scorr_params_find(&bg.table, "y_normal");
        CHECK(bg.table.n == 4 && ix >= 0 && iy >= 0, "learn_grid: table must add x_normal, y_normal");
        if (ix >= 0 && iy >= 0) {
            const struct scorr_param *px = &bg.table.p[ix], *py = &bg.table.p[iy];
            CHECK(px->ndim == 1 && px->shape[0] == 12 && py->ndim == 1 && py->shape[0] == 8,
                  "grid shapes (%lld), (%lld), expected (12), (8)", (long long)px->shape[0],
                  (long long)py->shape[0]);
            CHECK(px->group == SCORR_GROUP_HEAD && py->group == SCORR_GROUP_HEAD &&
                      px->kind == SCORR_PARAM_WEIGHT && px->trainable && py->trainable,
                  "grid: head group, trained");
            scorr_params_initialise(&bg.table, bg.params, 5);
            float lin[12];
            scorr_softargmax_linspace(lin, 12);
            CHECK(memcmp(bg.params + px->offset, lin, sizeof lin) == 0 &&
                      bg.params[px->offset] == -1.0f && bg.params[px->offset + 11] == 1.0f &&
                      bg.params[py->offset + 7] == 1.0f,
                  "grid init must be linspace(-1, 1)");
            struct scorr_head hg;
            CHECK_OK(scorr_head_build(&hg, &cg, &bg.table));
            CHECK(bg.table.n == 4 && hg.off_xgrid == bg.hd.off_xgrid &&
                      hg.off_ygrid == bg.hd.off_ygrid,
                  "a second head must bind to the existing grid entries");
            struct scorr_head_config c4 = cg;
            c4.up = 2;
            c4.sce_out = 4;
            CHECK(scorr_head_build(&hg, &c4, &bg.table) == SCORR_EINVAL &&
                      strstr(scorr_error_message(), "x_normal"),
                  "a grid size mismatch must name the tensor: '%s'", scorr_error_message());
            scorr_error_clear();
        }
        unbuild(&bg);
    }
    /* SCE off: no parameters */
    scorr_head_config_default(&cfg);
    cfg.sce = 0;
    cfg.h = cfg.w = 2;
    cfg.channels = 8;
    struct built b3;
    CHECK_OK(build(&b3, &cfg));
    CHECK(b3.table.n == 0 && b3.hd.dim == 8, "SCE off: no parameters, dim = C");
    unbuild(&b3);
}

int main(void)
{
    chain_fixture("head_chain.h5");
    chain_fixture("head_chain_nosce.h5");
    chain_fixture("head_chain_grid.h5");
    chain_fixture("head_chain_grid_nosce.h5");
    finite_differences(1);
    finite_differences(0);
    table_and_errors();
    return scorr_test_finish("test_head_module");
}
