/* bf16 GEMMs through oneDNN's matmul (include/scorr/matmul_bf16.h). */
#include "scorr/matmul_bf16.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dnnl_ctx.h"
#include "scorr/error.h"

struct scorr_mm_bf16 {
    struct scorr_mm_bf16_shape s;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, pad; /* handles only: the caller's pointers, set per run */
    size_t pad_bytes;
    char name[64];
};

#define DNNL_TRY(expr, what)                                                                   \
    do {                                                                                       \
        dnnl_status_t st_ = (expr);                                                            \
        if (st_ != dnnl_success)                                                               \
            SCORR_FAIL(SCORR_EINTERNAL,                                                        \
                       "bf16 matmul (%c%c, m %d, n %d, k %d): oneDNN cannot create %s: %s",    \
                       s->ta, s->tb, s->m, s->n, s->k, (what), scorr_dnnl_status_str(st_));    \
    } while (0)

/* A row-major (rows, cols) operand stored as given ('N') or as its
 * transpose with row stride ld ('T'). */
static dnnl_status_t operand_md(dnnl_memory_desc_t *md, int rows, int cols, char t, int ld,
                                dnnl_data_type_t dt)
{
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {ld, 1};
    if (t == 'T') {
        strides[0] = 1;
        strides[1] = ld;
    }
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
}

int scorr_mm_bf16_create(struct scorr_mm_bf16 **out, const struct scorr_mm_bf16_shape *s)
{
    int err = 0;
    struct scorr_mm_bf16 *mm = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    *out = NULL;
    SCORR_REQUIRE((s->ta == 'N' || s->ta == 'T') && (s->tb == 'N' || s->tb == 'T') && s->m > 0 &&
                      s->n > 0 && s->k > 0 && s->ldc >= s->n &&
                      s->lda >= (s->ta == 'N' ? s->k : s->m) &&
                      s->ldb >= (s->tb == 'N' ? s->n : s->k),
                  SCORR_EINVAL, "bf16 matmul: bad shape (%c%c, m %d, n %d, k %d, ld %d %d %d)",
                  s->ta, s->tb, s->m, s->n, s->k, s->lda, s->ldb, s->ldc);
    SCORR_TRY(scorr_dnnl_init());
    mm = calloc(1, sizeof *mm);
    SCORR_REQUIRE(mm, SCORR_ENOMEM, "bf16 matmul: out of memory");
    mm->s = *s;
    dnnl_memory_desc_t ma, mb, mc;
    DNNL_TRY(operand_md(&ma, s->m, s->k, s->ta, s->lda, dnnl_bf16), "the A descriptor");
    DNNL_TRY(operand_md(&mb, s->k, s->n, s->tb, s->ldb, dnnl_bf16), "the B descriptor");
    DNNL_TRY(operand_md(&mc, s->m, s->n, 'N', s->ldc, dnnl_f32), "the C descriptor");
    dnnl_matmul_desc_t md;
    DNNL_TRY(dnnl_matmul_desc_init(&md, &ma, &mb, NULL, &mc), "the descriptor");
    DNNL_TRY(dnnl_primitive_attr_create(&attr), "attributes");
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
             "attributes");
    if (s->accumulate) {
        DNNL_TRY(dnnl_post_ops_create(&po), "post-ops");
        DNNL_TRY(dnnl_post_ops_append_sum(po, 1.0f), "post-ops");
        DNNL_TRY(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
    }
    DNNL_TRY(dnnl_primitive_desc_create(&pd, &md, attr, scorr_dnnl_engine(), NULL),
             "the primitive");
    DNNL_TRY(dnnl_primitive_create(&mm->prim, pd), "the primitive");
    const dnnl_memory_desc_t *mpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    mm->pad_bytes = scorr_dnnl_round(mpad ? dnnl_memory_desc_get_size(mpad) : 0);
    const char *name = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    snprintf(mm->name, sizeof mm->name, "%s", name ? name : "?");
    DNNL_TRY(dnnl_memory_create(&mm->a, &ma, scorr_dnnl_engine(), DNNL_MEMORY_NONE), "memory");
    DNNL_TRY(dnnl_memory_create(&mm->b, &mb, scorr_dnnl_engine(), DNNL_MEMORY_NONE), "memory");
    DNNL_TRY(dnnl_memory_create(&mm->c, &mc, scorr_dnnl_engine(), DNNL_MEMORY_NONE), "memory");
    DNNL_TRY(dnnl_memory_create(&mm->pad, mpad, scorr_dnnl_engine(), DNNL_MEMORY_NONE), "memory");
    *out = mm;
    mm = NULL;
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    scorr_mm_bf16_free(mm);
    return err;
}

void scorr_mm_bf16_free(struct scorr_mm_bf16 *mm)
{
    if (!mm) return;
    if (mm->prim) dnnl_primitive_destroy(mm->prim);
    dnnl_memory_t m[4] = {mm->a, mm->b, mm->c, mm->pad};
    for (int i = 0; i < 4; i++)
        if (m[i]) dnnl_memory_destroy(m[i]);
    free(mm);
}

size_t scorr_mm_bf16_scratch(const struct scorr_mm_bf16 *mm) { return mm->pad_bytes; }

const char *scorr_mm_bf16_impl_name(const struct scorr_mm_bf16 *mm) { return mm->name; }

static void set(dnnl_memory_t m, const void *p)
{
    dnnl_status_t st = dnnl_memory_set_data_handle(m, (void *)p);
    SCORR_ASSERT(st == dnnl_success);
}

void scorr_mm_bf16_run(const struct scorr_mm_bf16 *mm, float *c, const uint16_t *a,
                       const uint16_t *b, void *scratch)
{
    SCORR_ASSERT(mm && c && a && b && (scratch || !mm->pad_bytes));
    set(mm->a, a);
    set(mm->b, b);
    set(mm->c, c);
    set(mm->pad, scratch);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, mm->a},
                              {DNNL_ARG_WEIGHTS, mm->b},
                              {DNNL_ARG_DST, mm->c},
                              {DNNL_ARG_SCRATCHPAD, mm->pad}};
    scorr_dnnl_run(mm->prim, 4, args, "bf16 matmul");
}

/* Round to nearest even; a NaN keeps a set mantissa bit (quiet NaN). */
static inline uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void scorr_bf16_round(uint16_t *dst, const float *src, size_t rows, size_t cols, size_t lds,
                      int nthreads)
{
    if (nthreads < 1) nthreads = 1;
    const long nr = (long)rows;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (rows * cols >= 65536)
    for (long i = 0; i < nr; i++) {
        const float *s = src + (size_t)i * lds;
        uint16_t *d = dst + (size_t)i * cols;
#pragma omp simd
        for (size_t j = 0; j < cols; j++) d[j] = to_bf16(s[j]);
    }
}
