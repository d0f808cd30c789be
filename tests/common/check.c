#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"

int scorr_test_failures;
int scorr_test_checks;

int scorr_check_close(const char *what, const float *got, const float *ref, size_t n,
                      double atol, double rtol)
{
    size_t bad = 0, worst = 0;
    double worst_excess = -1.0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        int gn = isnan(g), rn = isnan(r);
        double excess;
        if (gn || rn) {
            excess = (gn && rn) ? -1.0 : INFINITY;
        } else {
            double tol = atol + rtol * fabs(r);
            excess = fabs(g - r) - tol;
        }
        if (excess > 0) bad++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    scorr_test_checks++;
    if (bad) {
        scorr_test_failures++;
        fprintf(stderr,
                "FAIL %s: %zu of %zu elements differ (atol %g, rtol %g); worst at [%zu]: "
                "got %.9g, ref %.9g, |diff| %.3g\n",
                what, bad, n, atol, rtol, worst, (double)got[worst], (double)ref[worst],
                fabs((double)got[worst] - (double)ref[worst]));
        return 1;
    }
    return 0;
}

void scorr_fixture_open(struct scorr_h5 *f, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", SCORR_FIXTURES, file);
    if (scorr_h5_open(f, path)) {
        scorr_error_print(stderr, "fixture");
        fprintf(stderr, "HINT: regenerate fixtures with tools/make_fixtures.py (needs python3-torch)\n");
        exit(2);
    }
}

/* A whole dataset as `type` (elem bytes per value), malloc'ed; exits 2 if it
 * is missing or does not convert. */
static void *fixture_read(const struct scorr_h5 *f, const char *name, enum scorr_dtype type,
                          size_t elem, int *ndim, int64_t *shape)
{
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    if (scorr_h5_shape(f, name, &nd, dims)) {
        scorr_error_print(stderr, "fixture");
        exit(2);
    }
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    void *buf = malloc((n ? n : 1) * elem);
    if (!buf || scorr_h5_read(f, name, type, nd, dims, buf)) {
        scorr_error_print(stderr, "fixture");
        exit(2);
    }
    if (ndim) *ndim = nd;
    if (shape)
        for (int i = 0; i < nd; i++) shape[i] = dims[i];
    return buf;
}

float *scorr_fixture_f32(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *shape)
{
    return fixture_read(f, name, SCORR_F32, sizeof(float), ndim, shape);
}

double *scorr_fixture_f64(const struct scorr_h5 *f, const char *name, int *ndim, int64_t *shape)
{
    return fixture_read(f, name, SCORR_F64, sizeof(double), ndim, shape);
}

int64_t scorr_fixture_int(const struct scorr_h5 *f, const char *name)
{
    int64_t v = 0;
    if (scorr_h5_get_attr_i64(f, "/", name, &v)) {
        scorr_error_print(stderr, "fixture");
        exit(2);
    }
    return v;
}

int scorr_check_error(int line, int rc, const char *input, const char *const *needles)
{
    scorr_test_checks++;
    if (!rc) {
        scorr_test_failures++;
        fprintf(stderr, "FAIL test line %d: accepted:\n%s\n", line, input);
        return 1;
    }
    const char *msg = scorr_error_message();
    for (int i = 0; needles[i]; i++) {
        scorr_test_checks++;
        if (!strstr(msg, needles[i])) {
            scorr_test_failures++;
            fprintf(stderr, "FAIL test line %d: message\n  %s\nlacks\n  %s\n", line, msg,
                    needles[i]);
        }
    }
    scorr_error_clear();
    return 0;
}

int scorr_test_finish(const char *name)
{
    if (scorr_test_checks == 0) {
        fprintf(stderr, "FAIL %s: no checks ran\n", name);
        return 1;
    }
    if (scorr_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, scorr_test_failures,
                scorr_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, scorr_test_checks);
    return 0;
}

double scorr_rel_err(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    return s > 0 ? sqrt(d / s) : sqrt(d);
}
