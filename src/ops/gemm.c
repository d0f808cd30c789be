/* GEMMs on the OpenMP pool (ops/gemm.h). */
#include "ops/gemm.h"

#include <stddef.h>

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include "scorr/error.h"

void scorr_gemm_dnnl(char ta, char tb, long m, long n, long k, float alpha, const float *a,
                     long lda, const float *b, long ldb, float beta, float *c, long ldc)
{
    dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    SCORR_ASSERT(st == dnnl_success);
}

static void one_call(char ta, char tb, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta == 'T' ? CblasTrans : CblasNoTrans,
                tb == 'T' ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

void scorr_gemm_sliced(char ta, char tb, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc,
                       int nthreads, int chunk)
{
    SCORR_ASSERT((ta == 'N' || ta == 'T') && (tb == 'N' || tb == 'T') && chunk >= 0);
    if (m <= 0 || n <= 0) return;
    const int saved = openblas_get_num_threads();
    if (saved != 1) openblas_set_num_threads(1);
    int nt = nthreads > 0 ? nthreads : omp_get_max_threads();
    if (nt < 1 || omp_in_parallel()) nt = 1;
    const int by_cols = n >= m;
    const int len = by_cols ? n : m;
    const int per = chunk > 0 ? chunk : ((len + nt - 1) / nt + 15) / 16 * 16;
    const int nslices = (len + per - 1) / per;
    if (nt > nslices) nt = nslices;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int s = 0; s < nslices; s++) {
        const int i0 = s * per, len_s = len - i0 < per ? len - i0 : per;
        if (by_cols) {
            /* columns [i0, i0 + len_s) of C and of op(B) */
            const float *bs = tb == 'N' ? b + i0 : b + (size_t)i0 * ldb;
            one_call(ta, tb, m, len_s, k, alpha, a, lda, bs, ldb, beta, c + i0, ldc);
        } else {
            /* rows [i0, i0 + len_s) of C and of op(A) */
            const float *as = ta == 'N' ? a + (size_t)i0 * lda : a + i0;
            one_call(ta, tb, len_s, n, k, alpha, as, lda, b, ldb, beta, c + (size_t)i0 * ldc, ldc);
        }
    }
    if (saved != 1) openblas_set_num_threads(saved);
}

void scorr_gemm_batch(char ta, char tb, int m, int n, int k, const float *a, int lda, size_t sa,
                      const float *b, int ldb, size_t sb, float beta, float *c, int ldc,
                      size_t sc, int count)
{
    SCORR_ASSERT((ta == 'N' || ta == 'T') && (tb == 'N' || tb == 'T'));
    if (m <= 0 || n <= 0 || count <= 0) return;
    const int saved = openblas_get_num_threads();
    if (saved != 1) openblas_set_num_threads(1);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < count; i++)
        one_call(ta, tb, m, n, k, 1.0f, a + (size_t)i * sa, lda, b + (size_t)i * sb, ldb, beta,
                 c + (size_t)i * sc, ldc);
    if (saved != 1) openblas_set_num_threads(saved);
}
