/* Image files and the antialiased resize. Local; no MPI.
 *
 * Decoding gives interleaved 8-bit RGB, (H, W, 3) row-major, like PIL's
 * Image.open(path).convert("RGB"):
 *   JPEG (libjpeg-turbo): grayscale expanded to RGB; CMYK/YCCK converted with
 *     PIL's formula, assuming Adobe's inverted CMYK storage as PIL does. A
 *     corrupt or truncated file is an error naming the file and libjpeg's
 *     reason; libjpeg's benign warnings (extraneous bytes) are ignored, as
 *     PIL ignores them.
 *   PNG (libpng): palette expanded, grayscale expanded, alpha dropped (not
 *     composited, as PIL's convert("RGB") does), 16-bit reduced to the high
 *     byte, interlacing handled.
 * The format is chosen by the file's first bytes, not its extension.
 *
 * Encoding writes through a temporary file renamed into place, so a crash
 * never leaves a half-written image. */
#ifndef SCORR_IMAGE_H
#define SCORR_IMAGE_H

#include <stdint.h>

/* A decoded image. pixels: (height, width, 3) uint8 RGB, owned by the struct
 * (malloc'ed by the loader, freed by scorr_image_free). */
struct scorr_image {
    int width, height;
    uint8_t *pixels;
};

/* Decode a JPEG or PNG file (by magic bytes) into RGB8. On error *img is left
 * empty (pixels NULL) and the message names the file and the library's reason. */
int scorr_image_load(const char *path, struct scorr_image *img);
int scorr_image_load_jpeg(const char *path, struct scorr_image *img);
int scorr_image_load_png(const char *path, struct scorr_image *img);
/* Frees pixels and zeroes the struct; safe on a zeroed struct. */
void scorr_image_free(struct scorr_image *img);

/* Write pixels (H, W, C) uint8 as an 8-bit PNG; channels 1 (gray), 3 (RGB) or
 * 4 (RGBA). Atomic (temporary + rename). */
int scorr_image_write_png(const char *path, const uint8_t *pixels, int width, int height,
                          int channels);
/* Write pixels (H, W, C) uint8 as a baseline JPEG; channels 1 or 3; quality
 * 1..100. Atomic. */
int scorr_image_write_jpeg(const char *path, const uint8_t *pixels, int width, int height,
                           int channels, int quality);

/* Antialiased bilinear resize that reproduces PIL's Image.resize(size,
 * Image.BILINEAR) (ImagingResample): a separable triangle filter whose support
 * grows with the downscale factor, horizontal pass first into an 8-bit
 * intermediate, then vertical, with PIL's 22-bit fixed-point coefficients, so
 * results are bit-identical to PIL for 8-bit images of 1..4 channels.
 *
 * A plan holds the coefficients and the intermediate buffer for one
 * (in_w, in_h) -> (out_w, out_h) shape and up to 4 channels; applying it does
 * not allocate. */
struct scorr_resize_plan {
    int in_w, in_h, out_w, out_h;
    int kw, kh;                 /* taps per output column / row */
    int *xb, *yb;               /* (out, 2): first input index, tap count */
    int32_t *xk, *yk;           /* (out, k): fixed-point weights */
    uint8_t *tmp;               /* (in_h, out_w, 4): horizontal pass output */
};
int scorr_resize_plan_init(struct scorr_resize_plan *p, int in_w, int in_h, int out_w,
                           int out_h);
void scorr_resize_plan_free(struct scorr_resize_plan *p);
/* out: (out_h, out_w, C); in: (in_h, in_w, C); C in 1..4. */
void scorr_resize_apply(const struct scorr_resize_plan *p, uint8_t *out, const uint8_t *in,
                        int channels);
/* One-off convenience: plan, apply, free (allocates; not for hot loops). */
int scorr_resize_u8(uint8_t *out, int out_w, int out_h, const uint8_t *in, int in_w, int in_h,
                    int channels);

#endif
