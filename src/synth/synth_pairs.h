/* Private: pair selection, flags and bookkeeping shared by pairs.c and
 * generate.c. */
#ifndef SCORR_SYNTH_PAIRS_H
#define SCORR_SYNTH_PAIRS_H

#include "synth_internal.h"

struct syn_pair_choice {
    int category;
    int src, trg;              /* indices into the split's pool (category-major) */
    int num_kps;
    int kps_ids[SYN_MAX_KPS];  /* canonical keypoint ids, ascending */
};

/* Images per category of a split (0 when the split has no pairs). */
int syn_pool_size(const struct scorr_synth_config *c, int split);
/* Row of the split's first image in /images. */
int64_t syn_split_first_image(const struct scorr_synth_config *c, int split);
/* Choose the two images and keypoints of a pair. pool: the split's images,
 * category-major ([K, n]); only the pair's category needs to be sampled. */
int syn_pick_pair(const struct scorr_synth_config *c, int split, int64_t pair,
                  const struct syn_image *pool, struct syn_pair_choice *out);
/* Viewpoint change of a pair (docs/synthetic-benchmark.md): flag 0 below T1,
 * 1 below T2, else 2. */
#define SYN_VIEW_T1 1.5f
#define SYN_VIEW_T2 2.5f
float syn_viewpoint_score(const struct syn_view *a, const struct syn_view *b);
int syn_truncated(const struct syn_image *im);
int syn_occluded(const struct syn_render_stats *st);
void syn_difficulty(const struct syn_image *s, const struct syn_image *t,
                    const struct syn_render_stats *ss, const struct syn_render_stats *ts,
                    int8_t out[4]);
/* The object box stored for PCK: the amodal object extent clipped to the image. */
void syn_object_box(const struct syn_image *im, float box[4]);

#endif
