/* 2-D convolution (groups 1, dilation 1, optional bias), forward and
 * backward, on oneDNN primitives.
 *
 *   y[n,oh,ow,k] = b[k] + sum_{c,i,j} w[k,c,i,j] * x[n, oh*s - p + i, ow*s - p + j, c]
 *
 * Activations are NHWC float32: x (N,H,W,C), y (N,Ho,Wo,K) with
 * Ho = (H + 2p - kh)/s + 1. Weights are PyTorch's OIHW (K,C,kh,kw) and the
 * bias (K), read straight from the flat parameter buffer; oneDNN's preferred
 * (blocked) weight layout is made by a reorder into scratch at each call, and
 * weight gradients are reordered back into OIHW and ADDED into the flat
 * gradient buffer (no persistent blocked copy: weights change every step).
 *
 * Life cycle: scorr_conv2d_create() once at build time makes every primitive
 * (forward, backward-data, backward-weights, reorders) and all oneDNN memory
 * objects; forward/backward only set data pointers and execute, with the
 * oneDNN scratchpad in caller scratch (user scratchpad mode), so no call
 * allocates scorr-side memory. An object is not re-entrant: one per layer per
 * network, used by one thread at a time (oneDNN itself runs OpenMP threads).
 * fp32 objects of the same resolved shape and flags share their oneDNN
 * objects within the process (create finds them, free releases the last
 * user's), so no two fp32 convolutions of a process may run at the same
 * time on different threads. All calls are local. */
#ifndef SCORR_CONV_H
#define SCORR_CONV_H

#include <stddef.h>

#include "scorr/op_common.h"

/* How a pass is computed. Every choice gives the same result up to float
 * rounding; they differ in speed (docs/engine-backbone.md has measurements). */
enum scorr_conv_algo {
    SCORR_CONV_AUTO = 0,      /* the process policy (scorr_conv2d_set_policy) */
    SCORR_CONV_DNNL_NHWC = 1, /* oneDNN directly on the NHWC tensors */
    SCORR_CONV_DNNL_ANY = 2,  /* oneDNN in its preferred activation layout (nChw8c on
                               * AVX2), tensors reordered in scratch around the call */
    SCORR_CONV_GEMM = 3,      /* BLAS sgemm over NHWC rows: a 1x1 stride-1 conv is one
                               * GEMM on the tensors; others go through im2col in
                               * row chunks (scratch <= 16 MB + the weights) */
    SCORR_CONV_WINOGRAD = 4   /* Winograd F(4x4, 3x3) on maps of at least 16 x 16,
                               * F(2x2, 3x3) on smaller ones, on the NHWC tensors: 3x3,
                               * stride 1, pad 1, float32 only; 1/4 (4/9) of the
                               * multiplications; rounding errors about 5-10x (1-2x)
                               * those of a direct conv (docs/performance.md) */
};

/* Passes, for per-pass choices and scorr_conv2d_impl_name. */
enum { SCORR_CONV_PASS_FWD = 0, SCORR_CONV_PASS_BWD_DATA = 1, SCORR_CONV_PASS_BWD_WEIGHTS = 2 };

struct scorr_conv2d_shape {
    int n, h, w;      /* input batch and spatial size */
    int c, k;         /* input and output channels */
    int kh, kw;       /* kernel size */
    int stride, pad;  /* same for both spatial axes; pad is zeros on all sides */
    int bias;         /* 1: the conv has a (K) bias */
    enum scorr_precision prec;
    enum scorr_conv_algo algo[3]; /* per pass; zero = AUTO */
    int no_winograd;  /* 1: AUTO never picks WINOGRAD (direct convolutions) */
};

/* The AUTO choice per pass for 1x1 convs (pointwise) and larger kernels
 * (spatial), and for the 3x3 stride-1 pad-1 float32 convs that Winograd can
 * compute (winograd3x3; AUTO there = the spatial choice). Process-wide; read
 * by scorr_conv2d_create (later convs only). Defaults by CPU: AVX2 (measured
 * fastest on the development machine) pointwise {NHWC, GEMM, GEMM}, spatial
 * {ANY, ANY, GEMM} (GEMM only from 16 input channels), winograd3x3
 * {WINOGRAD x 3} (from 16 input and output channels); AVX-512 everything
 * ANY (oneDNN's brgemm kernels; not measured here); bf16 convs NHWC in every
 * pass (measured on AVX512-BF16: no layout reorders; docs/performance.md).
 * For benchmarks. Not thread-safe. */
struct scorr_conv_policy {
    enum scorr_conv_algo pointwise[3];
    enum scorr_conv_algo spatial[3];
    enum scorr_conv_algo winograd3x3[3];
    enum scorr_conv_algo bf16[3]; /* the AUTO choice for convs that compute in bf16
                                   * (any kernel); AUTO = the choices above */
    int bf16_force; /* 1: SCORR_PREC_BF16 convs run oneDNN's bf16 kernels even where
                     * the CPU has no native bf16 (emulated or reference kernels:
                     * slow; for parity tests on any CPU). 0 (default): fp32 there */
};
void scorr_conv2d_set_policy(const struct scorr_conv_policy *p);
void scorr_conv2d_get_policy(struct scorr_conv_policy *p);

/* What the object must be able to do (bit flags for scorr_conv2d_create). */
enum {
    SCORR_CONV_FWD = 0,           /* forward is always available */
    SCORR_CONV_BWD_DATA = 1,      /* d(loss)/dx */
    SCORR_CONV_BWD_WEIGHTS = 2    /* d(loss)/dw (and db) */
};

/* bf16 on this CPU, as oneDNN sees it (dnnl_get_effective_cpu_isa, which
 * the environment variable DNNL_MAX_CPU_ISA can lower). */
enum scorr_bf16_support {
    SCORR_BF16_NONE = 0,     /* no AVX-512: oneDNN has only reference bf16 kernels */
    SCORR_BF16_EMULATED = 1, /* AVX-512 without AVX512-BF16: bf16 kernels emulate the
                              * bf16 dot products (slower than fp32) */
    SCORR_BF16_NATIVE = 2,   /* AVX512-BF16 (vdpbf16ps) */
    SCORR_BF16_AMX = 3       /* AMX tiles */
};
enum scorr_bf16_support scorr_bf16_support(void);
const char *scorr_bf16_support_name(enum scorr_bf16_support s);

/* The precision a conv created with `want` computes in: bf16 where the CPU
 * has native bf16 (or the policy forces it), fp32 otherwise. The first fp32
 * fallback of the process logs one warning saying so. Not thread-safe. */
enum scorr_precision scorr_precision_resolve(enum scorr_precision want);

struct scorr_conv2d_impl; /* oneDNN objects; private to src/ops/conv.c */

struct scorr_conv2d {
    struct scorr_conv2d_shape s; /* algo[] resolved (no AUTO), prec as it runs */
    int ho, wo;        /* output spatial size */
    unsigned flags;    /* SCORR_CONV_* given at create */
    size_t scratch;    /* bytes of scratch any call needs (64-byte aligned) */
    struct scorr_conv2d_impl *impl;
};

/* Output size along one axis. */
static inline int scorr_conv2d_out(int in, int kernel, int stride, int pad)
{
    return (in + 2 * pad - kernel) / stride + 1;
}

/* Validate the shape and create the primitives. Errors (SCORR_EINVAL for a
 * bad shape, SCORR_EINTERNAL when oneDNN has no implementation) name the
 * shape. On error the object is left freed. Local; not thread-safe (the
 * first call creates the process-wide oneDNN engine). */
int scorr_conv2d_create(struct scorr_conv2d *cv, const struct scorr_conv2d_shape *s,
                        unsigned flags);
/* Release the primitives. Safe on a zeroed or already freed object. */
void scorr_conv2d_free(struct scorr_conv2d *cv);

/* bf16 convs (cv->s.prec == SCORR_PREC_BF16): convert the float32 weights w
 * (K,C,kh,kw) into the bf16 copies (in oneDNN's layouts) that the forward
 * and backward-data passes read. The copies are allocated once at create;
 * call this after every change of w and before the next forward (the
 * backbone does it at the start of each forward, i.e. once per training
 * step, after AdamW). A no-op for float32 convs. scratch as for forward. */
void scorr_conv2d_prepare(struct scorr_conv2d *cv, const float *w, void *scratch);

/* Forward: y (N,Ho,Wo,K) overwritten; x (N,H,W,C); w (K,C,kh,kw) OIHW; b (K)
 * or NULL when the conv has no bias. scratch: cv->scratch bytes, 64-byte
 * aligned, caller-owned (contents undefined after the call). */
void scorr_conv2d_forward(struct scorr_conv2d *cv, float *y, const float *x, const float *w,
                          const float *b, void *scratch);

/* Backward of y = conv(x, w) + b given dy (N,Ho,Wo,K):
 *   dx (N,H,W,C): d(loss)/dx, SET or ADDED per dx_mode; NULL = not needed
 *                 (needs SCORR_CONV_BWD_DATA)
 *   dw (K,C,kh,kw), db (K): ADDED; NULL = not needed (needs
 *                 SCORR_CONV_BWD_WEIGHTS; db only for a conv with bias)
 *   x: the forward input (for dw); w: the weights (for dx).
 * dx must not overlap dy or x. scratch as for forward. */
void scorr_conv2d_backward(struct scorr_conv2d *cv, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w,
                           enum scorr_grad_mode dx_mode, void *scratch);

/* The implementation of a pass (SCORR_CONV_PASS_*): oneDNN's name, with
 * "+reorders" when activations are reordered, or "gemm"; "" when the pass
 * was not created. For logs and benchmarks. */
const char *scorr_conv2d_impl_name(const struct scorr_conv2d *cv, int pass);

#endif
