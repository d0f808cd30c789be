/* The ResNet cut after layer3 against PyTorch: a torchvision-structured
 * ResNet-18 (width 4) whose weights come through the converter and the
 * weights loader, in both batch-norm modes (groups 2 = two PyTorch calls);
 * a ResNet-50 (width 2) with Bottleneck identity skips; the parameter names
 * and shapes of torchvision ResNet-18/34/50/101; train/eval switching,
 * forward-only networks, finite differences, the gradient slots over dead
 * activations (bit for bit), configuration errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bb_util.h"
#include "scorr/arena.h"
#include "scorr/resnet.h"
#include "scorr/weights.h"

#define PREFIX "feature_extraction.backbone."
/* Through 8-17 conv+BN layers the float32 error grows with depth; still
 * 1e-4 relative (plus 1e-5 of the tensor's largest value) holds. Weight
 * gradients with batch statistics (each normalisation's backward subtracts
 * two means over 2 x 16 values at layer3) get 3e-5 of the largest value:
 * measured up to 1.6e-5 in a Debug build, whose unfused multiply-adds round
 * differently from the optimised build's. */
#define RTOL 1e-4
#define AFRAC 1e-5
#define AFRAC_BATCH_GRAD 3e-5

struct rig {
    struct scorr_params t;
    struct scorr_resnet net;
    struct scorr_arena arena;
    float *params, *grads;
};

static int rig_init(struct rig *r, const struct scorr_resnet_config *cfg)
{
    scorr_params_init(&r->t);
    int err = scorr_resnet_build(&r->net, cfg, &r->t, PREFIX);
    if (err) return err;
    struct scorr_arena plan;
    scorr_arena_plan(&plan);
    scorr_resnet_alloc(&r->net, &plan);
    CHECK_OK(scorr_arena_init(&r->arena, plan.peak + 64, "backbone"));
    scorr_resnet_alloc(&r->net, &r->arena);
    r->params = bb_floats(r->t.total);
    r->grads = bb_floats(r->t.total);
    return 0;
}

static void rig_free(struct rig *r)
{
    scorr_resnet_free(&r->net);
    scorr_arena_free(&r->arena);
    scorr_aligned_free(r->params);
    scorr_aligned_free(r->grads);
    scorr_params_free(&r->t);
}

/* Copy a flat fixture array into the table entries of one kind (or all) in
 * table order; the count must match exactly. */
static void scatter_flat(const struct bb_tensor *src, const struct scorr_params *t, float *flat,
                         int kind /* -1 = all */, const char *what)
{
    size_t k = 0;
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (kind >= 0 && (int)e->kind != kind) continue;
        if (k + e->numel <= src->n) memcpy(flat + e->offset, src->d + k, e->numel * sizeof(float));
        k += e->numel;
    }
    CHECK(k == src->n, "%s: the table has %zu values, the fixture %zu", what, k, src->n);
}

static void compare_flat(const char *what, const float *flat, const struct scorr_params *t,
                         const struct bb_tensor *ref, int kind, double afrac)
{
    float *g = bb_floats(ref->n);
    size_t k = 0;
    char w[256];
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if ((int)e->kind != kind) continue;
        if (k + e->numel <= ref->n) {
            snprintf(w, sizeof w, "%s %s", what, e->name);
            bb_close(w, flat + e->offset, ref->d + k, e->numel, RTOL, afrac);
        }
        k += e->numel;
    }
    CHECK(k == ref->n, "%s: %zu values, fixture %zu", what, k, ref->n);
    scorr_aligned_free(g);
}

static void parity(const char *file, const char *weights)
{
    struct scorr_h5 f;
    char what[256], path[4096];
    scorr_fixture_open(&f, file);
    const int batch = (int)scorr_fixture_int(&f, "batch");
    struct bb_tensor x = bb_load_nhwc(&f, "x"), dout = bb_load_nhwc(&f, "dout"),
                     out = bb_load_nhwc(&f, "out"), dx = bb_load_nhwc(&f, "dx");
    struct bb_tensor g = bb_load(&f, "g_flat");
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.depth = (int)scorr_fixture_int(&f, "depth");
    cfg.width = (int)scorr_fixture_int(&f, "width");
    cfg.bn_mode = batch ? SCORR_BN_BATCH : SCORR_BN_FROZEN;
    cfg.bn_groups = (int)scorr_fixture_int(&f, "groups");
    cfg.batch = (int)x.shape[0];
    cfg.image_size = (int)x.shape[2];
    cfg.input_grad = 1;
    struct rig r;
    CHECK_OK(rig_init(&r, &cfg));
    CHECK(r.net.out_c == out.shape[1] && r.net.out_h == out.shape[2] && r.net.out_w == out.shape[3],
          "%s: feature map %dx%dx%d, PyTorch %lldx%lldx%lld", file, r.net.out_c, r.net.out_h,
          r.net.out_w, (long long)out.shape[1], (long long)out.shape[2], (long long)out.shape[3]);
    if (weights) {
        struct scorr_weights_report rep;
        snprintf(path, sizeof path, "%s/%s", SCORR_FIXTURES, weights);
        CHECK_OK(scorr_weights_load(path, &r.t, r.params, PREFIX, &rep));
    } else {
        struct bb_tensor p = bb_load(&f, "p_flat");
        scatter_flat(&p, &r.t, r.params, -1, file);
        bb_free(&p);
    }
    float *p0 = bb_floats(r.t.total);
    memcpy(p0, r.params, r.t.total * sizeof(float));
    float *feat = bb_floats(out.n), *dimg = bb_floats(x.n);
    scorr_resnet_forward(&r.net, feat, x.d, r.params);
    snprintf(what, sizeof what, "%s features", file);
    bb_close(what, feat, out.d, out.n, RTOL, AFRAC);
    if (batch) {
        struct bb_tensor rs = bb_load(&f, "rs_flat");
        snprintf(what, sizeof what, "%s running stats", file);
        compare_flat(what, r.params, &r.t, &rs, SCORR_PARAM_BUFFER, AFRAC);
        bb_free(&rs);
    }
    scorr_resnet_backward(&r.net, r.grads, dimg, dout.d, x.d, r.params);
    snprintf(what, sizeof what, "%s d images", file);
    bb_close(what, dimg, dx.d, dx.n, RTOL, AFRAC);
    snprintf(what, sizeof what, "%s grad", file);
    compare_flat(what, r.grads, &r.t, &g, SCORR_PARAM_WEIGHT, batch ? AFRAC_BATCH_GRAD : AFRAC);

    if (batch) {
        /* training off: the same network evaluates with running statistics
         * and leaves them alone; a forward-only network agrees bit for bit */
        struct scorr_h5 fz;
        scorr_fixture_open(&fz, "backbone_r18w4_frozen.h5");
        struct bb_tensor outz = bb_load_nhwc(&fz, "out");
        memcpy(r.params, p0, r.t.total * sizeof(float));
        scorr_resnet_set_training(&r.net, 0);
        scorr_resnet_forward(&r.net, feat, x.d, r.params);
        bb_close("eval-mode features", feat, outz.d, outz.n, RTOL, AFRAC);
        CHECK(memcmp(r.params, p0, r.t.total * sizeof(float)) == 0,
              "eval mode changed the parameters");
        struct rig r2;
        cfg.grad = 0;
        cfg.input_grad = 0;
        CHECK_OK(rig_init(&r2, &cfg));
        CHECK(r2.t.n == r.t.n && r2.t.total == r.t.total, "forward-only table differs");
        CHECK(r2.arena.size < r.arena.size, "forward-only arena %zu not smaller than %zu",
              r2.arena.size, r.arena.size);
        memcpy(r2.params, p0, r.t.total * sizeof(float));
        float *feat2 = bb_floats(out.n);
        scorr_resnet_set_training(&r2.net, 0);
        scorr_resnet_forward(&r2.net, feat2, x.d, r2.params);
        CHECK(memcmp(feat2, feat, out.n * sizeof(float)) == 0, "forward-only net differs");
        /* and in training mode it normalises with batch statistics too */
        scorr_resnet_set_training(&r2.net, 1);
        scorr_resnet_forward(&r2.net, feat2, x.d, r2.params);
        bb_close("forward-only net, batch statistics", feat2, out.d, out.n, RTOL, AFRAC);
        scorr_aligned_free(feat2);
        rig_free(&r2);
        bb_free(&outz);
        scorr_h5_close(&fz);
    }
    scorr_aligned_free(p0);
    scorr_aligned_free(feat);
    scorr_aligned_free(dimg);
    struct bb_tensor *all[] = {&x, &dout, &out, &dx, &g};
    for (size_t i = 0; i < 5; i++) bb_free(all[i]);
    rig_free(&r);
    scorr_h5_close(&f);
}

/* torchvision's names and shapes, in state_dict order. */
static void names(void)
{
    char path[4096], line[512], name[256];
    snprintf(path, sizeof path, "%s/backbone_names.txt", SCORR_FIXTURES);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL, "cannot open %s", path);
    if (!fp) return;
    const int depths[4] = {18, 34, 50, 101};
    for (int di = 0; di < 4; di++) {
        struct scorr_params t;
        scorr_params_init(&t);
        CHECK_OK(scorr_resnet_add_params(&t, depths[di], 64, ""));
        int k = 0, bad = 0;
        rewind(fp);
        while (fgets(line, sizeof line, fp)) {
            int depth, n = 0;
            long long sh[4] = {0};
            if (line[0] == '#') continue;
            n = sscanf(line, "%d %255s %lld %lld %lld %lld", &depth, name, &sh[0], &sh[1], &sh[2],
                       &sh[3]);
            if (depth != depths[di]) continue;
            if (k >= t.n) {
                bad++;
                k++;
                continue;
            }
            const struct scorr_param *e = &t.p[k++];
            int ok = strcmp(e->name, name) == 0 && e->ndim == n - 2;
            for (int d = 0; ok && d < e->ndim; d++) ok = e->shape[d] == sh[d];
            int want_buffer = strstr(name, "running_") != NULL;
            ok = ok && (e->kind == SCORR_PARAM_BUFFER) == want_buffer &&
                 e->group == SCORR_GROUP_BACKBONE;
            if (!ok && bad++ < 3)
                fprintf(stderr, "resnet%d entry %d: scorr '%s' (%d-D), torchvision '%s'\n",
                        depths[di], k - 1, e->name, e->ndim, name);
        }
        CHECK(bad == 0 && k == t.n, "resnet%d: %d mismatches, %d torchvision entries, %d in table",
              depths[di], bad, k, t.n);
        if (depths[di] == 101) {
            size_t nw = 0;
            for (int i = 0; i < t.n; i++)
                if (t.p[i].kind == SCORR_PARAM_WEIGHT) nw += t.p[i].numel;
            /* torchvision resnet101 minus layer4 and fc: 44549160 - 14964736 - 2049000 */
            CHECK(nw == 27535424, "resnet101 layer1-3 trainable count %zu", nw);
        }
        scorr_params_free(&t);
    }
    fclose(fp);
}

/* Whole-network finite differences on a tiny ResNet-18 (width 2, 32 x 32),
 * batch statistics with two groups. */
struct fd_ctx {
    struct rig *r;
    float *feat, *img, *w;
    size_t nf;
};

static double net_loss(void *p)
{
    struct fd_ctx *c = p;
    scorr_resnet_forward(&c->r->net, c->feat, c->img, c->r->params);
    return bb_dot(c->feat, c->w, c->nf);
}

static void finite_differences(void)
{
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.depth = 18;
    cfg.width = 2;
    cfg.bn_mode = SCORR_BN_BATCH;
    cfg.bn_groups = 2;
    cfg.batch = 2;
    cfg.image_size = 32;
    cfg.input_grad = 1;
    struct rig r;
    CHECK_OK(rig_init(&r, &cfg));
    scorr_params_initialise(&r.t, r.params, 9);
    const size_t ni = (size_t)2 * 32 * 32 * 3, nf = (size_t)2 * r.net.out_h * r.net.out_w * r.net.out_c;
    struct fd_ctx c = {&r, bb_floats(nf), bb_floats(ni), bb_floats(nf), nf};
    bb_fill(c.img, ni, 41);
    bb_fill(c.w, nf, 42);
    float *dimg = bb_floats(ni), *p0 = bb_floats(r.t.total);
    memcpy(p0, r.params, r.t.total * sizeof(float));
    net_loss(&c);
    scorr_resnet_backward(&r.net, r.grads, dimg, c.w, c.img, r.params);
    /* A width-2 network with batch statistics is dense in ReLU / max-pool
     * kinks: differences with h = 1e-2 are off by 30 % from the limit they
     * converge to (checked down to 1e-4); h = 3e-4 keeps float32 noise
     * (~1e-5 on a loss of ~10) below 1 % of the derivative. */
    const float h = 3e-4f;
    int checked = 0, skipped = 0;
    /* first and last conv, a BN weight in layer2, a downsample, and pixels */
    const char *probe[] = {PREFIX "conv1.weight", PREFIX "layer3.1.conv2.weight",
                           PREFIX "layer2.0.bn1.weight", PREFIX "layer3.0.downsample.0.weight",
                           PREFIX "layer1.1.bn2.bias"};
    for (size_t pi = 0; pi < sizeof probe / sizeof probe[0]; pi++) {
        int i = scorr_params_find(&r.t, probe[pi]);
        CHECK(i >= 0, "no %s", probe[pi]);
        if (i < 0) continue;
        const struct scorr_param *e = &r.t.p[i];
        for (size_t k = 0; k < e->numel; k += e->numel / 4 + 1) {
            memcpy(r.params, p0, r.t.total * sizeof(float));
            float *p = r.params + e->offset + k;
            double a = bb_fd(net_loss, &c, p, h), b = bb_fd(net_loss, &c, p, h / 2);
            if (fabs(a - b) > 0.03 * fabs(a) + 0.1) {
                skipped++;
                continue;
            }
            bb_fd_check(e->name, k, a, r.grads[e->offset + k], 5e-2);
            checked++;
        }
    }
    for (size_t k = 0; k < ni; k += 397) {
        double a = bb_fd(net_loss, &c, &c.img[k], h), b = bb_fd(net_loss, &c, &c.img[k], h / 2);
        if (fabs(a - b) > 0.03 * fabs(a) + 0.1) {
            skipped++;
            continue;
        }
        bb_fd_check("images", k, a, dimg[k], 5e-2);
        checked++;
    }
    printf("network finite differences: %d checked, %d skipped near kinks\n", checked, skipped);
    CHECK(checked > 2 * skipped, "too many kinks: %d checked, %d skipped", checked, skipped);
    float *bufs[] = {c.feat, c.img, c.w, dimg, p0};
    for (size_t i = 0; i < 5; i++) scorr_aligned_free(bufs[i]);
    rig_free(&r);
}

/* cfg.no_winograd: the same network with and without Winograd 3x3
 * convolutions (ResNet-18 at width 16: layer1..3's 3x3 stride-1 convs have
 * >= 16 channels) picks the algorithm asked for and gives the same features
 * and gradients to float rounding. On a CPU whose policy leaves Winograd to
 * oneDNN (AVX-512) only the "off" side is checked. */
static void winograd_switch(void)
{
    struct scorr_conv_policy pol;
    scorr_conv2d_get_policy(&pol);
    const int policy_uses = pol.winograd3x3[0] == SCORR_CONV_WINOGRAD;
    struct rig r[2];
    float *feat[2], *grads[2];
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.depth = 18;
    cfg.width = 16;
    cfg.bn_mode = SCORR_BN_BATCH;
    cfg.bn_groups = 2;
    cfg.batch = 2;
    cfg.image_size = 64;
    const size_t ni = (size_t)2 * 64 * 64 * 3;
    float *img = bb_floats(ni);
    bb_fill(img, ni, 51);
    size_t nf = 0;
    for (int k = 0; k < 2; k++) {
        cfg.no_winograd = k;
        CHECK_OK(rig_init(&r[k], &cfg));
        scorr_params_initialise(&r[k].t, r[k].params, 11);
        /* layer1.0.conv2: 3x3 stride 1, 16 -> 16 channels */
        const char *name = scorr_conv2d_impl_name(&r[k].net.blocks[0].u[1].conv, 0);
        const int wino = strstr(name, "winograd") != NULL;
        CHECK(k ? !wino : wino == policy_uses, "no_winograd %d: layer1.0.conv2 runs %s", k, name);
        nf = (size_t)2 * r[k].net.out_h * r[k].net.out_w * r[k].net.out_c;
        feat[k] = bb_floats(nf);
        grads[k] = r[k].grads;
        scorr_resnet_forward(&r[k].net, feat[k], img, r[k].params);
        memset(r[k].grads, 0, r[k].t.total * sizeof(float));
        scorr_resnet_backward(&r[k].net, r[k].grads, NULL, feat[k], img, r[k].params);
    }
    bb_close("features, Winograd vs direct", feat[0], feat[1], nf, RTOL, AFRAC);
    bb_close("gradients, Winograd vs direct", grads[0], grads[1], r[0].t.total, 1e-3, 1e-4);
    for (int k = 0; k < 2; k++) {
        scorr_aligned_free(feat[k]);
        rig_free(&r[k]);
    }
    scorr_aligned_free(img);
}

/* The block-input gradients of the first blocks and the stem's lie in two
 * slots over kept activations that are dead by then (grad_split); with
 * grad_split forced to 0 between build and alloc every one is in the
 * workspace as before. Same features and weight gradients, bit for bit,
 * with and without recompute (a trainer-sized model: 8 images, two
 * batch-statistics groups; its stem with an image gradient would not fit
 * below the slots, so none would be used). */
static void grad_slots(void)
{
    struct scorr_resnet_config cfg;
    scorr_resnet_config_default(&cfg);
    cfg.depth = 50;
    cfg.width = 8;
    cfg.bn_mode = SCORR_BN_BATCH;
    cfg.bn_groups = 2;
    cfg.batch = 8;
    cfg.image_size = 64;
    const size_t ni = (size_t)cfg.batch * 64 * 64 * 3;
    float *img = bb_floats(ni);
    bb_fill(img, ni, 53);
    for (int rec = 0; rec < 2; rec++) {
        cfg.recompute = rec;
        struct rig r[2];
        float *feat[2];
        size_t nf = 0;
        for (int k = 0; k < 2; k++) {
            struct rig *q = &r[k];
            scorr_params_init(&q->t);
            CHECK_OK(scorr_resnet_build(&q->net, &cfg, &q->t, PREFIX));
            if (k) q->net.grad_split = 0;
            struct scorr_arena plan;
            scorr_arena_plan(&plan);
            scorr_resnet_alloc(&q->net, &plan);
            CHECK_OK(scorr_arena_init(&q->arena, plan.peak, "backbone"));
            scorr_resnet_alloc(&q->net, &q->arena);
            q->params = bb_floats(q->t.total);
            q->grads = bb_floats(q->t.total);
            scorr_params_initialise(&q->t, q->params, 12);
            nf = (size_t)cfg.batch * q->net.out_h * q->net.out_w * q->net.out_c;
            feat[k] = bb_floats(nf);
            memset(q->grads, 0, q->t.total * sizeof(float));
            scorr_resnet_forward(&q->net, feat[k], img, q->params);
            scorr_resnet_backward(&q->net, q->grads, NULL, feat[k], img, q->params);
        }
        const int t = r[0].net.grad_split, nb = r[0].net.nblocks;
        printf("  grad_slots recompute %d: blocks [0, %d) of %d in the slots, workspace "
               "gradients %zu bytes (%zu without)\n", rec, t, nb, r[0].net.mem_grad,
               r[1].net.mem_grad);
        CHECK(t > 0 && t < nb && r[0].net.gact[0] && r[1].net.gact[0] == NULL,
              "recompute %d: grad_split %d of %d blocks: want both kinds", rec, t, nb);
        /* here the first workspace block still takes a layer1-sized gradient */
        CHECK(r[0].net.mem_grad <= r[1].net.mem_grad, "recompute %d: workspace gradients %zu, "
              "above %zu", rec, r[0].net.mem_grad, r[1].net.mem_grad);
        CHECK(!memcmp(feat[0], feat[1], nf * sizeof(float)), "recompute %d: features differ", rec);
        CHECK(!memcmp(r[0].grads, r[1].grads, r[0].t.total * sizeof(float)),
              "recompute %d: weight gradients differ with the gradient slots", rec);
        for (int k = 0; k < 2; k++) {
            scorr_aligned_free(feat[k]);
            rig_free(&r[k]);
        }
    }
    scorr_aligned_free(img);
}

static void config_errors(void)
{
    struct scorr_params t;
    struct scorr_resnet net;
    struct scorr_resnet_config cfg;
    scorr_params_init(&t);
    scorr_resnet_config_default(&cfg);
    cfg.depth = 42;
    CHECK(scorr_resnet_build(&net, &cfg, &t, "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "depth") && strstr(scorr_error_message(), "42"),
          "depth 42: %s", scorr_error_message());
    scorr_resnet_config_default(&cfg);
    cfg.image_size = 40;
    CHECK(scorr_resnet_build(&net, &cfg, &t, "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "multiple of 16") && strstr(scorr_error_message(), "40"),
          "image 40: %s", scorr_error_message());
    scorr_resnet_config_default(&cfg);
    cfg.batch = 3;
    cfg.bn_groups = 2;
    CHECK(scorr_resnet_build(&net, &cfg, &t, "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "bn_groups"),
          "groups: %s", scorr_error_message());
    scorr_resnet_config_default(&cfg);
    cfg.width = 0;
    CHECK(scorr_resnet_build(&net, &cfg, &t, "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "width"),
          "width 0: %s", scorr_error_message());
    /* batch statistics of one 16 x 16 image per group: 1 value per channel at layer3 */
    scorr_resnet_config_default(&cfg);
    cfg.depth = 18;
    cfg.width = 2;
    cfg.image_size = 16;
    cfg.bn_mode = SCORR_BN_BATCH;
    CHECK(scorr_resnet_build(&net, &cfg, &t, "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "more than one value"),
          "1x1 batch statistics: %s", scorr_error_message());
    scorr_params_free(&t);
}

int main(void)
{
    parity("backbone_r18w4_frozen.h5", "backbone_r18w4_weights.h5");
    /* once with 2 threads: oneDNN picks kernels by thread count too */
    omp_set_num_threads(2);
    parity("backbone_r18w4_batch.h5", "backbone_r18w4_weights.h5");
    omp_set_num_threads(1);
    parity("backbone_r50w2_frozen.h5", NULL);
    names();
    finite_differences();
    winograd_switch();
    grad_slots();
    config_errors();
    return scorr_test_finish("test_bb_resnet");
}
