#include "scorr/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/log.h"

void scorr_format_duration(double s, char *out, int n)
{
    if (s < 0 || s != s) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, (size_t)n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, (size_t)n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, (size_t)n, "%lds", t);
}

/* A self-updating line only on an interactive terminal. Under mpirun the
 * ranks' stdout is a pseudo-terminal Open MPI made even when mpirun's own
 * output goes to a file, and under SLURM it is a log: both default to plain
 * lines. SCORR_PROGRESS=plain|tty overrides the guess (scripts that know
 * their output is a terminal set tty). */
static int progress_is_tty(void)
{
    const char *force = getenv("SCORR_PROGRESS");
    if (force && !strcmp(force, "plain")) return 0;
    if (force && !strcmp(force, "tty")) return 1;
    if (getenv("SLURM_JOB_ID") || getenv("OMPI_COMM_WORLD_SIZE")) return 0;
    const char *term = getenv("TERM");
    if (term && !strcmp(term, "dumb")) return 0;
    return isatty(STDOUT_FILENO);
}

void scorr_progress_start(struct scorr_progress *p, const char *label, int64_t total,
                          int64_t start_done, double interval_s)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->done = p->start_done = start_done;
    p->t0 = scorr_now();
    p->last_print = -1e30;
    p->interval = interval_s > 0 ? interval_s : 30;
    p->tty = progress_is_tty();
    p->active = scorr_log_level() >= 1 && scorr_log_rank() == 0;
}

static void print_line(struct scorr_progress *p, const char *extra, int final)
{
    double now = scorr_now(), el = now - p->t0;
    int64_t run = p->done - p->start_done;
    double rate = el > 0 ? (double)run / el : 0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0;
    char e1[16], e2[16];
    scorr_format_duration(el, e1, sizeof e1);
    scorr_format_duration(eta, e2, sizeof e2);
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 1;
    char line[256];
    if (p->tty) {
        char bar[21];
        int fill = (int)(frac * 20);
        for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
        bar[20] = 0;
        snprintf(line, sizeof line, "\r%s [%s] %lld/%lld %3.0f%% %s<%s %s\033[K", p->label, bar,
                 (long long)p->done, (long long)p->total, 100 * frac, e1, final ? "0s" : e2,
                 extra ? extra : "");
        fputs(line, stdout);
        if (final) fputc('\n', stdout);
        scorr_log_line_open(!final);
    } else {
        printf("%s %lld/%lld (%.0f%%) elapsed %s eta %s %s\n", p->label, (long long)p->done,
               (long long)p->total, 100 * frac, e1, final ? "0s" : e2, extra ? extra : "");
    }
    fflush(stdout);
    p->last_print = now;
}

void scorr_progress_update(struct scorr_progress *p, int64_t done, const char *extra)
{
    p->done = done;
    if (!p->active) return;
    double now = scorr_now();
    double every = p->tty ? 0.2 : p->interval;
    if (now - p->last_print >= every) print_line(p, extra, 0);
}

void scorr_progress_end(struct scorr_progress *p, const char *extra)
{
    if (p->active) print_line(p, extra, 1);
}
