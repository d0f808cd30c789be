/* Private to src/report: HTML text, inline SVG charts and CSV reading. */
#ifndef SCORR_REPORT_INTERNAL_H
#define SCORR_REPORT_INTERNAL_H

#include <stddef.h>

#include "scorr/strbuf.h"

/* ---- HTML (report_html.c) ---------------------------------------------- */

/* Escaped text (& < > " '). NULL appends nothing. */
void html_text(struct scorr_sbuf *b, const char *s);
/* The page head (title escaped, inline style sheet, no external resource) and end. */
void html_begin(struct scorr_sbuf *b, const char *title);
void html_end(struct scorr_sbuf *b);
/* <img> of a PNG file embedded as a data URI (base64); alt escaped. */
int html_png(struct scorr_sbuf *b, const char *path, const char *alt);
/* A number as text: "-" for NaN, else %.*f. */
void html_num(struct scorr_sbuf *b, double v, int decimals);

/* ---- charts (report_svg.c) ---------------------------------------------- */

struct chart_series {
    const char *name;
    int n;
    const double *x, *y;  /* NaN y: a gap */
    int dashed;
};

struct chart {
    const char *title, *xlabel, *ylabel;
    int logy;             /* 1: log10 y axis (positive values only) */
    int nseries;
    const struct chart_series *s;
};

/* An inline <svg> line chart with axes, ticks and a legend. Series with no
 * finite point are left out; a chart with none says "no data". */
void svg_line_chart(struct scorr_sbuf *b, const struct chart *c);

struct bar {
    const char *label;
    double mean, std;     /* std NaN: no error bar (n < 2); mean NaN: no run */
    int n;
};

/* An inline <svg> chart of mean +- std per label (points with error bars). */
void svg_error_bars(struct scorr_sbuf *b, const char *title, const char *ylabel,
                    const struct bar *bars, int n);

/* ---- CSV (report_csv.c) ------------------------------------------------- */

/* A comma- or tab-separated file with a header line; fields are not quoted (the
 * trainer's files). Columns are found by header name, so columns added or
 * missing are fine. */
struct csv {
    int ncol, nrow;
    char **head;          /* ncol */
    char **cell;          /* nrow x ncol, "" where a row is short */
    char *buf;
};
/* Read path, fields separated by sep (',' or '\t'); an absent file gives an
 * empty table (nrow 0, ncol 0) and returns 0. */
int csv_read(const char *path, char sep, struct csv *c);
/* Parse text (malloc'ed; the table takes it over, also on error). */
int csv_parse(char *text, char sep, struct csv *c);
void csv_free(struct csv *c);
int csv_col(const struct csv *c, const char *name);      /* -1 if absent */
double csv_num(const struct csv *c, int row, int col);   /* NaN if empty or absent */

#endif
