/* scorr_report: one HTML page for a run folder or a sweep folder
 * (docs/report.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/cli.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/report.h"

#define PROG "scorr_report"

static void usage(FILE *f)
{
    fputs("usage: scorr_report RUN_DIR | SWEEP_DIR [options]\n"
          "\n"
          "Write one self-contained HTML page (inline SVG charts, embedded PNG pictures, no\n"
          "script, no external file) that a browser opens offline:\n"
          "  RUN_DIR    (scorr_train's output) -> RUN_DIR/report.html: training loss (gt and\n"
          "             pseudo), validation PCK per epoch per network, learning rates, keep\n"
          "             ratio, pseudo-label precision where measured, the evaluation tables\n"
          "             (eval_<split>.json), the pictures of scorr_eval --pictures, the\n"
          "             summary and the resolved config\n"
          "  SWEEP_DIR  (scorr_sweep's folder, with cells.tsv) -> SWEEP_DIR/report.html:\n"
          "             every cell's status and PCK, the scorr_table tables with a\n"
          "             mean +- std chart per table, links to each run's report (written too)\n"
          "\n"
          "options:\n"
          "  --out FILE     write the page here instead\n"
          "  --alpha A      sweep: the tables' PCK@A (default 0.1)\n"
          "  --no-runs      sweep: do not (re)write the runs' own reports\n"
          "  --help         this text\n"
          "\n"
          "exit status: 0 written, 1 error (message names the file), 2 usage,\n"
          "             5 out of memory, 6 disk full\n",
          f);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    double alpha = 0.1;
    int runs = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(o, "--out") || !strcmp(o, "--alpha")) && i + 1 >= argc) {
            fprintf(stderr, "scorr_report: %s needs a value\n", o);
            return 2;
        } else if (!strcmp(o, "--out")) {
            out = argv[++i];
        } else if (!strcmp(o, "--alpha")) {
            if (scorr_cli_double(PROG, o, argv[++i], 0, 1, &alpha)) return 2;
        } else if (!strcmp(o, "--no-runs")) {
            runs = 0;
        } else if (o[0] == '-') {
            fprintf(stderr, "scorr_report: unknown option '%s'\n", o);
            usage(stderr);
            return 2;
        } else if (!dir) {
            dir = o;
        } else {
            fprintf(stderr, "scorr_report: one folder expected, found '%s' and '%s'\n", dir, o);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    char tsv[8192];
    snprintf(tsv, sizeof tsv, "%s/cells.tsv", dir);
    struct scorr_report_info info;
    int rc = scorr_exists(tsv) ? scorr_report_sweep(dir, out, alpha, runs, &info)
                               : scorr_report_run(dir, out, &info);
    if (rc) {
        scorr_error_print(stderr, PROG);
        return scorr_exit_status(rc);
    }
    if (info.runs)
        printf("wrote %s (%d cells, %d tables charted, %d run reports)\n", info.path, info.runs,
               info.charts, info.run_reports);
    else
        printf("wrote %s (%d charts, %d evaluation files, %d pictures)\n", info.path, info.charts,
               info.evals, info.pictures);
    return 0;
}
