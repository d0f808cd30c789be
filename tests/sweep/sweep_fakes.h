/* Helpers of the sweep tests: a temporary folder, small files, and stand-ins
 * for scorr_train, scorr_eval, mpirun, sbatch and squeue (shell scripts that
 * log their arguments to $FAKE_LOG), so scripts, the local runner and
 * submission can be tested without training or a scheduler. */
#ifndef SCORR_TEST_SWEEP_FAKES_H
#define SCORR_TEST_SWEEP_FAKES_H

#include "scorr/sweep.h"

/* mkdtemp under /tmp; the path stays valid until fakes_cleanup. */
const char *fakes_tmpdir(const char *name);
void fakes_cleanup(void);

/* Write text to path (folders created); 0 ok. */
int fakes_write(const char *path, const char *text);
/* Read a whole file (caller frees), NULL if missing. */
char *fakes_read(const char *path);
/* Lines of a file holding needle. */
int fakes_count(const char *path, const char *needle);

/* <tmp>/bin with executable stand-ins:
 *   scorr_train EXP  logs "TRAIN: EXP", makes the output folder with
 *                    config.yaml (a copy of EXP); exits $FAKE_TRAIN_EXIT if
 *                    set, or 1 when EXP's path holds $FAKE_FAIL_CELL;
 *                    otherwise writes a finished summary.json and best.h5
 *   scorr_eval CKPT DATA --split S   logs "EVAL: ...", writes eval_S.json
 *   mpirun ...       logs "mpirun ARGS", then runs the scorr_train it names
 *   sbatch ...       logs "sbatch ARGS", prints job ids 900001, 900002, ...
 *   squeue ...       prints $FAKE_SQUEUE (lines "job|task|state|reason")
 *   scontrol -o show job ID   prints the line of $FAKE_SCONTROL that starts
 *                    "JobId=ID ", or fails as for an unknown job
 * Sets FAKE_LOG=<tmp>/fake.log in the environment. Returns the bin path. */
const char *fakes_bin(const char *tmp);

/* Parse a sweep file given as text, written to <tmp>/<name>.yaml, with the
 * sweep folder <tmp>/<name>. */
int fakes_sweep(const char *tmp, const char *name, const char *yaml, struct scorr_sweep *sw);

#endif
