/* PCK (percentage of correct keypoints), exactly as the paper's code computes
 * it (docs/evaluation.md, /work/shared/DATASETS.md "Evaluation protocol"):
 *
 *   1. the predicted flow (G, G, 2), in grid units, is upsampled bilinearly to
 *      (S, S) with align_corners = false and multiplied by S / G;
 *   2. each target keypoint is truncated to integers and clamped to [0, S-1];
 *      the predicted source point is that integer position plus the flow there;
 *   3. a point is correct when its distance to the true source keypoint is at
 *      most alpha * T, T given by the threshold mode below.
 *
 * Local; no allocation. */
#ifndef SCORR_PCK_H
#define SCORR_PCK_H

#include <stdint.h>

enum scorr_pck_threshold {
    SCORR_PCK_BBOX,     /* max(w, h) of the source object box (SPair-71k, synthetic) */
    SCORR_PCK_IMG,      /* max(S, S) of the packed image (PF-PASCAL) */
    SCORR_PCK_WILLOW_REF, /* PF-WILLOW as the reference code computes it:
                           * max(max_x, max_y) + 1 over the source keypoints
                           * (its -1 padding enters max - min) */
    SCORR_PCK_KPSBOX    /* corrected keypoint box: max(max_x - min_x, max_y - min_y) */
};

/* Parse "bbox" | "img" | "willow-ref" | "kpsbox"; returns 0 or -1. */
int scorr_pck_threshold_parse(const char *s, enum scorr_pck_threshold *out);
const char *scorr_pck_threshold_name(enum scorr_pck_threshold t);

/* Sample the flow (G, G, 2) at integer pixel (x, y) of an S x S image, as
 * F.interpolate(flow, (S, S), mode='bilinear', align_corners=False) * (S / G)
 * would give there. out: (dx, dy) in pixels. */
void scorr_flow_at_pixel(const float *flow, int G, int S, int x, int y, float out[2]);

/* Predicted source keypoints for n target keypoints (n, 2): pred (n, 2). */
void scorr_flow_to_kps(float *pred, const float *flow, int G, int S, const float *trg_kps, int n);

/* The threshold T of one pair. src_kps (n, 2), src_bbox (4) = x1 y1 x2 y2, at S. */
float scorr_pck_threshold_value(enum scorr_pck_threshold t, const float *src_kps, int n,
                                const float *src_bbox, int S);

/* Number of the n predictions within alpha * T of the true source keypoints. */
int scorr_pck_count(const float *pred, const float *src_kps, int n, float alpha, float T);

#endif
