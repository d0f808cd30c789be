/* Weights files: /params/<pytorch name> float32 datasets. */
#include "scorr/weights.h"

#include <stdio.h>
#include <string.h>

#include "scorr/error.h"

static int starts(const char *s, const char *prefix)
{
    return prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

int scorr_weights_write_group(struct scorr_h5 *f, const char *group, const struct scorr_params *t,
                              const float *flat, const char *prefix)
{
    int err = 0;
    char path[1024];
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (prefix && *prefix && !starts(e->name, prefix)) continue;
        SCORR_REQUIRE((size_t)snprintf(path, sizeof path, "%s/%s", group, e->name) < sizeof path,
                      SCORR_EINVAL, "tensor name too long: '%s'", e->name);
        SCORR_TRY(scorr_h5_write(f, path, SCORR_F32, e->ndim, e->shape, flat + e->offset, 0, 0));
    }
done:
    return err;
}

/* Stored type as text: "float32", "float64", "int64", ... */
static void stored_type(hid_t dt, char *out, size_t n)
{
    H5T_class_t cls = H5Tget_class(dt);
    size_t sz = H5Tget_size(dt);
    if (cls == H5T_FLOAT)
        snprintf(out, n, "float%zu", 8 * sz);
    else if (cls == H5T_INTEGER)
        snprintf(out, n, "%s%zu", H5Tget_sign(dt) == H5T_SGN_NONE ? "uint" : "int", 8 * sz);
    else if (cls == H5T_STRING)
        snprintf(out, n, "string");
    else
        snprintf(out, n, "a non-numeric type");
}

static int read_tensor(const struct scorr_h5 *f, const char *path, const struct scorr_param *e,
                       float *dst)
{
    int err = 0;
    hid_t ds = H5I_INVALID_HID, dt = H5I_INVALID_HID;
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    char want[128], got[128], type[32];
    ds = H5Dopen2(f->id, path, H5P_DEFAULT);
    SCORR_REQUIRE(ds >= 0, SCORR_EFORMAT, "'%s': '%s' (tensor '%s') is not a dataset", f->path,
                  path, e->name);
    dt = H5Dget_type(ds);
    stored_type(dt, type, sizeof type);
    SCORR_REQUIRE(H5Tget_class(dt) == H5T_FLOAT && H5Tget_size(dt) == 4, SCORR_EFORMAT,
                  "'%s': tensor '%s' has dtype %s, expected float32", f->path, e->name, type);
    SCORR_TRY(scorr_h5_shape(f, path, &nd, dims));
    int same = nd == e->ndim;
    for (int d = 0; same && d < nd; d++) same = dims[d] == e->shape[d];
    if (!same) {
        scorr_h5_shape_text(want, sizeof want, e->ndim, e->shape);
        scorr_h5_shape_text(got, sizeof got, nd, dims);
        SCORR_FAIL(SCORR_EFORMAT, "'%s': tensor '%s' has shape %s, expected %s", f->path, e->name,
                   got, want);
    }
    SCORR_REQUIRE(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) >= 0, SCORR_EIO,
                  "'%s': cannot read tensor '%s'", f->path, e->name);
done:
    if (dt >= 0) H5Tclose(dt);
    if (ds >= 0) H5Dclose(ds);
    return err;
}

int scorr_weights_read_group(const struct scorr_h5 *f, const char *group,
                             const struct scorr_params *t, float *flat,
                             const char *required_prefix, struct scorr_weights_report *rep)
{
    int err = 0;
    char path[1024];
    struct scorr_weights_report r = {0, 0, 0};
    hid_t g = H5I_INVALID_HID;
    SCORR_REQUIRE(scorr_h5_has(f, group), SCORR_EFORMAT, "'%s': group '%s' is missing", f->path,
                  group);
    g = H5Gopen2(f->id, group, H5P_DEFAULT);
    SCORR_REQUIRE(g >= 0, SCORR_EFORMAT, "'%s': '%s' is not a group", f->path, group);
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        SCORR_REQUIRE((size_t)snprintf(path, sizeof path, "%s/%s", group, e->name) < sizeof path,
                      SCORR_EINVAL, "tensor name too long: '%s'", e->name);
        if (!scorr_h5_has(f, path)) {
            if (starts(e->name, required_prefix)) {
                char want[128];
                scorr_h5_shape_text(want, sizeof want, e->ndim, e->shape);
                scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                                "'%s': tensor '%s' is missing from %s (expected shape %s)",
                                f->path, e->name, group, want);
                scorr_error_hint("the file must hold every tensor named '%s...'; convert "
                                 "torchvision or SCorrSAN weights with "
                                 "tools/convert_torchvision.py (docs/weights.md), and check the "
                                 "backbone depth and width",
                                 required_prefix);
                err = SCORR_EFORMAT;
                goto done;
            }
            r.absent++;
            continue;
        }
        SCORR_TRY(read_tensor(f, path, e, flat + e->offset));
        r.loaded++;
    }
    H5G_info_t info;
    SCORR_REQUIRE(H5Gget_info(g, &info) >= 0, SCORR_EIO, "'%s': cannot list group '%s'", f->path,
                  group);
    r.extra = (int)info.nlinks - r.loaded;
done:
    if (g >= 0) H5Gclose(g);
    if (rep) *rep = r;
    return err;
}

int scorr_weights_save(const char *path, const struct scorr_params *t, const float *flat,
                       const char *arch)
{
    int err = 0;
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    f.id = H5I_INVALID_HID;
    SCORR_TRY(scorr_h5_create(&f, path));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "format", SCORR_WEIGHTS_FORMAT));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "version", SCORR_WEIGHTS_VERSION));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "arch", arch ? arch : ""));
    SCORR_TRY(scorr_weights_write_group(&f, SCORR_WEIGHTS_GROUP, t, flat, NULL));
    SCORR_TRY(scorr_h5_commit(&f));
done:
    if (err) scorr_h5_close(&f);
    return err;
}

int scorr_weights_load(const char *path, const struct scorr_params *t, float *flat,
                       const char *required_prefix, struct scorr_weights_report *rep)
{
    int err = 0;
    struct scorr_h5 f;
    char fmt[64];
    int64_t version = 0;
    memset(&f, 0, sizeof f);
    f.id = H5I_INVALID_HID;
    SCORR_TRY(scorr_h5_open(&f, path));
    if (scorr_h5_get_attr_str(&f, "/", "format", fmt, sizeof fmt)) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is not a scorr weights file: root attribute 'format' is missing "
                        "(expected '%s')", path, SCORR_WEIGHTS_FORMAT);
        scorr_error_hint("convert PyTorch weights with tools/convert_torchvision.py (docs/weights.md)");
        err = SCORR_EFORMAT;
        goto done;
    }
    if (strcmp(fmt, SCORR_WEIGHTS_FORMAT) != 0) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is not a scorr weights file: attribute 'format' is '%s', expected "
                        "'%s'", path, fmt, SCORR_WEIGHTS_FORMAT);
        if (strcmp(fmt, "scorr-checkpoint") == 0)
            scorr_error_hint("a checkpoint is loaded by the checkpoint reader, not as weights");
        err = SCORR_EFORMAT;
        goto done;
    }
    SCORR_TRY(scorr_h5_get_attr_i64(&f, "/", "version", &version));
    SCORR_REQUIRE(version == SCORR_WEIGHTS_VERSION, SCORR_EFORMAT,
                  "'%s': weights format version %lld is not supported, expected %d", path,
                  (long long)version, SCORR_WEIGHTS_VERSION);
    SCORR_TRY(scorr_weights_read_group(&f, SCORR_WEIGHTS_GROUP, t, flat, required_prefix, rep));
done:
    scorr_h5_close(&f);
    return err;
}
