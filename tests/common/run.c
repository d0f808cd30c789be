#include "run.h"

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
