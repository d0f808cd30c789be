/* JPEG (libjpeg-turbo) and PNG (libpng) decoding to RGB8 and encoding.
 * Both libraries report errors by longjmp from an error callback: each
 * decoder installs one that records the library's message, so a corrupt file
 * becomes a scorr error naming the file instead of an exit. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "scorr/error.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/log.h"

/* Refuse headers that promise absurd sizes (a corrupt file) before
 * allocating: 2^26 pixels is 8192 x 8192, far above any benchmark image. */
#define MAX_PIXELS ((size_t)1 << 26)

void scorr_image_free(struct scorr_image *img)
{
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- JPEG -------------------------------------------------------------- */

struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
};

static void jpeg_on_error(j_common_ptr c)
{
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_on_message(j_common_ptr c, int level)
{
    struct jpeg_err *e = (struct jpeg_err *)c->err;
    if (level >= 0) return; /* trace messages */
    /* A truncated file decodes to grey padding in libjpeg; PIL refuses it
     * ("image file is truncated") and so do we. Other corrupt-data warnings
     * (extraneous bytes before a marker) are what PIL silently accepts. */
    if (c->err->msg_code == JWRN_JPEG_EOF) {
        e->truncated = 1;
        c->err->format_message(c, e->msg);
    }
    c->err->num_warnings++;
}

static void jpeg_silent(j_common_ptr c) { (void)c; }

/* PIL's cmyk2rgb: R = (255 - K) - C * (255 - K) / 255, rounded like MULDIV255. */
static uint8_t cmyk_channel(int c, int k)
{
    int nk = 255 - k;
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

int scorr_image_load_jpeg(const char *path, struct scorr_image *img)
{
    volatile int err = 0; /* survives longjmp */
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err jerr;
    FILE *volatile f = NULL;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row4 = NULL;
    volatile int created = 0;
    memset(img, 0, sizeof *img);
    memset(&jerr, 0, sizeof jerr);
    f = fopen(path, "rb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot open image '%s': %s", path, strerror(errno));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.emit_message = jpeg_on_message;
    jerr.pub.output_message = jpeg_silent;
    if (setjmp(jerr.jb)) {
        SCORR_FAIL(SCORR_EFORMAT, "'%s': corrupt or unsupported JPEG: %s (libjpeg)", path,
                   jerr.msg);
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    /* Before jpeg_start_decompress, which allocates and clears buffers for
     * the whole image in progressive mode: a 500-byte file claiming
     * thousands of pixels a side took minutes (found by fuzzing). Every
     * 8x8 block of a complete file costs at least a fraction of a bit
     * (Huffman: >= 2 bits; 1/16 leaves room for arithmetic coding), so a file
     * far smaller than its blocks is truncated or corrupt. */
    {
        size_t iw = cinfo.image_width, ih = cinfo.image_height;
        long fsize = 0;
        struct stat st;
        if (fstat(fileno(f), &st) == 0) fsize = (long)st.st_size;
        SCORR_REQUIRE(iw > 0 && ih > 0 && iw * ih <= MAX_PIXELS, SCORR_EFORMAT,
                      "'%s': JPEG header gives an implausible size %zux%zu", path, iw, ih);
        SCORR_REQUIRE(iw * ih <= (size_t)fsize * 8 * 64 * 16, SCORR_EFORMAT,
                      "'%s': JPEG header gives %zux%zu pixels but the file has only %ld bytes "
                      "(truncated or corrupt)", path, iw, ih, fsize);
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    SCORR_REQUIRE(w > 0 && h > 0 && (size_t)w * (size_t)h <= MAX_PIXELS, SCORR_EFORMAT,
                  "'%s': JPEG header gives an implausible size %dx%d", path, w, h);
    SCORR_REQUIRE(cinfo.output_components == (cmyk ? 4 : 3), SCORR_EFORMAT,
                  "'%s': JPEG decodes to %d components, expected %d", path,
                  cinfo.output_components, cmyk ? 4 : 3);
    pixels = malloc((size_t)w * h * 3);
    SCORR_REQUIRE(pixels, SCORR_ENOMEM, "out of memory decoding '%s' (%dx%d)", path, w, h);
    if (cmyk) {
        row4 = malloc((size_t)w * 4);
        SCORR_REQUIRE(row4, SCORR_ENOMEM, "out of memory decoding '%s'", path);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int)cinfo.output_scanline;
        uint8_t *dst = pixels + (size_t)y * w * 3;
        JSAMPROW rows[1] = {cmyk ? row4 : dst};
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) break;
        if (cmyk) {
            for (int x = 0; x < w; x++) {
                /* Adobe files store CMYK inverted; PIL assumes so for every CMYK JPEG. */
                int k = 255 - row4[4 * x + 3];
                for (int c = 0; c < 3; c++)
                    dst[3 * x + c] = cmyk_channel(255 - row4[4 * x + c], k);
            }
        }
    }
    SCORR_REQUIRE(!jerr.truncated && cinfo.output_scanline == cinfo.output_height,
                  SCORR_EFORMAT, "'%s': truncated JPEG: %s (libjpeg)", path,
                  jerr.msg[0] ? jerr.msg : "fewer scanlines than the header promises");
    jpeg_finish_decompress(&cinfo);
    SCORR_REQUIRE(!jerr.truncated, SCORR_EFORMAT, "'%s': truncated JPEG: %s (libjpeg)", path,
                  jerr.msg);
    img->width = w;
    img->height = h;
    img->pixels = pixels;
    pixels = NULL;
done:
    if (created) jpeg_destroy_decompress(&cinfo);
    if (f) fclose(f);
    free(pixels);
    free(row4);
    return err;
}

/* ---- PNG --------------------------------------------------------------- */

struct png_ctx {
    char msg[256];
};

static void png_on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    scorr_debug("libpng warning: %s", msg);
}

int scorr_image_load_png(const char *path, struct scorr_image *img)
{
    volatile int err = 0; /* survives longjmp */
    struct png_ctx ctx = {{0}};
    png_structp png = NULL;
    png_infop info = NULL;
    FILE *volatile f = NULL;
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    unsigned char sig[8];
    memset(img, 0, sizeof *img);
    f = fopen(path, "rb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot open image '%s': %s", path, strerror(errno));
    SCORR_REQUIRE(fread(sig, 1, 8, f) == 8 && !png_sig_cmp(sig, 0, 8), SCORR_EFORMAT,
                  "'%s': not a PNG file (bad signature)", path);
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    SCORR_REQUIRE(png, SCORR_ENOMEM, "cannot create a PNG reader for '%s'", path);
    info = png_create_info_struct(png);
    SCORR_REQUIRE(info, SCORR_ENOMEM, "cannot create a PNG reader for '%s'", path);
    if (setjmp(png_jmpbuf(png))) {
        SCORR_FAIL(SCORR_EFORMAT, "'%s': corrupt or unsupported PNG: %s (libpng)", path,
                   ctx.msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int type = png_get_color_type(png, info);
    SCORR_REQUIRE(w > 0 && h > 0 && (size_t)w * h <= MAX_PIXELS, SCORR_EFORMAT,
                  "'%s': PNG header gives an implausible size %ux%u", path, (unsigned)w,
                  (unsigned)h);
    /* Same result as PIL's convert("RGB"): expand palette and low-depth gray,
     * take the high byte of 16-bit samples, drop alpha (no compositing). */
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((type & PNG_COLOR_MASK_COLOR) == 0) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    SCORR_REQUIRE(png_get_channels(png, info) == 3 && png_get_bit_depth(png, info) == 8 &&
                      png_get_rowbytes(png, info) == (size_t)w * 3,
                  SCORR_EFORMAT,
                  "'%s': PNG (colour type %d) did not convert to 8-bit RGB (got %d channels, "
                  "%d bits)",
                  path, type, png_get_channels(png, info), png_get_bit_depth(png, info));
    pixels = malloc((size_t)w * h * 3);
    rows = malloc(h * sizeof *rows);
    SCORR_REQUIRE(pixels && rows, SCORR_ENOMEM, "out of memory decoding '%s'", path);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    img->width = (int)w;
    img->height = (int)h;
    img->pixels = pixels;
    pixels = NULL;
done:
    if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    if (f) fclose(f);
    free(pixels);
    free(rows);
    return err;
}

int scorr_image_load(const char *path, struct scorr_image *img)
{
    int err = 0;
    unsigned char m[8] = {0};
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot open image '%s': %s", path, strerror(errno));
    size_t n = fread(m, 1, sizeof m, f);
    fclose(f);
    if (n >= 3 && m[0] == 0xFF && m[1] == 0xD8 && m[2] == 0xFF) {
        SCORR_TRY(scorr_image_load_jpeg(path, img));
    } else if (n == 8 && !png_sig_cmp(m, 0, 8)) {
        SCORR_TRY(scorr_image_load_png(path, img));
    } else {
        SCORR_FAIL(SCORR_EFORMAT,
                   "'%s': not a JPEG or PNG file (%zu bytes read, starts with %02x %02x %02x %02x)",
                   path, n, m[0], m[1], m[2], m[3]);
    }
done:
    return err;
}

/* ---- encoding ---------------------------------------------------------- */

/* The end of an encoder's atomic write: close the temporary file f (NULL if
 * it was never opened) and, when err is 0 and the image was written, commit
 * it as path; otherwise remove it. Returns the resulting status. */
static int close_and_commit(FILE *f, int err, int written, const char *tmp, const char *path)
{
    if (!f) return err;
    int rc = fclose(f);
    if (!err && rc != 0)
        err = scorr_error_set(SCORR_EIO, __FILE__, __LINE__, __func__, "cannot write '%s': %s",
                              tmp, strerror(errno));
    if (!err && written) {
        err = scorr_commit_file(tmp, path);
        if (err) scorr_error_trace(__FILE__, __LINE__, __func__);
    } else {
        unlink(tmp);
    }
    return err;
}

int scorr_image_write_png(const char *path, const uint8_t *pixels, int width, int height,
                          int channels)
{
    volatile int err = 0; /* survives longjmp */
    struct png_ctx ctx = {{0}};
    png_structp png = NULL;
    png_infop info = NULL;
    FILE *volatile f = NULL;
    volatile int written = 0;
    char tmp[4096];
    SCORR_REQUIRE(width > 0 && height > 0 && (channels == 1 || channels == 3 || channels == 4),
                  SCORR_EINVAL, "'%s': cannot write a %dx%d PNG with %d channels", path, width,
                  height, channels);
    scorr_tmp_path(path, tmp, sizeof tmp);
    f = fopen(tmp, "wb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    SCORR_REQUIRE(png, SCORR_ENOMEM, "cannot create a PNG writer for '%s'", path);
    info = png_create_info_struct(png);
    SCORR_REQUIRE(info, SCORR_ENOMEM, "cannot create a PNG writer for '%s'", path);
    if (setjmp(png_jmpbuf(png))) {
        SCORR_FAIL(SCORR_EIO, "'%s': PNG write failed: %s (libpng)", path, ctx.msg);
    }
    png_init_io(png, f);
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY
               : channels == 3 ? PNG_COLOR_TYPE_RGB
                               : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, NULL);
    written = 1;
done:
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    return close_and_commit(f, err, written, tmp, path);
}

int scorr_image_write_jpeg(const char *path, const uint8_t *pixels, int width, int height,
                           int channels, int quality)
{
    volatile int err = 0; /* survives longjmp */
    struct jpeg_compress_struct cinfo;
    struct jpeg_err jerr;
    FILE *volatile f = NULL;
    volatile int created = 0, written = 0;
    char tmp[4096];
    memset(&jerr, 0, sizeof jerr);
    SCORR_REQUIRE(width > 0 && height > 0 && (channels == 1 || channels == 3) && quality >= 1 &&
                      quality <= 100,
                  SCORR_EINVAL, "'%s': cannot write a %dx%d JPEG with %d channels, quality %d",
                  path, width, height, channels, quality);
    scorr_tmp_path(path, tmp, sizeof tmp);
    f = fopen(tmp, "wb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.output_message = jpeg_silent;
    if (setjmp(jerr.jb)) {
        SCORR_FAIL(SCORR_EIO, "'%s': JPEG write failed: %s (libjpeg)", path, jerr.msg);
    }
    jpeg_create_compress(&cinfo);
    created = 1;
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row[1] = {(JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * channels)};
        jpeg_write_scanlines(&cinfo, row, 1);
    }
    jpeg_finish_compress(&cinfo);
    written = 1;
done:
    if (created) jpeg_destroy_compress(&cinfo);
    return close_and_commit(f, err, written, tmp, path);
}
