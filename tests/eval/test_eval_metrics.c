/* The evaluator on hand-made splits and flows whose answers are known by
 * construction: per-image versus per-point means, every threshold mode
 * (PF-WILLOW's two), truncation and clamping of target keypoints and the
 * bilinear upsampling seen through the evaluator, grouping by category and by
 * difficulty flag, the dense end-point error (with NaN and foreground
 * masking), pseudo-label precision inside / outside the dilated label mask
 * and among the kept / rejected positions of the small-loss selection, and
 * the input errors. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/eval.h"
#include "scorr/loss.h"
#include "scorr/sparse_flow.h"

#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-9)

/* A split of P pairs with room for M keypoints each; NaN padding, flags -1. */
static void split_init(struct scorr_split *s, int P, int M)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "test");
    s->num_pairs = P;
    s->max_kps = M;
    s->src_image = calloc((size_t)P, sizeof(int32_t));
    s->trg_image = calloc((size_t)P, sizeof(int32_t));
    s->category = calloc((size_t)P, sizeof(int32_t));
    s->num_kps = calloc((size_t)P, sizeof(int32_t));
    s->src_kps = malloc(sizeof(float) * (size_t)P * M * 2);
    s->trg_kps = malloc(sizeof(float) * (size_t)P * M * 2);
    s->src_bbox = calloc((size_t)P * 4, sizeof(float));
    s->trg_bbox = calloc((size_t)P * 4, sizeof(float));
    s->difficulty = malloc((size_t)P * 4);
    for (int i = 0; i < P * M * 2; i++) s->src_kps[i] = s->trg_kps[i] = NAN;
    memset(s->difficulty, -1, (size_t)P * 4);
}

static void split_free(struct scorr_split *s)
{
    free(s->src_image), free(s->trg_image), free(s->category), free(s->num_kps);
    free(s->src_kps), free(s->trg_kps), free(s->src_bbox), free(s->trg_bbox);
    free(s->difficulty);
}

/* Keypoint k of pair p: target (tx, ty), source (sx, sy). */
static void set_kp(struct scorr_split *s, int p, int k, float tx, float ty, float sx, float sy)
{
    float *t = s->trg_kps + ((size_t)p * s->max_kps + k) * 2;
    float *r = s->src_kps + ((size_t)p * s->max_kps + k) * 2;
    t[0] = tx, t[1] = ty, r[0] = sx, r[1] = sy;
    if (s->num_kps[p] < k + 1) s->num_kps[p] = k + 1;
}

static void set_box(struct scorr_split *s, int p, float x1, float y1, float x2, float y2)
{
    float *b = s->src_bbox + 4 * p;
    b[0] = x1, b[1] = y1, b[2] = x2, b[3] = y2;
}

static void const_flow(float *f, int G, float dx, float dy)
{
    for (int i = 0; i < G * G; i++) f[2 * i] = dx, f[2 * i + 1] = dy;
}

static struct scorr_evaluator *make(const struct scorr_eval_options *o, const struct scorr_split *s,
                                    int S, int K)
{
    struct scorr_evaluator *ev = NULL;
    CHECK_OK(scorr_evaluator_create(o, s, S, K, &ev));
    if (!ev) {
        fprintf(stderr, "cannot continue without an evaluator\n");
        exit(scorr_test_finish("test_eval_metrics"));
    }
    return ev;
}

/* 1. Per-image versus per-point, bbox / img / PF-WILLOW's modes. */
static void test_means_and_modes(void)
{
    const int S = 64, G = 16;
    struct scorr_split s;
    split_init(&s, 2, 3);
    /* pair 0: one keypoint, exact after truncation (20.5, 30.2) -> (20, 30) */
    set_kp(&s, 0, 0, 20.5f, 30.2f, 20, 30);
    set_box(&s, 0, 0, 0, 40, 40);
    /* pair 1: three keypoints, each 8 px off under a zero flow */
    for (int k = 0; k < 3; k++) set_kp(&s, 1, k, 10 + 10 * k, 10 + 10 * k, 18 + 10 * k, 10 + 10 * k);
    set_box(&s, 1, 0, 0, 50, 20); /* T = 50 */
    float flow[2][16 * 16 * 2];
    const_flow(flow[0], G, 0, 0);
    const_flow(flow[1], G, 0, 0);

    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    CHECK_OK(scorr_eval_parse_alphas(&o, "0.2,0.1,0.15")); /* sorted to 0.1 0.15 0.2 */
    CHECK(o.num_alphas == 3 && o.alphas[0] == 0.1f && o.alphas[2] == 0.2f, "alphas sorted");
    o.grid = G;
    struct scorr_dataset_meta meta = {.image_size = S};
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "bbox");
    CHECK_OK(scorr_eval_set_threshold(&o, "auto", &meta));
    CHECK(o.num_modes == 1 && o.modes[0] == SCORR_PCK_BBOX, "auto on a bbox file");

    struct scorr_evaluator *ev = make(&o, &s, S, 1);
    for (int p = 0; p < 2; p++) CHECK_OK(scorr_evaluator_add(ev, p, flow[p], NULL, NULL, NULL));
    CHECK_OK(scorr_evaluator_reduce(ev, NULL));
    struct scorr_pck_stats st;
    const struct scorr_eval_filter all = SCORR_EVAL_ALL;
    scorr_evaluator_pck(ev, 0, &all, &st);
    /* 8 px > 0.1*50 and 0.15*50, <= 0.2*50 */
    CHECK(st.pairs == 2 && st.points == 4, "pairs %lld points %lld", (long long)st.pairs,
          (long long)st.points);
    CHECK(NEAR(st.pck[0], 50) && NEAR(st.pck[1], 50) && NEAR(st.pck[2], 100),
          "bbox per image: %g %g %g (expected 50 50 100)", st.pck[0], st.pck[1], st.pck[2]);
    CHECK(NEAR(st.pck_point[0], 25) && NEAR(st.pck_point[1], 25) && NEAR(st.pck_point[2], 100),
          "bbox per point: %g %g %g (expected 25 25 100)", st.pck_point[0], st.pck_point[1],
          st.pck_point[2]);
    struct scorr_eval_pair_row row;
    CHECK(scorr_evaluator_pair(ev, 1, &row) && row.T[0] == 50 && row.correct[0][2] == 3,
          "pair row: T %g correct %d", row.T[0], row.correct[0][2]);
    scorr_evaluator_free(ev);

    /* img: T = 64: 8 > 6.4, 8 <= 9.6 */
    CHECK_OK(scorr_eval_set_threshold(&o, "img", &meta));
    ev = make(&o, &s, S, 1);
    for (int p = 0; p < 2; p++) CHECK_OK(scorr_evaluator_add(ev, p, flow[p], NULL, NULL, NULL));
    scorr_evaluator_pck(ev, 0, &all, &st);
    CHECK(NEAR(st.pck[0], 50) && NEAR(st.pck[1], 100) && NEAR(st.pck_point[0], 25) &&
              NEAR(st.pck_point[1], 100),
          "img: %g %g / %g %g", st.pck[0], st.pck[1], st.pck_point[0], st.pck_point[1]);
    scorr_evaluator_free(ev);

    /* PF-WILLOW (pck_threshold kpsbox): willow-ref first, kpsbox beside it.
     * pair 1 source points x 18..38, y 10..30: willow-ref T = 39 (8 > 7.8 at
     * 0.2), kpsbox T = 20 (8 > 4); pair 0 (one point, error 0) is correct in
     * both, even with kpsbox T = 0. */
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "kpsbox");
    CHECK_OK(scorr_eval_set_threshold(&o, "auto", &meta));
    CHECK(o.num_modes == 2 && o.modes[0] == SCORR_PCK_WILLOW_REF && o.modes[1] == SCORR_PCK_KPSBOX,
          "auto on a PF-WILLOW file gives willow-ref then kpsbox");
    ev = make(&o, &s, S, 1);
    for (int p = 0; p < 2; p++) CHECK_OK(scorr_evaluator_add(ev, p, flow[p], NULL, NULL, NULL));
    CHECK(scorr_evaluator_pair(ev, 1, &row) && row.T[0] == 39 && row.T[1] == 20,
          "willow T %g %g", row.T[0], row.T[1]);
    for (int m = 0; m < 2; m++) {
        scorr_evaluator_pck(ev, m, &all, &st);
        CHECK(NEAR(st.pck[2], 50) && NEAR(st.pck_point[2], 25), "mode %d: %g %g", m, st.pck[2],
              st.pck_point[2]);
    }
    /* both modes named in the report and the table */
    char *json = NULL;
    const char *names[] = {"car(G)"};
    struct scorr_eval_info info = {.checkpoint = "c.h5", .split = "test", .source = "pfwillow",
                                   .category_names = names};
    CHECK_OK(scorr_eval_json(ev, &info, &json));
    CHECK(json && strstr(json, "\"threshold\":\t\"willow-ref\"") &&
              strstr(json, "\"thresholds\":") && strstr(json, "\"kpsbox\":") &&
              strstr(json, "\"car(G)\":"),
          "PF-WILLOW JSON:\n%s", json ? json : "");
    free(json);
    char *table = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&table, &tlen);
    scorr_eval_print_table(ev, &info, tf);
    fclose(tf);
    CHECK(table && strstr(table, "threshold willow-ref") && strstr(table, "threshold kpsbox") &&
              strstr(table, "paper-compatible"),
          "PF-WILLOW table:\n%s", table ? table : "");
    free(table);
    /* a pair 8 px off with willow-ref T = 81 is correct at 0.1 but not with kpsbox */
    split_free(&s);
    split_init(&s, 1, 2);
    set_kp(&s, 0, 0, 60, 10, 68, 10);
    set_kp(&s, 0, 1, 60, 80, 60, 80);
    scorr_evaluator_free(ev);
    ev = make(&o, &s, 128, 1);
    float f8[16 * 16 * 2];
    const_flow(f8, G, 0, 0);
    CHECK_OK(scorr_evaluator_add(ev, 0, f8, NULL, NULL, NULL));
    struct scorr_pck_stats ref, kb;
    scorr_evaluator_pck(ev, 0, &all, &ref);
    scorr_evaluator_pck(ev, 1, &all, &kb);
    /* willow-ref T = max(68, 80) + 1 = 81: 8 <= 8.1; kpsbox T = max(8, 70) = 70: 8 > 7 */
    CHECK(NEAR(ref.pck[0], 100) && NEAR(kb.pck[0], 50), "willow-ref %g kpsbox %g", ref.pck[0],
          kb.pck[0]);
    scorr_evaluator_free(ev);
    split_free(&s);
}

/* 2. Truncation, clamping and the bilinear upsampling through the evaluator. */
static void test_transfer(void)
{
    const int S = 64, G = 16;
    float flow[16 * 16 * 2];
    /* x component 0.25 * (grid x) cells, y component 0 */
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) flow[2 * (y * G + x)] = 0.25f * x, flow[2 * (y * G + x) + 1] = 0;
    /* expected source x for target x after truncation/clamping (independent formula):
     * grid coordinate u = (x + 0.5) * G / S - 0.5 clamped to [0, G-1]; flow in px = 0.25 u * 4 */
    const float tx[4] = {10.9f, -3.0f, 70.0f, 33.2f};
    struct scorr_split s;
    split_init(&s, 4, 1);
    for (int p = 0; p < 4; p++) {
        double x = floor(tx[p]);
        if (tx[p] < 0) x = 0;
        if (x > S - 1) x = S - 1;
        double u = (x + 0.5) * G / S - 0.5;
        if (u < 0) u = 0;
        if (u > G - 1) u = G - 1;
        set_kp(&s, p, 0, tx[p], 5.7f, (float)(x + u), 5.0f);
    }
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    CHECK_OK(scorr_eval_parse_alphas(&o, "0.001"));
    o.grid = G;
    o.modes[0] = SCORR_PCK_IMG; /* T = 64: a tolerance of 0.064 px */
    struct scorr_evaluator *ev = make(&o, &s, S, 1);
    for (int p = 0; p < 4; p++) CHECK_OK(scorr_evaluator_add(ev, p, flow, NULL, NULL, NULL));
    for (int p = 0; p < 4; p++) {
        struct scorr_eval_pair_row r;
        scorr_evaluator_pair(ev, p, &r);
        CHECK(r.correct[0][0] == 1, "keypoint x=%g: transferred point off the expected one",
              (double)tx[p]);
    }
    scorr_evaluator_free(ev);
    /* without truncation (10.9 kept) the prediction would move by > 1 px: a
     * source point placed there must be wrong */
    split_free(&s);
    split_init(&s, 1, 1);
    double u = (10.9 + 0.5) * G / S - 0.5;
    set_kp(&s, 0, 0, 10.9f, 5.0f, (float)(10.9 + u), 5.0f);
    ev = make(&o, &s, S, 1);
    CHECK_OK(scorr_evaluator_add(ev, 0, flow, NULL, NULL, NULL));
    struct scorr_eval_pair_row r;
    scorr_evaluator_pair(ev, 0, &r);
    CHECK(r.correct[0][0] == 0, "an untruncated keypoint must not match");
    scorr_evaluator_free(ev);
    split_free(&s);
}

/* 3. Per category and per difficulty flag. */
static void test_groups(void)
{
    const int S = 128, G = 32;
    struct scorr_split s;
    split_init(&s, 4, 2);
    const int cat[4] = {0, 1, 0, 1};
    const int8_t flags[4][4] = {{0, 1, 2, 3}, {1, 1, 0, 0}, {1, 0, 0, 0}, {0, 2, 1, 0}};
    /* errors: p0 {0, 20}, p1 {0}, p2 {20}, p3 {0, 0}; T = 100, alpha 0.1 */
    set_kp(&s, 0, 0, 10, 10, 10, 10);
    set_kp(&s, 0, 1, 30, 10, 50, 10);
    set_kp(&s, 1, 0, 40, 40, 40, 40);
    set_kp(&s, 2, 0, 40, 40, 40, 60);
    set_kp(&s, 3, 0, 70, 70, 70, 70);
    set_kp(&s, 3, 1, 80, 80, 80, 80);
    for (int p = 0; p < 4; p++) {
        s.category[p] = cat[p];
        memcpy(s.difficulty + 4 * p, flags[p], 4);
        set_box(&s, p, 0, 0, 100, 50);
    }
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    CHECK_OK(scorr_eval_parse_alphas(&o, "0.1"));
    o.grid = G;
    struct scorr_evaluator *ev = make(&o, &s, S, 3);
    static float flow[32 * 32 * 2];
    /* add in a scrambled order: results must not depend on it */
    const int order[4] = {2, 0, 3, 1};
    for (int i = 0; i < 4; i++) CHECK_OK(scorr_evaluator_add(ev, order[i], flow, NULL, NULL, NULL));
    struct {
        struct scorr_eval_filter f;
        int pairs;
        double img, pt;
    } cases[] = {
        {{-1, -1, 0}, 4, 62.5, 400.0 / 6},   /* all */
        {{0, -1, 0}, 2, 25, 100.0 / 3},      /* category 0: p0, p2 */
        {{1, -1, 0}, 2, 100, 100},           /* category 1: p1, p3 */
        {{-1, 0, 0}, 2, 75, 75},             /* viewpoint 0: p0, p3 */
        {{-1, 0, 1}, 2, 50, 50},             /* viewpoint 1: p1, p2 */
        {{-1, 1, 1}, 2, 75, 200.0 / 3},      /* scale 1: p0, p1 */
        {{-1, 1, 0}, 1, 0, 0},               /* scale 0: p2 */
        {{-1, 3, 3}, 1, 50, 50},             /* occlusion 3: p0 */
        {{0, 0, 1}, 1, 0, 0},                /* category 0 and viewpoint 1: p2 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scorr_pck_stats st;
        scorr_evaluator_pck(ev, 0, &cases[i].f, &st);
        CHECK(st.pairs == cases[i].pairs && NEAR(st.pck[0], cases[i].img) &&
                  NEAR(st.pck_point[0], cases[i].pt),
              "group %zu: pairs %lld pck %g / %g, expected %d %g / %g", i, (long long)st.pairs,
              st.pck[0], st.pck_point[0], cases[i].pairs, cases[i].img, cases[i].pt);
    }
    struct scorr_pck_stats st;
    struct scorr_eval_filter empty = {2, -1, 0};
    scorr_evaluator_pck(ev, 0, &empty, &st);
    CHECK(st.pairs == 0 && isnan(st.pck[0]), "an empty category has no PCK");
    int vals[8];
    int nv = scorr_evaluator_flag_values(ev, 1, vals, 8);
    CHECK(nv == 3 && vals[0] == 0 && vals[1] == 1 && vals[2] == 2, "scale flag values (%d)", nv);
    nv = scorr_evaluator_flag_values(ev, 3, vals, 8);
    CHECK(nv == 2 && vals[0] == 0 && vals[1] == 3, "occlusion flag values (%d)", nv);
    scorr_evaluator_free(ev);
    /* a split without flags reports none */
    memset(s.difficulty, -1, 16);
    ev = make(&o, &s, S, 3);
    for (int p = 0; p < 4; p++) CHECK_OK(scorr_evaluator_add(ev, p, flow, NULL, NULL, NULL));
    CHECK(scorr_evaluator_flag_values(ev, 0, vals, 8) == 0, "no flags: no flag values");
    scorr_evaluator_free(ev);
    split_free(&s);
}

/* 4. Dense EPE and pseudo-label precision on a constructed pair. S = 32,
 * G = 8 (stride 4); ground truth (4, 0) px everywhere except NaN in the top
 * cell row; foreground off in the last cell column. */
static void test_dense_pseudo(void)
{
    enum { S = 32, G = 8, G2 = G * G };
    static float dense[S * S * 2];
    static uint8_t fg[S * S];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int i = y * S + x;
            dense[2 * i] = y < 4 ? NAN : 4.0f;
            dense[2 * i + 1] = y < 4 ? NAN : 0.0f;
            fg[i] = x < 28;
        }
    struct scorr_split s;
    split_init(&s, 1, 2);
    set_kp(&s, 0, 0, 14, 14, 18, 14);
    set_kp(&s, 0, 1, 15, 18, 19, 18);
    set_box(&s, 0, 0, 0, 40, 40); /* T = 40: a pseudo-label is correct within 4 px */
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    o.grid = G;
    o.dense = 1;
    float flow[G2 * 2], peer[G2 * 2];

    /* dense EPE: the exact flow (1, 0) cells gives 0; (1.5, 0) gives 2 px */
    const float dx[2] = {1.0f, 1.5f};
    const double want[2] = {0.0, 2.0};
    for (int t = 0; t < 2; t++) {
        struct scorr_evaluator *ev = make(&o, &s, S, 1);
        const_flow(flow, G, dx[t], 0);
        CHECK_OK(scorr_evaluator_add(ev, 0, flow, dense, fg, NULL));
        struct scorr_dense_stats d;
        scorr_evaluator_dense(ev, &d);
        CHECK(d.pixels == 28 * 28 && d.cells == 7 * 7, "valid pixels %lld cells %lld",
              (long long)d.pixels, (long long)d.cells);
        CHECK(fabs(d.epe_fg - want[t]) < 1e-6 && fabs(d.epe_fg_grid - want[t]) < 1e-6,
              "flow %g: dense EPE %g grid %g, expected %g", (double)dx[t], d.epe_fg, d.epe_fg_grid,
              want[t]);
        scorr_evaluator_free(ev);
    }
    {   /* without a foreground mask the last column counts too */
        struct scorr_evaluator *ev = make(&o, &s, S, 1);
        const_flow(flow, G, 1, 0);
        CHECK_OK(scorr_evaluator_add(ev, 0, flow, dense, NULL, NULL));
        struct scorr_dense_stats d;
        scorr_evaluator_dense(ev, &d);
        CHECK(d.pixels == 28 * 32 && d.cells == 7 * 8, "no fg: pixels %lld cells %lld",
              (long long)d.pixels, (long long)d.cells);
        scorr_evaluator_free(ev);
    }

    /* The candidates, built as training builds them (K = 3 here). */
    uint8_t mask[G2], cand[G2];
    float lflow[G2 * 2];
    const struct scorr_flow_shape shape = {1, G, G};
    scorr_sparse_flow(lflow, mask, s.src_kps, s.trg_kps, 2, S, 4, scorr_sparse_flow_default_box(4));
    scorr_mask_dilate(cand, mask, 3, &shape);
    int inside = 0, outside = 0, cand_total = 0;
    for (int q = 0; q < G2; q++) {
        int valid = q / G >= 1 && q % G < 7;
        cand_total += cand[q] != 0;
        if (valid) inside += cand[q] != 0, outside += cand[q] == 0;
    }
    CHECK(inside >= 6 && outside > 0, "constructed case: %d candidates with ground truth", inside);

    /* (a) correct inside, wrong (8 px) outside; the network agrees with the peer */
    o.pseudo = 1;
    o.dilation = 3;
    o.ratio = 0.9;
    for (int q = 0; q < G2; q++) {
        peer[2 * q] = cand[q] ? 1.0f : 3.0f;
        peer[2 * q + 1] = 0;
    }
    struct scorr_evaluator *ev = make(&o, &s, S, 1);
    CHECK_OK(scorr_evaluator_add(ev, 0, peer, dense, fg, peer));
    struct scorr_pseudo_stats ps;
    scorr_evaluator_pseudo(ev, &ps);
    CHECK(ps.positions[SCORR_PSEUDO_INSIDE] == inside &&
              ps.positions[SCORR_PSEUDO_OUTSIDE] == outside && ps.candidates == cand_total,
          "positions inside %lld (%d) outside %lld (%d) candidates %lld (%d)",
          (long long)ps.positions[0], inside, (long long)ps.positions[1], outside,
          (long long)ps.candidates, cand_total);
    CHECK(NEAR(ps.precision[SCORR_PSEUDO_INSIDE], 100) &&
              NEAR(ps.precision[SCORR_PSEUDO_OUTSIDE], 0),
          "precision inside %g outside %g", ps.precision[0], ps.precision[1]);
    CHECK(fabs(ps.epe[SCORR_PSEUDO_INSIDE]) < 1e-6 && fabs(ps.epe[SCORR_PSEUDO_OUTSIDE] - 8) < 1e-6,
          "EPE inside %g outside %g", ps.epe[0], ps.epe[1]);
    CHECK(ps.positions[SCORR_PSEUDO_KEPT] + ps.positions[SCORR_PSEUDO_REJECTED] == inside,
          "kept + rejected = inside");
    scorr_evaluator_free(ev);

    /* (b) two candidates with ground truth where the peer is wrong and the
     * network disagrees with it: the selection must drop exactly those. */
    int bad[2], nb = 0;
    for (int q = 0; q < G2 && nb < 2; q++)
        if (cand[q] && q / G >= 1 && q % G < 7) bad[nb++] = q;
    CHECK(nb == 2, "two candidates for the selection case");
    const_flow(peer, G, 1, 0);
    memcpy(flow, peer, sizeof flow);
    for (int i = 0; i < nb; i++) {
        peer[2 * bad[i]] = 3.0f;          /* wrong pseudo-label (8 px) */
        flow[2 * bad[i]] = 3.0f + 2.0f;   /* the network disagrees with it */
    }
    o.ratio = (cand_total - 2 + 0.5) / cand_total; /* keeps cand_total - 2 */
    ev = make(&o, &s, S, 1);
    CHECK_OK(scorr_evaluator_add(ev, 0, flow, dense, fg, peer));
    scorr_evaluator_pseudo(ev, &ps);
    CHECK(ps.positions[SCORR_PSEUDO_REJECTED] == 2 && ps.correct[SCORR_PSEUDO_REJECTED] == 0 &&
              NEAR(ps.precision[SCORR_PSEUDO_KEPT], 100) &&
              ps.positions[SCORR_PSEUDO_KEPT] == inside - 2,
          "selection: kept %lld (%.1f%%) rejected %lld (%lld correct)",
          (long long)ps.positions[2], ps.precision[2], (long long)ps.positions[3],
          (long long)ps.correct[3]);
    CHECK(NEAR(ps.precision[SCORR_PSEUDO_INSIDE], 100.0 * (inside - 2) / inside),
          "inside precision %g", ps.precision[0]);
    scorr_evaluator_free(ev);

    /* (c) no dilation filter: every position is a candidate, none outside */
    o.dilation = SCORR_DILATE_NONE;
    o.ratio = 1;
    ev = make(&o, &s, S, 1);
    CHECK_OK(scorr_evaluator_add(ev, 0, flow, dense, fg, peer));
    scorr_evaluator_pseudo(ev, &ps);
    CHECK(ps.positions[SCORR_PSEUDO_OUTSIDE] == 0 && ps.candidates == G2,
          "dilation none: outside %lld candidates %lld", (long long)ps.positions[1],
          (long long)ps.candidates);
    scorr_evaluator_free(ev);
    split_free(&s);
}

/* 5. Bad inputs are errors, not crashes. */
static void test_errors(void)
{
    struct scorr_split s;
    split_init(&s, 2, 1);
    set_kp(&s, 0, 0, 1, 1, 1, 1);
    set_kp(&s, 1, 0, 1, 1, 1, 1);
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    struct scorr_evaluator *ev = NULL;
    o.grid = 5;
    CHECK(scorr_evaluator_create(&o, &s, 32, 1, &ev) != 0 && !ev, "grid 5 does not divide 32");
    CHECK(strstr(scorr_error_message(), "divide") != NULL, "message: %s", scorr_error_message());
    o.grid = 8;
    s.category[1] = 3;
    CHECK(scorr_evaluator_create(&o, &s, 32, 2, &ev) != 0, "category out of range");
    s.category[1] = 0;
    o.ratio = 0;
    CHECK(scorr_evaluator_create(&o, &s, 32, 1, &ev) != 0, "ratio 0");
    o.ratio = 0.9;
    o.dilation = 4;
    CHECK(scorr_evaluator_create(&o, &s, 32, 1, &ev) != 0, "even dilation");
    o.dilation = 7;
    CHECK(scorr_eval_parse_alphas(&o, "0.1,x") != 0, "alpha list with a word");
    CHECK(scorr_eval_parse_alphas(&o, "0") != 0, "alpha 0");
    CHECK(scorr_eval_parse_alphas(&o, "0.1,0.1") != 0, "duplicate alpha");
    CHECK(scorr_eval_parse_alphas(&o, "") != 0, "empty alpha list");
    struct scorr_dataset_meta meta = {.image_size = 32};
    CHECK(scorr_eval_set_threshold(&o, "box", &meta) != 0, "unknown threshold");
    CHECK(strstr(scorr_error_message(), "'box'") != NULL, "message names the value: %s",
          scorr_error_message());
    scorr_eval_options_default(&o);
    o.grid = 8;
    o.dense = 1;
    ev = make(&o, &s, 32, 1);
    float flow[8 * 8 * 2] = {0};
    CHECK(scorr_evaluator_add(ev, 0, flow, NULL, NULL, NULL) != 0, "dense requested, none given");
    static float dense[32 * 32 * 2];
    CHECK_OK(scorr_evaluator_add(ev, 0, flow, dense, NULL, NULL));
    CHECK(scorr_evaluator_add(ev, 0, flow, dense, NULL, NULL) != 0, "pair added twice");
    CHECK(scorr_evaluator_add(ev, 2, flow, dense, NULL, NULL) != 0, "pair out of range");
    CHECK(scorr_evaluator_pairs_done(ev) == 1, "one pair done");
    scorr_evaluator_free(ev);
    split_free(&s);
    scorr_error_clear();
}

int main(void)
{
    test_means_and_modes();
    test_transfer();
    test_groups();
    test_dense_pseudo();
    test_errors();
    return scorr_test_finish("test_eval_metrics");
}
