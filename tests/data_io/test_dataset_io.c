/* Dataset file writer/reader: a full round trip of every field, the padding
 * rules (NaN keypoints, -1 ids), defaults for optional fields, atomic commit
 * and abort, truncating the image table, and the reader's errors: wrong
 * format attribute, newer version, missing split (listing the ones present),
 * missing dataset, bad index. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/dataset.h"
#include "scorr/h5.h"
#include "scorr/io.h"

#define S 8
#define NIMG 3
#define P 2
#define M 3

static int msg_has(const char *needle)
{
    int ok = strstr(scorr_error_message(), needle) != NULL;
    if (!ok) fprintf(stderr, "  message was: %s\n", scorr_error_message());
    return ok;
}

static void fill_image(uint8_t *px, int i)
{
    for (int k = 0; k < S * S * 3; k++) px[k] = (uint8_t)(k * 7 + i * 31);
}

/* A two-split file: "trn" with every field given, "test" with defaults. */
static int write_file(const char *path, int with_fg)
{
    int err = 0;
    const char *cats[2] = {"cat", "dog"};
    struct scorr_dataset_meta meta = {.image_size = S, .num_categories = 2,
                                      .category_names = (char **)cats, .num_images = NIMG,
                                      .has_fg_mask = with_fg};
    snprintf(meta.source, sizeof meta.source, "synth");
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "bbox");
    struct scorr_ds_writer *w = NULL;
    SCORR_TRY(scorr_ds_writer_open(path, &meta, &w));
    uint8_t px[S * S * 3], fg[S * S];
    for (int i = NIMG - 1; i >= 0; i--) { /* any order */
        fill_image(px, i);
        memset(fg, i, sizeof fg);
        char name[32];
        snprintf(name, sizeof name, "cls/img%d.jpg", i);
        SCORR_TRY(scorr_ds_writer_put_image(w, i, px, 100 + i, 50 + i, name, with_fg ? fg : NULL));
    }
    int32_t src[P] = {0, 2}, trg[P] = {1, 0}, cat[P] = {1, 0}, nk[P] = {3, 1};
    float sk[P * M * 2], tk[P * M * 2], sko[P * M * 2], tko[P * M * 2];
    for (int k = 0; k < P * M * 2; k++) {
        sk[k] = 0.5f * k;
        tk[k] = 1.0f + k;
        sko[k] = 10.0f * k;
        tko[k] = 20.0f * k;
    }
    sk[1 * M * 2 + 1 * 2] = 12345.0f; /* beyond num_kps: must become NaN */
    int32_t ids[P * M] = {4, 7, 9, 2, 99, 99};
    float sb[P * 4] = {1, 2, 3, 4, 5, 6, 7, 8}, tb[P * 4] = {0, 0, 1, 1, 2, 2, 3, 3};
    float sbo[P * 4] = {10, 20, 30, 40, 50, 60, 70, 80}, tbo[P * 4] = {1, 1, 2, 2, 3, 3, 4, 4};
    uint8_t flip[P] = {1, 0};
    int8_t diff[P * 4] = {0, 1, 2, 3, 2, 1, 0, -1};
    char *names[P] = {"pair-a", "pair-b"};
    struct scorr_split s = {.num_pairs = P, .max_kps = M, .src_image = src, .trg_image = trg,
                            .category = cat, .num_kps = nk, .src_kps = sk, .trg_kps = tk,
                            .src_kps_orig = sko, .trg_kps_orig = tko, .kps_ids = ids,
                            .src_bbox = sb, .trg_bbox = tb, .src_bbox_orig = sbo,
                            .trg_bbox_orig = tbo, .flip = flip, .difficulty = diff,
                            .pair_names = names};
    snprintf(s.name, sizeof s.name, "trn");
    SCORR_TRY(scorr_ds_writer_put_split(w, &s));
    struct scorr_split t = {.num_pairs = 1, .max_kps = 2, .src_image = src, .trg_image = trg,
                            .category = cat, .num_kps = (int32_t[]){2}, .src_kps = sk,
                            .trg_kps = tk, .src_bbox = sb, .trg_bbox = tb, .has_dense = 0};
    snprintf(t.name, sizeof t.name, "test");
    SCORR_TRY(scorr_ds_writer_put_split(w, &t));
    float flow[S * S * 2];
    for (int k = 0; k < S * S * 2; k++) flow[k] = k % 5 == 0 ? NAN : 0.25f * k;
    SCORR_TRY(scorr_ds_writer_put_dense(w, "test", 0, flow));
    SCORR_TRY(scorr_ds_writer_commit(w));
    w = NULL;
done:
    if (w) scorr_ds_writer_abort(w);
    return err;
}

static void check_round_trip(const char *path)
{
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (!ds) return;
    const struct scorr_dataset_meta *m = scorr_dataset_meta(ds);
    CHECK(m->image_size == S && m->num_images == NIMG && m->num_categories == 2 &&
              m->has_fg_mask == 1,
          "meta S %d N %lld K %d fg %d", m->image_size, (long long)m->num_images,
          m->num_categories, m->has_fg_mask);
    CHECK(!strcmp(m->source, "synth") && !strcmp(m->pck_threshold, "bbox"), "meta strings");
    CHECK(!strcmp(m->category_names[1], "dog"), "category names");
    int ns = 0;
    const char *const *sp = scorr_dataset_splits(ds, &ns);
    CHECK(ns == 2 && !strcmp(sp[0], "test") && !strcmp(sp[1], "trn"), "split list (%d)", ns);

    uint8_t px[2][S * S * 3], ref[S * S * 3], fg[S * S];
    CHECK_OK(scorr_dataset_read_images(ds, 1, 2, &px[0][0]));
    fill_image(ref, 1);
    CHECK(!memcmp(px[0], ref, sizeof ref), "image row 1 pixels");
    fill_image(ref, 2);
    CHECK(!memcmp(px[1], ref, sizeof ref), "image row 2 pixels");
    CHECK_OK(scorr_dataset_read_fg_mask(ds, 2, fg));
    CHECK(fg[0] == 2 && fg[S * S - 1] == 2, "fg mask row 2");
    int32_t orig[NIMG * 2];
    CHECK_OK(scorr_dataset_read_orig_sizes(ds, orig));
    CHECK(orig[0] == 100 && orig[1] == 50 && orig[4] == 102 && orig[5] == 52, "orig sizes");
    char **names = NULL;
    int64_t nn = 0;
    CHECK_OK(scorr_dataset_read_image_names(ds, &names, &nn));
    CHECK(nn == NIMG && names && !strcmp(names[2], "cls/img2.jpg"), "image names");
    scorr_h5_free_strings(names, nn);

    struct scorr_split s;
    CHECK_OK(scorr_dataset_read_split(ds, "trn", &s));
    CHECK(s.num_pairs == P && s.max_kps == M && !strcmp(s.name, "trn"), "split sizes");
    if (s.num_pairs == P) {
        CHECK(s.src_image[1] == 2 && s.trg_image[0] == 1 && s.category[0] == 1 &&
                  s.num_kps[1] == 1,
              "index tables");
        CHECK(s.src_kps[2 * 2 + 1] == 0.5f * 5 && s.trg_kps[1] == 2.0f, "kps values");
        CHECK(isnan(s.src_kps[(1 * M + 1) * 2]) && isnan(s.src_kps[(1 * M + 2) * 2 + 1]),
              "padding rows must be NaN");
        CHECK(s.src_kps_orig[3] == 30.0f && s.trg_kps_orig[4] == 80.0f, "orig kps");
        CHECK(s.kps_ids[0] == 4 && s.kps_ids[2] == 9 && s.kps_ids[3] == 2 && s.kps_ids[4] == -1 &&
                  s.kps_ids[5] == -1,
              "kps_ids with -1 padding: %d %d", s.kps_ids[4], s.kps_ids[5]);
        CHECK(s.src_bbox[4] == 5 && s.trg_bbox_orig[7] == 4 && s.src_bbox_orig[0] == 10,
              "boxes");
        CHECK(s.flip[0] == 1 && s.flip[1] == 0, "flip");
        CHECK(s.difficulty[3] == 3 && s.difficulty[7] == -1, "difficulty");
        CHECK(!strcmp(s.pair_names[1], "pair-b"), "pair names");
        CHECK(!s.has_dense, "trn has no dense flow");
    }
    scorr_split_free(&s);

    CHECK_OK(scorr_dataset_read_split(ds, "test", &s));
    CHECK(s.num_pairs == 1 && s.max_kps == 2 && s.has_dense, "test split");
    if (s.num_pairs == 1) {
        CHECK(s.flip[0] == 0 && s.difficulty[0] == -1 && s.difficulty[3] == -1, "defaults");
        CHECK(s.kps_ids[0] == 0 && s.kps_ids[1] == 1, "default kps_ids = row");
        CHECK(s.src_kps_orig[3] == s.src_kps[3] && s.trg_bbox_orig[2] == s.trg_bbox[2],
              "orig defaults to scaled");
        CHECK(!strcmp(s.pair_names[0], "test_000000"), "default pair name '%s'",
              s.pair_names[0]);
    }
    scorr_split_free(&s);
    float flow[S * S * 2];
    CHECK_OK(scorr_dataset_read_dense(ds, "test", 0, flow));
    CHECK(isnan(flow[0]) && flow[1] == 0.25f && flow[S * S * 2 - 1] == 0.25f * (S * S * 2 - 1),
          "dense flow");

    /* Errors of a good file used wrongly. */
    CHECK(scorr_dataset_read_split(ds, "val", &s) != 0, "missing split accepted");
    CHECK(msg_has("split 'val' not in file; it has: test, trn") && msg_has(path),
          "missing split message");
    CHECK(scorr_dataset_read_dense(ds, "trn", 0, flow) != 0, "dense of trn accepted");
    CHECK(msg_has("no dense flow"), "no dense message");
    CHECK(scorr_dataset_read_image(ds, NIMG, px[0]) != 0, "image row out of range accepted");
    CHECK(msg_has("the file has 3"), "image range message");
    scorr_dataset_close(ds);
}

/* Open path read-write and apply a change with raw HDF5 calls. */
static hid_t open_rw(const char *path) { return H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT); }

static void set_attr(hid_t fid, const char *key, const char *sval, long long ival)
{
    H5Adelete_by_name(fid, "/", key, H5P_DEFAULT);
    hid_t sp = H5Screate(H5S_SCALAR), t, a;
    if (sval) {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        a = H5Acreate2(fid, key, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, &sval);
        H5Tclose(t);
    } else {
        a = H5Acreate2(fid, key, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_LLONG, &ival);
    }
    H5Aclose(a);
    H5Sclose(sp);
}

int main(void)
{
    char dir[] = "/tmp/scorr_dsio_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[4096], bad[4096];
    snprintf(path, sizeof path, "%s/data.h5", dir);

    CHECK_OK(write_file(path, 1));
    check_round_trip(path);

    /* Abort leaves nothing; an unfinished writer leaves no final file. */
    char p2[4096];
    snprintf(p2, sizeof p2, "%s/aborted.h5", dir);
    const char *cats[1] = {"x"};
    struct scorr_dataset_meta meta = {.image_size = S, .num_categories = 1,
                                      .category_names = (char **)cats, .num_images = 2};
    snprintf(meta.source, sizeof meta.source, "spair");
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "img");
    struct scorr_ds_writer *w = NULL;
    CHECK_OK(scorr_ds_writer_open(p2, &meta, &w));
    CHECK(!scorr_exists(p2), "final name exists before commit");
    scorr_ds_writer_abort(w);
    CHECK(!scorr_exists(p2), "abort left a file");
    /* Commit with an image missing fails and leaves nothing. */
    CHECK_OK(scorr_ds_writer_open(p2, &meta, &w));
    uint8_t px[S * S * 3] = {0};
    CHECK_OK(scorr_ds_writer_put_image(w, 0, px, 5, 5, "a.jpg", NULL));
    CHECK(scorr_ds_writer_commit(w) != 0, "commit with a missing image accepted");
    CHECK(msg_has("image 1 of 2 was never written"), "missing image message");
    scorr_ds_writer_abort(w); /* a failed commit leaves w to the caller */
    CHECK(!scorr_exists(p2), "failed commit left a file");
    /* Truncating the image table before commit (scorr_pack --skip-bad). */
    CHECK_OK(scorr_ds_writer_open(p2, &meta, &w));
    px[0] = 77;
    CHECK_OK(scorr_ds_writer_put_image(w, 0, px, 5, 6, "kept.jpg", NULL));
    CHECK(scorr_ds_writer_truncate_images(w, 3) != 0, "truncate beyond the count accepted");
    CHECK_OK(scorr_ds_writer_truncate_images(w, 1));
    struct scorr_split empty = {.num_pairs = 0, .max_kps = 0};
    snprintf(empty.name, sizeof empty.name, "val");
    CHECK_OK(scorr_ds_writer_put_split(w, &empty)); /* a split with no pairs */
    CHECK_OK(scorr_ds_writer_commit(w));
    struct scorr_dataset *tr = NULL;
    CHECK_OK(scorr_dataset_open(p2, &tr));
    if (tr) {
        uint8_t back[S * S * 3];
        int32_t osz[2];
        CHECK(scorr_dataset_meta(tr)->num_images == 1, "truncated file has %lld images",
              (long long)scorr_dataset_meta(tr)->num_images);
        CHECK_OK(scorr_dataset_read_image(tr, 0, back));
        CHECK_OK(scorr_dataset_read_orig_sizes(tr, osz));
        CHECK(back[0] == 77 && osz[0] == 5 && osz[1] == 6, "truncated file content");
        struct scorr_split e2;
        CHECK_OK(scorr_dataset_read_split(tr, "val", &e2));
        CHECK(e2.num_pairs == 0 && e2.max_kps == 0, "empty split read back");
        scorr_split_free(&e2);
        scorr_dataset_close(tr);
    }
    unlink(p2);
    /* Writer input checks. */
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "median");
    CHECK(scorr_ds_writer_open(p2, &meta, &w) != 0, "bad pck_threshold accepted");
    CHECK(msg_has("pck_threshold"), "pck_threshold message");

    /* Reader errors on damaged files. Each starts from a fresh good copy. */
    struct scorr_dataset *ds = NULL;
    struct {
        const char *what, *attr, *sval;
        long long ival;
        const char *drop;
        const char *expect;
    } cases[] = {
        {"wrong format", "format", "scorr-checkpoint", 0, NULL,
         "is not a scorr dataset: attribute 'format' is 'scorr-checkpoint'"},
        {"no format", NULL, NULL, 0, NULL, "is not a scorr dataset: it has no 'format'"},
        {"newer version", "version", NULL, 2, NULL,
         "version 2 is newer than this scorr understands"},
        {"missing pixels", NULL, NULL, 0, "/images/pixels", "dataset '/images/pixels' is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(bad, sizeof bad, "%s/bad%zu.h5", dir, i);
        CHECK_OK(write_file(bad, 0));
        hid_t fid = open_rw(bad);
        if (cases[i].attr)
            set_attr(fid, cases[i].attr, cases[i].sval, cases[i].ival);
        else if (cases[i].drop)
            H5Ldelete(fid, cases[i].drop, H5P_DEFAULT);
        else
            H5Adelete_by_name(fid, "/", "format", H5P_DEFAULT);
        H5Fclose(fid);
        CHECK(scorr_dataset_open(bad, &ds) != 0, "%s: accepted", cases[i].what);
        CHECK(msg_has(cases[i].expect) && msg_has(bad), "%s: message", cases[i].what);
    }
    /* A split missing one dataset; a split with a bad image index. */
    snprintf(bad, sizeof bad, "%s/bad_split.h5", dir);
    CHECK_OK(write_file(bad, 0));
    hid_t fid = open_rw(bad);
    H5Ldelete(fid, "/trn/kps_ids", H5P_DEFAULT);
    H5Fclose(fid);
    CHECK_OK(scorr_dataset_open(bad, &ds));
    struct scorr_split s;
    CHECK(scorr_dataset_read_split(ds, "trn", &s) != 0, "split without kps_ids accepted");
    CHECK(msg_has("dataset '/trn/kps_ids' is missing") && msg_has(bad), "missing dataset message");
    CHECK_OK(scorr_dataset_read_split(ds, "test", &s));
    scorr_split_free(&s);
    scorr_dataset_close(ds);
    ds = NULL;

    snprintf(bad, sizeof bad, "%s/bad_index.h5", dir);
    CHECK_OK(write_file(bad, 0));
    fid = open_rw(bad);
    hid_t d = H5Dopen2(fid, "/trn/src_image", H5P_DEFAULT);
    int32_t rows[P] = {0, 7};
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
    H5Dclose(d);
    H5Fclose(fid);
    CHECK_OK(scorr_dataset_open(bad, &ds));
    CHECK(scorr_dataset_read_split(ds, "trn", &s) != 0, "bad image row accepted");
    CHECK(msg_has("pair 1 refers to image rows (7, 0)"), "bad index message");
    CHECK(scorr_dataset_read_fg_mask(ds, 0, px) != 0, "fg mask of a file without masks");
    scorr_dataset_close(ds);

    CHECK(scorr_dataset_open("/nonexistent/x.h5", &ds) != 0, "missing file accepted");
    CHECK(msg_has("/nonexistent/x.h5"), "missing file message");

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
    return scorr_test_finish("test_data_io_dataset");
}
