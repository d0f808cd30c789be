/* The data loader: rank shares at R = 1, 2, 4 put together give the R = 1
 * global batch sample for sample, byte for byte (ranks simulated in one
 * process); the epoch order is the documented Philox permutation; a fresh
 * loader at (epoch, step) equals one that got there step by step (resume);
 * evaluation loads are the file's pixels, normalised; the PF-PASCAL flip
 * mirrors images, keypoints (x -> S - x) and boxes; bad configs are errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/augment.h"
#include "scorr/dataset.h"
#include "scorr/loader.h"
#include "scorr/rng.h"
#include "scorr/synth.h"

enum { GB = 8 };

static int same_share(const struct scorr_batch *a, int off, const struct scorr_batch *b)
{
    /* b (a rank's share of n samples) equals samples [off, off + n) of a */
    size_t n = (size_t)b->n, S2 = (size_t)a->S * a->S, G2 = (size_t)a->G * a->G, M = (size_t)a->M;
    int bad = 0;
    bad += memcmp(a->src + 3 * S2 * off, b->src, 3 * S2 * n * sizeof(float)) != 0;
    bad += memcmp(a->trg + 3 * S2 * off, b->trg, 3 * S2 * n * sizeof(float)) != 0;
    bad += memcmp(a->src_u8 + 3 * S2 * off, b->src_u8, 3 * S2 * n) != 0;
    bad += memcmp(a->flow + 2 * G2 * off, b->flow, 2 * G2 * n * sizeof(float)) != 0;
    bad += memcmp(a->mask + G2 * off, b->mask, G2 * n) != 0;
    bad += memcmp(a->src_kps + 2 * M * off, b->src_kps, 2 * M * n * sizeof(float)) != 0;
    bad += memcmp(a->trg_kps + 2 * M * off, b->trg_kps, 2 * M * n * sizeof(float)) != 0;
    bad += memcmp(a->num_kps + off, b->num_kps, n * sizeof(int32_t)) != 0;
    bad += memcmp(a->src_bbox + 4 * off, b->src_bbox, 4 * n * sizeof(float)) != 0;
    bad += memcmp(a->pair + off, b->pair, n * sizeof(int64_t)) != 0;
    bad += memcmp(a->category + off, b->category, n * sizeof(int32_t)) != 0;
    bad += memcmp(a->pck_thr + off, b->pck_thr, n * sizeof(float)) != 0;
    return bad;
}

static struct scorr_batch copy_batch(const struct scorr_batch *b)
{
    struct scorr_batch c = *b;
    size_t n = (size_t)b->n, S2 = (size_t)b->S * b->S, G2 = (size_t)b->G * b->G, M = (size_t)b->M;
#define DUP(f, bytes) c.f = malloc(bytes), memcpy(c.f, b->f, bytes)
    DUP(src, 3 * S2 * n * sizeof(float));
    DUP(trg, 3 * S2 * n * sizeof(float));
    DUP(src_u8, 3 * S2 * n);
    DUP(trg_u8, 3 * S2 * n);
    DUP(flow, 2 * G2 * n * sizeof(float));
    DUP(mask, G2 * n);
    DUP(src_kps, 2 * M * n * sizeof(float));
    DUP(trg_kps, 2 * M * n * sizeof(float));
    DUP(num_kps, n * sizeof(int32_t));
    DUP(src_bbox, 4 * n * sizeof(float));
    DUP(trg_bbox, 4 * n * sizeof(float));
    DUP(category, n * sizeof(int32_t));
    DUP(pair, n * sizeof(int64_t));
    DUP(flipped, n);
    DUP(pck_thr, n * sizeof(float));
#undef DUP
    return c;
}

static void free_copy(struct scorr_batch *c)
{
    void *p[] = {c->src, c->trg, c->src_u8, c->trg_u8, c->flow, c->mask, c->src_kps, c->trg_kps,
                 c->num_kps, c->src_bbox, c->trg_bbox, c->category, c->pair, c->flipped, c->pck_thr};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

static void test_ranks(const char *path)
{
    struct scorr_loader_config c;
    scorr_loader_config_train(&c, path, GB, 7);
    struct scorr_loader *one = NULL, *ranks[3][4] = {{NULL}};
    CHECK_OK(scorr_loader_open(&c, &one));
    if (!one) return;
    int64_t P = scorr_loader_num_pairs(one), steps = scorr_loader_steps_per_epoch(one);
    CHECK(steps == P / GB, "steps per epoch %lld for %lld pairs", (long long)steps, (long long)P);
    static const int Rs[3] = {1, 2, 4};
    for (int ri = 0; ri < 3; ri++)
        for (int r = 0; r < Rs[ri]; r++) {
            c.rank = r, c.num_ranks = Rs[ri];
            CHECK_OK(scorr_loader_open(&c, &ranks[ri][r]));
        }
    int32_t *perm = malloc(sizeof(int32_t) * P), *mine = malloc(sizeof(int32_t) * P);
    int64_t *seen_pairs[2];
    for (int epoch = 0; epoch < 2; epoch++) {
        /* the documented order: Philox(seed, ORDER, (epoch, 0, 0)) Fisher-Yates */
        struct scorr_rng r;
        scorr_rng_init(&r, 7, SCORR_RNG_ORDER, (uint32_t)epoch, 0, 0);
        scorr_rng_permutation(&r, perm, (int32_t)P);
        scorr_loader_epoch_order(one, epoch, mine);
        CHECK(!memcmp(perm, mine, sizeof(int32_t) * P), "epoch %d order differs from the contract",
              epoch);
        seen_pairs[epoch] = calloc((size_t)P, sizeof(int64_t));
        for (int64_t step = 0; step < steps; step++) {
            const struct scorr_batch *b;
            CHECK_OK(scorr_loader_load_step(one, epoch, step, &b));
            struct scorr_batch g = copy_batch(b);
            for (int i = 0; i < GB; i++) {
                CHECK(g.pair[i] == perm[step * GB + i], "epoch %d step %lld sample %d: pair %lld, "
                      "want %d", epoch, (long long)step, i, (long long)g.pair[i], perm[step * GB + i]);
                seen_pairs[epoch][g.pair[i]]++;
            }
            for (int ri = 1; ri < 3; ri++)
                for (int rr = 0; rr < Rs[ri]; rr++) {
                    if (!ranks[ri][rr]) continue;
                    const struct scorr_batch *s;
                    CHECK_OK(scorr_loader_load_step(ranks[ri][rr], epoch, step, &s));
                    int share = GB / Rs[ri];
                    CHECK(s->n == share && same_share(&g, rr * share, s) == 0,
                          "epoch %d step %lld: rank %d of %d differs from the global batch", epoch,
                          (long long)step, rr, Rs[ri]);
                }
            free_copy(&g);
        }
        int dup = 0, total = 0;
        for (int64_t p = 0; p < P; p++) dup += seen_pairs[epoch][p] > 1, total += (int)seen_pairs[epoch][p];
        CHECK(dup == 0 && total == steps * GB, "epoch %d: %d repeated pairs, %d seen", epoch, dup,
              total);
    }
    CHECK(memcmp(seen_pairs[0], seen_pairs[1], sizeof(int64_t) * P) != 0 || P % GB == 0,
          "the dropped samples are the same in both epochs");
    /* resume: a fresh loader at (epoch 1, step 2) equals the one that walked there */
    const struct scorr_batch *b1, *b2;
    struct scorr_loader *fresh = NULL;
    c.rank = 0, c.num_ranks = 1;
    CHECK_OK(scorr_loader_open(&c, &fresh));
    if (fresh) {
        CHECK_OK(scorr_loader_load_step(one, 1, 2, &b1));
        struct scorr_batch g = copy_batch(b1);
        CHECK_OK(scorr_loader_load_step(fresh, 1, 2, &b2));
        CHECK(same_share(&g, 0, b2) == 0, "a resumed loader sees other data");
        /* a pair seen in two epochs gets other augmentation draws */
        free_copy(&g);
    }
    scorr_loader_close(fresh);
    /* out-of-range step is an error naming the step */
    CHECK(scorr_loader_load_step(one, 0, steps, &b1) != 0 && strstr(scorr_error_message(), "step"),
          "step out of range accepted");
    scorr_error_clear();
    free(perm), free(mine), free(seen_pairs[0]), free(seen_pairs[1]);
    for (int ri = 0; ri < 3; ri++)
        for (int r = 0; r < 4; r++) scorr_loader_close(ranks[ri][r]);
    scorr_loader_close(one);
}

static void test_eval_and_errors(const char *path)
{
    struct scorr_loader_config c;
    scorr_loader_config_eval(&c, path, "val", 4);
    struct scorr_loader *l = NULL;
    CHECK_OK(scorr_loader_open(&c, &l));
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (l && ds) {
        int64_t pairs[3] = {5, 0, 9};
        const struct scorr_batch *b;
        CHECK_OK(scorr_loader_load_pairs(l, 0, pairs, 3, &b));
        struct scorr_split s;
        CHECK_OK(scorr_dataset_read_split(ds, "val", &s));
        int S = b->S;
        uint8_t *img = malloc((size_t)3 * S * S);
        static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
        for (int i = 0; i < 3; i++) {
            CHECK_OK(scorr_dataset_read_image(ds, s.trg_image[pairs[i]], img));
            CHECK(!memcmp(img, b->trg_u8 + (size_t)3 * S * S * i, (size_t)3 * S * S),
                  "eval sample %d: target pixels differ from the file", i);
            int bad = 0;
            for (int k = 0; k < 3 * S * S; k++)
                bad += fabs(b->trg[(size_t)3 * S * S * i + k] - (img[k] / 255.0 - mean[k % 3]) / std[k % 3]) > 1e-5;
            CHECK(bad == 0, "eval sample %d: %d normalised values wrong", i, bad);
            const float *bb = s.src_bbox + 4 * pairs[i];
            CHECK(b->pck_thr[i] == fmaxf(bb[2] - bb[0], bb[3] - bb[1]), "pck threshold (bbox) wrong");
            CHECK(b->num_kps[i] == s.num_kps[pairs[i]] && b->pair[i] == pairs[i], "sample %d tables", i);
            /* labels: every labelled cell's box contains a target keypoint */
            int labelled = 0;
            for (int g = 0; g < b->G * b->G; g++) labelled += b->mask[(size_t)b->G * b->G * i + g];
            CHECK(labelled > 0, "sample %d has no sparse label", i);
        }
        free(img);
        scorr_split_free(&s);
        CHECK(scorr_loader_load_pairs(l, 0, (int64_t[]){1000}, 1, &b) != 0 &&
                  strstr(scorr_error_message(), "1000"),
              "bad pair index accepted: %s", scorr_error_message());
        scorr_error_clear();
    }
    scorr_dataset_close(ds);
    scorr_loader_close(l);
    /* errors */
    scorr_loader_config_train(&c, path, 6, 1);
    c.num_ranks = 4;
    CHECK(scorr_loader_open(&c, &l) != 0 && strstr(scorr_error_message(), "multiple"),
          "GB 6 on 4 ranks accepted: %s", scorr_error_message());
    scorr_error_clear();
    scorr_loader_config_eval(&c, path, "tset", 4);
    CHECK(scorr_loader_open(&c, &l) != 0 && strstr(scorr_error_message(), "tset"),
          "unknown split accepted or unnamed: %s", scorr_error_message());
    scorr_error_clear();
}

/* The synthetic trn split's dense flow at the grid agrees with the sparse
 * labels where both exist (same units, sign and cell convention). The label
 * is the flow of a keypoint anywhere in the cell's 11-pixel box, the dense
 * flow the box centre's, so they differ by the flow's change over up to 5.5
 * pixels: measured 78% within one grid cell, 97% within two. With dx or dy
 * negated, far fewer agree (the check can fail). */
static void test_dense_vs_labels(const char *path)
{
    struct scorr_loader_config c;
    scorr_loader_config_train(&c, path, 8, 4);
    c.dense = 1;
    struct scorr_loader *l = NULL;
    CHECK_OK(scorr_loader_open(&c, &l));
    if (!l) return;
    int64_t n = 0, close = 0, flipped = 0, finite = 0, cells = 0;
    for (int64_t step = 0; step < scorr_loader_steps_per_epoch(l); step++) {
        const struct scorr_batch *b;
        CHECK_OK(scorr_loader_load_step(l, 0, step, &b));
        CHECK(b->dense != NULL, "synthetic trn with dense flow: batch has none");
        if (!b->dense) break;
        for (size_t p = 0; p < (size_t)b->n * b->G * b->G; p++) {
            cells++;
            finite += isfinite(b->dense[2 * p]);
            if (!b->mask[p] || !isfinite(b->dense[2 * p])) continue;
            float dx = b->dense[2 * p] - b->flow[2 * p], dy = b->dense[2 * p + 1] - b->flow[2 * p + 1];
            n++;
            close += dx * dx + dy * dy <= 4.0f;
            float fx = -b->dense[2 * p] - b->flow[2 * p], fy = -b->dense[2 * p + 1] - b->flow[2 * p + 1];
            flipped += dx * dx + fy * fy <= 4.0f || fx * fx + dy * dy <= 4.0f;
        }
    }
    printf("dense vs labels: %lld of %lld labelled cells within 2 cells (%lld with dx or dy "
           "negated); %lld of %lld cells known\n",
           (long long)close, (long long)n, (long long)flipped, (long long)finite, (long long)cells);
    CHECK(n > 50 && close >= 0.9 * (double)n, "dense flow and labels disagree: %lld of %lld close",
          (long long)close, (long long)n);
    CHECK(flipped < 0.7 * (double)n, "a negated dense flow agrees as well (%lld of %lld)",
          (long long)flipped, (long long)n);
    CHECK(finite > 0 && finite < cells, "dense flow: %lld of %lld cells known", (long long)finite,
          (long long)cells);
    scorr_loader_close(l);
}

/* A two-image file with a flipped training pair, written here. */
static void test_flip(void)
{
    enum { S = 32 };
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/loader_flip_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    struct scorr_dataset_meta m;
    memset(&m, 0, sizeof m);
    snprintf(m.source, sizeof m.source, "pfpascal");
    snprintf(m.pck_threshold, sizeof m.pck_threshold, "img");
    m.image_size = S;
    m.num_categories = 1;
    const char *names[1] = {"thing"};
    m.category_names = (char **)names;
    m.num_images = 2;
    struct scorr_ds_writer *w = NULL;
    CHECK_OK(scorr_ds_writer_open(path, &m, &w));
    if (!w) return;
    uint8_t img[2][S * S * 3];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < S * S * 3; i++) img[k][i] = (uint8_t)((i * 7 + k * 50) % 251);
    CHECK_OK(scorr_ds_writer_put_image(w, 0, img[0], S, S, "a.jpg", NULL));
    CHECK_OK(scorr_ds_writer_put_image(w, 1, img[1], S, S, "b.jpg", NULL));
    int32_t si[2] = {0, 1}, ti[2] = {1, 0}, cat[2] = {0, 0}, nk[2] = {2, 2};
    float sk[2 * 2 * 2] = {3, 4, 10.5f, 20, 3, 4, 10.5f, 20};
    float tk[2 * 2 * 2] = {6, 7, 25, 9, 6, 7, 25, 9};
    float sb[8] = {2, 3, 12, 22, 2, 3, 12, 22}, tb[8] = {5, 6, 27, 11, 5, 6, 27, 11};
    uint8_t flip[2] = {1, 0};
    struct scorr_split s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "trn");
    s.num_pairs = 2, s.max_kps = 2;
    s.src_image = si, s.trg_image = ti, s.category = cat, s.num_kps = nk;
    s.src_kps = sk, s.trg_kps = tk, s.src_bbox = sb, s.trg_bbox = tb, s.flip = flip;
    CHECK_OK(scorr_ds_writer_put_split(w, &s));
    /* dense flow (pixels): dx = 0.5 j + 1 + 7 p, dy = i - 3 at pixel (i, j) of
     * pair p, NaN at pixel (10, 10) (cell (2, 2) at stride 4) */
    static float dense[2][S * S * 2];
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                dense[p][2 * (i * S + j)] = 0.5f * (float)j + 1.0f + 7.0f * (float)p;
                dense[p][2 * (i * S + j) + 1] = (float)i - 3.0f;
            }
        dense[p][2 * (10 * S + 10)] = NAN;
        CHECK_OK(scorr_ds_writer_put_dense(w, "trn", p, dense[p]));
    }
    CHECK_OK(scorr_ds_writer_commit(w));
    struct scorr_loader_config c;
    scorr_loader_config_train(&c, path, 2, 3);
    c.augment = 0, c.shuffle = 0;
    /* the true flow at the loss grid: the cell's box-centre pixel / stride;
     * the flipped pair takes the mirrored cell with dx negated */
    struct scorr_loader *ld = NULL;
    CHECK_OK(scorr_loader_open(&c, &ld));
    CHECK(ld && !scorr_loader_has_dense(ld), "dense flow delivered without config dense");
    scorr_loader_close(ld);
    c.dense = 1;
    CHECK_OK(scorr_loader_open(&c, &ld));
    if (ld) {
        const struct scorr_batch *b;
        CHECK(scorr_loader_has_dense(ld), "split with dense flow: not delivered");
        CHECK_OK(scorr_loader_load_pairs(ld, 0, (int64_t[]){0, 1}, 2, &b));
        const int G = b->G, st = S / G;
        int bad = 0, nan_ok = 0;
        for (int p = 0; p < 2; p++)
            for (int r = 0; r < G; r++)
                for (int cc = 0; cc < G; cc++) {
                    const float *g = b->dense + 2 * ((size_t)(p * G + r) * G + cc);
                    int src_c = p == 0 ? G - 1 - cc : cc; /* pair 0 is flipped */
                    int i = r * st + st / 2, j = src_c * st + st / 2;
                    float ex = dense[p][2 * (i * S + j)] / (float)st * (p == 0 ? -1.0f : 1.0f);
                    float ey = dense[p][2 * (i * S + j) + 1] / (float)st;
                    if (i == 10 && j == 10) {
                        nan_ok += isnan(g[0]);
                        continue;
                    }
                    bad += fabsf(g[0] - ex) > 1e-6f || fabsf(g[1] - ey) > 1e-6f;
                }
        CHECK(bad == 0, "dense flow at the grid: %d cells wrong", bad);
        CHECK(nan_ok == 2, "NaN of the dense flow not kept (%d of 2)", nan_ok);
    }
    scorr_loader_close(ld);
    c.dense = 0;
    struct scorr_loader *l = NULL;
    CHECK_OK(scorr_loader_open(&c, &l));
    if (l) {
        const struct scorr_batch *b;
        CHECK_OK(scorr_loader_load_pairs(l, 0, (int64_t[]){0, 1}, 2, &b));
        int bad = 0;
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++)
                for (int ch = 0; ch < 3; ch++) {
                    bad += b->src_u8[3 * (i * S + j) + ch] != img[0][3 * (i * S + (S - 1 - j)) + ch];
                    bad += b->trg_u8[3 * (i * S + j) + ch] != img[1][3 * (i * S + (S - 1 - j)) + ch];
                    bad += b->src_u8[3 * S * S + 3 * (i * S + j) + ch] != img[1][3 * (i * S + j) + ch];
                }
        CHECK(bad == 0, "flip: %d pixels not mirrored (or mirrored without the flag)", bad);
        CHECK(b->flipped[0] == 1 && b->flipped[1] == 0, "flipped flags %d %d", b->flipped[0],
              b->flipped[1]);
        CHECK(b->src_kps[0] == S - 3.0f && b->src_kps[1] == 4 && b->src_kps[2] == S - 10.5f &&
                  b->trg_kps[2] == S - 25.0f && b->trg_kps[3] == 9,
              "flip: keypoints not x -> S - x");
        CHECK(b->src_bbox[0] == S - 12.0f && b->src_bbox[2] == S - 2.0f && b->src_bbox[1] == 3 &&
                  b->src_bbox[3] == 22,
              "flip: box not (S - x2, y1, S - x1, y2): %g %g %g %g", b->src_bbox[0], b->src_bbox[1],
              b->src_bbox[2], b->src_bbox[3]);
        CHECK(b->pck_thr[0] == (float)S, "img threshold %g", b->pck_thr[0]);
        /* labels follow the flipped target: target (S-25, 9) = (7, 9) lies in cell (1, 1) (box [1, 11]) */
        int G = b->G;
        CHECK(b->mask[1 * G + 1] == 1, "flip: label cell of the flipped keypoint not set");
        CHECK(b->src_kps[4] == 3 && b->src_kps[6] == 10.5f, "unflipped pair changed");
    }
    scorr_loader_close(l);
    c.apply_flip = 0;
    CHECK_OK(scorr_loader_open(&c, &l));
    if (l) {
        const struct scorr_batch *b;
        CHECK_OK(scorr_loader_load_pairs(l, 0, (int64_t[]){0}, 1, &b));
        CHECK(b->flipped[0] == 0 && !memcmp(b->src_u8, img[0], sizeof img[0]),
              "apply_flip = 0 still flips");
    }
    scorr_loader_close(l);
    unlink(path);
}

int main(void)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = 64;
    c.pairs[0] = 37, c.pairs[1] = 10, c.pairs[2] = 6;
    c.images_per_category[0] = 6, c.images_per_category[1] = c.images_per_category[2] = 4;
    c.seed = 21;
    c.trn_dense_flow = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/loader_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_synth_generate(&c, path));
    test_ranks(path);
    test_dense_vs_labels(path);
    test_eval_and_errors(path);
    test_flip();
    unlink(path);
    return scorr_test_finish("test_data_loader");
}
