/* The built-in synthetic semantic-correspondence benchmark (DESIGN.md section 4,
 * docs/synthetic-benchmark.md).
 *
 * K procedural object categories, each a part-based 2D shape with named
 * keypoints; instances differ in part proportions, articulation, smooth
 * non-rigid deformation and appearance; each image shows one instance under
 * a random view (rotation, mirror, anisotropic scale and shear, mild
 * perspective, scale, shift) over a cluttered background, with occluders and
 * truncation by the border. Pairs join two images of one category from the
 * split's image pool, like SPair-71k. Rendering is by inverse mapping, so
 * keypoints and the dense flow are exact.
 *
 * Everything is a pure function of (seed, split, index, purpose) through the
 * counter RNG (stream SCORR_RNG_SYNTH): the same seed gives the same bytes
 * whatever the thread count or generation order. Local (no MPI). */
#ifndef SCORR_SYNTH_H
#define SCORR_SYNTH_H

#include <stdint.h>

#define SCORR_SYNTH_SPLITS 3 /* trn, val, test */

struct scorr_synth_config {
    int size;                                  /* S, pixels (default 128) */
    int num_categories;                        /* K (default 6, at most scorr_synth_max_categories()) */
    int64_t pairs[SCORR_SYNTH_SPLITS];         /* pairs per split (2000, 200, 200) */
    int images_per_category[SCORR_SYNTH_SPLITS]; /* pool sizes (100, 25, 25) */
    /* Difficulty knobs, 0 = none, 1 = "hard" (up to 1.5 accepted). */
    float viewpoint;   /* rotation, mirror, anisotropy, shear, perspective */
    float scale;       /* scale change and translation */
    float clutter;     /* background texture contrast and distractor shapes */
    float occlusion;   /* probability and size of occluders */
    float truncation;  /* probability of crossing the image border */
    uint64_t seed;
    int kps_per_pair;  /* training pairs keep at most this many keypoints (8) */
    int threads;       /* OpenMP threads for rendering; 0 = runtime default */
    const char *contact_sheet; /* PNG path or NULL */
    int trn_dense_flow; /* also store the trn pairs' dense flow (val and test always have it) */
};

/* Defaults (medium difficulty). */
void scorr_synth_defaults(struct scorr_synth_config *c);
/* Set the knobs from "easy" | "medium" | "hard"; error names the value. */
int scorr_synth_set_difficulty(struct scorr_synth_config *c, const char *name);
/* Validate a config; errors name the option, what was expected and found. */
int scorr_synth_check(const struct scorr_synth_config *c);

/* Generate the whole dataset file at path (written at a temporary name and
 * renamed on success; see include/scorr/dataset.h). Uses OpenMP threads for
 * rendering; HDF5 is written from the calling thread only. Also writes the
 * contact sheet when c->contact_sheet is set. */
int scorr_synth_generate(const struct scorr_synth_config *c, const char *path);

/* The image-only pretraining set (docs/synthetic-benchmark.md, "Pretraining
 * images"): images of the categories a benchmark of c->num_categories
 * categories does not use (num_categories .. max - 1), drawn from random
 * streams of their own (the seed is mixed), c->images_per_category[0] and
 * [1] per category in splits trn and val. Each image is a self-pair without
 * keypoints (max_kps 0): a valid dataset file for warp pretraining
 * (variant warp), with no labels. pairs and the contact sheet are not used. */
int scorr_synth_generate_pretrain(const struct scorr_synth_config *c, const char *path);
/* Categories of the pretraining set for c (the benchmark's K =
 * c->num_categories): count returned, first index in *first. */
int scorr_synth_pretrain_categories(const struct scorr_synth_config *c, int *first);

/* Categories and their keypoints. */
int scorr_synth_max_categories(void);
const char *scorr_synth_category_name(int k);
int scorr_synth_category_num_kps(int k);
const char *scorr_synth_kp_name(int k, int kp);

/* Maximum keypoints of any category (the files' max_kps). */
int scorr_synth_max_kps(void);

/* One pair, generated in memory exactly as scorr_synth_generate stores it
 * (pair `pair` of split 0 = trn, 1 = val, 2 = test). canonical_colours != 0
 * paints every object point with a colour that encodes its semantic
 * coordinates (and everything else black; occluders white): a test mode whose
 * geometry is identical to the normal one. All arrays are owned by the
 * struct and freed by scorr_synth_pair_free. */
struct scorr_synth_pair {
    int size, category, split;
    int64_t pair, src_image, trg_image;  /* image rows in the generated file */
    uint8_t *src_pixels, *trg_pixels;    /* (S, S, 3) */
    uint8_t *src_fg, *trg_fg;            /* (S, S), 1 = visible object */
    int num_kps;                         /* n */
    float *src_kps, *trg_kps;            /* (n, 2) (x, y), pixel centres at integers */
    int32_t *kps_ids;                    /* (n) canonical keypoint ids */
    float src_bbox[4], trg_bbox[4];      /* x1 y1 x2 y2 */
    int8_t difficulty[4];                /* SPair viewpoint, scale, truncation, occlusion */
    float *dense_flow;                   /* (S, S, 2) target -> source, NaN where none */
};
int scorr_synth_make_pair(const struct scorr_synth_config *c, int split, int64_t pair,
                          int canonical_colours, struct scorr_synth_pair *out);
void scorr_synth_pair_free(struct scorr_synth_pair *p);

#endif
