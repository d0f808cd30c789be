/* torchvision ResNet cut after layer3 (the SCorrSAN backbone). */
#include "scorr/resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"

static size_t al(size_t bytes) { return (bytes + 63) / 64 * 64; }

void scorr_resnet_config_default(struct scorr_resnet_config *cfg)
{
    *cfg = (struct scorr_resnet_config){.depth = 101,
                                        .width = 64,
                                        .bn_mode = SCORR_BN_FROZEN,
                                        .bn_groups = 1,
                                        .batch = 1,
                                        .image_size = 256,
                                        .grad = 1,
                                        .input_grad = 0,
                                        .prec = SCORR_PREC_F32};
}

/* Blocks per layer (layer1..layer3) and block type. */
static int layout(int depth, int blocks[3], int *bottleneck)
{
    static const int b18[3] = {2, 2, 2}, b34[3] = {3, 4, 6}, b101[3] = {3, 4, 23};
    const int *b = depth == 18 ? b18 : depth == 34 || depth == 50 ? b34 : depth == 101 ? b101 : NULL;
    if (!b) return -1;
    memcpy(blocks, b, 3 * sizeof(int));
    *bottleneck = depth >= 50;
    return 0;
}

/* With grad the stem keeps nothing but its statistics: its conv output a0,
 * its ReLU output r0 and the max-pool winners are recomputed by the backward
 * (the conv forward once more, about 1 % of the step) into the scratch,
 * after the stem conv's and batch norm's own scratch: slots a0 (r0n floats),
 * r0 (r0n), a discarded max-pool output (p0n) and the winners (p0n int32).
 * Returns the bytes this needs; offsets in off[4]. */
static size_t stem_slots(const struct scorr_resnet *net, size_t off[4])
{
    const struct scorr_pool_shape *ps = &net->pool;
    const size_t r0n = (size_t)ps->n * ps->h * ps->w * ps->c;
    const size_t p0n = (size_t)ps->n * scorr_pool_out(ps->h, 3, 2, 1) *
                       scorr_pool_out(ps->w, 3, 2, 1) * ps->c;
    const size_t sz[4] = {r0n * sizeof(float), r0n * sizeof(float), p0n * sizeof(float),
                          p0n * sizeof(int32_t)};
    size_t at = al(net->stem.conv.scratch) + al(scorr_bn_scratch_floats(&net->stem.bn) * sizeof(float));
    for (int k = 0; k < 4; k++) {
        off[k] = at;
        at += al(sz[k]);
    }
    return at;
}

/* Floats of block i's input (its input gradient). */
static size_t block_in_floats(const struct scorr_resblock *b)
{
    return (size_t)b->cfg.n * b->cfg.h * b->cfg.w * b->cfg.inplanes;
}

/* The largest block-input or stem ReLU-output gradient, in floats. */
static size_t grad_floats_max(const struct scorr_resnet *net)
{
    const struct scorr_pool_shape *ps = &net->pool;
    size_t g = (size_t)ps->n * ps->h * ps->w * ps->c;
    for (int i = 0; i < net->nblocks; i++)
        if (block_in_floats(&net->blocks[i]) > g) g = block_in_floats(&net->blocks[i]);
    return g;
}

/* With grad: the two gradient slots at the top of the kept activations,
 * slot k at act_off[nb] - (k + 1) * bytes (grad_slot_bytes). Block i < t
 * writes its input gradient into slot i % 2 (its output gradient is in the
 * other one, or is the caller's / a workspace buffer): the blocks after it
 * are back-propagated by then, so their kept activations are dead, and its
 * own kept activations and its scratch (from act_off[i + 1] on) lie below
 * both slots. The stem writes its ReLU-output gradient into slot 1 and runs
 * its scratch below the slots too. Returns t: the first block whose
 * activations or scratch reach the slots (0: none use them, e.g. small
 * models, where the stem's scratch does not fit below them); the blocks from
 * t on use the workspace's gbuf. */
static size_t grad_slot_bytes(const struct scorr_resnet *net)
{
    return al(grad_floats_max(net) * sizeof(float));
}

static int grad_split(const struct scorr_resnet *net)
{
    const int nb = net->nblocks;
    const size_t two = 2 * grad_slot_bytes(net);
    size_t off[4];
    if (net->act_off[nb] < two || stem_slots(net, off) > net->act_off[nb] - two) return 0;
    const size_t low = net->act_off[nb] - two;
    int t = 0;
    while (t < nb && net->act_off[t + 1] + net->blocks[t].scratch <= low) t++;
    return t;
}

static int check_config(const struct scorr_resnet_config *c)
{
    int err = 0, blocks[3] = {0}, bott = 0;
    SCORR_REQUIRE(layout(c->depth, blocks, &bott) == 0, SCORR_EINVAL,
                  "backbone: depth must be 18, 34, 50 or 101, found %d", c->depth);
    SCORR_REQUIRE(c->width >= 1 && c->width <= 256, SCORR_EINVAL,
                  "backbone: width must be in [1, 256] (64 = torchvision), found %d", c->width);
    SCORR_REQUIRE(c->batch >= 1, SCORR_EINVAL, "backbone: batch must be >= 1, found %d", c->batch);
    SCORR_REQUIRE(c->image_size >= 16 && c->image_size % 16 == 0, SCORR_EINVAL,
                  "backbone: image size must be a positive multiple of 16, found %d",
                  c->image_size);
    SCORR_REQUIRE(c->bn_mode == SCORR_BN_FROZEN || c->bn_mode == SCORR_BN_BATCH, SCORR_EINVAL,
                  "backbone: unknown batch-norm mode %d", (int)c->bn_mode);
    SCORR_REQUIRE(c->bn_groups >= 1 && c->batch % c->bn_groups == 0, SCORR_EINVAL,
                  "backbone: bn_groups must divide the batch, found %d groups for batch %d",
                  c->bn_groups, c->batch);
    SCORR_REQUIRE(!c->input_grad || c->grad, SCORR_EINVAL,
                  "backbone: an input gradient needs grad on");
done:
    return err;
}

int scorr_resnet_build(struct scorr_resnet *net, const struct scorr_resnet_config *cfg,
                       struct scorr_params *table, const char *prefix)
{
    int err = 0, blocks[3] = {0}, bott = 0;
    char pfx[2 * SCORR_PARAM_NAME];
    memset(net, 0, sizeof *net);
    SCORR_TRY(check_config(cfg));
    layout(cfg->depth, blocks, &bott);
    net->cfg = *cfg;
    net->training = 1;
    const int N = cfg->batch, S = cfg->image_size, w = cfg->width, exp = bott ? 4 : 1;
    struct scorr_conv2d_shape cs = {.n = N, .h = S, .w = S, .c = 3, .k = w, .kh = 7, .kw = 7,
                                    .stride = 2, .pad = 3, .prec = cfg->prec};
    unsigned sflags = cfg->grad ? SCORR_CONV_BWD_WEIGHTS : 0;
    if (cfg->input_grad) sflags |= SCORR_CONV_BWD_DATA;
    SCORR_TRY(scorr_cbn_build(&net->stem, &cs, cfg->bn_groups, cfg->bn_mode, sflags, table, prefix,
                              "conv1", "bn1"));
    net->pool = (struct scorr_pool_shape){.n = N, .h = net->stem.conv.ho, .w = net->stem.conv.wo,
                                          .c = w, .k = 3, .stride = 2, .pad = 1};
    SCORR_TRY(scorr_maxpool_check(&net->pool, "maxpool"));
    net->nblocks = blocks[0] + blocks[1] + blocks[2];
    net->blocks = calloc((size_t)net->nblocks, sizeof *net->blocks);
    net->bout = calloc((size_t)net->nblocks, sizeof *net->bout);
    net->act_off = calloc((size_t)net->nblocks + 1, sizeof *net->act_off);
    net->block_scratch = calloc((size_t)net->nblocks + 1, sizeof *net->block_scratch);
    SCORR_REQUIRE(net->blocks && net->bout && net->act_off && net->block_scratch, SCORR_ENOMEM,
                  "backbone: out of memory");
    int h = scorr_pool_out(net->pool.h, 3, 2, 1), wd = scorr_pool_out(net->pool.w, 3, 2, 1);
    int inplanes = w, k = 0;
    for (int l = 0; l < 3; l++) {
        const int planes = w << l;
        for (int bi = 0; bi < blocks[l]; bi++, k++) {
            const int stride = bi == 0 && l > 0 ? 2 : 1;
            struct scorr_resblock_config bc = {
                .bottleneck = bott, .n = N, .h = h, .w = wd, .inplanes = inplanes,
                .planes = planes, .stride = stride,
                .downsample = bi == 0 && (stride != 1 || inplanes != planes * exp),
                .relu_out = k != net->nblocks - 1, .bn_groups = cfg->bn_groups,
                .bn_mode = cfg->bn_mode, .grad = cfg->grad, .input_grad = cfg->grad,
                .prec = cfg->prec, .no_winograd = cfg->no_winograd,
                .recompute = cfg->recompute};
            snprintf(pfx, sizeof pfx, "%slayer%d.%d.", prefix, l + 1, bi);
            SCORR_TRY(scorr_resblock_build(&net->blocks[k], &bc, table, pfx));
            h = net->blocks[k].ho;
            wd = net->blocks[k].wo;
            inplanes = net->blocks[k].cout;
        }
    }
    /* the backbone's entries end where the last one under the prefix ends */
    for (int i = 0; i < table->n; i++)
        if (!strncmp(table->p[i].name, prefix, strlen(prefix)) &&
            table->p[i].offset + table->p[i].numel > net->params_end)
            net->params_end = table->p[i].offset + table->p[i].numel;
    net->out_h = h;
    net->out_w = wd;
    net->out_c = inplanes;
    /* scratch: the largest of the blocks' and the stem's needs; with grad only
     * of those whose later blocks' kept activations are too small to hold it
     * (block_scratch) */
    const int nb = net->nblocks;
    size_t off[4], sc = 0;
    if (cfg->grad) {
        for (int i = 0; i < nb; i++) {
            struct scorr_arena p;
            scorr_arena_plan(&p);
            scorr_resblock_alloc(&net->blocks[i], &p);
            net->act_off[i + 1] = net->act_off[i] + p.peak;
        }
        const size_t stem = stem_slots(net, off);
        if (net->act_off[nb] < stem) sc = stem;
        for (int i = 0; i < nb; i++)
            if (net->act_off[nb] - net->act_off[i + 1] < net->blocks[i].scratch &&
                net->blocks[i].scratch > sc)
                sc = net->blocks[i].scratch;
    } else {
        sc = net->stem.conv.scratch + al(scorr_bn_scratch_floats(&net->stem.bn) * sizeof(float));
        for (int i = 0; i < nb; i++)
            if (net->blocks[i].scratch > sc) sc = net->blocks[i].scratch;
    }
    net->scratch_bytes = al(sc);
    if (cfg->grad) net->grad_split = grad_split(net);
done:
    if (err) scorr_resnet_free(net);
    return err;
}

void scorr_resnet_free(struct scorr_resnet *net)
{
    scorr_conv2d_free(&net->stem.conv);
    for (int i = 0; net->blocks && i < net->nblocks; i++) scorr_resblock_free(&net->blocks[i]);
    free(net->blocks);
    free(net->bout);
    free(net->act_off);
    free(net->block_scratch);
    net->blocks = NULL;
    net->bout = NULL;
    net->act_off = NULL;
    net->block_scratch = NULL;
}

int scorr_resnet_add_params(struct scorr_params *table, int depth, int width, const char *prefix)
{
    int err = 0;
    struct scorr_resnet net;
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.depth = depth;
    cfg.width = width;
    cfg.image_size = 32;
    cfg.grad = 0;
    SCORR_TRY(scorr_resnet_build(&net, &cfg, table, prefix));
    scorr_resnet_free(&net);
done:
    return err;
}

static size_t block_out_floats(const struct scorr_resblock *b)
{
    return (size_t)b->cfg.n * b->ho * b->wo * b->cout;
}

void scorr_resnet_alloc(struct scorr_resnet *net, struct scorr_arena *arena)
{
    scorr_resnet_alloc_split(net, arena, arena);
}

void scorr_resnet_alloc_split(struct scorr_resnet *net, struct scorr_arena *arena,
                              struct scorr_arena *work)
{
    const int nb = net->nblocks;
    const struct scorr_pool_shape *ps = &net->pool;
    const size_t r0n = (size_t)ps->n * ps->h * ps->w * ps->c;
    const size_t p0n = (size_t)ps->n * scorr_pool_out(ps->h, 3, 2, 1) *
                       scorr_pool_out(ps->w, 3, 2, 1) * ps->c;
    struct scorr_cbn *st = &net->stem;
    /* each category is handed out in one run, so its bytes are a difference of marks */
    size_t mark = scorr_arena_mark(arena);
    st->a = net->cfg.grad ? NULL : scorr_arena_floats(arena, r0n); /* grad: in the scratch */
    st->mean = scorr_arena_floats(arena, (size_t)st->bn.groups * st->bn.c);
    st->invstd = scorr_arena_floats(arena, (size_t)st->bn.groups * st->bn.c);
    net->p0 = scorr_arena_floats(arena, p0n);
    size_t bmax = 0;
    for (int i = 0; i < nb; i++)
        if (block_out_floats(&net->blocks[i]) > bmax) bmax = block_out_floats(&net->blocks[i]);
    net->mem_grad = net->mem_act_conv = 0;
    if (net->cfg.grad) {
        /* the stem's conv output, ReLU output and max-pool winners are not
         * kept (stem_slots) */
        net->arg = NULL;
        char *act = scorr_arena_alloc(arena, 0); /* where block 0's kept activations start */
        const size_t act_mark = scorr_arena_mark(arena);
        for (int i = 0; i < nb; i++) scorr_resblock_alloc(&net->blocks[i], arena);
        SCORR_ASSERT(scorr_arena_mark(arena) - act_mark == net->act_off[nb]);
        for (int i = 0; i <= nb; i++) {
            /* block i's scratch from block i + 1's activations on; the stem's (i = nb) from block 0's */
            const size_t from = i < nb ? net->act_off[i + 1] : 0;
            const size_t need = i < nb ? net->blocks[i].scratch : stem_slots(net, (size_t[4]){0});
            net->block_scratch[i] = act && net->act_off[nb] - from >= need ? act + from : NULL;
        }
        for (int i = 0; i < nb - 1; i++)
            net->bout[i] = scorr_arena_floats(arena, block_out_floats(&net->blocks[i]));
        net->mem_act = scorr_arena_mark(arena) - mark;
        net->mem_act_conv = 0;
        for (int i = 0; i < nb; i++) net->mem_act_conv += net->blocks[i].mem_conv;
        mark = scorr_arena_mark(work);
        /* block-input gradients and the stem's ReLU-output gradient: blocks
         * before grad_split and the stem in slots over dead kept activations,
         * the others in the workspace */
        const int t = net->grad_split;
        size_t gmax = 0;
        if (t == 0) gmax = grad_floats_max(net);
        for (int i = t; i < nb; i++)
            if (block_in_floats(&net->blocks[i]) > gmax) gmax = block_in_floats(&net->blocks[i]);
        net->gbuf[0] = gmax ? scorr_arena_floats(work, gmax) : NULL;
        net->gbuf[1] = gmax ? scorr_arena_floats(work, gmax) : NULL;
        net->mem_grad = scorr_arena_mark(work) - mark;
        const size_t gb = grad_slot_bytes(net);
        for (int k = 0; k < 2; k++)
            net->gact[k] = act && t ? (float *)(act + net->act_off[nb] - (k + 1) * gb) : NULL;
    } else {
        /* forward only: the stem BN runs in place, block outputs ping-pong */
        net->r0 = st->a;
        net->arg = NULL;
        float *pp[2] = {scorr_arena_floats(arena, bmax), scorr_arena_floats(arena, bmax)};
        for (int i = 0; i < nb - 1; i++) net->bout[i] = pp[i % 2];
        net->mem_act = scorr_arena_mark(arena) - mark;
    }
    mark = scorr_arena_mark(work);
    net->scratch = scorr_arena_alloc(work, net->scratch_bytes);
    net->mem_scratch = scorr_arena_mark(work) - mark;
    if (net->cfg.grad && net->scratch) {
        for (int i = 0; i <= nb; i++)
            if (!net->block_scratch[i]) net->block_scratch[i] = net->scratch;
        size_t off[4];
        stem_slots(net, off);
        st->a = (float *)((char *)net->block_scratch[nb] + off[0]);
        net->r0 = (float *)((char *)net->block_scratch[nb] + off[1]);
    }
}

/* The scratch of block i (i = nblocks: the stem) for its forward and backward. */
static void *scratch_of(const struct scorr_resnet *net, int i)
{
    return net->cfg.grad ? net->block_scratch[i] : net->scratch;
}

void scorr_resnet_set_training(struct scorr_resnet *net, int on) { net->training = on != 0; }

void scorr_resnet_set_grad_hook(struct scorr_resnet *net, scorr_grad_ready_fn fn, void *ctx)
{
    net->grad_ready = fn;
    net->grad_ready_ctx = ctx;
}

void scorr_resnet_set_bn_sync(struct scorr_resnet *net, const struct scorr_bn_sync *sync)
{
    net->stem.bn.sync = sync;
    for (int k = 0; k < net->nblocks; k++) {
        struct scorr_resblock *b = &net->blocks[k];
        for (int i = 0; i < b->nconv; i++) b->u[i].bn.sync = sync;
        if (b->cfg.downsample) b->ds.bn.sync = sync;
    }
}

void scorr_resnet_forward(struct scorr_resnet *net, float *features, const float *images,
                          float *params)
{
    SCORR_ASSERT(features && images && params && net->scratch);
    const enum scorr_bn_mode mode = net->training ? net->cfg.bn_mode : SCORR_BN_FROZEN;
    struct scorr_cbn *st = &net->stem;
    void *cscr = scratch_of(net, net->nblocks);
    float *bscr = (float *)((char *)cscr + net->stem.conv.scratch);
    /* stem: r0 = relu(bn1(conv1(images))), p0 = maxpool(r0) */
    scorr_conv2d_prepare(&st->conv, params + st->o_w, cscr);
    scorr_conv2d_forward(&st->conv, st->a, images, params + st->o_w, NULL, cscr);
    scorr_bn_forward(net->r0, st->mean, st->invstd, st->a, NULL, params + st->o_g,
                     params + st->o_b, params + st->o_rm, params + st->o_rv, mode, 1, &st->bn,
                     bscr);
    scorr_maxpool_forward(net->p0, NULL, net->r0, &net->pool); /* winners: recomputed */
    const float *x = net->p0;
    for (int i = 0; i < net->nblocks; i++) {
        float *out = i == net->nblocks - 1 ? features : net->bout[i];
        scorr_resblock_forward(&net->blocks[i], out, x, params, mode, scratch_of(net, i));
        x = out;
    }
}

void scorr_resnet_backward(struct scorr_resnet *net, float *grads, float *dimages,
                           const float *dfeatures, const float *images, const float *params)
{
    SCORR_ASSERT(net->cfg.grad && (!dimages || net->cfg.input_grad));
    SCORR_ASSERT(grads && dfeatures && images && params);
    const int nb = net->nblocks;
    const float *dcur = dfeatures;
    for (int i = nb - 1; i >= 0; i--) {
        float *dx = i < net->grad_split ? net->gact[i % 2] : net->gbuf[i % 2];
        const float *x = i ? net->bout[i - 1] : net->p0;
        const float *out = i == nb - 1 ? NULL : net->bout[i];
        scorr_resblock_backward(&net->blocks[i], dx, grads, dcur, x, out, params, SCORR_GRAD_SET,
                                scratch_of(net, i));
        dcur = dx;
        /* block i's entries start at its first conv's weight (state_dict order) */
        if (net->grad_ready)
            net->grad_ready(net->grad_ready_ctx, net->blocks[i].u[0].o_w,
                            i + 1 < nb ? net->blocks[i + 1].u[0].o_w : net->params_end);
    }
    /* p0 = maxpool(r0), r0 = relu(bn1(a0)), a0 = conv1(images) */
    float *dr0 = net->grad_split ? net->gact[1] : net->gbuf[1];
    struct scorr_cbn *st = &net->stem;
    const enum scorr_bn_mode mode = net->blocks[0].last_mode;
    void *cscr = scratch_of(net, nb);
    float *bscr = (float *)((char *)cscr + net->stem.conv.scratch);
    /* a0, r0 and the winners again, as the forward made them (stem_slots),
     * over the blocks' kept activations, dead now */
    size_t off[4];
    stem_slots(net, off);
    char *sc = cscr;
    scorr_conv2d_forward(&st->conv, st->a, images, params + st->o_w, NULL, cscr);
    scorr_bn_apply(net->r0, st->a, NULL, params + st->o_g, params + st->o_b, st->mean,
                   st->invstd, mode, 1, &st->bn, bscr);
    int32_t *arg = (int32_t *)(sc + off[3]);
    scorr_maxpool_forward((float *)(sc + off[2]), arg, net->r0, &net->pool);
    scorr_maxpool_backward(dr0, dcur, arg, &net->pool, SCORR_GRAD_SET);
    scorr_bn_backward(dr0, NULL, grads + st->o_g, grads + st->o_b, dr0, net->r0, st->a,
                      params + st->o_g, st->mean, st->invstd, mode, 1, SCORR_GRAD_SET, &st->bn,
                      bscr);
    scorr_conv2d_backward(&st->conv, dimages, grads + st->o_w, NULL, dr0, images,
                          params + st->o_w, SCORR_GRAD_ADD, cscr);
    if (net->grad_ready) net->grad_ready(net->grad_ready_ctx, st->o_w, net->blocks[0].u[0].o_w);
}
