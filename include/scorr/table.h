/* The paper's ablation tables from result folders (docs/tables.md).
 *
 * Inputs are sweep folders (cells.tsv: every cell's run folder, also the ones
 * not started, whose settings come from cells/<id>/exp.yaml) and run folders
 * (config.yaml, summary.json, eval_<split>.json). A run counts when its
 * summary says finished and it has the metric (the test PCK of
 * eval_test.json, or the best validation PCK of summary.json); the others are
 * listed as not counted, never as zero.
 *
 * Rows are identified from each run's resolved config, not from folder
 * names: runs with the same settings apart from the seed form one setting,
 * reported as mean +- sample standard deviation over its counted runs with
 * their number n. Settings that differ in keys a table does not vary are
 * shown in separate blocks (or rows labelled with the differing keys).
 *
 *   modules    (Table 4) A0..A6 from model.sce.enabled, model.upsample 4,
 *              model.backbone.freeze false, variant mt, pseudo.selection on,
 *              pseudo.dilation_kernel set (st runs are not part of it)
 *   variants   (Table 5) baseline ("none") / st / mt of otherwise equal settings
 *   dilation   (Table 6) pseudo.dilation_kernel none / 3 / 7 / 15 / others
 *   categories (Table 1) per-category test PCK of every setting
 *   ablation   any sweep: one row per setting, labelled by the values of the
 *              keys the settings vary (not part of "all")
 *   pseudo     pseudo-label precision at the last epoch (epochs.csv columns
 *              pl_*_prec; runs on data with dense flow), rows as ablation
 *
 * Local. */
#ifndef SCORR_TABLE_H
#define SCORR_TABLE_H

#include <stddef.h>

#include "scorr/config.h"

enum scorr_table_kind {
    SCORR_TABLE_MODULES = 1,
    SCORR_TABLE_VARIANTS = 2,
    SCORR_TABLE_DILATION = 4,
    SCORR_TABLE_CATEGORIES = 8,
    SCORR_TABLE_ALL = 15,        /* the paper's tables */
    SCORR_TABLE_ABLATION = 16,
    SCORR_TABLE_PSEUDO = 32
};

enum scorr_table_format { SCORR_TABLE_MD = 0, SCORR_TABLE_LATEX = 1, SCORR_TABLE_CSV = 2 };
/* test: eval_test.json of best.h5; val: best validation PCK (summary.json);
 * last: validation PCK at the last epoch, the better network of an mt run
 * (epochs.csv): what training ended with, no checkpoint chosen by validation */
enum scorr_table_metric { SCORR_METRIC_TEST = 0, SCORR_METRIC_VAL = 1, SCORR_METRIC_LAST = 2 };

struct scorr_table_options {
    unsigned tables;                  /* enum scorr_table_kind bits */
    enum scorr_table_format format;
    enum scorr_table_metric metric;
    double alpha;                     /* PCK@alpha (the eval JSON key "%g") */
};

enum { SCORR_RUN_PL = 6 };

/* One run folder as read. */
struct scorr_run {
    char dir[1024];                   /* the run folder */
    char cell[SCORR_CONFIG_NAME];     /* cell id when read from a sweep, else "" */
    struct scorr_config cfg;
    int counted;                      /* finished and has the metric */
    char why[256];                    /* when not counted: why */
    double value;                     /* the metric (PCK in percent) */
    int finished;                     /* summary.json says finished */
    /* pseudo-label precision (percent) of a finished run, pooled over its
     * networks: candidates, selected, outside the dilated mask, at the last
     * epoch [0..2] and at the first epoch with pseudo-labels [3..5]; NaN
     * where epochs.csv has none (no dense flow, no pseudo-labels) */
    double pl[SCORR_RUN_PL];
    int n_cat;
    char (*cat)[64];                  /* category names */
    double *cat_value;                /* per-category test PCK@alpha */
};

struct scorr_results {
    int n;
    struct scorr_run *runs;
};

/* Read the runs of each path (a sweep folder or a run folder). A folder that
 * is neither, a run folder of a sweep whose config names another cell, a
 * run folder under runs/ that cells.tsv does not list, and malformed
 * config/summary/eval files are errors naming the path. Local. */
int scorr_results_collect(const char *const *paths, int n_paths,
                          const struct scorr_table_options *opt, struct scorr_results *res);
void scorr_results_free(struct scorr_results *res);

/* The requested tables as text in the requested format into *out, and the
 * notes (runs not counted, settings left out of a table) as plain lines into
 * *notes ("" when none; Markdown and LaTeX output also carry them). Caller
 * frees both. Local. */
int scorr_table_render(const struct scorr_results *res, const struct scorr_table_options *opt,
                       char **out, char **notes);

/* "modules" -> SCORR_TABLE_MODULES ... "all", "ablation", "pseudo"; 0 if unknown. */
unsigned scorr_table_kind_parse(const char *name);

#endif
