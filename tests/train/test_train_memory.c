/* model.memory small against fast through scorr_train (docs/performance.md,
 * Peak memory): variant mt with both networks on one rank (they then share
 * one activation arena, network B's forward runs again before its
 * backward, and the blocks recompute their first conv outputs) and
 * baseline, two steps of a tiny Bottleneck model (depth 50), batch-
 * statistics and frozen batch norm: the first-step gradients (--dump-grads,
 * network A) and the end-of-epoch checkpoint (step 2: both networks' parameters,
 * running statistics and AdamW moments) are bit for bit the same; the
 * run says it shares the arena.
 * Then the models' arenas given back to the kernel (scorr_model_release)
 * before validation and checkpoint writes (the default) and after every
 * step (SCORR_TEST_RELEASE=step) against never (=0): two epochs with
 * validation, so that a release falls between steps; the gradients, the
 * last checkpoint and best.h5 are bit for bit the same (mt small, batch
 * norm: the shared arena; baseline fast, frozen).
 * Arguments: BIN_DIR MPIEXEC. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ckpt_compare.h"
#include "run.h"
#include "scorr/io.h"

static const char *g_bin, *g_mpi;
static char g_dir[256];

#define run(...) scorr_run_in(g_dir, 300, __VA_ARGS__)
#define output() scorr_run_read(g_dir, "out.txt")

/* Train config `name`: epochs of 2 steps, validated on the val split when
 * val; release: SCORR_TEST_RELEASE's value, NULL = unset (the default). */
static void train_with(const char *name, const char *variant, const char *bn,
                       const char *memory, int epochs, int val, const char *release)
{
    char path[512], text[2048], env[128] = "";
    snprintf(path, sizeof path, "%s/%s.yaml", g_dir, name);
    int n = snprintf(text, sizeof text,
                     "name: %s\noutput: %s/runs/%s\nseed: 5\nvariant: %s\n"
                     "data: {file: %s/data.h5, image_size: 64, val_split: %s}\n"
                     "model:\n"
                     "  backbone: {depth: 50, width: 8, batchnorm: %s}\n"
                     "  sce: {kernel: 3, channels: 16}\n"
                     "  memory: %s\n"
                     "pseudo: {start_epoch: 0}\n"
                     "train: {epochs: %d, batch_size: 4, max_steps_per_epoch: 2}\n"
                     "checkpoint: {every_steps: none}\n",
                     name, g_dir, name, variant, g_dir, val ? "val" : "none", bn, memory, epochs);
    if (scorr_write_file_atomic(path, text, (size_t)n)) exit(2);
    if (release)
        snprintf(env, sizeof env, "env SCORR_TEST_RELEASE=%s %s -x SCORR_TEST_RELEASE", release,
                 g_mpi);
    else
        snprintf(env, sizeof env, "%s", g_mpi);
    CHECK(run("%s -np 1 %s/scorr_train %s.yaml --dump-grads %s.grads.h5", env, g_bin, name,
              name) == 0,
          "%s: %s", name, output());
}

static void train(const char *name, const char *variant, const char *bn, const char *memory)
{
    train_with(name, variant, bn, memory, 1, 0, NULL);
}

/* The largest |difference| of the first-step gradients and of every group
 * of the two runs' checkpoints (-1: missing or unreadable). */
static double compare_at(const char *a, const char *b, int mt, int step, int best)
{
    static const char *const groups[] = {"/params", "/optim/m", "/optim/v", "/peer/params",
                                         "/peer/optim/m", "/peer/optim/v"};
    char pa[512], pb[512];
    int nt = 0;
    snprintf(pa, sizeof pa, "%s/%s.grads.h5", g_dir, a);
    snprintf(pb, sizeof pb, "%s/%s.grads.h5", g_dir, b);
    double worst = ckpt_max_diff(pa, pb, "/params", &nt);
    int total = nt;
    snprintf(pa, sizeof pa, "%s/runs/%s/checkpoints/step_%08d.h5", g_dir, a, step);
    snprintf(pb, sizeof pb, "%s/runs/%s/checkpoints/step_%08d.h5", g_dir, b, step);
    for (int g = 0; g < (mt ? 6 : 3) && worst >= 0; g++) {
        double d = ckpt_max_diff(pa, pb, groups[g], &nt);
        total += nt;
        if (d < 0 || d > worst) worst = d;
    }
    if (best && worst >= 0) {
        snprintf(pa, sizeof pa, "%s/runs/%s/best.h5", g_dir, a);
        snprintf(pb, sizeof pb, "%s/runs/%s/best.h5", g_dir, b);
        double d = ckpt_max_diff(pa, pb, "/params", &nt);
        total += nt;
        if (d < 0 || d > worst) worst = d;
    }
    printf("  %s vs %s: %d tensors, max |diff| %.3g\n", a, b, total, worst);
    return worst;
}

static double compare(const char *a, const char *b, int mt) { return compare_at(a, b, mt, 2, 0); }

int main(int argc, char **argv)
{
    if (scorr_run_args(argc, argv, "test_train_memory", &g_bin, &g_mpi, g_dir, sizeof g_dir)) return 2;
    CHECK(run("%s/scorr_synth --size 64 --pairs 16,4,0 --images-per-category 4 --seed 3 data.h5",
              g_bin) == 0,
          "synth: %s", output());
    static const char *const bns[] = {"batch", "frozen"};
    for (int i = 0; i < 2; i++) {
        char fast[64], small[64];
        snprintf(fast, sizeof fast, "mt_%s_fast", bns[i]);
        snprintf(small, sizeof small, "mt_%s_small", bns[i]);
        train(fast, "mt", bns[i], "fast");
        train(small, "mt", bns[i], "small");
        CHECK(strstr(output(), "share one activation arena"),
              "%s: no line saying the networks share the arena: %s", small, output());
        CHECK(compare(fast, small, 1) == 0, "mt, %s batch norm: model.memory small changes the bits",
              bns[i]);
    }
    train("base_fast", "baseline", "batch", "fast");
    train("base_small", "baseline", "batch", "small");
    CHECK(compare("base_fast", "base_small", 0) == 0,
          "baseline: model.memory small changes the bits");
    /* the comparison can fail: the batch-norm modes give other bits */
    CHECK(compare("mt_batch_fast", "mt_frozen_fast", 1) > 0,
          "batch and frozen batch norm give the same bits");
    /* the release: default and every step against never, two epochs (a
     * checkpoint and a validation between their steps) */
    static const struct {
        const char *variant, *bn, *memory;
        int mt;
    } rel[] = {{"mt", "batch", "small", 1}, {"baseline", "frozen", "fast", 0}};
    for (int i = 0; i < 2; i++) {
        char never[64], deflt[64], step[64];
        snprintf(never, sizeof never, "rel_%s_never", rel[i].variant);
        snprintf(deflt, sizeof deflt, "rel_%s_default", rel[i].variant);
        snprintf(step, sizeof step, "rel_%s_step", rel[i].variant);
        train_with(never, rel[i].variant, rel[i].bn, rel[i].memory, 2, 1, "0");
        train_with(deflt, rel[i].variant, rel[i].bn, rel[i].memory, 2, 1, NULL);
        train_with(step, rel[i].variant, rel[i].bn, rel[i].memory, 2, 1, "step");
        CHECK(strstr(output(), "val PCK"), "%s: no validation ran: %s", step, output());
        CHECK(compare_at(never, deflt, rel[i].mt, 4, 1) == 0,
              "%s: releasing the arenas before validation and checkpoints changes the bits",
              rel[i].variant);
        CHECK(compare_at(never, step, rel[i].mt, 4, 1) == 0,
              "%s: releasing the arenas after every step changes the bits", rel[i].variant);
    }
    int rc = scorr_test_finish("test_train_memory");
    if (rc == 0) run("rm -rf %s", g_dir);
    return rc;
}
