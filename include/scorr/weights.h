/* Weights files: network tensors by their PyTorch names, in HDF5.
 *
 *   /            attrs: format = "scorr-weights", version = 1,
 *                       arch (informational, e.g. "resnet101")
 *   /params/<name>  float32 dataset in PyTorch shape (conv OIHW, BN vectors),
 *                   e.g. /params/feature_extraction.backbone.layer1.0.conv1.weight
 *
 * tools/convert_torchvision.py writes them from torchvision or reference
 * SCorrSAN state dicts (docs/weights.md). The group readers and writers take
 * the group as an argument, so checkpoints reuse them for their /params and
 * /peer/params groups.
 *
 * Loading walks the parameter table: every entry found in the group is read
 * (exact float32, exact shape); every entry whose name starts with
 * `required_prefix` must be present; datasets the table does not know
 * (layer4, fc, num_batches_tracked, ...) are ignored and counted. Errors name
 * the file, the tensor, and expected vs found shape or dtype. All functions
 * are local. */
#ifndef SCORR_WEIGHTS_H
#define SCORR_WEIGHTS_H

#include "scorr/h5.h"
#include "scorr/params.h"

#define SCORR_WEIGHTS_FORMAT "scorr-weights"
#define SCORR_WEIGHTS_VERSION 1
#define SCORR_WEIGHTS_GROUP "/params"

struct scorr_weights_report {
    int loaded;  /* table entries read from the file */
    int absent;  /* table entries not in the file (outside required_prefix) */
    int extra;   /* datasets in the group the table does not know */
};

/* Write the table's entries whose names start with `prefix` (NULL or "" =
 * all) as float32 datasets <group>/<name> of a file open for writing. flat:
 * t->total floats. */
int scorr_weights_write_group(struct scorr_h5 *f, const char *group, const struct scorr_params *t,
                              const float *flat, const char *prefix);

/* Read every table entry present in <group> into flat (t->total floats;
 * entries not in the file keep their values). Entries whose names start
 * with required_prefix must be present ("" = all; NULL = none required).
 * rep may be NULL. On error flat may be partly written. */
int scorr_weights_read_group(const struct scorr_h5 *f, const char *group,
                             const struct scorr_params *t, float *flat,
                             const char *required_prefix, struct scorr_weights_report *rep);

/* A whole weights file (atomic write: temporary, fsync, rename). arch may be NULL. */
int scorr_weights_save(const char *path, const struct scorr_params *t, const float *flat,
                       const char *arch);

/* Open a weights file, check format and version, read SCORR_WEIGHTS_GROUP as
 * scorr_weights_read_group does. */
int scorr_weights_load(const char *path, const struct scorr_params *t, float *flat,
                       const char *required_prefix, struct scorr_weights_report *rep);

#endif
