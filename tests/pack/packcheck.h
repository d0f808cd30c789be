/* Field-by-field check of a packed file against what rawgen wrote. */
#ifndef SCORR_TEST_PACKCHECK_H
#define SCORR_TEST_PACKCHECK_H

#include "rawgen.h"

struct expect_file {
    const char *source, *threshold;
    int image_size;
    const char *const *categories; /* the benchmark's full list */
    int num_categories;
    const char *const *splits;     /* the splits packed, in order */
    int num_splits;
};

/* Every field of `path` against the generator's record: the images (rows in
 * order of first use by a good pair, unreadable ones dropped; names; original
 * sizes; pixels equal to scorr's decode + resize of the raw file), and each
 * split's pairs (order, image rows, category, keypoints scaled by S/W and S/H
 * and original, NaN padding, kps_ids, boxes, flip, difficulty, names).
 * Pairs with bad = 1 or an unreadable image are expected to be absent. */
void check_packed(const char *label, const struct gen_raw *g, const char *path,
                  const struct expect_file *e);

#endif
