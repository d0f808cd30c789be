/* --cells: choosing some cells of a sweep (docs/sweeps.md, "Some cells only").
 *
 * A selector is a comma-separated list of items; a cell is chosen when any
 * item matches it:
 *   KEY=VALUE  the cell's resolved experiment has that value (KEY a full key
 *              such as model.upsample or a unique last part such as upsample;
 *              numbers compare by value, so lr=1e-3 matches 0.001)
 *   PATTERN    a shell glob (* ? [..]) matching the cell id or a run of its
 *              '-'-separated parts: A3 matches A3-seed1 and A3-seed2, seed2
 *              matches every cell of seed 2, 'A*' every cell whose id starts
 *              with A.
 * An item that matches no cell is an error (a typo would otherwise select
 * nothing). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

/* 1 if pat matches id or a run of consecutive '-'-separated parts of it. */
static int id_matches(const char *pat, const char *id)
{
    char part[SCORR_CONFIG_NAME];
    size_t n = strlen(id);
    for (size_t a = 0; a < n; a++) {
        if (a > 0 && id[a - 1] != '-') continue;
        for (size_t b = a + 1; b <= n; b++) {
            if (b < n && id[b] != '-') continue;
            snprintf(part, sizeof part, "%.*s", (int)(b - a), id + a);
            if (!fnmatch(pat, part, 0)) return 1;
        }
    }
    return 0;
}

/* The config key `given` names: itself, or the one key ending in ".given". */
static int resolve_key(const char *given, const char **key, const char *item)
{
    int err = 0, found = 0;
    const char *names[512];
    int nn = 0;
    *key = NULL;
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        if (nn < 512) names[nn++] = k;
        if (!strcmp(k, given)) {
            *key = k;
            return 0;
        }
        size_t lk = strlen(k), lg = strlen(given);
        if (lk > lg && k[lk - lg - 1] == '.' && !strcmp(k + lk - lg, given)) {
            if (found++)
                SCORR_FAIL(SCORR_EINVAL, "--cells '%s': '%s' could be %s or %s; give the full key",
                           item, given, *key, k);
            *key = k;
        }
    }
    if (!*key) {
        const char *near = sweep_suggest(given, names, nn);
        SCORR_FAIL(SCORR_EINVAL, "--cells '%s': no experiment key '%s'%s%s%s", item, given,
                   near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    }
done:
    return err;
}

static int same_value(const char *a, const char *b)
{
    if (!strcmp(a, b)) return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && eb != b && !*ea && !*eb && x == y;
}

int scorr_sweep_select(const struct scorr_sweep *sw, const char *spec, unsigned char *sel,
                       int *n_sel)
{
    int err = 0;
    char *copy = strdup(spec ? spec : "");
    SCORR_REQUIRE(copy, SCORR_ENOMEM, "out of memory");
    memset(sel, 0, (size_t)sw->n_cells);
    int items = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        size_t l = strlen(item);
        while (l && item[l - 1] == ' ') item[--l] = 0;
        if (!l) continue;
        items++;
        int hits = 0;
        char *eq = strchr(item, '=');
        if (eq) {
            char given[128];
            snprintf(given, sizeof given, "%.*s", (int)(eq - item), item);
            const char *key;
            SCORR_TRY(resolve_key(given, &key, item));
            for (int i = 0; i < sw->n_cells; i++) {
                char v[SCORR_CONFIG_PATH + 64];
                settings_value(&sw->cells[i].cfg, key, v, sizeof v);
                if (same_value(v, eq + 1)) sel[i] = 1, hits++;
            }
        } else {
            for (int i = 0; i < sw->n_cells; i++)
                if (id_matches(item, sw->cells[i].id)) sel[i] = 1, hits++;
        }
        if (!hits) {
            const char *ids[SCORR_SWEEP_MAX_CELLS];
            for (int i = 0; i < sw->n_cells; i++) ids[i] = sw->cells[i].id;
            const char *near = eq ? NULL : sweep_suggest(item, ids, sw->n_cells);
            SCORR_FAIL(SCORR_EINVAL,
                       "--cells: '%s' matches no cell of sweep %s (%d cells, e.g. %s)%s%s%s",
                       item, sw->name, sw->n_cells, sw->n_cells ? sw->cells[0].id : "none",
                       near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
        }
    }
    SCORR_REQUIRE(items > 0, SCORR_EINVAL,
                  "--cells: empty list; give cell ids, patterns or KEY=VALUE, comma-separated");
    int n = 0;
    for (int i = 0; i < sw->n_cells; i++) n += sel[i];
    if (n_sel) *n_sel = n;
done:
    free(copy);
    return err;
}
