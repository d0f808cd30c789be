/* Colour jitter (albumentations' *_torchvision functions on uint8) and
 * OpenCV's 8-bit HSV conversions. See docs/data-path.md. */
#include "scorr/augment.h"

#include <math.h>
#include <string.h>

static inline uint8_t sat_round(float v)
{
    long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

static inline uint8_t clip_trunc(double v)
{
    /* np.clip(v, 0, 255).astype(np.uint8) */
    return (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

enum { SHIFT = 12 };

/* OpenCV's division tables: round(255<<12 / v) and round(180<<12 / (6 d)). */
struct hsv_tables {
    int sdiv[256], hdiv[256];
};

static void hsv_tables_init(struct hsv_tables *t)
{
    t->sdiv[0] = t->hdiv[0] = 0;
    for (int i = 1; i < 256; i++) {
        t->sdiv[i] = (int)lrint((double)(255 << SHIFT) / i);
        t->hdiv[i] = (int)lrint((double)(180 << SHIFT) / (6.0 * i));
    }
}

static inline void rgb_to_hsv_t(const struct hsv_tables *t, const uint8_t rgb[3], uint8_t hsv[3])
{
    /* OpenCV RGB2HSV_b */
    int r = rgb[0], g = rgb[1], b = rgb[2];
    int v = b > g ? b : g;
    v = v > r ? v : r;
    int vmin = b < g ? b : g;
    vmin = vmin < r ? vmin : r;
    int diff = v - vmin;
    int vr = v == r ? -1 : 0, vg = v == g ? -1 : 0;
    int sdiv = t->sdiv[v], hdiv = t->hdiv[diff];
    int s = (diff * sdiv + (1 << (SHIFT - 1))) >> SHIFT;
    int h = (vr & (g - b)) + (~vr & ((vg & (b - r + 2 * diff)) + ((~vg) & (r - g + 4 * diff))));
    h = (h * hdiv + (1 << (SHIFT - 1))) >> SHIFT;
    h += h < 0 ? 180 : 0;
    hsv[0] = (uint8_t)h;
    hsv[1] = (uint8_t)s;
    hsv[2] = (uint8_t)v;
}

void scorr_aug_rgb_to_hsv(const uint8_t rgb[3], uint8_t hsv[3])
{
    struct hsv_tables t;
    hsv_tables_init(&t);
    rgb_to_hsv_t(&t, rgb, hsv);
}

void scorr_aug_hsv_to_rgb(const uint8_t hsv[3], uint8_t rgb[3])
{
    /* OpenCV HSV2RGB_b: to float (h, s/255, v/255), HSV2RGB_f with hscale 6/180, x255, round. */
    static const int sector_data[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1},
                                          {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
    float h = hsv[0], s = hsv[1] * (1.0f / 255.0f), v = hsv[2] * (1.0f / 255.0f);
    float r, g, b;
    if (s == 0.0f) {
        r = g = b = v;
    } else {
        h *= 6.0f / 180.0f;
        while (h < 0.0f) h += 6.0f;
        while (h >= 6.0f) h -= 6.0f;
        int sector = (int)floorf(h);
        h -= (float)sector;
        if (sector < 0 || sector >= 6) {
            sector = 0;
            h = 0.0f;
        }
        float tab[4] = {v, v * (1.0f - s), v * (1.0f - s * h), v * (1.0f - s * (1.0f - h))};
        b = tab[sector_data[sector][0]];
        g = tab[sector_data[sector][1]];
        r = tab[sector_data[sector][2]];
    }
    rgb[0] = sat_round(r * 255.0f);
    rgb[1] = sat_round(g * 255.0f);
    rgb[2] = sat_round(b * 255.0f);
}

void scorr_aug_jitter_op(uint8_t *img, size_t npix, enum scorr_jitter_op op, float f)
{
    uint8_t lut[256];
    switch (op) {
    case SCORR_JITTER_BRIGHTNESS:
        if (f == 1.0f) return;
        for (int i = 0; i < 256; i++) lut[i] = clip_trunc((double)i * f);
        for (size_t i = 0; i < 3 * npix; i++) img[i] = lut[img[i]];
        return;
    case SCORR_JITTER_CONTRAST: {
        if (f == 1.0f) return;
        double mean = 0.0; /* mean of the OpenCV gray image */
        for (size_t i = 0; i < npix; i++) mean += scorr_aug_luma(img + 3 * i);
        mean /= (double)(npix ? npix : 1);
        for (int i = 0; i < 256; i++) lut[i] = clip_trunc((double)i * f + mean * (1.0 - f));
        for (size_t i = 0; i < 3 * npix; i++) img[i] = lut[img[i]];
        return;
    }
    case SCORR_JITTER_SATURATION:
        if (f == 1.0f) return;
        /* cv2.addWeighted(img, f, gray, 1 - f, 0) */
        for (size_t i = 0; i < npix; i++) {
            float y = scorr_aug_luma(img + 3 * i);
            for (int c = 0; c < 3; c++)
                img[3 * i + c] = sat_round((float)img[3 * i + c] * f + y * (1.0f - f));
        }
        return;
    case SCORR_JITTER_HUE: {
        if (f == 0.0f) return;
        /* lut = mod(i + 180 f, 180).astype(uint8) on the 8-bit OpenCV hue */
        for (int i = 0; i < 256; i++) {
            double v = fmod((double)i + 180.0 * (double)f, 180.0);
            if (v < 0) v += 180.0;
            lut[i] = (uint8_t)v;
        }
        struct hsv_tables t;
        hsv_tables_init(&t);
        for (size_t i = 0; i < npix; i++) {
            uint8_t hsv[3];
            rgb_to_hsv_t(&t, img + 3 * i, hsv);
            hsv[0] = lut[hsv[0]];
            scorr_aug_hsv_to_rgb(hsv, img + 3 * i);
        }
        return;
    }
    }
}
