/* Shared bits of the packers: string map, image and pair tables, the
 * skip-or-fail rule, text and CSV parsing. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pack_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"

/* ---- string map -------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int pack_strmap_get(const struct pack_strmap *m, const char *key, int32_t *val)
{
    if (!m->cap) return 0;
    for (size_t i = fnv1a(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return 0;
        if (!strcmp(m->keys[i], key)) {
            *val = m->vals[i];
            return 1;
        }
    }
}

static int strmap_grow(struct pack_strmap *m)
{
    int err = 0;
    size_t cap = m->cap ? m->cap * 2 : 256;
    char **keys = calloc(cap, sizeof *keys);
    int32_t *vals = calloc(cap, sizeof *vals);
    SCORR_REQUIRE(keys && vals, SCORR_ENOMEM, "out of memory (string map of %zu)", cap);
    for (size_t j = 0; j < m->cap; j++) {
        if (!m->keys[j]) continue;
        size_t i = fnv1a(m->keys[j]) & (cap - 1);
        while (keys[i]) i = (i + 1) & (cap - 1);
        keys[i] = m->keys[j];
        vals[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    keys = NULL;
    vals = NULL;
done:
    free(keys);
    free(vals);
    return err;
}

int pack_strmap_put(struct pack_strmap *m, const char *key, int32_t val)
{
    int err = 0;
    if ((m->n + 1) * 2 > m->cap) SCORR_TRY(strmap_grow(m));
    size_t i = fnv1a(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = strdup(key);
        SCORR_REQUIRE(m->keys[i], SCORR_ENOMEM, "out of memory");
        m->n++;
    }
    m->vals[i] = val;
done:
    return err;
}

void pack_strmap_free(struct pack_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- images and pairs -------------------------------------------------- */

int pack_image_id(struct pack_ctx *c, const char *rel, int32_t *id)
{
    int err = 0;
    struct pack_images *im = &c->img;
    if (pack_strmap_get(&im->index, rel, id)) goto done;
    if (im->n == im->cap) {
        int64_t cap = im->cap ? im->cap * 2 : 256;
        char **names = realloc(im->names, (size_t)cap * sizeof *names);
        SCORR_REQUIRE(names, SCORR_ENOMEM, "out of memory");
        im->names = names;
        im->cap = cap;
    }
    SCORR_REQUIRE(im->n < INT32_MAX, SCORR_EINVAL, "too many images");
    im->names[im->n] = strdup(rel);
    SCORR_REQUIRE(im->names[im->n], SCORR_ENOMEM, "out of memory");
    *id = (int32_t)im->n;
    SCORR_TRY(pack_strmap_put(&im->index, rel, *id));
    im->n++;
done:
    return err;
}

void pack_pair_free(struct pack_pair *p)
{
    free(p->kps);
    free(p->ids);
    free(p->name);
    memset(p, 0, sizeof *p);
}

void pack_images_free(struct pack_images *img)
{
    for (int64_t i = 0; i < img->n; i++) {
        free(img->names[i]);
        if (img->err) free(img->err[i]);
    }
    free(img->names);
    free(img->orig);
    free(img->row);
    free(img->err);
    pack_strmap_free(&img->index);
}

int pack_split_add(struct pack_split *s, struct pack_pair *p)
{
    int err = 0;
    if (s->n == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 1024;
        struct pack_pair *pairs = realloc(s->pairs, (size_t)cap * sizeof *pairs);
        SCORR_REQUIRE(pairs, SCORR_ENOMEM, "out of memory (%lld pairs)", (long long)cap);
        s->pairs = pairs;
        s->cap = cap;
    }
    s->pairs[s->n++] = *p;
    memset(p, 0, sizeof *p);
done:
    if (err) pack_pair_free(p);
    return err;
}

int pack_skip_or_fail(struct pack_ctx *c, const char *split, const char *pair, int err)
{
    if (!err) return 0;
    if (!c->opt->skip_bad) return err;
    scorr_warn("skipped %s pair '%s': %s", split, pair, scorr_error_message());
    scorr_error_clear();
    c->skipped_pairs++;
    return 0;
}

int pack_path(const struct pack_ctx *c, char *out, size_t n, const char *rel)
{
    return scorr_path_join(out, n, c->root, rel);
}

int pack_find_root(struct pack_ctx *c, const char *raw_dir, const char *name, const char *marker,
                   const char *marker_what, const char *hint)
{
    int err = 0;
    char probe[4096];
    const char *cands[2] = {"", name};
    c->root[0] = 0;
    for (int i = 0; i < 2 && !c->root[0]; i++) {
        char base[4096];
        SCORR_TRY(scorr_path_join(base, sizeof base, raw_dir, cands[i]));
        SCORR_TRY(scorr_path_join(probe, sizeof probe, base, marker));
        if (scorr_exists(probe)) snprintf(c->root, sizeof c->root, "%s", base);
    }
    if (!c->root[0]) {
        scorr_error_set(SCORR_EIO, __FILE__, __LINE__, __func__,
                        "'%s' does not look like %s: no %s in it (or in '%s/%s')", raw_dir, name,
                        marker_what, raw_dir, name);
        scorr_error_hint("%s", hint);
        err = SCORR_EIO;
        goto done;
    }
done:
    return err;
}

/* ---- text and CSV ------------------------------------------------------ */

int pack_text_open(struct pack_text *t, const char *path)
{
    int err = 0;
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    SCORR_TRY(scorr_read_file(path, &t->data, &t->len));
    if (t->len >= 3 && !memcmp(t->data, "\xEF\xBB\xBF", 3)) t->pos = 3;
done:
    return err;
}

int pack_text_next(struct pack_text *t, char **line, int *lineno)
{
    if (t->pos >= t->len) return 0;
    char *s = t->data + t->pos;
    char *nl = memchr(s, '\n', t->len - t->pos);
    size_t n = nl ? (size_t)(nl - s) : t->len - t->pos;
    t->pos += n + (nl ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r') n--;
    s[n] = 0;
    *line = s;
    *lineno = ++t->line;
    return 1;
}

void pack_text_close(struct pack_text *t)
{
    free(t->data);
    t->data = NULL;
}

int pack_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *start = p;
        if (*p == '"') { /* quoted: "" is a literal quote */
            char *w = p;
            start = w;
            p++;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            char *end = w;
            while (*p && *p != ',') p++; /* junk after the closing quote is dropped */
            char sep = *p;
            *end = 0;
            if (n < max) fields[n] = start;
            n++;
            if (!sep) break;
            p++;
            continue;
        }
        while (*p && *p != ',') p++;
        char sep = *p;
        *p = 0;
        if (n < max) fields[n] = start;
        n++;
        if (!sep) break;
        p++;
    }
    return n;
}

void pack_csv_row_name(const char *path, int lineno, const char *line, char *out, size_t n)
{
    const char *csvname = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int nl = snprintf(out, n, "%s:%d", csvname, lineno);
    const char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (c2 && nl > 0 && (size_t)nl < n)
        snprintf(out + nl, n - (size_t)nl, " (%.*s)", (int)(c2 - line > 200 ? 200 : c2 - line),
                 line);
}

int pack_parse_double(const char *s, double *v)
{
    char *end = NULL;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 1;
    errno = 0;
    double x = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || errno == ERANGE || !isfinite(x)) return 1;
    *v = x;
    return 0;
}

int pack_parse_int(const char *s, long *v)
{
    char *end = NULL;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 1;
    errno = 0;
    long x = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || errno == ERANGE) return 1;
    *v = x;
    return 0;
}
