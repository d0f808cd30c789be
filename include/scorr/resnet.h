/* The SCorrSAN backbone: a torchvision ResNet (18/34/50/101) cut after
 * layer3, forward and backward, NHWC float32.
 *
 *   images (N, S, S, 3)  ->  features (N, S/16, S/16, C)
 *   C = 4*width (BasicBlock: ResNet-18/34) or 16*width (Bottleneck: 50/101);
 *   width 64 (torchvision) gives 256 / 1024.
 *
 * Structure (torchvision): conv1 7x7/2 pad 3 (no bias), bn1, ReLU, max-pool
 * 3x3/2 pad 1, layer1..layer3 with [2,2,2] (18), [3,4,6] (34, 50) or
 * [3,4,23] (101) blocks of planes width, 2*width, 4*width; layers 2 and 3
 * start with stride 2 (on the 3x3 conv of a Bottleneck, v1.5). The output is
 * the last layer3 block's residual sum BEFORE its final ReLU (the reference's
 * FeatureExtraction with hyperpixel id 30 for ResNet-101). A width below 64
 * scales every channel count by width/64; the names do not change.
 *
 * Parameters: appended to a parameter table under `prefix` (the reference
 * model uses "feature_extraction.backbone."), with torchvision's names:
 *   conv1.weight, bn1.{weight,bias,running_mean,running_var},
 *   layer<L>.<B>.conv<i>.weight, layer<L>.<B>.bn<i>.*,
 *   layer<L>.<B>.downsample.0.weight, layer<L>.<B>.downsample.1.*
 * in state_dict order, group SCORR_GROUP_BACKBONE, running statistics as
 * SCORR_PARAM_BUFFER, initialised as torchvision (kaiming-normal fan-out
 * convs, BN weight 1, bias 0, mean 0, var 1). Weights files and checkpoints
 * (weights.h) load them by these names.
 *
 * Batch norm: cfg.bn_mode is the mode while training (scorr_resnet_set_training
 * on, the default after build): FROZEN uses the running statistics; BATCH
 * normalises with batch statistics over each of cfg.bn_groups contiguous
 * slices of the batch and updates the running statistics in the parameter
 * buffer, slice 0 first. Run the source images as slice 0 and the targets as
 * slice 1 with bn_groups = 2 to reproduce the reference, which calls the
 * backbone once per side. Training off: FROZEN, nothing updated.
 *
 * Use:
 *     struct scorr_resnet net;
 *     scorr_resnet_build(&net, &cfg, &table, "feature_extraction.backbone.");
 *     scorr_arena_plan(&plan);  scorr_resnet_alloc(&net, &plan);
 *     scorr_arena_init(&arena, plan.peak, "backbone");  scorr_resnet_alloc(&net, &arena);
 *     ... scorr_resnet_forward(&net, feat, images, params);
 *         scorr_resnet_backward(&net, grads, NULL, dfeat, images, params);
 *
 * Forward keeps what backward needs in the arena (cfg.grad only); neither
 * allocates. One network object per thread; oneDNN and our loops run OpenMP
 * threads (OMP_NUM_THREADS). All calls are local (no MPI). */
#ifndef SCORR_RESNET_H
#define SCORR_RESNET_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/arena.h"
#include "scorr/batchnorm.h"
#include "scorr/params.h"
#include "scorr/pool.h"
#include "scorr/resblock.h"

struct scorr_resnet_config {
    int depth;                  /* 18 | 34 | 50 | 101 */
    int width;                  /* base width; 64 = torchvision */
    enum scorr_bn_mode bn_mode; /* batch-norm mode while training */
    int bn_groups;              /* BATCH: statistics per slice; divides batch */
    int batch;                  /* N images per call (fixed) */
    int image_size;             /* S: images are S x S, S a multiple of 16 */
    int grad;                   /* 1: backward possible (weight gradients); 0: forward
                                 * only, a frozen backbone (smaller arena) */
    int input_grad;             /* 1 (with grad): backward can give d/d(images) */
    enum scorr_precision prec;  /* conv compute precision */
    int no_winograd;            /* 1: no Winograd 3x3 convolutions (conv.h); 0 = the default policy */
    int recompute;              /* 1: Bottleneck blocks keep no first-conv output
                                 * (scorr_resblock_config.recompute) */
};

/* ResNet-101, width 64, FROZEN batch norm, 1 group, batch 1, 256 x 256,
 * grad on, no input gradient, float32. */
void scorr_resnet_config_default(struct scorr_resnet_config *cfg);

struct scorr_resnet {
    struct scorr_resnet_config cfg;
    int training;                 /* 1: cfg.bn_mode; 0: FROZEN */
    int out_h, out_w, out_c;      /* feature map size */
    struct scorr_cbn stem;        /* conv1 + bn1 */
    struct scorr_pool_shape pool;
    int nblocks;
    struct scorr_resblock *blocks;
    /* arena */
    float *r0;                    /* stem ReLU output (N, S/2, S/2, width); with grad it is
                                   * in the scratch, recomputed by the backward with the
                                   * stem's conv output and the max-pool winners */
    int32_t *arg;                 /* unused (NULL): the backward recomputes the winners */
    float *p0;                    /* max-pool output = layer1 input */
    float **bout;                 /* block outputs (nblocks - 1 of them; the last is the caller's) */
    float *gbuf[2];               /* backward: block-input gradients, ping-pong, of the
                                   * blocks from grad_split on (workspace; NULL when none) */
    float *gact[2];               /* the same for blocks before grad_split and the stem's
                                   * ReLU-output gradient: two slots at the top of the kept
                                   * activations, dead when written (NULL when grad_split is 0) */
    int grad_split;               /* with grad: blocks [0, grad_split) use gact */
    void *scratch;
    size_t scratch_bytes;
    /* with grad: act_off[i] the offset of block i's kept activations from
     * block 0's (nblocks + 1 entries: they lie one after the other in the
     * arena); block_scratch[i] (nblocks + 1 entries, the stem's last) the
     * scratch of that block's forward and backward: the kept activations
     * of the blocks after it where they are large enough (still unwritten
     * in its forward, dead in its backward; the stem's: every block's),
     * else `scratch` */
    size_t *act_off;
    void **block_scratch;
    size_t params_end;            /* end (in floats) of the last backbone entry in the table */
    /* arena bytes by use, set by scorr_resnet_alloc: activations (kept for
     * the backward when cfg.grad; forward ping-pong buffers otherwise),
     * activation-gradient buffers of the backward, the shared workspace */
    size_t mem_act, mem_grad, mem_scratch;
    size_t mem_act_conv;          /* of mem_act: conv outputs (batch-norm inputs) */
    /* backward hook (scorr_resnet_set_grad_hook), NULL = none */
    scorr_grad_ready_fn grad_ready;
    void *grad_ready_ctx;
};

/* Validate cfg (errors name the key, expected and found), append the
 * backbone's entries to `table` under `prefix` (binding to entries already
 * there with the same shapes, e.g. for a peer network sharing the table) and
 * create the conv primitives. Local. */
int scorr_resnet_build(struct scorr_resnet *net, const struct scorr_resnet_config *cfg,
                       struct scorr_params *table, const char *prefix);
void scorr_resnet_free(struct scorr_resnet *net);

/* Append the parameter entries of a backbone to a table without building
 * anything else (for converters, checkpoint inspection and tests). */
int scorr_resnet_add_params(struct scorr_params *table, int depth, int width, const char *prefix);

/* Hand out activations, gradients and scratch from the arena; call with the
 * planning arena, then with the real one. */
void scorr_resnet_alloc(struct scorr_resnet *net, struct scorr_arena *arena);
/* The same with what lives only inside one forward or one backward call
 * (activation gradients, the shared scratch; with grad also the stem's
 * ReLU output) taken from `work` instead: a workspace that other users may
 * overwrite between calls (the head's scratch, another network's). */
void scorr_resnet_alloc_split(struct scorr_resnet *net, struct scorr_arena *arena,
                              struct scorr_arena *work);

/* Training on: batch norm in cfg.bn_mode. Off: FROZEN (eval). */
void scorr_resnet_set_training(struct scorr_resnet *net, int on);

/* Batch statistics over a batch split across processes (batchnorm.h,
 * "Synchronised batch statistics"): every batch norm of the network sums its
 * statistics through *sync in BATCH mode. sync must outlive the network;
 * NULL = local statistics (the default). Every process of the split must
 * run the same forward and backward calls. */
void scorr_resnet_set_bn_sync(struct scorr_resnet *net, const struct scorr_bn_sync *sync);

/* Call fn(ctx, lo, hi) during scorr_resnet_backward each time the gradients
 * of the flat-buffer floats [lo, hi) are final: after each block (its
 * entries; hi = the next block's first offset, or the end of the backbone's
 * entries after the last block) and after the stem ([stem, first block)).
 * Calls come from the last block down, so the ranges tile the backbone's
 * entries top down. The trainer starts the gradient exchange from it
 * (src/train/grad_sync.c). fn = NULL removes the hook. Local. */
void scorr_resnet_set_grad_hook(struct scorr_resnet *net, scorr_grad_ready_fn fn, void *ctx);

/* Forward: features (N, S/16, S/16, C) overwritten (caller-owned; not read by
 * backward); images (N, S, S, 3) ImageNet-normalised, must stay unchanged
 * until backward when cfg.input_grad. params: the flat parameter buffer
 * (weights read; running statistics updated in BATCH training mode). */
void scorr_resnet_forward(struct scorr_resnet *net, float *features, const float *images,
                          float *params);

/* Backward of the last forward (needs cfg.grad): dfeatures (N, S/16, S/16, C);
 * every backbone weight and BN gradient is ADDED into grads (flat, same
 * offsets as params); dimages (N, S, S, 3) ADDED when non-NULL (needs
 * cfg.input_grad). images: the forward's input (the stem's weight gradient
 * reads it). */
void scorr_resnet_backward(struct scorr_resnet *net, float *grads, float *dimages,
                           const float *dfeatures, const float *images, const float *params);

#endif
