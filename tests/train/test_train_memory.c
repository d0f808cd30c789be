/* model.memory small against fast through scorr_train (docs/performance.md,
 * Peak memory): variant mt with both networks on one rank (they then share
 * one activation arena, network B's forward runs again before its
 * backward, and the blocks recompute their first conv outputs) and
 * baseline, two steps of a tiny Bottleneck model (depth 50), batch-
 * statistics and frozen batch norm: the first-step gradients (--dump-grads,
 * network A) and the end-of-epoch checkpoint (step 2: both networks' parameters,
 * running statistics and AdamW moments) are bit for bit the same; the
 * run says it shares the arena.
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

static void train(const char *name, int np, const char *variant, const char *bn,
                  const char *memory)
{
    char path[512], text[2048];
    snprintf(path, sizeof path, "%s/%s.yaml", g_dir, name);
    int n = snprintf(text, sizeof text,
                     "name: %s\noutput: %s/runs/%s\nseed: 5\nvariant: %s\n"
                     "data: {file: %s/data.h5, image_size: 64, val_split: none}\n"
                     "model:\n"
                     "  backbone: {depth: 50, width: 8, batchnorm: %s}\n"
                     "  sce: {kernel: 3, channels: 16}\n"
                     "  memory: %s\n"
                     "pseudo: {start_epoch: 0}\n"
                     "train: {epochs: 1, batch_size: 4, max_steps_per_epoch: 2}\n"
                     "checkpoint: {every_steps: none}\n",
                     name, g_dir, name, variant, g_dir, bn, memory);
    if (scorr_write_file_atomic(path, text, (size_t)n)) exit(2);
    CHECK(run("%s -np %d %s/scorr_train %s.yaml --dump-grads %s.grads.h5", g_mpi, np, g_bin,
              name, name) == 0,
          "%s: %s", name, output());
}

/* The largest |difference| of the first-step gradients and of every group
 * of the two runs' checkpoints (-1: missing or unreadable). */
static double compare(const char *a, const char *b, int mt)
{
    static const char *const groups[] = {"/params", "/optim/m", "/optim/v", "/peer/params",
                                         "/peer/optim/m", "/peer/optim/v"};
    char pa[512], pb[512];
    int nt = 0;
    snprintf(pa, sizeof pa, "%s/%s.grads.h5", g_dir, a);
    snprintf(pb, sizeof pb, "%s/%s.grads.h5", g_dir, b);
    double worst = ckpt_max_diff(pa, pb, "/params", &nt);
    int total = nt;
    snprintf(pa, sizeof pa, "%s/runs/%s/checkpoints/step_00000002.h5", g_dir, a);
    snprintf(pb, sizeof pb, "%s/runs/%s/checkpoints/step_00000002.h5", g_dir, b);
    for (int g = 0; g < (mt ? 6 : 3) && worst >= 0; g++) {
        double d = ckpt_max_diff(pa, pb, groups[g], &nt);
        total += nt;
        if (d < 0 || d > worst) worst = d;
    }
    printf("  %s vs %s: %d tensors, max |diff| %.3g\n", a, b, total, worst);
    return worst;
}

int main(int argc, char **argv)
{
    if (scorr_run_args(argc, argv, "test_train_memory", &g_bin, &g_mpi, g_dir, sizeof g_dir)) return 2;
    CHECK(run("%s/scorr_synth --size 64 --pairs 16,0,0 --images-per-category 4 --seed 3 data.h5",
              g_bin) == 0,
          "synth: %s", output());
    static const char *const bns[] = {"batch", "frozen"};
    for (int i = 0; i < 2; i++) {
        char fast[64], small[64];
        snprintf(fast, sizeof fast, "mt_%s_fast", bns[i]);
        snprintf(small, sizeof small, "mt_%s_small", bns[i]);
        train(fast, 1, "mt", bns[i], "fast");
        train(small, 1, "mt", bns[i], "small");
        CHECK(strstr(output(), "share one activation arena"),
              "%s: no line saying the networks share the arena: %s", small, output());
        CHECK(compare(fast, small, 1) == 0, "mt, %s batch norm: model.memory small changes the bits",
              bns[i]);
    }
    train("base_fast", 1, "baseline", "batch", "fast");
    train("base_small", 1, "baseline", "batch", "small");
    CHECK(compare("base_fast", "base_small", 0) == 0,
          "baseline: model.memory small changes the bits");
    /* the comparison can fail: the batch-norm modes give other bits */
    CHECK(compare("mt_batch_fast", "mt_frozen_fast", 1) > 0,
          "batch and frozen batch norm give the same bits");
    int rc = scorr_test_finish("test_train_memory");
    if (rc == 0) run("rm -rf %s", g_dir);
    return rc;
}
