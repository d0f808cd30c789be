/* What the CPU this process runs on can do, for benchmark reports and the
 * bf16 dispatch: vector features read with cpuid at run time (and whether
 * the OS saves their registers), and the OpenBLAS kernel set the library
 * actually picked. Local; no allocation. */
#ifndef SCORR_CPU_H
#define SCORR_CPU_H

#include <stddef.h>

struct scorr_cpu_features {
    int avx2;        /* AVX2 + FMA, OS-enabled */
    int avx512;      /* AVX-512 F/BW/VL/DQ, OS-enabled (oneDNN's avx512_core) */
    int avx512_bf16; /* AVX512-BF16 (vdpbf16ps): native bf16 dot products */
    int amx_bf16;    /* AMX tiles with bf16, OS-enabled */
    char brand[49];  /* cpuid brand string, trimmed */
};

/* Fill f from cpuid/xgetbv (all zero on a non-x86 build). */
void scorr_cpu_features(struct scorr_cpu_features *f);

/* One line for reports, e.g.
 *   "AMD EPYC: AVX2 yes, AVX-512 yes, AVX512-BF16 yes, AMX no; OpenBLAS core
 *    Zen (OPENBLAS_CORETYPE unset)"
 * The OpenBLAS core is openblas_get_corename(), the kernels that run (the
 * environment variable OPENBLAS_CORETYPE overrides the detection; its value,
 * when set, is given too). Writes at most n bytes, NUL-terminated. */
void scorr_cpu_describe(char *buf, size_t n);

#endif
