/* One torchvision ResNet block, forward and backward, NHWC:
 *
 *   BasicBlock (ResNet-18/34):
 *     out = act( bn2(conv2(relu(bn1(conv1(x))))) + skip(x) )
 *     conv1 3x3 stride s, conv2 3x3 stride 1, both `planes` channels
 *   Bottleneck (ResNet-50/101, torchvision v1.5: stride on the 3x3):
 *     out = act( bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + skip(x) )
 *     conv1 1x1 -> planes, conv2 3x3 stride s, conv3 1x1 -> 4*planes
 *   skip(x) = bn_d(conv_d(x)) (1x1 stride s, "downsample.0/.1") or x;
 *   act = ReLU, or identity for the block the backbone is cut after.
 *
 * Parameter names under `prefix` (e.g. "feature_extraction.backbone.layer2.0."):
 * conv{1,2,3}.weight (OIHW), bn{1,2,3}.{weight,bias,running_mean,running_var},
 * downsample.0.weight, downsample.1.*; group SCORR_GROUP_BACKBONE; convs
 * kaiming-normal fan-out, BN weight 1, bias 0, running mean 0, var 1
 * (running statistics are SCORR_PARAM_BUFFER entries).
 *
 * Memory: build() creates the conv primitives; alloc() hands out what the
 * forward saves for the backward (only when cfg.grad: the conv outputs and
 * batch-norm statistics; the ReLU outputs inside the block are recomputed
 * from them by the backward, scorr_bn_apply) from an arena, called
 * once on a planning arena and once on the real one; every call also takes a
 * caller scratch of scorr_resblock_scratch_bytes() bytes (64-byte aligned),
 * which blocks of one network share. No call after alloc() allocates. Local;
 * OpenMP threads inside. */
#ifndef SCORR_RESBLOCK_H
#define SCORR_RESBLOCK_H

#include <stddef.h>

#include "scorr/arena.h"
#include "scorr/batchnorm.h"
#include "scorr/conv.h"
#include "scorr/params.h"

struct scorr_resblock_config {
    int bottleneck;        /* 0 BasicBlock, 1 Bottleneck */
    int n, h, w;           /* input batch and spatial size */
    int inplanes, planes;  /* input channels; block width (output: planes * expansion) */
    int stride;            /* 1 or 2 */
    int downsample;        /* 1: skip = bn(conv1x1(x)); 0: identity (needs same shape) */
    int relu_out;          /* 0: no ReLU after the add (the backbone's last block) */
    int bn_groups;         /* batch statistics per `bn_groups` slices of the batch */
    enum scorr_bn_mode bn_mode; /* BATCH: the block may run with batch statistics
                                 * (validated: > 1 value per channel per group) */
    int grad;              /* 1: backward is possible (saves activations; weight grads) */
    int input_grad;        /* 1 (with grad): backward can produce d/dx */
    enum scorr_precision prec;
    int no_winograd;       /* 1: direct 3x3 convolutions (conv.h) */
    int recompute;         /* 1 (Bottleneck with grad): the first 1x1 conv's output is not
                            * kept; the backward computes it again from x (the same bits,
                            * one more 1x1 conv forward) */
};

/* A conv followed by its batch norm, with what the forward saves. */
struct scorr_cbn {
    struct scorr_conv2d conv;
    struct scorr_bn_shape bn;
    size_t o_w, o_g, o_b, o_rm, o_rv; /* offsets into the flat buffers */
    float *a;                         /* conv output (N,Ho,Wo,K), saved when grad (the
                                       * first unit's in the scratch with cfg.recompute) */
    float *mean, *invstd;             /* (groups, K), saved */
};

struct scorr_resblock {
    struct scorr_resblock_config cfg;
    int nconv;              /* 2 or 3 */
    int ho, wo, cout;       /* output size */
    struct scorr_cbn u[3];  /* main path */
    struct scorr_cbn ds;    /* downsample (when cfg.downsample) */
    float *r[2];            /* ReLU outputs of units 0 and 1: in the scratch, set by each
                             * forward; not kept (the backward recomputes them) */
    size_t scratch;         /* bytes any call needs */
    size_t mem_conv;        /* arena bytes of the saved conv outputs (alloc) */
    enum scorr_bn_mode last_mode;
};

/* Validate cfg, append (or bind to, when already present with equal shapes)
 * the block's table entries, create the primitives. Errors name the prefix,
 * key, expected and found. Local. */
int scorr_resblock_build(struct scorr_resblock *b, const struct scorr_resblock_config *cfg,
                         struct scorr_params *table, const char *prefix);
void scorr_resblock_free(struct scorr_resblock *b);

/* Hand out the saved activations (nothing without cfg.grad). */
void scorr_resblock_alloc(struct scorr_resblock *b, struct scorr_arena *arena);

/* Forward: out (N,Ho,Wo,Cout) overwritten, must not overlap x; x (N,H,W,Cin)
 * must stay unchanged until backward. params: the flat parameter buffer; in
 * BATCH mode the running statistics in it are updated. */
void scorr_resblock_forward(struct scorr_resblock *b, float *out, const float *x, float *params,
                            enum scorr_bn_mode mode, void *scratch);

/* Backward of the last forward (needs cfg.grad): dout (N,Ho,Wo,Cout);
 * dx (N,H,W,Cin) SET or ADDED per dx_mode (NULL = not needed; needs
 * cfg.input_grad); weight and BN gradients ADDED into grads (flat, same
 * offsets as params); x, out as given to / produced by the forward. */
void scorr_resblock_backward(struct scorr_resblock *b, float *dx, float *grads, const float *dout,
                             const float *x, const float *out, const float *params,
                             enum scorr_grad_mode dx_mode, void *scratch);

/* Shared helpers for the stem (a conv + BN unit outside a block): append or
 * bind "<prefix><conv>.weight" and "<prefix><bn>.*" and create the conv. */
int scorr_cbn_build(struct scorr_cbn *u, const struct scorr_conv2d_shape *cs, int bn_groups,
                    enum scorr_bn_mode bn_mode, unsigned conv_flags, struct scorr_params *table, const char *prefix,
                    const char *conv_name, const char *bn_name);
/* Append one backbone entry (group SCORR_GROUP_BACKBONE), or bind to it when
 * the table already holds it with the same shape (a peer network sharing
 * the table); SCORR_EINVAL naming the tensor and both shapes otherwise. */
int scorr_backbone_param(struct scorr_params *table, const char *name, enum scorr_param_kind kind,
                         enum scorr_init init, int ndim, const int64_t *shape, size_t *offset);

#endif
