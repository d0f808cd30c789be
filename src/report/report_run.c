/* The report of one run folder (include/scorr/report.h). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/report_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/report.h"

#define MAXNET 2
#define MAXPATH (PATH_MAX + 512)

static int is_dir(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static int ends(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && !strcmp(s + n - m, x);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (caller frees each and the array). */
static int list_dir(const char *dir, char ***out, int *n)
{
    int err = 0, cap = 0;
    char **v = NULL;
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **p = realloc(v, sizeof *v * (size_t)cap);
            SCORR_REQUIRE(p, SCORR_ENOMEM, "out of memory listing '%s'", dir);
            v = p;
        }
        v[*n] = strdup(e->d_name);
        SCORR_REQUIRE(v[*n], SCORR_ENOMEM, "out of memory");
        (*n)++;
    }
    if (*n) qsort(v, (size_t)*n, sizeof *v, cmp_str);
    *out = v;
    v = NULL;
done:
    if (d) closedir(d);
    if (err) {
        for (int i = 0; i < *n; i++) free(v[i]);
        free(v);
        *n = 0;
    }
    return err;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* A JSON file of the given format; absent: *j = NULL. Malformed: an error naming it. */
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
                  "%s: expected \"format\": \"%s\"", path, format);
done:
    if (err) {
        cJSON_Delete(*j);
        *j = NULL;
    }
    free(text);
    return err;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- training curves ------------------------------------------------------------------------ */

/* The values of column `name` of the rows of network `net` (all rows when
 * the file has no net column), x from column xname. Returns the count. */
static int column(const struct csv *c, const char *xname, const char *name, int net, double *x,
                  double *y)
{
    int cx = csv_col(c, xname), cy = csv_col(c, name), cn = csv_col(c, "net"), n = 0;
    if (cx < 0 || cy < 0) return 0;
    for (int r = 0; r < c->nrow; r++) {
        if (cn >= 0 && (int)csv_num(c, r, cn) != net) continue;
        x[n] = csv_num(c, r, cx);
        y[n] = csv_num(c, r, cy);
        n++;
    }
    return n;
}

static int has_finite(const struct csv *c, const char *name)
{
    int k = csv_col(c, name);
    for (int r = 0; k >= 0 && r < c->nrow; r++)
        if (isfinite(csv_num(c, r, k))) return 1;
    return 0;
}

static int nets_of(const struct csv *c)
{
    int cn = csv_col(c, "net"), n = 1;
    for (int r = 0; cn >= 0 && r < c->nrow; r++)
        if ((int)csv_num(c, r, cn) + 1 > n) n = (int)csv_num(c, r, cn) + 1;
    return n > MAXNET ? MAXNET : n;
}

/* The columns of epochs.csv the report knows; the others go to the "other" chart. */
static const char *const k_known[] = {"epoch", "net", "loss", "loss_gt", "loss_pseudo", "val_pck",
                                      "pseudo_weight", "keep_ratio", "lr_head", "lr_backbone",
                                      "seconds", NULL};

static int known(const char *name)
{
    for (int i = 0; k_known[i]; i++)
        if (!strcmp(k_known[i], name)) return 1;
    return 0;
}

/* One chart of the given columns per network of csv c (x column xname). */
struct want {
    const char *col;
    const char *label;
    int dashed;
};

static int chart_of(struct scorr_sbuf *b, const struct csv *c, const char *xname,
                    const char *title, const char *ylabel, const struct want *w, int nw,
                    int per_net, int logy)
{
    int err = 0, nn = per_net ? nets_of(c) : 1, ns = 0;
    struct chart_series s[32];
    double *buf = malloc(sizeof(double) * 2 * (size_t)(c->nrow + 1) * 32);
    char names[32][96];
    SCORR_REQUIRE(buf, SCORR_ENOMEM, "out of memory");
    for (int k = 0; k < nw && ns < 32; k++)
        for (int net = 0; net < nn && ns < 32; net++) {
            if (!has_finite(c, w[k].col)) continue;
            double *x = buf + (size_t)ns * 2 * (c->nrow + 1), *y = x + c->nrow + 1;
            int n = column(c, xname, w[k].col, net, x, y);
            if (nn > 1)
                snprintf(names[ns], sizeof names[ns], "%s, net %d", w[k].label, net);
            else
                snprintf(names[ns], sizeof names[ns], "%s", w[k].label);
            s[ns] = (struct chart_series){names[ns], n, x, y, w[k].dashed || net == 1};
            ns++;
        }
    struct chart ch = {title, xname, ylabel, logy, ns, s};
    svg_line_chart(b, &ch);
done:
    free(buf);
    return err ? -1 : ns > 0;
}

static int curves(struct scorr_sbuf *b, const char *dir, const cJSON *sum, int *charts)
{
    int err = 0;
    struct csv ep = {0}, st = {0};
    char path[MAXPATH];
    snprintf(path, sizeof path, "%s/epochs.csv", dir);
    SCORR_TRY(csv_read(path, ',', &ep));
    snprintf(path, sizeof path, "%s/steps.csv", dir);
    SCORR_TRY(csv_read(path, ',', &st));
    scorr_sb_printf(b, "<h2 id=\"curves\">Training</h2>\n");
    if (!ep.nrow && !st.nrow) {
        scorr_sb_printf(b, "<p class=\"note\">No epochs.csv or steps.csv rows yet.</p>\n");
        goto done;
    }
    char pck_label[64];
    double va = jnum(sum, "val_alpha");
    snprintf(pck_label, sizeof pck_label, isfinite(va) ? "PCK@%g (%%)" : "PCK (%%)", va);
    scorr_sb_printf(b, "<div class=\"charts\">\n");
    const struct want loss[] = {{"loss_gt", "gt", 0}, {"loss_pseudo", "pseudo", 1},
                                {"loss", "total", 0}};
    int r;
    r = chart_of(b, &ep, "epoch", "Training loss per epoch (mean)", "loss", loss, 3, 1, 0);
    SCORR_TRY(r < 0);
    *charts += r;
    if (st.nrow) {
        r = chart_of(b, &st, "step", "Training loss per step (network 0)", "loss", loss, 2, 0, 0);
        SCORR_TRY(r < 0);
        *charts += r;
    }
    const struct want val[] = {{"val_pck", "val", 0}};
    r = chart_of(b, &ep, "epoch", "Validation PCK per epoch", pck_label, val, 1, 1, 0);
    SCORR_TRY(r < 0);
    *charts += r;
    const struct want lr[] = {{"lr_head", "head", 0}, {"lr_backbone", "backbone", 1}};
    r = chart_of(b, st.nrow ? &st : &ep, st.nrow ? "step" : "epoch", "Learning rates",
                 "learning rate", lr, 2, 0, 1);
    SCORR_TRY(r < 0);
    *charts += r;
    const struct want sel[] = {{"keep_ratio", "keep ratio", 0},
                               {"pseudo_weight", "pseudo weight", 1}};
    r = chart_of(b, &ep, "epoch", "Pseudo-labels: keep ratio and weight", "value", sel, 2, 0, 0);
    SCORR_TRY(r < 0);
    *charts += r;
    /* pseudo-label precision (any column whose name holds "prec"), the counts
     * behind it ("X_n" beside an "X_prec"), and any other column, by name */
    struct want prec[16], cnt[16], other[16];
    int np = 0, nc = 0, no = 0;
    for (int k = 0; k < ep.ncol; k++) {
        const char *h = ep.head[k];
        if (known(h) || !has_finite(&ep, h)) continue;
        char partner[160];
        size_t l = strlen(h);
        snprintf(partner, sizeof partner, "%.*s_prec", l > 2 ? (int)(l - 2) : 0, h);
        if (strstr(h, "prec") && np < 16)
            prec[np++] = (struct want){h, h, 0};
        else if (l > 2 && !strcmp(h + l - 2, "_n") && csv_col(&ep, partner) >= 0 && nc < 16)
            cnt[nc++] = (struct want){h, h, 0};
        else if (no < 16)
            other[no++] = (struct want){h, h, 0};
    }
    const struct want *extra[3] = {prec, cnt, other};
    const int nextra[3] = {np, nc, no};
    static const char *const titles[3][2] = {
        {"Pseudo-label precision", "%"},
        {"Pseudo-label positions with a known true flow", "positions"},
        {"Other columns of epochs.csv", "value"}};
    for (int e = 0; e < 3; e++) {
        if (!nextra[e]) continue;
        r = chart_of(b, &ep, "epoch", titles[e][0], titles[e][1], extra[e], nextra[e], 1, 0);
        SCORR_TRY(r < 0);
        *charts += r;
    }
    scorr_sb_printf(b, "</div>\n");
    if (!np)
        scorr_sb_printf(b, "<p class=\"note\">Pseudo-label precision: not measured during "
                           "this training (no values in epochs.csv; it needs a training split "
                           "with dense flow, scorr_synth --trn-dense-flow, docs/training.md); "
                           "scorr_eval --pseudo-peer measures it after the fact.</p>\n");
done:
    csv_free(&ep);
    csv_free(&st);
    return err;
}

/* ---- summary, evaluations, pictures ---------------------------------------------------------- */

static void summary_table(struct scorr_sbuf *b, const cJSON *sum)
{
    scorr_sb_printf(b, "<h2 id=\"summary\">Summary (summary.json)</h2>\n<table>\n");
    const cJSON *it;
    cJSON_ArrayForEach(it, sum)
    {
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) continue;
        scorr_sb_printf(b, "<tr><th>");
        html_text(b, it->string);
        scorr_sb_printf(b, "</th><td%s>", cJSON_IsNumber(it) ? " class=\"n\"" : "");
        if (cJSON_IsString(it))
            html_text(b, it->valuestring);
        else if (cJSON_IsNumber(it))
            scorr_sb_printf(b, "%.6g", it->valuedouble);
        else if (cJSON_IsBool(it))
            scorr_sb_printf(b, "%s", cJSON_IsTrue(it) ? "true" : "false");
        else
            scorr_sb_printf(b, "-");
        scorr_sb_printf(b, "</td></tr>\n");
    }
    scorr_sb_printf(b, "</table>\n");
}

/* Rows of PCK per alpha for named groups of an eval JSON object. */
static void pck_rows(struct scorr_sbuf *b, const cJSON *alphas, const char *label, const cJSON *g)
{
    scorr_sb_printf(b, "<tr><td>");
    html_text(b, label);
    scorr_sb_printf(b, "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>", jnum(g, "pairs"),
                    jnum(g, "points"));
    const cJSON *pck = cJSON_GetObjectItemCaseSensitive(g, "pck");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(g, "pck_per_point");
    const cJSON *a;
    cJSON_ArrayForEach(a, alphas)
    {
        char key[32];
        snprintf(key, sizeof key, "%g", a->valuedouble);
        scorr_sb_printf(b, "<td class=\"n\">");
        html_num(b, jnum(pck, key), 2);
        scorr_sb_printf(b, "</td>");
    }
    cJSON_ArrayForEach(a, alphas)
    {
        char key[32];
        snprintf(key, sizeof key, "%g", a->valuedouble);
        scorr_sb_printf(b, "<td class=\"n\">");
        html_num(b, jnum(pp, key), 2);
        scorr_sb_printf(b, "</td>");
    }
    scorr_sb_printf(b, "</tr>\n");
}

static void pck_head(struct scorr_sbuf *b, const cJSON *alphas, const char *first)
{
    scorr_sb_printf(b, "<table>\n<tr><th>%s</th><th>pairs</th><th>points</th>", first);
    const cJSON *a;
    cJSON_ArrayForEach(a, alphas) scorr_sb_printf(b, "<th>PCK@%g</th>", a->valuedouble);
    cJSON_ArrayForEach(a, alphas) scorr_sb_printf(b, "<th>per point @%g</th>", a->valuedouble);
    scorr_sb_printf(b, "</tr>\n");
}

static int eval_section(struct scorr_sbuf *b, const char *path, const char *rel)
{
    int err = 0;
    cJSON *j = NULL;
    SCORR_TRY(read_json(path, "scorr-eval", &j));
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(j, "alphas");
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(j, "checkpoint");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(j, "split");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(j, "threshold");
    scorr_sb_printf(b, "<h3>");
    html_text(b, rel);
    scorr_sb_printf(b, "</h3>\n<p class=\"sub\">checkpoint ");
    html_text(b, cJSON_IsString(ck) ? ck->valuestring : "?");
    scorr_sb_printf(b, ", split ");
    html_text(b, cJSON_IsString(sp) ? sp->valuestring : "?");
    scorr_sb_printf(b, ", threshold ");
    html_text(b, cJSON_IsString(th) ? th->valuestring : "?");
    scorr_sb_printf(b, " (PCK in %%, per image; per point beside)</p>\n");
    pck_head(b, al, "group");
    pck_rows(b, al, "all pairs", j);
    const cJSON *g;
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(j, "per_category");
    cJSON_ArrayForEach(g, pc) pck_rows(b, al, g->string, g);
    const cJSON *pd = cJSON_GetObjectItemCaseSensitive(j, "per_difficulty");
    const cJSON *f;
    cJSON_ArrayForEach(f, pd) cJSON_ArrayForEach(g, f)
    {
        char label[128];
        snprintf(label, sizeof label, "%s = %s", f->string, g->string);
        pck_rows(b, al, label, g);
    }
    scorr_sb_printf(b, "</table>\n");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dense");
    if (d) {
        scorr_sb_printf(b, "<p>Dense end-point error on the foreground: <b>");
        html_num(b, jnum(d, "epe_fg"), 2);
        scorr_sb_printf(b, " px</b> over %.0f pixels (grid cells: ", jnum(d, "pixels"));
        html_num(b, jnum(d, "epe_fg_grid"), 2);
        scorr_sb_printf(b, " px).</p>\n");
    }
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "pseudo");
    if (ps) {
        scorr_sb_printf(b, "<table>\n<tr><th>pseudo-labels</th><th>positions</th><th>correct</th>"
                           "<th>precision (%%)</th><th>EPE (px)</th></tr>\n");
        static const char *const groups[] = {"inside", "outside", "kept", "rejected"};
        for (int k = 0; k < 4; k++) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(ps, groups[k]);
            if (!e) continue;
            scorr_sb_printf(b, "<tr><td>%s</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
                               "<td class=\"n\">", groups[k], jnum(e, "positions"),
                            jnum(e, "correct"));
            html_num(b, jnum(e, "precision"), 2);
            scorr_sb_printf(b, "</td><td class=\"n\">");
            html_num(b, jnum(e, "epe"), 2);
            scorr_sb_printf(b, "</td></tr>\n");
        }
        scorr_sb_printf(b, "</table>\n");
    }
done:
    cJSON_Delete(j);
    return err;
}

static int pictures_section(struct scorr_sbuf *b, const char *dir, const char *rel, int *count)
{
    int err = 0;
    struct csv t = {0};
    char path[MAXPATH + 16];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    if (!scorr_exists(path)) return 0;
    SCORR_TRY(csv_read(path, '\t', &t));
    scorr_sb_printf(b, "<h3>");
    html_text(b, rel);
    scorr_sb_printf(b, "</h3>\n<p class=\"sub\">Keypoint pictures: source left, target right; "
                       "each target keypoint is joined to its predicted source point, green "
                       "within alpha&#183;T, red beyond; the yellow ring is the true source point "
                       "(a thin yellow line joins it to a wrong prediction). Warp pictures: "
                       "source | target | source warped by the predicted flow | by the true flow "
                       "| foreground end-point error (blue 0 to red alpha&#183;T and beyond) when "
                       "the dataset has dense ground truth.</p>\n");
    const int cf = csv_col(&t, "file"), cn = csv_col(&t, "pair_name"), cc = csv_col(&t, "category"),
              ck = csv_col(&t, "keypoints"), co = csv_col(&t, "correct"), cp = csv_col(&t, "pck"),
              ca = csv_col(&t, "alpha"), ce = csv_col(&t, "epe_fg"), ct = csv_col(&t, "kind");
    SCORR_REQUIRE(cf >= 0, SCORR_EFORMAT, "%s: no 'file' column", path);
    for (int r = 0; r < t.nrow; r++) {
        const char *file = t.cell[(size_t)r * t.ncol + cf];
        char png[MAXPATH + 300];
        snprintf(png, sizeof png, "%s/%s", dir, file);
        scorr_sb_printf(b, "<figure>");
        SCORR_TRY(html_png(b, png, file));
        scorr_sb_printf(b, "<figcaption><b>");
        html_text(b, cn >= 0 ? t.cell[(size_t)r * t.ncol + cn] : file);
        scorr_sb_printf(b, "</b> (");
        html_text(b, cc >= 0 ? t.cell[(size_t)r * t.ncol + cc] : "?");
        scorr_sb_printf(b, ") %s: PCK@%g ", ct >= 0 ? t.cell[(size_t)r * t.ncol + ct] : "",
                        csv_num(&t, r, ca));
        html_num(b, csv_num(&t, r, cp), 1);
        scorr_sb_printf(b, "%%, %.0f of %.0f keypoints correct", csv_num(&t, r, co),
                        csv_num(&t, r, ck));
        if (isfinite(csv_num(&t, r, ce)))
            scorr_sb_printf(b, ", foreground EPE %.2f px", csv_num(&t, r, ce));
        scorr_sb_printf(b, "</figcaption></figure>\n");
        (*count)++;
    }
done:
    csv_free(&t);
    return err;
}

/* eval_*.json and pictures_* of dir (rel: its name in the run folder, "" = the run folder). */
static int results_of(struct scorr_sbuf *b, const char *dir, const char *rel, int pictures,
                      struct scorr_report_info *info)
{
    int err = 0;
    char **names = NULL;
    int n = 0;
    SCORR_TRY(list_dir(dir, &names, &n));
    for (int i = 0; i < n; i++) {
        char path[MAXPATH], label[MAXPATH];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(label, sizeof label, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        if (!pictures && starts(names[i], "eval_") && ends(names[i], ".json")) {
            SCORR_TRY(eval_section(b, path, label));
            info->evals++;
        } else if (pictures && starts(names[i], "pictures_") && is_dir(path)) {
            SCORR_TRY(pictures_section(b, path, label, &info->pictures));
        }
    }
done:
    free_list(names, n);
    return err;
}

/* The run folder and the folders directly inside it (not checkpoints/). */
static int results(struct scorr_sbuf *b, const char *dir, int pictures,
                   struct scorr_report_info *info)
{
    int err = 0;
    char **names = NULL;
    int n = 0;
    SCORR_TRY(results_of(b, dir, "", pictures, info));
    SCORR_TRY(list_dir(dir, &names, &n));
    for (int i = 0; i < n; i++) {
        char path[MAXPATH];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!is_dir(path) || !strcmp(names[i], "checkpoints") || starts(names[i], "pictures_"))
            continue;
        SCORR_TRY(results_of(b, path, names[i], pictures, info));
    }
done:
    free_list(names, n);
    return err;
}

int scorr_report_run(const char *run_dir, const char *out, struct scorr_report_info *info)
{
    int err = 0;
    struct scorr_sbuf b = {0};
    struct scorr_report_info local;
    cJSON *sum = NULL;
    char path[MAXPATH], *text = NULL, *cfg = NULL;
    size_t len = 0;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    SCORR_REQUIRE(is_dir(run_dir), SCORR_EIO, "'%s': no such folder", run_dir);
    snprintf(path, sizeof path, "%s/config.yaml", run_dir);
    char spath[MAXPATH];
    snprintf(spath, sizeof spath, "%s/summary.json", run_dir);
    SCORR_REQUIRE(scorr_exists(path) || scorr_exists(spath), SCORR_EINVAL,
                  "'%s' is not a run folder: no config.yaml and no summary.json (give the "
                  "`output:` folder of scorr_train, or a sweep folder)", run_dir);
    if (scorr_exists(path)) SCORR_TRY(scorr_read_file(path, &cfg, &len));
    SCORR_TRY(read_json(spath, "scorr-summary", &sum));
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(sum, "name");
    const char *base = strrchr(run_dir, '/');
    char title[512];
    snprintf(title, sizeof title, "scorr run %s",
             cJSON_IsString(nm) ? nm->valuestring : base && base[1] ? base + 1 : run_dir);
    html_begin(&b, title);
    scorr_sb_printf(&b, "<h1>");
    html_text(&b, title);
    scorr_sb_printf(&b, "</h1>\n<p class=\"sub\">");
    html_text(&b, run_dir);
    if (sum) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, "variant");
        scorr_sb_printf(&b, " &#183; variant ");
        html_text(&b, cJSON_IsString(v) ? v->valuestring : "?");
        scorr_sb_printf(&b, " &#183; %s, epoch %.0f of %.0f",
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "finished"))
                            ? "finished" : "not finished",
                        jnum(sum, "epochs_done"), jnum(sum, "epochs"));
        if (isfinite(jnum(sum, "best_val_pck")))
            scorr_sb_printf(&b, " &#183; best validation PCK@%g <b>%.2f</b> (epoch %.0f, network "
                                "%.0f)", jnum(sum, "val_alpha"), jnum(sum, "best_val_pck"),
                            jnum(sum, "best_epoch"), jnum(sum, "best_peer"));
    }
    scorr_sb_printf(&b, "</p>\n<p><a href=\"#curves\">training</a> &#183; <a href=\"#eval\">"
                        "evaluation</a> &#183; <a href=\"#pictures\">pictures</a> &#183; "
                        "<a href=\"#summary\">summary</a> &#183; <a href=\"#config\">config</a>"
                        "</p>\n");
    SCORR_TRY(curves(&b, run_dir, sum, &info->charts));
    scorr_sb_printf(&b, "<h2 id=\"eval\">Evaluation</h2>\n");
    SCORR_TRY(results(&b, run_dir, 0, info));
    if (!info->evals)
        scorr_sb_printf(&b, "<p class=\"note\">No eval_&lt;split&gt;.json here: run scorr_eval "
                            "on the run's best.h5.</p>\n");
    scorr_sb_printf(&b, "<h2 id=\"pictures\">Pictures</h2>\n");
    SCORR_TRY(results(&b, run_dir, 1, info));
    if (!info->pictures)
        scorr_sb_printf(&b, "<p class=\"note\">No pictures: scorr_eval --pictures N draws "
                            "them.</p>\n");
    if (sum)
        summary_table(&b, sum);
    else
        scorr_sb_printf(&b, "<h2 id=\"summary\">Summary</h2>\n<p class=\"note\">No summary.json "
                            "yet (written after the first epoch).</p>\n");
    scorr_sb_printf(&b, "<h2 id=\"config\">Resolved config (config.yaml)</h2>\n<pre>");
    html_text(&b, cfg ? cfg : "(no config.yaml)");
    scorr_sb_printf(&b, "</pre>\n");
    html_end(&b);
    SCORR_TRY(scorr_sb_finish(&b, &text));
    if (out)
        snprintf(info->path, sizeof info->path, "%s", out);
    else
        snprintf(info->path, sizeof info->path, "%s/report.html", run_dir);
    SCORR_TRY(scorr_write_file_atomic(info->path, text, strlen(text)));
done:
    scorr_sb_free(&b);
    cJSON_Delete(sum);
    free(text);
    free(cfg);
    return err;
}
