/* The correspondence head as one module (include/scorr/head.h). */
#include "scorr/head.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "scorr/conv.h"
#include "scorr/error.h"
#include "scorr/l2norm.h"

#define HEAD_MAX_KERNEL 63

void scorr_head_config_default(struct scorr_head_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 1;
    cfg->h = cfg->w = 16;
    cfg->channels = 1024;
    cfg->sce = 1;
    cfg->sce_kernel = 7;
    cfg->sce_out = 2048;
    cfg->up = 4;
    cfg->beta = 0.02f;
}

static int check_config(const struct scorr_head_config *c)
{
    int err = 0;
    SCORR_REQUIRE(c->batch >= 1, SCORR_EINVAL, "head config: key 'batch' must be >= 1, found %d",
                  c->batch);
    SCORR_REQUIRE(c->h >= 1 && c->w >= 1, SCORR_EINVAL,
                  "head config: feature map size (h, w) must be >= 1, found (%d, %d)", c->h, c->w);
    SCORR_REQUIRE(c->channels >= 1, SCORR_EINVAL,
                  "head config: key 'channels' must be >= 1, found %d", c->channels);
    SCORR_REQUIRE(c->sce == 0 || c->sce == 1, SCORR_EINVAL,
                  "head config: key 'sce' must be 0 or 1, found %d", c->sce);
    if (c->sce) {
        SCORR_REQUIRE(c->sce_kernel >= 1 && c->sce_kernel % 2 == 1 &&
                          c->sce_kernel <= HEAD_MAX_KERNEL,
                      SCORR_EINVAL,
                      "head config: key 'sce_kernel' must be odd and in [1, %d], found %d",
                      HEAD_MAX_KERNEL, c->sce_kernel);
        SCORR_REQUIRE(c->sce_out >= 1, SCORR_EINVAL,
                      "head config: key 'sce_out' must be >= 1, found %d", c->sce_out);
    }
    SCORR_REQUIRE(c->up >= 1 && c->up <= 64, SCORR_EINVAL,
                  "head config: key 'up' (upsampling factor) must be in [1, 64], found %d", c->up);
    SCORR_REQUIRE(c->prec == SCORR_PREC_F32 || c->prec == SCORR_PREC_BF16, SCORR_EINVAL,
                  "head config: unknown precision %d", (int)c->prec);
    SCORR_REQUIRE(isfinite(c->beta) && c->beta > 0.0f, SCORR_EINVAL,
                  "head config: key 'beta' (soft-argmax temperature) must be a finite number > 0, "
                  "found %g",
                  (double)c->beta);
    /* index arithmetic of the fused op and the BLAS calls stays in int range */
    double ls = (double)c->h * c->w, gg = ls * c->up * c->up;
    double width = c->sce && c->sce_out > c->channels ? c->sce_out : c->channels;
    SCORR_REQUIRE(gg * ls < (double)INT_MAX && (double)c->batch * ls * width < (double)INT_MAX,
                  SCORR_EINVAL,
                  "head config: feature map %dx%d with up = %d, batch %d and %g channels is too "
                  "large (G*G*h*w = %.3g and batch*h*w*channels = %.3g must be < 2^31)",
                  c->h, c->w, c->up, c->batch, width, gg * ls, (double)c->batch * ls * width);
done:
    return err;
}

/* The learned soft-argmax grid of n cells: a new table entry, or the one a
 * first head on the same table added (a peer network). */
static int grid_param(struct scorr_params *table, const char *name, int n, int *index)
{
    int err = 0;
    int i = scorr_params_find(table, name);
    if (i < 0) {
        int64_t shape[1] = {n};
        i = scorr_params_add(table, name, SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD,
                             SCORR_INIT_LINSPACE, 1, shape);
    }
    SCORR_REQUIRE(table->p[i].ndim == 1 && table->p[i].shape[0] == n, SCORR_EINVAL,
                  "head: table entry '%s' has %lld values, this head's grid has %d", name,
                  (long long)table->p[i].shape[0], n);
    *index = i;
done:
    return err;
}

int scorr_head_build(struct scorr_head *hd, const struct scorr_head_config *cfg,
                     struct scorr_params *table)
{
    int err = 0;
    memset(hd, 0, sizeof *hd);
    SCORR_TRY(check_config(cfg));
    hd->cfg = *cfg;
    hd->gy = cfg->h * cfg->up;
    hd->gx = cfg->w * cfg->up;
    hd->dim = cfg->sce ? cfg->sce_out : cfg->channels;
    hd->m = (size_t)cfg->batch * cfg->h * cfg->w;
    hd->nthreads = omp_get_max_threads();
    if (hd->nthreads < 1) hd->nthreads = 1;
    hd->p_weight = hd->p_bias = hd->p_xgrid = hd->p_ygrid = -1;
    if (cfg->sce) {
        int64_t cin = cfg->channels + 4 * cfg->sce_kernel;
        int64_t wshape[4] = {cfg->sce_out, cin, 1, 1}, bshape[1] = {cfg->sce_out};
        int iw = scorr_params_find(table, SCORR_HEAD_WEIGHT_NAME);
        int ib = scorr_params_find(table, SCORR_HEAD_BIAS_NAME);
        if (iw < 0 && ib < 0) {
            iw = scorr_params_add(table, SCORR_HEAD_WEIGHT_NAME, SCORR_PARAM_WEIGHT,
                                  SCORR_GROUP_HEAD, SCORR_INIT_TORCH_CONV_WEIGHT, 4, wshape);
            ib = scorr_params_add(table, SCORR_HEAD_BIAS_NAME, SCORR_PARAM_WEIGHT,
                                  SCORR_GROUP_HEAD, SCORR_INIT_TORCH_CONV_BIAS, 1, bshape);
            scorr_params_set_fan_in(table, ib, cin);
        } else {
            /* a second head on the same table (a peer network with its own
             * flat buffers) binds to the existing entries */
            SCORR_REQUIRE(iw >= 0 && ib >= 0, SCORR_EINVAL,
                          "head: the table has only one of '%s' and '%s'", SCORR_HEAD_WEIGHT_NAME,
                          SCORR_HEAD_BIAS_NAME);
            const struct scorr_param *pw = &table->p[iw], *pb = &table->p[ib];
            SCORR_REQUIRE(pw->ndim == 4 && pw->shape[0] == wshape[0] && pw->shape[1] == wshape[1] &&
                              pw->shape[2] == 1 && pw->shape[3] == 1 && pb->ndim == 1 &&
                              pb->shape[0] == bshape[0],
                          SCORR_EINVAL,
                          "head: table entry '%s' has shape (%lld, %lld, ...), this head needs "
                          "(%lld, %lld, 1, 1) (sce_out, channels + 4 * sce_kernel)",
                          SCORR_HEAD_WEIGHT_NAME, (long long)pw->shape[0],
                          (long long)(pw->ndim > 1 ? pw->shape[1] : 0), (long long)wshape[0],
                          (long long)wshape[1]);
        }
        hd->p_weight = iw;
        hd->p_bias = ib;
        hd->off_weight = table->p[iw].offset;
        hd->off_bias = table->p[ib].offset;
    }
    if (cfg->learn_grid) {
        SCORR_TRY(grid_param(table, SCORR_HEAD_XGRID_NAME, hd->gx, &hd->p_xgrid));
        SCORR_TRY(grid_param(table, SCORR_HEAD_YGRID_NAME, hd->gy, &hd->p_ygrid));
        hd->off_xgrid = table->p[hd->p_xgrid].offset;
        hd->off_ygrid = table->p[hd->p_ygrid].offset;
    }
    hd->sce_shape = (struct scorr_sce_shape){.n = cfg->batch, .h = cfg->h, .w = cfg->w,
                                             .c = cfg->channels, .k = cfg->sce ? cfg->sce_kernel : 1,
                                             .out = cfg->sce ? cfg->sce_out : 1,
                                             .nthreads = hd->nthreads};
    hd->corr_shape = (struct scorr_corr_shape){.b = cfg->batch, .ls = cfg->h * cfg->w,
                                               .lt = cfg->h * cfg->w, .d = hd->dim,
                                               .nthreads = hd->nthreads};
    hd->sa_shape = (struct scorr_softargmax_shape){.b = cfg->batch, .h = cfg->h, .w = cfg->w,
                                                   .up = cfg->up, .beta = cfg->beta,
                                                   .nthreads = hd->nthreads};
    /* bf16 only where the backbone's convolutions would run it (native bf16,
     * or forced by the conv policy for tests) */
    hd->prec = scorr_precision_resolve(cfg->prec);
    if (hd->prec == SCORR_PREC_BF16 && cfg->sce)
        SCORR_TRY(scorr_sce_bf16_create(&hd->sce_bf16, &hd->sce_shape, !cfg->inference_only));
done:
    if (err) scorr_head_free(hd);
    return err;
}

void scorr_head_free(struct scorr_head *hd) { scorr_sce_bf16_free(&hd->sce_bf16); }

static const struct scorr_sce_bf16 *sce_bf16(const struct scorr_head *hd)
{
    return hd->sce_bf16.fwd ? &hd->sce_bf16 : NULL;
}


/* Take n floats (or bytes) from the arena and count them in *acc. */
static float *take_f(struct scorr_arena *a, size_t n, size_t *acc)
{
    *acc += scorr_arena_bytes(n * sizeof(float));
    return scorr_arena_floats(a, n);
}

static void *take_b(struct scorr_arena *a, size_t n, size_t *acc)
{
    *acc += scorr_arena_bytes(n);
    return scorr_arena_alloc(a, n);
}

void scorr_head_alloc(struct scorr_head *hd, struct scorr_arena *a)
{
    scorr_head_alloc_split(hd, a, a);
}

void scorr_head_alloc_split(struct scorr_head *hd, struct scorr_arena *a, struct scorr_arena *w)
{
    const struct scorr_head_config *c = &hd->cfg;
    size_t m = hd->m, d = (size_t)hd->dim, l = (size_t)c->h * c->w, b = (size_t)c->batch;
    int train = !c->inference_only;
    size_t *act = &hd->mem_act, *grad = &hd->mem_grad;
    hd->mem_act = hd->mem_grad = hd->mem_scratch = 0;
    for (int side = 0; side < 2; side++) {
        if (c->sce) {
            hd->sce_y[side] = take_f(a, m * d, act);
            hd->sce_sim[side] = take_f(a, m * 4 * (size_t)c->sce_kernel, act);
            hd->sce_nrm[side] = take_f(a, m * (size_t)c->channels, act);
            hd->sce_den[side] = take_f(a, m, act);
        }
        hd->feat[side] = take_f(a, m * d, act);
        hd->rnorm[side] = take_f(a, m, act);
        hd->dfeat[side] = train ? take_f(w, m * d, grad) : NULL;
    }
    struct scorr_sce_bf16 *bf = &hd->sce_bf16;
    if (bf->fwd) {
        /* the bf16 weight copy lives from the forward to the backward; the
         * rest is scratch of one call */
        size_t cin = (size_t)c->channels;
        bf->w = take_b(a, (size_t)c->sce_out * cin * sizeof(uint16_t), act);
        bf->f = take_b(w, m * cin * sizeof(uint16_t), &hd->mem_scratch);
        bf->dy = train ? take_b(w, m * d * sizeof(uint16_t), &hd->mem_scratch) : NULL;
        bf->pad = take_b(w, scorr_sce_bf16_pad_bytes(bf) + 64, &hd->mem_scratch);
    }
    hd->corr = take_f(a, b * l * l, act);
    hd->mnn = take_f(a, b * l * l, act);
    hd->dcorr = train ? take_f(w, b * l * l, grad) : NULL;
    hd->dmnn = train ? take_f(w, b * l * l, grad) : NULL;
    hd->smax = take_f(a, b * l, act);
    hd->tmax = take_f(a, b * l, act);
    hd->sarg = take_b(a, b * l * sizeof(int32_t), act);
    hd->targ = take_b(a, b * l * sizeof(int32_t), act);
    hd->stats = take_f(a, scorr_softargmax_stats_floats(&hd->sa_shape), act);
    const size_t sa = train ? scorr_softargmax_scratch_floats(&hd->sa_shape)
                            : scorr_softargmax_forward_scratch_floats(&hd->sa_shape);
    const size_t s2 = c->sce && train ? scorr_sce_scratch_floats(&hd->sce_shape) : 0;
    /* the soft-argmax's scratch over dfeat[0..1] (one run when w is not a):
     * its forward and backward finish before the correlation's backward
     * writes them */
    const size_t over = train && w != a ? scorr_arena_bytes(m * d * sizeof(float)) + m * d * sizeof(float) : 0;
    if (sa * sizeof(float) <= over) {
        hd->scratch = s2 ? take_f(w, s2, &hd->mem_scratch) : NULL;
        hd->sa_scratch = hd->dfeat[0];
    } else {
        hd->scratch = take_f(w, sa > s2 ? sa : s2, &hd->mem_scratch);
        hd->sa_scratch = hd->scratch;
    }
}

static const float *weight_of(const struct scorr_head *hd, const float *params)
{
    return params + hd->off_weight;
}

/* A learned grid in params, or NULL (the fixed linspace). */
static const float *grid_of(const float *params, int index, size_t off)
{
    return index >= 0 ? params + off : NULL;
}

void scorr_head_forward(struct scorr_head *hd, const float *params, const float *src,
                        const float *trg, float *flow)
{
    SCORR_ASSERT(hd->corr != NULL); /* scorr_head_alloc on a real arena first */
    const float *in[2] = {src, trg};
    const struct scorr_sce_bf16 *bf = sce_bf16(hd);
    if (bf) scorr_sce_bf16_prepare(&hd->sce_bf16, weight_of(hd, params), &hd->sce_shape);
    for (int side = 0; side < 2; side++) {
        const float *x = in[side];
        if (hd->cfg.sce) {
            scorr_sce_forward(hd->sce_y[side], hd->sce_sim[side], hd->sce_nrm[side],
                              hd->sce_den[side], x, weight_of(hd, params), params + hd->off_bias,
                              &hd->sce_shape, bf);
            x = hd->sce_y[side];
        }
        scorr_l2norm_forward(hd->feat[side], hd->rnorm[side], x, hd->m, hd->dim, hd->nthreads);
    }
    scorr_corr_forward(hd->corr, hd->feat[0], hd->feat[1], &hd->corr_shape);
    scorr_mnn_forward(hd->mnn, hd->smax, hd->sarg, hd->tmax, hd->targ, hd->corr, &hd->corr_shape);
    scorr_softargmax_forward(flow, hd->stats, hd->mnn, grid_of(params, hd->p_xgrid, hd->off_xgrid),
                             grid_of(params, hd->p_ygrid, hd->off_ygrid), &hd->sa_shape,
                             hd->sa_scratch);
}

void scorr_head_backward(struct scorr_head *hd, const float *params, float *grads,
                         const float *src, const float *trg, const float *dflow, float *dsrc,
                         float *dtrg)
{
    SCORR_ASSERT(hd->corr != NULL && !hd->cfg.inference_only);
    const struct scorr_head_config *c = &hd->cfg;
    const int grid = hd->p_xgrid >= 0;
    size_t nc = (size_t)c->batch * c->h * c->w * c->h * c->w, nf = hd->m * (size_t)hd->dim;
    const float *xg = grid_of(params, hd->p_xgrid, hd->off_xgrid);
    const float *yg = grid_of(params, hd->p_ygrid, hd->off_ygrid);
    if (!c->sce && !dsrc && !dtrg) {
        /* nothing below the soft-argmax needs a gradient: at most the grid's */
        if (grid) {
            memset(hd->dmnn, 0, nc * sizeof(float));
            scorr_softargmax_backward(hd->dmnn, grads + hd->off_xgrid, grads + hd->off_ygrid,
                                      dflow, hd->mnn, hd->stats, xg, yg, &hd->sa_shape,
                                      hd->sa_scratch);
        }
        return;
    }
    memset(hd->dmnn, 0, nc * sizeof(float));
    scorr_softargmax_backward(hd->dmnn, grid ? grads + hd->off_xgrid : NULL,
                              grid ? grads + hd->off_ygrid : NULL, dflow, hd->mnn, hd->stats, xg,
                              yg, &hd->sa_shape, hd->sa_scratch);
    memset(hd->dcorr, 0, nc * sizeof(float));
    scorr_mnn_backward(hd->dcorr, hd->dmnn, hd->corr, hd->smax, hd->sarg, hd->tmax, hd->targ,
                       &hd->corr_shape);
    memset(hd->dfeat[0], 0, nf * sizeof(float));
    memset(hd->dfeat[1], 0, nf * sizeof(float));
    scorr_corr_backward(hd->dfeat[0], hd->dfeat[1], hd->dcorr, hd->feat[0], hd->feat[1],
                        &hd->corr_shape);
    const float *in[2] = {src, trg};
    float *din[2] = {dsrc, dtrg};
    for (int side = 0; side < 2; side++) {
        if (c->sce) {
            /* x -> sce -> l2norm: the SCE's output gradient (in place over
             * dfeat[side], dead after it), then the SCE */
            scorr_l2norm_backward_set(hd->dfeat[side], hd->dfeat[side], hd->feat[side],
                                      hd->rnorm[side], hd->m, hd->dim, hd->nthreads);
            scorr_sce_backward(din[side], grads + hd->off_weight, grads + hd->off_bias, hd->dfeat[side],
                               hd->sce_y[side], hd->sce_sim[side], hd->sce_nrm[side],
                               hd->sce_den[side], in[side], weight_of(hd, params), &hd->sce_shape,
                               hd->scratch, sce_bf16(hd));
        } else if (din[side]) {
            scorr_l2norm_backward(din[side], hd->dfeat[side], hd->feat[side], hd->rnorm[side],
                                  hd->m, hd->dim, hd->nthreads);
        }
    }
}
