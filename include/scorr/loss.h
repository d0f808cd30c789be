/* Flow losses of SCorrSAN on the G x G grid: sparse ground-truth end-point
 * error, label-mask dilation, the per-position pseudo-label EPE map, and a
 * single-process small-loss selection helper.
 *
 * Masks are explicit uint8 arrays (B, H, W), non-zero = set. The reference
 * code marks "no label" by a flow of exactly (0, 0), which silently drops
 * real zero-flow labels; here a label is whatever the mask says.
 *
 * Normalisers are passed in, not computed, so that a data-parallel trainer
 * can divide by the GLOBAL number of labelled (or selected) positions across
 * ranks. Flows are NHWC (B, H, W, 2) = (x, y). All functions are local and
 * single-threaded (the grids are small); sums are in double, in position
 * order, so results are deterministic. */
#ifndef SCORR_LOSS_H
#define SCORR_LOSS_H

#include <stddef.h>
#include <stdint.h>

struct scorr_flow_shape {
    int b, h, w;
};

/* Sum and count of ||flow - ref||_2 over the positions where mask != 0.
 * The loss is sum / normaliser, normaliser = count summed over ranks.
 *   sum, count: out. flow, ref (B,H,W,2); mask (B,H,W). */
void scorr_epe_forward(double *sum, int64_t *count, const float *flow, const float *ref,
                       const uint8_t *mask, const struct scorr_flow_shape *s);

/* ADDS d/dflow of  weight * sum_{mask} ||flow - ref||_2 / normaliser  into
 * dflow (B,H,W,2). At an exactly zero difference the gradient is 0 (as
 * torch.norm's backward). ref is treated as a constant (a ground truth or a
 * detached pseudo-label). normaliser <= 0 (an empty set) adds nothing.
 * The pseudo-label loss backward is this call with ref = the pseudo-label
 * flow and mask = the selected positions. */
void scorr_epe_backward(float *dflow, const float *flow, const float *ref, const uint8_t *mask,
                        double weight, double normaliser, const struct scorr_flow_shape *s);

/* Dilate a label mask by a K x K box of ones with zero padding (K odd):
 * out[p] = 1 if any in[q] != 0 with |q - p| <= K/2 in both axes, within the
 * same pair. K = SCORR_DILATE_NONE means "no dilation filter": every position
 * is allowed (out = all ones). K = 1 copies the mask (as 0/1).
 * out, in (B,H,W); must not alias. */
#define SCORR_DILATE_NONE 0
void scorr_mask_dilate(uint8_t *out, const uint8_t *in, int k, const struct scorr_flow_shape *s);

/* Per-position end-point error map: epe[p] = ||flow[p] - ref[p]||_2 where
 * mask[p] != 0, 0 elsewhere. epe (B,H,W) out. */
void scorr_epe_map(float *epe, const float *flow, const float *ref, const uint8_t *mask,
                   const struct scorr_flow_shape *s);

/* Single-process small-loss selection (for tests and one-rank runs; the
 * trainer's collective version lives in select.h): among the n positions with
 * mask != 0 keep the num_keep = max(1, floor(ratio * n)) smallest values
 * (ratio >= 1 keeps all), ties broken by position index (lower first); NaN
 * ranks after every number. keep (count entries, 0/1) out; values and mask
 * have `count` entries; order: `count` int32 of scratch. Returns num_keep
 * (0 when no position is a candidate). */
int64_t scorr_select_smallest(uint8_t *keep, const float *values, const uint8_t *mask,
                              int64_t count, double ratio, int32_t *order);

#endif
