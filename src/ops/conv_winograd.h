/* Winograd convolution F(m x m, 3 x 3) for 3x3, stride-1, pad-1 convs, the
 * three passes (forward, backward-data, backward-weights), NHWC activations,
 * OIHW weights. Private to src/ops (conv.c dispatches to it for
 * SCORR_CONV_WINOGRAD; docs/performance.md has the method and measurements).
 *
 * m = 4 (6 x 6 input tiles: 36 GEMMs of a quarter of the direct FLOPs) when
 * both spatial sizes are at least 16, else m = 2 (4 x 4 tiles, 16 GEMMs,
 * 4/9 of the FLOPs). All three passes run in the transformed domain:
 *
 *   forward        Y  = A^T [ U (.) V ] A,  U = G g G^T,  V = B^T d B
 *   backward-data  the same with the flipped, transposed kernel (a stride-1
 *                  pad-1 3x3 conv of dy)
 *   backward-wts   dU = sum over tiles of Z (.) V,  Z = A dY A^T;  dg = G^T dU G
 *
 * where (.) is, per tile element t, a GEMM over channels. The tiles are
 * processed in chunks that bound the scratch; the GEMMs of a chunk run one
 * per OpenMP thread (single-threaded OpenBLAS), the transforms over tiles, so
 * the result does not depend on the thread count. A NaN or Inf in an input
 * tile spreads to the whole output tile (a property of the transforms). */
#ifndef SCORR_OPS_CONV_WINOGRAD_H
#define SCORR_OPS_CONV_WINOGRAD_H

#include <stddef.h>

#include "scorr/conv.h"

/* 1 if the shape can use it: 3x3 kernel, stride 1, pad 1, float32. */
int scorr_conv_wino_eligible(const struct scorr_conv2d_shape *s);

/* Output tile size m (2 or 4) used for this shape. */
int scorr_conv_wino_tile(const struct scorr_conv2d_shape *s);

/* Scratch bytes of a pass (SCORR_CONV_PASS_*). */
size_t scorr_conv_wino_scratch(const struct scorr_conv2d *cv, int pass);

/* y = conv(x, w) (+ b): x (N,H,W,C), y (N,H,W,K) overwritten, w (K,C,3,3), b (K) or NULL. */
void scorr_conv_wino_forward(const struct scorr_conv2d *cv, float *y, const float *x,
                             const float *w, const float *b, void *scratch);
/* dx (N,H,W,C) (+)= d(loss)/dx given dy (N,H,W,K). */
void scorr_conv_wino_backward_data(const struct scorr_conv2d *cv, float *dx, const float *dy,
                                   const float *w, enum scorr_grad_mode mode, void *scratch);
/* dw (K,C,3,3) += d(loss)/dw given dy and the forward input x. */
void scorr_conv_wino_backward_weights(const struct scorr_conv2d *cv, float *dw, const float *dy,
                                      const float *x, void *scratch);

#endif
