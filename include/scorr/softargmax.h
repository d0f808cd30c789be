/* Fused bilinear upsampling of the 4D correlation + soft-argmax, forward and
 * backward (steps 5 and 6 of the head).
 *
 * Reference computation, per pair, with both images on an (h, w) grid,
 * G_y = h*up, G_x = w*up, and U_y (G_y x h), U_x (G_x x w) the bilinear
 * align_corners=True interpolation matrices (2 non-zeros per row):
 *
 *   Cup[S, T] = sum_{s,t} U(S, s) U(T, t) C[t, s]     U(S, s) = U_y(Sy,sy) U_x(Sx,sx)
 *   p[., T]   = softmax_S((Cup[S, T] - max_S Cup[., T]) / beta)
 *   gx[T]     = sum_S p[S, T] * xgrid[Sx]     (gy likewise with ygrid[Sy])
 *   flow[T]   = ((gx + 1) * (G_x - 1) / 2 - Tx, (gy + 1) * (G_y - 1) / 2 - Ty)
 *
 * The grids are the reference's x_normal / y_normal: linspace(-1, 1, G)
 * (the paper's fixed soft-argmax), or given values when the model learns
 * them (model.learn_grid; the reference's nn.Parameter, which its AdamW
 * trains); backward then also gives their gradients.
 *
 * The (G_y*G_x)^2 matrix Cup is never materialised: per pair, every row of C
 * is first interpolated along the source x axis (AX, (Lt, h, G_x)); for each
 * target T the column Cup[., T] is then built in a per-thread buffer from 4
 * AX rows (target taps) and the source y taps, and reduced (max, sum of
 * exponentials, expectations). Backward rebuilds each column, forms
 * dCup[., T], pushes it through the source y taps, and accumulates it through
 * the target x taps into a per-target-row buffer owned by one thread; a last
 * pass per coarse row applies the target y taps and the transposed source x
 * taps into dC. Every output element is written by one thread in a fixed
 * order, so results are bit-identical for any number of OpenMP threads.
 * Local (no MPI).
 *
 * Layout: C is target-major, (B, Lt, Ls) with Ls = Lt = h*w (see corr.h);
 * flow is NHWC (B, G_y, G_x, 2) with (x, y) in grid units on the target grid,
 * pointing into the source. */
#ifndef SCORR_SOFTARGMAX_H
#define SCORR_SOFTARGMAX_H

#include <stddef.h>
#include <stdint.h>

struct scorr_softargmax_shape {
    int b;        /* pairs */
    int h, w;     /* coarse grid (both images) */
    int up;       /* upsampling factor >= 1 */
    float beta;   /* softmax temperature (0.02 in the paper) */
    int nthreads; /* OpenMP threads the scratch was sized for (>= 1) */
};

/* Per-(pair, target) statistics saved by the forward for the backward:
 * (B, G_y*G_x, 4) = (column maximum, sum of exponentials, gx, gy). */
#define SCORR_SOFTARGMAX_NSTAT 4
size_t scorr_softargmax_stats_floats(const struct scorr_softargmax_shape *s);

/* Scratch floats for forward and backward (the same buffer serves both):
 * interpolation taps and grids, one pair's AX (h*w, h, G_x), per-thread
 * column buffers, and for backward a (G_y, w, h, G_x) partial gradient
 * (G_x rounded up to a multiple of 8) and per-target-row grid gradients
 * (G_y, G_x + G_y). About 5 MiB at h = w = 16, up = 4. */
size_t scorr_softargmax_scratch_floats(const struct scorr_softargmax_shape *s);
/* The smaller scratch enough for the forward alone. */
size_t scorr_softargmax_forward_scratch_floats(const struct scorr_softargmax_shape *s);

/* One output row of a 1D bilinear map with align_corners=True:
 * out[o] = l0 * in[i0] + l1 * in[i1], computed exactly as PyTorch does in
 * float (scale = (in-1)/(out-1), i0 = trunc(scale*o), i1 = i0 + (i0 < in-1),
 * l1 = scale*o - i0, l0 = 1 - l1; identity when in == out). */
struct scorr_interp_tap {
    int32_t i0, i1;
    float l0, l1;
};
void scorr_interp_taps(struct scorr_interp_tap *taps, int in, int out);

/* The reference's fixed grid of n cells: np.linspace(-1, 1, n) computed in
 * double (start + i * step, the last point exactly 1), stored as float32. */
void scorr_softargmax_linspace(float *grid, int n);

/* Forward. flow (B, G_y, G_x, 2) out; stats (see above) out, kept for
 * backward; corr (B, Lt, Ls) in, kept for backward. xgrid (G_x), ygrid (G_y):
 * the soft-argmax coordinates, each NULL = linspace(-1, 1). Caller-owned. */
void scorr_softargmax_forward(float *flow, float *stats, const float *corr, const float *xgrid,
                              const float *ygrid, const struct scorr_softargmax_shape *s,
                              float *scratch);

/* Backward: ADDS dL/dcorr into dcorr (B, Lt, Ls), and, where not NULL, dL/dxgrid
 * into dxgrid (G_x) and dL/dygrid into dygrid (G_y), given dflow
 * (B, G_y, G_x, 2), the forward's corr and stats, and the same grids as the
 * forward (NULL = linspace). The grid gradients are summed in a fixed order,
 * so they too are the same for any thread count. */
void scorr_softargmax_backward(float *dcorr, float *dxgrid, float *dygrid, const float *dflow,
                               const float *corr, const float *stats, const float *xgrid,
                               const float *ygrid, const struct scorr_softargmax_shape *s,
                               float *scratch);

#endif
