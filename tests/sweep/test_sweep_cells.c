/* --cells: which cells a selector chooses (ids, a run of an id's parts,
 * globs, KEY=VALUE on the resolved experiment, numbers by value), the errors
 * (an item matching nothing, unknown or ambiguous keys, an empty list), and
 * that the local runner, submission (stand-in sbatch) and the status table
 * touch only the chosen cells; an st cell chosen without its undone teacher
 * is refused by --submit before anything is submitted. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/error.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

static struct scorr_sweep sw;

/* The ids chosen by spec, space-separated, or "ERROR: message". */
static const char *chosen(const char *spec)
{
    static char out[4096];
    unsigned char sel[64];
    int n = -1;
    out[0] = 0;
    if (scorr_sweep_select(&sw, spec, sel, &n)) {
        snprintf(out, sizeof out, "ERROR: %s", scorr_error_message());
        scorr_error_clear();
        return out;
    }
    size_t w = 0;
    int count = 0;
    for (int i = 0; i < sw.n_cells; i++)
        if (sel[i]) {
            w += (size_t)snprintf(out + w, sizeof out - w, "%s%s", w ? " " : "", sw.cells[i].id);
            count++;
        }
    CHECK(count == n, "%s: n_sel %d, %d set", spec, n, count);
    return out;
}

#define EXPECT(spec, want)                                                                   \
    do {                                                                                     \
        const char *got_ = chosen(spec);                                                     \
        CHECK(!strcmp(got_, want), "--cells %s: got '%s', want '%s'", spec, got_, want);     \
    } while (0)
#define EXPECT_ERROR(spec, needle)                                                           \
    do {                                                                                     \
        const char *got_ = chosen(spec);                                                     \
        CHECK(!strncmp(got_, "ERROR: ", 7) && strstr(got_, needle),                          \
              "--cells %s: got '%s', want an error with '%s'", spec, got_, needle);          \
    } while (0)

int main(void)
{
    const char *tmp = fakes_tmpdir("test_sweep_cells");
    const char *bin = fakes_bin(tmp);
    char path[4096], log[4096], want[8192], sb[4096];
    snprintf(log, sizeof log, "%s/fake.log", tmp);
    snprintf(sb, sizeof sb, "%s/sbatch", bin);
    snprintf(path, sizeof path, "PATH=%s:%s", bin, getenv("PATH") ? getenv("PATH") : "");
    putenv(path);
    setenv("SCORR_MPIRUN", "mpirun", 1);
    CHECK_OK(fakes_sweep(tmp, "cel",
                         "name: cel\nset: {train.batch_size: 2, pseudo.start_epoch: 1, "
                         "train.epochs: 2}\n"
                         "cells:\n  - {id: A3, set: {variant: baseline}}\n"
                         "  - {id: A6}\n"
                         "  - {id: st, set: {variant: st}}\n"
                         "  - {id: up1, set: {model.upsample: 1}}\n"
                         "grid:\n  seed: [1, 2]\n",
                         &sw));
    if (scorr_test_failures) return scorr_test_finish("test_sweep_cells");

    /* 1. Selection. */
    EXPECT("A3", "A3-seed1 A3-seed2");
    EXPECT("A3,A6", "A3-seed1 A3-seed2 A6-seed1 A6-seed2");
    EXPECT(" A6 , A3-seed2 ", "A3-seed2 A6-seed1 A6-seed2");
    EXPECT("A*", "A3-seed1 A3-seed2 A6-seed1 A6-seed2");
    EXPECT("seed2", "A3-seed2 A6-seed2 st-seed2 up1-seed2");
    EXPECT("*-seed1", "A3-seed1 A6-seed1 st-seed1 up1-seed1");
    EXPECT("seed=2", "A3-seed2 A6-seed2 st-seed2 up1-seed2");
    EXPECT("upsample=1", "up1-seed1 up1-seed2");
    EXPECT("model.upsample=1.0", "up1-seed1 up1-seed2");
    EXPECT("variant=st,A3-seed1", "A3-seed1 st-seed1 st-seed2");
    EXPECT_ERROR("A7", "'A7' matches no cell");
    EXPECT_ERROR("A3-seed3", "did you mean A3-seed1?");
    EXPECT_ERROR("seed=9", "'seed=9' matches no cell");
    EXPECT_ERROR("upsampel=1", "no experiment key 'upsampel'");
    EXPECT_ERROR("every_steps=2", "give the full key");
    EXPECT_ERROR(",", "empty list");
    EXPECT("A", "ERROR: --cells: 'A' matches no cell of sweep cel (8 cells, e.g. A3-seed1)");

    /* 2. The local runner runs only the chosen cells; an st cell whose
     * teacher is not chosen and not done is skipped with a hint. */
    CHECK_OK(scorr_sweep_write(&sw, bin));
    unsigned char sel[64];
    CHECK_OK(scorr_sweep_select(&sw, "A6-seed1,st-seed2", sel, NULL));
    struct scorr_sweep_run_options opt = {bin, NULL, 0, sel};
    int intr = 0;
    int rc = scorr_sweep_run_local(&sw, &opt, &intr);
    CHECK(rc != 0 && strstr(scorr_error_message(), "st-seed2 (teacher A3-seed2 not done)"),
          "st without its teacher: rc %d, %s", rc, scorr_error_message());
    scorr_error_clear();
    CHECK(fakes_count(log, "TRAIN: ") == 1, "%d cells trained, want 1 (A6-seed1)",
          fakes_count(log, "TRAIN: "));
    snprintf(want, sizeof want, "TRAIN: %s/cells/A6-seed1/exp.yaml", sw.dir);
    CHECK(fakes_count(log, want) == 1, "A6-seed1 not trained");
    /* with the teacher chosen too, teacher first, then st */
    CHECK_OK(scorr_sweep_select(&sw, "seed2", sel, NULL));
    CHECK_OK(scorr_sweep_run_local(&sw, &opt, &intr));
    CHECK(fakes_count(log, "TRAIN: ") == 5, "%d trainings after seed2, want 5",
          fakes_count(log, "TRAIN: "));
    snprintf(want, sizeof want, "TRAIN: %s/cells/A3-seed1/exp.yaml", sw.dir);
    CHECK(fakes_count(log, want) == 0, "A3-seed1 trained though not chosen");

    /* 3. Status of the chosen cells only. */
    struct scorr_cell_status st[64];
    CHECK_OK(scorr_sweep_status(&sw, 0, st));
    snprintf(path, sizeof path, "%s/status.txt", tmp);
    FILE *f = fopen(path, "w");
    CHECK_OK(scorr_sweep_select(&sw, "A*", sel, NULL));
    if (f) {
        scorr_sweep_print_status(&sw, st, sel, f);
        fclose(f);
    }
    CHECK(fakes_count(path, "A3-seed1") == 1 && fakes_count(path, "st-seed") == 0 &&
              fakes_count(path, "4 of 8 cells (--cells): 3 done, 1 missing") == 1,
          "status with --cells A*:\n%s", fakes_read(path));

    /* 4. Submission: only the chosen cells; st-seed1 without its teacher
     * (missing, not chosen) is refused before any sbatch. */
    snprintf(want, sizeof want, "rm -f '%s'", log);
    CHECK(system(want) == 0, "cleanup");
    opt.sbatch = sb;
    CHECK_OK(scorr_sweep_select(&sw, "st-seed1", sel, NULL));
    rc = scorr_sweep_submit(&sw, &opt);
    CHECK(rc != 0 && strstr(scorr_error_message(), "needs its teacher A3-seed1") &&
              fakes_count(log, "sbatch ") == 0,
          "st without teacher submitted: rc %d, %s", rc, scorr_error_message());
    scorr_error_clear();
    CHECK_OK(scorr_sweep_select(&sw, "A3-seed1,st-seed1,up1", sel, NULL));
    CHECK_OK(scorr_sweep_submit(&sw, &opt));
    const struct scorr_sweep_cell *a3 = scorr_sweep_find(&sw, "A3-seed1"),
                                  *s1 = scorr_sweep_find(&sw, "st-seed1"),
                                  *u1 = scorr_sweep_find(&sw, "up1-seed1");
    if (a3 && s1 && u1) {
        /* A3-seed1 (0) and up1-seed1 (6) share a group; up1-seed2 (7) is done */
        CHECK(a3->group == u1->group, "groups %d %d", a3->group, u1->group);
        snprintf(want, sizeof want, "sbatch --parsable --array=0,6 %s/slurm/group%d.sbatch",
                 sw.dir, a3->group);
        CHECK(fakes_count(log, want) == 1, "'%s' not logged:\n%s", want, fakes_read(log));
        snprintf(want, sizeof want, "sbatch --parsable --array=4 --dependency=afterok:900001_0 "
                 "--kill-on-invalid-dep=yes %s/slurm/group%d.sbatch", sw.dir, s1->group);
        CHECK(fakes_count(log, want) == 1, "'%s' not logged:\n%s", want, fakes_read(log));
        CHECK(fakes_count(log, "sbatch ") == 2, "%d sbatch calls", fakes_count(log, "sbatch "));
    }
    scorr_sweep_free(&sw);
    if (!scorr_test_failures) fakes_cleanup();
    return scorr_test_finish("test_sweep_cells");
}
