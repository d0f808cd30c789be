/* Pictures of a network's correspondences on a dataset split (scorr_eval
 * --pictures, docs/report.md):
 *
 *   pairs  source | target side by side; each ground-truth target keypoint,
 *          its predicted source point and its true source point, the line from
 *          the target keypoint to the prediction green where the transfer is
 *          within alpha * T and red where not (the paper's Fig. 4);
 *   warps  source | target | the source warped into the target's frame by
 *          the predicted flow | (with dense ground truth) warped by the true
 *          flow | the foreground end-point error as a heat map.
 *
 * Pairs are chosen deterministically from the evaluated pairs, spread over
 * categories, difficulty flags and how well the pair went. Local: one
 * process draws (rank 0 after the evaluation). */
#ifndef SCORR_PICTURES_H
#define SCORR_PICTURES_H

#include <stdint.h>

#include "scorr/dataset.h"
#include "scorr/eval.h"

/* What one pair picture shows: the keypoints drawn and how many are correct. */
struct scorr_pair_picture {
    int width, height;    /* of the PNG */
    int drawn;            /* keypoint transfers drawn (lines) */
    int correct;          /* of which within alpha * T (green) */
};

/* Draw the keypoint picture of one pair into png. Images (S, S, 3) uint8;
 * trg_kps, src_kps, pred (n, 2) at S (pred: the predicted source points);
 * T the pair's PCK threshold in pixels. Display size: max(S, 256) per image,
 * 8 px apart. Errors: writing the file. Local. */
int scorr_picture_pair(const char *png, const uint8_t *src, const uint8_t *trg, int S,
                       const float *trg_kps, const float *src_kps, const float *pred, int n,
                       float alpha, float T, struct scorr_pair_picture *out);

/* What a warp picture shows. */
struct scorr_warp_picture {
    int width, height;
    int panels;           /* 3, or 5 with the dense ground truth */
    double epe_fg;        /* mean end-point error on the foreground, px (NaN without GT) */
    int64_t pixels;       /* foreground pixels it is averaged over */
};

/* Draw the warp picture of one pair. flow (G, G, 2) grid units; dense
 * (S, S, 2) px with NaN holes, or NULL; fg (S, S) target foreground or
 * NULL (then every pixel with a finite ground truth counts); err_scale: the
 * error (px) drawn red, e.g. alpha * T. Local. */
int scorr_picture_warp(const char *png, const uint8_t *src, const uint8_t *trg, int S,
                       const float *flow, int G, const float *dense, const uint8_t *fg,
                       float err_scale, struct scorr_warp_picture *out);

/* Choose up to n pairs of the evaluator's split for pictures: pairs with
 * keypoints, taken round-robin over categories; within a category ordered
 * by their difficulty flags, then by their PCK at (mode, alpha index a),
 * and read at evenly spread positions (1/2, 1/4, 3/4, 1/8, ...) so that
 * easy and hard, good and bad pairs all appear. pairs (n) out; *chosen:
 * the number chosen. Errors: out of memory. Local. */
int scorr_pictures_choose(const struct scorr_evaluator *ev, int mode, int a, int n,
                          int64_t *pairs, int *chosen);

/* The whole step of scorr_eval --pictures: choose `count` pairs, run the
 * network on them (net: B pairs per forward), draw both pictures of each
 * into dir (created): <k>_<pair name>_<category>_pck<P>.png and
 * <k>_..._warp.png, and dir/index.tsv (one row per picture: file, kind,
 * pair, pair_name, category, keypoints, correct, pck, alpha, epe_fg).
 * Returns the number of pairs drawn in *drawn. Local. */
struct scorr_flow_source;
struct scorr_pictures_run {
    const char *data;                       /* the dataset file */
    const char *split;
    struct scorr_dataset *ds;               /* open on data */
    const struct scorr_evaluator *ev;       /* after the evaluation (reduced) */
    const struct scorr_flow_source *net;    /* forward of batches of B pairs */
    int batch;                              /* B */
    int count;                              /* pairs to draw */
    const char *dir;
};
int scorr_pictures_write(const struct scorr_pictures_run *r, int *drawn);

#endif
