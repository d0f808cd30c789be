/* PF-PASCAL reader (docs/packing.md):
 *   <split>_pairs.csv  trn/val: source_image,target_image,class,flip
 *                      test:    source_image,target_image,class,XA,YA,XB,YB
 *   JPEGImages/<image>.jpg, Annotations/<class name>/<image>.mat (`kps` N x 2,
 *   NaN rows for missing points; `bbox` 1 x 4)
 * Paths in the CSV are reduced to their base names; classes are 1-based. A
 * pair keeps .mat row i when it is finite in both images (rows paired in
 * order up to the shorter list), like the reference loader; kps_ids holds i.
 * The test CSV's XA..YB columns are not used (the reference reads the .mat
 * files too). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <matio.h>

#include "pack_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

static const char *const k_classes[] = {
    "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",   "car",
    "cat",       "chair",   "cow",   "diningtable", "dog",    "horse", "motorbike",
    "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
#define NUM_CLASSES ((int)(sizeof k_classes / sizeof *k_classes))

/* One annotation file, loaded once however many pairs use it. */
struct mat_entry {
    int n;          /* kps rows */
    double *kps;    /* (n, 2) x, y; NaN for a missing point */
    float bbox[4];
    int err;        /* non-zero: loading failed, msg says why */
    char *msg;
};

struct mat_cache {
    struct pack_strmap index;
    struct mat_entry *e;
    int32_t n, cap;
};

static _Thread_local char g_matio_msg[512];

static void matio_log(int level, char *message)
{
    (void)level;
    snprintf(g_matio_msg, sizeof g_matio_msg, "%s", message ? message : "");
}

int pack_setup_pfpascal(struct pack_ctx *c, const char *raw_dir)
{
    int err = 0;
    SCORR_TRY(pack_find_root(c, raw_dir, "PF-PASCAL", "Annotations", "'Annotations' folder",
                             "pass the folder that holds JPEGImages/, Annotations/ and "
                             "{trn,val,test}_pairs.csv"));
    Mat_LogInitFunc("scorr_pack", matio_log);
    c->categories = k_classes;
    c->num_categories = NUM_CLASSES;
    c->source = "pfpascal";
    c->threshold = "img";
done:
    return err;
}

/* Any real numeric matio variable -> doubles (column-major, as stored). */
static int mat_doubles(const char *path, const matvar_t *v, const char *name, double *out,
                       size_t n)
{
    int err = 0;
    SCORR_REQUIRE(!v->isComplex && v->data, SCORR_EFORMAT,
                  "'%s': variable '%s' must be a real numeric array", path, name);
    SCORR_REQUIRE(v->data_size > 0 && v->nbytes / (size_t)v->data_size >= n, SCORR_EFORMAT,
                  "'%s': variable '%s' holds %zu bytes, fewer than its %zu values need", path,
                  name, v->nbytes, n);
    for (size_t i = 0; i < n; i++) {
        double x;
        switch (v->class_type) {
        case MAT_C_DOUBLE: x = ((const double *)v->data)[i]; break;
        case MAT_C_SINGLE: x = ((const float *)v->data)[i]; break;
        case MAT_C_INT8: x = ((const int8_t *)v->data)[i]; break;
        case MAT_C_UINT8: x = ((const uint8_t *)v->data)[i]; break;
        case MAT_C_INT16: x = ((const int16_t *)v->data)[i]; break;
        case MAT_C_UINT16: x = ((const uint16_t *)v->data)[i]; break;
        case MAT_C_INT32: x = ((const int32_t *)v->data)[i]; break;
        case MAT_C_UINT32: x = ((const uint32_t *)v->data)[i]; break;
        case MAT_C_INT64: x = (double)((const int64_t *)v->data)[i]; break;
        case MAT_C_UINT64: x = (double)((const uint64_t *)v->data)[i]; break;
        default:
            SCORR_FAIL(SCORR_EFORMAT, "'%s': variable '%s' has MATLAB class %d, expected a numeric "
                       "array", path, name, (int)v->class_type);
        }
        out[i] = x;
    }
done:
    return err;
}

/* 1 if the file starts with a MAT-file header (Level 5, or 7.3 which keeps
 * it): 116 bytes of text, subsystem offset, version, endian "IM"/"MI" at
 * 126. Anything else would reach matio's Level 4 reader, which takes
 * seconds to minutes on some corrupt files of a few bytes (found by
 * fuzzing); the annotations are Level 5. */
static int has_mat_header(const char *path)
{
    unsigned char h[128];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    return n == sizeof h &&
           ((h[126] == 'I' && h[127] == 'M') || (h[126] == 'M' && h[127] == 'I'));
}

static int mat_read(const char *path, struct mat_entry *e)
{
    int err = 0;
    mat_t *m = NULL;
    matvar_t *kv = NULL, *bv = NULL;
    double *tmp = NULL;
    SCORR_REQUIRE(scorr_exists(path), SCORR_EIO, "annotation '%s' does not exist", path);
    SCORR_REQUIRE(has_mat_header(path), SCORR_EFORMAT,
                  "'%s' is not a MATLAB .mat file (no Level-5 MAT-file header in its first 128 "
                  "bytes)", path);
    g_matio_msg[0] = 0;
    m = Mat_Open(path, MAT_ACC_RDONLY);
    SCORR_REQUIRE(m, SCORR_EFORMAT, "'%s' is not a MATLAB .mat file matio can read%s%s", path,
                  g_matio_msg[0] ? ": " : "", g_matio_msg);
    kv = Mat_VarRead(m, "kps");
    SCORR_REQUIRE(kv, SCORR_EFORMAT, "'%s': variable 'kps' is missing", path);
    /* matio can return a variable without dims when its header is broken
     * (found by fuzzing). */
    SCORR_REQUIRE(kv->dims && kv->rank >= 1, SCORR_EFORMAT,
                  "'%s': variable 'kps' has no dimensions (corrupt file)", path);
    SCORR_REQUIRE(kv->rank == 2 && kv->dims[1] == 2, SCORR_EFORMAT,
                  "'%s': 'kps' must be N x 2 (x, y), found %d-D %zu x %zu", path, kv->rank,
                  kv->dims[0], kv->rank > 1 ? kv->dims[1] : (size_t)1);
    size_t n = kv->dims[0];
    tmp = malloc((n ? n : 1) * 2 * sizeof *tmp);
    e->kps = malloc((n ? n : 1) * 2 * sizeof *e->kps);
    SCORR_REQUIRE(tmp && e->kps, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(mat_doubles(path, kv, "kps", tmp, n * 2));
    for (size_t i = 0; i < n; i++) { /* column-major N x 2 -> rows of (x, y) */
        e->kps[2 * i] = tmp[i];
        e->kps[2 * i + 1] = tmp[n + i];
    }
    e->n = (int)n;
    bv = Mat_VarRead(m, "bbox");
    SCORR_REQUIRE(bv, SCORR_EFORMAT, "'%s': variable 'bbox' is missing", path);
    SCORR_REQUIRE(bv->dims && bv->rank >= 1, SCORR_EFORMAT,
                  "'%s': variable 'bbox' has no dimensions (corrupt file)", path);
    size_t nb = 1;
    for (int i = 0; i < bv->rank; i++) nb *= bv->dims[i];
    SCORR_REQUIRE(nb == 4, SCORR_EFORMAT, "'%s': 'bbox' must hold 4 numbers, found %zu", path, nb);
    double b[4];
    SCORR_TRY(mat_doubles(path, bv, "bbox", b, 4));
    for (int i = 0; i < 4; i++) {
        SCORR_REQUIRE(isfinite(b[i]), SCORR_EFORMAT, "'%s': 'bbox' is not finite", path);
        e->bbox[i] = (float)b[i];
    }
done:
    if (kv) Mat_VarFree(kv);
    if (bv) Mat_VarFree(bv);
    if (m) Mat_Close(m);
    free(tmp);
    return err;
}

/* The cache entry for an annotation file (loading it on first use). A failed
 * load is remembered and reported again for every pair that needs it. */
static int mat_get(struct mat_cache *mc, const char *path, const struct mat_entry **out)
{
    int err = 0;
    int32_t id;
    if (!pack_strmap_get(&mc->index, path, &id)) {
        if (mc->n == mc->cap) {
            int32_t cap = mc->cap ? mc->cap * 2 : 256;
            struct mat_entry *e = realloc(mc->e, (size_t)cap * sizeof *e);
            SCORR_REQUIRE(e, SCORR_ENOMEM, "out of memory");
            mc->e = e;
            mc->cap = cap;
        }
        id = mc->n++;
        struct mat_entry *e = &mc->e[id];
        memset(e, 0, sizeof *e);
        e->err = mat_read(path, e);
        if (e->err) {
            e->msg = strdup(scorr_error_message());
            free(e->kps);
            e->kps = NULL;
        }
        SCORR_TRY(pack_strmap_put(&mc->index, path, id));
    }
    const struct mat_entry *e = &mc->e[id];
    if (e->err) SCORR_FAIL(e->err, "%s", e->msg ? e->msg : "annotation unreadable");
    *out = e;
done:
    return err;
}

static void mat_cache_free(struct mat_cache *mc)
{
    for (int32_t i = 0; i < mc->n; i++) {
        free(mc->e[i].kps);
        free(mc->e[i].msg);
    }
    free(mc->e);
    pack_strmap_free(&mc->index);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* base name without its extension */
static void stem(const char *p, char *out, size_t n)
{
    snprintf(out, n, "%s", base_name(p));
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

static int read_row(struct pack_ctx *c, struct mat_cache *mc, const char *csv, int lineno,
                    char **f, int has_flip, struct pack_pair *p)
{
    int err = 0;
    char sst[256], tst[256], rel[600], path[4096];
    long cls = 0, flip = 0;
    memset(p, 0, sizeof *p);
    SCORR_REQUIRE(!pack_parse_int(f[2], &cls) && cls >= 1 && cls <= NUM_CLASSES, SCORR_EFORMAT,
                  "%s:%d: class '%s' is not a PF-PASCAL class number (1..%d)", csv, lineno, f[2],
                  NUM_CLASSES);
    if (has_flip)
        SCORR_REQUIRE(!pack_parse_int(f[3], &flip) && (flip == 0 || flip == 1), SCORR_EFORMAT,
                      "%s:%d: flip must be 0 or 1, found '%s'", csv, lineno, f[3]);
    SCORR_REQUIRE(base_name(f[0])[0] && base_name(f[1])[0], SCORR_EFORMAT,
                  "%s:%d: empty image path", csv, lineno);
    stem(f[0], sst, sizeof sst);
    stem(f[1], tst, sizeof tst);
    char name[600];
    snprintf(name, sizeof name, "%s-%s%s", sst, tst, flip ? ":flip" : "");
    p->name = strdup(name);
    SCORR_REQUIRE(p->name, SCORR_ENOMEM, "out of memory");
    const char *cname = k_classes[cls - 1];
    const struct mat_entry *se, *te;
    snprintf(rel, sizeof rel, "Annotations/%s/%s.mat", cname, sst);
    SCORR_TRY(pack_path(c, path, sizeof path, rel));
    SCORR_TRY(mat_get(mc, path, &se));
    snprintf(rel, sizeof rel, "Annotations/%s/%s.mat", cname, tst);
    SCORR_TRY(pack_path(c, path, sizeof path, rel));
    SCORR_TRY(mat_get(mc, path, &te));
    int rows = se->n < te->n ? se->n : te->n, n = 0;
    p->kps = malloc((size_t)(rows ? rows : 1) * 4 * sizeof *p->kps);
    p->ids = malloc((size_t)(rows ? rows : 1) * sizeof *p->ids);
    SCORR_REQUIRE(p->kps && p->ids, SCORR_ENOMEM, "out of memory");
    for (int i = 0; i < rows; i++) {
        const double *a = se->kps + 2 * i, *b = te->kps + 2 * i;
        if (!isfinite(a[0]) || !isfinite(a[1]) || !isfinite(b[0]) || !isfinite(b[1])) continue;
        p->kps[4 * n] = (float)a[0];
        p->kps[4 * n + 1] = (float)a[1];
        p->kps[4 * n + 2] = (float)b[0];
        p->kps[4 * n + 3] = (float)b[1];
        p->ids[n] = i;
        n++;
    }
    SCORR_REQUIRE(n > 0, SCORR_EFORMAT,
                  "%s:%d: no keypoint is annotated in both '%s' and '%s' (class %s)", csv, lineno,
                  sst, tst, cname);
    p->n = n;
    memcpy(p->src_box, se->bbox, sizeof p->src_box);
    memcpy(p->trg_box, te->bbox, sizeof p->trg_box);
    p->category = (int32_t)(cls - 1);
    p->flip = (uint8_t)flip;
    memset(p->diff, -1, sizeof p->diff);
    snprintf(rel, sizeof rel, "JPEGImages/%s", base_name(f[0]));
    SCORR_TRY(pack_image_id(c, rel, &p->src));
    snprintf(rel, sizeof rel, "JPEGImages/%s", base_name(f[1]));
    SCORR_TRY(pack_image_id(c, rel, &p->trg));
done:
    if (err) pack_pair_free(p);
    return err;
}

int pack_read_pfpascal(struct pack_ctx *c, struct pack_split *s)
{
    int err = 0;
    struct pack_text t = {0};
    struct mat_cache mc = {0};
    char path[4096], rel[64];
    snprintf(rel, sizeof rel, "%s_pairs.csv", s->name);
    SCORR_TRY(pack_path(c, path, sizeof path, rel));
    SCORR_TRY(pack_text_open(&t, path));
    char *line, *f[9];
    int lineno;
    SCORR_REQUIRE(pack_text_next(&t, &line, &lineno), SCORR_EFORMAT, "'%s' is empty", path);
    char header[256];
    snprintf(header, sizeof header, "%s", line);
    int nh = pack_csv_split(line, f, 9);
    int has_flip = nh == 4 && !strcmp(f[3], "flip");
    int has_xy = nh == 7 && !strcmp(f[3], "XA") && !strcmp(f[4], "YA") && !strcmp(f[5], "XB") &&
                 !strcmp(f[6], "YB");
    SCORR_REQUIRE(nh >= 3 && !strcmp(f[0], "source_image") && !strcmp(f[1], "target_image") &&
                      !strcmp(f[2], "class") && (has_flip || has_xy),
                  SCORR_EFORMAT,
                  "%s:%d: unexpected header '%s'; expected 'source_image,target_image,class,flip' "
                  "or 'source_image,target_image,class,XA,YA,XB,YB'",
                  path, lineno, header);
    while (pack_text_next(&t, &line, &lineno)) {
        if (!line[0]) continue; /* blank lines are skipped, as pandas does */
        char name[320];
        pack_csv_row_name(path, lineno, line, name, sizeof name);
        int n = pack_csv_split(line, f, 9);
        if (n != nh) {
            err = scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                                  "%s:%d: expected %d columns like the header '%s', found %d", path,
                                  lineno, nh, header, n);
            SCORR_TRY(pack_skip_or_fail(c, s->name, name, err));
            continue;
        }
        struct pack_pair p;
        err = read_row(c, &mc, path, lineno, f, has_flip, &p);
        if (err) {
            SCORR_TRY(pack_skip_or_fail(c, s->name, name, err));
            continue;
        }
        SCORR_TRY(pack_split_add(s, &p));
    }
done:
    mat_cache_free(&mc);
    pack_text_close(&t);
    return err;
}
