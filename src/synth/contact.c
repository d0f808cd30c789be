/* Contact sheet of synthetic pairs: a PNG a person can look at. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/image.h"
#include "synth_contact.h"
#include "synth_pairs.h"

#define COLS 4
#define ROWS 3
#define GAP 4
#define MARGIN 12

static const uint8_t k_palette[16][3] = {
    {230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},  {245, 130, 48},
    {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60}, {250, 190, 212},
    {0, 128, 128},  {220, 190, 255}, {170, 110, 40}, {255, 250, 200}, {128, 0, 0},
    {255, 255, 255}};

static void dot(uint8_t *img, int W, int H, float x, float y, float r, const uint8_t col[3])
{
    int x0 = (int)floorf(x - r - 1), x1 = (int)ceilf(x + r + 1);
    int y0 = (int)floorf(y - r - 1), y1 = (int)ceilf(y + r + 1);
    for (int i = y0; i <= y1; i++)
        for (int j = x0; j <= x1; j++) {
            if (i < 0 || j < 0 || i >= H || j >= W) continue;
            float d = hypotf((float)j - x, (float)i - y);
            uint8_t *p = img + 3 * ((size_t)i * W + j);
            if (d <= r) {
                memcpy(p, col, 3);
            } else if (d <= r + 1.2f) {
                p[0] = p[1] = p[2] = 0;
            }
        }
}

int syn_contact_sheet(const struct scorr_synth_config *c, int split, const struct syn_image *pool,
                      const struct scorr_split *s, const char *path)
{
    int err = 0;
    int S = c->size;
    int pw = 2 * S + GAP;
    int W = COLS * pw + (COLS + 1) * MARGIN, H = ROWS * S + (ROWS + 1) * MARGIN;
    uint8_t *sheet = malloc((size_t)W * H * 3), *pix = malloc((size_t)S * S * 3),
            *fg = malloc((size_t)S * S);
    SCORR_REQUIRE(sheet && pix && fg, SCORR_ENOMEM, "synth: out of memory for the contact sheet");
    memset(sheet, 255, (size_t)W * H * 3);
    int64_t first = syn_split_first_image(c, split);
    int npairs = s->num_pairs < COLS * ROWS ? (int)s->num_pairs : COLS * ROWS;
    float r = fmaxf(2.0f, (float)S / 48.0f);
    for (int q = 0; q < npairs; q++) {
        int ox = MARGIN + (q % COLS) * (pw + MARGIN), oy = MARGIN + (q / COLS) * (S + MARGIN);
        for (int side = 0; side < 2; side++) {
            int64_t row = (side ? s->trg_image[q] : s->src_image[q]) - first;
            struct syn_render_stats st;
            syn_render(&pool[row], pix, fg, &st);
            int x0 = ox + side * (S + GAP);
            for (int i = 0; i < S; i++)
                memcpy(sheet + 3 * ((size_t)(oy + i) * W + x0), pix + 3 * (size_t)i * S,
                       3 * (size_t)S);
            const float *kps = (side ? s->trg_kps : s->src_kps) + (size_t)q * s->max_kps * 2;
            for (int k = 0; k < s->num_kps[q]; k++) {
                int id = s->kps_ids[(size_t)q * s->max_kps + k];
                float x = kps[2 * k], y = kps[2 * k + 1];
                if (x < 0 || y < 0 || x > S - 1 || y > S - 1) continue;
                dot(sheet, W, H, (float)x0 + x, (float)oy + y, r, k_palette[id % 16]);
            }
        }
    }
    SCORR_TRY(scorr_image_write_png(path, sheet, W, H, 3));
done:
    free(sheet);
    free(pix);
    free(fg);
    return err;
}
