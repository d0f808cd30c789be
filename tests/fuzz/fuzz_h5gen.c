/* HDF5 writers for the fuzz targets of the dataset and checkpoint readers.
 *
 * Corrupt HDF5 bytes mostly exercise the HDF5 library itself (fuzz_h5raw
 * does that); these writers make structurally valid files whose contents the
 * fuzz input decides: each object is written as the schema says unless the
 * next input byte picks a change (missing, another type or rank, other
 * dimensions, an array or string attribute, huge chunked extents), and
 * values come from the input. An empty input writes a valid file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_h5gen.h"

/* Byte below this: write the object as the schema says. */
#define KEEP 224

static hid_t vstr(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* A transfer property list whose conversion buffer fits n elements: HDF5's
 * default allocates and clears 1 MB for every converting H5Dwrite, which
 * under ASan was most of each input's time. */
hid_t fz_dxpl(size_t n)
{
    hid_t p = H5Pcreate(H5P_DATASET_XFER);
    size_t bytes = (n ? n : 1) * 16;
    H5Pset_buffer(p, bytes < 256 ? 256 : bytes, NULL, NULL);
    return p;
}

static hid_t lcpl(void)
{
    hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(p, 1);
    return p;
}

static void put_attr(hid_t obj, const char *key, hid_t type, int n, const void *val)
{
    hsize_t d = (hsize_t)n;
    hid_t sp = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &d, NULL);
    hid_t a = H5Acreate2(obj, key, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, type, val);
        H5Aclose(a);
    }
    H5Sclose(sp);
}

static int64_t fuzz_i64(struct fuzz_bytes *b)
{
    static const int64_t special[] = {0, -1, 1, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN,
                                      (int64_t)1 << 32, 255, 256, 65536, 8192, 8193};
    unsigned k = fuzz_u8(b);
    if (k < 13) return special[k];
    return (int64_t)(int32_t)fuzz_u32(b);
}

static double fuzz_f64(struct fuzz_bytes *b)
{
    static const double special[] = {0.0, NAN, INFINITY, -INFINITY, -1.0, 1e300, 5e-324, 0.5};
    unsigned k = fuzz_u8(b);
    if (k < 8) return special[k];
    return (double)(int32_t)fuzz_u32(b) / 16.0;
}

/* An attribute the schema wants as an integer (or a float when is_float). */
static void gen_attr_num(hid_t obj, const char *key, double def, int is_float,
                         struct fuzz_bytes *b)
{
    unsigned m = fuzz_u8(b);
    int64_t iv = (int64_t)def;
    double fv = def;
    if (m < KEEP) {
        if (is_float)
            put_attr(obj, key, H5T_IEEE_F64LE, -1, &fv);
        else
            put_attr(obj, key, H5T_STD_I64LE, -1, &iv);
        return;
    }
    switch (m % 8) {
    case 0: return; /* missing */
    case 1: iv = fuzz_i64(b); put_attr(obj, key, H5T_STD_I64LE, -1, &iv); return;
    case 2: fv = fuzz_f64(b); put_attr(obj, key, H5T_IEEE_F64LE, -1, &fv); return;
    case 3: { /* an array where a scalar is expected */
        int n = 2 + (int)(fuzz_u8(b) % 30);
        int64_t v[32];
        for (int i = 0; i < n; i++) v[i] = iv + i;
        put_attr(obj, key, H5T_STD_I64LE, n, v);
        return;
    }
    case 4: { /* a string */
        hid_t t = vstr();
        const char *s = "12";
        put_attr(obj, key, t, -1, &s);
        H5Tclose(t);
        return;
    }
    case 5: { int32_t v = (int32_t)fuzz_u32(b); put_attr(obj, key, H5T_STD_I32BE, -1, &v); return; }
    case 6: { uint64_t v = UINT64_MAX - fuzz_u8(b); put_attr(obj, key, H5T_STD_U64LE, -1, &v); return; }
    default: { float v = (float)fuzz_f64(b); put_attr(obj, key, H5T_IEEE_F32LE, -1, &v); return; }
    }
}

/* An attribute the schema wants as a string. */
static void gen_attr_str(hid_t obj, const char *key, const char *def, struct fuzz_bytes *b)
{
    unsigned m = fuzz_u8(b);
    hid_t t = vstr();
    char buf[600];
    const char *s = def;
    if (m >= KEEP) {
        switch (m % 7) {
        case 0: H5Tclose(t); return; /* missing */
        case 1: s = ""; break;
        case 2: /* long */
            memset(buf, 'x', sizeof buf - 1);
            buf[sizeof buf - 1] = 0;
            s = buf;
            break;
        case 3: { /* fixed-length */
            hid_t ft = H5Tcopy(H5T_C_S1);
            size_t n = 1 + fuzz_u8(b) % 80;
            memset(buf, 0, sizeof buf);
            snprintf(buf, sizeof buf, "%s", def);
            H5Tset_size(ft, n);
            put_attr(obj, key, ft, -1, buf);
            H5Tclose(ft);
            H5Tclose(t);
            return;
        }
        case 4: { /* an array of strings */
            const char *v[5] = {def, def, "a", "b", "c"};
            put_attr(obj, key, t, 2 + (int)(fuzz_u8(b) % 4), v);
            H5Tclose(t);
            return;
        }
        case 5: { /* a number */
            int64_t v = 1;
            put_attr(obj, key, H5T_STD_I64LE, -1, &v);
            H5Tclose(t);
            return;
        }
        default: /* the input's own bytes */
            for (size_t i = 0; i < 40; i++) buf[i] = (char)(fuzz_u8(b) | 1);
            buf[40] = 0;
            s = buf;
        }
    }
    put_attr(obj, key, t, -1, &s);
    H5Tclose(t);
}

static hid_t file_type(enum fz_type t)
{
    switch (t) {
    case FZ_F32: return H5T_IEEE_F32LE;
    case FZ_I32: return H5T_STD_I32LE;
    case FZ_U8: return H5T_STD_U8LE;
    case FZ_I8: return H5T_STD_I8LE;
    }
    return H5T_IEEE_F32LE;
}

/* A numeric dataset of type t and shape dims[nd] at name; value(i) gives
 * element i's default (as double). */
void fz_dataset(hid_t f, const char *name, enum fz_type t, int nd, const hsize_t *dims,
                double (*value)(size_t i, void *arg), void *arg, struct fuzz_bytes *b)
{
    hsize_t d[32];
    int rank = nd;
    hid_t type = file_type(t);
    int chunked = 0, write = 1, raw_values = 0;
    memcpy(d, dims, (size_t)nd * sizeof *d);
    unsigned m = fuzz_u8(b);
    if (m >= KEEP) {
        switch (m % 10) {
        case 0: return; /* missing */
        case 1: rank = (int)(fuzz_u8(b) % 12); /* other rank, up to beyond SCORR_H5_MAXDIM */
            for (int i = nd; i < rank; i++) d[i] = 1 + fuzz_u8(b) % 3;
            break;
        case 2: if (nd) d[fuzz_u8(b) % nd] += 1; break;
        case 3: if (nd) d[fuzz_u8(b) % nd] = 0; break;
        case 4: /* huge extents, chunked, nothing written (fill values) */
            if (nd) d[fuzz_u8(b) % nd] = (hsize_t)1 << (20 + fuzz_u8(b) % 24);
            chunked = 1;
            write = 0;
            break;
        case 5: type = H5T_IEEE_F64BE; break;
        case 6: type = t == FZ_F32 ? H5T_STD_I32LE : H5T_IEEE_F32LE; break;
        case 7: type = H5T_STD_U64LE; break;
        case 8: raw_values = 1; break;
        default: { /* a string dataset */
            hid_t st = vstr();
            hsize_t one = 1;
            hid_t sp = H5Screate_simple(1, &one, NULL), pl = lcpl();
            hid_t ds = H5Dcreate2(f, name, st, sp, pl, H5P_DEFAULT, H5P_DEFAULT);
            if (ds >= 0) H5Dclose(ds);
            H5Pclose(pl);
            H5Sclose(sp);
            H5Tclose(st);
            return;
        }
        }
    }
    size_t n = 1;
    for (int i = 0; i < rank; i++) n = d[i] && n > ((size_t)1 << 40) / d[i] ? (size_t)1 << 40 : n * d[i];
    if (n > (1 << 18)) write = 0, chunked = 1;
    hid_t sp = H5Screate_simple(rank, d, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), pl = lcpl();
    if (chunked && rank > 0) {
        hsize_t ch[32];
        for (int i = 0; i < rank; i++) ch[i] = d[i] ? (d[i] < 16 ? d[i] : 16) : 1;
        H5Pset_chunk(dcpl, rank, ch);
    }
    hid_t ds = H5Dcreate2(f, name, type, sp, pl, dcpl, H5P_DEFAULT);
    if (ds >= 0 && write && n > 0) {
        double *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++) {
            v[i] = value ? value(i, arg) : 0;
            if (raw_values || fuzz_chance(b, 8)) v[i] = fuzz_f64(b);
        }
        hid_t xp = fz_dxpl(n);
        H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, xp, v);
        H5Pclose(xp);
        free(v);
    }
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(pl);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

/* A 1-D variable-length string dataset of n entries ("<prefix><i>"). */
void fz_strings(hid_t f, const char *name, const char *prefix, hsize_t n, struct fuzz_bytes *b)
{
    unsigned m = fuzz_u8(b);
    hsize_t d[2] = {n, 2};
    int rank = 1, fixed = 0, nulls = 0;
    if (m >= KEEP) {
        switch (m % 6) {
        case 0: return;
        case 1: d[0] = n + 1; break;
        case 2: d[0] = n ? n - 1 : 0; break;
        case 3: rank = 2; break;
        case 4: fixed = 1; break;
        default: nulls = 1;
        }
    }
    size_t total = (size_t)d[0] * (rank == 2 ? 2 : 1);
    hid_t t = fixed ? H5Tcopy(H5T_C_S1) : vstr();
    if (fixed) H5Tset_size(t, 12);
    hid_t sp = H5Screate_simple(rank, d, NULL), pl = lcpl();
    hid_t ds = H5Dcreate2(f, name, t, sp, pl, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && total) {
        char *text = calloc(total, 12);
        char **ptr = calloc(total, sizeof *ptr);
        for (size_t i = 0; i < total; i++) {
            snprintf(text + 12 * i, 12, "%.4s%u", prefix, (unsigned)(i % 100000));
            ptr[i] = nulls && i % 2 ? NULL : text + 12 * i;
        }
        hid_t xp = fz_dxpl(total);
        H5Dwrite(ds, t, H5S_ALL, H5S_ALL, xp, fixed ? (void *)text : (void *)ptr);
        H5Pclose(xp);
        free(ptr);
        free(text);
    }
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(pl);
    H5Sclose(sp);
    H5Tclose(t);
}

void fz_attr_num(hid_t obj, const char *key, double def, int is_float, struct fuzz_bytes *b)
{
    gen_attr_num(obj, key, def, is_float, b);
}

void fz_attr_str(hid_t obj, const char *key, const char *def, struct fuzz_bytes *b)
{
    gen_attr_str(obj, key, def, b);
}

hid_t fz_group(hid_t f, const char *name)
{
    hid_t pl = lcpl();
    hid_t g = H5Gcreate2(f, name, pl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(pl);
    return g;
}

hid_t fz_create(const char *path)
{
    static int once;
    if (!once) {
        /* Keep freed blocks in HDF5's free lists, unbounded: by default
         * blocks above the lists' limits (the metadata cache of every open
         * file, 0.5 MB) go back to malloc, and under ASan each comes back as
         * fresh pages. HDF5 itself is not instrumented either way. */
        H5set_free_list_limits(-1, -1, -1, -1, -1, -1);
        once = 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}
