/* Schedules against torch and numpy (tests/fixtures/optim_schedules.h5 from
 * tools/fixtures/optim.py): learning rates of both groups from MultiStepLR
 * and CosineAnnealingLR stepped with scheduler.step(epoch) as the reference
 * does, and the reference's remember-rate array. The configs are built
 * through the override path, so the keys are tested with the formulas.
 * Tolerance: learning rates within 1e-15 relative (the same double formula
 * and libm: expected bit-equal), keep ratios bit-equal (int(r * n) turns on
 * the last bit). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/h5.h"
#include "scorr/schedule.h"

/* A whole float64 fixture dataset; *n: its number of values. */
static double *read_f64(const struct scorr_h5 *f, const char *name, int64_t *n)
{
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    double *v = scorr_fixture_f64(f, name, &nd, dims);
    *n = 1;
    for (int i = 0; i < nd; i++) *n *= dims[i];
    return v;
}

static void set(struct scorr_config *c, const char *k, const char *fmt, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    CHECK_OK(scorr_config_set(c, k, buf));
}

static void test_lr(const struct scorr_h5 *f)
{
    int ncase = (int)scorr_fixture_int(f, "n_lr_cases");
    int exact = 0, total = 0;
    for (int c = 0; c < ncase; c++) {
        char name[64];
        int64_t np, nm, nl;
        snprintf(name, sizeof name, "lr%d/params", c);
        double *p = read_f64(f, name, &np);
        snprintf(name, sizeof name, "lr%d/milestones", c);
        double *ms = read_f64(f, name, &nm);
        snprintf(name, sizeof name, "lr%d/lr", c);
        double *ref = read_f64(f, name, &nl);
        CHECK(np == 7, "params");
        struct scorr_config cfg;
        scorr_config_defaults(&cfg);
        CHECK_OK(scorr_config_set(&cfg, "variant", "baseline"));
        set(&cfg, "train.epochs", "%.0f", p[5]);
        set(&cfg, "optim.lr", "%.17g", p[1]);
        set(&cfg, "optim.lr_backbone", "%.17g", p[2]);
        set(&cfg, "schedule.gamma", "%.17g", p[3]);
        set(&cfg, "schedule.min_lr", "%.17g", p[4]);
        CHECK_OK(scorr_config_set(&cfg, "schedule.type", p[0] == 0 ? "step" : "cosine"));
        char list[256] = "[";
        for (int i = 0; i < nm; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.0f", i ? ", " : "", ms[i]);
        strcat(list, "]");
        CHECK_OK(scorr_config_set(&cfg, "schedule.milestones", list));
        int epochs = (int)p[6];
        CHECK(nl == 2 * epochs, "lr rows");
        for (int e = 0; e < epochs; e++)
            for (int g = 0; g < 2; g++) {
                double got = scorr_sched_lr(&cfg, g ? SCORR_GROUP_BACKBONE : SCORR_GROUP_HEAD, e);
                double want = ref[2 * e + g];
                total++;
                exact += got == want;
                CHECK(fabs(got - want) <= 1e-15 * fabs(want), "case %d epoch %d group %d: %.17g vs torch %.17g",
                      c, e, g, got, want);
            }
        free(p);
        free(ms);
        free(ref);
    }
    printf("learning rates: %d of %d bit-equal to torch\n", exact, total);
}

static void test_keep(const struct scorr_h5 *f)
{
    int ncase = (int)scorr_fixture_int(f, "n_keep_cases");
    for (int c = 0; c < ncase; c++) {
        char name[64];
        int64_t np, nr;
        snprintf(name, sizeof name, "keep%d/params", c);
        double *p = read_f64(f, name, &np);
        snprintf(name, sizeof name, "keep%d/ratio", c);
        double *ref = read_f64(f, name, &nr);
        double start = p[0], end = p[1];
        int ramp = (int)p[2], pstart = (int)p[3], epochs = (int)p[4];
        struct scorr_config cfg;
        scorr_config_defaults(&cfg);
        const char *keys[] = {"pseudo.selection.start_ratio", "pseudo.selection.end_ratio",
                              "pseudo.selection.ramp_epochs", "pseudo.start_epoch", "train.epochs"};
        char v[5][64];
        snprintf(v[0], 64, "%.17g", start);
        snprintf(v[1], 64, "%.17g", end);
        snprintf(v[2], 64, "%d", ramp);
        snprintf(v[3], 64, "%d", pstart);
        snprintf(v[4], 64, "%d", epochs);
        const char *vals[] = {v[0], v[1], v[2], v[3], v[4]};
        CHECK_OK(scorr_config_override(&cfg, 5, keys, vals));
        CHECK(nr == epochs - pstart, "rows");
        for (int e = pstart; e < epochs; e++) {
            double got = scorr_sched_keep_ratio(&cfg, e), want = ref[e - pstart];
            CHECK(got == want, "keep case %d epoch %d: %.17g vs numpy %.17g", c, e, got, want);
            /* What the selection does with it: int(remember_rate * n). */
            for (int n = 1; n < 200; n += 37)
                CHECK((long)(got * n) == (long)(want * n), "count case %d epoch %d n %d", c, e, n);
        }
        free(p);
        free(ref);
    }
}

static void test_pseudo_weight(void)
{
    struct scorr_config c;
    scorr_config_defaults(&c);
    CHECK(scorr_sched_pseudo_weight(&c, 3) == 0.0 && scorr_sched_pseudo_weight(&c, 4) == 10.0 &&
              scorr_sched_pseudo_weight(&c, 49) == 10.0,
          "lambda switches on at start_epoch 4");
    CHECK(scorr_sched_keep_ratio(&c, 4) == 0.2 && scorr_sched_keep_ratio(&c, 13) == 0.9 &&
              scorr_sched_keep_ratio(&c, 30) == 0.9,
          "ramp ends");
    CHECK_OK(scorr_config_set(&c, "variant", "baseline"));
    CHECK(scorr_sched_pseudo_weight(&c, 10) == 0.0, "baseline has no pseudo loss");
    CHECK_OK(scorr_config_set(&c, "pseudo.selection.start_ratio", "none"));
    CHECK(scorr_sched_keep_ratio(&c, 4) == 1.0 && scorr_sched_keep_ratio(&c, 40) == 1.0,
          "no selection keeps everything");
    /* The pure forms. */
    int ms[] = {2, 5};
    CHECK(scorr_lr_step(1.0, 0.5, ms, 2, 1) == 1.0 && scorr_lr_step(1.0, 0.5, ms, 2, 2) == 0.5 &&
              scorr_lr_step(1.0, 0.5, ms, 2, 5) == 0.25,
          "step form");
    CHECK(scorr_lr_cosine(1.0, 0.0, 10, 0) == 1.0 && fabs(scorr_lr_cosine(1.0, 0.0, 10, 5) - 0.5) < 1e-15 &&
              scorr_lr_cosine(1.0, 0.1, 10, 10) == 0.1,
          "cosine form");
    CHECK(scorr_keep_ratio(0.2, 0.9, 0, 0) == 0.9 && scorr_keep_ratio(0.2, 0.9, 1, 0) == 0.2,
          "degenerate ramps");
}

int main(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "optim_schedules.h5");
    test_lr(&f);
    test_keep(&f);
    scorr_h5_close(&f);
    test_pseudo_weight();
    return scorr_test_finish("test_traininfra_schedule");
}
