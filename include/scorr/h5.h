/* HDF5 helpers shared by datasets, weights, checkpoints and results.
 *
 * A struct scorr_h5 carries the file's path so every error names the file and
 * the dataset, what was expected and what was found. Writers go through a
 * temporary file committed by rename (scorr_h5_create / scorr_h5_commit), so
 * an interrupted write never leaves a file that looks complete. HDF5's own
 * error printing is switched off; scorr reports instead. Local (each rank
 * opens files on its own; no MPI-IO here). */
#ifndef SCORR_H5_H
#define SCORR_H5_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#define SCORR_H5_MAXDIM 8

enum scorr_dtype { SCORR_F32, SCORR_F64, SCORR_I32, SCORR_I64, SCORR_U8, SCORR_I8 };

struct scorr_h5 {
    hid_t id;
    char path[4096];     /* the final path */
    char tmp[4096];      /* for writers: the temporary being written */
    int writing;
};

/* Reserve `bytes` of disk space for a file being written (fallocate, size
 * unchanged), so a full disk is met here, before HDF5 writes anything it
 * cannot take back (a failed HDF5 write can leave a file that neither closes
 * nor lets the program exit cleanly). SCORR_ENOSPC "disk full" when the
 * space is not there; a file system that cannot reserve is not an error. */
int scorr_h5_reserve(struct scorr_h5 *f, size_t bytes);

/* Give the memory HDF5 keeps for reuse (its free lists) and the free pages
 * of the C heap back to the kernel (H5garbage_collect, malloc_trim): after
 * a file write, whose object headers grow the heap by megabytes that would
 * otherwise stay resident. Local. */
void scorr_h5_trim(void);

/* Open read-only. Error names the path; a hint if it is not an HDF5 file. */
int scorr_h5_open(struct scorr_h5 *f, const char *path);
/* Create a new file at a temporary name beside path. */
int scorr_h5_create(struct scorr_h5 *f, const char *path);
/* Writers: flush, close, fsync, rename onto path. Readers: close. */
int scorr_h5_commit(struct scorr_h5 *f);
/* Close without committing (a writer's temporary is deleted). Safe on a zeroed struct. */
void scorr_h5_close(struct scorr_h5 *f);

int scorr_h5_has(const struct scorr_h5 *f, const char *name);

/* Shape of a dataset: *ndim and dims (SCORR_H5_MAXDIM entries). */
int scorr_h5_shape(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *dims);
/* A shape as text for messages: "(2, 3, 64)", "()" for a scalar. */
void scorr_h5_shape_text(char *out, size_t n, int ndim, const int64_t *dims);

/* Read a whole dataset, checking its rank, shape (a -1 entry matches any
 * size) and that its stored type converts to `type` without loss of kind
 * (float to float, integer to integer). */
int scorr_h5_read(const struct scorr_h5 *f, const char *name, enum scorr_dtype type, int ndim,
                  const int64_t *shape, void *out);
/* Read rows [start, start+count) along the first axis of a dataset of any rank. */
int scorr_h5_read_rows(const struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                       int64_t start, int64_t count, void *out);

/* Write a dataset (intermediate groups are created). chunk_rows > 0 chunks
 * along the first axis and, with gzip > 0, compresses at that level. */
int scorr_h5_write(struct scorr_h5 *f, const char *name, enum scorr_dtype type, int ndim,
                   const int64_t *dims, const void *data, int64_t chunk_rows, int gzip);
/* Create an empty dataset to be filled by scorr_h5_write_rows. */
int scorr_h5_create_dataset(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                            int ndim, const int64_t *dims, int64_t chunk_rows, int gzip);
/* The same with a first axis that may later be resized (H5Dset_extent):
 * unlimited, and chunked by chunk_rows (>= 1) rows whatever dims[0] is
 * (0 included). ndim >= 1. */
int scorr_h5_create_growable(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                             int ndim, const int64_t *dims, int64_t chunk_rows, int gzip);
int scorr_h5_write_rows(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                        int64_t start, int64_t count, const void *data);

/* Variable-length UTF-8 string arrays (h5py reads them as str/bytes). */
int scorr_h5_write_strings(struct scorr_h5 *f, const char *name, const char *const *s, int64_t n);
/* Caller frees with scorr_h5_free_strings. */
int scorr_h5_read_strings(const struct scorr_h5 *f, const char *name, char ***s, int64_t *n);
void scorr_h5_free_strings(char **s, int64_t n);

/* Attributes on an object ("/" for the file). */
int scorr_h5_set_attr_str(struct scorr_h5 *f, const char *obj, const char *key, const char *val);
int scorr_h5_set_attr_i64(struct scorr_h5 *f, const char *obj, const char *key, int64_t val);
int scorr_h5_set_attr_f64(struct scorr_h5 *f, const char *obj, const char *key, double val);
/* Missing attribute is an error naming file, object and key. out_len >= 1. */
int scorr_h5_get_attr_str(const struct scorr_h5 *f, const char *obj, const char *key, char *out,
                          size_t out_len);
int scorr_h5_get_attr_i64(const struct scorr_h5 *f, const char *obj, const char *key,
                          int64_t *val);
int scorr_h5_get_attr_f64(const struct scorr_h5 *f, const char *obj, const char *key,
                          double *val);

const char *scorr_dtype_name(enum scorr_dtype t);
size_t scorr_dtype_size(enum scorr_dtype t);

#endif
