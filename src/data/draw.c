/* Drawing on RGB canvases (include/scorr/draw.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/draw.h"
#include "scorr/error.h"
#include "scorr/image.h"

int scorr_canvas_init(struct scorr_canvas *c, int w, int h, const uint8_t rgb[3])
{
    int err = 0;
    memset(c, 0, sizeof *c);
    SCORR_REQUIRE(w > 0 && h > 0 && w <= 32768 && h <= 32768, SCORR_EINVAL,
                  "picture size %d x %d out of range", w, h);
    c->px = malloc((size_t)w * h * 3);
    SCORR_REQUIRE(c->px, SCORR_ENOMEM, "out of memory for a %d x %d picture", w, h);
    c->w = w, c->h = h;
    for (size_t i = 0; i < (size_t)w * h; i++) memcpy(c->px + 3 * i, rgb, 3);
done:
    return err;
}

void scorr_canvas_free(struct scorr_canvas *c)
{
    free(c->px);
    memset(c, 0, sizeof *c);
}

int scorr_canvas_paste(struct scorr_canvas *c, int x, int y, const uint8_t *img, int iw, int ih,
                       int dw, int dh)
{
    int err = 0;
    uint8_t *tmp = malloc((size_t)dw * dh * 3);
    SCORR_REQUIRE(tmp, SCORR_ENOMEM, "out of memory for a %d x %d picture", dw, dh);
    SCORR_TRY(scorr_resize_u8(tmp, dw, dh, img, iw, ih, 3));
    for (int r = 0; r < dh; r++) {
        if (y + r < 0 || y + r >= c->h) continue;
        for (int q = 0; q < dw; q++) scorr_canvas_put(c, x + q, y + r, tmp + 3 * ((size_t)r * dw + q));
    }
done:
    free(tmp);
    return err;
}

void scorr_canvas_put(struct scorr_canvas *c, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->px + 3 * ((size_t)y * c->w + x), rgb, 3);
}

void scorr_canvas_rect(struct scorr_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3])
{
    for (int r = y; r < y + h; r++)
        for (int q = x; q < x + w; q++) scorr_canvas_put(c, q, r, rgb);
}

void scorr_canvas_line(struct scorr_canvas *c, float fx0, float fy0, float fx1, float fy1,
                       int width, const uint8_t rgb[3])
{
    if (!isfinite(fx0) || !isfinite(fy0) || !isfinite(fx1) || !isfinite(fy1)) return;
    /* clamp far-away ends so the walk stays short */
    const float lim = 4.0f * (float)(c->w + c->h);
    fx0 = fmaxf(-lim, fminf(lim, fx0)), fx1 = fmaxf(-lim, fminf(lim, fx1));
    fy0 = fmaxf(-lim, fminf(lim, fy0)), fy1 = fmaxf(-lim, fminf(lim, fy1));
    int x0 = (int)lroundf(fx0), y0 = (int)lroundf(fy0), x1 = (int)lroundf(fx1),
        y1 = (int)lroundf(fy1);
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    if (width < 1) width = 1;
    if (width > 4) width = 4;
    /* thickness across the main direction */
    const int steep = -dy > dx;
    for (;;) {
        for (int k = 0; k < width; k++)
            scorr_canvas_put(c, x0 + (steep ? k - width / 2 : 0), y0 + (steep ? 0 : k - width / 2),
                             rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

void scorr_canvas_dot(struct scorr_canvas *c, float fx, float fy, int r, const uint8_t rgb[3])
{
    static const uint8_t black[3] = {0, 0, 0};
    if (!isfinite(fx) || !isfinite(fy)) return;
    int cx = (int)lroundf(fx), cy = (int)lroundf(fy);
    int in = r * r, out = (r + 1) * (r + 1) + 1;
    for (int y = -r - 1; y <= r + 1; y++)
        for (int x = -r - 1; x <= r + 1; x++) {
            int r2 = x * x + y * y;
            if (r2 <= in)
                scorr_canvas_put(c, cx + x, cy + y, rgb);
            else if (r2 <= out)
                scorr_canvas_put(c, cx + x, cy + y, black);
        }
}

void scorr_canvas_ring(struct scorr_canvas *c, float fx, float fy, int r, const uint8_t rgb[3])
{
    if (!isfinite(fx) || !isfinite(fy)) return;
    int cx = (int)lroundf(fx), cy = (int)lroundf(fy);
    int lo = (r - 1) * (r - 1), hi = (r + 1) * (r + 1);
    for (int y = -r - 1; y <= r + 1; y++)
        for (int x = -r - 1; x <= r + 1; x++) {
            int r2 = x * x + y * y;
            if (r2 >= lo && r2 <= hi) scorr_canvas_put(c, cx + x, cy + y, rgb);
        }
}

void scorr_canvas_cross(struct scorr_canvas *c, float fx, float fy, int r, const uint8_t rgb[3])
{
    scorr_canvas_line(c, fx - (float)r, fy - (float)r, fx + (float)r, fy + (float)r, 2, rgb);
    scorr_canvas_line(c, fx - (float)r, fy + (float)r, fx + (float)r, fy - (float)r, 2, rgb);
}

int scorr_canvas_write_png(const struct scorr_canvas *c, const char *path)
{
    return scorr_image_write_png(path, c->px, c->w, c->h, 3);
}

void scorr_draw_hue(int k, int n, uint8_t rgb[3])
{
    float h = 6.0f * (float)k / (float)(n > 0 ? n : 1);
    int i = (int)h % 6;
    float f = h - floorf(h);
    float v[6][3] = {{1, f, 0}, {1 - f, 1, 0}, {0, 1, f}, {0, 1 - f, 1}, {f, 0, 1}, {1, 0, 1 - f}};
    for (int q = 0; q < 3; q++) rgb[q] = (uint8_t)lroundf(40 + 215 * v[i][q]);
}

void scorr_draw_heat(float t, uint8_t rgb[3])
{
    static const float stops[5][3] = {
        {20, 20, 90}, {0, 150, 220}, {90, 220, 120}, {250, 220, 40}, {220, 30, 30}};
    if (!(t > 0)) t = 0; /* NaN too */
    if (t > 1) t = 1;
    float s = t * 4.0f;
    int i = (int)s;
    if (i > 3) i = 3;
    float f = s - (float)i;
    for (int q = 0; q < 3; q++)
        rgb[q] = (uint8_t)lroundf(stops[i][q] + f * (stops[i + 1][q] - stops[i][q]));
}
