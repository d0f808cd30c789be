/* Photometric augmentation: each op checked against a property computed here
 * independently (not against our own output), plus the pipeline's
 * randomness: p = 0.2 per op over many keys, determinism per key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/augment.h"
#include "scorr/rng.h"

enum { W = 48, H = 40, NPIX = W * H };

/* A test image with smooth gradients, a bright blob and noise (all values used). */
static void make_image(uint8_t *img, uint32_t seed)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_TEST, 1, 2, 3);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            uint8_t *p = img + 3 * (i * W + j);
            float blob = expf(-((i - 20) * (i - 20) + (j - 30) * (j - 30)) / 60.0f);
            p[0] = (uint8_t)fminf(255, 40 + 3 * j + 100 * blob + scorr_rng_below(&r, 20));
            p[1] = (uint8_t)fminf(255, 20 + 4 * i + 60 * blob + scorr_rng_below(&r, 20));
            p[2] = (uint8_t)fminf(255, 90 + (i + j) + scorr_rng_below(&r, 30));
        }
}

static void test_gray(void)
{
    uint8_t img[NPIX * 3], ref[NPIX * 3];
    make_image(img, 1);
    memcpy(ref, img, sizeof img);
    scorr_aug_to_gray(img, NPIX);
    int bad = 0;
    for (int i = 0; i < NPIX; i++) {
        const uint8_t *p = img + 3 * i, *q = ref + 3 * i;
        double y = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]; /* ITU-R 601 luma */
        if (p[0] != p[1] || p[1] != p[2] || fabs(p[0] - y) > 0.51) bad++;
    }
    CHECK(bad == 0, "to_gray: %d pixels not gray with 601 weights", bad);
}

static void test_posterize(void)
{
    uint8_t img[NPIX * 3], ref[NPIX * 3];
    make_image(img, 2);
    memcpy(ref, img, sizeof img);
    scorr_aug_posterize(img, NPIX, 4);
    int bad = 0;
    for (int i = 0; i < NPIX * 3; i++)
        if ((img[i] & 15) != 0 || img[i] != (ref[i] / 16) * 16) bad++;
    CHECK(bad == 0, "posterize: %d values do not keep exactly the top 4 bits", bad);
}

static void test_equalize(void)
{
    uint8_t img[NPIX * 3], ref[NPIX * 3];
    make_image(img, 3);
    /* squeeze channel 0 into a narrow range so equalisation has work to do */
    for (int i = 0; i < NPIX; i++) img[3 * i] = (uint8_t)(100 + img[3 * i] / 8);
    memcpy(ref, img, sizeof img);
    scorr_aug_equalize(img, NPIX);
    for (int c = 0; c < 3; c++) {
        /* order preserved; the empirical CDF of the output is close to uniform */
        int bad_order = 0;
        for (int i = 1; i < NPIX; i++)
            if ((ref[3 * i + c] < ref[3 * (i - 1) + c] && img[3 * i + c] > img[3 * (i - 1) + c]) ||
                (ref[3 * i + c] > ref[3 * (i - 1) + c] && img[3 * i + c] < img[3 * (i - 1) + c]))
                bad_order++; /* a monotone map may merge values but never reverse them */
        int hist[256] = {0};
        for (int i = 0; i < NPIX; i++) hist[img[3 * i + c]]++;
        double cum = 0, worst = 0;
        int lo = 255, hi = 0;
        for (int v = 0; v < 256; v++) {
            if (hist[v]) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
            cum += hist[v];
            /* cv2: values map to round(255 * cdf_excl_first); the CDF at v is ~ v / 255 */
            if (hist[v]) {
                double d = fabs(cum / NPIX - (double)v / 255.0);
                worst = d > worst ? d : worst;
            }
        }
        CHECK(bad_order == 0, "equalize channel %d: order of values changed %d times", c, bad_order);
        CHECK(lo == 0 && hi == 255, "equalize channel %d: range [%d, %d], want [0, 255]", c, lo, hi);
        CHECK(worst < 0.06, "equalize channel %d: CDF deviates from flat by %.3f", c, worst);
    }
    /* a constant channel stays as it is (cv2 behaviour) */
    uint8_t flat[NPIX * 3];
    memset(flat, 77, sizeof flat);
    scorr_aug_equalize(flat, NPIX);
    CHECK(flat[0] == 77 && flat[NPIX * 3 - 1] == 77, "equalize of a constant image changed it");
}

static void test_sharpen(void)
{
    uint8_t img[NPIX * 3], out[NPIX * 3];
    /* a flat image: the kernel sums to (1 - alpha) + alpha*lightness (albumentations'
     * effect matrix sums to the lightness) */
    memset(img, 100, sizeof img);
    float alpha = 0.3f, light = 0.8f;
    scorr_aug_sharpen(out, img, H, W, alpha, light);
    int want = (int)lrint(100 * (1 - alpha + alpha * light));
    int bad = 0;
    for (int i = 0; i < NPIX * 3; i++) bad += out[i] != want;
    CHECK(bad == 0, "sharpen flat: %d values differ from %d", bad, want);
    /* a vertical step edge: contrast across the edge grows (overshoot), far pixels only scale */
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            for (int c = 0; c < 3; c++) img[3 * (i * W + j) + c] = j < W / 2 ? 60 : 160;
    scorr_aug_sharpen(out, img, H, W, alpha, light);
    int r = H / 2;
    int left = out[3 * (r * W + W / 2 - 1)], right = out[3 * (r * W + W / 2)];
    /* by hand: left = 60(1-a) + a((8+L)60 - 5*60 - 3*160), right = 160(1-a) + a((8+L)160 - 5*160 - 3*60) */
    double l_ref = 60 * (1 - alpha) + alpha * ((8 + light) * 60 - 5 * 60 - 3 * 160);
    double r_ref = 160 * (1 - alpha) + alpha * ((8 + light) * 160 - 5 * 160 - 3 * 60);
    CHECK(fabs(left - fmax(0, l_ref)) <= 0.51 && fabs(right - fmin(255, r_ref)) <= 0.51,
          "sharpen edge: got %d | %d, want %.1f | %.1f", left, right, l_ref, r_ref);
    CHECK(right - left > 100, "sharpen did not increase edge contrast");
}

static void test_brightness_contrast(void)
{
    uint8_t img[256 * 3];
    for (int i = 0; i < 256; i++) img[3 * i] = img[3 * i + 1] = img[3 * i + 2] = (uint8_t)i;
    float a = 1.15f, b = -0.1f;
    scorr_aug_brightness_contrast(img, 256, a, b);
    int bad = 0;
    for (int i = 0; i < 256; i++) {
        double v = i * (double)a + (double)b * 255;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        if (abs(img[3 * i] - (int)floor(v)) > 1 || (i && img[3 * i] < img[3 * (i - 1)])) bad++;
    }
    CHECK(bad == 0, "brightness/contrast: %d values off alpha*x + beta*255 (truncated)", bad);
}

static void test_solarize(void)
{
    uint8_t img[256 * 3];
    for (int i = 0; i < 256 * 3; i++) img[i] = (uint8_t)(i / 3);
    scorr_aug_solarize(img, 256, 128);
    int bad = 0;
    for (int i = 0; i < 256; i++) bad += img[3 * i] != (i >= 128 ? 255 - i : i);
    CHECK(bad == 0, "solarize: %d values wrong", bad);
}

static void test_jitter(void)
{
    uint8_t img[NPIX * 3], ref[NPIX * 3];
    make_image(ref, 4);
    /* brightness: x * f truncated and clipped */
    memcpy(img, ref, sizeof img);
    const float fb = 1.17f; /* factors are float32 in our parameter struct */
    scorr_aug_jitter_op(img, NPIX, SCORR_JITTER_BRIGHTNESS, fb);
    int bad = 0;
    for (int i = 0; i < NPIX * 3; i++) bad += img[i] != (int)fmin(255.0, floor(ref[i] * (double)fb));
    CHECK(bad == 0, "jitter brightness: %d values wrong", bad);
    /* saturation 0 gives the gray image; saturation 1 is the identity */
    memcpy(img, ref, sizeof img);
    scorr_aug_jitter_op(img, NPIX, SCORR_JITTER_SATURATION, 0.0f);
    bad = 0;
    for (int i = 0; i < NPIX; i++) {
        double y = 0.299 * ref[3 * i] + 0.587 * ref[3 * i + 1] + 0.114 * ref[3 * i + 2];
        for (int c = 0; c < 3; c++) bad += fabs(img[3 * i + c] - y) > 1.01;
    }
    CHECK(bad == 0, "jitter saturation 0: %d values not gray", bad);
    /* contrast: the image mean (luma) is a fixed point, spread scales by f */
    memcpy(img, ref, sizeof img);
    scorr_aug_jitter_op(img, NPIX, SCORR_JITTER_CONTRAST, 0.8f);
    double m0 = 0, m1 = 0, v0 = 0, v1 = 0;
    for (int i = 0; i < NPIX * 3; i++) m0 += ref[i], m1 += img[i];
    m0 /= NPIX * 3, m1 /= NPIX * 3;
    for (int i = 0; i < NPIX * 3; i++) v0 += (ref[i] - m0) * (ref[i] - m0), v1 += (img[i] - m1) * (img[i] - m1);
    double ratio = sqrt(v1 / v0);
    CHECK(fabs(ratio - 0.8) < 0.03, "jitter contrast 0.8: spread ratio %.3f", ratio);
    /* hue: HSV round trip, and pure colours rotate by the hue shift */
    int worst = 0;
    for (int i = 0; i < NPIX; i++) {
        uint8_t hsv[3], back[3];
        scorr_aug_rgb_to_hsv(ref + 3 * i, hsv);
        scorr_aug_hsv_to_rgb(hsv, back);
        for (int c = 0; c < 3; c++) {
            int d = abs(back[c] - ref[3 * i + c]);
            worst = d > worst ? d : worst;
        }
    }
    CHECK(worst <= 6, "HSV round trip error %d", worst);
    uint8_t red[3] = {255, 0, 0}, hsv[3];
    scorr_aug_rgb_to_hsv(red, hsv);
    CHECK(hsv[0] == 0 && hsv[1] == 255 && hsv[2] == 255, "red -> HSV (%d %d %d)", hsv[0], hsv[1],
          hsv[2]);
    uint8_t px[3] = {255, 0, 0};
    scorr_aug_jitter_op(px, 1, SCORR_JITTER_HUE, 1.0f / 3.0f); /* +60 of 180: red -> green */
    CHECK(px[0] == 0 && px[1] == 255 && px[2] == 0, "hue +1/3: red became (%d %d %d)", px[0], px[1],
          px[2]);
    uint8_t px2[3] = {255, 0, 0};
    /* -59.9 of 180 (truncated into 120): red -> blue */
    scorr_aug_jitter_op(px2, 1, SCORR_JITTER_HUE, -0.3328f);
    CHECK(px2[0] == 0 && px2[1] == 0 && px2[2] == 255, "hue -1/3: red became (%d %d %d)", px2[0],
          px2[1], px2[2]);
}

static void test_random(void)
{
    /* p = 0.2 per op over many keys; parameters inside their ranges. */
    enum { N = 20000 };
    int count[SCORR_AUG_NUM_OPS] = {0}, out_of_range = 0, first_pos[4] = {0};
    for (int i = 0; i < N; i++) {
        struct scorr_aug_params p;
        scorr_aug_sample(&p, 99, (uint32_t)(i % 7), (uint32_t)i, (uint32_t)(i & 1), 0.2f);
        for (int k = 0; k < SCORR_AUG_NUM_OPS; k++) count[k] += p.apply[k];
        out_of_range += p.sharpen_alpha < 0.2f || p.sharpen_alpha > 0.5f ||
                        p.sharpen_lightness < 0.5f || p.sharpen_lightness > 1.0f ||
                        fabsf(p.bc_alpha - 1) > 0.2f || fabsf(p.bc_beta) > 0.2f ||
                        fabsf(p.jitter[3]) > 0.2f;
        for (int k = 0; k < 3; k++) out_of_range += p.jitter[k] < 0.8f || p.jitter[k] > 1.2f;
        int seen = 0;
        for (int k = 0; k < 4; k++) seen |= 1 << p.jitter_order[k];
        out_of_range += seen != 15;
        first_pos[p.jitter_order[0]]++;
    }
    for (int k = 0; k < SCORR_AUG_NUM_OPS; k++) {
        double f = (double)count[k] / N;
        CHECK(fabs(f - 0.2) < 0.012, "op %d applied with frequency %.4f, want 0.2", k, f);
    }
    CHECK(out_of_range == 0, "%d parameters out of range", out_of_range);
    for (int k = 0; k < 4; k++)
        CHECK(fabs(first_pos[k] / (double)N - 0.25) < 0.02, "jitter op %d first %.3f of the time", k,
              first_pos[k] / (double)N);
    /* determinism per key; other keys differ */
    struct scorr_aug_params a, b, c;
    scorr_aug_sample(&a, 5, 3, 17, 0, 1.0f);
    scorr_aug_sample(&b, 5, 3, 17, 0, 1.0f);
    scorr_aug_sample(&c, 5, 3, 17, 1, 1.0f);
    CHECK(!memcmp(&a, &b, sizeof a), "same key, different parameters");
    CHECK(memcmp(&a, &c, sizeof a) != 0, "source and target drew the same parameters");
    uint8_t x[NPIX * 3], y[NPIX * 3], s1[NPIX * 3];
    make_image(x, 9);
    memcpy(y, x, sizeof x);
    scorr_aug_apply(x, H, W, &a, s1);
    scorr_aug_apply(y, H, W, &b, s1);
    CHECK(!memcmp(x, y, sizeof x), "same key, different pixels");
}

static void test_normalize(void)
{
    uint8_t px[6] = {0, 128, 255, 124, 116, 104};
    float out[6];
    scorr_aug_normalize(out, px, 2);
    static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
    int bad = 0;
    for (int i = 0; i < 6; i++) bad += fabs(out[i] - (px[i] / 255.0 - mean[i % 3]) / std[i % 3]) > 1e-5;
    CHECK(bad == 0, "ImageNet normalisation wrong in %d values", bad);
}

int main(void)
{
    test_gray();
    test_posterize();
    test_equalize();
    test_sharpen();
    test_brightness_contrast();
    test_solarize();
    test_jitter();
    test_random();
    test_normalize();
    return scorr_test_finish("test_data_augment");
}
