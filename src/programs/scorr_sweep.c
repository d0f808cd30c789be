/* scorr_sweep: an ablation grid -> one experiment per cell, SLURM array
 * scripts, submission, a local runner and a status table (docs/sweeps.md). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"

static void usage(FILE *f)
{
    fputs("usage: scorr_sweep SWEEP.yaml (--write-only | --submit | --local | --status) [options]\n"
          "       scorr_sweep --print-template\n"
          "\n"
          "Expand an ablation sweep (docs/sweeps.md) into one experiment per cell under the\n"
          "sweep folder: cells/<id>/exp.yaml, cells.tsv and one SLURM array script per\n"
          "resource group in slurm/. Every mode writes (or refreshes) these files first,\n"
          "except --status.\n"
          "\n"
          "modes:\n"
          "  --write-only     write the files and print the cells\n"
          "  --submit         sbatch the cells not done/queued/running (st cells after their\n"
          "                   teachers: --dependency=afterok); prints the job ids\n"
          "  --local          run the cells not done on this machine, teachers first, each\n"
          "                   through its array script; logs in logs/local_<cell>.out\n"
          "  --status         a table of the cells: done, running, queued, failed, stopped,\n"
          "                   missing (asks squeue about this sweep's jobs when it can)\n"
          "options:\n"
          "  --dir DIR        the sweep folder (default: the file's `dir:`, else sweeps/<name>)\n"
          "  --bin DIR        folder of scorr_train and scorr_eval (default: this program's)\n"
          "  --cells LIST     with --local, --submit, --status: only these cells; LIST is\n"
          "                   comma-separated ids or globs, each matching a cell id or a run\n"
          "                   of its '-'-separated parts (A3 = A3-seed1, A3-seed2, ...;\n"
          "                   'A*'; seed2), or KEY=VALUE of the cells' experiments (seed=2)\n"
          "  --dry-run        with --submit: print the sbatch commands, submit nothing\n"
          "  --print-template the built-in SLURM template (slurm/array.sbatch.in)\n"
          "  --help           this text\n"
          "\n"
          "exit status: 0 ok, 1 error (or a cell failed with --local), 2 usage,\n"
          "             3 --local interrupted (the running cell checkpointed; run again)\n",
          f);
}

/* The folder of this executable. */
static int own_bin_dir(char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l <= 0) return -1;
    exe[l] = 0;
    char *s = strrchr(exe, '/');
    if (!s) return -1;
    *s = 0;
    snprintf(out, n, "%s", exe);
    return 0;
}

static void print_cells(const struct scorr_sweep *sw)
{
    printf("sweep %s: %d cell%s in %d resource group%s -> %s\n", sw->name, sw->n_cells,
           sw->n_cells == 1 ? "" : "s", sw->n_groups, sw->n_groups == 1 ? "" : "s", sw->dir);
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        printf("  %3d %-28s group %d  %d x %d%s%s\n", c->index, c->id, c->group, c->res.ranks,
               c->res.threads, c->teacher >= 0 ? "  teacher " : "",
               c->teacher >= 0 ? sw->cells[c->teacher].id : "");
    }
    for (int g = 0; g < sw->n_groups; g++)
        printf("  script: %s/slurm/group%d.sbatch (%d rank%s x %d thread%s%s%s)\n", sw->dir, g,
               sw->groups[g].ranks, sw->groups[g].ranks == 1 ? "" : "s", sw->groups[g].threads,
               sw->groups[g].threads == 1 ? "" : "s", sw->group_phase[g] ? ", st cells" : "",
               sw->groups[g].time[0] ? ", time limit set" : "");
}

int main(int argc, char **argv)
{
    const char *file = NULL, *dir = NULL, *bin = NULL, *mode = NULL, *cells = NULL;
    unsigned char *only = NULL;
    int dry = 0, err = 0, interrupted = 0;
    char bin_dir[PATH_MAX];
    struct scorr_sweep sw;
    struct scorr_cell_status *st = NULL;
    memset(&sw, 0, sizeof sw);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--print-template")) {
            fputs(scorr_sweep_builtin_template(), stdout);
            return 0;
        } else if (!strcmp(a, "--write-only") || !strcmp(a, "--submit") || !strcmp(a, "--local") ||
                   !strcmp(a, "--status")) {
            if (mode && strcmp(mode, a)) {
                fprintf(stderr, "scorr_sweep: give one mode, found %s and %s\n", mode, a);
                return 2;
            }
            mode = a;
        } else if (!strcmp(a, "--dry-run")) {
            dry = 1;
        } else if (!strcmp(a, "--cells") && i + 1 < argc) {
            cells = argv[++i];
        } else if ((!strcmp(a, "--dir") || !strcmp(a, "--bin")) && i + 1 < argc) {
            if (a[2] == 'd') dir = argv[++i];
            else bin = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "scorr_sweep: unknown option '%s' (or its value is missing)\n", a);
            usage(stderr);
            return 2;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "scorr_sweep: one sweep file expected, found '%s' and '%s'\n", file, a);
            return 2;
        }
    }
    if (!file || !mode) {
        if (file) fprintf(stderr, "scorr_sweep: give a mode: --write-only, --submit, --local or "
                                  "--status\n");
        usage(stderr);
        return 2;
    }
    if (dry && strcmp(mode, "--submit")) {
        fprintf(stderr, "scorr_sweep: --dry-run goes with --submit\n");
        return 2;
    }
    if (cells && !strcmp(mode, "--write-only")) {
        fprintf(stderr, "scorr_sweep: --cells goes with --local, --submit or --status\n");
        return 2;
    }
    if (bin) {
        if (realpath(bin, bin_dir) == NULL) {
            fprintf(stderr, "scorr_sweep: --bin '%s': no such folder\n", bin);
            return 1;
        }
    } else if (own_bin_dir(bin_dir, sizeof bin_dir)) {
        fprintf(stderr, "scorr_sweep: cannot find my own folder; give --bin DIR\n");
        return 1;
    }

    err = scorr_sweep_load(file, dir, &sw);
    if (err) goto out;
    if (cells) {
        only = malloc((size_t)(sw.n_cells ? sw.n_cells : 1));
        if (!only) {
            err = scorr_error_set(SCORR_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
            goto out;
        }
        err = scorr_sweep_select(&sw, cells, only, NULL);
        if (err) goto out;
    }
    if (!strcmp(mode, "--status")) {
        st = calloc((size_t)sw.n_cells, sizeof *st);
        if (!st) {
            err = scorr_error_set(SCORR_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
            goto out;
        }
        char jobs[SCORR_SWEEP_PATH + 32];
        snprintf(jobs, sizeof jobs, "%s/jobs.tsv", sw.dir);
        err = scorr_sweep_status(&sw, scorr_exists(jobs), st);
        if (!err) scorr_sweep_print_status(&sw, st, only, stdout);
        goto out;
    }
    /* The programs the scripts call. */
    static const char *const progs[] = {"scorr_train", "scorr_eval"};
    for (int p = 0; p < 2; p++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", bin_dir, progs[p]);
        if (access(path, X_OK) == 0) continue;
        if (!strcmp(mode, "--write-only") || dry) {
            scorr_warn("%s not found; the scripts call it (give --bin DIR)", path);
        } else {
            err = scorr_error_set(SCORR_EIO, __FILE__, __LINE__, __func__,
                                  "%s not found or not executable; the cells need it (build it, "
                                  "or give --bin DIR)", path);
            goto out;
        }
    }
    err = scorr_sweep_write(&sw, bin_dir);
    if (err) goto out;
    struct scorr_sweep_run_options opt = {bin_dir, NULL, dry, only};
    if (!strcmp(mode, "--write-only")) {
        print_cells(&sw);
    } else if (!strcmp(mode, "--submit")) {
        err = scorr_sweep_submit(&sw, &opt);
    } else {
        err = scorr_sweep_run_local(&sw, &opt, &interrupted);
    }
out:
    free(st);
    free(only);
    scorr_sweep_free(&sw);
    if (err) {
        scorr_error_print(stderr, "scorr_sweep");
        return interrupted ? SCORR_EXIT_STOPPED : scorr_exit_status(err);
    }
    return interrupted ? SCORR_EXIT_STOPPED : SCORR_EXIT_OK;
}
