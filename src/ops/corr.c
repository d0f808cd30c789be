/* Dense correlation, one GEMM per pair (include/scorr/corr.h). */
#include "scorr/corr.h"

#include <cblas.h>
#include <stddef.h>

#include "scorr/error.h"

void scorr_corr_forward(float *corr, const float *src, const float *trg,
                        const struct scorr_corr_shape *s)
{
    SCORR_ASSERT(s->b >= 1 && s->ls >= 1 && s->lt >= 1 && s->d >= 1);
    size_t ns = (size_t)s->ls * s->d, nt = (size_t)s->lt * s->d, nc = (size_t)s->lt * s->ls;
    for (int b = 0; b < s->b; b++)
        /* corr[t, s] = trg[t, :] . src[s, :]  ->  (Lt, D) x (D, Ls) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->lt, s->ls, s->d, 1.0f,
                    trg + b * nt, s->d, src + b * ns, s->d, 0.0f, corr + b * nc, s->ls);
}

void scorr_corr_backward(float *dsrc, float *dtrg, const float *dcorr, const float *src,
                         const float *trg, const struct scorr_corr_shape *s)
{
    size_t ns = (size_t)s->ls * s->d, nt = (size_t)s->lt * s->d, nc = (size_t)s->lt * s->ls;
    for (int b = 0; b < s->b; b++) {
        /* corr = trg src^T  =>  dtrg += dcorr src,  dsrc += dcorr^T trg */
        if (dtrg)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->lt, s->d, s->ls, 1.0f,
                        dcorr + b * nc, s->ls, src + b * ns, s->d, 1.0f, dtrg + b * nt, s->d);
        if (dsrc)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->ls, s->d, s->lt, 1.0f,
                        dcorr + b * nc, s->ls, trg + b * nt, s->d, 1.0f, dsrc + b * ns, s->d);
    }
}
