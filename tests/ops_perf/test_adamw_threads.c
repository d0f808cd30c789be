/* AdamW on OpenMP threads (src/train/optim.c): the same bits at 1, 2 and 3
 * threads over a table with small tensors (whole per thread), large ones
 * (blocks over threads, a partial last block), a frozen entry and a buffer
 * (both untouched), two parameter groups, several steps; every element
 * against the AdamW formula in double (|diff| <= 1e-6 (1 + |p|): float
 * rounding of one update is ~1e-7, a missed or doubled update >= 3e-4). The
 * rounding itself is checked against torch by test_traininfra_optim. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/optim.h"
#include "scorr/params.h"
#include "scorr/rng.h"

int main(void)
{
    struct scorr_params t;
    scorr_params_init(&t);
    const int64_t small[1] = {37}, big[2] = {300, 171}, huge[1] = {70001}, buf[1] = {64};
    scorr_params_add(&t, "head.w", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD, SCORR_INIT_ZERO, 2, big);
    scorr_params_add(&t, "head.b", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD, SCORR_INIT_ZERO, 1, small);
    scorr_params_add(&t, "bb.w", SCORR_PARAM_WEIGHT, SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1, huge);
    scorr_params_add(&t, "bb.rm", SCORR_PARAM_BUFFER, SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1, buf);
    scorr_params_add(&t, "bb.frozen", SCORR_PARAM_WEIGHT, SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1,
                     small);
    t.p[scorr_params_find(&t, "bb.frozen")].trainable = 0;
    float *p0 = scorr_aligned_calloc(t.total * sizeof(float));
    float *g = scorr_aligned_calloc(t.total * sizeof(float));
    struct scorr_rng r;
    scorr_rng_init(&r, 9, SCORR_RNG_TEST, 0, 0, 0);
    for (size_t i = 0; i < t.total; i++) p0[i] = scorr_rng_normal(&r);
    float *res[3];
    /* the reference: torch.optim.AdamW in double */
    double *rp = calloc(t.total, sizeof(double)), *rm = calloc(t.total, sizeof(double));
    double *rv = calloc(t.total, sizeof(double));
    for (size_t i = 0; i < t.total; i++) rp[i] = p0[i];
    {
        struct scorr_rng rg;
        scorr_rng_init(&rg, 10, SCORR_RNG_TEST, 0, 0, 0);
        const double lrs[2] = {3e-3, 3e-4};
        for (int step = 1; step <= 3; step++) {
            for (size_t i = 0; i < t.total; i++) g[i] = scorr_rng_normal(&rg);
            for (int k = 0; k < t.n; k++) {
                const struct scorr_param *e = &t.p[k];
                if (e->kind != SCORR_PARAM_WEIGHT || !e->trainable) continue;
                const double l = lrs[e->group == SCORR_GROUP_BACKBONE];
                for (size_t j = e->offset; j < e->offset + e->numel; j++) {
                    rp[j] *= 1 - l * 0.05;
                    rm[j] = 0.9 * rm[j] + 0.1 * g[j];
                    rv[j] = 0.999 * rv[j] + 0.001 * (double)g[j] * g[j];
                    const double den = sqrt(rv[j]) / sqrt(1 - pow(0.999, step)) + 1e-8;
                    rp[j] -= l / (1 - pow(0.9, step)) * rm[j] / den;
                }
            }
        }
    }
    const double lr[2] = {3e-3, 3e-4};
    for (int nt = 1; nt <= 3; nt++) {
        omp_set_num_threads(nt);
        struct scorr_adamw o;
        CHECK_OK(scorr_adamw_init_with(&o, &t, 0.9, 0.999, 1e-8, 0.05));
        res[nt - 1] = scorr_aligned_calloc(t.total * sizeof(float));
        memcpy(res[nt - 1], p0, t.total * sizeof(float));
        struct scorr_rng rg;
        scorr_rng_init(&rg, 10, SCORR_RNG_TEST, 0, 0, 0);
        for (int step = 0; step < 3; step++) {
            for (size_t i = 0; i < t.total; i++) g[i] = scorr_rng_normal(&rg);
            scorr_adamw_step(&o, &t, res[nt - 1], g, lr);
        }
        scorr_adamw_free(&o);
    }
    omp_set_num_threads(1);
    double worst = 0;
    for (size_t i = 0; i < t.total; i++) {
        const double d = fabs(res[0][i] - rp[i]) / (1 + fabs(rp[i]));
        if (!(d <= worst)) worst = d;
    }
    CHECK(worst <= 1e-6, "AdamW differs from the formula by %.3g", worst);
    free(rp), free(rm), free(rv);
    CHECK(memcmp(res[0], res[1], t.total * sizeof(float)) == 0, "AdamW: 2 threads differ from 1");
    CHECK(memcmp(res[0], res[2], t.total * sizeof(float)) == 0, "AdamW: 3 threads differ from 1");
    /* trained entries moved, the buffer and the frozen entry did not */
    for (int i = 0; i < t.n; i++) {
        const struct scorr_param *e = &t.p[i];
        const int same = memcmp(res[0] + e->offset, p0 + e->offset, e->numel * sizeof(float)) == 0;
        const int trained = e->kind == SCORR_PARAM_WEIGHT && e->trainable;
        CHECK(same != trained, "entry %s: %s", e->name, trained ? "not updated" : "changed");
    }
    for (int k = 0; k < 3; k++) scorr_aligned_free(res[k]);
    scorr_aligned_free(p0), scorr_aligned_free(g);
    scorr_params_free(&t);
    return scorr_test_finish("test_adamw_threads");
}
