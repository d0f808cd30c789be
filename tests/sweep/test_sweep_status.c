/* --status on hand-made sweep folders: every state (done, running by a local
 * lock or a live local script, queued and running per squeue for this
 * sweep's own jobs only, failed from the state file, stopped from a partial
 * run, missing), and the printed table. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/error.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

static const char *tmp;

static void put(const struct scorr_sweep *sw, const char *cell, const char *file,
                const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s%s%s", sw->dir, !strcmp(file, "state") ||
             !strcmp(file, "lock") ? "state" : "runs", cell,
             !strcmp(file, "state") ? "" : !strcmp(file, "lock") ? ".lock" : "/",
             !strcmp(file, "state") || !strcmp(file, "lock") ? "" : file);
    if (fakes_write(path, text)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

static const char *FINISHED = "{\"format\": \"scorr-summary\", \"finished\": true, \"epochs\": 4, "
                              "\"epochs_done\": 4}";

int main(void)
{
    tmp = fakes_tmpdir("test_sweep_status");
    const char *bin = fakes_bin(tmp);
    struct scorr_sweep sw;
    struct scorr_cell_status st[14];
    char host[256] = "", line[1024];
    gethostname(host, sizeof host - 1);
    CHECK_OK(fakes_sweep(tmp, "stat", "name: stat\nset: {variant: baseline}\n"
                                      "grid:\n  seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n",
                         &sw));
    if (scorr_test_failures) return scorr_test_finish("test_sweep_status");
    CHECK_OK(scorr_sweep_write(&sw, bin));
    /* seed0: done (summary finished and eval JSON) */
    put(&sw, "seed0", "summary.json", FINISHED);
    put(&sw, "seed0", "eval_test.json", "{\"format\": \"scorr-eval\", \"pck\": {\"0.1\": 33.25}}");
    /* seed1: partial, epoch 2 of 4 */
    put(&sw, "seed1", "config.yaml", "x");
    put(&sw, "seed1", "summary.json", "{\"format\": \"scorr-summary\", \"finished\": false, "
                                      "\"epochs\": 4, \"epochs_done\": 2}");
    /* seed2: failed (state file) */
    put(&sw, "seed2", "state", "failed train exit=1 local pid=1 time=1");
    /* seed3: a local runner holds the lock (this process: alive) */
    snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
    put(&sw, "seed3", "lock", line);
    /* seed4: nothing at all */
    /* seed5: trained, no eval */
    put(&sw, "seed5", "summary.json", FINISHED);
    /* seed6: a local script alive (this process) */
    snprintf(line, sizeof line, "started local pid=%ld host=%s time=1", (long)getpid(), host);
    put(&sw, "seed6", "state", line);
    /* seed7: a SLURM task that started and is gone */
    put(&sw, "seed7", "state", "started slurm job=900001_7 id=900009 restart=0 host=x time=1");
    /* seed8, seed9: in squeue, for one of our jobs; seed4 also listed, but
     * for another job: not ours */
    put(&sw, "seed9", "state", "failed train exit=1 slurm job=900001_9");
    /* seed10-13: SLURM attempts squeue does not list, as scontrol reports
     * them: a requeued task that SLURM failed before its script ran again
     * (slurmd refusing a relaunch too soon after the kill: issue 10, item 8);
     * one the controller no longer knows; one requeued again between squeue
     * and scontrol; a started one that hit its time limit */
    put(&sw, "seed10", "config.yaml", "x");
    put(&sw, "seed10", "state", "requeued exit=3 slurm job=900001_10 id=900020 restart=0 time=1");
    put(&sw, "seed11", "config.yaml", "x");
    put(&sw, "seed11", "state", "requeued slurm job=900001_11 id=900021 restart=0 time=1");
    put(&sw, "seed12", "state", "requeued exit=3 slurm job=900001_12 id=900022 restart=0 time=1");
    put(&sw, "seed13", "state", "started slurm job=900001_13 id=900023 restart=1 host=x time=1");
    setenv("FAKE_SCONTROL",
           "JobId=900020 ArrayJobId=900001 ArrayTaskId=10 JobState=FAILED Reason=NonZeroExitCode "
           "Dependency=(null) ExitCode=1:0\\n"
           "JobId=900022 ArrayJobId=900001 ArrayTaskId=12 JobState=PENDING Reason=BeginTime "
           "ExitCode=0:0\\n"
           "JobId=900023 ArrayJobId=900001 ArrayTaskId=13 JobState=TIMEOUT Reason=TimeLimit "
           "ExitCode=0:15\\n", 1);
    char jobs[4096];
    snprintf(jobs, sizeof jobs, "%s/jobs.tsv", sw.dir);
    fakes_write(jobs, "job\tgroup\tarray\tsubmitted\tdependency\n900001\t0\t7-13\t1\t-\n");
    setenv("FAKE_SQUEUE", "900001|8|PENDING|Resources\\n900001|9|RUNNING|None\\n"
                          "123|4|RUNNING|None\\n", 1);
    char path[4096];
    snprintf(path, sizeof path, "PATH=%s:%s", bin, getenv("PATH") ? getenv("PATH") : "");
    putenv(path);
    CHECK_OK(scorr_sweep_status(&sw, 1, st));
    static const enum scorr_cell_state want[14] = {
        SCORR_CELL_DONE,    SCORR_CELL_STOPPED, SCORR_CELL_FAILED,  SCORR_CELL_RUNNING,
        SCORR_CELL_MISSING, SCORR_CELL_STOPPED, SCORR_CELL_RUNNING, SCORR_CELL_STOPPED,
        SCORR_CELL_QUEUED,  SCORR_CELL_RUNNING, SCORR_CELL_FAILED,  SCORR_CELL_STOPPED,
        SCORR_CELL_QUEUED,  SCORR_CELL_STOPPED};
    for (int i = 0; i < 14; i++)
        CHECK(st[i].state == want[i], "seed%d: %s (%s), expected %s", i,
              scorr_cell_state_name(st[i].state), st[i].detail, scorr_cell_state_name(want[i]));
    CHECK(strstr(st[0].detail, "33.25"), "done detail: %s", st[0].detail);
    CHECK(strstr(st[1].detail, "epoch 2/4"), "stopped detail: %s", st[1].detail);
    CHECK(strstr(st[2].detail, "train exited 1"), "failed detail: %s", st[2].detail);
    CHECK(strstr(st[5].detail, "no eval_test.json"), "trained detail: %s", st[5].detail);
    CHECK(strstr(st[8].detail, "900001_8 PENDING (Resources)"), "queued detail: %s",
          st[8].detail);
    CHECK(!strcmp(st[9].job, "900001_9"), "running job %s", st[9].job);
    CHECK(strstr(st[10].detail, "requeued, then job 900001_10 ended FAILED (exit 1:0, "
                                "NonZeroExitCode) before its script ran again"),
          "requeued and failed detail: %s", st[10].detail);
    CHECK(strstr(st[11].detail, "requeued, not in the queue now and unknown to SLURM"),
          "requeued and forgotten detail: %s", st[11].detail);
    CHECK(strstr(st[12].detail, "job 900001_12 PENDING"), "requeued again detail: %s",
          st[12].detail);
    CHECK(strstr(st[13].detail, "job 900001_13 ended TIMEOUT (TimeLimit)"), "time limit detail: %s",
          st[13].detail);
    /* without SLURM: the squeue entries do not count */
    CHECK_OK(scorr_sweep_status(&sw, 0, st));
    CHECK(st[8].state == SCORR_CELL_MISSING && st[9].state == SCORR_CELL_FAILED,
          "without squeue: %s %s", scorr_cell_state_name(st[8].state),
          scorr_cell_state_name(st[9].state));
    /* a failing squeue: a warning, not an error */
    setenv("FAKE_SQUEUE", "", 1);
    char sq[4096];
    snprintf(sq, sizeof sq, "%s/squeue", bin);
    fakes_write(sq, "#!/bin/bash\necho 'slurm_load_jobs error: Unable to contact' >&2\nexit 1\n");
    CHECK_OK(scorr_sweep_status(&sw, 1, st));
    CHECK(st[9].state == SCORR_CELL_FAILED, "failed squeue: %s", scorr_cell_state_name(st[9].state));
    /* the printed table */
    char out[4096];
    snprintf(out, sizeof out, "%s/status.txt", tmp);
    FILE *f = fopen(out, "w");
    if (f) {
        scorr_sweep_print_status(&sw, st, NULL, f);
        fclose(f);
    }
    CHECK(fakes_count(out, "seed4") == 1 && fakes_count(out, "missing") >= 1, "table rows");
    CHECK(fakes_count(out, "14 cells: 1 done, 2 running, 1 queued, 3 failed, 5 stopped, 2 missing") == 1,
          "counts line missing:\n%s", fakes_read(out));
    scorr_sweep_free(&sw);
    fakes_cleanup();
    return scorr_test_finish("test_sweep_status");
}
