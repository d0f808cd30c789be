/* Console output: info lines on rank 0 only (the parallel layer tells the
 * log which rank it is), warnings from every rank with a rank prefix, and a
 * timer. Local. */
#ifndef SCORR_LOG_H
#define SCORR_LOG_H

#include <stdio.h>

/* Set by the parallel layer after init; default rank 0 of 1. */
void scorr_log_set_rank(int rank, int size);
/* This process's rank and the world size, as set by the parallel layer. */
int scorr_log_rank(void);
int scorr_log_size(void);
/* 0 = quiet (warnings only), 1 = normal, 2 = verbose. */
void scorr_log_set_level(int level);
int scorr_log_level(void);

/* The progress display tells the log that a self-updating line is open on
 * stdout; the next info line ends it first. */
void scorr_log_line_open(int open);

/* Rank 0 only, to stdout. */
void scorr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Rank 0 only, level 2. */
void scorr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Every rank, to stderr, prefixed "warning:" (and "[rank r]" when size > 1). */
void scorr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic wall clock in seconds. */
double scorr_now(void);

#endif
