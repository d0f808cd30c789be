/* The local runner with stand-in programs: teachers first, a failed cell does
 * not stop the others, an st cell waits for its teacher, done cells are
 * skipped on the next run (never retrained), a cell held by another runner's
 * lock is left alone, and exit 3 counts as stopped, not done. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/error.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

int main(void)
{
    const char *tmp = fakes_tmpdir("test_sweep_local");
    const char *bin = fakes_bin(tmp);
    struct scorr_sweep sw;
    struct scorr_cell_status st[4];
    char log[4096], path[4096], want[8192];
    snprintf(log, sizeof log, "%s/fake.log", tmp);
    snprintf(path, sizeof path, "PATH=%s:%s", bin, getenv("PATH") ? getenv("PATH") : "");
    putenv(path);
    setenv("SCORR_MPIRUN", "mpirun", 1);
    /* st is listed first: it must still run after its teacher */
    CHECK_OK(fakes_sweep(tmp, "loc",
                         "name: loc\nset: {train.batch_size: 2, pseudo.start_epoch: 1, "
                         "train.epochs: 2}\n"
                         "cells:\n  - {id: st, set: {variant: st}}\n"
                         "  - {id: base, set: {variant: baseline}}\n"
                         "  - {id: mt, resources: {ranks: 2}}\n"
                         "  - {id: other, set: {variant: baseline, seed: 5}}\n",
                         &sw));
    if (scorr_test_failures) return scorr_test_finish("test_sweep_local");
    CHECK_OK(scorr_sweep_write(&sw, bin));
    struct scorr_sweep_run_options opt = {bin, NULL, 0, NULL};
    int intr = 0;

    /* 1: the baseline fails -> st skipped, mt and other still run */
    setenv("FAKE_FAIL_CELL", "base", 1);
    int rc = scorr_sweep_run_local(&sw, &opt, &intr);
    CHECK(rc != 0, "a failed cell must make the run fail");
    CHECK(strstr(scorr_error_message(), "base (exit 1)") &&
              strstr(scorr_error_message(), "st (teacher base not done)"),
          "message: %s", scorr_error_message());
    scorr_error_clear();
    CHECK(!intr, "not interrupted");
    CHECK_OK(scorr_sweep_status(&sw, 0, st));
    CHECK(st[0].state == SCORR_CELL_MISSING, "st: %s", scorr_cell_state_name(st[0].state));
    CHECK(st[1].state == SCORR_CELL_FAILED, "base: %s", scorr_cell_state_name(st[1].state));
    CHECK(st[2].state == SCORR_CELL_DONE, "mt: %s", scorr_cell_state_name(st[2].state));
    CHECK(st[3].state == SCORR_CELL_DONE, "other: %s", scorr_cell_state_name(st[3].state));
    snprintf(want, sizeof want, "%s/logs/local_base.out", sw.dir);
    CHECK(fakes_count(want, "failing on purpose") == 1, "the cell's log holds its output");
    snprintf(want, sizeof want, "scorr_train %s/cells/mt/exp.yaml", sw.dir);
    CHECK(fakes_count(log, "mpirun -np 2 ") == 1 && fakes_count(log, want) == 1,
          "mt not run through mpirun -np 2");

    /* 2: again, no failure: base then st; mt and other not retrained */
    unsetenv("FAKE_FAIL_CELL");
    CHECK_OK(scorr_sweep_run_local(&sw, &opt, &intr));
    CHECK_OK(scorr_sweep_status(&sw, 0, st));
    for (int i = 0; i < 4; i++)
        CHECK(st[i].state == SCORR_CELL_DONE, "%s: %s", sw.cells[i].id,
              scorr_cell_state_name(st[i].state));
    snprintf(want, sizeof want, "TRAIN: %s/cells/mt/exp.yaml", sw.dir);
    CHECK(fakes_count(log, want) == 1, "mt trained %d times", fakes_count(log, want));
    snprintf(want, sizeof want, "TRAIN: %s/cells/base/exp.yaml", sw.dir);
    CHECK(fakes_count(log, want) == 2, "base trained %d times", fakes_count(log, want));
    /* order of the second run: base before st */
    char *t = fakes_read(log);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "TRAIN: %s/cells/base/exp.yaml", sw.dir);
    snprintf(b, sizeof b, "TRAIN: %s/cells/st/exp.yaml", sw.dir);
    const char *last_base = NULL;
    for (const char *p = t ? strstr(t, a) : NULL; p; p = strstr(p + 1, a)) last_base = p;
    CHECK(t && last_base && strstr(t, b) && strstr(t, b) > last_base, "st ran before its teacher");
    free(t);

    /* 3: nothing left: nothing trained */
    int before = fakes_count(log, "TRAIN: ");
    CHECK_OK(scorr_sweep_run_local(&sw, &opt, &intr));
    CHECK(fakes_count(log, "TRAIN: ") == before, "a done cell was run again");

    /* 4: a fresh sweep folder; one cell locked by a live runner (us), one
     * stopping early (exit 3) */
    struct scorr_sweep sw2;
    CHECK_OK(fakes_sweep(tmp, "loc2", "name: loc2\nset: {variant: baseline}\n"
                                      "grid: {seed: [1, 2]}\n", &sw2));
    if (!scorr_test_failures) {
        CHECK_OK(scorr_sweep_write(&sw2, bin));
        char lock[4096], host[256] = "", line[400];
        gethostname(host, sizeof host - 1);
        snprintf(lock, sizeof lock, "%s/state/seed1.lock", sw2.dir);
        snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
        fakes_write(lock, line);
        setenv("FAKE_TRAIN_EXIT", "3", 1);
        rc = scorr_sweep_run_local(&sw2, &opt, &intr);
        unsetenv("FAKE_TRAIN_EXIT");
        CHECK(rc != 0 && strstr(scorr_error_message(), "seed2 (stopped)"),
              "stopped cell: rc %d, %s", rc, scorr_error_message());
        scorr_error_clear();
        snprintf(want, sizeof want, "TRAIN: %s/cells/seed1/exp.yaml", sw2.dir);
        CHECK(fakes_count(log, want) == 0, "a locked cell was run");
        CHECK_OK(scorr_sweep_status(&sw2, 0, st));
        CHECK(st[0].state == SCORR_CELL_RUNNING && st[1].state == SCORR_CELL_STOPPED,
              "states %s %s", scorr_cell_state_name(st[0].state),
              scorr_cell_state_name(st[1].state));
        /* the locked cell alone left: the live runner has it, so this runner
         * ends well (seed2 resumes and finishes here) */
        CHECK_OK(scorr_sweep_run_local(&sw2, &opt, &intr));
        CHECK(fakes_count(log, want) == 0, "a locked cell was run");
        CHECK_OK(scorr_sweep_status(&sw2, 0, st));
        CHECK(st[0].state == SCORR_CELL_RUNNING && st[1].state == SCORR_CELL_DONE,
              "states %s %s", scorr_cell_state_name(st[0].state),
              scorr_cell_state_name(st[1].state));
        /* a stale lock (dead pid) is taken over */
        snprintf(line, sizeof line, "999999999 %s\n", host);
        fakes_write(lock, line);
        CHECK_OK(scorr_sweep_run_local(&sw2, &opt, &intr));
        CHECK(fakes_count(log, want) == 1, "the stale lock was not taken over");
        CHECK(access(lock, F_OK) != 0, "lock left behind");
        scorr_sweep_free(&sw2);
    }
    scorr_sweep_free(&sw);
    fakes_cleanup();
    return scorr_test_finish("test_sweep_local");
}
