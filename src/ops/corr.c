/* Dense correlation, one GEMM per pair on the OpenMP pool (include/scorr/corr.h,
 * ops/gemm.h). */
#include "scorr/corr.h"

#include <stddef.h>

#include "ops/gemm.h"
#include "scorr/error.h"

/* The head's GEMMs: OpenBLAS on fixed-width slices over the OpenMP pool,
 * so the bits do not depend on the thread count (ops/gemm.h). */
static void gemm(char ta, char tb, int m, int n, int k, const float *a, int lda, const float *b,
                 int ldb, float beta, float *c, int ldc, int nthreads)
{
    scorr_gemm_sliced(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc, nthreads,
                      scorr_gemm_chunk(m, n));
}

void scorr_corr_forward(float *corr, const float *src, const float *trg,
                        const struct scorr_corr_shape *s)
{
    SCORR_ASSERT(s->b >= 1 && s->ls >= 1 && s->lt >= 1 && s->d >= 1);
    size_t ns = (size_t)s->ls * s->d, nt = (size_t)s->lt * s->d, nc = (size_t)s->lt * s->ls;
    for (int b = 0; b < s->b; b++)
        /* corr[t, s] = trg[t, :] . src[s, :]  ->  (Lt, D) x (D, Ls) */
        gemm('N', 'T', s->lt, s->ls, s->d, trg + b * nt, s->d, src + b * ns, s->d, 0.0f,
             corr + b * nc, s->ls, s->nthreads);
}

void scorr_corr_backward(float *dsrc, float *dtrg, const float *dcorr, const float *src,
                         const float *trg, const struct scorr_corr_shape *s)
{
    size_t ns = (size_t)s->ls * s->d, nt = (size_t)s->lt * s->d, nc = (size_t)s->lt * s->ls;
    for (int b = 0; b < s->b; b++) {
        /* corr = trg src^T  =>  dtrg += dcorr src,  dsrc += dcorr^T trg */
        if (dtrg)
            gemm('N', 'N', s->lt, s->d, s->ls, dcorr + b * nc, s->ls, src + b * ns, s->d, 1.0f,
                 dtrg + b * nt, s->d, s->nthreads);
        if (dsrc)
            gemm('T', 'N', s->ls, s->d, s->lt, dcorr + b * nc, s->ls, trg + b * nt, s->d, 1.0f,
                 dsrc + b * ns, s->d, s->nthreads);
    }
}
