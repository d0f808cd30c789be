/* Helpers of the evaluation tests: a tiny synthetic dataset file and flows
 * built from its dense ground truth, written here independently of src/eval. */
#ifndef SCORR_EVAL_TESTUTIL_H
#define SCORR_EVAL_TESTUTIL_H

#include <stdint.h>

#include "scorr/dataset.h"
#include "scorr/eval.h"

/* Generate a tiny synthetic file (S = 64, 6 categories, `pairs` test pairs,
 * 8 val pairs, no trn) at path. Returns 0 or an error status. */
int evt_make_synth(const char *path, int pairs, uint64_t seed);
/* The same at another image size. */
int evt_make_synth_size(const char *path, int size, int pairs, uint64_t seed);

/* Grid flow (G, G, 2), grid units, from a dense ground truth (S, S, 2) px:
 * each cell the mean of its stride x stride pixels that are valid (finite,
 * and fg != 0 when fg is given), when at least half of them are; cells
 * without a value take the nearest cell's (so keypoints at the object's edge
 * still read a sensible flow). At G = S this is the ground truth with its
 * holes filled. */
void evt_grid_from_dense(float *grid, const float *dense, const uint8_t *fg, int S, int G);

/* A flow source for scorr_eval_run: mode 0 = zero flow, 1 = the grid flow of
 * the pair's dense ground truth, 2 = that plus a pseudo-random offset keyed
 * by (seed, pair), so results do not depend on how pairs are batched;
 * 3 = fail with an error (error propagation tests). */
struct evt_source {
    struct scorr_dataset *ds;
    const char *split;
    int S, G, B, mode;
    uint32_t seed;
    float *flows;      /* (B, G, G, 2) */
    float *dense;      /* (S, S, 2) */
    uint8_t *fg;       /* (S, S) */
    struct scorr_split table;  /* the split's pair table (target image rows) */
};
int evt_source_init(struct evt_source *s, const char *path, const char *split, int G, int B,
                    int mode, uint32_t seed);
void evt_source_free(struct evt_source *s);
void evt_source_bind(struct evt_source *s, struct scorr_flow_source *out);

#endif
