/* The report of a sweep folder (include/scorr/report.h): the cells' status
 * (scorr_sweep_status), the scorr_table tables (scorr/table_doc.h) with a
 * mean +- std chart each, and links to the runs' reports. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/report.h"
#include "scorr/sweep.h"
#include "scorr/table_doc.h"

#define MAXPATH (PATH_MAX + 512)

static void cell_html(struct scorr_sbuf *b, const struct tcell *c)
{
    switch (c->kind) {
    case TC_TEXT: html_text(b, c->text); break;
    case TC_CHECK: scorr_sb_printf(b, "%s", c->on ? "&#10003;" : "&#8211;"); break;
    case TC_COUNT: scorr_sb_printf(b, "%d", c->n); break;
    case TC_STAT:
        if (!c->n)
            scorr_sb_printf(b, "&#8212;");
        else if (c->n < 2)
            scorr_sb_printf(b, "%.1f", c->mean);
        else
            scorr_sb_printf(b, "%.1f &#177; %.1f", c->mean, c->std);
        break;
    }
}

static int block_html(struct scorr_sbuf *b, const struct tblock *t, const char *metric,
                      int *charts)
{
    int err = 0;
    struct bar *bars = NULL;
    char (*labels)[64] = NULL;
    scorr_sb_printf(b, "<h3>");
    html_text(b, t->title);
    scorr_sb_printf(b, "</h3>\n<p class=\"sub\">");
    html_text(b, t->caption);
    scorr_sb_printf(b, "</p>\n<table>\n<tr>");
    for (int c = 0; c < t->ncol; c++) {
        scorr_sb_printf(b, "<th>");
        html_text(b, t->head[c]);
        scorr_sb_printf(b, "</th>");
    }
    scorr_sb_printf(b, "</tr>\n");
    int chart_col = -1;
    for (int r = 0; r < t->nrow; r++) {
        scorr_sb_printf(b, "<tr>");
        for (int c = 0; c < t->ncol; c++) {
            const struct tcell *x = &t->cells[(size_t)r * t->ncol + c];
            if (x->kind == TC_STAT) chart_col = c;
            scorr_sb_printf(b, "<td%s>", x->kind == TC_STAT || x->kind == TC_COUNT ? " class=\"n\""
                                                                                  : "");
            cell_html(b, x);
            scorr_sb_printf(b, "</td>");
        }
        scorr_sb_printf(b, "</tr>\n");
    }
    scorr_sb_printf(b, "</table>\n");
    if (chart_col < 0 || !t->nrow) goto done;
    bars = calloc((size_t)t->nrow, sizeof *bars);
    labels = calloc((size_t)t->nrow, sizeof *labels);
    SCORR_REQUIRE(bars && labels, SCORR_ENOMEM, "out of memory");
    int settings = -1;
    for (int c = 0; c < t->ncol; c++)
        if (!strcmp(t->head[c], "Settings")) settings = c;
    for (int r = 0; r < t->nrow; r++) {
        const struct tcell *x = &t->cells[(size_t)r * t->ncol + chart_col];
        /* the row's name, and what tells equal names apart: "A6 (k=3)" */
        const char *name = t->cells[(size_t)r * t->ncol].text;
        const char *set = settings >= 0 ? t->cells[(size_t)r * t->ncol + settings].text : "";
        const char *val = strrchr(set, '=');
        if (val && val[1])
            snprintf(labels[r], sizeof labels[r], "%.40s (%.20s)", name, val + 1);
        else
            snprintf(labels[r], sizeof labels[r], "%.63s", name);
        bars[r].label = labels[r];
        bars[r].n = x->n;
        bars[r].mean = x->n ? x->mean : NAN;
        bars[r].std = x->n > 1 ? x->std : NAN;
    }
    char title[400];
    const char *paren = strstr(t->title, " (");
    snprintf(title, sizeof title, "%.*s: %s, mean \xc2\xb1 std", paren ? (int)(paren - t->title) : 200,
             t->title, t->head[chart_col]);
    scorr_sb_printf(b, "<div class=\"charts\">\n");
    svg_error_bars(b, title, metric, bars, t->nrow);
    (*charts)++;
    scorr_sb_printf(b, "</div>\n");
done:
    free(bars);
    free(labels);
    return err;
}

int scorr_report_sweep(const char *sweep_dir, const char *out, double alpha, int with_runs,
                       struct scorr_report_info *info)
{
    int err = 0;
    struct scorr_sweep sw;
    struct scorr_cell_status *st = NULL;
    struct scorr_results res = {0};
    struct tdoc doc;
    struct scorr_sbuf b = {0};
    struct scorr_report_info local;
    char *text = NULL, path[MAXPATH];
    int have_doc = 0;
    memset(&sw, 0, sizeof sw);
    memset(&doc, 0, sizeof doc);
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    SCORR_TRY(scorr_sweep_open_folder(sweep_dir, &sw));
    st = calloc((size_t)(sw.n_cells ? sw.n_cells : 1), sizeof *st);
    SCORR_REQUIRE(st, SCORR_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/jobs.tsv", sw.dir);
    SCORR_TRY(scorr_sweep_status(&sw, scorr_exists(path), st));
    struct scorr_table_options opt = {SCORR_TABLE_ALL | SCORR_TABLE_ABLATION | SCORR_TABLE_PSEUDO,
                                      SCORR_TABLE_MD,
                                      strcmp(sw.eval_split, "test") ? SCORR_METRIC_VAL
                                                                    : SCORR_METRIC_TEST,
                                      alpha};
    const char *dirs[1] = {sw.dir};
    SCORR_TRY(scorr_results_collect(dirs, 1, &opt, &res));
    SCORR_TRY(scorr_table_doc_build(&res, &opt, &doc));
    have_doc = 1;
    /* the runs' own reports */
    for (int i = 0; with_runs && i < sw.n_cells; i++) {
        char run[SCORR_SWEEP_PATH + SCORR_CONFIG_NAME + 8];
        snprintf(run, sizeof run, "%s/runs/%s", sw.dir, sw.cells[i].id);
        snprintf(path, sizeof path, "%s/config.yaml", run);
        if (!scorr_exists(path)) continue;
        if (scorr_report_run(run, NULL, NULL)) {
            scorr_warn("run report of cell '%s' not written: %s", sw.cells[i].id,
                       scorr_error_message());
            scorr_error_clear();
            continue;
        }
        info->run_reports++;
    }
    char title[400];
    snprintf(title, sizeof title, "scorr sweep %s", sw.name);
    html_begin(&b, title);
    scorr_sb_printf(&b, "<h1>");
    html_text(&b, title);
    scorr_sb_printf(&b, "</h1>\n<p class=\"sub\">");
    html_text(&b, sw.dir);
    int count[SCORR_CELL_DONE + 1] = {0};
    for (int i = 0; i < sw.n_cells; i++) count[st[i].state]++;
    scorr_sb_printf(&b, " &#183; %d cell%s:", sw.n_cells, sw.n_cells == 1 ? "" : "s");
    for (int s = SCORR_CELL_DONE, first = 1; s >= 0; s--)
        if (count[s]) {
            scorr_sb_printf(&b, "%s %d %s", first ? "" : ",", count[s], scorr_cell_state_name(s));
            first = 0;
        }
    scorr_sb_printf(&b, " &#183; metric ");
    html_text(&b, doc.metric);
    scorr_sb_printf(&b, "</p>\n<h2>Tables</h2>\n");
    for (int i = 0; i < doc.nblock; i++) SCORR_TRY(block_html(&b, &doc.blocks[i], doc.metric, &info->charts));
    if (!doc.nblock) scorr_sb_printf(&b, "<p class=\"note\">No table has rows yet.</p>\n");
    if (doc.nnote) {
        scorr_sb_printf(&b, "<ul class=\"note\">\n");
        for (int i = 0; i < doc.nnote; i++) {
            scorr_sb_printf(&b, "<li>");
            html_text(&b, doc.notes[i]);
            scorr_sb_printf(&b, "</li>\n");
        }
        scorr_sb_printf(&b, "</ul>\n");
    }
    scorr_sb_printf(&b, "<h2>Cells</h2>\n<table>\n<tr><th>index</th><th>cell</th><th>state</th>"
                        "<th>detail</th><th>");
    html_text(&b, doc.metric);
    scorr_sb_printf(&b, "</th><th>report</th></tr>\n");
    for (int i = 0; i < sw.n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw.cells[i];
        const struct scorr_run *r = NULL;
        for (int k = 0; k < res.n && !r; k++)
            if (!strcmp(res.runs[k].cell, c->id)) r = &res.runs[k];
        scorr_sb_printf(&b, "<tr><td class=\"n\">%d</td><td>", c->index);
        html_text(&b, c->id);
        scorr_sb_printf(&b, "</td><td class=\"st-%s\">%s</td><td>",
                        scorr_cell_state_name(st[i].state), scorr_cell_state_name(st[i].state));
        html_text(&b, st[i].detail);
        scorr_sb_printf(&b, "</td><td class=\"n\">");
        if (r && r->counted)
            scorr_sb_printf(&b, "%.2f", r->value);
        else {
            scorr_sb_printf(&b, "<span class=\"note\">");
            html_text(&b, r ? r->why : "-");
            scorr_sb_printf(&b, "</span>");
        }
        scorr_sb_printf(&b, "</td><td>");
        snprintf(path, sizeof path, "%s/runs/%s/report.html", sw.dir, c->id);
        if (scorr_exists(path)) {
            scorr_sb_printf(&b, "<a href=\"runs/");
            html_text(&b, c->id);
            scorr_sb_printf(&b, "/report.html\">report</a>");
        } else {
            scorr_sb_printf(&b, "-");
        }
        scorr_sb_printf(&b, "</td></tr>\n");
        info->runs++;
    }
    scorr_sb_printf(&b, "</table>\n");
    html_end(&b);
    SCORR_TRY(scorr_sb_finish(&b, &text));
    if (out)
        snprintf(info->path, sizeof info->path, "%s", out);
    else
        snprintf(info->path, sizeof info->path, "%s/report.html", sw.dir);
    SCORR_TRY(scorr_write_file_atomic(info->path, text, strlen(text)));
done:
    if (have_doc) scorr_table_doc_free(&doc);
    scorr_results_free(&res);
    scorr_sb_free(&b);
    scorr_sweep_free(&sw);
    free(st);
    free(text);
    return err;
}
