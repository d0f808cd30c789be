/* The training and evaluation data path (docs/data-path.md): reads each
 * rank's share of a global mini-batch straight from the dataset file, applies
 * the training flip and photometric augmentation, normalises, and builds the
 * sparse flow labels at the loss grid.
 *
 * Sample order: epoch e is a permutation of the split's P pairs drawn from
 * the counter RNG keyed by (seed, stream SCORR_RNG_ORDER, counter (e, 0, 0))
 * (identity when shuffle is off). Global batch b of epoch e is
 * perm[b*GB .. (b+1)*GB); rank r of R takes the contiguous slice
 * [r*GB/R, (r+1)*GB/R) of it. Steps per epoch = floor(P / GB): the last
 * partial batch is dropped so every rank count sees the same samples.
 * Augmentation is keyed by (seed, epoch, pair index, side), so what a sample
 * sees never depends on the number of ranks, and a run resumed at
 * (epoch, step) sees exactly what an uninterrupted one would.
 *
 * Local: each rank opens the file itself and reads only its samples' image
 * rows (HDF5 hyperslabs); no MPI here. All HDF5 calls happen on the calling
 * thread; augmentation, normalisation and labels run with OpenMP over the
 * samples. All memory is sized at open; loading a batch does not allocate. */
#ifndef SCORR_LOADER_H
#define SCORR_LOADER_H

#include <stdint.h>

#include "scorr/warp.h"

/* The seed of the validation warps (fixed, so every run and seed is
 * validated on the same warp pairs). */
#define SCORR_WARP_VAL_SEED 20220101u

struct scorr_loader_config {
    const char *path;     /* dataset file */
    const char *split;    /* "trn", "val", "test" */
    int batch_global;     /* GB: samples per global batch (> 0, divisible by num_ranks) */
    int rank, num_ranks;  /* this rank's share; (0, 1) on one process */
    uint64_t seed;
    int shuffle;          /* permute the split every epoch (training) */
    int augment;          /* photometric augmentation (training) */
    float aug_prob;       /* probability of each augmentation (0.2) */
    int apply_flip;       /* honour the split's flip flags (PF-PASCAL training) */
    int stride;           /* loss grid stride: G = S / stride (4) */
    int box;              /* receptive box of the sparse labels; 0 = 2*stride + 3 */
    int dense;            /* also deliver the split's dense true flow at the loss grid
                           * (batch->dense) when the split has one (synthetic data) */
    /* Warp mode (warp pretraining): samples are the split's images (every
     * image a source or target of its pairs, in row order), each used
     * warp_repeat times per epoch (sample s -> image s mod N); a sample is
     * the pair scorr_warp_render makes from its image with the warp drawn
     * from (seed, epoch, s), with dense flow and mask. Labels of the file
     * are not read: no keypoints (M = 0), boxes are the whole image, the
     * PCK threshold is S, category 0, no flip. */
    int warp;
    struct scorr_warp_config warp_cfg;
    int warp_repeat;      /* >= 1 */
};

/* Defaults for training (shuffle, augment p = 0.2, flip, stride 4) on one rank. */
void scorr_loader_config_train(struct scorr_loader_config *c, const char *path, int batch_global,
                               uint64_t seed);
/* Defaults for evaluation (no shuffle, augmentation or flip, stride 4). */
void scorr_loader_config_eval(struct scorr_loader_config *c, const char *path, const char *split,
                              int batch);

/* One rank's share of a batch; arrays owned by the loader, valid until the next load.
 * n = samples in this share (GB / R for steps), S = image size, G = S / stride,
 * M = the split's max keypoints. */
struct scorr_batch {
    int n, S, G, M;
    float *src, *trg;             /* (n, S, S, 3) ImageNet-normalised RGB; trg = src +
                                   * (GB / R) S S 3: a full share's images are one
                                   * (2n, S, S, 3) block */
    uint8_t *src_u8, *trg_u8;     /* (n, S, S, 3) the same images before normalisation */
    float *flow;                  /* (n, G, G, 2) sparse labels, grid units, 0 where none */
    uint8_t *mask;                /* (n, G, G) 1 where labelled */
    float *src_kps, *trg_kps;     /* (n, M, 2) (x, y) at S, NaN past num_kps */
    int32_t *num_kps;             /* (n) */
    float *src_bbox, *trg_bbox;   /* (n, 4) x1 y1 x2 y2 at S */
    int32_t *category;            /* (n) */
    int64_t *pair;                /* (n) pair index in the split (warp mode: sample index) */
    uint8_t *flipped;             /* (n) 1 if the flip was applied */
    float *pck_thr;               /* (n) the dataset's PCK threshold T of the pair, pixels */
    /* (n, G, G, 2) the true flow at the loss grid, grid units, NaN where the
     * target cell has no visible source point; NULL unless the config asks
     * for it and the split has dense flow. Cell (r, c) takes the dataset's
     * flow at its label-box centre pixel (c*stride + stride/2, r*stride +
     * stride/2) divided by the stride; a flipped pair mirrors the cells
     * (cell c <- cell G-1-c) and negates dx, as the images. */
    float *dense;
};

struct scorr_loader;

/* Open the file and split, check the config, size all buffers. Errors name the
 * file, split and values (unknown split, GB not divisible by R, fewer pairs
 * than one global batch, S not divisible by the stride). Local. */
int scorr_loader_open(const struct scorr_loader_config *c, struct scorr_loader **out);
void scorr_loader_close(struct scorr_loader *l);

int64_t scorr_loader_num_pairs(const struct scorr_loader *l);
/* floor(P / GB) */
int64_t scorr_loader_steps_per_epoch(const struct scorr_loader *l);
int scorr_loader_image_size(const struct scorr_loader *l);
/* 1 if batches carry the dense true flow (config dense and the split has it). */
int scorr_loader_has_dense(const struct scorr_loader *l);
/* M: the split's max keypoints per pair (0 in warp mode, or when the file
 * has no keypoints). */
int scorr_loader_max_kps(const struct scorr_loader *l);

/* The epoch's sample order: perm (P) of pair indices. Pure function of
 * (seed, epoch); identity when shuffle is off. */
void scorr_loader_epoch_order(const struct scorr_loader *l, int epoch, int32_t *perm);

/* Load this rank's share of global batch `step` of `epoch`. */
int scorr_loader_load_step(struct scorr_loader *l, int epoch, int64_t step,
                           const struct scorr_batch **out);

/* Load an arbitrary list of pairs (evaluation, tests): n <= GB / R. The
 * epoch keys the augmentation (ignored when augment is off). */
int scorr_loader_load_pairs(struct scorr_loader *l, int epoch, const int64_t *pairs, int n,
                            const struct scorr_batch **out);

#endif
