/* torchvision ResNet blocks (BasicBlock, Bottleneck v1.5) on the backbone
 * ops: oneDNN convolutions, batch norm with fused residual add and ReLU. */
#include "scorr/resblock.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scorr/error.h"

static size_t al(size_t bytes) { return (bytes + 63) / 64 * 64; }

int scorr_backbone_param(struct scorr_params *table, const char *name, enum scorr_param_kind kind,
                         enum scorr_init init, int ndim, const int64_t *shape, size_t *offset)
{
    int err = 0;
    SCORR_REQUIRE(strlen(name) < SCORR_PARAM_NAME, SCORR_EINVAL,
                  "parameter name '%s' is longer than %d characters", name, SCORR_PARAM_NAME - 1);
    int i = scorr_params_find(table, name);
    if (i < 0) {
        i = scorr_params_add(table, name, kind, SCORR_GROUP_BACKBONE, init, ndim, shape);
        SCORR_ASSERT(i >= 0);
    } else {
        const struct scorr_param *e = &table->p[i];
        int same = e->ndim == ndim && e->kind == kind;
        for (int d = 0; same && d < ndim; d++) same = e->shape[d] == shape[d];
        if (!same) {
            char a[96] = "", b[96] = "";
            for (int d = 0, k = 0; d < e->ndim; d++)
                k += snprintf(a + k, sizeof a - (size_t)k, d ? ", %lld" : "%lld", (long long)e->shape[d]);
            for (int d = 0, k = 0; d < ndim; d++)
                k += snprintf(b + k, sizeof b - (size_t)k, d ? ", %lld" : "%lld", (long long)shape[d]);
            SCORR_FAIL(SCORR_EINVAL,
                       "parameter '%s' is already in the table with shape (%s), this network "
                       "needs (%s)", name, a, b);
        }
    }
    *offset = table->p[i].offset;
done:
    return err;
}

int scorr_cbn_build(struct scorr_cbn *u, const struct scorr_conv2d_shape *cs, int bn_groups,
                    enum scorr_bn_mode bn_mode, unsigned conv_flags, struct scorr_params *table, const char *prefix,
                    const char *conv_name, const char *bn_name)
{
    int err = 0;
    char name[2 * SCORR_PARAM_NAME];
    memset(u, 0, sizeof *u);
    int64_t wshape[4] = {cs->k, cs->c, cs->kh, cs->kw}, vshape[1] = {cs->k};
    snprintf(name, sizeof name, "%s%s.weight", prefix, conv_name);
    SCORR_TRY(scorr_backbone_param(table, name, SCORR_PARAM_WEIGHT,
                                   SCORR_INIT_KAIMING_NORMAL_FAN_OUT, 4, wshape, &u->o_w));
    static const char *const bn_keys[4] = {"weight", "bias", "running_mean", "running_var"};
    static const enum scorr_init bn_init[4] = {SCORR_INIT_ONE, SCORR_INIT_ZERO, SCORR_INIT_ZERO,
                                               SCORR_INIT_ONE};
    size_t *offs[4] = {&u->o_g, &u->o_b, &u->o_rm, &u->o_rv};
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s%s.%s", prefix, bn_name, bn_keys[k]);
        SCORR_TRY(scorr_backbone_param(table, name, k < 2 ? SCORR_PARAM_WEIGHT : SCORR_PARAM_BUFFER,
                                       bn_init[k], 1, vshape, offs[k]));
    }
    SCORR_TRY(scorr_conv2d_create(&u->conv, cs, conv_flags));
    u->bn = (struct scorr_bn_shape){.n = cs->n,
                                    .hw = u->conv.ho * u->conv.wo,
                                    .c = cs->k,
                                    .groups = bn_groups,
                                    .eps = 1e-5f,
                                    .momentum = 0.1f};
    snprintf(name, sizeof name, "%s%s", prefix, bn_name);
    SCORR_TRY(scorr_bn_check(&u->bn, bn_mode, name));
done:
    if (err) scorr_conv2d_free(&u->conv);
    return err;
}

static size_t out_floats(const struct scorr_cbn *u)
{
    return (size_t)u->bn.n * u->bn.hw * u->bn.c;
}

static size_t stat_floats(const struct scorr_cbn *u) { return (size_t)u->bn.groups * u->bn.c; }

int scorr_resblock_build(struct scorr_resblock *b, const struct scorr_resblock_config *cfg,
                         struct scorr_params *table, const char *prefix)
{
    int err = 0;
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    b->cfg.recompute = cfg->recompute && cfg->bottleneck && cfg->grad;
    const int exp = cfg->bottleneck ? 4 : 1;
    SCORR_REQUIRE(cfg->n > 0 && cfg->h > 0 && cfg->w > 0 && cfg->inplanes > 0 && cfg->planes > 0,
                  SCORR_EINVAL, "block %s: sizes must be positive", prefix);
    SCORR_REQUIRE(cfg->stride == 1 || cfg->stride == 2, SCORR_EINVAL,
                  "block %s: stride must be 1 or 2, found %d", prefix, cfg->stride);
    SCORR_REQUIRE(cfg->downsample || (cfg->stride == 1 && cfg->inplanes == cfg->planes * exp),
                  SCORR_EINVAL,
                  "block %s: an identity skip needs stride 1 and %d input channels, found "
                  "stride %d and %d", prefix, cfg->planes * exp, cfg->stride, cfg->inplanes);
    b->nconv = cfg->bottleneck ? 3 : 2;
    b->cout = cfg->planes * exp;
    unsigned wflag = cfg->grad ? SCORR_CONV_BWD_WEIGHTS : 0;
    unsigned first = wflag | (cfg->grad && cfg->input_grad ? SCORR_CONV_BWD_DATA : 0);
    unsigned inner = wflag | (cfg->grad ? SCORR_CONV_BWD_DATA : 0);
    struct scorr_conv2d_shape cs = {.n = cfg->n, .h = cfg->h, .w = cfg->w, .c = cfg->inplanes,
                                    .prec = cfg->prec, .no_winograd = cfg->no_winograd};
    static const char *const conv_names[3] = {"conv1", "conv2", "conv3"};
    static const char *const bn_names[3] = {"bn1", "bn2", "bn3"};
    for (int i = 0; i < b->nconv; i++) {
        int is3x3 = !cfg->bottleneck || i == 1;
        /* BasicBlock strides its first conv, Bottleneck v1.5 its 3x3 */
        int strided = cfg->bottleneck ? i == 1 : i == 0;
        cs.kh = cs.kw = is3x3 ? 3 : 1;
        cs.pad = is3x3 ? 1 : 0;
        cs.stride = strided ? cfg->stride : 1;
        cs.k = i == b->nconv - 1 ? b->cout : cfg->planes;
        SCORR_TRY(scorr_cbn_build(&b->u[i], &cs, cfg->bn_groups, cfg->bn_mode, i == 0 ? first : inner, table,
                                  prefix, conv_names[i], bn_names[i]));
        cs.h = b->u[i].conv.ho;
        cs.w = b->u[i].conv.wo;
        cs.c = cs.k;
    }
    b->ho = cs.h;
    b->wo = cs.w;
    if (cfg->downsample) {
        struct scorr_conv2d_shape ds = {.n = cfg->n, .h = cfg->h, .w = cfg->w, .c = cfg->inplanes,
                                        .k = b->cout, .kh = 1, .kw = 1, .stride = cfg->stride,
                                        .pad = 0, .prec = cfg->prec};
        SCORR_TRY(scorr_cbn_build(&b->ds, &ds, cfg->bn_groups, cfg->bn_mode, first, table, prefix,
                                  "downsample.0", "downsample.1"));
        SCORR_ASSERT(b->ds.conv.ho == b->ho && b->ds.conv.wo == b->wo);
    }

    /* scratch: [temporaries][conv scratch][bn scratch] */
    size_t conv = 0, bn = 0, tmp_f = 0, tmp_b = 0;
    const struct scorr_cbn *all[4] = {&b->u[0], &b->u[1], b->nconv == 3 ? &b->u[2] : NULL,
                                      cfg->downsample ? &b->ds : NULL};
    for (int i = 0; i < 4; i++) {
        if (!all[i]) continue;
        if (all[i]->conv.scratch > conv) conv = all[i]->conv.scratch;
        size_t f = scorr_bn_scratch_floats(&all[i]->bn) * sizeof(float);
        if (f > bn) bn = f;
    }
    size_t outb = al(out_floats(&b->u[b->nconv - 1]) * sizeof(float));
    size_t m0 = al(out_floats(&b->u[0]) * sizeof(float));
    size_t m1 = b->nconv == 3 ? al(out_floats(&b->u[1]) * sizeof(float)) : 0;
    if (cfg->grad) {
        /* The ReLU outputs inside the block are not kept: the forward writes
         * them to R, the backward recomputes them there from the saved conv
         * outputs (scorr_bn_apply, the same bits). forward: the downsample BN
         * output, R; backward: T (last unit), G (skip), M1, M0, R (see
         * scorr_resblock_backward) */
        const size_t rb = m0 > m1 ? m0 : m1;
        /* recompute: the first conv's output A0 lives in the forward's
         * scratch, and the backward computes it again into T once T is
         * dead (A0 is never larger: planes channels at the input size
         * against 4 planes at the output size, stride <= 2) */
        SCORR_ASSERT(m0 <= outb || !b->cfg.recompute);
        tmp_f = (cfg->downsample ? outb : 0) + rb + (b->cfg.recompute ? m0 : 0);
        tmp_b = outb + (cfg->downsample ? outb : 0) + m1 + m0 + rb;
    } else {
        /* forward only: conv outputs, ReLU outputs, downsample output, statistics */
        size_t amax = outb > m0 ? outb : m0;
        if (m1 > amax) amax = m1;
        tmp_f = amax + m0 + m1 + (cfg->downsample ? outb : 0) +
                2 * al(stat_floats(&b->u[b->nconv - 1]) * sizeof(float)) * 4;
    }
    b->scratch = (tmp_f > tmp_b ? tmp_f : tmp_b) + al(conv) + al(bn);
done:
    if (err) scorr_resblock_free(b);
    return err;
}

void scorr_resblock_free(struct scorr_resblock *b)
{
    for (int i = 0; i < 3; i++) scorr_conv2d_free(&b->u[i].conv);
    scorr_conv2d_free(&b->ds.conv);
}

/* keep_a 0: the conv output is not kept (set by each forward, in the scratch) */
static void alloc_unit(struct scorr_cbn *u, struct scorr_arena *a, int keep_a)
{
    u->a = keep_a ? scorr_arena_floats(a, out_floats(u)) : NULL;
    u->mean = scorr_arena_floats(a, stat_floats(u));
    u->invstd = scorr_arena_floats(a, stat_floats(u));
}

void scorr_resblock_alloc(struct scorr_resblock *b, struct scorr_arena *arena)
{
    b->mem_conv = 0;
    if (!b->cfg.grad) return;
    const int first = b->cfg.recompute ? 1 : 0;
    for (int i = 0; i < b->nconv; i++) alloc_unit(&b->u[i], arena, i >= first);
    if (b->cfg.downsample) alloc_unit(&b->ds, arena, 1);
    /* the ReLU outputs r[] live in the scratch (forward, backward recomputes) */
    for (int i = first; i < b->nconv; i++) b->mem_conv += scorr_arena_bytes(out_floats(&b->u[i]) * sizeof(float));
    if (b->cfg.downsample) b->mem_conv += scorr_arena_bytes(out_floats(&b->ds) * sizeof(float));
}

/* Carve 64-byte aligned pieces off a scratch pointer. */
static void *take(char **p, size_t bytes)
{
    void *r = *p;
    *p += al(bytes);
    return r;
}

/* The conv and BN scratch sit at the end of the block scratch. */
static void tail_scratch(const struct scorr_resblock *b, char *base, void **conv, float **bn)
{
    size_t convb = 0, bnb = 0;
    const struct scorr_cbn *all[4] = {&b->u[0], &b->u[1], b->nconv == 3 ? &b->u[2] : NULL,
                                      b->cfg.downsample ? &b->ds : NULL};
    for (int i = 0; i < 4; i++) {
        if (!all[i]) continue;
        if (all[i]->conv.scratch > convb) convb = all[i]->conv.scratch;
        size_t f = scorr_bn_scratch_floats(&all[i]->bn) * sizeof(float);
        if (f > bnb) bnb = f;
    }
    char *end = base + b->scratch;
    *bn = (float *)(end - al(bnb));
    *conv = end - al(bnb) - al(convb);
}

static void unit_forward(struct scorr_cbn *u, float *y, const float *x, const float *residual,
                         int relu, float *params, enum scorr_bn_mode mode, void *cscr, float *bscr)
{
    /* bf16 convs: the weights' bf16 copies, once per forward (= per step) */
    scorr_conv2d_prepare(&u->conv, params + u->o_w, cscr);
    scorr_conv2d_forward(&u->conv, u->a, x, params + u->o_w, NULL, cscr);
    scorr_bn_forward(y, u->mean, u->invstd, u->a, residual, params + u->o_g, params + u->o_b,
                     params + u->o_rm, params + u->o_rv, mode, relu, &u->bn, bscr);
}

void scorr_resblock_forward(struct scorr_resblock *b, float *out, const float *x, float *params,
                            enum scorr_bn_mode mode, void *scratch)
{
    SCORR_ASSERT(out && x && params && scratch && ((uintptr_t)scratch & 63) == 0);
    void *cscr;
    float *bscr;
    tail_scratch(b, scratch, &cscr, &bscr);
    char *p = scratch;
    const int last = b->nconv - 1;
    float *skip_buf = NULL;
    if (!b->cfg.grad) {
        /* No backward: the saved tensors live in scratch, reused across blocks. */
        size_t outb = out_floats(&b->u[last]) * sizeof(float);
        size_t m0 = out_floats(&b->u[0]) * sizeof(float);
        size_t m1 = b->nconv == 3 ? out_floats(&b->u[1]) * sizeof(float) : 0;
        size_t amax = outb > m0 ? outb : m0;
        if (m1 > amax) amax = m1;
        float *abuf = take(&p, amax);
        for (int i = 0; i < b->nconv; i++) {
            b->u[i].a = abuf;
            b->u[i].mean = take(&p, stat_floats(&b->u[last]) * sizeof(float));
            b->u[i].invstd = take(&p, stat_floats(&b->u[last]) * sizeof(float));
        }
        b->r[0] = take(&p, m0);
        if (m1) b->r[1] = take(&p, m1);
        if (b->cfg.downsample) {
            b->ds.a = take(&p, outb);
            b->ds.mean = take(&p, stat_floats(&b->ds) * sizeof(float));
            b->ds.invstd = take(&p, stat_floats(&b->ds) * sizeof(float));
        }
    } else {
        if (b->cfg.downsample) skip_buf = take(&p, out_floats(&b->ds) * sizeof(float));
        /* one buffer R for the ReLU outputs: r1 = relu(bn2(conv2(r0))) may
         * overwrite r0 once conv2 has read it */
        size_t m0 = out_floats(&b->u[0]) * sizeof(float);
        size_t m1 = b->nconv == 3 ? out_floats(&b->u[1]) * sizeof(float) : 0;
        b->r[0] = b->r[1] = take(&p, m0 > m1 ? m0 : m1);
        /* recompute: a0 = conv1(x) only until bn1 has read it */
        if (b->cfg.recompute) b->u[0].a = take(&p, m0);
    }
    b->last_mode = mode;
    const float *skip = x;
    if (b->cfg.downsample) {
        /* skip = bn_d(conv_d(x)); without grad in place over the conv output */
        float *y = b->cfg.grad ? skip_buf : b->ds.a;
        unit_forward(&b->ds, y, x, NULL, 0, params, mode, cscr, bscr);
        skip = y;
    }
    const float *in = x;
    for (int i = 0; i < last; i++) {
        unit_forward(&b->u[i], b->r[i], in, NULL, 1, params, mode, cscr, bscr);
        in = b->r[i];
    }
    unit_forward(&b->u[last], out, in, skip, b->cfg.relu_out, params, mode, cscr, bscr);
}

void scorr_resblock_backward(struct scorr_resblock *b, float *dx, float *grads, const float *dout,
                             const float *x, const float *out, const float *params,
                             enum scorr_grad_mode dx_mode, void *scratch)
{
    SCORR_ASSERT(b->cfg.grad && (!dx || b->cfg.input_grad));
    SCORR_ASSERT(grads && dout && x && params && scratch && (out || !b->cfg.relu_out));
    void *cscr;
    float *bscr;
    tail_scratch(b, scratch, &cscr, &bscr);
    const int last = b->nconv - 1;
    const enum scorr_bn_mode mode = b->last_mode;
    char *p = scratch;
    float *t = take(&p, out_floats(&b->u[last]) * sizeof(float));
    float *g = b->cfg.downsample ? take(&p, out_floats(&b->ds) * sizeof(float)) : NULL;
    float *m[2];
    m[1] = b->nconv == 3 ? take(&p, out_floats(&b->u[1]) * sizeof(float)) : NULL;
    m[0] = take(&p, out_floats(&b->u[0]) * sizeof(float));
    /* R: the ReLU output r_{i-1} recomputed for unit i's conv and unit i-1's BN */
    const size_t m0b = out_floats(&b->u[0]) * sizeof(float);
    const size_t m1b = b->nconv == 3 ? out_floats(&b->u[1]) * sizeof(float) : 0;
    float *rbuf = take(&p, m0b > m1b ? m0b : m1b);

    /* out = act(bn_last(a_last) + skip): t = d a_last, the skip gets g = d skip
     * (straight into dx for an identity skip) */
    struct scorr_cbn *u = &b->u[last];
    float *dres = b->cfg.downsample ? g : dx;
    enum scorr_grad_mode res_mode = b->cfg.downsample ? SCORR_GRAD_SET : dx_mode;
    /* bn_backward applies one mode to dx and dres: run it twice when they differ */
    if (res_mode == SCORR_GRAD_SET || !dres) {
        scorr_bn_backward(t, dres, grads + u->o_g, grads + u->o_b, dout, out, u->a,
                          params + u->o_g, u->mean, u->invstd, mode, b->cfg.relu_out,
                          SCORR_GRAD_SET, &u->bn, bscr);
    } else {
        scorr_bn_backward(t, NULL, grads + u->o_g, grads + u->o_b, dout, out, u->a,
                          params + u->o_g, u->mean, u->invstd, mode, b->cfg.relu_out,
                          SCORR_GRAD_SET, &u->bn, bscr);
        /* identity skip, ADD mode: dx += g */
        scorr_bn_backward(NULL, dres, NULL, NULL, dout, out, u->a, params + u->o_g, u->mean,
                          u->invstd, SCORR_BN_FROZEN, b->cfg.relu_out, SCORR_GRAD_ADD, &u->bn,
                          bscr);
    }
    if (b->cfg.downsample) {
        /* skip = bn_d(conv_d(x)) */
        scorr_bn_backward(g, NULL, grads + b->ds.o_g, grads + b->ds.o_b, g, NULL, b->ds.a,
                          params + b->ds.o_g, b->ds.mean, b->ds.invstd, mode, 0, SCORR_GRAD_SET,
                          &b->ds.bn, bscr);
        scorr_conv2d_backward(&b->ds.conv, dx, grads + b->ds.o_w, NULL, g, x, params + b->ds.o_w,
                              dx_mode, cscr);
    }
    /* main path, last unit down to the first: a_i = conv_i(r_{i-1}), r_i = relu(bn_i(a_i)) */
    float *da = t;
    for (int i = last; i >= 0; i--) {
        u = &b->u[i];
        if (i == 1 && b->cfg.recompute) {
            /* a_0 = conv_0(x), as the forward computed it, into T: dead once
             * conv_last's backward has read it (i = last > 1) */
            b->u[0].a = t;
            scorr_conv2d_forward(&b->u[0].conv, t, x, params + b->u[0].o_w, NULL, cscr);
        }
        if (i) {
            /* r_{i-1} = relu(bn_{i-1}(a_{i-1})), as the forward computed it */
            const struct scorr_cbn *v = &b->u[i - 1];
            scorr_bn_apply(rbuf, v->a, NULL, params + v->o_g, params + v->o_b, v->mean,
                           v->invstd, mode, 1, &v->bn, bscr);
        }
        const float *in = i ? rbuf : x;
        float *din = i ? m[i - 1] : dx;
        enum scorr_grad_mode mode_in = i ? SCORR_GRAD_SET : SCORR_GRAD_ADD;
        if (i == 0 && !dx) din = NULL;
        /* dx of the first conv adds to the skip's contribution, unless nothing
         * has been written yet (identity skip without dx, impossible: dres is dx) */
        scorr_conv2d_backward(&u->conv, din, grads + u->o_w, NULL, da, in, params + u->o_w,
                              mode_in, cscr);
        if (i) {
            /* r_{i-1} = relu(bn_{i-1}(a_{i-1})): in place over m[i-1] */
            struct scorr_cbn *v = &b->u[i - 1];
            scorr_bn_backward(m[i - 1], NULL, grads + v->o_g, grads + v->o_b, m[i - 1],
                              rbuf, v->a, params + v->o_g, v->mean, v->invstd, mode, 1,
                              SCORR_GRAD_SET, &v->bn, bscr);
            da = m[i - 1];
        }
    }
}
