/* scorr_train: one experiment (docs/training.md).
 *
 * Variants: baseline (sparse ground truth only), st (a frozen teacher's
 * dense pseudo-labels), mt (two networks trained at once on each other's
 * detached predictions with crossed small-loss selection).
 *
 * MPI layout (DESIGN section 6): baseline and st form one data-parallel group
 * of all ranks; mt with N >= 2 ranks (N even) splits them into two groups, one
 * per network, rank i of group A and rank i of group B hold the same samples
 * and exchange their predicted flows each step; with one rank both networks
 * run in one process. Losses are normalised by global counts and gradients
 * are summed over the group, so results do not depend on the number of ranks
 * (up to float reduction order).
 *
 * Output folder: config.yaml, steps.csv, epochs.csv, summary.json,
 * checkpoints/step_<08d>.h5, best.h5. A run finds its latest checkpoint by
 * itself and continues from it. */
#ifndef SCORR_TRAIN_H
#define SCORR_TRAIN_H

#include <stdint.h>

struct scorr_comm;

struct scorr_train_options {
    int64_t stop_after_steps; /* > 0: checkpoint and stop after this many steps of
                               * this run (tests of resume; as a preemption would) */
    const char *dump_grads;   /* non-NULL: after the first step of this run, network A's
                               * gradients summed over its ranks are written there (a
                               * weights file); tests compare them across rank counts */
    int from_scratch;         /* start at step 0 even though every checkpoint in the
                               * output folder is unreadable (refused otherwise) */
};

/* Return value of a run that stopped early but can be resumed (signal or
 * stop_after_steps): the checkpoint is written. Negative, so it is no error
 * status; the program exits with SCORR_EXIT_STOPPED (include/scorr/error.h). */
#define SCORR_TRAIN_STOPPED (-1)

/* Train the experiment described by the YAML file at config_path.
 * Returns 0 when training finished, SCORR_TRAIN_STOPPED when it stopped early
 * with a checkpoint (preemption), or an error status (message recorded).
 * Collective over world: every rank returns the same status. */
int scorr_train_run(const struct scorr_comm *world, const char *config_path,
                    const struct scorr_train_options *opt);

#endif
