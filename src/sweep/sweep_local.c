/* The local runner: every cell not done, teachers first, one after another,
 * each through its group's array script with SLURM_ARRAY_TASK_ID set, so a
 * local run does exactly what a SLURM task does. A lock file per cell keeps
 * two runners (or a runner and --status) in agreement. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

/* Take state/<id>.lock: 1 taken, 0 held by a live process, -1 error. A lock
 * of a dead process on this host is taken over. */
static int take_lock(const char *path)
{
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            char line[320];
            int n = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), me);
            int ok = write(fd, line, (size_t)n) == n;
            close(fd);
            return ok ? 1 : -1;
        }
        if (errno != EEXIST) return -1;
        FILE *f = fopen(path, "r");
        long pid = 0;
        char host[256] = "";
        if (f) {
            if (fscanf(f, "%ld %255s", &pid, host) != 2) pid = 0;
            fclose(f);
        }
        int alive = pid > 0 && !strcmp(host, me) && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
        if (alive || (pid > 0 && strcmp(host, me))) return 0;
        unlink(path); /* stale */
    }
    return 0;
}

/* The last lines of a log, indented, to stderr. */
static void tail_log(const char *path, int lines)
{
    char *text = NULL;
    size_t len = 0;
    if (scorr_read_file(path, &text, &len)) {
        scorr_error_clear();
        return;
    }
    const char *p = text + len;
    int seen = 0;
    while (p > text) {
        p--;
        if (*p == '\n' && p != text + len - 1 && ++seen == lines) {
            p++;
            break;
        }
    }
    for (const char *l = p; *l;) {
        const char *e = strchr(l, '\n');
        int n = e ? (int)(e - l) : (int)strlen(l);
        fprintf(stderr, "    | %.*s\n", n, l);
        l += n + (e != NULL);
    }
    free(text);
}

static int busy(enum scorr_cell_state s)
{
    return s == SCORR_CELL_RUNNING || s == SCORR_CELL_QUEUED;
}

/* The cells another runner or a SLURM task had (outcome 4), now: done ones
 * count as done, those still running or queued (or whose teacher still is)
 * in *n_else, the rest (the other runner stopped or failed) in `failed`. */
static int recheck_elsewhere(const struct scorr_sweep *sw, int have_jobs, const int *outcome,
                             struct scorr_cell_status *st, struct scorr_sbuf *failed,
                             int *n_failed, int *n_else)
{
    int err = 0, any = 0;
    for (int i = 0; i < sw->n_cells; i++) any |= outcome[i] == 4;
    if (!any) return 0;
    SCORR_TRY(scorr_sweep_status(sw, have_jobs, st));
    for (int i = 0; i < sw->n_cells; i++) {
        if (outcome[i] != 4 || st[i].state == SCORR_CELL_DONE) continue;
        const int t = sw->cells[i].teacher;
        if (busy(st[i].state) || (t >= 0 && busy(st[t].state)))
            (*n_else)++;
        else
            scorr_sb_printf(failed, "%s%s (%s: run elsewhere, not finished)",
                            (*n_failed)++ ? ", " : "", sw->cells[i].id,
                            scorr_cell_state_name(st[i].state));
    }
done:
    return err;
}

int scorr_sweep_run_local(const struct scorr_sweep *sw, const struct scorr_sweep_run_options *opt,
                          int *interrupted)
{
    int err = 0;
    struct scorr_cell_status *st = NULL;
    /* 0 not run, 1 done, 2 failed, 3 skipped, 4 another runner or a SLURM
     * task has it (checked again at the end) */
    int *outcome = NULL;
    struct scorr_sbuf failed = {0};
    int n_failed = 0, n_ran = 0;
    *interrupted = 0;
    st = calloc((size_t)sw->n_cells, sizeof *st);
    outcome = calloc((size_t)sw->n_cells, sizeof *outcome);
    SCORR_REQUIRE(st && outcome, SCORR_ENOMEM, "out of memory");
    char jobs[SCORR_SWEEP_PATH + 32];
    snprintf(jobs, sizeof jobs, "%s/jobs.tsv", sw->dir);
    SCORR_TRY(scorr_sweep_status(sw, scorr_exists(jobs), st));
    int todo = 0, total = 0;
    const unsigned char *only = opt->only;
    for (int i = 0; i < sw->n_cells; i++) {
        if (only && !only[i]) continue;
        total++;
        todo += st[i].state != SCORR_CELL_DONE;
    }
    if (only)
        printf("sweep %s: %d of %d cells chosen (--cells), %d to run, on this machine (logs: "
               "%s/logs/local_<cell>.out)\n",
               sw->name, total, sw->n_cells, todo, sw->dir);
    else
        printf("sweep %s: %d cell%s, %d to run, on this machine (logs: %s/logs/local_<cell>.out)\n",
               sw->name, sw->n_cells, sw->n_cells == 1 ? "" : "s", todo, sw->dir);
    int k = 0;
    for (int phase = 0; phase < 2 && !*interrupted; phase++) {
        for (int i = 0; i < sw->n_cells && !*interrupted; i++) {
            const struct scorr_sweep_cell *c = &sw->cells[i];
            if ((c->teacher >= 0) != phase) continue;
            if (only && !only[i]) {
                /* not chosen: a teacher still counts as done if it is */
                if (st[i].state == SCORR_CELL_DONE) outcome[i] = 1;
                continue;
            }
            k++;
            if (st[i].state == SCORR_CELL_DONE) {
                printf("[%d/%d] %s: done, skipped (%s)\n", k, total, c->id, st[i].detail);
                outcome[i] = 1;
                continue;
            }
            if (st[i].state == SCORR_CELL_RUNNING || st[i].state == SCORR_CELL_QUEUED) {
                printf("[%d/%d] %s: %s elsewhere (%s), skipped\n", k, total, c->id,
                       scorr_cell_state_name(st[i].state), st[i].detail);
                outcome[i] = 4;
                continue;
            }
            if (c->teacher >= 0 && outcome[c->teacher] == 4) {
                printf("[%d/%d] %s: skipped, its teacher %s is run elsewhere\n", k, total, c->id,
                       sw->cells[c->teacher].id);
                outcome[i] = 4;
                continue;
            }
            if (c->teacher >= 0 && outcome[c->teacher] != 1) {
                printf("[%d/%d] %s: skipped, its teacher %s is not done%s\n", k, total, c->id,
                       sw->cells[c->teacher].id,
                       only && !only[c->teacher] ? " (add it to --cells)" : "");
                outcome[i] = 3;
                scorr_sb_printf(&failed, "%s%s (teacher %s not done)", n_failed++ ? ", " : "",
                                c->id, sw->cells[c->teacher].id);
                continue;
            }
            char lock[SCORR_SWEEP_PATH + 300], log[SCORR_SWEEP_PATH + 300],
                script[SCORR_SWEEP_PATH + 64];
            snprintf(lock, sizeof lock, "%s/state/%s.lock", sw->dir, c->id);
            snprintf(log, sizeof log, "%s/logs/local_%s.out", sw->dir, c->id);
            snprintf(script, sizeof script, "%s/slurm/group%d.sbatch", sw->dir, c->group);
            int got = take_lock(lock);
            SCORR_REQUIRE(got >= 0, SCORR_EIO, "cannot create the lock file '%s'", lock);
            if (!got) {
                printf("[%d/%d] %s: another runner holds %s, skipped\n", k, total, c->id,
                       lock);
                outcome[i] = 4;
                continue;
            }
            printf("[%d/%d] %s: running (%d rank%s x %d thread%s%s%s)\n", k, total, c->id,
                   c->res.ranks, c->res.ranks == 1 ? "" : "s", c->res.threads,
                   c->res.threads == 1 ? "" : "s", st[i].state == SCORR_CELL_STOPPED ? ", " : "",
                   st[i].state == SCORR_CELL_STOPPED ? "resuming" : "");
            fflush(stdout);
            char task_env[64];
            snprintf(task_env, sizeof task_env, "SLURM_ARRAY_TASK_ID=%d", c->index);
            char *env[] = {task_env, "SCORR_SWEEP_LOCAL=1", NULL};
            char *argv[] = {"bash", script, NULL};
            int status = -1, intr = 0;
            double t0 = scorr_now();
            int rc = sweep_run_logged(argv, env, log, &status, &intr);
            unlink(lock);
            SCORR_TRY(rc);
            n_ran++;
            if (intr) *interrupted = 1; /* asked to stop: no further cell starts */
            if (status == 0) {
                printf("[%d/%d] %s: done in %.0f s\n", k, total, c->id, scorr_now() - t0);
                outcome[i] = 1;
            } else if (intr || status == 3) {
                printf("[%d/%d] %s: stopped early with a checkpoint (run again to continue)\n", k,
                       total, c->id);
                outcome[i] = 3;
                scorr_sb_printf(&failed, "%s%s (stopped)", n_failed++ ? ", " : "", c->id);
            } else {
                printf("[%d/%d] %s: FAILED (exit %d); log %s:\n", k, total, c->id, status,
                       log);
                fflush(stdout);
                tail_log(log, 8);
                outcome[i] = 2;
                scorr_sb_printf(&failed, "%s%s (exit %d)", n_failed++ ? ", " : "", c->id, status);
            }
            fflush(stdout);
        }
    }
    if (*interrupted) {
        printf("interrupted: no further cell started\n");
        for (int i = 0; i < sw->n_cells; i++)
            if (!outcome[i] && st[i].state != SCORR_CELL_DONE && (!only || only[i]))
                scorr_sb_printf(&failed, "%s%s (not started)", n_failed++ ? ", " : "",
                                sw->cells[i].id);
    }
    int n_else = 0;
    SCORR_TRY(recheck_elsewhere(sw, scorr_exists(jobs), outcome, st, &failed, &n_failed, &n_else));
    if (n_failed) {
        char *list = NULL;
        SCORR_TRY(scorr_sb_finish(&failed, &list));
        err = scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                              "sweep %s: %d cell%s not done: %s", sw->name, n_failed,
                              n_failed == 1 ? "" : "s", list);
        free(list);
        goto done;
    }
    if (n_else)
        printf("sweep %s: this runner is done (%d run now); %d cell%s still run elsewhere "
               "(another runner or a SLURM task; --status follows them)\n",
               sw->name, n_ran, n_else, n_else == 1 ? "" : "s");
    else
        printf("sweep %s: every %scell done (%d run now)\n", sw->name, only ? "chosen " : "",
               n_ran);
done:
    scorr_sb_free(&failed);
    free(st);
    free(outcome);
    return err;
}
