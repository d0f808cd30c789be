/* Max pooling over NHWC activations (the ResNet stem's 3x3, stride 2,
 * padding 1), forward and backward.
 *
 *   y[n,oh,ow,c] = max over the window rows oh*s - p + i, cols ow*s - p + j
 *                  (i, j < k) inside the image (padding never wins)
 *
 * Ties go to the first maximum in scan order (row-major over the window) and
 * a NaN wins, as in PyTorch's CPU kernel. The forward stores the winner of
 * each output as an index h*W + w into its image plane (int32), which the
 * backward routes gradients to. Local; OpenMP threads; no allocation. */
#ifndef SCORR_POOL_H
#define SCORR_POOL_H

#include <stdint.h>

#include "scorr/op_common.h"

struct scorr_pool_shape {
    int n, h, w, c;        /* input */
    int k, stride, pad;    /* window, stride, zero-free padding (pad < k) */
};

/* Output size along an axis of length `in` (floor mode, as PyTorch's default). */
static inline int scorr_pool_out(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

/* SCORR_EINVAL unless sizes are positive, pad <= k/2 (PyTorch's rule) and the
 * output is non-empty; `what` names the layer. */
int scorr_maxpool_check(const struct scorr_pool_shape *s, const char *what);

/* Forward: y (N,Ho,Wo,C) overwritten; argmax (N,Ho,Wo,C) int32, the winner's
 * h*W + w (NULL if no backward will follow); x (N,H,W,C). */
void scorr_maxpool_forward(float *y, int32_t *argmax, const float *x,
                           const struct scorr_pool_shape *s);

/* Backward: dx (N,H,W,C) (+)= the dy of every output whose winner it was.
 * Gathers per input element (no write conflicts, any thread count gives the
 * same bits). dx must not overlap dy. */
void scorr_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                            const struct scorr_pool_shape *s, enum scorr_grad_mode mode);

#endif
