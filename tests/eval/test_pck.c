/* PCK: the flow-to-keypoint transfer against the reference's flow2kps
 * (PyTorch fixture), and hand-made flows whose answers are known by
 * construction: truncation and clamping of keypoints, the bilinear upsampling,
 * and every threshold mode. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "scorr/pck.h"

static void const_flow(float *flow, int G, float dx, float dy)
{
    for (int i = 0; i < G * G; i++) {
        flow[2 * i] = dx;
        flow[2 * i + 1] = dy;
    }
}

int main(void)
{
    /* 1. Against the reference implementation. */
    struct scorr_h5 f;
    scorr_fixture_open(&f, "pck_flow2kps.h5");
    int G = (int)scorr_fixture_int(&f, "G"), S = (int)scorr_fixture_int(&f, "S");
    int n = (int)scorr_fixture_int(&f, "n");
    float *flow = scorr_fixture_f32(&f, "flow", NULL, NULL);
    float *kps = scorr_fixture_f32(&f, "trg_kps", NULL, NULL);
    float *ref = scorr_fixture_f32(&f, "pred", NULL, NULL);
    float *pred = calloc((size_t)n * 2, sizeof *pred);
    scorr_flow_to_kps(pred, flow, G, S, kps, n);
    scorr_check_close("flow2kps vs reference", pred, ref, (size_t)n * 2, 1e-5, 1e-6);
    scorr_h5_close(&f);

    /* 2. A constant flow of (1.5, -2) grid cells moves every keypoint by
     * (6, -8) pixels at G=16, S=64, after truncation of the keypoint. */
    float cflow[16 * 16 * 2];
    const_flow(cflow, 16, 1.5f, -2.0f);
    float tk[4] = {10.9f, 20.2f, -3.0f, 70.0f}, p[4];
    scorr_flow_to_kps(p, cflow, 16, 64, tk, 2);
    CHECK(p[0] == 16.0f && p[1] == 12.0f, "constant flow: got (%g, %g)", p[0], p[1]);
    CHECK(p[2] == 6.0f && p[3] == 55.0f, "clamped keypoint: got (%g, %g)", p[2], p[3]);

    /* 3. A flow linear in x (value = grid x) upsampled with align_corners=False:
     * at pixel x, the source coordinate is (x + 0.5) * G/S - 0.5, clamped at 0
     * and at G-1 by the edge; times S/G. */
    float lin[8 * 8 * 2];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) {
            lin[(y * 8 + x) * 2] = (float)x;
            lin[(y * 8 + x) * 2 + 1] = 0;
        }
    for (int x = 0; x < 32; x++) {
        float d[2];
        scorr_flow_at_pixel(lin, 8, 32, x, 5, d);
        double src = (x + 0.5) * 0.25 - 0.5;
        if (src < 0) src = 0;
        if (src > 7) src = 7;
        CHECK(fabs(d[0] - src * 4.0) < 1e-5 && d[1] == 0, "linear flow at x=%d: %g vs %g", x,
              d[0], src * 4.0);
    }

    /* 4. Threshold modes and the count. */
    float sk[6] = {10, 20, 30, 25, 12, 60}; /* x in [10, 30], y in [20, 60] */
    float box[4] = {5, 5, 45, 105};
    CHECK(scorr_pck_threshold_value(SCORR_PCK_BBOX, sk, 3, box, 256) == 100.0f, "bbox");
    CHECK(scorr_pck_threshold_value(SCORR_PCK_IMG, sk, 3, box, 256) == 256.0f, "img");
    CHECK(scorr_pck_threshold_value(SCORR_PCK_WILLOW_REF, sk, 3, box, 256) == 61.0f,
          "willow-ref");
    CHECK(scorr_pck_threshold_value(SCORR_PCK_KPSBOX, sk, 3, box, 256) == 40.0f, "kpsbox");
    float pr[6] = {10, 30, 30, 25, 12 + 6, 60 + 8}; /* errors 10, 0, 10 */
    CHECK(scorr_pck_count(pr, sk, 3, 0.1f, 100.0f) == 3, "all within 10 (<= is correct)");
    CHECK(scorr_pck_count(pr, sk, 3, 0.0999f, 100.0f) == 1, "only the exact one within 9.99");
    enum scorr_pck_threshold t;
    CHECK(scorr_pck_threshold_parse("willow-ref", &t) == 0 && t == SCORR_PCK_WILLOW_REF, "parse");
    CHECK(scorr_pck_threshold_parse("box", &t) != 0, "parse rejects unknown");

    free(flow);
    free(kps);
    free(ref);
    free(pred);
    return scorr_test_finish("test_eval_pck");
}
