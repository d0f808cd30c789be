/* Eight-float vectors for the head's hot loops (GCC/Clang vector extensions).
 *
 * Why explicit vectors: the default build is -O2, where GCC 12 only
 * vectorises loops whose trip count is known to need no scalar epilogue
 * ("very-cheap" cost model), even under `#pragma omp simd`. Our loops run
 * over runtime sizes, so they would stay scalar. These types compile to AVX
 * with -march=native and to pairs of SSE registers otherwise; no intrinsics
 * headers, no -O3 or -ffast-math needed. Horizontal reductions use a fixed
 * order, so results do not depend on anything but the data.
 * Private to src/ops. */
#ifndef SCORR_OPS_VEC8_H
#define SCORR_OPS_VEC8_H

#include <stddef.h>
#include <stdint.h>

/* Without AVX (-DSCORR_NATIVE=OFF) GCC notes, at every use, that 32-byte
 * vectors are passed differently than an AVX build would. These functions
 * are static inline and never cross an ABI boundary, so the note does not
 * apply; it stays off for the rest of each file that includes this header
 * (only the head's ops and their tests). */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
/* unaligned, aliasing-safe views for loads and stores */
typedef float v8f_u __attribute__((vector_size(32), aligned(4), may_alias));

static inline v8f v8_load(const float *p) { return *(const v8f_u *)p; }
static inline void v8_store(float *p, v8f v) { *(v8f_u *)p = v; }
static inline v8f v8_set1(float x) { return (v8f){x, x, x, x, x, x, x, x}; }
static inline v8f v8_sel(v8i mask, v8f a, v8f b)
{
    return (v8f)((mask & (v8i)a) | (~mask & (v8i)b));
}
static inline v8f v8_max(v8f a, v8f b) { return v8_sel(a > b, a, b); }
static inline float v8_hsum(v8f v)
{
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
static inline float v8_hmax(v8f v)
{
    float m = v[0];
    for (int i = 1; i < 8; i++) m = v[i] > m ? v[i] : m;
    return m;
}
/* lanes [0, n) set, n in [0, 8] */
static inline v8i v8_first(int n)
{
    v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    v8i nn = {n, n, n, n, n, n, n, n};
    return lane < nn;
}

/* exp on 8 lanes for x <= 88 (the soft-argmax exponentiates x - max <= 0):
 * Cephes expf (range reduction with a two-part ln2, degree-6 polynomial on
 * |r| <= ln2/2, 2^n in the exponent bits). Relative error < 1 ulp. Results
 * below about -87.3 (subnormal range) are flushed to 0; NaN stays NaN.
 * Larger x is outside the contract (no upper clamp: it would cost a blend in
 * the hottest loop of the head). */
static inline v8f v8_exp(v8f x)
{
    const v8f lo = v8_set1(-87.33654475f);
    v8i under = x < lo;
    x = v8_sel(under, lo, x); /* keeps the integer conversion in range */
    /* n = round-to-nearest(x / ln2) by the 1.5 * 2^23 trick */
    const v8f magic = v8_set1(12582912.0f);
    v8f n = (x * v8_set1(1.44269504088896341f) + magic) - magic;
    v8f r = x - n * v8_set1(0.693359375f);
    r = r - n * v8_set1(-2.12194440e-4f);
    v8f r2 = r * r;
    v8f p = v8_set1(1.9875691500e-4f);
    p = p * r + v8_set1(1.3981999507e-3f);
    p = p * r + v8_set1(8.3334519073e-3f);
    p = p * r + v8_set1(4.1665795894e-2f);
    p = p * r + v8_set1(1.6666665459e-1f);
    p = p * r + v8_set1(5.0000001201e-1f);
    p = p * r2 + r + v8_set1(1.0f);
    v8u e = (v8u)(__builtin_convertvector(n, v8i) + 127) << 23;
    v8f y = p * (v8f)e;
    return (v8f)(~under & (v8i)y);
}

/* sum a[i] * b[i]: 8 lanes, fixed-order horizontal sum, scalar tail */
static inline float v8_dot(const float *a, const float *b, int n)
{
    v8f acc = v8_set1(0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) acc += v8_load(a + i) * v8_load(b + i);
    float s = v8_hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y[i] += alpha * x[i] */
static inline void v8_axpy(float *y, float alpha, const float *x, size_t n)
{
    v8f al = v8_set1(alpha);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) v8_store(y + i, v8_load(y + i) + al * v8_load(x + i));
    for (; i < n; i++) y[i] += alpha * x[i];
}

#endif
