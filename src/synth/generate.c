/* Generating the synthetic dataset file: sample every pool image, render in
 * parallel chunks, choose pairs, compute the dense flow of evaluation pairs,
 * write everything from the calling thread. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "synth_contact.h"
#include "synth_pairs.h"

#define CHUNK 64

static const char *const k_split_names[3] = {"trn", "val", "test"};

struct split_tables {
    struct scorr_split s;
    char **names;
};

static void split_tables_free(struct split_tables *t)
{
    struct scorr_split *s = &t->s;
    free(s->src_image), free(s->trg_image), free(s->category), free(s->num_kps);
    free(s->src_kps), free(s->trg_kps), free(s->kps_ids), free(s->src_bbox), free(s->trg_bbox);
    free(s->flip), free(s->difficulty);
    if (t->names)
        for (int64_t p = 0; p < s->num_pairs; p++) free(t->names[p]);
    free(t->names);
    memset(t, 0, sizeof *t);
}

/* The pair table of one split from the sampled images and their render stats. */
static int make_split(const struct scorr_synth_config *c, int split, const struct syn_image *pool,
                      const struct syn_render_stats *stats, struct split_tables *t)
{
    int err = 0;
    int64_t P = c->pairs[split];
    int M = scorr_synth_max_kps();
    struct scorr_split *s = &t->s;
    memset(t, 0, sizeof *t);
    snprintf(s->name, sizeof s->name, "%s", k_split_names[split]);
    s->num_pairs = P;
    s->max_kps = M;
    s->src_image = malloc(sizeof(int32_t) * P), s->trg_image = malloc(sizeof(int32_t) * P);
    s->category = malloc(sizeof(int32_t) * P), s->num_kps = malloc(sizeof(int32_t) * P);
    s->src_kps = malloc(sizeof(float) * P * M * 2), s->trg_kps = malloc(sizeof(float) * P * M * 2);
    s->kps_ids = malloc(sizeof(int32_t) * P * M);
    s->src_bbox = malloc(sizeof(float) * P * 4), s->trg_bbox = malloc(sizeof(float) * P * 4);
    s->flip = calloc((size_t)P, 1);
    s->difficulty = malloc((size_t)P * 4);
    t->names = calloc((size_t)P, sizeof *t->names);
    SCORR_REQUIRE(s->src_image && s->trg_image && s->category && s->num_kps && s->src_kps &&
                      s->trg_kps && s->kps_ids && s->src_bbox && s->trg_bbox && s->flip &&
                      s->difficulty && t->names,
                  SCORR_ENOMEM, "synth: out of memory for the %s pair table (%lld pairs)",
                  s->name, (long long)P);
    s->pair_names = t->names;
    s->has_dense = split > 0 || c->trn_dense_flow;
    int64_t first = syn_split_first_image(c, split);
    for (int64_t p = 0; p < P; p++) {
        struct syn_pair_choice ch;
        SCORR_TRY(syn_pick_pair(c, split, p, pool, &ch));
        const struct syn_image *si = &pool[ch.src], *ti = &pool[ch.trg];
        s->src_image[p] = (int32_t)(first + ch.src);
        s->trg_image[p] = (int32_t)(first + ch.trg);
        s->category[p] = ch.category;
        s->num_kps[p] = ch.num_kps;
        for (int k = 0; k < M; k++) {
            float *a = s->src_kps + (p * M + k) * 2, *b = s->trg_kps + (p * M + k) * 2;
            if (k < ch.num_kps) {
                int id = ch.kps_ids[k];
                a[0] = si->kps[id][0], a[1] = si->kps[id][1];
                b[0] = ti->kps[id][0], b[1] = ti->kps[id][1];
                s->kps_ids[p * M + k] = id;
            } else {
                a[0] = a[1] = b[0] = b[1] = NAN;
                s->kps_ids[p * M + k] = -1;
            }
        }
        syn_object_box(si, s->src_bbox + 4 * p);
        syn_object_box(ti, s->trg_bbox + 4 * p);
        syn_difficulty(si, ti, &stats[ch.src], &stats[ch.trg], s->difficulty + 4 * p);
        char buf[640];
        snprintf(buf, sizeof buf, "%06lld-%.8s%05d-%.8s%05d:%.64s", (long long)p, s->name, ch.src,
                 s->name, ch.trg, si->cat->name);
        t->names[p] = strdup(buf);
        SCORR_REQUIRE(t->names[p], SCORR_ENOMEM, "synth: out of memory");
    }
done:
    return err;
}

int scorr_synth_generate(const struct scorr_synth_config *c, const char *path)
{
    int err = 0;
    struct scorr_ds_writer *w = NULL;
    struct syn_image *pool[3] = {NULL, NULL, NULL};
    struct syn_render_stats *stats[3] = {NULL, NULL, NULL};
    struct split_tables tables[3];
    memset(tables, 0, sizeof tables);
    uint8_t *pix = NULL, *fg = NULL;
    float *flow = NULL;
    const char *cat_names[16];
    SCORR_TRY(scorr_synth_check(c));
    int nt = c->threads > 0 ? c->threads : omp_get_max_threads(); /* no global OpenMP state change */
    int K = c->num_categories, S = c->size;
    size_t np = (size_t)S * S;
    double t0 = scorr_now();

    struct scorr_dataset_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.source, sizeof meta.source, "synth");
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "bbox");
    meta.image_size = S;
    meta.num_categories = K;
    for (int k = 0; k < K; k++) cat_names[k] = scorr_synth_category_name(k);
    meta.category_names = (char **)cat_names;
    meta.num_images = syn_split_first_image(c, 3);
    meta.has_fg_mask = 1;
    SCORR_TRY(scorr_ds_writer_open(path, &meta, &w));

    pix = malloc(3 * np * CHUNK), fg = malloc(np * CHUNK);
    flow = malloc(sizeof(float) * 2 * np * CHUNK);
    SCORR_REQUIRE(pix && fg && flow, SCORR_ENOMEM, "synth: out of memory for render buffers");

    /* Images: sample (cheap), render by chunks in parallel, write in order. */
    for (int sp = 0; sp < 3; sp++) {
        int n = syn_pool_size(c, sp);
        if (!n) continue;
        int64_t N = (int64_t)n * K, first = syn_split_first_image(c, sp);
        pool[sp] = calloc((size_t)N, sizeof *pool[sp]);
        stats[sp] = calloc((size_t)N, sizeof *stats[sp]);
        SCORR_REQUIRE(pool[sp] && stats[sp], SCORR_ENOMEM,
                      "synth: out of memory for %lld images", (long long)N);
        struct syn_image *P = pool[sp];
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
        for (int64_t i = 0; i < N; i++) syn_sample_image(&P[i], c, sp, i, (int)(i / n));
        for (int64_t base = 0; base < N; base += CHUNK) {
            int64_t m = N - base < CHUNK ? N - base : CHUNK;
            struct syn_render_stats *st = stats[sp];
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
            for (int64_t i = 0; i < m; i++)
                syn_render(&P[base + i], pix + 3 * np * i, fg + np * i, &st[base + i]);
            for (int64_t i = 0; i < m; i++) {
                char name[64];
                int64_t idx = base + i;
                snprintf(name, sizeof name, "%s/%s/%05lld.png", k_split_names[sp],
                         P[idx].cat->name, (long long)(idx % n));
                SCORR_TRY(scorr_ds_writer_put_image(w, first + idx, pix + 3 * np * i, S, S, name,
                                                    fg + np * i));
            }
        }
    }
    double t1 = scorr_now();

    /* Pair tables, then the dense flow (evaluation splits; trn on request). */
    for (int sp = 0; sp < 3; sp++) {
        if (!pool[sp]) continue;
        SCORR_TRY(make_split(c, sp, pool[sp], stats[sp], &tables[sp]));
        SCORR_TRY(scorr_ds_writer_put_split(w, &tables[sp].s));
        if (!tables[sp].s.has_dense) continue;
        const struct scorr_split *s = &tables[sp].s;
        int64_t first = syn_split_first_image(c, sp);
        for (int64_t base = 0; base < s->num_pairs; base += CHUNK) {
            int64_t m = s->num_pairs - base < CHUNK ? s->num_pairs - base : CHUNK;
            const struct syn_image *P = pool[sp];
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
            for (int64_t i = 0; i < m; i++)
                syn_dense_flow(&P[s->src_image[base + i] - first], &P[s->trg_image[base + i] - first],
                               flow + 2 * np * i);
            for (int64_t i = 0; i < m; i++)
                SCORR_TRY(scorr_ds_writer_put_dense(w, s->name, base + i, flow + 2 * np * i));
        }
    }
    double t2 = scorr_now();

    if (c->contact_sheet) {
        int sp = pool[2] ? 2 : pool[1] ? 1 : 0;
        SCORR_TRY(syn_contact_sheet(c, sp, pool[sp], &tables[sp].s, c->contact_sheet));
    }
    SCORR_TRY(scorr_ds_writer_commit(w));
    w = NULL;
    scorr_info("synth: %lld images rendered in %.2f s, pairs and dense flow in %.2f s -> %s",
               (long long)meta.num_images, t1 - t0, t2 - t1, path);
done:
    if (w) scorr_ds_writer_abort(w);
    for (int sp = 0; sp < 3; sp++) {
        free(pool[sp]);
        free(stats[sp]);
        split_tables_free(&tables[sp]);
    }
    free(pix);
    free(fg);
    free(flow);
    return err;
}
