/* Photometric training augmentation: the paper's albumentations pipeline
 * (SCorrSAN data/dataset.py), re-implemented on 8-bit RGB with albumentations'
 * default parameters as of 2022 (version 1.x) and OpenCV's 8-bit arithmetic.
 * Exact semantics of every op: docs/data-path.md.
 *
 * In this order, each applied with probability p (0.2 in the paper):
 *   ToGray, Posterize(4 bits), Equalize (per channel), Sharpen, RandomBrightness-
 *   Contrast, Solarize(128), ColorJitter(0.2, 0.2, 0.2, 0.2, random order);
 * then ImageNet normalisation to float. All randomness for one image is drawn
 * up front from the counter RNG keyed by (seed, epoch, sample, side)
 * (stream SCORR_RNG_AUGMENT), so it never depends on the rank or thread that
 * draws it. Images are (H, W, 3) uint8 RGB, row-major. Local, thread-safe,
 * no allocation. */
#ifndef SCORR_AUGMENT_H
#define SCORR_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

enum scorr_aug_op {
    SCORR_AUG_TO_GRAY = 0,
    SCORR_AUG_POSTERIZE,
    SCORR_AUG_EQUALIZE,
    SCORR_AUG_SHARPEN,
    SCORR_AUG_BRIGHTNESS_CONTRAST,
    SCORR_AUG_SOLARIZE,
    SCORR_AUG_COLOR_JITTER,
    SCORR_AUG_NUM_OPS
};

/* Colour-jitter sub-operations, in torchvision's listing order. */
enum scorr_jitter_op { SCORR_JITTER_BRIGHTNESS = 0, SCORR_JITTER_CONTRAST, SCORR_JITTER_SATURATION,
                       SCORR_JITTER_HUE };

/* The random decisions for one image. */
struct scorr_aug_params {
    uint8_t apply[SCORR_AUG_NUM_OPS];
    float sharpen_alpha;      /* U(0.2, 0.5) */
    float sharpen_lightness;  /* U(0.5, 1.0) */
    float bc_alpha;           /* contrast 1 + U(-0.2, 0.2) */
    float bc_beta;            /* brightness U(-0.2, 0.2), times 255 (brightness_by_max) */
    float jitter[4];          /* brightness, contrast, saturation U(0.8, 1.2); hue U(-0.2, 0.2) */
    int jitter_order[4];      /* a permutation of enum scorr_jitter_op */
};

/* Draw the decisions for one image: key (seed, stream SCORR_RNG_AUGMENT),
 * counter (epoch, sample, side) with side 0 = source, 1 = target. prob: the
 * probability of each op (0.2). Every parameter is drawn whether or not its op
 * is applied, so the draws of one op never shift another's. */
void scorr_aug_sample(struct scorr_aug_params *p, uint64_t seed, uint32_t epoch, uint32_t sample,
                      uint32_t side, float prob);

/* Apply the drawn ops in order, in place. img: (H, W, 3); scratch: H*W*3 bytes
 * (Sharpen needs a copy). */
void scorr_aug_apply(uint8_t *img, int height, int width, const struct scorr_aug_params *p,
                     uint8_t *scratch);

/* ImageNet normalisation, as albumentations' Normalize: out = (x - 255*mean) /
 * (255*std) per channel, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
 * out: (npix, 3) float; in: (npix, 3) uint8. */
void scorr_aug_normalize(float *out, const uint8_t *in, size_t npix);

/* The single ops, exposed for tests and tools. img: (npix, 3) unless noted. */
/* OpenCV RGB2GRAY (fixed point 4899, 9617, 1868 / 2^14, rounded): the luma of
 * one pixel. */
uint8_t scorr_aug_luma(const uint8_t *rgb);
void scorr_aug_to_gray(uint8_t *img, size_t npix);
void scorr_aug_posterize(uint8_t *img, size_t npix, int bits);
/* cv2.equalizeHist on each channel separately. */
void scorr_aug_equalize(uint8_t *img, size_t npix);
/* 3x3 filter (1-alpha)*identity + alpha*[-1 -1 -1; -1 8+lightness -1; -1 -1 -1],
 * reflect-101 border, rounded and saturated. out, in: (H, W, 3), distinct. */
void scorr_aug_sharpen(uint8_t *out, const uint8_t *in, int height, int width, float alpha,
                       float lightness);
/* lut[i] = trunc(clip(i*alpha + beta*255, 0, 255)) in float32. */
void scorr_aug_brightness_contrast(uint8_t *img, size_t npix, float alpha, float beta);
/* x >= threshold -> 255 - x. */
void scorr_aug_solarize(uint8_t *img, size_t npix, int threshold);
/* One colour-jitter sub-op with factor f (albumentations' *_torchvision functions). */
void scorr_aug_jitter_op(uint8_t *img, size_t npix, enum scorr_jitter_op op, float f);
/* OpenCV's 8-bit HSV (H in [0, 180)) conversions of one pixel. */
void scorr_aug_rgb_to_hsv(const uint8_t rgb[3], uint8_t hsv[3]);
void scorr_aug_hsv_to_rgb(const uint8_t hsv[3], uint8_t rgb[3]);

#endif
