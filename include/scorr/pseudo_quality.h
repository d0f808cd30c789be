/* Pseudo-label quality against a dense ground truth (docs/training.md,
 * "Pseudo-label precision"): how many pseudo-label targets lie within a
 * radius of the true flow, counted over three sets of loss-grid positions.
 *
 *   cand  the pseudo-label candidates (the label mask dilated by K x K; every
 *         position when dilation is off), before the small-loss selection
 *   sel   the candidates the selection kept (the ones that enter the loss)
 *   out   the positions outside the candidates (none when dilation is off):
 *         not trained on, measured for reference
 *
 * Only positions with a known true flow (finite) count. Local, no
 * allocation; the trainer sums the counts over its ranks. */
#ifndef SCORR_PSEUDO_QUALITY_H
#define SCORR_PSEUDO_QUALITY_H

#include <stdint.h>

#include "scorr/loss.h"

enum scorr_pq_set { SCORR_PQ_CAND = 0, SCORR_PQ_SEL, SCORR_PQ_OUT, SCORR_PQ_SETS };

/* counts[2*set] = positions of the set with a finite true flow;
 * counts[2*set + 1] = those of them with ||target - truth||_2 <= radius.
 * ADDS into counts (2 * SCORR_PQ_SETS).
 * target, truth: (B, H, W, 2) in the same units (truth NaN where unknown);
 * cand, keep: (B, H, W) 0/1; keep is a subset of cand. */
void scorr_pq_count(int64_t *counts, const float *target, const float *truth,
                    const uint8_t *cand, const uint8_t *keep, const struct scorr_flow_shape *s,
                    float radius);

#endif
