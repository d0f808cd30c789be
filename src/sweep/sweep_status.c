/* Where every cell stands, from what is on disk (summary.json, the eval
 * JSON, state/<id>, the local lock) and, for the jobs of jobs.tsv, squeue. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

const char *scorr_cell_state_name(enum scorr_cell_state s)
{
    switch (s) {
    case SCORR_CELL_MISSING: return "missing";
    case SCORR_CELL_STOPPED: return "stopped";
    case SCORR_CELL_FAILED: return "failed";
    case SCORR_CELL_QUEUED: return "queued";
    case SCORR_CELL_RUNNING: return "running";
    case SCORR_CELL_DONE: return "done";
    }
    return "?";
}

/* First line of a small file into out ("" if missing). */
static void first_line(const char *path, char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* Value of "key=..." in a state line ("" if absent). */
static void field(const char *line, const char *key, char *out, size_t n)
{
    out[0] = 0;
    size_t l = strlen(key);
    for (const char *p = line; (p = strstr(p, key)); p++) {
        if ((p == line || p[-1] == ' ') && p[l] == '=') {
            p += l + 1;
            size_t k = strcspn(p, " \t\r\n");
            snprintf(out, n, "%.*s", (int)k, p);
            return;
        }
    }
}

static int pid_alive_here(const char *host, long pid)
{
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    if (pid <= 0 || strcmp(host, me)) return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* ---- squeue ------------------------------------------------------------------- */

struct qentry {
    char job[32];
    int task;
    char state[32];
    char reason[96];
};

/* The array tasks of this sweep's jobs (jobs.tsv) that squeue lists. */
static int query_squeue(const struct scorr_sweep *sw, struct qentry **out, int *n_out)
{
    int err = 0;
    char path[SCORR_SWEEP_PATH + 32], *jobs = NULL, *text = NULL;
    size_t len = 0;
    struct qentry *q = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    *n_out = 0;
    snprintf(path, sizeof path, "%s/jobs.tsv", sw->dir);
    if (!scorr_exists(path)) return 0;
    SCORR_TRY(scorr_read_file(path, &jobs, &len));
    char name_opt[SCORR_CONFIG_NAME + 16];
    snprintf(name_opt, sizeof name_opt, "--name=scorr-%s", sw->name);
    char *argv[] = {"squeue", "-h", "-r", name_opt, "-o", "%F|%K|%T|%r", NULL};
    int status = 0;
    if (sweep_capture(argv, 0, &text, &status) || status != 0) {
        scorr_error_clear();
        scorr_warn("squeue failed (exit %d): cannot tell which SLURM jobs of this sweep are "
                   "queued or running; they count as not running", status);
        goto done;
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        struct qentry e;
        memset(&e, 0, sizeof e);
        char task[32] = "";
        if (sscanf(line, "%31[^|]|%31[^|]|%31[^|]|%95[^\n]", e.job, task, e.state, e.reason) < 3)
            continue;
        char *end;
        long t = strtol(task, &end, 10);
        if (*end || end == task) continue; /* not an array task ("N/A") */
        e.task = (int)t;
        /* only jobs this sweep submitted: "\n<job>\t" in jobs.tsv */
        char key[48];
        snprintf(key, sizeof key, "\n%s\t", e.job);
        if (!strstr(jobs, key)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct qentry *p = realloc(q, (size_t)cap * sizeof *p);
            SCORR_REQUIRE(p, SCORR_ENOMEM, "out of memory");
            q = p;
        }
        q[n++] = e;
    }
    *out = q;
    *n_out = n;
    q = NULL;
done:
    free(q);
    free(jobs);
    free(text);
    return err;
}

/* SLURM's own record of a job squeue no longer lists (the controller keeps
 * it MinJobAge seconds): "JobState", "ExitCode" and "Reason" of
 * `scontrol -o show job ID`. 0 if known, -1 if not (or no scontrol). */
static int scontrol_job(const char *id, char *state, size_t ns, char *code, size_t nc, char *reason,
                        size_t nr)
{
    char *argv[] = {"scontrol", "-o", "show", "job", (char *)id, NULL};
    char *text = NULL;
    int status = 0;
    state[0] = code[0] = reason[0] = 0;
    if (sweep_capture(argv, 0, &text, &status) || status != 0) {
        scorr_error_clear();
        free(text);
        return -1;
    }
    field(text, "JobState", state, ns);
    field(text, "ExitCode", code, nc);
    field(text, "Reason", reason, nr);
    free(text);
    return state[0] ? 0 : -1;
}

/* A SLURM state in which the job is still queued or running. */
static int slurm_active(const char *s, int *pending)
{
    static const char *const queued[] = {"PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
                                         "SUSPENDED", "RESV_DEL_HOLD", NULL};
    static const char *const running[] = {"RUNNING", "CONFIGURING", "COMPLETING", "RESIZING",
                                          "SIGNALING", "STAGE_OUT", NULL};
    for (int i = 0; queued[i]; i++)
        if (!strcmp(s, queued[i])) return *pending = 1;
    for (int i = 0; running[i]; i++)
        if (!strcmp(s, running[i])) return 1 + (*pending = 0);
    return 0;
}

/* ---- run folder ----------------------------------------------------------------- */

/* summary.json: *finished, epochs done/total; 0 if absent or unreadable. */
static int read_summary(const char *run, int *finished, int *done_ep, int *epochs)
{
    char path[SCORR_SWEEP_PATH + 300], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/summary.json", run);
    *finished = 0;
    *done_ep = *epochs = -1;
    if (!scorr_exists(path) || scorr_read_file(path, &text, &len)) {
        scorr_error_clear();
        return 0;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) return 0;
    *finished = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "finished"));
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "epochs_done");
    if (cJSON_IsNumber(e)) *done_ep = (int)e->valuedouble;
    e = cJSON_GetObjectItemCaseSensitive(j, "epochs");
    if (cJSON_IsNumber(e)) *epochs = (int)e->valuedouble;
    cJSON_Delete(j);
    return 1;
}

/* PCK@alpha of an eval JSON, or < 0. */
static double eval_pck(const char *path, double alpha)
{
    char *text = NULL, key[32];
    size_t len = 0;
    double v = -1;
    if (scorr_read_file(path, &text, &len)) {
        scorr_error_clear();
        return -1;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    snprintf(key, sizeof key, "%g", alpha);
    cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "pck"), key)
                 : NULL;
    if (cJSON_IsNumber(p)) v = p->valuedouble;
    cJSON_Delete(j);
    return v;
}

int scorr_sweep_status(const struct scorr_sweep *sw, int use_slurm, struct scorr_cell_status *st)
{
    int err = 0;
    struct qentry *q = NULL;
    int nq = 0;
    if (use_slurm) SCORR_TRY(query_squeue(sw, &q, &nq));
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        struct scorr_cell_status *s = &st[i];
        char run[SCORR_SWEEP_PATH + 200], path[SCORR_SWEEP_PATH + 300], line[512], v[128],
            host[128];
        memset(s, 0, sizeof *s);
        snprintf(run, sizeof run, "%s/runs/%s", sw->dir, c->id);
        int finished, ep, epochs;
        int have_summary = read_summary(run, &finished, &ep, &epochs);
        int have_eval = 1;
        if (strcmp(sw->eval_split, "none")) {
            snprintf(path, sizeof path, "%s/eval_%s.json", run, sw->eval_split);
            have_eval = scorr_exists(path);
        }
        snprintf(path, sizeof path, "%s/state/%s", sw->dir, c->id);
        first_line(path, line, sizeof line);
        if (finished && have_eval) {
            s->state = SCORR_CELL_DONE;
            double pck = -1;
            if (strcmp(sw->eval_split, "none")) {
                snprintf(path, sizeof path, "%s/eval_%s.json", run, sw->eval_split);
                pck = eval_pck(path, c->cfg.validation.alpha);
            }
            if (pck >= 0)
                snprintf(s->detail, sizeof s->detail, "%s PCK@%g %.2f", sw->eval_split,
                         c->cfg.validation.alpha, pck);
            else
                snprintf(s->detail, sizeof s->detail, "%d epochs", epochs);
            continue;
        }
        /* a SLURM task of this sweep? (the latest submission wins) */
        for (int k = 0; k < nq; k++) {
            if (q[k].task != c->index) continue;
            int pending = !strcmp(q[k].state, "PENDING") || !strncmp(q[k].state, "REQUEUE", 7) ||
                          !strcmp(q[k].state, "SUSPENDED");
            s->state = pending ? SCORR_CELL_QUEUED : SCORR_CELL_RUNNING;
            snprintf(s->job, sizeof s->job, "%s_%d", q[k].job, q[k].task);
            snprintf(s->detail, sizeof s->detail, "job %s %s%s%s%s", s->job, q[k].state,
                     pending && q[k].reason[0] ? " (" : "", pending ? q[k].reason : "",
                     pending && q[k].reason[0] ? ")" : "");
        }
        if (s->state) continue;
        /* a local runner holding the lock, or a local script still alive */
        snprintf(path, sizeof path, "%s/state/%s.lock", sw->dir, c->id);
        char lock[256];
        first_line(path, lock, sizeof lock);
        long lpid = 0;
        if (lock[0] && sscanf(lock, "%ld %127s", &lpid, host) == 2 && pid_alive_here(host, lpid)) {
            s->state = SCORR_CELL_RUNNING;
            snprintf(s->detail, sizeof s->detail, "local runner pid %ld", lpid);
            if (have_summary && epochs > 0)
                snprintf(s->detail + strlen(s->detail), sizeof s->detail - strlen(s->detail),
                         ", epoch %d/%d", ep, epochs);
            continue;
        }
        if (!strncmp(line, "started local", 13)) {
            field(line, "pid", v, sizeof v);
            field(line, "host", host, sizeof host);
            if (pid_alive_here(host, atol(v))) {
                s->state = SCORR_CELL_RUNNING;
                snprintf(s->detail, sizeof s->detail, "local script pid %s", v);
                continue;
            }
        }
        if (!strncmp(line, "failed", 6)) {
            s->state = SCORR_CELL_FAILED;
            char what[32] = "", code[32] = "";
            sscanf(line, "failed %31s", what);
            field(line, "exit", code, sizeof code);
            field(line, "job", v, sizeof v);
            snprintf(s->detail, sizeof s->detail, "%s exited %s%s%s", what, code,
                     v[0] ? ", job " : ", local", v);
            continue;
        }
        /* A SLURM attempt that squeue does not list: ask the controller what
         * became of it. A requeued task that ends before its script starts
         * again (slurmd refusing a relaunch, a cancel) has no word of its own
         * in the state file: without this it would look requeued forever. */
        char jstate[32] = "", jcode[32] = "", jreason[96] = "", jid[64] = "";
        int requeued = !strncmp(line, "requeued", 8);
        field(line, "id", jid, sizeof jid);
        if (use_slurm && jid[0] && (requeued || !strncmp(line, "started slurm", 13)) &&
            scontrol_job(jid, jstate, sizeof jstate, jcode, sizeof jcode, jreason,
                         sizeof jreason) == 0) {
            int pending = 0;
            field(line, "job", v, sizeof v);
            if (slurm_active(jstate, &pending)) { /* the queue moved between the two calls */
                s->state = pending ? SCORR_CELL_QUEUED : SCORR_CELL_RUNNING;
                snprintf(s->job, sizeof s->job, "%s", v);
                snprintf(s->detail, sizeof s->detail, "job %s %s", v, jstate);
                continue;
            }
            if (requeued) {
                s->state = SCORR_CELL_FAILED;
                snprintf(s->detail, sizeof s->detail,
                         "requeued, then job %s ended %s (exit %s, %s) before its script ran "
                         "again; resumable", v, jstate, jcode, jreason);
                continue;
            }
        }
        if (line[0] || have_summary) {
            s->state = SCORR_CELL_STOPPED;
            if (finished)
                snprintf(s->detail, sizeof s->detail, "trained, no eval_%s.json", sw->eval_split);
            else if (have_summary && epochs > 0)
                snprintf(s->detail, sizeof s->detail, "epoch %d/%d, resumable", ep, epochs);
            else
                snprintf(s->detail, sizeof s->detail, "started, no epoch finished");
            if (requeued)
                snprintf(s->detail + strlen(s->detail), sizeof s->detail - strlen(s->detail),
                         "; requeued, not in the queue now%s",
                         use_slurm ? " and unknown to SLURM" : "");
            else if (jstate[0])
                snprintf(s->detail + strlen(s->detail), sizeof s->detail - strlen(s->detail),
                         "; job %s ended %s (%s)", v, jstate, jreason);
            continue;
        }
        snprintf(path, sizeof path, "%s/config.yaml", run);
        if (scorr_exists(path)) {
            s->state = SCORR_CELL_STOPPED;
            snprintf(s->detail, sizeof s->detail, "started, no epoch finished");
            continue;
        }
        s->state = SCORR_CELL_MISSING;
    }
done:
    free(q);
    return err;
}

void scorr_sweep_print_status(const struct scorr_sweep *sw, const struct scorr_cell_status *st,
                              const unsigned char *sel, FILE *f)
{
    int count[SCORR_CELL_DONE + 1] = {0};
    int wid = 4, shown = 0;
    for (int i = 0; i < sw->n_cells; i++) {
        if (sel && !sel[i]) continue;
        int l = (int)strlen(sw->cells[i].id);
        if (l > wid) wid = l;
    }
    fprintf(f, "sweep %s: %s\n", sw->name, sw->dir);
    fprintf(f, "%5s  %-*s  %-7s  %s\n", "index", wid, "cell", "state", "detail");
    for (int i = 0; i < sw->n_cells; i++) {
        if (sel && !sel[i]) continue;
        shown++;
        count[st[i].state]++;
        fprintf(f, "%5d  %-*s  %-7s  %s\n", sw->cells[i].index, wid, sw->cells[i].id,
                scorr_cell_state_name(st[i].state), st[i].detail);
    }
    if (sel)
        fprintf(f, "%d of %d cells (--cells):", shown, sw->n_cells);
    else
        fprintf(f, "%d cell%s:", sw->n_cells, sw->n_cells == 1 ? "" : "s");
    int first = 1;
    for (int s = SCORR_CELL_DONE; s >= 0; s--)
        if (count[s]) {
            fprintf(f, "%s %d %s", first ? "" : ",", count[s], scorr_cell_state_name(s));
            first = 0;
        }
    fprintf(f, "\n");
    if (count[SCORR_CELL_FAILED])
        fprintf(f, "logs of failed cells: %s/logs/<job>_<index>.out (SLURM) or "
                   "local_<cell>.out (--local)\n", sw->dir);
}
