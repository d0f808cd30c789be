/* Argument parsing helpers of the programs (src/programs): each main()
 * parses its own options with these, so the same kind of value is checked
 * and reported the same way everywhere. A bad value prints
 * "<prog>: <opt>: expected ..., found '<text>'" to stderr and returns -1
 * (the program then exits with status 2, a usage error). Local. */
#ifndef SCORR_CLI_H
#define SCORR_CLI_H

/* The whole of s as a decimal integer in lo..hi into *out. */
int scorr_cli_int(const char *prog, const char *opt, const char *s, int lo, int hi, int *out);

/* As scorr_cli_int, but the word `word` (e.g. "best") gives word_value. */
int scorr_cli_int_or(const char *prog, const char *opt, const char *s, const char *word,
                     int word_value, int lo, int hi, int *out);

/* The whole of s as a number in the half-open range (lo, hi] into *out. */
int scorr_cli_double(const char *prog, const char *opt, const char *s, double lo, double hi,
                     double *out);

/* 1 if opt is one of the options in `valued` (NULL-terminated) that take a
 * value, else 0. */
int scorr_cli_takes_value(const char *opt, const char *const *valued);

#endif
