/* CPU features by cpuid (leaf 7 sub-leaves 0 and 1) and xgetbv, and the
 * OpenBLAS core name. */
#include "scorr/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void scorr_cpu_features(struct scorr_cpu_features *f)
{
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    /* XCR0: SSE+AVX state (bits 1, 2), AVX-512 opmask/ZMM (5, 6, 7), AMX tile
     * config and data (17, 18) */
    const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    const int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
    const int os_amx = (xcr0 & 0x60000ULL) == 0x60000ULL;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        const unsigned ebx7 = b, edx7 = d, max_sub = a;
        f->avx2 = os_avx && fma && ((ebx7 >> 5) & 1);
        /* F (16), DQ (17), BW (30), VL (31) */
        f->avx512 = os_avx512 && ((ebx7 >> 16) & 1) && ((ebx7 >> 17) & 1) &&
                    ((ebx7 >> 30) & 1) && ((ebx7 >> 31) & 1);
        f->amx_bf16 = os_amx && ((edx7 >> 22) & 1) && ((edx7 >> 24) & 1);
        if (max_sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            f->avx512_bf16 = f->avx512 && ((a >> 5) & 1);
        }
    }
    unsigned br[12];
    if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &br[4 * i], &br[4 * i + 1], &br[4 * i + 2], &br[4 * i + 3]);
        memcpy(f->brand, br, 48);
        f->brand[48] = 0;
        char *s = f->brand;
        while (*s == ' ') s++;
        memmove(f->brand, s, strlen(s) + 1);
        for (size_t k = strlen(f->brand); k > 0 && f->brand[k - 1] == ' '; k--) f->brand[k - 1] = 0;
    }
}
#else
void scorr_cpu_features(struct scorr_cpu_features *f) { memset(f, 0, sizeof *f); }
#endif

void scorr_cpu_describe(char *buf, size_t n)
{
    struct scorr_cpu_features f;
    scorr_cpu_features(&f);
    const char *core = openblas_get_corename();
    const char *env = getenv("OPENBLAS_CORETYPE");
    snprintf(buf, n,
             "%s: AVX2 %s, AVX-512 %s, AVX512-BF16 %s, AMX %s; OpenBLAS core %s "
             "(OPENBLAS_CORETYPE%s%s)",
             f.brand[0] ? f.brand : "unknown CPU", f.avx2 ? "yes" : "no", f.avx512 ? "yes" : "no",
             f.avx512_bf16 ? "yes" : "no", f.amx_bf16 ? "yes" : "no", core ? core : "unknown",
             env ? "=" : " unset", env ? env : "");
}
