/* Private: the contact sheet of sample pairs (PNG). */
#ifndef SCORR_SYNTH_CONTACT_H
#define SCORR_SYNTH_CONTACT_H

#include "scorr/dataset.h"
#include "synth_internal.h"

/* Render the first pairs of a split side by side (source | target), keypoints
 * drawn as dots with one colour per keypoint id, and write a PNG. pool: the
 * split's images; s: its pair table. */
int syn_contact_sheet(const struct scorr_synth_config *c, int split, const struct syn_image *pool,
                      const struct scorr_split *s, const char *path);

#endif
