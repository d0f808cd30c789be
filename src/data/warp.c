/* Synthetic warps (homography + thin-plate spline) and the pairs made with
 * them; see include/scorr/warp.h. */
#include "scorr/warp.h"

#include <math.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/rng.h"

#define MAXN (SCORR_WARP_MAX_GRID * SCORR_WARP_MAX_GRID + 3)

int scorr_warp_check(const struct scorr_warp_config *c)
{
    int err = 0;
    SCORR_REQUIRE(c->homography >= 0.0f && c->homography <= 0.25f, SCORR_EINVAL,
                  "warp: homography corner jitter must be in [0, 0.25], found %g",
                  (double)c->homography);
    SCORR_REQUIRE(c->elastic_grid == 0 ||
                      (c->elastic_grid >= 2 && c->elastic_grid <= SCORR_WARP_MAX_GRID),
                  SCORR_EINVAL, "warp: elastic grid must be 0 (none) or in [2, %d], found %d",
                  SCORR_WARP_MAX_GRID, c->elastic_grid);
    SCORR_REQUIRE(c->elastic_amp >= 0.0f && c->elastic_amp <= 0.25f, SCORR_EINVAL,
                  "warp: elastic amplitude must be in [0, 0.25], found %g",
                  (double)c->elastic_amp);
done:
    return err;
}

/* Solve A x = b for two right-hand sides by Gaussian elimination with partial
 * pivoting. A: (n, n) row-major, destroyed; b: (n, 2), replaced by x. A
 * singular pivot leaves that unknown at 0 (cannot happen for distinct
 * control points or non-degenerate corners). */
static void solve(double *A, double (*b)[2], int n)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[i * n + k]) > fabs(A[p * n + k])) p = i;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = A[k * n + j];
                A[k * n + j] = A[p * n + j];
                A[p * n + j] = t;
            }
            for (int j = 0; j < 2; j++) {
                double t = b[k][j];
                b[k][j] = b[p][j];
                b[p][j] = t;
            }
        }
        double d = A[k * n + k];
        if (fabs(d) < 1e-300) continue;
        for (int i = k + 1; i < n; i++) {
            double f = A[i * n + k] / d;
            if (f == 0.0) continue;
            for (int j = k; j < n; j++) A[i * n + j] -= f * A[k * n + j];
            b[i][0] -= f * b[k][0];
            b[i][1] -= f * b[k][1];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        double d = A[k * n + k];
        for (int j = 0; j < 2; j++) {
            double s = b[k][j];
            for (int i = k + 1; i < n; i++) s -= A[k * n + i] * b[i][j];
            b[k][j] = fabs(d) < 1e-300 ? 0.0 : s / d;
        }
    }
}

/* The homography sending the unit square's corners q to the corners d. */
static void homography(double H[9], const double q[4][2], const double d[4][2])
{
    double A[8 * 8], b[8][2];
    /* x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), y' likewise with h3..h5 */
    memset(A, 0, sizeof A);
    for (int i = 0; i < 4; i++) {
        double x = q[i][0], y = q[i][1], X = d[i][0], Y = d[i][1];
        double *r0 = A + (2 * i) * 8, *r1 = A + (2 * i + 1) * 8;
        r0[0] = x, r0[1] = y, r0[2] = 1, r0[6] = -x * X, r0[7] = -y * X;
        r1[3] = x, r1[4] = y, r1[5] = 1, r1[6] = -x * Y, r1[7] = -y * Y;
        b[2 * i][0] = X, b[2 * i + 1][0] = Y;
        b[2 * i][1] = b[2 * i + 1][1] = 0;
    }
    solve(A, b, 8);
    for (int i = 0; i < 8; i++) H[i] = b[i][0];
    H[8] = 1.0;
}

static inline double tps_kernel(double dx, double dy)
{
    double r2 = dx * dx + dy * dy;
    return r2 > 0.0 ? r2 * log(r2) : 0.0;
}

void scorr_warp_draw(struct scorr_warp *w, const struct scorr_warp_config *c, uint64_t seed,
                     uint32_t epoch, uint32_t sample, uint32_t which)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_WARP, epoch, sample, which);
    memset(w, 0, sizeof *w);
    static const double q[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
    double d[4][2];
    const float h = c->homography;
    /* the corners are drawn first whatever the config, so the elastic draws never shift them */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++) d[i][j] = q[i][j] + (double)scorr_rng_range(&r, -h, h);
    homography(w->H, q, d);
    const int g = c->elastic_grid;
    if (g < 2 || c->elastic_amp <= 0.0f) return;
    const int n = g * g;
    w->n = n;
    double (*b)[2] = w->w;
    for (int i = 0; i < n; i++) {
        w->c[i][0] = (double)(i % g) / (g - 1);
        w->c[i][1] = (double)(i / g) / (g - 1);
        b[i][0] = (double)scorr_rng_range(&r, -c->elastic_amp, c->elastic_amp);
        b[i][1] = (double)scorr_rng_range(&r, -c->elastic_amp, c->elastic_amp);
    }
    for (int i = n; i < n + 3; i++) b[i][0] = b[i][1] = 0.0;
    /* [K P; P^T 0] [w; a] = [d; 0] */
    double A[MAXN * MAXN];
    const int m = n + 3;
    memset(A, 0, sizeof(double) * (size_t)m * (size_t)m);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            A[i * m + j] = tps_kernel(w->c[i][0] - w->c[j][0], w->c[i][1] - w->c[j][1]);
        const double p[3] = {1.0, w->c[i][0], w->c[i][1]};
        for (int k = 0; k < 3; k++) A[i * m + n + k] = A[(n + k) * m + i] = p[k];
    }
    solve(A, b, m);
}

void scorr_warp_pair_draw(struct scorr_warp_pair *p, const struct scorr_warp_config *c,
                          uint64_t seed, uint32_t epoch, uint32_t sample)
{
    scorr_warp_draw(&p->rel, c, seed, epoch, sample, 0);
    p->compose = c->compose != 0;
    if (p->compose)
        scorr_warp_draw(&p->base, c, seed, epoch, sample, 1);
    else
        memset(&p->base, 0, sizeof p->base);
}

void scorr_warp_map(const struct scorr_warp *w, double u, double v, double out[2])
{
    double x = u, y = v;
    if (w->n) {
        const int n = w->n;
        double ex = w->w[n][0] + w->w[n + 1][0] * u + w->w[n + 2][0] * v;
        double ey = w->w[n][1] + w->w[n + 1][1] * u + w->w[n + 2][1] * v;
        for (int i = 0; i < n; i++) {
            double k = tps_kernel(u - w->c[i][0], v - w->c[i][1]);
            ex += w->w[i][0] * k;
            ey += w->w[i][1] * k;
        }
        x += ex;
        y += ey;
    }
    const double *H = w->H;
    double z = H[6] * x + H[7] * y + H[8];
    out[0] = (H[0] * x + H[1] * y + H[2]) / z;
    out[1] = (H[3] * x + H[4] * y + H[5]) / z;
}

static inline int inside_px(const double p[2], int S)
{
    return p[0] >= 0.0 && p[0] <= (double)(S - 1) && p[1] >= 0.0 && p[1] <= (double)(S - 1);
}

/* pixel -> pixel through one warp */
static void map_px(const struct scorr_warp *w, int S, double x, double y, double out[2])
{
    double o[2];
    scorr_warp_map(w, (x + 0.5) / S, (y + 0.5) / S, o);
    out[0] = o[0] * S - 0.5;
    out[1] = o[1] * S - 0.5;
}

void scorr_warp_pair_point(const struct scorr_warp_pair *p, int S, double x, double y,
                           double out[2], int *inside)
{
    map_px(&p->rel, S, x, y, out);
    int in = inside_px(out, S);
    if (p->compose && in) {
        double b[2];
        map_px(&p->base, S, out[0], out[1], b);
        in = inside_px(b, S);
    }
    if (inside) *inside = in;
}

void scorr_warp_sample_bilinear(const uint8_t *img, int S, double x, double y, float out[3])
{
    out[0] = out[1] = out[2] = 0.0f;
    if (!(x > -1.0 && x < (double)S && y > -1.0 && y < (double)S)) return; /* NaN too */
    double fx = floor(x), fy = floor(y);
    int x0 = (int)fx, y0 = (int)fy;
    float lx = (float)(x - fx), ly = (float)(y - fy);
    const float wt[4] = {(1 - lx) * (1 - ly), lx * (1 - ly), (1 - lx) * ly, lx * ly};
    const int xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
    for (int k = 0; k < 4; k++) {
        if (xs[k] < 0 || xs[k] >= S || ys[k] < 0 || ys[k] >= S) continue;
        const uint8_t *px = img + ((size_t)ys[k] * S + xs[k]) * 3;
        for (int c = 0; c < 3; c++) out[c] += wt[k] * (float)px[c];
    }
}

static inline void put_px(uint8_t *dst, const float v[3])
{
    for (int c = 0; c < 3; c++) {
        float t = v[c] + 0.5f;
        dst[c] = (uint8_t)(t < 0.0f ? 0 : t > 255.0f ? 255 : (int)t);
    }
}

void scorr_warp_render(uint8_t *src, uint8_t *trg, float *flow, uint8_t *mask, const uint8_t *img,
                       int S, int stride, const struct scorr_warp_pair *p)
{
    float v[3];
    double s[2], b[2];
    /* source: I, or I o B */
    if (p->compose) {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                map_px(&p->base, S, x, y, b);
                scorr_warp_sample_bilinear(img, S, b[0], b[1], v);
                put_px(src + ((size_t)y * S + x) * 3, v);
            }
    } else {
        memcpy(src, img, (size_t)S * S * 3);
    }
    /* target: I o W, or I o B o W (sampled from I directly: one interpolation) */
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            map_px(&p->rel, S, x, y, s);
            if (p->compose) {
                map_px(&p->base, S, s[0], s[1], b);
                s[0] = b[0], s[1] = b[1];
            }
            scorr_warp_sample_bilinear(img, S, s[0], s[1], v);
            put_px(trg + ((size_t)y * S + x) * 3, v);
        }
    /* flow and mask at the grid */
    const int G = S / stride;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            double x = (c + 0.5) * stride - 0.5, y = (r + 0.5) * stride - 0.5;
            int in;
            scorr_warp_pair_point(p, S, x, y, s, &in);
            size_t i = (size_t)r * G + c;
            /* 0 where unlabelled, as the sparse labels */
            flow[2 * i] = in ? (float)((s[0] - x) / stride) : 0.0f;
            flow[2 * i + 1] = in ? (float)((s[1] - y) / stride) : 0.0f;
            mask[i] = (uint8_t)in;
        }
}
