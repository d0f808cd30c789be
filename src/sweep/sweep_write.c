/* Writing the sweep folder: every cell's exp.yaml, cells.tsv (the array task
 * -> cell mapping the scripts read), a copy of the sweep file and the array
 * scripts. A started run keeps its experiment: a sweep file edited since is
 * checked against the run's config.yaml with the resume rule first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

/* The overrides of a cell as one TSV field ("k=v; k=v", "-" when none). */
static void overrides_field(const struct scorr_sweep_cell *c, struct scorr_sbuf *b)
{
    if (!c->n_over) {
        scorr_sb_printf(b, "-");
        return;
    }
    for (int i = 0; i < c->n_over; i++)
        scorr_sb_printf(b, "%s%s=%s", i ? "; " : "", c->over[i].key, c->over[i].value);
}

static int cells_tsv(const struct scorr_sweep *sw, char **out)
{
    struct scorr_sbuf b = {0};
    scorr_sb_printf(&b, "index\tcell\tgroup\tteacher\tranks\tthreads\ttime\tpartition\teval_split\t"
                        "eval_data\toverrides\n");
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        scorr_sb_printf(&b, "%d\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t", c->index, c->id,
                        c->group, c->teacher >= 0 ? sw->cells[c->teacher].id : "-", c->res.ranks,
                        c->res.threads, c->res.time[0] ? c->res.time : "-",
                        c->res.partition[0] ? c->res.partition : "-", sw->eval_split, c->eval_data);
        overrides_field(c, &b);
        scorr_sb_printf(&b, "\n");
    }
    return scorr_sb_finish(&b, out);
}

static int exp_yaml(const struct scorr_sweep *sw, const struct scorr_sweep_cell *c, char **out)
{
    int err = 0;
    char *body = NULL;
    struct scorr_sbuf b = {0};
    SCORR_TRY(scorr_config_emit(&c->cfg, &body));
    scorr_sb_printf(&b, "# Cell %d '%s' of sweep '%s' (%s), written by scorr_sweep.\n", c->index,
                    c->id, sw->name, sw->file);
    scorr_sb_printf(&b, "# Base: %s\n", sw->base[0] ? sw->base : "(the defaults)");
    if (c->n_over) {
        scorr_sb_printf(&b, "# Cell overrides (after the sweep's set):\n");
        for (int i = 0; i < c->n_over; i++)
            scorr_sb_printf(&b, "#   %s = %s\n", c->over[i].key, c->over[i].value);
    }
    if (c->teacher >= 0)
        scorr_sb_printf(&b, "# Teacher: cell '%s' (its run folder's best.h5).\n",
                        sw->cells[c->teacher].id);
    scorr_sb_printf(&b, "%s", body);
    SCORR_TRY(scorr_sb_finish(&b, out));
done:
    scorr_sb_free(&b);
    free(body);
    return err;
}

/* Refuse a new experiment for a run that has started with another one. */
static int check_started(const struct scorr_sweep *sw, const struct scorr_sweep_cell *c)
{
    int err = 0;
    char path[SCORR_SWEEP_PATH + 300];
    struct scorr_config *then = malloc(sizeof *then);
    SCORR_REQUIRE(then, SCORR_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/runs/%s/config.yaml", sw->dir, c->id);
    if (!scorr_exists(path)) goto done;
    if (scorr_config_load_local(path, then)) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", scorr_error_message());
        SCORR_FAIL(SCORR_EFORMAT, "cell '%s': its run has started, but its config cannot be read: "
                   "%s", c->id, msg);
    }
    int level = scorr_log_level();
    scorr_log_set_level(0);
    int rc = scorr_config_check_resume(&c->cfg, then, path);
    scorr_log_set_level(level);
    if (rc) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", scorr_error_message());
        err = scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                              "%s: cell '%s': the sweep file now gives a different experiment "
                              "than the run already started in %s/runs/%s: %s", sw->file, c->id,
                              sw->dir, c->id, msg);
        scorr_error_hint("keep the sweep file as it was, write to another folder (--dir), or "
                         "delete that run folder to start the cell over");
        goto done;
    }
done:
    free(then);
    return err;
}

/* Paths inside #SBATCH lines and single-quoted shell strings. */
static int script_safe(const char *what, const char *p)
{
    int err = 0;
    SCORR_REQUIRE(!strpbrk(p, " \t\n'\"%\\$`"), SCORR_EINVAL,
                  "%s '%s' holds a space, quote, '%%', '$' or '\\': the SLURM script cannot name "
                  "it safely; use a plain path", what, p);
done:
    return err;
}

int scorr_sweep_write(const struct scorr_sweep *sw, const char *bin_dir)
{
    int err = 0;
    char path[SCORR_SWEEP_PATH + 400];
    char *text = NULL, *old = NULL;
    size_t old_len = 0;
    SCORR_TRY(script_safe("the sweep folder", sw->dir));
    SCORR_TRY(script_safe("the working directory", sw->workdir));
    SCORR_TRY(script_safe("the program folder (--bin)", bin_dir));
    for (int i = 0; i < sw->n_cells; i++) SCORR_TRY(check_started(sw, &sw->cells[i]));
    for (int i = 0; i < sw->n_cells; i++)
        if (!scorr_exists(sw->cells[i].eval_data) && strcmp(sw->eval_split, "none")) {
            scorr_warn("dataset '%s' (cell '%s') does not exist yet; the runs need it",
                       sw->cells[i].eval_data, sw->cells[i].id);
            break;
        }

    static const char *const sub[] = {"cells", "runs", "logs", "state", "slurm"};
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        snprintf(path, sizeof path, "%s/%s", sw->dir, sub[i]);
        SCORR_TRY(scorr_mkdirs(path));
    }
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        SCORR_TRY(exp_yaml(sw, c, &text));
        snprintf(path, sizeof path, "%s/cells/%s/exp.yaml", sw->dir, c->id);
        int same = 0;
        if (scorr_exists(path) && !scorr_read_file(path, &old, &old_len))
            same = !strcmp(old, text);
        free(old);
        old = NULL;
        if (!same) SCORR_TRY(sweep_write_text(path, text));
        free(text);
        text = NULL;
    }
    SCORR_TRY(cells_tsv(sw, &text));
    snprintf(path, sizeof path, "%s/cells.tsv", sw->dir);
    SCORR_TRY(sweep_write_text(path, text));
    free(text);
    text = NULL;
    if (scorr_exists(sw->file) && !scorr_read_file(sw->file, &old, &old_len)) {
        snprintf(path, sizeof path, "%s/sweep.yaml", sw->dir);
        SCORR_TRY(sweep_write_text(path, old));
    }
    for (int g = 0; g < sw->n_groups; g++) {
        SCORR_TRY(scorr_sweep_script(sw, g, bin_dir, &text));
        snprintf(path, sizeof path, "%s/slurm/group%d.sbatch", sw->dir, g);
        SCORR_TRY(sweep_write_text(path, text));
        SCORR_REQUIRE(chmod(path, 0755) == 0, SCORR_EIO, "cannot make '%s' executable", path);
        free(text);
        text = NULL;
    }
done:
    free(text);
    free(old);
    return err;
}
