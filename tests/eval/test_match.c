/* scorr_match's library parts without a network: the point and dense
 * resampling (against a formula written here, and against the evaluation's
 * keypoint transfer at integer pixels), the .flo and HDF5 flow files, the
 * point list parser and the match picture (decoded back). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/h5.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/match.h"
#include "scorr/pck.h"

int main(void)
{
    enum { G = 16, S = 64 };
    static float flow[G * G * 2];
    /* 1. a constant flow of (1, 0.5) cells = (4, 2) px at S: source point
     * = (x S / Wt + 4) Ws / S, (y S / Ht + 2) Hs / S */
    for (int i = 0; i < G * G; i++) flow[2 * i] = 1.0f, flow[2 * i + 1] = 0.5f;
    struct scorr_match_geom g = {G, S, 200, 100, 128, 96};
    float t[2] = {37.0f, 50.5f}, s[2];
    scorr_match_point(flow, &g, t, s);
    double ex = (37.0 * 64 / 128 + 4) * 200 / 64, ey = (50.5 * 64 / 96 + 2) * 100 / 64;
    CHECK(fabs(s[0] - ex) < 1e-4 && fabs(s[1] - ey) < 1e-4, "constant flow: (%g, %g) vs (%g, %g)",
          s[0], s[1], ex, ey);

    /* 2. a varying flow, images at S: at integer pixels the same as the
     * evaluation's transfer (scorr_flow_to_kps) */
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) {
            flow[2 * (y * G + x)] = 0.3f * x - 0.1f * y;
            flow[2 * (y * G + x) + 1] = 0.05f * x * y - 1.0f;
        }
    struct scorr_match_geom gs = {G, S, S, S, S, S};
    int bad = 0;
    for (int y = 0; y < S; y += 3)
        for (int x = 0; x < S; x += 5) {
            float tk[2] = {(float)x, (float)y}, a[2], b[2];
            scorr_match_point(flow, &gs, tk, a);
            scorr_flow_to_kps(b, flow, G, S, tk, 1);
            bad += fabsf(a[0] - b[0]) > 1e-4f || fabsf(a[1] - b[1]) > 1e-4f;
        }
    CHECK(bad == 0, "%d integer pixels differ from the evaluation's transfer", bad);

    /* 3. dense = per-point, at the original target size */
    const int W = 30, H = 20;
    struct scorr_match_geom gd = {G, S, 45, 33, W, H};
    float *dense = malloc(sizeof(float) * W * H * 2);
    scorr_match_dense(dense, flow, &gd);
    bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float tk[2] = {(float)x, (float)y}, a[2];
            scorr_match_point(flow, &gd, tk, a);
            const float *d = dense + 2 * (y * W + x);
            bad += fabsf(d[0] - (a[0] - x)) > 1e-5f || fabsf(d[1] - (a[1] - y)) > 1e-5f;
        }
    CHECK(bad == 0, "dense flow differs from the per-point source at %d pixels", bad);

    /* 4. .flo round trip and errors */
    char dir[4096], p[8192];
    snprintf(dir, sizeof dir, "%s/tests/match_%d", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_mkdirs(dir));
    snprintf(p, sizeof p, "%s/f.flo", dir);
    CHECK_OK(scorr_flo_write(p, dense, W, H));
    float *back = NULL;
    int w = 0, h = 0;
    CHECK_OK(scorr_flo_read(p, &back, &w, &h));
    CHECK(w == W && h == H && back && !memcmp(back, dense, sizeof(float) * W * H * 2),
          ".flo round trip");
    char *raw = NULL;
    size_t len = 0;
    CHECK_OK(scorr_read_file(p, &raw, &len));
    CHECK(len == 12 + (size_t)W * H * 8 && raw && !memcmp(raw, "PIEH", 4), ".flo layout: %zu", len);
    CHECK_OK(scorr_write_file_atomic(p, raw, len - 4)); /* truncated */
    free(back);
    back = NULL;
    CHECK(scorr_flo_read(p, &back, &w, &h) != 0 && strstr(scorr_error_message(), "f.flo"),
          "truncated .flo: %s", scorr_error_message());
    CHECK_OK(scorr_write_file_atomic(p, "hello world, not a flow", 23));
    CHECK(scorr_flo_read(p, &back, &w, &h) != 0, "text as .flo");
    free(raw);
    unlink(p);

    /* 5. HDF5 flow file */
    snprintf(p, sizeof p, "%s/f.h5", dir);
    CHECK_OK(scorr_match_write_h5(p, dense, W, H, "ck.h5", "a.png", "b.png"));
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    CHECK_OK(scorr_h5_open(&f, p));
    float *h5f = malloc(sizeof(float) * W * H * 2);
    int64_t shape[3] = {H, W, 2};
    CHECK_OK(scorr_h5_read(&f, "/flow", SCORR_F32, 3, shape, h5f));
    CHECK(!memcmp(h5f, dense, sizeof(float) * W * H * 2), "HDF5 flow round trip");
    char fmt[64] = "";
    CHECK_OK(scorr_h5_get_attr_str(&f, "/", "format", fmt, sizeof fmt));
    CHECK(!strcmp(fmt, "scorr-flow"), "format attribute '%s'", fmt);
    scorr_h5_close(&f);
    free(h5f);
    unlink(p);

    /* 6. point lists */
    float pts[8];
    int n = 0;
    CHECK_OK(scorr_match_parse_points("1,2;3.5,-4", pts, 4, &n));
    CHECK(n == 2 && pts[0] == 1 && pts[1] == 2 && pts[2] == 3.5f && pts[3] == -4, "two points");
    CHECK_OK(scorr_match_parse_points("7,8;", pts, 4, &n));
    CHECK(n == 1, "trailing ';'");
    const char *badlists[] = {"", "1", "1;2", "1,2,3", "a,b", "1,2;;3,4", "1,2;3,4;5,6;7,8;9,9"};
    for (int i = 0; i < 7; i++)
        CHECK(scorr_match_parse_points(badlists[i], pts, 4, &n) != 0, "bad list '%s' accepted",
              badlists[i]);

    /* 7. the picture: sizes, the images, a dot in each match's colour */
    struct scorr_image src = {60, 40, malloc(60 * 40 * 3)}, trg = {30, 80, malloc(30 * 80 * 3)};
    memset(src.pixels, 100, 60 * 40 * 3);
    memset(trg.pixels, 200, 30 * 80 * 3);
    float tp[4] = {10, 20, 25, 70}, sp[4] = {5, 5, 50, 30};
    snprintf(p, sizeof p, "%s/m.png", dir);
    CHECK_OK(scorr_match_draw(p, &src, &trg, tp, sp, 2, NULL, NULL));
    struct scorr_image pic = {0};
    CHECK_OK(scorr_image_load(p, &pic));
    /* height 256 (the minimum); source 60x40 -> 384 wide, target 30x80 -> 96, 8 apart */
    CHECK(pic.height == 256 && pic.width == 384 + 8 + 96, "picture %d x %d", pic.width,
          pic.height);
    if (pic.pixels && pic.width == 488 && pic.height == 256) {
        const uint8_t *gap = pic.pixels + 3 * (5 * 488 + 388);
        const uint8_t *bg = pic.pixels + 3 * (255 * 488 + 1);
        CHECK(gap[0] == 255 && gap[1] == 255, "white gap");
        CHECK(abs(bg[0] - 100) <= 1, "source pixels kept (%d)", bg[0]);
        /* the second source point (50, 30) -> (50.5 * 6.4 - 0.5, 30.5 * 6.4 - 0.5) */
        const uint8_t *d = pic.pixels + 3 * (195 * 488 + 323);
        CHECK(!(d[0] == d[1] && d[1] == d[2]), "a coloured dot at the source point (%d %d %d)",
              d[0], d[1], d[2]);
        /* the first target point (10, 20) -> x 392 + 10.5 * 3.2 - 0.5, y 20.5 * 3.2 - 0.5 */
        d = pic.pixels + 3 * (65 * 488 + 425);
        CHECK(!(d[0] == d[1] && d[1] == d[2]), "a coloured dot at the target point (%d %d %d)",
              d[0], d[1], d[2]);
    }
    scorr_image_free(&pic);
    scorr_image_free(&src);
    scorr_image_free(&trg);
    unlink(p);
    rmdir(dir);
    free(dense);
    scorr_error_clear();
    return scorr_test_finish("test_match");
}
