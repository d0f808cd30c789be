/* Experiment file parsing: libyaml's document loader, then a walk of the
 * node tree against the schema table. libyaml accepts duplicate keys and
 * gives 0-based marks: both handled here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scorr/comm.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/yaml_util.h"
#include "train/config_schema.h"

#define MAX_LEAVES 128
#define MAX_PATH_TEXT 256

struct pctx {
    const char *file;
    yaml_document_t *doc;
    struct scorr_config *cfg;
    int *lines; /* per leaf: line of its value in the file, 0 = default */
};

/* ---- suggestions -------------------------------------------------------- */

static int levenshtein(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 127 || lb > 127) return 1000;
    int prev[128], cur[128];
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (size_t)(lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

static const char *last_component(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

/* The schema path closest to `given`: the same last component elsewhere in
 * the tree first ("lr" -> "optim.lr"), else the smallest edit distance if it
 * is small for the length. NULL if nothing is close. */
static const char *suggest(const char *given)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const char *p = scorr_cfg_table[i].path;
        if (!strcmp(last_component(p), last_component(given))) return p;
    }
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const char *p = scorr_cfg_table[i].path;
        int d = levenshtein(given, p);
        if (d < best_d) {
            best_d = d;
            best = p;
        }
    }
    /* Allow about one typo per three letters of the mistyped word, at most 3. */
    int len = (int)strlen(last_component(given));
    int limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    return best_d <= limit ? best : NULL;
}

/* "weight, start_epoch, ..." : the direct children of a section ("" = top). */
static void children(const char *section, char *out, size_t n)
{
    size_t w = 0, sl = strlen(section);
    out[0] = 0;
    for (int i = 0; i < scorr_cfg_table_len && w < n; i++) {
        const char *p = scorr_cfg_table[i].path;
        const char *rest;
        if (sl) {
            if (strncmp(p, section, sl) || p[sl] != '.') continue;
            rest = p + sl + 1;
        } else {
            rest = p;
        }
        if (strchr(rest, '.')) continue;
        w += (size_t)snprintf(out + w, n - w, "%s%s", w ? ", " : "", rest);
    }
}

static int unknown_key(const char *where, const char *path, const char *section)
{
    const char *s = suggest(path);
    if (s)
        return scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                               "%s: no key '%s' in the experiment schema; did you mean '%s'?",
                               where, path, s);
    char list[1024];
    children(section, list, sizeof list);
    return scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                           "%s: no key '%s' in the experiment schema (%s%s%s: %s)", where, path,
                           *section ? "keys of '" : "top-level keys", section,
                           *section ? "'" : "", list);
}

/* ---- node helpers ------------------------------------------------------- */

/* Set leaf k from a value node; on failure *why says why. */
static int set_from_node(yaml_document_t *doc, struct scorr_config *cfg, const struct cfg_key *k,
                         yaml_node_t *v, char *why, size_t why_n)
{
    char want[320];
    if (v->type == YAML_SCALAR_NODE) {
        char text[SCORR_CONFIG_PATH + 8];
        if (scorr_yaml_text(v, text, sizeof text)) {
            snprintf(why, why_n, "value too long or holds a NUL byte (at most %d bytes)",
                     SCORR_CONFIG_PATH - 1);
            return -1;
        }
        if (k->type == CT_INTLIST) {
            /* A list key given a scalar: same message as other type errors. */
            scorr_cfg_describe(k, want, sizeof want);
            snprintf(why, why_n, "expected %s, found '%.200s'", want, text);
            return -1;
        }
        return scorr_cfg_set_scalar(cfg, k, text, scorr_yaml_plain(v), why, why_n);
    }
    if (v->type == YAML_SEQUENCE_NODE && k->type == CT_INTLIST) {
        int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        char bufs[SCORR_CONFIG_MAX_MILESTONES][64];
        const char *items[SCORR_CONFIG_MAX_MILESTONES];
        int plain[SCORR_CONFIG_MAX_MILESTONES];
        scorr_cfg_describe(k, want, sizeof want);
        if (n > SCORR_CONFIG_MAX_MILESTONES) {
            snprintf(why, why_n, "expected at most %d items, found %d",
                     SCORR_CONFIG_MAX_MILESTONES, n);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            yaml_node_t *it = yaml_document_get_node(doc, v->data.sequence.items.start[i]);
            if (!it || it->type != YAML_SCALAR_NODE ||
                scorr_yaml_text(it, bufs[i], sizeof bufs[i])) {
                snprintf(why, why_n, "expected %s, found %s as item %d", want,
                         it ? scorr_yaml_kind(it) : "nothing", i + 1);
                return -1;
            }
            items[i] = bufs[i];
            plain[i] = scorr_yaml_plain(it);
        }
        return scorr_cfg_set_list(cfg, k, items, plain, n, why, why_n);
    }
    scorr_cfg_describe(k, want, sizeof want);
    snprintf(why, why_n, "expected %s, found %s", want, scorr_yaml_kind(v));
    return -1;
}

/* ---- the walk ----------------------------------------------------------- */

static int walk_mapping(struct pctx *x, yaml_node_t *map, const char *prefix)
{
    int err = 0;
    char path[MAX_PATH_TEXT], why[1024], where[1200];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        size_t line = kn->start_mark.line + 1;
        char key[128];
        snprintf(where, sizeof where, "%s:%zu", x->file, line);
        SCORR_REQUIRE(kn->type == YAML_SCALAR_NODE && !scorr_yaml_text(kn, key, sizeof key),
                      SCORR_EINVAL, "%s: %s%sa key must be a short plain word, found %s", where,
                      prefix, *prefix ? ": " : "", scorr_yaml_kind(kn));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(x->doc, q->key);
            char other[128];
            if (qk->type == YAML_SCALAR_NODE && !scorr_yaml_text(qk, other, sizeof other) &&
                !strcmp(other, key))
                SCORR_FAIL(SCORR_EINVAL, "%s: duplicate key '%s%s%s' (first given at line %zu)",
                           where, prefix, *prefix ? "." : "", key, qk->start_mark.line + 1);
        }
        SCORR_REQUIRE(snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key) <
                          (int)sizeof path,
                      SCORR_EINVAL, "%s: key path too long", where);
        const struct cfg_key *k = scorr_cfg_lookup(path);
        if (!k) {
            err = unknown_key(where, path, prefix);
            goto done;
        }
        if (k->type == CT_SECTION) {
            if (vn->type != YAML_MAPPING_NODE) {
                char list[1024], val[64] = "";
                children(path, list, sizeof list);
                if (vn->type == YAML_SCALAR_NODE) {
                    if (scorr_yaml_text(vn, val, sizeof val)) snprintf(val, sizeof val, "...");
                    SCORR_FAIL(SCORR_EINVAL, "%s:%zu: %s: expected a mapping of keys (%s), found "
                               "'%s'", x->file, vn->start_mark.line + 1, path, list, val);
                }
                SCORR_FAIL(SCORR_EINVAL, "%s:%zu: %s: expected a mapping of keys (%s), found %s",
                           x->file, vn->start_mark.line + 1, path, list, scorr_yaml_kind(vn));
            }
            SCORR_TRY(walk_mapping(x, vn, path));
            continue;
        }
        if (set_from_node(x->doc, x->cfg, k, vn, why, sizeof why))
            SCORR_FAIL(SCORR_EINVAL, "%s:%zu: %s: %s", x->file, vn->start_mark.line + 1, path,
                       why);
        int leaf = scorr_cfg_leaf_index(path);
        SCORR_ASSERT(leaf >= 0 && leaf < MAX_LEAVES);
        x->lines[leaf] = (int)(vn->start_mark.line + 1);
    }
done:
    return err;
}

static int parse_into(struct scorr_config *cfg, const char *text, size_t len, const char *file,
                      int *lines)
{
    int err = 0;
    struct scorr_yaml_doc yd = {0};
    yaml_node_t *root = NULL;
    SCORR_TRY(scorr_yaml_load(&yd, text, len, file, &root));
    /* A second document is an error: the trainer would silently ignore it. */
    if (root) SCORR_TRY(scorr_yaml_expect_end(&yd, file, "an experiment file"));
    if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        goto done; /* empty file: every key at its default */
    if (root->type != YAML_MAPPING_NODE) {
        char val[64] = "";
        if (root->type == YAML_SCALAR_NODE && scorr_yaml_text(root, val, sizeof val))
            snprintf(val, sizeof val, "...");
        SCORR_FAIL(SCORR_EINVAL, "%s:%zu: expected a mapping of keys at the top level (name: "
                   "..., data: ...), found %s%s%s", file, root->start_mark.line + 1,
                   root->type == YAML_SCALAR_NODE ? "'" : scorr_yaml_kind(root), val,
                   root->type == YAML_SCALAR_NODE ? "'" : "");
    }
    struct pctx x = {file, &yd.doc, cfg, lines};
    SCORR_TRY(walk_mapping(&x, root, ""));
done:
    scorr_yaml_doc_free(&yd);
    return err;
}

/* Set one key from a YAML value text (scalar or flow list). */
static int set_from_text(struct scorr_config *cfg, const struct cfg_key *k, const char *text,
                         char *why, size_t why_n)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1;
    /* No value needs more (a path is shorter); it also bounds libyaml's
     * nesting cost on a command-line value. */
    if (strlen(text) > 4 * SCORR_CONFIG_PATH) {
        snprintf(why, why_n, "value too long (%zu characters)", strlen(text));
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(why, why_n, "out of memory (libyaml)");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(why, why_n, "not a YAML value: %s", parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        char want[320];
        scorr_cfg_describe(k, want, sizeof want);
        snprintf(why, why_n, "expected %s, found an empty value", want);
    } else {
        rc = set_from_node(&doc, cfg, k, root, why, why_n);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- public ------------------------------------------------------------- */

void scorr_config_defaults(struct scorr_config *cfg)
{
    char why[1024];
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (k->type == CT_SECTION) continue;
        if (set_from_text(cfg, k, k->def, why, sizeof why))
            scorr_fatal(__FILE__, __LINE__, "schema default of %s is invalid: %s", k->path, why);
    }
}

int scorr_config_parse(struct scorr_config *cfg, const char *text, size_t len, const char *file)
{
    int err = 0;
    int lines[MAX_LEAVES] = {0};
    SCORR_ASSERT(scorr_config_nkeys() <= MAX_LEAVES);
    scorr_config_defaults(cfg);
    SCORR_TRY(parse_into(cfg, text, len, file, lines));
    SCORR_TRY(scorr_cfg_check_rules(cfg, file, lines));
done:
    return err;
}

int scorr_config_load(const struct scorr_comm *c, const char *path, struct scorr_config *cfg)
{
    int err = 0;
    char *text = NULL;
    size_t len = 0;
    SCORR_TRY(scorr_comm_read_file(c, path, &text, &len));
    SCORR_TRY(scorr_config_parse(cfg, text, len, path));
done:
    free(text);
    return err;
}

int scorr_config_load_local(const char *path, struct scorr_config *cfg)
{
    int err = 0;
    char *text = NULL;
    size_t len = 0;
    SCORR_TRY(scorr_read_file(path, &text, &len));
    SCORR_TRY(scorr_config_parse(cfg, text, len, path));
done:
    free(text);
    return err;
}

static int set_one(struct scorr_config *cfg, const char *path, const char *value)
{
    int err = 0;
    char why[1024], where[512];
    snprintf(where, sizeof where, "override %.200s=%.200s", path, value);
    const struct cfg_key *k = scorr_cfg_lookup(path);
    if (!k) {
        const char *dot = strrchr(path, '.');
        char section[MAX_PATH_TEXT] = "";
        if (dot && (size_t)(dot - path) < sizeof section) {
            memcpy(section, path, (size_t)(dot - path));
            section[dot - path] = 0;
            if (!scorr_cfg_lookup(section)) section[0] = 0;
        }
        err = unknown_key("override", path, section);
        goto done;
    }
    if (k->type == CT_SECTION) {
        char list[1024];
        children(path, list, sizeof list);
        SCORR_FAIL(SCORR_EINVAL, "%s: '%s' is a section, not a key; set one of its keys (%s)",
                   where, path, list);
    }
    if (set_from_text(cfg, k, value, why, sizeof why))
        SCORR_FAIL(SCORR_EINVAL, "%s: %s: %s", where, path, why);
done:
    return err;
}

int scorr_config_set(struct scorr_config *cfg, const char *path, const char *value)
{
    int err = 0;
    SCORR_TRY(set_one(cfg, path, value));
    SCORR_TRY(scorr_config_validate(cfg, "override"));
done:
    return err;
}

int scorr_config_override(struct scorr_config *cfg, int n, const char *const *keys,
                          const char *const *values)
{
    int err = 0;
    for (int i = 0; i < n; i++) SCORR_TRY(set_one(cfg, keys[i], values[i]));
    SCORR_TRY(scorr_config_validate(cfg, "override"));
done:
    return err;
}

int scorr_config_validate(const struct scorr_config *cfg, const char *where)
{
    int err = 0;
    char why[1024];
    /* Every value in range (a struct filled by hand may not be). */
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (k->type == CT_SECTION) continue;
        struct scorr_config copy = *cfg;
        char text[SCORR_CONFIG_PATH + 64];
        scorr_cfg_value_text(cfg, k, text, sizeof text);
        if (set_from_text(&copy, k, text, why, sizeof why))
            SCORR_FAIL(SCORR_EINVAL, "%s: %s: %s", where, k->path, why);
    }
    SCORR_TRY(scorr_cfg_check_rules(cfg, where, NULL));
done:
    return err;
}

/* ---- cross-key rules ---------------------------------------------------- */

/* "file:line" of the first of the keys given in the file, else "file". */
static void rule_where(char *out, size_t n, const char *file, const int *lines, const char *a,
                       const char *b)
{
    int la = lines && a ? lines[scorr_cfg_leaf_index(a)] : 0;
    int lb = lines && b ? lines[scorr_cfg_leaf_index(b)] : 0;
    int l = la ? la : lb;
    if (l)
        snprintf(out, n, "%s:%d", file, l);
    else
        snprintf(out, n, "%s", file);
}

int scorr_cfg_check_rules(const struct scorr_config *c, const char *file, const int *lines)
{
    int err = 0;
    char w[1200];
    const char *variant = scorr_variant_name(c->variant);
    if (c->pseudo.selection.start_ratio >= 0 &&
        c->pseudo.selection.end_ratio < c->pseudo.selection.start_ratio) {
        rule_where(w, sizeof w, file, lines, "pseudo.selection.end_ratio",
                   "pseudo.selection.start_ratio");
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: pseudo.selection.end_ratio: %g is smaller than "
                   "pseudo.selection.start_ratio %g (the kept fraction rises from start to end)",
                   w, c->pseudo.selection.end_ratio, c->pseudo.selection.start_ratio);
    }
    if (c->variant == SCORR_VARIANT_ST && !c->teacher.checkpoint[0]) {
        rule_where(w, sizeof w, file, lines, "teacher.checkpoint", "variant");
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: teacher.checkpoint: variant st needs a teacher (the best.h5 of a "
                   "baseline run), found none", w);
    }
    if (strcmp(c->validation.split, "auto") && strcmp(c->validation.split, c->data.val_split)) {
        rule_where(w, sizeof w, file, lines, "validation.split", "data.val_split");
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: validation.split: '%s' differs from data.val_split '%s'; data.val_split "
                   "decides the validated split (write validation.split: auto)", w,
                   c->validation.split[0] ? c->validation.split : "none",
                   c->data.val_split[0] ? c->data.val_split : "none");
    }
    if (c->schedule.type == SCORR_SCHED_COSINE && c->schedule.min_lr > c->optim.lr) {
        rule_where(w, sizeof w, file, lines, "schedule.min_lr", "optim.lr");
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: schedule.min_lr: %g is above optim.lr %g; the cosine schedule would "
                   "raise the learning rate", w, c->schedule.min_lr, c->optim.lr);
    }
    if (c->variant != SCORR_VARIANT_BASELINE && c->variant != SCORR_VARIANT_WARP &&
        c->pseudo.start_epoch >= c->train.epochs) {
        rule_where(w, sizeof w, file, lines, "pseudo.start_epoch", "train.epochs");
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: pseudo.start_epoch: %d is not below train.epochs %d; variant %s would "
                   "never use its pseudo-labels (use variant baseline, or start earlier)", w,
                   c->pseudo.start_epoch, c->train.epochs, variant);
    }
done:
    return err;
}
