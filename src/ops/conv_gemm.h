/* Convolutions as BLAS sgemm over NHWC rows (1x1 stride 1 directly, others
 * through im2col), and the bias gradient shared by every conv algorithm.
 * Private to src/ops (conv.c). */
#ifndef SCORR_OPS_CONV_GEMM_H
#define SCORR_OPS_CONV_GEMM_H

#include <stddef.h>

#include "scorr/conv.h"

/* Scratch bytes of a GEMM pass (im2col chunk and OHWI weights). */
size_t scorr_conv_gemm_scratch(const struct scorr_conv2d *cv, int pass);

/* y = col(x) W^T (+ b): (N*Ho*Wo, kh*kw*C) x (kh*kw*C, K). */
void scorr_conv_gemm_forward(const struct scorr_conv2d *cv, float *y, const float *x,
                             const float *w, const float *b, void *scratch);
/* dx (+)= col2im(dy W). */
void scorr_conv_gemm_backward_data(const struct scorr_conv2d *cv, float *dx, const float *dy,
                                   const float *w, enum scorr_grad_mode mode, void *scratch);
/* dw += dy^T col(x), into the OIHW gradient. */
void scorr_conv_gemm_backward_weights(const struct scorr_conv2d *cv, float *dw, const float *dy,
                                      const float *x, void *scratch);
/* db[k] += sum over rows of dy[., k]. */
void scorr_conv_bias_grad(const struct scorr_conv2d *cv, float *db, const float *dy);

#endif
