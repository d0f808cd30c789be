/* Antialiased bilinear resize, bit-compatible with PIL's ImagingResample for
 * 8-bit images (Pillow's Resample.c: precompute_coeffs, normalize_coeffs_8bpc,
 * ImagingResampleHorizontal_8bpc / Vertical_8bpc). The reference code resizes
 * with PIL, so packed images match what its loaders feed the network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/image.h"

/* PIL: 32 bits minus 8 bits of pixel minus 2 bits of headroom. */
#define PRECISION_BITS 22

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Coefficients for one axis: for output index i, taps bounds[2i] ..
 * bounds[2i] + bounds[2i+1] - 1 with weights kk[i*ksize ..]. The support of
 * the triangle grows with the downscale factor (antialiasing); weights are
 * normalised per output and converted to rounded fixed point. */
static int axis_coeffs(int in_size, int out_size, int *ksize_out, int **bounds_out,
                       int32_t **kk_out)
{
    int err = 0;
    double *pre = NULL;
    int *bounds = NULL;
    int32_t *kk = NULL;
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale; /* the bilinear filter's support is 1 */
    int ksize = (int)ceil(support) * 2 + 1;
    pre = malloc((size_t)out_size * (size_t)ksize * sizeof *pre);
    bounds = malloc((size_t)out_size * 2 * sizeof *bounds);
    kk = malloc((size_t)out_size * (size_t)ksize * sizeof *kk);
    SCORR_REQUIRE(pre && bounds && kk, SCORR_ENOMEM, "out of memory planning a %d -> %d resize",
                  in_size, out_size);
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5); /* truncation as in PIL */
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = pre + (size_t)xx * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = triangle((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * (size_t)ksize; i++)
        kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS))
                           : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    *ksize_out = ksize;
    *bounds_out = bounds;
    *kk_out = kk;
    bounds = NULL;
    kk = NULL;
done:
    free(pre);
    free(bounds);
    free(kk);
    return err;
}

int scorr_resize_plan_init(struct scorr_resize_plan *p, int in_w, int in_h, int out_w,
                           int out_h)
{
    int err = 0;
    memset(p, 0, sizeof *p);
    SCORR_REQUIRE(in_w > 0 && in_h > 0 && out_w > 0 && out_h > 0, SCORR_EINVAL,
                  "resize: sizes must be positive, got %dx%d -> %dx%d", in_w, in_h, out_w, out_h);
    p->in_w = in_w;
    p->in_h = in_h;
    p->out_w = out_w;
    p->out_h = out_h;
    SCORR_TRY(axis_coeffs(in_w, out_w, &p->kw, &p->xb, &p->xk));
    SCORR_TRY(axis_coeffs(in_h, out_h, &p->kh, &p->yb, &p->yk));
    p->tmp = malloc((size_t)in_h * (size_t)out_w * 4);
    SCORR_REQUIRE(p->tmp, SCORR_ENOMEM, "out of memory planning a resize");
done:
    if (err) scorr_resize_plan_free(p);
    return err;
}

void scorr_resize_plan_free(struct scorr_resize_plan *p)
{
    free(p->xb);
    free(p->yb);
    free(p->xk);
    free(p->yk);
    free(p->tmp);
    memset(p, 0, sizeof *p);
}

static inline uint8_t clip8(int32_t v)
{
    v >>= PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* out (h, out_w, C) <- in (h, in_w, C) along x. */
static void pass_horizontal(const struct scorr_resize_plan *p, uint8_t *out, const uint8_t *in,
                            int h, int C)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *row = in + (size_t)y * p->in_w * C;
        uint8_t *orow = out + (size_t)y * p->out_w * C;
        for (int xx = 0; xx < p->out_w; xx++) {
            int xmin = p->xb[2 * xx], n = p->xb[2 * xx + 1];
            const int32_t *k = p->xk + (size_t)xx * p->kw;
            for (int c = 0; c < C; c++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (int x = 0; x < n; x++) ss += row[(size_t)(xmin + x) * C + c] * k[x];
                orow[(size_t)xx * C + c] = clip8(ss);
            }
        }
    }
}

/* out (out_h, w, C) <- in (in_h, w, C) along y. */
static void pass_vertical(const struct scorr_resize_plan *p, uint8_t *out, const uint8_t *in,
                          int w, int C)
{
    size_t rowlen = (size_t)w * C;
    for (int yy = 0; yy < p->out_h; yy++) {
        int ymin = p->yb[2 * yy], n = p->yb[2 * yy + 1];
        const int32_t *k = p->yk + (size_t)yy * p->kh;
        uint8_t *orow = out + (size_t)yy * rowlen;
        for (size_t e = 0; e < rowlen; e++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++) ss += in[(size_t)(ymin + y) * rowlen + e] * k[y];
            orow[e] = clip8(ss);
        }
    }
}

void scorr_resize_apply(const struct scorr_resize_plan *p, uint8_t *out, const uint8_t *in,
                        int channels)
{
    SCORR_ASSERT(channels >= 1 && channels <= 4 && p->tmp);
    int need_h = p->out_w != p->in_w, need_v = p->out_h != p->in_h;
    if (need_h && need_v) {
        pass_horizontal(p, p->tmp, in, p->in_h, channels);
        pass_vertical(p, out, p->tmp, p->out_w, channels);
    } else if (need_h) {
        pass_horizontal(p, out, in, p->in_h, channels);
    } else if (need_v) {
        pass_vertical(p, out, in, p->in_w, channels);
    } else {
        memcpy(out, in, (size_t)p->in_w * p->in_h * channels);
    }
}

int scorr_resize_u8(uint8_t *out, int out_w, int out_h, const uint8_t *in, int in_w, int in_h,
                    int channels)
{
    int err = 0;
    struct scorr_resize_plan p;
    SCORR_REQUIRE(channels >= 1 && channels <= 4, SCORR_EINVAL,
                  "resize: channels must be 1..4, got %d", channels);
    SCORR_TRY(scorr_resize_plan_init(&p, in_w, in_h, out_w, out_h));
    scorr_resize_apply(&p, out, in, channels);
    scorr_resize_plan_free(&p);
done:
    return err;
}
