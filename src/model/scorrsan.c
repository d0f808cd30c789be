/* SCorrSAN = ResNet backbone cut after layer3 (resnet.h) + correspondence
 * head (head.h), with one parameter table, flat buffers and one arena
 * (include/scorr/model.h).
 *
 * The backbone runs once on 2B images, sources first: with batch-statistics
 * batch norm it normalises each half separately (bn_groups = 2), as the
 * reference does by calling it once per side. */
#include <stdlib.h>
#include <string.h>

#include "scorr/arena.h"
#include "scorr/conv.h"
#include "scorr/error.h"
#include "scorr/head.h"
#include "scorr/log.h"
#include "scorr/model.h"
#include "scorr/resnet.h"

#define BACKBONE_PREFIX "feature_extraction.backbone."

struct scorr_model {
    struct scorr_model_config cfg;
    struct scorr_params table;
    float *w, *g;            /* flat parameters and gradients */
    int owns_g;              /* 0: g is another model's (SCORR_SHARE_GRADS) */
    /* which model's forward the activation arena holds: one slot shared by
     * the models sharing the arena, owned (allocated) by the first */
    const struct scorr_model **holder;
    int owns_holder;
    struct scorr_resnet net;
    struct scorr_head head;
    struct scorr_arena arena; /* what a forward keeps for its backward */
    struct scorr_arena ws;    /* call-local buffers (owns = 0: another model's) */
    float *images;           /* (2B, S, S, 3): sources then targets */
    const float *in;         /* the last forward's images: `images`, or the caller's
                              * (scorr_model_forward_images) */
    float *feat, *dfeat;     /* (2B, h, w, C) */
    float *flow;             /* (B, G, G, 2) */
    size_t img_floats, feat_floats;
    size_t mem_io;           /* arena bytes of images, feat, dfeat, flow */
    size_t overlay;          /* arena bytes of the head's kept activations with the
                              * backbone's call-local buffers over them (plan) */
    int training, built_net, built_head;
    enum scorr_precision prec; /* the backbone's convolutions, as they run */
    struct scorr_model_times times;
    scorr_grad_ready_fn grad_ready; /* scorr_model_set_grad_hook */
    void *grad_ready_ctx;
};

static int check_config(const struct scorr_model_config *c)
{
    int err = 0;
    SCORR_REQUIRE(c->batch >= 1, SCORR_EINVAL, "model: batch must be >= 1, found %d", c->batch);
    SCORR_REQUIRE(c->image_size >= 16 && c->image_size % 16 == 0, SCORR_EINVAL,
                  "model: image size must be a positive multiple of 16, found %d", c->image_size);
    SCORR_REQUIRE(c->upsample >= 1, SCORR_EINVAL, "model: upsample must be >= 1, found %d",
                  c->upsample);
    SCORR_REQUIRE(c->temperature > 0, SCORR_EINVAL, "model: temperature must be > 0, found %g",
                  (double)c->temperature);
done:
    return err;
}

/* Hand out the model's memory: what lives from a forward to its backward
 * from `a`; what lives only inside one call from `w`, the workspace: the
 * feature gradient, then the head's call-local buffers. The backbone's
 * call-local buffers (its activation gradients and scratch) lie over the
 * head's kept activations instead: the backbone's forward runs before the
 * head's forward writes them and its backward after the head's backward has
 * read them last, so one region of `a`, the larger of the two, holds both
 * (m->overlay bytes). A backbone without a backward (frozen, inference)
 * takes them from `w`, overlaid with the head's there. */
static void plan(struct scorr_model *m, struct scorr_arena *a, struct scorr_arena *w)
{
    const int train_bb = m->cfg.training && !m->cfg.freeze_backbone;
    m->dfeat = train_bb ? scorr_arena_floats(w, m->feat_floats) : NULL;
    const size_t mark = scorr_arena_mark(w);
    m->overlay = 0;
    if (train_bb) {
        /* the backbone's kept bytes and call-local bytes first, to place the region */
        struct scorr_arena pk, pb;
        scorr_arena_plan(&pk);
        scorr_arena_plan(&pb);
        scorr_resnet_alloc_split(&m->net, &pk, &pb);
        const size_t region = scorr_arena_mark(a) + pk.peak;
        struct scorr_arena sub = {.base = a->base ? a->base + region : NULL,
                                  .size = a->base ? pb.peak : 0};
        scorr_resnet_alloc_split(&m->net, a, &sub);
        SCORR_ASSERT(scorr_arena_mark(a) == region && sub.peak == pb.peak);
        scorr_head_alloc_split(&m->head, a, w);
        const size_t head = scorr_arena_mark(a) - region;
        if (head < pb.peak) scorr_arena_alloc(a, pb.peak - head);
        m->overlay = scorr_arena_mark(a) - region;
    } else {
        scorr_resnet_alloc_split(&m->net, a, w);
        scorr_arena_release(w, mark);
        scorr_head_alloc_split(&m->head, a, w);
    }
    scorr_arena_release(w, mark);
    const size_t io = scorr_arena_mark(a);
    m->images = scorr_arena_floats(a, m->img_floats);
    m->feat = scorr_arena_floats(a, m->feat_floats);
    m->flow = scorr_arena_floats(a, (size_t)m->cfg.batch * scorr_model_grid(m) *
                                        scorr_model_grid(m) * 2);
    m->mem_io = scorr_arena_mark(a) - io +
                (train_bb ? scorr_arena_bytes(m->feat_floats * sizeof(float)) : 0);
}

int scorr_model_create(const struct scorr_model_config *cfg, uint64_t seed,
                       struct scorr_model **out)
{
    return scorr_model_create_sharing(cfg, seed, NULL, 0, out);
}

int scorr_model_create_sharing(const struct scorr_model_config *cfg, uint64_t seed,
                               const struct scorr_model *share, unsigned what,
                               struct scorr_model **out)
{
    int err = 0;
    struct scorr_model *m = NULL;
    *out = NULL;
    SCORR_TRY(check_config(cfg));
    m = calloc(1, sizeof *m);
    SCORR_REQUIRE(m, SCORR_ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->training = cfg->training;
    scorr_params_init(&m->table);

    struct scorr_resnet_config rc;
    scorr_resnet_config_default(&rc);
    rc.depth = cfg->depth;
    rc.width = cfg->width;
    rc.bn_mode = cfg->bn_batch ? SCORR_BN_BATCH : SCORR_BN_FROZEN;
    rc.bn_groups = 2;
    rc.batch = 2 * cfg->batch;
    rc.image_size = cfg->image_size;
    rc.grad = cfg->training && !cfg->freeze_backbone;
    rc.input_grad = 0;
    rc.no_winograd = cfg->no_winograd;
    rc.recompute = cfg->recompute;
    SCORR_REQUIRE(cfg->precision == SCORR_PREC_F32 || cfg->precision == SCORR_PREC_BF16,
                  SCORR_EINVAL, "model: unknown precision %d", (int)cfg->precision);
    /* bf16 only where the CPU has it natively (else fp32, said once) */
    rc.prec = scorr_precision_resolve(cfg->precision);
    m->prec = rc.prec;
    SCORR_TRY(scorr_resnet_build(&m->net, &rc, &m->table, BACKBONE_PREFIX));
    m->built_net = 1;

    struct scorr_head_config hc;
    scorr_head_config_default(&hc);
    hc.batch = cfg->batch;
    hc.h = hc.w = cfg->image_size / 16;
    hc.channels = m->net.out_c;
    hc.sce = cfg->sce_enabled;
    hc.sce_kernel = cfg->sce_kernel;
    hc.sce_out = cfg->sce_channels;
    hc.up = cfg->upsample;
    hc.beta = cfg->temperature;
    hc.learn_grid = cfg->learn_grid;
    hc.inference_only = !cfg->training;
    hc.prec = rc.prec;
    SCORR_TRY(scorr_head_build(&m->head, &hc, &m->table));
    m->built_head = 1;

    m->img_floats = (size_t)2 * cfg->batch * cfg->image_size * cfg->image_size * 3;
    m->feat_floats = (size_t)2 * cfg->batch * m->net.out_h * m->net.out_w * m->net.out_c;
    struct scorr_arena p, pw, w;
    scorr_arena_plan(&p);
    scorr_arena_plan(&pw);
    plan(m, &p, &pw);
    if (share && (what & SCORR_SHARE_ACTIVATIONS)) {
        SCORR_REQUIRE(share->arena.base && share->arena.size >= p.peak, SCORR_EINVAL,
                      "model: the activation arena to share holds %zu bytes, this network "
                      "needs %zu", share->arena.size, p.peak);
        m->arena = share->arena;
        m->arena.owns = 0;
        m->arena.used = m->arena.peak = 0;
        m->holder = share->holder;
    } else {
        SCORR_TRY(scorr_arena_init(&m->arena, p.peak, "model activations"));
        m->holder = calloc(1, sizeof *m->holder);
        SCORR_REQUIRE(m->holder, SCORR_ENOMEM, "out of memory");
        m->owns_holder = 1;
    }
    if (share) {
        SCORR_REQUIRE(share->ws.base && share->ws.size >= pw.peak, SCORR_EINVAL,
                      "model: the workspace to share holds %zu bytes, this network needs %zu",
                      share->ws.size, pw.peak);
        m->ws = share->ws;
        m->ws.owns = 0;
    } else {
        SCORR_TRY(scorr_arena_init(&m->ws, pw.peak, "model workspace"));
    }
    w = m->ws;
    plan(m, &m->arena, &w);

    m->w = scorr_aligned_calloc(m->table.total * sizeof(float));
    if (share && (what & SCORR_SHARE_GRADS)) {
        SCORR_REQUIRE(share->table.total == m->table.total, SCORR_EINVAL,
                      "model: the gradient buffer to share holds %zu floats, this network "
                      "needs %zu", share->table.total, m->table.total);
        m->g = share->g;
    } else {
        m->g = scorr_aligned_calloc(m->table.total * sizeof(float));
        m->owns_g = 1;
    }
    SCORR_REQUIRE(m->w && m->g, SCORR_ENOMEM, "cannot allocate %.1f MiB for the parameters",
                  2.0 * (double)m->table.total * sizeof(float) / (1 << 20));
    scorr_params_initialise(&m->table, m->w, seed);
    scorr_model_set_training(m, cfg->training);
    *out = m;
    m = NULL;
done:
    if (m) scorr_model_free(m);
    return err;
}

void scorr_model_free(struct scorr_model *m)
{
    if (!m) return;
    if (m->built_net) scorr_resnet_free(&m->net);
    if (m->built_head) scorr_head_free(&m->head);
    scorr_arena_free(&m->arena);
    scorr_arena_free(&m->ws); /* only when it owns it */
    scorr_aligned_free(m->w);
    if (m->owns_g) scorr_aligned_free(m->g);
    if (m->owns_holder) free((void *)m->holder);
    scorr_params_free(&m->table);
    free(m);
}

const struct scorr_model_config *scorr_model_config(const struct scorr_model *m) { return &m->cfg; }
const struct scorr_params *scorr_model_params(const struct scorr_model *m) { return &m->table; }
struct scorr_params *scorr_model_params_mut(struct scorr_model *m) { return &m->table; }
float *scorr_model_weights(struct scorr_model *m) { return m->w; }
float *scorr_model_grads(struct scorr_model *m) { return m->g; }
int scorr_model_grid(const struct scorr_model *m)
{
    return m->cfg.image_size / 16 * m->cfg.upsample;
}
size_t scorr_model_arena_bytes(const struct scorr_model *m)
{
    return (m->arena.owns ? m->arena.size : 0) + (m->ws.owns ? m->ws.size : 0);
}

void scorr_model_memory(const struct scorr_model *m, struct scorr_model_memory *out)
{
    const size_t flat = scorr_arena_bytes(m->table.total * sizeof(float));
    *out = (struct scorr_model_memory){
        .params = flat, .grads = m->owns_g ? flat : 0,
        .bb_act = m->net.mem_act, .bb_act_conv = m->net.mem_act_conv, .bb_grad = m->net.mem_grad,
        .bb_scratch = m->net.mem_scratch, .head_act = m->head.mem_act,
        .head_grad = m->head.mem_grad, .head_scratch = m->head.mem_scratch,
        .io = m->mem_io, .overlay = m->overlay, .workspace = m->ws.size, .workspace_shared = !m->ws.owns,
        .grads_shared = !m->owns_g, .activations_shared = !m->arena.owns,
        .arena = scorr_model_arena_bytes(m)};
}

void scorr_model_set_training(struct scorr_model *m, int on)
{
    if (on && !m->cfg.training) on = 0; /* built for inference only */
    m->training = on;
    scorr_resnet_set_training(&m->net, on);
}

const float *scorr_model_forward(struct scorr_model *m, const float *src, const float *trg)
{
    const size_t half = m->img_floats / 2;
    memcpy(m->images, src, half * sizeof(float));
    memcpy(m->images + half, trg, half * sizeof(float));
    return scorr_model_forward_images(m, m->images);
}

const float *scorr_model_forward_images(struct scorr_model *m, const float *images)
{
    const size_t fhalf = m->feat_floats / 2;
    m->in = images;
    *m->holder = m;
    const double t0 = scorr_now();
    scorr_resnet_forward(&m->net, m->feat, images, m->w);
    const double t1 = scorr_now();
    scorr_head_forward(&m->head, m->w, m->feat, m->feat + fhalf, m->flow);
    m->times.backbone_fwd = t1 - t0;
    m->times.head_fwd = scorr_now() - t1;
    return m->flow;
}

void scorr_model_backward(struct scorr_model *m, const float *dflow)
{
    SCORR_ASSERT(m->cfg.training);
    /* a model sharing the activation arena ran a forward after ours */
    SCORR_ASSERT(*m->holder == m);
    const size_t fhalf = m->feat_floats / 2;
    float *dsrc = NULL, *dtrg = NULL;
    if (m->dfeat) {
        memset(m->dfeat, 0, m->feat_floats * sizeof(float));
        dsrc = m->dfeat;
        dtrg = m->dfeat + fhalf;
    }
    const double t0 = scorr_now();
    scorr_head_backward(&m->head, m->w, m->g, m->feat, m->feat + fhalf, dflow, dsrc, dtrg);
    /* the head's entries follow the backbone's in the table */
    if (m->grad_ready) m->grad_ready(m->grad_ready_ctx, m->net.params_end, m->table.total);
    const double t1 = scorr_now();
    if (m->dfeat) scorr_resnet_backward(&m->net, m->g, NULL, m->dfeat, m->in, m->w);
    m->times.head_bwd = t1 - t0;
    m->times.backbone_bwd = m->dfeat ? scorr_now() - t1 : 0.0;
}

void scorr_model_release(struct scorr_model *m)
{
    /* between calls the workspace holds nothing, the activation arena only
     * what the last forward left for its backward, flow and confidence:
     * that forward (of whichever model shares the arena) ends here */
    if (m->arena.owns) {
        *m->holder = NULL;
        scorr_arena_discard(&m->arena);
    }
    scorr_arena_discard(&m->ws); /* no-op unless m owns it */
}

void scorr_model_set_grad_hook(struct scorr_model *m, scorr_grad_ready_fn fn, void *ctx)
{
    m->grad_ready = fn;
    m->grad_ready_ctx = ctx;
    scorr_resnet_set_grad_hook(&m->net, fn, ctx);
}

void scorr_model_set_bn_sync(struct scorr_model *m, const struct scorr_bn_sync *sync)
{
    scorr_resnet_set_bn_sync(&m->net, sync);
}

const struct scorr_model_times *scorr_model_times(const struct scorr_model *m)
{
    return &m->times;
}

void scorr_model_zero_grad(struct scorr_model *m)
{
    memset(m->g, 0, m->table.total * sizeof(float));
}

void scorr_model_confidence(const struct scorr_model *m, int b, float *peak, uint8_t *mutual)
{
    const struct scorr_head *hd = &m->head;
    const int G = scorr_model_grid(m), h = hd->cfg.h, w = hd->cfg.w, up = hd->cfg.up;
    const size_t l = (size_t)h * w;
    SCORR_ASSERT(b >= 0 && b < m->cfg.batch);
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) {
            const size_t t = (size_t)y * G + x;
            if (peak) {
                const float sum = hd->stats[((size_t)b * G * G + t) * SCORR_SOFTARGMAX_NSTAT + 1];
                peak[t] = sum > 0 ? 1.0f / sum : 0.0f;
            }
            if (mutual) {
                /* the feature cell under this grid position */
                int cy = y / up, cx = x / up;
                if (cy >= h) cy = h - 1;
                if (cx >= w) cx = w - 1;
                const int32_t tc = cy * w + cx, sc = hd->targ[(size_t)b * l + (size_t)tc];
                mutual[t] = sc >= 0 && hd->sarg[(size_t)b * l + (size_t)sc] == tc;
            }
        }
}

enum scorr_precision scorr_model_precision(const struct scorr_model *m) { return m->prec; }
