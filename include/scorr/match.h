/* scorr_match (docs/match.md): a trained network on two images -> the dense
 * target -> source flow at the original target size, in pixels of the
 * original source image (HDF5 or Middlebury .flo), and a PNG of the two
 * images side by side with lines joining matched points. Local (no MPI). */
#ifndef SCORR_MATCH_H
#define SCORR_MATCH_H

#include <stdint.h>

#include "scorr/image.h"

/* The geometry of one match: the network sees both images resized to S x S
 * and predicts a (G, G, 2) flow in grid units on the target grid. */
struct scorr_match_geom {
    int G, S;
    int src_w, src_h;   /* original source size */
    int trg_w, trg_h;   /* original target size */
};

/* The source point of one target point, both in original pixels (pixel
 * centres at integers): the target point is scaled to the S x S frame as
 * keypoints are (x * S / W), the flow is read there by bilinear
 * interpolation of its align_corners=False upsampling to S x S (exactly
 * what evaluation reads at integer pixels), and the source point is scaled
 * back (x * W_src / S). flow (G, G, 2). Local. */
void scorr_match_point(const float *flow, const struct scorr_match_geom *g, const float trg[2],
                       float src[2]);

/* The dense flow at the original target size: out (trg_h, trg_w, 2), out[y][x]
 * = (source point of target pixel (x, y)) - (x, y), in original pixels. */
void scorr_match_dense(float *out, const float *flow, const struct scorr_match_geom *g);

/* Middlebury .flo: "PIEH" (202021.25 as float32), int32 width, int32 height,
 * then (h, w, 2) float32 (u, v), little-endian. Written atomically. */
int scorr_flo_write(const char *path, const float *flow, int w, int h);
/* Read one back; *flow malloc'ed (caller frees). Errors name the file and
 * what is wrong (magic, size). */
int scorr_flo_read(const char *path, float **flow, int *w, int *h);

/* HDF5 flow file: /flow float32 (h, w, 2) with root attributes format =
 * "scorr-flow", version 1, convention, checkpoint, source, target. */
int scorr_match_write_h5(const char *path, const float *flow, int w, int h,
                         const char *checkpoint, const char *src_path, const char *trg_path);

/* The match picture: source (left) and target (right) scaled to one height
 * (the larger of the two, clamped to 256..512 px), 8 px apart, a line per match from
 * the target point to its source point, each match its own colour, dots at
 * both ends. trg_pts, src_pts (n, 2) in original pixels. Written atomically
 * as PNG. */
int scorr_match_draw(const char *png, const struct scorr_image *src,
                     const struct scorr_image *trg, const float *trg_pts, const float *src_pts,
                     int n);

/* "x,y;x,y;..." -> pts (n, 2), at most max points. Errors name the text. */
int scorr_match_parse_points(const char *text, float *pts, int max, int *n);

/* ---- the command ----------------------------------------------------- */

struct scorr_match_args {
    const char *checkpoint, *src, *trg;
    const char *out_flow;   /* .h5 / .hdf5 / .flo, or NULL */
    const char *out_png;    /* or NULL */
    const char *points;     /* "x,y;..." target points (original pixels), or NULL = a grid */
    int grid;               /* grid x grid target points when no points are given (8) */
    int size;               /* network input size S; 0 = the checkpoint's data.image_size */
    int network;            /* 0, 1 or SCORR_NET_BEST */
};
void scorr_match_args_default(struct scorr_match_args *a);

/* Load the network and the images, run it, write what was asked, print the
 * given points' matches to stdout. Local. */
int scorr_match_command(const struct scorr_match_args *a);

#endif
