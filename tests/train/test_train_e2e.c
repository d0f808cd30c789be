/* scorr_train end to end on a tiny synthetic dataset, through the real
 * binaries under mpirun:
 *   - the same config and seed give the same weights at 1, 2 and 4 ranks
 *     (baseline, and mt over two rank groups), within float reduction error;
 *   - a run stopped mid-epoch and resumed ends with exactly the weights of an
 *     uninterrupted one (baseline at 1 rank, mt at 2 ranks, pseudo-loss on);
 *   - the same with a learned soft-argmax grid (mt, model.learn_grid);
 *   - st trains from a baseline teacher;
 *   - the pseudo-label precision columns of epochs.csv (the trn split has
 *     dense flow here): empty before pseudo.start_epoch, in [0, 1] after,
 *     the counts of candidates and outside positions the same at 1, 2 and 4
 *     ranks and the precisions within float reduction error;
 *   - bad inputs fail before training, on every rank, with a clear message
 *     and without a hang; a NaN loss stops the run.
 * Arguments: BIN_DIR MPIEXEC. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "ckpt_compare.h"
#include "scorr/h5.h"
#include "scorr/io.h"

static const char *g_bin, *g_mpi;
static char g_dir[256];

#define run(...) scorr_run_in(g_dir, 120, __VA_ARGS__)

#define output() scorr_run_read(g_dir, "out.txt")

static void write_cfg(const char *name, const char *variant, const char *extra)
{
    char path[512], text[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", g_dir, name);
    int n = snprintf(text, sizeof text,
                     "name: %s\n"
                     "output: %s/runs/%s\n"
                     "seed: 5\n"
                     "variant: %s\n"
                     "data: {file: %s/data.h5, image_size: 64}\n"
                     "model:\n"
                     "  backbone: {depth: 18, width: 8, batchnorm: frozen}\n"
                     "  sce: {kernel: 3, channels: 16}\n"
                     "  upsample: 4\n"
                     "pseudo: {start_epoch: 1, selection: {ramp_epochs: 2}}\n"
                     "optim: {lr: 1.0e-3, lr_backbone: 1.0e-3}\n"
                     "train: {epochs: 2, batch_size: 8}\n"
                     "checkpoint: {every_steps: 2, keep_last: 1}\n"
                     "log: {every_steps: 1}\n"
                     "%s",
                     name, g_dir, name, variant, g_dir, extra ? extra : "");
    if (scorr_write_file_atomic(path, text, (size_t)n)) exit(2);
}

static void last_ckpt(const char *run, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls %s/runs/%s/checkpoints/step_*.h5 2>/dev/null | tail -1", g_dir, run);
    FILE *p = popen(cmd, "r");
    out[0] = 0;
    if (p && fgets(out, (int)n, p)) out[strcspn(out, "\n")] = 0;
    if (p) pclose(p);
}

static double compare_runs(const char *a, const char *b, const char *group)
{
    char pa[1024], pb[1024];
    last_ckpt(a, pa, sizeof pa);
    last_ckpt(b, pb, sizeof pb);
    int nt = 0;
    double d = ckpt_max_diff(pa, pb, group, &nt);
    printf("  %s vs %s %s: %d tensors, max |diff| %.3g\n", a, b, group, nt, d);
    return d;
}

#define TRAIN(np, name) run("%s -np %d %s/scorr_train %s.yaml", g_mpi, (np), g_bin, (name))

/* model.learn_grid in mt at 2 ranks: both networks train their grids
 * (x_normal, y_normal of 16 cells move away from linspace), and a run
 * stopped and resumed (grid, its Adam moments) equals the uninterrupted one. */
static void learned_grid(void)
{
    const char *grid = "sed -i 's/^  upsample: 4$/  upsample: 4\\n  learn_grid: true/' %s.yaml";
    write_cfg("grid_base", "mt", NULL);
    run(grid, "grid_base");
    write_cfg("grid_cut", "mt", NULL);
    run(grid, "grid_cut");
    CHECK(TRAIN(2, "grid_base") == 0, "learn_grid: %s", output());
    int rc = run("%s -np 2 %s/scorr_train grid_cut.yaml --stop-after-steps 5", g_mpi, g_bin);
    CHECK(rc == 3, "learn_grid stop exit %d: %s", rc, output());
    CHECK(TRAIN(2, "grid_cut") == 0, "learn_grid resume: %s", output());
    CHECK(compare_runs("grid_base", "grid_cut", "/params") == 0, "learn_grid resumed A differs");
    CHECK(compare_runs("grid_base", "grid_cut", "/peer/params") == 0,
          "learn_grid resumed B differs");
    char ck[1024];
    last_ckpt("grid_base", ck, sizeof ck);
    const char *names[4] = {"/params/x_normal", "/params/y_normal", "/peer/params/x_normal",
                            "/peer/params/y_normal"};
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    CHECK_OK(scorr_h5_open(&f, ck));
    for (int k = 0; k < 4; k++) {
        float g[16];
        int64_t shape[1] = {16};
        double moved = 0;
        CHECK_OK(scorr_h5_read(&f, names[k], SCORR_F32, 1, shape, g));
        for (int i = 0; i < 16; i++) moved = fmax(moved, fabs(g[i] - (i * 2.0 / 15 - 1.0)));
        printf("  learn_grid: %s moved by up to %.3g\n", names[k], moved);
        CHECK(moved > 1e-4 && moved < 0.5, "%s moved by %g", names[k], moved);
    }
    scorr_h5_close(&f);
}

/* Lines in a file (0 if missing). */
static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f) return 0;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* Preemption: SIGUSR1 to mpirun (what the SLURM template forwards) while
 * training; mpirun passes it to the ranks, which checkpoint at the next step
 * boundary and exit 3; the next run resumes from that checkpoint. */
static void preemption(void)
{
    write_cfg("sig", "baseline", NULL);
    run("sed -i 's/epochs: 2,/epochs: 40,/' sig.yaml");
    char cmd[2048], steps[512];
    snprintf(cmd, sizeof cmd, "cd %s && exec %s -np 2 %s/scorr_train sig.yaml > sig.out 2>&1",
             g_dir, g_mpi, g_bin);
    snprintf(steps, sizeof steps, "%s/runs/sig/steps.csv", g_dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* wait until a few steps are logged (at most 60 s) */
    for (int i = 0; i < 600 && count_lines(steps) < 4; i++) usleep(100000);
    CHECK(count_lines(steps) >= 4, "training did not start within 60 s");
    kill(pid, SIGUSR1);
    int st = 0;
    waitpid(pid, &st, 0);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char out[1024];
    snprintf(out, sizeof out, "cat %s/sig.out > %s/out.txt", g_dir, g_dir);
    if (system(out) != 0) fprintf(stderr, "could not copy sig.out\n");
    CHECK(rc == 3, "SIGUSR1 to mpirun: exit %d, want 3 (stopped with a checkpoint):\n%s", rc,
          output());
    CHECK(strstr(output(), "checkpoint written") != NULL, "no stop message:\n%s", output());
    rc = run("%s -np 2 %s/scorr_train sig.yaml --stop-after-steps 2", g_mpi, g_bin);
    CHECK(rc == 3 && strstr(output(), "resuming from"), "after the signal the run did not resume (%d):\n%s",
          rc, output());
}

/* Rank independence: the same config at 1, 2 and 4 ranks. The first
 * step's gradients, summed over the ranks, must agree to float reduction
 * error (a layout bug such as a per-rank loss normaliser or a wrong sample
 * share changes them by far more).
 *
 * Frozen batch norm: within 1e-5, and after two epochs the weights must
 * still agree closely (Adam's first steps are nearly sign(g) and training
 * amplifies rounding, so the bound there is a sanity bound).
 *
 * Batch statistics (bn_batch), synchronised over the group's ranks
 * (SyncBatchNorm), one step: within 2e-4 of each tensor's largest gradient
 * (measured 3.6e-5: batch-norm gradients are larger, up to 8, and its
 * backward subtracts means; per-rank statistics, over 2 pairs instead of 4,
 * gave relative differences of 3.2). mt at 4 ranks: two ranks per peer.
 *
 * A frozen backbone (freeze_backbone), one step: only the head's gradients
 * are summed over the ranks (the trainer's gradient spans); within 1e-5. */
enum { RI_FULL, RI_BN_BATCH, RI_FROZEN_BACKBONE };
static void rank_independence(const char *variant, int mode)
{
    static const char *const tag[3] = {"", "bn_", "fz_"};
    static const char *const edit[3] = {NULL, "s/batchnorm: frozen/batchnorm: batch/",
                                        "s/batchnorm: frozen}/batchnorm: frozen, freeze: true}/"};
    const int bn_batch = mode == RI_BN_BATCH, one_step = mode != RI_FULL;
    char name[3][64];
    const int nps[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        snprintf(name[i], sizeof name[i], "%s%s_np%d", tag[mode], variant, nps[i]);
        write_cfg(name[i], variant, NULL);
        if (edit[mode]) run("sed -i '%s' %s.yaml", edit[mode], name[i]);
        CHECK(run("%s -np %d %s/scorr_train %s.yaml %s--dump-grads %s.grads.h5", g_mpi, nps[i],
                  g_bin, name[i], one_step ? "--stop-after-steps 1 " : "", name[i]) ==
                  (one_step ? 3 : 0),
              "%s: %s", name[i], output());
    }
    for (int i = 1; i < 3; i++) {
        char ga[512], gb[512];
        snprintf(ga, sizeof ga, "%s/%s.grads.h5", g_dir, name[0]);
        snprintf(gb, sizeof gb, "%s/%s.grads.h5", g_dir, name[i]);
        int nt = 0;
        double dg = bn_batch ? ckpt_max_rel_diff(ga, gb, "/params", &nt)
                             : ckpt_max_diff(ga, gb, "/params", &nt);
        const double bound = bn_batch ? 2e-4 : 1e-5;
        printf("  %s vs %s first-step gradients: %d tensors, max %s|diff| %.3g\n", name[0],
               name[i], nt, bn_batch ? "relative " : "", dg);
        CHECK(dg >= 0 && dg < bound, "%s: first-step gradients differ by %g (bound %g)", name[i],
              dg, bound);
        if (one_step) continue;
        const char *groups[2] = {"/params", "/peer/params"};
        for (int g = 0; g < (strcmp(variant, "mt") ? 1 : 2); g++) {
            double d = compare_runs(name[0], name[i], groups[g]);
            CHECK(d >= 0 && d < 2e-2, "%s %s after two epochs: %g", name[i], groups[g], d);
        }
    }
}

/* The pseudo-label columns (pl_cand_n .. pl_out_prec) of epochs.csv row
 * (epoch, net) of a run; returns the number of non-empty ones (-1: no row). */
static int pl_columns(const char *run, int epoch, int net, double v[6])
{
    char path[512], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/runs/%s/epochs.csv", g_dir, run);
    if (scorr_read_file(path, &text, &len)) return -1;
    CHECK(strstr(text, ",pl_cand_n,pl_cand_prec,pl_sel_n,pl_sel_prec,pl_out_n,pl_out_prec,"),
          "%s: epochs.csv header lacks the pseudo-label columns", path);
    int found = -1;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        if (atoi(line + 1) != epoch || atoi(strchr(line + 1, ',') + 1) != net) continue;
        char *p = line + 1;
        for (int col = 0; col < 11; col++) p = strchr(p, ',') + 1;
        found = 0;
        for (int j = 0; j < 6; j++) {
            v[j] = NAN;
            if (*p != ',' && *p != '\n' && *p) v[j] = atof(p), found++;
            p += strcspn(p, ",\n");
            if (*p == ',') p++;
        }
        break;
    }
    free(text);
    return found;
}

/* mt runs at 1, 2 and 4 ranks (rank_independence): pseudo-label precision. */
static void pseudo_label_columns(void)
{
    double ref[2][6];
    const char *runs[3] = {"mt_np1", "mt_np2", "mt_np4"};
    for (int r = 0; r < 3; r++)
        for (int net = 0; net < 2; net++) {
            double v[6];
            CHECK(pl_columns(runs[r], 0, net, v) == 0,
                  "%s net %d: pseudo-label columns filled before pseudo.start_epoch", runs[r], net);
            CHECK(pl_columns(runs[r], 1, net, v) == 6, "%s net %d epoch 1: not 6 columns",
                  runs[r], net);
            printf("  %s net %d: candidates %g precision %.4f, selected %g %.4f, outside %g "
                   "%.4f\n", runs[r], net, v[0], v[1], v[2], v[3], v[4], v[5]);
            for (int j = 1; j < 6; j += 2)
                CHECK(v[j] >= 0 && v[j] <= 1, "%s: precision %g outside [0, 1]", runs[r], v[j]);
            CHECK(v[0] > 0 && v[2] > 0 && v[2] <= v[0] && v[4] > 0, "%s: counts %g %g %g",
                  runs[r], v[0], v[2], v[4]);
            if (r == 0) {
                memcpy(ref[net], v, sizeof v);
                continue;
            }
            CHECK(v[0] == ref[net][0] && v[4] == ref[net][4],
                  "%s net %d: candidate/outside counts %g %g differ from 1 rank's %g %g", runs[r],
                  net, v[0], v[4], ref[net][0], ref[net][4]);
            for (int j = 1; j < 6; j += 2)
                CHECK(fabs(v[j] - ref[net][j]) <= 0.02, "%s net %d column %d: %g vs 1 rank %g",
                      runs[r], net, j, v[j], ref[net][j]);
            /* Which candidates the small-loss selection keeps depends on
             * near-ties between losses, and at 4 ranks the weights after an
             * epoch differ from 1 rank's by float reduction order: measured
             * 177 vs 183 (3.3 %) after the rank-ordered gradient exchange,
             * 220 vs 222 before it. The candidate counts above are exact. */
            CHECK(fabs(v[2] - ref[net][2]) <= 0.05 * ref[net][2],
                  "%s net %d: selected count %g vs 1 rank %g", runs[r], net, v[2], ref[net][2]);
        }
}

static void expect_error(int np, const char *name, const char *needle)
{
    int rc = TRAIN(np, name);
    const char *out = output();
    CHECK(rc == 1, "%s at %d ranks: exit %d, want 1; output:\n%s", name, np, rc, out);
    CHECK(strstr(out, needle) != NULL, "%s: message lacks '%s':\n%s", name, needle, out);
}

int main(int argc, char **argv)
{
    if (scorr_run_args(argc, argv, "test_train_e2e", &g_bin, &g_mpi, g_dir, sizeof g_dir)) return 2;
    CHECK(run("%s/scorr_synth --size 64 --pairs 48,16,16 --images-per-category 12 --seed 3 "
              "--trn-dense-flow data.h5", g_bin) == 0, "synth: %s", output());

    /* 1. Rank independence, frozen and batch-statistics batch norm. */
    const char *variants[2] = {"baseline", "mt"};
    for (int mode = RI_FULL; mode <= RI_FROZEN_BACKBONE; mode++)
        for (int v = 0; v < 2; v++) rank_independence(variants[v], mode);
    pseudo_label_columns();
    char gf[512], gbn[512];
    snprintf(gf, sizeof gf, "%s/baseline_np1.grads.h5", g_dir);
    snprintf(gbn, sizeof gbn, "%s/bn_baseline_np1.grads.h5", g_dir);
    CHECK(ckpt_max_diff(gf, gbn, "/params", NULL) > 1e-4,
          "batch statistics give the frozen gradients: batch norm mode not applied");
    snprintf(gbn, sizeof gbn, "%s/fz_baseline_np1.grads.h5", g_dir);
    CHECK(ckpt_max_diff(gf, gbn, "/params", NULL) > 1e-4,
          "a frozen backbone gives the trained backbone's gradients: freeze not applied");

    /* The comparisons can fail: two different networks differ. */
    double dab = compare_runs("baseline_np1", "mt_np1", "/params");
    CHECK(dab > 1e-3, "different runs compare equal (%g): the comparison cannot fail", dab);
    write_cfg("seed6", "baseline", NULL);
    run("sed -i 's/seed: 5/seed: 6/' seed6.yaml");
    CHECK(run("%s/scorr_train seed6.yaml --stop-after-steps 1 --dump-grads seed6.grads.h5", g_bin) == 3,
          "seed6: %s", output());
    char g1[512], g2[512];
    snprintf(g1, sizeof g1, "%s/baseline_np1.grads.h5", g_dir);
    snprintf(g2, sizeof g2, "%s/seed6.grads.h5", g_dir);
    CHECK(ckpt_max_diff(g1, g2, "/params", NULL) > 1e-4, "different gradients compare equal");

    /* 2. Resume == uninterrupted (same ranks, same threads: bit for bit). */
    write_cfg("resume_base", "baseline", NULL);
    CHECK(TRAIN(1, "resume_base") == 0, "%s", output());
    write_cfg("resume_cut", "baseline", NULL);
    int rc = run("%s -np 1 %s/scorr_train resume_cut.yaml --stop-after-steps 5", g_mpi, g_bin);
    CHECK(rc == 3, "stop-after-steps exit %d: %s", rc, output());
    CHECK(TRAIN(1, "resume_cut") == 0, "resume: %s", output());
    CHECK(strstr(output(), "resuming from") != NULL, "no resume message: %s", output());
    double dr = compare_runs("resume_base", "resume_cut", "/params");
    CHECK(dr == 0, "baseline resumed differs from uninterrupted: %g", dr);

    write_cfg("resume_mt_cut", "mt", NULL);
    rc = run("%s -np 2 %s/scorr_train resume_mt_cut.yaml --stop-after-steps 9", g_mpi, g_bin);
    CHECK(rc == 3, "mt stop exit %d: %s", rc, output());
    CHECK(TRAIN(2, "resume_mt_cut") == 0, "mt resume: %s", output());
    CHECK(compare_runs("mt_np2", "resume_mt_cut", "/params") == 0, "mt resumed A differs");
    CHECK(compare_runs("mt_np2", "resume_mt_cut", "/peer/params") == 0, "mt resumed B differs");
    CHECK(TRAIN(2, "resume_mt_cut") == 0 && strstr(output(), "already trained"),
          "finished run not recognised: %s", output());
    learned_grid();

    preemption();

    /* 3. st from the baseline teacher (a run folder). */
    char extra[1024];
    snprintf(extra, sizeof extra, "teacher: {checkpoint: %s/runs/baseline_np1}\n", g_dir);
    write_cfg("st", "st", extra);
    CHECK(TRAIN(2, "st") == 0, "st: %s", output());

    /* 4. Bad inputs: a clear message, exit 1, every rank, no hang. */
    write_cfg("bad_data", "baseline", NULL);
    run("sed -i 's#data.h5#nodata.h5#' bad_data.yaml");
    expect_error(2, "bad_data", "nodata.h5");
    write_cfg("bad_size", "baseline", NULL);
    run("sed -i 's/image_size: 64/image_size: 128/' bad_size.yaml");
    expect_error(2, "bad_size", "data.image_size");
    write_cfg("bad_batch", "baseline", NULL);
    expect_error(3, "bad_batch", "not divisible");
    write_cfg("bad_mt", "mt", NULL);
    expect_error(3, "bad_mt", "cannot be split in two");
    write_cfg("bad_out", "baseline", NULL);
    run("sed -i 's#^output: .*#output: /proc/scorr/run#' bad_out.yaml");
    expect_error(2, "bad_out", "/proc/scorr");
    snprintf(extra, sizeof extra, "teacher: {checkpoint: %s/runs/baseline_np1/best.h5}\n", g_dir);
    write_cfg("bad_teacher", "st", extra);
    run("sed -i 's/width: 8/width: 16/' bad_teacher.yaml");
    expect_error(2, "bad_teacher", "model.backbone.width");
    write_cfg("bad_key", "baseline", "optim: {lr: 1.0e-3, learning_rate: 2}\n");
    expect_error(2, "bad_key", "bad_key.yaml");
    /* A NaN loss on one rank (injected at step 5) stops every rank before the
     * update; the step-4 checkpoint stays the latest and the run resumes. */
    write_cfg("nan", "baseline", NULL);
    rc = run("env SCORR_TEST_INJECT_NAN_STEP=5 %s -x SCORR_TEST_INJECT_NAN_STEP -np 2 "
             "%s/scorr_train nan.yaml", g_mpi, g_bin);
    CHECK(rc == 7, "NaN run exit %d (want 7, diverged): %s", rc, output());
    CHECK(strstr(output(), "NaN") && strstr(output(), "global step 5"), "NaN message: %s", output());
    CHECK(TRAIN(2, "nan") == 0 && strstr(output(), "step_00000004.h5"),
          "NaN run did not resume from its last good checkpoint: %s", output());

    if (!scorr_test_failures) run("rm -rf %s", g_dir);
    return scorr_test_finish("test_train_e2e");
}
