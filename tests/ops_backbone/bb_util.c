#include "bb_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/arena.h"

struct bb_tensor bb_load(const struct scorr_h5 *f, const char *name)
{
    struct bb_tensor t;
    memset(&t, 0, sizeof t);
    t.d = scorr_fixture_f32(f, name, &t.ndim, t.shape);
    t.n = 1;
    for (int i = 0; i < t.ndim; i++) t.n *= (size_t)t.shape[i];
    return t;
}

void bb_nchw_to_nhwc(float *dst, const float *src, int n, int c, int h, int w)
{
    for (int a = 0; a < n; a++)
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[(((size_t)a * h + y) * w + x) * c + k] =
                        src[(((size_t)a * c + k) * h + y) * w + x];
}

void bb_nhwc_to_nchw(float *dst, const float *src, int n, int c, int h, int w)
{
    for (int a = 0; a < n; a++)
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[(((size_t)a * c + k) * h + y) * w + x] =
                        src[(((size_t)a * h + y) * w + x) * c + k];
}

struct bb_tensor bb_load_nhwc(const struct scorr_h5 *f, const char *name)
{
    struct bb_tensor t = bb_load(f, name);
    if (t.ndim != 4) {
        fprintf(stderr, "fixture %s: expected 4-D, found %d-D\n", name, t.ndim);
        exit(2);
    }
    float *d = malloc(t.n * sizeof *d);
    bb_nchw_to_nhwc(d, t.d, (int)t.shape[0], (int)t.shape[1], (int)t.shape[2], (int)t.shape[3]);
    free(t.d);
    t.d = d;
    /* shape stays NCHW: the order the fixture script wrote */
    return t;
}

void bb_free(struct bb_tensor *t)
{
    free(t->d);
    t->d = NULL;
}

int bb_close(const char *what, const float *got, const float *ref, size_t n, double rtol,
             double afrac)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(ref[i]) > mx) mx = fabs(ref[i]);
    double atol = afrac * mx;
    if (atol < 1e-30) atol = 1e-30;
    return scorr_check_close(what, got, ref, n, atol, rtol);
}

float *bb_floats(size_t n)
{
    float *p = scorr_aligned_calloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

void *bb_bytes(size_t n)
{
    void *p = scorr_aligned_calloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

void bb_load_params(const struct scorr_h5 *f, const char *group, const struct scorr_params *t,
                    float *flat, const char *strip)
{
    char name[512];
    size_t ls = strip ? strlen(strip) : 0;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        const char *nm = e->name;
        if (ls && strncmp(nm, strip, ls) == 0) nm += ls;
        snprintf(name, sizeof name, "%s/%s", group, nm);
        struct bb_tensor v = bb_load(f, name);
        if (v.n != e->numel) {
            fprintf(stderr, "fixture %s: %zu values, table entry %s has %zu\n", name, v.n,
                    e->name, e->numel);
            exit(2);
        }
        memcpy(flat + e->offset, v.d, v.n * sizeof(float));
        bb_free(&v);
    }
}

void bb_fill(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
}

double bb_fd(double (*loss)(void *), void *ctx, float *p, float h)
{
    const float save = *p;
    const float up = save + h, dn = save - h;
    *p = up;
    double lp = loss(ctx);
    *p = dn;
    double lm = loss(ctx);
    *p = save;
    return (lp - lm) / ((double)up - (double)dn);
}

void bb_fd_check(const char *what, size_t idx, double fd, double an, double tol)
{
    double scale = fabs(fd) > fabs(an) ? fabs(fd) : fabs(an);
    if (scale < 1) scale = 1;
    scorr_test_checks++;
    if (!(fabs(fd - an) <= tol * scale)) {
        scorr_test_failures++;
        fprintf(stderr, "FAIL finite difference %s[%zu]: numeric %.8g, analytic %.8g\n", what, idx,
                fd, an);
    }
}

double bb_dot(const float *y, const float *w, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * (double)w[i];
    return s;
}
