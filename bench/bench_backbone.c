/* Forward + backward time of the backbone (ResNet cut after layer3).
 *
 *   bench_backbone [--depth 101] [--width 64] [--batch 4] [--size 256]
 *                  [--iters 5] [--bn frozen|batch] [--no-grad]
 *                  [--pw nng] [--sp aaa] [--wg www] [--precision fp32|bf16]
 *
 * --precision bf16: bf16 convolutions (fp32 where the CPU has no native bf16;
 * the implementation line says what runs); bf16-force: oneDNN's bf16 kernels
 * whatever the CPU (with DNNL_MAX_CPU_ISA=AVX512_CORE: the emulated ones).
 *
 * --pw / --sp / --wg: conv algorithm per pass (forward, backward-data,
 * backward-weights) for 1x1 (pointwise), larger (spatial) and 3x3 stride-1
 * (Winograd-capable) convs: n = oneDNN on NHWC, a = oneDNN in its own layout
 * with reorders, g = sgemm, w = Winograd (3x3 stride 1 only), - = AUTO (for
 * --wg: the spatial choice). Default: the library's policy.
 *
 * Threads: OMP_NUM_THREADS (oneDNN and our loops). Prints each iteration and
 * the best / median forward, backward and total times, with the conv GFLOP/s
 * they imply. The PyTorch side is tools/bench/backbone_torch.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "scorr/arena.h"
#include "scorr/conv.h"
#include "scorr/cpu.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "scorr/resnet.h"

/* CPU seconds of the whole process (all threads): under contention from
 * other jobs a 1-thread run's CPU time stays close to its idle wall time. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_algos(const char *s, enum scorr_conv_algo out[3])
{
    if (strlen(s) != 3) return -1;
    for (int i = 0; i < 3; i++) {
        switch (s[i]) {
        case 'n': out[i] = SCORR_CONV_DNNL_NHWC; break;
        case 'a': out[i] = SCORR_CONV_DNNL_ANY; break;
        case 'g': out[i] = SCORR_CONV_GEMM; break;
        case 'w': out[i] = SCORR_CONV_WINOGRAD; break;
        case '-': out[i] = SCORR_CONV_AUTO; break;
        default: return -1;
        }
    }
    return 0;
}

static double conv_flops(const struct scorr_conv2d *cv)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    return 2.0 * s->n * cv->ho * cv->wo * s->k * s->c * s->kh * s->kw;
}

int main(int argc, char **argv)
{
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.batch = 4;
    int iters = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--depth") && v) cfg.depth = atoi(argv[++i]);
        else if (!strcmp(a, "--width") && v) cfg.width = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && v) cfg.batch = atoi(argv[++i]);
        else if (!strcmp(a, "--size") && v) cfg.image_size = atoi(argv[++i]);
        else if (!strcmp(a, "--iters") && v) iters = atoi(argv[++i]);
        else if (!strcmp(a, "--bn") && v) {
            cfg.bn_mode = !strcmp(argv[++i], "batch") ? SCORR_BN_BATCH : SCORR_BN_FROZEN;
            if (cfg.bn_mode == SCORR_BN_BATCH) cfg.bn_groups = cfg.batch % 2 ? 1 : 2;
        } else if (!strcmp(a, "--no-grad")) cfg.grad = 0;
        else if (!strcmp(a, "--precision") && v) {
            /* bf16-force: oneDNN's bf16 kernels even without native bf16 (emulated) */
            const char *pv = argv[++i];
            cfg.prec = strncmp(pv, "bf16", 4) ? SCORR_PREC_F32 : SCORR_PREC_BF16;
            if (!strcmp(pv, "bf16-force")) {
                struct scorr_conv_policy pol;
                scorr_conv2d_get_policy(&pol);
                pol.bf16_force = 1;
                scorr_conv2d_set_policy(&pol);
            }
        }
        else if ((!strcmp(a, "--pw") || !strcmp(a, "--sp") || !strcmp(a, "--wg")) && v) {
            struct scorr_conv_policy pol;
            scorr_conv2d_get_policy(&pol);
            enum scorr_conv_algo *dst = a[3] == 'w' && a[2] == 'p' ? pol.pointwise
                                        : a[2] == 's'              ? pol.spatial
                                                                   : pol.winograd3x3;
            if (parse_algos(argv[++i], dst)) {
                fprintf(stderr, "%s: expected 3 letters of n, a, g, w, -\n", a);
                return 2;
            }
            scorr_conv2d_set_policy(&pol);
        } else {
            const int help = !strcmp(a, "-h") || !strcmp(a, "--help");
            fprintf(help ? stdout : stderr,
                    "usage: %s [--depth D] [--width W] [--batch N] [--size S] [--iters K] "
                    "[--bn frozen|batch] [--no-grad] [--pw xxx] [--sp xxx] [--wg xxx] "
                    "[--precision fp32|bf16|bf16-force]\n", argv[0]);
            return help ? 0 : 2;
        }
    }
    char cpu[320];
    scorr_cpu_describe(cpu, sizeof cpu);
    printf("cpu: %s; oneDNN bf16: %s\n", cpu, scorr_bf16_support_name(scorr_bf16_support()));
    if (cfg.bn_mode == SCORR_BN_BATCH) cfg.bn_groups = cfg.batch % 2 ? 1 : 2;
    struct scorr_params t;
    struct scorr_resnet net;
    struct scorr_arena plan, arena;
    scorr_params_init(&t);
    if (scorr_resnet_build(&net, &cfg, &t, "feature_extraction.backbone.")) {
        scorr_error_print(stderr, argv[0]);
        return 1;
    }
    scorr_arena_plan(&plan);
    scorr_resnet_alloc(&net, &plan);
    if (scorr_arena_init(&arena, plan.peak + 64, "backbone")) {
        scorr_error_print(stderr, argv[0]);
        return 1;
    }
    scorr_resnet_alloc(&net, &arena);
    float *params = scorr_aligned_calloc(t.total * sizeof(float));
    float *grads = scorr_aligned_calloc(t.total * sizeof(float));
    const size_t ni = (size_t)cfg.batch * cfg.image_size * cfg.image_size * 3;
    const size_t nf = (size_t)cfg.batch * net.out_h * net.out_w * net.out_c;
    float *img = scorr_aligned_calloc(ni * sizeof(float));
    float *feat = scorr_aligned_calloc(nf * sizeof(float));
    float *dfeat = scorr_aligned_calloc(nf * sizeof(float));
    if (!params || !grads || !img || !feat || !dfeat) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    scorr_params_initialise(&t, params, 1);
    for (size_t i = 0; i < ni; i++) img[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    for (size_t i = 0; i < nf; i++) dfeat[i] = (float)((i * 40503u) % 1000) / 5000.0f - 0.1f;

    double fwd_flops = conv_flops(&net.stem.conv), bwd_flops = conv_flops(&net.stem.conv);
    int nconv = 1;
    for (int b = 0; b < net.nblocks; b++) {
        const struct scorr_resblock *blk = &net.blocks[b];
        for (int u = 0; u < blk->nconv; u++) {
            fwd_flops += conv_flops(&blk->u[u].conv);
            nconv++;
        }
        if (blk->cfg.downsample) {
            fwd_flops += conv_flops(&blk->ds.conv);
            nconv++;
        }
    }
    bwd_flops = 2 * fwd_flops - bwd_flops; /* data + weights, no data gradient for the stem */
    printf("resnet%d width %d, batch %d, %dx%d, bn %s, %s, %d threads: %d convs, %.1f GFLOP "
           "forward, %.1f backward; %zu parameters, arena %.0f MB\n",
           cfg.depth, cfg.width, cfg.batch, cfg.image_size, cfg.image_size,
           cfg.bn_mode == SCORR_BN_BATCH ? "batch" : "frozen", cfg.grad ? "train" : "forward only",
           omp_get_max_threads(), nconv, fwd_flops * 1e-9, bwd_flops * 1e-9,
           scorr_params_trainable_count(&t), (double)arena.size / 1048576.0);
    const struct scorr_conv2d *c3 = &net.blocks[net.nblocks - 1].u[1].conv;
    const struct scorr_conv2d *c1 = &net.blocks[net.nblocks - 1].u[0].conv;
    printf("stem: fwd %s, bwd-weights %s; layer3 3x3: fwd %s, bwd-data %s, bwd-weights %s; "
           "1x1: fwd %s, bwd-data %s, bwd-weights %s\n",
           scorr_conv2d_impl_name(&net.stem.conv, 0), scorr_conv2d_impl_name(&net.stem.conv, 2),
           scorr_conv2d_impl_name(c3, 0), scorr_conv2d_impl_name(c3, 1),
           scorr_conv2d_impl_name(c3, 2), scorr_conv2d_impl_name(c1, 0),
           scorr_conv2d_impl_name(c1, 1), scorr_conv2d_impl_name(c1, 2));
    double *tf = calloc((size_t)iters, sizeof *tf), *tb = calloc((size_t)iters, sizeof *tb);
    double *tt = calloc((size_t)iters, sizeof *tt), *tc = calloc((size_t)iters, sizeof *tc);
    /* one warm-up step (first-touch of the arena, oneDNN kernel generation) */
    scorr_resnet_forward(&net, feat, img, params);
    if (cfg.grad) scorr_resnet_backward(&net, grads, NULL, dfeat, img, params);
    for (int it = 0; it < iters; it++) {
        double c0 = cpu_now(), t0 = scorr_now();
        scorr_resnet_forward(&net, feat, img, params);
        double t1 = scorr_now();
        if (cfg.grad) scorr_resnet_backward(&net, grads, NULL, dfeat, img, params);
        double t2 = scorr_now();
        tc[it] = cpu_now() - c0;
        tf[it] = t1 - t0;
        tb[it] = t2 - t1;
        tt[it] = t2 - t0;
        printf("  iter %d: forward %.3f s, backward %.3f s, total %.3f s (cpu %.3f s)\n", it, tf[it],
               tb[it], tt[it], tc[it]);
    }
    qsort(tf, (size_t)iters, sizeof *tf, cmp);
    qsort(tb, (size_t)iters, sizeof *tb, cmp);
    qsort(tt, (size_t)iters, sizeof *tt, cmp);
    qsort(tc, (size_t)iters, sizeof *tc, cmp);
    printf("best: forward %.3f s (%.0f GFLOP/s), backward %.3f s (%.0f GFLOP/s), total %.3f s; "
           "median total %.3f s; best cpu %.3f s\n",
           tf[0], fwd_flops / tf[0] * 1e-9, tb[0], cfg.grad ? bwd_flops / tb[0] * 1e-9 : 0.0,
           tt[0], tt[iters / 2], tc[0]);
    free(tf);
    free(tb);
    free(tt);
    free(tc);
    scorr_aligned_free(params);
    scorr_aligned_free(grads);
    scorr_aligned_free(img);
    scorr_aligned_free(feat);
    scorr_aligned_free(dfeat);
    scorr_resnet_free(&net);
    scorr_arena_free(&arena);
    scorr_params_free(&t);
    return 0;
}
