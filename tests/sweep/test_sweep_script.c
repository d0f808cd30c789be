/* The sweep folder and its SLURM scripts: the template file equals the
 * built-in one, --array lists, files written (cells.tsv, exp.yaml that parse
 * back to each cell's config), the #SBATCH lines, the task -> cell mapping
 * run for real with stand-in programs (train, eval, mpirun for ranks > 1,
 * exit 3 and failures recorded in the state file), submission with
 * per-task dependencies of st cells (stand-in sbatch), and the refusal to
 * change the experiment of a started run. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

static const char *tmp, *bin;

static void test_template_file(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/slurm/array.sbatch.in", SCORR_SOURCE_DIR);
    char *file = fakes_read(path);
    CHECK(file != NULL, "%s missing", path);
    if (!file) return;
    CHECK(!strcmp(file, scorr_sweep_builtin_template()),
          "%s differs from the built-in template; run "
          "slurm/embed-template.sh after editing the template", path);
    free(file);
}

static void test_array_list(void)
{
    char out[64];
    int a[] = {0, 1, 2, 5, 7, 8};
    CHECK_OK(scorr_sweep_array_list(a, 6, out, sizeof out));
    CHECK(!strcmp(out, "0-2,5,7-8"), "got %s", out);
    int b[] = {3};
    CHECK_OK(scorr_sweep_array_list(b, 1, out, sizeof out));
    CHECK(!strcmp(out, "3"), "got %s", out);
    int c[] = {10, 11, 13, 14, 15, 100};
    CHECK_OK(scorr_sweep_array_list(c, 6, out, sizeof out));
    CHECK(!strcmp(out, "10-11,13-15,100"), "got %s", out);
    CHECK(scorr_sweep_array_list(c, 6, out, 8) != 0, "too small a buffer must fail");
    scorr_error_clear();
}

static const char *SWEEP =
    "name: scr\n"
    "set: {train.batch_size: 4, train.epochs: 2, pseudo.start_epoch: 1}\n"
    "resources: {ranks: 1, threads: 2, time: \"10:00\", partition: debug,\n"
    "            sbatch: [\"--mem=1G\"]}\n"
    "eval: {data: /data/eval.h5}\n"
    "cells:\n"
    "  - {id: base, set: {variant: baseline}}\n"
    "  - {id: st, set: {variant: st}}\n"
    "  - id: mt\n"
    "    resources: {ranks: 2}\n"
    "grid:\n"
    "  seed: [1, 2]\n";

static void test_files(const struct scorr_sweep *sw)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cells.tsv", sw->dir);
    char *tsv = fakes_read(path);
    static const char header[] = "index\tcell\tgroup\tteacher\tranks\tthreads\ttime\tpartition\t"
                                 "eval_split\teval_data\toverrides\n";
    CHECK(tsv && !strncmp(tsv, header, strlen(header)), "cells.tsv header");
    CHECK(tsv && strstr(tsv, "\n3\tst-seed2\t") && strstr(tsv, "\tbase-seed2\t1\t2\t10:00\tdebug\t"
                                                                "test\t/data/eval.h5\tvariant=st; "
                                                                "seed=2; teacher.checkpoint="),
          "cells.tsv row of st-seed2:\n%s", tsv ? tsv : "");
    free(tsv);
    for (int i = 0; i < sw->n_cells; i++) {
        struct scorr_config c;
        snprintf(path, sizeof path, "%s/cells/%s/exp.yaml", sw->dir, sw->cells[i].id);
        CHECK_OK(scorr_config_load_local(path, &c));
        const char *diff = NULL;
        CHECK(scorr_config_equal(&c, &sw->cells[i].cfg, &diff), "%s differs from the cell in %s",
              path, diff ? diff : "?");
    }
    /* scripts: one per group; baseline+st differ in phase, mt in ranks */
    CHECK(sw->n_groups == 3, "%d groups", sw->n_groups);
    const struct scorr_sweep_cell *mt = scorr_sweep_find(sw, "mt-seed1");
    snprintf(path, sizeof path, "%s/slurm/group%d.sbatch", sw->dir, mt ? mt->group : 0);
    char *s = fakes_read(path);
    CHECK(s != NULL, "%s missing", path);
    if (!s) return;
    static const char *const want[] = {"#SBATCH --ntasks=2\n", "#SBATCH --cpus-per-task=2\n",
                                       "#SBATCH --time=10:00\n", "#SBATCH --partition=debug\n",
                                       "#SBATCH --mem=1G\n", "#SBATCH --requeue\n",
                                       "#SBATCH --signal=B:USR1@300\n",
                                       "#SBATCH --job-name=scorr-scr\n",
                                       "#SBATCH --open-mode=append\n", "scontrol requeue",
                                       "OMPI_ALLOW_RUN_AS_ROOT=1", "--bind-to none"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK(strstr(s, want[i]) != NULL, "script lacks '%s'", want[i]);
    char line[4096];
    snprintf(line, sizeof line, "#SBATCH --output=%s/logs/%%A_%%a.out\n", sw->dir);
    CHECK(strstr(s, line) != NULL, "script lacks '%s'", line);
    snprintf(line, sizeof line, "BIN='%s'\n", bin);
    CHECK(strstr(s, line) != NULL, "script lacks '%s'", line);
    CHECK(strchr(s, '@') == NULL || !strstr(s, "@SWEEP"), "unfilled variables");
    free(s);
    /* a custom template with an unknown variable: error with line */
    struct scorr_sweep copy = *sw;
    snprintf(path, sizeof path, "%s/bad.sbatch.in", tmp);
    fakes_write(path, "#!/bin/bash\n# @SWEEP@\necho @NOPE@\necho \"$@\"\n");
    snprintf(copy.template_path, sizeof copy.template_path, "%.900s", path);
    char *out = NULL;
    CHECK(scorr_sweep_script(&copy, 0, bin, &out) != 0, "unknown variable accepted");
    CHECK(strstr(scorr_error_message(), "bad.sbatch.in:3") &&
              strstr(scorr_error_message(), "@NOPE@"),
          "message: %s", scorr_error_message());
    scorr_error_clear();
    free(out);
}

/* Run a cell's array task like SLURM would, locally. */
static int run_task(const struct scorr_sweep *sw, int index, int group, const char *extra_env)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env PATH='%s':\"$PATH\" SLURM_ARRAY_TASK_ID=%d SCORR_MPIRUN=mpirun %s "
             "bash '%s/slurm/group%d.sbatch' >> '%s/task.log' 2>&1",
             tmp, bin, index, extra_env ? extra_env : "", sw->dir, group, tmp);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_tasks(const struct scorr_sweep *sw)
{
    char log[4096], state[4096], path[4096];
    snprintf(log, sizeof log, "%s/fake.log", tmp);
    const struct scorr_sweep_cell *b2 = scorr_sweep_find(sw, "base-seed2");
    const struct scorr_sweep_cell *mt1 = scorr_sweep_find(sw, "mt-seed1");
    const struct scorr_sweep_cell *st1 = scorr_sweep_find(sw, "st-seed1");
    if (!b2 || !mt1 || !st1) return;
    /* task -> cell: the baseline of seed 2 */
    int rc = run_task(sw, b2->index, b2->group, NULL);
    CHECK(rc == 0, "task %d exited %d", b2->index, rc);
    char want[8192];
    snprintf(want, sizeof want, "TRAIN: %s/cells/base-seed2/exp.yaml", sw->dir);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged once", want);
    snprintf(want, sizeof want, "EVAL: %s/runs/base-seed2/best.h5 /data/eval.h5 --split test",
             sw->dir);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged once", want);
    snprintf(state, sizeof state, "%s/state/base-seed2", sw->dir);
    CHECK(fakes_count(state, "done local") == 1, "state of base-seed2 not done");
    /* the eval is not repeated when its JSON is newer than best.h5 */
    rc = run_task(sw, b2->index, b2->group, NULL);
    CHECK(rc == 0 && fakes_count(log, "EVAL: ") == 1, "eval repeated (rc %d)", rc);
    /* a task of another group's script is refused */
    rc = run_task(sw, b2->index, mt1->group, NULL);
    CHECK(rc == 2, "wrong group accepted (exit %d)", rc);
    /* an index not in cells.tsv */
    rc = run_task(sw, 99, 0, NULL);
    CHECK(rc == 2, "unknown index accepted (exit %d)", rc);
    /* ranks 2: through mpirun with -np 2 and --bind-to none (2 threads) */
    rc = run_task(sw, mt1->index, mt1->group, NULL);
    CHECK(rc == 0, "mt task exited %d", rc);
    snprintf(want, sizeof want, "scorr_train %s/cells/mt-seed1/exp.yaml", sw->dir);
    CHECK(fakes_count(log, "mpirun -np 2 --bind-to none ") == 1 && fakes_count(log, want) == 1,
          "mpirun -np 2 --bind-to none ... %s not logged", want);
    /* stopped early: exit 3, state stopped (no SLURM: no requeue) */
    rc = run_task(sw, st1->index, st1->group, "FAKE_TRAIN_EXIT=3");
    snprintf(state, sizeof state, "%s/state/st-seed1", sw->dir);
    CHECK(rc == 3 && fakes_count(state, "stopped exit=3") == 1, "stop: exit %d", rc);
    /* stalled: exit 4, and exit 1 (mpirun's race after a cut network) with the
     * watchdog's marker written in this attempt: both resumable (exit 3 outside
     * SLURM), state "stopped exit=4"; an older marker does not count */
    rc = run_task(sw, st1->index, st1->group, "FAKE_TRAIN_EXIT=4");
    CHECK(rc == 3 && fakes_count(state, "stopped exit=4") == 1, "stall: exit %d", rc);
    rc = run_task(sw, st1->index, st1->group, "FAKE_TRAIN_EXIT=1 FAKE_TRAIN_STALLED=1");
    CHECK(rc == 3 && fakes_count(state, "stopped exit=4") == 1, "stall marker: exit %d", rc);
    snprintf(want, sizeof want, "touch -d '1 hour ago' '%s/runs/st-seed1/.stalled'", sw->dir);
    CHECK(system(want) == 0, "%s", want);
    rc = run_task(sw, st1->index, st1->group, "FAKE_TRAIN_EXIT=1");
    CHECK(rc == 1 && fakes_count(state, "failed train exit=1") == 1,
          "an old stall marker counted: exit %d", rc);
    /* failure: exit 1, state failed train exit=7, no eval */
    int evals = fakes_count(log, "EVAL: ");
    rc = run_task(sw, st1->index, st1->group, "FAKE_TRAIN_EXIT=7");
    CHECK(rc == 1 && fakes_count(state, "failed train exit=7") == 1, "failure: exit %d", rc);
    CHECK(fakes_count(log, "EVAL: ") == evals, "eval ran after a failed training");
    /* the task's threads reach the programs */
    snprintf(path, sizeof path, "%s/bin/scorr_train", tmp);
    (void)path;
}

static void test_submit(const struct scorr_sweep *sw)
{
    char log[4096], sb[4096], jobs[4096];
    snprintf(log, sizeof log, "%s/fake.log", tmp);
    snprintf(sb, sizeof sb, "%s/sbatch", bin);
    snprintf(jobs, sizeof jobs, "%s/jobs.tsv", sw->dir);
    /* a clean state: nothing started */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/runs' '%s/state' '%s'", sw->dir, sw->dir, log);
    CHECK(system(cmd) == 0, "cleanup");
    struct scorr_sweep_run_options opt = {bin, sb, 0, NULL};
    CHECK_OK(scorr_sweep_submit(sw, &opt));
    /* cells: 0 base-seed1 1 base-seed2 2 st-seed1 3 st-seed2 4 mt-seed1 5 mt-seed2 */
    CHECK(fakes_count(log, "sbatch ") == 3, "%d sbatch calls", fakes_count(log, "sbatch "));
    char want[8192];
    const struct scorr_sweep_cell *b = scorr_sweep_find(sw, "base-seed1");
    const struct scorr_sweep_cell *st = scorr_sweep_find(sw, "st-seed1");
    const struct scorr_sweep_cell *mt = scorr_sweep_find(sw, "mt-seed1");
    if (!b || !st || !mt) return;
    snprintf(want, sizeof want, "sbatch --parsable --array=0-1 %s/slurm/group%d.sbatch", sw->dir,
             b->group);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged", want);
    snprintf(want, sizeof want, "sbatch --parsable --array=4-5 %s/slurm/group%d.sbatch", sw->dir,
             mt->group);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged", want);
    /* st after the baseline's tasks of the first job (900001) */
    snprintf(want, sizeof want, "sbatch --parsable --array=2-3 --dependency=afterok:900001_0:"
             "900001_1 --kill-on-invalid-dep=yes %s/slurm/group%d.sbatch", sw->dir, st->group);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged", want);
    CHECK(fakes_count(jobs, "900003\t") == 1, "jobs.tsv lacks the st job");
    /* now: base-seed1 done, base-seed2 still queued (squeue), mt-seed2 running */
    char run[4096];
    snprintf(run, sizeof run, "%s/runs/base-seed1/summary.json", sw->dir);
    fakes_write(run, "{\"format\": \"scorr-summary\", \"finished\": true, \"epochs\": 2}");
    snprintf(run, sizeof run, "%s/runs/base-seed1/eval_test.json", sw->dir);
    fakes_write(run, "{\"format\": \"scorr-eval\", \"pck\": {\"0.1\": 12.5}}");
    setenv("FAKE_SQUEUE", "900001|1|PENDING|Priority\\n900002|5|RUNNING|None\\n"
                          "777|4|RUNNING|None\\n900002|N/A|PENDING|x\\n", 1);
    snprintf(cmd, sizeof cmd, "rm -f '%s'", log);
    CHECK(system(cmd) == 0, "cleanup");
    CHECK_OK(scorr_sweep_submit(sw, &opt));
    unsetenv("FAKE_SQUEUE");
    /* not again: 0 (done), 1 (queued), 5 (running); again: 4 (777 is not ours),
     * 2 (its teacher is done) and 3 after 900001_1, the queued teacher */
    CHECK(fakes_count(log, "squeue -h -r --name=scorr-scr") == 1, "squeue not asked");
    CHECK(fakes_count(log, "sbatch ") == 2, "%d sbatch calls", fakes_count(log, "sbatch "));
    snprintf(want, sizeof want, "sbatch --parsable --array=4 %s/slurm/group%d.sbatch", sw->dir,
             mt->group);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged", want);
    snprintf(want, sizeof want, "sbatch --parsable --array=2-3 --dependency=afterok:900001_1 "
             "--kill-on-invalid-dep=yes %s/slurm/group%d.sbatch", sw->dir, st->group);
    CHECK(fakes_count(log, want) == 1, "'%s' not logged", want);
    /* a failing sbatch is an error with its output */
    struct scorr_sweep_run_options bad = {bin, "false", 0, NULL};
    snprintf(run, sizeof run, "%s/runs/base-seed1/summary.json", sw->dir);
    unlink(run);
    CHECK(scorr_sweep_submit(sw, &bad) != 0, "a failing sbatch was accepted");
    CHECK(strstr(scorr_error_message(), "false failed"), "message: %s", scorr_error_message());
    scorr_error_clear();
}

static void test_started_run(const struct scorr_sweep *sw)
{
    /* a started run keeps its experiment */
    char cfg[4096], exp[4096];
    snprintf(exp, sizeof exp, "%s/cells/mt-seed2/exp.yaml", sw->dir);
    snprintf(cfg, sizeof cfg, "%s/runs/mt-seed2/config.yaml", sw->dir);
    char *t = fakes_read(exp);
    CHECK(t && !fakes_write(cfg, t), "copy config");
    free(t);
    struct scorr_sweep changed;
    char *y = malloc(strlen(SWEEP) + 64);
    snprintf(y, strlen(SWEEP) + 64, "%s", SWEEP);
    char *p = strstr(y, "pseudo.start_epoch: 1");
    if (p) p[20] = '0';
    CHECK_OK(fakes_sweep(tmp, "scr", y, &changed));
    free(y);
    CHECK(scorr_sweep_write(&changed, bin) != 0, "changed experiment of a started run accepted");
    CHECK(strstr(scorr_error_message(), "mt-seed2") &&
              strstr(scorr_error_message(), "pseudo.start_epoch"),
          "message: %s", scorr_error_message());
    scorr_error_clear();
    scorr_sweep_free(&changed);
    /* rewriting the same sweep is fine */
    CHECK_OK(scorr_sweep_write(sw, bin));
}

int main(void)
{
    tmp = fakes_tmpdir("test_sweep_script");
    bin = fakes_bin(tmp);
    test_template_file();
    test_array_list();
    struct scorr_sweep sw;
    CHECK_OK(fakes_sweep(tmp, "scr", SWEEP, &sw));
    if (!scorr_test_failures) {
        CHECK_OK(scorr_sweep_write(&sw, bin));
        test_files(&sw);
        test_tasks(&sw);
        char path[4096];
        snprintf(path, sizeof path, "PATH=%s:%s", bin, getenv("PATH") ? getenv("PATH") : "");
        putenv(path);
        test_submit(&sw);
        test_started_run(&sw);
        scorr_sweep_free(&sw);
    }
    fakes_cleanup();
    return scorr_test_finish("test_sweep_script");
}
