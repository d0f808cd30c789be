/* From a parsed sweep file to cells: the base experiment, the overrides of
 * every cell (sweep `set`, then the cell's `set`, then its grid values), cell
 * ids, resources, resource groups and the teacher of every st cell. Every
 * cell's experiment is fully checked here, so a sweep that loads can be
 * written and run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/sweep.h"
#include "sweep/sweep_internal.h"

#define TEACHER_PENDING (-2)

/* "text" as a double-quoted YAML scalar. */
static void quote(const char *s, char *out, size_t n)
{
    size_t w = 0;
    if (n < 3) return;
    out[w++] = '"';
    for (; *s && w + 3 < n; s++) {
        if (*s == '"' || *s == '\\') out[w++] = '\\';
        out[w++] = *s;
    }
    out[w++] = '"';
    out[w] = 0;
}

/* Strip surrounding quotes of a value text ("st" -> st), truncated to n. */
static void unquote(const char *s, char *out, size_t n)
{
    size_t l = strlen(s);
    if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0]) {
        s++;
        l -= 2;
    }
    if (l >= n) l = n - 1;
    memcpy(out, s, l);
    out[l] = 0;
}

/* ---- overrides of one cell --------------------------------------------------- */

struct olist {
    int n, cap;
    struct scorr_sweep_override *o;
};

static int olist_add(struct olist *l, const struct scorr_sweep_override *o)
{
    int err = 0;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        struct scorr_sweep_override *p = realloc(l->o, (size_t)cap * sizeof *p);
        SCORR_REQUIRE(p, SCORR_ENOMEM, "out of memory expanding the sweep");
        l->o = p;
        l->cap = cap;
    }
    l->o[l->n++] = *o;
done:
    return err;
}

static int olist_add_kv(struct olist *l, const char *key, const char *value, int line)
{
    int err = 0;
    struct scorr_sweep_override o;
    memset(&o, 0, sizeof o);
    size_t kl = strlen(key), vl = strlen(value);
    SCORR_REQUIRE(kl < sizeof o.key && vl < sizeof o.value, SCORR_EINVAL,
                  "override %.100s: value too long (at most %zu bytes)", key, sizeof o.value - 1);
    memcpy(o.key, key, kl + 1);
    memcpy(o.value, value, vl + 1);
    o.line = line;
    SCORR_TRY(olist_add(l, &o));
done:
    return err;
}

/* Apply the sweep's set, then the cell's overrides, then name/output: a
 * failure is a cross-key rule of this cell (the values were checked one by
 * one before). */
static int resolve_cell(const struct scorr_config *base, const struct sweep_spec *sp,
                        const char *file, struct scorr_sweep_cell *c, const char *dir)
{
    int err = 0;
    const char **keys = NULL, **vals = NULL;
    int n = sp->n_set + c->n_over + 2;
    char outq[SCORR_SWEEP_PATH + 64], out[SCORR_SWEEP_PATH + 64];
    keys = calloc((size_t)n, sizeof *keys);
    vals = calloc((size_t)n, sizeof *vals);
    SCORR_REQUIRE(keys && vals, SCORR_ENOMEM, "out of memory expanding the sweep");
    int k = 0;
    for (int i = 0; i < sp->n_set; i++, k++) {
        keys[k] = sp->set[i].key;
        vals[k] = sp->set[i].value;
    }
    for (int i = 0; i < c->n_over; i++, k++) {
        keys[k] = c->over[i].key;
        vals[k] = c->over[i].value;
    }
    keys[k] = "name";
    vals[k++] = c->id;
    SCORR_REQUIRE(snprintf(out, sizeof out, "%s/runs/%s", dir, c->id) < SCORR_CONFIG_PATH,
                  SCORR_EINVAL, "%s:%d: cell '%s': output folder path too long", file, c->line,
                  c->id);
    quote(out, outq, sizeof outq);
    keys[k] = "output";
    vals[k++] = outq;
    c->cfg = *base;
    if (scorr_config_override(&c->cfg, k, keys, vals)) {
        char msg[2048];
        const char *m = scorr_error_message();
        snprintf(msg, sizeof msg, "%s", !strncmp(m, "override: ", 10) ? m + 10 : m);
        SCORR_FAIL(SCORR_EINVAL, "%s:%d: cell '%s': %s", file, c->line, c->id, msg);
    }
done:
    free(keys);
    free(vals);
    return err;
}

/* A relative path value made absolute against the working directory. */
static int absolutize(char *path, size_t n, const char *what, const char *cell)
{
    int err = 0;
    char abs[SCORR_SWEEP_PATH];
    if (!path[0] || path[0] == '/') return 0;
    SCORR_TRY(sweep_abspath(path, abs, sizeof abs));
    SCORR_REQUIRE(strlen(abs) < n, SCORR_EINVAL, "cell '%s': %s: absolute path too long: %s", cell,
                  what, abs);
    snprintf(path, n, "%s", abs);
done:
    return err;
}

/* ---- ids ------------------------------------------------------------------------ */

/* The id of a list cell without `id:`: its overrides as name+value tokens. */
static void derived_id(const struct spec_cell *c, int index, char *out, size_t n)
{
    size_t w = 0;
    out[0] = 0;
    for (int i = 0; i < c->n_over && w + 1 < n; i++) {
        const char *dot = strrchr(c->over[i].key, '.');
        const char *name = dot ? dot + 1 : c->over[i].key;
        char tok[64];
        size_t tw = 0;
        for (const char *p = c->over[i].value; *p && tw + 1 < sizeof tok; p++) {
            int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '.' || *p == '+';
            if (ok)
                tok[tw++] = *p;
            else if (tw && tok[tw - 1] != '_')
                tok[tw++] = '_';
        }
        while (tw && tok[tw - 1] == '_') tw--;
        tok[tw] = 0;
        w += (size_t)snprintf(out + w, n - w, "%s%s%s", w ? "-" : "", name, tok);
    }
    if (!out[0]) snprintf(out, n, "cell%d", index);
}

/* ---- teachers --------------------------------------------------------------------- */

static int find_teachers(struct scorr_sweep *sw, const char *file)
{
    int err = 0;
    static const char *const skip[] = {"variant", NULL};
    for (int i = 0; i < sw->n_cells; i++) {
        struct scorr_sweep_cell *c = &sw->cells[i];
        if (c->teacher != TEACHER_PENDING) {
            /* An explicit teacher that is a cell of this sweep: a dependency. */
            c->teacher = -1;
            if (c->cfg.variant != SCORR_VARIANT_ST) continue;
            for (int j = 0; j < sw->n_cells; j++) {
                char run[SCORR_SWEEP_PATH + 200], best[SCORR_SWEEP_PATH + 210];
                snprintf(run, sizeof run, "%s/runs/%s", sw->dir, sw->cells[j].id);
                snprintf(best, sizeof best, "%s/best.h5", run);
                if (j != i && (!strcmp(c->cfg.teacher.checkpoint, run) ||
                               !strcmp(c->cfg.teacher.checkpoint, best)))
                    c->teacher = j;
            }
            continue;
        }
        int found = -1, near = -1;
        const char *near_diff = NULL;
        for (int j = 0; j < sw->n_cells && found < 0; j++) {
            const struct scorr_sweep_cell *b = &sw->cells[j];
            if (b->cfg.variant != SCORR_VARIANT_BASELINE) continue;
            const char *d = NULL;
            if (settings_compatible(&c->cfg, &b->cfg, SETTINGS_WITH_SEED, skip, &d))
                found = j;
            else if (near < 0)
                near = j, near_diff = d;
        }
        if (found < 0) {
            if (near < 0)
                SCORR_FAIL(SCORR_EINVAL, "%s:%d: cell '%s' (variant st) needs a teacher: the "
                           "sweep has no baseline cell; add one with the same settings, or set "
                           "teacher.checkpoint", file, c->line, c->id);
            char va[SCORR_CONFIG_PATH + 64], vb[SCORR_CONFIG_PATH + 64];
            settings_value(&c->cfg, near_diff, va, sizeof va);
            settings_value(&sw->cells[near].cfg, near_diff, vb, sizeof vb);
            SCORR_FAIL(SCORR_EINVAL, "%s:%d: cell '%s' (variant st) needs a teacher: no baseline "
                       "cell has the same settings (e.g. '%s' differs in %s: %s there, %s here); "
                       "add one, or set teacher.checkpoint", file, c->line, c->id,
                       sw->cells[near].id, near_diff, vb, va);
        }
        c->teacher = found;
        SCORR_REQUIRE(snprintf(c->cfg.teacher.checkpoint, sizeof c->cfg.teacher.checkpoint,
                               "%s/runs/%s", sw->dir, sw->cells[found].id) <
                          (int)sizeof c->cfg.teacher.checkpoint,
                      SCORR_EINVAL, "cell '%s': teacher path too long", c->id);
        for (int k = 0; k < c->n_over; k++)
            if (!c->over[k].line && !strcmp(c->over[k].key, "teacher.checkpoint"))
                quote(c->cfg.teacher.checkpoint, c->over[k].value, sizeof c->over[k].value);
    }
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        SCORR_REQUIRE(c->teacher < 0 || sw->cells[c->teacher].teacher < 0, SCORR_EINVAL,
                      "%s:%d: cell '%s': its teacher '%s' has a teacher itself; chains of "
                      "teachers are not supported (train the teacher in another sweep and name "
                      "its run folder in teacher.checkpoint)", file, c->line, c->id,
                      sw->cells[c->teacher].id);
    }
done:
    return err;
}

/* ---- resources ---------------------------------------------------------------------- */

static void merge_res(struct scorr_sweep_resources *r, const struct spec_res *s)
{
    if (s->set & RES_RANKS) r->ranks = s->r.ranks;
    if (s->set & RES_THREADS) r->threads = s->r.threads;
    if (s->set & RES_TIME) snprintf(r->time, sizeof r->time, "%s", s->r.time);
    if (s->set & RES_PARTITION) snprintf(r->partition, sizeof r->partition, "%s", s->r.partition);
    if (s->set & RES_EXTRA) {
        r->n_extra = s->r.n_extra;
        memcpy(r->extra, s->r.extra, sizeof r->extra);
    }
}

static int same_res(const struct scorr_sweep_resources *a, const struct scorr_sweep_resources *b)
{
    if (a->ranks != b->ranks || a->threads != b->threads || strcmp(a->time, b->time) ||
        strcmp(a->partition, b->partition) || a->n_extra != b->n_extra)
        return 0;
    for (int i = 0; i < a->n_extra; i++)
        if (strcmp(a->extra[i], b->extra[i])) return 0;
    return 1;
}

static int check_layout(const struct scorr_sweep_cell *c, const char *file)
{
    int err = 0;
    int N = c->res.ranks;
    int mt_split = c->cfg.variant == SCORR_VARIANT_MT && N > 1;
    SCORR_REQUIRE(!mt_split || N % 2 == 0, SCORR_EINVAL,
                  "%s:%d: cell '%s': variant mt runs its two networks on two equal rank groups; "
                  "resources.ranks %d cannot be split in two (use 1 or an even number)", file,
                  c->line, c->id, N);
    int group = mt_split ? N / 2 : N;
    SCORR_REQUIRE(c->cfg.train.batch_size % group == 0, SCORR_EINVAL,
                  "%s:%d: cell '%s': train.batch_size %d is not divisible by the %d ranks of a "
                  "data-parallel group (resources.ranks %d%s)", file, c->line, c->id,
                  c->cfg.train.batch_size, group, N, mt_split ? ", two groups for mt" : "");
done:
    return err;
}

static int make_groups(struct scorr_sweep *sw)
{
    int err = 0;
    sw->groups = calloc((size_t)sw->n_cells, sizeof *sw->groups);
    sw->group_phase = calloc((size_t)sw->n_cells, sizeof *sw->group_phase);
    SCORR_REQUIRE(sw->groups && sw->group_phase, SCORR_ENOMEM, "out of memory");
    for (int i = 0; i < sw->n_cells; i++) {
        struct scorr_sweep_cell *c = &sw->cells[i];
        int phase = c->teacher >= 0;
        int g = 0;
        for (; g < sw->n_groups; g++)
            if (sw->group_phase[g] == phase && same_res(&sw->groups[g], &c->res)) break;
        if (g == sw->n_groups) {
            sw->groups[g] = c->res;
            sw->group_phase[g] = phase;
            sw->n_groups++;
        }
        c->group = g;
    }
done:
    return err;
}

/* ---- the whole sweep ----------------------------------------------------------------- */

static void file_stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml"))) *dot = 0;
}

/* A path from the sweep file, relative to the sweep file's folder. */
static int rel_to_file(const char *file, const char *p, char *out, size_t n)
{
    int err = 0;
    char dir[SCORR_SWEEP_PATH], joined[2 * SCORR_SWEEP_PATH + 2];
    if (p[0] == '/') {
        SCORR_TRY(sweep_abspath(p, out, n));
        goto done;
    }
    sweep_dirname(file, dir, sizeof dir);
    snprintf(joined, sizeof joined, "%s/%s", dir, p);
    SCORR_TRY(sweep_abspath(joined, out, n));
done:
    return err;
}

static int expand(struct scorr_sweep *sw, const struct sweep_spec *sp, const char *file,
                  const struct scorr_config *base)
{
    int err = 0;
    struct olist ol = {0, 0, NULL};
    int n_list = sp->n_cells ? sp->n_cells : 1;
    long long total = n_list;
    for (int a = 0; a < sp->n_axes; a++) total *= sp->axes[a].n;
    SCORR_REQUIRE(total <= SCORR_SWEEP_MAX_CELLS, SCORR_EINVAL,
                  "%s: the sweep has %lld cells, more than the %d supported", file, total,
                  SCORR_SWEEP_MAX_CELLS);
    sw->cells = calloc((size_t)total, sizeof *sw->cells);
    SCORR_REQUIRE(sw->cells, SCORR_ENOMEM, "out of memory expanding the sweep");
    /* Grid keys may not also come from `set` or a cell's `set`. */
    for (int a = 0; a < sp->n_axes; a++) {
        for (int i = 0; i < sp->n_set; i++)
            SCORR_REQUIRE(strcmp(sp->set[i].key, sp->axes[a].key), SCORR_EINVAL,
                          "%s:%d: grid: %s is also set at line %d; the grid's values would "
                          "replace it (remove one)", file, sp->axes[a].line, sp->axes[a].key,
                          sp->set[i].line);
        for (int c = 0; c < sp->n_cells; c++)
            for (int i = 0; i < sp->cells[c].n_over; i++)
                SCORR_REQUIRE(strcmp(sp->cells[c].over[i].key, sp->axes[a].key), SCORR_EINVAL,
                              "%s:%d: cells: %s is also a grid key (line %d); the grid's values "
                              "would replace it (remove one)", file, sp->cells[c].over[i].line,
                              sp->axes[a].key, sp->axes[a].line);
    }
    int odo[64] = {0};
    SCORR_REQUIRE(sp->n_axes <= 64, SCORR_EINVAL, "%s: more than 64 grid keys", file);
    for (int li = 0; li < n_list; li++) {
        const struct spec_cell *lc = sp->n_cells ? &sp->cells[li] : NULL;
        memset(odo, 0, sizeof odo);
        for (;;) {
            struct scorr_sweep_cell *c = &sw->cells[sw->n_cells];
            c->index = sw->n_cells;
            c->line = lc ? lc->line : sp->grid_line;
            ol.n = 0;
            char id[2 * SCORR_CONFIG_NAME] = "";
            size_t w = 0;
            if (lc) {
                char lid[SCORR_CONFIG_NAME];
                if (lc->id[0])
                    snprintf(lid, sizeof lid, "%s", lc->id);
                else
                    derived_id(lc, li, lid, sizeof lid);
                w += (size_t)snprintf(id + w, sizeof id - w, "%s", lid);
                for (int i = 0; i < lc->n_over; i++) SCORR_TRY(olist_add(&ol, &lc->over[i]));
            }
            for (int a = 0; a < sp->n_axes; a++) {
                const struct spec_axis *ax = &sp->axes[a];
                const struct spec_value *v = &ax->v[odo[a]];
                SCORR_TRY(olist_add_kv(&ol, ax->key, v->text, v->line));
                if (w < sizeof id)
                    w += (size_t)snprintf(id + w, sizeof id - w, "%s%s%s", w ? "-" : "", ax->id,
                                          v->token);
            }
            SCORR_REQUIRE(w < SCORR_CONFIG_NAME && sweep_valid_name(id), SCORR_EINVAL,
                          "%s:%d: cell id '%.200s' is %s; give the cell an `id:` or the grid "
                          "key a shorter `id:`", file, c->line, id,
                          w >= SCORR_CONFIG_NAME ? "too long" : "not a valid name");
            snprintf(c->id, sizeof c->id, "%.127s", id);
            for (int j = 0; j < sw->n_cells; j++)
                SCORR_REQUIRE(strcmp(sw->cells[j].id, c->id), SCORR_EINVAL,
                              "%s:%d: two cells get the id '%s' (cell %d and cell %d); give the "
                              "cells or grid keys distinct ids", file, c->line, c->id, j,
                              c->index);
            /* st without a teacher: the sweep fills it in with its baseline cell. */
            char variant[64], vq[64];
            int teacher_given = base->teacher.checkpoint[0] != 0;
            snprintf(variant, sizeof variant, "%s", scorr_variant_name(base->variant));
            for (int i = 0; i < sp->n_set + ol.n; i++) {
                const struct scorr_sweep_override *o = i < sp->n_set ? &sp->set[i]
                                                                      : &ol.o[i - sp->n_set];
                unquote(o->value, vq, sizeof vq);
                if (!strcmp(o->key, "variant")) snprintf(variant, sizeof variant, "%s", vq);
                if (!strcmp(o->key, "teacher.checkpoint"))
                    teacher_given = strcmp(vq, "none") && strcmp(vq, "null") && strcmp(vq, "~");
            }
            c->teacher = -1;
            if (!strcmp(variant, "st") && !teacher_given) {
                char ph[SCORR_SWEEP_PATH + 64], phq[SCORR_SWEEP_PATH + 80];
                snprintf(ph, sizeof ph, "%s/runs/.teacher", sw->dir);
                quote(ph, phq, sizeof phq);
                SCORR_TRY(olist_add_kv(&ol, "teacher.checkpoint", phq, 0));
                c->teacher = TEACHER_PENDING;
            }
            c->over = malloc((size_t)(ol.n ? ol.n : 1) * sizeof *c->over);
            SCORR_REQUIRE(c->over, SCORR_ENOMEM, "out of memory expanding the sweep");
            if (ol.n) memcpy(c->over, ol.o, (size_t)ol.n * sizeof *c->over); /* ol.o may be NULL */
            c->n_over = ol.n;
            sw->n_cells++;
            SCORR_TRY(resolve_cell(base, sp, file, c, sw->dir));
            SCORR_TRY(absolutize(c->cfg.data.file, sizeof c->cfg.data.file, "data.file", c->id));
            SCORR_TRY(absolutize(c->cfg.model.backbone.weights,
                                 sizeof c->cfg.model.backbone.weights, "model.backbone.weights",
                                 c->id));
            SCORR_TRY(absolutize(c->cfg.teacher.checkpoint, sizeof c->cfg.teacher.checkpoint,
                                 "teacher.checkpoint", c->id));
            c->res.ranks = 1;
            c->res.threads = 1;
            merge_res(&c->res, &sp->res);
            if (lc) merge_res(&c->res, &lc->res);
            SCORR_TRY(check_layout(c, file));
            if (sp->eval_data[0])
                SCORR_TRY(rel_to_file(file, sp->eval_data, c->eval_data, sizeof c->eval_data));
            else
                snprintf(c->eval_data, sizeof c->eval_data, "%s", c->cfg.data.file);
            /* next grid point: last axis fastest */
            int a = sp->n_axes - 1;
            for (; a >= 0; a--) {
                if (++odo[a] < sp->axes[a].n) break;
                odo[a] = 0;
            }
            if (a < 0) break;
        }
    }
done:
    free(ol.o);
    return err;
}

int scorr_sweep_parse(const char *text, size_t len, const char *file, const char *dir_override,
                      struct scorr_sweep *sw)
{
    int err = 0;
    struct sweep_spec sp;
    struct scorr_config *base = NULL;
    memset(sw, 0, sizeof *sw);
    SCORR_TRY(sweep_spec_parse(text, len, file, &sp));
    snprintf(sw->file, sizeof sw->file, "%s", file);
    if (sp.name[0])
        snprintf(sw->name, sizeof sw->name, "%s", sp.name);
    else
        file_stem(file, sw->name, sizeof sw->name);
    SCORR_REQUIRE(sweep_valid_name(sw->name), SCORR_EINVAL,
                  "%s: the sweep needs a `name:` (letters, digits, '_', '-', '.'); the file name "
                  "'%s' is not one", file, sw->name);
    char dir[SCORR_SWEEP_PATH + 200];
    if (dir_override)
        snprintf(dir, sizeof dir, "%s", dir_override);
    else if (sp.dir[0])
        snprintf(dir, sizeof dir, "%s", sp.dir);
    else
        snprintf(dir, sizeof dir, "sweeps/%s", sw->name);
    SCORR_TRY(sweep_abspath(dir, sw->dir, sizeof sw->dir - 200));
    SCORR_TRY(sweep_abspath(".", sw->workdir, sizeof sw->workdir));
    snprintf(sw->eval_split, sizeof sw->eval_split, "%s", sp.eval_split);
    sw->signal_seconds = sp.signal_seconds;
    sw->max_requeues = sp.max_requeues;
    if (sp.template_path[0])
        SCORR_TRY(rel_to_file(file, sp.template_path, sw->template_path, sizeof sw->template_path));

    base = malloc(sizeof *base);
    SCORR_REQUIRE(base, SCORR_ENOMEM, "out of memory");
    if (sp.base[0]) {
        SCORR_TRY(rel_to_file(file, sp.base, sw->base, sizeof sw->base));
        if (!scorr_exists(sw->base))
            SCORR_FAIL(SCORR_EIO, "%s:%d: base: experiment file '%s' not found (a relative base "
                       "is relative to the sweep file's folder)", file, sp.base_line, sw->base);
        if (scorr_config_load_local(sw->base, base)) {
            char msg[2048];
            snprintf(msg, sizeof msg, "%s", scorr_error_message());
            SCORR_FAIL(SCORR_EINVAL, "%s:%d: base: %s", file, sp.base_line, msg);
        }
    } else {
        scorr_config_defaults(base);
    }
    /* Every value against the schema, located at its own line. */
    for (int i = 0; i < sp.n_set; i++) SCORR_TRY(sweep_check_override(base, &sp.set[i], file, "set"));
    for (int c = 0; c < sp.n_cells; c++)
        for (int i = 0; i < sp.cells[c].n_over; i++)
            SCORR_TRY(sweep_check_override(base, &sp.cells[c].over[i], file, "cells: set"));
    for (int a = 0; a < sp.n_axes; a++)
        for (int i = 0; i < sp.axes[a].n; i++) {
            struct scorr_sweep_override o;
            memset(&o, 0, sizeof o);
            snprintf(o.key, sizeof o.key, "%s", sp.axes[a].key);
            snprintf(o.value, sizeof o.value, "%s", sp.axes[a].v[i].text);
            o.line = sp.axes[a].v[i].line;
            SCORR_TRY(sweep_check_override(base, &o, file, "grid"));
        }
    SCORR_TRY(expand(sw, &sp, file, base));
    SCORR_TRY(find_teachers(sw, file));
    SCORR_TRY(make_groups(sw));
    for (int i = 0; i < sw->n_cells; i++)
        for (int j = 0; j < i; j++)
            if (sw->cells[i].cfg.variant == sw->cells[j].cfg.variant &&
                settings_compatible(&sw->cells[i].cfg, &sw->cells[j].cfg, SETTINGS_WITH_SEED, NULL,
                                    NULL) &&
                !strcmp(sw->cells[i].cfg.data.file, sw->cells[j].cfg.data.file) &&
                (sw->cells[i].cfg.variant != SCORR_VARIANT_ST ||
                 !strcmp(sw->cells[i].cfg.teacher.checkpoint, sw->cells[j].cfg.teacher.checkpoint)))
                scorr_warn("%s: cells '%s' and '%s' are the same experiment (only their names "
                           "differ)", file, sw->cells[j].id, sw->cells[i].id);
done:
    free(base);
    sweep_spec_free(&sp);
    if (err) scorr_sweep_free(sw);
    return err;
}

int scorr_sweep_load(const char *path, const char *dir_override, struct scorr_sweep *sw)
{
    int err = 0;
    char *text = NULL;
    size_t len = 0;
    memset(sw, 0, sizeof *sw);
    SCORR_TRY(scorr_read_file(path, &text, &len));
    SCORR_TRY(scorr_sweep_parse(text, len, path, dir_override, sw));
done:
    free(text);
    return err;
}

void scorr_sweep_free(struct scorr_sweep *sw)
{
    if (sw->cells)
        for (int i = 0; i < sw->n_cells; i++) free(sw->cells[i].over);
    free(sw->cells);
    free(sw->groups);
    free(sw->group_phase);
    sw->cells = NULL;
    sw->groups = NULL;
    sw->group_phase = NULL;
    sw->n_cells = sw->n_groups = 0;
}

const struct scorr_sweep_cell *scorr_sweep_find(const struct scorr_sweep *sw, const char *id)
{
    for (int i = 0; i < sw->n_cells; i++)
        if (!strcmp(sw->cells[i].id, id)) return &sw->cells[i];
    return NULL;
}
