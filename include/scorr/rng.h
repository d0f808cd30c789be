/* Counter-based random numbers (Philox4x32-10, Salmon et al. SC'11).
 *
 * Every random decision in scorr is a pure function of a key and a counter:
 * the key holds the experiment seed and a stream id, the counter holds
 * (epoch, sample index, purpose, draw). So the data a sample sees does not
 * depend on which rank draws it, how many ranks there are, or whether the run
 * was resumed; there is no hidden generator state to checkpoint beyond the
 * seed and the position in training. Local, thread-safe (no shared state). */
#ifndef SCORR_RNG_H
#define SCORR_RNG_H

#include <stdint.h>

/* Stream ids: one per kind of decision, so streams never overlap. */
enum scorr_rng_stream {
    SCORR_RNG_ORDER = 1,   /* sample order of an epoch */
    SCORR_RNG_AUGMENT = 2, /* photometric augmentation of one sample */
    SCORR_RNG_INIT = 3,    /* parameter initialisation */
    SCORR_RNG_SYNTH = 4,   /* synthetic benchmark generation */
    SCORR_RNG_TEST = 5,
    SCORR_RNG_WARP = 6     /* synthetic warps of warp pretraining */
};

/* One Philox4x32-10 block: 4 random words from a 64-bit key and 128-bit counter. */
void scorr_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]);

/* A cursor over one stream: key = (seed, stream), counter = (a, b, c, draw).
 * Draws advance `draw`; four words per block, buffered. */
struct scorr_rng {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t buf[4];
    int left;
};

void scorr_rng_init(struct scorr_rng *r, uint64_t seed, uint32_t stream,
                    uint32_t a, uint32_t b, uint32_t c);
uint32_t scorr_rng_u32(struct scorr_rng *r);
uint64_t scorr_rng_u64(struct scorr_rng *r);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float scorr_rng_uniform(struct scorr_rng *r);
double scorr_rng_uniform_f64(struct scorr_rng *r);
/* Uniform in [lo, hi). */
float scorr_rng_range(struct scorr_rng *r, float lo, float hi);
/* Uniform integer in [0, n), unbiased. n > 0. */
uint32_t scorr_rng_below(struct scorr_rng *r, uint32_t n);
/* Standard normal (Box-Muller, both values used in turn is not attempted:
 * one draw pair per call keeps streams position-independent). */
float scorr_rng_normal(struct scorr_rng *r);

/* Permutation of 0..n-1 (Fisher-Yates driven by r). perm: n ints, caller-owned. */
void scorr_rng_permutation(struct scorr_rng *r, int32_t *perm, int32_t n);

#endif
