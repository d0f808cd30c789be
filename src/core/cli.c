/* Argument parsing helpers of the programs (include/scorr/cli.h). */
#include "scorr/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scorr_cli_int(const char *prog, const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: expected an integer in %d..%d, found '%s'\n", prog, opt, lo, hi,
                s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int scorr_cli_int_or(const char *prog, const char *opt, const char *s, const char *word,
                     int word_value, int lo, int hi, int *out)
{
    if (!strcmp(s, word)) {
        *out = word_value;
        return 0;
    }
    return scorr_cli_int(prog, opt, s, lo, hi, out);
}

int scorr_cli_double(const char *prog, const char *opt, const char *s, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v > lo && v <= hi)) {
        fprintf(stderr, "%s: %s: expected a number in (%g, %g], found '%s'\n", prog, opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

int scorr_cli_takes_value(const char *opt, const char *const *valued)
{
    for (; *valued; valued++)
        if (!strcmp(opt, *valued)) return 1;
    return 0;
}
