/* Two-tier error handling.
 *
 * Tier 1, what a user can cause (a path, a YAML key, an HDF5 file, an MPI
 * failure): functions return an int status (0 = ok, an enum scorr_err code
 * otherwise). The first failure records a message naming the file, key or
 * dataset, what was expected and what was found; every caller on the way up
 * adds one traceback line. The program prints the message (and, in debug
 * builds or with SCORR_TRACE=1, the traceback) with scorr_error_print() and
 * exits non-zero.
 *
 * Tier 2, internal invariants: SCORR_ASSERT is always on and calls the abort
 * hook (MPI_Abort once the parallel layer is up) so no rank is left hanging.
 *
 * Pattern (one exit label per function):
 *
 *     int f(void) {
 *         int err = 0;
 *         float *buf = NULL;
 *         SCORR_TRY(g());
 *         SCORR_REQUIRE(n > 0, SCORR_EINVAL, "%s: key 'batch' must be > 0, found %d", path, n);
 *     done:
 *         free(buf);
 *         return err;
 *     }
 */
#ifndef SCORR_ERROR_H
#define SCORR_ERROR_H

#include <stdio.h>

enum scorr_err {
    SCORR_OK = 0,
    SCORR_EINVAL = 1,   /* bad value in a config, argument or file */
    SCORR_EIO = 2,      /* file missing, unreadable, unwritable */
    SCORR_ENOMEM = 3,   /* allocation failed */
    SCORR_EFORMAT = 4,  /* file content does not match the expected schema */
    SCORR_EMPI = 5,     /* a communication call failed */
    SCORR_ENUMERIC = 6, /* NaN or Inf where a finite value is required */
    SCORR_EPEER = 7,    /* another rank failed; this rank stops with it */
    SCORR_EINTERNAL = 8,
    SCORR_ENOSPC = 9    /* a write failed because the disk is full or over quota */
};

/* Exit status of every scorr program: one table (docs/training.md,
 * slurm/README.md). Every non-zero status but SCORR_EXIT_STOPPED comes with
 * a message on stderr. Only SCORR_EXIT_STOPPED and SCORR_EXIT_STALLED mean
 * "run the same command again": the SLURM template requeues on those two
 * alone, so no failure can be requeued forever. */
enum scorr_exit {
    SCORR_EXIT_OK = 0,
    SCORR_EXIT_ERROR = 1,    /* an error: bad input, unreadable/unwritable file, internal */
    SCORR_EXIT_USAGE = 2,    /* bad command line */
    SCORR_EXIT_STOPPED = 3,  /* stopped early with a checkpoint (signal, --stop-after-steps):
                              * resumable, requeue */
    SCORR_EXIT_STALLED = 4,  /* watchdog: no step finished within train.stall_timeout; the
                              * last checkpoint stands: resumable, requeue */
    SCORR_EXIT_NOMEM = 5,    /* out of memory */
    SCORR_EXIT_NOSPACE = 6,  /* disk full or quota exceeded */
    SCORR_EXIT_DIVERGED = 7  /* training produced a NaN or Inf (loss, gradient, weight) */
};

/* The exit status for an error status (0 -> 0; SCORR_EPEER -> 1). */
int scorr_exit_status(int err);

/* Record a new error (clears any earlier one). Returns code. Thread-safe per
 * thread (thread-local state). */
int scorr_error_set(int code, const char *file, int line, const char *func,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Add a traceback line for the current error. Returns nothing. */
void scorr_error_trace(const char *file, int line, const char *func);

/* Attach a hint ("HINT: ...") to the current error. */
void scorr_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current error's message (without traceback), "" if none. */
const char *scorr_error_message(void);
int scorr_error_code(void);
void scorr_error_clear(void);

/* Print "<prog>: error: message" and the hint to f, then the traceback
 * ("  at function (file.c:line)" lines) when scorr_error_trace_enabled(). */
void scorr_error_print(FILE *f, const char *prog);
/* 1 in debug builds (CMAKE_BUILD_TYPE=Debug) and when the environment sets
 * SCORR_TRACE to anything but "" or "0". */
int scorr_error_trace_enabled(void);

/* Abort hook for SCORR_ASSERT and fatal paths; the parallel layer installs
 * one that calls MPI_Abort. Default: abort(). */
typedef void (*scorr_abort_fn)(int code);
void scorr_set_abort_hook(scorr_abort_fn fn);
_Noreturn void scorr_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SCORR_TRY(expr)                                                        \
    do {                                                                       \
        err = (expr);                                                          \
        if (err) {                                                             \
            scorr_error_trace(__FILE__, __LINE__, __func__);                   \
            goto done;                                                         \
        }                                                                      \
    } while (0)

#define SCORR_FAIL(code, ...)                                                  \
    do {                                                                       \
        err = scorr_error_set((code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
        goto done;                                                             \
    } while (0)

#define SCORR_REQUIRE(cond, code, ...)                                         \
    do {                                                                       \
        if (!(cond)) SCORR_FAIL((code), __VA_ARGS__);                          \
    } while (0)

#define SCORR_ASSERT(cond)                                                     \
    do {                                                                       \
        if (!(cond)) scorr_fatal(__FILE__, __LINE__, "assertion failed: %s", #cond); \
    } while (0)

#endif
