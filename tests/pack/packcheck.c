#include "packcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/dataset.h"
#include "scorr/image.h"

/* Expected image rows: images of good pairs in order of first use (src, then
 * trg), minus the unreadable ones. */
static int expected_rows(const struct gen_raw *g, const struct expect_file *e, int *row)
{
    int order[GEN_MAX_IMAGES], n = 0, seen[GEN_MAX_IMAGES] = {0};
    for (int s = 0; s < e->num_splits; s++)
        for (int i = 0; i < g->npairs; i++) {
            const struct gen_pair *p = &g->pair[i];
            if (p->bad || strcmp(p->split, e->splits[s])) continue;
            int ims[2] = {p->src, p->trg};
            for (int k = 0; k < 2; k++)
                if (!seen[ims[k]]) {
                    seen[ims[k]] = 1;
                    order[n++] = ims[k];
                }
        }
    int rows = 0;
    for (int i = 0; i < GEN_MAX_IMAGES; i++) row[i] = -1;
    for (int i = 0; i < n; i++)
        if (!g->bad_image[order[i]]) row[order[i]] = rows++;
    return rows;
}

static float scaled(double v, int S, int size) { return (float)(v * S / size); }

static void check_split(const char *label, const struct gen_raw *g, struct scorr_dataset *ds,
                        const char *split, const int *row, int S)
{
    struct scorr_split t;
    if (scorr_dataset_read_split(ds, split, &t)) {
        CHECK(0, "%s: split %s unreadable: %s", label, split, scorr_error_message());
        return;
    }
    int P = 0, M = 0;
    for (int i = 0; i < g->npairs; i++) {
        const struct gen_pair *p = &g->pair[i];
        if (p->bad || strcmp(p->split, split) || row[p->src] < 0 || row[p->trg] < 0) continue;
        P++;
        if (p->n > M) M = p->n;
    }
    CHECK(t.num_pairs == P && t.max_kps == M, "%s %s: %lld pairs, max_kps %d; expected %d, %d",
          label, split, (long long)t.num_pairs, t.max_kps, P, M);
    if (t.num_pairs != P || t.max_kps != M) {
        scorr_split_free(&t);
        return;
    }
    int q = 0;
    for (int i = 0; i < g->npairs; i++) {
        const struct gen_pair *p = &g->pair[i];
        if (p->bad || strcmp(p->split, split) || row[p->src] < 0 || row[p->trg] < 0) continue;
        const struct gen_image *si = &g->img[p->src], *ti = &g->img[p->trg];
        CHECK(!strcmp(t.pair_names[q], p->name), "%s %s pair %d: name '%s', expected '%s'", label,
              split, q, t.pair_names[q], p->name);
        CHECK(t.src_image[q] == row[p->src] && t.trg_image[q] == row[p->trg],
              "%s %s pair %d: image rows (%d, %d), expected (%d, %d)", label, split, q,
              t.src_image[q], t.trg_image[q], row[p->src], row[p->trg]);
        CHECK(t.category[q] == p->category, "%s %s pair %d: category %d, expected %d", label,
              split, q, t.category[q], p->category);
        CHECK(t.num_kps[q] == p->n, "%s %s pair %d: num_kps %d, expected %d", label, split, q,
              t.num_kps[q], p->n);
        CHECK(t.flip[q] == p->flip, "%s %s pair %d: flip %d", label, split, q, t.flip[q]);
        for (int f = 0; f < 4; f++)
            CHECK(t.difficulty[4 * q + f] == p->diff[f], "%s %s pair %d: difficulty[%d] = %d, "
                  "expected %d", label, split, q, f, t.difficulty[4 * q + f], p->diff[f]);
        float ek[4 * GEN_MAX_KPS], ekf[4 * GEN_MAX_KPS], gk[4 * GEN_MAX_KPS], gkf[4 * GEN_MAX_KPS];
        int ok_pad = 1, ok_ids = 1;
        for (int k = 0; k < M; k++) {
            size_t o = ((size_t)q * M + k) * 2;
            if (k < p->n) {
                ek[4 * k] = scaled(p->kps[k][0], S, si->w);
                ek[4 * k + 1] = scaled(p->kps[k][1], S, si->h);
                ek[4 * k + 2] = scaled(p->kps[k][2], S, ti->w);
                ek[4 * k + 3] = scaled(p->kps[k][3], S, ti->h);
                for (int a = 0; a < 4; a++) ekf[4 * k + a] = (float)p->kps[k][a];
                gk[4 * k] = t.src_kps[o];
                gk[4 * k + 1] = t.src_kps[o + 1];
                gk[4 * k + 2] = t.trg_kps[o];
                gk[4 * k + 3] = t.trg_kps[o + 1];
                gkf[4 * k] = t.src_kps_orig[o];
                gkf[4 * k + 1] = t.src_kps_orig[o + 1];
                gkf[4 * k + 2] = t.trg_kps_orig[o];
                gkf[4 * k + 3] = t.trg_kps_orig[o + 1];
                ok_ids &= t.kps_ids[q * M + k] == p->ids[k];
            } else {
                ok_pad &= isnan(t.src_kps[o]) && isnan(t.src_kps[o + 1]) && isnan(t.trg_kps[o]) &&
                          isnan(t.trg_kps[o + 1]) && isnan(t.src_kps_orig[o]) &&
                          isnan(t.trg_kps_orig[o + 1]) && t.kps_ids[q * M + k] == -1;
            }
        }
        char what[160];
        snprintf(what, sizeof what, "%s %s pair %d scaled keypoints", label, split, q);
        scorr_check_close(what, gk, ek, (size_t)p->n * 4, 1e-4, 1e-6);
        snprintf(what, sizeof what, "%s %s pair %d original keypoints", label, split, q);
        scorr_check_close(what, gkf, ekf, (size_t)p->n * 4, 1e-4, 1e-6);
        CHECK(ok_ids, "%s %s pair %d: kps_ids differ (first %d, expected %d)", label, split, q,
              t.kps_ids[q * M], p->ids[0]);
        CHECK(ok_pad, "%s %s pair %d: rows past num_kps must be NaN with id -1", label, split, q);
        float eb[8], gb[8], ebo[8], gbo[8];
        for (int j = 0; j < 4; j++) {
            eb[j] = scaled(p->sbox[j], S, j % 2 ? si->h : si->w);
            eb[4 + j] = scaled(p->tbox[j], S, j % 2 ? ti->h : ti->w);
            ebo[j] = (float)p->sbox[j];
            ebo[4 + j] = (float)p->tbox[j];
            gb[j] = t.src_bbox[4 * q + j];
            gb[4 + j] = t.trg_bbox[4 * q + j];
            gbo[j] = t.src_bbox_orig[4 * q + j];
            gbo[4 + j] = t.trg_bbox_orig[4 * q + j];
        }
        snprintf(what, sizeof what, "%s %s pair %d boxes", label, split, q);
        scorr_check_close(what, gb, eb, 8, 1e-4, 1e-6);
        snprintf(what, sizeof what, "%s %s pair %d original boxes", label, split, q);
        scorr_check_close(what, gbo, ebo, 8, 1e-4, 1e-6);
        q++;
    }
    scorr_split_free(&t);
}

void check_packed(const char *label, const struct gen_raw *g, const char *path,
                  const struct expect_file *e)
{
    struct scorr_dataset *ds = NULL;
    if (scorr_dataset_open(path, &ds)) {
        CHECK(0, "%s: cannot open the packed file: %s", label, scorr_error_message());
        return;
    }
    const struct scorr_dataset_meta *m = scorr_dataset_meta(ds);
    const int S = e->image_size;
    CHECK(!strcmp(m->source, e->source) && !strcmp(m->pck_threshold, e->threshold) &&
              m->image_size == S,
          "%s: source '%s', threshold '%s', S %d", label, m->source, m->pck_threshold,
          m->image_size);
    CHECK(m->num_categories == e->num_categories, "%s: %d categories, expected %d", label,
          m->num_categories, e->num_categories);
    for (int i = 0; i < m->num_categories && i < e->num_categories; i++)
        CHECK(!strcmp(m->category_names[i], e->categories[i]), "%s: category %d '%s' != '%s'",
              label, i, m->category_names[i], e->categories[i]);
    int ns = 0;
    scorr_dataset_splits(ds, &ns);
    CHECK(ns == e->num_splits, "%s: %d splits in the file, expected %d", label, ns,
          e->num_splits);

    int row[GEN_MAX_IMAGES];
    int nrows = expected_rows(g, e, row);
    CHECK(m->num_images == nrows, "%s: %lld images, expected %d", label,
          (long long)m->num_images, nrows);
    if (m->num_images == nrows) {
        char **names = NULL;
        int64_t nn = 0;
        int32_t *orig = malloc((size_t)nrows * 2 * sizeof *orig);
        CHECK_OK(scorr_dataset_read_image_names(ds, &names, &nn));
        CHECK_OK(scorr_dataset_read_orig_sizes(ds, orig));
        uint8_t *got = malloc((size_t)S * S * 3), *want = malloc((size_t)S * S * 3);
        for (int i = 0; i < g->nimg; i++) {
            if (row[i] < 0) continue;
            int r = row[i];
            CHECK(names && !strcmp(names[r], g->img[i].rel), "%s: image row %d is '%s', expected "
                  "'%s'", label, r, names ? names[r] : "?", g->img[i].rel);
            CHECK(orig[2 * r] == g->img[i].w && orig[2 * r + 1] == g->img[i].h,
                  "%s: image '%s' orig size %dx%d, expected %dx%d", label, g->img[i].rel,
                  orig[2 * r], orig[2 * r + 1], g->img[i].w, g->img[i].h);
            /* Pixels: the same file decoded and resized by scorr's own code. */
            char file[4400];
            snprintf(file, sizeof file, "%s/%s", g->root, g->img[i].rel);
            struct scorr_image im = {0};
            CHECK_OK(scorr_image_load(file, &im));
            CHECK_OK(scorr_resize_u8(want, S, S, im.pixels, im.width, im.height, 3));
            scorr_image_free(&im);
            CHECK_OK(scorr_dataset_read_image(ds, r, got));
            CHECK(!memcmp(got, want, (size_t)S * S * 3), "%s: pixels of '%s' differ from the "
                  "decode + resize of the raw file", label, g->img[i].rel);
        }
        free(got);
        free(want);
        free(orig);
        scorr_h5_free_strings(names, nn);
    }
    for (int s = 0; s < e->num_splits; s++) check_split(label, g, ds, e->splits[s], row, S);
    scorr_dataset_close(ds);
}
