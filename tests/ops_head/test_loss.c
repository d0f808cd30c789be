/* Flow losses against PyTorch: masked EPE (with a real zero-flow label and an
 * exactly-zero difference), mask dilation, the pseudo-label EPE map, the
 * small-loss selection with a tie at the keep boundary, and the backward of
 * the selected subset; plus finite differences and selection edge cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "head_util.h"
#include "scorr/loss.h"

/* float32 2-vector norms and their quotients: a few ulp */
#define ATOL 1e-6
#define RTOL 1e-5

static void fixture(void)
{
    struct scorr_h5 f;
    scorr_fixture_open(&f, "head_loss.h5");
    int b = (int)scorr_fixture_int(&f, "b"), g = (int)scorr_fixture_int(&f, "g");
    int64_t count_ref = scorr_fixture_int(&f, "count"), keep_ref = scorr_fixture_int(&f, "num_keep");
    double ratio;
    CHECK_OK(scorr_h5_get_attr_f64(&f, "/", "ratio", &ratio));
    struct scorr_flow_shape s = {.b = b, .h = g, .w = g};
    size_t np = (size_t)b * g * g;
    float *flow_c = scorr_fixture_f32(&f, "flow", NULL, NULL);
    float *gt_c = scorr_fixture_f32(&f, "gt", NULL, NULL);
    float *maskf = scorr_fixture_f32(&f, "mask", NULL, NULL);
    float *esum = scorr_fixture_f32(&f, "epe_sum", NULL, NULL);
    float *dflow_ref = scorr_fixture_f32(&f, "dflow", NULL, NULL);
    float *flow = to_nhwc(flow_c, b, 2, g, g), *gt = to_nhwc(gt_c, b, 2, g, g);
    uint8_t *mask = mask_u8(maskf, np);

    /* a real zero-flow label is kept: the fixture placed one at pair 0 (1, 1) */
    CHECK(mask[1 * g + 1] && gt[2 * (1 * g + 1)] == 0.0f && gt[2 * (1 * g + 1) + 1] == 0.0f,
          "fixture lost its zero-flow label");
    double sum;
    int64_t count;
    scorr_epe_forward(&sum, &count, flow, gt, mask, &s);
    CHECK(count == count_ref, "labelled count %lld, expected %lld", (long long)count,
          (long long)count_ref);
    CHECK(fabs(sum - esum[0]) <= 1e-5 * fabs(esum[0]), "epe sum %.9g, expected %.9g", sum,
          (double)esum[0]);
    float *dflow = zeros(np * 2);
    scorr_epe_backward(dflow, flow, gt, mask, 1.0, (double)count, &s);
    float *dfc = to_nchw(dflow, b, 2, g, g);
    check_report("epe dflow", dfc, dflow_ref, np * 2, ATOL, RTOL);
    /* zero difference at pair 1 (6, 2): gradient exactly 0, as torch.norm's */
    size_t z = (size_t)g * g + 6 * g + 2;
    CHECK(mask[z] && dflow[2 * z] == 0.0f && dflow[2 * z + 1] == 0.0f,
          "gradient at a zero difference must be 0, found (%g, %g)", (double)dflow[2 * z],
          (double)dflow[2 * z + 1]);
    /* weight scales, normaliser <= 0 adds nothing */
    float *d2 = zeros(np * 2);
    scorr_epe_backward(d2, flow, gt, mask, 10.0, (double)count, &s);
    int bad = 0;
    for (size_t i = 0; i < np * 2; i++) bad += fabsf(d2[i] - 10.0f * dflow[i]) > 1e-6f * (1 + fabsf(d2[i]));
    CHECK(bad == 0, "weight 10 does not scale the gradient (%d elements)", bad);
    memset(d2, 0, np * 2 * sizeof *d2);
    scorr_epe_backward(d2, flow, gt, mask, 1.0, 0.0, &s);
    int nonzero = 0;
    for (size_t i = 0; i < np * 2; i++) nonzero += d2[i] != 0.0f;
    CHECK(nonzero == 0, "normaliser 0 must add nothing (%d elements changed)", nonzero);

    /* dilation */
    uint8_t *dil = malloc(np);
    for (int k = 1; k <= 7; k += 2) {
        char name[32];
        snprintf(name, sizeof name, "dilate%d", k);
        float *ref = scorr_fixture_f32(&f, name, NULL, NULL);
        scorr_mask_dilate(dil, mask, k, &s);
        int diff = 0;
        for (size_t i = 0; i < np; i++) diff += dil[i] != (ref[i] != 0.0f);
        CHECK(diff == 0, "dilation K=%d: %d positions differ", k, diff);
        free(ref);
    }
    scorr_mask_dilate(dil, mask, SCORR_DILATE_NONE, &s);
    int ones = 0;
    for (size_t i = 0; i < np; i++) ones += dil[i] == 1;
    CHECK(ones == (int)np, "K = none must allow every position (%d of %zu)", ones, np);

    /* pseudo-label map, selection and the selected subset's backward */
    float *pflow_c = scorr_fixture_f32(&f, "pflow", NULL, NULL);
    float *pseudo_c = scorr_fixture_f32(&f, "pseudo", NULL, NULL);
    float *candf = scorr_fixture_f32(&f, "pcand", NULL, NULL);
    float *pmap_ref = scorr_fixture_f32(&f, "pmap", NULL, NULL);
    float *keepf = scorr_fixture_f32(&f, "pkeep", NULL, NULL);
    float *ploss = scorr_fixture_f32(&f, "ploss", NULL, NULL);
    float *dp_ref = scorr_fixture_f32(&f, "dpflow", NULL, NULL);
    float *pflow = to_nhwc(pflow_c, b, 2, g, g), *pseudo = to_nhwc(pseudo_c, b, 2, g, g);
    uint8_t *cand = mask_u8(candf, np);
    scorr_mask_dilate(dil, mask, 3, &s);
    CHECK(memcmp(dil, cand, np) == 0, "candidates are the label mask dilated by 3");
    float *pmap = zeros(np);
    scorr_epe_map(pmap, pflow, pseudo, cand, &s);
    check_report("pseudo epe map", pmap, pmap_ref, np, ATOL, RTOL);
    uint8_t *keep = malloc(np);
    int32_t *order = malloc(np * sizeof *order);
    int64_t nk = scorr_select_smallest(keep, pmap, cand, (int64_t)np, ratio, order);
    CHECK(nk == keep_ref, "num_keep %lld, expected %lld", (long long)nk, (long long)keep_ref);
    int kd = 0;
    for (size_t i = 0; i < np; i++) kd += keep[i] != (keepf[i] != 0.0f);
    CHECK(kd == 0, "selection differs at %d positions (tie at the boundary: lower index first)", kd);
    double psum;
    int64_t pcount;
    scorr_epe_forward(&psum, &pcount, pflow, pseudo, keep, &s);
    CHECK(pcount == nk && fabs(psum / nk - ploss[0]) <= 1e-5 * fabs(ploss[0]),
          "selected pseudo loss %.9g, expected %.9g", psum / nk, (double)ploss[0]);
    float *dp = zeros(np * 2);
    scorr_epe_backward(dp, pflow, pseudo, keep, 1.0, (double)nk, &s);
    float *dpc = to_nchw(dp, b, 2, g, g);
    check_report("pseudo dflow (selected)", dpc, dp_ref, np * 2, ATOL, RTOL);

    free(flow_c), free(gt_c), free(maskf), free(esum), free(dflow_ref), free(flow), free(gt);
    free(mask), free(dflow), free(dfc), free(d2), free(dil), free(pflow_c), free(pseudo_c);
    free(candf), free(pmap_ref), free(keepf), free(ploss), free(dp_ref), free(pflow), free(pseudo);
    free(cand), free(pmap), free(keep), free(order), free(dp), free(dpc);
    scorr_h5_close(&f);
}

static void selection_edges(void)
{
    float v[6] = {0.5f, NAN, 0.1f, 0.5f, 0.2f, 0.1f};
    uint8_t m[6] = {1, 1, 1, 1, 1, 0}, keep[6];
    int32_t order[6];
    /* candidates 0..4; floor(0.1 * 5) = 0 -> keep 1: the smallest (index 2) */
    CHECK(scorr_select_smallest(keep, v, m, 6, 0.1, order) == 1 && keep[2] && !keep[5],
          "ratio 0.1 keeps exactly the smallest candidate");
    /* 0.8 * 5 = 4: 0.1, 0.2, 0.5 (index 0), 0.5 (index 3); NaN last */
    CHECK(scorr_select_smallest(keep, v, m, 6, 0.8, order) == 4 && keep[0] && keep[3] && !keep[1],
          "ratio 0.8: NaN must rank last");
    /* tie at the boundary: 0.6 * 5 = 3 keeps 0.1, 0.2 and the lower-index 0.5 */
    CHECK(scorr_select_smallest(keep, v, m, 6, 0.6, order) == 3 && keep[0] && !keep[3],
          "ratio 0.6: ties broken by lower index");
    CHECK(scorr_select_smallest(keep, v, m, 6, 1.0, order) == 5 && keep[1], "ratio 1 keeps all");
    memset(m, 0, sizeof m);
    CHECK(scorr_select_smallest(keep, v, m, 6, 0.5, order) == 0, "no candidates -> 0");
}

/* ---- finite differences -------------------------------------------------- */

struct fdctx {
    struct scorr_flow_shape s;
    float *flow, *ref;
    uint8_t *mask;
};

static double fd_loss(void *p)
{
    struct fdctx *c = p;
    double sum;
    int64_t n;
    scorr_epe_forward(&sum, &n, c->flow, c->ref, c->mask, &c->s);
    return sum / 7.0; /* an arbitrary normaliser */
}

static void finite_differences(void)
{
    struct scorr_rng r;
    scorr_rng_init(&r, 31, SCORR_RNG_TEST, 0, 0, 0);
    struct fdctx c = {.s = {.b = 2, .h = 4, .w = 5}};
    size_t np = 40;
    c.flow = randn(&r, np * 2, 2.0f);
    c.ref = randn(&r, np * 2, 2.0f);
    c.mask = malloc(np);
    for (size_t i = 0; i < np; i++) c.mask[i] = (i * 7) % 3 != 0;
    float *d = zeros(np * 2);
    scorr_epe_backward(d, c.flow, c.ref, c.mask, 1.0, 7.0, &c.s);
    CHECK(fd_check("epe fd", c.flow, np * 2, d, fd_loss, NULL, &c, 40, 1e-3f, 1e-4, 1e-2, 5) == 0,
          "epe");
    free(c.flow), free(c.ref), free(c.mask), free(d);
}

int main(void)
{
    fixture();
    selection_edges();
    finite_differences();
    return scorr_test_finish("test_head_loss");
}
