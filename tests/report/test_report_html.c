/* scorr_report's pages on hand-made folders with known numbers: the run
 * page is well formed, holds the values of summary.json and eval_test.json,
 * charts every known column and the unknown ones by name, embeds the
 * pictures; a run with columns missing still reports; a malformed JSON file
 * is an error naming it. The sweep page lists every cell with its status and
 * PCK, holds the tables with a chart each and links the runs' reports,
 * which it writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report_fakes.h"
#include "scorr/io.h"
#include "scorr/report.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

static char *read_all(const char *path)
{
    char *t = NULL;
    size_t n = 0;
    if (scorr_read_file(path, &t, &n)) {
        scorr_error_clear();
        return NULL;
    }
    return t;
}

static void test_run(const char *tmp)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/run", tmp);
    CHECK_OK(rf_make_run(dir, 1));
    struct scorr_report_info info;
    CHECK_OK(scorr_report_run(dir, NULL, &info));
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK(!strcmp(info.path, path), "report at %s", info.path);
    char *h = read_all(path);
    CHECK(h != NULL, "report.html written");
    if (!h) return;
    CHECK(rf_html_balanced(h) == 0, "the page is well formed");
    CHECK(strstr(h, "<title>scorr run " RF_NAME "</title>"), "title names the run");
    CHECK(strstr(h, "<b>23.46</b>") && strstr(h, "<td class=\"n\">23.4567</td>"),
          "best_val_pck of summary.json (subtitle and table)");
    CHECK(strstr(h, "31.88"), "test PCK@0.1 of eval_test.json");
    CHECK(strstr(h, "27.12"), "per-category PCK of eval_test.json");
    CHECK(strstr(h, "9.88 px"), "dense EPE of eval_test.json");
    /* loss/epoch, loss/step, val PCK, lr, keep ratio, precision, its counts, other columns */
    CHECK(info.charts == 8, "%d charts, expected 8", info.charts);
    CHECK(rf_count(h, "<svg ") == 8, "%d svg elements", rf_count(h, "<svg "));
    CHECK(strstr(h, "Pseudo-label precision") && strstr(h, "pl_sel_prec, net 1"),
          "precision column charted per network");
    CHECK(strstr(h, "Pseudo-label positions") && strstr(h, "pl_sel_n, net 0"),
          "its counts charted apart");
    CHECK(strstr(h, "grad_norm"), "unknown column charted by name");
    CHECK(info.evals == 1 && info.pictures == 2, "evals %d pictures %d", info.evals,
          info.pictures);
    CHECK(rf_count(h, "src=\"data:image/png;base64,iVBORw0KGgo") == 2, "two embedded PNGs");
    CHECK(strstr(h, "pair-three") && strstr(h, "pair-four"), "picture captions");
    CHECK(!strstr(h, "<script"), "no script");
    CHECK(!strstr(h, "src=\"http") && !strstr(h, "href=\"http"), "no external resource");
    free(h);

    /* columns missing, no steps.csv, no pictures: still a page */
    snprintf(dir, sizeof dir, "%s/run2", tmp);
    CHECK_OK(rf_make_run(dir, 0));
    snprintf(path, sizeof path, "%s/epochs.csv", dir);
    CHECK(!fakes_write(path, "epoch,loss_gt\n0,3.0\n1,2.0\n"), "write");
    snprintf(path, sizeof path, "%s/steps.csv", dir);
    remove(path);
    CHECK_OK(scorr_report_run(dir, NULL, &info));
    CHECK(info.charts == 1 && info.pictures == 0, "one chart (%d), no pictures", info.charts);
    snprintf(path, sizeof path, "%s/report.html", dir);
    h = read_all(path);
    CHECK(h && rf_html_balanced(h) == 0 && strstr(h, "no data"), "page with empty charts");
    free(h);

    /* malformed summary.json: an error naming it */
    snprintf(path, sizeof path, "%s/summary.json", dir);
    CHECK(!fakes_write(path, "{\"format\": \"scorr-summary\", "), "write");
    const char *needles[] = {"summary.json", "not valid JSON", NULL};
    scorr_check_error(__LINE__, scorr_report_run(dir, NULL, NULL), dir, needles);
    const char *needles2[] = {"not a run folder", NULL};
    scorr_check_error(__LINE__, scorr_report_run(tmp, NULL, NULL), tmp, needles2);
}

static void test_sweep(const char *tmp)
{
    struct scorr_sweep sw;
    char path[4400], dir[1100];
    CHECK_OK(fakes_sweep(tmp, "rsw", "name: rsw\nset: {train.epochs: 3, pseudo.start_epoch: 1}\n"
                                     "cells:\n  - {id: A3, set: {variant: baseline}}\n"
                                     "  - {id: A6}\ngrid: {seed: [1, 2]}\n",
                         &sw));
    if (scorr_test_failures) return;
    CHECK_OK(scorr_sweep_write(&sw, "/nonexistent/bin"));
    snprintf(dir, sizeof dir, "%.1023s", sw.dir);
    scorr_sweep_free(&sw);
    const char *ids[3] = {"A3-seed1", "A3-seed2", "A6-seed2"};
    const double v[3] = {30.25, 33.75, 60.5};
    for (int i = 0; i < 3; i++) {
        char src[2048], *t;
        snprintf(src, sizeof src, "%s/cells/%s/exp.yaml", dir, ids[i]);
        t = fakes_read(src);
        snprintf(path, sizeof path, "%s/runs/%s/config.yaml", dir, ids[i]);
        fakes_write(path, t ? t : "");
        free(t);
        snprintf(path, sizeof path, "%s/runs/%s/summary.json", dir, ids[i]);
        fakes_write(path, "{\"format\": \"scorr-summary\", \"finished\": true, \"epochs\": 3, "
                          "\"epochs_done\": 3}");
        char js[200];
        snprintf(js, sizeof js, "{\"format\": \"scorr-eval\", \"pck\": {\"0.1\": %g}}", v[i]);
        snprintf(path, sizeof path, "%s/runs/%s/eval_test.json", dir, ids[i]);
        fakes_write(path, js);
    }
    struct scorr_report_info info;
    CHECK_OK(scorr_report_sweep(dir, NULL, 0.1, 1, &info));
    CHECK(info.runs == 4 && info.run_reports == 3, "cells %d, run reports %d", info.runs,
          info.run_reports);
    CHECK(info.charts >= 1, "%d tables charted", info.charts);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *h = read_all(path);
    CHECK(h != NULL, "sweep report written");
    if (!h) return;
    CHECK(rf_html_balanced(h) == 0, "the sweep page is well formed");
    CHECK(strstr(h, "30.25") && strstr(h, "33.75") && strstr(h, "60.50"), "each run's PCK");
    /* A3: mean 32.0 +- 2.5 (sample std of 30.25, 33.75) */
    CHECK(strstr(h, "32.0 &#177; 2.5"), "A3 mean +- std over seeds");
    CHECK(rf_count(h, ">done<") == 3 && rf_count(h, ">missing<") == 1, "states: done %d missing %d",
          rf_count(h, ">done<"), rf_count(h, ">missing<"));
    CHECK(strstr(h, "<a href=\"runs/A3-seed1/report.html\">"), "link to a run's report");
    CHECK(rf_count(h, "<svg ") == info.charts && rf_count(h, "<h3>") == info.charts,
          "an error-bar chart per table: %d charts, %d tables, %d counted", rf_count(h, "<svg "),
          rf_count(h, "<h3>"), info.charts);
    snprintf(path, sizeof path, "%s/runs/A6-seed2/report.html", dir);
    CHECK(scorr_exists(path), "the run's report written beside");
    free(h);
}

int main(void)
{
    const char *tmp = fakes_tmpdir("report_html");
    test_run(tmp);
    test_sweep(tmp);
    fakes_cleanup();
    return scorr_test_finish("test_report_html");
}
