/* Photometric augmentation pipeline and its simple ops; colour jitter and the
 * HSV conversions are in augment_color.c. See include/scorr/augment.h and
 * docs/data-path.md. */
#include "scorr/augment.h"

#include <math.h>
#include <string.h>

#include "scorr/rng.h"

static inline uint8_t sat_round(float v)
{
    /* OpenCV saturate_cast<uchar>(float): round half to even, then clamp. */
    long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

void scorr_aug_sample(struct scorr_aug_params *p, uint64_t seed, uint32_t epoch, uint32_t sample,
                      uint32_t side, float prob)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_AUGMENT, epoch, sample, side);
    memset(p, 0, sizeof *p);
    for (int i = 0; i < SCORR_AUG_NUM_OPS; i++) p->apply[i] = scorr_rng_uniform(&r) < prob;
    p->sharpen_alpha = scorr_rng_range(&r, 0.2f, 0.5f);
    p->sharpen_lightness = scorr_rng_range(&r, 0.5f, 1.0f);
    p->bc_alpha = 1.0f + scorr_rng_range(&r, -0.2f, 0.2f);
    p->bc_beta = scorr_rng_range(&r, -0.2f, 0.2f);
    for (int i = 0; i < 3; i++) p->jitter[i] = scorr_rng_range(&r, 0.8f, 1.2f);
    p->jitter[SCORR_JITTER_HUE] = scorr_rng_range(&r, -0.2f, 0.2f);
    int32_t perm[4];
    scorr_rng_permutation(&r, perm, 4);
    for (int i = 0; i < 4; i++) p->jitter_order[i] = perm[i];
}

uint8_t scorr_aug_luma(const uint8_t *rgb)
{
    /* OpenCV CV_DESCALE(R*4899 + G*9617 + B*1868, 14): 0.299, 0.587, 0.114. */
    return (uint8_t)((rgb[0] * 4899 + rgb[1] * 9617 + rgb[2] * 1868 + (1 << 13)) >> 14);
}

void scorr_aug_to_gray(uint8_t *img, size_t npix)
{
    for (size_t i = 0; i < npix; i++) {
        uint8_t y = scorr_aug_luma(img + 3 * i);
        img[3 * i] = img[3 * i + 1] = img[3 * i + 2] = y;
    }
}

void scorr_aug_posterize(uint8_t *img, size_t npix, int bits)
{
    uint8_t mask = (uint8_t)~((1u << (8 - bits)) - 1u);
    for (size_t i = 0; i < 3 * npix; i++) img[i] &= mask;
}

void scorr_aug_equalize(uint8_t *img, size_t npix)
{
    for (int c = 0; c < 3; c++) {
        int hist[256] = {0};
        uint8_t lut[256];
        for (size_t i = 0; i < npix; i++) hist[img[3 * i + c]]++;
        int i = 0;
        while (i < 255 && !hist[i]) i++;
        if ((size_t)hist[i] == npix) continue; /* one value: cv2 leaves it as it is */
        /* cv2.equalizeHist: lut[first] = 0, lut[j] = round(cumsum(j) * 255 / (n - h[first])). */
        float scale = 255.0f / (float)(npix - (size_t)hist[i]);
        memset(lut, 0, sizeof lut);
        int sum = 0;
        for (lut[i++] = 0; i < 256; i++) {
            sum += hist[i];
            lut[i] = sat_round((float)sum * scale);
        }
        for (size_t k = 0; k < npix; k++) img[3 * k + c] = lut[img[3 * k + c]];
    }
}

static inline int reflect101(int i, int n)
{
    if (n == 1) return 0;
    if (i < 0) return -i;
    if (i >= n) return 2 * n - 2 - i;
    return i;
}

void scorr_aug_sharpen(uint8_t *out, const uint8_t *in, int height, int width, float alpha,
                       float lightness)
{
    float centre = (1.0f - alpha) + alpha * (8.0f + lightness), side = -alpha;
    size_t rs = (size_t)width * 3;
    for (int y = 0; y < height; y++) {
        const uint8_t *up = in + (size_t)reflect101(y - 1, height) * rs;
        const uint8_t *mid = in + (size_t)y * rs;
        const uint8_t *dn = in + (size_t)reflect101(y + 1, height) * rs;
        uint8_t *o = out + (size_t)y * rs;
        for (int x = 0; x < width; x++) {
            size_t l = 3 * (size_t)reflect101(x - 1, width), m = 3 * (size_t)x,
                   r = 3 * (size_t)reflect101(x + 1, width);
            for (int c = 0; c < 3; c++) {
                float ring = (float)(up[l + c] + up[m + c] + up[r + c] + mid[l + c] + mid[r + c] +
                                     dn[l + c] + dn[m + c] + dn[r + c]);
                o[m + c] = sat_round(centre * (float)mid[m + c] + side * ring);
            }
        }
    }
}

void scorr_aug_brightness_contrast(uint8_t *img, size_t npix, float alpha, float beta)
{
    uint8_t lut[256];
    for (int i = 0; i < 256; i++) {
        float v = (float)i;
        if (alpha != 1.0f) v *= alpha;
        if (beta != 0.0f) v += beta * 255.0f;
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        lut[i] = (uint8_t)v; /* numpy astype(uint8): truncation */
    }
    for (size_t i = 0; i < 3 * npix; i++) img[i] = lut[img[i]];
}

void scorr_aug_solarize(uint8_t *img, size_t npix, int threshold)
{
    for (size_t i = 0; i < 3 * npix; i++)
        if (img[i] >= threshold) img[i] = (uint8_t)(255 - img[i]);
}

void scorr_aug_apply(uint8_t *img, int height, int width, const struct scorr_aug_params *p,
                     uint8_t *scratch)
{
    size_t npix = (size_t)height * width;
    if (p->apply[SCORR_AUG_TO_GRAY]) scorr_aug_to_gray(img, npix);
    if (p->apply[SCORR_AUG_POSTERIZE]) scorr_aug_posterize(img, npix, 4);
    if (p->apply[SCORR_AUG_EQUALIZE]) scorr_aug_equalize(img, npix);
    if (p->apply[SCORR_AUG_SHARPEN]) {
        memcpy(scratch, img, npix * 3);
        scorr_aug_sharpen(img, scratch, height, width, p->sharpen_alpha, p->sharpen_lightness);
    }
    if (p->apply[SCORR_AUG_BRIGHTNESS_CONTRAST])
        scorr_aug_brightness_contrast(img, npix, p->bc_alpha, p->bc_beta);
    if (p->apply[SCORR_AUG_SOLARIZE]) scorr_aug_solarize(img, npix, 128);
    if (p->apply[SCORR_AUG_COLOR_JITTER])
        for (int i = 0; i < 4; i++)
            scorr_aug_jitter_op(img, npix, (enum scorr_jitter_op)p->jitter_order[i],
                                p->jitter[p->jitter_order[i]]);
}

void scorr_aug_normalize(float *out, const uint8_t *in, size_t npix)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    float m[3], inv[3];
    for (int c = 0; c < 3; c++) {
        m[c] = mean[c] * 255.0f;
        inv[c] = 1.0f / (std[c] * 255.0f);
    }
    for (size_t i = 0; i < npix; i++)
        for (int c = 0; c < 3; c++) out[3 * i + c] = ((float)in[3 * i + c] - m[c]) * inv[c];
}
