#include "ckpt_compare.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct ctx {
    hid_t b;
    const char *group;
    double max;
    int n, bad, rel;
};

static float *read_all(hid_t file, const char *path, hsize_t *count)
{
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0) return NULL;
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    float *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof *buf);
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    *count = (hsize_t)n;
    H5Sclose(sp);
    H5Dclose(ds);
    return buf;
}

static herr_t visit(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    struct ctx *c = data;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->group, name);
    hsize_t na = 0, nb = 0;
    float *a = read_all(g, name, &na);
    float *b = read_all(c->b, path, &nb);
    if (!a || !b || na != nb) {
        fprintf(stderr, "tensor %s: missing or shape differs (%llu vs %llu)\n", path,
                (unsigned long long)na, (unsigned long long)nb);
        c->bad = 1;
    } else {
        double scale = 0, dmax = 0;
        for (hsize_t i = 0; i < na; i++) {
            double d = fabs((double)a[i] - (double)b[i]);
            if (d > dmax || d != d) dmax = d != d ? INFINITY : d;
            if (fabs((double)a[i]) > scale) scale = fabs((double)a[i]);
        }
        /* relative to the tensor's largest |a| (absolute for an all-zero a) */
        if (c->rel && scale > 0) dmax /= scale;
        if (dmax > c->max || dmax != dmax) c->max = dmax != dmax ? INFINITY : dmax;
        c->n++;
    }
    free(a);
    free(b);
    return 0;
}

static double compare(const char *file_a, const char *file_b, const char *group, int *ntensors,
                      int rel)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    struct ctx c = {0};
    c.group = group;
    c.rel = rel;
    hid_t fa = H5Fopen(file_a, H5F_ACC_RDONLY, H5P_DEFAULT);
    c.b = H5Fopen(file_b, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fa < 0 || c.b < 0) {
        fprintf(stderr, "cannot open %s or %s\n", file_a, file_b);
        if (fa >= 0) H5Fclose(fa);
        if (c.b >= 0) H5Fclose(c.b);
        return -1;
    }
    hid_t g = H5Gopen2(fa, group, H5P_DEFAULT);
    if (g >= 0) {
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, visit, &c);
        H5Gclose(g);
    } else {
        c.bad = 1;
    }
    H5Fclose(fa);
    H5Fclose(c.b);
    if (ntensors) *ntensors = c.n;
    return c.bad || c.n == 0 ? -1 : c.max;
}

double ckpt_max_diff(const char *file_a, const char *file_b, const char *group, int *ntensors)
{
    return compare(file_a, file_b, group, ntensors, 0);
}

double ckpt_max_rel_diff(const char *file_a, const char *file_b, const char *group, int *ntensors)
{
    return compare(file_a, file_b, group, ntensors, 1);
}
