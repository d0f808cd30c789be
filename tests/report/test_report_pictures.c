/* The pictures of scorr_eval --pictures and the matches scorr_match draws,
 * on a tiny synthetic dataset: the keypoint picture is a PNG of the stated
 * size drawing one line per keypoint, as many green as the transfers within
 * alpha * T (counted from the returned structure, and checked against
 * scorr_pck_count); the warp picture has 5 panels with dense ground truth
 * (3 without), and warping by the true flow's grid gives a small foreground
 * error; pairs are chosen deterministically, distinct, spread over the
 * categories; the confident-match selection keeps only mutual nearest
 * neighbours above the peak threshold, on the mask, spaced, capped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval_testutil.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/match.h"
#include "scorr/pck.h"
#include "scorr/pictures.h"

static char g_dir[4096];

static void check_png(const char *path, int w, int h)
{
    struct scorr_image img = {0};
    CHECK_OK(scorr_image_load_png(path, &img));
    CHECK(img.width == w && img.height == h, "%s: %d x %d, expected %d x %d", path, img.width,
          img.height, w, h);
    scorr_image_free(&img);
}

static void test_pictures(void)
{
    char data[4200], png[4300];
    snprintf(data, sizeof data, "%s/s.h5", g_dir);
    CHECK_OK(evt_make_synth(data, 12, 5));
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(data, &ds));
    if (!ds) return;
    struct scorr_split sp;
    memset(&sp, 0, sizeof sp);
    CHECK_OK(scorr_dataset_read_split(ds, "test", &sp));
    const int S = 64, G = 16;
    uint8_t *src = malloc(S * S * 3), *trg = malloc(S * S * 3), *fg = malloc(S * S);
    float *dense = malloc(sizeof(float) * S * S * 2), *grid = malloc(sizeof(float) * G * G * 2);
    float pred[64];
    const int p = 0, n = sp.num_kps[p], M = sp.max_kps;
    CHECK_OK(scorr_dataset_read_image(ds, sp.src_image[p], src));
    CHECK_OK(scorr_dataset_read_image(ds, sp.trg_image[p], trg));
    CHECK_OK(scorr_dataset_read_dense(ds, "test", p, dense));
    CHECK_OK(scorr_dataset_read_fg_mask(ds, sp.trg_image[p], fg));
    const float *tk = sp.trg_kps + (size_t)p * M * 2, *sk = sp.src_kps + (size_t)p * M * 2;
    const float T = scorr_pck_threshold_value(SCORR_PCK_BBOX, sk, n, sp.src_bbox + 4 * p, S);
    /* even keypoints predicted exactly, odd ones 2 alpha T away */
    for (int k = 0; k < n; k++) {
        pred[2 * k] = sk[2 * k] + (k % 2 ? 2 * 0.1f * T : 0);
        pred[2 * k + 1] = sk[2 * k + 1];
    }
    struct scorr_pair_picture pp;
    snprintf(png, sizeof png, "%s/pair.png", g_dir);
    CHECK_OK(scorr_picture_pair(png, src, trg, S, tk, sk, pred, n, 0.1f, T, &pp));
    CHECK(n >= 2 && pp.drawn == n, "%d of %d keypoints drawn", pp.drawn, n);
    CHECK(pp.correct == (n + 1) / 2 && pp.correct == scorr_pck_count(pred, sk, n, 0.1f, T),
          "%d correct, expected %d", pp.correct, (n + 1) / 2);
    CHECK(pp.width == 2 * 256 + 8 && pp.height == 256, "%d x %d", pp.width, pp.height);
    check_png(png, 2 * 256 + 8, 256);

    /* warps: by the ground truth's own grid, the error is small */
    evt_grid_from_dense(grid, dense, fg, S, G);
    struct scorr_warp_picture wp;
    snprintf(png, sizeof png, "%s/warp.png", g_dir);
    CHECK_OK(scorr_picture_warp(png, src, trg, S, grid, G, dense, fg, 0.1f * T, &wp));
    CHECK(wp.panels == 5 && wp.width == 5 * 256 + 4 * 8 && wp.height == 256, "%d panels %d x %d",
          wp.panels, wp.width, wp.height);
    check_png(png, 5 * 256 + 4 * 8, 256);
    CHECK(wp.pixels > 0 && wp.epe_fg < 3.0, "foreground EPE of the true grid flow %.3f px over "
          "%lld pixels", wp.epe_fg, (long long)wp.pixels);
    float *zero = calloc(G * G * 2, sizeof(float));
    struct scorr_warp_picture wz;
    CHECK_OK(scorr_picture_warp(png, src, trg, S, zero, G, dense, fg, 0.1f * T, &wz));
    CHECK(wz.epe_fg > wp.epe_fg, "zero flow worse (%.3f) than the true one (%.3f)", wz.epe_fg,
          wp.epe_fg);
    CHECK_OK(scorr_picture_warp(png, src, trg, S, zero, G, NULL, NULL, 0, &wz));
    CHECK(wz.panels == 3 && wz.width == 3 * 256 + 2 * 8 && isnan(wz.epe_fg), "no GT: 3 panels");
    free(zero);

    /* choosing pairs: evaluate with the ground-truth flows, then choose */
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    o.grid = G;
    struct scorr_evaluator *ev = NULL;
    CHECK_OK(scorr_evaluator_create(&o, &sp, S, scorr_dataset_meta(ds)->num_categories, &ev));
    struct evt_source es;
    struct scorr_flow_source fs;
    CHECK_OK(evt_source_init(&es, data, "test", G, 4, 2, 9));
    evt_source_bind(&es, &fs);
    struct scorr_eval_run run = {.data = data, .split = "test", .batch = 4, .net = &fs};
    CHECK_OK(scorr_eval_run(NULL, &run, ev));
    int64_t a[12], b[12];
    int na = 0, nb = 0, nall = 0;
    CHECK_OK(scorr_pictures_choose(ev, 0, 1, 6, a, &na));
    CHECK_OK(scorr_pictures_choose(ev, 0, 1, 6, b, &nb));
    CHECK(na == 6 && nb == 6 && !memcmp(a, b, sizeof(int64_t) * 6), "deterministic choice");
    int cats[64] = {0}, distinct = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < i; j++) CHECK(a[i] != a[j], "pair %lld chosen twice", (long long)a[i]);
    int ncat = 0;
    for (int64_t q = 0; q < sp.num_pairs; q++)
        if (!cats[sp.category[q]]++) ncat++;
    memset(cats, 0, sizeof cats);
    for (int i = 0; i < na && i < ncat; i++) distinct += !cats[sp.category[a[i]]]++;
    CHECK(distinct == (na < ncat ? na : ncat), "the first picks cover %d categories of %d",
          distinct, ncat);
    int64_t all[32];
    CHECK_OK(scorr_pictures_choose(ev, 0, 1, 32, all, &nall));
    CHECK(nall == sp.num_pairs, "every pair at most once: %d of %lld", nall,
          (long long)sp.num_pairs);
    evt_source_free(&es);
    scorr_evaluator_free(ev);
    free(src), free(trg), free(fg), free(dense), free(grid);
    scorr_split_free(&sp);
    scorr_dataset_close(ds);
}

static void test_select(void)
{
    enum { G = 8, S = 64 };
    float peak[G * G], pts[2 * G * G], kept[G * G];
    uint8_t mutual[G * G];
    for (int i = 0; i < G * G; i++) {
        peak[i] = (float)(i % 13) / 13.0f;
        mutual[i] = (i % 3) != 0;
    }
    struct scorr_match_geom g = {G, S, 100, 80, 128, 96};
    struct scorr_match_select o;
    scorr_match_select_default(&o);
    o.max_matches = 1000;
    o.spacing = 0;
    int n = 0, cand = 0, expect = 0;
    for (int i = 0; i < G * G; i++) expect += mutual[i] != 0;
    CHECK_OK(scorr_match_select_points(&o, &g, peak, mutual, pts, kept, G * G, &n, &cand));
    CHECK(n == expect && cand == expect, "mutual only: %d (%d), expected %d", n, cand, expect);
    for (int i = 1; i < n; i++) CHECK(kept[i] <= kept[i - 1], "by decreasing peak");
    o.min_peak = 0.5f;
    expect = 0;
    for (int i = 0; i < G * G; i++) expect += mutual[i] && peak[i] >= 0.5f;
    CHECK_OK(scorr_match_select_points(&o, &g, peak, mutual, pts, kept, G * G, &n, &cand));
    CHECK(n == expect, "mutual, peak >= 0.5: %d, expected %d", n, expect);
    /* a mask of the left half of the target */
    struct scorr_image mask = {.width = 10, .height = 10, .pixels = calloc(300, 1)};
    for (int y = 0; y < 10; y++) memset(mask.pixels + 30 * y, 255, 15);
    o.mask = &mask;
    expect = 0;
    for (int i = 0; i < G * G; i++) expect += mutual[i] && peak[i] >= 0.5f && i % G < G / 2;
    CHECK_OK(scorr_match_select_points(&o, &g, peak, mutual, pts, kept, G * G, &n, &cand));
    CHECK(n == expect, "on the mask: %d, expected %d", n, expect);
    for (int i = 0; i < n; i++) CHECK(pts[2 * i] < 64, "point %d at x %g on the left half", i, pts[2 * i]);
    o.mask = NULL;
    o.min_peak = 0;
    o.spacing = 17; /* more than two cells of 8 px: no two kept within 17 px */
    CHECK_OK(scorr_match_select_points(&o, &g, peak, mutual, pts, kept, G * G, &n, &cand));
    CHECK(n > 0 && n < cand, "spacing thins %d candidates to %d", cand, n);
    o.spacing = 0;
    o.max_matches = 5;
    CHECK_OK(scorr_match_select_points(&o, &g, peak, mutual, pts, kept, G * G, &n, &cand));
    CHECK(n == 5, "capped at 5: %d", n);
    free(mask.pixels);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/tests/report_pictures_%d", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_mkdirs(g_dir));
    test_pictures();
    test_select();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return scorr_test_finish("test_report_pictures");
}
