/* One HTML page per run and per sweep (scorr_report, docs/report.md):
 * training curves as inline SVG charts, the summary, the resolved config,
 * the evaluation tables and the pictures scorr_eval --pictures drew, in one
 * self-contained file (no script, no external file or font). Local. */
#ifndef SCORR_REPORT_H
#define SCORR_REPORT_H

/* What a report holds (for the program's message and the tests). */
struct scorr_report_info {
    char path[4200];   /* the file written */
    int charts;        /* SVG charts with data */
    int evals;         /* evaluation JSON files shown */
    int pictures;      /* pictures embedded */
    int runs;          /* sweep: cells listed */
    int run_reports;   /* sweep: run reports written beside */
};

/* RUN_DIR/report.html (or out) from a run folder (scorr_train's output:
 * config.yaml, summary.json, epochs.csv, steps.csv; scorr_eval's
 * eval_<split>.json and pictures_<split>/ in it or in a folder directly
 * inside it). Missing files leave their section out (said so on the page);
 * unknown CSV columns are charted as they are; a malformed JSON file is an
 * error naming it. */
int scorr_report_run(const char *run_dir, const char *out, struct scorr_report_info *info);

/* SWEEP_DIR/report.html (or out) from a sweep folder: every cell's status
 * (scorr_sweep_status) and PCK, the scorr_table tables with a mean +- std
 * chart per table, and a link to each started run's report, which is
 * written too when with_runs. alpha: PCK@alpha (the tables' metric: test
 * when the sweep evaluates on test, else the best validation PCK). */
int scorr_report_sweep(const char *sweep_dir, const char *out, double alpha, int with_runs,
                       struct scorr_report_info *info);

#endif
