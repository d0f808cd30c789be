/* The stall watchdog: a frozen rank (SIGSTOP, a dead node) or a cut network
 * leaves the other ranks waiting in a collective forever, burning the
 * allocation until the time limit. A thread per rank watches a heartbeat; when
 * none comes within the timeout it prints what this rank was waiting for
 * (the trainer's phase and the MPI call it is inside) and aborts the whole job
 * with exit status SCORR_EXIT_STALLED (include/scorr/error.h), which the
 * SLURM template may requeue: the run resumes from its last checkpoint.
 *
 * Every function here is local and cheap (relaxed atomic stores), safe to call
 * from the hot loop. Only one watchdog exists per process. */
#ifndef SCORR_WATCHDOG_H
#define SCORR_WATCHDOG_H

struct scorr_comm;

/* timeout_s for scorr_watchdog_start: pick it from the measured step time. */
#define SCORR_WATCHDOG_AUTO (-1.0)
/* The automatic timeout: max(FLOOR, FACTOR x the median step time). */
#define SCORR_WATCHDOG_AUTO_FLOOR 300.0
#define SCORR_WATCHDOG_AUTO_FACTOR 20.0

/* Start watching (a no-op when timeout_s is 0). timeout_s > 0: that many
 * seconds without a heartbeat end the job; SCORR_WATCHDOG_AUTO: the automatic
 * timeout (the floor until steps were timed). `world` is the communicator
 * aborted. Returns 0, or SCORR_EINTERNAL if the thread cannot start. */
int scorr_watchdog_start(const struct scorr_comm *world, double timeout_s);
/* A file the watchdog writes its message to when it fires, before the
 * abort (it waits at most 2 s for the write: a hung file system must not
 * keep the job alive). The SLURM template reads `<output>/.stalled` written in its
 * attempt as exit status 4 whatever mpirun returned (slurm/README.md). Call
 * before scorr_watchdog_start; NULL or "" for none. */
void scorr_watchdog_marker(const char *path);
/* Stop and join the thread (idempotent). */
void scorr_watchdog_stop(void);

/* Progress: resets the clock. `step` (>= 0) is the global step reached. */
void scorr_watchdog_beat(long long step);
/* A completed step's wall time, for the automatic timeout (the first step
 * of a run, with its kernel generation, should not be given). */
void scorr_watchdog_step_time(double seconds);
/* What this rank is doing: a string with static storage ("forward",
 * "gradient sum over the group"). */
void scorr_watchdog_phase(const char *what);
/* The communication call this rank is inside (static string), NULL on leaving.
 * Set by the parallel layer. */
void scorr_watchdog_call(const char *call);

/* The timeout in force now, in seconds (0 = off). */
double scorr_watchdog_timeout(void);
/* The automatic timeout for a median step time (0 = none measured yet). */
double scorr_watchdog_auto_timeout(double median_step_s);

#endif
