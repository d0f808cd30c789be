/* scorr_train: train one experiment (include/scorr/train.h, docs/training.md). */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/signals.h"
#include "scorr/train.h"

static void usage(FILE *f)
{
    fputs("usage: mpirun -np N scorr_train EXPERIMENT.yaml [options]\n"
          "       scorr_train EXPERIMENT.yaml [options]          (one rank)\n"
          "\n"
          "Train one SCorrSAN experiment (variant baseline, st, mt, or warp: pretraining on\n"
          "synthetic warps) described by a YAML experiment file\n"
          "(docs/experiment-config.md). Ranks run data-parallel SGD; mt\n"
          "splits an even number of ranks into one group per network. A run continues by\n"
          "itself from the latest checkpoint in its output folder.\n"
          "\n"
          "options:\n"
          "  --stop-after-steps N  write a checkpoint and stop after N steps of this run\n"
          "                        (as a preemption would; run again to continue)\n"
          "  --from-scratch        start at step 0 even though the output folder holds\n"
          "                        checkpoints, all unreadable (refused without it)\n"
          "  --dump-grads FILE     write network A's gradients of this run's first step,\n"
          "                        summed over its ranks, to FILE (a weights file; for\n"
          "                        tests and debugging)\n"
          "  --help                this text\n"
          "\n"
          "exit status (docs/training.md): 0 finished; 3 stopped early with a checkpoint\n"
          "  (resumable: run again); 4 stalled: no step within train.stall_timeout s, aborted\n"
          "  by the watchdog (resumable); 1 error; 2 usage; 5 out of memory; 6 disk full;\n"
          "  7 training diverged (NaN/Inf). Every status but 0 and 3 comes with a message\n"
          "  on stderr.\n",
          f);
}

int main(int argc, char **argv)
{
    struct scorr_comm *world = NULL;
    struct scorr_train_options opt = {0};
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--stop-after-steps") && i + 1 < argc) {
            char *end;
            opt.stop_after_steps = strtoll(argv[++i], &end, 10);
            if (*end || opt.stop_after_steps <= 0) {
                fprintf(stderr, "scorr_train: --stop-after-steps needs a positive integer, got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--from-scratch")) {
            opt.from_scratch = 1;
        } else if (!strcmp(argv[i], "--dump-grads") && i + 1 < argc) {
            opt.dump_grads = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "scorr_train: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!config) {
            config = argv[i];
        } else {
            fprintf(stderr, "scorr_train: one experiment file expected, got '%s' and '%s'\n",
                    config, argv[i]);
            return 2;
        }
    }
    if (!config) {
        usage(stderr);
        return 2;
    }
    if (scorr_comm_init(&argc, &argv, &world)) {
        scorr_error_print(stderr, "scorr_train");
        return SCORR_EXIT_ERROR;
    }
    int rc = scorr_train_run(world, config, &opt);
    /* Every rank returns a status of the same kind; the lowest rank that
     * failed by itself (not because a peer did) prints the message. */
    int own = rc && rc != SCORR_TRAIN_STOPPED && scorr_error_code() != SCORR_EPEER;
    if (scorr_comm_lowest(world, own) == scorr_comm_rank(world)) scorr_error_print(stderr, "scorr_train");
    int code = rc == SCORR_TRAIN_STOPPED ? SCORR_EXIT_STOPPED : scorr_exit_status(rc);
    /* The ranks that stopped because a peer failed (status 1) exit with the
     * failed rank's status, so mpirun reports it whichever rank ends first. */
    double worst = code;
    if (code != SCORR_EXIT_OK && scorr_comm_max_f64(world, &worst, 1) == 0) code = (int)worst;
    int sig = scorr_signal_pending();
    if (code == SCORR_EXIT_STOPPED && (sig == SIGTERM || sig == SIGINT)) {
        /* A SIGTERM or SIGINT to mpirun (preemption, a time limit) makes it
         * abort the job: MPI_Finalize would wait for it until it SIGKILLs the
         * ranks (odls_base_sigkill_timeout, measured 2 x 10 s at 10). The
         * checkpoint and summary are written: leave now. */
        fflush(stdout);
        fflush(stderr);
        _exit(code);
    }
    scorr_comm_finalize(world);
    return code;
}
