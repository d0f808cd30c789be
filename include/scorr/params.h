/* The parameter table: the one description of a model's tensors.
 *
 * Each entry has the PyTorch/torchvision name (e.g. "backbone.layer1.0.conv1.weight",
 * "sce.conv.bias"), its shape in PyTorch order, its offset into the model's flat
 * buffers, how to initialise it, and whether the optimiser trains it. From the
 * table come one flat buffer each for parameters, gradients, Adam moments and
 * peer/teacher copies; allreduce, AdamW, clipping, checkpoints, weight
 * converters and tests all walk this table, so tensor order lives in one place.
 *
 * Buffers that are state but not parameters (batch-norm running mean/var) are
 * entries with kind SCORR_PARAM_BUFFER: stored and checkpointed, never
 * trained. Local. */
#ifndef SCORR_PARAMS_H
#define SCORR_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define SCORR_PARAM_NAME 96
#define SCORR_PARAM_MAXDIM 4

enum scorr_param_kind {
    SCORR_PARAM_WEIGHT = 0, /* trainable tensor */
    SCORR_PARAM_BUFFER = 1  /* state (running statistics); never trained */
};

/* Optimiser group: the backbone trains with its own (10x smaller) learning rate. */
enum scorr_param_group { SCORR_GROUP_HEAD = 0, SCORR_GROUP_BACKBONE = 1 };

enum scorr_init {
    SCORR_INIT_ZERO,
    SCORR_INIT_ONE,
    SCORR_INIT_KAIMING_NORMAL_FAN_OUT, /* torchvision ResNet convs: N(0, sqrt(2/fan_out)) */
    SCORR_INIT_TORCH_CONV_WEIGHT,      /* nn.Conv2d default: U(-b, b), b = 1/sqrt(fan_in) */
    SCORR_INIT_TORCH_CONV_BIAS,        /* nn.Conv2d default bias: U(-b, b), b = 1/sqrt(fan_in) */
    SCORR_INIT_LINSPACE                /* np.linspace(-1, 1, numel) as float32: the soft-argmax grid */
};

struct scorr_param {
    char name[SCORR_PARAM_NAME];
    int ndim;
    int64_t shape[SCORR_PARAM_MAXDIM];
    size_t numel;
    size_t offset; /* in floats, into every flat buffer; 64-byte aligned */
    enum scorr_param_kind kind;
    enum scorr_param_group group;
    enum scorr_init init;
    int64_t fan_in; /* for initialisers; set by scorr_params_add */
    int64_t fan_out;
    int trainable; /* weights: 1 unless frozen by config; buffers: 0 */
};

struct scorr_params {
    struct scorr_param *p;
    int n, cap;
    size_t total; /* floats in each flat buffer */
};

void scorr_params_init(struct scorr_params *t);
void scorr_params_free(struct scorr_params *t);

/* Append an entry; returns its index, or -1 on out-of-memory (internal: aborts). */
int scorr_params_add(struct scorr_params *t, const char *name, enum scorr_param_kind kind,
                     enum scorr_param_group group, enum scorr_init init, int ndim,
                     const int64_t *shape);

/* Index of name, or -1. */
int scorr_params_find(const struct scorr_params *t, const char *name);

/* Fill a flat buffer with each entry's initialiser, drawn from the counter
 * RNG keyed by (seed, entry index): the same seed gives the same weights on
 * every rank and machine. */
void scorr_params_initialise(const struct scorr_params *t, float *flat, uint64_t seed);

/* Override an entry's fan_in (a conv bias takes its layer's weight fan_in). */
void scorr_params_set_fan_in(struct scorr_params *t, int index, int64_t fan_in);

/* Set `trainable` for every weight of a group (freezing the backbone). */
void scorr_params_set_trainable(struct scorr_params *t, enum scorr_param_group group, int on);

/* A backward pass's report that the gradients of the flat-buffer floats
 * [lo, hi) are final (no later op of this backward adds to them). */
typedef void (*scorr_grad_ready_fn)(void *ctx, size_t lo, size_t hi);

/* Count of trainable floats (for messages). */
size_t scorr_params_trainable_count(const struct scorr_params *t);

/* The first table entry whose values in flat hold a NaN or Inf, or -1 if
 * none. stride 1 checks every value; stride k > 1 checks every k-th value
 * of each entry and its last one (a cheap per-step sample: a diverging
 * optimiser blows up whole tensors). trained_only: only trainable weights
 * (the Adam moments hold nothing else). *index_out (may be NULL) receives
 * the offset of the bad value in the entry. */
int scorr_params_find_nonfinite(const struct scorr_params *t, const float *flat, size_t stride,
                                int trained_only, size_t *index_out);

#endif
