/* The step's GEMMs on the OpenMP pool (src/ops/gemm.h): correctness of every
 * transpose combination against a double-precision loop, fixed-chunk results
 * bitwise independent of the thread count, the batched form, and OpenBLAS's
 * own thread count left as it was. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ops/gemm.h"
#include "scorr/arena.h"
#include "scorr/rng.h"

static float *randn(struct scorr_rng *r, size_t n)
{
    float *x = scorr_aligned_calloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = scorr_rng_normal(r);
    return x;
}

/* Element (i, j) of op(X) for a row-major X with leading dimension ld. */
static double at(const float *x, int ld, char t, int i, int j)
{
    return t == 'N' ? x[(size_t)i * ld + j] : x[(size_t)j * ld + i];
}

/* max over C of |got - ref| / bound, bound = 2 (k + 2) u (|alpha| sum |a||b| +
 * |beta| |c0|) + tiny: the standard float dot-product error bound (gamma_k)
 * with a factor 2; > 1 is a failure. */
static double worst(const float *got, const float *c0, char ta, char tb, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                    int ldc)
{
    const double u = ldexp(1.0, -24);
    double w = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, sa = 0;
            for (int l = 0; l < k; l++) {
                double p = at(a, lda, ta, i, l) * at(b, ldb, tb, l, j);
                s += p;
                sa += fabs(p);
            }
            const double c = c0[(size_t)i * ldc + j];
            const double ref = alpha * s + beta * c;
            const double bound = 2.0 * (k + 2) * u * (fabs(alpha) * sa + fabs(beta * c)) + 1e-30;
            const double e = fabs(got[(size_t)i * ldc + j] - ref) / bound;
            if (!(e <= w)) w = e; /* NaN counts as a failure */
        }
    return w;
}

static void sliced_cases(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 41, SCORR_RNG_TEST, 0, 0, 0);
    const int shapes[][3] = {{37, 53, 91}, {300, 20, 65}, {16, 700, 33}, {1, 1, 1}, {5, 129, 7}};
    const char tr[4][2] = {{'N', 'N'}, {'N', 'T'}, {'T', 'N'}, {'T', 'T'}};
    const int chunks[3] = {0, 16, 64};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int ti = 0; ti < 4; ti++) {
            const int m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
            const char ta = tr[ti][0], tb = tr[ti][1];
            /* leading dimensions larger than needed */
            const int lda = (ta == 'N' ? k : m) + 3, ldb = (tb == 'N' ? n : k) + 5, ldc = n + 2;
            const size_t na = (size_t)(ta == 'N' ? m : k) * lda;
            const size_t nb = (size_t)(tb == 'N' ? k : n) * ldb, nc = (size_t)m * ldc;
            float *a = randn(&r, na), *b = randn(&r, nb), *c0 = randn(&r, nc);
            float *c = scorr_aligned_calloc(nc * sizeof *c), *c1 = scorr_aligned_calloc(nc * sizeof *c);
            for (int ci = 0; ci < 3; ci++)
                for (int nt = 1; nt <= 3; nt++) {
                    memcpy(c, c0, nc * sizeof *c);
                    scorr_gemm_sliced(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, -0.5f, c, ldc, nt,
                                      chunks[ci]);
                    const double w = worst(c, c0, ta, tb, m, n, k, 0.75f, a, lda, b, ldb, -0.5f,
                                           ldc);
                    CHECK(w <= 1.0, "sliced %c%c m=%d n=%d k=%d chunk %d threads %d: error %.3g "
                                    "of the bound", ta, tb, m, n, k, chunks[ci], nt, w);
                    if (nt == 1) memcpy(c1, c, nc * sizeof *c);
                    else if (chunks[ci] > 0)
                        CHECK(memcmp(c1, c, nc * sizeof *c) == 0,
                              "sliced %c%c m=%d n=%d k=%d chunk %d: %d threads differ from 1",
                              ta, tb, m, n, k, chunks[ci], nt);
                }
            /* padding columns of C (ld > n) are never written */
            memcpy(c, c0, nc * sizeof *c);
            scorr_gemm_sliced(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc, 2, 16);
            int pad_ok = 1;
            for (int i = 0; i < m; i++)
                for (int j = n; j < ldc; j++) pad_ok &= c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j];
            CHECK(pad_ok, "sliced %c%c m=%d n=%d: wrote past n in a row", ta, tb, m, n);
            scorr_aligned_free(a), scorr_aligned_free(b), scorr_aligned_free(c0);
            scorr_aligned_free(c), scorr_aligned_free(c1);
        }
}

static void batch_and_dnnl(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 42, SCORR_RNG_TEST, 0, 0, 0);
    /* 7 products of (m, k) x (k, n)^T with interleaved storage, as the
     * Winograd convolutions use them: A_i = a + i*ka, row stride 7*ka */
    const int m = 19, n = 23, k = 11, cnt = 7;
    float *a = randn(&r, (size_t)m * cnt * k), *b = randn(&r, (size_t)n * cnt * k);
    float *c0 = randn(&r, (size_t)m * cnt * n);
    float *c[2];
    for (int t = 0; t < 2; t++) {
        c[t] = scorr_aligned_calloc((size_t)m * cnt * n * sizeof(float));
        memcpy(c[t], c0, (size_t)m * cnt * n * sizeof(float));
        omp_set_num_threads(t + 1);
        scorr_gemm_batch('N', 'T', m, n, k, a, cnt * k, (size_t)k, b, cnt * k, (size_t)k, 1.0f,
                         c[t], cnt * n, (size_t)n, cnt);
    }
    omp_set_num_threads(1);
    for (int i = 0; i < cnt; i++) {
        const double w = worst(c[0] + (size_t)i * n, c0 + (size_t)i * n, 'N', 'T', m, n, k, 1.0f,
                               a + (size_t)i * k, cnt * k, b + (size_t)i * k, cnt * k, 1.0f,
                               cnt * n);
        CHECK(w <= 1.0, "batch product %d: error %.3g of the bound", i, w);
    }
    CHECK(memcmp(c[0], c[1], (size_t)m * cnt * n * sizeof(float)) == 0,
          "batch: 2 threads differ from 1");
    /* oneDNN's sgemm wrapper */
    float *d = scorr_aligned_calloc((size_t)m * n * sizeof(float));
    float *z = scorr_aligned_calloc((size_t)m * n * sizeof(float));
    scorr_gemm_dnnl('N', 'T', m, n, k, 1.0f, a, cnt * k, b, cnt * k, 0.0f, d, n);
    CHECK(worst(d, z, 'N', 'T', m, n, k, 1.0f, a, cnt * k, b, cnt * k, 0.0f, n) <= 1.0,
          "dnnl gemm wrong");
    scorr_aligned_free(a), scorr_aligned_free(b), scorr_aligned_free(c0);
    scorr_aligned_free(c[0]), scorr_aligned_free(c[1]), scorr_aligned_free(d), scorr_aligned_free(z);
}

/* OpenBLAS's thread count is what the caller had, before and after. */
static void openblas_threads(void)
{
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {0};
    openblas_set_num_threads(2);
    const int before = openblas_get_num_threads();
    scorr_gemm_sliced('N', 'N', 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2, 2, 1);
    CHECK(openblas_get_num_threads() == before, "sliced: OpenBLAS threads %d, were %d",
          openblas_get_num_threads(), before);
    scorr_gemm_batch('N', 'N', 2, 2, 2, a, 2, 0, b, 2, 0, 0.0f, c, 2, 0, 1);
    CHECK(openblas_get_num_threads() == before, "batch: OpenBLAS threads %d, were %d",
          openblas_get_num_threads(), before);
    CHECK(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4, "identity product wrong");
    openblas_set_num_threads(1);
}

int main(void)
{
    sliced_cases();
    batch_and_dnnl();
    openblas_threads();
    return scorr_test_finish("test_gemm");
}
