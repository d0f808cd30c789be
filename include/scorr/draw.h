/* Drawing on RGB pictures for the programs' PNG output (scorr_match's
 * matches, scorr_eval --pictures): a canvas, images pasted at a size, lines,
 * dots, rings and a heat-map colour scale. Plain 8-bit RGB, no antialiasing;
 * everything outside the canvas is clipped. Local; no MPI. */
#ifndef SCORR_DRAW_H
#define SCORR_DRAW_H

#include <stdint.h>

/* A picture: px (h, w, 3) uint8 RGB, owned (scorr_canvas_init / _free). */
struct scorr_canvas {
    uint8_t *px;
    int w, h;
};

/* Allocate a w x h canvas filled with rgb. Errors: out of memory (naming the size). */
int scorr_canvas_init(struct scorr_canvas *c, int w, int h, const uint8_t rgb[3]);
void scorr_canvas_free(struct scorr_canvas *c);

/* Paste img (ih, iw, 3) resized (antialiased, as the data path) to dw x dh
 * with its top-left corner at (x, y). Allocates a temporary. */
int scorr_canvas_paste(struct scorr_canvas *c, int x, int y, const uint8_t *img, int iw, int ih,
                       int dw, int dh);

void scorr_canvas_put(struct scorr_canvas *c, int x, int y, const uint8_t rgb[3]);
/* Fill the rectangle [x, x + w) x [y, y + h). */
void scorr_canvas_rect(struct scorr_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3]);
/* A line `width` px wide (1..4) between two points (pixel centres at integers). */
void scorr_canvas_line(struct scorr_canvas *c, float x0, float y0, float x1, float y1, int width,
                       const uint8_t rgb[3]);
/* A filled dot of radius r with a one-pixel black rim. */
void scorr_canvas_dot(struct scorr_canvas *c, float x, float y, int r, const uint8_t rgb[3]);
/* An unfilled ring of radius r, two pixels thick. */
void scorr_canvas_ring(struct scorr_canvas *c, float x, float y, int r, const uint8_t rgb[3]);
/* A cross (x mark) of half-size r, two pixels thick. */
void scorr_canvas_cross(struct scorr_canvas *c, float x, float y, int r, const uint8_t rgb[3]);

/* Write the canvas as an RGB PNG (atomically). */
int scorr_canvas_write_png(const struct scorr_canvas *c, const char *path);

/* Colour k of n around the hue circle, saturated and light enough to see on photos. */
void scorr_draw_hue(int k, int n, uint8_t rgb[3]);
/* Heat-map colour of t in [0, 1] (clamped): dark blue -> cyan -> yellow -> red. */
void scorr_draw_heat(float t, uint8_t rgb[3]);

#endif
