/* Reader of the scorr dataset file (schema in include/scorr/dataset.h). Opening
 * checks the format name, the version and the shapes of the image tables;
 * split tables are loaded whole (no pixels), pixels by row hyperslab. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/h5.h"

#define MAX_SPLITS 16

struct scorr_dataset {
    struct scorr_h5 f;
    struct scorr_dataset_meta meta;
    int nsplits;
    char split_names[MAX_SPLITS][16];
    const char *split_ptrs[MAX_SPLITS];
};

struct iter_ctx {
    struct scorr_dataset *ds;
};

static herr_t collect_split(hid_t root, const char *name, const H5L_info_t *info, void *data)
{
    struct iter_ctx *c = data;
    (void)info;
    if (!strcmp(name, "images") || !strcmp(name, "categories")) return 0;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(root, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return 0;
    if (oi.type != H5O_TYPE_GROUP || strlen(name) >= 16 || c->ds->nsplits >= MAX_SPLITS) return 0;
    snprintf(c->ds->split_names[c->ds->nsplits], 16, "%s", name);
    c->ds->split_ptrs[c->ds->nsplits] = c->ds->split_names[c->ds->nsplits];
    c->ds->nsplits++;
    return 0;
}

void scorr_dataset_close(struct scorr_dataset *ds)
{
    if (!ds) return;
    scorr_h5_close(&ds->f);
    scorr_h5_free_strings(ds->meta.category_names, ds->meta.num_categories);
    free(ds);
}

int scorr_dataset_open(const char *path, struct scorr_dataset **out)
{
    int err = 0;
    struct scorr_dataset *ds = NULL;
    char fmt[64];
    int64_t version = 0, S = 0, ncat = 0;
    char **cats = NULL;
    *out = NULL;
    ds = calloc(1, sizeof *ds);
    SCORR_REQUIRE(ds, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(scorr_h5_open(&ds->f, path));
    struct scorr_h5 *f = &ds->f;
    if (H5Aexists_by_name(f->id, "/", "format", H5P_DEFAULT) <= 0) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is not a scorr dataset: it has no 'format' attribute on '/'", path);
        scorr_error_hint("dataset files are made by scorr_pack or scorr_synth");
        err = SCORR_EFORMAT;
        goto done;
    }
    SCORR_TRY(scorr_h5_get_attr_str(f, "/", "format", fmt, sizeof fmt));
    if (strcmp(fmt, SCORR_DATASET_FORMAT)) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is not a scorr dataset: attribute 'format' is '%s', expected '%s'",
                        path, fmt, SCORR_DATASET_FORMAT);
        scorr_error_hint("dataset files are made by scorr_pack or scorr_synth");
        err = SCORR_EFORMAT;
        goto done;
    }
    SCORR_TRY(scorr_h5_get_attr_i64(f, "/", "version", &version));
    if (version > SCORR_DATASET_VERSION) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s': dataset format version %lld is newer than this scorr understands "
                        "(it reads version %d)",
                        path, (long long)version, SCORR_DATASET_VERSION);
        scorr_error_hint("update scorr, or re-pack the data with this scorr's scorr_pack");
        err = SCORR_EFORMAT;
        goto done;
    }
    SCORR_REQUIRE(version >= 1, SCORR_EFORMAT,
                  "'%s': attribute 'version' is %lld, expected 1..%d", path, (long long)version,
                  SCORR_DATASET_VERSION);
    struct scorr_dataset_meta *m = &ds->meta;
    SCORR_TRY(scorr_h5_get_attr_str(f, "/", "source", m->source, sizeof m->source));
    SCORR_TRY(scorr_h5_get_attr_str(f, "/", "pck_threshold", m->pck_threshold,
                                    sizeof m->pck_threshold));
    SCORR_TRY(scorr_h5_get_attr_i64(f, "/", "image_size", &S));
    SCORR_REQUIRE(S > 0 && S <= 8192, SCORR_EFORMAT,
                  "'%s': attribute 'image_size' is %lld, expected 1..8192", path, (long long)S);
    m->image_size = (int)S;
    SCORR_TRY(scorr_h5_read_strings(f, "/categories/names", &cats, &ncat));
    SCORR_REQUIRE(ncat >= 1, SCORR_EFORMAT, "'%s': '/categories/names' is empty", path);
    m->category_names = cats;
    m->num_categories = (int)ncat;
    cats = NULL;

    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    SCORR_TRY(scorr_h5_shape(f, "/images/pixels", &nd, dims));
    SCORR_REQUIRE(nd == 4 && dims[1] == S && dims[2] == S && dims[3] == 3, SCORR_EFORMAT,
                  "'%s': '/images/pixels' must have shape (N, %lld, %lld, 3) for image_size %lld",
                  path, (long long)S, (long long)S, (long long)S);
    m->num_images = dims[0];
    SCORR_TRY(scorr_h5_shape(f, "/images/orig_size", &nd, dims));
    SCORR_REQUIRE(nd == 2 && dims[0] == m->num_images && dims[1] == 2, SCORR_EFORMAT,
                  "'%s': '/images/orig_size' must have shape (%lld, 2)", path,
                  (long long)m->num_images);
    SCORR_TRY(scorr_h5_shape(f, "/images/names", &nd, dims));
    SCORR_REQUIRE(nd == 1 && dims[0] == m->num_images, SCORR_EFORMAT,
                  "'%s': '/images/names' has %lld entries, expected %lld", path,
                  (long long)dims[0], (long long)m->num_images);
    m->has_fg_mask = scorr_h5_has(f, "/images/fg_mask");
    if (m->has_fg_mask) {
        SCORR_TRY(scorr_h5_shape(f, "/images/fg_mask", &nd, dims));
        SCORR_REQUIRE(nd == 3 && dims[0] == m->num_images && dims[1] == S && dims[2] == S,
                      SCORR_EFORMAT, "'%s': '/images/fg_mask' must have shape (%lld, %lld, %lld)",
                      path, (long long)m->num_images, (long long)S, (long long)S);
    }
    struct iter_ctx ctx = {ds};
    hsize_t idx = 0;
    SCORR_REQUIRE(H5Literate(f->id, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_split, &ctx) >= 0,
                  SCORR_EIO, "'%s': cannot list the groups of '/'", path);
    *out = ds;
    ds = NULL;
done:
    scorr_h5_free_strings(cats, ncat);
    scorr_dataset_close(ds);
    return err;
}

const struct scorr_dataset_meta *scorr_dataset_meta(const struct scorr_dataset *ds)
{
    return &ds->meta;
}

const char *scorr_dataset_path(const struct scorr_dataset *ds) { return ds->f.path; }

const char *const *scorr_dataset_splits(const struct scorr_dataset *ds, int *n)
{
    *n = ds->nsplits;
    return ds->split_ptrs;
}

int scorr_dataset_has_split(const struct scorr_dataset *ds, const char *split)
{
    for (int i = 0; i < ds->nsplits; i++)
        if (!strcmp(ds->split_names[i], split)) return 1;
    return 0;
}

static int require_split(const struct scorr_dataset *ds, const char *split)
{
    int err = 0;
    if (!scorr_dataset_has_split(ds, split)) {
        char have[256] = "";
        size_t k = 0;
        for (int i = 0; i < ds->nsplits && k < sizeof have; i++)
            k += (size_t)snprintf(have + k, sizeof have - k, "%s%s", i ? ", " : "",
                                  ds->split_names[i]);
        SCORR_FAIL(SCORR_EINVAL, "'%s': split '%s' not in file; it has: %s", ds->f.path, split,
                   ds->nsplits ? have : "(no splits)");
    }
done:
    return err;
}

void scorr_split_free(struct scorr_split *s)
{
    if (!s) return;
    free(s->src_image);
    free(s->trg_image);
    free(s->category);
    free(s->num_kps);
    free(s->src_kps);
    free(s->trg_kps);
    free(s->src_kps_orig);
    free(s->trg_kps_orig);
    free(s->kps_ids);
    free(s->src_bbox);
    free(s->trg_bbox);
    free(s->src_bbox_orig);
    free(s->trg_bbox_orig);
    free(s->flip);
    free(s->difficulty);
    scorr_h5_free_strings(s->pair_names, s->num_pairs);
    memset(s, 0, sizeof *s);
}

/* Allocate and read /<split>/<name> of the given shape. */
static int read_table(const struct scorr_dataset *ds, const char *split, const char *name,
                      enum scorr_dtype t, int ndim, const int64_t *shape, void **out)
{
    int err = 0;
    char path[64];
    size_t n = 1;
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    snprintf(path, sizeof path, "/%s/%s", split, name);
    /* The stored shape must be the one the split's attributes give before
     * anything is allocated for it (a broken num_pairs could ask for
     * terabytes); scorr_h5_read checks it again with the message. */
    SCORR_TRY(scorr_h5_shape(&ds->f, path, &nd, dims));
    int same = nd == ndim;
    for (int i = 0; same && i < ndim; i++) same = dims[i] == shape[i];
    for (int i = 0; same && i < ndim; i++) n *= (size_t)shape[i];
    *out = malloc((same && n ? n : 1) * scorr_dtype_size(t));
    SCORR_REQUIRE(*out, SCORR_ENOMEM, "'%s': out of memory reading '%s'", ds->f.path, path);
    SCORR_TRY(scorr_h5_read(&ds->f, path, t, ndim, shape, *out));
done:
    return err;
}

int scorr_dataset_read_split(const struct scorr_dataset *ds, const char *split,
                             struct scorr_split *s)
{
    int err = 0;
    const char *path = ds->f.path;
    char group[32], pn[64];
    int64_t P = 0, M = 0, nnames = 0;
    memset(s, 0, sizeof *s);
    SCORR_TRY(require_split(ds, split));
    snprintf(s->name, sizeof s->name, "%s", split);
    snprintf(group, sizeof group, "/%s", split);
    SCORR_TRY(scorr_h5_get_attr_i64(&ds->f, group, "num_pairs", &P));
    SCORR_TRY(scorr_h5_get_attr_i64(&ds->f, group, "max_kps", &M));
    SCORR_REQUIRE(P >= 0 && M >= 0 && M < (1 << 20), SCORR_EFORMAT,
                  "'%s': split '%s' has num_pairs %lld, max_kps %lld", path, split, (long long)P,
                  (long long)M);
    s->max_kps = (int)M;
    int64_t d1[1] = {P}, dk[3] = {P, M, 2}, db[2] = {P, 4}, di[2] = {P, M},
            dd[2] = {P, SCORR_DIFFICULTY_FLAGS};
    SCORR_TRY(read_table(ds, split, "src_image", SCORR_I32, 1, d1, (void **)&s->src_image));
    SCORR_TRY(read_table(ds, split, "trg_image", SCORR_I32, 1, d1, (void **)&s->trg_image));
    SCORR_TRY(read_table(ds, split, "category", SCORR_I32, 1, d1, (void **)&s->category));
    SCORR_TRY(read_table(ds, split, "num_kps", SCORR_I32, 1, d1, (void **)&s->num_kps));
    SCORR_TRY(read_table(ds, split, "src_kps", SCORR_F32, 3, dk, (void **)&s->src_kps));
    SCORR_TRY(read_table(ds, split, "trg_kps", SCORR_F32, 3, dk, (void **)&s->trg_kps));
    SCORR_TRY(read_table(ds, split, "src_kps_orig", SCORR_F32, 3, dk, (void **)&s->src_kps_orig));
    SCORR_TRY(read_table(ds, split, "trg_kps_orig", SCORR_F32, 3, dk, (void **)&s->trg_kps_orig));
    SCORR_TRY(read_table(ds, split, "kps_ids", SCORR_I32, 2, di, (void **)&s->kps_ids));
    SCORR_TRY(read_table(ds, split, "src_bbox", SCORR_F32, 2, db, (void **)&s->src_bbox));
    SCORR_TRY(read_table(ds, split, "trg_bbox", SCORR_F32, 2, db, (void **)&s->trg_bbox));
    SCORR_TRY(read_table(ds, split, "src_bbox_orig", SCORR_F32, 2, db,
                         (void **)&s->src_bbox_orig));
    SCORR_TRY(read_table(ds, split, "trg_bbox_orig", SCORR_F32, 2, db,
                         (void **)&s->trg_bbox_orig));
    SCORR_TRY(read_table(ds, split, "flip", SCORR_U8, 1, d1, (void **)&s->flip));
    SCORR_TRY(read_table(ds, split, "difficulty", SCORR_I8, 2, dd, (void **)&s->difficulty));
    snprintf(pn, sizeof pn, "/%s/pair_names", split);
    SCORR_TRY(scorr_h5_read_strings(&ds->f, pn, &s->pair_names, &nnames));
    s->num_pairs = P;
    SCORR_REQUIRE(nnames == P, SCORR_EFORMAT, "'%s': '%s' has %lld entries, expected %lld", path,
                  pn, (long long)nnames, (long long)P);
    for (int64_t p = 0; p < P; p++) {
        SCORR_REQUIRE(s->src_image[p] >= 0 && s->src_image[p] < ds->meta.num_images &&
                          s->trg_image[p] >= 0 && s->trg_image[p] < ds->meta.num_images,
                      SCORR_EFORMAT,
                      "'%s': split '%s' pair %lld refers to image rows (%d, %d); the file has "
                      "%lld images",
                      path, split, (long long)p, s->src_image[p], s->trg_image[p],
                      (long long)ds->meta.num_images);
        SCORR_REQUIRE(s->category[p] >= 0 && s->category[p] < ds->meta.num_categories,
                      SCORR_EFORMAT,
                      "'%s': split '%s' pair %lld has category %d; the file has %d categories",
                      path, split, (long long)p, s->category[p], ds->meta.num_categories);
        SCORR_REQUIRE(s->num_kps[p] >= 0 && s->num_kps[p] <= M, SCORR_EFORMAT,
                      "'%s': split '%s' pair %lld has num_kps %d outside [0, max_kps = %lld]",
                      path, split, (long long)p, s->num_kps[p], (long long)M);
        /* Valid keypoints must be finite (only the padding rows are NaN): a
         * NaN would make the pair's loss and PCK silently 0. */
        const float *const tabs[4] = {s->src_kps, s->trg_kps, s->src_kps_orig, s->trg_kps_orig};
        static const char *const names[4] = {"src_kps", "trg_kps", "src_kps_orig", "trg_kps_orig"};
        for (int t = 0; t < 4; t++)
            for (int k = 0; k < 2 * s->num_kps[p]; k++) {
                const float v = tabs[t][(size_t)p * (size_t)M * 2 + (size_t)k];
                SCORR_REQUIRE(isfinite(v), SCORR_EFORMAT,
                              "'%s': split '%s' pair %lld ('%s'): %s keypoint %d of its %d valid "
                              "ones has %s = %g; valid keypoints must be finite (NaN only pads "
                              "rows >= num_kps)",
                              path, split, (long long)p, s->pair_names[p], names[t], k / 2,
                              s->num_kps[p], k % 2 ? "y" : "x", (double)v);
            }
    }
    snprintf(pn, sizeof pn, "/%s/dense_flow", split);
    s->has_dense = scorr_h5_has(&ds->f, pn);
    if (s->has_dense) {
        int nd = 0;
        int64_t dims[SCORR_H5_MAXDIM];
        int64_t S = ds->meta.image_size;
        SCORR_TRY(scorr_h5_shape(&ds->f, pn, &nd, dims));
        SCORR_REQUIRE(nd == 4 && dims[0] == P && dims[1] == S && dims[2] == S && dims[3] == 2,
                      SCORR_EFORMAT, "'%s': '%s' must have shape (%lld, %lld, %lld, 2)", path, pn,
                      (long long)P, (long long)S, (long long)S);
    }
done:
    if (err) {
        s->num_pairs = nnames; /* what pair_names holds, for the free */
        scorr_split_free(s);
    }
    return err;
}

int scorr_dataset_read_images(const struct scorr_dataset *ds, int64_t first, int64_t count,
                              uint8_t *out)
{
    int err = 0;
    SCORR_REQUIRE(first >= 0 && count >= 0 && first + count <= ds->meta.num_images,
                  SCORR_EINVAL, "'%s': image rows [%lld, %lld) requested; the file has %lld",
                  ds->f.path, (long long)first, (long long)(first + count),
                  (long long)ds->meta.num_images);
    SCORR_TRY(scorr_h5_read_rows(&ds->f, "/images/pixels", SCORR_U8, first, count, out));
done:
    return err;
}

int scorr_dataset_read_image(const struct scorr_dataset *ds, int64_t index, uint8_t *out)
{
    return scorr_dataset_read_images(ds, index, 1, out);
}

int scorr_dataset_read_fg_mask(const struct scorr_dataset *ds, int64_t index, uint8_t *out)
{
    int err = 0;
    SCORR_REQUIRE(ds->meta.has_fg_mask, SCORR_EINVAL,
                  "'%s': no foreground masks in this file (source '%s'; only synthetic data "
                  "has them)",
                  ds->f.path, ds->meta.source);
    SCORR_REQUIRE(index >= 0 && index < ds->meta.num_images, SCORR_EINVAL,
                  "'%s': image row %lld requested; the file has %lld", ds->f.path,
                  (long long)index, (long long)ds->meta.num_images);
    SCORR_TRY(scorr_h5_read_rows(&ds->f, "/images/fg_mask", SCORR_U8, index, 1, out));
done:
    return err;
}

int scorr_dataset_read_dense(const struct scorr_dataset *ds, const char *split, int64_t pair,
                             float *out)
{
    int err = 0;
    char name[64];
    SCORR_TRY(require_split(ds, split));
    snprintf(name, sizeof name, "/%s/dense_flow", split);
    SCORR_REQUIRE(scorr_h5_has(&ds->f, name), SCORR_EINVAL,
                  "'%s': split '%s' has no dense flow (dataset '%s' missing; only synthetic "
                  "data has it)",
                  ds->f.path, split, name);
    SCORR_TRY(scorr_h5_read_rows(&ds->f, name, SCORR_F32, pair, 1, out));
done:
    return err;
}

int scorr_dataset_read_orig_sizes(const struct scorr_dataset *ds, int32_t *out)
{
    return scorr_h5_read(&ds->f, "/images/orig_size", SCORR_I32, 2,
                         (int64_t[]){ds->meta.num_images, 2}, out);
}

int scorr_dataset_read_image_names(const struct scorr_dataset *ds, char ***names, int64_t *n)
{
    return scorr_h5_read_strings(&ds->f, "/images/names", names, n);
}
