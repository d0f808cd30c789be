/* A sweep read back from its folder (cells.tsv and cells/<id>/exp.yaml), for
 * the programs that look at a sweep after the fact (scorr_report): the
 * sweep file it was written from may have moved, and its `base:` is
 * relative to where it was. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

/* The sweep's name from an exp.yaml header "# Cell N 'id' of sweep 'NAME' (...". */
static void name_from_header(const char *text, char *out, size_t n)
{
    const char *p = strstr(text, " of sweep '");
    if (!p) return;
    p += strlen(" of sweep '");
    size_t k = strcspn(p, "'\n");
    snprintf(out, n, "%.*s", (int)k, p);
}

int scorr_sweep_open_folder(const char *dir, struct scorr_sweep *sw)
{
    int err = 0;
    char path[PATH_MAX + 400], *text = NULL, *exp = NULL;
    size_t len = 0, elen = 0;
    memset(sw, 0, sizeof *sw);
    SCORR_TRY(sweep_abspath(dir, sw->dir, sizeof sw->dir));
    snprintf(sw->workdir, sizeof sw->workdir, "%s", sw->dir);
    snprintf(path, sizeof path, "%s/cells.tsv", sw->dir);
    SCORR_REQUIRE(scorr_exists(path), SCORR_EIO,
                  "'%s' is not a sweep folder: no cells.tsv (scorr_sweep writes it)", dir);
    SCORR_TRY(scorr_read_file(path, &text, &len));
    SCORR_REQUIRE(!strncmp(text, "index\tcell\t", 11), SCORR_EFORMAT,
                  "%s: not a scorr_sweep cells.tsv (expected the header 'index<TAB>cell<TAB>...')",
                  path);
    snprintf(sw->eval_split, sizeof sw->eval_split, "test");
    int lines = 0;
    for (const char *q = text; *q; q++) lines += *q == '\n';
    sw->cells = calloc((size_t)(lines > 0 ? lines : 1), sizeof *sw->cells);
    SCORR_REQUIRE(sw->cells, SCORR_ENOMEM, "out of memory");
    int lineno = 1;
    char *save = NULL;
    strtok_r(text, "\n", &save); /* the header */
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        lineno++;
        /* index, cell, group, teacher, ranks, threads, time, partition, eval_split, ... */
        char *f[11] = {0};
        int nf = 0;
        for (char *p = l; p && nf < 11; nf++) {
            f[nf] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        SCORR_REQUIRE(nf >= 9 && sweep_valid_name(f[1]) && strlen(f[1]) < SCORR_CONFIG_NAME,
                      SCORR_EFORMAT, "%s:%d: expected 'index<TAB>cell<TAB>...' with 9 or more "
                      "fields", path, lineno);
        struct scorr_sweep_cell *c = &sw->cells[sw->n_cells++];
        c->index = atoi(f[0]);
        c->teacher = -1;
        snprintf(c->id, sizeof c->id, "%s", f[1]);
        snprintf(sw->eval_split, sizeof sw->eval_split, "%s", f[8]);
        if (nf > 9) snprintf(c->eval_data, sizeof c->eval_data, "%s", f[9]);
        char exp_path[PATH_MAX + 400];
        snprintf(exp_path, sizeof exp_path, "%s/cells/%s/exp.yaml", sw->dir, c->id);
        if (scorr_config_load_local(exp_path, &c->cfg)) {
            char msg[2048];
            snprintf(msg, sizeof msg, "%s", scorr_error_message());
            SCORR_FAIL(SCORR_EFORMAT, "%s", msg);
        }
        if (!sw->name[0] && !scorr_read_file(exp_path, &exp, &elen)) {
            name_from_header(exp, sw->name, sizeof sw->name);
            free(exp);
            exp = NULL;
        }
        scorr_error_clear();
    }
    if (!sw->name[0]) {
        const char *b = strrchr(sw->dir, '/');
        snprintf(sw->name, sizeof sw->name, "%.127s", b ? b + 1 : sw->dir);
    }
done:
    free(text);
    free(exp);
    if (err) scorr_sweep_free(sw);
    return err;
}
