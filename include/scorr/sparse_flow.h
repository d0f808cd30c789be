/* Keypoints -> sparse flow label map at the loss grid (docs/data-path.md).
 *
 * The reference's KeypointToFlow (DHPF/SCorrSAN data/keypoint_to_flow.py) with
 * two deliberate differences:
 *   - an explicit label mask: a real zero flow is a label (the reference marks
 *     "no label" by a flow of exactly (0, 0));
 *   - when several keypoints fall in one cell's box, the cell's flow is the
 *     mean of their candidate flows (mean source point - mean target point)
 *     instead of the reference's "last write wins" on one source point.
 *
 * Grid G = S / stride. Cell (r, c) covers the inclusive pixel box
 *   x in [c*stride - box/2 + stride/2, c*stride + box/2 + stride/2]
 * (integer divisions; the same for y with r). Its flow, in grid units, is
 *   mean over covered keypoints k of (src_k - trg_k) / stride,
 * which equals the reference's (source keypoint - averaged target) / stride
 * when one keypoint is covered. Local, no allocation, thread-safe. */
#ifndef SCORR_SPARSE_FLOW_H
#define SCORR_SPARSE_FLOW_H

#include <stdint.h>

/* The reference's box for a stride: 2*stride + 3 (11 at stride 4, 35 at 16). */
int scorr_sparse_flow_default_box(int stride);

/* Check (S, stride, box) once at set-up: S divisible by stride, box >= 1.
 * Errors name the values. */
int scorr_sparse_flow_check(int image_size, int stride, int box);

/* flow: (G, G, 2) out, (dx, dy) in grid units (0 where unlabelled);
 * mask: (G, G) out, 1 where labelled, else 0;
 * src_kps, trg_kps: (n, 2) (x, y) in pixels of the S x S images; rows with a
 * NaN coordinate are ignored. n <= 255. Target keypoints choose the cells
 * (the flow lives on the target grid and points into the source). */
void scorr_sparse_flow(float *flow, uint8_t *mask, const float *src_kps, const float *trg_kps,
                       int n, int image_size, int stride, int box);

#endif
