/* SLURM: the array scripts (template filled in), --array lists, and
 * submission with per-task dependencies of st cells on their teachers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

int scorr_sweep_array_list(const int *idx, int n_idx, char *out, size_t n)
{
    int err = 0;
    size_t w = 0;
    SCORR_REQUIRE(n > 0, SCORR_EINVAL, "array list buffer of size 0");
    out[0] = 0;
    for (int i = 0; i < n_idx;) {
        int j = i;
        while (j + 1 < n_idx && idx[j + 1] == idx[j] + 1) j++;
        int wr;
        if (j == i)
            wr = snprintf(out + w, n - w, "%s%d", w ? "," : "", idx[i]);
        else
            wr = snprintf(out + w, n - w, "%s%d-%d", w ? "," : "", idx[i], idx[j]);
        SCORR_REQUIRE(wr >= 0 && (size_t)wr < n - w, SCORR_EINVAL,
                      "the --array list of %d cells is too long", n_idx);
        w += (size_t)wr;
        i = j + 1;
    }
done:
    return err;
}

/* ---- the script -------------------------------------------------------------- */

static int lookup(const struct scorr_sweep *sw, int g, const char *bin_dir, const char *name,
                  struct scorr_sbuf *b)
{
    const struct scorr_sweep_resources *r = &sw->groups[g];
    if (!strcmp(name, "SWEEP")) {
        scorr_sb_printf(b, "%s", sw->name);
    } else if (!strcmp(name, "SWEEP_DIR")) {
        scorr_sb_printf(b, "%s", sw->dir);
    } else if (!strcmp(name, "GROUP")) {
        scorr_sb_printf(b, "%d", g);
    } else if (!strcmp(name, "RANKS")) {
        scorr_sb_printf(b, "%d", r->ranks);
    } else if (!strcmp(name, "THREADS")) {
        scorr_sb_printf(b, "%d", r->threads);
    } else if (!strcmp(name, "WORKDIR")) {
        scorr_sb_printf(b, "%s", sw->workdir);
    } else if (!strcmp(name, "BIN")) {
        scorr_sb_printf(b, "%s", bin_dir);
    } else if (!strcmp(name, "SIGNAL")) {
        scorr_sb_printf(b, "B:USR1@%d", sw->signal_seconds);
    } else if (!strcmp(name, "MAX_REQUEUES")) {
        scorr_sb_printf(b, "%d", sw->max_requeues);
    } else if (!strcmp(name, "SBATCH_LINES")) {
        int any = 0;
        if (r->time[0]) scorr_sb_printf(b, "%s#SBATCH --time=%s", any++ ? "\n" : "", r->time);
        if (r->partition[0])
            scorr_sb_printf(b, "%s#SBATCH --partition=%s", any++ ? "\n" : "", r->partition);
        for (int i = 0; i < r->n_extra; i++)
            scorr_sb_printf(b, "%s#SBATCH %s", any++ ? "\n" : "", r->extra[i]);
        if (!any) scorr_sb_printf(b, "# (no time limit, partition or extra options given)");
    } else {
        return -1;
    }
    return 0;
}

static const char VARS[] = "SWEEP, SWEEP_DIR, GROUP, RANKS, THREADS, WORKDIR, BIN, SIGNAL, "
                           "MAX_REQUEUES, SBATCH_LINES";

int scorr_sweep_script(const struct scorr_sweep *sw, int g, const char *bin_dir, char **out)
{
    int err = 0;
    char *owned = NULL;
    size_t len = 0;
    struct scorr_sbuf b = {0};
    const char *tpl = scorr_sweep_builtin_template();
    const char *tname = "built-in template";
    *out = NULL;
    SCORR_REQUIRE(g >= 0 && g < sw->n_groups, SCORR_EINVAL, "no resource group %d", g);
    if (sw->template_path[0]) {
        SCORR_TRY(scorr_read_file(sw->template_path, &owned, &len));
        tpl = owned;
        tname = sw->template_path;
    }
    for (const char *p = tpl; *p;) {
        if (*p != '@') {
            const char *q = strchr(p, '@');
            if (!q) q = p + strlen(p);
            scorr_sb_append(&b, p, (size_t)(q - p));
            p = q;
            continue;
        }
        /* "@NAME@" with NAME of capitals and '_': a variable; else a literal '@'. */
        const char *q = p + 1;
        while ((*q >= 'A' && *q <= 'Z') || *q == '_') q++;
        if (*q == '@' && q > p + 1) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
            if (lookup(sw, g, bin_dir, name, &b)) {
                int line = 1;
                for (const char *c = tpl; c < p; c++) line += *c == '\n';
                SCORR_FAIL(SCORR_EINVAL, "%s:%d: unknown template variable @%s@ (known: %s)",
                           tname, line, name, VARS);
            }
            p = q + 1;
        } else {
            scorr_sb_append(&b, "@", 1);
            p++;
        }
    }
    SCORR_TRY(scorr_sb_finish(&b, out));
done:
    scorr_sb_free(&b);
    free(owned);
    return err;
}

/* ---- submission ------------------------------------------------------------------- */

/* 1 if "afterok:a:b:c" holds item t. */
static int has_item(const char *list, const char *t)
{
    size_t l = strlen(t);
    for (const char *p = strstr(list, t); p; p = strstr(p + 1, t))
        if ((p[-1] == ':') && (p[l] == ':' || p[l] == 0)) return 1;
    return 0;
}

/* sbatch --parsable prints "jobid" or "jobid;cluster". */
static int parse_jobid(const char *text, char *out, size_t n)
{
    const char *p = text;
    while (*p == ' ' || *p == '\n') p++;
    size_t l = 0;
    while (p[l] >= '0' && p[l] <= '9') l++;
    if (!l || l >= n) return -1;
    memcpy(out, p, l);
    out[l] = 0;
    return 0;
}

static int record_job(const struct scorr_sweep *sw, const char *job, int g, const char *array,
                      const char *dep)
{
    int err = 0;
    char path[SCORR_SWEEP_PATH + 32];
    snprintf(path, sizeof path, "%s/jobs.tsv", sw->dir);
    int fresh = !scorr_exists(path);
    FILE *f = fopen(path, "a");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot append to '%s'", path);
    if (fresh) fprintf(f, "job\tgroup\tarray\tsubmitted\tdependency\n");
    fprintf(f, "%s\t%d\t%s\t%lld\t%s\n", job, g, array, (long long)time(NULL), dep[0] ? dep : "-");
    SCORR_REQUIRE(fclose(f) == 0, SCORR_EIO, "cannot write '%s'", path);
done:
    return err;
}

int scorr_sweep_submit(const struct scorr_sweep *sw, const struct scorr_sweep_run_options *opt)
{
    int err = 0;
    struct scorr_cell_status *st = NULL;
    int *sel = NULL;
    char *out = NULL;
    char (*task_of)[64] = NULL; /* "<job>_<index>" of each cell submitted or queued */
    char *array = NULL, *dep = NULL;
    const char *sbatch = opt->sbatch ? opt->sbatch : "sbatch";
    st = calloc((size_t)sw->n_cells, sizeof *st);
    sel = calloc((size_t)sw->n_cells, sizeof *sel);
    task_of = calloc((size_t)sw->n_cells, sizeof *task_of);
    array = malloc(65536);
    dep = malloc(65536);
    SCORR_REQUIRE(st && sel && task_of && array && dep, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(scorr_sweep_status(sw, 1, st));
    int n_sub = 0;
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        if (opt->only && !opt->only[i]) {
            /* not chosen; a queued or running teacher still gives its task id */
            if (st[i].state == SCORR_CELL_RUNNING || st[i].state == SCORR_CELL_QUEUED)
                snprintf(task_of[i], sizeof task_of[i], "%s", st[i].job);
            continue;
        }
        if (st[i].state == SCORR_CELL_DONE) {
            printf("cell %d %s: done, not submitted\n", i, c->id);
        } else if (st[i].state == SCORR_CELL_RUNNING || st[i].state == SCORR_CELL_QUEUED) {
            printf("cell %d %s: %s (%s), not submitted again\n", i, c->id,
                   scorr_cell_state_name(st[i].state), st[i].detail);
            snprintf(task_of[i], sizeof task_of[i], "%s", st[i].job);
        } else {
            sel[i] = 1;
            n_sub++;
        }
    }
    if (!n_sub) {
        printf("nothing to submit: every %scell is done, queued or running\n",
               opt->only ? "chosen " : "");
        goto done;
    }
    /* A chosen st cell needs its teacher done, queued, running or chosen. */
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        if (!sel[i] || c->teacher < 0) continue;
        const int t = c->teacher;
        const enum scorr_cell_state ts = st[t].state;
        SCORR_REQUIRE(sel[t] || ts == SCORR_CELL_DONE || ts == SCORR_CELL_QUEUED ||
                          ts == SCORR_CELL_RUNNING,
                      SCORR_EINVAL,
                      "--cells: cell %s needs its teacher %s, which is %s and not chosen; add %s "
                      "to --cells (nothing was submitted)",
                      c->id, sw->cells[t].id, scorr_cell_state_name(ts), sw->cells[t].id);
    }
    for (int phase = 0; phase < 2; phase++) {
        for (int g = 0; g < sw->n_groups; g++) {
            if (sw->group_phase[g] != phase) continue;
            int idx[SCORR_SWEEP_MAX_CELLS], n = 0;
            size_t dw = 0;
            dep[0] = 0;
            for (int i = 0; i < sw->n_cells; i++) {
                const struct scorr_sweep_cell *c = &sw->cells[i];
                if (!sel[i] || c->group != g) continue;
                idx[n++] = i;
                if (c->teacher < 0 || st[c->teacher].state == SCORR_CELL_DONE) continue;
                const char *t = task_of[c->teacher];
                if (!t[0]) continue; /* dry run: no job ids */
                if (has_item(dep, t)) continue;
                int wr = snprintf(dep + dw, 65536 - dw, "%s%s", dw ? ":" : "afterok:", t);
                SCORR_REQUIRE(wr > 0 && (size_t)wr < 65536 - dw, SCORR_EINVAL,
                              "dependency list too long");
                dw += (size_t)wr;
            }
            if (!n) continue;
            SCORR_TRY(scorr_sweep_array_list(idx, n, array, 65536));
            char script[SCORR_SWEEP_PATH + 64], arr_opt[65536 + 16], dep_opt[65536 + 16];
            snprintf(script, sizeof script, "%s/slurm/group%d.sbatch", sw->dir, g);
            snprintf(arr_opt, sizeof arr_opt, "--array=%s", array);
            snprintf(dep_opt, sizeof dep_opt, "--dependency=%s", dep);
            char *argv[8];
            int k = 0;
            argv[k++] = (char *)sbatch;
            argv[k++] = "--parsable";
            argv[k++] = arr_opt;
            if (dep[0]) {
                argv[k++] = dep_opt;
                argv[k++] = "--kill-on-invalid-dep=yes";
            }
            argv[k++] = script;
            argv[k] = NULL;
            printf("%s%s", opt->dry_run ? "would run: " : "$ ", sbatch);
            for (int a = 1; a < k; a++) printf(" %s", argv[a]);
            printf("\n");
            fflush(stdout);
            if (opt->dry_run) continue;
            int status = 0;
            SCORR_TRY(sweep_capture(argv, 1, &out, &status));
            char job[32];
            if (status != 0 || parse_jobid(out, job, sizeof job)) {
                SCORR_FAIL(SCORR_EIO, "%s failed (exit %d) submitting %s: %s", sbatch, status,
                           script, out && *out ? out : "(no output)");
            }
            free(out);
            out = NULL;
            printf("submitted job %s: %d cell%s of group %d (array %s)%s%s\n", job, n,
                   n == 1 ? "" : "s", g, array, dep[0] ? ", after " : "", dep[0] ? dep + 8 : "");
            SCORR_TRY(record_job(sw, job, g, array, dep));
            for (int i = 0; i < n; i++)
                snprintf(task_of[idx[i]], sizeof task_of[idx[i]], "%s_%d", job, idx[i]);
        }
    }
    if (!opt->dry_run)
        printf("logs: %s/logs/<job>_<cell index>.out; progress: scorr_sweep %s --status\n",
               sw->dir, sw->file);
done:
    free(out);
    free(st);
    free(sel);
    free(task_of);
    free(array);
    free(dep);
    return err;
}
