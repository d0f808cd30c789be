/* scorr_table: result folders -> the paper's ablation tables (docs/tables.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/table.h"

static void usage(FILE *f)
{
    fputs("usage: scorr_table SWEEP_DIR_OR_RUN_DIR... [options]\n"
          "\n"
          "Build the paper's ablation tables from results: sweep folders (scorr_sweep) and\n"
          "run folders (scorr_train's output). Rows come from each run's config; seeds of\n"
          "one setting give mean +- std and n. Runs not finished or without the metric\n"
          "are listed, never counted as zero (docs/tables.md).\n"
          "\n"
          "options:\n"
          "  --table T     modules (Table 4) | variants (Table 5) | dilation (Table 6) |\n"
          "                categories (Table 1) | all (default: these four) |\n"
          "                ablation (any sweep: rows by the keys the runs vary) |\n"
          "                pseudo (pseudo-label precision, epochs.csv); may repeat\n"
          "  --format F    md (default) | latex | csv\n"
          "  --metric M    test (eval_test.json, default) | val (best validation PCK) |\n"
          "                last (validation PCK at the last epoch, epochs.csv)\n"
          "  --alpha A     PCK@A (default 0.1)\n"
          "  --out FILE    write there (atomically) instead of stdout\n"
          "  --help        this text\n"
          "exit status: 0 ok, 1 error, 2 usage, 5 out of memory, 6 disk full\n",
          f);
}

int main(int argc, char **argv)
{
    struct scorr_table_options opt = {0, SCORR_TABLE_MD, SCORR_METRIC_TEST, 0.1};
    const char *out_path = NULL;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int n_paths = 0, err = 0;
    char *text = NULL, *notes = NULL;
    struct scorr_results res = {0, NULL};
    if (!paths) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(paths);
            return 0;
        } else if (!strcmp(a, "--table") && more) {
            unsigned k = scorr_table_kind_parse(argv[++i]);
            if (!k) {
                fprintf(stderr, "scorr_table: --table: expected modules, variants, dilation, "
                                "categories, all, ablation or pseudo, found '%s'\n", argv[i]);
                free(paths);
                return 2;
            }
            opt.tables |= k;
        } else if (!strcmp(a, "--format") && more) {
            const char *f = argv[++i];
            if (!strcmp(f, "md") || !strcmp(f, "markdown")) opt.format = SCORR_TABLE_MD;
            else if (!strcmp(f, "latex") || !strcmp(f, "tex")) opt.format = SCORR_TABLE_LATEX;
            else if (!strcmp(f, "csv")) opt.format = SCORR_TABLE_CSV;
            else {
                fprintf(stderr, "scorr_table: --format: expected md, latex or csv, found '%s'\n",
                        f);
                free(paths);
                return 2;
            }
        } else if (!strcmp(a, "--metric") && more) {
            const char *m = argv[++i];
            if (!strcmp(m, "test")) opt.metric = SCORR_METRIC_TEST;
            else if (!strcmp(m, "val")) opt.metric = SCORR_METRIC_VAL;
            else if (!strcmp(m, "last")) opt.metric = SCORR_METRIC_LAST;
            else {
                fprintf(stderr, "scorr_table: --metric: expected test, val or last, found '%s'\n",
                        m);
                free(paths);
                return 2;
            }
        } else if (!strcmp(a, "--alpha") && more) {
            char *end;
            errno = 0;
            opt.alpha = strtod(argv[++i], &end);
            if (*end || errno || !(opt.alpha > 0 && opt.alpha <= 1)) {
                fprintf(stderr, "scorr_table: --alpha: expected a number in (0, 1], found '%s'\n",
                        argv[i]);
                free(paths);
                return 2;
            }
        } else if (!strcmp(a, "--out") && more) {
            out_path = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "scorr_table: unknown option '%s' (or its value is missing)\n", a);
            usage(stderr);
            free(paths);
            return 2;
        } else {
            paths[n_paths++] = a;
        }
    }
    if (!n_paths) {
        usage(stderr);
        free(paths);
        return 2;
    }
    if (!opt.tables) opt.tables = SCORR_TABLE_ALL;
    if (opt.tables == SCORR_TABLE_CATEGORIES && opt.metric != SCORR_METRIC_TEST) {
        fprintf(stderr, "scorr_table: --table categories needs --metric test (summary.json has "
                        "no per-category validation numbers)\n");
        free(paths);
        return 2;
    }
    err = scorr_results_collect(paths, n_paths, &opt, &res);
    if (err) goto out;
    err = scorr_table_render(&res, &opt, &text, &notes);
    if (err) goto out;
    if (out_path)
        err = scorr_write_file_atomic(out_path, text, strlen(text));
    else
        fputs(text, stdout);
    if (err) goto out;
    int counted = 0;
    for (int i = 0; i < res.n; i++) counted += res.runs[i].counted;
    fprintf(stderr, "scorr_table: %d run%s read, %d counted%s\n", res.n, res.n == 1 ? "" : "s",
            counted, counted < res.n ? "; the others are listed in the notes" : "");
    if (opt.format == SCORR_TABLE_CSV && notes && *notes) fputs(notes, stderr);
out:
    if (err) scorr_error_print(stderr, "scorr_table");
    scorr_results_free(&res);
    free(text);
    free(notes);
    free(paths);
    return scorr_exit_status(err);
}
