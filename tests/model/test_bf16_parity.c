/* bf16 convolutions against fp32: forward and gradients of a small ResNet
 * block and of the whole small model (model.precision: bf16). The policy
 * forces oneDNN's bf16 kernels, so the test runs on any CPU (native,
 * emulated or reference kernels: the same arithmetic), and checks that the
 * bf16 model really computed in bf16.
 *
 * Tolerance. bf16 keeps 8 significant bits: one rounding to bf16 changes a
 * value by a relative u = 2^-8 at most (2^-9 for round-to-nearest; 2^-8
 * covers any rounding mode). A bf16 convolution rounds both factors of every
 * product and accumulates in fp32 (whose own error, n 2^-24, is below 1 % of
 * that here), so a product carries a relative error of at most 2u + u^2 and
 * a conv's output is off by at most about 2u of the sum of |products|.
 *
 * Forward (bound): for inputs of random sign the rounding errors grow with
 * the sum like its terms, so normwise a conv adds at most 2u of its output's
 * norm; along c convs (frozen batch norm is a fixed affine map, ReLU and the
 * residual add are 1-Lipschitz) the errors add to first order:
 *     ||y_bf16 - y|| <= 2u c ||y||,   c = convs on the longest path.
 *
 * Gradients (estimate with a factor 2): the backward is linear except at the
 * ReLUs, where an input error flips the mask of the elements near zero, and
 * each flip changes that gradient element by the whole upstream gradient.
 * The rounding of one product is uniform within +-u/2 per factor, standard
 * deviation s = u / sqrt(6) for the two; independent errors add in
 * quadrature, so after k convs a tensor is off by e_k = s sqrt(k) normwise.
 * A ReLU whose (about normal) input is off by e flips a fraction 2 phi(0) e =
 * 0.8 e of its elements, a normwise gradient error of sqrt(0.8 e); the ReLUs
 * of the path (one after each of c convs) add these in quadrature, and the
 * linear part adds s sqrt(c + 1):
 *     T_grad = 2 (s sqrt(c + 1) + sqrt(0.8 sum_{k=1..c} e_k)).
 * (A bound on the flips would be useless for a deep ReLU net: with 2u per
 * conv instead of s it reaches 1 for the 18-GEMM model.)
 * c = 3 in the Bottleneck (T_fwd 0.023, T_grad 0.15); in the model 18: the
 * ResNet-18 backbone (stem + 8 blocks of 2) and the SCE's 1x1 conv on the
 * raw feature, which also runs in bf16 (test_bf16_head checks it alone),
 * with its ReLU as the 18th flip term (T_fwd 0.14, T_grad 0.53).
 * The rest of the head is fp32, but its soft-argmax divides correlation
 * differences by the temperature beta, which multiplies feature errors by up
 * to 1 / beta: the whole-model check runs at beta = 1 (the paper's beta =
 * 0.02 only scales the errors by a condition number that is a property of
 * the model, not of bf16; test_bf16_head measures the head at 0.02).
 *
 * Each check must also see a difference (bf16 ran) and must fail for an
 * fp32 result whose weights were changed by 4T (the tolerance separates). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/conv.h"
#include "scorr/model.h"
#include "scorr/resblock.h"
#include "scorr/rng.h"

#define U 0.00390625 /* 2^-8 */

/* forward bound and gradient estimate (the header's derivation); relus:
 * flip terms, the last ones at depth c */
static double t_fwd(int c) { return 2 * U * c; }
static double t_grad(int c, int relus)
{
    const double s = U / sqrt(6.0);
    double flips = 0;
    for (int k = 1; k <= relus; k++) flips += s * sqrt((double)(k < c ? k : c));
    return 2 * (s * sqrt(c + 1.0) + sqrt(0.8 * flips));
}

static float *floats(size_t n)
{
    float *p = scorr_aligned_calloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void randn(float *x, size_t n, uint64_t seed)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_TEST, 0, 0, 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)scorr_rng_normal(&r);
}

static void check_rel(const char *what, const float *got, const float *ref, size_t n, double tol,
                      double *worst)
{
    const double e = scorr_rel_err(got, ref, n);
    CHECK(e <= tol, "%s: ||bf16 - fp32|| / ||fp32|| = %.3e > %.3e", what, e, tol);
    CHECK(e > 0, "%s: bf16 equals fp32 bit for bit: bf16 did not run", what);
    if (e > *worst) *worst = e;
}

static void set_force(int on)
{
    struct scorr_conv_policy p;
    scorr_conv2d_get_policy(&p);
    p.bf16_force = on;
    scorr_conv2d_set_policy(&p);
}

/* ---- one Bottleneck block (stride 2, downsample) ------------------------ */
struct rig {
    struct scorr_params t;
    struct scorr_resblock b;
    struct scorr_arena arena;
    float *params, *grads;
    void *scr;
};

static void rig_init(struct rig *r, const struct scorr_resblock_config *cfg)
{
    scorr_params_init(&r->t);
    CHECK_OK(scorr_resblock_build(&r->b, cfg, &r->t, ""));
    struct scorr_arena plan;
    scorr_arena_plan(&plan);
    scorr_resblock_alloc(&r->b, &plan);
    CHECK_OK(scorr_arena_init(&r->arena, plan.peak + 64, "block"));
    scorr_resblock_alloc(&r->b, &r->arena);
    r->params = floats(r->t.total);
    r->grads = floats(r->t.total);
    r->scr = scorr_aligned_calloc(r->b.scratch);
    scorr_params_initialise(&r->t, r->params, 5);
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

static void run_block(struct rig *r, float *out, float *dx, const float *x, const float *dout)
{
    memset(r->grads, 0, r->t.total * sizeof(float));
    scorr_resblock_forward(&r->b, out, x, r->params, SCORR_BN_FROZEN, r->scr);
    scorr_resblock_backward(&r->b, dx, r->grads, dout, x, out, r->params, SCORR_GRAD_SET, r->scr);
}

static void block(void)
{
    struct scorr_resblock_config cfg = {.bottleneck = 1, .n = 2, .h = 12, .w = 12,
                                        .inplanes = 32, .planes = 16, .stride = 2,
                                        .downsample = 1, .relu_out = 1, .bn_groups = 1,
                                        .bn_mode = SCORR_BN_FROZEN, .grad = 1, .input_grad = 1};
    struct rig f, b;
    rig_init(&f, &cfg);
    cfg.prec = SCORR_PREC_BF16;
    set_force(1);
    rig_init(&b, &cfg);
    set_force(0);
    CHECK(b.b.u[1].conv.s.prec == SCORR_PREC_BF16 &&
              strstr(scorr_conv2d_impl_name(&b.b.u[1].conv, 0), "[bf16]"),
          "the bf16 block runs %s", scorr_conv2d_impl_name(&b.b.u[1].conv, 0));
    const size_t nx = (size_t)cfg.n * cfg.h * cfg.w * cfg.inplanes;
    const size_t no = (size_t)cfg.n * b.b.ho * b.b.wo * b.b.cout;
    float *x = floats(nx), *dout = floats(no);
    float *of = floats(no), *ob = floats(no), *dxf = floats(nx), *dxb = floats(nx);
    randn(x, nx, 11);
    randn(dout, no, 12);
    run_block(&f, of, dxf, x, dout);
    run_block(&b, ob, dxb, x, dout);
    const double tf = t_fwd(3), tg = t_grad(3, 3); /* c = 3 convs, 3 ReLUs */
    double worst_f = 0, worst_g = 0;
    check_rel("block output", ob, of, no, tf, &worst_f);
    check_rel("block input gradient", dxb, dxf, nx, tg, &worst_g);
    for (int i = 0; i < f.t.n; i++) {
        const struct scorr_param *e = &f.t.p[i];
        if (e->kind != SCORR_PARAM_WEIGHT) continue;
        char what[160];
        snprintf(what, sizeof what, "block gradient %s", e->name);
        check_rel(what, b.grads + e->offset, f.grads + e->offset, e->numel, tg, &worst_g);
    }
    printf("block: worst relative error forward %.2e (T = %.2e), gradients %.2e (T = %.2e)\n",
           worst_f, tf, worst_g, tg);
    /* the tolerance separates: fp32 with every conv weight scaled by 1 + 4T */
    for (int i = 0; i < f.t.n; i++)
        if (f.t.p[i].ndim == 4)
            for (size_t k = 0; k < f.t.p[i].numel; k++)
                f.params[f.t.p[i].offset + k] *= (float)(1 + 4 * tf);
    run_block(&f, of, dxf, x, dout);
    CHECK(scorr_rel_err(ob, of, no) > tf, "changed weights pass the forward tolerance (%.3e)",
          scorr_rel_err(ob, of, no));
    scorr_aligned_free(x), scorr_aligned_free(dout), scorr_aligned_free(of);
    scorr_aligned_free(ob), scorr_aligned_free(dxf), scorr_aligned_free(dxb);
    rig_free(&f);
    rig_free(&b);
}

/* ---- the whole small model ---------------------------------------------- */
static void model(void)
{
    struct scorr_model_config c = {.depth = 18, .width = 8, .bn_batch = 0, .sce_enabled = 1,
                                   .sce_kernel = 3, .sce_channels = 16, .upsample = 4,
                                   .temperature = 1.0f, .image_size = 64, .batch = 2,
                                   .training = 1};
    struct scorr_model *mf = NULL, *mb = NULL;
    CHECK_OK(scorr_model_create(&c, 3, &mf));
    c.precision = SCORR_PREC_BF16;
    set_force(1);
    CHECK_OK(scorr_model_create(&c, 3, &mb));
    set_force(0);
    if (!mf || !mb) return;
    CHECK(scorr_model_precision(mb) == SCORR_PREC_BF16, "the bf16 model runs fp32");
    const struct scorr_params *t = scorr_model_params(mf);
    const size_t ni = (size_t)c.batch * c.image_size * c.image_size * 3;
    const int G = scorr_model_grid(mf);
    const size_t nflow = (size_t)c.batch * G * G * 2;
    float *src = floats(ni), *trg = floats(ni), *dflow = floats(nflow);
    float *ff = floats(nflow), *fb = floats(nflow);
    randn(src, ni, 21);
    randn(trg, ni, 22);
    randn(dflow, nflow, 23);
    memcpy(ff, scorr_model_forward(mf, src, trg), nflow * sizeof(float));
    memcpy(fb, scorr_model_forward(mb, src, trg), nflow * sizeof(float));
    scorr_model_zero_grad(mf);
    scorr_model_zero_grad(mb);
    scorr_model_backward(mf, dflow);
    scorr_model_backward(mb, dflow);
    const double tf = t_fwd(18), tg = t_grad(18, 18); /* 17 convs + the SCE, 18 ReLUs */
    double worst_f = 0, worst_g = 0;
    check_rel("model flow", fb, ff, nflow, tf, &worst_f);
    const float *gf = scorr_model_grads(mf), *gb = scorr_model_grads(mb);
    int ngrad = 0;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (e->kind != SCORR_PARAM_WEIGHT) continue;
        char what[160];
        snprintf(what, sizeof what, "model gradient %s", e->name);
        check_rel(what, gb + e->offset, gf + e->offset, e->numel, tg, &worst_g);
        ngrad++;
    }
    printf("model: worst relative error flow %.2e (T = %.2e), %d gradients %.2e (T = %.2e)\n",
           worst_f, tf, ngrad, worst_g, tg);
    /* a second step: the bf16 copies follow the weights (converted at every forward) */
    float *w = scorr_model_weights(mf), *wb = scorr_model_weights(mb);
    for (size_t k = 0; k < t->total; k++) w[k] = wb[k] = w[k] * 0.5f;
    memcpy(ff, scorr_model_forward(mf, src, trg), nflow * sizeof(float));
    memcpy(fb, scorr_model_forward(mb, src, trg), nflow * sizeof(float));
    check_rel("model flow after a weight change", fb, ff, nflow, tf, &worst_f);
    scorr_aligned_free(src), scorr_aligned_free(trg), scorr_aligned_free(dflow);
    scorr_aligned_free(ff), scorr_aligned_free(fb);
    scorr_model_free(mf);
    scorr_model_free(mb);
}

/* Without native bf16 (ctest runs this test again with DNNL_MAX_CPU_ISA =
 * AVX512_CORE: emulated, and AVX2: none) a bf16 request runs fp32 unless
 * forced. */
static void dispatch(void)
{
    const enum scorr_bf16_support s = scorr_bf16_support();
    const enum scorr_precision p = scorr_precision_resolve(SCORR_PREC_BF16);
    printf("dispatch: oneDNN bf16 %s -> a bf16 request runs %s\n", scorr_bf16_support_name(s),
           p == SCORR_PREC_BF16 ? "bf16" : "fp32");
    CHECK((p == SCORR_PREC_BF16) == (s == SCORR_BF16_NATIVE || s == SCORR_BF16_AMX),
          "bf16 support %d resolved to precision %d", (int)s, (int)p);
    CHECK(scorr_precision_resolve(SCORR_PREC_F32) == SCORR_PREC_F32, "fp32 stays fp32");
}

/* oneDNN 2.6 has no bf16 convolution without AVX-512 (not even a reference
 * one): there a bf16 request must give exactly the fp32 model. */
static void fallback_only(void)
{
    struct scorr_model_config c = {.depth = 18, .width = 8, .sce_enabled = 1, .sce_kernel = 3,
                                   .sce_channels = 16, .upsample = 4, .temperature = 1.0f,
                                   .image_size = 64, .batch = 1, .training = 1};
    struct scorr_model *mf = NULL, *mb = NULL;
    CHECK_OK(scorr_model_create(&c, 3, &mf));
    c.precision = SCORR_PREC_BF16;
    CHECK_OK(scorr_model_create(&c, 3, &mb));
    if (!mf || !mb) return;
    CHECK(scorr_model_precision(mb) == SCORR_PREC_F32, "bf16 ran without bf16 kernels");
    const size_t ni = (size_t)c.image_size * c.image_size * 3;
    const int G = scorr_model_grid(mf);
    const size_t nflow = (size_t)G * G * 2;
    float *src = floats(ni), *trg = floats(ni), *ff = floats(nflow);
    randn(src, ni, 21);
    randn(trg, ni, 22);
    memcpy(ff, scorr_model_forward(mf, src, trg), nflow * sizeof(float));
    CHECK(!memcmp(ff, scorr_model_forward(mb, src, trg), nflow * sizeof(float)),
          "the fp32 fallback differs from the fp32 model");
    printf("no oneDNN bf16 kernels on this CPU: parity not run; the fp32 fallback checked\n");
    scorr_aligned_free(src), scorr_aligned_free(trg), scorr_aligned_free(ff);
    scorr_model_free(mf);
    scorr_model_free(mb);
}

int main(void)
{
    dispatch();
    if (scorr_bf16_support() == SCORR_BF16_NONE) {
        fallback_only();
        return scorr_test_finish("test_bf16_parity");
    }
    block();
    model();
    return scorr_test_finish("test_bf16_parity");
}
