/* The keypoint and warp pictures of one pair (include/scorr/pictures.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/draw.h"
#include "scorr/error.h"
#include "scorr/pck.h"
#include "scorr/pictures.h"

#define GAP 8
#define MIN_SIDE 256

static const uint8_t k_white[3] = {255, 255, 255};
static const uint8_t k_green[3] = {40, 220, 60};
static const uint8_t k_red[3] = {240, 40, 40};
static const uint8_t k_yellow[3] = {255, 230, 0};

static int display_side(int S) { return S < MIN_SIDE ? MIN_SIDE : S; }

int scorr_picture_pair(const char *png, const uint8_t *src, const uint8_t *trg, int S,
                       const float *trg_kps, const float *src_kps, const float *pred, int n,
                       float alpha, float T, struct scorr_pair_picture *out)
{
    int err = 0;
    struct scorr_canvas c = {0};
    const int D = display_side(S);
    const float z = (float)D / (float)S;
    memset(out, 0, sizeof *out);
    SCORR_TRY(scorr_canvas_init(&c, 2 * D + GAP, D, k_white));
    SCORR_TRY(scorr_canvas_paste(&c, 0, 0, src, S, S, D, D));
    SCORR_TRY(scorr_canvas_paste(&c, D + GAP, 0, trg, S, S, D, D));
    /* S-frame point -> canvas (pixel centres at integers) */
#define PX(v, off) (((v) + 0.5f) * z - 0.5f + (float)(off))
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < n; k++) {
            const float *t = trg_kps + 2 * k, *s = src_kps + 2 * k, *p = pred + 2 * k;
            if (!isfinite(t[0]) || !isfinite(s[0])) continue;
            const float d = hypotf(p[0] - s[0], p[1] - s[1]);
            const int ok = d <= alpha * T;
            const uint8_t *col = ok ? k_green : k_red;
            const float tx = PX(t[0], D + GAP), ty = PX(t[1], 0);
            const float px = PX(p[0], 0), py = PX(p[1], 0);
            const float sx = PX(s[0], 0), sy = PX(s[1], 0);
            if (pass == 0) {
                /* the error of a wrong transfer: prediction -> truth, thin */
                if (!ok) scorr_canvas_line(&c, px, py, sx, sy, 1, k_yellow);
            } else if (pass == 1) {
                scorr_canvas_line(&c, tx, ty, px, py, 2, col);
                out->drawn++;
                out->correct += ok;
            } else {
                scorr_canvas_ring(&c, sx, sy, 5, k_yellow); /* the true source point */
                scorr_canvas_dot(&c, px, py, 3, col);       /* the prediction */
                scorr_canvas_dot(&c, tx, ty, 3, col);       /* the target keypoint */
            }
        }
#undef PX
    SCORR_TRY(scorr_canvas_write_png(&c, png));
    out->width = c.w, out->height = c.h;
done:
    scorr_canvas_free(&c);
    return err;
}

/* Bilinear sample of img (S, S, 3) at (x, y); out of the image: grey. */
static void sample(const uint8_t *img, int S, float x, float y, uint8_t rgb[3])
{
    if (!(x >= 0 && y >= 0 && x <= (float)(S - 1) && y <= (float)(S - 1))) {
        rgb[0] = rgb[1] = rgb[2] = 128;
        return;
    }
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 < S - 1 ? x0 + 1 : x0, y1 = y0 < S - 1 ? y0 + 1 : y0;
    float fx = x - (float)x0, fy = y - (float)y0;
    for (int q = 0; q < 3; q++) {
        float a = img[3 * ((size_t)y0 * S + x0) + q], b = img[3 * ((size_t)y0 * S + x1) + q];
        float e = img[3 * ((size_t)y1 * S + x0) + q], f = img[3 * ((size_t)y1 * S + x1) + q];
        rgb[q] = (uint8_t)lroundf((1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * e + fx * f));
    }
}

int scorr_picture_warp(const char *png, const uint8_t *src, const uint8_t *trg, int S,
                       const float *flow, int G, const float *dense, const uint8_t *fg,
                       float err_scale, struct scorr_warp_picture *out)
{
    int err = 0;
    struct scorr_canvas c = {0};
    const int panels = dense ? 5 : 3, D = display_side(S);
    uint8_t *pw = malloc((size_t)S * S * 3), *tw = NULL, *heat = NULL;
    memset(out, 0, sizeof *out);
    out->epe_fg = NAN;
    SCORR_REQUIRE(pw, SCORR_ENOMEM, "out of memory");
    if (dense) {
        tw = malloc((size_t)S * S * 3);
        heat = malloc((size_t)S * S * 3);
        SCORR_REQUIRE(tw && heat, SCORR_ENOMEM, "out of memory");
    }
    double sum = 0;
    int64_t npx = 0;
    if (!(err_scale > 0)) err_scale = (float)S / 10.0f;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const size_t i = (size_t)y * S + x;
            float d[2];
            scorr_flow_at_pixel(flow, G, S, x, y, d);
            sample(src, S, (float)x + d[0], (float)y + d[1], pw + 3 * i);
            if (!dense) continue;
            const float u = dense[2 * i], v = dense[2 * i + 1];
            const int valid = isfinite(u) && isfinite(v);
            if (valid)
                sample(src, S, (float)x + u, (float)y + v, tw + 3 * i);
            else
                tw[3 * i] = tw[3 * i + 1] = tw[3 * i + 2] = 64;
            if (valid && (!fg || fg[i])) {
                const float e = hypotf(d[0] - u, d[1] - v);
                sum += e;
                npx++;
                scorr_draw_heat(e / err_scale, heat + 3 * i);
            } else {
                /* off the foreground: the target, dimmed */
                for (int q = 0; q < 3; q++) heat[3 * i + q] = (uint8_t)(trg[3 * i + q] / 4);
            }
        }
    if (npx) out->epe_fg = sum / (double)npx;
    out->pixels = npx;
    SCORR_TRY(scorr_canvas_init(&c, panels * D + (panels - 1) * GAP, D, k_white));
    const uint8_t *pics[5] = {src, trg, pw, tw, heat};
    for (int k = 0; k < panels; k++)
        SCORR_TRY(scorr_canvas_paste(&c, k * (D + GAP), 0, pics[k], S, S, D, D));
    SCORR_TRY(scorr_canvas_write_png(&c, png));
    out->width = c.w, out->height = c.h, out->panels = panels;
done:
    scorr_canvas_free(&c);
    free(pw), free(tw), free(heat);
    return err;
}
