/* The paper's tables as data (docs/tables.md): what scorr_table prints as
 * Markdown, LaTeX or CSV, for other renderers (the HTML report of
 * scorr_report). Built from collected results (scorr/table.h). Local. */
#ifndef SCORR_TABLE_DOC_H
#define SCORR_TABLE_DOC_H

#include "scorr/table.h"

enum tcell_kind {
    TC_TEXT = 0, /* text */
    TC_CHECK,    /* a check mark (on) or a dash */
    TC_STAT,     /* mean +- std over n runs; n = 0: missing */
    TC_COUNT     /* the n of the row */
};

struct tcell {
    enum tcell_kind kind;
    char text[256];
    int on;
    double mean, std; /* std NaN when n < 2 */
    int n;
};

struct tblock {
    char table[32];      /* modules | variants | dilation | categories | ablation | pseudo */
    char title[256];
    char caption[1024];
    int ncol;
    char (*head)[64];
    int nrow, cap;
    struct tcell *cells; /* nrow x ncol */
};

struct tdoc {
    char metric[64];     /* "test PCK@0.1" */
    int nblock;
    struct tblock *blocks;
    int nnote;
    char (*notes)[1400];
};

/* Build the requested tables from the runs; free with scorr_table_doc_free. */
int scorr_table_doc_build(const struct scorr_results *res, const struct scorr_table_options *opt,
                          struct tdoc *doc);
void scorr_table_doc_free(struct tdoc *doc);

#endif
