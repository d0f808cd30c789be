/* The whole SCorrSAN model against PyTorch (tools/fixtures/model.py): the
 * same weights in C and PyTorch give the same flow, the same gradient for
 * every parameter, the same updated batch-norm running statistics, and the
 * same loss over three AdamW steps of the sparse end-point-error loss.
 *
 * Tolerances: the backbone's convolutions differ from PyTorch's by float
 * rounding (~1e-6 relative); the soft-argmax divides the correlation by
 * beta = 0.02, which amplifies that by 50 before the softmax, so the flow is
 * compared at 2e-3 grid cells absolute and each gradient tensor at
 * 2e-3 * max|ref| + 2e-3 * |ref|. Measured (AVX2, oneDNN 2.6 vs PyTorch 1.13):
 * flow within 2.6e-4 cells, gradients within about 1e-4 relative of their
 * tensor's largest element; losses within 1e-6 relative. A wrong op (a
 * missing term, a transposed map) moves them by orders of magnitude more. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/loss.h"
#include "scorr/model.h"
#include "scorr/optim.h"
#include "scorr/weights.h"

static struct scorr_model *open_model(struct scorr_h5 *f, int training)
{
    struct scorr_model_config c = {0};
    c.depth = (int)scorr_fixture_int(f, "depth");
    c.width = (int)scorr_fixture_int(f, "width");
    c.bn_batch = (int)scorr_fixture_int(f, "bn_batch");
    c.sce_enabled = 1;
    c.sce_kernel = (int)scorr_fixture_int(f, "k");
    c.sce_channels = (int)scorr_fixture_int(f, "sce_out");
    c.upsample = (int)scorr_fixture_int(f, "up");
    c.temperature = 0.02f;
    c.learn_grid = scorr_h5_has(f, "/params/x_normal");
    c.image_size = (int)scorr_fixture_int(f, "S");
    c.batch = (int)scorr_fixture_int(f, "B");
    c.training = training;
    struct scorr_model *m = NULL;
    if (scorr_model_create(&c, 0, &m)) {
        scorr_error_print(stderr, "model");
        exit(2);
    }
    CHECK_OK(scorr_weights_read_group(f, "/params", scorr_model_params(m), scorr_model_weights(m),
                                      "", NULL));
    return m;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Compare every tensor of `group` in the fixture with the flat buffer. */
static void compare_tensors(struct scorr_h5 *f, const char *group, const struct scorr_params *t,
                            const float *flat, int kind, double rel, const char *what)
{
    int n = 0;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if ((int)e->kind != kind) continue;
        char name[256];
        snprintf(name, sizeof name, "%s/%s", group, e->name);
        if (!scorr_h5_has(f, name)) continue;
        float *ref = scorr_fixture_f32(f, name, NULL, NULL);
        char label[320];
        snprintf(label, sizeof label, "%s %s", what, e->name);
        scorr_check_close(label, flat + e->offset, ref, e->numel, rel * max_abs(ref, e->numel), rel);
        free(ref);
        n++;
    }
    CHECK(n > 10, "%s: only %d tensors compared", what, n);
}

static void parity(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    struct scorr_model *m = open_model(&f, 1);
    int64_t shp[8];
    float *src = scorr_fixture_f32(&f, "src", NULL, NULL);
    float *trg = scorr_fixture_f32(&f, "trg", NULL, NULL);
    float *flow_ref = scorr_fixture_f32(&f, "flow", NULL, shp);
    float *dflow = scorr_fixture_f32(&f, "dflow", NULL, NULL);
    size_t nflow = (size_t)shp[0] * shp[1] * shp[2] * shp[3];
    const float *flow = scorr_model_forward(m, src, trg);
    char label[128];
    snprintf(label, sizeof label, "%s flow", file);
    scorr_check_close(label, flow, flow_ref, nflow, 2e-3, 1e-4);
    scorr_model_zero_grad(m);
    scorr_model_backward(m, dflow);
    compare_tensors(&f, "/grads", scorr_model_params(m), scorr_model_grads(m), SCORR_PARAM_WEIGHT,
                    2e-3, file);
    if (scorr_fixture_int(&f, "bn_batch"))
        compare_tensors(&f, "/running", scorr_model_params(m), scorr_model_weights(m),
                        SCORR_PARAM_BUFFER, 1e-5, "running statistics");
    free(src);
    free(trg);
    free(flow_ref);
    free(dflow);
    scorr_model_free(m);
    scorr_h5_close(&f);
}

static void trajectory(const char *file)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, file);
    struct scorr_model *m = open_model(&f, 1);
    const struct scorr_params *t = scorr_model_params(m);
    int64_t shp[8];
    float *src = scorr_fixture_f32(&f, "src", NULL, NULL);
    float *trg = scorr_fixture_f32(&f, "trg", NULL, NULL);
    float *gt = scorr_fixture_f32(&f, "gt", NULL, shp);
    float *maskf = scorr_fixture_f32(&f, "mask", NULL, NULL);
    float *losses = scorr_fixture_f32(&f, "losses", NULL, NULL);
    struct scorr_flow_shape fs = {(int)shp[0], (int)shp[1], (int)shp[2]};
    size_t npos = (size_t)fs.b * fs.h * fs.w;
    uint8_t *mask = malloc(npos);
    for (size_t i = 0; i < npos; i++) mask[i] = maskf[i] > 0.5f;
    float *dflow = calloc(npos * 2, sizeof *dflow);
    struct scorr_adamw opt;
    CHECK_OK(scorr_adamw_init_with(&opt, t, 0.9, 0.999, 1e-8, 0.05));
    double lr[2];
    lr[SCORR_GROUP_HEAD] = 3e-3;
    lr[SCORR_GROUP_BACKBONE] = 1e-3;
    int steps = (int)scorr_fixture_int(&f, "steps");
    for (int s = 0; s < steps; s++) {
        const float *flow = scorr_model_forward(m, src, trg);
        double sum = 0;
        int64_t count = 0;
        scorr_epe_forward(&sum, &count, flow, gt, mask, &fs);
        double loss = sum / (double)count;
        CHECK(fabs(loss - losses[s]) <= 1e-4 * fabs(losses[s]) + 1e-5,
              "step %d loss %.7f vs PyTorch %.7f", s, loss, losses[s]);
        printf("  step %d: loss %.7f (PyTorch %.7f)\n", s, loss, losses[s]);
        memset(dflow, 0, npos * 2 * sizeof *dflow);
        scorr_epe_backward(dflow, flow, gt, mask, 1.0, (double)count, &fs);
        scorr_model_zero_grad(m);
        scorr_model_backward(m, dflow);
        scorr_adamw_step(&opt, t, scorr_model_weights(m), scorr_model_grads(m), lr);
    }
    /* Adam's first steps are close to lr * sign(g): the weights are compared
     * at a few percent of the largest step (lr = 3e-3). */
    compare_tensors(&f, "/final", t, scorr_model_weights(m), SCORR_PARAM_WEIGHT, 2e-3,
                    "final weights");
    compare_tensors(&f, "/final", t, scorr_model_weights(m), SCORR_PARAM_BUFFER, 1e-4,
                    "final running statistics");
    if (scorr_model_config(m)->learn_grid) {
        /* The learned grid moves by about lr = 3e-3 per step (Adam's first
         * steps are close to lr * sign(g)), minus the head's weight decay
         * lr * 0.05 * p: checked at 3 % of one step, so another group's
         * rate (1e-3) or no decay would fail. */
        const char *names[2] = {"x_normal", "y_normal"};
        for (int k = 0; k < 2; k++) {
            const struct scorr_param *e = &t->p[scorr_params_find(t, names[k])];
            char name[64], label[96];
            snprintf(name, sizeof name, "/final/%s", names[k]);
            snprintf(label, sizeof label, "%s final %s", file, names[k]);
            float *ref = scorr_fixture_f32(&f, name, NULL, NULL);
            float *init = scorr_fixture_f32(&f, names[k][0] == 'x' ? "/params/x_normal"
                                                                 : "/params/y_normal",
                                            NULL, NULL);
            double moved = 0;
            for (size_t i = 0; i < e->numel; i++) moved = fmax(moved, fabs(ref[i] - init[i]));
            CHECK(moved > 5e-3, "%s: PyTorch moved the grid by only %g", label, moved);
            scorr_check_close(label, scorr_model_weights(m) + e->offset, ref, e->numel, 1e-4, 0);
            free(ref), free(init);
        }
    }
    scorr_adamw_free(&opt);
    free(src);
    free(trg);
    free(gt);
    free(maskf);
    free(losses);
    free(mask);
    free(dflow);
    scorr_model_free(m);
    scorr_h5_close(&f);
}

int main(void)
{
    parity("model_frozen.h5");
    parity("model_batch.h5");
    parity("model_grid.h5");
    trajectory("model_trajectory.h5");
    trajectory("model_trajectory_grid.h5");
    return scorr_test_finish("test_model_parity");
}
