/* Row-major single-precision GEMM on the one OpenMP thread pool of the
 * training step (docs/performance.md, "Threads"). Private to src/ops.
 *
 *   C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C
 *
 * op(X) = X ('N') or X^T ('T'); lda, ldb, ldc are row strides. Nothing here
 * runs OpenBLAS's own pthreads: those spin after each call and, next to the
 * OpenMP threads of oneDNN and our loops, made a 2-thread step 2.6x slower
 * (docs/engine-backbone.md). So the result and the speed do not depend on
 * OPENBLAS_NUM_THREADS. All functions are local (no MPI) and allocate
 * nothing themselves (OpenBLAS and oneDNN may keep small internal buffers).
 * The OpenBLAS ones set OpenBLAS's process-wide thread count for the call:
 * call them from one thread at a time (outside parallel regions), as every
 * op does. */
#ifndef SCORR_OPS_GEMM_H
#define SCORR_OPS_GEMM_H

#include <stddef.h>

/* oneDNN's sgemm (threads: the OpenMP pool, omp_get_max_threads()).
 * Faster than the sliced OpenBLAS call for the backbone's long, thin GEMMs
 * (measured: docs/performance.md). Aborts on an internal failure (the
 * sizes are ours). */
void scorr_gemm_dnnl(char ta, char tb, long m, long n, long k, float alpha, const float *a,
                     long lda, const float *b, long ldb, float beta, float *c, long ldc);

/* OpenBLAS's single-threaded sgemm on slices of C along the larger of m and
 * n, spread over nthreads OpenMP threads (nthreads <= 0: omp_get_max_threads()).
 *   chunk > 0: slices of `chunk` columns (rows), whatever the thread count.
 *     Every slice is the same OpenBLAS call for any nthreads, so the result
 *     is bitwise independent of the thread count (OpenBLAS's result for an
 *     element depends on the extent of the call it is in: measured).
 *   chunk = 0: one slice per thread (multiples of 16 wide): balanced, but
 *     the bits depend on nthreads.
 * Inside a parallel region the slices run on the calling thread. OpenBLAS's
 * own thread count is set to 1 for the call and restored afterwards. */
void scorr_gemm_sliced(char ta, char tb, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc,
                       int nthreads, int chunk);

/* The chunk width the head's ops use: 256 for a dimension of at least 1024,
 * else 128 (measured within 5 % of per-thread slices on the head's shapes). */
static inline int scorr_gemm_chunk(int m, int n)
{
    return (m > n ? m : n) >= 1024 ? 256 : 128;
}

/* count independent GEMMs C_i = op(A_i) op(B_i) + beta C_i, A_i = a + i * sa
 * (likewise b, c; alpha 1), one per OpenMP thread at a time (static
 * schedule), each single-threaded OpenBLAS: bitwise independent of the
 * thread count. For the Winograd convolutions' per-tile-element products. */
void scorr_gemm_batch(char ta, char tb, int m, int n, int k, const float *a, int lda, size_t sa,
                      const float *b, int ldb, size_t sb, float beta, float *c, int ldc,
                      size_t sc, int count);

#endif
