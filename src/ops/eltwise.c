/* ReLU and residual add over flat tensors. */
#include "scorr/eltwise.h"

void scorr_relu_forward(float *y, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void scorr_relu_backward(float *dx, const float *dy, const float *mask, size_t n,
                         enum scorr_grad_mode mode)
{
    /* y = max(x, 0)  =>  dx = dy where y > 0 */
    if (mode == SCORR_GRAD_SET) {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) dx[i] = mask[i] <= 0.0f ? 0.0f : dy[i];
    } else {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) dx[i] += mask[i] <= 0.0f ? 0.0f : dy[i];
    }
}

void scorr_add_forward(float *y, const float *a, const float *b, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void put(float *restrict d, const float *restrict s, size_t n, enum scorr_grad_mode mode)
{
    if (mode == SCORR_GRAD_SET) {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) d[i] = s[i];
    } else {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) d[i] += s[i];
    }
}

void scorr_add_backward(float *da, float *db, const float *dy, size_t n,
                        enum scorr_grad_mode mode)
{
    /* y = a + b  =>  da = dy, db = dy */
    if (da) put(da, dy, n, mode);
    if (db) put(db, dy, n, mode);
}
