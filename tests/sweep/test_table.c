/* scorr_table on hand-made run folders with known numbers: rows found from
 * the configs (not the folder names), mean and sample std over seeds
 * computed here independently, missing rows shown as missing (n = 0), an
 * unfinished run left out and listed, each output format, the validation
 * metric, a sweep folder (cells not started = missing), and foreign or
 * malformed folders rejected with their names. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/sweep.h"
#include "scorr/table.h"
#include "sweep_fakes.h"

static const char *tmp;

struct spec {
    const char *dir;      /* folder name: deliberately not the setting's name */
    const char *sets;     /* "key=value;key=value" */
    double test, val;     /* PCK@0.1 */
    int finished;
};

/* baseline flags of Table 4 */
#define A0 "variant=baseline;model.sce.enabled=false;model.upsample=1;model.backbone.freeze=true"
#define A3 "variant=baseline"
#define MT "variant=mt"

static const struct spec RUNS[] = {
    {"r01", A0 ";seed=1", 10, 11, 1},
    {"r02", A0 ";seed=2", 12, 13, 1},
    {"r03", A0 ";seed=3", 17, 15, 1},
    {"r04", A3 ";seed=1", 40, 41, 1},
    {"r05", A3 ";seed=2", 44, 43, 1},
    {"r06", MT ";seed=1", 50, 51, 1},
    {"r07", MT ";seed=2", 52, 53, 1},
    {"r08", MT ";seed=3", 57, 55, 1},
    {"r09", MT ";seed=4", 99, 99, 0},                       /* unfinished: not counted */
    {"r10", "variant=st;teacher.checkpoint=r04;seed=1", 47, 46, 1},
    {"r11", MT ";pseudo.dilation_kernel=3;seed=1", 49, 48, 1},
    {"r12", MT ";pseudo.dilation_kernel=3;seed=2", 51, 50, 1},
    {"r13", MT ";pseudo.dilation_kernel=none;seed=1", 45, 44, 1}, /* A5 */
};
#define NRUNS (int)(sizeof RUNS / sizeof *RUNS)

static void make_run(const struct spec *s)
{
    struct scorr_config c;
    char path[4096], *text = NULL, buf[512];
    scorr_config_defaults(&c);
    const char *keys[16], *vals[16];
    int n = 0;
    snprintf(buf, sizeof buf, "name=%s;train.epochs=3;pseudo.start_epoch=1;%s", s->dir, s->sets);
    for (char *tok = strtok(buf, ";"); tok && n < 16; tok = strtok(NULL, ";")) {
        char *eq = strchr(tok, '=');
        *eq = 0;
        keys[n] = tok;
        vals[n++] = eq + 1;
    }
    CHECK_OK(scorr_config_override(&c, n, keys, vals));
    CHECK_OK(scorr_config_emit(&c, &text));
    snprintf(path, sizeof path, "%s/%s/config.yaml", tmp, s->dir);
    CHECK(!fakes_write(path, text ? text : ""), "write %s", path);
    free(text);
    char js[1024];
    snprintf(js, sizeof js, "{\"format\": \"scorr-summary\", \"version\": 1, \"finished\": %s, "
             "\"epochs\": 3, \"epochs_done\": %d, \"best_val_pck\": %g, \"val_alpha\": 0.1}",
             s->finished ? "true" : "false", s->finished ? 3 : 1, s->val);
    snprintf(path, sizeof path, "%s/%s/summary.json", tmp, s->dir);
    fakes_write(path, js);
    snprintf(js, sizeof js, "{\"format\": \"scorr-eval\", \"version\": 1, \"pck\": {\"0.05\": 1, "
             "\"0.1\": %g}, \"per_category\": {\"bird\": {\"pairs\": 2, \"pck\": {\"0.1\": %g}}, "
             "\"aeroplane\": {\"pairs\": 2, \"pck\": {\"0.1\": %g}}}}", s->test, s->test + 1,
             s->test - 2);
    snprintf(path, sizeof path, "%s/%s/eval_test.json", tmp, s->dir);
    if (s->finished) fakes_write(path, js);
}

/* mean and sample std of the given runs' metric, computed directly */
static void expect_stats(const int *idx, int n, int val, double off, double *mean, double *std)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (val ? RUNS[idx[i]].val : RUNS[idx[i]].test) + off;
    *mean = s / n;
    double ss = 0;
    for (int i = 0; i < n; i++) {
        double d = (val ? RUNS[idx[i]].val : RUNS[idx[i]].test) + off - *mean;
        ss += d * d;
    }
    *std = n > 1 ? sqrt(ss / (n - 1)) : NAN;
}

/* The CSV line of table/label-substring/column: mean, std, n. */
static int csv_find(const char *csv, const char *table, const char *label, const char *column,
                    double *mean, double *std, int *n)
{
    char *copy = strdup(csv);
    int found = 0;
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, table, strlen(table)) || line[strlen(table)] != ',') continue;
        if (!strstr(line, label)) continue;
        char col[80];
        snprintf(col, sizeof col, ",%s,", column);
        char *p = strstr(line, col);
        if (!p) continue;
        p += strlen(col);
        char *e1 = strchr(p, ',');
        char *e2 = e1 ? strchr(e1 + 1, ',') : NULL;
        if (!e1 || !e2) continue;
        *mean = e1 == p ? NAN : atof(p);
        *std = e2 == e1 + 1 ? NAN : atof(e1 + 1);
        *n = atoi(e2 + 1);
        found++;
    }
    free(copy);
    return found;
}

static void check_row(int line, const char *csv, const char *table, const char *label,
                      const char *column, const int *idx, int n, int val, double off)
{
    double m = NAN, s = NAN, em = NAN, es = NAN;
    int k = -1;
    int found = csv_find(csv, table, label, column, &m, &s, &k);
    scorr_test_checks++;
    if (found != 1) {
        scorr_test_failures++;
        fprintf(stderr, "FAIL test line %d: %d CSV lines for %s / %s / %s\n", line, found, table,
                label, column);
        return;
    }
    if (n) expect_stats(idx, n, val, off, &em, &es);
    int ok = k == n && (n ? fabs(m - em) <= 1e-3 : isnan(m)) &&
             (n > 1 ? fabs(s - es) <= 1e-3 : isnan(s));
    scorr_test_checks++;
    if (!ok) {
        scorr_test_failures++;
        fprintf(stderr, "FAIL test line %d: %s / %s / %s: got mean %g std %g n %d, expected "
                "mean %g std %g n %d\n", line, table, label, column, m, s, k, em, es, n);
    }
}
#define ROW(table, label, column, val, off, ...)                                            \
    do {                                                                                   \
        static const int idx_[] = {__VA_ARGS__};                                           \
        int n_ = idx_[0] < 0 ? 0 : (int)(sizeof idx_ / sizeof *idx_);                      \
        check_row(__LINE__, csv, table, label, column, idx_, n_, val, off);               \
    } while (0)

static char *render(const char *const *paths, int n, unsigned tables, enum scorr_table_format f,
                    enum scorr_table_metric m, char **notes)
{
    struct scorr_results res;
    struct scorr_table_options opt = {tables, f, m, 0.1};
    char *out = NULL;
    if (scorr_results_collect(paths, n, &opt, &res)) {
        scorr_error_print(stderr, "test_table");
        scorr_test_failures++;
        return NULL;
    }
    CHECK_OK(scorr_table_render(&res, &opt, &out, notes));
    scorr_results_free(&res);
    return out;
}

static void test_tables(void)
{
    const char *paths[NRUNS];
    char buf[NRUNS][1024];
    for (int i = 0; i < NRUNS; i++) {
        make_run(&RUNS[i]);
        snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, RUNS[i].dir);
        paths[i] = buf[i];
    }
    char *notes = NULL;
    char *csv = render(paths, NRUNS, SCORR_TABLE_ALL, SCORR_TABLE_CSV, SCORR_METRIC_TEST, &notes);
    if (!csv) return;
    CHECK(!strncmp(csv, "table,block,row,label,column,mean,std,n\n", 40), "CSV header");
    const char *col = "test PCK@0.1";
    /* Table 4 */
    ROW("modules", "ID=A0;", col, 0, 0, 0, 1, 2);
    ROW("modules", "ID=A1;", col, 0, 0, -1);
    ROW("modules", "ID=A2;", col, 0, 0, -1);
    ROW("modules", "ID=A3;", col, 0, 0, 3, 4);
    ROW("modules", "ID=A4;", col, 0, 0, -1);
    ROW("modules", "ID=A5;", col, 0, 0, 12);
    ROW("modules", "pseudo.dilation_kernel=7", col, 0, 0, 5, 6, 7);
    ROW("modules", "pseudo.dilation_kernel=3", col, 0, 0, 10, 11);
    CHECK(strstr(csv, "modules,0,0,ID=A0; SCE=no; HR loss=no; Finetune=no; "
                      "Teacher-student=no; Dyn. selection=no; Mask dilation=no") &&
              strstr(csv, "modules,0,3,ID=A3; SCE=yes; HR loss=yes; Finetune=yes; "
                          "Teacher-student=no; Dyn. selection=no; Mask dilation=no"),
          "A0 and A3 row labels");
    /* Table 5 */
    ROW("variants", "none (baseline)", col, 0, 0, 3, 4);
    ROW("variants", "(st)", col, 0, 0, 9);
    ROW("variants", "(mt)", col, 0, 0, 5, 6, 7);
    /* Table 6 */
    ROW("dilation", "kernel=none", col, 0, 0, 12);
    ROW("dilation", "kernel=3", col, 0, 0, 10, 11);
    ROW("dilation", "kernel=7", col, 0, 0, 5, 6, 7);
    ROW("dilation", "kernel=15", col, 0, 0, -1);
    /* Table 1: per category (bird = test + 1, aeroplane = test - 2) */
    ROW("categories", "Method=A0 (baseline)", "bird", 0, 1, 0, 1, 2);
    ROW("categories", "Method=A0 (baseline)", "aeroplane", 0, -2, 0, 1, 2);
    ROW("categories", "Method=A0 (baseline)", "all", 0, 0, 0, 1, 2);
    ROW("categories", "Method=st", "bird", 0, 1, 9);
    CHECK(notes && strstr(notes, "r09: unfinished (epoch 1 of 3)"), "notes: %s",
          notes ? notes : "");
    CHECK(!strstr(csv, "99"), "the unfinished run's numbers leaked into a table");
    free(csv);
    free(notes);

    /* the validation metric */
    csv = render(paths, NRUNS, SCORR_TABLE_MODULES | SCORR_TABLE_VARIANTS, SCORR_TABLE_CSV,
                 SCORR_METRIC_VAL, NULL);
    if (csv) {
        ROW("modules", "ID=A0;", "val PCK@0.1", 1, 0, 0, 1, 2);
        ROW("variants", "(mt)", "val PCK@0.1", 1, 0, 5, 6, 7);
        CHECK(!strstr(csv, "categories"), "categories without --table");
        free(csv);
    }

    /* Markdown and LaTeX: the same numbers, the missing shown as missing */
    char *md = render(paths, NRUNS, SCORR_TABLE_MODULES | SCORR_TABLE_DILATION, SCORR_TABLE_MD,
                      SCORR_METRIC_TEST, NULL);
    if (md) {
        double m, s;
        static const int a0[] = {0, 1, 2};
        expect_stats(a0, 3, 0, 0, &m, &s);
        char want[128];
        snprintf(want, sizeof want, "| A0 | - | - | - | - | - | - |  | %.1f ± %.1f | 3 |", m, s);
        CHECK(strstr(md, want), "markdown lacks '%s':\n%s", want, md);
        CHECK(strstr(md, "| A1 | ✓ | - | - | - | - | - |  | — | 0 |"), "markdown A1 missing");
        CHECK(strstr(md, "| 15 | — | 0 |"), "markdown k15 missing");
        CHECK(strstr(md, "### Table 4") && strstr(md, "### Table 6") && !strstr(md, "Table 5"),
              "markdown tables");
        CHECK(strstr(md, "- not counted: ") && strstr(md, "r09"), "markdown notes");
        free(md);
    }
    char *tex = render(paths, NRUNS, SCORR_TABLE_MODULES, SCORR_TABLE_LATEX, SCORR_METRIC_TEST,
                       NULL);
    if (tex) {
        double m, s;
        static const int a3[] = {3, 4};
        expect_stats(a3, 2, 0, 0, &m, &s);
        char want[160];
        snprintf(want, sizeof want, "A3 & \\checkmark & \\checkmark & \\checkmark & -- & -- & -- "
                 "&  & $%.1f \\pm %.1f$ & 2 \\\\", m, s);
        CHECK(strstr(tex, want), "LaTeX lacks '%s':\n%s", want, tex);
        CHECK(strstr(tex, "\\toprule") && strstr(tex, "\\midrule") && strstr(tex, "\\bottomrule") &&
                  strstr(tex, "\\begin{tabular}{lcccccclrr}"),
              "booktabs structure:\n%s", tex);
        CHECK(strstr(tex, "A1 & \\checkmark & -- & -- & -- & -- & -- &  & --- & 0 \\\\"),
              "LaTeX missing row");
        CHECK(strstr(tex, "pseudo.dilation\\_kernel=3"), "LaTeX escapes '_'");
        free(tex);
    }
}

/* The generic tables on a selection-ratio / HR-loss sweep made by hand:
 * the varied keys found from the configs (not the seed, not keys the runs
 * share), n/a where a key is moot, rows ordered by value; the pseudo-label
 * table pooled over networks at the last epoch and at the first with
 * pseudo-labels, baselines left out, a run without the columns not counted. */
static void test_generic(void)
{
    static const struct spec ABL[] = {
        {"g1", MT ";pseudo.selection.end_ratio=0.5;seed=1", 50, 0, 1},
        {"g2", MT ";pseudo.selection.end_ratio=0.5;seed=2", 54, 0, 1},
        {"g3", MT ";pseudo.selection.end_ratio=0.9;seed=1", 60, 0, 1},
        {"g4", MT ";pseudo.selection.start_ratio=none;seed=1", 55, 0, 1},
        {"g5", MT ";pseudo.selection.end_ratio=0.5;model.upsample=1;seed=1", 40, 0, 1},
        {"g6", "variant=baseline;seed=1", 30, 0, 1},
    };
    enum { NA = (int)(sizeof ABL / sizeof *ABL) };
    const char *paths[NA];
    char buf[NA][1024], path[1100];
    for (int i = 0; i < NA; i++) {
        make_run(&ABL[i]);
        snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, ABL[i].dir);
        paths[i] = buf[i];
    }
    /* epochs.csv: the last epoch and the first with pseudo-labels (g1: 0,
     * g2: 1) count, the two networks pooled; g3 has the columns of an older
     * scorr_train only */
    const char *head = "epoch,net,loss,loss_gt,loss_pseudo,val_pck,pseudo_weight,keep_ratio,"
                       "lr_head,lr_backbone,seconds,pl_cand_n,pl_cand_prec,pl_sel_n,pl_sel_prec,"
                       "pl_out_n,pl_out_prec\n";
    const char *rows[2] = {
        /* g1: cand (50 + 70) / 200 = 60 %, sel (30 + 10) / 80 = 50 %, out 1 / 10 = 10 %;
         * first (epoch 0): cand 1 / 100 = 1 %, sel 0 / 40 (0.01 * 40 rounds to 0) */
        "0,0,1,1,1,,10,0.5,1,1,1,100,0.01,40,0.01,10,0.01\n"
        "1,0,1,1,1,,10,0.5,1,1,1,100,0.500000,40,0.750000,10,0.100000\n"
        "1,1,1,1,1,,10,0.5,1,1,1,100,0.700000,40,0.250000,,\n",
        /* g2: 80 %, 50 %, 30 %; first = last */
        "1,0,1,1,1,,10,0.5,1,1,1,100,0.800000,40,0.500000,10,0.300000\n"
        "1,1,1,1,1,,10,0.5,1,1,1,100,0.800000,40,0.500000,10,0.300000\n"};
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", head, rows[i]);
        snprintf(path, sizeof path, "%s/epochs.csv", buf[i]);
        fakes_write(path, text);
    }
    snprintf(path, sizeof path, "%s/epochs.csv", buf[2]);
    fakes_write(path, "epoch,net,loss,loss_gt,loss_pseudo,val_pck,pseudo_weight,keep_ratio,"
                      "lr_head,lr_backbone,seconds\n0,0,1,1,1,,10,0.5,1,1,1\n");
    char *notes = NULL;
    char *csv = render(paths, NA, SCORR_TABLE_ABLATION | SCORR_TABLE_PSEUDO, SCORR_TABLE_CSV,
                       SCORR_METRIC_TEST, &notes);
    if (!csv) return;
    const char *col = "test PCK@0.1";
    double m, sd;
    int n;
    /* rows: the three varied keys in config order, moot ones n/a */
    const char *l1 = "ablation,0,2,variant=mt; model.upsample=4; pseudo.selection.start_ratio=0.2; "
                     "pseudo.selection.end_ratio=0.5,";
    CHECK(strstr(csv, l1), "ablation row label '%s' not in:\n%s", l1, csv);
    CHECK(!strstr(csv, "seed=") && !strstr(csv, "train.epochs"), "seed or a shared key varied:\n%s",
          csv);
    CHECK(csv_find(csv, "ablation", "end_ratio=0.5,", col, &m, &sd, &n) == 2, "two 0.5 rows");
    CHECK(csv_find(csv, "ablation", "model.upsample=4; pseudo.selection.start_ratio=0.2; "
                   "pseudo.selection.end_ratio=0.5", col, &m, &sd, &n) == 1 &&
              fabs(m - 52) < 1e-9 && fabs(sd - sqrt(8.0)) < 1e-3 && n == 2,
          "ablation 0.5: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "ablation", "model.upsample=1;", col, &m, &sd, &n) == 1 && m == 40 &&
              isnan(sd) && n == 1, "ablation upsample 1: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "ablation", "start_ratio=none; pseudo.selection.end_ratio=n/a", col, &m,
                   &sd, &n) == 1 && m == 55 && n == 1, "ablation no selection: %g %d", m, n);
    CHECK(csv_find(csv, "ablation", "variant=baseline; model.upsample=4; "
                   "pseudo.selection.start_ratio=n/a; pseudo.selection.end_ratio=n/a", col, &m,
                   &sd, &n) == 1 && m == 30, "ablation baseline: %g", m);
    CHECK(strstr(csv, "ablation,0,0,variant=baseline;") &&
              strstr(csv, "ablation,0,1,variant=mt; model.upsample=1;") &&
              strstr(csv, "ablation,0,4,variant=mt; model.upsample=4; pseudo.selection.start_ratio"
                          "=none"),
          "rows not ordered by value (baseline < mt, upsample 1 < 4, none after the numbers):"
          "\n%s", csv);
    /* the pseudo-label table */
    /* among the runs with pseudo-labels (the baseline left out) the variant does not vary */
    const char *lab = "pseudo,0,1,model.upsample=4; pseudo.selection.start_ratio=0.2; "
                      "pseudo.selection.end_ratio=0.5,";
    CHECK(csv_find(csv, "pseudo", lab, "candidates %", &m, &sd, &n) == 1 && fabs(m - 70) < 1e-9 &&
              fabs(sd - sqrt(200.0)) < 1e-3 && n == 2, "pseudo candidates: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "pseudo", lab, "selected %", &m, &sd, &n) == 1 && fabs(m - 50) < 1e-9 &&
              fabs(sd) < 1e-9 && n == 2, "pseudo selected: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "pseudo", lab, "outside mask %", &m, &sd, &n) == 1 &&
              fabs(m - 20) < 1e-9 && fabs(sd - sqrt(200.0)) < 1e-3 && n == 2,
          "pseudo outside: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "pseudo", lab, "first: candidates %", &m, &sd, &n) == 1 &&
              fabs(m - 40.5) < 1e-9 && fabs(sd - 39.5 * sqrt(2.0)) < 1e-3 && n == 2,
          "pseudo first candidates: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "pseudo", lab, "first: selected %", &m, &sd, &n) == 1 &&
              fabs(m - 25) < 1e-9 && fabs(sd - 25 * sqrt(2.0)) < 1e-3 && n == 2,
          "pseudo first selected: %g %g %d", m, sd, n);
    CHECK(csv_find(csv, "pseudo", "end_ratio=0.9", "candidates %", &m, &sd, &n) == 1 && n == 0 &&
              isnan(m), "a run without the columns counted: %g %d", m, n);
    CHECK(!strstr(csv, "pseudo,0,0,variant=") && strstr(csv, "pseudo,0,0,model.upsample=1;"),
          "pseudo table: baseline shown:\n%s", csv);
    free(csv);
    free(notes);
    /* Markdown and LaTeX */
    char *md = render(paths, NA, SCORR_TABLE_ABLATION, SCORR_TABLE_MD, SCORR_METRIC_TEST, NULL);
    if (md) {
        char want[256];
        snprintf(want, sizeof want, "| mt | 4 | 0.2 | 0.5 | %.1f ± %.1f | 2 |", 52.0, sqrt(8.0));
        CHECK(strstr(md, "### Ablation (test PCK@0.1") && strstr(md, want) &&
                  strstr(md, "| mt | 4 | none | n/a | 55.0 | 1 |") &&
                  strstr(md, "varied: variant, model.upsample, pseudo.selection.start_ratio, "
                             "pseudo.selection.end_ratio"),
              "markdown ablation lacks '%s' or the caption:\n%s", want, md);
        free(md);
    }
    char *tex = render(paths, NA, SCORR_TABLE_PSEUDO, SCORR_TABLE_LATEX, SCORR_METRIC_TEST, NULL);
    if (tex) {
        CHECK(strstr(tex, "4 & 0.2 & 0.5 & $70.0 \\pm 14.1$ & $50.0 \\pm 0.0$ & $20.0 \\pm 14.1$ & "
                           "$40.5 \\pm 55.9$ & $25.0 \\pm 35.4$ & 2 \\\\"),
              "LaTeX pseudo row:\n%s", tex);
        free(tex);
    }
    /* no run with the columns: a note says what is needed */
    char *n2 = NULL;
    char *c2 = render(paths + 2, 1, SCORR_TABLE_PSEUDO, SCORR_TABLE_CSV, SCORR_METRIC_TEST, &n2);
    CHECK(n2 && strstr(n2, "--trn-dense-flow"), "note without pseudo-label columns: %s",
          n2 ? n2 : "");
    free(c2);
    free(n2);
}

static void expect_collect_error(int line, const char *path, const char *needle)
{
    struct scorr_results res;
    struct scorr_table_options opt = {SCORR_TABLE_ALL, SCORR_TABLE_MD, SCORR_METRIC_TEST, 0.1};
    const char *p[1] = {path};
    const char *const needles[] = {needle, NULL};
    if (scorr_check_error(line, scorr_results_collect(p, 1, &opt, &res), path, needles))
        scorr_results_free(&res);
}

/* --metric last: the validation PCK of the last epoch in epochs.csv, the
 * better of mt's two networks; an earlier, higher epoch does not count, and
 * a run whose last epoch has no validation is listed, not counted. */
/* A path under the working directory is shown relative to it, one outside
 * as it is. */
static void test_shown_paths(void)
{
    char cwd[1024], sets[3][1400], path[3][1100];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    const char *w = "variant=baseline;seed=1;model.backbone.weights=";
    snprintf(sets[0], sizeof sets[0], "%s%s/runs/pre/best.h5", w, cwd);
    snprintf(sets[1], sizeof sets[1], "%s/nowhere/w.h5", w);
    snprintf(sets[2], sizeof sets[2], "%snone", w);
    const char *paths[3];
    for (int i = 0; i < 3; i++) {
        char dir[16];
        snprintf(dir, sizeof dir, "w%d", i);
        struct spec s = {dir, sets[i], 30 + i, 30, 1};
        make_run(&s);
        snprintf(path[i], sizeof path[i], "%s/%s", tmp, dir);
        paths[i] = path[i];
    }
    char *md = render(paths, 3, SCORR_TABLE_ABLATION, SCORR_TABLE_MD, SCORR_METRIC_TEST, NULL);
    if (!md) return;
    char abs[1100];
    snprintf(abs, sizeof abs, "%s/runs", cwd);
    CHECK(strstr(md, "| runs/pre/best.h5 | 30.0 | 1 |") &&
              strstr(md, "| /nowhere/w.h5 | 31.0 | 1 |") && !strstr(md, abs), "weights paths not shown relative to %s:\n%s", cwd, md);
    free(md);
}

static void test_metric_last(void)
{
    static const struct spec L[] = {
        {"l1", MT ";seed=1", 70, 80, 1},
        {"l2", MT ";seed=2", 70, 80, 1},
        {"l3", MT ";seed=3", 70, 80, 1},
    };
    const char *head = "epoch,net,loss,loss_gt,loss_pseudo,val_pck\n";
    const char *rows[3] = {"0,0,1,1,0,60\n0,1,1,1,0,61\n1,0,1,1,0,40\n1,1,1,1,0,45\n",
                           "0,0,1,1,0,62\n0,1,1,1,0,62\n1,0,1,1,0,51\n1,1,1,1,0,50\n",
                           "0,0,1,1,0,62\n1,0,1,1,0,\n1,1,1,1,0,\n"};
    const char *paths[3];
    char buf[3][1024], path[1100], text[512];
    for (int i = 0; i < 3; i++) {
        make_run(&L[i]);
        snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, L[i].dir);
        paths[i] = buf[i];
        snprintf(path, sizeof path, "%s/epochs.csv", buf[i]);
        snprintf(text, sizeof text, "%s%s", head, rows[i]);
        fakes_write(path, text);
    }
    char *notes = NULL;
    char *csv = render(paths, 3, SCORR_TABLE_ABLATION, SCORR_TABLE_CSV, SCORR_METRIC_LAST, &notes);
    if (!csv) return;
    double m, sd;
    int n;
    CHECK(csv_find(csv, "ablation", "all runs", "last-epoch val PCK@0.1", &m, &sd, &n) == 1 &&
              fabs(m - 48) < 1e-9 && fabs(sd - 3 * sqrt(2.0)) < 1e-3 && n == 2,
          "last-epoch metric: %g %g %d\n%s", m, sd, n, csv);
    CHECK(notes && strstr(notes, "no validation PCK at the last epoch"), "run l3 not listed: %s",
          notes ? notes : "");
    free(csv);
    free(notes);
}

static void test_sweep_folder(void)
{
    struct scorr_sweep sw;
    char path[4096], dir[1100];
    CHECK_OK(fakes_sweep(tmp, "tsw", "name: tsw\nset: {train.epochs: 3, pseudo.start_epoch: 1}\n"
                                     "cells:\n  - {id: A3, set: {variant: baseline}}\n"
                                     "  - {id: A6}\ngrid: {seed: [1, 2]}\n",
                         &sw));
    if (scorr_test_failures) return;
    CHECK_OK(scorr_sweep_write(&sw, "/nonexistent/bin"));
    snprintf(dir, sizeof dir, "%.1023s", sw.dir);
    /* A3-seed1 finished with 30, A6-seed2 finished with 60; the others not started */
    const char *ids[2] = {"A3-seed1", "A6-seed2"};
    const double v[2] = {30, 60};
    for (int i = 0; i < 2; i++) {
        char src[2048], *t;
        snprintf(src, sizeof src, "%s/cells/%s/exp.yaml", dir, ids[i]);
        t = fakes_read(src);
        snprintf(path, sizeof path, "%s/runs/%s/config.yaml", dir, ids[i]);
        fakes_write(path, t ? t : "");
        free(t);
        snprintf(path, sizeof path, "%s/runs/%s/summary.json", dir, ids[i]);
        fakes_write(path, "{\"format\": \"scorr-summary\", \"finished\": true}");
        char js[200];
        snprintf(js, sizeof js, "{\"format\": \"scorr-eval\", \"pck\": {\"0.1\": %g}}", v[i]);
        snprintf(path, sizeof path, "%s/runs/%s/eval_test.json", dir, ids[i]);
        fakes_write(path, js);
    }
    const char *p[1] = {dir};
    char *notes = NULL;
    char *csv = render(p, 1, SCORR_TABLE_MODULES, SCORR_TABLE_CSV, SCORR_METRIC_TEST, &notes);
    if (csv) {
        double m, s;
        int n;
        CHECK(csv_find(csv, "modules", "ID=A3;", "test PCK@0.1", &m, &s, &n) == 1 && n == 1 &&
                  fabs(m - 30) < 1e-9,
              "A3 from the sweep: %g n %d", m, n);
        CHECK(csv_find(csv, "modules", "ID=A6;", "test PCK@0.1", &m, &s, &n) == 1 && n == 1 &&
                  fabs(m - 60) < 1e-9,
              "A6 from the sweep: %g n %d", m, n);
        CHECK(notes && strstr(notes, "not started: A3-seed2, A6-seed1"),
              "not started cells listed: %s", notes ? notes : "");
        free(csv);
    }
    free(notes);
    /* a foreign folder under runs/ */
    snprintf(path, sizeof path, "%s/runs/stranger/config.yaml", dir);
    fakes_write(path, "name: stranger\n");
    expect_collect_error(__LINE__, dir, "stranger");
    snprintf(path, sizeof path, "rm -rf '%s/runs/stranger'", dir);
    CHECK(system(path) == 0, "rm");
    /* a run folder of another experiment in place of a cell */
    snprintf(path, sizeof path, "%s/runs/A6-seed1/config.yaml", dir);
    fakes_write(path, "name: somebody-else\n");
    expect_collect_error(__LINE__, dir, "another sweep");
    scorr_sweep_free(&sw);
}

static void test_bad_folders(void)
{
    char path[4096];
    /* not a run folder, not a sweep folder */
    snprintf(path, sizeof path, "%s/empty", tmp);
    scorr_mkdirs(path);
    expect_collect_error(__LINE__, path, "is not a run folder");
    expect_collect_error(__LINE__, "/nonexistent/folder", "no such folder");
    /* malformed summary.json: named */
    snprintf(path, sizeof path, "%s/r01/summary.json", tmp);
    fakes_write(path, "{\"format\": \"scorr-summary\", ");
    snprintf(path, sizeof path, "%s/r01", tmp);
    expect_collect_error(__LINE__, path, "r01/summary.json: not valid JSON");
    /* a summary of another format */
    snprintf(path, sizeof path, "%s/r01/summary.json", tmp);
    fakes_write(path, "{\"format\": \"something\"}");
    snprintf(path, sizeof path, "%s/r01", tmp);
    expect_collect_error(__LINE__, path, "expected \"format\": \"scorr-summary\"");
    /* a bad config.yaml: named with its line */
    snprintf(path, sizeof path, "%s/r02/config.yaml", tmp);
    fakes_write(path, "name: x\nmodel:\n  upsample: 3\n");
    snprintf(path, sizeof path, "%s/r02", tmp);
    expect_collect_error(__LINE__, path, "r02/config.yaml:3");
}

int main(void)
{
    tmp = fakes_tmpdir("test_table");
    test_tables();
    test_generic();
    test_metric_last();
    test_shown_paths();
    test_sweep_folder();
    test_bad_folders();
    fakes_cleanup();
    return scorr_test_finish("test_table");
}
