/* Runs -> the paper's tables. Runs with the same settings apart from the seed
 * form a group (one table row: mean +- std over its counted runs). Groups
 * that agree on every key a table does not vary form a family (one block).
 * Rows come from config values only: the Table 4 ID from the six module
 * switches, the variant, the dilation kernel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/error.h"
#include "sweep/sweep_internal.h"
#include "sweep/table_internal.h"

const struct scorr_config *tb_cfg(const struct tctx *x, int g)
{
    return &x->res->runs[x->g[g].runs[0]].cfg;
}

/* ---- groups ------------------------------------------------------------------ */

static int signature(const struct scorr_config *c, char **out, int *n_rel)
{
    struct scorr_sbuf b = {0};
    char v[SCORR_CONFIG_PATH + 64];
    *n_rel = 0;
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        if (!settings_relevant(c, k, 0)) continue;
        settings_value(c, k, v, sizeof v);
        scorr_sb_printf(&b, "%s=%s\n", k, v);
        (*n_rel)++;
    }
    return scorr_sb_finish(&b, out);
}

int tb_groups(struct tctx *x)
{
    int err = 0;
    int n = x->res->n;
    char **sig = calloc((size_t)(n ? n : 1), sizeof *sig);
    int *rel = calloc((size_t)(n ? n : 1), sizeof *rel);
    x->g = calloc((size_t)(n ? n : 1), sizeof *x->g);
    SCORR_REQUIRE(sig && rel && x->g, SCORR_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) SCORR_TRY(signature(&x->res->runs[i].cfg, &sig[i], &rel[i]));
    for (int i = 0; i < n; i++) {
        int g = 0;
        for (; g < x->ng; g++)
            if (!strcmp(sig[x->g[g].runs[0]], sig[i])) break;
        if (g == x->ng) {
            x->g[g].runs = calloc((size_t)n, sizeof *x->g[g].runs);
            SCORR_REQUIRE(x->g[g].runs, SCORR_ENOMEM, "out of memory");
            x->g[g].n_rel = rel[i];
            x->ng++;
        }
        x->g[g].runs[x->g[g].n_runs++] = i;
    }
done:
    for (int i = 0; sig && i < n; i++) free(sig[i]);
    free(sig);
    free(rel);
    return err;
}

/* The value of a counted run (cat: a category, NULL = overall) into *v; 0
 * when the run is not counted or has no value for cat. */
static int run_value(const struct scorr_run *r, const char *cat, double *v)
{
    if (!r->counted) return 0;
    if (!cat) {
        *v = r->value;
        return 1;
    }
    for (int k = 0; k < r->n_cat; k++)
        if (!strcmp(r->cat[k], cat)) {
            *v = r->cat_value[k];
            return 1;
        }
    return 0;
}

/* mean +- sample std over the counted runs of g (cat: a category, NULL =
 * overall). */
void tb_group_stat(const struct tctx *x, int g, const char *cat, struct tcell *c)
{
    double s = 0, ss = 0, v;
    int n = 0;
    for (int i = 0; i < x->g[g].n_runs; i++) {
        if (!run_value(&x->res->runs[x->g[g].runs[i]], cat, &v)) continue;
        s += v;
        n++;
    }
    c->kind = TC_STAT;
    c->n = n;
    c->mean = n ? s / n : NAN;
    for (int i = 0; i < x->g[g].n_runs && n > 1; i++) {
        if (!run_value(&x->res->runs[x->g[g].runs[i]], cat, &v)) continue;
        ss += (v - c->mean) * (v - c->mean);
    }
    c->std = n > 1 ? sqrt(ss / (n - 1)) : NAN;
}

/* "A3-seed1 (+2 runs)" or the folder name. */
static void group_name(const struct tctx *x, int g, char *out, size_t n)
{
    const struct scorr_run *r = &x->res->runs[x->g[g].runs[0]];
    const char *b = r->cell[0] ? r->cell : strrchr(r->dir, '/') ? strrchr(r->dir, '/') + 1 : r->dir;
    if (x->g[g].n_runs > 1)
        snprintf(out, n, "%.200s (and %d more run%s of its setting)", b, x->g[g].n_runs - 1,
                 x->g[g].n_runs > 2 ? "s" : "");
    else
        snprintf(out, n, "%.200s", b);
}

/* ---- the module switches of Table 4 -------------------------------------------- */

static const char *const MOD_HEAD[] = {"SCE", "HR loss", "Finetune", "Teacher-student",
                                       "Dyn. selection", "Mask dilation"};

static void module_bits(const struct scorr_config *c, int bits[6])
{
    int ts = c->variant == SCORR_VARIANT_MT;
    bits[0] = c->model.sce.enabled != 0;
    bits[1] = c->model.upsample > 1;
    bits[2] = !c->model.backbone.freeze;
    bits[3] = ts;
    bits[4] = ts && c->pseudo.selection.start_ratio >= 0;
    bits[5] = ts && c->pseudo.dilation_kernel > 0;
}

/* A0..A6: the first k switches on, the rest off. */
static int module_id(const struct scorr_config *c)
{
    int b[6], k = 0;
    if (c->variant == SCORR_VARIANT_ST) return -1;
    module_bits(c, b);
    while (k < 6 && b[k]) k++;
    for (int i = k; i < 6; i++)
        if (b[i]) return -1;
    return k;
}

/* ---- families ------------------------------------------------------------------- */

struct fam {
    int n;
    int *g;
};

typedef int (*group_filter)(const struct scorr_config *c);

static int compatible_all(const struct tctx *x, int g, const struct fam *f,
                          const char *const *skip)
{
    for (int i = 0; i < f->n; i++)
        if (!settings_compatible(tb_cfg(x, g), tb_cfg(x, f->g[i]), 0, skip, NULL)) return 0;
    return 1;
}

/* Families of the groups passing filter: the most specific groups seed them;
 * a group joins every family it agrees with (a baseline, which has no
 * pseudo-label keys, can join several), else starts one. */
static int families(const struct tctx *x, group_filter filter, const char *const *skip,
                    struct fam **out, int *n_out)
{
    int err = 0;
    int *order = NULL;
    struct fam *f = NULL;
    int nf = 0;
    order = calloc((size_t)(x->ng ? x->ng : 1), sizeof *order);
    f = calloc((size_t)(x->ng ? x->ng : 1), sizeof *f);
    SCORR_REQUIRE(order && f, SCORR_ENOMEM, "out of memory");
    int no = 0;
    for (int g = 0; g < x->ng; g++)
        if (!filter || filter(tb_cfg(x, g))) order[no++] = g;
    /* stable sort by specificity, most specific first */
    for (int i = 1; i < no; i++)
        for (int j = i; j > 0 && x->g[order[j]].n_rel > x->g[order[j - 1]].n_rel; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < no; i++) {
        int g = order[i], joined = 0;
        for (int k = 0; k < nf; k++)
            if (compatible_all(x, g, &f[k], skip)) {
                f[k].g[f[k].n++] = g;
                joined = 1;
            }
        if (!joined) {
            f[nf].g = calloc((size_t)x->ng, sizeof *f[nf].g);
            SCORR_REQUIRE(f[nf].g, SCORR_ENOMEM, "out of memory");
            f[nf].g[f[nf].n++] = g;
            nf++;
        }
    }
    /* members in input order */
    for (int k = 0; k < nf; k++)
        for (int i = 1; i < f[k].n; i++)
            for (int j = i; j > 0 && f[k].g[j] < f[k].g[j - 1]; j--) {
                int t = f[k].g[j];
                f[k].g[j] = f[k].g[j - 1];
                f[k].g[j - 1] = t;
            }
    *out = f;
    *n_out = nf;
    f = NULL;
done:
    free(order);
    if (f)
        for (int k = 0; k < nf; k++) free(f[k].g);
    free(f);
    return err;
}

static void free_families(struct fam *f, int nf)
{
    for (int k = 0; f && k < nf; k++) free(f[k].g);
    free(f);
}

/* ---- document helpers --------------------------------------------------------------- */

int tb_block(struct tdoc *doc, const char *table, int ncol, struct tblock **out)
{
    int err = 0;
    struct tblock *b = realloc(doc->blocks, (size_t)(doc->nblock + 1) * sizeof *b);
    SCORR_REQUIRE(b, SCORR_ENOMEM, "out of memory");
    doc->blocks = b;
    b = &doc->blocks[doc->nblock++];
    memset(b, 0, sizeof *b);
    snprintf(b->table, sizeof b->table, "%s", table);
    b->ncol = ncol;
    b->head = calloc((size_t)ncol, sizeof *b->head);
    SCORR_REQUIRE(b->head, SCORR_ENOMEM, "out of memory");
    *out = b;
done:
    return err;
}

int tb_row(struct tblock *b, struct tcell **row)
{
    int err = 0;
    if (b->nrow == b->cap) {
        int cap = b->cap ? b->cap * 2 : 16;
        struct tcell *c = realloc(b->cells, (size_t)cap * (size_t)b->ncol * sizeof *c);
        SCORR_REQUIRE(c, SCORR_ENOMEM, "out of memory");
        b->cells = c;
        b->cap = cap;
    }
    *row = &b->cells[(size_t)b->nrow * (size_t)b->ncol];
    memset(*row, 0, (size_t)b->ncol * sizeof **row);
    b->nrow++;
done:
    return err;
}

int tb_note(struct tdoc *doc, const char *fmt, ...)
{
    int err = 0;
    char(*n)[1400] = realloc(doc->notes, (size_t)(doc->nnote + 1) * sizeof *n);
    SCORR_REQUIRE(n, SCORR_ENOMEM, "out of memory");
    doc->notes = n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(doc->notes[doc->nnote++], sizeof doc->notes[0], fmt, ap);
    va_end(ap);
done:
    return err;
}

void tb_text(struct tcell *c, const char *s)
{
    c->kind = TC_TEXT;
    snprintf(c->text, sizeof c->text, "%s", s);
}

/* Keys (other than skip) whose values differ between g and the other groups
 * in set[n] (relevant to both) as "k=v, k=v" of g. */
static void differing(const struct tctx *x, int g, const int *set, int n, const char *const *skip,
                      char *out, size_t cap)
{
    size_t w = 0;
    char v[SCORR_CONFIG_PATH + 64], u[SCORR_CONFIG_PATH + 64];
    out[0] = 0;
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        int skipped = 0;
        for (const char *const *s = skip; s && *s; s++) skipped |= !strcmp(*s, k);
        if (skipped || !settings_relevant(tb_cfg(x, g), k, 0)) continue;
        settings_value(tb_cfg(x, g), k, v, sizeof v);
        int differs = 0;
        for (int j = 0; j < n && !differs; j++) {
            if (set[j] == g || !settings_relevant(tb_cfg(x, set[j]), k, 0)) continue;
            settings_value(tb_cfg(x, set[j]), k, u, sizeof u);
            differs = strcmp(u, v) != 0;
        }
        if (differs && w < cap) {
            tb_shown(v);
            w += (size_t)snprintf(out + w, cap - w, "%s%s=%s", w ? ", " : "", k, v);
        }
    }
}

void tb_shown(char *v)
{
    char cwd[SCORR_CONFIG_PATH];
    if (v[0] != '/' || !getcwd(cwd, sizeof cwd)) return;
    size_t n = strlen(cwd);
    if (n > 1 && !strncmp(v, cwd, n) && v[n] == '/') memmove(v, v + n + 1, strlen(v + n + 1) + 1);
}

/* What a block's runs share, for its caption. */
void tb_caption(const struct tctx *x, const int *g, int ng, char *out, size_t cap)
{
    const struct scorr_config *c = tb_cfg(x, g[0]);
    const char *data = strrchr(c->data.file, '/') ? strrchr(c->data.file, '/') + 1 : c->data.file;
    int runs = 0;
    for (int i = 0; i < ng; i++) runs += x->g[g[i]].n_runs;
    snprintf(out, cap, "%d run%s; data %.200s (%d px), ResNet-%d width %d, %d epochs, batch %d", runs,
             runs == 1 ? "" : "s", data, c->data.image_size, c->model.backbone.depth,
             c->model.backbone.width, c->train.epochs, c->train.batch_size);
}

/* Captions for several blocks of one table: what tells them apart. */
static void family_caption(const struct tctx *x, const struct fam *fs, int nf, int k,
                           const char *const *skip, char *out, size_t cap)
{
    int *reps = calloc((size_t)nf, sizeof *reps);
    if (!reps) {
        snprintf(out, cap, "block %d", k + 1);
        return;
    }
    for (int i = 0; i < nf; i++) reps[i] = fs[i].g[0];
    char diff[900];
    differing(x, reps[k], reps, nf, skip, diff, sizeof diff);
    char base[400];
    tb_caption(x, fs[k].g, fs[k].n, base, sizeof base);
    snprintf(out, cap, "%.600s%s%.400s", diff[0] ? diff : "", diff[0] ? "; " : "", base);
    free(reps);
}

/* ---- one-factor tables (Tables 4, 5, 6) ------------------------------------------------ */

struct factor {
    const char *table;
    const char *title;
    const char *head;              /* first column */
    const char *const *skip;       /* keys the table varies */
    group_filter filter;
    int n_canon;
    const char *const *canon_key;  /* row keys always shown */
    const char *const *canon_label;
    void (*key_of)(const struct scorr_config *c, char *key, size_t n);
    int modules;                   /* Table 4: the switch columns */
    int best_only;                 /* show only the families with the most rows present */
};

static int filter_not_st(const struct scorr_config *c) { return c->variant != SCORR_VARIANT_ST; }
static int filter_teacher(const struct scorr_config *c)
{
    return c->variant != SCORR_VARIANT_BASELINE;
}

static void key_module(const struct scorr_config *c, char *key, size_t n)
{
    int b[6];
    module_bits(c, b);
    snprintf(key, n, "%d%d%d%d%d%d", b[0], b[1], b[2], b[3], b[4], b[5]);
}
static void key_variant(const struct scorr_config *c, char *key, size_t n)
{
    snprintf(key, n, "%s", scorr_variant_name(c->variant));
}
static void key_dilation(const struct scorr_config *c, char *key, size_t n)
{
    if (c->pseudo.dilation_kernel > 0)
        snprintf(key, n, "%d", c->pseudo.dilation_kernel);
    else
        snprintf(key, n, "none");
}

static const char *const MOD_SKIP[] = {"model.sce.enabled", "model.upsample",
                                       "model.backbone.freeze", "variant",
                                       "pseudo.weight", "pseudo.start_epoch",
                                       "pseudo.dilation_kernel",
                                       "pseudo.selection.start_ratio",
                                       "pseudo.selection.end_ratio",
                                       "pseudo.selection.ramp_epochs", NULL};
static const char *const MOD_KEYS[] = {"000000", "100000", "110000", "111000",
                                       "111100", "111110", "111111"};
static const char *const MOD_IDS[] = {"A0", "A1", "A2", "A3", "A4", "A5", "A6"};
static const char *const VAR_SKIP[] = {"variant", NULL};
static const char *const VAR_KEYS[] = {"baseline", "st", "mt"};
static const char *const VAR_LABELS[] = {"none (baseline)", "single offline teacher (st)",
                                         "mutual online teachers (mt)"};
static const char *const DIL_SKIP[] = {"pseudo.dilation_kernel", NULL};
static const char *const DIL_KEYS[] = {"none", "3", "7", "15"};

static const struct factor FACTORS[] = {
    {"modules", "Table 4: effect of each module", "ID", MOD_SKIP, filter_not_st, 7, MOD_KEYS,
     MOD_IDS, key_module, 1, 0},
    {"variants", "Table 5: teacher-student variants", "Variant", VAR_SKIP, NULL, 3, VAR_KEYS,
     VAR_LABELS, key_variant, 0, 1},
    {"dilation", "Table 6: label-mask dilation kernel", "Dilation kernel", DIL_SKIP,
     filter_teacher, 4, DIL_KEYS, DIL_KEYS, key_dilation, 0, 1},
};

/* Row keys of a family: canonical first, then the others (numbers ascending). */
static int canon_index(const struct factor *F, const char *key)
{
    for (int i = 0; i < F->n_canon; i++)
        if (!strcmp(F->canon_key[i], key)) return i;
    return -1;
}

int tb_cmp_keys(const char *a, const char *b)
{
    char *ea, *eb;
    double da = strtod(a, &ea), db = strtod(b, &eb);
    if (!*ea && !*eb && ea != a && eb != b) return da < db ? -1 : da > db;
    return strcmp(a, b);
}

static int present_rows(const struct tctx *x, const struct factor *F, const struct fam *f)
{
    char keys[256][32];
    int nk = 0;
    for (int i = 0; i < f->n && nk < 256; i++) {
        char k[32];
        F->key_of(tb_cfg(x, f->g[i]), k, sizeof k);
        int seen = 0;
        for (int j = 0; j < nk; j++) seen |= !strcmp(keys[j], k);
        if (!seen) snprintf(keys[nk++], sizeof keys[0], "%s", k);
    }
    return nk;
}

static int factor_block(struct tctx *x, const struct factor *F, const struct fam *fs, int nf,
                        int k, int multi)
{
    int err = 0;
    const struct fam *f = &fs[k];
    struct tblock *b = NULL;
    char (*keys)[32] = NULL;
    int nk = 0;
    /* the row keys */
    keys = calloc((size_t)(F->n_canon + f->n), sizeof *keys);
    SCORR_REQUIRE(keys, SCORR_ENOMEM, "out of memory");
    for (int i = 0; i < F->n_canon; i++) snprintf(keys[nk++], sizeof keys[0], "%s", F->canon_key[i]);
    int first_extra = nk;
    for (int i = 0; i < f->n; i++) {
        char key[32];
        F->key_of(tb_cfg(x, f->g[i]), key, sizeof key);
        int seen = 0;
        for (int j = 0; j < nk; j++) seen |= !strcmp(keys[j], key);
        if (!seen) snprintf(keys[nk++], sizeof keys[0], "%s", key);
    }
    for (int i = first_extra + 1; i < nk; i++)
        for (int j = i; j > first_extra && tb_cmp_keys(keys[j], keys[j - 1]) < 0; j--) {
            char t[32];
            memcpy(t, keys[j], sizeof t);
            memcpy(keys[j], keys[j - 1], sizeof t);
            memcpy(keys[j - 1], t, sizeof t);
        }
    /* is a settings column needed? (several groups on one row key) */
    int settings = 0;
    for (int r = 0; r < nk; r++) {
        int cnt = 0;
        for (int i = 0; i < f->n; i++) {
            char key[32];
            F->key_of(tb_cfg(x, f->g[i]), key, sizeof key);
            cnt += !strcmp(key, keys[r]);
        }
        settings |= cnt > 1;
    }
    int ncol = 1 + (F->modules ? 6 : 0) + settings + 2;
    SCORR_TRY(tb_block(x->doc, F->table, ncol, &b));
    snprintf(b->title, sizeof b->title, "%s (%s, mean ± std over seeds; n = runs)%s", F->title,
             x->doc->metric, multi ? "" : "");
    if (multi)
        family_caption(x, fs, nf, k, F->skip, b->caption, sizeof b->caption);
    else
        tb_caption(x, f->g, f->n, b->caption, sizeof b->caption);
    int c = 0;
    snprintf(b->head[c++], sizeof b->head[0], "%s", F->head);
    for (int i = 0; F->modules && i < 6; i++) snprintf(b->head[c++], sizeof b->head[0], "%s", MOD_HEAD[i]);
    if (settings) snprintf(b->head[c++], sizeof b->head[0], "Settings");
    snprintf(b->head[c++], sizeof b->head[0], "%s", x->doc->metric);
    snprintf(b->head[c++], sizeof b->head[0], "n");
    for (int r = 0; r < nk; r++) {
        int members[4096], nm = 0;
        for (int i = 0; i < f->n && nm < 4096; i++) {
            char key[32];
            F->key_of(tb_cfg(x, f->g[i]), key, sizeof key);
            if (!strcmp(key, keys[r])) members[nm++] = f->g[i];
        }
        int ci = canon_index(F, keys[r]);
        for (int m = 0; m < (nm ? nm : 1); m++) {
            struct tcell *row;
            SCORR_TRY(tb_row(b, &row));
            c = 0;
            tb_text(&row[c++], ci >= 0 ? F->canon_label[ci] : F->modules ? "—" : keys[r]);
            if (F->modules) {
                for (int i = 0; i < 6; i++) {
                    row[c].kind = TC_CHECK;
                    row[c++].on = keys[r][i] == '1';
                }
            }
            if (settings) {
                if (nm > 1)
                    differing(x, members[m], members, nm, NULL, row[c].text, sizeof row[c].text);
                row[c++].kind = TC_TEXT;
            }
            if (nm) {
                tb_group_stat(x, members[m], NULL, &row[c]);
            } else {
                row[c].kind = TC_STAT;
                row[c].n = 0;
                row[c].mean = row[c].std = NAN;
            }
            row[c + 1].kind = TC_COUNT;
            row[c + 1].n = row[c].n;
        }
    }
done:
    free(keys);
    return err;
}

static int factor_table(struct tctx *x, const struct factor *F)
{
    int err = 0;
    struct fam *fs = NULL;
    int nf = 0;
    SCORR_TRY(families(x, F->filter, F->skip, &fs, &nf));
    if (!nf) {
        /* nothing of this kind: the canonical rows, all missing */
        struct fam empty = {0, NULL};
        struct tblock *b;
        int ncol = 1 + (F->modules ? 6 : 0) + 2;
        SCORR_TRY(tb_block(x->doc, F->table, ncol, &b));
        snprintf(b->title, sizeof b->title, "%s (%s, mean ± std over seeds; n = runs)", F->title,
                 x->doc->metric);
        snprintf(b->caption, sizeof b->caption, "no runs of this kind");
        int c = 0;
        snprintf(b->head[c++], sizeof b->head[0], "%s", F->head);
        for (int i = 0; F->modules && i < 6; i++)
            snprintf(b->head[c++], sizeof b->head[0], "%s", MOD_HEAD[i]);
        snprintf(b->head[c++], sizeof b->head[0], "%s", x->doc->metric);
        snprintf(b->head[c++], sizeof b->head[0], "n");
        for (int r = 0; r < F->n_canon; r++) {
            struct tcell *row;
            SCORR_TRY(tb_row(b, &row));
            c = 0;
            tb_text(&row[c++], F->canon_label[r]);
            for (int i = 0; F->modules && i < 6; i++) {
                row[c].kind = TC_CHECK;
                row[c++].on = F->canon_key[r][i] == '1';
            }
            row[c].kind = TC_STAT;
            row[c].mean = row[c].std = NAN;
            row[c + 1].kind = TC_COUNT;
        }
        (void)empty;
        goto done;
    }
    int best = 0;
    for (int k = 0; k < nf; k++) {
        int p = present_rows(x, F, &fs[k]);
        if (p > best) best = p;
    }
    int shown = 0;
    for (int k = 0; k < nf; k++) shown += !F->best_only || present_rows(x, F, &fs[k]) == best;
    for (int k = 0; k < nf; k++) {
        if (F->best_only && present_rows(x, F, &fs[k]) != best) continue;
        SCORR_TRY(factor_block(x, F, fs, nf, k, shown > 1));
    }
    /* groups of the families not shown, and in none shown */
    for (int k = 0; F->best_only && k < nf; k++) {
        if (present_rows(x, F, &fs[k]) == best) continue;
        for (int i = 0; i < fs[k].n; i++) {
            int g = fs[k].g[i], in_shown = 0;
            for (int j = 0; j < nf; j++) {
                if (present_rows(x, F, &fs[j]) != best) continue;
                for (int m = 0; m < fs[j].n; m++) in_shown |= fs[j].g[m] == g;
            }
            if (in_shown) continue;
            char name[300];
            group_name(x, g, name, sizeof name);
            SCORR_TRY(tb_note(x->doc, "%s: %s is not shown (no setting to compare it with)",
                               F->table, name));
        }
    }
done:
    free_families(fs, nf);
    return err;
}

/* ---- Table 1: per category ----------------------------------------------------------------- */

/* The keys a row's ID already says. */
static const char *const CAT_SKIP[] = {"model.sce.enabled", "model.upsample",
                                       "model.backbone.freeze", "variant", NULL};

static int categories_table(struct tctx *x)
{
    int err = 0;
    char (*cats)[64] = NULL;
    int nc = 0, cap = 0;
    struct tblock *b;
    for (int i = 0; i < x->res->n; i++) {
        const struct scorr_run *r = &x->res->runs[i];
        for (int k = 0; k < r->n_cat; k++) {
            int seen = 0;
            for (int j = 0; j < nc && !seen; j++) seen = !strcmp(cats[j], r->cat[k]);
            if (seen) continue;
            if (nc == cap) {
                cap = cap ? cap * 2 : 32;
                char(*p)[64] = realloc(cats, (size_t)cap * sizeof *p);
                SCORR_REQUIRE(p, SCORR_ENOMEM, "out of memory");
                cats = p;
            }
            snprintf(cats[nc++], sizeof cats[0], "%s", r->cat[k]);
        }
    }
    for (int i = 1; i < nc; i++)
        for (int j = i; j > 0 && strcmp(cats[j], cats[j - 1]) < 0; j--) {
            char t[64];
            memcpy(t, cats[j], sizeof t);
            memcpy(cats[j], cats[j - 1], sizeof t);
            memcpy(cats[j - 1], t, sizeof t);
        }
    int *all = calloc((size_t)(x->ng ? x->ng : 1), sizeof *all);
    SCORR_REQUIRE(all, SCORR_ENOMEM, "out of memory");
    for (int g = 0; g < x->ng; g++) all[g] = g;
    int ncol = 2 + nc + 2;
    SCORR_TRY(tb_block(x->doc, "categories", ncol, &b));
    snprintf(b->title, sizeof b->title, "Table 1: PCK per category (%s, mean ± std over seeds; "
             "n = runs)", x->doc->metric);
    if (x->ng) {
        tb_caption(x, all, x->ng, b->caption, sizeof b->caption);
    }
    int c = 0;
    snprintf(b->head[c++], sizeof b->head[0], "Method");
    snprintf(b->head[c++], sizeof b->head[0], "Settings");
    for (int k = 0; k < nc; k++) snprintf(b->head[c++], sizeof b->head[0], "%s", cats[k]);
    snprintf(b->head[c++], sizeof b->head[0], "all");
    snprintf(b->head[c++], sizeof b->head[0], "n");
    for (int g = 0; g < x->ng; g++) {
        struct tcell *row;
        SCORR_TRY(tb_row(b, &row));
        const struct scorr_config *cf = tb_cfg(x, g);
        int id = module_id(cf);
        char label[64];
        if (id >= 0)
            snprintf(label, sizeof label, "%s (%s)", MOD_IDS[id], scorr_variant_name(cf->variant));
        else
            snprintf(label, sizeof label, "%s", scorr_variant_name(cf->variant));
        c = 0;
        tb_text(&row[c++], label);
        differing(x, g, all, x->ng, CAT_SKIP, row[c].text, sizeof row[c].text);
        row[c++].kind = TC_TEXT;
        for (int k = 0; k < nc; k++) tb_group_stat(x, g, cats[k], &row[c++]);
        tb_group_stat(x, g, NULL, &row[c]);
        row[c + 1].kind = TC_COUNT;
        row[c + 1].n = row[c].n;
    }
    free(all);
done:
    free(cats);
    return err;
}

/* ---- the document ---------------------------------------------------------------------------- */

int table_build(const struct scorr_results *res, const struct scorr_table_options *opt,
                struct tdoc *doc)
{
    int err = 0;
    struct tctx x = {res, opt, doc, 0, NULL};
    struct scorr_sbuf ns = {0}; /* the cells not started */
    memset(doc, 0, sizeof *doc);
    snprintf(doc->metric, sizeof doc->metric, "%s PCK@%g",
             opt->metric == SCORR_METRIC_TEST  ? "test"
             : opt->metric == SCORR_METRIC_VAL ? "val"
                                               : "last-epoch val",
             opt->alpha);
    SCORR_TRY(tb_groups(&x));
    for (int t = 0; t < 3; t++) {
        unsigned bit = t == 0 ? SCORR_TABLE_MODULES : t == 1 ? SCORR_TABLE_VARIANTS
                                                             : SCORR_TABLE_DILATION;
        if (opt->tables & bit) SCORR_TRY(factor_table(&x, &FACTORS[t]));
    }
    if (opt->tables & SCORR_TABLE_ABLATION) SCORR_TRY(table_ablation(&x));
    if (opt->tables & SCORR_TABLE_PSEUDO) SCORR_TRY(table_pseudo(&x));
    if (opt->tables & SCORR_TABLE_CATEGORIES) {
        if (opt->metric == SCORR_METRIC_TEST)
            SCORR_TRY(categories_table(&x));
        else
            SCORR_TRY(tb_note(doc, "categories: per-category numbers exist for the test "
                               "metric only (--metric test)"));
    }
    /* Runs not counted: the cells not started in one line, the others one by one. */
    int n_ns = 0;
    for (int i = 0; i < res->n; i++) {
        const struct scorr_run *r = &res->runs[i];
        if (r->counted) continue;
        if (r->cell[0] && !strcmp(r->why, "not started")) {
            scorr_sb_printf(&ns, "%s%s", n_ns++ ? ", " : "", r->cell);
            continue;
        }
        SCORR_TRY(tb_note(doc, "not counted: %s: %s", r->dir, r->why));
    }
    if (n_ns) {
        char *list = NULL;
        SCORR_TRY(scorr_sb_finish(&ns, &list));
        err = tb_note(doc, "not counted, not started: %.1300s", list);
        free(list);
        if (err) goto done;
    }
done:
    scorr_sb_free(&ns);
    for (int g = 0; g < x.ng; g++) free(x.g[g].runs);
    free(x.g);
    if (err) table_doc_free(doc);
    return err;
}

void table_doc_free(struct tdoc *doc)
{
    for (int i = 0; i < doc->nblock; i++) {
        free(doc->blocks[i].head);
        free(doc->blocks[i].cells);
    }
    free(doc->blocks);
    free(doc->notes);
    memset(doc, 0, sizeof *doc);
}

int scorr_table_doc_build(const struct scorr_results *res, const struct scorr_table_options *opt,
                          struct tdoc *doc)
{
    return table_build(res, opt, doc);
}

void scorr_table_doc_free(struct tdoc *doc) { table_doc_free(doc); }
