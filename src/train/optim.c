#include "scorr/optim.h"

#include <math.h>
#include <omp.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <string.h>

#include "scorr/arena.h"
#include "scorr/error.h"

int scorr_adamw_init_with(struct scorr_adamw *o, const struct scorr_params *t, double beta1,
                          double beta2, double eps, double weight_decay)
{
    int err = 0;
    memset(o, 0, sizeof *o);
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->weight_decay = weight_decay;
    o->n = t->total;
    size_t bytes = (t->total ? t->total : 1) * sizeof(float);
    o->m = scorr_aligned_calloc(bytes);
    o->v = scorr_aligned_calloc(bytes);
    SCORR_REQUIRE(o->m && o->v, SCORR_ENOMEM,
                  "out of memory for the Adam moments (2 x %zu floats, %.1f MB)", t->total,
                  2.0 * (double)bytes / 1e6);
done:
    if (err) scorr_adamw_free(o);
    return err;
}

int scorr_adamw_init(struct scorr_adamw *o, const struct scorr_params *t,
                     const struct scorr_config *cfg)
{
    return scorr_adamw_init_with(o, t, cfg->optim.beta1, cfg->optim.beta2, cfg->optim.eps,
                                 cfg->optim.weight_decay);
}

void scorr_adamw_free(struct scorr_adamw *o)
{
    scorr_aligned_free(o->m);
    scorr_aligned_free(o->v);
    memset(o, 0, sizeof *o);
}

static int trained(const struct scorr_param *e)
{
    return e->kind == SCORR_PARAM_WEIGHT && e->trainable;
}

/* The per-element update, rounded as torch 1.13's CPU kernels (Debian build,
 * AVX-512) round it: every tensor op rounds on its own; add_(alpha) and
 * addcmul_ end in a fused multiply-add, addcdiv_ divides last. With
 * fp-contract off and explicit fused multiply-adds the unclipped fixture run
 * is bit-identical to torch over ten steps; any other fusion by the compiler
 * would drift by ulps. The AVX2 path gives the same bits as the scalar one
 * (vector mul, div, sqrt and fma round exactly like scalar ones); GCC at -O2
 * does not vectorise the scalar loop itself (sqrtf's errno path). */
/* Elements per work item of the threaded update (a multiple of 8). */
#define ADAMW_BLOCK 16384

struct adamw_coef {
    float decay, b1, c1, b2, c2, bc2_sqrt, eps, neg_step;
};

__attribute__((optimize("fp-contract=off"))) static void
adamw_kernel(float *restrict p, float *restrict m, float *restrict v, const float *restrict g,
             long n, const struct adamw_coef c)
{
    long k = 0;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256 decay = _mm256_set1_ps(c.decay), b1 = _mm256_set1_ps(c.b1),
                 c1 = _mm256_set1_ps(c.c1), b2 = _mm256_set1_ps(c.b2), c2 = _mm256_set1_ps(c.c2),
                 bc2s = _mm256_set1_ps(c.bc2_sqrt), eps = _mm256_set1_ps(c.eps),
                 ns = _mm256_set1_ps(c.neg_step);
    for (; k + 8 <= n; k += 8) {
        const __m256 gk = _mm256_loadu_ps(g + k);
        const __m256 pk = _mm256_mul_ps(_mm256_loadu_ps(p + k), decay);
        const __m256 mk = _mm256_fmadd_ps(gk, c1, _mm256_mul_ps(_mm256_loadu_ps(m + k), b1));
        const __m256 vk = _mm256_fmadd_ps(_mm256_mul_ps(c2, gk), gk,
                                          _mm256_mul_ps(_mm256_loadu_ps(v + k), b2));
        const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vk), bc2s), eps);
        _mm256_storeu_ps(m + k, mk);
        _mm256_storeu_ps(v + k, vk);
        _mm256_storeu_ps(p + k, _mm256_add_ps(pk, _mm256_div_ps(_mm256_mul_ps(ns, mk), denom)));
    }
#endif
    for (; k < n; k++) {
        const float gk = g[k];
        const float pk = p[k] * c.decay;                    /* param.mul_(1 - lr * wd) */
        const float mk = fmaf(gk, c.c1, m[k] * c.b1);       /* m.mul_(b1).add_(g, alpha=1-b1) */
        const float vk = fmaf(c.c2 * gk, gk, v[k] * c.b2);  /* v.mul_(b2).addcmul_(g, g, 1-b2) */
        const float denom = sqrtf(vk) / c.bc2_sqrt + c.eps; /* sqrt(v) / sqrt(bc2) + eps */
        m[k] = mk;
        v[k] = vk;
        p[k] = pk + c.neg_step * mk / denom;                /* p.addcdiv_(m, denom, -step_size) */
    }
}

void scorr_adamw_step(struct scorr_adamw *o, const struct scorr_params *t, float *params,
                      const float *grads, const double lr[2])
{
    SCORR_ASSERT(o->n == t->total);
    o->step++;
    /* Scalars exactly as torch forms them: Python floats (double) for the
     * bias corrections and step size, cast to float where they meet a float
     * tensor. */
    const double bc1 = 1.0 - pow(o->beta1, (double)o->step);
    const double bc2 = 1.0 - pow(o->beta2, (double)o->step);
    struct adamw_coef c = {
        .b1 = (float)o->beta1, .c1 = (float)(1.0 - o->beta1), .b2 = (float)o->beta2,
        .c2 = (float)(1.0 - o->beta2), .bc2_sqrt = (float)sqrt(bc2), .eps = (float)o->eps};
    /* The update is element-wise and memory-bound: threads take blocks of the
     * large tensors and whole small ones; every element gets the same
     * arithmetic as in one thread, so the result does not depend on the
     * thread count. */
#pragma omp parallel firstprivate(c)
    {
        const int nt = omp_get_num_threads(), me = omp_get_thread_num();
        for (int i = 0; i < t->n; i++) {
            const struct scorr_param *e = &t->p[i];
            if (!trained(e)) continue;
            const double glr = lr[e->group == SCORR_GROUP_BACKBONE ? 1 : 0];
            c.decay = (float)(1.0 - glr * o->weight_decay);
            c.neg_step = (float)(-(glr / bc1));
            const size_t off = e->offset;
            if (e->numel < ADAMW_BLOCK) {
                if (i % nt == me)
                    adamw_kernel(params + off, o->m + off, o->v + off, grads + off,
                                 (long)e->numel, c);
                continue;
            }
            const long nb = (long)((e->numel + ADAMW_BLOCK - 1) / ADAMW_BLOCK);
#pragma omp for schedule(static) nowait
            for (long b = 0; b < nb; b++) {
                const size_t o0 = off + (size_t)b * ADAMW_BLOCK;
                const size_t len = e->numel - (size_t)b * ADAMW_BLOCK < ADAMW_BLOCK
                                       ? e->numel - (size_t)b * ADAMW_BLOCK
                                       : ADAMW_BLOCK;
                adamw_kernel(params + o0, o->m + o0, o->v + o0, grads + o0, (long)len, c);
            }
        }
    }
}

double scorr_grad_norm(const struct scorr_params *t, const float *grads)
{
    double sum = 0.0;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (!trained(e)) continue;
        const float *g = grads + e->offset;
        double s = 0.0;
        for (size_t k = 0; k < e->numel; k++) s += (double)g[k] * (double)g[k];
        sum += s;
    }
    return sqrt(sum);
}

int scorr_grad_clip(const struct scorr_params *t, float *grads, double max_norm,
                    double *norm_out)
{
    int err = 0;
    double norm = scorr_grad_norm(t, grads);
    if (norm_out) *norm_out = norm;
    if (!isfinite(norm)) {
        const char *bad = "?";
        for (int i = 0; i < t->n && bad[0] == '?'; i++) {
            const struct scorr_param *e = &t->p[i];
            if (!trained(e)) continue;
            for (size_t k = 0; k < e->numel; k++)
                if (!isfinite(grads[e->offset + k])) {
                    bad = e->name;
                    break;
                }
        }
        scorr_error_set(SCORR_ENUMERIC, __FILE__, __LINE__, __func__,
                        "gradient norm is %g: tensor '%s' has a non-finite gradient", norm, bad);
        scorr_error_hint("training diverged; lower optim.lr or set optim.grad_clip");
        err = SCORR_ENUMERIC;
        goto done;
    }
    if (max_norm > 0) {
        /* torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1. */
        const double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0) {
            const float c = (float)coef;
            for (int i = 0; i < t->n; i++) {
                const struct scorr_param *e = &t->p[i];
                if (!trained(e)) continue;
                float *g = grads + e->offset;
                for (size_t k = 0; k < e->numel; k++) g[k] *= c;
            }
        }
    }
done:
    return err;
}
