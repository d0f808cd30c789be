/* The image-only pretraining set (scorr_synth --pretrain,
 * docs/synthetic-benchmark.md "Pretraining images"): images of the
 * categories a benchmark of K categories does not use (K .. max - 1), from
 * random streams of their own, so no benchmark image, object or category is
 * in it. Splits trn and val; each image is one self-pair (source = target)
 * without keypoints, which keeps the file a valid scorr dataset that the
 * warp loader (include/scorr/loader.h) reads; it has no labels to train on. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "synth_pairs.h"

#define CHUNK 64

/* Pretraining images draw from (seed ^ this): never the benchmark's streams. */
#define PRETRAIN_SEED_MIX 0x5eed9e3779b97f4aull

static const char *const k_split_names[2] = {"trn", "val"};

int scorr_synth_pretrain_categories(const struct scorr_synth_config *c, int *first)
{
    *first = c->num_categories;
    return syn_num_category_defs() - c->num_categories;
}

static int put_split(struct scorr_ds_writer *w, int sp, int64_t first, int64_t N, int n,
                     const struct syn_image *pool)
{
    int err = 0;
    struct scorr_split s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", k_split_names[sp]);
    s.num_pairs = N;
    s.max_kps = 0;
    s.src_image = malloc(sizeof(int32_t) * (size_t)N);
    s.trg_image = malloc(sizeof(int32_t) * (size_t)N);
    s.category = malloc(sizeof(int32_t) * (size_t)N);
    s.num_kps = calloc((size_t)N, sizeof(int32_t));
    s.src_bbox = malloc(sizeof(float) * 4 * (size_t)N);
    s.trg_bbox = malloc(sizeof(float) * 4 * (size_t)N);
    s.src_kps = malloc(sizeof(float) * 2);
    s.trg_kps = malloc(sizeof(float) * 2);
    SCORR_REQUIRE(s.src_image && s.trg_image && s.category && s.num_kps && s.src_bbox &&
                      s.trg_bbox && s.src_kps && s.trg_kps,
                  SCORR_ENOMEM, "synth: out of memory for the %s table", s.name);
    for (int64_t i = 0; i < N; i++) {
        s.src_image[i] = s.trg_image[i] = (int32_t)(first + i);
        s.category[i] = (int32_t)(i / n);
        syn_object_box(&pool[i], s.src_bbox + 4 * i);
        memcpy(s.trg_bbox + 4 * i, s.src_bbox + 4 * i, 4 * sizeof(float));
    }
    SCORR_TRY(scorr_ds_writer_put_split(w, &s));
done:
    free(s.src_image), free(s.trg_image), free(s.category), free(s.num_kps);
    free(s.src_bbox), free(s.trg_bbox), free(s.src_kps), free(s.trg_kps);
    return err;
}

int scorr_synth_generate_pretrain(const struct scorr_synth_config *cfg, const char *path)
{
    int err = 0;
    struct scorr_ds_writer *w = NULL;
    struct syn_image *pool = NULL;
    struct syn_render_stats *stats = NULL;
    uint8_t *pix = NULL, *fg = NULL;
    const char *cat_names[64];
    struct scorr_synth_config c = *cfg;
    int K0 = 0;
    const int K = scorr_synth_pretrain_categories(&c, &K0);
    SCORR_REQUIRE(c.num_categories >= 1 && K >= 1 && K <= 64, SCORR_EINVAL,
                  "--pretrain: a benchmark of %d categories leaves none of the %d for "
                  "pretraining (use --categories K < %d: the benchmark's K)",
                  c.num_categories, syn_num_category_defs(), syn_num_category_defs());
    for (int sp = 0; sp < 2; sp++)
        SCORR_REQUIRE(c.images_per_category[sp] >= 1 && c.images_per_category[sp] <= 1000000,
                      SCORR_EINVAL, "--images-per-category: %s needs 1..1e6 images, found %d",
                      k_split_names[sp], c.images_per_category[sp]);
    SCORR_REQUIRE(!c.contact_sheet, SCORR_EINVAL,
                  "--contact-sheet: not available with --pretrain (the set has no pairs)");
    c.pairs[0] = c.pairs[1] = 1, c.pairs[2] = 0; /* scorr_synth_check: pairs are not used */
    SCORR_TRY(scorr_synth_check(&c));
    c.seed ^= PRETRAIN_SEED_MIX;
    const int nt = c.threads > 0 ? c.threads : omp_get_max_threads();
    const int S = c.size;
    const size_t np = (size_t)S * S;
    const double t0 = scorr_now();

    struct scorr_dataset_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.source, sizeof meta.source, "synth");
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "bbox");
    meta.image_size = S;
    meta.num_categories = K;
    for (int k = 0; k < K; k++) cat_names[k] = scorr_synth_category_name(K0 + k);
    meta.category_names = (char **)cat_names;
    meta.num_images = (int64_t)K * (c.images_per_category[0] + c.images_per_category[1]);
    meta.has_fg_mask = 1;
    SCORR_TRY(scorr_ds_writer_open(path, &meta, &w));
    pix = malloc(3 * np * CHUNK), fg = malloc(np * CHUNK);
    SCORR_REQUIRE(pix && fg, SCORR_ENOMEM, "synth: out of memory for render buffers");

    int64_t first = 0;
    for (int sp = 0; sp < 2; sp++) {
        const int n = c.images_per_category[sp];
        const int64_t N = (int64_t)n * K;
        pool = calloc((size_t)N, sizeof *pool);
        stats = calloc((size_t)N, sizeof *stats);
        SCORR_REQUIRE(pool && stats, SCORR_ENOMEM, "synth: out of memory for %lld images",
                      (long long)N);
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
        for (int64_t i = 0; i < N; i++) syn_sample_image(&pool[i], &c, sp, i, K0 + (int)(i / n));
        for (int64_t base = 0; base < N; base += CHUNK) {
            const int64_t m = N - base < CHUNK ? N - base : CHUNK;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
            for (int64_t i = 0; i < m; i++)
                syn_render(&pool[base + i], pix + 3 * np * i, fg + np * i, &stats[base + i]);
            for (int64_t i = 0; i < m; i++) {
                char name[96];
                const int64_t idx = base + i;
                snprintf(name, sizeof name, "pretrain/%s/%s/%05lld.png", k_split_names[sp],
                         pool[idx].cat->name, (long long)(idx % n));
                SCORR_TRY(scorr_ds_writer_put_image(w, first + idx, pix + 3 * np * i, S, S, name,
                                                    fg + np * i));
            }
        }
        SCORR_TRY(put_split(w, sp, first, N, n, pool));
        first += N;
        free(pool), free(stats);
        pool = NULL, stats = NULL;
    }
    SCORR_TRY(scorr_ds_writer_commit(w));
    w = NULL;
    scorr_info("synth: pretraining set of %lld images (categories %d..%d: not in a %d-category "
               "benchmark) rendered in %.2f s -> %s",
               (long long)meta.num_images, K0, K0 + K - 1, K0, scorr_now() - t0, path);
done:
    if (w) scorr_ds_writer_abort(w);
    free(pool);
    free(stats);
    free(pix);
    free(fg);
    return err;
}
