/* The trainer's CSV files, read by column name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

void csv_free(struct csv *c)
{
    free(c->head);
    free(c->cell);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* Split line in place at commas into at most max fields; returns the count. */
static int split(char *line, char sep, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        p = strchr(p, sep);
        if (!p) break;
        *p++ = 0;
    }
    return n;
}

int csv_parse(char *text, char sep, struct csv *c)
{
    int err = 0;
    memset(c, 0, sizeof *c);
    c->buf = text;
    int lines = 0;
    for (const char *q = text; *q; q++) lines += *q == '\n';
    char *save = NULL, *line = strtok_r(c->buf, "\r\n", &save);
    if (!line) goto done;
    int ncol = 1;
    for (char *p = line; *p; p++) ncol += *p == sep;
    c->head = calloc((size_t)ncol, sizeof *c->head);
    c->cell = calloc((size_t)(lines + 1) * ncol, sizeof *c->cell);
    SCORR_REQUIRE(c->head && c->cell, SCORR_ENOMEM, "out of memory reading a table");
    c->ncol = split(line, sep, c->head, ncol);
    while ((line = strtok_r(NULL, "\r\n", &save))) {
        char **row = c->cell + (size_t)c->nrow * c->ncol;
        int n = split(line, sep, row, c->ncol);
        for (int k = n; k < c->ncol; k++) row[k] = "";
        c->nrow++;
    }
done:
    if (err) csv_free(c);
    return err;
}

int csv_read(const char *path, char sep, struct csv *c)
{
    int err = 0;
    char *text = NULL;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    if (!scorr_exists(path)) return 0;
    SCORR_TRY(scorr_read_file(path, &text, &len));
    SCORR_TRY(csv_parse(text, sep, c));
    text = NULL;
done:
    free(text);
    return err;
}

int csv_col(const struct csv *c, const char *name)
{
    for (int k = 0; k < c->ncol; k++)
        if (!strcmp(c->head[k], name)) return k;
    return -1;
}

double csv_num(const struct csv *c, int row, int col)
{
    if (col < 0 || row < 0 || row >= c->nrow) return NAN;
    const char *s = c->cell[(size_t)row * c->ncol + col];
    char *end;
    double v = strtod(s, &end);
    return end == s ? NAN : v;
}
