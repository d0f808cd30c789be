/* Evaluation of predicted flows on a split (docs/evaluation.md).
 *
 * The metric code takes flows, not a model: an evaluator is fed pair by pair
 * with (pair index, predicted flow (G, G, 2)) and, when requested, the dense
 * ground truth of the pair and a peer's (or teacher's) flow. Everything it
 * computes for a pair goes into one row of a per-pair table (P rows); the
 * split's numbers (PCK per image and per point, per category, per difficulty
 * flag, dense end-point error, pseudo-label precision) are computed from that
 * table in pair order. Under MPI each rank fills the rows of its own pairs
 * and scorr_evaluator_reduce sums the tables (every row is non-zero on one
 * rank only, so the sum is exact): results are bit-identical for any number
 * of ranks.
 *
 * The driver scorr_eval_run reads a split through the data loader (no
 * augmentation, no flip), asks a flow source (the model, or a test's
 * callback) for each batch's flows, and feeds the evaluator. The model
 * wiring (checkpoint -> model -> flow source) is in include/scorr/eval_model.h,
 * the reports (JSON, CSV, console table) at the end of this header. */
#ifndef SCORR_EVAL_H
#define SCORR_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "scorr/dataset.h"
#include "scorr/pck.h"

struct scorr_comm;
struct scorr_batch;

#define SCORR_EVAL_MAX_ALPHAS 8
#define SCORR_EVAL_MAX_MODES 2

/* What to compute. modes[0] is the primary threshold (the "pck" of the
 * report); a second mode is reported beside it (PF-WILLOW: willow-ref and
 * kpsbox). */
struct scorr_eval_options {
    int num_alphas;
    float alphas[SCORR_EVAL_MAX_ALPHAS];  /* ascending, in (0, 1] */
    int num_modes;
    enum scorr_pck_threshold modes[SCORR_EVAL_MAX_MODES];
    int grid;            /* G: flows fed are (G, G, 2), grid units; G divides S */
    int dense;           /* 1: dense end-point error (add() needs the dense ground truth) */
    int pseudo;          /* 1: pseudo-label quality (add() needs the peer flow and dense GT) */
    int dilation;        /* K (odd) of the label-mask dilation, or SCORR_DILATE_NONE (0) */
    double ratio;        /* small-loss selection ratio r in (0, 1] */
    float pseudo_alpha;  /* a pseudo-label is correct when its EPE <= pseudo_alpha * T (px) */
};

/* Defaults: alphas 0.05, 0.1, 0.15; threshold bbox; grid 0 (must be set);
 * no dense, no pseudo; dilation 7; ratio 0.9; pseudo_alpha 0.1. Local. */
void scorr_eval_options_default(struct scorr_eval_options *o);

/* "0.05,0.1,0.15" -> o->alphas (sorted ascending, duplicates rejected).
 * Errors name the option and the text. Local. */
int scorr_eval_parse_alphas(struct scorr_eval_options *o, const char *text);

/* Threshold modes from a --threshold value: "auto" takes the dataset's own
 * (meta->pck_threshold: bbox -> bbox, img -> img, kpsbox (PF-WILLOW) ->
 * willow-ref, the paper-compatible one, plus kpsbox beside it); any other
 * value is one mode (bbox | img | willow-ref | kpsbox). Local. */
int scorr_eval_set_threshold(struct scorr_eval_options *o, const char *value,
                             const struct scorr_dataset_meta *meta);

/* ---- the evaluator --------------------------------------------------- */

struct scorr_evaluator;

/* split: the pair table (keypoints at S, boxes, categories, difficulty flags,
 * pair names may be NULL); borrowed, must outlive the evaluator.
 * image_size: S. num_categories: K (category indices must be < K).
 * Allocates the per-pair table and all scratch; add() does not allocate.
 * Errors: bad options (G not dividing S, alphas, ratio, dilation). Local. */
int scorr_evaluator_create(const struct scorr_eval_options *o, const struct scorr_split *split,
                           int image_size, int num_categories, struct scorr_evaluator **out);
void scorr_evaluator_free(struct scorr_evaluator *ev);
const struct scorr_eval_options *scorr_evaluator_options(const struct scorr_evaluator *ev);
const struct scorr_split *scorr_evaluator_split(const struct scorr_evaluator *ev);

/* Evaluate pair `pair` of the split.
 *   flow  (G, G, 2)  the predicted target -> source flow, grid units
 *   dense (S, S, 2)  the dense ground truth in pixels, NaN where undefined;
 *                    required when options.dense or options.pseudo, else ignored
 *   fg    (S, S)     the target's foreground mask, or NULL (then every pixel
 *                    with a finite ground truth counts)
 *   peer  (G, G, 2)  the pseudo-labels (peer or teacher flow); required when
 *                    options.pseudo, else ignored
 * Errors: pair out of range, pair already added, a required input missing.
 * Local; no allocation. */
int scorr_evaluator_add(struct scorr_evaluator *ev, int64_t pair, const float *flow,
                        const float *dense, const uint8_t *fg, const float *peer);

/* Combine the ranks' tables: sum over c (collective over c; NULL = this
 * process alone, no communication). Afterwards every rank holds the whole
 * table. Error if a pair was evaluated on two ranks. */
int scorr_evaluator_reduce(struct scorr_evaluator *ev, const struct scorr_comm *c);

/* Pairs evaluated so far (after reduce: over all ranks). Local. */
int64_t scorr_evaluator_pairs_done(const struct scorr_evaluator *ev);

/* ---- results (local; computed from the table in pair order) ---------- */

/* Which pairs a PCK summary covers. */
struct scorr_eval_filter {
    int category;    /* -1: any category */
    int flag;        /* -1: no flag condition; 0..3: viewpoint, scale, truncation, occlusion */
    int flag_value;  /* the value that flag must have */
};
#define SCORR_EVAL_ALL ((struct scorr_eval_filter){-1, -1, 0})

struct scorr_pck_stats {
    int64_t pairs;   /* evaluated pairs in the group with at least one keypoint */
    int64_t points;  /* their keypoints */
    double pck[SCORR_EVAL_MAX_ALPHAS];        /* per-image mean of 100 * correct / n (the paper's) */
    double pck_point[SCORR_EVAL_MAX_ALPHAS];  /* 100 * sum correct / sum n (micro average) */
};

/* PCK with threshold mode options.modes[mode] over the pairs matching f.
 * Empty group: pairs = 0 and the pck values NaN. */
void scorr_evaluator_pck(const struct scorr_evaluator *ev, int mode,
                         const struct scorr_eval_filter *f, struct scorr_pck_stats *out);

/* Values (sorted) that difficulty flag `flag` takes among the evaluated
 * pairs, -1 (none) excluded; returns their count (0: the file has no flag). */
int scorr_evaluator_flag_values(const struct scorr_evaluator *ev, int flag, int *values, int max);

const char *scorr_eval_flag_name(int flag); /* "viewpoint", "scale", "truncation", "occlusion" */

struct scorr_dense_stats {
    double epe_fg;       /* mean over foreground pixels with a finite ground truth, px */
    int64_t pixels;
    double epe_fg_grid;  /* mean over grid cells with a ground truth, px (see docs) */
    int64_t cells;
};
void scorr_evaluator_dense(const struct scorr_evaluator *ev, struct scorr_dense_stats *out);

/* Pseudo-label groups of grid positions with a ground truth. */
enum scorr_pseudo_group {
    SCORR_PSEUDO_INSIDE = 0,   /* inside the dilated label mask (the candidates) */
    SCORR_PSEUDO_OUTSIDE = 1,  /* outside it */
    SCORR_PSEUDO_KEPT = 2,     /* candidates the small-loss selection keeps */
    SCORR_PSEUDO_REJECTED = 3, /* candidates it drops */
    SCORR_PSEUDO_GROUPS = 4
};
const char *scorr_pseudo_group_name(int g); /* inside, outside, kept, rejected */

struct scorr_pseudo_stats {
    int64_t positions[SCORR_PSEUDO_GROUPS];
    int64_t correct[SCORR_PSEUDO_GROUPS];
    double precision[SCORR_PSEUDO_GROUPS]; /* 100 * correct / positions, NaN if empty */
    double epe[SCORR_PSEUDO_GROUPS];       /* mean pseudo-label EPE, px, NaN if empty */
    int64_t candidates;                    /* candidate positions, with or without ground truth */
};
void scorr_evaluator_pseudo(const struct scorr_evaluator *ev, struct scorr_pseudo_stats *out);

/* One pair's values for the per-pair CSV: returns 0 if the pair was not
 * evaluated. T (num_modes), correct (num_modes x num_alphas, mode-major) and
 * the dense / pseudo sums (may be NULL). */
struct scorr_eval_pair_row {
    int num_kps;
    double T[SCORR_EVAL_MAX_MODES];
    int correct[SCORR_EVAL_MAX_MODES][SCORR_EVAL_MAX_ALPHAS];
    double epe_sum, grid_epe_sum;
    int64_t pixels, cells;
    int64_t pseudo_positions[SCORR_PSEUDO_GROUPS], pseudo_correct[SCORR_PSEUDO_GROUPS];
};
int scorr_evaluator_pair(const struct scorr_evaluator *ev, int64_t pair,
                         struct scorr_eval_pair_row *row);

/* ---- the driver ------------------------------------------------------ */

/* A source of flows for batches: the model (eval_model.h) or a test's
 * callback. forward fills *flow with (B, G, G, 2) of which the first b->n
 * pairs are used (B = the batch size of the run; the loader's buffers hold B
 * image pairs, the rest stale). The returned buffer belongs to the source
 * and must stay valid until the next call. */
struct scorr_flow_source {
    int (*forward)(void *ctx, const struct scorr_batch *b, const float **flow);
    void *ctx;
};

struct scorr_eval_run {
    const char *data;     /* dataset file */
    const char *split;    /* split name */
    int batch;            /* B pairs per forward */
    const struct scorr_flow_source *net;   /* the evaluated network */
    const struct scorr_flow_source *peer;  /* pseudo-labels, or NULL */
    int progress;         /* 1: progress line on rank 0 */
};

/* Evaluate the whole split: ranks take contiguous shares of the pairs
 * (rank r of R: [r P / R, (r+1) P / R)), read them through the loader
 * (eval config, stride S / G), call the sources, feed ev (created on the
 * same split by the caller), then reduce. A failure on one rank fails on all
 * (agreed before the reduce). Collective over c (NULL = alone). */
int scorr_eval_run(const struct scorr_comm *c, const struct scorr_eval_run *r,
                   struct scorr_evaluator *ev);

/* ---- reports (docs/evaluation.md; the JSON format is a contract: scorr_table reads it) */

/* Provenance written into the report. */
struct scorr_eval_info {
    const char *checkpoint;   /* path as given */
    int network;              /* 0 = network A, 1 = the peer (mt) */
    const char *data;
    const char *split;
    const char *source;       /* dataset source attribute */
    const char *peer;         /* pseudo-label source description, or NULL */
    const char *const *category_names; /* K names */
    int ranks;
    double seconds;
};

/* Write <dir>/eval_<split>.json, eval_<split>_pairs.csv and
 * eval_<split>_categories.csv atomically (dir created). Local: call on one
 * rank after the reduce. */
int scorr_eval_write_report(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                            const char *dir);

/* The JSON text alone (caller frees). Local. */
int scorr_eval_json(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                    char **out);

/* The readable console table (overall per threshold mode, per category, per
 * difficulty flag, dense EPE, pseudo-label precision). Local. */
void scorr_eval_print_table(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                            FILE *f);

#endif
