/* Channel L2 normalisation of the head (FeatureL2Norm of the reference):
 *
 *   y = x / r,   r = sqrt(sum_c x_c^2 + 1e-6)
 *
 * over the last (channel) axis of an (M, D) row-major array, i.e. NHWC with
 * M = N*H*W. Note the eps sits inside the root (unlike F.normalize, see
 * sce.h). Local; OpenMP over rows (same bits for any thread count). */
#ifndef SCORR_L2NORM_H
#define SCORR_L2NORM_H

#include <stddef.h>

#define SCORR_L2NORM_EPS 1e-6f

/* out (M,D), r (M): outputs kept for backward. in (M,D). Caller-owned. */
void scorr_l2norm_forward(float *out, float *r, const float *in, size_t m, int d, int nthreads);

/* ADDS dL/din = (dout - out * <out, dout>) / r into din (M,D).
 * dout (M,D); out, r from the forward. din must not alias dout. */
void scorr_l2norm_backward(float *din, const float *dout, const float *out, const float *r,
                           size_t m, int d, int nthreads);
/* The same SET: din = 0 + (dout - out * <out, dout>) / r, the bits of a
 * zeroed din given to scorr_l2norm_backward; din may be dout (in place). */
void scorr_l2norm_backward_set(float *din, const float *dout, const float *out, const float *r,
                               size_t m, int d, int nthreads);

#endif
