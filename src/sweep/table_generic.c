/* Tables for any sweep (docs/tables.md): the rows are the settings (seeds
 * of one setting together), labelled by the values of the keys the settings
 * vary, found from the runs' resolved configs:
 *   ablation  the metric, mean +- std over seeds, n
 *   pseudo    the pseudo-label precision at the last epoch (epochs.csv),
 *             of the candidates, the selected and the positions outside
 *             the dilated mask, mean +- std over seeds, n
 * A key varies when the settings it matters to (settings_relevant) hold more
 * than one value of it; where it does not matter to a setting (the
 * pseudo-label keys of a baseline) the row shows "n/a". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "sweep/sweep_internal.h"
#include "sweep/table_internal.h"

#define VAL_N (SCORR_CONFIG_PATH + 64)

/* Keys varied among groups gs[n]: indices into the config key list. */
static int varied_keys(const struct tctx *x, const int *gs, int n, int *keys)
{
    int nk = 0;
    char a[VAL_N], b[VAL_N];
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        int first = -1, varies = 0;
        for (int j = 0; j < n && !varies; j++) {
            if (!settings_relevant(tb_cfg(x, gs[j]), k, 0)) continue;
            if (first < 0) {
                first = gs[j];
                settings_value(tb_cfg(x, first), k, a, sizeof a);
                continue;
            }
            settings_value(tb_cfg(x, gs[j]), k, b, sizeof b);
            varies = strcmp(a, b) != 0;
        }
        if (varies) keys[nk++] = i;
    }
    return nk;
}

static void key_text(const struct tctx *x, int g, int key, char *out, size_t n)
{
    const char *k = scorr_config_key(key);
    if (!settings_relevant(tb_cfg(x, g), k, 0))
        snprintf(out, n, "n/a");
    else {
        settings_value(tb_cfg(x, g), k, out, n);
        tb_shown(out);
    }
}

static const struct tctx *g_sort_x;
static const int *g_sort_keys;
static int g_sort_nk;

static int cmp_groups(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    char va[VAL_N], vb[VAL_N];
    for (int i = 0; i < g_sort_nk; i++) {
        key_text(g_sort_x, a, g_sort_keys[i], va, sizeof va);
        key_text(g_sort_x, b, g_sort_keys[i], vb, sizeof vb);
        int c = tb_cmp_keys(va, vb);
        if (c) return c;
    }
    return a - b;
}

/* mean +- sample std of v[0..n) ignoring NaN, into c. */
static void stat_of(const double *v, int n, struct tcell *c)
{
    double s = 0, ss = 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) s += v[i], m++;
    c->kind = TC_STAT;
    c->n = m;
    c->mean = m ? s / m : NAN;
    for (int i = 0; i < n && m > 1; i++)
        if (!isnan(v[i])) ss += (v[i] - c->mean) * (v[i] - c->mean);
    c->std = m > 1 ? sqrt(ss / (m - 1)) : NAN;
}

/* One block over the groups passing `keep`: key columns, then the metric
 * (pseudo = 0) or the precisions (pseudo = 1: candidates, selected and
 * outside the mask at the last epoch, candidates and selected at the first
 * epoch with pseudo-labels), then n. */
static int generic_block(struct tctx *x, int pseudo)
{
    int err = 0;
    int *gs = NULL, *keys = NULL, ng = 0;
    double *v = NULL;
    gs = calloc((size_t)(x->ng ? x->ng : 1), sizeof *gs);
    keys = calloc((size_t)scorr_config_nkeys(), sizeof *keys);
    v = calloc((size_t)(x->res->n ? x->res->n : 1), sizeof *v);
    SCORR_REQUIRE(gs && keys && v, SCORR_ENOMEM, "out of memory");
    for (int g = 0; g < x->ng; g++)
        if (!pseudo || tb_cfg(x, g)->variant != SCORR_VARIANT_BASELINE) gs[ng++] = g;
    int nk = varied_keys(x, gs, ng, keys);
    g_sort_x = x, g_sort_keys = keys, g_sort_nk = nk;
    qsort(gs, (size_t)ng, sizeof *gs, cmp_groups);
    static const char *const PL_HEAD[] = {"candidates %", "selected %", "outside mask %",
                                          "first: candidates %", "first: selected %"};
    enum { NPL = (int)(sizeof PL_HEAD / sizeof *PL_HEAD) };
    int nval = pseudo ? NPL : 1;
    struct tblock *b;
    SCORR_TRY(tb_block(x->doc, pseudo ? "pseudo" : "ablation", (nk ? nk : 1) + nval + 1, &b));
    if (pseudo)
        snprintf(b->title, sizeof b->title,
                 "Pseudo-label precision at the last epoch and at the first epoch with "
                 "pseudo-labels (%% within one grid cell of the true flow, mean ± std over "
                 "seeds; n = runs)");
    else
        snprintf(b->title, sizeof b->title, "Ablation (%s, mean ± std over seeds; n = runs)",
                 x->doc->metric);
    if (ng) {
        char base[600];
        tb_caption(x, gs, ng, base, sizeof base);
        size_t w = (size_t)snprintf(b->caption, sizeof b->caption, "%s; varied: ", base);
        for (int i = 0; i < nk && w < sizeof b->caption; i++)
            w += (size_t)snprintf(b->caption + w, sizeof b->caption - w, "%s%s", i ? ", " : "",
                                  scorr_config_key(keys[i]));
        if (!nk && w < sizeof b->caption)
            snprintf(b->caption + w, sizeof b->caption - w, "nothing (one setting)");
    } else {
        snprintf(b->caption, sizeof b->caption, pseudo ? "no runs with pseudo-labels" : "no runs");
    }
    int c = 0;
    for (int i = 0; i < nk; i++)
        snprintf(b->head[c++], sizeof b->head[0], "%s", scorr_config_key(keys[i]));
    if (!nk) snprintf(b->head[c++], sizeof b->head[0], "Setting");
    for (int k = 0; k < nval; k++)
        snprintf(b->head[c++], sizeof b->head[0], "%s", pseudo ? PL_HEAD[k] : x->doc->metric);
    snprintf(b->head[c++], sizeof b->head[0], "n");
    for (int r = 0; r < ng; r++) {
        const int g = gs[r];
        struct tcell *row;
        SCORR_TRY(tb_row(b, &row));
        c = 0;
        for (int i = 0; i < nk; i++) {
            row[c].kind = TC_TEXT;
            key_text(x, g, keys[i], row[c].text, sizeof row[c].text);
            c++;
        }
        if (!nk) tb_text(&row[c++], "all runs");
        if (!pseudo) {
            tb_group_stat(x, g, NULL, &row[c]);
        } else {
            for (int k = 0; k < NPL; k++) {
                for (int i = 0; i < x->g[g].n_runs; i++)
                    v[i] = x->res->runs[x->g[g].runs[i]].pl[k];
                stat_of(v, x->g[g].n_runs, &row[c + k]);
            }
        }
        row[c + nval].kind = TC_COUNT;
        row[c + nval].n = row[c].n;
    }
    if (pseudo) {
        int any = 0;
        for (int i = 0; i < x->res->n; i++) any |= !isnan(x->res->runs[i].pl[0]);
        if (!any)
            SCORR_TRY(tb_note(x->doc, "pseudo: no finished run has pseudo-label precision in its "
                              "epochs.csv (it needs a training split with dense flow: "
                              "scorr_synth --trn-dense-flow)"));
    }
done:
    free(gs);
    free(keys);
    free(v);
    return err;
}

int table_ablation(struct tctx *x) { return generic_block(x, 0); }
int table_pseudo(struct tctx *x) { return generic_block(x, 1); }
