/* The head's GEMMs in bf16 against fp32 (model.precision: bf16): the SCE's
 * 1x1 conv on the raw feature (the correlation stays fp32: docs/
 * performance.md), forward and gradients, as an op and in the whole head at
 * the paper's temperature beta = 0.02. The conv policy forces oneDNN's bf16
 * kernels, so the parity runs wherever oneDNN has bf16 matmuls (native, or
 * emulated on AVX-512: the same arithmetic); ctest runs the test again with
 * DNNL_MAX_CPU_ISA = AVX512_CORE and AVX2. Without AVX-512 (no bf16 matmul)
 * it checks the dispatch's fp32 fallback: the fp32 head bit for bit.
 *
 * Tolerance of the op (a bound, element by element). bf16 keeps 8
 * significant bits: rounding to nearest even changes a value by a relative
 * u = 2^-9 at most. Both factors of every product are rounded, the product
 * of two bf16 values is exact in fp32 and is accumulated in fp32, as the fp32
 * reference's (error at most about n eps of the sum of |products| each, eps
 * = 2^-24, n terms). So an output element C_ij = sum_l A_il B_lj is off by
 *     T_ij = (2u + u^2 + 2 n eps) (|A| |B|)_ij
 * plus 2 n eps of the fp32 terms both runs share (the SCE's similarity
 * columns and bias; the L2-norm path of the input gradient). The test
 * computes |A||B| in double and checks every element; the worst |diff| / T
 * is printed (measured 0.4-0.7: the bound is tight, so a wrong operand,
 * transpose or a missing rounding fails it).
 *
 * The whole head at beta = 0.02. The soft-argmax divides the correlation by
 * beta, so the flow and the gradients are ill-conditioned in the features: a
 * bound from u through the head would be useless (the correlation's error
 * times 1/beta = 50 exceeds the spread of the logits). But the bf16 SCE
 * multiplies exactly the bf16-rounded input and weight: its forward IS the
 * fp32 head on those rounded values, up to the order of the fp32 sums. So the
 * test runs the fp32 head three times: on the data (reference), on the data
 * with the SCE input and raw-feature weight rounded to bf16 ("rounding
 * alone": the 8-bit mantissa's effect through this head, e_r, normwise
 * relative), and the bf16 head on the data (e = ||bf16 - fp32|| / ||fp32||):
 *   - e <= 2 e_r for the flow and every gradient (the mantissa's effect with
 *     a factor 2 for what the backward's rounding of the output gradient adds);
 *   - ||bf16 - fp32 on rounded|| <= e_r / 8 for the flow (the bf16 forward is
 *     the fp32 one on rounded values: only the summation order differs;
 *     measured e_r / 56) and <= e_r / 2 for the gradients (which also round
 *     the output gradient; measured e_r / 5 at worst).
 * Each check must see a difference (bf16 ran). Measured at beta 0.02: flow
 * 4.6e-3 relative (0.054 grid cells rms on a 24 x 24 grid), gradients 2-10 %
 * (their condition number at beta 0.02, the same for any 8-bit rounding of
 * the input). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/conv.h"
#include "scorr/head.h"
#include "scorr/matmul_bf16.h"
#include "scorr/rng.h"
#include "scorr/sce.h"

#define U 0.001953125              /* 2^-9: round to nearest to 8 significant bits */
#define EPS 5.9604644775390625e-08 /* 2^-24 */

static void *mem(size_t bytes)
{
    void *p = scorr_aligned_calloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}
static float *floats(size_t n) { return mem(n * sizeof(float)); }

static void randn(float *x, size_t n, uint64_t seed, float scale)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_TEST, 0, 0, 0);
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)scorr_rng_normal(&r);
}

/* dst = float32 of bf16(src) (round to nearest even) */
static void round_bf16(float *dst, const float *src, size_t n)
{
    uint16_t *h = mem(n * sizeof(uint16_t));
    scorr_bf16_round(h, src, n, 1, 1, 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)h[i] << 16;
        memcpy(&dst[i], &u, sizeof u);
    }
    scorr_aligned_free(h);
}

static void set_force(int on)
{
    struct scorr_conv_policy p;
    scorr_conv2d_get_policy(&p);
    p.bf16_force = on;
    scorr_conv2d_set_policy(&p);
}

/* |A| |B| for row-major op(A) (m, k), op(B) (k, n), in double: the bound's
 * scale. tr: 'N' / 'T' as in the GEMM. */
static double *abs_gemm(char ta, char tb, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb)
{
    double *c = mem((size_t)m * n * sizeof(double));
    for (int i = 0; i < m; i++)
        for (int l = 0; l < k; l++) {
            double x = fabs((double)(ta == 'N' ? a[(size_t)i * lda + l] : a[(size_t)l * lda + i]));
            if (x == 0) continue;
            for (int j = 0; j < n; j++)
                c[(size_t)i * n + j] +=
                    x * fabs((double)(tb == 'N' ? b[(size_t)l * ldb + j] : b[(size_t)j * ldb + l]));
        }
    return c;
}

/* Every element of got within (2u + u^2 + 2 n eps) scale + 2 n2 eps scale2
 * + slack of ref (scale, scale2 (m, n) row-major, scale2 may be NULL: fp32
 * terms both runs share; got and ref with row stride ld); returns the worst
 * |diff| / bound and fails the test above 1 or when nothing differs. */
static double check_bound(const char *what, const float *got, const float *ref, int m, int n,
                          int ld, const double *scale, int nterms, const double *scale2,
                          int nterms2, double slack)
{
    double worst = 0, any = 0;
    int wi = 0, wj = 0;
    const double f = 2 * U + U * U + 2 * nterms * EPS;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const double d = fabs((double)got[(size_t)i * ld + j] - ref[(size_t)i * ld + j]);
            double t = f * scale[(size_t)i * n + j] + slack;
            if (scale2) t += 2 * nterms2 * EPS * scale2[(size_t)i * n + j];
            any += d;
            if (d / t > worst) {
                worst = d / t;
                wi = i;
                wj = j;
            }
        }
    CHECK(worst <= 1.0, "%s: element (%d, %d) is off by %.3e, %.2f times its bound", what, wi,
          wj, fabs((double)got[(size_t)wi * ld + wj] - ref[(size_t)wi * ld + wj]), worst);
    CHECK(any > 0, "%s: bf16 equals fp32 bit for bit: bf16 did not run", what);
    printf("  %-28s worst |bf16 - fp32| / bound = %.3f\n", what, worst);
    return worst;
}

/* ---- the SCE op ---------------------------------------------------------- */
static void sce_op(void)
{
    const struct scorr_sce_shape s = {.n = 2, .h = 6, .w = 5, .c = 96, .k = 3, .out = 80,
                                      .nthreads = 1};
    const int m = s.n * s.h * s.w, c = s.c, ns = scorr_sce_nsim(&s), o = s.out, ldw = c + ns;
    struct scorr_sce_bf16 bf;
    CHECK_OK(scorr_sce_bf16_create(&bf, &s, 1));
    if (!bf.fwd) return;
    bf.w = mem((size_t)o * c * 2);
    bf.f = mem((size_t)m * c * 2);
    bf.dy = mem((size_t)m * o * 2);
    bf.pad = mem(scorr_sce_bf16_pad_bytes(&bf));
    float *x = floats((size_t)m * c), *wt = floats((size_t)o * ldw), *bias = floats(o);
    randn(x, (size_t)m * c, 1, 1.0f);
    randn(wt, (size_t)o * ldw, 2, 0.1f);
    randn(bias, o, 3, 0.1f);
    float *out[2], *sim = floats((size_t)m * ns), *nrm = floats((size_t)m * c), *den = floats(m);
    float *dx[2], *dw[2], *db[2], *g = floats((size_t)m * o), *dout = floats((size_t)m * o);
    float *scratch = floats(scorr_sce_scratch_floats(&s));
    randn(dout, (size_t)m * o, 4, 1.0f);
    for (int k = 0; k < 2; k++) {
        out[k] = floats((size_t)m * o);
        dx[k] = floats((size_t)m * c);
        dw[k] = floats((size_t)o * ldw);
        db[k] = floats(o);
    }
    /* k = 0 fp32, k = 1 bf16; the backward of both from the fp32 output (the
     * same ReLU mask) so each op's own error is measured */
    scorr_sce_bf16_prepare(&bf, wt, &s);
    for (int k = 0; k < 2; k++)
        scorr_sce_forward(out[k], sim, nrm, den, x, wt, bias, &s, k ? &bf : NULL);
    for (int k = 0; k < 2; k++) {
        memcpy(g, dout, (size_t)m * o * sizeof(float));
        scorr_sce_backward(dx[k], dw[k], db[k], g, out[0], sim, nrm, den, x, wt, &s, scratch,
                           k ? &bf : NULL);
    }
    /* out = relu(b + f W1^T + s W2^T): the bf16 part f W1^T; the fp32 part
     * and the bias enter the eps slack through |s||W2|^T + |b| */
    double *sc = abs_gemm('N', 'T', m, o, c, x, c, wt, ldw);
    double *sc2 = abs_gemm('N', 'T', m, o, ns, sim, ns, wt + c, ldw);
    for (size_t i = 0; i < (size_t)m * o; i++) sc2[i] += fabs(bias[i % o]) + sc[i];
    check_bound("SCE output", out[1], out[0], m, o, o, sc, c, sc2, ns + 1, 0);
    free(sc);
    free(sc2);
    /* dW[:, :C] += dy^T f, dy = dout masked by out > 0 */
    for (int i = 0; i < m * o; i++) g[i] = out[0][i] > 0 ? dout[i] : 0.0f;
    sc = abs_gemm('T', 'N', o, c, m, g, o, x, c);
    check_bound("SCE weight gradient", dw[1], dw[0], o, c, ldw, sc, m, NULL, 0, 0);
    free(sc);
    CHECK(!memcmp(db[0], db[1], (size_t)o * sizeof(float)), "SCE bias gradient: not fp32");
    /* df += dy W1 + (fp32 L2-norm path, shared): slack eps |df| */
    sc = abs_gemm('N', 'N', m, c, o, g, o, wt, ldw);
    double mx = 0;
    for (int i = 0; i < m * c; i++) mx = fabs(dx[0][i]) > mx ? fabs(dx[0][i]) : mx;
    check_bound("SCE input gradient", dx[1], dx[0], m, c, c, sc, o, NULL, 0, 4 * EPS * mx);
    free(sc);
    scorr_sce_bf16_free(&bf);
}

/* ---- the whole head ------------------------------------------------------ */
struct hrig {
    struct scorr_params t;
    struct scorr_head hd;
    struct scorr_arena arena;
    float *params, *grads, *flow, *dsrc, *dtrg;
};

static int hrig_init(struct hrig *r, const struct scorr_head_config *cfg)
{
    memset(r, 0, sizeof *r);
    scorr_params_init(&r->t);
    int err = scorr_head_build(&r->hd, cfg, &r->t);
    CHECK_OK(err);
    if (err) return err;
    struct scorr_arena plan;
    scorr_arena_plan(&plan);
    scorr_head_alloc(&r->hd, &plan);
    CHECK_OK(scorr_arena_init(&r->arena, plan.peak + 64, "head"));
    scorr_head_alloc(&r->hd, &r->arena);
    const size_t nf = (size_t)cfg->batch * cfg->h * cfg->w * cfg->channels;
    r->params = floats(r->t.total);
    r->grads = floats(r->t.total);
    r->flow = floats((size_t)cfg->batch * r->hd.gy * r->hd.gx * 2);
    r->dsrc = floats(nf);
    r->dtrg = floats(nf);
    scorr_params_initialise(&r->t, r->params, 7);
    return 0;
}

static void hrig_run(struct hrig *r, const float *src, const float *trg, const float *dflow)
{
    const struct scorr_head_config *c = &r->hd.cfg;
    const size_t nf = (size_t)c->batch * c->h * c->w * c->channels;
    memset(r->grads, 0, r->t.total * sizeof(float));
    memset(r->dsrc, 0, nf * sizeof(float));
    memset(r->dtrg, 0, nf * sizeof(float));
    scorr_head_forward(&r->hd, r->params, src, trg, r->flow);
    scorr_head_backward(&r->hd, r->params, r->grads, src, trg, dflow, r->dsrc, r->dtrg);
}

static void hrig_free(struct hrig *r)
{
    scorr_head_free(&r->hd);
    scorr_arena_free(&r->arena);
    scorr_aligned_free(r->params), scorr_aligned_free(r->grads), scorr_aligned_free(r->flow);
    scorr_aligned_free(r->dsrc), scorr_aligned_free(r->dtrg);
    scorr_params_free(&r->t);
}

static void head(void)
{
    struct scorr_head_config cfg;
    scorr_head_config_default(&cfg);
    cfg.batch = 2;
    cfg.h = cfg.w = 6;
    cfg.channels = 96;
    cfg.sce_kernel = 3;
    cfg.sce_out = 128;
    cfg.up = 4;
    struct hrig f, b;
    if (hrig_init(&f, &cfg)) return;
    cfg.prec = SCORR_PREC_BF16;
    if (hrig_init(&b, &cfg)) return;
    CHECK(b.hd.prec == SCORR_PREC_BF16 && b.hd.sce_bf16.fwd,
          "the bf16 head runs fp32");
    const size_t nf = (size_t)cfg.batch * cfg.h * cfg.w * cfg.channels;
    const size_t nflow = (size_t)cfg.batch * f.hd.gy * f.hd.gx * 2;
    float *src = floats(nf), *trg = floats(nf), *dflow = floats(nflow);
    randn(src, nf, 31, 1.0f);
    randn(trg, nf, 32, 1.0f);
    for (size_t i = 0; i < nf; i++) { /* backbone features are ReLU outputs */
        src[i] = fabsf(src[i]);
        trg[i] = fabsf(trg[i]);
    }
    randn(dflow, nflow, 33, 1.0f);
    /* fp32 on the bf16-rounded input and SCE weight: the products the bf16
     * head multiplies, exactly */
    struct hrig r;
    cfg.prec = SCORR_PREC_F32;
    if (hrig_init(&r, &cfg)) return;
    float *srcr = floats(nf), *trgr = floats(nf);
    round_bf16(srcr, src, nf);
    round_bf16(trgr, trg, nf);
    const struct scorr_param *pw = &r.t.p[r.hd.p_weight];
    const int ldw = cfg.channels + 4 * cfg.sce_kernel;
    for (int o = 0; o < cfg.sce_out; o++)
        round_bf16(r.params + pw->offset + (size_t)o * ldw, f.params + pw->offset + (size_t)o * ldw,
                   (size_t)cfg.channels);
    hrig_run(&f, src, trg, dflow);
    hrig_run(&b, src, trg, dflow);
    hrig_run(&r, srcr, trgr, dflow);
    const struct scorr_param *pb = &r.t.p[r.hd.p_bias];
    const size_t ow = pw->offset, ob = pb->offset;
    struct {
        const char *name;
        const float *b, *f, *r; /* bf16, fp32, fp32 on rounded values */
        size_t n;
    } t[] = {{"flow", b.flow, f.flow, r.flow, nflow},
             {"SCE weight gradient", b.grads + ow, f.grads + ow, r.grads + ow, pw->numel},
             {"SCE bias gradient", b.grads + ob, f.grads + ob, r.grads + ob, pb->numel},
             {"source gradient", b.dsrc, f.dsrc, r.dsrc, nf},
             {"target gradient", b.dtrg, f.dtrg, r.dtrg, nf}};
    for (int i = 0; i < 5; i++) {
        const double e_bf = scorr_rel_err(t[i].b, t[i].f, t[i].n); /* bf16 vs fp32 */
        const double e_rd = scorr_rel_err(t[i].r, t[i].f, t[i].n); /* rounding's effect */
        const double e_eq = scorr_rel_err(t[i].b, t[i].r, t[i].n); /* bf16 vs fp32 on rounded */
        printf("  head %-20s bf16 - fp32 %.2e (T = %.2e) | rounding alone %.2e | bf16 - fp32 on "
               "rounded %.2e (T = %.2e)\n",
               t[i].name, e_bf, 2 * e_rd, e_rd, e_eq, e_rd / (i ? 2 : 8));
        CHECK(e_bf > 0, "head %s: bf16 equals fp32 bit for bit: bf16 did not run", t[i].name);
        CHECK(e_bf <= 2 * e_rd, "head %s: ||bf16 - fp32|| / ||fp32|| = %.3e > 2 x %.3e (the effect "
              "of rounding the input and weight to bf16)", t[i].name, e_bf, e_rd);
        CHECK(e_eq <= e_rd / (i ? 2 : 8), "head %s: bf16 is %.3e from fp32 on the rounded values, "
              "more than 1/%d of the rounding's effect %.3e", t[i].name, e_eq, i ? 2 : 8, e_rd);
    }
    double d2 = 0;
    for (size_t i = 0; i < nflow; i++)
        d2 += ((double)b.flow[i] - f.flow[i]) * ((double)b.flow[i] - f.flow[i]);
    printf("  head flow: rms difference %.3e grid cells (grid %d x %d, beta %.2f)\n",
           sqrt(d2 / (double)(nflow / 2)), f.hd.gy, f.hd.gx, (double)cfg.beta);
    scorr_aligned_free(srcr), scorr_aligned_free(trgr);
    hrig_free(&r);
    scorr_aligned_free(src), scorr_aligned_free(trg), scorr_aligned_free(dflow);
    hrig_free(&f);
    hrig_free(&b);
}

/* Without forcing, a bf16 head runs bf16 only where the CPU has native bf16
 * (as the convolutions); where it falls back, it is the fp32 head bit for bit. */
static void fallback(void)
{
    struct scorr_head_config cfg;
    scorr_head_config_default(&cfg);
    cfg.batch = 1;
    cfg.h = cfg.w = 4;
    cfg.channels = 32;
    cfg.sce_kernel = 3;
    cfg.sce_out = 48;
    struct hrig f, b;
    if (hrig_init(&f, &cfg)) return;
    cfg.prec = SCORR_PREC_BF16;
    if (hrig_init(&b, &cfg)) return;
    const enum scorr_bf16_support sup = scorr_bf16_support();
    const int native = sup == SCORR_BF16_NATIVE || sup == SCORR_BF16_AMX;
    CHECK((b.hd.prec == SCORR_PREC_BF16) == native && !b.hd.sce_bf16.fwd == !native,
          "oneDNN bf16 %s: a bf16 head runs %s", scorr_bf16_support_name(sup),
          b.hd.prec == SCORR_PREC_BF16 ? "bf16" : "fp32");
    printf("dispatch: oneDNN bf16 %s -> a bf16 head runs %s\n", scorr_bf16_support_name(sup),
           b.hd.prec == SCORR_PREC_BF16 ? "bf16" : "fp32");
    if (!native) {
        const size_t nf = (size_t)cfg.batch * cfg.h * cfg.w * cfg.channels;
        const size_t nflow = (size_t)cfg.batch * f.hd.gy * f.hd.gx * 2;
        float *src = floats(nf), *trg = floats(nf), *dflow = floats(nflow);
        randn(src, nf, 41, 1.0f);
        randn(trg, nf, 42, 1.0f);
        randn(dflow, nflow, 43, 1.0f);
        hrig_run(&f, src, trg, dflow);
        hrig_run(&b, src, trg, dflow);
        CHECK(!memcmp(f.flow, b.flow, nflow * sizeof(float)) &&
                  !memcmp(f.grads, b.grads, f.t.total * sizeof(float)) &&
                  !memcmp(f.dsrc, b.dsrc, nf * sizeof(float)) &&
                  !memcmp(f.dtrg, b.dtrg, nf * sizeof(float)),
              "the fp32 fallback of a bf16 head differs from the fp32 head");
        scorr_aligned_free(src), scorr_aligned_free(trg), scorr_aligned_free(dflow);
    }
    hrig_free(&f);
    hrig_free(&b);
}

int main(void)
{
    fallback();
    if (scorr_bf16_support() == SCORR_BF16_NONE) {
        printf("no oneDNN bf16 matmul on this CPU: parity not run; the fp32 fallback checked\n");
        return scorr_test_finish("test_bf16_head");
    }
    set_force(1);
    sce_op();
    head();
    set_force(0);
    return scorr_test_finish("test_bf16_head");
}
