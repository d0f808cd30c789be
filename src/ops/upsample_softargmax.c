/* Fused bilinear upsampling + soft-argmax (see include/scorr/softargmax.h).
 *
 * Per pair, first the source x-interpolation of every row of C:
 *   AX[t, sy, Sx] = sum_sx U_x(Sx, sx) C[t, (sy, sx)]                 (Lt, h, G_x)
 * then per target T = (Ty, Tx):
 *   a[sy, :]   = target taps: 4 rows AX[t], t = the 2 x 2 coarse neighbours of T
 *   col[Sy, :] = source y-taps of a                                    (G_y, G_x)
 * and the softmax statistics and expectations of col. The column lives in a
 * per-thread buffer (16 KB at G = 64) and never leaves the cache. Rows are
 * padded to a multiple of 8 floats for the vector loops; padding lanes of AX
 * hold PAD_VALUE, which every interpolation keeps (weights sum to 1), so in
 * the column they never win the maximum, their exp is exactly 0 and their
 * gradient is 0: no masks in the inner loops. Divisions by beta and by the
 * sum are multiplications by their reciprocals (1 ulp, inside the tests'
 * error bound; vdivps would cost a third of the loop).
 *
 * Backward rebuilds the column row by row, forms dcol and pushes it through
 * the source y-taps into da (h, G_x). One thread owns a whole target row Ty
 * and adds each da, in Tx order, through the target x-taps into
 * E[Ty] (w, h, G_x). A second pass, one coarse row per thread, gathers
 * through the target y-taps and finally through the source x-taps (the
 * transpose of AX) into dC. Every element is written by one thread in a fixed
 * order, so the result does not depend on the thread count; the x-taps are
 * transposed once per coarse target, not once per fine target. */
#include "scorr/softargmax.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "scorr/error.h"
#include "vec8.h"

#define PAD16(n) (((size_t)(n) + 15) & ~(size_t)15)
#define PAD_VALUE (-1e30f)

/* One entry of the transposed x map: source column sx receives weight l
 * times fine column x. */
struct xtap {
    int32_t x;
    float l;
};

struct geom {
    int b, h, w, gy, gx, gxp, ls, gg;
    float beta;
};

static struct geom geom_of(const struct scorr_softargmax_shape *s)
{
    SCORR_ASSERT(s->b >= 1 && s->h >= 1 && s->w >= 1 && s->up >= 1 && s->nthreads >= 1);
    SCORR_ASSERT(s->beta > 0.0f);
    struct geom g;
    g.b = s->b;
    g.h = s->h;
    g.w = s->w;
    g.gy = s->h * s->up;
    g.gx = s->w * s->up;
    g.gxp = (g.gx + 7) & ~7;
    g.ls = s->h * s->w;
    g.gg = g.gy * g.gx;
    g.beta = s->beta;
    return g;
}

/* Scratch layout (floats): taps_y, taps_x, transposed x taps and their
 * per-column starts, grid_y, grid_x (padded), AX |
 * per thread: col (G_y, gxp; backward: an (h, gxp) accumulator), a (h, gxp),
 * da (h, gxp) | E (G_y, w, h, gxp) | grid-gradient rows: per target row Ty,
 * gacc_row floats = gxp (x grid) + G_y (y grid). */
struct layout {
    size_t taps_y, taps_x, xt, xt_start, grid_y, grid_x, ax, thread0, per_thread;
    size_t t_a, t_da; /* offsets inside a thread's block */
    size_t e, gacc, gacc_row, total;
};

static struct layout layout_of(const struct geom *g, int nthreads)
{
    struct layout L;
    size_t tap = sizeof(struct scorr_interp_tap) / sizeof(float);
    size_t hrow = (size_t)g->h * g->gxp;
    L.taps_y = 0;
    L.taps_x = L.taps_y + PAD16(tap * (size_t)g->gy);
    L.xt = L.taps_x + PAD16(tap * (size_t)g->gx);
    L.xt_start = L.xt + PAD16(2 * (size_t)g->gx * (sizeof(struct xtap) / sizeof(float)));
    L.grid_y = L.xt_start + PAD16((size_t)g->w + 1);
    L.grid_x = L.grid_y + PAD16((size_t)g->gy);
    L.ax = L.grid_x + PAD16((size_t)g->gxp);
    L.thread0 = L.ax + PAD16((size_t)g->ls * hrow);
    L.t_a = PAD16((size_t)g->gy * g->gxp);
    L.t_da = L.t_a + PAD16(hrow);
    L.per_thread = L.t_da + PAD16(hrow);
    L.e = L.thread0 + L.per_thread * (size_t)nthreads;
    L.gacc = L.e + PAD16((size_t)g->gy * (size_t)g->w * hrow);
    L.gacc_row = PAD16((size_t)g->gxp + (size_t)g->gy);
    L.total = L.gacc + (size_t)g->gy * L.gacc_row;
    return L;
}

size_t scorr_softargmax_stats_floats(const struct scorr_softargmax_shape *s)
{
    struct geom g = geom_of(s);
    return (size_t)g.b * (size_t)g.gg * SCORR_SOFTARGMAX_NSTAT;
}

size_t scorr_softargmax_scratch_floats(const struct scorr_softargmax_shape *s)
{
    struct geom g = geom_of(s);
    return layout_of(&g, s->nthreads).total;
}

size_t scorr_softargmax_forward_scratch_floats(const struct scorr_softargmax_shape *s)
{
    struct geom g = geom_of(s);
    return layout_of(&g, s->nthreads).e; /* everything before the backward's E */
}

void scorr_interp_taps(struct scorr_interp_tap *taps, int in, int out)
{
    /* PyTorch (upsample_bilinear2d, align_corners=True) computes the scale and
     * the source coordinate in float; we do the same so the taps agree. */
    float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    for (int o = 0; o < out; o++) {
        struct scorr_interp_tap *t = &taps[o];
        if (in == out) {
            t->i0 = t->i1 = o;
            t->l0 = 1.0f;
            t->l1 = 0.0f;
            continue;
        }
        float real = scale * (float)o;
        int i0 = (int)real;
        if (i0 > in - 1) i0 = in - 1;
        float l1 = real - (float)i0;
        l1 = l1 < 0.0f ? 0.0f : (l1 > 1.0f ? 1.0f : l1);
        t->i0 = i0;
        t->i1 = i0 + (i0 < in - 1 ? 1 : 0);
        t->l1 = l1;
        t->l0 = 1.0f - l1;
    }
}

void scorr_softargmax_linspace(float *grid, int n)
{
    /* np.linspace: start + i * step in double, the last point exactly stop */
    double step = n > 1 ? 2.0 / (double)(n - 1) : 0.0;
    for (int i = 0; i < n; i++) grid[i] = (float)((double)i * step - 1.0);
    if (n > 1) grid[n - 1] = 1.0f;
}

/* The soft-argmax coordinates of n cells: the given grid (learned), or the
 * reference's fixed linspace; padding lanes up to npad are 0 (their
 * probabilities are exactly 0, so they add nothing). */
static void load_grid(float *grid, const float *given, int n, int npad)
{
    if (given)
        memcpy(grid, given, (size_t)n * sizeof *grid);
    else
        scorr_softargmax_linspace(grid, n);
    for (int i = n; i < npad; i++) grid[i] = 0.0f;
}

struct ctx {
    struct geom g;
    struct layout L;
    const struct scorr_interp_tap *ty, *tx;
    const struct xtap *xt;
    const int32_t *xt_start; /* (w + 1): column sx owns xt[xt_start[sx] .. xt_start[sx+1]) */
    const float *yg, *xg;
    float *ax;
};

static struct ctx setup(const struct scorr_softargmax_shape *s, const float *xgrid,
                        const float *ygrid, float *scratch)
{
    struct ctx c;
    c.g = geom_of(s);
    c.L = layout_of(&c.g, s->nthreads);
    struct scorr_interp_tap *ty = (struct scorr_interp_tap *)(scratch + c.L.taps_y);
    struct scorr_interp_tap *tx = (struct scorr_interp_tap *)(scratch + c.L.taps_x);
    scorr_interp_taps(ty, c.g.h, c.g.gy);
    scorr_interp_taps(tx, c.g.w, c.g.gx);
    load_grid(scratch + c.L.grid_y, ygrid, c.g.gy, c.g.gy);
    load_grid(scratch + c.L.grid_x, xgrid, c.g.gx, c.g.gxp);
    /* transposed x taps, in increasing x within each source column */
    struct xtap *xt = (struct xtap *)(scratch + c.L.xt);
    int32_t *xs = (int32_t *)(scratch + c.L.xt_start);
    int n = 0;
    for (int sx = 0; sx < c.g.w; sx++) {
        xs[sx] = n;
        for (int x = 0; x < c.g.gx; x++) {
            if (tx[x].i0 == sx) xt[n++] = (struct xtap){x, tx[x].l0};
            if (tx[x].i1 == sx) xt[n++] = (struct xtap){x, tx[x].l1};
        }
    }
    xs[c.g.w] = n;
    c.xt = xt;
    c.xt_start = xs;
    c.ty = ty;
    c.tx = tx;
    c.yg = scratch + c.L.grid_y;
    c.xg = scratch + c.L.grid_x;
    c.ax = scratch + c.L.ax;
    return c;
}

/* AX[t] (h, gxp) = source x-interpolation of row t of the pair's C (Lt, Ls). */
static void build_ax_row(float *restrict axt, const float *restrict ct, const struct ctx *c)
{
    const struct geom *g = &c->g;
    for (int sy = 0; sy < g->h; sy++) {
        const float *cr = ct + (size_t)sy * g->w;
        float *ar = axt + (size_t)sy * g->gxp;
        for (int x = 0; x < g->gx; x++)
            ar[x] = c->tx[x].l0 * cr[c->tx[x].i0] + c->tx[x].l1 * cr[c->tx[x].i1];
        for (int x = g->gx; x < g->gxp; x++) ar[x] = PAD_VALUE;
    }
}

/* a (h, gxp) = target interpolation at T of the AX rows. */
static void target_rows(float *restrict a, int Ty, int Tx, const struct ctx *c)
{
    const struct geom *g = &c->g;
    const struct scorr_interp_tap *ty = &c->ty[Ty], *tx = &c->tx[Tx];
    size_t n = (size_t)g->h * g->gxp;
    const float *r00 = c->ax + ((size_t)ty->i0 * g->w + tx->i0) * n;
    const float *r01 = c->ax + ((size_t)ty->i0 * g->w + tx->i1) * n;
    const float *r10 = c->ax + ((size_t)ty->i1 * g->w + tx->i0) * n;
    const float *r11 = c->ax + ((size_t)ty->i1 * g->w + tx->i1) * n;
    v8f wy0 = v8_set1(ty->l0), wy1 = v8_set1(ty->l1), wx0 = v8_set1(tx->l0), wx1 = v8_set1(tx->l1);
    for (size_t i = 0; i < n; i += 8)
        v8_store(a + i, wy0 * (wx0 * v8_load(r00 + i) + wx1 * v8_load(r01 + i)) +
                            wy1 * (wx0 * v8_load(r10 + i) + wx1 * v8_load(r11 + i)));
}

/* col row Sy = l0 * a[i0] + l1 * a[i1]. Always inlined: an out-of-line
 * function returning a vector would also trip -Wpsabi without AVX. */
static inline __attribute__((always_inline)) v8f col_chunk(const float *a,
                                                           const struct scorr_interp_tap *t,
                                                           int gxp, int x)
{
    return v8_set1(t->l0) * v8_load(a + (size_t)t->i0 * gxp + x) +
           v8_set1(t->l1) * v8_load(a + (size_t)t->i1 * gxp + x);
}

static void forward_target(float *restrict flow, float *restrict st, float *restrict col,
                           float *restrict a, int Ty, int Tx, const struct ctx *c)
{
    const struct geom *g = &c->g;
    const int gxp = g->gxp;
    const v8f ibeta = v8_set1(1.0f / g->beta);
    target_rows(a, Ty, Tx, c);
    /* softmax_with_temperature subtracts the column maximum first */
    v8f vm = v8_set1(-INFINITY);
    for (int Sy = 0; Sy < g->gy; Sy++) {
        float *row = col + (size_t)Sy * gxp;
        for (int x = 0; x < gxp; x += 8) {
            v8f v = col_chunk(a, &c->ty[Sy], gxp, x);
            v8_store(row + x, v);
            vm = v8_max(vm, v);
        }
    }
    float m = v8_hmax(vm);
    v8f mm = v8_set1(m);
    double sum = 0.0, ex = 0.0, ey = 0.0;
    for (int Sy = 0; Sy < g->gy; Sy++) {
        const float *row = col + (size_t)Sy * gxp;
        v8f rs = v8_set1(0.0f), rx = v8_set1(0.0f);
        for (int x = 0; x < gxp; x += 8) {
            v8f e = v8_exp((v8_load(row + x) - mm) * ibeta);
            rs += e;
            rx += e * v8_load(c->xg + x);
        }
        float rsum = v8_hsum(rs);
        sum += rsum;
        ex += v8_hsum(rx);
        ey += (double)rsum * c->yg[Sy];
    }
    float gxv = (float)(ex / sum), gyv = (float)(ey / sum);
    st[0] = m;
    st[1] = (float)sum;
    st[2] = gxv;
    st[3] = gyv;
    /* unnormalise_and_convert_mapping_to_flow */
    flow[0] = (gxv + 1.0f) * (float)(g->gx - 1) / 2.0f - (float)Tx;
    flow[1] = (gyv + 1.0f) * (float)(g->gy - 1) / 2.0f - (float)Ty;
}

void scorr_softargmax_forward(float *flow, float *stats, const float *corr, const float *xgrid,
                              const float *ygrid, const struct scorr_softargmax_shape *s,
                              float *scratch)
{
    struct ctx c = setup(s, xgrid, ygrid, scratch);
    const struct geom *g = &c.g;
    const size_t nrow = (size_t)g->h * g->gxp;
    for (int b = 0; b < g->b; b++) {
        const float *cb = corr + (size_t)b * g->ls * g->ls;
#pragma omp parallel num_threads(s->nthreads)
        {
            float *col = scratch + c.L.thread0 + c.L.per_thread * (size_t)omp_get_thread_num();
            float *a = col + c.L.t_a;
#pragma omp for schedule(static)
            for (int t = 0; t < g->ls; t++) build_ax_row(c.ax + (size_t)t * nrow, cb + (size_t)t * g->ls, &c);
#pragma omp for schedule(static)
            for (int t = 0; t < g->gg; t++) {
                size_t job = (size_t)b * g->gg + (size_t)t;
                forward_target(flow + job * 2, stats + job * SCORR_SOFTARGMAX_NSTAT, col, a,
                               t / g->gx, t % g->gx, &c);
            }
        }
    }
}

/* da (h, gxp) = d loss / d a for target T, rebuilding the column row by row.
 * gacc (gxp + G_y floats, or NULL = no grid gradient): ADDS dgx * p summed
 * over Sy into its x part and dgy * p summed over x into its y part. */
static void backward_target(float *restrict a, float *restrict da, float *restrict gacc,
                            const float *st, float dgx, float dgy, int Ty, int Tx,
                            const struct ctx *c)
{
    const struct geom *g = &c->g;
    const int gxp = g->gxp;
    const v8f ibeta = v8_set1(1.0f / g->beta), mm = v8_set1(st[0]), isum = v8_set1(1.0f / st[1]);
    const v8f vgx = v8_set1(st[2]), vdgx = v8_set1(dgx);
    const float gyv = st[3];
    target_rows(a, Ty, Tx, c);
    memset(da, 0, (size_t)g->h * gxp * sizeof *da);
    for (int Sy = 0; Sy < g->gy; Sy++) {
        const struct scorr_interp_tap *t = &c->ty[Sy];
        float *d0 = da + (size_t)t->i0 * gxp, *d1 = da + (size_t)t->i1 * gxp;
        v8f l0 = v8_set1(t->l0), l1 = v8_set1(t->l1);
        v8f cy = v8_set1(dgy * (c->yg[Sy] - gyv));
        v8f prow = v8_set1(0.0f);
        for (int x = 0; x < gxp; x += 8) {
            /* p = exp((c - m) / beta) / sum; g = sum_S p * grid:
             * dc = p * (dgx (x - gx) + dgy (y - gy)) / beta */
            v8f p = v8_exp((col_chunk(a, t, gxp, x) - mm) * ibeta) * isum;
            v8f dc = p * (vdgx * (v8_load(c->xg + x) - vgx) + cy) * ibeta;
            /* col = l0 * a[i0] + l1 * a[i1] */
            v8_store(d0 + x, v8_load(d0 + x) + l0 * dc);
            v8_store(d1 + x, v8_load(d1 + x) + l1 * dc);
            if (gacc) {
                /* gx = sum_S p * xgrid[Sx]: dxgrid[Sx] += dgx * p */
                v8_store(gacc + x, v8_load(gacc + x) + vdgx * p);
                prow += p;
            }
        }
        /* gy = sum_S p * ygrid[Sy]: dygrid[Sy] += dgy * sum_x p */
        if (gacc) gacc[gxp + Sy] += dgy * v8_hsum(prow);
    }
}

void scorr_softargmax_backward(float *dcorr, float *dxgrid, float *dygrid, const float *dflow,
                               const float *corr, const float *stats, const float *xgrid,
                               const float *ygrid, const struct scorr_softargmax_shape *s,
                               float *scratch)
{
    struct ctx c = setup(s, xgrid, ygrid, scratch);
    const struct geom *g = &c.g;
    float *E = scratch + c.L.e; /* (G_y, w, h, gxp) */
    float *G = scratch + c.L.gacc; /* (G_y, gacc_row): grid gradients per target row */
    const int want_grid = dxgrid || dygrid;
    const size_t ls = (size_t)g->ls, hrow = (size_t)g->h * g->gxp;
    const float sxg = (float)(g->gx - 1), syg = (float)(g->gy - 1);

    for (int b = 0; b < g->b; b++) {
        const float *cb = corr + (size_t)b * ls * ls;
        float *db = dcorr + (size_t)b * ls * ls;
#pragma omp parallel num_threads(s->nthreads)
        {
            float *base = scratch + c.L.thread0 + c.L.per_thread * (size_t)omp_get_thread_num();
            float *acc = base, *a = base + c.L.t_a, *da = base + c.L.t_da;
#pragma omp for schedule(static)
            for (int t = 0; t < g->ls; t++) build_ax_row(c.ax + (size_t)t * hrow, cb + (size_t)t * ls, &c);
            /* a = target taps of AX rows: through the target x-taps into E,
             * one target row Ty per thread, Tx in order */
#pragma omp for schedule(static)
            for (int Ty = 0; Ty < g->gy; Ty++) {
                float *er = E + (size_t)Ty * g->w * hrow;
                float *gr = want_grid ? G + (size_t)Ty * c.L.gacc_row : NULL;
                memset(er, 0, (size_t)g->w * hrow * sizeof *er);
                if (gr) memset(gr, 0, c.L.gacc_row * sizeof *gr);
                for (int Tx = 0; Tx < g->gx; Tx++) {
                    size_t job = (size_t)b * g->gg + (size_t)Ty * g->gx + Tx;
                    /* flow = (g + 1) * (G - 1) / 2 - T  =>  dg = dflow * (G - 1) / 2 */
                    float dgx = dflow[job * 2] * sxg / 2.0f;
                    float dgy = dflow[job * 2 + 1] * syg / 2.0f;
                    if (dgx == 0.0f && dgy == 0.0f) continue;
                    backward_target(a, da, gr, stats + job * SCORR_SOFTARGMAX_NSTAT, dgx, dgy, Ty,
                                    Tx, &c);
                    v8_axpy(er + (size_t)c.tx[Tx].i0 * hrow, c.tx[Tx].l0, da, hrow);
                    v8_axpy(er + (size_t)c.tx[Tx].i1 * hrow, c.tx[Tx].l1, da, hrow);
                }
            }
            /* ... then, one coarse row per thread: through the target y-taps
             * (the Ty that touch it, in increasing order), and through the
             * source x-taps of AX (a gather per source column) into dC */
#pragma omp for schedule(static)
            for (int cyr = 0; cyr < g->h; cyr++)
                for (int cx = 0; cx < g->w; cx++) {
                    memset(acc, 0, hrow * sizeof *acc);
                    for (int Ty = 0; Ty < g->gy; Ty++) {
                        const struct scorr_interp_tap *t = &c.ty[Ty];
                        if (t->i0 != cyr && t->i1 != cyr) continue;
                        float wgt = (t->i0 == cyr ? t->l0 : 0.0f) + (t->i1 == cyr ? t->l1 : 0.0f);
                        v8_axpy(acc, wgt, E + ((size_t)Ty * g->w + cx) * hrow, hrow);
                    }
                    float *dct = db + ((size_t)cyr * g->w + cx) * ls;
                    for (int sy = 0; sy < g->h; sy++) {
                        const float *ar = acc + (size_t)sy * g->gxp;
                        for (int sx = 0; sx < g->w; sx++) {
                            float v = 0.0f;
                            for (int k = c.xt_start[sx]; k < c.xt_start[sx + 1]; k++)
                                v += c.xt[k].l * ar[c.xt[k].x];
                            dct[sy * g->w + sx] += v;
                        }
                    }
                }
        }
        /* grid gradients: the target rows' partial sums in row order, so the
         * result does not depend on the thread count */
        if (want_grid)
            for (int Ty = 0; Ty < g->gy; Ty++) {
                const float *gr = G + (size_t)Ty * c.L.gacc_row;
                if (dxgrid)
                    for (int x = 0; x < g->gx; x++) dxgrid[x] += gr[x];
                if (dygrid)
                    for (int y = 0; y < g->gy; y++) dygrid[y] += gr[g->gxp + y];
            }
    }
}
