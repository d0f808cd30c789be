/* The antialiased resize against PIL's Image.resize(BILINEAR): fixture
 * tests/fixtures/resize_pil.h5 from tools/fixtures/resize.py. The input images
 * are an integer formula both sides compute (pattern() in the script). Pass:
 * max |C - PIL| <= 1 intensity level per case (the implementation aims at 0).
 * Also a JPEG written by PIL: decode and decode + resize against PIL's, and
 * that a constant image stays constant and the plan API equals the one-off
 * call. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/image.h"

static void pattern(uint8_t *img, int w, int h, int c)
{
    for (uint32_t y = 0; y < (uint32_t)h; y++)
        for (uint32_t x = 0; x < (uint32_t)w; x++)
            for (uint32_t ch = 0; ch < (uint32_t)c; ch++) {
                uint32_t ramp = (x * 3 + y * 5 + ch * 40) % 160;
                uint32_t checker = ((x / 4 + y / 3) % 2) * 80;
                uint32_t noise = (((x * 73856093u) ^ (y * 19349663u) ^ (ch * 83492791u)) >> 7) & 15u;
                img[((size_t)y * w + x) * c + ch] = (uint8_t)(ramp + checker + noise);
            }
}

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int worst = 0;
    for (size_t k = 0; k < n; k++) {
        int d = abs((int)a[k] - (int)b[k]);
        if (d > worst) worst = d;
    }
    return worst;
}

/* A JPEG written by PIL: scorr's decode must equal PIL's (same libjpeg-turbo,
 * same default IDCT and upsampling), and decode + resize must equal PIL's
 * Image.open().convert("RGB").resize((64, 48), BILINEAR). Pass: <= 1 level. */
static void check_jpeg_end_to_end(const struct scorr_h5 *f)
{
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM], dd[SCORR_H5_MAXDIM], od[SCORR_H5_MAXDIM];
    CHECK_OK(scorr_h5_shape(f, "/jpeg_bytes", &nd, dims));
    CHECK_OK(scorr_h5_shape(f, "/jpeg_decoded", &nd, dd));
    CHECK_OK(scorr_h5_shape(f, "/jpeg_out", &nd, od));
    size_t n = (size_t)dims[0], nd_px = (size_t)(dd[0] * dd[1] * 3), no = (size_t)(od[0] * od[1] * 3);
    uint8_t *bytes = malloc(n), *dec = malloc(nd_px), *ref = malloc(no), *got = malloc(no);
    CHECK_OK(scorr_h5_read(f, "/jpeg_bytes", SCORR_U8, 1, dims, bytes));
    CHECK_OK(scorr_h5_read(f, "/jpeg_decoded", SCORR_U8, 3, dd, dec));
    CHECK_OK(scorr_h5_read(f, "/jpeg_out", SCORR_U8, 3, od, ref));
    char path[] = "/tmp/scorr_resize_jpeg_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, bytes, n) == (ssize_t)n, "cannot write %s", path);
    if (fd >= 0) close(fd);
    struct scorr_image im = {0};
    CHECK_OK(scorr_image_load(path, &im));
    unlink(path);
    if (im.pixels && im.width == dd[1] && im.height == dd[0]) {
        int dmax = max_diff(im.pixels, dec, nd_px);
        CHECK_OK(scorr_resize_u8(got, (int)od[1], (int)od[0], im.pixels, im.width, im.height, 3));
        int rmax = max_diff(got, ref, no);
        printf("JPEG end to end vs PIL: decode max |diff| = %d, decode + resize max |diff| = %d\n",
               dmax, rmax);
        CHECK(dmax <= 1 && rmax <= 1, "JPEG decode %d / resize %d levels from PIL", dmax, rmax);
    } else {
        CHECK(0, "JPEG fixture decoded to %dx%d", im.width, im.height);
    }
    scorr_image_free(&im);
    free(bytes);
    free(dec);
    free(ref);
    free(got);
}

int main(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "resize_pil.h5");
    int ncases = (int)scorr_fixture_int(&f, "ncases");
    CHECK(ncases >= 8, "fixture has %d cases", ncases);
    int worst_all = 0;
    for (int i = 0; i < ncases; i++) {
        char name[32];
        int64_t iw = 0, ih = 0, dims[SCORR_H5_MAXDIM];
        int nd = 0;
        snprintf(name, sizeof name, "c%d_in_w", i);
        CHECK_OK(scorr_h5_get_attr_i64(&f, "/", name, &iw));
        snprintf(name, sizeof name, "c%d_in_h", i);
        CHECK_OK(scorr_h5_get_attr_i64(&f, "/", name, &ih));
        snprintf(name, sizeof name, "/c%d_out", i);
        CHECK_OK(scorr_h5_shape(&f, name, &nd, dims));
        if (nd != 3) {
            CHECK(0, "case %d: output rank %d", i, nd);
            continue;
        }
        int oh = (int)dims[0], ow = (int)dims[1], c = (int)dims[2];
        uint8_t *in = malloc((size_t)iw * ih * c), *ref = malloc((size_t)ow * oh * c);
        uint8_t *got = malloc((size_t)ow * oh * c);
        pattern(in, (int)iw, (int)ih, c);
        CHECK_OK(scorr_h5_read(&f, name, SCORR_U8, 3, dims, ref));
        CHECK_OK(scorr_resize_u8(got, ow, oh, in, (int)iw, (int)ih, c));
        int worst = 0;
        size_t nbad = 0, n = (size_t)ow * oh * c;
        for (size_t k = 0; k < n; k++) {
            int d = abs((int)got[k] - (int)ref[k]);
            if (d > worst) worst = d;
            nbad += d != 0;
        }
        printf("case %d: %lldx%lld -> %dx%d x%d: max |C - PIL| = %d (%zu of %zu differ)\n", i,
               (long long)iw, (long long)ih, ow, oh, c, worst, nbad, n);
        CHECK(worst <= 1, "case %d: max abs difference %d > 1", i, worst);
        if (worst > worst_all) worst_all = worst;
        free(in);
        free(ref);
        free(got);
    }
    printf("resize vs PIL: worst difference over all cases = %d intensity levels\n", worst_all);
    check_jpeg_end_to_end(&f);
    scorr_h5_close(&f);

    /* A constant image stays exactly constant (weights sum to one). */
    uint8_t flat[31 * 17 * 3], out[64 * 9 * 3];
    memset(flat, 200, sizeof flat);
    CHECK_OK(scorr_resize_u8(out, 64, 9, flat, 31, 17, 3));
    int ok = 1;
    for (size_t k = 0; k < sizeof out; k++) ok &= out[k] == 200;
    CHECK(ok, "constant image not preserved");

    /* The plan API gives the same bytes as the one-off call, reused twice. */
    uint8_t src[40 * 30 * 3], a[16 * 50 * 3], b[16 * 50 * 3];
    pattern(src, 40, 30, 3);
    struct scorr_resize_plan p;
    CHECK_OK(scorr_resize_plan_init(&p, 40, 30, 16, 50));
    scorr_resize_apply(&p, a, src, 3);
    scorr_resize_apply(&p, a, src, 3);
    scorr_resize_plan_free(&p);
    CHECK_OK(scorr_resize_u8(b, 16, 50, src, 40, 30, 3));
    CHECK(memcmp(a, b, sizeof a) == 0, "plan and one-off resize differ");
    CHECK(scorr_resize_u8(b, 0, 50, src, 40, 30, 3) != 0, "zero size accepted");
    return scorr_test_finish("test_data_io_resize");
}
