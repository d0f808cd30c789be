#define _GNU_SOURCE
#include "scorr/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"

static void quiet_hdf5(void)
{
    static int done;
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        done = 1;
    }
}

static hid_t mem_type(enum scorr_dtype t)
{
    switch (t) {
    case SCORR_F32: return H5T_NATIVE_FLOAT;
    case SCORR_F64: return H5T_NATIVE_DOUBLE;
    case SCORR_I32: return H5T_NATIVE_INT32;
    case SCORR_I64: return H5T_NATIVE_INT64;
    case SCORR_U8: return H5T_NATIVE_UINT8;
    case SCORR_I8: return H5T_NATIVE_INT8;
    }
    return H5T_NATIVE_FLOAT;
}

static hid_t file_type(enum scorr_dtype t)
{
    switch (t) {
    case SCORR_F32: return H5T_IEEE_F32LE;
    case SCORR_F64: return H5T_IEEE_F64LE;
    case SCORR_I32: return H5T_STD_I32LE;
    case SCORR_I64: return H5T_STD_I64LE;
    case SCORR_U8: return H5T_STD_U8LE;
    case SCORR_I8: return H5T_STD_I8LE;
    }
    return H5T_IEEE_F32LE;
}

const char *scorr_dtype_name(enum scorr_dtype t)
{
    static const char *names[] = {"float32", "float64", "int32", "int64", "uint8", "int8"};
    return (unsigned)t < 6 ? names[t] : "?";
}

size_t scorr_dtype_size(enum scorr_dtype t)
{
    static const size_t sizes[] = {4, 8, 4, 8, 1, 1};
    return (unsigned)t < 6 ? sizes[t] : 0;
}

static int is_float(enum scorr_dtype t) { return t == SCORR_F32 || t == SCORR_F64; }

static void describe_stored(hid_t dtype, char *out, size_t n)
{
    H5T_class_t cls = H5Tget_class(dtype);
    size_t sz = H5Tget_size(dtype);
    const char *kind = cls == H5T_FLOAT     ? "float"
                       : cls == H5T_INTEGER ? (H5Tget_sign(dtype) == H5T_SGN_NONE ? "uint" : "int")
                       : cls == H5T_STRING  ? "string"
                                            : "compound/other";
    if (cls == H5T_STRING)
        snprintf(out, n, "string");
    else
        snprintf(out, n, "%s%zu", kind, sz * 8);
}

/* A write into f failed; e is errno right after the failing call (HDF5's
 * POSIX driver leaves it). A full disk or quota (or no free block left on
 * the file's file system) is SCORR_ENOSPC with "disk full" in the message,
 * anything else SCORR_EIO with the errno text. Sets the error, returns it. */
__attribute__((format(printf, 5, 6))) static int write_failed(const struct scorr_h5 *f, int e,
                                                             const char *file, int line,
                                                             const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    struct statvfs vs;
    int full = e == ENOSPC || e == EDQUOT ||
               (f->tmp[0] && statvfs(f->tmp, &vs) == 0 && vs.f_bavail == 0);
    if (full)
        return scorr_error_set(SCORR_ENOSPC, file, line, __func__,
                               "'%s': %s: disk full (%s); the partial file is removed", f->path,
                               what, strerror(e == EDQUOT ? EDQUOT : ENOSPC));
    return scorr_error_set(SCORR_EIO, file, line, __func__, "'%s': %s%s%s", f->path, what,
                           e ? ": " : "", e ? strerror(e) : "");
}

#define WRITE_REQUIRE(cond, ...)                                                 \
    do {                                                                         \
        if (!(cond)) {                                                           \
            err = write_failed(f, errno, __FILE__, __LINE__, __VA_ARGS__);       \
            goto done;                                                           \
        }                                                                        \
    } while (0)

int scorr_h5_open(struct scorr_h5 *f, const char *path)
{
    int err = 0;
    quiet_hdf5();
    memset(f, 0, sizeof *f);
    f->id = H5I_INVALID_HID;
    snprintf(f->path, sizeof f->path, "%s", path);
    SCORR_REQUIRE(scorr_exists(path), SCORR_EIO, "file '%s' does not exist", path);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is not a readable HDF5 file", path);
        scorr_error_hint("check the path; scorr data, weights and checkpoints are HDF5 (.h5)");
        err = SCORR_EFORMAT;
        goto done;
    }
    f->id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    SCORR_REQUIRE(f->id >= 0, SCORR_EIO, "cannot open HDF5 file '%s'", path);
done:
    return err;
}

int scorr_h5_create(struct scorr_h5 *f, const char *path)
{
    int err = 0;
    quiet_hdf5();
    memset(f, 0, sizeof *f);
    f->id = H5I_INVALID_HID;
    snprintf(f->path, sizeof f->path, "%s", path);
    scorr_tmp_path(path, f->tmp, sizeof f->tmp);
    f->id = H5Fcreate(f->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    SCORR_REQUIRE(f->id >= 0, SCORR_EIO, "cannot create HDF5 file '%s' (temporary '%s')", path,
                  f->tmp);
    f->writing = 1;
done:
    return err;
}

int scorr_h5_commit(struct scorr_h5 *f)
{
    int err = 0;
    if (f->id >= 0) {
        errno = 0;
        herr_t rc = f->writing ? H5Fflush(f->id, H5F_SCOPE_GLOBAL) : 0;
        WRITE_REQUIRE(rc >= 0, "cannot finish writing the file");
        errno = 0;
        rc = H5Fclose(f->id);
        f->id = H5I_INVALID_HID; /* never closed twice: a retry crashed in H5F__close */
        WRITE_REQUIRE(rc >= 0, "cannot finish writing the file");
    }
    if (f->writing) {
        SCORR_TRY(scorr_commit_file(f->tmp, f->path));
        f->writing = 0;
    }
done:
    if (err) scorr_h5_close(f);
    return err;
}

void scorr_h5_close(struct scorr_h5 *f)
{
    /* After a failed write HDF5 may refuse to close the file; it then stays
     * open in the library, whose exit handler crashes on it. Writers that
     * can meet a full disk reserve the file's space first (scorr_h5_reserve),
     * so their writes do not fail. */
    if (f->id >= 0) H5Fclose(f->id);
    f->id = H5I_INVALID_HID;
    if (f->writing) unlink(f->tmp);
    f->writing = 0;
}

int scorr_h5_reserve(struct scorr_h5 *f, size_t bytes)
{
    int err = 0;
    void *handle = NULL;
    SCORR_ASSERT(f->writing && f->id >= 0);
    /* The header goes out first: if the reservation fails, nothing is left
     * for the close to write. */
    errno = 0;
    WRITE_REQUIRE(H5Fflush(f->id, H5F_SCOPE_LOCAL) >= 0, "cannot write the file header");
    if (H5Fget_vfd_handle(f->id, H5P_DEFAULT, &handle) < 0 || !handle) goto done;
    if (fallocate(*(int *)handle, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0) {
        int e = errno;
        if (e == EOPNOTSUPP || e == ENOSYS || e == EINVAL) goto done; /* cannot reserve: go on */
        errno = e;
        WRITE_REQUIRE(0, "cannot reserve the %.1f MB the file needs", (double)bytes / 1e6);
    }
done:
    return err;
}

int scorr_h5_has(const struct scorr_h5 *f, const char *name)
{
    /* Check each path component so a missing group is "no", not an error. */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (H5Lexists(f->id, buf, H5P_DEFAULT) <= 0) return 0;
            if (!saved) break;
            *p = saved;
        }
    }
    return 1;
}

/* A transfer property list for reading n elements: HDF5's default
 * conversion buffer is 1 MB, allocated and cleared by every read that
 * converts (variable-length strings always do), however small the read. */
static hid_t read_xfer(hsize_t n)
{
    hid_t p = H5Pcreate(H5P_DATASET_XFER);
    hsize_t bytes = n < ((hsize_t)1 << 16) ? n * 16 : (hsize_t)1 << 20;
    if (p >= 0) H5Pset_buffer(p, bytes < 256 ? 256 : (size_t)bytes, NULL, NULL);
    return p;
}

static int open_dataset(const struct scorr_h5 *f, const char *name, hid_t *ds)
{
    int err = 0;
    *ds = H5I_INVALID_HID;
    SCORR_REQUIRE(scorr_h5_has(f, name), SCORR_EFORMAT, "'%s': dataset '%s' is missing", f->path,
                  name);
    *ds = H5Dopen2(f->id, name, H5P_DEFAULT);
    SCORR_REQUIRE(*ds >= 0, SCORR_EFORMAT, "'%s': '%s' is not a dataset", f->path, name);
done:
    return err;
}

int scorr_h5_shape(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *dims)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hsize_t d[SCORR_H5_MAXDIM];
    SCORR_TRY(open_dataset(f, name, &ds));
    sp = H5Dget_space(ds);
    int n = H5Sget_simple_extent_ndims(sp);
    SCORR_REQUIRE(n >= 0 && n <= SCORR_H5_MAXDIM, SCORR_EFORMAT, "'%s': '%s' has rank %d",
                  f->path, name, n);
    H5Sget_simple_extent_dims(sp, d, NULL);
    *ndim = n;
    for (int i = 0; i < n; i++) dims[i] = (int64_t)d[i];
done:
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

void scorr_h5_shape_text(char *out, size_t n, int ndim, const int64_t *dims)
{
    size_t k = (size_t)snprintf(out, n, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (k < n) snprintf(out + k, n - k, ")");
}

static int check_type(const struct scorr_h5 *f, const char *name, hid_t ds, enum scorr_dtype t)
{
    int err = 0;
    hid_t dt = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(dt);
    char found[32];
    describe_stored(dt, found, sizeof found);
    int ok = is_float(t) ? cls == H5T_FLOAT : cls == H5T_INTEGER;
    H5Tclose(dt);
    SCORR_REQUIRE(ok, SCORR_EFORMAT, "'%s': dataset '%s' has dtype %s, expected %s", f->path,
                  name, found, scorr_dtype_name(t));
done:
    return err;
}

int scorr_h5_read(const struct scorr_h5 *f, const char *name, enum scorr_dtype type, int ndim,
                  const int64_t *shape, void *out)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, xfer = H5I_INVALID_HID;
    int n = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    SCORR_TRY(scorr_h5_shape(f, name, &n, dims));
    int match = n == ndim;
    for (int i = 0; match && i < n; i++)
        if (shape[i] >= 0 && shape[i] != dims[i]) match = 0;
    if (!match) {
        char want[128], got[128];
        scorr_h5_shape_text(want, sizeof want, ndim, shape);
        scorr_h5_shape_text(got, sizeof got, n, dims);
        SCORR_FAIL(SCORR_EFORMAT, "'%s': dataset '%s' has shape %s, expected %s", f->path, name,
                   got, want);
    }
    SCORR_TRY(open_dataset(f, name, &ds));
    SCORR_TRY(check_type(f, name, ds, type));
    hsize_t count = 1;
    for (int i = 0; i < n; i++) count *= (hsize_t)dims[i];
    xfer = read_xfer(count);
    SCORR_REQUIRE(H5Dread(ds, mem_type(type), H5S_ALL, H5S_ALL, xfer, out) >= 0, SCORR_EIO,
                  "'%s': cannot read dataset '%s'", f->path, name);
done:
    if (xfer >= 0) H5Pclose(xfer);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

/* Select rows [start, start + count) of a dataset space of n dims d in fs;
 * returns the matching memory space (close it). */
static hid_t select_rows(hid_t fs, int n, const hsize_t *d, int64_t start, int64_t count)
{
    hsize_t st[SCORR_H5_MAXDIM] = {0}, cnt[SCORR_H5_MAXDIM];
    for (int i = 0; i < n; i++) cnt[i] = d[i];
    st[0] = (hsize_t)start;
    cnt[0] = (hsize_t)count;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    return H5Screate_simple(n, cnt, NULL);
}

int scorr_h5_read_rows(const struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                       int64_t start, int64_t count, void *out)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hid_t xfer = H5I_INVALID_HID;
    hsize_t d[SCORR_H5_MAXDIM];
    SCORR_TRY(open_dataset(f, name, &ds));
    SCORR_TRY(check_type(f, name, ds, type));
    fs = H5Dget_space(ds);
    int n = H5Sget_simple_extent_ndims(fs);
    /* Rank first: HDF5 allows 32 dimensions, d holds SCORR_H5_MAXDIM. */
    SCORR_REQUIRE(n >= 1 && n <= SCORR_H5_MAXDIM, SCORR_EFORMAT, "'%s': '%s' has rank %d",
                  f->path, name, n);
    H5Sget_simple_extent_dims(fs, d, NULL);
    SCORR_REQUIRE(n >= 1 && start >= 0 && count >= 0 && (hsize_t)(start + count) <= d[0],
                  SCORR_EFORMAT, "'%s': rows [%lld, %lld) of '%s' requested, it has %llu",
                  f->path, (long long)start, (long long)(start + count), name,
                  n >= 1 ? (unsigned long long)d[0] : 0ULL);
    if (count == 0) goto done;
    ms = select_rows(fs, n, d, start, count);
    hsize_t elems = (hsize_t)count;
    for (int i = 1; i < n; i++) elems *= d[i];
    xfer = read_xfer(elems);
    SCORR_REQUIRE(H5Dread(ds, mem_type(type), ms, fs, xfer, out) >= 0, SCORR_EIO,
                  "'%s': cannot read rows of '%s'", f->path, name);
done:
    if (xfer >= 0) H5Pclose(xfer);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

static hid_t lcpl_intermediate(void)
{
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(p, 1);
    return p;
}

/* scorr_h5_create_dataset and, with growable, scorr_h5_create_growable. */
static int create_dataset(struct scorr_h5 *f, const char *name, enum scorr_dtype type, int ndim,
                          const int64_t *dims, int64_t chunk_rows, int gzip, int growable)
{
    int err = 0;
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, lcpl = H5I_INVALID_HID,
          ds = H5I_INVALID_HID;
    hsize_t d[SCORR_H5_MAXDIM] = {0}, maxd[SCORR_H5_MAXDIM] = {0}, ch[SCORR_H5_MAXDIM];
    SCORR_ASSERT(!growable || (ndim > 0 && chunk_rows > 0));
    for (int i = 0; i < ndim; i++) d[i] = maxd[i] = (hsize_t)dims[i];
    if (growable) maxd[0] = H5S_UNLIMITED;
    sp = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, d, growable ? maxd : NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk_rows > 0 && ndim > 0 && (dims[0] > 0 || growable)) {
        for (int i = 0; i < ndim; i++) ch[i] = d[i] ? d[i] : 1;
        ch[0] = (hsize_t)(growable || chunk_rows < dims[0] ? chunk_rows : dims[0]);
        H5Pset_chunk(dcpl, ndim, ch);
        if (gzip > 0) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)gzip);
        }
    }
    lcpl = lcpl_intermediate();
    errno = 0;
    ds = H5Dcreate2(f->id, name, file_type(type), sp, lcpl, dcpl, H5P_DEFAULT);
    WRITE_REQUIRE(ds >= 0, "cannot create dataset '%s'", name);
done:
    if (ds >= 0) H5Dclose(ds);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return err;
}

int scorr_h5_create_dataset(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                            int ndim, const int64_t *dims, int64_t chunk_rows, int gzip)
{
    return create_dataset(f, name, type, ndim, dims, chunk_rows, gzip, 0);
}

int scorr_h5_create_growable(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                             int ndim, const int64_t *dims, int64_t chunk_rows, int gzip)
{
    return create_dataset(f, name, type, ndim, dims, chunk_rows, gzip, 1);
}

int scorr_h5_write_rows(struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                        int64_t start, int64_t count, const void *data)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    hsize_t d[SCORR_H5_MAXDIM];
    SCORR_TRY(open_dataset(f, name, &ds));
    fs = H5Dget_space(ds);
    int n = H5Sget_simple_extent_ndims(fs);
    /* Rank first: HDF5 allows 32 dimensions, d holds SCORR_H5_MAXDIM. */
    SCORR_REQUIRE(n >= 1 && n <= SCORR_H5_MAXDIM, SCORR_EFORMAT, "'%s': '%s' has rank %d",
                  f->path, name, n);
    H5Sget_simple_extent_dims(fs, d, NULL);
    SCORR_REQUIRE(n >= 1 && start >= 0 && (hsize_t)(start + count) <= d[0], SCORR_EINTERNAL,
                  "'%s': rows [%lld, %lld) of '%s' out of range", f->path, (long long)start,
                  (long long)(start + count), name);
    if (count == 0) goto done;
    ms = select_rows(fs, n, d, start, count);
    errno = 0;
    WRITE_REQUIRE(H5Dwrite(ds, mem_type(type), ms, fs, H5P_DEFAULT, data) >= 0,
                  "cannot write rows of '%s'", name);
done:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

int scorr_h5_write(struct scorr_h5 *f, const char *name, enum scorr_dtype type, int ndim,
                   const int64_t *dims, const void *data, int64_t chunk_rows, int gzip)
{
    int err = 0;
    SCORR_TRY(scorr_h5_create_dataset(f, name, type, ndim, dims, chunk_rows, gzip));
    if (ndim == 0) {
        hid_t ds = H5Dopen2(f->id, name, H5P_DEFAULT);
        errno = 0;
        herr_t rc = H5Dwrite(ds, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        int e = errno;
        H5Dclose(ds);
        errno = e;
        WRITE_REQUIRE(rc >= 0, "cannot write '%s'", name);
    } else {
        SCORR_TRY(scorr_h5_write_rows(f, name, type, 0, dims[0], data));
    }
done:
    return err;
}

static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int scorr_h5_write_strings(struct scorr_h5 *f, const char *name, const char *const *s, int64_t n)
{
    int err = 0;
    hsize_t d = (hsize_t)n;
    hid_t t = vlen_str_type(), sp = H5Screate_simple(1, &d, NULL), lcpl = lcpl_intermediate();
    hid_t ds = H5Dcreate2(f->id, name, t, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    SCORR_REQUIRE(ds >= 0, SCORR_EIO, "'%s': cannot create string dataset '%s'", f->path, name);
    if (n > 0)
        SCORR_REQUIRE(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0, SCORR_EIO,
                      "'%s': cannot write strings '%s'", f->path, name);
done:
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(sp);
    H5Tclose(t);
    return err;
}

int scorr_h5_read_strings(const struct scorr_h5 *f, const char *name, char ***out, int64_t *n_out)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = vlen_str_type(), dt = H5I_INVALID_HID;
    hid_t xfer = H5I_INVALID_HID;
    char **raw = NULL, **res = NULL;
    hsize_t d = 0;
    *out = NULL;
    *n_out = 0;
    SCORR_TRY(open_dataset(f, name, &ds));
    dt = H5Dget_type(ds);
    SCORR_REQUIRE(H5Tget_class(dt) == H5T_STRING && H5Tis_variable_str(dt) > 0, SCORR_EFORMAT,
                  "'%s': '%s' is not a variable-length string dataset", f->path, name);
    sp = H5Dget_space(ds);
    SCORR_REQUIRE(H5Sget_simple_extent_ndims(sp) == 1, SCORR_EFORMAT,
                  "'%s': string dataset '%s' must be 1-D", f->path, name);
    H5Sget_simple_extent_dims(sp, &d, NULL);
    /* No scorr file holds more names than this; a larger extent is a broken
     * file, not a reason to allocate gigabytes. */
    SCORR_REQUIRE(d <= ((hsize_t)1 << 26), SCORR_EFORMAT,
                  "'%s': string dataset '%s' has %llu entries, more than scorr reads (2^26)",
                  f->path, name, (unsigned long long)d);
    raw = calloc(d ? d : 1, sizeof *raw);
    res = calloc(d ? d : 1, sizeof *res);
    SCORR_REQUIRE(raw && res, SCORR_ENOMEM, "'%s': out of memory reading '%s'", f->path, name);
    xfer = read_xfer(d);
    if (d > 0)
        SCORR_REQUIRE(H5Dread(ds, t, H5S_ALL, H5S_ALL, xfer, raw) >= 0, SCORR_EIO,
                      "'%s': cannot read strings '%s'", f->path, name);
    for (hsize_t i = 0; i < d; i++) {
        res[i] = strdup(raw[i] ? raw[i] : "");
        SCORR_REQUIRE(res[i], SCORR_ENOMEM, "'%s': out of memory reading '%s'", f->path, name);
    }
    if (d > 0) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, raw);
    *out = res;
    *n_out = (int64_t)d;
    res = NULL;
done:
    if (res) scorr_h5_free_strings(res, (int64_t)d);
    free(raw);
    if (xfer >= 0) H5Pclose(xfer);
    if (dt >= 0) H5Tclose(dt);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    H5Tclose(t);
    return err;
}

void scorr_h5_free_strings(char **s, int64_t n)
{
    if (!s) return;
    for (int64_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

static int set_attr(struct scorr_h5 *f, const char *obj, const char *key, hid_t type,
                    const void *val)
{
    int err = 0;
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Aexists_by_name(f->id, obj, key, H5P_DEFAULT) > 0)
        H5Adelete_by_name(f->id, obj, key, H5P_DEFAULT);
    hid_t a = H5Acreate_by_name(f->id, obj, key, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    SCORR_REQUIRE(a >= 0, SCORR_EIO, "'%s': cannot create attribute '%s' on '%s'", f->path, key,
                  obj);
    herr_t rc = H5Awrite(a, type, val);
    H5Aclose(a);
    SCORR_REQUIRE(rc >= 0, SCORR_EIO, "'%s': cannot write attribute '%s'", f->path, key);
done:
    H5Sclose(sp);
    return err;
}

int scorr_h5_set_attr_str(struct scorr_h5 *f, const char *obj, const char *key, const char *val)
{
    hid_t t = vlen_str_type();
    int err = set_attr(f, obj, key, t, &val);
    H5Tclose(t);
    return err;
}

int scorr_h5_set_attr_i64(struct scorr_h5 *f, const char *obj, const char *key, int64_t val)
{
    return set_attr(f, obj, key, H5T_STD_I64LE, &val);
}

int scorr_h5_set_attr_f64(struct scorr_h5 *f, const char *obj, const char *key, double val)
{
    return set_attr(f, obj, key, H5T_IEEE_F64LE, &val);
}

static int open_attr(const struct scorr_h5 *f, const char *obj, const char *key, hid_t *a)
{
    int err = 0;
    hid_t sp = H5I_INVALID_HID;
    *a = H5I_INVALID_HID;
    SCORR_REQUIRE(H5Aexists_by_name(f->id, obj, key, H5P_DEFAULT) > 0, SCORR_EFORMAT,
                  "'%s': attribute '%s' is missing on '%s'", f->path, key, obj);
    *a = H5Aopen_by_name(f->id, obj, key, H5P_DEFAULT, H5P_DEFAULT);
    SCORR_REQUIRE(*a >= 0, SCORR_EIO, "'%s': cannot open attribute '%s'", f->path, key);
    /* One value: H5Aread writes every element into a buffer sized for one. */
    sp = H5Aget_space(*a);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    SCORR_REQUIRE(np == 1, SCORR_EFORMAT,
                  "'%s': attribute '%s' on '%s' holds %lld values, expected one", f->path, key,
                  obj, (long long)np);
done:
    if (sp >= 0) H5Sclose(sp);
    if (err && *a >= 0) {
        H5Aclose(*a);
        *a = H5I_INVALID_HID;
    }
    return err;
}

int scorr_h5_get_attr_str(const struct scorr_h5 *f, const char *obj, const char *key, char *out,
                          size_t out_len)
{
    int err = 0;
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    out[0] = 0;
    SCORR_TRY(open_attr(f, obj, key, &a));
    ft = H5Aget_type(a);
    SCORR_REQUIRE(H5Tget_class(ft) == H5T_STRING, SCORR_EFORMAT,
                  "'%s': attribute '%s' on '%s' is not a string", f->path, key, obj);
    if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        mt = vlen_str_type();
        SCORR_REQUIRE(H5Aread(a, mt, &s) >= 0, SCORR_EIO, "'%s': cannot read attribute '%s'",
                      f->path, key);
        snprintf(out, out_len, "%s", s ? s : "");
        H5free_memory(s);
    } else {
        size_t sz = H5Tget_size(ft);
        char *buf = calloc(sz + 1, 1);
        SCORR_REQUIRE(buf, SCORR_ENOMEM, "out of memory");
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        herr_t rc = H5Aread(a, mt, buf);
        snprintf(out, out_len, "%s", buf);
        free(buf);
        SCORR_REQUIRE(rc >= 0, SCORR_EIO, "'%s': cannot read attribute '%s'", f->path, key);
    }
done:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return err;
}

static int get_attr_num(const struct scorr_h5 *f, const char *obj, const char *key, hid_t mt,
                        void *val)
{
    int err = 0;
    hid_t a = H5I_INVALID_HID;
    SCORR_TRY(open_attr(f, obj, key, &a));
    SCORR_REQUIRE(H5Aread(a, mt, val) >= 0, SCORR_EFORMAT,
                  "'%s': attribute '%s' on '%s' is not a number", f->path, key, obj);
done:
    if (a >= 0) H5Aclose(a);
    return err;
}

int scorr_h5_get_attr_i64(const struct scorr_h5 *f, const char *obj, const char *key,
                          int64_t *val)
{
    return get_attr_num(f, obj, key, H5T_NATIVE_INT64, val);
}

int scorr_h5_get_attr_f64(const struct scorr_h5 *f, const char *obj, const char *key,
                          double *val)
{
    return get_attr_num(f, obj, key, H5T_NATIVE_DOUBLE, val);
}

void scorr_h5_trim(void)
{
    H5garbage_collect();
    malloc_trim(0);
}
