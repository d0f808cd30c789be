/* Image I/O: PNG round trips (exact) for gray/RGB/RGBA, PNG variants written
 * here with raw libpng (palette, palette + tRNS, 16-bit RGB, 16-bit gray,
 * 2-bit gray, interlaced) decoded to the RGB8 expected from the pixel values
 * written; JPEG round trips (lossy: mean |diff| < 2 levels at quality 95 on a
 * smooth image), grayscale JPEG -> equal channels, CMYK JPEG -> PIL's formula
 * (tolerance 6 levels for JPEG loss on flat patches); corrupt, truncated and
 * non-image files -> errors naming the file and the library's reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "check.h"
#include "scorr/image.h"
#include "scorr/io.h"

static char g_dir[] = "/tmp/scorr_img_XXXXXX";

static const char *tmpfile_path(const char *name)
{
    static char buf[8][4096];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 4096, "%s/%s", g_dir, name);
    return p;
}

static int msg_has(const char *needle)
{
    int ok = strstr(scorr_error_message(), needle) != NULL;
    if (!ok) fprintf(stderr, "  message was: %s\n", scorr_error_message());
    return ok;
}

/* Raw libpng writer for variants scorr's writer does not produce. rows are
 * packed as libpng expects for (bit_depth, color_type). */
static void raw_png(const char *path, int w, int h, int depth, int type, const uint8_t *data,
                    size_t rowbytes, const png_color *pal, int npal, const uint8_t *trns,
                    int ntrns, int interlace)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "raw_png failed\n");
        exit(2);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_bytep *rows = malloc(h * sizeof *rows);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)(data + (size_t)y * rowbytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
}

static int same_rgb(const struct scorr_image *im, int w, int h, const uint8_t *ref)
{
    return im->pixels && im->width == w && im->height == h &&
           memcmp(im->pixels, ref, (size_t)w * h * 3) == 0;
}

static void test_png(void)
{
    enum { W = 13, H = 7 };
    uint8_t rgba[H][W][4], rgb[H * W * 3], gray[H * W], ref[H * W * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 4; c++) rgba[y][x][c] = (uint8_t)(x * 19 + y * 37 + c * 71);
    for (int i = 0; i < W * H; i++) {
        for (int c = 0; c < 3; c++) rgb[i * 3 + c] = (&rgba[0][0][0])[i * 4 + c];
        gray[i] = (uint8_t)(i * 3);
    }
    struct scorr_image im = {0};
    /* RGB: exact. */
    CHECK_OK(scorr_image_write_png(tmpfile_path("rgb.png"), rgb, W, H, 3));
    CHECK_OK(scorr_image_load(tmpfile_path("rgb.png"), &im));
    CHECK(same_rgb(&im, W, H, rgb), "RGB PNG round trip");
    scorr_image_free(&im);
    /* RGBA: alpha dropped, colour unchanged. */
    CHECK_OK(scorr_image_write_png(tmpfile_path("rgba.png"), &rgba[0][0][0], W, H, 4));
    CHECK_OK(scorr_image_load_png(tmpfile_path("rgba.png"), &im));
    CHECK(same_rgb(&im, W, H, rgb), "RGBA PNG -> RGB drops alpha");
    scorr_image_free(&im);
    /* Gray: replicated to three channels. */
    for (int i = 0; i < W * H; i++) ref[3 * i] = ref[3 * i + 1] = ref[3 * i + 2] = gray[i];
    CHECK_OK(scorr_image_write_png(tmpfile_path("gray.png"), gray, W, H, 1));
    CHECK_OK(scorr_image_load(tmpfile_path("gray.png"), &im));
    CHECK(same_rgb(&im, W, H, ref), "gray PNG -> RGB");
    scorr_image_free(&im);

    /* Palette (4 colours, 8-bit indices), with and without tRNS. */
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t idx[H * W];
    for (int i = 0; i < W * H; i++) {
        idx[i] = (uint8_t)((i * 7) % 4);
        ref[3 * i] = pal[idx[i]].red;
        ref[3 * i + 1] = pal[idx[i]].green;
        ref[3 * i + 2] = pal[idx[i]].blue;
    }
    raw_png(tmpfile_path("pal.png"), W, H, 8, PNG_COLOR_TYPE_PALETTE, idx, W, pal, 4, NULL, 0, 0);
    CHECK_OK(scorr_image_load(tmpfile_path("pal.png"), &im));
    CHECK(same_rgb(&im, W, H, ref), "palette PNG -> RGB");
    scorr_image_free(&im);
    uint8_t trns[2] = {0, 128};
    raw_png(tmpfile_path("pal_trns.png"), W, H, 8, PNG_COLOR_TYPE_PALETTE, idx, W, pal, 4, trns,
            2, 0);
    CHECK_OK(scorr_image_load(tmpfile_path("pal_trns.png"), &im));
    CHECK(same_rgb(&im, W, H, ref), "palette + tRNS PNG -> RGB (transparency ignored)");
    scorr_image_free(&im);

    /* 16-bit RGB, big-endian samples: high byte kept; interlaced. */
    uint8_t rgb16[H * W * 6];
    for (int i = 0; i < W * H * 3; i++) {
        rgb16[2 * i] = rgb[i];
        rgb16[2 * i + 1] = (uint8_t)(255 - rgb[i]);
    }
    raw_png(tmpfile_path("rgb16.png"), W, H, 16, PNG_COLOR_TYPE_RGB, rgb16, W * 6, NULL, 0, NULL,
            0, 1);
    CHECK_OK(scorr_image_load(tmpfile_path("rgb16.png"), &im));
    CHECK(same_rgb(&im, W, H, rgb), "16-bit interlaced RGB PNG -> high byte");
    scorr_image_free(&im);
    /* 16-bit gray + alpha. */
    uint8_t ga16[H * W * 4];
    for (int i = 0; i < W * H; i++) {
        ga16[4 * i] = gray[i];
        ga16[4 * i + 1] = 77;
        ga16[4 * i + 2] = 3;
        ga16[4 * i + 3] = 0;
        ref[3 * i] = ref[3 * i + 1] = ref[3 * i + 2] = gray[i];
    }
    raw_png(tmpfile_path("ga16.png"), W, H, 16, PNG_COLOR_TYPE_GRAY_ALPHA, ga16, W * 4, NULL, 0,
            NULL, 0, 0);
    CHECK_OK(scorr_image_load(tmpfile_path("ga16.png"), &im));
    CHECK(same_rgb(&im, W, H, ref), "16-bit gray+alpha PNG -> RGB");
    scorr_image_free(&im);
    /* 2-bit gray: values 0..3 scale to 0, 85, 170, 255. */
    uint8_t g2[H * 4]; /* ceil(13 * 2 / 8) = 4 bytes per row */
    memset(g2, 0, sizeof g2);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = (x + y) % 4;
            g2[y * 4 + x / 4] |= (uint8_t)(v << (6 - 2 * (x % 4)));
            int i = y * W + x;
            ref[3 * i] = ref[3 * i + 1] = ref[3 * i + 2] = (uint8_t)(v * 85);
        }
    raw_png(tmpfile_path("g2.png"), W, H, 2, PNG_COLOR_TYPE_GRAY, g2, 4, NULL, 0, NULL, 0, 0);
    CHECK_OK(scorr_image_load(tmpfile_path("g2.png"), &im));
    CHECK(same_rgb(&im, W, H, ref), "2-bit gray PNG -> RGB");
    scorr_image_free(&im);

    /* Corrupt PNG: flip a byte inside the image data (CRC/zlib error). */
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(scorr_read_file(tmpfile_path("rgb.png"), &data, &len));
    if (data && len > 60) {
        data[len - 20] ^= 0x5a;
        FILE *f = fopen(tmpfile_path("corrupt.png"), "wb");
        fwrite(data, 1, len, f);
        fclose(f);
        CHECK(scorr_image_load(tmpfile_path("corrupt.png"), &im) != 0, "corrupt PNG accepted");
        CHECK(msg_has("corrupt.png") && msg_has("(libpng)"), "corrupt PNG message");
        CHECK(im.pixels == NULL, "corrupt PNG left pixels");
        /* Truncated PNG. */
        f = fopen(tmpfile_path("short.png"), "wb");
        fwrite(data, 1, 40, f);
        fclose(f);
        CHECK(scorr_image_load(tmpfile_path("short.png"), &im) != 0, "truncated PNG accepted");
        CHECK(msg_has("short.png"), "truncated PNG message");
    }
    free(data);
    CHECK(scorr_image_write_png(tmpfile_path("x.png"), rgb, W, H, 2) != 0,
          "2-channel PNG write accepted");
}

static void test_jpeg(void)
{
    enum { W = 33, H = 21 };
    uint8_t rgb[H * W * 3], gray[H * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            rgb[3 * i] = (uint8_t)(60 + 4 * x);
            rgb[3 * i + 1] = (uint8_t)(40 + 6 * y);
            rgb[3 * i + 2] = (uint8_t)(200 - 2 * x - 3 * y);
            gray[i] = (uint8_t)(30 + 3 * x + 2 * y);
        }
    struct scorr_image im = {0};
    CHECK_OK(scorr_image_write_jpeg(tmpfile_path("a.jpg"), rgb, W, H, 3, 95));
    CHECK_OK(scorr_image_load(tmpfile_path("a.jpg"), &im));
    CHECK(im.width == W && im.height == H, "JPEG size %dx%d", im.width, im.height);
    if (im.pixels) {
        double sum = 0;
        for (int i = 0; i < W * H * 3; i++) sum += abs((int)im.pixels[i] - (int)rgb[i]);
        double mean = sum / (W * H * 3);
        printf("JPEG q95 round trip: mean |diff| = %.3f levels\n", mean);
        CHECK(mean < 2.0, "JPEG round trip mean abs diff %.3f", mean);
    }
    scorr_image_free(&im);

    CHECK_OK(scorr_image_write_jpeg(tmpfile_path("g.jpg"), gray, W, H, 1, 95));
    CHECK_OK(scorr_image_load_jpeg(tmpfile_path("g.jpg"), &im));
    if (im.pixels) {
        int eq = 1;
        double sum = 0;
        for (int i = 0; i < W * H; i++) {
            eq &= im.pixels[3 * i] == im.pixels[3 * i + 1] && im.pixels[3 * i] == im.pixels[3 * i + 2];
            sum += abs((int)im.pixels[3 * i] - (int)gray[i]);
        }
        CHECK(eq, "grayscale JPEG channels differ");
        CHECK(sum / (W * H) < 2.0, "grayscale JPEG mean diff %.3f", sum / (W * H));
    }
    scorr_image_free(&im);

    /* CMYK JPEG written with raw libjpeg (stored values, Adobe marker):
     * four flat quadrants; expected R = stored_C * stored_K / 255 etc. */
    enum { CW = 32, CH = 32 };
    static uint8_t cmyk[CH * CW * 4];
    const uint8_t quad[4][4] = {{255, 255, 255, 255}, {200, 100, 50, 255}, {255, 128, 0, 128},
                                {30, 220, 140, 200}};
    for (int y = 0; y < CH; y++)
        for (int x = 0; x < CW; x++)
            memcpy(&cmyk[(y * CW + x) * 4], quad[(y / 16) * 2 + x / 16], 4);
    {
        struct jpeg_compress_struct c;
        struct jpeg_error_mgr e;
        c.err = jpeg_std_error(&e);
        jpeg_create_compress(&c);
        FILE *f = fopen(tmpfile_path("cmyk.jpg"), "wb");
        jpeg_stdio_dest(&c, f);
        c.image_width = CW;
        c.image_height = CH;
        c.input_components = 4;
        c.in_color_space = JCS_CMYK;
        jpeg_set_defaults(&c);
        jpeg_set_quality(&c, 98, TRUE);
        jpeg_start_compress(&c, TRUE);
        while (c.next_scanline < CH) {
            JSAMPROW row = &cmyk[c.next_scanline * CW * 4];
            jpeg_write_scanlines(&c, &row, 1);
        }
        jpeg_finish_compress(&c);
        jpeg_destroy_compress(&c);
        fclose(f);
    }
    CHECK_OK(scorr_image_load(tmpfile_path("cmyk.jpg"), &im));
    if (im.pixels) {
        int worst = 0;
        for (int q = 0; q < 4; q++) {
            int y = (q / 2) * 16 + 8, x = (q % 2) * 16 + 8;
            for (int ch = 0; ch < 3; ch++) {
                int expect = (quad[q][ch] * quad[q][3] + 127) / 255;
                int d = abs((int)im.pixels[(y * CW + x) * 3 + ch] - expect);
                if (d > worst) worst = d;
            }
        }
        printf("CMYK JPEG: worst |diff| at quadrant centres = %d levels\n", worst);
        CHECK(worst <= 6, "CMYK conversion off by %d", worst);
    }
    scorr_image_free(&im);

    /* Truncated JPEG: a larger noisy image cut at 70% (past the headers). */
    enum { BW = 160, BH = 120 };
    static uint8_t big[BH * BW * 3];
    for (int i = 0; i < BW * BH * 3; i++) big[i] = (uint8_t)((i * 2654435761u) >> 24);
    CHECK_OK(scorr_image_write_jpeg(tmpfile_path("big.jpg"), big, BW, BH, 3, 90));
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(scorr_read_file(tmpfile_path("big.jpg"), &data, &len));
    if (data) {
        FILE *f = fopen(tmpfile_path("trunc.jpg"), "wb");
        fwrite(data, 1, len * 7 / 10, f);
        fclose(f);
        CHECK(scorr_image_load(tmpfile_path("trunc.jpg"), &im) != 0, "truncated JPEG accepted");
        CHECK(msg_has("trunc.jpg") && msg_has("Premature end of JPEG file"),
              "truncated JPEG message");
        /* Garbage header: SOI and a marker prefix, then junk. */
        memset(data + 3, 0x11, 64);
        f = fopen(tmpfile_path("junk.jpg"), "wb");
        fwrite(data, 1, len, f);
        fclose(f);
        CHECK(scorr_image_load(tmpfile_path("junk.jpg"), &im) != 0, "corrupt JPEG accepted");
        CHECK(msg_has("junk.jpg") && msg_has("(libjpeg)"), "corrupt JPEG message");
        CHECK(im.pixels == NULL, "corrupt JPEG left pixels");
    }
    free(data);
}

int main(void)
{
    CHECK(mkdtemp(g_dir) != NULL, "mkdtemp");
    test_png();
    test_jpeg();
    struct scorr_image im = {0};
    FILE *f = fopen(tmpfile_path("text.jpg"), "w");
    fputs("hello, not an image\n", f);
    fclose(f);
    CHECK(scorr_image_load(tmpfile_path("text.jpg"), &im) != 0, "text file accepted");
    CHECK(msg_has("text.jpg") && msg_has("not a JPEG or PNG"), "non-image message");
    CHECK(scorr_image_load(tmpfile_path("missing.jpg"), &im) != 0, "missing file accepted");
    CHECK(msg_has("missing.jpg") && msg_has("No such file"), "missing file message");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", g_dir);
    return scorr_test_finish("test_data_io_image");
}
