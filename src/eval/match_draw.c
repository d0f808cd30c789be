/* The match picture of scorr_match (include/scorr/match.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/match.h"

#define MIN_HEIGHT 256
#define MAX_HEIGHT 512
#define GAP 8

struct canvas {
    uint8_t *px;
    int w, h;
};

static void put(struct canvas *c, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->px + 3 * ((size_t)y * c->w + x), rgb, 3);
}

/* A 2 px wide line (Bresenham, doubled vertically). */
static void line(struct canvas *c, float fx0, float fy0, float fx1, float fy1, const uint8_t rgb[3])
{
    int x0 = (int)lroundf(fx0), y0 = (int)lroundf(fy0), x1 = (int)lroundf(fx1),
        y1 = (int)lroundf(fy1);
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (int guard = 0; guard < 100000; guard++) {
        put(c, x0, y0, rgb);
        put(c, x0, y0 + 1, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

/* A filled dot of radius 3 with a black rim. */
static void dot(struct canvas *c, float fx, float fy, const uint8_t rgb[3])
{
    static const uint8_t black[3] = {0, 0, 0};
    int cx = (int)lroundf(fx), cy = (int)lroundf(fy);
    for (int y = -4; y <= 4; y++)
        for (int x = -4; x <= 4; x++) {
            int r2 = x * x + y * y;
            if (r2 <= 9)
                put(c, cx + x, cy + y, rgb);
            else if (r2 <= 17)
                put(c, cx + x, cy + y, black);
        }
}

/* Saturated colour k of n around the hue circle. */
static void hue(int k, int n, uint8_t rgb[3])
{
    float h = 6.0f * (float)k / (float)(n > 0 ? n : 1);
    int i = (int)h % 6;
    float f = h - floorf(h);
    float v[6][3] = {{1, f, 0}, {1 - f, 1, 0}, {0, 1, f}, {0, 1 - f, 1}, {f, 0, 1}, {1, 0, 1 - f}};
    for (int c = 0; c < 3; c++) rgb[c] = (uint8_t)lroundf(40 + 215 * v[i][c]);
}

int scorr_match_draw(const char *png, const struct scorr_image *src,
                     const struct scorr_image *trg, const float *trg_pts, const float *src_pts,
                     int n)
{
    int err = 0;
    struct canvas c = {0};
    uint8_t *a = NULL, *b = NULL;
    int H = src->height > trg->height ? src->height : trg->height;
    if (H < MIN_HEIGHT) H = MIN_HEIGHT; /* small images: enlarge so the dots show */
    if (H > MAX_HEIGHT) H = MAX_HEIGHT;
    int ws = (int)lround((double)src->width * H / src->height);
    int wt = (int)lround((double)trg->width * H / trg->height);
    if (ws < 1) ws = 1;
    if (wt < 1) wt = 1;
    c.w = ws + GAP + wt, c.h = H;
    c.px = malloc((size_t)c.w * c.h * 3);
    a = malloc((size_t)ws * H * 3);
    b = malloc((size_t)wt * H * 3);
    SCORR_REQUIRE(c.px && a && b, SCORR_ENOMEM, "out of memory for a %d x %d picture", c.w, c.h);
    memset(c.px, 255, (size_t)c.w * c.h * 3);
    SCORR_TRY(scorr_resize_u8(a, ws, H, src->pixels, src->width, src->height, 3));
    SCORR_TRY(scorr_resize_u8(b, wt, H, trg->pixels, trg->width, trg->height, 3));
    for (int y = 0; y < H; y++) {
        memcpy(c.px + 3 * (size_t)y * c.w, a + 3 * (size_t)y * ws, 3 * (size_t)ws);
        memcpy(c.px + 3 * ((size_t)y * c.w + ws + GAP), b + 3 * (size_t)y * wt, 3 * (size_t)wt);
    }
    const float sxs = (float)ws / (float)src->width, sys = (float)H / (float)src->height;
    const float sxt = (float)wt / (float)trg->width, syt = (float)H / (float)trg->height;
    for (int k = 0; k < n; k++) {
        uint8_t rgb[3];
        hue(k, n, rgb);
        /* pixel centres at integers: scale (x + 0.5) and shift back */
        float tx = (trg_pts[2 * k] + 0.5f) * sxt - 0.5f + (float)(ws + GAP);
        float ty = (trg_pts[2 * k + 1] + 0.5f) * syt - 0.5f;
        float qx = (src_pts[2 * k] + 0.5f) * sxs - 0.5f, qy = (src_pts[2 * k + 1] + 0.5f) * sys - 0.5f;
        line(&c, tx, ty, qx, qy, rgb);
    }
    for (int k = 0; k < n; k++) {
        uint8_t rgb[3];
        hue(k, n, rgb);
        dot(&c, (trg_pts[2 * k] + 0.5f) * sxt - 0.5f + (float)(ws + GAP),
            (trg_pts[2 * k + 1] + 0.5f) * syt - 0.5f, rgb);
        dot(&c, (src_pts[2 * k] + 0.5f) * sxs - 0.5f, (src_pts[2 * k + 1] + 0.5f) * sys - 0.5f,
            rgb);
    }
    SCORR_TRY(scorr_image_write_png(png, c.px, c.w, c.h, 3));
done:
    free(c.px);
    free(a);
    free(b);
    return err;
}
