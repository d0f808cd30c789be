/* SPair-71k reader (docs/packing.md):
 *   Layout/large/<split>.txt   one pair per line, "<pair id>-<src id>-<trg id>:<category>"
 *   PairAnnotation/<split>/<line>.json   (or with ':' replaced by '-')
 *   JPEGImages/<category>/<image id>.jpg
 * Keypoints, boxes and difficulty flags come from the JSON; image sizes are
 * taken later from the decoded JPEGs, not from the JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pack_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

static const char *const k_categories[] = {
    "aeroplane", "bicycle", "bird",  "boat",      "bottle", "bus",
    "car",       "cat",     "chair", "cow",       "dog",    "horse",
    "motorbike", "person",  "pottedplant", "sheep", "train", "tvmonitor"};
#define NUM_CATEGORIES ((int)(sizeof k_categories / sizeof *k_categories))

int pack_setup_spair(struct pack_ctx *c, const char *raw_dir)
{
    int err = 0;
    SCORR_TRY(pack_find_root(c, raw_dir, "SPair-71k", "Layout/large", "'Layout/large'",
                             "pass the folder that holds JPEGImages/, Layout/ and "
                             "PairAnnotation/"));
    c->categories = k_categories;
    c->num_categories = NUM_CATEGORIES;
    c->source = "spair";
    c->threshold = "bbox";
done:
    return err;
}

static int category_id(const char *name)
{
    for (int i = 0; i < NUM_CATEGORIES; i++)
        if (!strcmp(k_categories[i], name)) return i;
    return -1;
}

/* 1-based line and column of a position in a buffer. */
static void line_col(const char *buf, const char *pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = buf; p < pos; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int json_load(const char *path, cJSON **out)
{
    int err = 0;
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    SCORR_TRY(scorr_read_file(path, &buf, &len));
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!*out) {
        const char *at = cJSON_GetErrorPtr();
        if (!at || at < buf || at > buf + len) at = end ? end : buf;
        int line, col;
        line_col(buf, at, &line, &col);
        char near[24];
        size_t k = 0;
        for (const char *p = at; *p && k + 1 < sizeof near && *p != '\n'; p++) near[k++] = *p;
        near[k] = 0;
        SCORR_FAIL(SCORR_EFORMAT, "'%s': malformed JSON at line %d, column %d (near '%s')", path,
                   line, col, near);
    }
    SCORR_REQUIRE(cJSON_IsObject(*out), SCORR_EFORMAT, "'%s': the JSON root is not an object",
                  path);
done:
    if (err && *out) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    free(buf);
    return err;
}

static int json_item(const char *path, const cJSON *obj, const char *key, const cJSON **it)
{
    int err = 0;
    *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    SCORR_REQUIRE(*it, SCORR_EFORMAT, "'%s': key '%s' is missing", path, key);
done:
    return err;
}

static int json_int(const char *path, const cJSON *obj, const char *key, int lo, int hi,
                    int *v)
{
    int err = 0;
    const cJSON *it;
    SCORR_TRY(json_item(path, obj, key, &it));
    /* Range first: converting an out-of-range double to int is undefined. */
    SCORR_REQUIRE(cJSON_IsNumber(it) && it->valuedouble >= lo && it->valuedouble <= hi &&
                      it->valuedouble == floor(it->valuedouble),
                  SCORR_EFORMAT, "'%s': key '%s' must be an integer in %d..%d", path, key, lo, hi);
    *v = (int)it->valuedouble;
done:
    return err;
}

/* A list of n numbers, e.g. a box [x1, y1, x2, y2]. */
static int json_numbers(const char *path, const cJSON *arr, const char *what, int n, float *out)
{
    int err = 0;
    SCORR_REQUIRE(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == n, SCORR_EFORMAT,
                  "'%s': '%s' must be a list of %d numbers", path, what, n);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        SCORR_REQUIRE(cJSON_IsNumber(v), SCORR_EFORMAT, "'%s': '%s'[%d] is not a number", path,
                      what, i);
        out[i++] = (float)v->valuedouble;
    }
done:
    return err;
}

static int json_string_eq(const char *path, const cJSON *obj, const char *key, const char *want)
{
    int err = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) goto done; /* optional cross-check */
    SCORR_REQUIRE(cJSON_IsString(it) && !strcmp(it->valuestring, want), SCORR_EFORMAT,
                  "'%s': '%s' is '%s' but the layout line says '%s'", path, key,
                  cJSON_IsString(it) ? it->valuestring : "(not a string)", want);
done:
    return err;
}

/* One layout line -> one pair. */
static int read_pair(struct pack_ctx *c, const char *split, const char *layout, int lineno,
                     const char *line, struct pack_pair *p)
{
    int err = 0;
    cJSON *js = NULL;
    char buf[512], src[128], trg[128], cat[64], path[4096], alt[4096], rel[512];
    memset(p, 0, sizeof *p);
    p->name = strdup(line);
    SCORR_REQUIRE(p->name, SCORR_ENOMEM, "out of memory");
    /* "<pair id>-<src id>-<trg id>:<category>" */
    SCORR_REQUIRE(strlen(line) < sizeof buf, SCORR_EFORMAT, "%s:%d: line too long", layout,
                  lineno);
    snprintf(buf, sizeof buf, "%s", line);
    char *colon = strchr(buf, ':');
    char *d1 = strchr(buf, '-');
    char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    char *d3 = d2 ? strchr(d2 + 1, '-') : NULL;
    int ok = colon && d1 && d2 && d2 < colon && (!d3 || d3 > colon) && d1 > buf &&
             d2 > d1 + 1 && colon > d2 + 1 && colon[1] && !strchr(colon + 1, ':');
    SCORR_REQUIRE(ok, SCORR_EFORMAT,
                  "%s:%d: expected '<pair id>-<src image>-<trg image>:<category>', found '%s'",
                  layout, lineno, line);
    *colon = 0;
    *d1 = 0;
    *d2 = 0;
    SCORR_REQUIRE(strlen(d1 + 1) < sizeof src - 5 && strlen(d2 + 1) < sizeof trg - 5 &&
                      strlen(colon + 1) < sizeof cat,
                  SCORR_EFORMAT, "%s:%d: names too long in '%s'", layout, lineno, line);
    snprintf(src, sizeof src, "%s", d1 + 1);
    snprintf(trg, sizeof trg, "%s", d2 + 1);
    snprintf(cat, sizeof cat, "%s", colon + 1);
    int cid = category_id(cat);
    SCORR_REQUIRE(cid >= 0, SCORR_EFORMAT,
                  "%s:%d: unknown category '%s' (SPair-71k has aeroplane, bicycle, ..., "
                  "tvmonitor: 18 names)",
                  layout, lineno, cat);

    /* The annotation: the colon kept, or replaced by '-' in some copies. */
    char fname[600];
    snprintf(fname, sizeof fname, "PairAnnotation/%s/%s.json", split, line);
    SCORR_TRY(pack_path(c, path, sizeof path, fname));
    if (!scorr_exists(path)) {
        for (char *q = fname; *q; q++)
            if (*q == ':') *q = '-';
        SCORR_TRY(pack_path(c, alt, sizeof alt, fname));
        SCORR_REQUIRE(scorr_exists(alt), SCORR_EIO,
                      "%s:%d: no annotation for pair '%s': neither '%s' nor '%s' exists", layout,
                      lineno, line, path, alt);
        snprintf(path, sizeof path, "%s", alt);
    }
    SCORR_TRY(json_load(path, &js));
    const cJSON *it, *sk, *tk, *ids;
    SCORR_TRY(json_item(path, js, "category", &it));
    SCORR_REQUIRE(cJSON_IsString(it), SCORR_EFORMAT, "'%s': 'category' is not a string", path);
    SCORR_REQUIRE(category_id(it->valuestring) >= 0, SCORR_EFORMAT,
                  "'%s': unknown category '%s'", path, it->valuestring);
    SCORR_REQUIRE(!strcmp(it->valuestring, cat), SCORR_EFORMAT,
                  "'%s': category '%s' but the layout line (%s:%d) says '%s'", path,
                  it->valuestring, layout, lineno, cat);
    snprintf(rel, sizeof rel, "%s.jpg", src);
    SCORR_TRY(json_string_eq(path, js, "src_imname", rel));
    snprintf(rel, sizeof rel, "%s.jpg", trg);
    SCORR_TRY(json_string_eq(path, js, "trg_imname", rel));

    SCORR_TRY(json_item(path, js, "src_kps", &sk));
    SCORR_TRY(json_item(path, js, "trg_kps", &tk));
    SCORR_TRY(json_item(path, js, "kps_ids", &ids));
    SCORR_REQUIRE(cJSON_IsArray(sk) && cJSON_IsArray(tk) && cJSON_IsArray(ids), SCORR_EFORMAT,
                  "'%s': 'src_kps', 'trg_kps' and 'kps_ids' must be lists", path);
    int n = cJSON_GetArraySize(sk);
    SCORR_REQUIRE(n >= 1 && cJSON_GetArraySize(tk) == n && cJSON_GetArraySize(ids) == n,
                  SCORR_EFORMAT,
                  "'%s': 'src_kps', 'trg_kps' and 'kps_ids' must have the same non-zero length, "
                  "found %d, %d, %d",
                  path, n, cJSON_GetArraySize(tk), cJSON_GetArraySize(ids));
    p->n = n;
    p->kps = malloc((size_t)n * 4 * sizeof *p->kps);
    p->ids = malloc((size_t)n * sizeof *p->ids);
    SCORR_REQUIRE(p->kps && p->ids, SCORR_ENOMEM, "out of memory");
    for (int k = 0; k < n; k++) {
        float xy[2];
        char what[32];
        snprintf(what, sizeof what, "src_kps[%d]", k);
        SCORR_TRY(json_numbers(path, cJSON_GetArrayItem(sk, k), what, 2, xy));
        p->kps[4 * k] = xy[0];
        p->kps[4 * k + 1] = xy[1];
        snprintf(what, sizeof what, "trg_kps[%d]", k);
        SCORR_TRY(json_numbers(path, cJSON_GetArrayItem(tk, k), what, 2, xy));
        p->kps[4 * k + 2] = xy[0];
        p->kps[4 * k + 3] = xy[1];
        /* SPair writes ids as strings ("0", "7"); accept numbers too. */
        const cJSON *id = cJSON_GetArrayItem(ids, k);
        long v = -1;
        if (cJSON_IsNumber(id)) {
            if (id->valuedouble >= 0 && id->valuedouble < 1e6 &&
                id->valuedouble == floor(id->valuedouble))
                v = (long)id->valuedouble;
        }
        else if (cJSON_IsString(id) && pack_parse_int(id->valuestring, &v))
            v = -1;
        SCORR_REQUIRE(v >= 0 && v < 1000000, SCORR_EFORMAT,
                      "'%s': kps_ids[%d] is not a non-negative integer (or a string holding one)",
                      path, k);
        p->ids[k] = (int32_t)v;
    }
    SCORR_TRY(json_item(path, js, "src_bndbox", &it));
    SCORR_TRY(json_numbers(path, it, "src_bndbox", 4, p->src_box));
    SCORR_TRY(json_item(path, js, "trg_bndbox", &it));
    SCORR_TRY(json_numbers(path, it, "trg_bndbox", 4, p->trg_box));
    static const struct {
        const char *key;
        int hi;
    } flags[4] = {{"viewpoint_variation", 2}, {"scale_variation", 2}, {"truncation", 3},
                  {"occlusion", 3}};
    for (int f = 0; f < 4; f++) {
        int v = 0;
        SCORR_TRY(json_int(path, js, flags[f].key, 0, flags[f].hi, &v));
        p->diff[f] = (int8_t)v;
    }
    p->category = cid;
    p->flip = 0;
    snprintf(rel, sizeof rel, "JPEGImages/%s/%s.jpg", cat, src);
    SCORR_TRY(pack_image_id(c, rel, &p->src));
    snprintf(rel, sizeof rel, "JPEGImages/%s/%s.jpg", cat, trg);
    SCORR_TRY(pack_image_id(c, rel, &p->trg));
done:
    if (js) cJSON_Delete(js);
    if (err) pack_pair_free(p);
    return err;
}

int pack_read_spair(struct pack_ctx *c, struct pack_split *s)
{
    int err = 0;
    struct pack_text t = {0};
    char path[4096], rel[64];
    snprintf(rel, sizeof rel, "Layout/large/%s.txt", s->name);
    SCORR_TRY(pack_path(c, path, sizeof path, rel));
    SCORR_TRY(pack_text_open(&t, path));
    char *line;
    int lineno;
    while (pack_text_next(&t, &line, &lineno)) {
        if (!line[0]) {
            /* Blank lines at the very end are the file's trailing newline(s);
             * one in the middle is an error in that line. */
            size_t rest = t.pos;
            while (rest < t.len && (t.data[rest] == '\n' || t.data[rest] == '\r')) rest++;
            if (rest >= t.len) break;
            err = scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                                  "%s:%d: empty line", path, lineno);
            char name[32];
            snprintf(name, sizeof name, "(line %d)", lineno);
            SCORR_TRY(pack_skip_or_fail(c, s->name, name, err));
            continue;
        }
        struct pack_pair p;
        err = read_pair(c, s->name, path, lineno, line, &p);
        if (err) {
            SCORR_TRY(pack_skip_or_fail(c, s->name, line, err));
            continue;
        }
        SCORR_TRY(pack_split_add(s, &p));
    }
done:
    pack_text_close(&t);
    return err;
}
