/* Checkpoints: one HDF5 file per checkpoint (docs/checkpoint-format.md).
 *
 *   /                 attrs: format = "scorr-checkpoint", version = 1,
 *                     scorr_version, variant, epoch, steps_in_epoch, step,
 *                     best_epoch, best_pck, best_peer, seed, rng, has_optim,
 *                     has_peer
 *   /config           [1] variable-length UTF-8 string: the resolved experiment YAML
 *   /params/<name>    float32, the PyTorch shape: network A's tensors
 *                     (parameters and batch-norm buffers, table order)
 *   /optim/m/<name>, /optim/v/<name>
 *                     float32 Adam moments of the trained tensors;
 *                     /optim attr step = Adam step count
 *   /peer/params/..., /peer/optim/...   the second network (variant mt)
 *   /epoch_sums       float64 [2, SCORR_CKPT_EPOCH_SUMS] (optional): per
 *                     network (A, peer) the sums of loss, loss_gt,
 *                     loss_pseudo over the steps of the current epoch taken
 *                     so far, their count, and the epoch's pseudo-label
 *                     quality counts (include/scorr/pseudo_quality.h), so a
 *                     run resumed mid-epoch logs the same epochs.csv row
 *
 * Names are the torchvision/PyTorch names of the parameter table, so a
 * checkpoint maps one-to-one to a state_dict. Every file is written at a
 * temporary name, fsynced and renamed (include/scorr/h5.h): a crash never
 * leaves a partial file under a final name.
 *
 * Files of a run: <output>/checkpoints/step_<08d>.h5 (the latest valid one
 * is the resume point; keep_last of them are kept) and <output>/best.h5 (the
 * best validation PCK so far; in mt the better peer's network only, no
 * optimiser state), which pruning never touches.
 *
 * The RNG needs no stored stream: every random draw is keyed by (seed,
 * epoch, sample), so (seed, epoch, steps_in_epoch) is the whole RNG state.
 *
 * All functions are local: rank 0 writes; every rank may read. */
#ifndef SCORR_CHECKPOINT_H
#define SCORR_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/config.h"
#include "scorr/h5.h"
#include "scorr/optim.h"
#include "scorr/params.h"

#define SCORR_CKPT_FORMAT "scorr-checkpoint"
#define SCORR_CKPT_VERSION 1
/* Columns of /epoch_sums: loss, loss_gt, loss_pseudo, steps, then the
 * 2 * SCORR_PQ_SETS pseudo-label quality counts. */
#define SCORR_CKPT_EPOCH_SUMS 10

/* Where training stands. Resume continues in `epoch` after its first
 * `steps_in_epoch` steps (an epoch-end checkpoint says epoch + 1, 0). */
struct scorr_ckpt_meta {
    char variant[16];       /* baseline | st | mt | warp */
    int64_t epoch;          /* 0-based epoch to continue in */
    int64_t steps_in_epoch; /* steps of that epoch already taken */
    int64_t step;           /* global optimiser steps taken (names the file) */
    int64_t best_epoch;     /* epoch of the best validation PCK, -1 = none yet */
    double best_pck;        /* that PCK (percent), -1 = none yet; warp: the lowest val dense EPE */
    int64_t best_peer;      /* mt: 0 = network A, 1 = the peer; else 0 */
    uint64_t seed;          /* the experiment seed (RNG key) */
    double epoch_sums[2][SCORR_CKPT_EPOCH_SUMS]; /* /epoch_sums (zeros when the file has none) */
};

/* One network's state. params: table->total floats. opt: Adam state, or NULL
 * to write/read the parameters only. The table and buffers stay the
 * caller's. */
struct scorr_ckpt_net {
    const struct scorr_params *table;
    float *params;
    struct scorr_adamw *opt;
};

/* Write one checkpoint atomically at `path`. config_yaml: the resolved
 * config (scorr_config_emit). peer: the second network (mt) or NULL. */
int scorr_ckpt_write(const char *path, const struct scorr_ckpt_meta *meta,
                     const char *config_yaml, const struct scorr_ckpt_net *a,
                     const struct scorr_ckpt_net *peer);

/* Write <output>/checkpoints/step_<08d meta->step>.h5 (folder created), then
 * delete older step files beyond the newest keep_last valid ones (and
 * temporaries left by dead writers). path_out (may be NULL, >= 4096 bytes)
 * receives the path written. */
int scorr_ckpt_save(const char *output, const struct scorr_ckpt_meta *meta,
                    const char *config_yaml, const struct scorr_ckpt_net *a,
                    const struct scorr_ckpt_net *peer, int keep_last, char *path_out);

/* Write <output>/best.h5 atomically: one network's parameters (no optimiser
 * state, no peer) with meta and config. */
int scorr_ckpt_save_best(const char *output, const struct scorr_ckpt_meta *meta,
                         const char *config_yaml, const struct scorr_ckpt_net *net);

/* Open a checkpoint and check it is one: format, version, root attributes,
 * /config, /params (and /optim, /peer as its attributes announce). Fills
 * meta; *config_yaml (may be NULL) receives the stored config text, caller
 * frees. Errors name the file and what is wrong. */
int scorr_ckpt_inspect(const char *path, struct scorr_ckpt_meta *meta, char **config_yaml,
                       int *has_optim, int *has_peer);

/* The latest usable checkpoint of a run: the highest-step
 * <output>/checkpoints/step_<08d>.h5 that scorr_ckpt_inspect accepts; files
 * that do not (truncated, garbage) are skipped with a warning. *found = 0
 * when there is none (not an error). path_out: >= 4096 bytes. */
int scorr_ckpt_find_latest(const char *output, char *path_out, size_t n, int *found);

/* *n = the number of <output>/checkpoints/step_<08d>.h5 files, usable or
 * not (0 without the folder). */
int scorr_ckpt_count(const char *output, int *n);

/* Delete step files older than the newest keep_last valid ones, and stale
 * temporaries of writers that are gone. Never touches best.h5 or the newest
 * valid file. */
int scorr_ckpt_prune(const char *output, int keep_last);

/* Resume: read everything into a (and peer for mt) after checking that the
 * checkpoint's stored config may be resumed with `cfg`
 * (scorr_config_check_resume) and that its tensors fit the tables (names,
 * shapes; moments of exactly the trained tensors). meta receives the
 * position. */
int scorr_ckpt_load(const char *path, const struct scorr_config *cfg,
                    struct scorr_ckpt_meta *meta, struct scorr_ckpt_net *a,
                    struct scorr_ckpt_net *peer);

/* Load one network's parameters (no optimiser state) from a checkpoint or
 * best.h5: a teacher (st), an evaluation, a warm start. `what` names the
 * file's role in messages ("teacher checkpoint"). In mt checkpoints,
 * which = 0 reads network A, 1 the peer. A mismatch with the table names the
 * architecture key that differs (from the file's stored config against cfg,
 * when cfg is given), the tensor, and expected vs found. */
int scorr_ckpt_load_params(const char *path, const char *what, const struct scorr_config *cfg,
                           int which, const struct scorr_params *table, float *params);

/* Per-table tensor I/O under an HDF5 group ("/params"): one float32 dataset
 * per table entry, named by the entry, PyTorch shape. trained_only: only
 * entries the optimiser trains (Adam moments). Swappable for the model's
 * weights reader/writer (src/model/weights.c) once it lands. */
int scorr_ckpt_write_tensors(struct scorr_h5 *f, const char *group,
                             const struct scorr_params *t, const float *flat, int trained_only);
/* Read them back, checking the group holds exactly the expected entries
 * (missing, extra, or wrongly shaped tensors are errors naming the file,
 * group, tensor, expected and found; `what` prefixes the message). */
int scorr_ckpt_read_tensors(const struct scorr_h5 *f, const char *group,
                            const struct scorr_params *t, float *flat, int trained_only,
                            const char *what);

#endif
