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
                     int n, int *width, int *height);

/* Which target points the picture shows when none are given: grid
 * positions of the flow where the network is confident, spread out. */
struct scorr_match_select {
    int max_matches;      /* at most this many (default 40) */
    int mutual;           /* 1: only mutual nearest neighbours (default 1) */
    float min_peak;       /* only where the soft-argmax peak is >= this (default 0) */
    float spacing;        /* at least this far apart, in S-frame pixels (default S / 16) */
    const struct scorr_image *mask; /* target foreground (any size; a pixel with a channel
                                     * > 127 is foreground), or NULL */
};
void scorr_match_select_default(struct scorr_match_select *o);

/* Choose target points from the network's confidence: peak (G, G) and
 * mutual (G, G) as scorr_model_confidence gives them. Candidates are the
 * grid positions passing the filters (mutual, min_peak, on the mask),
 * taken by decreasing peak (ties: row-major order) and kept when at least
 * `spacing` from every point kept before, up to max_matches. trg_pts
 * (max, 2) out, in original target pixels; peak_out (max) or NULL: the
 * kept points' peaks. *n: the number kept; *candidates (or NULL): how many
 * passed the filters. Deterministic. Errors: out of memory. Local. */
int scorr_match_select_points(const struct scorr_match_select *o,
                               const struct scorr_match_geom *g, const float *peak,
                               const uint8_t *mutual, float *trg_pts, float *peak_out, int max,
                               int *n, int *candidates);

/* "x,y;x,y;..." -> pts (n, 2), at most max points. Errors name the text. */
int scorr_match_parse_points(const char *text, float *pts, int max, int *n);

/* ---- the command ----------------------------------------------------- */

struct scorr_match_args {
    const char *checkpoint, *src, *trg;
    const char *out_flow;   /* .h5 / .hdf5 / .flo, or NULL */
    const char *out_png;    /* or NULL */
    const char *points;     /* "x,y;..." target points (original pixels), or NULL */
    int grid;               /* > 0: a grid x grid of target points when no points are
                             * given; 0 (default): the confident matches (select) */
    const char *mask;       /* target foreground image for the confident matches, or NULL */
    struct scorr_match_select select;
    int size;               /* network input size S; 0 = the checkpoint's data.image_size */
    int network;            /* 0, 1 or SCORR_NET_BEST */
};
void scorr_match_args_default(struct scorr_match_args *a);

/* What the command drew: the picture's size and its number of matches. */
struct scorr_match_result {
    int width, height;  /* of --out-png, 0 when none was written */
    int matches;        /* lines drawn */
    int candidates;     /* confident grid positions before spacing and the cap */
};

/* Load the network and the images, run it, write what was asked, print the
 * given points' matches to stdout. res (or NULL): what was drawn. Local. */
int scorr_match_command(const struct scorr_match_args *a, struct scorr_match_result *res);

#endif
