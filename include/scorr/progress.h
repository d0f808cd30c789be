/* Progress on long work, rank 0 only: on a terminal one self-updating line
 * with a bar, rate and ETA; otherwise (SLURM logs, pipes) a plain line at most
 * every `interval` seconds, plus the first and the last. Under SLURM the
 * output is taken to be a log; SCORR_PROGRESS=plain|tty overrides the guess.
 * Local. */
#ifndef SCORR_PROGRESS_H
#define SCORR_PROGRESS_H

#include <stdint.h>

struct scorr_progress {
    char label[64];
    int64_t total, done, start_done;
    double t0, last_print, interval;
    int tty, active;
};

/* total: units of work (steps, pairs); start_done: units already done before
 * this run (a resumed run), so the rate and ETA count only this run's work. */
void scorr_progress_start(struct scorr_progress *p, const char *label, int64_t total,
                          int64_t start_done, double interval_s);
/* extra: short text shown after the counts (e.g. "loss 1.234"), may be NULL. */
void scorr_progress_update(struct scorr_progress *p, int64_t done, const char *extra);
/* Final line (newline on a terminal). */
void scorr_progress_end(struct scorr_progress *p, const char *extra);

/* "1h02m", "3m05s", "12s" into out (>= 16 bytes). */
void scorr_format_duration(double seconds, char *out, int n);

#endif
