#include "scorr/log.h"

#include <stdarg.h>
#include <time.h>

static int g_rank, g_size = 1, g_level = 1, g_line_open;

void scorr_log_line_open(int open) { g_line_open = open; }

void scorr_log_set_rank(int rank, int size)
{
    g_rank = rank;
    g_size = size;
}

void scorr_log_set_level(int level) { g_level = level; }
int scorr_log_rank(void) { return g_rank; }
int scorr_log_size(void) { return g_size; }
int scorr_log_level(void) { return g_level; }

static void vprint(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    if (prefix) fputs(prefix, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void scorr_info(const char *fmt, ...)
{
    if (g_rank != 0 || g_level < 1) return;
    if (g_line_open) {
        fputc('\n', stdout);
        g_line_open = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vprint(stdout, NULL, fmt, ap);
    va_end(ap);
}

void scorr_debug(const char *fmt, ...)
{
    if (g_rank != 0 || g_level < 2) return;
    va_list ap;
    va_start(ap, fmt);
    vprint(stdout, NULL, fmt, ap);
    va_end(ap);
}

void scorr_warn(const char *fmt, ...)
{
    char prefix[48];
    if (g_size > 1)
        snprintf(prefix, sizeof prefix, "[rank %d] warning: ", g_rank);
    else
        snprintf(prefix, sizeof prefix, "warning: ");
    va_list ap;
    va_start(ap, fmt);
    vprint(stderr, prefix, fmt, ap);
    va_end(ap);
}

double scorr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
