/* Synthetic warps (include/scorr/warp.h) and the loader's warp mode:
 *   - the warp and its flow agree: on a textured image, the source read at
 *     p + stride * flow(p) reproduces the target at every valid cell centre
 *     p within interpolation error, and a flow off by one cell does not;
 *   - the mask is exactly "the source point is inside the image";
 *   - no warp (h = 0, no elastic field, no compose) is the identity;
 *   - the thin-plate spline moves each control point by the drawn amount
 *     (homography off): W(c_i) - c_i is the same small field the spline
 *     interpolates, and W is smooth between them;
 *   - the warp batch at 1, 2 and 3 ranks (simulated) is the global batch,
 *     sample for sample, byte for byte; two epochs differ; a sample is a
 *     pure function of (seed, epoch, sample);
 *   - warp mode ignores the labels: an image-only file (max_kps 0) loads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/loader.h"
#include "scorr/synth.h"
#include "scorr/warp.h"

enum { S = 64, STRIDE = 4, G = S / STRIDE };

/* A smooth colour texture: sums of sinusoids of a few pixels' to tens of
 * pixels' period, different per channel. */
static void texture(uint8_t *img)
{
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) {
                double v = 128 + 60 * sin(0.21 * x + 0.13 * y + c) +
                           50 * cos(0.17 * y - 0.09 * x + 2.0 * c) + 10 * sin(0.05 * (x + y));
                img[((size_t)y * S + x) * 3 + c] = (uint8_t)lrint(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

/* Mean |src(p + stride * (flow + shift)) - trg(p)| over valid cells. */
static double agreement(const uint8_t *src, const uint8_t *trg, const float *flow,
                        const uint8_t *mask, double shift, int *valid)
{
    double sum = 0;
    int n = 0;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            size_t i = (size_t)r * G + c;
            if (!mask[i]) continue;
            double x = (c + 0.5) * STRIDE - 0.5, y = (r + 0.5) * STRIDE - 0.5;
            double sx = x + STRIDE * (flow[2 * i] + shift), sy = y + STRIDE * flow[2 * i + 1];
            if (sx < 0 || sx > S - 1) continue; /* shifted out of the image */
            float a[3], b[3];
            scorr_warp_sample_bilinear(src, S, sx, sy, a);
            scorr_warp_sample_bilinear(trg, S, x, y, b);
            for (int k = 0; k < 3; k++) sum += fabs((double)a[k] - b[k]);
            n += 3;
        }
    if (valid) *valid = n / 3;
    return n ? sum / n : 1e9;
}

static void test_flow_agrees(void)
{
    static uint8_t img[S * S * 3], src[S * S * 3], trg[S * S * 3];
    static float flow[G * G * 2];
    static uint8_t mask[G * G];
    texture(img);
    const struct scorr_warp_config cfgs[3] = {
        {0.15f, 4, 0.03f, 0}, {0.15f, 4, 0.03f, 1}, {0.25f, 6, 0.05f, 1}};
    double worst = 0, worst_off = 1e9;
    for (int k = 0; k < 3; k++)
        for (uint32_t s = 0; s < 20; s++) {
            struct scorr_warp_pair wp;
            scorr_warp_pair_draw(&wp, &cfgs[k], 11, 0, s);
            scorr_warp_render(src, trg, flow, mask, img, S, STRIDE, &wp);
            int valid = 0;
            double e = agreement(src, trg, flow, mask, 0.0, &valid);
            double off = agreement(src, trg, flow, mask, 1.0, NULL);
            CHECK(valid >= G * G / 4, "config %d sample %u: only %d valid cells", k, s, valid);
            worst = fmax(worst, e);
            worst_off = fmin(worst_off, off);
            /* the mask is "source point inside the image", and the flow is
             * the pair's point map, cell by cell */
            for (int r = 0; r < G; r++)
                for (int c = 0; c < G; c++) {
                    size_t i = (size_t)r * G + c;
                    double x = (c + 0.5) * STRIDE - 0.5, y = (r + 0.5) * STRIDE - 0.5, o[2];
                    int in;
                    scorr_warp_pair_point(&wp, S, x, y, o, &in);
                    CHECK(mask[i] == in, "config %d sample %u cell %zu: mask %d, inside %d", k, s,
                          i, mask[i], in);
                    if (in)
                        CHECK(fabs(flow[2 * i] - (o[0] - x) / STRIDE) < 1e-5 &&
                                  fabs(flow[2 * i + 1] - (o[1] - y) / STRIDE) < 1e-5,
                              "config %d sample %u cell %zu: flow", k, s, i);
                    else
                        CHECK(flow[2 * i] == 0 && flow[2 * i + 1] == 0, "flow 0 where masked");
                }
        }
    printf("  warp vs flow: worst mean |error| %.2f levels; flow off by one cell: best %.2f\n",
           worst, worst_off);
    CHECK(worst < 4.0, "the source read through the flow differs from the target by %.2f levels",
          worst);
    CHECK(worst_off > 4 * worst, "a wrong flow (off by one cell) agrees as well (%.2f vs %.2f)",
          worst_off, worst);
}

static void test_identity_and_spline(void)
{
    static uint8_t img[S * S * 3], src[S * S * 3], trg[S * S * 3];
    static float flow[G * G * 2];
    static uint8_t mask[G * G];
    texture(img);
    const struct scorr_warp_config none = {0.0f, 0, 0.0f, 0};
    struct scorr_warp_pair wp;
    scorr_warp_pair_draw(&wp, &none, 3, 1, 2);
    scorr_warp_render(src, trg, flow, mask, img, S, STRIDE, &wp);
    int bad = 0;
    for (int i = 0; i < G * G; i++) bad += !mask[i] || fabsf(flow[2 * i]) > 1e-6f || fabsf(flow[2 * i + 1]) > 1e-6f;
    CHECK(bad == 0, "identity warp: %d cells with a flow or masked", bad);
    CHECK(memcmp(src, img, sizeof img) == 0 && memcmp(trg, img, sizeof img) == 0,
          "identity warp changed the images");

    /* elastic only: the spline interpolates its control points, so W stays
     * within the amplitude (plus a small overshoot) and is smooth */
    const struct scorr_warp_config el = {0.0f, 4, 0.04f, 0};
    struct scorr_warp w;
    scorr_warp_draw(&w, &el, 5, 0, 7, 0);
    CHECK(w.n == 16, "16 control points, found %d", w.n);
    double maxd = 0, maxjump = 0, prev[2] = {0, 0};
    for (int i = 0; i <= 200; i++) {
        double u = i / 200.0, v = 0.37, o[2];
        scorr_warp_map(&w, u, v, o);
        maxd = fmax(maxd, fmax(fabs(o[0] - u), fabs(o[1] - v)));
        if (i) maxjump = fmax(maxjump, fabs((o[0] - u) - prev[0]) + fabs((o[1] - v) - prev[1]));
        prev[0] = o[0] - u, prev[1] = o[1] - v;
    }
    double at[2];
    for (int i = 0; i < w.n; i++) {
        scorr_warp_map(&w, w.c[i][0], w.c[i][1], at);
        maxd = fmax(maxd, fmax(fabs(at[0] - w.c[i][0]), fabs(at[1] - w.c[i][1])));
    }
    CHECK(maxd > 0.005 && maxd < 0.04 * 1.5, "elastic displacement %.4f for amplitude 0.04", maxd);
    CHECK(maxjump < 0.005, "elastic field not smooth: a jump of %.4f over 1/200", maxjump);

    /* determinism: same key, same warp; another key, another warp */
    struct scorr_warp a, b, c;
    const struct scorr_warp_config full = {0.15f, 4, 0.03f, 1};
    scorr_warp_draw(&a, &full, 9, 2, 4, 0);
    scorr_warp_draw(&b, &full, 9, 2, 4, 0);
    scorr_warp_draw(&c, &full, 9, 3, 4, 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "same key, different warp");
    CHECK(memcmp(a.H, c.H, sizeof a.H) != 0, "another epoch, same warp");
    struct scorr_warp_config badc = {0.3f, 4, 0.03f, 0};
    CHECK(scorr_warp_check(&badc) != 0, "homography 0.3 accepted");
    badc = (struct scorr_warp_config){0.1f, 1, 0.03f, 0};
    CHECK(scorr_warp_check(&badc) != 0, "elastic grid 1 accepted");
}

static int same_share(const struct scorr_batch *a, int off, const struct scorr_batch *b)
{
    size_t n = (size_t)b->n, S2 = (size_t)a->S * a->S, G2 = (size_t)a->G * a->G;
    int bad = 0;
    bad += memcmp(a->src + 3 * S2 * off, b->src, 3 * S2 * n * sizeof(float)) != 0;
    bad += memcmp(a->trg + 3 * S2 * off, b->trg, 3 * S2 * n * sizeof(float)) != 0;
    bad += memcmp(a->flow + 2 * G2 * off, b->flow, 2 * G2 * n * sizeof(float)) != 0;
    bad += memcmp(a->mask + G2 * off, b->mask, G2 * n) != 0;
    bad += memcmp(a->pair + off, b->pair, n * sizeof(int64_t)) != 0;
    return bad;
}

static void warp_loader_config(struct scorr_loader_config *c, const char *path, int gb)
{
    scorr_loader_config_train(c, path, gb, 13);
    c->warp = 1;
    c->warp_cfg = (struct scorr_warp_config){0.15f, 4, 0.03f, 1};
    c->warp_repeat = 2;
    c->aug_prob = 0.5f;
}

static void test_ranks(const char *path)
{
    enum { GB = 6 };
    struct scorr_loader_config c;
    warp_loader_config(&c, path, GB);
    struct scorr_loader *one = NULL, *r[4] = {NULL};
    CHECK_OK(scorr_loader_open(&c, &one));
    if (!one) return;
    const int64_t P = scorr_loader_num_pairs(one);
    CHECK(scorr_loader_max_kps(one) == 0, "warp mode has keypoints");
    size_t S2 = (size_t)S * S, G2 = (size_t)G * G;
    size_t bytes_img = 3 * S2 * GB * sizeof(float), bytes_flow = 2 * G2 * GB * sizeof(float);
    float *src = malloc(bytes_img), *trg = malloc(bytes_img), *flow = malloc(bytes_flow);
    uint8_t *mask = malloc(G2 * GB);
    int64_t *pair = malloc(GB * sizeof(int64_t));
    for (int R = 2; R <= 3; R++) {
        for (int k = 0; k < R; k++) {
            struct scorr_loader_config rc = c;
            rc.rank = k, rc.num_ranks = R;
            CHECK_OK(scorr_loader_open(&rc, &r[k]));
        }
        for (int epoch = 0; epoch < 2; epoch++)
            for (int64_t step = 0; step < 2; step++) {
                const struct scorr_batch *g;
                CHECK_OK(scorr_loader_load_step(one, epoch, step, &g));
                if (!g) continue;
                /* keep the global batch: the loader's buffers are reused */
                memcpy(src, g->src, bytes_img), memcpy(trg, g->trg, bytes_img);
                memcpy(flow, g->flow, bytes_flow), memcpy(mask, g->mask, G2 * GB);
                memcpy(pair, g->pair, GB * sizeof(int64_t));
                struct scorr_batch keep = *g;
                keep.src = src, keep.trg = trg, keep.flow = flow, keep.mask = mask, keep.pair = pair;
                int dense = 0;
                for (size_t i = 0; i < G2 * GB; i++) dense += mask[i];
                CHECK(dense > (int)(G2 * GB / 3), "epoch %d step %lld: %d of %zu cells valid",
                      epoch, (long long)step, dense, G2 * GB);
                for (int k = 0; k < R; k++) {
                    const struct scorr_batch *b;
                    CHECK_OK(scorr_loader_load_step(r[k], epoch, step, &b));
                    if (b)
                        CHECK(!same_share(&keep, k * GB / R, b),
                              "R = %d rank %d epoch %d step %lld: share differs", R, k, epoch,
                              (long long)step);
                }
            }
        for (int k = 0; k < R; k++) scorr_loader_close(r[k]), r[k] = NULL;
    }
    /* the same sample in two epochs: another warp; twice in one epoch: the same */
    int64_t s0 = 3;
    const struct scorr_batch *b;
    CHECK_OK(scorr_loader_load_pairs(one, 0, &s0, 1, &b));
    memcpy(flow, b->flow, 2 * G2 * sizeof(float));
    CHECK_OK(scorr_loader_load_pairs(one, 1, &s0, 1, &b));
    CHECK(memcmp(flow, b->flow, 2 * G2 * sizeof(float)) != 0, "epochs 0 and 1 share a warp");
    CHECK_OK(scorr_loader_load_pairs(one, 0, &s0, 1, &b));
    CHECK(memcmp(flow, b->flow, 2 * G2 * sizeof(float)) == 0, "a sample is not a pure function");
    /* images x repeat samples: sample s and s + N read the same image */
    CHECK(P % 2 == 0, "P = %lld is not images x 2", (long long)P);
    scorr_loader_close(one);
    free(src), free(trg), free(flow), free(mask), free(pair);
}

int main(void)
{
    test_flow_agrees();
    test_identity_and_spline();
    /* an image-only pretraining file (no keypoints) */
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = S;
    c.images_per_category[0] = 9, c.images_per_category[1] = 4;
    c.seed = 4;
    c.threads = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/warp_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_synth_generate_pretrain(&c, path));
    test_ranks(path);
    unlink(path);
    return scorr_test_finish("test_data_warp");
}
