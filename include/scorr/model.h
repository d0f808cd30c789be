/* SCorrSAN: the ResNet backbone cut after layer3, the efficient spatial context
 * encoder, correlation, mutual nearest-neighbour filter, upsampling and
 * soft-argmax (DESIGN section 2), as one object that owns its parameter table,
 * its flat parameter and gradient buffers and an activation arena sized at
 * creation. Forward and backward never allocate. Local (no communication):
 * the trainer reduces gradients itself over the flat gradient buffer. */
#ifndef SCORR_MODEL_H
#define SCORR_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/op_common.h"
#include "scorr/params.h"

struct scorr_model_config {
    int depth;           /* 18 | 34 | 50 | 101 */
    int width;           /* ResNet base width; 64 = torchvision */
    int bn_batch;        /* 1: batch statistics when training (running stats updated);
                          * 0: frozen running statistics */
    int freeze_backbone; /* 1: no backbone gradients, no backward below the head */
    int no_winograd;     /* 1: direct 3x3 convolutions in the backbone (conv.h) */
    enum scorr_precision precision; /* backbone convolutions: SCORR_PREC_F32 (0, default) or
                          * BF16 (bf16 inputs and weights, fp32 accumulation, fp32 master
                          * weights, batch norm, head, loss and AdamW; fp32 where the
                          * CPU has no native bf16: scorr_model_precision) */
    int recompute;       /* 1 (model.memory: small): Bottleneck blocks keep no first-conv
                          * output, the backward computes it again (the same bits) */
    int sce_enabled;     /* 0: the raw feature goes to the correlation */
    int sce_kernel;      /* odd */
    int sce_channels;
    int upsample;        /* correlation upsampling factor; 4 = HR loss, 1 = none */
    float temperature;   /* soft-argmax beta */
    int learn_grid;      /* 1: the soft-argmax grid is trained (x_normal, y_normal; head.h) */
    int image_size;      /* S: input images are S x S, S a multiple of 16 */
    int batch;           /* pairs per forward call (B) */
    int training;        /* 1: keep what backward needs; 0: inference only (smaller arena) */
};

struct scorr_model;

/* Build the model: parameter table, buffers (parameters initialised from
 * `seed` as torchvision / PyTorch would), activation arena. Errors: bad
 * config values, out of memory (with the size). */
int scorr_model_create(const struct scorr_model_config *cfg, uint64_t seed,
                       struct scorr_model **out);
void scorr_model_free(struct scorr_model *m);

/* What scorr_model_create_sharing takes from the other model. */
enum {
    /* the buffers that live only inside one forward or backward call
     * (activation gradients, convolution and head scratch) */
    SCORR_SHARE_WORKSPACE = 1,
    /* the flat gradient buffer: each backward must start from zero_grad, and
     * the other model's gradients are lost (used up) by then */
    SCORR_SHARE_GRADS = 2,
    /* the arena of what a forward keeps for its backward: a forward of either
     * model ends the other's right to a backward (checked: the backward of a
     * model whose activations another forward overwrote aborts) */
    SCORR_SHARE_ACTIVATIONS = 4
};

/* The same, with the buffers named by `what` (SCORR_SHARE_* flags; the
 * workspace always) taken from `share` (a model created for training with
 * the same config, or one needing at least as much) instead of its own.
 * Calls on the two models must not run at the same time (one thread), and
 * `share` must be freed after this model. mt on one rank trains its two
 * networks this way: forward A, forward B, backward and AdamW of A, then of
 * B, sharing the workspace and the gradients; with model.memory small also
 * the activations: forward B (for its flow), forward A, backward of A,
 * forward B again, backward of B. Errors as create, and SCORR_EINVAL when a
 * shared buffer is too small. share = NULL: as create. */
int scorr_model_create_sharing(const struct scorr_model_config *cfg, uint64_t seed,
                               const struct scorr_model *share, unsigned what,
                               struct scorr_model **out);

const struct scorr_model_config *scorr_model_config(const struct scorr_model *m);
const struct scorr_params *scorr_model_params(const struct scorr_model *m);
struct scorr_params *scorr_model_params_mut(struct scorr_model *m);
float *scorr_model_weights(struct scorr_model *m); /* flat, table->total floats */
float *scorr_model_grads(struct scorr_model *m);   /* flat, same offsets */
int scorr_model_grid(const struct scorr_model *m); /* G = (S / 16) * upsample */
size_t scorr_model_arena_bytes(const struct scorr_model *m);
/* The precision the backbone's convolutions run in (cfg.precision after the
 * CPU dispatch of conv.h's scorr_precision_resolve). */
enum scorr_precision scorr_model_precision(const struct scorr_model *m);

/* The bytes a model holds, by what holds them (bench/bench_memory.c;
 * docs/performance.md "Peak memory"). Everything but params and grads lives
 * in two arenas sized at creation: what a forward keeps for its backward,
 * and the workspace. Local. */
struct scorr_model_memory {
    size_t params, grads;    /* flat parameter and gradient buffers (grads 0 when shared) */
    size_t bb_act;           /* backbone: activations kept for the backward (forward-only:
                              * its ping-pong buffers) */
    size_t bb_act_conv;      /*   of which conv outputs (the batch norms' inputs); the rest:
                              *   block outputs, max-pool output, statistics (no ReLU
                              *   output is kept: the backward recomputes them) */
    size_t bb_grad;          /* backbone: activation gradients of the backward */
    size_t bb_scratch;       /* backbone: the workspace its layers share (convolution,
                              * oneDNN scratchpads, Winograd tiles, block temporaries) */
    size_t head_act, head_grad, head_scratch; /* the same for the head */
    size_t io;               /* images, features and their gradient, flow */
    size_t overlay;          /* with a trained backbone: the backbone's call-local buffers
                              * (bb_grad, bb_scratch) lie over the head's kept activations
                              * (head_act), dead outside the head's forward-to-backward:
                              * the region's bytes, the larger of the two; 0 otherwise */
    size_t workspace;        /* of the above, what lives only inside one forward or backward
                              * call: the feature gradient, then the head's buffers
                              * (head_grad, head_scratch); without overlay also the
                              * backbone's, overlaid with the head's (the larger of the two) */
    int workspace_shared;    /* 1: the workspace is another model's (create_sharing) */
    int grads_shared;        /* 1: the gradient buffer is another model's */
    int activations_shared;  /* 1: the kept activations are in another model's arena */
    size_t arena;            /* bytes this model allocated for activations: the kept ones
                              * unless shared plus its workspace unless shared */
};
void scorr_model_memory(const struct scorr_model *m, struct scorr_model_memory *out);

/* Training mode: batch-norm batch statistics (when configured) and saved
 * activations. Eval mode: running statistics. A model created with
 * training = 0 cannot be switched to training. */
void scorr_model_set_training(struct scorr_model *m, int on);

/* Forward B pairs. src, trg: (B, S, S, 3) float, ImageNet-normalised, NHWC.
 * Returns the flow (B, G, G, 2): target grid -> source, (x, y) in grid units;
 * owned by the model, valid until the next forward. */
const float *scorr_model_forward(struct scorr_model *m, const float *src, const float *trg);

/* How sure the last forward is of its matches, for pair b (0 <= b < B):
 *   peak   (G, G) or NULL: at each target grid position the largest weight of
 *          the soft-argmax's softmax over the source positions, that is
 *          1 / sum_S exp((C[S] - max C) / beta), in (0, 1]; near 1 when one
 *          source position dominates, near 1 / G^2 when none does;
 *   mutual (G, G) or NULL: 1 where the target position's feature cell (h x w
 *          grid) and its best source cell on the raw correlation are each
 *          other's best match (mutual nearest neighbours), else 0.
 * Local; reads what the forward kept. */
void scorr_model_confidence(const struct scorr_model *m, int b, float *peak, uint8_t *mutual);

/* The same with the images of both sides in one buffer the caller keeps,
 * unchanged, until the backward (or the next forward): images (2B, S, S, 3),
 * the B sources then the B targets. The model reads them where they are
 * instead of copying them into its arena (whose image pages then stay
 * untouched, not resident). */
const float *scorr_model_forward_images(struct scorr_model *m, const float *images);

/* Backward of the last forward: dflow (B, G, G, 2); ADDS into the gradient buffer. */
void scorr_model_backward(struct scorr_model *m, const float *dflow);

/* Give the pages of the buffers this model owns (its activation arena and
 * workspace; not those it shares from another model) back to the kernel,
 * so they leave the resident set until the next forward touches them again
 * (docs/performance.md, "Peak memory"). Between calls they hold only the last
 * forward's outputs, kept for its backward (and scorr_model_confidence, the
 * flow it returned): they are lost. Afterwards a backward aborts until the
 * next forward, of this model or of any model sharing the arena; weights,
 * gradients and running statistics (flat buffers) are untouched. The
 * trainer calls it on every model before validation and checkpoint writes,
 * where HDF5's heap would otherwise add to a full arena. Local. */
void scorr_model_release(struct scorr_model *m);

/* Batch statistics summed across the processes a data-parallel batch is
 * split over (include/scorr/batchnorm.h, scorr_resnet_set_bn_sync): with it
 * a model with bn_batch normalises as if one process held the whole batch.
 * sync must outlive the model; NULL = per-process statistics. */
struct scorr_bn_sync;
void scorr_model_set_bn_sync(struct scorr_model *m, const struct scorr_bn_sync *sync);

/* Call fn(ctx, lo, hi) during scorr_model_backward each time the gradients
 * of the flat-buffer floats [lo, hi) are final: first the head's entries
 * (everything above the backbone's), then each backbone block from the last
 * down, then the stem (scorr_resnet_set_grad_hook). The ranges tile
 * [first backbone offset, table total) from the top down; with a frozen
 * backbone only the head's range comes. The trainer starts the gradient
 * exchange of finished buckets from it while the backward goes on
 * (src/train/grad_sync.c). fn = NULL removes it. Local. */
void scorr_model_set_grad_hook(struct scorr_model *m, scorr_grad_ready_fn fn, void *ctx);

/* Zero the gradient buffer. */
void scorr_model_zero_grad(struct scorr_model *m);

/* Wall-clock seconds of the parts of the last forward and backward (for
 * benchmarks and progress reports; two clock reads per part, always on).
 * Owned by the model. */
struct scorr_model_times {
    double backbone_fwd, head_fwd; /* last scorr_model_forward */
    double head_bwd, backbone_bwd; /* last scorr_model_backward (backbone_bwd 0 when frozen) */
};
const struct scorr_model_times *scorr_model_times(const struct scorr_model *m);

#endif
