/* conv2d forward / backward-data / backward-weights against PyTorch
 * (float64 references), SET and ADD gradient modes, and finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bb_util.h"
#include "scorr/arena.h"
#include "scorr/conv.h"

#define RTOL 1e-4
#define AFRAC 1e-5

static const char *algo_name[5] = {"auto", "dnnl-nhwc", "dnnl-any", "gemm", "winograd"};

static void parity(const char *file, enum scorr_conv_algo algo)
{
    struct scorr_h5 f;
    char what[256];
    scorr_fixture_open(&f, file);
    struct bb_tensor x = bb_load_nhwc(&f, "x"), w = bb_load(&f, "w"), dout = bb_load_nhwc(&f, "dout");
    struct bb_tensor y = bb_load_nhwc(&f, "y"), dx = bb_load_nhwc(&f, "dx"), dw = bb_load(&f, "dw");
    const int bias = (int)scorr_fixture_int(&f, "bias");
    struct bb_tensor b = {0}, db = {0};
    if (bias) {
        b = bb_load(&f, "b");
        db = bb_load(&f, "db");
    }
    struct scorr_conv2d_shape s = {.n = (int)x.shape[0], .c = (int)x.shape[1],
                                   .h = (int)x.shape[2], .w = (int)x.shape[3],
                                   .k = (int)w.shape[0], .kh = (int)w.shape[2],
                                   .kw = (int)w.shape[3],
                                   .stride = (int)scorr_fixture_int(&f, "stride"),
                                   .pad = (int)scorr_fixture_int(&f, "pad"), .bias = bias,
                                   .prec = SCORR_PREC_F32, .algo = {algo, algo, algo}};
    struct scorr_conv2d cv;
    CHECK_OK(scorr_conv2d_create(&cv, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
    CHECK(cv.ho == y.shape[2] && cv.wo == y.shape[3], "%s: output %dx%d, PyTorch %lldx%lld", file,
          cv.ho, cv.wo, (long long)y.shape[2], (long long)y.shape[3]);
    printf("%s (%s): fwd %s, bwd-data %s, bwd-weights %s\n", file, algo_name[algo],
           scorr_conv2d_impl_name(&cv, 0),
           scorr_conv2d_impl_name(&cv, 1), scorr_conv2d_impl_name(&cv, 2));
    void *scr = bb_bytes(cv.scratch);
    float *gy = bb_floats(y.n), *gdx = bb_floats(dx.n), *gdw = bb_floats(dw.n);
    float *gdb = bb_floats(bias ? db.n : 1);
    scorr_conv2d_forward(&cv, gy, x.d, w.d, bias ? b.d : NULL, scr);
    snprintf(what, sizeof what, "%s [%s] y", file, algo_name[algo]);
    bb_close(what, gy, y.d, y.n, RTOL, AFRAC);

    /* SET: dx overwritten (garbage before), dw/db added to zero */
    for (size_t i = 0; i < dx.n; i++) gdx[i] = 1e6f;
    scorr_conv2d_backward(&cv, gdx, gdw, bias ? gdb : NULL, dout.d, x.d, w.d, SCORR_GRAD_SET, scr);
    snprintf(what, sizeof what, "%s [%s] dx", file, algo_name[algo]);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s [%s] dw", file, algo_name[algo]);
    bb_close(what, gdw, dw.d, dw.n, RTOL, AFRAC);
    if (bias) {
        snprintf(what, sizeof what, "%s [%s] db", file, algo_name[algo]);
        bb_close(what, gdb, db.d, db.n, RTOL, AFRAC);
    }
    /* ADD: a second backward adds the same gradients again */
    scorr_conv2d_backward(&cv, gdx, gdw, bias ? gdb : NULL, dout.d, x.d, w.d, SCORR_GRAD_ADD, scr);
    for (size_t i = 0; i < dx.n; i++) dx.d[i] *= 2;
    for (size_t i = 0; i < dw.n; i++) dw.d[i] *= 2;
    for (size_t i = 0; bias && i < db.n; i++) db.d[i] *= 2;
    snprintf(what, sizeof what, "%s [%s] dx (ADD)", file, algo_name[algo]);
    bb_close(what, gdx, dx.d, dx.n, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s [%s] dw (ADD)", file, algo_name[algo]);
    bb_close(what, gdw, dw.d, dw.n, RTOL, AFRAC);
    if (bias) {
        snprintf(what, sizeof what, "%s [%s] db (ADD)", file, algo_name[algo]);
        bb_close(what, gdb, db.d, db.n, RTOL, AFRAC);
    }
    /* NULL dx: weights only; NULL dw: data only (must not touch the other) */
    memset(gdw, 0, dw.n * sizeof(float));
    scorr_conv2d_backward(&cv, NULL, gdw, NULL, dout.d, x.d, w.d, SCORR_GRAD_SET, scr);
    for (size_t i = 0; i < dw.n; i++) dw.d[i] *= 0.5f;
    snprintf(what, sizeof what, "%s [%s] dw (dx NULL)", file, algo_name[algo]);
    bb_close(what, gdw, dw.d, dw.n, RTOL, AFRAC);

    scorr_aligned_free(scr);
    scorr_aligned_free(gy);
    scorr_aligned_free(gdx);
    scorr_aligned_free(gdw);
    scorr_aligned_free(gdb);
    struct bb_tensor *all[] = {&x, &w, &dout, &y, &dx, &dw, &b, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) bb_free(all[i]);
    scorr_conv2d_free(&cv);
    scorr_h5_close(&f);
}

/* Finite differences at a tiny shape: loss = sum(y * r). */
struct fd_ctx {
    struct scorr_conv2d *cv;
    float *y, *x, *w, *b, *r;
    void *scr;
};

static double conv_loss(void *p)
{
    struct fd_ctx *c = p;
    scorr_conv2d_forward(c->cv, c->y, c->x, c->w, c->b, c->scr);
    return bb_dot(c->y, c->r, (size_t)c->cv->s.n * c->cv->ho * c->cv->wo * c->cv->s.k);
}

static void finite_differences(void)
{
    struct scorr_conv2d_shape s = {.n = 2, .h = 6, .w = 5, .c = 3, .k = 4, .kh = 3, .kw = 3,
                                   .stride = 2, .pad = 1, .bias = 1};
    struct scorr_conv2d cv;
    CHECK_OK(scorr_conv2d_create(&cv, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
    size_t nx = (size_t)s.n * s.h * s.w * s.c, nw = (size_t)s.k * s.c * 9;
    size_t ny = (size_t)s.n * cv.ho * cv.wo * s.k;
    struct fd_ctx c = {&cv, bb_floats(ny), bb_floats(nx), bb_floats(nw), bb_floats(s.k),
                       bb_floats(ny), bb_bytes(cv.scratch)};
    bb_fill(c.x, nx, 1);
    bb_fill(c.w, nw, 2);
    bb_fill(c.b, (size_t)s.k, 3);
    bb_fill(c.r, ny, 4);
    float *dx = bb_floats(nx), *dw = bb_floats(nw), *db = bb_floats(s.k);
    conv_loss(&c);
    scorr_conv2d_backward(&cv, dx, dw, db, c.r, c.x, c.w, SCORR_GRAD_SET, c.scr);
    /* the conv is linear in each argument: differences are exact up to rounding */
    for (size_t i = 0; i < nx; i += 7)
        bb_fd_check("conv dx", i, bb_fd(conv_loss, &c, &c.x[i], 0.05f), dx[i], 1e-3);
    for (size_t i = 0; i < nw; i += 5)
        bb_fd_check("conv dw", i, bb_fd(conv_loss, &c, &c.w[i], 0.05f), dw[i], 1e-3);
    for (int i = 0; i < s.k; i++)
        bb_fd_check("conv db", (size_t)i, bb_fd(conv_loss, &c, &c.b[i], 0.05f), db[i], 1e-3);
    float *bufs[] = {c.y, c.x, c.w, c.b, c.r, dx, dw, db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) scorr_aligned_free(bufs[i]);
    scorr_aligned_free(c.scr);
    scorr_conv2d_free(&cv);
}

/* A direct-loop reference over small channel counts, strides and odd
 * sizes, run with 2 OpenMP threads (the CMake test sets them): oneDNN 2.6.3
 * picks kernels by shape and thread count, and one of them (strided 1x1
 * backward-weights with C % 8 != 0) is wrong with more than one thread; the
 * conv avoids it and this grid keeps it honest. */
static void naive_grid(enum scorr_conv_algo algo)
{
    const int cs[] = {1, 3, 4, 12, 16}, ks[] = {2, 8, 12};
    int cases = 0;
    for (int ci = 0; ci < 5; ci++)
        for (int ki = 0; ki < 3; ki++)
            for (int kern = 1; kern <= 3; kern += 2)
                for (int st = 1; st <= 2; st++)
                    for (int odd = 0; odd <= 1; odd++) {
                    const int N = 2, H = 8 + odd, W = 8 - odd, C = cs[ci], K = ks[ki], p = kern / 2;
                    struct scorr_conv2d_shape s = {.n = N, .h = H, .w = W, .c = C, .k = K,
                                                   .kh = kern, .kw = kern, .stride = st, .pad = p,
                                                   .bias = 1, .algo = {algo, algo, algo}};
                    struct scorr_conv2d cv;
                    CHECK_OK(scorr_conv2d_create(&cv, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
                    const int Ho = cv.ho, Wo = cv.wo;
                    size_t nx = (size_t)N * H * W * C, ny = (size_t)N * Ho * Wo * K;
                    size_t nw = (size_t)K * C * kern * kern;
                    float *x = bb_floats(nx), *dy = bb_floats(ny), *w = bb_floats(nw);
                    float *y = bb_floats(ny), *dx = bb_floats(nx), *dw = bb_floats(nw);
                    float *ry = bb_floats(ny), *rdx = bb_floats(nx), *rdw = bb_floats(nw);
                    float *b = bb_floats(K), *db = bb_floats(K), *rdb = bb_floats(K);
                    void *scr = bb_bytes(cv.scratch);
                    bb_fill(x, nx, 51);
                    bb_fill(dy, ny, 52);
                    bb_fill(w, nw, 53);
                    bb_fill(b, K, 54);
                    scorr_conv2d_forward(&cv, y, x, w, b, scr);
                    scorr_conv2d_backward(&cv, dx, dw, db, dy, x, w, SCORR_GRAD_SET, scr);
                    for (size_t i = 0; i < ny; i++) {
                        ry[i] = b[i % K];
                        rdb[i % K] += dy[i];
                    }
                    for (int n = 0; n < N; n++)
                        for (int oh = 0; oh < Ho; oh++)
                            for (int ow = 0; ow < Wo; ow++)
                                for (int k = 0; k < K; k++)
                                    for (int c = 0; c < C; c++)
                                        for (int i = 0; i < kern; i++)
                                            for (int j = 0; j < kern; j++) {
                                                int ih = oh * st - p + i, iw = ow * st - p + j;
                                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                                size_t wi = (((size_t)k * C + c) * kern + i) * kern + j;
                                                size_t yi = (((size_t)n * Ho + oh) * Wo + ow) * K + k;
                                                size_t xi = (((size_t)n * H + ih) * W + iw) * C + c;
                                                ry[yi] += w[wi] * x[xi];
                                                rdx[xi] += w[wi] * dy[yi];
                                                rdw[wi] += dy[yi] * x[xi];
                                            }
                    char what[128];
                    snprintf(what, sizeof what, "grid [%s] C%d K%d %dx%d s%d db", algo_name[algo], C,
                             K, kern, kern, st);
                    bb_close(what, db, rdb, (size_t)K, 1e-4, 1e-5);
                    snprintf(what, sizeof what, "grid [%s] C%d K%d %dx%d s%d y", algo_name[algo], C,
                             K, kern, kern, st);
                    bb_close(what, y, ry, ny, 1e-4, 1e-5);
                    snprintf(what, sizeof what, "grid [%s] C%d K%d %dx%d s%d dx", algo_name[algo], C,
                             K, kern, kern, st);
                    bb_close(what, dx, rdx, nx, 1e-4, 1e-5);
                    snprintf(what, sizeof what, "grid [%s] C%d K%d %dx%d s%d dw [%s]",
                             algo_name[algo], C, K, kern, kern, st, scorr_conv2d_impl_name(&cv, 2));
                    bb_close(what, dw, rdw, nw, 1e-4, 1e-5);
                    float *bufs[] = {x, dy, w, y, dx, dw, ry, rdx, rdw, b, db, rdb};
                    for (size_t i = 0; i < 12; i++) scorr_aligned_free(bufs[i]);
                    scorr_aligned_free(scr);
                    scorr_conv2d_free(&cv);
                    cases++;
                    }
    CHECK(cases == 120, "grid ran %d cases", cases);
    (void)algo_name;
}

/* The im2col GEMM works in row chunks of at most 4M floats: a conv with
 * 4608 columns and 2 x 32 x 32 rows takes three chunks (910 rows each).
 * Compared with oneDNN, which the grid and fixtures check directly. */
static void gemm_chunks(void)
{
    struct scorr_conv2d_shape s = {.n = 2, .h = 32, .w = 32, .c = 512, .k = 16, .kh = 3,
                                   .kw = 3, .stride = 1, .pad = 1};
    struct scorr_conv2d a, b;
    for (int i = 0; i < 3; i++) s.algo[i] = SCORR_CONV_GEMM;
    CHECK_OK(scorr_conv2d_create(&a, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
    for (int i = 0; i < 3; i++) s.algo[i] = SCORR_CONV_DNNL_ANY;
    CHECK_OK(scorr_conv2d_create(&b, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
    const size_t nx = (size_t)2 * 32 * 32 * 512, ny = (size_t)2 * 32 * 32 * 16, nw = (size_t)16 * 512 * 9;
    float *x = bb_floats(nx), *w = bb_floats(nw), *dy = bb_floats(ny);
    float *y[2] = {bb_floats(ny), bb_floats(ny)}, *dx[2] = {bb_floats(nx), bb_floats(nx)};
    float *dw[2] = {bb_floats(nw), bb_floats(nw)};
    void *scr = bb_bytes(a.scratch > b.scratch ? a.scratch : b.scratch);
    bb_fill(x, nx, 61);
    bb_fill(w, nw, 62);
    bb_fill(dy, ny, 63);
    struct scorr_conv2d *cv[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        scorr_conv2d_forward(cv[i], y[i], x, w, NULL, scr);
        scorr_conv2d_backward(cv[i], dx[i], dw[i], NULL, dy, x, w, SCORR_GRAD_SET, scr);
    }
    bb_close("gemm chunks y", y[0], y[1], ny, 1e-4, 1e-5);
    bb_close("gemm chunks dx", dx[0], dx[1], nx, 1e-4, 1e-5);
    bb_close("gemm chunks dw", dw[0], dw[1], nw, 1e-4, 1e-5);
    float *bufs[] = {x, w, dy, y[0], y[1], dx[0], dx[1], dw[0], dw[1]};
    for (size_t i = 0; i < 9; i++) scorr_aligned_free(bufs[i]);
    scorr_aligned_free(scr);
    scorr_conv2d_free(&a);
    scorr_conv2d_free(&b);
}

/* bf16 compute: inputs and weights rounded to bf16 (8-bit mantissa,
 * relative error <= 2^-8 per rounding, two per product), fp32 accumulation:
 * the tolerance is 3e-2 of the tensor's scale. The policy forces oneDNN's
 * bf16 kernels on any CPU (emulated or reference where not native), and the
 * implementations must say bf16. */
static void bf16(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    struct bb_tensor x = bb_load_nhwc(&f, "x"), w = bb_load(&f, "w"), dout = bb_load_nhwc(&f, "dout");
    struct bb_tensor y = bb_load_nhwc(&f, "y"), dx = bb_load_nhwc(&f, "dx"), dw = bb_load(&f, "dw");
    struct scorr_conv2d_shape s = {.n = (int)x.shape[0], .c = (int)x.shape[1],
                                   .h = (int)x.shape[2], .w = (int)x.shape[3],
                                   .k = (int)w.shape[0], .kh = (int)w.shape[2],
                                   .kw = (int)w.shape[3],
                                   .stride = (int)scorr_fixture_int(&f, "stride"),
                                   .pad = (int)scorr_fixture_int(&f, "pad"),
                                   .prec = SCORR_PREC_BF16};
    struct scorr_conv2d cv;
    struct scorr_conv_policy pol, forced;
    scorr_conv2d_get_policy(&pol);
    forced = pol;
    forced.bf16_force = 1;
    scorr_conv2d_set_policy(&forced);
    CHECK_OK(scorr_conv2d_create(&cv, &s, SCORR_CONV_BWD_DATA | SCORR_CONV_BWD_WEIGHTS));
    scorr_conv2d_set_policy(&pol);
    for (int p = 0; p < 3; p++)
        CHECK(strstr(scorr_conv2d_impl_name(&cv, p), "bf16") != NULL,
              "bf16 %s: pass %d runs %s, not a bf16 kernel", file, p,
              scorr_conv2d_impl_name(&cv, p));
    void *scr = bb_bytes(cv.scratch);
    float *gy = bb_floats(y.n), *gdx = bb_floats(dx.n), *gdw = bb_floats(dw.n);
    scorr_conv2d_prepare(&cv, w.d, scr);
    scorr_conv2d_forward(&cv, gy, x.d, w.d, NULL, scr);
    scorr_conv2d_backward(&cv, gdx, gdw, NULL, dout.d, x.d, w.d, SCORR_GRAD_SET, scr);
    bb_close("bf16 y", gy, y.d, y.n, 3e-2, 3e-2);
    bb_close("bf16 dx", gdx, dx.d, dx.n, 3e-2, 3e-2);
    bb_close("bf16 dw", gdw, dw.d, dw.n, 3e-2, 3e-2);
    printf("bf16 %s: %s / %s / %s\n", file, scorr_conv2d_impl_name(&cv, 0),
           scorr_conv2d_impl_name(&cv, 1), scorr_conv2d_impl_name(&cv, 2));
    scorr_aligned_free(scr);
    scorr_aligned_free(gy);
    scorr_aligned_free(gdx);
    scorr_aligned_free(gdw);
    struct bb_tensor *all[] = {&x, &w, &dout, &y, &dx, &dw};
    for (size_t i = 0; i < 6; i++) bb_free(all[i]);
    scorr_conv2d_free(&cv);
    scorr_h5_close(&f);
}

static void bad_shapes(void)
{
    struct scorr_conv2d_shape g = {.n = 1, .h = 4, .w = 4, .c = 2, .k = 2, .kh = 1, .kw = 1,
                                   .stride = 1, .prec = SCORR_PREC_BF16,
                                   .algo = {SCORR_CONV_GEMM, 0, 0}};
    struct scorr_conv2d gc;
    CHECK(scorr_conv2d_create(&gc, &g, 0) == SCORR_EINVAL && strstr(scorr_error_message(), "GEMM"),
          "bf16 GEMM accepted: %s", scorr_error_message());
    struct scorr_conv2d cv;
    struct scorr_conv2d_shape s = {.n = 1, .h = 2, .w = 2, .c = 3, .k = 4, .kh = 7, .kw = 7,
                                   .stride = 2, .pad = 1};
    CHECK(scorr_conv2d_create(&cv, &s, 0) == SCORR_EINVAL, "kernel larger than padded input");
    CHECK(strstr(scorr_error_message(), "smaller than the kernel") != NULL, "message: %s",
          scorr_error_message());
    s.h = s.w = 16;
    s.stride = 0;
    CHECK(scorr_conv2d_create(&cv, &s, 0) == SCORR_EINVAL, "stride 0 accepted");
    scorr_conv2d_free(&cv); /* safe after a failed create */
}

int main(void)
{
    const char *files[] = {"backbone_conv_3x3s1.h5", "backbone_conv_3x3s2.h5",
                           "backbone_conv_1x1s2.h5", "backbone_conv_7x7s2.h5"};
    for (int a = SCORR_CONV_AUTO; a <= SCORR_CONV_GEMM; a++) {
        for (int i = 0; i < 4; i++) parity(files[i], (enum scorr_conv_algo)a);
        /* kernels are picked by thread count too: the grid runs at 2 */
        omp_set_num_threads(2);
        naive_grid((enum scorr_conv_algo)a);
        omp_set_num_threads(1);
    }
    /* Winograd: the 3x3 stride-1 fixtures, F(2x2, 3x3) on the 7 x 7 map and
     * F(4x4, 3x3) on the 18 x 17 one (partial tiles, 20 and 12 channels),
     * every pass against PyTorch at the same tolerance (explicitly: AUTO
     * takes it only from 16 input and output channels). */
    parity("backbone_conv_3x3s1.h5", SCORR_CONV_WINOGRAD);
    for (int a = SCORR_CONV_AUTO; a <= SCORR_CONV_WINOGRAD; a++)
        parity("backbone_conv_3x3s1_wino.h5", (enum scorr_conv_algo)a);
    omp_set_num_threads(2);
    parity("backbone_conv_3x3s1_wino.h5", SCORR_CONV_WINOGRAD);
    omp_set_num_threads(1);
    finite_differences();
    gemm_chunks();
    bf16("backbone_conv_3x3s2.h5");
    bad_shapes();
    return scorr_test_finish("test_bb_conv");
}
