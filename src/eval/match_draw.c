/* The match picture of scorr_match (include/scorr/match.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/draw.h"
#include "scorr/error.h"
#include "scorr/match.h"

#define MIN_HEIGHT 256
#define MAX_HEIGHT 512
#define GAP 8

int scorr_match_draw(const char *png, const struct scorr_image *src,
                     const struct scorr_image *trg, const float *trg_pts, const float *src_pts,
                     int n, int *width, int *height)
{
    int err = 0;
    static const uint8_t white[3] = {255, 255, 255};
    struct scorr_canvas c = {0};
    int H = src->height > trg->height ? src->height : trg->height;
    if (H < MIN_HEIGHT) H = MIN_HEIGHT; /* small images: enlarge so the dots show */
    if (H > MAX_HEIGHT) H = MAX_HEIGHT;
    int ws = (int)lround((double)src->width * H / src->height);
    int wt = (int)lround((double)trg->width * H / trg->height);
    if (ws < 1) ws = 1;
    if (wt < 1) wt = 1;
    SCORR_TRY(scorr_canvas_init(&c, ws + GAP + wt, H, white));
    SCORR_TRY(scorr_canvas_paste(&c, 0, 0, src->pixels, src->width, src->height, ws, H));
    SCORR_TRY(scorr_canvas_paste(&c, ws + GAP, 0, trg->pixels, trg->width, trg->height, wt, H));
    const float sxs = (float)ws / (float)src->width, sys = (float)H / (float)src->height;
    const float sxt = (float)wt / (float)trg->width, syt = (float)H / (float)trg->height;
    /* pixel centres at integers: scale (x + 0.5) and shift back */
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < n; k++) {
            uint8_t rgb[3];
            scorr_draw_hue(k, n, rgb);
            float tx = (trg_pts[2 * k] + 0.5f) * sxt - 0.5f + (float)(ws + GAP);
            float ty = (trg_pts[2 * k + 1] + 0.5f) * syt - 0.5f;
            float qx = (src_pts[2 * k] + 0.5f) * sxs - 0.5f;
            float qy = (src_pts[2 * k + 1] + 0.5f) * sys - 0.5f;
            if (pass == 0) {
                scorr_canvas_line(&c, tx, ty, qx, qy, 2, rgb);
            } else {
                scorr_canvas_dot(&c, tx, ty, 3, rgb);
                scorr_canvas_dot(&c, qx, qy, 3, rgb);
            }
        }
    SCORR_TRY(scorr_canvas_write_png(&c, png));
    if (width) *width = c.w;
    if (height) *height = c.h;
done:
    scorr_canvas_free(&c);
    return err;
}
