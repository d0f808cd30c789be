/* Conventions shared by the backbone ops (conv, batch norm, pooling,
 * element-wise): how a backward treats an activation-gradient buffer, and the
 * compute precision of an op.
 *
 * Parameter gradients (conv weights, bias, batch-norm gamma/beta) are always
 * ADDED into the flat gradient buffer. Activation gradients take a mode: ADD
 * (the STYLE.md default, e.g. a tensor read by two branches) or SET (the
 * first writer of a scratch buffer, which saves zeroing it and one pass over
 * memory). A NULL activation-gradient pointer means "not needed". */
#ifndef SCORR_OP_COMMON_H
#define SCORR_OP_COMMON_H

enum scorr_grad_mode {
    SCORR_GRAD_ADD = 0, /* dx += contribution */
    SCORR_GRAD_SET = 1  /* dx  = contribution (previous content ignored) */
};

/* Batch-norm statistics: the running ones (eval, "frozen") or the batch's
 * own while training (running ones updated). The experiment config's
 * model.backbone.batchnorm takes these values. */
enum scorr_bn_mode {
    SCORR_BN_FROZEN = 0,
    SCORR_BN_BATCH = 1
};

/* Compute precision of the GEMM-shaped ops. Master weights, activations and
 * gradients in memory stay float32 in every mode. */
enum scorr_precision {
    SCORR_PREC_F32 = 0,  /* float32 everywhere */
    SCORR_PREC_BF16 = 1  /* convolutions read bf16 inputs and weights (converted from
                          * float32) and accumulate and write float32 (oneDNN); only
                          * pays on CPUs with AVX512-BF16 or AMX (conv.h,
                          * scorr_precision_resolve) */
};

#endif
