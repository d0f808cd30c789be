/* A generated synthetic file is a valid scorr dataset (read back through the
 * dataset reader) and its annotations are consistent: keypoints inside the
 * image and on the visible object, boxes around them, training pairs capped at
 * kps_per_pair, dense flow only on evaluation splits, difficulty flags in
 * SPair's ranges and actually varied. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/dataset.h"
#include "scorr/synth.h"

static int fg_near(const uint8_t *fg, int S, float x, float y)
{
    int cx = (int)lrintf(x), cy = (int)lrintf(y);
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int i = cy + dy, j = cx + dx;
            if (i >= 0 && j >= 0 && i < S && j < S && fg[i * S + j]) return 1;
        }
    return 0;
}

int main(void)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = 64;
    c.pairs[0] = 120, c.pairs[1] = 30, c.pairs[2] = 60;
    c.images_per_category[0] = 10, c.images_per_category[1] = c.images_per_category[2] = 6;
    c.seed = 5;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/synth_schema_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_synth_generate(&c, path));
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (!ds) return scorr_test_finish("test_synth_schema");
    const struct scorr_dataset_meta *m = scorr_dataset_meta(ds);
    int S = m->image_size;
    CHECK(!strcmp(m->source, "synth") && !strcmp(m->pck_threshold, "bbox"),
          "source '%s', threshold '%s'", m->source, m->pck_threshold);
    CHECK(S == 64 && m->num_categories == 6 && m->has_fg_mask, "meta: S %d, K %d, fg %d", S,
          m->num_categories, m->has_fg_mask);
    CHECK(m->num_images == 6 * (10 + 6 + 6), "num_images %lld", (long long)m->num_images);
    for (int k = 0; k < m->num_categories; k++)
        CHECK(!strcmp(m->category_names[k], scorr_synth_category_name(k)), "category %d name", k);

    static const char *const splits[3] = {"trn", "val", "test"};
    uint8_t *fs = malloc((size_t)S * S), *ft = malloc((size_t)S * S);
    float *flow = malloc(sizeof(float) * 2 * S * S);
    for (int sp = 0; sp < 3; sp++) {
        struct scorr_split s;
        CHECK_OK(scorr_dataset_read_split(ds, splits[sp], &s));
        CHECK(s.num_pairs == c.pairs[sp], "%s: %lld pairs", splits[sp], (long long)s.num_pairs);
        CHECK(s.has_dense == (sp > 0), "%s: has_dense %d", splits[sp], s.has_dense);
        int M = s.max_kps, bad_kp = 0, bad_fg = 0, bad_box = 0, bad_flag = 0;
        int hist[4][4] = {{0}};
        double mean_kps = 0;
        for (int64_t p = 0; p < s.num_pairs; p++) {
            int n = s.num_kps[p];
            mean_kps += n;
            if (n < 1 || (sp == 0 && n > c.kps_per_pair)) bad_kp++;
            CHECK(s.category[p] == (int)(p % 6), "%s pair %lld: category %d", splits[sp],
                  (long long)p, s.category[p]);
            CHECK_OK(scorr_dataset_read_fg_mask(ds, s.src_image[p], fs));
            CHECK_OK(scorr_dataset_read_fg_mask(ds, s.trg_image[p], ft));
            int last = -1;
            for (int k = 0; k < n; k++) {
                const float *a = s.src_kps + (p * M + k) * 2, *b = s.trg_kps + (p * M + k) * 2;
                int id = s.kps_ids[p * M + k];
                if (id <= last || id >= scorr_synth_category_num_kps(s.category[p])) bad_kp++;
                last = id;
                for (int d = 0; d < 2; d++)
                    if (!(a[d] >= 0 && a[d] <= S - 1 && b[d] >= 0 && b[d] <= S - 1)) bad_kp++;
                if (!fg_near(fs, S, a[0], a[1]) || !fg_near(ft, S, b[0], b[1])) {
                    bad_fg++;
                    if (getenv("SYNTH_DEBUG"))
                        fprintf(stderr, "%s pair %lld kp %d (id %d): src (%.2f, %.2f) fg %d, trg (%.2f, %.2f) fg %d\n",
                                splits[sp], (long long)p, k, id, a[0], a[1], fg_near(fs, S, a[0], a[1]),
                                b[0], b[1], fg_near(ft, S, b[0], b[1]));
                }
                const float *bs = s.src_bbox + 4 * p, *bt = s.trg_bbox + 4 * p;
                if (a[0] < bs[0] - 1 || a[0] > bs[2] + 1 || a[1] < bs[1] - 1 || a[1] > bs[3] + 1 ||
                    b[0] < bt[0] - 1 || b[0] > bt[2] + 1 || b[1] < bt[1] - 1 || b[1] > bt[3] + 1) {
                    bad_box++;
                    if (getenv("SYNTH_DEBUG"))
                        fprintf(stderr, "%s pair %lld kp %d: src (%.1f %.1f) box %.1f %.1f %.1f %.1f trg (%.1f %.1f) box %.1f %.1f %.1f %.1f\n",
                                splits[sp], (long long)p, id, a[0], a[1], bs[0], bs[1], bs[2], bs[3],
                                b[0], b[1], bt[0], bt[1], bt[2], bt[3]);
                }
            }
            for (int k = n; k < M; k++)
                if (!isnan(s.src_kps[(p * M + k) * 2]) || s.kps_ids[p * M + k] != -1) bad_kp++;
            const float *bs = s.src_bbox + 4 * p;
            if (!(bs[0] < bs[2] && bs[1] < bs[3] && bs[0] >= 0 && bs[2] <= S - 1)) bad_box++;
            const int8_t *f = s.difficulty + 4 * p;
            if (f[0] < 0 || f[0] > 2 || f[1] < 0 || f[1] > 2 || f[2] < 0 || f[2] > 3 || f[3] < 0 ||
                f[3] > 3)
                bad_flag++;
            else
                for (int d = 0; d < 4; d++) hist[d][f[d]]++;
            CHECK(s.flip[p] == 0, "flip set on a synthetic pair");
            if (s.has_dense && p < 4) {
                CHECK_OK(scorr_dataset_read_dense(ds, splits[sp], p, flow));
                int valid = 0, off_fg = 0;
                for (int i = 0; i < S * S; i++)
                    if (!isnan(flow[2 * i])) {
                        valid++;
                        off_fg += !ft[i];
                    }
                CHECK(valid > 20 && off_fg == 0, "%s pair %lld: %d valid flow pixels, %d off the mask",
                      splits[sp], (long long)p, valid, off_fg);
            }
        }
        mean_kps /= (double)s.num_pairs;
        CHECK(bad_kp == 0, "%s: %d bad keypoint entries", splits[sp], bad_kp);
        CHECK(bad_fg == 0, "%s: %d keypoints off the visible object", splits[sp], bad_fg);
        CHECK(bad_box == 0, "%s: %d keypoints outside / bad boxes", splits[sp], bad_box);
        CHECK(bad_flag == 0, "%s: %d flags out of range", splits[sp], bad_flag);
        printf("%s: %lld pairs, mean %.2f keypoints; viewpoint %d/%d/%d scale %d/%d/%d "
               "truncation %d/%d/%d/%d occlusion %d/%d/%d/%d\n",
               splits[sp], (long long)s.num_pairs, mean_kps, hist[0][0], hist[0][1], hist[0][2],
               hist[1][0], hist[1][1], hist[1][2], hist[2][0], hist[2][1], hist[2][2], hist[2][3],
               hist[3][0], hist[3][1], hist[3][2], hist[3][3]);
        if (sp == 0) {
            CHECK(mean_kps > 5.0 && mean_kps <= c.kps_per_pair, "trn mean keypoints %.2f", mean_kps);
            for (int d = 0; d < 4; d++) {
                int kinds = 0;
                for (int v = 0; v < 4; v++) kinds += hist[d][v] > 0;
                CHECK(kinds >= 2, "difficulty flag %d never varies at medium difficulty", d);
            }
        }
        scorr_split_free(&s);
    }
    free(fs), free(ft), free(flow);
    scorr_dataset_close(ds);
    unlink(path);
    return scorr_test_finish("test_synth_schema");
}
