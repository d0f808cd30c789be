/* Winograd F(m x m, 3 x 3) convolution, forward and backward (ops/conv_winograd.h).
 *
 * Layouts (floats, row-major; T = a*a tile elements, a = m + 2):
 *   U  (K, T, C)   transformed weights (forward: of w; backward-data: of the
 *                  rotated kernel; backward-weights: the gradient dU before
 *                  its inverse transform)
 *   V  (Pc, T, Ci) transformed input tiles of a chunk of Pc tiles, Ci = the
 *                  pass's input channels
 *   M  (Pc, T, Co) their products, Co = the output channels (backward-weights:
 *                  Z, the transformed output gradient, Co = K)
 * so a tile's T transformed vectors are one contiguous block (the transforms
 * stream through memory) and the per-element matrices are strided views for
 * the GEMMs (U_t = U + t*C with row stride T*C, and so on).
 * Tile p = (n, ty, tx) covers outputs [m*ty, m*ty + m) x [m*tx, m*tx + m) and
 * reads inputs from (m*ty - 1, m*tx - 1), a x a of them, zero outside.
 * Per tile element t one GEMM over channels:
 *   forward         M_t (Pc, K) = V_t (Pc, C) U_t^T        U_t (K, C)
 *   backward-data   M_t (Pc, C) = V_t (Pc, K) U_t          U_t (K, C), rotated kernel
 *   backward-wts    dU_t (K, C) += Z_t^T (K, Pc) V_t (Pc, C)
 * The weight transforms (U = G g G^T per (k, c), dg = G^T dU G) are
 * vectorised over 8 input channels. */
#include "ops/conv_winograd.h"

#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "ops/gemm.h"
#include "scorr/error.h"
#include "vec8.h"

#define MAXA 6
/* The transformed-domain buffers of one chunk hold at most this many floats
 * (4 MB each), so the chunk's working set stays in the L3 cache. */
#define CHUNK_FLOATS (1u << 20)

/* The transforms of F(m, 3): B^T (a x a), G (a x 3), A^T (m x a). */
struct wmat {
    int m, a;
    float bt[MAXA][MAXA], g[MAXA][3], at[4][MAXA];
};

/* F(2, 3): interpolation points 0, 1, -1, infinity. */
static const struct wmat F2 = {
    .m = 2, .a = 4,
    .bt = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
    .g = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}},
    .at = {{1, 1, 1, 0}, {0, 1, -1, -1}}};

/* F(4, 3): points 0, 1, -1, 2, -2, infinity (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016). Points 0, +-1,
 * +-1/2 were tried: no more accurate here (docs/performance.md). */
static const struct wmat F4 = {
    .m = 4, .a = 6,
    .bt = {{4, 0, -5, 0, 1, 0},
           {0, -4, -4, 1, 1, 0},
           {0, 4, -4, -1, 1, 0},
           {0, -2, -1, 2, 1, 0},
           {0, 2, -1, -2, 1, 0},
           {0, 4, 0, -5, 0, 1}},
    .g = {{1.0f / 4, 0, 0},
          {-1.0f / 6, -1.0f / 6, -1.0f / 6},
          {-1.0f / 6, 1.0f / 6, -1.0f / 6},
          {1.0f / 24, 1.0f / 12, 1.0f / 6},
          {1.0f / 24, -1.0f / 12, 1.0f / 6},
          {0, 0, 1}},
    .at = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};

int scorr_conv_wino_eligible(const struct scorr_conv2d_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->pad == 1 &&
           s->prec == SCORR_PREC_F32;
}

/* F(4x4) needs a 16 x 16 map to pay: its weight transform is 2.25x larger
 * and does not shrink with the map, and on 8 x 8 maps at batch 4 F(2x2) was
 * faster (docs/performance.md). */
int scorr_conv_wino_tile(const struct scorr_conv2d_shape *s)
{
    return s->h >= 16 && s->w >= 16 ? 4 : 2;
}

/* Geometry of one pass: ci input channels, co output channels. */
struct geo {
    int m, a, T;
    int n, H, W, th, tw;
    long P;  /* tiles */
    long pc; /* tiles per chunk */
    int ci, co;
    size_t u_floats, v_floats, m_floats; /* 16-float rounded */
};

#define R16(x) (((size_t)(x) + 15) & ~(size_t)15)

static struct geo geo_of(const struct scorr_conv2d *cv, int ci, int co)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    struct geo g;
    g.m = scorr_conv_wino_tile(s);
    g.a = g.m + 2;
    g.T = g.a * g.a;
    g.n = s->n;
    g.H = s->h;
    g.W = s->w;
    g.th = (g.H + g.m - 1) / g.m;
    g.tw = (g.W + g.m - 1) / g.m;
    g.P = (long)g.n * g.th * g.tw;
    g.ci = ci;
    g.co = co;
    const int cmax = ci > co ? ci : co;
    long pc = (long)(CHUNK_FLOATS / ((size_t)g.T * (size_t)cmax));
    pc = pc < 16 ? 16 : pc / 16 * 16;
    g.pc = pc < g.P ? pc : g.P;
    g.u_floats = R16((size_t)g.T * (size_t)s->k * (size_t)s->c);
    g.v_floats = R16((size_t)g.T * (size_t)g.pc * (size_t)ci);
    g.m_floats = R16((size_t)g.T * (size_t)g.pc * (size_t)co);
    return g;
}

size_t scorr_conv_wino_scratch(const struct scorr_conv2d *cv, int pass)
{
    (void)pass; /* every pass: U, then the chunk's two tile buffers */
    const struct geo g = geo_of(cv, cv->s.c, cv->s.k);
    return (g.u_floats + g.v_floats + g.m_floats) * sizeof(float);
}

/* Up to 8 channels at p (lanes past n read as 0 / are not written). */
static inline v8f ld(const float *p, int n)
{
    if (n == 8) return v8_load(p);
    float t[8] = {0};
    memcpy(t, p, (size_t)n * sizeof(float));
    return v8_load(t);
}

static inline void st(float *p, v8f v, int n)
{
    if (n == 8) {
        v8_store(p, v);
    } else {
        float t[8];
        v8_store(t, v);
        memcpy(p, t, (size_t)n * sizeof(float));
    }
}

/* The tile functions take a compile-time a (A) and m (MM): the wrappers
 * instantiate them for F(2, 3) and F(4, 3), every loop is unrolled (GCC's
 * -O2 does not do it by itself), and the zero coefficients drop out at
 * compile time. */

/* v[t*Ci + (0 .. nc)] = (B^T d B)_t of the input patch at (y0, x0), channels c0.. */
static inline __attribute__((always_inline)) void
in_tile(const struct wmat *w, const int A, float *v, int Ci, const float *x, int H, int W, int n,
        int y0, int x0, int c0, int nc)
{
    v8f d[MAXA][MAXA], t[MAXA][MAXA];
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            const int yy = y0 + i, xx = x0 + j;
            d[i][j] = yy >= 0 && yy < H && xx >= 0 && xx < W
                          ? ld(x + (((size_t)n * H + yy) * W + xx) * Ci + c0, nc)
                          : v8_set1(0.0f);
        }
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 6
            for (int k = 0; k < A; k++)
                if (w->bt[i][k] != 0.0f) s += v8_set1(w->bt[i][k]) * d[k][j];
            t[i][j] = s;
        }
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 6
            for (int k = 0; k < A; k++)
                if (w->bt[j][k] != 0.0f) s += t[i][k] * v8_set1(w->bt[j][k]);
            st(v + (size_t)(i * A + j) * Ci, s, nc);
        }
}

/* Output tile at (y0, x0), channels k0 .. k0+nk: A^T M A (+ bias), cropped at
 * the border; add: out += instead of =. mm[t*Co] is element t. */
static inline __attribute__((always_inline)) void
out_tile(const struct wmat *w, const int A, const int MM, const float *mm, float *out,
         const float *bias, int add, int H, int W, int Co, int n, int y0, int x0, int k0, int nk)
{
    v8f t[4][MAXA];
#pragma GCC unroll 4
    for (int r = 0; r < MM; r++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) t[r][j] = v8_set1(0.0f);
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            const v8f e = ld(mm + (size_t)(i * A + j) * Co, nk);
#pragma GCC unroll 4
            for (int r = 0; r < MM; r++)
                if (w->at[r][i] != 0.0f) t[r][j] += v8_set1(w->at[r][i]) * e;
        }
    const v8f b = bias ? ld(bias + k0, nk) : v8_set1(0.0f);
#pragma GCC unroll 4
    for (int r = 0; r < MM; r++) {
        const int yy = y0 + r;
        if (yy >= H) break;
#pragma GCC unroll 4
        for (int c = 0; c < MM; c++) {
            const int xx = x0 + c;
            if (xx >= W) break;
            v8f s = b;
#pragma GCC unroll 6
            for (int j = 0; j < A; j++)
                if (w->at[c][j] != 0.0f) s += t[r][j] * v8_set1(w->at[c][j]);
            float *o = out + (((size_t)n * H + yy) * W + xx) * Co + k0;
            if (add) s += ld(o, nk);
            st(o, s, nk);
        }
    }
}

/* z[t*K + (0 .. nk)] = (A dY A^T)_t of the output-gradient tile at (y0, x0). */
static inline __attribute__((always_inline)) void
z_tile(const struct wmat *w, const int A, const int MM, float *z, const float *dy, int H, int W,
       int K, int n, int y0, int x0, int k0, int nk)
{
    v8f g[4][4], t[MAXA][4];
#pragma GCC unroll 4
    for (int r = 0; r < MM; r++)
#pragma GCC unroll 4
        for (int c = 0; c < MM; c++) {
            const int yy = y0 + r, xx = x0 + c;
            g[r][c] = yy < H && xx < W ? ld(dy + (((size_t)n * H + yy) * W + xx) * K + k0, nk)
                                       : v8_set1(0.0f);
        }
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 4
        for (int c = 0; c < MM; c++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 4
            for (int r = 0; r < MM; r++)
                if (w->at[r][i] != 0.0f) s += v8_set1(w->at[r][i]) * g[r][c];
            t[i][c] = s;
        }
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 4
            for (int c = 0; c < MM; c++)
                if (w->at[c][j] != 0.0f) s += t[i][c] * v8_set1(w->at[c][j]);
            st(z + (size_t)(i * A + j) * K, s, nk);
        }
}

/* The 9 kernel taps of channels c .. c+nc of one output channel: g[e] lane l
 * = wk[l*9 + e] (the rows of w are 9 floats apart). */
static inline void load_taps(v8f g[9], const float *wk, int nc)
{
#if defined(__AVX2__)
    if (nc == 8) {
        const __m256i idx = _mm256_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63);
        for (int e = 0; e < 9; e++) g[e] = (v8f)_mm256_i32gather_ps(wk + e, idx, 4);
        return;
    }
#endif
    float b[9][8] = {{0}};
    for (int l = 0; l < nc; l++)
        for (int e = 0; e < 9; e++) b[e][l] = wk[l * 9 + e];
    for (int e = 0; e < 9; e++) g[e] = v8_load(b[e]);
}

/* u[t*C + (0 .. nc)] = (G g G^T)_t (flip: of the kernel rotated by 180
 * degrees) for one output channel and up to 8 input channels. */
static inline __attribute__((always_inline)) void
wt_block(const struct wmat *w, const int A, float *u, int C, const float *wk, int nc, int flip)
{
    v8f g[9], t[MAXA][3];
    load_taps(g, wk, nc);
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 3
        for (int q = 0; q < 3; q++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 3
            for (int p = 0; p < 3; p++)
                if (w->g[i][p] != 0.0f)
                    s += v8_set1(w->g[i][p]) * g[flip ? (2 - p) * 3 + (2 - q) : p * 3 + q];
            t[i][q] = s;
        }
#pragma GCC unroll 6
    for (int i = 0; i < A; i++)
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 3
            for (int q = 0; q < 3; q++)
                if (w->g[j][q] != 0.0f) s += t[i][q] * v8_set1(w->g[j][q]);
            st(u + (size_t)(i * A + j) * C, s, nc);
        }
}

/* dw[k, c .. c+nc, :, :] += G^T dU G, du[t*C] = element t of channel c. */
static inline __attribute__((always_inline)) void
wt_inverse_block(const struct wmat *w, const int A, float *dwk, const float *du, int C, int nc)
{
    v8f t[MAXA][3];
    float r[9][8];
#pragma GCC unroll 6
    for (int i = 0; i < A; i++) {
        v8f row[MAXA];
#pragma GCC unroll 6
        for (int j = 0; j < A; j++) row[j] = ld(du + (size_t)(i * A + j) * C, nc);
#pragma GCC unroll 3
        for (int q = 0; q < 3; q++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 6
            for (int j = 0; j < A; j++)
                if (w->g[j][q] != 0.0f) s += row[j] * v8_set1(w->g[j][q]);
            t[i][q] = s;
        }
    }
#pragma GCC unroll 3
    for (int p = 0; p < 3; p++)
#pragma GCC unroll 3
        for (int q = 0; q < 3; q++) {
            v8f s = v8_set1(0.0f);
#pragma GCC unroll 6
            for (int i = 0; i < A; i++)
                if (w->g[i][p] != 0.0f) s += v8_set1(w->g[i][p]) * t[i][q];
            v8_store(r[p * 3 + q], s);
        }
    for (int l = 0; l < nc; l++)
#pragma GCC unroll 9
        for (int e = 0; e < 9; e++) dwk[(size_t)l * 9 + e] += r[e][l];
}

/* Tile p -> (image, tile row, tile column). */
static inline void tile_pos(const struct geo *g, long p, int *n, int *ty, int *tx)
{
    const long per = (long)g->th * g->tw;
    *n = (int)(p / per);
    *ty = (int)(p % per / g->tw);
    *tx = (int)(p % g->tw);
}

/* V (np, T, Ci) of tiles [p0, p0 + np) of the input x (N, H, W, Ci). */
static void input_transform(const struct geo *g, float *V, const float *x, long p0, long np)
{
    const int ci = g->ci;
#pragma omp parallel for schedule(static)
    for (long pl = 0; pl < np; pl++) {
        int n, ty, tx;
        tile_pos(g, p0 + pl, &n, &ty, &tx);
        float *v = V + (size_t)pl * g->T * ci;
        for (int c0 = 0; c0 < ci; c0 += 8) {
            const int nc = ci - c0 < 8 ? ci - c0 : 8;
            if (g->m == 4)
                in_tile(&F4, 6, v + c0, ci, x, g->H, g->W, n, ty * 4 - 1, tx * 4 - 1, c0, nc);
            else
                in_tile(&F2, 4, v + c0, ci, x, g->H, g->W, n, ty * 2 - 1, tx * 2 - 1, c0, nc);
        }
    }
}

/* out (N, H, W, Co) (+)= the output tiles of M (np, T, Co) (+ bias). */
static void output_transform(const struct geo *g, float *out, const float *M, const float *bias,
                             int add, long p0, long np)
{
    const int co = g->co;
#pragma omp parallel for schedule(static)
    for (long pl = 0; pl < np; pl++) {
        int n, ty, tx;
        tile_pos(g, p0 + pl, &n, &ty, &tx);
        const float *mm = M + (size_t)pl * g->T * co;
        for (int k0 = 0; k0 < co; k0 += 8) {
            const int nk = co - k0 < 8 ? co - k0 : 8;
            if (g->m == 4)
                out_tile(&F4, 6, 4, mm + k0, out, bias, add, g->H, g->W, co, n, ty * 4, tx * 4,
                         k0, nk);
            else
                out_tile(&F2, 4, 2, mm + k0, out, bias, add, g->H, g->W, co, n, ty * 2, tx * 2,
                         k0, nk);
        }
    }
}

/* Z (np, T, K) of the output gradient dy (N, H, W, K). */
static void grad_transform(const struct geo *g, float *Z, const float *dy, long p0, long np)
{
    const int K = g->co;
#pragma omp parallel for schedule(static)
    for (long pl = 0; pl < np; pl++) {
        int n, ty, tx;
        tile_pos(g, p0 + pl, &n, &ty, &tx);
        float *z = Z + (size_t)pl * g->T * K;
        for (int k0 = 0; k0 < K; k0 += 8) {
            const int nk = K - k0 < 8 ? K - k0 : 8;
            if (g->m == 4)
                z_tile(&F4, 6, 4, z + k0, dy, g->H, g->W, K, n, ty * 4, tx * 4, k0, nk);
            else
                z_tile(&F2, 4, 2, z + k0, dy, g->H, g->W, K, n, ty * 2, tx * 2, k0, nk);
        }
    }
}

/* U (K, T, C) = G g G^T of every (k, c) (flip: of the rotated kernel). */
static void weight_transform(const struct geo *g, float *U, const float *w, int K, int C, int flip)
{
#pragma omp parallel for schedule(static)
    for (int k = 0; k < K; k++) {
        float *u = U + (size_t)k * g->T * C;
        for (int c0 = 0; c0 < C; c0 += 8) {
            const int nc = C - c0 < 8 ? C - c0 : 8;
            const float *wk = w + ((size_t)k * C + c0) * 9;
            if (g->m == 4)
                wt_block(&F4, 6, u + c0, C, wk, nc, flip);
            else
                wt_block(&F2, 4, u + c0, C, wk, nc, flip);
        }
    }
}

/* dw (K, C, 3, 3) += G^T dU G of every (k, c), dU (K, T, C). */
static void weight_inverse(const struct geo *g, float *dw, const float *dU, int K, int C)
{
#pragma omp parallel for schedule(static)
    for (int k = 0; k < K; k++) {
        const float *du = dU + (size_t)k * g->T * C;
        for (int c0 = 0; c0 < C; c0 += 8) {
            const int nc = C - c0 < 8 ? C - c0 : 8;
            float *dwk = dw + ((size_t)k * C + c0) * 9;
            if (g->m == 4)
                wt_inverse_block(&F4, 6, dwk, du + c0, C, nc);
            else
                wt_inverse_block(&F2, 4, dwk, du + c0, C, nc);
        }
    }
}

static void carve(const struct geo *g, void *scratch, float **u, float **v, float **mm)
{
    *u = scratch;
    *v = *u + g->u_floats;
    *mm = *v + g->v_floats;
}

void scorr_conv_wino_forward(const struct scorr_conv2d *cv, float *y, const float *x,
                             const float *w, const float *b, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const struct geo g = geo_of(cv, s->c, s->k);
    const int C = s->c, K = s->k, T = g.T;
    float *U, *V, *M;
    carve(&g, scratch, &U, &V, &M);
    /* y = conv(x, w): per tile A^T [(G g G^T) (.) (B^T d B)] A */
    weight_transform(&g, U, w, K, C, 0);
    for (long p0 = 0; p0 < g.P; p0 += g.pc) {
        const long np = g.P - p0 < g.pc ? g.P - p0 : g.pc;
        input_transform(&g, V, x, p0, np);
        /* M_t (np, K) = V_t (np, C) U_t^T, U_t (K, C) */
        scorr_gemm_batch('N', 'T', (int)np, K, C, V, T * C, (size_t)C, U, T * C, (size_t)C,
                         0.0f, M, T * K, (size_t)K, T);
        output_transform(&g, y, M, b, 0, p0, np);
    }
}

void scorr_conv_wino_backward_data(const struct scorr_conv2d *cv, float *dx, const float *dy,
                                   const float *w, enum scorr_grad_mode mode, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const struct geo g = geo_of(cv, s->k, s->c);
    const int C = s->c, K = s->k, T = g.T;
    float *U, *V, *M;
    carve(&g, scratch, &U, &V, &M);
    /* dx[h, w, c] = sum_{k,i,j} w[k, c, 2-i, 2-j] dy[h-1+i, w-1+j, k]: a pad-1
     * conv of dy with the rotated kernel, channels K -> C */
    weight_transform(&g, U, w, K, C, 1);
    for (long p0 = 0; p0 < g.P; p0 += g.pc) {
        const long np = g.P - p0 < g.pc ? g.P - p0 : g.pc;
        input_transform(&g, V, dy, p0, np);
        /* M_t (np, C) = V_t (np, K) U_t, U_t (K, C) */
        scorr_gemm_batch('N', 'N', (int)np, C, K, V, T * K, (size_t)K, U, T * C, (size_t)C,
                         0.0f, M, T * C, (size_t)C, T);
        output_transform(&g, dx, M, NULL, mode == SCORR_GRAD_ADD, p0, np);
    }
}

void scorr_conv_wino_backward_weights(const struct scorr_conv2d *cv, float *dw, const float *dy,
                                      const float *x, void *scratch)
{
    const struct scorr_conv2d_shape *s = &cv->s;
    const struct geo g = geo_of(cv, s->c, s->k);
    const int C = s->c, K = s->k, T = g.T;
    float *dU, *V, *Z;
    carve(&g, scratch, &dU, &V, &Z);
    /* y = A^T [U (.) V] A  =>  dU = sum over tiles of (A dY A^T) (.) V, dg = G^T dU G */
    for (long p0 = 0; p0 < g.P; p0 += g.pc) {
        const long np = g.P - p0 < g.pc ? g.P - p0 : g.pc;
        input_transform(&g, V, x, p0, np);
        grad_transform(&g, Z, dy, p0, np);
        /* dU_t (K, C) (+)= Z_t^T (K, np) V_t (np, C) */
        scorr_gemm_batch('T', 'N', K, C, (int)np, Z, T * K, (size_t)K, V, T * C, (size_t)C,
                         p0 ? 1.0f : 0.0f, dU, T * C, (size_t)C, T);
    }
    weight_inverse(&g, dw, dU, K, C);
}
