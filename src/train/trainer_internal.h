/* The trainer's internal state, shared by trainer.c (set-up and the epoch
 * loop), train_step.c (one optimiser step), train_validate.c and
 * train_output.c. */
#ifndef SCORR_TRAINER_INTERNAL_H
#define SCORR_TRAINER_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "scorr/batchnorm.h"
#include "scorr/checkpoint.h"
#include "scorr/comm.h"
#include "scorr/config.h"
#include "scorr/loader.h"
#include "scorr/model.h"
#include "scorr/optim.h"
#include "scorr/progress.h"
#include "scorr/pseudo_quality.h"
#include "scorr/select.h"

struct scorr_comm;
struct scorr_sum;

/* A part of the flat gradient buffer, in floats. */
struct grad_span { size_t off, len; };

/* grad_sync.c: the gradient sum of one network over its group, started
 * bucket by bucket from the model's backward hook so it overlaps the rest
 * of the backward. */
struct grad_sync {
    float *grads;
    struct grad_span *buckets;  /* backward order: top of the buffer first */
    int nbuckets;
    int overlap;                /* 0: train.bucket_mb 0, everything after the backward */
    struct scorr_sum *slots[4]; /* sums in flight, bucket k in slot k % nslots */
    int nslots;
    /* this step */
    size_t ready;               /* floats at offsets >= ready are final */
    int next_start, next_done;  /* buckets started; buckets finished (a prefix) */
    int err;                    /* first error met inside the hook */
    int started_early;          /* buckets started from the hook, before the backward ended */
    double t_exposed;           /* seconds the backward spent in the exchange, and after it */
};

/* Buckets of at most bucket_mb MiB (0: after the backward, in pieces of 64
 * MiB) over the spans, and their exchange objects. Collective over group. */
int grad_sync_init(struct grad_sync *gs, const struct scorr_comm *group, float *grads,
                   const struct grad_span *spans, int nspans, double bucket_mb,
                   enum scorr_sum_dtype dtype);
void grad_sync_free(struct grad_sync *gs);
/* Before the backward: install the hook on m (none when not overlapping). Local. */
void grad_sync_begin(struct grad_sync *gs, struct scorr_model *m);
/* After the backward: start what is left and wait for every bucket.
 * Collective over the group. */
int grad_sync_finish(struct grad_sync *gs);

/* One network being trained in this process. */
struct train_net {
    int id;                    /* 0 = network A, 1 = the peer (mt) */
    struct scorr_model *model;
    struct scorr_adamw opt;
    float *flow;               /* (B, G, G, 2) copy of the last forward */
    float *dflow;              /* (B, G, G, 2) */
    const float *target;       /* pseudo-label flow (peer's, teacher's) or NULL */
    float *values;             /* (B*G*G) candidate losses, compact, local order */
    float *rank_values;        /* what the selection ranks (the peer's values in mt) */
    uint8_t *keep;             /* (B*G*G) selection of candidates, compact */
    uint8_t *keep_mask;        /* (B, G, G) the selection scattered back */
    /* this step, over the whole group (identical on its ranks) */
    double loss_gt, loss_pseudo, loss;
    /* this epoch */
    double sum_loss_gt, sum_loss_pseudo, sum_loss;
    /* pseudo-label quality counts (scorr/pseudo_quality.h) summed over the
     * group and the epoch's steps; zero when the batches carry no dense flow */
    int64_t sum_pq[2 * SCORR_PQ_SETS];
    int64_t epoch_steps;
    double val_pck;            /* last validation (percent), -1 = none */
    /* the spans of the flat gradient buffer summed over the group each step:
     * the trained weights, neighbours closer than 64 Ki floats merged (a
     * frozen backbone is not sent; interleaved batch-norm buffers are) */
    struct grad_span *spans;
    int nspans;
    struct grad_sync sync;     /* when the group has more than one rank */
};

struct trainer {
    struct scorr_config cfg;
    char *config_yaml;          /* resolved config */
    char config_path[1024];
    const struct scorr_comm *world;
    struct scorr_comm *group;   /* data-parallel group of this process's network(s) */
    struct scorr_bn_sync bn_sync; /* batch-norm statistics over the group (batch mode) */
    int world_rank, world_size, group_rank, group_size;
    int mt_split;               /* mt over two rank groups */
    int partner;                /* mt_split: world rank holding the same samples */
    int n_nets;                 /* networks in this process: 1, or 2 (mt on one rank) */
    struct train_net nets[2];
    struct scorr_model *teacher; /* st */
    float *teacher_flow;         /* (B, G, G, 2) */
    float *peer_flow;            /* mt_split: the partner's flow */
    /* the two local networks share one activation arena (model.memory small,
     * mt on one rank): network B's forward runs again before its backward;
     * rerun_state holds B's buffers (running statistics) from before its
     * first forward, rerun_state_n floats */
    int rerun_b;
    float *rerun_state;
    size_t rerun_state_n;
    /* mt_split: room for the other group's network, to write and read
     * checkpoints that hold both (parameters, Adam state) */
    float *other_params;
    struct scorr_adamw other_opt;
    struct scorr_loader *loader, *val_loader; /* val_loader: sparse PCK (warp: only if the split has keypoints) */
    struct scorr_loader *val_warp_loader;      /* warp: warp pairs of the validation split */
    double val_epe_last;                       /* warp: last validation dense EPE, -1 = none */
    int B, G, S;                 /* local pairs per step, flow grid, image size */
    size_t flow_floats;          /* B*G*G*2 */
    uint8_t *cand;               /* (B, G, G) pseudo-label candidates (dilated mask) */
    struct scorr_select_ws sel;
    int64_t steps_per_epoch;
    /* position */
    int epoch;                   /* current epoch (0-based) */
    int64_t step_in_epoch;       /* steps of this epoch taken */
    int64_t global_step;         /* optimiser steps taken */
    int64_t run_steps;           /* steps taken by this process run */
    double lr[2];                /* this epoch's learning rates (head, backbone) */
    double ratio, lambda;        /* this epoch's selection ratio and pseudo weight */
    double epoch_loss[2][3];     /* this epoch's mean loss, gt, pseudo of network A and the peer */
    double epoch_pq[2][2 * SCORR_PQ_SETS]; /* this epoch's pseudo-label quality counts, both */
    double val_last[2];          /* last validation PCK of network A and the peer, -1 = none */
    /* best so far: the highest validation PCK; variant warp: the lowest
     * validation dense EPE (grid units), kept in the same field */
    int best_epoch, best_peer;
    double best_pck;
    /* outputs (rank 0) */
    FILE *steps_csv, *epochs_csv;
    struct scorr_progress progress;
    double t_start, t_compute, t_comm;
    double t_grad_exposed;      /* part of t_comm: the gradient exchange not hidden by the backward */
    /* wall time of the training steps of this run (load + step), the run's
     * first step left out (oneDNN kernel generation, first touch) */
    double t_steps;
    int64_t steps_timed;
    double t_grad_timed;         /* t_grad_exposed of those steps */
    const char *dump_grads;      /* see scorr_train_options */
    /* a NaN or Inf in this process's gradients or updated weights (the
     * message; "" = none), agreed on at the step's end */
    char diverged[1024];
    int lock_fd;                 /* rank 0: the output folder's lock, -1 = none */
    /* rank 0: <output>/STOP, polled every step: its existence asks for a
     * checkpoint and exit 3 like a signal (the SLURM template creates it when
     * it is signalled, so a stop does not depend on mpirun passing signals
     * on); removed once acted on */
    char stop_path[1100];
    int stop_file;               /* rank 0: the STOP file made the run stop */
    char stop_why[1200];          /* why the run stopped, for the message ("" = budget) */
    int from_scratch;            /* see scorr_train_options */
    /* when the models' arenas are given back to the kernel (train_release_memory):
     * 1 before validation and checkpoint writes (default), 0 never, 2 also
     * after every step; environment SCORR_TEST_RELEASE=0 | step for the
     * tests that check it changes no bits (test_train_memory) */
    int release;
};

/* train_step.c: the forward of a model on a batch (reading the loader's
 * images in place when they are one block of the model's batch). */
const float *train_forward(struct scorr_model *m, const struct scorr_batch *b);
/* train_step.c: scorr_model_release on every model of this process (t->release). */
void train_release_memory(struct trainer *t);

/* train_step.c: one optimiser step of every local network on this rank's
 * share of global batch t->step_in_epoch of t->epoch. Collective over world. */
int train_step(struct trainer *t, const struct scorr_batch *batch);

/* train_validate.c: PCK of every network of the run on the validation split
 * (each group evaluates its own; results known to all ranks). Collective. */
int train_validate(struct trainer *t);

/* train_output.c: output files (rank 0 writes; others no-ops). */
int train_output_open(struct trainer *t, int resumed);
void train_output_step(struct trainer *t);
void train_output_epoch(struct trainer *t, double seconds);
/* What the model's convolutions compute in: "fp32", "bf16, native (...)" or
 * "fp32 (bf16 requested; ...)" when the CPU has no native bf16. */
void train_precision_text(const struct trainer *t, char *buf, size_t n);
int train_output_summary(struct trainer *t, int finished, double seconds);
/* Does <output>/summary.json exist and say finished? Local. */
int train_output_finished(const struct trainer *t);
/* World rank 0: create the output folder, take its lock (<output>/.lock,
 * fcntl, held until the process ends; a second run on the folder is
 * refused) and remove the temporaries that killed runs left there. */
int train_output_lock(struct trainer *t);
void train_output_close(struct trainer *t);

/* train_ckpt.c: write the resume checkpoint (collective: the peer network's
 * state travels to world rank 0 in mt over two groups) and best.h5. */
int train_save_checkpoint(struct trainer *t);
int train_save_best(struct trainer *t, int which);
/* A fresh run's initial weights of network A as <output>/init.h5 (the
 * untrained reference for evaluation; reproducibility). Collective. */
int train_save_init(struct trainer *t);
/* Resume from the latest checkpoint if there is one; *resumed = 1 if so. Collective. */
int train_try_resume(struct trainer *t, int *resumed);
/* A fresh network's initial weights: model.weights (every tensor), then
 * model.backbone.weights (the backbone's tensors; from a weights file, every
 * tensor the file has, as before), each a scorr weights file or a checkpoint
 * / best.h5 (its network A). Errors name the key, the file and the tensor.
 * Local. */
int train_load_initial(struct trainer *t, struct train_net *n);

#endif
