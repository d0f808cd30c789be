/* Test helpers: every check counts failures; scorr_test_finish() returns the
 * process exit code (non-zero on any failure), so no test can pass silently. */
#ifndef SCORR_TEST_CHECK_H
#define SCORR_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scorr/error.h"
#include "scorr/h5.h"

extern int scorr_test_failures;
extern int scorr_test_checks;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        scorr_test_checks++;                                                   \
        if (!(cond)) {                                                         \
            scorr_test_failures++;                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A call returning a scorr status must succeed; on failure print the error. */
#define CHECK_OK(expr)                                                         \
    do {                                                                       \
        scorr_test_checks++;                                                   \
        int rc_ = (expr);                                                      \
        if (rc_) {                                                             \
            scorr_test_failures++;                                             \
            fprintf(stderr, "FAIL %s:%d: %s returned %d\n", __FILE__, __LINE__, #expr, rc_); \
            scorr_error_print(stderr, "  ");                                   \
        }                                                                      \
    } while (0)

/* Compare |got - ref| <= atol + rtol*|ref| elementwise; print count, worst
 * element (index, values, error) and return 1 on mismatch. NaN in either is a
 * mismatch unless both are NaN. */
int scorr_check_close(const char *what, const float *got, const float *ref, size_t n,
                      double atol, double rtol);

/* ||a - b|| / ||b|| in double (||a - b|| when b is all zero). */
double scorr_rel_err(const float *a, const float *b, size_t n);

/* Load a whole float32 dataset from a fixture file into a malloc'ed array.
 * shape (SCORR_H5_MAXDIM) and ndim receive its shape; aborts the test (exit 2)
 * with a message if missing. */
float *scorr_fixture_f32(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *shape);
/* The same as float64 (a float64 fixture is read without rounding). */
double *scorr_fixture_f64(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *shape);
/* Scalar attribute (int) of the fixture root; exits 2 if missing. */
int64_t scorr_fixture_int(const struct scorr_h5 *f, const char *name);
/* Open tests/fixtures/<file>; exits 2 with a hint if it is missing. */
void scorr_fixture_open(struct scorr_h5 *f, const char *file);

/* A call that must fail: rc != 0 with an error message holding every needle
 * (NULL-terminated list). line: the test's line for the report; input: what
 * the call was given (printed when it was accepted). Clears the error.
 * Returns 1 when the call was accepted (rc == 0), so the caller can free
 * what it made, else 0. */
int scorr_check_error(int line, int rc, const char *input, const char *const *needles);

/* Print a summary line and return the exit code. */
int scorr_test_finish(const char *name);

#endif
