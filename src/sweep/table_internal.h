/* Private to the table code: a format-neutral document of blocks (one table
 * each) that table_build.c fills and table_format.c prints. */
#ifndef SCORR_TABLE_INTERNAL_H
#define SCORR_TABLE_INTERNAL_H

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
    char table[32];      /* modules | variants | dilation | categories */
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

/* ---- shared by the table builders (table_build.c, table_generic.c) ---- */

/* Runs with the same settings apart from the seed: one row. */
struct tgroup {
    int n_runs;
    int *runs;  /* indices into res->runs, in input order */
    int n_rel;  /* relevant keys: more = more specific */
};

struct tctx {
    const struct scorr_results *res;
    const struct scorr_table_options *opt;
    struct tdoc *doc;
    int ng;
    struct tgroup *g;
};

/* The config of group g (its first run). */
const struct scorr_config *tb_cfg(const struct tctx *x, int g);
/* x->g from x->res. */
int tb_groups(struct tctx *x);
/* mean +- sample std of the metric over g's counted runs (cat: a category,
 * NULL = overall) into c (TC_STAT). */
void tb_group_stat(const struct tctx *x, int g, const char *cat, struct tcell *c);
/* Append a block of ncol columns / a zeroed row / a note. */
int tb_block(struct tdoc *doc, const char *table, int ncol, struct tblock **out);
int tb_row(struct tblock *b, struct tcell **row);
int tb_note(struct tdoc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tb_text(struct tcell *c, const char *s);
/* What the runs of groups g[ng] share (data, network, epochs), for a caption. */
void tb_caption(const struct tctx *x, const int *g, int ng, char *out, size_t cap);
/* Order of row keys: numbers by value, else strcmp. */
int tb_cmp_keys(const char *a, const char *b);

/* table_generic.c: the ablation table (rows = the values of the keys the
 * runs vary) and the pseudo-label precision table. */
int table_ablation(struct tctx *x);
int table_pseudo(struct tctx *x);

/* Build the requested tables from the runs. Local. */
int table_build(const struct scorr_results *res, const struct scorr_table_options *opt,
                struct tdoc *doc);
void table_doc_free(struct tdoc *doc);

/* Print a document. Caller frees *out. Local. */
int table_format(const struct tdoc *doc, enum scorr_table_format fmt, char **out);

#endif
