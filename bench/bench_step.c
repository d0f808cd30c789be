/* bench_step: one training step of the full SCorrSAN model (forward, sparse
 * end-point-error loss, backward, AdamW) through the library's model, loss
 * and optimiser calls, exactly as the trainer's baseline step makes them
 * (src/train/train_step.c without MPI), and in the same run the same step of
 * the same model in PyTorch (tools/bench/step_torch.py), the data path for
 * one step's batch, and the sgemm peak at the same thread count.
 *
 *   bench_step [--threads N] [--iters K] [--warmup W] [--rounds R] [--no-torch]
 *              [--bn frozen|batch] [--batch B] [--size S] [--depth D]
 *              [--precision fp32|bf16] [--torch-precision fp32|bf16|both]
 *              [--torch-search] [--torch-args "..."] [--cpu]
 *              [--dataset file.h5] [--python /usr/bin/python3] [--script step_torch.py]
 *
 * --precision: the arithmetic of our backbone convolutions and the SCE's 1x1
 * conv on the raw feature (model.precision; bf16 only where the CPU has
 * native bf16, the report says what ran). PyTorch runs
 * its default configuration (the fastest measured: channels_last, one
 * backbone call, softmax head, foreach AdamW; tools/bench/step_torch.py) in
 * the same precision (bf16: torch.autocast), or in both with
 * --torch-precision both; --torch-search lets it time its candidate
 * configurations first and run the fastest; --torch-args passes more options.
 * Every report starts with the CPU's vector features and the OpenBLAS core
 * that runs (--cpu prints that line alone).
 *
 * Defaults: the paper's model (ResNet-101 cut after layer3, 256 x 256, SCE
 * k = 7 to 2048 channels, upsampling 4), B = 2 pairs, frozen batch norm,
 * threads = OMP_NUM_THREADS (or 1), 3 timed iterations after 1 warm-up, one
 * round (a round = our iterations, then PyTorch's). The batch comes from
 * the real loader (read + augmentation p = 0.2 + labels) on a synthetic
 * 256 px dataset generated first (or --dataset).
 *
 * Prints a table (best and median seconds per part), the analytic FLOP
 * count of one step (direct convolutions, and as executed with the Winograd
 * convolutions' smaller GEMMs) and the GFLOP/s they imply against the sgemm
 * peak (OpenBLAS, best of a measurement before and after the steps), and one
 * machine-readable line starting with "RESULT". Exit status 0 unless our side fails; a
 * missing PyTorch is reported and our numbers are still given. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <omp.h>

#include "scorr/arena.h"
#include "scorr/conv.h"
#include "scorr/cpu.h"
#include "scorr/error.h"
#include "scorr/loader.h"
#include "scorr/log.h"
#include "scorr/loss.h"
#include "scorr/model.h"
#include "scorr/optim.h"
#include "scorr/synth.h"

#ifndef SCORR_SOURCE_DIR
#define SCORR_SOURCE_DIR "."
#endif

#define MAX_ITERS 256

/* Parts of a step, in order. */
enum { P_BB_FWD, P_HEAD_FWD, P_LOSS, P_ZERO, P_HEAD_BWD, P_BB_BWD, P_ADAMW, P_TOTAL, P_DATA, NP };
static const char *const part_name[NP] = {
    "backbone forward", "head forward", "loss (fwd + bwd)", "zero grad", "head backward",
    "backbone backward", "AdamW", "step total", "data (read+aug+labels)"};

/* PyTorch parts as step_torch.py reports them. */
enum { T_FWD, T_LOSS, T_BWD, T_OPT, T_TOTAL, NT };
static const char *const torch_name[NT] = {"forward", "loss", "backward", "zero grad + AdamW",
                                           "step total"};

struct series {
    double v[MAX_ITERS];
    int n;
};

static void push(struct series *s, double x)
{
    if (s->n < MAX_ITERS) s->v[s->n++] = x;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double best(const struct series *s)
{
    double b = s->n ? s->v[0] : 0;
    for (int i = 1; i < s->n; i++) b = s->v[i] < b ? s->v[i] : b;
    return b;
}

static double median(const struct series *s)
{
    if (!s->n) return 0;
    double t[MAX_ITERS];
    memcpy(t, s->v, (size_t)s->n * sizeof *t);
    qsort(t, (size_t)s->n, sizeof *t, cmpd);
    return s->n % 2 ? t[s->n / 2] : 0.5 * (t[s->n / 2 - 1] + t[s->n / 2]);
}

static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* ---- FLOP count of one training step, from the model config ------------
 * Counted: every convolution (2 FLOPs per multiply-add; backward = data +
 * weight gradients, the stem without a data gradient, nothing when the
 * backbone is frozen), the SCE (4k channel dot products per position and
 * side, the two GEMMs of its 1x1 conv; backward: weight and input GEMMs and
 * the similarity gather), the correlation GEMMs, and the fused upsampling +
 * soft-argmax (per (target, source) element of the upsampled correlation:
 * 3 for the interpolation, 9 for max, scaling, exp (as 1), sum and the two
 * expectations forward; 3 + 14 backward for the rebuilt column, the
 * probability, its gradient and the push through the taps; plus the
 * separable first interpolation pass). Not counted: batch norm, ReLU,
 * max-pool, L2 norms, MNN filter, losses and AdamW (memory-bound: bytes,
 * not FLOPs, bound them). */
struct step_flops {
    double bb_fwd, bb_bwd, head_fwd, head_bwd;
    /* the backbone's multiply-adds as executed: Winograd convolutions
     * (SCORR_CONV_WINOGRAD, by the conv policy) counted at the size of their
     * transformed-domain GEMMs (tile padding included, transforms left out) */
    double bb_fwd_exec, bb_bwd_exec;
};

/* Executed fraction of a 3x3 stride-1 pad-1 conv's direct FLOPs on an h x w
 * map for one pass, or 1 when that pass is not Winograd (the library's rule:
 * ops/conv_winograd.c and conv.c's policy, from 16 channels). */
static double wino_fraction(int pass, int h, int w, int c, int k)
{
    struct scorr_conv_policy pol;
    scorr_conv2d_get_policy(&pol);
    if (pol.winograd3x3[pass] != SCORR_CONV_WINOGRAD || c < 16 || k < 16) return 1.0;
    const int m = h >= 16 && w >= 16 ? 4 : 2, a = m + 2;
    const double tiles = (double)((h + m - 1) / m) * ((w + m - 1) / m);
    return tiles * a * a / (9.0 * h * w);
}

static double conv_flops(double n, int h, int w, int c, int k, int ks, int stride, int pad,
                         int *ho, int *wo)
{
    *ho = (h + 2 * pad - ks) / stride + 1;
    *wo = (w + 2 * pad - ks) / stride + 1;
    return 2.0 * n * *ho * *wo * (double)k * c * ks * ks;
}

static void count_flops(const struct scorr_model_config *c, struct step_flops *f)
{
    memset(f, 0, sizeof *f);
    const double N = 2.0 * c->batch; /* images: sources and targets */
    int blocks[3], bott = c->depth >= 50;
    if (c->depth == 18) blocks[0] = 2, blocks[1] = 2, blocks[2] = 2;
    else if (c->depth == 101) blocks[0] = 3, blocks[1] = 4, blocks[2] = 23;
    else blocks[0] = 3, blocks[1] = 4, blocks[2] = 6;
    int h, w, ho, wo;
    double stem = conv_flops(N, c->image_size, c->image_size, 3, c->width, 7, 2, 3, &h, &w);
    h = (h + 2 - 3) / 2 + 1; /* max-pool 3x3 s2 p1 */
    w = (w + 2 - 3) / 2 + 1;
    double body = 0, exec_f = 0, exec_b = 0;
    int inpl = c->width;
    for (int l = 0; l < 3; l++) {
        const int planes = c->width << l, outc = bott ? 4 * planes : planes;
        for (int b = 0; b < blocks[l]; b++) {
            const int s = b == 0 && l > 0 ? 2 : 1;
            /* one conv: direct FLOPs into body, executed ones per pass */
#define CONV(H, W, CI, CO, KS, ST, PAD)                                                        \
    do {                                                                                       \
        const double f_ = conv_flops(N, H, W, CI, CO, KS, ST, PAD, &ho, &wo);                  \
        const int wino_ = KS == 3 && ST == 1 && PAD == 1;                                      \
        body += f_;                                                                            \
        exec_f += f_ * (wino_ ? wino_fraction(0, ho, wo, CI, CO) : 1.0);                       \
        exec_b += f_ * (wino_ ? wino_fraction(1, ho, wo, CI, CO) + wino_fraction(2, ho, wo, CI, CO) \
                              : 2.0);                                                          \
    } while (0)
            const int hi = h, wi = w;
            if (bott) {
                CONV(hi, wi, inpl, planes, 1, 1, 0);
                CONV(hi, wi, planes, planes, 3, s, 1);
                const int h1 = ho, w1 = wo;
                CONV(h1, w1, planes, outc, 1, 1, 0);
            } else {
                CONV(hi, wi, inpl, planes, 3, s, 1);
                const int h1 = ho, w1 = wo;
                CONV(h1, w1, planes, planes, 3, 1, 1);
            }
            const int hb = ho, wb = wo;
            if (b == 0 && (s != 1 || inpl != outc)) CONV(hi, wi, inpl, outc, 1, s, 0);
            ho = hb, wo = wb;
#undef CONV
            h = ho, w = wo, inpl = outc;
        }
    }
    f->bb_fwd = stem + body;
    f->bb_bwd = c->freeze_backbone ? 0 : stem + 2 * body;
    f->bb_fwd_exec = stem + exec_f;
    f->bb_bwd_exec = c->freeze_backbone ? 0 : stem + exec_b;
    /* head: B pairs of (h, w, C) features */
    const double B = c->batch, L = (double)h * w, C = inpl, k4 = 4.0 * c->sce_kernel;
    const double O = c->sce_enabled ? c->sce_channels : C, m = 2 * B * L; /* both sides */
    if (c->sce_enabled) {
        f->head_fwd += m * k4 * 2 * C + 2 * m * (C + k4) * O;
        f->head_bwd += 2 * m * (C + k4) * O; /* weight gradient */
        if (!c->freeze_backbone) f->head_bwd += 2 * m * (C + k4) * O + m * k4 * 2 * 2 * C;
    }
    f->head_fwd += B * 2 * L * L * O;      /* correlation */
    f->head_bwd += 2 * B * 2 * L * L * O;
    const double G = (double)h * c->upsample, GG = G * G;
    const double first = B * L * h * G * 2 * 2; /* interpolation along source x */
    f->head_fwd += first + B * GG * (4 * h * G * 2 + GG * (3 + 9));
    f->head_bwd += first + B * GG * (4 * h * G * 2 + GG * (3 + 14));
}

/* ---- sgemm peak --------------------------------------------------------- */
static double sgemm_gflops(int M, int N, int K, int threads, int reps)
{
    float *a = scorr_aligned_calloc((size_t)M * K * sizeof(float));
    float *b = scorr_aligned_calloc((size_t)K * N * sizeof(float));
    float *c = scorr_aligned_calloc((size_t)M * N * sizeof(float));
    double bestt = 1e30;
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
        for (size_t i = 0; i < (size_t)K * N; i++) b[i] = (float)(i % 5) * 0.1f;
        openblas_set_num_threads(threads);
        for (int r = 0; r < reps + 1; r++) {
            double t0 = scorr_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f,
                        c, N);
            double t = scorr_now() - t0;
            if (r && t < bestt) bestt = t; /* the first call is a warm-up */
        }
        openblas_set_num_threads(1);
    }
    scorr_aligned_free(a);
    scorr_aligned_free(b);
    scorr_aligned_free(c);
    return bestt < 1e30 ? 2.0 * M * N * (double)K / bestt * 1e-9 : 0;
}

/* ---- PyTorch side -------------------------------------------------------- */
struct torch_run {
    struct series part[NT];
    const char *precision; /* fp32 | bf16 */
    char version[320];
    char missing[256]; /* non-empty: why PyTorch could not be run */
};

/* Options of step_torch.py beyond the model's (--torch-search, --torch-args). */
struct torch_opts {
    int search;
    const char *extra;
};

static void run_torch(const char *python, const char *script, int threads, int iters, int warmup,
                      const struct scorr_model_config *mc, const struct torch_opts *to,
                      struct torch_run *tr)
{
    char cmd[2048], line[1024];
    if (access(python, X_OK) != 0) {
        snprintf(tr->missing, sizeof tr->missing, "%s is not an executable", python);
        return;
    }
    if (access(script, R_OK) != 0) {
        snprintf(tr->missing, sizeof tr->missing, "cannot read %s", script);
        return;
    }
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=%d '%s' '%s' --threads %d --iters %d --warmup %d --batch %d "
             "--size %d --depth %d --kernel %d --sce-out %d --up %d --bn %s --precision %s%s "
             "%s 2>&1",
             threads, python, script, threads, iters, warmup, mc->batch, mc->image_size,
             mc->depth, mc->sce_kernel, mc->sce_channels, mc->upsample,
             mc->bn_batch ? "batch" : "frozen", tr->precision, to->search ? " --search" : "",
             to->extra ? to->extra : "");
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(tr->missing, sizeof tr->missing, "cannot start %s", python);
        return;
    }
    int got = 0;
    char last[256] = "";
    while (fgets(line, sizeof line, p)) {
        int i;
        double v[NT];
        if (sscanf(line, "ITER %d %lf %lf %lf %lf %lf", &i, &v[0], &v[1], &v[2], &v[3], &v[4]) ==
            6) {
            for (int k = 0; k < NT; k++) push(&tr->part[k], v[k]);
            printf("  torch %s iter %d: forward %.3f  loss %.5f  backward %.3f  optimiser %.3f  "
                   "total %.3f s\n", tr->precision, i, v[0], v[1], v[2], v[3], v[4]);
            got++;
        } else if (!strncmp(line, "TORCH_MISSING", 13)) {
            snprintf(tr->missing, sizeof tr->missing, "cannot import torch (%.200s)",
                     line + 13 + strspn(line + 13, " "));
        } else if (!strncmp(line, "SEARCH ", 7)) {
            printf("  torch search: %s", line + 7);
        } else if (!strncmp(line, "TORCH ", 6)) {
            snprintf(tr->version, sizeof tr->version, "%.300s", line + 6);
        } else {
            snprintf(last, sizeof last, "%.200s", line);
        }
    }
    int st = pclose(p);
    if (!tr->missing[0] && (st != 0 || !got))
        snprintf(tr->missing, sizeof tr->missing, "%s exited with status %d (last output: %s)",
                 script, st, last[0] ? last : "none");
    tr->missing[strcspn(tr->missing, "\n")] = 0;
    tr->version[strcspn(tr->version, "\n")] = 0;
}

/* ---- our step ------------------------------------------------------------- */
struct ours {
    struct scorr_model *model;
    struct scorr_adamw opt;
    struct scorr_loader *loader;
    float *flow, *dflow;
    int G;
    int64_t steps;
    struct series part[NP];
};

/* One step exactly as train_step.c's baseline makes it (one rank: no sums). */
static int step(struct ours *o, int epoch, int64_t s, int record)
{
    int err = 0;
    const struct scorr_model_config *mc = scorr_model_config(o->model);
    const struct scorr_flow_shape fs = {mc->batch, o->G, o->G};
    const size_t nflow = (size_t)mc->batch * o->G * o->G * 2;
    const double lr[2] = {3e-5, 3e-6};
    const struct scorr_batch *b;
    double t[NP];
    double d0 = scorr_now();
    SCORR_TRY(scorr_loader_load_step(o->loader, epoch, s % o->steps, &b));
    t[P_DATA] = scorr_now() - d0;

    double t0 = scorr_now();
    const float *f = scorr_model_forward(o->model, b->src, b->trg);
    const struct scorr_model_times *mt = scorr_model_times(o->model);
    t[P_BB_FWD] = mt->backbone_fwd;
    t[P_HEAD_FWD] = mt->head_fwd;
    double t1 = scorr_now();
    memcpy(o->flow, f, nflow * sizeof *f);
    double sum = 0;
    int64_t count = 0;
    scorr_epe_forward(&sum, &count, o->flow, b->flow, b->mask, &fs);
    memset(o->dflow, 0, nflow * sizeof *o->dflow);
    scorr_epe_backward(o->dflow, o->flow, b->flow, b->mask, 1.0, (double)count, &fs);
    double t2 = scorr_now();
    scorr_model_zero_grad(o->model);
    double t3 = scorr_now();
    scorr_model_backward(o->model, o->dflow);
    t[P_HEAD_BWD] = mt->head_bwd;
    t[P_BB_BWD] = mt->backbone_bwd;
    double t4 = scorr_now();
    scorr_adamw_step(&o->opt, scorr_model_params(o->model), scorr_model_weights(o->model),
                     scorr_model_grads(o->model), lr);
    double t5 = scorr_now();
    t[P_LOSS] = t2 - t1;
    t[P_ZERO] = t3 - t2;
    t[P_ADAMW] = t5 - t4;
    t[P_TOTAL] = t5 - t0;
    SCORR_REQUIRE(isfinite(sum), SCORR_ENUMERIC, "bench_step: the loss is not finite (%g)", sum);
    if (record) {
        for (int k = 0; k < NP; k++) push(&o->part[k], t[k]);
        printf("  scorr iter: backbone %.3f + %.3f, head %.3f + %.3f, loss %.5f, zero %.3f, "
               "AdamW %.3f, total %.3f s; data %.3f s; loss %.3f on %lld labels\n",
               t[P_BB_FWD], t[P_BB_BWD], t[P_HEAD_FWD], t[P_HEAD_BWD], t[P_LOSS], t[P_ZERO],
               t[P_ADAMW], t[P_TOTAL], t[P_DATA], count ? sum / (double)count : 0.0,
               (long long)count);
    }
done:
    return err;
}

static int make_dataset(const char *path, int size, int pairs)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = size;
    c.pairs[0] = pairs, c.pairs[1] = 0, c.pairs[2] = 0;
    c.images_per_category[0] = 4;
    return scorr_synth_generate(&c, path);
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [--threads N] [--iters K] [--warmup W] [--rounds R] [--no-torch] "
            "[--bn frozen|batch] [--batch B] [--size S] [--depth D] [--precision fp32|bf16] "
            "[--torch-precision fp32|bf16|both] [--torch-search] [--torch-args \"...\"] "
            "[--cpu] [--dataset file.h5] [--python path] [--script step_torch.py]\n",
            argv0);
}

int main(int argc, char **argv)
{
    int err = 0, threads = 0, iters = 3, warmup = 1, rounds = 1, torch = 1;
    const char *dataset = NULL, *python = "/usr/bin/python3";
    const char *script = SCORR_SOURCE_DIR "/tools/bench/step_torch.py";
    char tmp[256] = "";
    const char *torch_prec = NULL;
    char cpu[320];
    struct ours o;
    struct torch_run trs[2];
    struct torch_opts to = {0, NULL};
    int ntr = 1;
    memset(&o, 0, sizeof o);
    memset(trs, 0, sizeof trs);
    struct scorr_model_config mc = {.depth = 101, .width = 64, .bn_batch = 0,
                                    .freeze_backbone = 0, .sce_enabled = 1, .sce_kernel = 7,
                                    .sce_channels = 2048, .upsample = 4, .temperature = 0.02f,
                                    .image_size = 256, .batch = 2, .training = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-torch")) { torch = 0; continue; }
        if (!strcmp(a, "--torch-search")) { to.search = 1; continue; }
        if (!strcmp(a, "--cpu")) {
            scorr_cpu_describe(cpu, sizeof cpu);
            printf("cpu: %s; oneDNN bf16: %s\n", cpu, scorr_bf16_support_name(scorr_bf16_support()));
            return 0;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, argv[0]);
            printf("One training step of the paper's model (ResNet-101 cut after layer3, 256 px,\n"
                   "SCE k=7 to 2048, upsampling 4, 2 pairs) through the library, and in the same\n"
                   "run the same step in PyTorch (tools/bench/step_torch.py): pairs/s of both,\n"
                   "their ratio, GFLOP/s against the measured sgemm peak, the data path's share.\n"
                   "docs/performance.md explains every number.\n");
            return 0;
        }
        if (!v) { usage(stderr, argv[0]); return 2; }
        if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--batch")) mc.batch = atoi(v);
        else if (!strcmp(a, "--size")) mc.image_size = atoi(v);
        else if (!strcmp(a, "--depth")) mc.depth = atoi(v);
        else if (!strcmp(a, "--dataset")) dataset = v;
        else if (!strcmp(a, "--python")) python = v;
        else if (!strcmp(a, "--script")) script = v;
        else if (!strcmp(a, "--torch-args")) to.extra = v;
        else if (!strcmp(a, "--precision")) {
            if (strcmp(v, "fp32") && strcmp(v, "bf16")) { usage(stderr, argv[0]); return 2; }
            mc.precision = !strcmp(v, "bf16") ? SCORR_PREC_BF16 : SCORR_PREC_F32;
        } else if (!strcmp(a, "--torch-precision")) {
            if (strcmp(v, "fp32") && strcmp(v, "bf16") && strcmp(v, "both")) {
                usage(stderr, argv[0]);
                return 2;
            }
            torch_prec = v;
        }
        else if (!strcmp(a, "--bn")) {
            if (strcmp(v, "frozen") && strcmp(v, "batch")) { usage(stderr, argv[0]); return 2; }
            mc.bn_batch = !strcmp(v, "batch");
        } else { usage(stderr, argv[0]); return 2; }
        i++;
    }
    if (iters < 1 || iters * rounds > MAX_ITERS || warmup < 0 || rounds < 1 || mc.batch < 1) {
        fprintf(stderr, "bench_step: need 1 <= iters * rounds <= %d, warmup >= 0, batch >= 1\n",
                MAX_ITERS);
        return 2;
    }
    if (threads <= 0) {
        const char *e = getenv("OMP_NUM_THREADS");
        threads = e && atoi(e) > 0 ? atoi(e) : 1;
    }
    omp_set_num_threads(threads); /* before the model reads it */
    scorr_log_set_level(0);
    /* PyTorch in our precision unless told; "both": fp32 first, then bf16 */
    if (!torch_prec) torch_prec = mc.precision == SCORR_PREC_BF16 ? "bf16" : "fp32";
    ntr = !strcmp(torch_prec, "both") ? 2 : 1;
    trs[0].precision = ntr == 2 ? "fp32" : torch_prec;
    trs[1].precision = "bf16";
    scorr_cpu_describe(cpu, sizeof cpu);
    printf("cpu: %s; oneDNN bf16: %s\n", cpu, scorr_bf16_support_name(scorr_bf16_support()));
    const double load0 = loadavg();

    /* data: a synthetic 256 px dataset of a few steps, the real loader */
    if (!dataset) {
        snprintf(tmp, sizeof tmp, "/tmp/bench_step_%d.h5", (int)getpid());
        SCORR_TRY(make_dataset(tmp, mc.image_size, 4 * mc.batch));
        dataset = tmp;
    }
    struct scorr_loader_config lc;
    scorr_loader_config_train(&lc, dataset, mc.batch, 1);
    lc.stride = 16 / mc.upsample;
    SCORR_TRY(scorr_loader_open(&lc, &o.loader));
    o.steps = scorr_loader_steps_per_epoch(o.loader);

    /* model and optimiser as the trainer makes them */
    SCORR_TRY(scorr_model_create(&mc, 1, &o.model));
    o.G = scorr_model_grid(o.model);
    SCORR_TRY(scorr_adamw_init_with(&o.opt, scorr_model_params(o.model), 0.9, 0.999, 1e-8, 0.05));
    const size_t nflow = (size_t)mc.batch * o.G * o.G * 2;
    o.flow = scorr_aligned_calloc(nflow * sizeof(float));
    o.dflow = scorr_aligned_calloc(nflow * sizeof(float));
    SCORR_REQUIRE(o.flow && o.dflow, SCORR_ENOMEM, "out of memory");

    struct step_flops fl;
    count_flops(&mc, &fl);
    const double flops = fl.bb_fwd + fl.bb_bwd + fl.head_fwd + fl.head_bwd;
    const int bf16_ran = scorr_model_precision(o.model) == SCORR_PREC_BF16;
    printf("bench_step: resnet%d cut after layer3, %dx%d, SCE k=%d -> %d, up %d, batch %d pairs, "
           "bn %s, %d thread%s; %zu trainable parameters, arena %.0f MiB\n",
           mc.depth, mc.image_size, mc.image_size, mc.sce_kernel, mc.sce_channels, mc.upsample,
           mc.batch, mc.bn_batch ? "batch" : "frozen", threads, threads > 1 ? "s" : "",
           scorr_params_trainable_count(scorr_model_params(o.model)),
           (double)scorr_model_arena_bytes(o.model) / 1048576.0);
    printf("precision: %s requested, backbone convolutions and the SCE's raw-feature GEMMs run "
           "in %s\n",
           mc.precision == SCORR_PREC_BF16 ? "bf16" : "fp32", bf16_ran ? "bf16" : "fp32");
    const double flops_exec = fl.bb_fwd_exec + fl.bb_bwd_exec + fl.head_fwd + fl.head_bwd;
    printf("FLOPs per step (direct convolutions): backbone %.1f + %.1f G, head %.2f + %.2f G, "
           "total %.1f GFLOP; as executed (Winograd GEMMs at their size): backbone %.1f + %.1f G, "
           "total %.1f GFLOP\n",
           fl.bb_fwd * 1e-9, fl.bb_bwd * 1e-9, fl.head_fwd * 1e-9, fl.head_bwd * 1e-9,
           flops * 1e-9, fl.bb_fwd_exec * 1e-9, fl.bb_bwd_exec * 1e-9, flops_exec * 1e-9);

    /* sgemm peak before and after the timed steps (the machine's speed
     * drifts when other jobs run); OpenBLAS's own threads are left to park
     * for a second so they do not spin into our first step */
    printf("sgemm peak (OpenBLAS, %d thread%s), before...\n", threads, threads > 1 ? "s" : "");
    double pk_sq = sgemm_gflops(2048, 2048, 2048, threads, 3);
    double pk_rn = sgemm_gflops(256, 4096, 2304, threads, 5);
    sleep(1);
    int64_t sidx = 0;
    for (int r = 0; r < rounds; r++) {
        printf("round %d: scorr (%d warm-up, %d timed)\n", r, r ? 0 : warmup, iters);
        for (int w = 0; w < (r ? 0 : warmup); w++) SCORR_TRY(step(&o, 0, sidx++, 0));
        for (int i = 0; i < iters; i++) SCORR_TRY(step(&o, 0, sidx++, 1));
        for (int k = 0; torch && k < ntr; k++) {
            if (trs[k].missing[0]) continue;
            printf("round %d: PyTorch %s (%d warm-up, %d timed)\n", r, trs[k].precision, warmup,
                   iters);
            run_torch(python, script, threads, iters, warmup, &mc, &to, &trs[k]);
        }
    }
    printf("sgemm peak, after...\n");
    const double sq2 = sgemm_gflops(2048, 2048, 2048, threads, 3);
    const double rn2 = sgemm_gflops(256, 4096, 2304, threads, 5);
    pk_sq = sq2 > pk_sq ? sq2 : pk_sq;
    pk_rn = rn2 > pk_rn ? rn2 : pk_rn;
    const double peak = pk_sq > pk_rn ? pk_sq : pk_rn;
    const double load1 = loadavg();

    /* report */
    const double ours_med = median(&o.part[P_TOTAL]), ours_best = best(&o.part[P_TOTAL]);
    const struct torch_run *tr = &trs[0], *tr2 = ntr == 2 ? &trs[1] : NULL;
    const int have_torch = torch && !tr->missing[0] && tr->part[T_TOTAL].n > 0;
    const double th_med = have_torch ? median(&tr->part[T_TOTAL]) : 0;
    const double th_best = have_torch ? best(&tr->part[T_TOTAL]) : 0;
    const int have2 = tr2 && torch && !tr2->missing[0] && tr2->part[T_TOTAL].n > 0;
    const double th2_med = have2 ? median(&tr2->part[T_TOTAL]) : 0;
    printf("\n%-26s %10s %10s %7s\n", "scorr part", "best s", "median s", "share");
    for (int k = 0; k < NP; k++) {
        if (k == P_BB_BWD && mc.freeze_backbone) continue;
        printf("%-26s %10.5f %10.5f %6.1f%%\n", part_name[k], best(&o.part[k]),
               median(&o.part[k]), 100.0 * median(&o.part[k]) / ours_med);
    }
    for (int t = 0; torch && t < ntr; t++) {
        const struct torch_run *x = &trs[t];
        if (x->missing[0] || !x->part[T_TOTAL].n) {
            printf("\nPyTorch %s: NOT MEASURED: %s. Reporting scorr alone.\n", x->precision,
                   x->missing);
            continue;
        }
        const double xm = median(&x->part[T_TOTAL]);
        printf("\nPyTorch %s part %13s %10s %7s   (%s)\n", x->precision, "best s", "median s",
               "share", x->version);
        for (int k = 0; k < NT; k++)
            printf("%-26s %10.5f %10.5f %6.1f%%\n", torch_name[k], best(&x->part[k]),
                   median(&x->part[k]), 100.0 * median(&x->part[k]) / xm);
    }
    if (!torch) {
        printf("\nPyTorch: not run (--no-torch)\n");
    }
    const double gfs = flops / ours_med * 1e-9;
    printf("\n%-34s %12s %12s\n", "", "scorr", have_torch ? "PyTorch" : "-");
    printf("%-34s %12.3f %12.3f\n", "step, median s", ours_med, th_med);
    printf("%-34s %12.3f %12.3f\n", "step, best s", ours_best, th_best);
    printf("%-34s %12.3f %12.3f\n", "pairs/s (median)", mc.batch / ours_med,
           have_torch ? mc.batch / th_med : 0.0);
    if (have_torch)
        printf("speed-up over PyTorch %-12s %12.2f  (best: %.2f)\n", tr->precision,
               th_med / ours_med, th_best / ours_best);
    if (have2)
        printf("speed-up over PyTorch %-12s %12.2f  (best: %.2f; PyTorch %.3f s median)\n",
               tr2->precision, th2_med / ours_med, best(&tr2->part[T_TOTAL]) / ours_best, th2_med);
    printf("%-34s %12.1f %12.1f\n", "GFLOP/s (direct-conv FLOPs / median)", gfs,
           have_torch ? flops / th_med * 1e-9 : 0.0);
    printf("%-34s %12.1f\n", "GFLOP/s (executed FLOPs / median)", flops_exec / ours_med * 1e-9);
    printf("%-34s %12.1f  (best of before/after; 2048^3: %.1f, 256x4096x2304: %.1f)\n",
           "sgemm peak GFLOP/s", peak,
           pk_sq, pk_rn);
    printf("%-34s %11.0f%% %11.0f%%\n", "fraction of sgemm peak (direct)", 100.0 * gfs / peak,
           have_torch ? 100.0 * flops / th_med * 1e-9 / peak : 0.0);
    printf("%-34s %11.0f%%\n", "fraction of sgemm peak (executed)",
           100.0 * flops_exec / ours_med * 1e-9 / peak);
    printf("%-34s %11.2f%%  (%.4f s per step's batch, median)\n", "data path / scorr step",
           100.0 * median(&o.part[P_DATA]) / ours_med, median(&o.part[P_DATA]));
    printf("load average: %.2f at start, %.2f at end\n", load0, load1);
    printf("RESULT bench_step threads=%d bn=%s batch=%d size=%d depth=%d iters=%d scorr_s=%.4f "
           "scorr_best_s=%.4f scorr_pairs_s=%.3f torch_s=%.4f torch_best_s=%.4f torch_pairs_s=%.3f "
           "speedup=%.3f gflop=%.2f gflop_exec=%.2f gflops=%.1f gflops_exec=%.1f sgemm_peak=%.1f "
           "peak_frac=%.3f data_s=%.4f "
           "data_frac=%.4f bb_fwd=%.4f head_fwd=%.4f loss=%.5f zero=%.4f head_bwd=%.4f "
           "bb_bwd=%.4f adamw=%.4f load=%.2f,%.2f torch=%s precision=%s precision_ran=%s "
           "torch_precision=%s torch2_precision=%s torch2_s=%.4f speedup2=%.3f\n",
           threads, mc.bn_batch ? "batch" : "frozen", mc.batch, mc.image_size, mc.depth,
           o.part[P_TOTAL].n, ours_med, ours_best, mc.batch / ours_med, th_med, th_best,
           have_torch ? mc.batch / th_med : 0.0, have_torch ? th_med / ours_med : 0.0,
           flops * 1e-9, flops_exec * 1e-9, gfs, flops_exec / ours_med * 1e-9, peak, gfs / peak,
           median(&o.part[P_DATA]),
           median(&o.part[P_DATA]) / ours_med, median(&o.part[P_BB_FWD]),
           median(&o.part[P_HEAD_FWD]), median(&o.part[P_LOSS]), median(&o.part[P_ZERO]),
           median(&o.part[P_HEAD_BWD]), median(&o.part[P_BB_BWD]), median(&o.part[P_ADAMW]),
           load0, load1, have_torch ? "yes" : torch ? "missing" : "off",
           mc.precision == SCORR_PREC_BF16 ? "bf16" : "fp32", bf16_ran ? "bf16" : "fp32",
           tr->precision, tr2 ? tr2->precision : "none", th2_med,
           have2 ? th2_med / ours_med : 0.0);
    printf("RESULT cpu %s\n", cpu);
done:
    if (o.model) scorr_model_free(o.model);
    scorr_adamw_free(&o.opt);
    if (o.loader) scorr_loader_close(o.loader);
    scorr_aligned_free(o.flow);
    scorr_aligned_free(o.dflow);
    if (tmp[0]) unlink(tmp);
    if (err) {
        scorr_error_print(stderr, "bench_step");
        return 1;
    }
    return 0;
}
