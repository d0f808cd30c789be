/* Channel L2 normalisation with eps inside the root (include/scorr/l2norm.h). */
#include "scorr/l2norm.h"

#include <math.h>

#include "vec8.h"

void scorr_l2norm_forward(float *out, float *r, const float *in, size_t m, int d, int nthreads)
{
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (size_t i = 0; i < m; i++) {
        const float *x = in + i * (size_t)d;
        float *y = out + i * (size_t)d;
        float ri = sqrtf(v8_dot(x, x, d) + SCORR_L2NORM_EPS);
        r[i] = ri;
        v8f vr = v8_set1(ri);
        int c = 0;
        for (; c + 8 <= d; c += 8) v8_store(y + c, v8_load(x + c) / vr);
        for (; c < d; c++) y[c] = x[c] / ri;
    }
}

/* din += t or, with set, din = 0 + t (the bits of a zeroed din plus t:
 * -0 becomes +0), t = (dout - out <out, dout>) / r; each row's dot is
 * complete before its first store, so with set din may be dout. */
static void backward(float *din, const float *dout, const float *out, const float *r, size_t m,
                     int d, int nthreads, int set)
{
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (size_t i = 0; i < m; i++) {
        const float *y = out + i * (size_t)d, *dy = dout + i * (size_t)d;
        float *dx = din + i * (size_t)d;
        /* y = x / sqrt(sum x^2 + eps)  =>  dx = (dy - y <y, dy>) / r */
        float dot = v8_dot(y, dy, d), ri = r[i];
        v8f vdot = v8_set1(dot), vr = v8_set1(ri), vz = v8_set1(0.0f);
        int c = 0;
        for (; c + 8 <= d; c += 8)
            v8_store(dx + c, (set ? vz : v8_load(dx + c)) +
                                 (v8_load(dy + c) - v8_load(y + c) * vdot) / vr);
        for (; c < d; c++) dx[c] = (set ? 0.0f : dx[c]) + (dy[c] - y[c] * dot) / ri;
    }
}

void scorr_l2norm_backward(float *din, const float *dout, const float *out, const float *r,
                           size_t m, int d, int nthreads)
{
    backward(din, dout, out, r, m, d, nthreads, 0);
}

void scorr_l2norm_backward_set(float *din, const float *dout, const float *out, const float *r,
                               size_t m, int d, int nthreads)
{
    backward(din, dout, out, r, m, d, nthreads, 1);
}
