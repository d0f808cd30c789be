/* Writers of structurally valid HDF5 files with fuzzed contents
 * (fuzz_h5gen.c). Each call reads its decisions from the fuzz bytes. */
#ifndef SCORR_FUZZ_H5GEN_H
#define SCORR_FUZZ_H5GEN_H

#include <hdf5.h>

#include "fuzz_common.h"

enum fz_type { FZ_F32, FZ_I32, FZ_U8, FZ_I8 };

hid_t fz_create(const char *path);
/* A transfer list with a conversion buffer for n elements (H5Pclose it). */
hid_t fz_dxpl(size_t n);
hid_t fz_group(hid_t f, const char *name);
void fz_dataset(hid_t f, const char *name, enum fz_type t, int nd, const hsize_t *dims,
                double (*value)(size_t i, void *arg), void *arg, struct fuzz_bytes *b);
void fz_strings(hid_t f, const char *name, const char *prefix, hsize_t n, struct fuzz_bytes *b);
void fz_attr_num(hid_t obj, const char *key, double def, int is_float, struct fuzz_bytes *b);
void fz_attr_str(hid_t obj, const char *key, const char *def, struct fuzz_bytes *b);

#endif
