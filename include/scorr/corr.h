/* Dense correlation and the mutual nearest-neighbour filter of the head.
 *
 * Layout: correlations are stored TARGET-MAJOR, corr[b, t, s] = (B, Lt, Ls)
 * with the source index s contiguous: the soft-argmax reads, for each target
 * position, a vector over all source positions. (The reference's tensor is
 * (B, Ls, Lt); ours is its transpose per pair. Tests convert.) Local; the
 * GEMMs run single-threaded OpenBLAS on slices, one per OpenMP thread (at
 * most shape->nthreads; OPENBLAS_NUM_THREADS does not matter). */
#ifndef SCORR_CORR_H
#define SCORR_CORR_H

#include <stdint.h>

struct scorr_corr_shape {
    int b;        /* pairs */
    int ls, lt;   /* source and target positions (h*w each in the head) */
    int d;        /* channels */
    int nthreads; /* OpenMP threads (>= 1) */
};

/* corr[b, t, s] = <src[b, s, :], trg[b, t, :]>: one GEMM per pair.
 *   corr (B, Lt, Ls) out; src (B, Ls, D); trg (B, Lt, D) (NHWC features,
 *   flattened positions). Caller-owned. */
void scorr_corr_forward(float *corr, const float *src, const float *trg,
                        const struct scorr_corr_shape *s);

/* ADDS the gradients: dsrc (B, Ls, D) += dcorr^T trg, dtrg (B, Lt, D) +=
 * dcorr src. Either may be NULL (not needed). dcorr (B, Lt, Ls). */
void scorr_corr_backward(float *dsrc, float *dtrg, const float *dcorr, const float *src,
                         const float *trg, const struct scorr_corr_shape *s);

/* Mutual nearest-neighbour filter (Rocco et al. NeurIPS'18), per pair:
 *
 *   out = C * ((C / ms[s]) * (C / mt[t]))
 *
 * ms[s] = max over targets of C[., s] and mt[t] = max over sources of C[t, .];
 * a maximum that is exactly 0 is replaced by 1e-30 (as the reference does);
 * negative maxima are used as they are. Argmax ties resolve to the FIRST
 * index, as torch.max(dim) does, which is where backward routes the maximum's
 * gradient.
 *   out  (B, Lt, Ls)       filtered correlation
 *   smax (B, Ls), sarg (B, Ls): per-source maximum over targets and its target index
 *   tmax (B, Lt), targ (B, Lt): per-target maximum over sources and its source index
 *   corr (B, Lt, Ls)       input; kept for backward
 * s->d is unused. */
void scorr_mnn_forward(float *out, float *smax, int32_t *sarg, float *tmax, int32_t *targ,
                       const float *corr, const struct scorr_corr_shape *s);

/* ADDS dL/dcorr into dcorr (B, Lt, Ls), including the gradient through both
 * maxima (routed to their argmax elements). dout (B, Lt, Ls). */
void scorr_mnn_backward(float *dcorr, const float *dout, const float *corr, const float *smax,
                        const int32_t *sarg, const float *tmax, const int32_t *targ,
                        const struct scorr_corr_shape *s);

#endif
