#include "scorr/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SCORR_MSG_LEN 1024
#define SCORR_TRACE_MAX 24

struct error_state {
    int code;
    char msg[SCORR_MSG_LEN];
    char hint[SCORR_MSG_LEN];
    int ntrace;
    char trace[SCORR_TRACE_MAX][160];
};

static _Thread_local struct error_state g_err;
static scorr_abort_fn g_abort_hook;

static void add_trace(const char *file, int line, const char *func)
{
    if (g_err.ntrace >= SCORR_TRACE_MAX) return;
    const char *base = strrchr(file, '/');
    snprintf(g_err.trace[g_err.ntrace++], sizeof g_err.trace[0], "%s (%s:%d)",
             func, base ? base + 1 : file, line);
}

int scorr_error_set(int code, const char *file, int line, const char *func,
                    const char *fmt, ...)
{
    memset(&g_err, 0, sizeof g_err);
    g_err.code = code ? code : SCORR_EINTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err.msg, sizeof g_err.msg, fmt, ap);
    va_end(ap);
    add_trace(file, line, func);
    return g_err.code;
}

void scorr_error_trace(const char *file, int line, const char *func)
{
    if (g_err.code == 0) {
        /* A callee returned failure without recording why: still say where. */
        g_err.code = SCORR_EINTERNAL;
        snprintf(g_err.msg, sizeof g_err.msg, "unspecified failure");
    }
    add_trace(file, line, func);
}

void scorr_error_hint(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err.hint, sizeof g_err.hint, fmt, ap);
    va_end(ap);
}

const char *scorr_error_message(void) { return g_err.msg; }
int scorr_error_code(void) { return g_err.code; }
void scorr_error_clear(void) { memset(&g_err, 0, sizeof g_err); }

/* The C call chain serves developers, not users: debug builds print it, and
 * any build does with SCORR_TRACE set (to anything but "" or "0"). */
int scorr_error_trace_enabled(void)
{
#ifdef SCORR_DEBUG_TRACE
    return 1;
#else
    const char *v = getenv("SCORR_TRACE");
    return v && v[0] && strcmp(v, "0") != 0;
#endif
}

void scorr_error_print(FILE *f, const char *prog)
{
    fprintf(f, "%s: error: %s\n", prog ? prog : "scorr",
            g_err.code ? g_err.msg : "(no error recorded)");
    if (g_err.hint[0]) fprintf(f, "HINT: %s\n", g_err.hint);
    if (scorr_error_trace_enabled())
        for (int i = 0; i < g_err.ntrace; i++) fprintf(f, "  at %s\n", g_err.trace[i]);
    fflush(f);
}

void scorr_set_abort_hook(scorr_abort_fn fn) { g_abort_hook = fn; }

_Noreturn void scorr_fatal(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "scorr: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (g_abort_hook) g_abort_hook(70);
    abort();
}

int scorr_exit_status(int err)
{
    switch (err) {
    case SCORR_OK: return SCORR_EXIT_OK;
    case SCORR_ENOMEM: return SCORR_EXIT_NOMEM;
    case SCORR_ENOSPC: return SCORR_EXIT_NOSPACE;
    case SCORR_ENUMERIC: return SCORR_EXIT_DIVERGED;
    default: return SCORR_EXIT_ERROR;
    }
}
