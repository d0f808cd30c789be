/* Dense ground truth of the synthetic benchmark.
 *
 * 1. Warp consistency: in the canonical-colour mode every object point is
 *    painted with a colour that encodes (part, local coordinates), so two
 *    different instances agree in colour exactly where they correspond. Warping
 *    the source image by the dense flow (bilinear) must reproduce the target's
 *    colours on visible object pixels away from part boundaries. A flow shifted
 *    by 3 pixels must fail the same criterion (the check can fail).
 * 2. Keypoints: the dense flow interpolated at each target keypoint whose four
 *    neighbouring pixels show one part points to the source keypoint (0.1 px).
 * 3. Appearance does not move geometry: the normal and canonical modes give the
 *    same keypoints and flow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/synth.h"

static float sample(const uint8_t *img, int S, float x, float y, int c, int *same_part)
{
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    if (x0 < 0 || y0 < 0 || x0 + 1 >= S || y0 + 1 >= S) {
        *same_part = 0;
        return 0;
    }
    float fx = x - x0, fy = y - y0;
    const uint8_t *p00 = img + 3 * (y0 * S + x0), *p01 = p00 + 3, *p10 = p00 + 3 * S,
                  *p11 = p10 + 3;
    *same_part = p00[0] == p01[0] && p00[0] == p10[0] && p00[0] == p11[0] && p00[0] >= 10 &&
                 p00[0] != 255;
    return (1 - fy) * ((1 - fx) * p00[c] + fx * p01[c]) + fy * ((1 - fx) * p10[c] + fx * p11[c]);
}

/* Fraction of comparable pixels whose G, B colours match within tol; *n: how
 * many compared; *mae: their mean absolute G/B difference. */
static double warp_match(const struct scorr_synth_pair *p, const float *flow, float shift, float tol,
                         int *n, double *mae)
{
    int S = p->size, good = 0, cnt = 0;
    double sum = 0;
    for (int i = 1; i < S - 1; i++)
        for (int j = 1; j < S - 1; j++) {
            const float *f = flow + 2 * (i * S + j);
            if (isnan(f[0])) continue;
            const uint8_t *t = p->trg_pixels + 3 * (i * S + j);
            int interior = 1; /* target pixel and its 8 neighbours on one part */
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++)
                    interior &= p->trg_pixels[3 * ((i + di) * S + j + dj)] == t[0];
            if (!interior) continue;
            int same;
            float sx = (float)j + f[0] + shift, sy = (float)i + f[1];
            float g = sample(p->src_pixels, S, sx, sy, 1, &same);
            if (!same) continue;
            float b = sample(p->src_pixels, S, sx, sy, 2, &same);
            float r = sample(p->src_pixels, S, sx, sy, 0, &same);
            cnt++;
            sum += 0.5 * (fabsf(g - t[1]) + fabsf(b - t[2]));
            if (fabsf(r - t[0]) < 0.5f && fabsf(g - t[1]) <= tol && fabsf(b - t[2]) <= tol) good++;
        }
    *n = cnt;
    *mae = cnt ? sum / cnt : 0.0;
    return cnt ? (double)good / cnt : 0.0;
}

static void flow_at(const float *flow, int S, float x, float y, float out[2])
{
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    x0 = x0 < 0 ? 0 : x0 > S - 2 ? S - 2 : x0;
    y0 = y0 < 0 ? 0 : y0 > S - 2 ? S - 2 : y0;
    float fx = x - x0, fy = y - y0;
    for (int c = 0; c < 2; c++) {
        float a = flow[2 * (y0 * S + x0) + c], b = flow[2 * (y0 * S + x0 + 1) + c];
        float d = flow[2 * ((y0 + 1) * S + x0) + c], e = flow[2 * ((y0 + 1) * S + x0 + 1) + c];
        out[c] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
    }
}

int main(void)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = 128;
    c.pairs[0] = 60, c.pairs[1] = 24, c.pairs[2] = 24;
    c.images_per_category[0] = 8, c.images_per_category[1] = c.images_per_category[2] = 6;
    c.seed = 3;
    int compared_total = 0, kp_checked = 0, kp_bad = 0;
    double worst_kp = 0;
    for (int q = 0; q < 18; q++) {
        int split = q < 12 ? 1 : 0; /* also training pairs: the flow exists for every pair */
        struct scorr_synth_pair pc, pn;
        CHECK_OK(scorr_synth_make_pair(&c, split, q, 1, &pc));
        CHECK_OK(scorr_synth_make_pair(&c, split, q, 0, &pn));
        if (!pc.dense_flow || !pn.dense_flow) break;
        int S = pc.size, n, n2;
        double mae, mae2;
        double ok = warp_match(&pc, pc.dense_flow, 0.0f, 4.0f, &n, &mae);
        compared_total += n;
        CHECK(n < 40 || (ok > 0.97 && mae < 1.5),
              "pair %d: warped source matches target (within 4 levels) on %.1f%% of %d pixels, "
              "mean error %.2f", q, 100 * ok, n, mae);
        /* negative control: a 2-pixel error in the flow must be visible */
        warp_match(&pc, pc.dense_flow, 2.0f, 4.0f, &n2, &mae2);
        CHECK(n2 < 40 || mae2 > 2.0 * mae + 1.0,
              "pair %d: a flow shifted by 2 px is not detected (mean error %.2f vs %.2f)", q, mae2,
              mae);
        /* keypoints */
        for (int k = 0; k < pc.num_kps; k++) {
            float tx = pc.trg_kps[2 * k], ty = pc.trg_kps[2 * k + 1], f[2];
            int x0 = (int)floorf(tx), y0 = (int)floorf(ty), finite = 1;
            for (int d = 0; d < 4; d++) {
                int xx = x0 + (d & 1), yy = y0 + (d >> 1);
                if (xx < 0 || yy < 0 || xx >= S || yy >= S || isnan(pc.dense_flow[2 * (yy * S + xx)]) ||
                    pc.trg_pixels[3 * (yy * S + xx)] != pc.trg_pixels[3 * (y0 * S + x0)])
                    finite = 0;
            }
            /* on a boundary (some neighbour has no flow or shows another part, whose
             * flow need not be close): not comparable by interpolation */
            if (!finite) continue;
            flow_at(pc.dense_flow, S, tx, ty, f);
            double e = hypot(tx + f[0] - pc.src_kps[2 * k], ty + f[1] - pc.src_kps[2 * k + 1]);
            kp_checked++;
            if (e > worst_kp) worst_kp = e;
            if (e > 0.1) kp_bad++;
        }
        /* appearance independent geometry */
        CHECK(pn.num_kps == pc.num_kps &&
                  !memcmp(pn.src_kps, pc.src_kps, sizeof(float) * 2 * pc.num_kps) &&
                  !memcmp(pn.dense_flow, pc.dense_flow, sizeof(float) * 2 * S * S) &&
                  !memcmp(pn.src_fg, pc.src_fg, (size_t)S * S),
              "pair %d: canonical colours changed the geometry", q);
        CHECK(memcmp(pn.src_pixels, pc.src_pixels, (size_t)3 * S * S) != 0,
              "pair %d: canonical and normal images are identical", q);
        scorr_synth_pair_free(&pc);
        scorr_synth_pair_free(&pn);
    }
    printf("warp compared %d pixels; %d keypoints checked, worst error %.3f px\n", compared_total,
           kp_checked, worst_kp);
    CHECK(compared_total > 2000, "too few pixels compared (%d)", compared_total);
    CHECK(kp_checked >= 50 && kp_bad == 0, "%d of %d keypoints: flow misses the source keypoint "
          "by > 0.1 px (worst %.3f)", kp_bad, kp_checked, worst_kp);
    return scorr_test_finish("test_synth_flow");
}
