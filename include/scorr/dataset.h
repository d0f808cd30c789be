/* The scorr dataset file: one HDF5 file per benchmark (docs/dataset-format.md).
 *
 *   /                     attrs: format = "scorr-dataset", version = 1,
 *                                source = "spair" | "pfpascal" | "pfwillow" | "synth",
 *                                image_size = S, pck_threshold = "bbox" | "img" | "kpsbox"
 *   /categories/names     string [K]
 *   /images/pixels        uint8  [N, S, S, 3]  RGB, resized (antialiased) to S x S
 *   /images/names         string [N]           file name relative to the raw root
 *   /images/orig_size     int32  [N, 2]        (width, height) of the decoded original
 *   /images/fg_mask       uint8  [N, S, S]     synthetic only: visible object pixels
 *   /<split>/             split in {trn, val, test}; attrs num_pairs, max_kps
 *     src_image, trg_image  int32 [P]          rows of /images
 *     category              int32 [P]          index into /categories/names
 *     num_kps               int32 [P]
 *     src_kps, trg_kps      float32 [P, M, 2]  (x, y) at S x S; rows >= num_kps are NaN
 *     src_kps_orig, trg_kps_orig  float32 [P, M, 2]  original pixel coordinates
 *     kps_ids               int32 [P, M]       SPair kps_ids / .mat row / canonical id; -1 pad
 *     src_bbox, trg_bbox    float32 [P, 4]     (x1, y1, x2, y2) at S x S
 *     src_bbox_orig, trg_bbox_orig float32 [P, 4]
 *     flip                  uint8 [P]          PF-PASCAL training flip flag, else 0
 *     difficulty            int8  [P, 4]       SPair viewpoint, scale, truncation,
 *                                              occlusion; -1 where the source has none
 *     pair_names            string [P]
 *     dense_flow            float32 [P, S, S, 2]  synthetic only: target -> source flow
 *                                              in pixels at S x S; NaN where the target
 *                                              pixel has no visible source point
 *
 * Keypoints are stored as (x, y) pairs; the target image is the one the flow
 * is defined on (the network maps target to source, as in the paper). */
#ifndef SCORR_DATASET_H
#define SCORR_DATASET_H

#include <stdint.h>

#define SCORR_DATASET_FORMAT "scorr-dataset"
#define SCORR_DATASET_VERSION 1
#define SCORR_DIFFICULTY_FLAGS 4

/* One split's pair table, in memory (small: no pixels). Arrays are owned by
 * whoever filled the struct; scorr_split_free frees a struct read from file. */
struct scorr_split {
    char name[16];       /* "trn", "val", "test" */
    int64_t num_pairs;   /* P */
    int max_kps;         /* M */
    int32_t *src_image, *trg_image, *category, *num_kps;
    float *src_kps, *trg_kps;           /* [P, M, 2] */
    float *src_kps_orig, *trg_kps_orig; /* [P, M, 2] */
    int32_t *kps_ids;                   /* [P, M] */
    float *src_bbox, *trg_bbox;         /* [P, 4] */
    float *src_bbox_orig, *trg_bbox_orig;
    uint8_t *flip;                      /* [P] */
    int8_t *difficulty;                 /* [P, 4] */
    char **pair_names;                  /* [P] */
    int has_dense;                      /* dense_flow present (read lazily per pair) */
};

/* File-level metadata. */
struct scorr_dataset_meta {
    char source[16];          /* spair | pfpascal | pfwillow | synth */
    char pck_threshold[16];   /* bbox | img | kpsbox: the benchmark's own PCK threshold */
    int image_size;           /* S */
    int num_categories;
    char **category_names;
    int64_t num_images;
    int has_fg_mask;
};

struct scorr_ds_writer;

/* Writing (scorr_pack, scorr_synth). Local. The file is written at a
 * temporary name and renamed by scorr_ds_writer_commit, so an interrupted
 * pack never leaves a file that looks complete. Images are written row by row
 * (bounded memory): declare their count up front, then put each one. */
int scorr_ds_writer_open(const char *path, const struct scorr_dataset_meta *meta,
                         struct scorr_ds_writer **w);
/* pixels: [S, S, 3] uint8; orig_w/h: decoded size; name: relative file name;
 * fg_mask: [S, S] or NULL (required when meta->has_fg_mask). Thread-compatible:
 * call from one thread at a time. */
int scorr_ds_writer_put_image(struct scorr_ds_writer *w, int64_t index, const uint8_t *pixels,
                              int orig_w, int orig_h, const char *name, const uint8_t *fg_mask);
/* Write a split's pair table. Required: name, num_pairs, max_kps, src_image,
 * trg_image, category, num_kps, src_kps, trg_kps, src_bbox, trg_bbox (indices
 * are range-checked; keypoint rows < num_kps must be finite). Optional, NULL
 * gives the default: *_kps_orig / *_bbox_orig = the scaled values, kps_ids =
 * row index, flip = 0, difficulty = -1, pair_names = "<split>_<6-digit row>".
 * Keypoint rows >= num_kps are written as NaN (kps_ids -1) whatever the input
 * holds there. has_dense = 1 creates dense_flow now (else it is created by the
 * first scorr_ds_writer_put_dense); every pair's flow must then be put. */
int scorr_ds_writer_put_split(struct scorr_ds_writer *w, const struct scorr_split *split);
/* Dense ground truth of one pair of a split already put: flow [S, S, 2]. */
int scorr_ds_writer_put_dense(struct scorr_ds_writer *w, const char *split, int64_t pair,
                              const float *flow);
/* Shrink the image table to its first n rows (n <= the declared count) before
 * commit: scorr_pack --skip-bad drops images that fail to decode. */
int scorr_ds_writer_truncate_images(struct scorr_ds_writer *w, int64_t n);
/* Check completeness (every image put, every dense flow put), write the image
 * names and sizes, rename into place. Frees w on success; on failure w stays
 * valid and the caller must call scorr_ds_writer_abort(w) (the usual pattern:
 * SCORR_TRY(commit(w)); w = NULL; ... done: if (w) abort(w);). */
int scorr_ds_writer_commit(struct scorr_ds_writer *w);
void scorr_ds_writer_abort(struct scorr_ds_writer *w); /* deletes the temporary, frees w */

/* Reading. Local; each rank opens the file itself and reads only the rows it
 * needs. Errors name the file, the dataset and what was wrong (wrong format
 * attribute, version, missing split, bad shapes). Not thread-safe (the HDF5
 * library is not built thread-safe): one thread per process reads at a time. */
struct scorr_dataset;
int scorr_dataset_open(const char *path, struct scorr_dataset **ds);
void scorr_dataset_close(struct scorr_dataset *ds);
const struct scorr_dataset_meta *scorr_dataset_meta(const struct scorr_dataset *ds);
const char *scorr_dataset_path(const struct scorr_dataset *ds);
/* 1 if the split exists. */
int scorr_dataset_has_split(const struct scorr_dataset *ds, const char *split);
/* Load a split's pair table (no pixels). Caller frees with scorr_split_free. */
int scorr_dataset_read_split(const struct scorr_dataset *ds, const char *split,
                             struct scorr_split *out);
void scorr_split_free(struct scorr_split *s);
/* Pixels of image rows [first, first+count): [count, S, S, 3] uint8. */
int scorr_dataset_read_images(const struct scorr_dataset *ds, int64_t first, int64_t count,
                              uint8_t *out);
/* One image by row. */
int scorr_dataset_read_image(const struct scorr_dataset *ds, int64_t index, uint8_t *out);
/* Foreground mask of an image: [S, S] uint8 (synthetic only). */
int scorr_dataset_read_fg_mask(const struct scorr_dataset *ds, int64_t index, uint8_t *out);
/* Dense flow of one pair: [S, S, 2] float (synthetic only). */
int scorr_dataset_read_dense(const struct scorr_dataset *ds, const char *split, int64_t pair,
                             float *out);

/* Extensions (packer/eval): original (width, height) of every image,
 * out: [N, 2] int32; and the image file names (caller frees with
 * scorr_h5_free_strings from scorr/h5.h). */
int scorr_dataset_read_orig_sizes(const struct scorr_dataset *ds, int32_t *out);
int scorr_dataset_read_image_names(const struct scorr_dataset *ds, char ***names, int64_t *n);
/* Names of the splits present, in name order; *n receives the count (<= 16).
 * The strings belong to ds. */
const char *const *scorr_dataset_splits(const struct scorr_dataset *ds, int *n);

#endif
