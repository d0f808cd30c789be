/* 2-D convolution: NHWC activations and OIHW weights at the interface;
 * per pass, oneDNN on NHWC, oneDNN in its preferred layouts (reorders in
 * scratch), or BLAS for 1x1 convs (conv_gemm.c). */
#include "scorr/conv.h"

#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv_gemm.h"
#include "ops/conv_winograd.h"
#include "ops/dnnl_ctx.h"
#include "scorr/error.h"
#include "scorr/log.h"

/* The AVX2 policy was measured on the development machine (AMD EPYC, AVX2,
 * 2 cores; docs/engine-backbone.md): oneDNN's AVX2 kernels run 3x3 convs
 * about 1.5-2x faster in nChw8c than in NHWC, far more than the reorders
 * cost; sgemm (im2col for 3x3) beats oneDNN's backward-weights kernels and
 * its 1x1 backward-data. Spatial backward-weights by GEMM only from 16 input
 * channels: the stem (3 channels) is faster on oneDNN.
 * On AVX-512 CPUs oneDNN has brgemm kernels that beat im2col + sgemm (about
 * 2x on the Xeon of docs ENVIRONMENT) and choose their layouts themselves:
 * there every pass is DNNL_ANY. That choice is not measured here (no such
 * CPU on the development machine). */
static const struct scorr_conv_policy policy_avx2 = {
    .pointwise = {SCORR_CONV_DNNL_NHWC, SCORR_CONV_GEMM, SCORR_CONV_GEMM},
    .spatial = {SCORR_CONV_DNNL_ANY, SCORR_CONV_DNNL_ANY, SCORR_CONV_GEMM},
    .winograd3x3 = {SCORR_CONV_WINOGRAD, SCORR_CONV_WINOGRAD, SCORR_CONV_WINOGRAD},
    .bf16 = {SCORR_CONV_DNNL_NHWC, SCORR_CONV_DNNL_NHWC, SCORR_CONV_DNNL_NHWC}};
/* bf16 on AVX512-BF16: NHWC in every pass (measured, docs/performance.md):
 * the bf16 conversion of an activation is then a plain element-wise pass
 * and the float32 outputs are written in place, where the blocked layouts
 * (DNNL_ANY) reorder every input and output; the forward runs oneDNN's
 * brgconv kernels. */
static const struct scorr_conv_policy policy_avx512 = {
    .pointwise = {SCORR_CONV_DNNL_ANY, SCORR_CONV_DNNL_ANY, SCORR_CONV_DNNL_ANY},
    .spatial = {SCORR_CONV_DNNL_ANY, SCORR_CONV_DNNL_ANY, SCORR_CONV_DNNL_ANY},
    .winograd3x3 = {SCORR_CONV_AUTO, SCORR_CONV_AUTO, SCORR_CONV_AUTO},
    .bf16 = {SCORR_CONV_DNNL_NHWC, SCORR_CONV_DNNL_NHWC, SCORR_CONV_DNNL_NHWC}};
#define GEMM_MIN_SPATIAL_C 16
/* Winograd by default only from this many input and output channels (the
 * transforms cost per channel what the GEMMs save only at some width). */
#define WINO_MIN_C 16

static struct scorr_conv_policy g_policy;
static int g_policy_set;
static int g_bf16_said; /* the bf16 fallback was logged */

static void default_policy(void)
{
    if (g_policy_set) return;
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    const int avx512 = ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core) ==
                       (unsigned)dnnl_cpu_isa_avx512_core;
    g_policy = avx512 ? policy_avx512 : policy_avx2;
    g_policy_set = 1;
}

void scorr_conv2d_set_policy(const struct scorr_conv_policy *p)
{
    g_policy = *p;
    g_policy_set = 1;
}

void scorr_conv2d_get_policy(struct scorr_conv_policy *p)
{
    default_policy();
    *p = g_policy;
}

static int isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t want)
{
    return ((unsigned)isa & (unsigned)want) == (unsigned)want;
}

enum scorr_bf16_support scorr_bf16_support(void)
{
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (isa_has(isa, dnnl_cpu_isa_avx512_core_amx)) return SCORR_BF16_AMX;
    if (isa_has(isa, dnnl_cpu_isa_avx512_core_bf16)) return SCORR_BF16_NATIVE;
    if (isa_has(isa, dnnl_cpu_isa_avx512_core)) return SCORR_BF16_EMULATED;
    return SCORR_BF16_NONE;
}

const char *scorr_bf16_support_name(enum scorr_bf16_support s)
{
    switch (s) {
    case SCORR_BF16_AMX: return "native (AMX)";
    case SCORR_BF16_NATIVE: return "native (AVX512-BF16)";
    case SCORR_BF16_EMULATED: return "emulated (AVX-512 without BF16 instructions)";
    default: return "none (reference kernels only)";
    }
}

enum scorr_precision scorr_precision_resolve(enum scorr_precision want)
{
    default_policy();
    if (want != SCORR_PREC_BF16 || g_policy.bf16_force) return want;
    const enum scorr_bf16_support sup = scorr_bf16_support();
    if (sup == SCORR_BF16_NATIVE || sup == SCORR_BF16_AMX) return want;
    if (!g_bf16_said) {
        /* emulated bf16 (AVX-512 without the bf16 instructions) runs the
         * convolutions slower than oneDNN's fp32 kernels (docs/performance.md,
         * measured with DNNL_MAX_CPU_ISA=AVX512_CORE); without AVX-512 there
         * are only reference kernels */
        if (scorr_log_rank() == 0)
            scorr_warn("bf16 requested, but this CPU has no native bf16 (oneDNN: %s): the "
                       "convolutions run in fp32, which is faster here",
                       scorr_bf16_support_name(sup));
        g_bf16_said = 1;
    }
    return SCORR_PREC_F32;
}

/* One tensor argument of a oneDNN pass: the caller's memory in the user
 * layout and, when the primitive wants another layout (or an ADD output
 * needs a buffer), a copy in scratch with reorders between the two. */
struct opnd {
    dnnl_memory_t user;        /* handle: the caller's pointer */
    dnnl_memory_t prim;        /* handle: scratch; NULL when the primitive uses `user` */
    dnnl_primitive_t to_prim;  /* inputs: user -> prim */
    dnnl_primitive_t to_user;  /* outputs: prim -> user (SET) */
    dnnl_primitive_t add_user; /* outputs: prim -> user with sum (ADD) */
    dnnl_memory_desc_t md;     /* the primitive's layout */
    int direct;                /* the primitive's layout is the user's */
    int persist;               /* prim is a copy kept across calls (bf16 weights, made by
                                * scorr_conv2d_prepare), not scratch */
    int shared;                /* persist: prim belongs to another operand (not destroyed) */
    size_t bytes;              /* scratch for prim (64-rounded), 0 when none */
};

/* Operands per pass: fwd (src, wei, dst), bwd-data (ddst, wei, dsrc),
 * bwd-weights (ddst, src, dwei). The two backward passes both start with
 * ddst, at scratch offset 0, so a reordered ddst is shared. */
struct pass {
    enum scorr_conv_algo algo;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t pad; /* scratchpad; handle in scratch */
    size_t pad_bytes;
    struct opnd a[3];
    size_t need; /* scratch bytes of the pass */
};

struct scorr_conv2d_impl {
    dnnl_memory_desc_t md_x, md_y, md_w, md_b;
    struct pass p[3];
    dnnl_memory_t m_b;       /* bias */
    dnnl_memory_t m_rpad;    /* reorder scratchpad, at scratch + r_off */
    size_t rpad_bytes, r_off;
    int prepared; /* bf16: scorr_conv2d_prepare has run */
    char names[3][96];
    /* fp32 objects are shared by every convolution of the process with the
     * same resolved shape and flags (find_shared): key, users, list link */
    struct scorr_conv2d_shape key;
    unsigned key_flags;
    size_t scratch;
    int refs;
    struct scorr_conv2d_impl *next;
};

/* The shared fp32 objects. Holding a pass's oneDNN memory objects whose
 * handles are set at each call, an object serves one call at a time: the
 * layers of a network (and mt's two networks on one rank) run one after
 * another. ResNet-101 has 94 convolutions of 18 shapes: sharing saves the
 * rest's oneDNN objects (about 40 KB each: memory objects, primitives,
 * reorders). */
static struct scorr_conv2d_impl *g_shared;
static pthread_mutex_t g_shared_lock = PTHREAD_MUTEX_INITIALIZER;

static int same_shape(const struct scorr_conv2d_shape *a, const struct scorr_conv2d_shape *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c && a->k == b->k &&
           a->kh == b->kh && a->kw == b->kw && a->stride == b->stride && a->pad == b->pad &&
           a->bias == b->bias && a->prec == b->prec && a->algo[0] == b->algo[0] &&
           a->algo[1] == b->algo[1] && a->algo[2] == b->algo[2] &&
           a->no_winograd == b->no_winograd;
}

/* An existing fp32 object for cv's resolved shape and flags (its user
 * count raised), or NULL. */
static struct scorr_conv2d_impl *find_shared(const struct scorr_conv2d *cv)
{
    if (cv->s.prec != SCORR_PREC_F32) return NULL;
    pthread_mutex_lock(&g_shared_lock);
    struct scorr_conv2d_impl *im = g_shared;
    while (im && !(im->key_flags == cv->flags && same_shape(&im->key, &cv->s))) im = im->next;
    if (im) im->refs++;
    pthread_mutex_unlock(&g_shared_lock);
    return im;
}

#define DNNL_TRY(expr, what)                                                                  \
    do {                                                                                      \
        dnnl_status_t st_ = (expr);                                                           \
        if (st_ != dnnl_success)                                                              \
            SCORR_FAIL(SCORR_EINTERNAL, "conv2d %s: oneDNN cannot create %s: %s", desc, (what), \
                       scorr_dnnl_status_str(st_));                                           \
    } while (0)

static void describe(char *out, size_t n, const struct scorr_conv2d_shape *s)
{
    snprintf(out, n, "(N=%d, H=%d, W=%d, C=%d -> K=%d, kernel %dx%d, stride %d, pad %d%s)", s->n,
             s->h, s->w, s->c, s->k, s->kh, s->kw, s->stride, s->pad, s->bias ? ", bias" : "");
}

static size_t md_bytes(const dnnl_memory_desc_t *md) { return dnnl_memory_desc_get_size(md); }

static dnnl_status_t mem(dnnl_memory_t *m, const dnnl_memory_desc_t *md)
{
    return dnnl_memory_create(m, md, scorr_dnnl_engine(), DNNL_MEMORY_NONE);
}

static dnnl_primitive_attr_t make_attr(enum scorr_precision prec, int sum)
{
    dnnl_primitive_attr_t a = NULL;
    if (dnnl_primitive_attr_create(&a) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    (void)prec; /* bf16 is chosen by the memory data types (make_pass), not by
                 * fpmath mode: oneDNN 2.6 runs f32 kernels under fpmath bf16 */
    if (sum) {
        dnnl_post_ops_t po = NULL;
        dnnl_post_ops_create(&po);
        dnnl_post_ops_append_sum(po, 1.0f);
        dnnl_primitive_attr_set_post_ops(a, po);
        dnnl_post_ops_destroy(po);
    }
    return a;
}

static size_t scratchpad_bytes(const_dnnl_primitive_desc_t pd)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? md_bytes(md) : 0;
}

/* A reorder src -> dst (ADDING into dst when sum); its scratchpad size is
 * folded into *rpad. */
static dnnl_status_t make_reorder(dnnl_primitive_t *r, const dnnl_memory_desc_t *src,
                                  const dnnl_memory_desc_t *dst, int sum, size_t *rpad)
{
    dnnl_primitive_attr_t a = make_attr(SCORR_PREC_F32, sum);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = a ? dnnl_reorder_primitive_desc_create(&pd, src, scorr_dnnl_engine(), dst,
                                                              scorr_dnnl_engine(), a)
                         : dnnl_out_of_memory;
    if (a) dnnl_primitive_attr_destroy(a);
    if (st != dnnl_success) return st;
    size_t b = scratchpad_bytes(pd);
    if (b > *rpad) *rpad = b;
    st = dnnl_primitive_create(r, pd);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* output: 0 input, 1 output SET only, 2 output that may ADD, 3 input kept
 * converted across calls (bf16 weights: allocated here, once) */
static dnnl_status_t opnd_init(struct opnd *o, const dnnl_memory_desc_t *user_md,
                               const dnnl_memory_desc_t *prim_md, int output, size_t *rpad)
{
    dnnl_status_t st;
    memset(o, 0, sizeof *o);
    o->md = *prim_md;
    o->direct = dnnl_memory_desc_equal(user_md, prim_md);
    if ((st = mem(&o->user, user_md)) != dnnl_success) return st;
    if (output == 3 && !o->direct) {
        o->persist = 1;
        st = dnnl_memory_create(&o->prim, prim_md, scorr_dnnl_engine(), DNNL_MEMORY_ALLOCATE);
        if (st != dnnl_success) return st;
        return make_reorder(&o->to_prim, user_md, prim_md, 0, rpad);
    }
    if (!o->direct || output == 2) {
        if ((st = mem(&o->prim, prim_md)) != dnnl_success) return st;
        o->bytes = scorr_dnnl_round(md_bytes(prim_md));
    }
    if (!o->direct) {
        st = output ? make_reorder(&o->to_user, prim_md, user_md, 0, rpad)
                    : make_reorder(&o->to_prim, user_md, prim_md, 0, rpad);
        if (st != dnnl_success) return st;
    }
    if (output == 2) st = make_reorder(&o->add_user, prim_md, user_md, 1, rpad);
    return st;
}

static void opnd_free(struct opnd *o)
{
    if (o->user) dnnl_memory_destroy(o->user);
    if (o->prim && !o->shared) dnnl_memory_destroy(o->prim);
    if (o->to_prim) dnnl_primitive_destroy(o->to_prim);
    if (o->to_user) dnnl_primitive_destroy(o->to_user);
    if (o->add_user) dnnl_primitive_destroy(o->add_user);
    memset(o, 0, sizeof *o);
}

/* The first implementation oneDNN offers, except one whose name starts with
 * `avoid` (NULL = take the first). */
static dnnl_status_t create_pd(dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t desc,
                               dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint,
                               const char *avoid)
{
    *pd = NULL;
    if (!avoid) return dnnl_primitive_desc_create(pd, desc, attr, scorr_dnnl_engine(), hint);
    dnnl_primitive_desc_iterator_t it = NULL;
    dnnl_status_t st =
        dnnl_primitive_desc_iterator_create(&it, desc, attr, scorr_dnnl_engine(), hint);
    if (st != dnnl_success) return st;
    do {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        const char *name = NULL;
        if (!cand) continue;
        dnnl_primitive_desc_query(cand, dnnl_query_impl_info_str, 0, &name);
        if (name && strncmp(name, avoid, strlen(avoid)) == 0) {
            dnnl_primitive_desc_destroy(cand);
            continue;
        }
        *pd = cand;
        break;
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return *pd ? dnnl_success : dnnl_unimplemented;
}

static int check_shape(const struct scorr_conv2d_shape *s, const char *desc)
{
    int err = 0;
    SCORR_REQUIRE(s->n > 0 && s->h > 0 && s->w > 0 && s->c > 0 && s->k > 0, SCORR_EINVAL,
                  "conv2d %s: sizes must be positive", desc);
    SCORR_REQUIRE(s->kh > 0 && s->kw > 0 && s->stride > 0 && s->pad >= 0, SCORR_EINVAL,
                  "conv2d %s: kernel and stride must be positive, pad >= 0", desc);
    SCORR_REQUIRE(s->h + 2 * s->pad >= s->kh && s->w + 2 * s->pad >= s->kw, SCORR_EINVAL,
                  "conv2d %s: the padded input is smaller than the kernel", desc);
    SCORR_REQUIRE(s->prec == SCORR_PREC_F32 || s->prec == SCORR_PREC_BF16, SCORR_EINVAL,
                  "conv2d %s: unknown precision %d", desc, (int)s->prec);
    for (int i = 0; i < 3; i++) {
        SCORR_REQUIRE(s->algo[i] >= SCORR_CONV_AUTO && s->algo[i] <= SCORR_CONV_WINOGRAD,
                      SCORR_EINVAL, "conv2d %s: unknown algorithm %d", desc, (int)s->algo[i]);
        SCORR_REQUIRE(s->algo[i] != SCORR_CONV_GEMM || s->prec == SCORR_PREC_F32, SCORR_EINVAL,
                      "conv2d %s: the GEMM algorithm computes in float32 only", desc);
        SCORR_REQUIRE(s->algo[i] != SCORR_CONV_WINOGRAD || scorr_conv_wino_eligible(s),
                      SCORR_EINVAL,
                      "conv2d %s: the Winograd algorithm needs a 3x3 kernel, stride 1, pad 1 "
                      "and float32", desc);
    }
done:
    return err;
}

/* Create one oneDNN pass. */
static int make_pass(struct scorr_conv2d *cv, int which, const struct scorr_conv2d_shape *s,
                     const char *desc, size_t *rpad)
{
    int err = 0;
    struct scorr_conv2d_impl *im = cv->impl;
    struct pass *ps = &im->p[which];
    dnnl_primitive_attr_t attr = NULL;
    /* the forward hint a backward pass may create; declared before the
     * first jump to done, which destroys it */
    dnnl_primitive_desc_t hint_pd = NULL;
    dnnl_convolution_desc_t cd;
    dnnl_dims_t dx = {s->n, s->c, s->h, s->w}, dy = {s->n, s->k, cv->ho, cv->wo};
    dnnl_dims_t dw = {s->k, s->c, s->kh, s->kw};
    dnnl_dims_t strides = {s->stride, s->stride}, pad = {s->pad, s->pad};
    /* right padding so the output is exactly ho x wo (PyTorch drops what a
     * stride does not reach; may be negative) */
    dnnl_dims_t pad_r = {(cv->ho - 1) * s->stride + s->kh - s->h - s->pad,
                         (cv->wo - 1) * s->stride + s->kw - s->w - s->pad};
    dnnl_memory_desc_t mx, my, mw, fx, fy, fw;
    const dnnl_format_tag_t act = ps->algo == SCORR_CONV_DNNL_ANY ? dnnl_format_tag_any : dnnl_nhwc;
    /* bf16: each pass reads bf16 (activations converted in scratch, weights
     * from the copies scorr_conv2d_prepare makes) and writes f32, accumulated
     * in f32 by oneDNN: forward src/wei bf16, dst f32; backward-data
     * diff_dst/wei bf16, diff_src f32; backward-weights src/diff_dst bf16,
     * diff_wei f32 */
    const dnnl_data_type_t lo = s->prec == SCORR_PREC_BF16 ? dnnl_bf16 : dnnl_f32;
    const dnnl_data_type_t tx = which == SCORR_CONV_PASS_BWD_DATA ? dnnl_f32 : lo;
    const dnnl_data_type_t ty = which == SCORR_CONV_PASS_FWD ? dnnl_f32 : lo;
    const dnnl_data_type_t tw = which == SCORR_CONV_PASS_BWD_WEIGHTS ? dnnl_f32 : lo;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&mx, 4, dx, tx, act), "a memory descriptor");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&my, 4, dy, ty, act), "a memory descriptor");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&mw, 4, dw, tw, dnnl_format_tag_any),
             "a memory descriptor");
    /* the forward pass's descriptors, for the hint of a backward pass */
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&fx, 4, dx, lo, act), "a memory descriptor");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&fy, 4, dy, dnnl_f32, act), "a memory descriptor");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&fw, 4, dw, lo, dnnl_format_tag_any),
             "a memory descriptor");
    attr = make_attr(s->prec, 0);
    SCORR_REQUIRE(attr, SCORR_EINTERNAL, "conv2d %s: oneDNN cannot create attributes", desc);
    const dnnl_memory_desc_t *bias = s->bias ? &im->md_b : NULL;
    const char *avoid = NULL;
    if (which == SCORR_CONV_PASS_FWD) {
        dnnl_prop_kind_t prop = cv->flags ? dnnl_forward_training : dnnl_forward_inference;
        DNNL_TRY(dnnl_convolution_forward_desc_init(&cd, prop, dnnl_convolution_direct, &mx, &mw,
                                                    bias, &my, strides, pad, pad_r),
                 "the forward descriptor");
    } else if (which == SCORR_CONV_PASS_BWD_DATA) {
        DNNL_TRY(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &mx, &mw,
                                                          &my, strides, pad, pad_r),
                 "the backward-data descriptor");
    } else {
        /* no bias here: scorr_conv_bias_grad sums dy itself */
        DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &mx,
                                                             &mw, NULL, &my, strides, pad, pad_r),
                 "the backward-weights descriptor");
        /* oneDNN 2.6.3's jit_1x1:avx2 backward-weights kernel gives wrong
         * weight gradients with more than one thread for strided 1x1 convs
         * whose input channels are not a multiple of 8 (measured: C = 1..5,
         * stride 2; test_bb_conv's grid checks it at 2 threads): take the
         * next implementation there. */
        if (s->kh == 1 && s->kw == 1 && s->stride > 1 && s->c % 8) avoid = "jit_1x1";
    }
    /* backward passes need a forward hint; the forward pass has the same
     * algorithm family, created first */
    const_dnnl_primitive_desc_t hint = NULL;
    if (which != SCORR_CONV_PASS_FWD) {
        if (im->p[0].pd && im->p[0].algo == ps->algo) {
            hint = im->p[0].pd;
        } else {
            dnnl_convolution_desc_t fd;
            DNNL_TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                        dnnl_convolution_direct, &fx, &fw, bias,
                                                        &fy, strides, pad, pad_r),
                     "the forward hint");
            DNNL_TRY(dnnl_primitive_desc_create(&hint_pd, &fd, attr, scorr_dnnl_engine(), NULL),
                     "the forward hint");
            hint = hint_pd;
        }
    }
    DNNL_TRY(create_pd(&ps->pd, &cd, attr, hint, avoid), "the primitive");
    DNNL_TRY(dnnl_primitive_create(&ps->prim, ps->pd), "the primitive");
    ps->pad_bytes = scorr_dnnl_round(scratchpad_bytes(ps->pd));
    DNNL_TRY(mem(&ps->pad, dnnl_primitive_desc_query_md(ps->pd, dnnl_query_scratchpad_md, 0)),
             "a memory object");
#define Q(what) dnnl_primitive_desc_query_md(ps->pd, (what), 0)
    const int wk = s->prec == SCORR_PREC_BF16 ? 3 : 0; /* weights kept converted */
    if (which == SCORR_CONV_PASS_FWD) {
        DNNL_TRY(opnd_init(&ps->a[0], &im->md_x, Q(dnnl_query_src_md), 0, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[1], &im->md_w, Q(dnnl_query_weights_md), wk, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[2], &im->md_y, Q(dnnl_query_dst_md), 1, rpad), "a reorder");
    } else if (which == SCORR_CONV_PASS_BWD_DATA) {
        DNNL_TRY(opnd_init(&ps->a[0], &im->md_y, Q(dnnl_query_diff_dst_md), 0, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[1], &im->md_w, Q(dnnl_query_weights_md), wk, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[2], &im->md_x, Q(dnnl_query_diff_src_md), 2, rpad), "a reorder");
        /* one bf16 copy of the weights when both passes want the same layout */
        struct opnd *fw0 = &im->p[0].a[1], *bw = &ps->a[1];
        if (bw->persist && fw0->persist && dnnl_memory_desc_equal(&fw0->md, &bw->md)) {
            dnnl_memory_destroy(bw->prim);
            bw->prim = fw0->prim;
            bw->shared = 1;
        }
    } else {
        DNNL_TRY(opnd_init(&ps->a[0], &im->md_y, Q(dnnl_query_diff_dst_md), 0, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[1], &im->md_x, Q(dnnl_query_src_md), 0, rpad), "a reorder");
        DNNL_TRY(opnd_init(&ps->a[2], &im->md_w, Q(dnnl_query_diff_weights_md), 2, rpad),
                 "a reorder");
    }
#undef Q
    ps->need = ps->a[0].bytes + ps->a[1].bytes + ps->a[2].bytes + ps->pad_bytes;
    const char *name = NULL;
    dnnl_primitive_desc_query(ps->pd, dnnl_query_impl_info_str, 0, &name);
    int reorders = !ps->a[0].direct || !ps->a[1].direct || !ps->a[2].direct;
    /* the data type the primitive reads, from its own descriptor */
    const dnnl_memory_desc_t *in = dnnl_primitive_desc_query_md(
        ps->pd, which == SCORR_CONV_PASS_FWD ? dnnl_query_src_md : dnnl_query_diff_dst_md, 0);
    snprintf(im->names[which], sizeof im->names[which], "%s%s%s", name ? name : "?",
             ps->algo == SCORR_CONV_DNNL_ANY && reorders ? "+reorders" : "",
             in && in->data_type == dnnl_bf16 ? " [bf16]" : "");
done:
    if (hint_pd) dnnl_primitive_desc_destroy(hint_pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return err;
}

int scorr_conv2d_create(struct scorr_conv2d *cv, const struct scorr_conv2d_shape *s,
                        unsigned flags)
{
    int err = 0;
    char desc[192];
    size_t rpad = 0;
    struct scorr_conv2d_impl *im = NULL;
    memset(cv, 0, sizeof *cv);
    describe(desc, sizeof desc, s);
    SCORR_TRY(check_shape(s, desc));
    SCORR_TRY(scorr_dnnl_init());
    im = calloc(1, sizeof *im);
    SCORR_REQUIRE(im, SCORR_ENOMEM, "conv2d %s: out of memory", desc);
    cv->impl = im;
    cv->s = *s;
    cv->s.prec = scorr_precision_resolve(s->prec);
    s = &cv->s;
    cv->flags = flags;
    cv->ho = scorr_conv2d_out(s->h, s->kh, s->stride, s->pad);
    cv->wo = scorr_conv2d_out(s->w, s->kw, s->stride, s->pad);
    const int pointwise = s->kh == 1 && s->kw == 1 && s->pad == 0;
    const int wino = !s->no_winograd && scorr_conv_wino_eligible(s) && s->c >= WINO_MIN_C &&
                     s->k >= WINO_MIN_C;
    default_policy();
    for (int i = 0; i < 3; i++) {
        enum scorr_conv_algo a = s->algo[i];
        if (a == SCORR_CONV_AUTO && s->prec == SCORR_PREC_BF16) a = g_policy.bf16[i];
        if (a == SCORR_CONV_AUTO) {
            a = pointwise ? g_policy.pointwise[i] : g_policy.spatial[i];
            if (a == SCORR_CONV_GEMM && !pointwise && s->c < GEMM_MIN_SPATIAL_C)
                a = SCORR_CONV_DNNL_ANY;
            if (wino && g_policy.winograd3x3[i] != SCORR_CONV_AUTO) a = g_policy.winograd3x3[i];
            if (a == SCORR_CONV_WINOGRAD && !scorr_conv_wino_eligible(s)) a = SCORR_CONV_DNNL_ANY;
        }
        if (a == SCORR_CONV_GEMM && s->prec != SCORR_PREC_F32) a = SCORR_CONV_DNNL_ANY;
        cv->s.algo[i] = a;
        im->p[i].algo = a;
    }
    struct scorr_conv2d_impl *found = find_shared(cv);
    if (found) {
        free(im);
        cv->impl = found;
        cv->scratch = found->scratch;
        return 0;
    }
    dnnl_dims_t dx = {s->n, s->c, s->h, s->w}, dy = {s->n, s->k, cv->ho, cv->wo};
    dnnl_dims_t dw = {s->k, s->c, s->kh, s->kw}, db = {s->k};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&im->md_x, 4, dx, dnnl_f32, dnnl_nhwc), "src md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&im->md_y, 4, dy, dnnl_f32, dnnl_nhwc), "dst md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&im->md_w, 4, dw, dnnl_f32, dnnl_oihw), "weights md");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&im->md_b, 1, db, dnnl_f32, dnnl_a), "bias md");
    if (s->bias) DNNL_TRY(mem(&im->m_b, &im->md_b), "a memory object");
    const int want[3] = {1, (flags & SCORR_CONV_BWD_DATA) != 0,
                         (flags & SCORR_CONV_BWD_WEIGHTS) != 0};
    size_t need = 0;
    for (int i = 0; i < 3; i++) {
        if (!want[i]) continue;
        if (im->p[i].algo == SCORR_CONV_GEMM) {
            im->p[i].need = scorr_conv_gemm_scratch(cv, i);
            snprintf(im->names[i], sizeof im->names[i], "gemm");
        } else if (im->p[i].algo == SCORR_CONV_WINOGRAD) {
            im->p[i].need = scorr_conv_wino_scratch(cv, i);
            snprintf(im->names[i], sizeof im->names[i], "winograd F(%dx%d,3x3)",
                     scorr_conv_wino_tile(s), scorr_conv_wino_tile(s));
        } else {
            SCORR_TRY(make_pass(cv, i, s, desc, &rpad));
        }
        if (im->p[i].need > need) need = im->p[i].need;
    }
    dnnl_memory_desc_t md_r;
    dnnl_dims_t dr = {(dnnl_dim_t)(rpad ? rpad : 1)};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&md_r, 1, dr, dnnl_u8, dnnl_a), "scratchpad md");
    DNNL_TRY(mem(&im->m_rpad, &md_r), "a memory object");
    im->rpad_bytes = rpad;
    im->r_off = scorr_dnnl_round(need);
    cv->scratch = im->r_off + scorr_dnnl_round(rpad ? rpad : 1);
    /* the primitives keep what they run from: the descriptors (the backward
     * passes' hint, the queries above) are not needed after this, and each
     * holds kilobytes of heap (about 4 MiB over ResNet-101's 94 convolutions) */
    for (int i = 0; i < 3; i++)
        if (im->p[i].pd) {
            dnnl_primitive_desc_destroy(im->p[i].pd);
            im->p[i].pd = NULL;
        }
    im->refs = 1;
    if (s->prec == SCORR_PREC_F32) {
        im->key = cv->s;
        im->key_flags = flags;
        im->scratch = cv->scratch;
        pthread_mutex_lock(&g_shared_lock);
        im->next = g_shared;
        g_shared = im;
        pthread_mutex_unlock(&g_shared_lock);
    }
done:
    if (err) scorr_conv2d_free(cv);
    return err;
}

void scorr_conv2d_free(struct scorr_conv2d *cv)
{
    struct scorr_conv2d_impl *im = cv->impl;
    if (!im) return;
    cv->impl = NULL;
    pthread_mutex_lock(&g_shared_lock);
    int last = --im->refs <= 0;
    if (last)
        for (struct scorr_conv2d_impl **p = &g_shared; *p; p = &(*p)->next)
            if (*p == im) {
                *p = im->next;
                break;
            }
    pthread_mutex_unlock(&g_shared_lock);
    if (!last) return;
    for (int i = 0; i < 3; i++) {
        struct pass *ps = &im->p[i];
        if (ps->prim) dnnl_primitive_destroy(ps->prim);
        if (ps->pd) dnnl_primitive_desc_destroy(ps->pd);
        if (ps->pad) dnnl_memory_destroy(ps->pad);
        for (int k = 0; k < 3; k++) opnd_free(&ps->a[k]);
    }
    if (im->m_b) dnnl_memory_destroy(im->m_b);
    if (im->m_rpad) dnnl_memory_destroy(im->m_rpad);
    free(im);
    cv->impl = NULL;
}

const char *scorr_conv2d_impl_name(const struct scorr_conv2d *cv, int pass)
{
    if (!cv->impl || pass < 0 || pass > 2) return "";
    return cv->impl->names[pass];
}

static void set(dnnl_memory_t m, const void *p)
{
    dnnl_status_t st = dnnl_memory_set_data_handle(m, (void *)p);
    SCORR_ASSERT(st == dnnl_success);
}

static void reorder(struct scorr_conv2d_impl *im, dnnl_primitive_t r, dnnl_memory_t from,
                    dnnl_memory_t to)
{
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to},
                           {DNNL_ARG_SCRATCHPAD, im->m_rpad}};
    scorr_dnnl_run(r, 3, a, "conv2d reorder");
}

/* Run a oneDNN pass. ptr: the caller's tensors for the three operands;
 * add: the output is added into ptr[2]; have0: operand 0's scratch copy is
 * already in place (the other backward pass made it). */
static void run_pass(struct scorr_conv2d_impl *im, struct pass *ps, char *sc, const void *ptr[3],
                     int add, int have0, int extra_arg, dnnl_memory_t extra_mem)
{
    static const int ids[3][3] = {
        {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
        {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
        {DNNL_ARG_DIFF_DST, DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS}};
    const int which = (int)(ps - im->p);
    size_t off = 0;
    dnnl_exec_arg_t args[5];
    for (int k = 0; k < 3; k++) {
        struct opnd *o = &ps->a[k];
        set(o->user, ptr[k]);
        if (o->prim && !o->persist) set(o->prim, sc + off);
        off += o->bytes;
        if (k < 2 && !o->direct && !o->persist && !(k == 0 && have0))
            reorder(im, o->to_prim, o->user, o->prim);
        int use_prim = !o->direct || (k == 2 && add);
        args[k] = (dnnl_exec_arg_t){ids[which][k], use_prim ? o->prim : o->user};
    }
    set(ps->pad, sc + off);
    args[3] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, ps->pad};
    int nargs = 4;
    if (extra_mem) args[nargs++] = (dnnl_exec_arg_t){extra_arg, extra_mem};
    scorr_dnnl_run(ps->prim, nargs, args, "conv2d");
    struct opnd *o = &ps->a[2];
    if (add)
        reorder(im, o->add_user, o->prim, o->user);
    else if (!o->direct)
        reorder(im, o->to_user, o->prim, o->user);
}

void scorr_conv2d_prepare(struct scorr_conv2d *cv, const float *w, void *scratch)
{
    struct scorr_conv2d_impl *im = cv->impl;
    SCORR_ASSERT(im && w && scratch && ((uintptr_t)scratch & 63) == 0);
    if (cv->s.prec != SCORR_PREC_BF16) return;
    set(im->m_rpad, (char *)scratch + im->r_off);
    for (int i = 0; i < 2; i++) {
        struct opnd *o = &im->p[i].a[1];
        if (!o->persist || o->shared) continue;
        set(o->user, w);
        reorder(im, o->to_prim, o->user, o->prim);
    }
    im->prepared = 1;
}

void scorr_conv2d_forward(struct scorr_conv2d *cv, float *y, const float *x, const float *w,
                          const float *b, void *scratch)
{
    struct scorr_conv2d_impl *im = cv->impl;
    SCORR_ASSERT(im && y && x && w && scratch && ((uintptr_t)scratch & 63) == 0);
    SCORR_ASSERT(cv->s.prec != SCORR_PREC_BF16 || im->prepared);
    SCORR_ASSERT(!cv->s.bias == !b);
    if (im->p[0].algo == SCORR_CONV_GEMM) {
        scorr_conv_gemm_forward(cv, y, x, w, b, scratch);
        return;
    }
    if (im->p[0].algo == SCORR_CONV_WINOGRAD) {
        scorr_conv_wino_forward(cv, y, x, w, b, scratch);
        return;
    }
    set(im->m_rpad, (char *)scratch + im->r_off);
    if (b) set(im->m_b, b);
    const void *ptr[3] = {x, w, y};
    run_pass(im, &im->p[0], scratch, ptr, 0, 0, DNNL_ARG_BIAS, b ? im->m_b : NULL);
}

void scorr_conv2d_backward(struct scorr_conv2d *cv, float *dx, float *dw, float *db,
                           const float *dy, const float *x, const float *w,
                           enum scorr_grad_mode dx_mode, void *scratch)
{
    struct scorr_conv2d_impl *im = cv->impl;
    const struct scorr_conv2d_shape *s = &cv->s;
    char *sc = scratch;
    SCORR_ASSERT(im && dy && scratch && ((uintptr_t)scratch & 63) == 0);
    set(im->m_rpad, sc + im->r_off);
    int have0 = 0;
    if (dx) {
        /* dx[n,h,w,c] (+)= sum_{k,i,j} w[k,c,i,j] * dy[n,oh,ow,k], h = oh*s - p + i */
        SCORR_ASSERT((cv->flags & SCORR_CONV_BWD_DATA) && w);
        if (im->p[1].algo == SCORR_CONV_GEMM) {
            scorr_conv_gemm_backward_data(cv, dx, dy, w, dx_mode, scratch);
        } else if (im->p[1].algo == SCORR_CONV_WINOGRAD) {
            scorr_conv_wino_backward_data(cv, dx, dy, w, dx_mode, scratch);
        } else {
            const void *ptr[3] = {dy, w, dx};
            run_pass(im, &im->p[1], sc, ptr, dx_mode == SCORR_GRAD_ADD, 0, 0, NULL);
            have0 = !im->p[1].a[0].direct;
        }
    }
    if (dw || db) {
        /* dw[k,c,i,j] += sum_{n,oh,ow} dy[n,oh,ow,k] * x[n, oh*s-p+i, ow*s-p+j, c];
         * db[k] += sum_{n,oh,ow} dy[n,oh,ow,k] */
        SCORR_ASSERT((cv->flags & SCORR_CONV_BWD_WEIGHTS) && x);
        SCORR_ASSERT(!db || s->bias);
        struct pass *ps = &im->p[2];
        if (db) scorr_conv_bias_grad(cv, db, dy);
        if (!dw) return;
        if (ps->algo == SCORR_CONV_GEMM) {
            scorr_conv_gemm_backward_weights(cv, dw, dy, x, scratch);
            return;
        }
        if (ps->algo == SCORR_CONV_WINOGRAD) {
            scorr_conv_wino_backward_weights(cv, dw, dy, x, scratch);
            return;
        }
        /* the backward-data pass left a reordered dy at offset 0 when both
         * passes use the same layout */
        int share = have0 && !ps->a[0].direct &&
                    dnnl_memory_desc_equal(&ps->a[0].md, &im->p[1].a[0].md);
        const void *ptr[3] = {dy, x, dw};
        run_pass(im, ps, sc, ptr, 1, share, 0, NULL);
    }
}
