/* The data path: batches from the dataset file; see include/scorr/loader.h
 * and docs/data-path.md. */
#include "scorr/loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/arena.h"
#include "scorr/augment.h"
#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/rng.h"
#include "scorr/sparse_flow.h"

enum thr_kind { THR_BBOX, THR_IMG, THR_KPSBOX };

struct scorr_loader {
    struct scorr_loader_config cfg;
    char split_name[16];
    struct scorr_dataset *ds;
    struct scorr_split split;
    int S, G, M, box, cap;
    enum thr_kind thr;
    int32_t *perm;       /* (P) order of perm_epoch */
    int perm_epoch;
    uint8_t *scratch;    /* (cap, S, S, 3) for Sharpen */
    int64_t *pairs_buf;  /* (cap) pair indices of a step */
    float *dense_px;     /* (cap, S, S, 2) dense flow as read (pixels), when delivered */
    float *dense_buf;    /* (cap, G, G, 2) b.dense when delivered */
    int64_t P;           /* samples: the split's pairs, or (warp) images x repeat */
    int64_t *images;     /* warp: the split's image rows, ascending */
    int64_t n_images;
    uint8_t *orig;       /* warp: (cap, S, S, 3) the images read */
    struct scorr_batch b;
};

void scorr_loader_config_train(struct scorr_loader_config *c, const char *path, int batch_global,
                               uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->split = "trn";
    c->batch_global = batch_global;
    c->rank = 0, c->num_ranks = 1;
    c->seed = seed;
    c->shuffle = 1, c->augment = 1, c->aug_prob = 0.2f, c->apply_flip = 1;
    c->stride = 4;
}

void scorr_loader_config_eval(struct scorr_loader_config *c, const char *path, const char *split,
                              int batch)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->split = split;
    c->batch_global = batch;
    c->rank = 0, c->num_ranks = 1;
    c->stride = 4;
}

void scorr_loader_close(struct scorr_loader *l)
{
    if (!l) return;
    scorr_split_free(&l->split);
    scorr_dataset_close(l->ds);
    free(l->perm);
    free(l->pairs_buf);
    free(l->images);
    scorr_aligned_free(l->scratch);
    scorr_aligned_free(l->dense_px);
    scorr_aligned_free(l->dense_buf);
    scorr_aligned_free(l->orig);
    struct scorr_batch *b = &l->b;
    void *bufs[] = {b->src, b->src_u8, b->trg_u8, b->flow, b->mask, b->src_kps, b->trg_kps,
                    b->num_kps, b->src_bbox, b->trg_bbox, b->category, b->pair, b->flipped,
                    b->pck_thr};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) scorr_aligned_free(bufs[i]);
    free(l);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Warp mode: the distinct image rows of the split's pairs, ascending. */
static int warp_images(struct scorr_loader *l)
{
    int err = 0;
    const struct scorr_split *s = &l->split;
    int64_t n = 0;
    l->images = malloc(sizeof(int64_t) * (size_t)(2 * s->num_pairs + 1));
    SCORR_REQUIRE(l->images, SCORR_ENOMEM, "loader: out of memory");
    for (int64_t p = 0; p < s->num_pairs; p++) {
        l->images[n++] = s->src_image[p];
        l->images[n++] = s->trg_image[p];
    }
    qsort(l->images, (size_t)n, sizeof(int64_t), cmp_i64);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || l->images[i] != l->images[k - 1]) l->images[k++] = l->images[i];
    l->n_images = k;
    SCORR_REQUIRE(k > 0, SCORR_EINVAL, "loader: '%s' split '%s' has no images",
                  scorr_dataset_path(l->ds), l->split_name);
done:
    return err;
}

int scorr_loader_open(const struct scorr_loader_config *c, struct scorr_loader **out)
{
    int err = 0;
    struct scorr_loader *l = NULL;
    *out = NULL;
    const char *path = c->path ? c->path : "(null)";
    SCORR_REQUIRE(c->split && c->split[0] && strlen(c->split) < 16, SCORR_EINVAL,
                  "loader: '%s': no valid split name given", path);
    SCORR_REQUIRE(c->num_ranks >= 1 && c->rank >= 0 && c->rank < c->num_ranks, SCORR_EINVAL,
                  "loader: rank %d of %d is not a valid rank", c->rank, c->num_ranks);
    SCORR_REQUIRE(c->batch_global >= 1 && c->batch_global % c->num_ranks == 0, SCORR_EINVAL,
                  "loader: global batch %d must be a positive multiple of the number of ranks %d",
                  c->batch_global, c->num_ranks);
    SCORR_REQUIRE(!c->augment || (c->aug_prob >= 0.0f && c->aug_prob <= 1.0f), SCORR_EINVAL,
                  "loader: augmentation probability must be in [0, 1], found %g",
                  (double)c->aug_prob);
    l = calloc(1, sizeof *l);
    SCORR_REQUIRE(l, SCORR_ENOMEM, "out of memory");
    l->cfg = *c;
    snprintf(l->split_name, sizeof l->split_name, "%s", c->split);
    l->cfg.split = l->split_name;
    l->cfg.path = NULL; /* not kept: the dataset knows its path */
    l->perm_epoch = -1;
    SCORR_TRY(scorr_dataset_open(c->path, &l->ds));
    const struct scorr_dataset_meta *m = scorr_dataset_meta(l->ds);
    if (!scorr_dataset_has_split(l->ds, c->split)) {
        scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                        "loader: '%s' has no split '%s'", path, c->split);
        scorr_error_hint("the splits of a dataset file are its top-level groups (h5ls FILE)");
        err = SCORR_EINVAL;
        goto done;
    }
    SCORR_TRY(scorr_dataset_read_split(l->ds, c->split, &l->split));
    int64_t P = l->split.num_pairs;
    if (c->warp) {
        SCORR_TRY(scorr_warp_check(&c->warp_cfg));
        SCORR_REQUIRE(c->warp_repeat >= 1, SCORR_EINVAL,
                      "loader: warp repeat must be >= 1, found %d", c->warp_repeat);
        SCORR_TRY(warp_images(l));
        P = l->n_images * c->warp_repeat;
    }
    l->P = P;
    SCORR_REQUIRE(P >= c->batch_global || (!c->shuffle && P > 0), SCORR_EINVAL,
                  "loader: '%s' split '%s' has %lld %s, fewer than one global batch of %d",
                  path, c->split, (long long)P, c->warp ? "warp samples (images x repeat)" : "pairs",
                  c->batch_global);
    l->S = m->image_size;
    l->M = c->warp ? 0 : l->split.max_kps;
    int stride = c->stride > 0 ? c->stride : 4;
    l->cfg.stride = stride;
    l->box = c->box > 0 ? c->box : scorr_sparse_flow_default_box(stride);
    SCORR_TRY(scorr_sparse_flow_check(l->S, stride, l->box));
    l->G = l->S / stride;
    SCORR_REQUIRE(l->M <= 255, SCORR_EFORMAT, "loader: '%s' split '%s': max_kps %d > 255", path,
                  c->split, l->M);
    if (!strcmp(m->pck_threshold, "img"))
        l->thr = THR_IMG;
    else if (!strcmp(m->pck_threshold, "kpsbox"))
        l->thr = THR_KPSBOX;
    else if (!strcmp(m->pck_threshold, "bbox"))
        l->thr = THR_BBOX;
    else
        SCORR_FAIL(SCORR_EFORMAT, "loader: '%s': unknown pck_threshold '%s' (bbox, img, kpsbox)",
                   path, m->pck_threshold);
    l->cap = c->batch_global / c->num_ranks;
    l->perm = malloc(sizeof(int32_t) * (size_t)P);
    l->pairs_buf = malloc(sizeof(int64_t) * (size_t)l->cap);
    size_t n = (size_t)l->cap, S2 = (size_t)l->S * l->S, G2 = (size_t)l->G * l->G;
    size_t M = (size_t)l->M;
    struct scorr_batch *b = &l->b;
    b->S = l->S, b->G = l->G, b->M = l->M;
    l->scratch = scorr_aligned_calloc(n * S2 * 3);
    /* one block: the targets follow the sources (scorr_model_forward_images
     * reads a full batch where it is) */
    b->src = scorr_aligned_calloc(2 * n * S2 * 3 * sizeof(float));
    b->trg = b->src ? b->src + n * S2 * 3 : NULL;
    b->src_u8 = scorr_aligned_calloc(n * S2 * 3);
    b->trg_u8 = scorr_aligned_calloc(n * S2 * 3);
    b->flow = scorr_aligned_calloc(n * G2 * 2 * sizeof(float));
    b->mask = scorr_aligned_calloc(n * G2);
    b->src_kps = scorr_aligned_calloc(n * M * 2 * sizeof(float) + 64);
    b->trg_kps = scorr_aligned_calloc(n * M * 2 * sizeof(float) + 64);
    b->num_kps = scorr_aligned_calloc(n * sizeof(int32_t));
    b->src_bbox = scorr_aligned_calloc(n * 4 * sizeof(float));
    b->trg_bbox = scorr_aligned_calloc(n * 4 * sizeof(float));
    b->category = scorr_aligned_calloc(n * sizeof(int32_t));
    b->pair = scorr_aligned_calloc(n * sizeof(int64_t));
    b->flipped = scorr_aligned_calloc(n);
    b->pck_thr = scorr_aligned_calloc(n * sizeof(float));
    if (c->warp) {
        l->orig = scorr_aligned_calloc(n * S2 * 3);
        SCORR_REQUIRE(l->orig, SCORR_ENOMEM, "loader: out of memory");
    }
    SCORR_REQUIRE(l->perm && l->pairs_buf && l->scratch && b->src && b->trg && b->src_u8 && b->trg_u8 && b->flow &&
                      b->mask && b->src_kps && b->trg_kps && b->num_kps && b->src_bbox &&
                      b->trg_bbox && b->category && b->pair && b->flipped && b->pck_thr,
                  SCORR_ENOMEM, "loader: out of memory for a batch of %d images of %dx%d", l->cap,
                  l->S, l->S);
    if (c->dense && !c->warp && l->split.has_dense) {
        l->dense_px = scorr_aligned_calloc(n * S2 * 2 * sizeof(float));
        l->dense_buf = scorr_aligned_calloc(n * G2 * 2 * sizeof(float));
        SCORR_REQUIRE(l->dense_px && l->dense_buf, SCORR_ENOMEM,
                      "loader: out of memory for the dense flow of %d pairs", l->cap);
    }
    *out = l;
    l = NULL;
done:
    scorr_loader_close(l);
    return err;
}

int64_t scorr_loader_num_pairs(const struct scorr_loader *l) { return l->P; }
int64_t scorr_loader_steps_per_epoch(const struct scorr_loader *l)
{
    return l->P / l->cfg.batch_global;
}
int scorr_loader_image_size(const struct scorr_loader *l) { return l->S; }
int scorr_loader_has_dense(const struct scorr_loader *l) { return l->dense_buf != NULL; }
int scorr_loader_max_kps(const struct scorr_loader *l) { return l->M; }

void scorr_loader_epoch_order(const struct scorr_loader *l, int epoch, int32_t *perm)
{
    int64_t P = l->P;
    if (!l->cfg.shuffle) {
        for (int64_t i = 0; i < P; i++) perm[i] = (int32_t)i;
        return;
    }
    struct scorr_rng r;
    scorr_rng_init(&r, l->cfg.seed, SCORR_RNG_ORDER, (uint32_t)epoch, 0, 0);
    scorr_rng_permutation(&r, perm, (int32_t)P);
}

static void flip_image(uint8_t *img, int S)
{
    for (int i = 0; i < S; i++) {
        uint8_t *row = img + (size_t)i * S * 3;
        for (int j = 0; j < S / 2; j++) {
            uint8_t *a = row + 3 * j, *b = row + 3 * (S - 1 - j);
            for (int c = 0; c < 3; c++) {
                uint8_t t = a[c];
                a[c] = b[c];
                b[c] = t;
            }
        }
    }
}

/* The dense flow of sample i at the loss grid (see struct scorr_batch). The
 * augmentation is photometric only and leaves it unchanged. */
static void dense_at_grid(struct scorr_loader *l, int i)
{
    const int S = l->S, G = l->G, st = l->cfg.stride;
    const float *px = l->dense_px + (size_t)2 * S * S * i;
    float *out = l->dense_buf + (size_t)2 * G * G * i;
    const int flip = l->b.flipped[i];
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            const int cs = flip ? G - 1 - c : c;
            const size_t p = (size_t)(r * st + st / 2) * S + (size_t)(cs * st + st / 2);
            float *o = out + 2 * ((size_t)r * G + c);
            o[0] = (flip ? -px[2 * p] : px[2 * p]) / (float)st;
            o[1] = px[2 * p + 1] / (float)st;
        }
}

/* CPU part of one sample (thread-safe): flip, augmentation, normalisation, labels. */
static void finish_sample(struct scorr_loader *l, int i, int epoch)
{
    struct scorr_batch *b = &l->b;
    const struct scorr_loader_config *c = &l->cfg;
    int S = l->S, M = l->M;
    size_t S2 = (size_t)S * S;
    uint8_t *img[2] = {b->src_u8 + 3 * S2 * i, b->trg_u8 + 3 * S2 * i};
    float *kps[2] = {b->src_kps + (size_t)2 * M * i, b->trg_kps + (size_t)2 * M * i};
    float *box[2] = {b->src_bbox + 4 * i, b->trg_bbox + 4 * i};
    float *dst[2] = {b->src + 3 * S2 * i, b->trg + 3 * S2 * i};
    int n = b->num_kps[i];
    for (int side = 0; side < 2; side++) {
        if (b->flipped[i]) {
            /* mirror; x -> S - x for keypoints and boxes (x1, x2 swapped) as the reference */
            flip_image(img[side], S);
            for (int k = 0; k < n; k++) kps[side][2 * k] = (float)S - kps[side][2 * k];
            float x1 = box[side][0];
            box[side][0] = (float)S - box[side][2];
            box[side][2] = (float)S - x1;
        }
        if (c->augment) {
            struct scorr_aug_params p;
            scorr_aug_sample(&p, c->seed, (uint32_t)epoch, (uint32_t)b->pair[i], (uint32_t)side,
                             c->aug_prob);
            scorr_aug_apply(img[side], S, S, &p, l->scratch + 3 * S2 * i);
        }
        scorr_aug_normalize(dst[side], img[side], S2);
    }
    size_t G2 = (size_t)l->G * l->G;
    scorr_sparse_flow(b->flow + 2 * G2 * i, b->mask + G2 * i, kps[0], kps[1], n, S, c->stride,
                      l->box);
    if (l->dense_buf) dense_at_grid(l, i);
    float T;
    if (l->thr == THR_IMG) {
        T = (float)S;
    } else if (l->thr == THR_KPSBOX) {
        float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
        for (int k = 0; k < n; k++) {
            x0 = fminf(x0, kps[0][2 * k]), x1 = fmaxf(x1, kps[0][2 * k]);
            y0 = fminf(y0, kps[0][2 * k + 1]), y1 = fmaxf(y1, kps[0][2 * k + 1]);
        }
        T = n ? fmaxf(x1 - x0, y1 - y0) : 0.0f;
    } else {
        T = fmaxf(box[0][2] - box[0][0], box[0][3] - box[0][1]);
    }
    b->pck_thr[i] = T;
}

/* Warp mode, CPU part of one sample (thread-safe): the pair from its image,
 * augmentation, normalisation. */
static void finish_warp_sample(struct scorr_loader *l, int i, int epoch)
{
    struct scorr_batch *b = &l->b;
    const struct scorr_loader_config *c = &l->cfg;
    const int S = l->S;
    const size_t S2 = (size_t)S * S, G2 = (size_t)l->G * l->G;
    uint8_t *img[2] = {b->src_u8 + 3 * S2 * i, b->trg_u8 + 3 * S2 * i};
    float *dst[2] = {b->src + 3 * S2 * i, b->trg + 3 * S2 * i};
    struct scorr_warp_pair wp;
    const uint32_t sample = (uint32_t)b->pair[i];
    scorr_warp_pair_draw(&wp, &c->warp_cfg, c->seed, (uint32_t)epoch, sample);
    scorr_warp_render(img[0], img[1], b->flow + 2 * G2 * i, b->mask + G2 * i,
                      l->orig + 3 * S2 * i, S, c->stride, &wp);
    for (int side = 0; side < 2; side++) {
        if (c->augment) {
            struct scorr_aug_params p;
            scorr_aug_sample(&p, c->seed, (uint32_t)epoch, sample, (uint32_t)side, c->aug_prob);
            scorr_aug_apply(img[side], S, S, &p, l->scratch + 3 * S2 * i);
        }
        scorr_aug_normalize(dst[side], img[side], S2);
    }
}

static int warp_load(struct scorr_loader *l, int epoch, const int64_t *samples, int n)
{
    int err = 0;
    struct scorr_batch *b = &l->b;
    const size_t S2 = (size_t)l->S * l->S;
    const float S = (float)l->S;
    for (int i = 0; i < n; i++) {
        int64_t p = samples[i];
        SCORR_REQUIRE(p >= 0 && p < l->P, SCORR_EINVAL,
                      "loader: '%s' split '%s' has no warp sample %lld (it has %lld)",
                      scorr_dataset_path(l->ds), l->split_name, (long long)p, (long long)l->P);
        b->pair[i] = p;
        SCORR_TRY(scorr_dataset_read_image(l->ds, l->images[p % l->n_images], l->orig + 3 * S2 * i));
        b->num_kps[i] = 0;
        const float box[4] = {0.0f, 0.0f, S, S};
        memcpy(b->src_bbox + 4 * i, box, sizeof box);
        memcpy(b->trg_bbox + 4 * i, box, sizeof box);
        b->category[i] = 0;
        b->flipped[i] = 0;
        b->pck_thr[i] = S;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < n; i++) finish_warp_sample(l, i, epoch);
done:
    return err;
}

int scorr_loader_load_pairs(struct scorr_loader *l, int epoch, const int64_t *pairs, int n,
                            const struct scorr_batch **out)
{
    int err = 0;
    struct scorr_batch *b = &l->b;
    const struct scorr_split *s = &l->split;
    const char *path = scorr_dataset_path(l->ds);
    SCORR_REQUIRE(n >= 0 && n <= l->cap, SCORR_EINVAL,
                  "loader: %d samples requested, the batch holds %d", n, l->cap);
    int S = l->S, M = l->M;
    size_t S2 = (size_t)S * S;
    b->n = n;
    if (l->cfg.warp) {
        SCORR_TRY(warp_load(l, epoch, pairs, n));
        *out = b;
        goto done;
    }
    /* HDF5 on this thread only: pair tables are in memory, pixels by row. */
    for (int i = 0; i < n; i++) {
        int64_t p = pairs[i];
        SCORR_REQUIRE(p >= 0 && p < s->num_pairs, SCORR_EINVAL,
                      "loader: '%s' split '%s' has no pair %lld (it has %lld)", path,
                      l->split_name, (long long)p, (long long)s->num_pairs);
        b->pair[i] = p;
        SCORR_TRY(scorr_dataset_read_image(l->ds, s->src_image[p], b->src_u8 + 3 * S2 * i));
        SCORR_TRY(scorr_dataset_read_image(l->ds, s->trg_image[p], b->trg_u8 + 3 * S2 * i));
        b->num_kps[i] = s->num_kps[p];
        memcpy(b->src_kps + (size_t)2 * M * i, s->src_kps + (size_t)2 * M * p,
               sizeof(float) * 2 * M);
        memcpy(b->trg_kps + (size_t)2 * M * i, s->trg_kps + (size_t)2 * M * p,
               sizeof(float) * 2 * M);
        memcpy(b->src_bbox + 4 * i, s->src_bbox + 4 * p, sizeof(float) * 4);
        memcpy(b->trg_bbox + 4 * i, s->trg_bbox + 4 * p, sizeof(float) * 4);
        b->category[i] = s->category[p];
        b->flipped[i] = (uint8_t)(l->cfg.apply_flip && s->flip && s->flip[p]);
        if (l->dense_px)
            SCORR_TRY(scorr_dataset_read_dense(l->ds, l->split_name, p,
                                               l->dense_px + (size_t)2 * S2 * i));
    }
    b->dense = l->dense_buf;
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < n; i++) finish_sample(l, i, epoch);
    *out = b;
done:
    return err;
}

int scorr_loader_load_step(struct scorr_loader *l, int epoch, int64_t step,
                           const struct scorr_batch **out)
{
    int err = 0;
    int64_t steps = scorr_loader_steps_per_epoch(l);
    int GB = l->cfg.batch_global, R = l->cfg.num_ranks, r = l->cfg.rank;
    int64_t *pairs = l->pairs_buf;
    SCORR_REQUIRE(epoch >= 0 && step >= 0 && step < steps, SCORR_EINVAL,
                  "loader: step %lld of epoch %d out of range (an epoch has %lld steps)",
                  (long long)step, epoch, (long long)steps);
    if (l->perm_epoch != epoch) {
        scorr_loader_epoch_order(l, epoch, l->perm);
        l->perm_epoch = epoch;
    }
    int64_t lo = step * GB + (int64_t)r * GB / R, hi = step * GB + (int64_t)(r + 1) * GB / R;
    for (int64_t i = lo; i < hi; i++) pairs[i - lo] = l->perm[i];
    SCORR_TRY(scorr_loader_load_pairs(l, epoch, pairs, (int)(hi - lo), out));
done:
    return err;
}
