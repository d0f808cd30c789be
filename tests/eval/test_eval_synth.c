/* The evaluator and the driver on a tiny synthetic file (64 px, 18 test
 * pairs), with flows whose answers are known by construction:
 *   - the dense ground truth itself as a full-resolution flow (G = S): dense
 *     EPE exactly 0 and PCK close to 100 (only the truncation of target
 *     keypoints to integer pixels costs anything);
 *   - the ground truth averaged per 4 x 4 cell (G = S/4): grid EPE 0 and a
 *     high PCK; as pseudo-labels, every position correct;
 *   - the zero flow: PCK equal to a per-pair count written here
 *     independently (truncated, clamped target keypoint vs source keypoint);
 *   - the driver (loader + flow source) gives the same JSON as feeding the
 *     evaluator by hand, and the report files parse and hold those numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "eval_testutil.h"
#include "scorr/eval.h"
#include "scorr/io.h"

static int S, P;
static struct scorr_split split;
static const struct scorr_dataset_meta *meta;
static float *dense;   /* (P, S, S, 2) */
static uint8_t *fg;    /* (P, S, S) target masks */

static struct scorr_evaluator *feed(struct scorr_eval_options *o, int G, int kind, float *peer_all)
{
    struct scorr_evaluator *ev = NULL;
    o->grid = G;
    CHECK_OK(scorr_evaluator_create(o, &split, S, meta->num_categories, &ev));
    if (!ev) exit(scorr_test_finish("test_eval_synth"));
    float *flow = calloc((size_t)G * G * 2, sizeof(float));
    for (int p = 0; p < P; p++) {
        const float *d = dense + (size_t)p * S * S * 2;
        const uint8_t *m = fg + (size_t)p * S * S;
        if (kind == 1) {
            evt_grid_from_dense(flow, d, m, S, G);
        } else {
            memset(flow, 0, sizeof(float) * G * G * 2);
        }
        const float *peer = peer_all ? peer_all + (size_t)p * G * G * 2 : NULL;
        CHECK_OK(scorr_evaluator_add(ev, p, flow, d, m, peer));
    }
    CHECK_OK(scorr_evaluator_reduce(ev, NULL));
    free(flow);
    return ev;
}

/* Zero flow, counted here: per-image and per-point PCK at alpha. */
static void zero_flow_pck(float alpha, double *per_image, double *per_point)
{
    double img = 0;
    int64_t ok = 0, pts = 0, pairs = 0;
    for (int p = 0; p < P; p++) {
        int n = split.num_kps[p], c = 0;
        const float *b = split.src_bbox + 4 * p;
        double T = fmax(b[2] - b[0], b[3] - b[1]);
        for (int k = 0; k < n; k++) {
            const float *t = split.trg_kps + ((size_t)p * split.max_kps + k) * 2;
            const float *s = split.src_kps + ((size_t)p * split.max_kps + k) * 2;
            double x = floor(t[0]), y = floor(t[1]);
            x = x < 0 ? 0 : x > S - 1 ? S - 1 : x;
            y = y < 0 ? 0 : y > S - 1 ? S - 1 : y;
            c += hypot(x - s[0], y - s[1]) <= (double)alpha * T;
        }
        if (!n) continue;
        img += 100.0 * c / n;
        ok += c, pts += n, pairs++;
    }
    *per_image = img / pairs;
    *per_point = 100.0 * ok / pts;
}

static char *read_text(const char *dir, const char *name)
{
    char path[4096];
    char *data = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_OK(scorr_read_file(path, &data, &len));
    return data;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

int main(void)
{
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s/tests/eval_synth_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    snprintf(dir, sizeof dir, "%s/tests/eval_synth_%d.out", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(evt_make_synth(path, 18, 5));
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (!ds) return scorr_test_finish("test_eval_synth");
    meta = scorr_dataset_meta(ds);
    S = meta->image_size;
    CHECK_OK(scorr_dataset_read_split(ds, "test", &split));
    P = (int)split.num_pairs;
    dense = malloc(sizeof(float) * (size_t)P * S * S * 2);
    fg = malloc((size_t)P * S * S);
    for (int p = 0; p < P; p++) {
        CHECK_OK(scorr_dataset_read_dense(ds, "test", p, dense + (size_t)p * S * S * 2));
        CHECK_OK(scorr_dataset_read_fg_mask(ds, split.trg_image[p], fg + (size_t)p * S * S));
    }
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    CHECK_OK(scorr_eval_set_threshold(&o, "auto", meta));
    o.dense = 1;
    const struct scorr_eval_filter all = SCORR_EVAL_ALL;
    struct scorr_pck_stats st;
    struct scorr_dense_stats d;

    /* 1. The ground truth at full resolution. */
    struct scorr_evaluator *ev = feed(&o, S, 1, NULL);
    scorr_evaluator_pck(ev, 0, &all, &st);
    scorr_evaluator_dense(ev, &d);
    int64_t valid = 0;
    for (size_t i = 0; i < (size_t)P * S * S; i++)
        valid += fg[i] && !isnan(dense[2 * i]) && !isnan(dense[2 * i + 1]);
    printf("ground truth at G = S: PCK %.2f / %.2f / %.2f, dense EPE %g over %lld px\n",
           st.pck[0], st.pck[1], st.pck[2], d.epe_fg, (long long)d.pixels);
    CHECK(d.pixels == valid && valid > 1000, "valid pixels %lld (counted %lld)",
          (long long)d.pixels, (long long)valid);
    CHECK(d.epe_fg == 0.0, "dense EPE of the ground truth itself: %g", d.epe_fg);
    CHECK(st.pck[0] >= 90.0 && st.pck[1] >= 99.0 && st.pck[2] >= 99.0,
          "PCK of the ground truth: %g@0.05 %g@0.1 %g@0.15", st.pck[0], st.pck[1], st.pck[2]);
    scorr_evaluator_free(ev);

    /* 2. The ground truth averaged per 4 x 4 cell, also as pseudo-labels. */
    const int G = S / 4;
    float *peer = malloc(sizeof(float) * (size_t)P * G * G * 2);
    for (int p = 0; p < P; p++)
        evt_grid_from_dense(peer + (size_t)p * G * G * 2, dense + (size_t)p * S * S * 2,
                            fg + (size_t)p * S * S, S, G);
    o.pseudo = 1;
    o.dilation = 3; /* 7 covers every object cell of a 16 x 16 grid */
    ev = feed(&o, G, 1, peer);
    scorr_evaluator_pck(ev, 0, &all, &st);
    scorr_evaluator_dense(ev, &d);
    struct scorr_pseudo_stats ps;
    scorr_evaluator_pseudo(ev, &ps);
    printf("ground truth at G = S/4: PCK %.2f / %.2f / %.2f, dense EPE %.3f, grid EPE %g over "
           "%lld cells; pseudo inside %lld outside %lld\n",
           st.pck[0], st.pck[1], st.pck[2], d.epe_fg, d.epe_fg_grid, (long long)d.cells,
           (long long)ps.positions[0], (long long)ps.positions[1]);
    CHECK(d.epe_fg_grid < 1e-5 && d.cells > 100, "grid EPE of the cell-averaged truth: %g (%lld)",
          d.epe_fg_grid, (long long)d.cells);
    CHECK(d.epe_fg > 0 && d.epe_fg < 2.0, "dense EPE of the cell-averaged truth: %g", d.epe_fg);
    /* 4 px cells on 20-40 px objects: far from 100, far above the zero flow */
    CHECK(st.pck[1] >= 60.0, "PCK@0.1 of the cell-averaged truth: %g", st.pck[1]);
    CHECK(ps.positions[SCORR_PSEUDO_INSIDE] > 10 && ps.positions[SCORR_PSEUDO_OUTSIDE] > 0 &&
              ps.precision[SCORR_PSEUDO_INSIDE] == 100.0 &&
              ps.precision[SCORR_PSEUDO_OUTSIDE] == 100.0 && ps.precision[SCORR_PSEUDO_KEPT] == 100.0,
          "true pseudo-labels: precision %g / %g / %g", ps.precision[0], ps.precision[1],
          ps.precision[2]);
    char *json_direct = NULL;
    struct scorr_eval_info info = {.checkpoint = "none", .data = path, .split = "test",
                                   .source = meta->source, .peer = "ground truth",
                                   .category_names = (const char *const *)meta->category_names,
                                   .ranks = 1};
    CHECK_OK(scorr_eval_json(ev, &info, &json_direct));
    scorr_eval_print_table(ev, &info, stdout);
    scorr_evaluator_free(ev);

    /* 3. The zero flow against the count made here. */
    o.pseudo = 0;
    ev = feed(&o, G, 0, NULL);
    scorr_evaluator_pck(ev, 0, &all, &st);
    for (int a = 0; a < o.num_alphas; a++) {
        double img, pt;
        zero_flow_pck(o.alphas[a], &img, &pt);
        CHECK(fabs(st.pck[a] - img) < 1e-9 && fabs(st.pck_point[a] - pt) < 1e-9,
              "zero flow @%g: %g / %g, counted %g / %g", (double)o.alphas[a], st.pck[a],
              st.pck_point[a], img, pt);
    }
    scorr_evaluator_free(ev);

    /* 4. The driver: loader + a flow source of the cell-averaged truth, the
     * peer the same; batch 5 leaves a partial last batch. */
    struct evt_source net_src, peer_src;
    struct scorr_flow_source net, pr;
    CHECK_OK(evt_source_init(&net_src, path, "test", G, 5, 1, 0));
    CHECK_OK(evt_source_init(&peer_src, path, "test", G, 5, 1, 0));
    evt_source_bind(&net_src, &net);
    evt_source_bind(&peer_src, &pr);
    o.pseudo = 1;
    o.grid = G;
    CHECK_OK(scorr_evaluator_create(&o, &split, S, meta->num_categories, &ev));
    struct scorr_eval_run run = {.data = path, .split = "test", .batch = 5, .net = &net,
                                 .peer = &pr, .progress = 0};
    CHECK_OK(scorr_eval_run(NULL, &run, ev));
    char *json_run = NULL;
    CHECK_OK(scorr_eval_json(ev, &info, &json_run));
    CHECK(json_run && json_direct && strcmp(json_run, json_direct) == 0,
          "the driver's JSON differs from feeding the evaluator by hand");

    /* 5. The report files. */
    CHECK_OK(scorr_eval_write_report(ev, &info, dir));
    char *text = read_text(dir, "eval_test.json");
    cJSON *j = cJSON_Parse(text ? text : "");
    CHECK(j != NULL, "eval_test.json parses");
    if (j) {
        scorr_evaluator_pck(ev, 0, &all, &st);
        cJSON *fmt = cJSON_GetObjectItem(j, "format"), *thr = cJSON_GetObjectItem(j, "threshold");
        cJSON *pck = cJSON_GetObjectItem(j, "pck"), *ppt = cJSON_GetObjectItem(j, "pck_per_point");
        CHECK(cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "scorr-eval"), "format");
        CHECK(cJSON_GetObjectItem(j, "version")->valueint == 1, "version");
        CHECK(cJSON_IsString(thr) && !strcmp(thr->valuestring, "bbox"), "threshold bbox");
        cJSON *v = cJSON_GetObjectItem(pck, "0.1"), *w = cJSON_GetObjectItem(ppt, "0.05");
        CHECK(v && fabs(v->valuedouble - st.pck[1]) < 1e-9, "pck 0.1 in the file");
        CHECK(w && fabs(w->valuedouble - st.pck_point[0]) < 1e-9, "pck_per_point 0.05 in the file");
        cJSON *al = cJSON_GetObjectItem(j, "alphas");
        CHECK(cJSON_GetArraySize(al) == 3 && cJSON_GetArrayItem(al, 0)->valuedouble == 0.05,
              "alphas written as given");
        CHECK(cJSON_GetObjectItem(j, "pairs")->valueint == P, "pairs");
        cJSON *pc = cJSON_GetObjectItem(j, "per_category");
        CHECK(cJSON_GetObjectItem(pc, meta->category_names[0]) != NULL, "category '%s' present",
              meta->category_names[0]);
        cJSON *pd = cJSON_GetObjectItem(j, "per_difficulty");
        CHECK(pd && cJSON_GetObjectItem(pd, "viewpoint") && cJSON_GetObjectItem(pd, "occlusion"),
              "per_difficulty with the four flags");
        cJSON *dn = cJSON_GetObjectItem(j, "dense");
        CHECK(dn && cJSON_IsNumber(cJSON_GetObjectItem(dn, "epe_fg")) &&
                  cJSON_GetObjectItem(dn, "pixels")->valuedouble > 0,
              "dense section");
        cJSON *pso = cJSON_GetObjectItem(j, "pseudo");
        cJSON *in = pso ? cJSON_GetObjectItem(pso, "inside") : NULL;
        CHECK(in && cJSON_GetObjectItem(in, "precision")->valuedouble == 100.0, "pseudo section");
        CHECK(cJSON_GetObjectItem(j, "thresholds") == NULL, "one threshold mode: no 'thresholds'");
        cJSON_Delete(j);
    }
    free(text);
    text = read_text(dir, "eval_test_pairs.csv");
    CHECK(count_lines(text) == P + 1, "pairs CSV: %d lines for %d pairs", count_lines(text), P);
    CHECK(text && !strncmp(text, "pair,name,category,num_kps,viewpoint", 36), "pairs CSV header");
    free(text);
    text = read_text(dir, "eval_test_categories.csv");
    CHECK(count_lines(text) == 2 + meta->num_categories, "categories CSV: %d lines",
          count_lines(text));
    CHECK(text && strstr(text, "\nall,") != NULL, "categories CSV has the overall row");
    free(text);

    /* 6. The driver's input errors. */
    run.split = "val";
    CHECK(scorr_eval_run(NULL, &run, ev) != 0, "a split other than the evaluator's");
    run.split = "test";
    run.batch = 0;
    CHECK(scorr_eval_run(NULL, &run, ev) != 0, "batch 0");
    scorr_error_clear();

    scorr_evaluator_free(ev);
    evt_source_free(&net_src);
    evt_source_free(&peer_src);
    free(json_run), free(json_direct), free(peer), free(dense), free(fg);
    scorr_split_free(&split);
    scorr_dataset_close(ds);
    unlink(path);
    const char *names[] = {"eval_test.json", "eval_test_pairs.csv", "eval_test_categories.csv"};
    for (int i = 0; i < 3; i++) {
        char f[8192];
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        unlink(f);
    }
    rmdir(dir);
    return scorr_test_finish("test_eval_synth");
}
