/* Plain file helpers: whole-file reads, atomic writes, directories. Local. */
#ifndef SCORR_IO_H
#define SCORR_IO_H

#include <stddef.h>
#include <stdio.h>

/* Read a whole file; *data is NUL-terminated, caller frees. Errors name the path. */
int scorr_read_file(const char *path, char **data, size_t *len);

/* Atomic replace: write to "<path>.tmp.<pid>", fsync, rename over path, fsync
 * the directory. A crash leaves either the old file or the new one. */
int scorr_write_file_atomic(const char *path, const void *data, size_t len);

/* The temporary name scorr uses beside `path` for an atomic write (for
 * writers that produce the file themselves, e.g. HDF5). out: >= 4096 bytes. */
void scorr_tmp_path(const char *path, char *out, size_t out_len);
/* fsync the file at tmp, rename it to path, fsync the directory. */
int scorr_commit_file(const char *tmp, const char *path);

/* mkdir -p; error names the first component that could not be made. */
int scorr_mkdirs(const char *path);
/* 1 if path exists (any type). */
int scorr_exists(const char *path);
/* Check a directory is writable by creating and removing a probe file. */
int scorr_check_writable_dir(const char *dir);

/* Join a/b into out (size n); error if it does not fit. */
int scorr_path_join(char *out, size_t n, const char *a, const char *b);

#endif
