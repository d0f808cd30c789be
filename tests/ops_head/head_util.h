/* Helpers shared by the head tests: layout conversion at the fixture
 * boundary, random tensors, the unfused (materialising) reference of the
 * upsampling + soft-argmax, and a central-difference gradient checker. */
#ifndef SCORR_TEST_HEAD_UTIL_H
#define SCORR_TEST_HEAD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/rng.h"

/* (N, C, H, W) -> (N, H, W, C) and back; malloc'ed result. */
float *to_nhwc(const float *nchw, int n, int c, int h, int w);
float *to_nchw(const float *nhwc, int n, int c, int h, int w);
/* Per-batch transpose (B, R, C) -> (B, C, R); malloc'ed. */
float *transpose_batched(const float *x, int b, int r, int c);
/* float mask -> uint8 (non-zero = 1); malloc'ed. */
uint8_t *mask_u8(const float *m, size_t n);

/* malloc'ed normal(0, sd) or uniform(lo, hi) tensors from a test stream. */
float *randn(struct scorr_rng *r, size_t n, float sd);
float *randu(struct scorr_rng *r, size_t n, float lo, float hi);
float *zeros(size_t n);
float *copy_of(const float *x, size_t n);

/* scorr_check_close plus a line with the worst absolute and relative error
 * (printed also on success, so the margins are visible in the test log). */
int check_report(const char *what, const float *got, const float *ref, size_t n, double atol,
                 double rtol);

/* sum_i a[i] * b[i] in double */
double dot_d(const float *a, const float *b, size_t n);

/* Unfused reference of the fused op, following the reference model's order
 * (interpolate the source axes, then the target axes; materialise the whole
 * (B, G*G, G*G) upsampled correlation; softmax per target; marginals).
 * corr (B, Lt, Ls) target-major as the fused op; flow (B, Gy, Gx, 2).
 * Backward writes (not adds) dcorr. */
void ref_softargmax_forward(float *flow, const float *corr, int b, int h, int w, int up,
                            float beta);
void ref_softargmax_backward(float *dcorr, const float *dflow, const float *corr, int b, int h,
                             int w, int up, float beta);

/* Central differences of L(x) = sum(f(x) * dout) against an analytic
 * gradient, at `count` random elements of x (n floats).
 *   loss(ctx): evaluates L at the current x (double).
 *   valid(ctx, plus_minus_state): may return 0 to skip an element whose
 *   +/- perturbation crosses a kink (called after each evaluation; see
 *   fd_check's use of it).
 * Passes when |fd - an| <= atol + rtol * |an| for every checked element.
 * Prints the worst element; returns the number of failures. */
typedef double (*fd_loss_fn)(void *ctx);
typedef uint64_t (*fd_state_fn)(void *ctx); /* fingerprint of kink state (0 = none) */
int fd_check(const char *what, float *x, size_t n, const float *analytic, fd_loss_fn loss,
             fd_state_fn state, void *ctx, int count, float h, double atol, double rtol,
             uint64_t seed);

#endif
