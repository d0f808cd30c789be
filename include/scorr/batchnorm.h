/* Batch normalisation over NHWC activations, forward and backward, with an
 * optional fused residual add and ReLU:
 *
 *   y = act( gamma * (x - mean) * invstd + beta  [+ residual] ),  act = ReLU or identity
 *
 * Modes:
 *  - SCORR_BN_FROZEN (default): mean/var are the running statistics
 *    (PyTorch eval mode); invstd = 1/sqrt(running_var + eps). Backward gives
 *    dgamma, dbeta and dx = g * gamma * invstd.
 *  - SCORR_BN_BATCH (PyTorch train mode): mean and biased variance of the
 *    batch normalise; running_mean/var are updated with momentum and the
 *    UNBIASED variance, r = (1 - m) r + m stat. The statistics are taken
 *    separately over each of `groups` equal contiguous slices of the batch,
 *    as if each slice went through PyTorch in its own call, slice 0 first
 *    (so the running statistics see slice 0's update, then slice 1's, ...).
 *    Backward is the full batch-statistics gradient, per slice.
 *
 * Synchronised batch statistics (shape->sync, BATCH mode): when the batch is
 * split across processes (data-parallel ranks), each of them holding an
 * equal share of every slice, the per-channel sums of the statistics
 * (forward) and of their gradients (backward) are summed over the processes
 * through sync->sum, so every process normalises with the statistics of the
 * whole slice, as one process holding the whole batch would (PyTorch's
 * SyncBatchNorm). The result then does not depend on how the batch is
 * split, up to float rounding. dgamma and dbeta stay local (the caller sums
 * gradients over the processes anyway). Two sum calls per forward, one per
 * backward, of 2 * groups * C doubles at most. sync NULL or nranks 1: local.
 *
 * Tensors: x, y, residual, dy, dx, dres (N, HW, C) contiguous (NHWC with
 * HW = H*W); gamma, beta, running_mean, running_var, dgamma, dbeta (C);
 * save_mean, save_invstd (groups, C). Reductions accumulate in double over
 * fixed row chunks whose partial sums are added in order, so results do not
 * depend on the thread count. Local; OpenMP threads; no allocation. */
#ifndef SCORR_BATCHNORM_H
#define SCORR_BATCHNORM_H

#include <stddef.h>

#include "scorr/op_common.h"


/* How batch statistics are summed across processes (see above). sum adds
 * buf (n doubles) in place over all nranks processes and leaves the same
 * bits on each; it must not fail (an MPI failure aborts). */
struct scorr_bn_sync {
    void (*sum)(void *ctx, double *buf, int n);
    void *ctx;
    int nranks; /* processes the batch is split over; each holds n images */
};

struct scorr_bn_shape {
    int n;          /* images */
    int hw;         /* positions per image (H*W) */
    int c;          /* channels */
    int groups;     /* >= 1, divides n; used in BATCH mode (FROZEN ignores it) */
    float eps;      /* 1e-5 (PyTorch default) */
    float momentum; /* 0.1 (PyTorch default) */
    const struct scorr_bn_sync *sync; /* BATCH mode across processes; NULL = local */
};

/* Floats of scratch forward and backward need (about 134 * groups * C: the
 * per-chunk partial sums of the reductions, in double). 64-byte aligned. */
size_t scorr_bn_scratch_floats(const struct scorr_bn_shape *s);

/* Validate a shape; SCORR_EINVAL naming `what` (e.g. the layer name). BATCH
 * mode needs more than one value per channel per group. */
int scorr_bn_check(const struct scorr_bn_shape *s, enum scorr_bn_mode mode, const char *what);

/* Forward. y overwritten (may be x itself, in place; must not overlap
 * residual); residual NULL =
 * none; relu 1 = ReLU after the add. save_mean/save_invstd (groups, C) receive
 * the statistics used (FROZEN: the running ones, every row equal), for
 * backward. running_mean/var are read in FROZEN mode and updated in BATCH
 * mode. scratch: scorr_bn_scratch_floats(s) floats. */
void scorr_bn_forward(float *y, float *save_mean, float *save_invstd, const float *x,
                      const float *residual, const float *gamma, const float *beta,
                      float *running_mean, float *running_var, enum scorr_bn_mode mode,
                      int relu, const struct scorr_bn_shape *s, float *scratch);

/* The output of the last forward again, from its input and the statistics
 * it saved (save_mean, save_invstd; nothing updated): the same bits as the
 * forward's y, which calls it. The backbone recomputes its ReLU outputs
 * with it instead of keeping them for the backward. scratch as forward. */
void scorr_bn_apply(float *y, const float *x, const float *residual, const float *gamma,
                    const float *beta, const float *save_mean, const float *save_invstd,
                    enum scorr_bn_mode mode, int relu, const struct scorr_bn_shape *s,
                    float *scratch);

/* Backward of the forward above, with g = relu ? dy * (y > 0) : dy:
 *   dx   (N,HW,C): d/dx,        SET or ADDED per dmode; NULL = not needed
 *   dres (N,HW,C): d/dresidual = g, SET or ADDED per dmode; NULL = not needed
 *   dgamma, dbeta (C): ADDED; NULL = not needed
 *   dy: gradient w.r.t. y; y: the forward output (read only when relu);
 *   x: the forward input; gamma; save_mean/save_invstd from the forward.
 * dx may be the same buffer as dy (in place); dres must not overlap dy or
 * dx. scratch: scorr_bn_scratch_floats(s) floats. */
void scorr_bn_backward(float *dx, float *dres, float *dgamma, float *dbeta, const float *dy,
                       const float *y, const float *x, const float *gamma,
                       const float *save_mean, const float *save_invstd,
                       enum scorr_bn_mode mode, int relu, enum scorr_grad_mode dmode,
                       const struct scorr_bn_shape *s, float *scratch);

#endif
