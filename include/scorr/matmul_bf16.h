/* bf16 GEMMs with float32 accumulation through oneDNN's matmul primitive,
 * for the head's GEMMs when model.precision is bf16 (docs/performance.md,
 * "bf16 mixed precision").
 *
 *   C (m, n) = op(A) (m, k) * op(B) (k, n)            (accumulate = 0)
 *   C (m, n) = op(A) (m, k) * op(B) (k, n) + C        (accumulate = 1)
 *
 * Row-major as ops/gemm.h: op(X) = X ('N') or X^T ('T'), lda, ldb, ldc row
 * strides. A and B are bf16 (the upper 16 bits of a float32, rounded to
 * nearest even by scorr_bf16_round); C is float32. oneDNN multiplies the
 * bf16 values exactly and accumulates in float32; it runs on the OpenMP
 * pool (omp_get_max_threads() threads). All calls are local (no MPI).
 * Where the CPU has no native bf16, oneDNN emulates the bf16 products
 * (AVX-512) or runs reference kernels (slow; the callers only use this
 * where scorr_precision_resolve chose bf16, or in tests). */
#ifndef SCORR_MATMUL_BF16_H
#define SCORR_MATMUL_BF16_H

#include <stddef.h>
#include <stdint.h>

struct scorr_mm_bf16_shape {
    char ta, tb;          /* 'N' or 'T' */
    int m, n, k;
    int lda, ldb, ldc;    /* row strides of A, B (as stored) and C */
    int accumulate;       /* 1: C += op(A) op(B); 0: C = op(A) op(B) */
};

struct scorr_mm_bf16; /* opaque: the oneDNN primitive and its memory handles */

/* Create the primitive for one shape. Errors (SCORR_EINVAL for a bad shape,
 * SCORR_EINTERNAL when oneDNN has no implementation) carry a message. */
int scorr_mm_bf16_create(struct scorr_mm_bf16 **out, const struct scorr_mm_bf16_shape *s);
void scorr_mm_bf16_free(struct scorr_mm_bf16 *mm); /* NULL is fine */

/* Bytes of scratch scorr_mm_bf16_run needs (oneDNN's scratchpad, 64-rounded). */
size_t scorr_mm_bf16_scratch(const struct scorr_mm_bf16 *mm);

/* oneDNN's implementation name ("brg:avx512_core_bf16", "gemm:jit", ...). */
const char *scorr_mm_bf16_impl_name(const struct scorr_mm_bf16 *mm);

/* Run: c as in the shape; a, b bf16; scratch: scorr_mm_bf16_scratch bytes,
 * 64-byte aligned. Never allocates. */
void scorr_mm_bf16_run(const struct scorr_mm_bf16 *mm, float *c, const uint16_t *a,
                       const uint16_t *b, void *scratch);

/* dst[i * cols + j] = bf16(src[i * lds + j]) for rows x cols, rounded to
 * nearest even (NaN stays NaN), on at most nthreads OpenMP threads; the
 * same bits at any thread count. */
void scorr_bf16_round(uint16_t *dst, const float *src, size_t rows, size_t cols, size_t lds,
                      int nthreads);

#endif
