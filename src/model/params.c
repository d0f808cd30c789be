#include "scorr/params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/rng.h"
#include "scorr/softargmax.h"

#define ALIGN_FLOATS 16 /* 64 bytes */

void scorr_params_init(struct scorr_params *t) { memset(t, 0, sizeof *t); }

void scorr_params_free(struct scorr_params *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

int scorr_params_add(struct scorr_params *t, const char *name, enum scorr_param_kind kind,
                     enum scorr_param_group group, enum scorr_init init, int ndim,
                     const int64_t *shape)
{
    SCORR_ASSERT(ndim >= 0 && ndim <= SCORR_PARAM_MAXDIM);
    SCORR_ASSERT(strlen(name) < SCORR_PARAM_NAME);
    SCORR_ASSERT(scorr_params_find(t, name) < 0);
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        struct scorr_param *p = realloc(t->p, (size_t)cap * sizeof *p);
        SCORR_ASSERT(p);
        t->p = p;
        t->cap = cap;
    }
    struct scorr_param *e = &t->p[t->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->numel = 1;
    for (int i = 0; i < ndim; i++) {
        e->shape[i] = shape[i];
        e->numel *= (size_t)shape[i];
    }
    /* PyTorch fans: weight (out, in, kh, kw): fan_in = in*kh*kw, fan_out = out*kh*kw. */
    int64_t recept = 1;
    for (int i = 2; i < ndim; i++) recept *= shape[i];
    e->fan_in = ndim >= 2 ? shape[1] * recept : (ndim == 1 ? shape[0] : 1);
    e->fan_out = ndim >= 1 ? shape[0] * recept : 1;
    e->kind = kind;
    e->group = group;
    e->init = init;
    e->trainable = kind == SCORR_PARAM_WEIGHT;
    e->offset = t->total;
    t->total += (e->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    return t->n++;
}

int scorr_params_find(const struct scorr_params *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->p[i].name, name) == 0) return i;
    return -1;
}

void scorr_params_initialise(const struct scorr_params *t, float *flat, uint64_t seed)
{
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        float *w = flat + e->offset;
        struct scorr_rng r;
        scorr_rng_init(&r, seed, SCORR_RNG_INIT, (uint32_t)i, 0, 0);
        double b;
        switch (e->init) {
        case SCORR_INIT_ZERO:
            memset(w, 0, e->numel * sizeof *w);
            break;
        case SCORR_INIT_ONE:
            for (size_t k = 0; k < e->numel; k++) w[k] = 1.0f;
            break;
        case SCORR_INIT_KAIMING_NORMAL_FAN_OUT: {
            float sd = (float)sqrt(2.0 / (double)e->fan_out);
            for (size_t k = 0; k < e->numel; k++) w[k] = sd * scorr_rng_normal(&r);
            break;
        }
        case SCORR_INIT_TORCH_CONV_WEIGHT:
        case SCORR_INIT_TORCH_CONV_BIAS:
            /* kaiming_uniform(a=sqrt(5)) and PyTorch's bias rule both give
             * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); a bias's fan_in is its layer's
             * (scorr_params_set_fan_in). */
            b = 1.0 / sqrt((double)(e->fan_in > 0 ? e->fan_in : 1));
            for (size_t k = 0; k < e->numel; k++) w[k] = (float)(b * (2.0 * scorr_rng_uniform_f64(&r) - 1.0));
            break;
        case SCORR_INIT_LINSPACE:
            scorr_softargmax_linspace(w, (int)e->numel);
            break;
        }
    }
}

void scorr_params_set_fan_in(struct scorr_params *t, int index, int64_t fan_in)
{
    SCORR_ASSERT(index >= 0 && index < t->n);
    t->p[index].fan_in = fan_in;
}

void scorr_params_set_trainable(struct scorr_params *t, enum scorr_param_group group, int on)
{
    for (int i = 0; i < t->n; i++)
        if (t->p[i].group == group && t->p[i].kind == SCORR_PARAM_WEIGHT) t->p[i].trainable = on;
}

size_t scorr_params_trainable_count(const struct scorr_params *t)
{
    size_t n = 0;
    for (int i = 0; i < t->n; i++)
        if (t->p[i].trainable) n += t->p[i].numel;
    return n;
}

int scorr_params_find_nonfinite(const struct scorr_params *t, const float *flat, size_t stride,
                                int trained_only, size_t *index_out)
{
    if (stride < 1) stride = 1;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (trained_only && !(e->kind == SCORR_PARAM_WEIGHT && e->trainable)) continue;
        if (!e->numel) continue;
        const float *v = flat + e->offset;
        for (size_t k = 0; k < e->numel; k += stride)
            if (!isfinite(v[k])) {
                if (index_out) *index_out = k;
                return i;
            }
        if (!isfinite(v[e->numel - 1])) {
            if (index_out) *index_out = e->numel - 1;
            return i;
        }
    }
    return -1;
}
