/* Compare the tensors of two HDF5 groups (e.g. /params of two checkpoints). */
#ifndef SCORR_TEST_CKPT_COMPARE_H
#define SCORR_TEST_CKPT_COMPARE_H

/* Largest |a - b| over every float dataset of `group` in both files (the
 * names must match); *ntensors receives the count. Returns -1 on a missing
 * tensor or a shape mismatch (printed), or on an unreadable file. */
double ckpt_max_diff(const char *file_a, const char *file_b, const char *group, int *ntensors);

/* The same, each tensor's largest |a - b| divided by its largest |a| (kept
 * absolute when a is all zero); returns the largest over the tensors. */
double ckpt_max_rel_diff(const char *file_a, const char *file_b, const char *group,
                         int *ntensors);

#endif
