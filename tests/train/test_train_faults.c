/* scorr_train under faults a long cluster run meets (docs/reliability.md),
 * through the real binary on a tiny synthetic dataset:
 *   1. exit codes: every failure prints its message and none exits with the
 *      "stopped, resumable" status 3 (a directory as the config, out of
 *      memory under ulimit -v);
 *   2. divergence: NaN/Inf gradients or weights stop the run with status 7
 *      naming the step and the tensor, and no checkpoint or best.h5 holding
 *      them is written; NaN keypoints in a dataset are refused at load;
 *   4. a full disk (a small tmpfs, skipped where mounting is not allowed)
 *      ends with "disk full", status 6, no temporary left, no crash;
 *   5. metrics and the output folder: epochs.csv of a resumed run equals the
 *      uninterrupted one, a finished run leaves summary.json alone, a second
 *      run on the same folder is refused, stale temporaries are removed, and
 *      unreadable checkpoints are not silently replaced by a fresh start;
 *      <output>/STOP stops a run like a signal (item 3).
 * Arguments: BIN_DIR MPIEXEC. */
#define _GNU_SOURCE
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "scorr/io.h"

static const char *g_bin, *g_mpi;
static char g_dir[256];

#define run(...) scorr_run_in(g_dir, 120, __VA_ARGS__)

#define read_text(rel) scorr_run_read(g_dir, rel)

#define output() scorr_run_read(g_dir, "out.txt")

/* A tiny baseline experiment <name>.yaml writing to runs/<name>; extra
 * replaces the optim line when given. */
static void write_cfg(const char *name, const char *optim, const char *more)
{
    char path[512], text[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", g_dir, name);
    int n = snprintf(text, sizeof text,
                     "name: %s\n"
                     "output: %s/runs/%s\n"
                     "seed: 5\n"
                     "variant: baseline\n"
                     "data: {file: %s/data.h5, image_size: 64}\n"
                     "model:\n"
                     "  backbone: {depth: 18, width: 8, batchnorm: frozen}\n"
                     "  sce: {kernel: 3, channels: 16}\n"
                     "  upsample: 4\n"
                     "optim: {%s}\n"
                     "train: {epochs: 2, batch_size: 8}\n"
                     "checkpoint: {every_steps: 2, keep_last: 2}\n"
                     "log: {every_steps: 1}\n"
                     "%s",
                     name, g_dir, name, g_dir, optim ? optim : "lr: 1.0e-3, lr_backbone: 1.0e-3",
                     more ? more : "");
    if (scorr_write_file_atomic(path, text, (size_t)n)) exit(2);
}

#define TRAIN(name, ...) run("%s/scorr_train %s.yaml " __VA_ARGS__, g_bin, (name))

/* Does a checkpoint or best.h5 of runs/<name> hold a NaN or Inf tensor
 * value? -1 if h5dump is missing. */
static int run_has_nonfinite(const char *name)
{
    if (run("which h5dump") != 0) return -1;
    return run("sh -c \"for f in runs/%s/best.h5 runs/%s/checkpoints/*.h5; do [ -f \\$f ] || "
               "continue; h5dump -g /params \\$f; h5dump -g /optim \\$f; done 2>/dev/null | "
               "grep -qiE '(^|[^a-z])(nan|inf)([^a-z]|$)'\"",
               name, name) == 0;
}

/* ---- 1. exit codes ------------------------------------------------------- */

static void exit_codes(void)
{
    int rc = run("%s/scorr_train %s", g_bin, g_dir);
    CHECK(rc == 1, "a directory as the experiment: exit %d, want 1:\n%s", rc, output());
    CHECK(strstr(output(), "is a directory"), "no message for a directory:\n%s", output());
    rc = run("%s/scorr_config %s", g_bin, g_dir);
    CHECK(rc == 1 && strstr(output(), "is a directory"), "scorr_config DIR: exit %d:\n%s", rc,
          output());
    /* Out of memory: a large model under a small address-space limit. */
    write_cfg("oom", NULL, NULL);
    run("sed -i 's/depth: 18, width: 8/depth: 101, width: 64/; s/batch_size: 8/batch_size: 48/' "
        "oom.yaml");
    rc = run("sh -c 'ulimit -v 800000; exec %s/scorr_train oom.yaml'", g_bin);
    CHECK(rc == 5, "out of memory: exit %d, want 5 (never 3):\n%s", rc, output());
    CHECK(strstr(output(), "error:") && strstr(output(), "allocate"),
          "out of memory without a message:\n%s", output());
    /* Usage errors are 2, everywhere. */
    CHECK(run("%s/scorr_train --bogus", g_bin) == 2, "scorr_train usage: %s", output());
    CHECK(run("%s/scorr_config", g_bin) == 2, "scorr_config usage: %s", output());
}

/* ---- 2. divergence ------------------------------------------------------- */

static void divergence(void)
{
    /* Allowed values that diverge: AdamW's decay factor 1 - lr * wd = -99. */
    write_cfg("div", "lr: 1.0, lr_backbone: 1.0, weight_decay: 100", NULL);
    int rc = TRAIN("div");
    CHECK(rc == 7, "diverging run: exit %d, want 7:\n%s", rc, output());
    CHECK(strstr(output(), "diverged") && strstr(output(), "global step") &&
              strstr(output(), "feature_extraction."),
          "divergence message lacks the step or the tensor:\n%s", output());
    int bad = run_has_nonfinite("div");
    CHECK(bad == 0 || bad == -1, "a checkpoint or best.h5 of the diverged run holds NaN/Inf");
    if (bad < 0) printf("  h5dump missing: checkpoint contents not scanned\n");

    /* A NaN in one weight outside the per-step sample (element 1 of the
     * first tensor after step 4): the full check before the step-4
     * checkpoint catches it; the step-2 checkpoint stays the latest. */
    write_cfg("nanw", NULL, NULL);
    rc = run("env SCORR_TEST_INJECT_NAN_WEIGHT=4 %s/scorr_train nanw.yaml", g_bin);
    CHECK(rc == 7, "NaN weight: exit %d, want 7:\n%s", rc, output());
    CHECK(strstr(output(), "feature_extraction.backbone.conv1.weight") &&
              strstr(output(), "not written"),
          "NaN weight message:\n%s", output());
    char p[512];
    snprintf(p, sizeof p, "%s/runs/nanw/checkpoints/step_00000004.h5", g_dir);
    CHECK(!scorr_exists(p), "the checkpoint of the NaN state was written: %s", p);
    snprintf(p, sizeof p, "%s/runs/nanw/checkpoints/step_00000002.h5", g_dir);
    CHECK(scorr_exists(p), "the last good checkpoint is gone: %s", p);
    /* In the sample (element 0): caught after the very step, on 2 ranks. */
    write_cfg("nanw0", NULL, NULL);
    rc = run("env SCORR_TEST_INJECT_NAN_WEIGHT=3,0 %s -x SCORR_TEST_INJECT_NAN_WEIGHT -np 2 "
             "%s/scorr_train nanw0.yaml", g_mpi, g_bin);
    CHECK(rc == 7 && strstr(output(), "global step 3") && strstr(output(), "updated weights"),
          "sampled NaN weight at 2 ranks: exit %d:\n%s", rc, output());

    /* NaN keypoints in a dataset: refused at load, naming file, split, pair. */
    CHECK(run("cp data.h5 nankps.h5") == 0, "copy");
    char path[512];
    snprintf(path, sizeof path, "%s/nankps.h5", g_dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, "/trn/trg_kps", H5P_DEFAULT) : -1;
    CHECK(d >= 0, "cannot open /trn/trg_kps of %s", path);
    if (d >= 0) {
        hid_t fs = H5Dget_space(d);
        hsize_t start[3] = {3, 0, 1}, count[3] = {1, 1, 1};
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        hid_t ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
        float nan = NAN;
        CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, &nan) >= 0, "write NaN");
        H5Sclose(ms);
        H5Sclose(fs);
        H5Dclose(d);
    }
    if (f >= 0) H5Fclose(f);
    write_cfg("nankps", NULL, NULL);
    run("sed -i 's#/data.h5#/nankps.h5#' nankps.yaml");
    rc = TRAIN("nankps");
    CHECK(rc == 1, "NaN keypoints: exit %d, want 1:\n%s", rc, output());
    CHECK(strstr(output(), "nankps.h5") && strstr(output(), "split 'trn' pair 3") &&
              strstr(output(), "trg_kps"),
          "NaN keypoint message lacks file, split or pair:\n%s", output());
}

/* ---- 4. full disk -------------------------------------------------------- */

static void full_disk(void)
{
    char mnt[512];
    snprintf(mnt, sizeof mnt, "%s/small", g_dir);
    run("mkdir -p small");
    /* init.h5 (227 KB) and the step-2 checkpoint (636 KB) fit; the step-4
     * checkpoint does not. */
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1600k") != 0) {
        printf("  SKIP full disk: cannot mount a tmpfs here (%s)\n", strerror(errno));
        return;
    }
    write_cfg("full", NULL, NULL);
    run("sed -i 's#^output: .*#output: %s/run#; s/keep_last: 2/keep_last: 1/' full.yaml", mnt);
    int rc = TRAIN("full");
    CHECK(rc == 6, "full disk: exit %d, want 6 (disk full; 139 was a crash):\n%s", rc, output());
    CHECK(strstr(output(), "disk full") && strstr(output(), "No space left on device"),
          "no disk-full message:\n%s", output());
    CHECK(run("ls %s/run/checkpoints | grep -q tmp", mnt) != 0, "a temporary is left behind");
    CHECK(run("test -f %s/run/checkpoints/step_00000002.h5", mnt) == 0,
          "the last good checkpoint is gone");
    /* The same run with room resumes from it and finishes. */
    run("umount %s", mnt);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1600k") == 0) {
        run("sed -i 's#^output: .*#output: %s/run2#' full.yaml", mnt);
        run("rm -rf runs/full2; mkdir -p runs");
        rc = run("sh -c 'dd if=/dev/zero of=%s/fill bs=1k count=1000 2>/dev/null; exec "
                 "%s/scorr_train full.yaml'", mnt, g_bin);
        CHECK(rc == 6 && strstr(output(), "disk full"), "a disk full from the start: exit %d:\n%s",
              rc, output());
        run("umount %s", mnt);
    }
}

/* ---- 5. metrics after a resume, the output folder ------------------------- */

/* The first 6 columns of epochs.csv (epoch, net, losses, val_pck): the
 * seconds column differs between runs. */
static char *epoch_losses(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "runs/%s/epochs.csv", name);
    run("cut -d, -f1-6 %s", rel);
    return output();
}

static void metrics_and_folder(void)
{
    /* Stopped mid-epoch (step 3 of 6) and at an epoch's checkpoint boundary
     * (step 8), then resumed: the same epochs.csv losses as uninterrupted. */
    write_cfg("whole", NULL, NULL);
    CHECK(TRAIN("whole") == 0, "whole: %s", output());
    char *want = strdup(epoch_losses("whole"));
    write_cfg("cut", NULL, NULL);
    CHECK(TRAIN("cut", "--stop-after-steps 3") == 3, "cut at 3: %s", output());
    CHECK(TRAIN("cut", "--stop-after-steps 5") == 3, "cut at 8: %s", output());
    CHECK(TRAIN("cut") == 0, "cut resumed: %s", output());
    char *got = epoch_losses("cut");
    CHECK(!strcmp(want, got), "epochs.csv after resuming differs:\nuninterrupted:\n%s\nresumed:\n%s",
          want, got);
    free(want);

    /* mt over two rank groups with the pseudo-loss on from epoch 1: the
     * peer's sums travel to rank 0 for the checkpoint. */
    const char *mt = "sed -i 's/variant: baseline/variant: mt/; s/^log:/pseudo: {start_epoch: 1, "
                     "selection: {ramp_epochs: 1}}\\nlog:/' %s.yaml";
    write_cfg("mtwhole", NULL, NULL);
    run(mt, "mtwhole");
    CHECK(run("%s -np 2 %s/scorr_train mtwhole.yaml", g_mpi, g_bin) == 0, "mt whole: %s", output());
    want = strdup(epoch_losses("mtwhole"));
    write_cfg("mtcut", NULL, NULL);
    run(mt, "mtcut");
    CHECK(run("%s -np 2 %s/scorr_train mtcut.yaml --stop-after-steps 9", g_mpi, g_bin) == 3,
          "mt cut: %s", output());
    CHECK(run("%s -np 2 %s/scorr_train mtcut.yaml", g_mpi, g_bin) == 0, "mt resumed: %s", output());
    got = epoch_losses("mtcut");
    CHECK(strstr(want, "\n1,1,") && !strcmp(want, got),
          "mt epochs.csv after resuming differs:\nuninterrupted:\n%s\nresumed:\n%s", want, got);
    free(want);

    /* A finished run run again leaves its summary alone. */
    char *before = strdup(read_text("runs/whole/summary.json"));
    CHECK(TRAIN("whole") == 0 && strstr(output(), "already trained"), "rerun: %s", output());
    CHECK(!strcmp(before, read_text("runs/whole/summary.json")),
          "a finished run's summary.json was rewritten:\n%s\nnow:\n%s", before,
          read_text("runs/whole/summary.json"));
    free(before);

    /* A second run on a folder in use is refused, the first one unharmed. */
    write_cfg("busy", NULL, NULL);
    run("sed -i 's/epochs: 2,/epochs: 400,/' busy.yaml");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && exec %s/scorr_train busy.yaml > busy.out 2>&1", g_dir,
             g_bin);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && !strstr(read_text("runs/busy/steps.csv"), "\n3,"); i++)
        usleep(100000);
    int rc = TRAIN("busy");
    CHECK(rc == 1 && strstr(output(), "in use by another scorr_train run"),
          "a second run on a busy folder: exit %d:\n%s", rc, output());
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "the first run did not stop with a checkpoint");

    /* <output>/STOP asks for a checkpoint and exit 3 like a signal, here on
     * 2 ranks under mpirun with no signal sent at all (the SLURM template
     * creates it when signalled); it is removed once acted on. */
    write_cfg("stopf", NULL, NULL);
    run("sed -i 's/epochs: 2,/epochs: 400,/' stopf.yaml");
    snprintf(cmd, sizeof cmd, "cd %s && exec %s -np 2 %s/scorr_train stopf.yaml > stopf.out 2>&1",
             g_dir, g_mpi, g_bin);
    pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && !strstr(read_text("runs/stopf/steps.csv"), "\n3,"); i++)
        usleep(100000);
    run("touch runs/stopf/STOP");
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3 &&
              strstr(read_text("stopf.out"), "runs/stopf/STOP exists): checkpoint written"),
          "STOP: exit %d, not 3 with its message:\n%s", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
          read_text("stopf.out"));
    CHECK(run("test -e runs/stopf/STOP") != 0, "STOP not removed after the stop");
    CHECK(run("grep -Eq '\"finished\":[[:space:]]*false' runs/stopf/summary.json") == 0,
          "summary after STOP: %s", read_text("runs/stopf/summary.json"));
    /* one present at the start: the run stops after its first step */
    run("sh -c 'wc -l < runs/stopf/steps.csv > rows0 && touch runs/stopf/STOP'");
    rc = run("%s -np 2 %s/scorr_train stopf.yaml", g_mpi, g_bin);
    run("sh -c 'wc -l < runs/stopf/steps.csv > rows1'");
    CHECK(rc == 3 && atoi(read_text("rows1")) == atoi(read_text("rows0")) + 1 &&
              run("test -e runs/stopf/STOP") != 0,
          "STOP at the start: exit %d, steps.csv %s -> %s rows:\n%s", rc, read_text("rows0"),
          read_text("rows1"), output());

    /* Stale temporaries of killed writers go at the start. */
    run("touch runs/busy/summary.json.tmp.999999 runs/busy/checkpoints/step_00000002.h5.tmp.1");
    CHECK(TRAIN("busy", "--stop-after-steps 1") == 3, "busy resumed: %s", output());
    CHECK(run("ls runs/busy runs/busy/checkpoints | grep -q tmp") != 0,
          "stale temporaries left: %s", read_text("out.txt"));

    /* Every checkpoint unreadable: refused, unless --from-scratch. */
    run("sh -c 'for f in runs/busy/checkpoints/*.h5; do echo garbage > $f; done'");
    rc = TRAIN("busy", "--stop-after-steps 1");
    CHECK(rc == 1 && strstr(output(), "none can be read") && strstr(output(), "--from-scratch"),
          "unreadable checkpoints: exit %d:\n%s", rc, output());
    rc = TRAIN("busy", "--stop-after-steps 1 --from-scratch");
    CHECK(rc == 3 && strstr(output(), "starting from step 0"), "--from-scratch: exit %d:\n%s",
          rc, output());
}

int main(int argc, char **argv)
{
    if (scorr_run_args(argc, argv, "test_train_faults", &g_bin, &g_mpi, g_dir, sizeof g_dir)) return 2;
    CHECK(run("%s/scorr_synth --size 64 --pairs 48,16,16 --images-per-category 12 --seed 3 "
              "data.h5", g_bin) == 0, "synth: %s", output());
    exit_codes();
    divergence();
    full_disk();
    metrics_and_folder();
    if (!scorr_test_failures) run("rm -rf %s", g_dir);
    return scorr_test_finish("test_train_faults");
}
