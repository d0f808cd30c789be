/* Efficient spatial context encoder (SCE) of SCorrSAN, forward and backward.
 *
 *   n    = f / max(||f||, 1e-12)               over channels (F.normalize)
 *   s_o  = <n(p), n_pad(p + offset_o)>         4k offsets, zero padding k/2
 *   out  = relu([f, s] * W^T + b)              1x1 conv = one GEMM per part
 *
 * Offsets, in this order, as (row, col) into the map padded by k/2: diagonal
 * (i, i); column (i, k/2); anti-diagonal (i, k-1-i); row (k/2, i); i = 0..k-1.
 * W is the PyTorch Conv2d weight (O, C + 4k, 1, 1) read as an (O, C + 4k)
 * row-major matrix: columns [0, C) act on the raw feature, [C, C + 4k) on the
 * similarities.
 *
 * All activations are NHWC float32. Ops are local (no MPI); they use OpenMP
 * threads (at most shape->nthreads); the GEMMs run single-threaded OpenBLAS
 * on slices of the output, one per OpenMP thread (OPENBLAS_NUM_THREADS does
 * not matter). Our own loops give the same bits for any thread count; the
 * GEMMs are reproducible run to run for a fixed thread count. */
#ifndef SCORR_SCE_H
#define SCORR_SCE_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/matmul_bf16.h"

struct scorr_sce_shape {
    int n, h, w; /* images, height, width */
    int c;       /* input channels C */
    int k;       /* kernel size, odd */
    int out;     /* output channels O */
    int nthreads; /* OpenMP threads the scratch was sized for (>= 1) */
};

/* The SCE's GEMMs on the raw feature in bf16 (model.precision: bf16; NULL
 * = float32 everywhere): out += f W[:, :C]^T in the forward, dW[:, :C] +=
 * dy^T f and df += dy W[:, :C] in the backward, each reading bf16 copies
 * (rounded to nearest even) and accumulating in float32 (oneDNN's matmul).
 * The similarity part (4k columns) and everything else stays float32.
 * The buffers belong to the caller (the head's arena). */
struct scorr_sce_bf16 {
    struct scorr_mm_bf16 *fwd, *dw, *din; /* dw, din NULL for a forward-only SCE */
    uint16_t *w;  /* (O, C) W[:, :C] in bf16: scorr_sce_bf16_prepare; kept from the
                   * forward to the backward (the weights do not change between) */
    uint16_t *f;  /* (N*H*W, C) scratch: the input in bf16 */
    uint16_t *dy; /* (N*H*W, O) scratch: the output gradient in bf16 (backward) */
    void *pad;    /* scorr_sce_bf16_pad_bytes of scratch, 64-byte aligned */
};

/* Create the matmuls for the shape (backward: 1 = also the two backward
 * ones); the buffers are left NULL. Errors: oneDNN's (message). Local. */
int scorr_sce_bf16_create(struct scorr_sce_bf16 *b, const struct scorr_sce_shape *s,
                          int backward);
void scorr_sce_bf16_free(struct scorr_sce_bf16 *b);
/* Scratchpad bytes of the largest of the matmuls. */
size_t scorr_sce_bf16_pad_bytes(const struct scorr_sce_bf16 *b);
/* b->w = bf16(weight[:, :C]) (weight (O, C+4k)); once per forward, before
 * the forward of either side. */
void scorr_sce_bf16_prepare(struct scorr_sce_bf16 *b, const float *weight,
                            const struct scorr_sce_shape *s);

/* Number of similarity channels, 4k. */
static inline int scorr_sce_nsim(const struct scorr_sce_shape *s) { return 4 * s->k; }

/* Floats of scratch scorr_sce_backward needs: (N*H*W, 4k) for the similarity
 * gradient plus one C-vector per thread. */
size_t scorr_sce_scratch_floats(const struct scorr_sce_shape *s);

/* Similarity offsets (dy, dx) relative to the centre, in the reference order.
 * dy, dx: 4k ints each, caller-owned. */
void scorr_sce_offsets(int *dy, int *dx, int k);

/* Forward.
 *   out  (N,H,W,O)  result after ReLU; kept for backward
 *   sim  (N,H,W,4k) similarities; kept for backward
 *   nrm  (N,H,W,C)  normalised feature; kept for backward
 *   den  (N,H,W)    max(||f||, 1e-12); kept for backward
 *   in   (N,H,W,C)  raw feature f; must stay unchanged until backward
 *   weight (O, C+4k), bias (O): PyTorch layout
 * All buffers caller-owned (normally the model's arena).
 *   bf16: NULL (float32), or the bf16 GEMMs, prepared for this weight. */
void scorr_sce_forward(float *out, float *sim, float *nrm, float *den, const float *in,
                       const float *weight, const float *bias, const struct scorr_sce_shape *s,
                       const struct scorr_sce_bf16 *bf16);

/* Backward: ADDS d(loss)/d(in) into din (NULL = not needed), d/dW into
 * dweight (O, C+4k) and d/db into dbias (O).
 *   dout (N,H,W,O): gradient w.r.t. out. OVERWRITTEN: the ReLU mask is applied
 *        in place (it is the caller's scratch; saves an N*H*W*O buffer).
 *   out, sim, nrm, den, in: as saved by the forward.
 *   scratch: scorr_sce_scratch_floats(s) floats.
 *   bf16: as given to the forward (NULL = float32). */
void scorr_sce_backward(float *din, float *dweight, float *dbias, float *dout, const float *out,
                        const float *sim, const float *nrm, const float *den, const float *in,
                        const float *weight, const struct scorr_sce_shape *s, float *scratch,
                        const struct scorr_sce_bf16 *bf16);

#endif
