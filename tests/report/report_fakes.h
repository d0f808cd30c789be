/* Helpers of the report tests: a run folder with known numbers, and a
 * check that an HTML page is well formed. */
#ifndef SCORR_TEST_REPORT_FAKES_H
#define SCORR_TEST_REPORT_FAKES_H

/* The numbers the fake run holds (the test looks for them in the page). */
#define RF_BEST_VAL_PCK 23.4567  /* summary.json best_val_pck, shown as 23.46 */
#define RF_TEST_PCK 31.8765      /* eval_test.json pck 0.1, shown as 31.88 */
#define RF_CAT_PCK 27.1212       /* eval_test.json per_category bird pck 0.1, shown as 27.12 */
#define RF_NAME "fake-run-7"

/* A run folder at dir: config.yaml, summary.json, epochs.csv (2 networks,
 * 3 epochs, with the trainer's pl_sel_n / pl_sel_prec columns and an
 * unknown one),
 * steps.csv, eval_test.json and, when pictures, pictures_test/ with two
 * pictures drawn by scorr_picture_pair and their index.tsv. 0 ok. */
int rf_make_run(const char *dir, int pictures);

/* 0 if every element opened is closed in order (void elements and "/>"
 * aside; <style> content skipped), else 1 with a message on stderr. */
int rf_html_balanced(const char *html);

/* Occurrences of needle in s. */
int rf_count(const char *s, const char *needle);

#endif
