/* Warp pretraining end to end, through the real binaries:
 *   - scorr_synth --pretrain writes an image-only set of categories the
 *     benchmark does not use;
 *   - a short variant-warp run on it lowers its validation dense EPE (and
 *     its training loss); its first-step gradients at 2 ranks equal 1 rank's;
 *     stopped and resumed, it ends where an uninterrupted run does;
 *   - fine-tuning starts from its best.h5: model.weights gives every tensor
 *     of it (the run's init.h5 equals best.h5), model.backbone.weights the
 *     backbone's only (the head keeps its own initialisation), and a
 *     mismatched architecture is an error naming the key and the tensor.
 * Arguments: BIN_DIR MPIEXEC. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "ckpt_compare.h"
#include "scorr/h5.h"
#include "scorr/io.h"

static const char *g_bin, *g_mpi;
static char g_dir[256];

#define run(...) scorr_run_in(g_dir, 300, __VA_ARGS__)

#define output() scorr_run_read(g_dir, "out.txt")

static void write_cfg(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", g_dir, name);
    if (scorr_write_file_atomic(path, text, strlen(text))) exit(2);
}

#define BACKBONE "  backbone: {depth: 18, width: 8, batchnorm: batch}\n"

/* A run's config: variant, dataset, the model's keys other than sce (the
 * backbone line included), SCE channels, epochs. */
static void cfg(const char *name, const char *variant, const char *data, const char *model,
                int channels, int epochs)
{
    char text[2048];
    snprintf(text, sizeof text,
             "name: %s\noutput: runs/%s\nseed: 3\nvariant: %s\n"
             "data: {file: %s, image_size: 64}\n"
             "model:\n%s"
             "  sce: {kernel: 3, channels: %d}\n"
             "pseudo: {start_epoch: 0}\n"
             "optim: {lr: 1.0e-3, lr_backbone: 1.0e-3}\n"
             "train: {epochs: %d, batch_size: 8}\n"
             "warp: {repeat: 2}\n"
             "checkpoint: {every_steps: none}\n"
             "log: {every_steps: 1}\n",
             name, name, variant, data, model, channels, epochs);
    write_cfg(name, text);
}

/* Column `name` of the rows of <run>/<file> (a CSV with a header), into v
 * (max n); returns the rows read. */
static int csv_column(const char *run_name, const char *file, const char *name, double *v, int n)
{
    char path[512], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/runs/%s/%s", g_dir, run_name, file);
    if (scorr_read_file(path, &text, &len)) return 0;
    int k = 0, col = 0;
    char *line = strchr(text, '\n');
    if (line) *line = 0;
    for (char *h = strtok(text, ","); h && strcmp(h, name); h = strtok(NULL, ",")) col++;
    if (line) *line = '\n';
    while (line && line[1] && k < n) {
        line++;
        char *p = line;
        for (int c = 0; c < col && p; c++) {
            p = strchr(p, ',');
            if (p) p++;
        }
        if (p) v[k++] = atof(p);
        line = strchr(line, '\n');
    }
    free(text);
    return k;
}

/* Largest |a - b| of one tensor in two files' /params. */
static double tensor_diff(const char *a, const char *b, const char *name)
{
    struct scorr_h5 fa = {.id = H5I_INVALID_HID}, fb = {.id = H5I_INVALID_HID};
    char pa[512], pb[512], ds[256];
    int nd = 0;
    int64_t dims[8];
    double d = -1;
    float *x = NULL, *y = NULL;
    snprintf(pa, sizeof pa, "%s/%s", g_dir, a);
    snprintf(pb, sizeof pb, "%s/%s", g_dir, b);
    snprintf(ds, sizeof ds, "/params/%s", name);
    if (scorr_h5_open(&fa, pa) || scorr_h5_open(&fb, pb) || scorr_h5_shape(&fa, ds, &nd, dims))
        goto done;
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    x = malloc(n * sizeof *x), y = malloc(n * sizeof *y);
    if (scorr_h5_read(&fa, ds, SCORR_F32, nd, dims, x) || scorr_h5_read(&fb, ds, SCORR_F32, nd, dims, y))
        goto done;
    d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)x[i] - y[i]));
done:
    scorr_h5_close(&fa);
    scorr_h5_close(&fb);
    free(x), free(y);
    return d;
}

int main(int argc, char **argv)
{
    if (scorr_run_args(argc, argv, "test_train_warp", &g_bin, &g_mpi, g_dir, sizeof g_dir)) return 2;
    CHECK(run("%s/scorr_synth --pretrain --size 64 --images-per-category 12 --seed 2 pre.h5",
              g_bin) == 0, "synth --pretrain: %s", output());
    CHECK(strstr(output(), "not in a 6-category benchmark"), "pretrain message: %s", output());
    CHECK(run("%s/scorr_synth --size 64 --pairs 48,16,16 --images-per-category 12 --seed 3 "
              "data.h5", g_bin) == 0, "synth: %s", output());

    /* 1. A short warp run lowers its dense EPE: the validation EPE falls
     * from epoch to epoch and ends well below the untrained network's loss
     * (the first steps' dense EPE on training pairs of the same law). */
    cfg("warp", "warp", "pre.h5", BACKBONE, 16, 4);
    CHECK(run("%s/scorr_train warp.yaml", g_bin) == 0, "warp run: %s", output());
    double epe[8], first[4];
    int ne = csv_column("warp", "epochs.csv", "val_epe", epe, 8);
    int nf = csv_column("warp", "steps.csv", "loss_gt", first, 4);
    CHECK(ne == 4 && nf == 4, "%d val_epe rows (want 4), %d steps", ne, nf);
    if (ne == 4 && nf == 4) {
        double f = (first[0] + first[1] + first[2] + first[3]) / 4;
        printf("  warp run: first 4 steps' EPE %.3f; val EPE by epoch %.3f %.3f %.3f %.3f\n", f,
               epe[0], epe[1], epe[2], epe[3]);
        CHECK(epe[3] < 0.95 * epe[0] && epe[3] < 0.6 * f,
              "the warp run did not lower its dense EPE: first steps %.3f, val %.3f -> %.3f", f,
              epe[0], epe[3]);
    }
    CHECK(strstr(output(), "best val EPE"), "no EPE in the log: %s", output());

    /* 2. Rank independence of the warp step: first-step gradients. */
    cfg("w1", "warp", "pre.h5", BACKBONE, 16, 1);
    cfg("w2", "warp", "pre.h5", BACKBONE, 16, 1);
    CHECK(run("%s -np 1 %s/scorr_train w1.yaml --stop-after-steps 1 --dump-grads w1.h5", g_mpi,
              g_bin) == 3, "w1: %s", output());
    CHECK(run("%s -np 2 %s/scorr_train w2.yaml --stop-after-steps 1 --dump-grads w2.h5", g_mpi,
              g_bin) == 3, "w2: %s", output());
    char ga[512], gb[512];
    snprintf(ga, sizeof ga, "%s/w1.h5", g_dir);
    snprintf(gb, sizeof gb, "%s/w2.h5", g_dir);
    int nt = 0;
    double dg = ckpt_max_rel_diff(ga, gb, "/params", &nt);
    printf("  warp first-step gradients, 1 vs 2 ranks: %d tensors, max relative |diff| %.3g\n",
           nt, dg);
    CHECK(dg >= 0 && dg < 2e-4, "warp gradients at 2 ranks differ from 1 rank's by %g", dg);

    /* Resume: a warp run stopped mid-epoch and resumed ends with exactly the
     * weights of an uninterrupted one (the warps are keyed by (seed, epoch,
     * sample), not by what was loaded before). */
    cfg("wa", "warp", "pre.h5", BACKBONE, 16, 2);
    cfg("wb", "warp", "pre.h5", BACKBONE, 16, 2);
    CHECK(run("%s/scorr_train wa.yaml", g_bin) == 0, "wa: %s", output());
    CHECK(run("%s/scorr_train wb.yaml --stop-after-steps 5", g_bin) == 3, "wb stop: %s", output());
    CHECK(run("%s/scorr_train wb.yaml", g_bin) == 0 && strstr(output(), "resuming from"),
          "wb resume: %s", output());
    char ra[512], rb[512];
    snprintf(ra, sizeof ra, "%s/runs/wa/best.h5", g_dir);
    snprintf(rb, sizeof rb, "%s/runs/wb/best.h5", g_dir);
    double dres = ckpt_max_diff(ra, rb, "/params", &nt);
    CHECK(dres == 0, "warp run resumed differs from the uninterrupted one by %g", dres);

    /* 3. Fine-tuning from the pretrained network. */
    const char *bb = "feature_extraction.backbone.layer1.0.conv1.weight", *head = "SCEs.0.conv.weight";
    cfg("ft_all", "baseline", "data.h5", "  weights: runs/warp/best.h5\n" BACKBONE, 16, 1);
    CHECK(run("%s/scorr_train ft_all.yaml --stop-after-steps 1", g_bin) == 3, "ft_all: %s",
          output());
    char ia[512], ib[512];
    snprintf(ia, sizeof ia, "%s/runs/ft_all/init.h5", g_dir);
    snprintf(ib, sizeof ib, "%s/runs/warp/best.h5", g_dir);
    double dall = ckpt_max_diff(ia, ib, "/params", &nt);
    CHECK(dall == 0, "model.weights: init.h5 differs from the pretrained best.h5 by %g", dall);
    cfg("ft_bb", "baseline", "data.h5",
        "  backbone: {depth: 18, width: 8, batchnorm: batch, weights: runs/warp/best.h5}\n", 16, 1);
    CHECK(run("%s/scorr_train ft_bb.yaml --stop-after-steps 1", g_bin) == 3, "ft_bb: %s",
          output());
    double dbb = tensor_diff("runs/ft_bb/init.h5", "runs/warp/best.h5", bb);
    double dhead = tensor_diff("runs/ft_bb/init.h5", "runs/warp/best.h5", head);
    CHECK(dbb == 0, "model.backbone.weights: backbone tensor differs by %g", dbb);
    CHECK(dhead > 1e-3, "model.backbone.weights: the head was loaded too (diff %g)", dhead);

    /* 4. Mismatches name the key and the tensor. */
    cfg("bad_all", "baseline", "data.h5", "  weights: runs/warp/best.h5\n" BACKBONE, 24, 1);
    CHECK(run("%s/scorr_train bad_all.yaml", g_bin) == 1, "bad_all: %s", output());
    CHECK(strstr(output(), "model.weights") && strstr(output(), "model.sce.channels") &&
              strstr(output(), head),
          "model.weights mismatch message: %s", output());
    cfg("bad_bb", "baseline", "data.h5",
        "  backbone: {depth: 18, width: 16, batchnorm: batch, weights: runs/warp/best.h5}\n", 16, 1);
    CHECK(run("%s/scorr_train bad_bb.yaml", g_bin) == 1, "bad_bb: %s", output());
    CHECK(strstr(output(), "model.backbone.weights") &&
              strstr(output(), "feature_extraction.backbone.conv1.weight"),
          "model.backbone.weights mismatch message: %s", output());

    if (!scorr_test_failures) run("rm -rf %s", g_dir);
    return scorr_test_finish("test_train_warp");
}
