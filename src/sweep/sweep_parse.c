/* The sweep file: libyaml's document loader, then a strict walk of the node
 * tree into a struct sweep_spec. Unknown and duplicate keys, wrong kinds and
 * bad values are errors naming the file, the line and the key; experiment
 * key paths are checked against the experiment schema here (values in the
 * context of the base experiment happen in sweep_expand.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scorr/error.h"
#include "scorr/yaml_util.h"
#include "sweep/sweep_internal.h"

struct pctx {
    const char *file;
    yaml_document_t *doc;
};

static yaml_node_t *node(struct pctx *x, int i) { return yaml_document_get_node(x->doc, i); }

static int line_of(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

/* ---- mappings with known keys --------------------------------------------- */

/* Walk a mapping whose keys must be among words[n]; calls back per pair.
 * Duplicate and unknown keys are errors (with a suggestion). */
typedef int (*pair_fn)(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg);

static int walk(struct pctx *x, yaml_node_t *map, const char *section, const char *const *words,
                int n, pair_fn fn, void *arg)
{
    int err = 0;
    char key[128], other[128], list[512];
    if (map->type != YAML_MAPPING_NODE) {
        SCORR_FAIL(SCORR_EINVAL, "%s:%d: %s%sexpected a mapping of keys, found %s", x->file,
                   line_of(map), section, *section ? ": " : "", scorr_yaml_kind(map));
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = node(x, p->key), *vn = node(x, p->value);
        SCORR_REQUIRE(!scorr_yaml_text(kn, key, sizeof key), SCORR_EINVAL,
                      "%s:%d: %s%sa key must be a short plain word, found %s", x->file,
                      line_of(kn), section, *section ? ": " : "", scorr_yaml_kind(kn));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = node(x, q->key);
            if (!scorr_yaml_text(qk, other, sizeof other) && !strcmp(other, key))
                SCORR_FAIL(SCORR_EINVAL, "%s:%d: duplicate key '%s%s%s' (first given at line %d)",
                           x->file, line_of(kn), section, *section ? "." : "", key, line_of(qk));
        }
        if (words) {
            int known = 0;
            for (int i = 0; i < n; i++) known |= !strcmp(words[i], key);
            if (!known) {
                const char *s = sweep_suggest(key, words, n);
                size_t w = 0;
                list[0] = 0;
                for (int i = 0; i < n && w < sizeof list; i++)
                    w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "",
                                          words[i]);
                if (s)
                    SCORR_FAIL(SCORR_EINVAL, "%s:%d: unknown sweep key '%s%s%s'; did you mean "
                               "'%s'? (keys%s%s: %s)", x->file, line_of(kn), section,
                               *section ? "." : "", key, s, *section ? " of " : "", section,
                               list);
                SCORR_FAIL(SCORR_EINVAL, "%s:%d: unknown sweep key '%s%s%s' (keys%s%s: %s)",
                           x->file, line_of(kn), section, *section ? "." : "", key,
                           *section ? " of " : "", section, list);
            }
        }
        SCORR_TRY(fn(x, key, kn, vn, arg));
    }
done:
    return err;
}

/* ---- scalars --------------------------------------------------------------- */

static int get_string(struct pctx *x, const char *key, yaml_node_t *v, char *out, size_t cap)
{
    int err = 0;
    SCORR_REQUIRE(v->type == YAML_SCALAR_NODE, SCORR_EINVAL, "%s:%d: %s: expected a value, found %s",
                  x->file, line_of(v), key, scorr_yaml_kind(v));
    SCORR_REQUIRE(!scorr_yaml_text(v, out, cap), SCORR_EINVAL,
                  "%s:%d: %s: value too long (at most %zu bytes) or holds a NUL byte", x->file,
                  line_of(v), key, cap - 1);
    SCORR_REQUIRE(!strpbrk(out, "\t\n\r"), SCORR_EINVAL,
                  "%s:%d: %s: tabs and line breaks are not allowed in '%s'", x->file, line_of(v),
                  key, out);
done:
    return err;
}

static int get_int(struct pctx *x, const char *key, yaml_node_t *v, int lo, int hi, int *out)
{
    int err = 0;
    char t[64] = "";
    SCORR_REQUIRE(v->type == YAML_SCALAR_NODE && scorr_yaml_plain(v) &&
                      !scorr_yaml_text(v, t, sizeof t),
                  SCORR_EINVAL, "%s:%d: %s: expected an integer in [%d, %d], found %s%s%s",
                  x->file, line_of(v), key, lo, hi,
                  v->type == YAML_SCALAR_NODE ? "'" : scorr_yaml_kind(v), t,
                  v->type == YAML_SCALAR_NODE ? "'" : "");
    char *end;
    errno = 0;
    long val = strtol(t, &end, 10);
    SCORR_REQUIRE(*t && !*end && !errno && val >= lo && val <= hi, SCORR_EINVAL,
                  "%s:%d: %s: expected an integer in [%d, %d], found '%s'", x->file, line_of(v),
                  key, lo, hi, t);
    *out = (int)val;
done:
    return err;
}

/* A YAML value as override text: plain scalars as they are, quoted ones
 * re-quoted (so "none" stays a string), flow lists of scalars. *token gets a
 * piece of cell id. */
static int value_text(struct pctx *x, const char *what, yaml_node_t *v, char *out, size_t cap,
                      char *token, size_t tcap)
{
    int err = 0;
    char item[SCORR_CONFIG_PATH];
    size_t w = 0, tw = 0;
    yaml_node_t *single[1] = {v};
    yaml_node_t **items = single;
    int n = 1, list = 0;
    yaml_node_t *tmp[64];
    if (v->type == YAML_SEQUENCE_NODE) {
        list = 1;
        n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        SCORR_REQUIRE(n <= 64, SCORR_EINVAL, "%s:%d: %s: a list value has at most 64 items",
                      x->file, line_of(v), what);
        for (int i = 0; i < n; i++) tmp[i] = node(x, v->data.sequence.items.start[i]);
        items = tmp;
    } else if (v->type != YAML_SCALAR_NODE) {
        SCORR_FAIL(SCORR_EINVAL, "%s:%d: %s: expected a value or a list of values, found %s",
                   x->file, line_of(v), what, scorr_yaml_kind(v));
    }
    if (list) w += (size_t)snprintf(out, cap, "[");
    token[0] = 0;
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = items[i];
        SCORR_REQUIRE(it->type == YAML_SCALAR_NODE, SCORR_EINVAL,
                      "%s:%d: %s: expected a value, found %s as item %d", x->file, line_of(it),
                      what, scorr_yaml_kind(it), i + 1);
        SCORR_REQUIRE(!scorr_yaml_text(it, item, sizeof item), SCORR_EINVAL,
                      "%s:%d: %s: value too long (at most %d bytes) or holds a NUL byte", x->file,
                      line_of(it), what, SCORR_CONFIG_PATH - 1);
        SCORR_REQUIRE(!strpbrk(item, "\t\n\r"), SCORR_EINVAL,
                      "%s:%d: %s: tabs and line breaks are not allowed in a value", x->file,
                      line_of(it), what);
        if (list && i) w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, ", ");
        if (scorr_yaml_plain(it)) {
            w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "%s", item);
        } else {
            w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "\"");
            for (const char *c = item; *c; c++)
                w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "%s%c",
                                      (*c == '"' || *c == '\\') ? "\\" : "", *c);
            w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "\"");
        }
        /* The id token: letters, digits, '.', '+'; anything else one '_'. */
        if (i && tw + 1 < tcap) token[tw++] = '_';
        for (const char *c = item; *c && tw + 1 < tcap; c++) {
            int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '.' || *c == '+';
            if (ok)
                token[tw++] = *c;
            else if (tw && token[tw - 1] != '_')
                token[tw++] = '_';
        }
        token[tw] = 0;
    }
    if (list) w += (size_t)snprintf(out + (w < cap ? w : cap), w < cap ? cap - w : 0, "]");
    SCORR_REQUIRE(w < cap, SCORR_EINVAL, "%s:%d: %s: value too long (at most %zu bytes)", x->file,
                  line_of(v), what, cap - 1);
    while (tw && token[tw - 1] == '_') token[--tw] = 0;
    if (!tw) snprintf(token, tcap, "x");
done:
    return err;
}

/* ---- overrides: `set:` mappings ---------------------------------------------- */

struct overs {
    int n, cap;
    struct scorr_sweep_override *o;
};

static int overs_add(struct overs *s, const char *key, const char *value, int line)
{
    int err = 0;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        struct scorr_sweep_override *o = realloc(s->o, (size_t)cap * sizeof *o);
        SCORR_REQUIRE(o, SCORR_ENOMEM, "out of memory reading the sweep file");
        s->o = o;
        s->cap = cap;
    }
    struct scorr_sweep_override *d = &s->o[s->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->key, sizeof d->key, "%.127s", key);
    snprintf(d->value, sizeof d->value, "%s", value);
    d->line = line;
done:
    return err;
}

/* Reject the keys the sweep itself sets. */
static int owned_key(struct pctx *x, const char *path, int line)
{
    int err = 0;
    SCORR_REQUIRE(strcmp(path, "name") && strcmp(path, "output"), SCORR_EINVAL,
                  "%s:%d: %s: set by the sweep for every cell (name = the cell id, output = "
                  "<sweep dir>/runs/<cell id>); remove it", x->file, line, path);
done:
    return err;
}

/* A section prefix of the experiment schema ("pseudo", "pseudo.selection")? */
static int is_section(const char *path)
{
    size_t l = strlen(path);
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        if (!strncmp(k, path, l) && k[l] == '.') return 1;
    }
    return 0;
}

/* An unknown experiment key: the schema's own message (with its "did you
 * mean"), located in the sweep file. */
static int unknown_experiment_key(const char *file, int line, const char *what, const char *path)
{
    if (is_section(path))
        return scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                               "%s:%d: %s: '%s' is a section of the experiment schema, not a key: "
                               "give one of its keys ('%s.<key>', or a mapping under '%s')", file,
                               line, what, path, path, path);
    struct scorr_config *scratch = malloc(sizeof *scratch);
    if (!scratch)
        return scorr_error_set(SCORR_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    scorr_config_defaults(scratch);
    int rc = scorr_config_set(scratch, path, "0");
    free(scratch);
    char msg[1024];
    const char *m = rc ? scorr_error_message() : "";
    if (!strncmp(m, "override: ", 10)) m += 10;
    snprintf(msg, sizeof msg, "%s", *m ? m : "no such key in the experiment schema");
    return scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__, "%s:%d: %s: %s", file, line,
                           what, msg);
}

/* `set:` a mapping of experiment key paths to values, flat ("pseudo.weight:
 * 5") or nested ("pseudo: {weight: 5}") or mixed. */
static int read_set(struct pctx *x, yaml_node_t *map, const char *prefix, const char *what,
                    struct overs *out)
{
    int err = 0;
    char key[128], path[256], val[SCORR_CONFIG_PATH], tok[64], other[128];
    SCORR_REQUIRE(map->type == YAML_MAPPING_NODE, SCORR_EINVAL,
                  "%s:%d: %s: expected a mapping of experiment keys to values, found %s", x->file,
                  line_of(map), what, scorr_yaml_kind(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = node(x, p->key), *vn = node(x, p->value);
        SCORR_REQUIRE(!scorr_yaml_text(kn, key, sizeof key), SCORR_EINVAL,
                      "%s:%d: %s: a key must be a short plain word, found %s", x->file,
                      line_of(kn), what, scorr_yaml_kind(kn));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
            if (!scorr_yaml_text(node(x, q->key), other, sizeof other) && !strcmp(other, key))
                SCORR_FAIL(SCORR_EINVAL, "%s:%d: %s: duplicate key '%s%s%s' (first given at "
                           "line %d)", x->file, line_of(kn), what, prefix, *prefix ? "." : "",
                           key, line_of(node(x, q->key)));
        SCORR_REQUIRE(snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key) <
                          (int)sizeof path,
                      SCORR_EINVAL, "%s:%d: %s: key path too long", x->file, line_of(kn), what);
        if (vn->type == YAML_MAPPING_NODE && !scorr_config_has_key(path)) {
            if (!is_section(path)) {
                err = unknown_experiment_key(x->file, line_of(kn), what, path);
                goto done;
            }
            SCORR_TRY(read_set(x, vn, path, what, out));
            continue;
        }
        if (!scorr_config_has_key(path)) {
            err = unknown_experiment_key(x->file, line_of(kn), what, path);
            goto done;
        }
        SCORR_TRY(owned_key(x, path, line_of(kn)));
        for (int i = 0; i < out->n; i++)
            SCORR_REQUIRE(strcmp(out->o[i].key, path), SCORR_EINVAL,
                          "%s:%d: %s: key '%s' given twice (first at line %d)", x->file,
                          line_of(kn), what, path, out->o[i].line);
        SCORR_TRY(value_text(x, path, vn, val, sizeof val, tok, sizeof tok));
        SCORR_TRY(overs_add(out, path, val, line_of(vn)));
    }
done:
    return err;
}

/* ---- resources ----------------------------------------------------------------- */

static int valid_time(const char *t)
{
    /* minutes | MM:SS | HH:MM:SS | D-HH | D-HH:MM | D-HH:MM:SS */
    int digits = 0, colons = 0, dash = 0;
    for (const char *p = t; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (*p == ':') {
            if (!digits || p[1] == 0) return 0;
            colons++;
        } else if (*p == '-') {
            if (dash || colons || p == t || p[1] == 0) return 0;
            dash = 1;
        } else {
            return 0;
        }
    }
    return digits > 0 && colons <= 2;
}

static int res_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct spec_res *r = arg;
    char t[256];
    if (!strcmp(key, "ranks")) {
        SCORR_TRY(get_int(x, "resources.ranks", v, 1, 65536, &r->r.ranks));
        r->set |= RES_RANKS;
    } else if (!strcmp(key, "threads")) {
        SCORR_TRY(get_int(x, "resources.threads", v, 1, 1024, &r->r.threads));
        r->set |= RES_THREADS;
    } else if (!strcmp(key, "time")) {
        SCORR_TRY(get_string(x, "resources.time", v, t, sizeof r->r.time));
        SCORR_REQUIRE(valid_time(t), SCORR_EINVAL,
                      "%s:%d: resources.time: expected a SLURM time (minutes, MM:SS, HH:MM:SS, "
                      "D-HH:MM:SS), found '%s'", x->file, line_of(v), t);
        snprintf(r->r.time, sizeof r->r.time, "%.31s", t);
        r->set |= RES_TIME;
    } else if (!strcmp(key, "partition")) {
        SCORR_TRY(get_string(x, "resources.partition", v, t, sizeof r->r.partition));
        SCORR_REQUIRE(sweep_valid_name(t), SCORR_EINVAL,
                      "%s:%d: resources.partition: expected a partition name (letters, digits, "
                      "'_', '-', '.'), found '%s'", x->file, line_of(v), t);
        snprintf(r->r.partition, sizeof r->r.partition, "%.63s", t);
        r->set |= RES_PARTITION;
    } else { /* sbatch */
        yaml_node_t *one[1] = {v};
        yaml_node_t **items = one;
        int n = 1;
        yaml_node_t *tmp[SCORR_SWEEP_MAX_EXTRA];
        if (v->type == YAML_SEQUENCE_NODE) {
            n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
            SCORR_REQUIRE(n <= SCORR_SWEEP_MAX_EXTRA, SCORR_EINVAL,
                          "%s:%d: resources.sbatch: at most %d options, found %d", x->file,
                          line_of(v), SCORR_SWEEP_MAX_EXTRA, n);
            for (int i = 0; i < n; i++) tmp[i] = node(x, v->data.sequence.items.start[i]);
            items = tmp;
        }
        r->r.n_extra = 0;
        for (int i = 0; i < n; i++) {
            SCORR_TRY(get_string(x, "resources.sbatch", items[i], t, sizeof r->r.extra[0]));
            SCORR_REQUIRE(t[0] == '-' && t[1] == '-' && t[2], SCORR_EINVAL,
                          "%s:%d: resources.sbatch: expected sbatch options like '--mem=16G', "
                          "found '%s'", x->file, line_of(items[i]), t);
            static const char *const ours[] = {"--array", "--ntasks", "--cpus-per-task", "--time",
                                               "--partition", "--output", "--job-name",
                                               "--chdir", "--signal", "--dependency"};
            for (size_t j = 0; j < sizeof ours / sizeof *ours; j++) {
                size_t l = strlen(ours[j]);
                SCORR_REQUIRE(strncmp(t, ours[j], l) || (t[l] && t[l] != '=' && t[l] != ' '),
                              SCORR_EINVAL,
                              "%s:%d: resources.sbatch: '%s' is set by scorr_sweep (use ranks, "
                              "threads, time, partition)", x->file, line_of(items[i]), t);
            }
            snprintf(r->r.extra[r->r.n_extra++], sizeof r->r.extra[0], "%s", t);
        }
        r->set |= RES_EXTRA;
    }
    (void)k;
done:
    return err;
}

static const char *const RES_KEYS[] = {"ranks", "threads", "time", "partition", "sbatch"};

static int read_res(struct pctx *x, yaml_node_t *v, const char *section, struct spec_res *r)
{
    r->line = line_of(v);
    return walk(x, v, section, RES_KEYS, 5, res_pair, r);
}

/* ---- grid ------------------------------------------------------------------------ */

static int read_values(struct pctx *x, const char *key, yaml_node_t *list, struct spec_axis *a)
{
    int err = 0;
    SCORR_REQUIRE(list->type == YAML_SEQUENCE_NODE, SCORR_EINVAL,
                  "%s:%d: grid: %s: expected a list of values ([a, b, ...]) or {values: [...], "
                  "id: ...}, found %s", x->file, line_of(list), key, scorr_yaml_kind(list));
    int n = (int)(list->data.sequence.items.top - list->data.sequence.items.start);
    SCORR_REQUIRE(n > 0, SCORR_EINVAL,
                  "%s:%d: grid: %s: empty list of values (the grid would have no cells)", x->file,
                  line_of(list), key);
    a->v = calloc((size_t)n, sizeof *a->v);
    SCORR_REQUIRE(a->v, SCORR_ENOMEM, "out of memory reading the sweep file");
    a->n = n;
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = node(x, list->data.sequence.items.start[i]);
        char what[200];
        snprintf(what, sizeof what, "grid: %s", key);
        SCORR_TRY(value_text(x, what, it, a->v[i].text, sizeof a->v[i].text, a->v[i].token,
                             sizeof a->v[i].token));
        a->v[i].line = line_of(it);
        for (int j = 0; j < i; j++)
            SCORR_REQUIRE(strcmp(a->v[j].text, a->v[i].text), SCORR_EINVAL,
                          "%s:%d: grid: %s: value %s listed twice (first at line %d)", x->file,
                          a->v[i].line, key, a->v[i].text, a->v[j].line);
    }
done:
    return err;
}

struct axis_arg {
    struct spec_axis *a;
    yaml_node_t *values;
    int has_id;
};

static int axis_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct axis_arg *aa = arg;
    if (!strcmp(key, "values")) {
        aa->values = v;
    } else {
        SCORR_TRY(get_string(x, "grid id", v, aa->a->id, sizeof aa->a->id));
        SCORR_REQUIRE(!aa->a->id[0] || sweep_valid_name(aa->a->id), SCORR_EINVAL,
                      "%s:%d: grid: %s: id: expected letters, digits, '_', '-', '.', found '%s'",
                      x->file, line_of(v), aa->a->key, aa->a->id);
        aa->has_id = 1;
    }
    (void)k;
done:
    return err;
}

static const char *const AXIS_KEYS[] = {"values", "id"};

static int grid_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct sweep_spec *sp = arg;
    struct spec_axis *a = &sp->axes[sp->n_axes++]; /* counted now: freed on error too */
    memset(a, 0, sizeof *a);
    snprintf(a->key, sizeof a->key, "%s", key);
    a->line = line_of(k);
    if (!scorr_config_has_key(key)) {
        err = unknown_experiment_key(x->file, a->line, "grid", key);
        goto done;
    }
    SCORR_TRY(owned_key(x, key, a->line));
    const char *dot = strrchr(key, '.');
    snprintf(a->id, sizeof a->id, "%s", dot ? dot + 1 : key);
    if (v->type == YAML_MAPPING_NODE) {
        struct axis_arg aa = {a, NULL, 0};
        char section[160];
        snprintf(section, sizeof section, "grid.%s", key);
        SCORR_TRY(walk(x, v, section, AXIS_KEYS, 2, axis_pair, &aa));
        SCORR_REQUIRE(aa.values, SCORR_EINVAL, "%s:%d: grid: %s: 'values' missing", x->file,
                      line_of(v), key);
        SCORR_TRY(read_values(x, key, aa.values, a));
    } else {
        SCORR_TRY(read_values(x, key, v, a));
    }
done:
    return err;
}

/* ---- cells ------------------------------------------------------------------------ */

struct cell_arg {
    struct spec_cell *c;
};

static int cell_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct spec_cell *c = ((struct cell_arg *)arg)->c;
    if (!strcmp(key, "id")) {
        SCORR_TRY(get_string(x, "cells: id", v, c->id, sizeof c->id));
        SCORR_REQUIRE(sweep_valid_name(c->id), SCORR_EINVAL,
                      "%s:%d: cells: id: expected letters, digits, '_', '-', '.', found '%s'",
                      x->file, line_of(v), c->id);
    } else if (!strcmp(key, "set")) {
        struct overs o = {0, 0, NULL};
        err = read_set(x, v, "", "cells: set", &o);
        c->over = o.o;
        c->n_over = o.n;
        if (err) goto done;
    } else {
        SCORR_TRY(read_res(x, v, "cells.resources", &c->res));
    }
    (void)k;
done:
    return err;
}

static const char *const CELL_KEYS[] = {"id", "set", "resources"};

/* ---- eval, slurm ------------------------------------------------------------------ */

static int eval_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct sweep_spec *sp = arg;
    if (!strcmp(key, "split")) {
        SCORR_TRY(get_string(x, "eval.split", v, sp->eval_split, sizeof sp->eval_split));
        SCORR_REQUIRE(!strcmp(sp->eval_split, "test") || !strcmp(sp->eval_split, "val") ||
                          !strcmp(sp->eval_split, "trn") || !strcmp(sp->eval_split, "none"),
                      SCORR_EINVAL, "%s:%d: eval.split: expected one of test, val, trn, none, "
                      "found '%s'", x->file, line_of(v), sp->eval_split);
    } else {
        SCORR_TRY(get_string(x, "eval.data", v, sp->eval_data, sizeof sp->eval_data));
        if (scorr_yaml_plain(v) &&
            (!strcmp(sp->eval_data, "none") || !strcmp(sp->eval_data, "null") ||
             !strcmp(sp->eval_data, "~")))
            sp->eval_data[0] = 0;
    }
    (void)k;
done:
    return err;
}

static const char *const EVAL_KEYS[] = {"split", "data"};

static int slurm_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct sweep_spec *sp = arg;
    if (!strcmp(key, "template")) {
        SCORR_TRY(get_string(x, "slurm.template", v, sp->template_path,
                             sizeof sp->template_path));
    } else if (!strcmp(key, "signal_seconds")) {
        SCORR_TRY(get_int(x, "slurm.signal_seconds", v, 1, 65535, &sp->signal_seconds));
    } else {
        SCORR_TRY(get_int(x, "slurm.max_requeues", v, 0, 10000, &sp->max_requeues));
    }
    (void)k;
done:
    return err;
}

static const char *const SLURM_KEYS[] = {"template", "signal_seconds", "max_requeues"};

/* ---- top level ------------------------------------------------------------------- */

static int top_pair(struct pctx *x, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int err = 0;
    struct sweep_spec *sp = arg;
    if (!strcmp(key, "name")) {
        SCORR_TRY(get_string(x, "name", v, sp->name, sizeof sp->name));
        SCORR_REQUIRE(sweep_valid_name(sp->name), SCORR_EINVAL,
                      "%s:%d: name: expected letters, digits, '_', '-', '.', found '%s'", x->file,
                      line_of(v), sp->name);
        sp->name_line = line_of(v);
    } else if (!strcmp(key, "base")) {
        SCORR_TRY(get_string(x, "base", v, sp->base, sizeof sp->base));
        sp->base_line = line_of(v);
    } else if (!strcmp(key, "dir")) {
        SCORR_TRY(get_string(x, "dir", v, sp->dir, sizeof sp->dir));
    } else if (!strcmp(key, "set")) {
        struct overs o = {0, 0, NULL};
        err = read_set(x, v, "", "set", &o);
        sp->set = o.o;
        sp->n_set = o.n;
        if (err) goto done;
    } else if (!strcmp(key, "grid")) {
        sp->grid_line = line_of(k);
        SCORR_REQUIRE(v->type == YAML_MAPPING_NODE, SCORR_EINVAL,
                      "%s:%d: grid: expected a mapping of experiment keys to lists of values, "
                      "found %s", x->file, line_of(v), scorr_yaml_kind(v));
        int n = (int)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        SCORR_REQUIRE(n > 0, SCORR_EINVAL, "%s:%d: grid: empty (no keys to vary); remove it or "
                      "give keys with lists of values", x->file, line_of(k));
        sp->axes = calloc((size_t)n, sizeof *sp->axes);
        SCORR_REQUIRE(sp->axes, SCORR_ENOMEM, "out of memory reading the sweep file");
        SCORR_TRY(walk(x, v, "grid", NULL, 0, grid_pair, sp));
    } else if (!strcmp(key, "cells")) {
        sp->cells_line = line_of(k);
        SCORR_REQUIRE(v->type == YAML_SEQUENCE_NODE, SCORR_EINVAL,
                      "%s:%d: cells: expected a list of cells (- id: ..., set: {...}), found %s",
                      x->file, line_of(v), scorr_yaml_kind(v));
        int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        SCORR_REQUIRE(n > 0, SCORR_EINVAL, "%s:%d: cells: empty list (the sweep would have no "
                      "cells)", x->file, line_of(k));
        sp->cells = calloc((size_t)n, sizeof *sp->cells);
        SCORR_REQUIRE(sp->cells, SCORR_ENOMEM, "out of memory reading the sweep file");
        for (int i = 0; i < n; i++) {
            yaml_node_t *cn = node(x, v->data.sequence.items.start[i]);
            struct spec_cell *c = &sp->cells[i];
            c->line = line_of(cn);
            sp->n_cells = i + 1;
            struct cell_arg ca = {c};
            SCORR_TRY(walk(x, cn, "cells", CELL_KEYS, 3, cell_pair, &ca));
        }
    } else if (!strcmp(key, "resources")) {
        SCORR_TRY(read_res(x, v, "resources", &sp->res));
    } else if (!strcmp(key, "eval")) {
        sp->eval_line = line_of(k);
        SCORR_TRY(walk(x, v, "eval", EVAL_KEYS, 2, eval_pair, sp));
    } else {
        SCORR_TRY(walk(x, v, "slurm", SLURM_KEYS, 3, slurm_pair, sp));
    }
done:
    return err;
}

static const char *const TOP_KEYS[] = {"name", "base", "dir", "set", "grid",
                                       "cells", "resources", "eval", "slurm"};

int sweep_spec_parse(const char *text, size_t len, const char *file, struct sweep_spec *sp)
{
    int err = 0;
    struct scorr_yaml_doc yd = {0};
    yaml_node_t *root = NULL;
    memset(sp, 0, sizeof *sp);
    snprintf(sp->eval_split, sizeof sp->eval_split, "test");
    sp->signal_seconds = 300;
    sp->max_requeues = 20;
    SCORR_TRY(scorr_yaml_load(&yd, text, len, file, &root));
    SCORR_REQUIRE(root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0),
                  SCORR_EINVAL, "%s: empty sweep file (expected name, base, grid and/or cells)",
                  file);
    SCORR_TRY(scorr_yaml_expect_end(&yd, file, "a sweep file"));
    struct pctx x = {file, &yd.doc};
    SCORR_TRY(walk(&x, root, "", TOP_KEYS, 9, top_pair, sp));
    SCORR_REQUIRE(sp->n_axes || sp->n_cells, SCORR_EINVAL,
                  "%s: no cells: give a grid (key: [values]) and/or a list of cells", file);
    for (int i = 0; i < sp->n_cells; i++)
        for (int j = 0; j < i; j++)
            SCORR_REQUIRE(!sp->cells[i].id[0] || strcmp(sp->cells[i].id, sp->cells[j].id),
                          SCORR_EINVAL, "%s:%d: cells: id '%s' used twice (first at line %d)",
                          file, sp->cells[i].line, sp->cells[i].id, sp->cells[j].line);
done:
    scorr_yaml_doc_free(&yd);
    return err;
}

void sweep_spec_free(struct sweep_spec *sp)
{
    free(sp->set);
    for (int i = 0; i < sp->n_axes; i++) free(sp->axes[i].v);
    free(sp->axes);
    for (int i = 0; i < sp->n_cells; i++) free(sp->cells[i].over);
    free(sp->cells);
    memset(sp, 0, sizeof *sp);
}

/* ---- values in context --------------------------------------------------------------- */

int sweep_check_override(const struct scorr_config *ctx, const struct scorr_sweep_override *o,
                         const char *file, const char *what)
{
    int err = 0;
    struct scorr_config *scratch = malloc(sizeof *scratch);
    SCORR_REQUIRE(scratch, SCORR_ENOMEM, "out of memory");
    *scratch = *ctx;
    const char *k = o->key, *v = o->value;
    if (!scorr_config_override(scratch, 1, &k, &v)) goto done;
    /* scorr_config_override reports a rejected value as "override KEY=VALUE:
     * KEY: why" and a broken cross-key rule as "override: KEY: why"; only the
     * first is about this value (the rules are checked on the whole cell). */
    char prefix[512], msg[2048];
    snprintf(prefix, sizeof prefix, "override %.200s=%.200s: ", k, v);
    snprintf(msg, sizeof msg, "%s", scorr_error_message());
    size_t pl = strlen(prefix);
    if (!strncmp(msg, prefix, pl)) {
        err = scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__, "%s:%d: %s: %s", file,
                              o->line, what, msg + pl);
    } else if (!strncmp(msg, "override: no key", 16)) {
        err = scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__, "%s:%d: %s: %s", file,
                              o->line, what, msg + 10);
    } else {
        scorr_error_clear();
    }
done:
    free(scratch);
    return err;
}
