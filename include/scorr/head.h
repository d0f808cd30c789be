/* The SCorrSAN correspondence head as one module: for B pairs of backbone
 * features, SCE (optional) -> L2 norm -> correlation -> mutual NN filter ->
 * fused bilinear upsampling + soft-argmax -> flow.
 *
 *   src, trg features (B, h, w, C)  ->  flow (B, G_y, G_x, 2),  G = h*up, w*up
 *
 * Flow is (x, y) in grid units on the target grid, pointing into the source
 * (the reference's unnormalise_and_convert_mapping_to_flow). Source and
 * target go through the same SCE weights.
 *
 * Set-up follows the arena's two passes:
 *
 *     scorr_head_build(&hd, &cfg, &table);      // validate, add parameters
 *     scorr_arena_plan(&plan);  scorr_head_alloc(&hd, &plan);
 *     scorr_arena_init(&arena, plan.peak, "head");  scorr_head_alloc(&hd, &arena);
 *
 * after which forward and backward never allocate. Parameters live in the
 * model's flat buffer at the offsets of their table entries
 * ("SCEs.0.conv.weight" (O, C+4k, 1, 1), "SCEs.0.conv.bias" (O), group
 * SCORR_GROUP_HEAD, PyTorch Conv2d default init; with learn_grid also
 * "x_normal" (G_x) and "y_normal" (G_y), group SCORR_GROUP_HEAD, initialised
 * to linspace(-1, 1) as the reference's nn.Parameter grids). All calls are
 * local (no MPI); OpenMP threads are capped at the count seen at alloc time. */
#ifndef SCORR_HEAD_H
#define SCORR_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/arena.h"
#include "scorr/corr.h"
#include "scorr/op_common.h"
#include "scorr/params.h"
#include "scorr/sce.h"
#include "scorr/softargmax.h"

#define SCORR_HEAD_WEIGHT_NAME "SCEs.0.conv.weight"
#define SCORR_HEAD_BIAS_NAME "SCEs.0.conv.bias"
#define SCORR_HEAD_XGRID_NAME "x_normal"
#define SCORR_HEAD_YGRID_NAME "y_normal"

struct scorr_head_config {
    int batch;      /* B pairs per call */
    int h, w;       /* feature map size (S/16 for an S x S image) */
    int channels;   /* C of the backbone feature */
    int sce;        /* 1 = spatial context encoder on, 0 = features go straight to the L2 norm */
    int sce_kernel; /* k, odd (7 SPair, 13 PF-PASCAL) */
    int sce_out;    /* SCE output channels (2048 SPair, 1024 PF-PASCAL) */
    int up;         /* correlation upsampling factor (4 = the paper's HR flow, 1 = none) */
    float beta;     /* soft-argmax temperature (0.02) */
    int learn_grid; /* 1: the soft-argmax grid is a trained parameter (the reference
                     * code's x_normal / y_normal); 0: the fixed linspace (the paper) */
    int inference_only; /* 1: forward only, no backward buffers (smaller arena);
                         * 0 (the zero-initialised default): forward and backward */
    enum scorr_precision prec; /* SCORR_PREC_F32 (0, default), or BF16: the SCE's GEMMs
                                * on the raw feature in bf16 with float32 accumulation
                                * (sce.h) where scorr_precision_resolve allows bf16; the
                                * correlation stays float32 (docs/performance.md) */
};

/* Defaults of the paper for a ResNet-101 at 256 x 256: B = 1, 16 x 16, C = 1024,
 * SCE on, k = 7, 2048 channels, up = 4, beta = 0.02. */
void scorr_head_config_default(struct scorr_head_config *cfg);

struct scorr_head {
    struct scorr_head_config cfg;
    int gy, gx;           /* flow grid */
    int dim;              /* channels entering the L2 norm: sce_out or C */
    size_t m;             /* B*h*w positions per side */
    int nthreads;
    int p_weight, p_bias; /* table indices (-1 when the SCE is off) */
    size_t off_weight, off_bias;
    int p_xgrid, p_ygrid; /* table indices (-1 without learn_grid) */
    size_t off_xgrid, off_ygrid;
    struct scorr_sce_shape sce_shape;
    struct scorr_corr_shape corr_shape;
    struct scorr_softargmax_shape sa_shape;
    enum scorr_precision prec; /* as it runs (cfg.prec after scorr_precision_resolve) */
    struct scorr_sce_bf16 sce_bf16; /* the SCE's bf16 GEMMs (prec BF16 and sce), else zero */
    /* saved by forward, per side (0 = source, 1 = target) */
    float *sce_y[2], *sce_sim[2], *sce_nrm[2], *sce_den[2];
    float *feat[2], *rnorm[2]; /* L2-normalised features (m, dim) and their r */
    float *corr, *mnn;         /* (B, Lt, Ls) */
    float *smax, *tmax;
    int32_t *sarg, *targ;
    float *stats;
    /* backward scratch */
    float *dfeat[2];           /* (m, dim) each; with the SCE its backward turns dfeat[side]
                                * into the SCE output gradient in place */
    float *dcorr, *dmnn;
    float *scratch;            /* the SCE's (NULL when none) */
    float *sa_scratch;         /* the soft-argmax's: over dfeat[0..1] when they hold it
                                * (training), else `scratch` (then shared) */
    /* arena bytes by use, set by scorr_head_alloc: what the forward keeps,
     * the backward's gradient buffers, the shared scratch */
    size_t mem_act, mem_grad, mem_scratch;
};

/* Validate cfg (errors name the key, expected and found) and append the SCE
 * parameters (and the learned grid) to the table. If the table already holds them (a second head
 * for a peer network sharing the table, with its own flat buffers and its own
 * activations), the head binds to those entries; a shape mismatch is an
 * error. Reads omp_get_max_threads() once: later calls use at most that many
 * OpenMP threads. Local. */
int scorr_head_build(struct scorr_head *hd, const struct scorr_head_config *cfg,
                     struct scorr_params *table);

/* Free what build created (oneDNN primitives of a bf16 head; nothing for
 * fp32). The arena's buffers are the arena's. */
void scorr_head_free(struct scorr_head *hd);

/* Hand out the head's activations and scratch from the arena (a planning
 * arena only counts). Call once with the planning arena and once with the
 * real one; the pointers belong to the arena. */
void scorr_head_alloc(struct scorr_head *hd, struct scorr_arena *arena);
/* The same with the backward's gradient buffers and the scratch (used only
 * inside one forward or backward call) taken from `work`, a workspace that
 * others may overwrite between calls. */
void scorr_head_alloc_split(struct scorr_head *hd, struct scorr_arena *arena,
                            struct scorr_arena *work);

/* Forward. params: the model's flat parameter buffer. src, trg (B, h, w, C):
 * must stay unchanged until backward. flow (B, G_y, G_x, 2) out,
 * caller-owned. */
void scorr_head_forward(struct scorr_head *hd, const float *params, const float *src,
                        const float *trg, float *flow);

/* Backward of the last forward (not for an inference_only head). ADDS into grads (flat, same offsets as
 * params: the SCE weight and bias, the learned grid), dsrc and dtrg (B, h, w, C; either may be
 * NULL = not needed, e.g. a frozen backbone). dflow (B, G_y, G_x, 2). */
void scorr_head_backward(struct scorr_head *hd, const float *params, float *grads,
                         const float *src, const float *trg, const float *dflow, float *dsrc,
                         float *dtrg);

#endif
