/* Preemption: SIGTERM (SLURM's warning before a kill or a requeue), SIGINT and
 * SIGUSR1 set a flag that long loops poll at safe points (a step boundary),
 * where every rank agrees to checkpoint and stop. Local. */
#ifndef SCORR_SIGNALS_H
#define SCORR_SIGNALS_H

/* Install the handlers (idempotent). */
void scorr_signals_install(void);
/* The signal number received (0 if none). */
int scorr_signal_pending(void);
/* Reset (tests). */
void scorr_signal_clear(void);

#endif
