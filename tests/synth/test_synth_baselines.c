/* Calibration baselines on the synthetic test split (default generator
 * settings, 128 px, 200 pairs), PCK@0.1 with the source-box threshold computed
 * here independently of src/eval:
 *   zero flow          predicted source point = target keypoint;
 *   colour-patch NN    images box-downsampled 16x (and, as a finer variant, 4x);
 *                      each cell described by the 3x3 patch of downsampled
 *                      colours around it; a target keypoint's cell is matched
 *                      to the nearest source cell (L2) and the keypoint's
 *                      offset inside its cell is kept.
 * Both must stay clearly above zero and well below what a learned model can
 * reach (the benchmark is neither trivial nor impossible). The numbers are
 * printed for docs/synthetic-benchmark.md. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/dataset.h"
#include "scorr/synth.h"

static void downsample(const uint8_t *img, int S, int DS, float *out)
{
    int G = S / DS;
    for (int r = 0; r < G; r++)
        for (int q = 0; q < G; q++)
            for (int c = 0; c < 3; c++) {
                float s = 0;
                for (int i = 0; i < DS; i++)
                    for (int j = 0; j < DS; j++) s += img[3 * ((r * DS + i) * S + q * DS + j) + c];
                out[3 * (r * G + q) + c] = s / (DS * DS);
            }
}

static void feature(const float *d, int G, int r, int q, float *f)
{
    int n = 0;
    for (int dr = -1; dr <= 1; dr++)
        for (int dq = -1; dq <= 1; dq++) {
            int rr = r + dr < 0 ? 0 : r + dr >= G ? G - 1 : r + dr;
            int qq = q + dq < 0 ? 0 : q + dq >= G ? G - 1 : q + dq;
            for (int c = 0; c < 3; c++) f[n++] = d[3 * (rr * G + qq) + c];
        }
}

int main(void)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.pairs[0] = 0, c.pairs[1] = 0; /* the default test split only */
    /* For the docs: SCORR_SYNTH_DIFFICULTY=easy|hard measures other presets (the
     * range checks below are for the default, medium). */
    const char *diff = getenv("SCORR_SYNTH_DIFFICULTY");
    if (diff) CHECK_OK(scorr_synth_set_difficulty(&c, diff));
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/synth_baselines_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_synth_generate(&c, path));
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (!ds) return scorr_test_finish("test_synth_baselines");
    int S = scorr_dataset_meta(ds)->image_size;
    struct scorr_split s;
    CHECK_OK(scorr_dataset_read_split(ds, "test", &s));
    uint8_t *a = malloc((size_t)3 * S * S), *b = malloc((size_t)3 * S * S);
    float *da = malloc(sizeof(float) * 3 * S * S), *db = malloc(sizeof(float) * 3 * S * S);
    double pck_zero = 0, pck_nn = 0, pck_nn4 = 0, mean_thr = 0;
    for (int64_t p = 0; p < s.num_pairs; p++) {
        CHECK_OK(scorr_dataset_read_image(ds, s.src_image[p], a));
        CHECK_OK(scorr_dataset_read_image(ds, s.trg_image[p], b));
      for (int DS = 16; DS >= 4; DS /= 4) {
        int G = S / DS;
        downsample(a, S, DS, da);
        downsample(b, S, DS, db);
        const float *bb = s.src_bbox + 4 * p;
        double thr = 0.1 * fmax(bb[2] - bb[0], bb[3] - bb[1]);
        int n = s.num_kps[p], ok0 = 0, ok1 = 0;
        if (DS == 16) mean_thr += thr;
        for (int k = 0; k < n; k++) {
            const float *sk = s.src_kps + (p * s.max_kps + k) * 2;
            const float *tk = s.trg_kps + (p * s.max_kps + k) * 2;
            if (hypot(tk[0] - sk[0], tk[1] - sk[1]) <= thr) ok0++;
            int tr = (int)(tk[1] / DS), tq = (int)(tk[0] / DS);
            tr = tr >= G ? G - 1 : tr, tq = tq >= G ? G - 1 : tq;
            float ft[27], fs[27];
            feature(db, G, tr, tq, ft);
            double best = DBL_MAX;
            int br = 0, bq = 0;
            for (int r = 0; r < G; r++)
                for (int q = 0; q < G; q++) {
                    feature(da, G, r, q, fs);
                    double d = 0;
                    for (int i = 0; i < 27; i++) d += (double)(fs[i] - ft[i]) * (fs[i] - ft[i]);
                    if (d < best) best = d, br = r, bq = q;
                }
            double px = tk[0] + (bq - tq) * DS, py = tk[1] + (br - tr) * DS;
            if (hypot(px - sk[0], py - sk[1]) <= thr) ok1++;
        }
        if (DS == 16) {
            pck_zero += n ? (double)ok0 / n : 0;
            pck_nn += n ? (double)ok1 / n : 0;
        } else {
            pck_nn4 += n ? (double)ok1 / n : 0;
        }
      }
    }
    double P = (double)s.num_pairs;
    pck_zero *= 100.0 / P, pck_nn *= 100.0 / P, pck_nn4 *= 100.0 / P, mean_thr /= P;
    printf("synthetic test split (%lld pairs, %dx%d, %s): PCK@0.1(bbox) zero flow %.1f, "
           "colour-patch NN 1/16 %.1f, 1/4 %.1f; mean threshold %.1f px\n",
           (long long)s.num_pairs, S, S, diff ? diff : "medium", pck_zero, pck_nn, pck_nn4,
           mean_thr);
    if (diff) goto out;
    CHECK(pck_zero > 1.0 && pck_zero < 35.0, "zero-flow PCK %.1f outside (1, 35)", pck_zero);
    CHECK(pck_nn > 1.0 && pck_nn < 45.0, "colour-patch NN PCK %.1f outside (1, 45)", pck_nn);
    CHECK(pck_nn4 > 1.0 && pck_nn4 < 45.0, "colour-patch NN 1/4 PCK %.1f outside (1, 45)", pck_nn4);
out:
    scorr_split_free(&s);
    free(a), free(b), free(da), free(db);
    scorr_dataset_close(ds);
    unlink(path);
    return scorr_test_finish("test_synth_baselines");
}
