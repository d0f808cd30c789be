#include "run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "scorr/error.h"
#include "scorr/io.h"

/* The whole of path, or "" when it cannot be read. */
static char *slurp(const char *log, const char *ext)
{
    char p[4400];
    char *text = NULL;
    size_t n;
    snprintf(p, sizeof p, "%s%s", log, ext);
    if (scorr_read_file(p, &text, &n)) {
        scorr_error_clear();
        text = strdup("");
    }
    if (!text) {
        fprintf(stderr, "scorr_run_capture: out of memory\n");
        exit(2);
    }
    return text;
}

int scorr_run_capture(const char *prefix, const char *bin, const char *args, const char *log,
                      char **out, char **err)
{
    const char *fmt = "%s%s'%s' %s >'%s.out' 2>'%s.err'";
    const char *sep = *prefix ? " " : "";
    int len = snprintf(NULL, 0, fmt, prefix, sep, bin, args, log, log);
    char *cmd = malloc((size_t)len + 1);
    if (!cmd) {
        fprintf(stderr, "scorr_run_capture: out of memory\n");
        exit(2);
    }
    snprintf(cmd, (size_t)len + 1, fmt, prefix, sep, bin, args, log, log);
    int st = system(cmd);
    free(cmd);
    free(*out);
    free(*err);
    *out = slurp(log, ".out");
    *err = slurp(log, ".err");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int scorr_run_in(const char *dir, int timeout_s, const char *fmt, ...)
{
    char cmd[4096], full[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd %s && timeout %d %s > out.txt 2>&1", dir, timeout_s, cmd);
    int st = system(full);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    if (rc == 124) fprintf(stderr, "TIMEOUT (a hang?) running: %s\n", cmd);
    return rc;
}

char *scorr_run_read(const char *dir, const char *rel)
{
    static char *last[4];
    static int k;
    char path[4400];
    size_t n;
    k = (k + 1) % 4;
    free(last[k]);
    last[k] = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (scorr_read_file(path, &last[k], &n)) {
        scorr_error_clear();
        return "";
    }
    return last[k];
}

int scorr_run_args(int argc, char **argv, const char *test, const char **bin, const char **mpi,
                   char *dir, size_t n)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BIN_DIR MPIEXEC\n", test);
        return 2;
    }
    *bin = argv[1];
    *mpi = argv[2];
    snprintf(dir, n, "/tmp/%s_XXXXXX", test);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "%s: cannot make %s: %s\n", test, dir, strerror(errno));
        return 2;
    }
    return 0;
}
