/* Running a program under test and capturing what it prints. */
#ifndef SCORR_TEST_RUN_H
#define SCORR_TEST_RUN_H

#include <stddef.h>

/* Run `<prefix> '<bin>' <args>` through the shell (prefix may be "" or, e.g.,
 * an mpirun command line) with stdout and stderr redirected to <log>.out and
 * <log>.err, then read both files into *out and *err: their previous
 * contents are freed (pass NULL-initialised pointers the first time), and
 * an unreadable file gives "". args is shell text: quote paths yourself.
 * Returns the exit status, or 128 when the program did not exit normally
 * (killed by a signal). Exits the test with status 2 when out of memory. */
int scorr_run_capture(const char *prefix, const char *bin, const char *args, const char *log,
                      char **out, char **err);

/* Run printf-style shell text in folder dir under `timeout timeout_s`, its
 * stdout and stderr to dir/out.txt. Returns the exit status: 124 on the
 * timeout (with a "TIMEOUT (a hang?)" line on stderr), 128 when killed. */
int scorr_run_in(const char *dir, int timeout_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The text of dir/rel, or "" when it cannot be read; the last four results
 * stay valid (a ring of buffers owned here). */
char *scorr_run_read(const char *dir, const char *rel);

/* The arguments of a test that runs programs: `TEST BIN_DIR MPIEXEC`. Sets
 * *bin and *mpi and makes a fresh folder /tmp/<test>_XXXXXX in dir (n
 * bytes). Returns 0, or 2 (the test's exit status) after a usage line or
 * when the folder cannot be made. */
int scorr_run_args(int argc, char **argv, const char *test, const char **bin, const char **mpi,
                   char *dir, size_t n);

#endif
