/* Keypoints -> sparse flow labels: against the PyTorch re-implementation of
 * the reference algorithm (tools/fixtures/sparse_flow.py, with our mean rule
 * for collisions and the explicit mask), and hand-made cases whose expected
 * values follow from the box definition by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/sparse_flow.h"

static void fixture_cases(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "sparse_flow.h5");
    int ncase = (int)scorr_fixture_int(&f, "num_cases");
    CHECK(ncase >= 5, "fixture has %d cases", ncase);
    for (int i = 0; i < ncase; i++) {
        char name[64];
        int64_t shp[SCORR_H5_MAXDIM];
        int nd;
        snprintf(name, sizeof name, "case%d_S", i);
        int S = (int)scorr_fixture_int(&f, name);
        snprintf(name, sizeof name, "case%d_stride", i);
        int stride = (int)scorr_fixture_int(&f, name);
        snprintf(name, sizeof name, "case%d_box", i);
        int box = (int)scorr_fixture_int(&f, name);
        CHECK_OK(scorr_sparse_flow_check(S, stride, box));
        snprintf(name, sizeof name, "case%d/src_kps", i);
        float *src = scorr_fixture_f32(&f, name, &nd, shp);
        int n = (int)shp[0];
        snprintf(name, sizeof name, "case%d/trg_kps", i);
        float *trg = scorr_fixture_f32(&f, name, NULL, NULL);
        snprintf(name, sizeof name, "case%d/flow", i);
        float *ref_flow = scorr_fixture_f32(&f, name, NULL, NULL);
        snprintf(name, sizeof name, "case%d/mask", i);
        float *ref_mask = scorr_fixture_f32(&f, name, NULL, NULL);
        int G = S / stride;
        float *flow = malloc(sizeof(float) * 2 * G * G), *maskf = malloc(sizeof(float) * G * G);
        uint8_t *mask = malloc((size_t)G * G);
        scorr_sparse_flow(flow, mask, src, trg, n, S, stride, box);
        for (int j = 0; j < G * G; j++) maskf[j] = mask[j];
        snprintf(name, sizeof name, "case %d mask", i);
        scorr_check_close(name, maskf, ref_mask, (size_t)G * G, 0, 0);
        snprintf(name, sizeof name, "case %d flow", i);
        scorr_check_close(name, flow, ref_flow, (size_t)2 * G * G, 1e-5, 1e-5);
        free(src); free(trg); free(ref_flow); free(ref_mask); free(flow); free(maskf); free(mask);
    }
    scorr_h5_close(&f);
}

static void hand_cases(void)
{
    enum { S = 32, ST = 4, G = S / ST };
    float flow[G * G * 2];
    uint8_t mask[G * G];
    /* One keypoint at target (10, 10): box of cell c is [4c-3, 4c+7], so
     * cells 1..3 in x and y cover it; flow = ((14,6) - (10,10)) / 4 = (1, -1). */
    float src1[2] = {14, 6}, trg1[2] = {10, 10};
    scorr_sparse_flow(flow, mask, src1, trg1, 1, S, ST, 11);
    int cnt = 0, bad = 0;
    for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++) {
            int in = r >= 1 && r <= 3 && c >= 1 && c <= 3;
            int i = r * G + c;
            cnt += mask[i];
            if (mask[i] != in) bad++;
            if (in && (flow[2 * i] != 1.0f || flow[2 * i + 1] != -1.0f)) bad++;
            if (!in && (flow[2 * i] != 0.0f || flow[2 * i + 1] != 0.0f)) bad++;
        }
    CHECK(cnt == 9 && bad == 0, "single keypoint: %d labelled cells (want 9), %d wrong", cnt, bad);

    /* Box edges are inclusive: x = 7 is the right edge of cell 0 ([-3, 7]) and
     * x = 1 the left edge of cell 1, so x = 7 is in cells 0..2 and x = 8 in 1..2. */
    float trg2[2] = {7, 8}, src2[2] = {7, 8};
    scorr_sparse_flow(flow, mask, src2, trg2, 1, S, ST, 11);
    CHECK(mask[0 * G + 0] == 0 && mask[1 * G + 0] == 1 && mask[1 * G + 2] == 1 &&
              mask[1 * G + 3] == 0 && mask[0 * G + 1] == 0 && mask[2 * G + 2] == 1,
          "inclusive box edges wrong");
    /* A real zero flow is a label (the reference would lose it). */
    CHECK(flow[2 * (1 * G + 1)] == 0.0f && flow[2 * (1 * G + 1) + 1] == 0.0f && mask[1 * G + 1],
          "zero flow must be labelled");

    /* Two keypoints sharing cells: the shared cells get the mean of both flows. */
    float trg3[4] = {10, 10, 13, 10}, src3[4] = {18, 10, 13, 2};
    scorr_sparse_flow(flow, mask, src3, trg3, 2, S, ST, 11);
    /* x = 10 -> cells 1..3, x = 13 -> cells 2..4 (4c-3 <= 13 <= 4c+7); shared 2..3. */
    int i_shared = 2 * G + 2, i_only_a = 2 * G + 1, i_only_b = 2 * G + 4, i_none = 2 * G + 5;
    CHECK(fabsf(flow[2 * i_shared] - (8.0f + 0.0f) / 2 / 4) < 1e-6f &&
              fabsf(flow[2 * i_shared + 1] - (0.0f - 8.0f) / 2 / 4) < 1e-6f,
          "collision: got (%g, %g), want (1, -1)", flow[2 * i_shared], flow[2 * i_shared + 1]);
    CHECK(flow[2 * i_only_a] == 2.0f && flow[2 * i_only_a + 1] == 0.0f && mask[i_only_a],
          "cell covered by one keypoint only");
    CHECK(flow[2 * i_only_b] == 0.0f && flow[2 * i_only_b + 1] == -2.0f && mask[i_only_b],
          "cell covered by the second keypoint only");
    CHECK(!mask[i_none], "cell 5 must not be covered");

    /* NaN rows and points far outside give nothing. */
    float trg4[4] = {NAN, 5, -40, 100}, src4[4] = {1, 1, 1, 1};
    scorr_sparse_flow(flow, mask, src4, trg4, 2, S, ST, 11);
    cnt = 0;
    for (int i = 0; i < G * G; i++) cnt += mask[i];
    CHECK(cnt == 0, "NaN / far keypoints labelled %d cells", cnt);

    CHECK(scorr_sparse_flow_check(30, 4, 11) != 0, "S not divisible by the stride accepted");
    scorr_error_clear();
    CHECK(scorr_sparse_flow_default_box(4) == 11 && scorr_sparse_flow_default_box(16) == 35,
          "default box");
}

int main(void)
{
    fixture_cases();
    hand_cases();
    return scorr_test_finish("test_data_sparse_flow");
}
