/* The evaluator's state, shared by evaluator.c (per-pair metrics, reduce,
 * summaries), eval_run.c (the driver) and eval_report.c (JSON, CSV, table). */
#ifndef SCORR_EVAL_INTERNAL_H
#define SCORR_EVAL_INTERNAL_H

#include <stdint.h>

#include "scorr/eval.h"

/* Columns of the per-pair table (doubles; every value is an integer count or
 * a float widened exactly, except the EPE sums). */
struct eval_cols {
    int done, nkps;
    int thr[SCORR_EVAL_MAX_MODES];                          /* T of each mode */
    int correct[SCORR_EVAL_MAX_MODES][SCORR_EVAL_MAX_ALPHAS];
    int epe_sum, pixels, grid_sum, cells;                   /* dense */
    int ps_pos[SCORR_PSEUDO_GROUPS], ps_ok[SCORR_PSEUDO_GROUPS], ps_epe[SCORR_PSEUDO_GROUPS];
    int ps_cand;
    int count;                                              /* columns per row */
};

struct scorr_evaluator {
    struct scorr_eval_options opt;
    const struct scorr_split *split;
    int S, G, stride, K;       /* image size, grid, S / G, categories */
    int box;                   /* sparse-label box at this stride */
    struct eval_cols col;
    int64_t P;
    double *table;             /* (P, col.count) */
    /* scratch for one pair */
    float *pred;               /* (M, 2) */
    float *cell_gt;            /* (G, G, 2) ground truth averaged per cell, px */
    uint8_t *cell_has;         /* (G, G) */
    float *label_flow;         /* (G, G, 2) */
    uint8_t *label_mask, *cand, *keep; /* (G, G) */
    float *values;             /* (G, G) */
    int32_t *order;            /* (G, G) */
};

#endif
