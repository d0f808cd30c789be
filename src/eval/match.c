/* scorr_match's geometry and flow files (include/scorr/match.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/h5.h"
#include "scorr/io.h"
#include "scorr/match.h"

/* The grid coordinate of continuous pixel coordinate p of an S frame under
 * align_corners=False upsampling from G: (p + 0.5) G / S - 0.5, clamped at
 * 0 below (as PyTorch) and at G - 1 above (the edge). */
static void grid_index(float p, int G, int S, int *i0, int *i1, float *lambda)
{
    float src = ((float)G / (float)S) * (p + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    if (src > (float)(G - 1)) src = (float)(G - 1);
    int lo = (int)src;
    if (lo > G - 1) lo = G - 1;
    *i0 = lo;
    *i1 = lo < G - 1 ? lo + 1 : lo;
    *lambda = src - (float)lo;
}

void scorr_match_point(const float *flow, const struct scorr_match_geom *g, const float trg[2],
                       float src[2])
{
    const int G = g->G, S = g->S;
    float xs = trg[0] * (float)S / (float)g->trg_w, ys = trg[1] * (float)S / (float)g->trg_h;
    int x0, x1, y0, y1;
    float lx, ly;
    grid_index(xs, G, S, &x0, &x1, &lx);
    grid_index(ys, G, S, &y0, &y1, &ly);
    float d[2];
    for (int c = 0; c < 2; c++) {
        float a = flow[((size_t)y0 * G + x0) * 2 + c], b = flow[((size_t)y0 * G + x1) * 2 + c];
        float e = flow[((size_t)y1 * G + x0) * 2 + c], f = flow[((size_t)y1 * G + x1) * 2 + c];
        d[c] = ((1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * e + lx * f)) *
               ((float)S / (float)G);
    }
    src[0] = (xs + d[0]) * (float)g->src_w / (float)S;
    src[1] = (ys + d[1]) * (float)g->src_h / (float)S;
}

void scorr_match_dense(float *out, const float *flow, const struct scorr_match_geom *g)
{
    for (int y = 0; y < g->trg_h; y++)
        for (int x = 0; x < g->trg_w; x++) {
            float t[2] = {(float)x, (float)y}, s[2];
            scorr_match_point(flow, g, t, s);
            float *o = out + ((size_t)y * g->trg_w + x) * 2;
            o[0] = s[0] - (float)x;
            o[1] = s[1] - (float)y;
        }
}

#define FLO_MAGIC 202021.25f

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int scorr_flo_write(const char *path, const float *flow, int w, int h)
{
    int err = 0;
    size_t n = (size_t)w * h * 2, bytes = 12 + 4 * n;
    unsigned char *buf = malloc(bytes);
    SCORR_REQUIRE(buf, SCORR_ENOMEM, "out of memory for a %d x %d flow", w, h);
    put_u32(buf, f2u(FLO_MAGIC));
    put_u32(buf + 4, (uint32_t)w);
    put_u32(buf + 8, (uint32_t)h);
    for (size_t i = 0; i < n; i++) put_u32(buf + 12 + 4 * i, f2u(flow[i]));
    SCORR_TRY(scorr_write_file_atomic(path, buf, bytes));
done:
    free(buf);
    return err;
}

int scorr_flo_read(const char *path, float **flow, int *w, int *h)
{
    int err = 0;
    char *data = NULL;
    size_t len = 0;
    *flow = NULL;
    SCORR_TRY(scorr_read_file(path, &data, &len));
    const unsigned char *p = (const unsigned char *)data;
    SCORR_REQUIRE(len >= 12 && u2f(get_u32(p)) == FLO_MAGIC, SCORR_EFORMAT,
                  "'%s' is not a Middlebury .flo file (expected the tag PIEH / 202021.25)", path);
    uint32_t W = get_u32(p + 4), H = get_u32(p + 8);
    SCORR_REQUIRE(W > 0 && H > 0 && W < 100000 && H < 100000 &&
                      len == 12 + (size_t)W * H * 2 * 4,
                  SCORR_EFORMAT, "'%s': a %u x %u flow needs %zu bytes, the file has %zu", path, W,
                  H, 12 + (size_t)W * H * 2 * 4, len);
    *flow = malloc((size_t)W * H * 2 * sizeof(float));
    SCORR_REQUIRE(*flow, SCORR_ENOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)W * H * 2; i++) (*flow)[i] = u2f(get_u32(p + 12 + 4 * i));
    *w = (int)W, *h = (int)H;
done:
    free(data);
    return err;
}

int scorr_match_write_h5(const char *path, const float *flow, int w, int h,
                         const char *checkpoint, const char *src_path, const char *trg_path)
{
    int err = 0;
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    SCORR_TRY(scorr_h5_create(&f, path));
    int64_t dims[3] = {h, w, 2};
    SCORR_TRY(scorr_h5_write(&f, "/flow", SCORR_F32, 3, dims, flow, 0, 0));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "format", "scorr-flow"));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "version", 1));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "convention",
                                    "target pixel (x, y) matches source pixel (x + flow[y, x, 0], "
                                    "y + flow[y, x, 1]), original pixels, centres at integers"));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "checkpoint", checkpoint ? checkpoint : ""));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "source", src_path ? src_path : ""));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "target", trg_path ? trg_path : ""));
    SCORR_TRY(scorr_h5_commit(&f));
done:
    if (err) scorr_h5_close(&f);
    return err;
}

int scorr_match_parse_points(const char *text, float *pts, int max, int *n)
{
    int err = 0;
    const char *p = text;
    *n = 0;
    while (*p) {
        char *end;
        float v[2];
        for (int c = 0; c < 2; c++) {
            v[c] = strtof(p, &end);
            SCORR_REQUIRE(end != p && isfinite(v[c]), SCORR_EINVAL,
                          "--points: expected 'x,y;x,y;...', found '%s' (at '%s')", text, p);
            p = end;
            if (c == 0) {
                SCORR_REQUIRE(*p == ',', SCORR_EINVAL,
                              "--points: expected ',' between x and y in '%s' (at '%s')", text, p);
                p++;
            }
        }
        SCORR_REQUIRE(*n < max, SCORR_EINVAL, "--points: at most %d points", max);
        pts[2 * *n] = v[0], pts[2 * *n + 1] = v[1];
        (*n)++;
        SCORR_REQUIRE(*p == '\0' || *p == ';', SCORR_EINVAL,
                      "--points: expected ';' between points in '%s' (at '%s')", text, p);
        if (*p == ';') p++;
    }
    SCORR_REQUIRE(*n > 0, SCORR_EINVAL, "--points: no point in '%s'", text);
done:
    return err;
}
