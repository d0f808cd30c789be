/* Element-wise ops over flat float32 tensors of n elements (any layout):
 * ReLU and the residual add, forward and backward. Local; OpenMP threads; no
 * allocation. The backbone fuses both into batch norm (batchnorm.h); these
 * standalone forms are the reference the fused paths are tested against and
 * serve other callers. */
#ifndef SCORR_ELTWISE_H
#define SCORR_ELTWISE_H

#include <stddef.h>

#include "scorr/op_common.h"

/* y = max(x, 0) (NaN propagates, as torch.relu). y may be x (in place). */
void scorr_relu_forward(float *y, const float *x, size_t n);

/* dx (+)= dy * (mask > 0), mask = the forward output y or its input x (both
 * are > 0 at the same elements); zero where mask <= 0, as PyTorch's
 * threshold_backward. dx may be dy (in place, SET mode). */
void scorr_relu_backward(float *dx, const float *dy, const float *mask, size_t n,
                         enum scorr_grad_mode mode);

/* y = a + b. y may be a or b. */
void scorr_add_forward(float *y, const float *a, const float *b, size_t n);

/* da (+)= dy, db (+)= dy; either may be NULL (not needed). */
void scorr_add_backward(float *da, float *db, const float *dy, size_t n,
                        enum scorr_grad_mode mode);

#endif
