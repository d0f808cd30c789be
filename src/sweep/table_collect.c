/* Reading result folders for scorr_table: sweep folders (cells.tsv) and run
 * folders (config.yaml, summary.json, eval_<split>.json). What does not
 * belong is an error naming it; what is unfinished is kept, not counted,
 * with the reason. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/table.h"
#include "sweep/sweep_internal.h"

static int is_dir(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static int add_run(struct scorr_results *res, struct scorr_run **out)
{
    int err = 0;
    struct scorr_run *r = realloc(res->runs, (size_t)(res->n + 1) * sizeof *r);
    SCORR_REQUIRE(r, SCORR_ENOMEM, "out of memory reading results");
    res->runs = r;
    *out = &r[res->n++];
    memset(*out, 0, sizeof **out);
done:
    return err;
}

/* Parse a JSON file; a present but malformed file, or one of another format,
 * is an error naming it. *j = NULL when the file is absent. */
static int read_json(const char *path, const char *format, cJSON **j)
{
    int err = 0;
    char *text = NULL;
    size_t len = 0;
    *j = NULL;
    if (!scorr_exists(path)) return 0;
    SCORR_TRY(scorr_read_file(path, &text, &len));
    *j = cJSON_Parse(text);
    SCORR_REQUIRE(*j, SCORR_EFORMAT, "%s: not valid JSON (near byte %ld)", path,
                  cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : -1L);
    cJSON *f = cJSON_GetObjectItemCaseSensitive(*j, "format");
    SCORR_REQUIRE(cJSON_IsString(f) && !strcmp(f->valuestring, format), SCORR_EFORMAT,
                  "%s: expected \"format\": \"%s\", found %s%s%s", path, format,
                  cJSON_IsString(f) ? "\"" : "", cJSON_IsString(f) ? f->valuestring : "none",
                  cJSON_IsString(f) ? "\"" : "");
done:
    if (err) {
        cJSON_Delete(*j);
        *j = NULL;
    }
    free(text);
    return err;
}

static int read_last_val(struct scorr_run *r);

/* The metric of run r (whose cfg is set), from its folder. */
static int read_metric(struct scorr_run *r, const struct scorr_table_options *opt)
{
    int err = 0;
    char path[PATH_MAX + 64], key[32];
    cJSON *sum = NULL, *ev = NULL;
    snprintf(key, sizeof key, "%g", opt->alpha);
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    SCORR_TRY(read_json(path, "scorr-summary", &sum));
    if (!sum) {
        snprintf(r->why, sizeof r->why, "no summary.json (not started, or no epoch finished)");
        goto done;
    }
    r->finished = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "finished"));
    if (!r->finished) {
        cJSON *ed = cJSON_GetObjectItemCaseSensitive(sum, "epochs_done");
        cJSON *ep = cJSON_GetObjectItemCaseSensitive(sum, "epochs");
        snprintf(r->why, sizeof r->why, "unfinished (epoch %d of %d)",
                 cJSON_IsNumber(ed) ? (int)ed->valuedouble : -1,
                 cJSON_IsNumber(ep) ? (int)ep->valuedouble : -1);
        goto done;
    }
    if (opt->metric != SCORR_METRIC_TEST) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, "best_val_pck");
        cJSON *a = cJSON_GetObjectItemCaseSensitive(sum, "val_alpha");
        if (!cJSON_IsNumber(v)) {
            snprintf(r->why, sizeof r->why, "no validation PCK in summary.json (validation off)");
            goto done;
        }
        if (!cJSON_IsNumber(a) || fabs(a->valuedouble - opt->alpha) > 1e-9) {
            snprintf(r->why, sizeof r->why, "validated at PCK@%g, not @%g",
                     cJSON_IsNumber(a) ? a->valuedouble : -1.0, opt->alpha);
            goto done;
        }
        if (opt->metric == SCORR_METRIC_LAST) {
            err = read_last_val(r);
            goto done;
        }
        r->value = v->valuedouble;
        r->counted = 1;
        goto done;
    }
    snprintf(path, sizeof path, "%s/eval_test.json", r->dir);
    SCORR_TRY(read_json(path, "scorr-eval", &ev));
    if (!ev) {
        snprintf(r->why, sizeof r->why, "trained, no eval_test.json (run scorr_eval on its "
                 "best.h5 with --split test)");
        goto done;
    }
    cJSON *pck = cJSON_GetObjectItemCaseSensitive(ev, "pck");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(pck, key);
    if (!cJSON_IsNumber(v)) {
        char have[128] = "";
        size_t w = 0;
        cJSON *it;
        cJSON_ArrayForEach(it, pck) if (w < sizeof have)
            w += (size_t)snprintf(have + w, sizeof have - w, "%s%s", w ? ", " : "", it->string);
        snprintf(r->why, sizeof r->why, "eval_test.json has no PCK@%s (it has %s)", key,
                 w ? have : "none");
        goto done;
    }
    r->value = v->valuedouble;
    r->counted = 1;
    cJSON *cats = cJSON_GetObjectItemCaseSensitive(ev, "per_category");
    int n = cJSON_GetArraySize(cats);
    if (n > 0) {
        r->cat = calloc((size_t)n, sizeof *r->cat);
        r->cat_value = calloc((size_t)n, sizeof *r->cat_value);
        SCORR_REQUIRE(r->cat && r->cat_value, SCORR_ENOMEM, "out of memory");
        cJSON *c;
        cJSON_ArrayForEach(c, cats)
        {
            cJSON *cv = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(c, "pck"), key);
            if (!c->string || !cJSON_IsNumber(cv)) continue;
            snprintf(r->cat[r->n_cat], sizeof r->cat[0], "%.63s", c->string);
            r->cat_value[r->n_cat++] = cv->valuedouble;
        }
    }
done:
    cJSON_Delete(sum);
    cJSON_Delete(ev);
    return err;
}

/* Index of column name in a CSV header line (up to its newline), -1 if none. */
static int csv_column(const char *header, const char *name)
{
    size_t l = strlen(name);
    int col = 0;
    for (const char *p = header; *p && *p != '\n'; col++) {
        size_t w = strcspn(p, ",\n");
        if (w == l && !strncmp(p, name, l)) return col;
        p += w;
        if (*p == ',') p++;
    }
    return -1;
}

/* Field col of a CSV line as a number; NaN when empty or missing. */
static double csv_number(const char *line, int col)
{
    const char *p = line;
    for (int c = 0; c < col; c++) {
        p += strcspn(p, ",\n");
        if (*p != ',') return NAN;
        p++;
    }
    if (*p == ',' || *p == '\n' || !*p) return NAN;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* r->value = validation PCK at the last epoch of <run>/epochs.csv, the
 * larger of an mt run's two networks; not counted when that epoch has none. */
static int read_last_val(struct scorr_run *r)
{
    int err = 0;
    char path[PATH_MAX + 64], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/epochs.csv", r->dir);
    if (!scorr_exists(path)) {
        snprintf(r->why, sizeof r->why, "no epochs.csv");
        return 0;
    }
    SCORR_TRY(scorr_read_file(path, &text, &len));
    int cv = csv_column(text, "val_pck");
    SCORR_REQUIRE(csv_column(text, "epoch") == 0 && cv > 0, SCORR_EFORMAT,
                  "%s: not a scorr_train epochs.csv (no epoch or val_pck column)", path);
    double last = -1, best = NAN;
    for (const char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        double e = csv_number(l + 1, 0);
        if (e > last) last = e, best = NAN;
        double v = csv_number(l + 1, cv);
        if (e == last && !isnan(v) && (isnan(best) || v > best)) best = v;
    }
    if (isnan(best)) {
        snprintf(r->why, sizeof r->why, "no validation PCK at the last epoch in epochs.csv");
        goto done;
    }
    r->value = best;
    r->counted = 1;
done:
    free(text);
    return err;
}

/* Pooled precision (percent) of the rows of epoch `epoch`, over the networks
 * (precision * n gives the correct count: n is exact, the precision has six
 * decimals), of column pair ci; NaN when no row has a count. */
static double pooled(const char *text, double epoch, const int ci[2])
{
    double n = 0, ok = 0;
    for (const char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        if (csv_number(l + 1, 0) != epoch) continue;
        double cn = csv_number(l + 1, ci[0]), cp = csv_number(l + 1, ci[1]);
        if (!(cn > 0) || isnan(cp)) continue;
        n += cn;
        ok += floor(cp * cn + 0.5);
    }
    return n > 0 ? 100.0 * ok / n : NAN;
}

/* r->pl from <run>/epochs.csv: at the last epoch and at the first epoch with
 * pseudo-labels (where the small-loss selection keeps its start ratio), counts
 * pooled over the networks. An epochs.csv without the columns (older runs)
 * leaves NaN. */
static int read_pseudo(struct scorr_run *r)
{
    int err = 0;
    char path[PATH_MAX + 64], *text = NULL;
    size_t len = 0;
    static const char *const cols[3][2] = {{"pl_cand_n", "pl_cand_prec"},
                                           {"pl_sel_n", "pl_sel_prec"},
                                           {"pl_out_n", "pl_out_prec"}};
    for (int k = 0; k < SCORR_RUN_PL; k++) r->pl[k] = NAN;
    snprintf(path, sizeof path, "%s/epochs.csv", r->dir);
    if (!r->finished || !scorr_exists(path)) return 0;
    SCORR_TRY(scorr_read_file(path, &text, &len));
    int ci[3][2], ce = csv_column(text, "epoch");
    SCORR_REQUIRE(ce == 0, SCORR_EFORMAT, "%s: not a scorr_train epochs.csv (first column '%.*s')",
                  path, (int)strcspn(text, ",\n"), text);
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 2; j++) ci[k][j] = csv_column(text, cols[k][j]);
    if (ci[0][0] < 0) goto done;
    double last = -1, first = INFINITY;
    for (const char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        double e = csv_number(l + 1, 0);
        if (e > last) last = e;
        if (csv_number(l + 1, ci[0][0]) > 0 && e < first) first = e;
    }
    for (int k = 0; k < 3; k++) {
        r->pl[k] = pooled(text, last, ci[k]);
        r->pl[3 + k] = pooled(text, first, ci[k]);
    }
done:
    free(text);
    return err;
}

/* A config file into r->cfg; errors name the file. */
static int read_config(const char *path, struct scorr_config *cfg)
{
    int err = 0;
    if (scorr_config_load_local(path, cfg)) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", scorr_error_message());
        SCORR_FAIL(SCORR_EFORMAT, "%s", msg);
    }
done:
    return err;
}

static int already(const struct scorr_results *res, const char *dir)
{
    for (int i = 0; i < res->n; i++)
        if (!strcmp(res->runs[i].dir, dir)) return 1;
    return 0;
}

static int collect_run(const char *dir, const char *cell, const char *exp,
                       const struct scorr_table_options *opt, struct scorr_results *res)
{
    int err = 0;
    char path[PATH_MAX + 64], abs[sizeof ((struct scorr_run *)0)->dir];
    struct scorr_run *r = NULL;
    SCORR_TRY(sweep_abspath(dir, abs, sizeof abs));
    if (already(res, abs)) {
        scorr_warn("%s given twice; counted once", abs);
        return 0;
    }
    snprintf(path, sizeof path, "%s/config.yaml", abs);
    int started = scorr_exists(path);
    SCORR_TRY(add_run(res, &r));
    memcpy(r->dir, abs, sizeof r->dir);
    snprintf(r->cell, sizeof r->cell, "%s", cell ? cell : "");
    if (!started) {
        /* A sweep cell not started: its settings from the sweep's exp.yaml. */
        SCORR_REQUIRE(exp, SCORR_EINVAL,
                      "'%s' is not a run folder (no config.yaml) nor a sweep folder (no "
                      "cells.tsv)", dir);
        SCORR_TRY(read_config(exp, &r->cfg));
        snprintf(r->why, sizeof r->why, "not started");
        for (int k = 0; k < SCORR_RUN_PL; k++) r->pl[k] = NAN;
        goto done;
    }
    SCORR_TRY(read_config(path, &r->cfg));
    if (cell && strcmp(r->cfg.name, cell)) {
        SCORR_FAIL(SCORR_EINVAL, "%s: this run folder belongs to another sweep or experiment: "
                   "its config.yaml names '%s', the sweep's cells.tsv expects cell '%s'", abs,
                   r->cfg.name, cell);
    }
    SCORR_TRY(read_metric(r, opt));
    SCORR_TRY(read_pseudo(r));
done:
    return err;
}

/* A sweep folder: every cell of cells.tsv, and nothing else under runs/. */
static int collect_sweep(const char *dir, const struct scorr_table_options *opt,
                         struct scorr_results *res)
{
    int err = 0;
    char path[PATH_MAX + 64], *text = NULL;
    size_t len = 0;
    char **ids = NULL;
    int n_ids = 0;
    DIR *d = NULL;
    snprintf(path, sizeof path, "%s/cells.tsv", dir);
    SCORR_TRY(scorr_read_file(path, &text, &len));
    SCORR_REQUIRE(!strncmp(text, "index\tcell\t", 11), SCORR_EFORMAT,
                  "%s: not a scorr_sweep cells.tsv (expected the header 'index<TAB>cell<TAB>...')",
                  path);
    ids = calloc(len + 1, sizeof *ids);
    SCORR_REQUIRE(ids, SCORR_ENOMEM, "out of memory");
    int lineno = 1;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        lineno++;
        char *l = line + 1, *tab1 = strchr(l, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        SCORR_REQUIRE(tab1 && tab2 && tab2 - tab1 - 1 < SCORR_CONFIG_NAME, SCORR_EFORMAT,
                      "%s:%d: expected 'index<TAB>cell<TAB>...'", path, lineno);
        *tab2 = 0; /* the id, NUL-terminated in place */
        ids[n_ids++] = tab1 + 1;
        SCORR_REQUIRE(sweep_valid_name(tab1 + 1), SCORR_EFORMAT, "%s:%d: bad cell id '%s'", path,
                      lineno, tab1 + 1);
        line = tab2;
    }
    for (int i = 0; i < n_ids; i++) {
        char run[PATH_MAX + 300], exp[PATH_MAX + 300];
        snprintf(run, sizeof run, "%s/runs/%s", dir, ids[i]);
        snprintf(exp, sizeof exp, "%s/cells/%s/exp.yaml", dir, ids[i]);
        SCORR_TRY(collect_run(run, ids[i], exp, opt, res));
    }
    /* Nothing foreign under runs/. */
    snprintf(path, sizeof path, "%s/runs", dir);
    d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        int known = 0;
        for (int i = 0; i < n_ids && !known; i++) known = !strcmp(ids[i], e->d_name);
        SCORR_REQUIRE(known, SCORR_EINVAL,
                      "%s/%s: a results folder that is not a cell of this sweep (%s/cells.tsv); "
                      "move it out, or give it as a run folder of its own", path, e->d_name, dir);
    }
done:
    if (d) closedir(d);
    free(ids);
    free(text);
    return err;
}

/* 1 if a folder directly inside dir has a config.yaml. */
static int holds_runs(const char *dir)
{
    DIR *d = opendir(dir);
    int found = 0;
    char path[PATH_MAX + 300];
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s/config.yaml", dir, e->d_name);
        found = scorr_exists(path);
    }
    if (d) closedir(d);
    return found;
}

int scorr_results_collect(const char *const *paths, int n_paths,
                          const struct scorr_table_options *opt, struct scorr_results *res)
{
    int err = 0;
    char path[PATH_MAX + 64];
    memset(res, 0, sizeof *res);
    for (int i = 0; i < n_paths; i++) {
        const char *p = paths[i];
        SCORR_REQUIRE(is_dir(p), SCORR_EIO, "'%s': no such folder", p);
        snprintf(path, sizeof path, "%s/cells.tsv", p);
        if (scorr_exists(path)) {
            SCORR_TRY(collect_sweep(p, opt, res));
            continue;
        }
        snprintf(path, sizeof path, "%s/config.yaml", p);
        if (scorr_exists(path)) {
            SCORR_TRY(collect_run(p, NULL, NULL, opt, res));
            continue;
        }
        err = scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                              "'%s' is not a run folder (no config.yaml) nor a sweep folder (no "
                              "cells.tsv)", p);
        scorr_error_hint("give a sweep folder (written by scorr_sweep) or run folders (the "
                         "`output:` of scorr_train)%s", holds_runs(p) ? "; the folders inside "
                         "this one are run folders: give them (DIR/*) or their sweep folder" : "");
        goto done;
    }
done:
    if (err) scorr_results_free(res);
    return err;
}

void scorr_results_free(struct scorr_results *res)
{
    for (int i = 0; i < res->n; i++) {
        free(res->runs[i].cat);
        free(res->runs[i].cat_value);
    }
    free(res->runs);
    res->runs = NULL;
    res->n = 0;
}
