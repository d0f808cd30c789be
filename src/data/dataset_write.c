/* Writer of the scorr dataset file (schema in include/scorr/dataset.h and
 * docs/dataset-format.md). Pixels go straight to a pre-sized dataset chunked
 * one image per chunk, so a pack holds one image at a time; the small
 * per-image metadata (names, original sizes) is kept in memory and written
 * at commit. The file lives at a temporary name until commit renames it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/h5.h"

#define MAX_SPLITS 16
#define TABLE_CHUNK 4096

struct split_rec {
    char name[16];
    int64_t num_pairs;
    int dense_created;
    int64_t dense_count;
    uint8_t *dense_done; /* [P] */
};

struct scorr_ds_writer {
    struct scorr_h5 f;
    int S;
    int64_t num_images;
    int num_categories;
    int has_fg;
    char **names;      /* [N] */
    int32_t *orig;     /* [N, 2] */
    uint8_t *put;      /* [N] */
    struct split_rec splits[MAX_SPLITS];
    int nsplits;
};

static const char *const k_thresholds[] = {"bbox", "img", "kpsbox"};

static void writer_free(struct scorr_ds_writer *w)
{
    if (!w) return;
    if (w->names)
        for (int64_t i = 0; i < w->num_images; i++) free(w->names[i]);
    free(w->names);
    free(w->orig);
    free(w->put);
    for (int i = 0; i < w->nsplits; i++) free(w->splits[i].dense_done);
    free(w);
}

static int shrink_table(struct scorr_h5 *f, const char *name, int64_t n)
{
    int err = 0;
    hsize_t d[4];
    hid_t ds = H5Dopen2(f->id, name, H5P_DEFAULT), sp = H5I_INVALID_HID;
    SCORR_REQUIRE(ds >= 0, SCORR_EIO, "'%s': cannot open '%s'", f->path, name);
    sp = H5Dget_space(ds);
    int nd = H5Sget_simple_extent_dims(sp, d, NULL);
    SCORR_REQUIRE(nd >= 1 && nd <= 4, SCORR_EINTERNAL, "'%s': '%s' has rank %d", f->path, name, nd);
    d[0] = (hsize_t)n;
    SCORR_REQUIRE(H5Dset_extent(ds, d) >= 0, SCORR_EIO, "'%s': cannot resize '%s' to %lld rows",
                  f->path, name, (long long)n);
done:
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

int scorr_ds_writer_truncate_images(struct scorr_ds_writer *w, int64_t n)
{
    int err = 0;
    SCORR_REQUIRE(n >= 0 && n <= w->num_images, SCORR_EINVAL,
                  "'%s': cannot truncate the image table to %lld rows (it has %lld)", w->f.path,
                  (long long)n, (long long)w->num_images);
    SCORR_REQUIRE(w->nsplits == 0, SCORR_EINVAL,
                  "'%s': truncate the image table before writing split tables", w->f.path);
    if (n == w->num_images) goto done;
    SCORR_TRY(shrink_table(&w->f, "/images/pixels", n));
    if (w->has_fg) SCORR_TRY(shrink_table(&w->f, "/images/fg_mask", n));
    for (int64_t i = n; i < w->num_images; i++) {
        free(w->names[i]);
        w->names[i] = NULL;
    }
    w->num_images = n;
done:
    return err;
}

int scorr_ds_writer_open(const char *path, const struct scorr_dataset_meta *meta,
                         struct scorr_ds_writer **out)
{
    int err = 0;
    struct scorr_ds_writer *w = NULL;
    *out = NULL;
    SCORR_REQUIRE(meta->image_size > 0 && meta->image_size <= 8192, SCORR_EINVAL,
                  "'%s': image_size must be in 1..8192, got %d", path, meta->image_size);
    SCORR_REQUIRE(meta->num_images >= 0, SCORR_EINVAL, "'%s': num_images must be >= 0, got %lld",
                  path, (long long)meta->num_images);
    SCORR_REQUIRE(meta->num_categories >= 1 && meta->category_names, SCORR_EINVAL,
                  "'%s': a dataset needs at least one category name", path);
    for (int i = 0; i < meta->num_categories; i++)
        SCORR_REQUIRE(meta->category_names[i] && meta->category_names[i][0], SCORR_EINVAL,
                      "'%s': category %d has no name", path, i);
    SCORR_REQUIRE(meta->source[0], SCORR_EINVAL, "'%s': meta.source is empty", path);
    int known = 0;
    for (size_t i = 0; i < sizeof k_thresholds / sizeof *k_thresholds; i++)
        known |= strcmp(meta->pck_threshold, k_thresholds[i]) == 0;
    SCORR_REQUIRE(known, SCORR_EINVAL,
                  "'%s': pck_threshold must be bbox, img or kpsbox, got '%s'", path,
                  meta->pck_threshold);

    w = calloc(1, sizeof *w);
    SCORR_REQUIRE(w, SCORR_ENOMEM, "out of memory");
    w->S = meta->image_size;
    w->num_images = meta->num_images;
    w->num_categories = meta->num_categories;
    w->has_fg = meta->has_fg_mask != 0;
    size_t n = (size_t)(meta->num_images ? meta->num_images : 1);
    w->names = calloc(n, sizeof *w->names);
    w->orig = calloc(n * 2, sizeof *w->orig);
    w->put = calloc(n, 1);
    SCORR_REQUIRE(w->names && w->orig && w->put, SCORR_ENOMEM, "out of memory");

    SCORR_TRY(scorr_h5_create(&w->f, path));
    SCORR_TRY(scorr_h5_set_attr_str(&w->f, "/", "format", SCORR_DATASET_FORMAT));
    SCORR_TRY(scorr_h5_set_attr_i64(&w->f, "/", "version", SCORR_DATASET_VERSION));
    SCORR_TRY(scorr_h5_set_attr_str(&w->f, "/", "source", meta->source));
    SCORR_TRY(scorr_h5_set_attr_i64(&w->f, "/", "image_size", meta->image_size));
    SCORR_TRY(scorr_h5_set_attr_str(&w->f, "/", "pck_threshold", meta->pck_threshold));
    SCORR_TRY(scorr_h5_write_strings(&w->f, "/categories/names",
                                     (const char *const *)meta->category_names,
                                     meta->num_categories));
    int64_t S = w->S, N = w->num_images;
    /* one chunk per image and a growable first axis, so that
     * scorr_ds_writer_truncate_images can shrink the table */
    SCORR_TRY(scorr_h5_create_growable(&w->f, "/images/pixels", SCORR_U8, 4,
                                       (int64_t[]){N, S, S, 3}, 1, 0));
    if (w->has_fg)
        SCORR_TRY(scorr_h5_create_growable(&w->f, "/images/fg_mask", SCORR_U8, 3,
                                           (int64_t[]){N, S, S}, 1, 1));
    *out = w;
    w = NULL;
done:
    if (w) {
        scorr_h5_close(&w->f);
        writer_free(w);
    }
    return err;
}

int scorr_ds_writer_put_image(struct scorr_ds_writer *w, int64_t index, const uint8_t *pixels,
                              int orig_w, int orig_h, const char *name, const uint8_t *fg_mask)
{
    int err = 0;
    char *copy = NULL;
    SCORR_REQUIRE(index >= 0 && index < w->num_images, SCORR_EINVAL,
                  "'%s': image index %lld out of range [0, %lld)", w->f.path, (long long)index,
                  (long long)w->num_images);
    SCORR_REQUIRE(pixels && name, SCORR_EINVAL, "'%s': image %lld: pixels and name are required",
                  w->f.path, (long long)index);
    SCORR_REQUIRE(orig_w > 0 && orig_h > 0, SCORR_EINVAL,
                  "'%s': image %lld ('%s'): original size must be positive, got %dx%d", w->f.path,
                  (long long)index, name, orig_w, orig_h);
    SCORR_REQUIRE(!w->has_fg || fg_mask, SCORR_EINVAL,
                  "'%s': image %lld: the file has foreground masks, so fg_mask is required",
                  w->f.path, (long long)index);
    copy = strdup(name);
    SCORR_REQUIRE(copy, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(scorr_h5_write_rows(&w->f, "/images/pixels", SCORR_U8, index, 1, pixels));
    if (w->has_fg)
        SCORR_TRY(scorr_h5_write_rows(&w->f, "/images/fg_mask", SCORR_U8, index, 1, fg_mask));
    free(w->names[index]);
    w->names[index] = copy;
    copy = NULL;
    w->orig[2 * index] = orig_w;
    w->orig[2 * index + 1] = orig_h;
    w->put[index] = 1;
done:
    free(copy);
    return err;
}

static int valid_split_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 16) return 0;
    if (!strcmp(s, "images") || !strcmp(s, "categories")) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

/* Copies of the keypoint tables with the schema's padding enforced: rows at
 * and past num_kps are NaN (ids -1); rows before it must be finite. */
static int padded_kps(const char *path, const struct scorr_split *s, const float *src,
                      const char *what, float *dst)
{
    int err = 0;
    int64_t M = s->max_kps;
    for (int64_t p = 0; p < s->num_pairs; p++) {
        for (int64_t k = 0; k < M; k++) {
            float *d = dst + (p * M + k) * 2;
            if (k < s->num_kps[p]) {
                const float *v = src + (p * M + k) * 2;
                SCORR_REQUIRE(isfinite(v[0]) && isfinite(v[1]), SCORR_ENUMERIC,
                              "'%s': split '%s' pair %lld: %s keypoint %lld is not finite "
                              "(%g, %g)",
                              path, s->name, (long long)p, what, (long long)k, v[0], v[1]);
                d[0] = v[0];
                d[1] = v[1];
            } else {
                d[0] = d[1] = NAN;
            }
        }
    }
done:
    return err;
}

static int write_table(struct scorr_h5 *f, const char *split, const char *name,
                       enum scorr_dtype t, int ndim, const int64_t *dims, const void *data)
{
    char path[64];
    snprintf(path, sizeof path, "/%s/%s", split, name);
    return scorr_h5_write(f, path, t, ndim, dims, data, TABLE_CHUNK, 4);
}

int scorr_ds_writer_put_split(struct scorr_ds_writer *w, const struct scorr_split *s)
{
    int err = 0;
    const char *path = w->f.path;
    int64_t P = s->num_pairs, M = s->max_kps;
    float *kbuf = NULL;
    int32_t *ids = NULL;
    uint8_t *flip = NULL;
    int8_t *diff = NULL;
    char **names = NULL;
    char(*gen)[32] = NULL;
    SCORR_REQUIRE(valid_split_name(s->name), SCORR_EINVAL,
                  "'%s': split name '%s' is not allowed (lower-case letters, digits, '_'; not "
                  "'images' or 'categories')",
                  path, s->name);
    for (int i = 0; i < w->nsplits; i++)
        SCORR_REQUIRE(strcmp(w->splits[i].name, s->name), SCORR_EINVAL,
                      "'%s': split '%s' written twice", path, s->name);
    SCORR_REQUIRE(w->nsplits < MAX_SPLITS, SCORR_EINVAL, "'%s': more than %d splits", path,
                  MAX_SPLITS);
    SCORR_REQUIRE(P >= 0 && M >= 0, SCORR_EINVAL,
                  "'%s': split '%s': num_pairs %lld and max_kps %lld must be >= 0", path,
                  s->name, (long long)P, (long long)M);
    SCORR_REQUIRE(P == 0 || (s->src_image && s->trg_image && s->category && s->num_kps &&
                             s->src_kps && s->trg_kps && s->src_bbox && s->trg_bbox),
                  SCORR_EINVAL,
                  "'%s': split '%s': src_image, trg_image, category, num_kps, src_kps, trg_kps, "
                  "src_bbox and trg_bbox are required",
                  path, s->name);
    for (int64_t p = 0; p < P; p++) {
        SCORR_REQUIRE(s->src_image[p] >= 0 && s->src_image[p] < w->num_images &&
                          s->trg_image[p] >= 0 && s->trg_image[p] < w->num_images,
                      SCORR_EINVAL,
                      "'%s': split '%s' pair %lld: image rows (%d, %d) outside [0, %lld)", path,
                      s->name, (long long)p, s->src_image[p], s->trg_image[p],
                      (long long)w->num_images);
        SCORR_REQUIRE(s->category[p] >= 0 && s->category[p] < w->num_categories, SCORR_EINVAL,
                      "'%s': split '%s' pair %lld: category %d outside [0, %d)", path, s->name,
                      (long long)p, s->category[p], w->num_categories);
        SCORR_REQUIRE(s->num_kps[p] >= 0 && s->num_kps[p] <= M, SCORR_EINVAL,
                      "'%s': split '%s' pair %lld: num_kps %d outside [0, max_kps = %lld]", path,
                      s->name, (long long)p, s->num_kps[p], (long long)M);
    }
    size_t nk = (size_t)(P * M * 2), nb = (size_t)(P * 4);
    kbuf = malloc((nk ? nk : 1) * sizeof *kbuf);
    size_t ni = (size_t)(P * M);
    ids = malloc((ni ? ni : 1) * sizeof *ids);
    SCORR_REQUIRE(kbuf && ids, SCORR_ENOMEM, "out of memory writing split '%s'", s->name);

    const char *sp = s->name;
    int64_t d1[1] = {P}, dk[3] = {P, M, 2}, db[2] = {P, 4}, di[2] = {P, M},
            dd[2] = {P, SCORR_DIFFICULTY_FLAGS};
    SCORR_TRY(write_table(&w->f, sp, "src_image", SCORR_I32, 1, d1, s->src_image));
    SCORR_TRY(write_table(&w->f, sp, "trg_image", SCORR_I32, 1, d1, s->trg_image));
    SCORR_TRY(write_table(&w->f, sp, "category", SCORR_I32, 1, d1, s->category));
    SCORR_TRY(write_table(&w->f, sp, "num_kps", SCORR_I32, 1, d1, s->num_kps));
    /* Keypoints: scaled, then original (defaults to the scaled ones). */
    const struct {
        const char *name;
        const float *data, *fallback;
    } kps[4] = {{"src_kps", s->src_kps, NULL},
                {"trg_kps", s->trg_kps, NULL},
                {"src_kps_orig", s->src_kps_orig, s->src_kps},
                {"trg_kps_orig", s->trg_kps_orig, s->trg_kps}};
    for (int i = 0; i < 4; i++) {
        SCORR_TRY(padded_kps(path, s, kps[i].data ? kps[i].data : kps[i].fallback, kps[i].name,
                             kbuf));
        SCORR_TRY(write_table(&w->f, sp, kps[i].name, SCORR_F32, 3, dk, kbuf));
    }
    for (int64_t p = 0; p < P; p++)
        for (int64_t k = 0; k < M; k++)
            ids[p * M + k] = k < s->num_kps[p] ? (s->kps_ids ? s->kps_ids[p * M + k] : (int32_t)k)
                                               : -1;
    SCORR_TRY(write_table(&w->f, sp, "kps_ids", SCORR_I32, 2, di, ids));
    const struct {
        const char *name;
        const float *data;
    } boxes[4] = {{"src_bbox", s->src_bbox},
                  {"trg_bbox", s->trg_bbox},
                  {"src_bbox_orig", s->src_bbox_orig ? s->src_bbox_orig : s->src_bbox},
                  {"trg_bbox_orig", s->trg_bbox_orig ? s->trg_bbox_orig : s->trg_bbox}};
    for (int i = 0; i < 4; i++) {
        for (size_t j = 0; j < nb; j++) {
            SCORR_REQUIRE(isfinite(boxes[i].data[j]), SCORR_ENUMERIC,
                          "'%s': split '%s' pair %zu: %s is not finite", path, sp, j / 4,
                          boxes[i].name);
        }
        SCORR_TRY(write_table(&w->f, sp, boxes[i].name, SCORR_F32, 2, db, boxes[i].data));
    }
    if (!s->flip) {
        flip = calloc((size_t)(P ? P : 1), 1);
        SCORR_REQUIRE(flip, SCORR_ENOMEM, "out of memory");
    }
    SCORR_TRY(write_table(&w->f, sp, "flip", SCORR_U8, 1, d1, s->flip ? s->flip : flip));
    if (!s->difficulty) {
        diff = malloc((size_t)(P ? P : 1) * SCORR_DIFFICULTY_FLAGS);
        SCORR_REQUIRE(diff, SCORR_ENOMEM, "out of memory");
        memset(diff, -1, (size_t)(P ? P : 1) * SCORR_DIFFICULTY_FLAGS);
    }
    SCORR_TRY(write_table(&w->f, sp, "difficulty", SCORR_I8, 2, dd,
                          s->difficulty ? s->difficulty : diff));
    if (s->pair_names) {
        for (int64_t p = 0; p < P; p++)
            SCORR_REQUIRE(s->pair_names[p], SCORR_EINVAL, "'%s': split '%s' pair %lld has no name",
                          path, sp, (long long)p);
    } else {
        names = malloc((size_t)(P ? P : 1) * sizeof *names);
        gen = malloc((size_t)(P ? P : 1) * sizeof *gen);
        SCORR_REQUIRE(names && gen, SCORR_ENOMEM, "out of memory");
        for (int64_t p = 0; p < P; p++) {
            snprintf(gen[p], sizeof gen[p], "%s_%06lld", sp, (long long)p);
            names[p] = gen[p];
        }
    }
    char sname[64];
    snprintf(sname, sizeof sname, "/%s/pair_names", sp);
    SCORR_TRY(scorr_h5_write_strings(&w->f, sname,
                                     (const char *const *)(s->pair_names ? s->pair_names : names),
                                     P));
    char group[32];
    snprintf(group, sizeof group, "/%s", sp);
    SCORR_TRY(scorr_h5_set_attr_i64(&w->f, group, "num_pairs", P));
    SCORR_TRY(scorr_h5_set_attr_i64(&w->f, group, "max_kps", M));

    struct split_rec *r = &w->splits[w->nsplits++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", sp);
    r->num_pairs = P;
    if (s->has_dense) {
        r->dense_done = calloc((size_t)(P ? P : 1), 1);
        SCORR_REQUIRE(r->dense_done, SCORR_ENOMEM, "out of memory");
        char dname[64];
        snprintf(dname, sizeof dname, "/%s/dense_flow", sp);
        SCORR_TRY(scorr_h5_create_dataset(&w->f, dname, SCORR_F32, 4,
                                          (int64_t[]){P, w->S, w->S, 2}, 1, 1));
        r->dense_created = 1;
    }
done:
    free(kbuf);
    free(ids);
    free(flip);
    free(diff);
    free(names);
    free(gen);
    return err;
}

int scorr_ds_writer_put_dense(struct scorr_ds_writer *w, const char *split, int64_t pair,
                              const float *flow)
{
    int err = 0;
    struct split_rec *r = NULL;
    char dname[64];
    for (int i = 0; i < w->nsplits; i++)
        if (!strcmp(w->splits[i].name, split)) r = &w->splits[i];
    SCORR_REQUIRE(r, SCORR_EINVAL, "'%s': dense flow for split '%s' before its pair table",
                  w->f.path, split);
    SCORR_REQUIRE(pair >= 0 && pair < r->num_pairs && flow, SCORR_EINVAL,
                  "'%s': dense flow for pair %lld of split '%s' (it has %lld pairs)", w->f.path,
                  (long long)pair, split, (long long)r->num_pairs);
    snprintf(dname, sizeof dname, "/%s/dense_flow", split);
    if (!r->dense_created) {
        r->dense_done = calloc((size_t)r->num_pairs, 1);
        SCORR_REQUIRE(r->dense_done, SCORR_ENOMEM, "out of memory");
        SCORR_TRY(scorr_h5_create_dataset(&w->f, dname, SCORR_F32, 4,
                                          (int64_t[]){r->num_pairs, w->S, w->S, 2}, 1, 1));
        r->dense_created = 1;
    }
    SCORR_TRY(scorr_h5_write_rows(&w->f, dname, SCORR_F32, pair, 1, flow));
    if (!r->dense_done[pair]) r->dense_count++;
    r->dense_done[pair] = 1;
done:
    return err;
}

int scorr_ds_writer_commit(struct scorr_ds_writer *w)
{
    int err = 0;
    for (int64_t i = 0; i < w->num_images; i++)
        SCORR_REQUIRE(w->put[i], SCORR_EINVAL,
                      "'%s': image %lld of %lld was never written (declared num_images too "
                      "large?)",
                      w->f.path, (long long)i, (long long)w->num_images);
    for (int i = 0; i < w->nsplits; i++) {
        const struct split_rec *r = &w->splits[i];
        SCORR_REQUIRE(!r->dense_created || r->dense_count == r->num_pairs, SCORR_EINVAL,
                      "'%s': split '%s': dense flow written for %lld of %lld pairs", w->f.path,
                      r->name, (long long)r->dense_count, (long long)r->num_pairs);
    }
    SCORR_TRY(scorr_h5_write_strings(&w->f, "/images/names", (const char *const *)w->names,
                                     w->num_images));
    SCORR_TRY(scorr_h5_write(&w->f, "/images/orig_size", SCORR_I32, 2,
                             (int64_t[]){w->num_images, 2}, w->orig, 0, 0));
    SCORR_TRY(scorr_h5_commit(&w->f));
    writer_free(w);
done:
    return err; /* on failure w stays valid for scorr_ds_writer_abort */
}

void scorr_ds_writer_abort(struct scorr_ds_writer *w)
{
    if (!w) return;
    scorr_h5_close(&w->f);
    writer_free(w);
}
