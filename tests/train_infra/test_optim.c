/* AdamW and gradient clipping against torch (tests/fixtures/optim_adamw.h5
 * from tools/fixtures/optim.py): two parameter groups, ten steps over five
 * epochs under a step schedule (run "step") and a cosine schedule with
 * clip_grad_norm_ before every step (run "cosine"). The C side takes its
 * learning rates from scorr_sched_lr and its hyper-parameters from the
 * config, so the plumbing is tested with the arithmetic.
 * Tolerances: after every step, params and both moments within
 * atol 1e-7 + rtol 1e-6 (float32; the fixture's updates are large, lr 0.05);
 * gradient norms within 1e-5 relative (torch reduces in float32).
 * Also: frozen entries and buffers untouched, non-finite gradients
 * reported by tensor name, clipping below and above the threshold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/config.h"
#include "scorr/optim.h"
#include "scorr/params.h"
#include "scorr/schedule.h"

#define MAXT 16

struct fixture {
    struct scorr_h5 f;
    int n;                 /* tensors in the fixture */
    int epochs, steps_per_epoch;
    double max_norm;
};

static double attr_f64(const struct scorr_h5 *f, const char *k)
{
    double v = 0;
    if (scorr_h5_get_attr_f64(f, "/", k, &v)) {
        scorr_error_print(stderr, "fixture");
        exit(2);
    }
    return v;
}

static void read_into(const struct fixture *fx, const char *name, const struct scorr_param *e,
                      float *dst)
{
    float *v = scorr_fixture_f32(&fx->f, name, NULL, NULL);
    memcpy(dst, v, e->numel * sizeof *dst);
    free(v);
}

/* Table: the fixture's tensors (head/backbone groups), then a frozen
 * backbone weight and a buffer that the fixture does not know. */
static void build_table(struct fixture *fx, struct scorr_params *t)
{
    char names[1024], *save = NULL;
    scorr_params_init(t);
    if (scorr_h5_get_attr_str(&fx->f, "/", "names", names, sizeof names)) exit(2);
    int i = 0;
    for (char *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
        char ds[64], gk[32];
        int nd = 0;
        int64_t shape[SCORR_H5_MAXDIM];
        snprintf(ds, sizeof ds, "step/init/%d", i);
        if (scorr_h5_shape(&fx->f, ds, &nd, shape)) exit(2);
        snprintf(gk, sizeof gk, "group_%d", i);
        int g = (int)scorr_fixture_int(&fx->f, gk);
        scorr_params_add(t, tok, SCORR_PARAM_WEIGHT, g ? SCORR_GROUP_BACKBONE : SCORR_GROUP_HEAD,
                         SCORR_INIT_ZERO, nd, shape);
    }
    fx->n = i;
    int fr = scorr_params_add(t, "backbone.frozen.weight", SCORR_PARAM_WEIGHT, SCORR_GROUP_BACKBONE,
                              SCORR_INIT_ZERO, 1, (int64_t[]){40});
    t->p[fr].trainable = 0;
    scorr_params_add(t, "backbone.bn1.running_mean", SCORR_PARAM_BUFFER, SCORR_GROUP_BACKBONE,
                     SCORR_INIT_ZERO, 1, (int64_t[]){16});
}

static void run(struct fixture *fx, const struct scorr_params *t, const char *kind)
{
    struct scorr_config cfg;
    struct scorr_adamw opt;
    char v[6][160];
    scorr_config_defaults(&cfg);
    snprintf(v[0], sizeof v[0], "%.17g", attr_f64(&fx->f, "lr_head"));
    snprintf(v[1], sizeof v[1], "%.17g", attr_f64(&fx->f, "lr_backbone"));
    snprintf(v[2], sizeof v[2], "%d", fx->epochs);
    snprintf(v[3], sizeof v[3], "%.17g", attr_f64(&fx->f, "gamma"));
    snprintf(v[4], sizeof v[4], "%.17g", attr_f64(&fx->f, "min_lr"));
    char ms[128];
    if (scorr_h5_get_attr_str(&fx->f, "/", "milestones", ms, sizeof ms)) exit(2);
    snprintf(v[5], sizeof v[5], "[%s]", ms);
    const char *keys[] = {"optim.lr", "optim.lr_backbone", "train.epochs", "schedule.gamma",
                          "schedule.min_lr", "schedule.milestones", "schedule.type", "variant"};
    const char *vals[] = {v[0], v[1], v[2], v[3], v[4], v[5], kind, "baseline"};
    CHECK_OK(scorr_config_override(&cfg, 8, keys, vals));
    CHECK(cfg.optim.weight_decay == attr_f64(&fx->f, "weight_decay") &&
              cfg.optim.beta1 == attr_f64(&fx->f, "beta1") &&
              cfg.optim.beta2 == attr_f64(&fx->f, "beta2") && cfg.optim.eps == attr_f64(&fx->f, "eps"),
          "fixture hyper-parameters are the config defaults");
    if (scorr_adamw_init(&opt, t, &cfg)) exit(2);
    float *p = scorr_aligned_calloc(t->total * sizeof *p);
    float *g = scorr_aligned_calloc(t->total * sizeof *g);
    float *ref = malloc(t->total * sizeof *ref);
    int64_t nl;
    char name[96];
    snprintf(name, sizeof name, "%s/lr", kind);
    int nd = 0;
    int64_t dims[SCORR_H5_MAXDIM];
    scorr_h5_shape(&fx->f, name, &nd, dims);
    nl = dims[0];
    double *lrs = malloc((size_t)nl * 2 * sizeof *lrs), *norms = malloc((size_t)nl * sizeof *norms);
    snprintf(name, sizeof name, "%s/lr", kind);
    CHECK_OK(scorr_h5_read(&fx->f, name, SCORR_F64, 2, (int64_t[]){nl, 2}, lrs));
    snprintf(name, sizeof name, "%s/norm", kind);
    CHECK_OK(scorr_h5_read(&fx->f, name, SCORR_F64, 1, (int64_t[]){nl}, norms));

    for (int i = 0; i < fx->n; i++) {
        snprintf(name, sizeof name, "%s/init/%d", kind, i);
        read_into(fx, name, &t->p[i], p + t->p[i].offset);
    }
    /* Entries the optimiser must not touch: values, and NaN gradients. */
    for (int i = fx->n; i < t->n; i++)
        for (size_t k = 0; k < t->p[i].numel; k++) {
            p[t->p[i].offset + k] = 0.25f + (float)k;
            g[t->p[i].offset + k] = NAN;
        }
    const int cosine = !strcmp(kind, "cosine");
    int step = 0;
    for (int e = 0; e < fx->epochs; e++) {
        double lr[2] = {scorr_sched_lr(&cfg, SCORR_GROUP_HEAD, e),
                        scorr_sched_lr(&cfg, SCORR_GROUP_BACKBONE, e)};
        for (int s = 0; s < fx->steps_per_epoch; s++, step++) {
            CHECK(lr[0] == lrs[2 * step] && lr[1] == lrs[2 * step + 1],
                  "%s step %d: lr %.17g/%.17g vs torch %.17g/%.17g", kind, step, lr[0], lr[1],
                  lrs[2 * step], lrs[2 * step + 1]);
            for (int i = 0; i < fx->n; i++) {
                snprintf(name, sizeof name, "%s/grad/%d/%d", kind, step, i);
                read_into(fx, name, &t->p[i], g + t->p[i].offset);
            }
            double norm = 0;
            CHECK_OK(scorr_grad_clip(t, g, cosine ? fx->max_norm : 0.0, &norm));
            CHECK(fabs(norm - norms[step]) <= 1e-5 * norms[step], "%s step %d: norm %.9g vs %.9g",
                  kind, step, norm, norms[step]);
            scorr_adamw_step(&opt, t, p, g, lr);
            for (int i = 0; i < fx->n; i++) {
                const struct scorr_param *en = &t->p[i];
                char what[160];
                snprintf(name, sizeof name, "%s/param/%d/%d", kind, step, i);
                read_into(fx, name, en, ref);
                snprintf(what, sizeof what, "%s step %d %s", kind, step, en->name);
                scorr_check_close(what, p + en->offset, ref, en->numel, 1e-7, 1e-6);
                snprintf(name, sizeof name, "%s/m/%d/%d", kind, step, i);
                read_into(fx, name, en, ref);
                snprintf(what, sizeof what, "%s step %d exp_avg %s", kind, step, en->name);
                scorr_check_close(what, opt.m + en->offset, ref, en->numel, 1e-7, 1e-6);
                snprintf(name, sizeof name, "%s/v/%d/%d", kind, step, i);
                read_into(fx, name, en, ref);
                snprintf(what, sizeof what, "%s step %d exp_avg_sq %s", kind, step, en->name);
                scorr_check_close(what, opt.v + en->offset, ref, en->numel, 1e-7, 1e-6);
            }
        }
    }
    CHECK(opt.step == step, "step count %lld", (long long)opt.step);
    for (int i = fx->n; i < t->n; i++)
        for (size_t k = 0; k < t->p[i].numel; k++) {
            size_t o = t->p[i].offset + k;
            CHECK(p[o] == 0.25f + (float)k && opt.m[o] == 0 && opt.v[o] == 0 && isnan(g[o]),
                  "%s: untrained entry %s touched at %zu", kind, t->p[i].name, k);
        }
    scorr_adamw_free(&opt);
    scorr_aligned_free(p);
    scorr_aligned_free(g);
    free(ref);
    free(lrs);
    free(norms);
}

/* A NaN in a trained gradient stops the step with the tensor's name. */
static void test_nonfinite(void)
{
    struct scorr_params t;
    scorr_params_init(&t);
    scorr_params_add(&t, "a.weight", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD, SCORR_INIT_ZERO, 1,
                     (int64_t[]){5});
    scorr_params_add(&t, "b.weight", SCORR_PARAM_WEIGHT, SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 2,
                     (int64_t[]){3, 3});
    float *g = scorr_aligned_calloc(t.total * sizeof *g);
    g[t.p[1].offset + 4] = INFINITY;
    double norm = 0;
    CHECK(scorr_grad_clip(&t, g, 1.0, &norm) == SCORR_ENUMERIC, "inf accepted");
    CHECK(strstr(scorr_error_message(), "tensor 'b.weight' has a non-finite gradient") != NULL,
          "message: %s", scorr_error_message());
    scorr_error_clear();
    /* Below max_norm nothing changes; above it the norm becomes max_norm. */
    g[t.p[1].offset + 4] = 0;
    g[0] = 3;
    g[t.p[1].offset] = 4;
    CHECK_OK(scorr_grad_clip(&t, g, 10.0, &norm));
    CHECK(norm == 5.0 && g[0] == 3 && g[t.p[1].offset] == 4, "no clip below max");
    CHECK_OK(scorr_grad_clip(&t, g, 1.0, &norm));
    CHECK(fabs(scorr_grad_norm(&t, g) - 1.0) < 1e-6, "clipped norm %g", scorr_grad_norm(&t, g));
    scorr_aligned_free(g);
    scorr_params_free(&t);
}

int main(void)
{
    struct fixture fx;
    struct scorr_params t;
    scorr_fixture_open(&fx.f, "optim_adamw.h5");
    fx.epochs = (int)scorr_fixture_int(&fx.f, "epochs");
    fx.steps_per_epoch = (int)scorr_fixture_int(&fx.f, "steps_per_epoch");
    fx.max_norm = attr_f64(&fx.f, "max_norm");
    build_table(&fx, &t);
    CHECK(fx.n == (int)scorr_fixture_int(&fx.f, "n_tensors") && fx.n <= MAXT, "tensor count");
    run(&fx, &t, "step");
    run(&fx, &t, "cosine");
    scorr_h5_close(&fx.f);
    scorr_params_free(&t);
    test_nonfinite();
    return scorr_test_finish("test_traininfra_optim");
}
