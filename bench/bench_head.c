/* Speed of the correspondence head, forward + backward, with a stage
 * breakdown. Compare with tools/bench/head_torch.py at the same thread count:
 *
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 build/bench/bench_head
 *   OMP_NUM_THREADS=1 /usr/bin/python3 tools/bench/head_torch.py --threads 1
 *
 * Options: --batch B --size h --channels C --sce-out O --kernel k --up u
 *          --no-sce --iters n */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/cpu.h"
#include "scorr/error.h"
#include "scorr/head.h"
#include "scorr/l2norm.h"
#include "scorr/log.h"
#include "scorr/rng.h"

static float *randn_buf(size_t n, uint32_t stream)
{
    float *x = scorr_aligned_calloc(n * sizeof *x);
    struct scorr_rng r;
    scorr_rng_init(&r, 1, SCORR_RNG_TEST, stream, 0, 0);
    for (size_t i = 0; i < n && x; i++) x[i] = scorr_rng_normal(&r);
    return x;
}

/* The unfused, materialising forward of upsampling + soft-argmax in float,
 * as PyTorch runs it (interpolate source axes, then target axes, then the
 * softmax over a stored (G*G) x (G*G) matrix per pair), for the speed ratio.
 * corr (B, Lt, Ls); cup (G*G, G*G) and a (Lt, G*G) are caller scratch. */
static void unfused_forward(float *flow, const float *corr, float *cup, float *a, int b, int h,
                            int w, int up, float beta, const struct scorr_interp_tap *ty,
                            const struct scorr_interp_tap *tx)
{
    int gy = h * up, gx = w * up, gg = gy * gx, ls = h * w;
    for (int p = 0; p < b; p++) {
        const float *cb = corr + (size_t)p * ls * ls;
        for (int t = 0; t < ls; t++)
            for (int S = 0; S < gg; S++) {
                const struct scorr_interp_tap *y = &ty[S / gx], *x = &tx[S % gx];
                const float *m = cb + (size_t)t * ls;
                a[(size_t)t * gg + S] = y->l0 * (x->l0 * m[y->i0 * w + x->i0] + x->l1 * m[y->i0 * w + x->i1]) +
                                        y->l1 * (x->l0 * m[y->i1 * w + x->i0] + x->l1 * m[y->i1 * w + x->i1]);
            }
        for (int T = 0; T < gg; T++) {
            const struct scorr_interp_tap *y = &ty[T / gx], *x = &tx[T % gx];
            const float *r00 = a + (size_t)(y->i0 * w + x->i0) * gg, *r01 = a + (size_t)(y->i0 * w + x->i1) * gg;
            const float *r10 = a + (size_t)(y->i1 * w + x->i0) * gg, *r11 = a + (size_t)(y->i1 * w + x->i1) * gg;
            float *row = cup + (size_t)T * gg;
            for (int S = 0; S < gg; S++)
                row[S] = y->l0 * (x->l0 * r00[S] + x->l1 * r01[S]) + y->l1 * (x->l0 * r10[S] + x->l1 * r11[S]);
        }
        for (int T = 0; T < gg; T++) {
            float *row = cup + (size_t)T * gg, m = row[0];
            for (int S = 1; S < gg; S++) m = row[S] > m ? row[S] : m;
            double sum = 0, ex = 0, ey = 0;
            for (int S = 0; S < gg; S++) {
                float e = expf((row[S] - m) / beta);
                sum += e;
                ex += e * (-1.0 + 2.0 * (S % gx) / (gx - 1));
                ey += e * (-1.0 + 2.0 * (S / gx) / (gy - 1));
            }
            float *f = flow + ((size_t)p * gg + T) * 2;
            f[0] = (float)((ex / sum + 1) * (gx - 1) / 2 - T % gx);
            f[1] = (float)((ey / sum + 1) * (gy - 1) / 2 - T / gx);
        }
    }
}

static int parse(int argc, char **argv, struct scorr_head_config *cfg, int *iters)
{
    int err = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: %s [--batch B] [--size h] [--channels C] [--sce-out O] [--kernel k]\n"
                   "       [--up u] [--no-sce] [--iters n] [--precision fp32|bf16]\n"
                   "Forward + backward of the correspondence head with a stage breakdown\n"
                   "(defaults: the paper's head, 2 pairs). PyTorch counterpart:\n"
                   "tools/bench/head_torch.py at the same thread count.\n", argv[0]);
            exit(0);
        }
        if (!strcmp(a, "--no-sce")) {
            cfg->sce = 0;
            continue;
        }
        SCORR_REQUIRE(i + 1 < argc, SCORR_EINVAL, "option %s needs a value", a);
        if (!strcmp(a, "--precision")) {
            const char *p = argv[++i];
            SCORR_REQUIRE(!strcmp(p, "fp32") || !strcmp(p, "bf16"), SCORR_EINVAL,
                          "--precision: expected fp32 or bf16, found '%s'", p);
            cfg->prec = !strcmp(p, "bf16") ? SCORR_PREC_BF16 : SCORR_PREC_F32;
            continue;
        }
        int v = atoi(argv[++i]);
        if (!strcmp(a, "--batch")) cfg->batch = v;
        else if (!strcmp(a, "--size")) cfg->h = cfg->w = v;
        else if (!strcmp(a, "--channels")) cfg->channels = v;
        else if (!strcmp(a, "--sce-out")) cfg->sce_out = v;
        else if (!strcmp(a, "--kernel")) cfg->sce_kernel = v;
        else if (!strcmp(a, "--up")) cfg->up = v;
        else if (!strcmp(a, "--iters")) *iters = v;
        else SCORR_FAIL(SCORR_EINVAL, "unknown option %s", a);
    }
done:
    return err;
}

int main(int argc, char **argv)
{
    int err = 0, iters = 10;
    struct scorr_head_config cfg;
    struct scorr_params table;
    struct scorr_arena plan, arena = {0};
    struct scorr_head hd;
    float *params = NULL, *grads = NULL, *src = NULL, *trg = NULL, *dsrc = NULL, *dtrg = NULL;
    float *flow = NULL, *dflow = NULL;
    scorr_params_init(&table);
    scorr_head_config_default(&cfg);
    cfg.batch = 2;
    SCORR_TRY(parse(argc, argv, &cfg, &iters));
    char cpu[320];
    scorr_cpu_describe(cpu, sizeof cpu);
    printf("cpu: %s\n", cpu);
    SCORR_TRY(scorr_head_build(&hd, &cfg, &table));
    scorr_arena_plan(&plan);
    scorr_head_alloc(&hd, &plan);
    SCORR_TRY(scorr_arena_init(&arena, plan.peak, "head"));
    scorr_head_alloc(&hd, &arena);
    size_t nf = (size_t)cfg.batch * cfg.h * cfg.w * cfg.channels;
    size_t nflow = (size_t)cfg.batch * hd.gy * hd.gx * 2;
    params = scorr_aligned_calloc((table.total + 1) * sizeof(float));
    grads = scorr_aligned_calloc((table.total + 1) * sizeof(float));
    src = randn_buf(nf, 1);
    trg = randn_buf(nf, 2);
    dflow = randn_buf(nflow, 3);
    dsrc = scorr_aligned_calloc(nf * sizeof(float));
    dtrg = scorr_aligned_calloc(nf * sizeof(float));
    flow = scorr_aligned_calloc(nflow * sizeof(float));
    SCORR_REQUIRE(params && grads && src && trg && dflow && dsrc && dtrg && flow, SCORR_ENOMEM,
                  "out of memory");
    scorr_params_initialise(&table, params, 1);
    printf("head: B=%d h=w=%d C=%d sce=%d k=%d O=%d up=%d (G=%d) | OMP threads %d | arena %.1f MiB\n",
           cfg.batch, cfg.h, cfg.channels, cfg.sce, cfg.sce_kernel, cfg.sce_out, cfg.up, hd.gy,
           hd.nthreads, (double)plan.peak / (1 << 20));
    printf("precision: %s requested, %s\n", cfg.prec == SCORR_PREC_BF16 ? "bf16" : "fp32",
           hd.prec == SCORR_PREC_BF16 ? "the SCE's raw-feature GEMMs run in bf16" : "fp32 ran");
    if (hd.sce_bf16.fwd)
        printf("bf16 SCE matmuls: forward %s, weight gradient %s, input gradient %s\n",
               scorr_mm_bf16_impl_name(hd.sce_bf16.fwd),
               hd.sce_bf16.dw ? scorr_mm_bf16_impl_name(hd.sce_bf16.dw) : "-",
               hd.sce_bf16.din ? scorr_mm_bf16_impl_name(hd.sce_bf16.din) : "-");

    /* warm-up */
    scorr_head_forward(&hd, params, src, trg, flow);
    scorr_head_backward(&hd, params, grads, src, trg, dflow, dsrc, dtrg);
    double tf = 0, tb = 0, best_f = 1e30, best_b = 1e30;
    for (int it = 0; it < iters; it++) {
        double t0 = scorr_now();
        scorr_head_forward(&hd, params, src, trg, flow);
        double t1 = scorr_now();
        scorr_head_backward(&hd, params, grads, src, trg, dflow, dsrc, dtrg);
        double t2 = scorr_now();
        tf += t1 - t0;
        tb += t2 - t1;
        best_f = t1 - t0 < best_f ? t1 - t0 : best_f;
        best_b = t2 - t1 < best_b ? t2 - t1 : best_b;
    }
    printf("forward  %8.1f ms (best %.1f)\nbackward %8.1f ms (best %.1f)\ntotal    %8.1f ms\n",
           1e3 * tf / iters, 1e3 * best_f, 1e3 * tb / iters, 1e3 * best_b,
           1e3 * (tf + tb) / iters);

    /* stage breakdown (same calls the module makes) */
    double st[6] = {0};
    for (int it = 0; it < iters; it++) {
        double t0 = scorr_now();
        const float *in[2] = {src, trg};
        for (int side = 0; side < 2; side++) {
            const float *x = in[side];
            if (cfg.sce) {
                scorr_sce_forward(hd.sce_y[side], hd.sce_sim[side], hd.sce_nrm[side],
                                  hd.sce_den[side], x, params + hd.off_weight,
                                  params + hd.off_bias, &hd.sce_shape,
                                  hd.sce_bf16.fwd ? &hd.sce_bf16 : NULL);
                x = hd.sce_y[side];
            }
            scorr_l2norm_forward(hd.feat[side], hd.rnorm[side], x, hd.m, hd.dim, hd.nthreads);
        }
        double t1 = scorr_now();
        scorr_corr_forward(hd.corr, hd.feat[0], hd.feat[1], &hd.corr_shape);
        scorr_mnn_forward(hd.mnn, hd.smax, hd.sarg, hd.tmax, hd.targ, hd.corr, &hd.corr_shape);
        double t2 = scorr_now();
        scorr_softargmax_forward(flow, hd.stats, hd.mnn, NULL, NULL, &hd.sa_shape, hd.scratch);
        double t3 = scorr_now();
        memset(hd.dmnn, 0, (size_t)cfg.batch * cfg.h * cfg.w * cfg.h * cfg.w * sizeof(float));
        scorr_softargmax_backward(hd.dmnn, NULL, NULL, dflow, hd.mnn, hd.stats, NULL, NULL, &hd.sa_shape,
                                  hd.scratch);
        double t4 = scorr_now();
        st[0] += t1 - t0;
        st[1] += t2 - t1;
        st[2] += t3 - t2;
        st[3] += t4 - t3;
    }
    printf("stages: sce+l2norm fwd %.1f ms | corr+mnn fwd %.1f ms | upsample+softargmax fwd %.1f ms "
           "| upsample+softargmax bwd %.1f ms\n",
           1e3 * st[0] / iters, 1e3 * st[1] / iters, 1e3 * st[2] / iters, 1e3 * st[3] / iters);

    /* ratio: the materialising forward (one thread, plain loops) vs the fused
     * one on one thread, in this run */
    {
        int gg = hd.gy * hd.gx, ls = cfg.h * cfg.w;
        float *cup = scorr_aligned_calloc((size_t)gg * gg * sizeof(float));
        float *a = scorr_aligned_calloc((size_t)ls * gg * sizeof(float));
        float *f2 = scorr_aligned_calloc(nflow * sizeof(float));
        struct scorr_interp_tap *ty = scorr_aligned_calloc((size_t)hd.gy * sizeof *ty);
        struct scorr_interp_tap *tx = scorr_aligned_calloc((size_t)hd.gx * sizeof *tx);
        SCORR_REQUIRE(cup && a && f2 && ty && tx, SCORR_ENOMEM, "out of memory (unfused: %.0f MiB)",
                      (double)gg * gg * 4 / (1 << 20));
        scorr_interp_taps(ty, cfg.h, hd.gy);
        scorr_interp_taps(tx, cfg.w, hd.gx);
        struct scorr_softargmax_shape s1 = hd.sa_shape;
        s1.nthreads = 1;
        double t0 = scorr_now();
        unfused_forward(f2, hd.mnn, cup, a, cfg.batch, cfg.h, cfg.w, cfg.up, cfg.beta, ty, tx);
        double t1 = scorr_now();
        scorr_softargmax_forward(flow, hd.stats, hd.mnn, NULL, NULL, &s1, hd.scratch);
        double t2 = scorr_now();
        double worst = 0;
        for (size_t i = 0; i < nflow; i++) worst = fmax(worst, fabs((double)flow[i] - f2[i]));
        printf("upsample+softargmax forward, 1 thread: unfused (materialises %.0f MiB per pair) "
               "%.1f ms, fused %.1f ms: %.1fx (max |flow diff| %.2g)\n",
               (double)gg * gg * 4 / (1 << 20), 1e3 * (t1 - t0), 1e3 * (t2 - t1),
               (t1 - t0) / (t2 - t1), worst);
        scorr_aligned_free(cup), scorr_aligned_free(a), scorr_aligned_free(f2);
        scorr_aligned_free(ty), scorr_aligned_free(tx);
    }
done:
    if (err) scorr_error_print(stderr, "bench_head");
    scorr_aligned_free(params), scorr_aligned_free(grads), scorr_aligned_free(src);
    scorr_aligned_free(trg), scorr_aligned_free(dsrc), scorr_aligned_free(dtrg);
    scorr_aligned_free(flow), scorr_aligned_free(dflow);
    scorr_arena_free(&arena);
    scorr_head_free(&hd);
    scorr_params_free(&table);
    return err ? 1 : 0;
}
