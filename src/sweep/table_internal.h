/* Private to the table code: table_build.c fills the document of blocks
 * (scorr/table_doc.h, one table each) and table_format.c prints it. */
#ifndef SCORR_TABLE_INTERNAL_H
#define SCORR_TABLE_INTERNAL_H

#include "scorr/table.h"
#include "scorr/table_doc.h"

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
/* A value as a table shows it: an absolute path under the working directory
 * relative to it (a sweep's cells hold absolute paths), else unchanged. */
void tb_shown(char *v);
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
