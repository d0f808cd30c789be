/* Printing a table document: Markdown (pipe tables), LaTeX (booktabs-style
 * tabular) and CSV (long format: one line per table cell with a number). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "sweep/sweep_internal.h"
#include "sweep/table_internal.h"

/* ---- Markdown ------------------------------------------------------------------ */

static void md_text(struct scorr_sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') scorr_sb_printf(b, "\\|");
        else scorr_sb_append(b, s, 1);
    }
}

static void md_cell(struct scorr_sbuf *b, const struct tcell *c)
{
    switch (c->kind) {
    case TC_TEXT: md_text(b, c->text); break;
    case TC_CHECK: scorr_sb_printf(b, "%s", c->on ? "✓" : "-"); break;
    case TC_COUNT: scorr_sb_printf(b, "%d", c->n); break;
    case TC_STAT:
        if (!c->n) scorr_sb_printf(b, "—");
        else if (c->n < 2) scorr_sb_printf(b, "%.1f", c->mean);
        else scorr_sb_printf(b, "%.1f ± %.1f", c->mean, c->std);
        break;
    }
}

static void markdown(const struct tdoc *doc, struct scorr_sbuf *b)
{
    for (int i = 0; i < doc->nblock; i++) {
        const struct tblock *t = &doc->blocks[i];
        scorr_sb_printf(b, "%s### %s\n\n", i ? "\n" : "", t->title);
        if (t->caption[0]) {
            md_text(b, t->caption);
            scorr_sb_printf(b, "\n\n");
        }
        scorr_sb_printf(b, "|");
        for (int c = 0; c < t->ncol; c++) {
            scorr_sb_printf(b, " ");
            md_text(b, t->head[c]);
            scorr_sb_printf(b, " |");
        }
        scorr_sb_printf(b, "\n|");
        for (int c = 0; c < t->ncol; c++) {
            const struct tcell *first = t->nrow ? &t->cells[c] : NULL;
            int num = first && (first->kind == TC_STAT || first->kind == TC_COUNT);
            int mid = first && first->kind == TC_CHECK;
            scorr_sb_printf(b, " %s |", num ? "---:" : mid ? ":---:" : "---");
        }
        scorr_sb_printf(b, "\n");
        for (int r = 0; r < t->nrow; r++) {
            scorr_sb_printf(b, "|");
            for (int c = 0; c < t->ncol; c++) {
                scorr_sb_printf(b, " ");
                md_cell(b, &t->cells[(size_t)r * (size_t)t->ncol + (size_t)c]);
                scorr_sb_printf(b, " |");
            }
            scorr_sb_printf(b, "\n");
        }
    }
    if (doc->nnote) {
        scorr_sb_printf(b, "\nNotes:\n\n");
        for (int i = 0; i < doc->nnote; i++) {
            scorr_sb_printf(b, "- ");
            md_text(b, doc->notes[i]);
            scorr_sb_printf(b, "\n");
        }
    }
}

/* ---- LaTeX ------------------------------------------------------------------------ */

static void tex_text(struct scorr_sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': scorr_sb_printf(b, "\\textbackslash{}"); break;
        case '~': scorr_sb_printf(b, "\\textasciitilde{}"); break;
        case '^': scorr_sb_printf(b, "\\textasciicircum{}"); break;
        case '_': case '%': case '&': case '#': case '$': case '{': case '}':
            scorr_sb_printf(b, "\\%c", *s);
            break;
        default:
            if (!strncmp(s, "±", strlen("±"))) {
                scorr_sb_printf(b, "$\\pm$");
                s += strlen("±") - 1;
            } else if (!strncmp(s, "—", strlen("—"))) {
                scorr_sb_printf(b, "---");
                s += strlen("—") - 1;
            } else {
                scorr_sb_append(b, s, 1);
            }
        }
    }
}

static void tex_cell(struct scorr_sbuf *b, const struct tcell *c)
{
    switch (c->kind) {
    case TC_TEXT: tex_text(b, c->text); break;
    case TC_CHECK: scorr_sb_printf(b, "%s", c->on ? "\\checkmark" : "--"); break;
    case TC_COUNT: scorr_sb_printf(b, "%d", c->n); break;
    case TC_STAT:
        if (!c->n) scorr_sb_printf(b, "---");
        else if (c->n < 2) scorr_sb_printf(b, "$%.1f$", c->mean);
        else scorr_sb_printf(b, "$%.1f \\pm %.1f$", c->mean, c->std);
        break;
    }
}

static void latex(const struct tdoc *doc, struct scorr_sbuf *b)
{
    scorr_sb_printf(b, "%% scorr_table: booktabs tables (\\usepackage{booktabs,amssymb})\n");
    for (int i = 0; i < doc->nblock; i++) {
        const struct tblock *t = &doc->blocks[i];
        scorr_sb_printf(b, "\n%% ");
        tex_text(b, t->title);
        scorr_sb_printf(b, "\n");
        if (t->caption[0]) {
            scorr_sb_printf(b, "%% ");
            tex_text(b, t->caption);
            scorr_sb_printf(b, "\n");
        }
        scorr_sb_printf(b, "\\begin{tabular}{");
        for (int c = 0; c < t->ncol; c++) {
            const struct tcell *first = t->nrow ? &t->cells[c] : NULL;
            int num = first && (first->kind == TC_STAT || first->kind == TC_COUNT);
            int mid = first && first->kind == TC_CHECK;
            scorr_sb_printf(b, "%s", num ? "r" : mid ? "c" : "l");
        }
        scorr_sb_printf(b, "}\n\\toprule\n");
        for (int c = 0; c < t->ncol; c++) {
            scorr_sb_printf(b, "%s", c ? " & " : "");
            if (!strcmp(t->head[c], "n")) scorr_sb_printf(b, "$n$");
            else tex_text(b, t->head[c]);
        }
        scorr_sb_printf(b, " \\\\\n\\midrule\n");
        for (int r = 0; r < t->nrow; r++) {
            for (int c = 0; c < t->ncol; c++) {
                scorr_sb_printf(b, "%s", c ? " & " : "");
                tex_cell(b, &t->cells[(size_t)r * (size_t)t->ncol + (size_t)c]);
            }
            scorr_sb_printf(b, " \\\\\n");
        }
        scorr_sb_printf(b, "\\bottomrule\n\\end{tabular}\n");
    }
    for (int i = 0; i < doc->nnote; i++) {
        scorr_sb_printf(b, "%s%% note: ", i ? "" : "\n");
        tex_text(b, doc->notes[i]);
        scorr_sb_printf(b, "\n");
    }
}

/* ---- CSV --------------------------------------------------------------------------- */

static void csv_field(struct scorr_sbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        scorr_sb_printf(b, "%s", s);
        return;
    }
    scorr_sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"') scorr_sb_printf(b, "\"\"");
        else scorr_sb_append(b, s, 1);
    }
    scorr_sb_printf(b, "\"");
}

static void csv(const struct tdoc *doc, struct scorr_sbuf *b)
{
    scorr_sb_printf(b, "table,block,row,label,column,mean,std,n\n");
    for (int i = 0, block = 0; i < doc->nblock; i++) {
        const struct tblock *t = &doc->blocks[i];
        block = i > 0 && !strcmp(doc->blocks[i - 1].table, t->table) ? block + 1 : 0;
        for (int r = 0; r < t->nrow; r++) {
            const struct tcell *row = &t->cells[(size_t)r * (size_t)t->ncol];
            struct scorr_sbuf label = {0};
            for (int c = 0; c < t->ncol; c++) {
                if (row[c].kind == TC_TEXT)
                    scorr_sb_printf(&label, "%s%s=%s", label.len ? "; " : "", t->head[c],
                                    row[c].text);
                else if (row[c].kind == TC_CHECK)
                    scorr_sb_printf(&label, "%s%s=%s", label.len ? "; " : "", t->head[c],
                                    row[c].on ? "yes" : "no");
            }
            for (int c = 0; c < t->ncol; c++) {
                if (row[c].kind != TC_STAT) continue;
                scorr_sb_printf(b, "%s,%d,%d,", t->table, block, r);
                csv_field(b, label.s ? label.s : "");
                scorr_sb_printf(b, ",");
                csv_field(b, t->head[c]);
                if (row[c].n)
                    scorr_sb_printf(b, ",%.4f,", row[c].mean);
                else
                    scorr_sb_printf(b, ",,");
                if (row[c].n > 1) scorr_sb_printf(b, "%.4f", row[c].std);
                scorr_sb_printf(b, ",%d\n", row[c].n);
            }
            scorr_sb_free(&label);
        }
    }
}

int table_format(const struct tdoc *doc, enum scorr_table_format fmt, char **out)
{
    struct scorr_sbuf b = {0};
    if (fmt == SCORR_TABLE_MD) markdown(doc, &b);
    else if (fmt == SCORR_TABLE_LATEX) latex(doc, &b);
    else csv(doc, &b);
    return scorr_sb_finish(&b, out);
}

int scorr_table_render(const struct scorr_results *res, const struct scorr_table_options *opt,
                       char **out, char **notes)
{
    int err = 0;
    struct tdoc doc;
    struct scorr_sbuf nb = {0};
    *out = NULL;
    if (notes) *notes = NULL;
    SCORR_TRY(table_build(res, opt, &doc));
    err = table_format(&doc, opt->format, out);
    for (int i = 0; i < doc.nnote; i++) scorr_sb_printf(&nb, "%s\n", doc.notes[i]);
    table_doc_free(&doc);
    if (err) goto done;
    if (notes) SCORR_TRY(scorr_sb_finish(&nb, notes));
done:
    scorr_sb_free(&nb);
    return err;
}

unsigned scorr_table_kind_parse(const char *name)
{
    if (!strcmp(name, "modules")) return SCORR_TABLE_MODULES;
    if (!strcmp(name, "variants")) return SCORR_TABLE_VARIANTS;
    if (!strcmp(name, "dilation")) return SCORR_TABLE_DILATION;
    if (!strcmp(name, "categories")) return SCORR_TABLE_CATEGORIES;
    if (!strcmp(name, "all")) return SCORR_TABLE_ALL;
    if (!strcmp(name, "ablation")) return SCORR_TABLE_ABLATION;
    if (!strcmp(name, "pseudo")) return SCORR_TABLE_PSEUDO;
    return 0;
}
