/* Helpers for the backbone tests: fixture tensors converted from PyTorch's
 * NCHW to NHWC, scale-aware comparisons, a fixture parameter loader. */
#ifndef SCORR_TEST_BB_UTIL_H
#define SCORR_TEST_BB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "scorr/params.h"

/* A fixture tensor: data and its PyTorch shape. */
struct bb_tensor {
    float *d;
    int ndim;
    int64_t shape[SCORR_H5_MAXDIM];
    size_t n;
};

/* Load a dataset as stored (NCHW / OIHW / vectors). Exits 2 if missing. */
struct bb_tensor bb_load(const struct scorr_h5 *f, const char *name);
/* Load a 4-D NCHW dataset and return it as NHWC. */
struct bb_tensor bb_load_nhwc(const struct scorr_h5 *f, const char *name);
void bb_free(struct bb_tensor *t);

/* NCHW <-> NHWC copies (dst must not overlap src). */
void bb_nchw_to_nhwc(float *dst, const float *src, int n, int c, int h, int w);
void bb_nhwc_to_nchw(float *dst, const float *src, int n, int c, int h, int w);

/* |got - ref| <= atol + rtol |ref| with atol = afrac * max|ref| (at least
 * 1e-30): absolute error of a float32 computation scales with the tensor's
 * magnitude, and elements near zero come out of cancellations. Returns 1 on
 * mismatch (scorr_check_close prints the worst element). */
int bb_close(const char *what, const float *got, const float *ref, size_t n, double rtol,
             double afrac);

/* 64-byte aligned zeroed floats / bytes (free with scorr_aligned_free). */
float *bb_floats(size_t n);
void *bb_bytes(size_t n);

/* Fill every table entry from dataset "<group>/<name minus strip>" of f. */
void bb_load_params(const struct scorr_h5 *f, const char *group, const struct scorr_params *t,
                    float *flat, const char *strip);

/* Deterministic pseudo-random floats in [-1, 1) (xorshift; test-local). */
void bb_fill(float *x, size_t n, uint64_t seed);



/* Central difference of loss() w.r.t. *p (perturbed by +-h and restored),
 * divided by the float perturbation actually applied. */
double bb_fd(double (*loss)(void *), void *ctx, float *p, float h);

/* Finite-difference check of one element: |fd - an| <= tol * max(1, |fd|, |an|);
 * prints and counts a failure otherwise. */
void bb_fd_check(const char *what, size_t idx, double fd, double an, double tol);

/* sum(y * w) in double. */
double bb_dot(const float *y, const float *w, size_t n);
#endif
