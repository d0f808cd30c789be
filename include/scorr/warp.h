/* Synthetic warps for self-supervised warp pretraining (docs/training.md,
 * "Warp pretraining"): a pair is made from one image by a random warp whose
 * dense flow is known exactly (GLU-Net, PDC-Net, DGC-Net).
 *
 * A warp W maps a point of the target image to the source image. In
 * normalised coordinates u = ((x + 0.5) / S, (y + 0.5) / S) (pixel centres
 * at integers x, y in [0, S-1]; the unit square is the image):
 *
 *     W(u) = H(u + E(u))
 *
 * H: the homography that sends the unit square's corners to the corners
 * each moved by U(-h, h) in x and in y (h = homography);
 * E: a thin-plate spline through a g x g grid of control points (on
 * [0, 1]^2, borders included) each displaced by U(-a, a) in x and in y
 * (a = elastic amplitude; g = 0: no elastic field). U(r) = r^2 log r^2.
 *
 * A pair (compose off): source = the image I, target(p) = I(W(p)).
 * With compose on, a second independent warp B of the same law is applied
 * to both sides: source(q) = I(B(q)), target(p) = I(B(W(p))) = source(W(p)),
 * so the flow is still exactly W(p) - p.
 *
 * Flow at the loss grid G = S / stride, same convention as the sparse labels
 * (docs/data-path.md): on the TARGET grid, pointing into the source, in grid
 * units. Cell (r, c) stands for the target pixel ((c + 0.5) stride - 0.5,
 * (r + 0.5) stride - 0.5) (the pixel <-> grid map of the evaluation's
 * bilinear read-out, align_corners = False); its flow is
 * (W(p) - p) / stride, and its mask is 1 when W(p) lies inside the source
 * image, [0, S-1]^2 in pixels (with compose: and B(W(p)) inside I). Pixels
 * are sampled bilinearly, zero outside the image.
 *
 * Every random number of sample `sample` in epoch `epoch` comes from the
 * counter RNG with key (seed, SCORR_RNG_WARP) and counter (epoch, sample,
 * which) (which = 0: W, 1: B), so a pair never depends on the rank or
 * thread that makes it. Local, thread-safe, no allocation. */
#ifndef SCORR_WARP_H
#define SCORR_WARP_H

#include <stdint.h>

#define SCORR_WARP_MAX_GRID 8 /* control points per side */

struct scorr_warp_config {
    float homography;  /* corner jitter h, fraction of the image side, [0, 0.25] */
    int elastic_grid;  /* g: TPS control points per side, 0 (none) or 2..8 */
    float elastic_amp; /* a: control point displacement, fraction of the side */
    int compose;       /* 1: the second warp B of both sides */
};

/* One drawn warp (normalised coordinates). */
struct scorr_warp {
    double H[9];  /* row-major, H[8] = 1 */
    int n;        /* control points, 0 = no elastic field */
    double c[SCORR_WARP_MAX_GRID * SCORR_WARP_MAX_GRID][2];
    /* spline weights of the n points, then the affine part (1, x, y); per axis */
    double w[SCORR_WARP_MAX_GRID * SCORR_WARP_MAX_GRID + 3][2];
};

struct scorr_warp_pair {
    struct scorr_warp rel;  /* W: target -> source */
    struct scorr_warp base; /* B: applied to both sides (compose) */
    int compose;
};

/* Check a config; errors name the field and value. */
int scorr_warp_check(const struct scorr_warp_config *c);

/* Draw one warp: counter (epoch, sample, which). */
void scorr_warp_draw(struct scorr_warp *w, const struct scorr_warp_config *c, uint64_t seed,
                     uint32_t epoch, uint32_t sample, uint32_t which);
/* Draw W (which 0) and, with compose, B (which 1). */
void scorr_warp_pair_draw(struct scorr_warp_pair *p, const struct scorr_warp_config *c,
                          uint64_t seed, uint32_t epoch, uint32_t sample);

/* W at a point, normalised coordinates. */
void scorr_warp_map(const struct scorr_warp *w, double u, double v, double out[2]);
/* The pair's target -> source map at pixel (x, y) of an S x S target, in
 * pixels; *inside = 1 when the source point is inside the image (and, with
 * compose, B of it too). */
void scorr_warp_pair_point(const struct scorr_warp_pair *p, int S, double x, double y,
                           double out[2], int *inside);

/* Make the pair from one image. img: (S, S, 3) uint8; src, trg: (S, S, 3)
 * uint8 out; flow: (G, G, 2) out, grid units; mask: (G, G) out; G = S /
 * stride. */
void scorr_warp_render(uint8_t *src, uint8_t *trg, float *flow, uint8_t *mask, const uint8_t *img,
                       int S, int stride, const struct scorr_warp_pair *p);

/* Bilinear sample of an (S, S, 3) uint8 image at pixel (x, y), zero outside
 * the image; out: 3 floats in [0, 255]. */
void scorr_warp_sample_bilinear(const uint8_t *img, int S, double x, double y, float out[3]);

#endif
