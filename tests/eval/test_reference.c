/* A converted official SCorrSAN network (tests/fixtures/reference_r18w4.h5:
 * tools/fixtures/reference.py saves a tiny network as the official train.py
 * does and converts it with tools/convert_torchvision.py) is taken by
 * scorr_match (argv[1]) and scorr_eval (argv[2]) as it is:
 *
 * - the implied config: ResNet-18 width 4, SCE k = 3 with 8 channels, its
 *   learned grid of 16 cells, hence 64 px images;
 * - the flow of the library model and of scorr_match equals PyTorch's on the
 *   fixture's two images (the official forward in eval mode, trained grid);
 * - scorr_eval evaluates it on a synthetic dataset;
 * - errors: another network than 0, a size its grid does not fit, a
 *   backbone-only weights file, a weights file of a shape no ResNet has. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval_testutil.h"
#include "run.h"
#include "scorr/augment.h"
#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/h5.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/match.h"
#include "scorr/model.h"

#define S 64
#define G 16

static char g_dir[4096], g_log[4200];
static char *g_out, *g_err;

static int run(const char *bin, const char *args)
{
    return scorr_run_capture("", bin, args, g_log, &g_out, &g_err);
}

static void fixture_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", SCORR_FIXTURES, name);
}

/* (1, 2, G, G) NCHW -> (G, G, 2) */
static void to_hw2(float *out, const float *nchw)
{
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++)
            for (int c = 0; c < 2; c++) out[(y * G + x) * 2 + c] = nchw[(c * G + y) * G + x];
}

static void implied_and_library(const char *ref, const float *src_u8f, const float *trg_u8f,
                                const float *flow_ref)
{
    struct scorr_config cfg;
    char desc[512];
    CHECK_OK(scorr_eval_reference_config(ref, &cfg, desc, sizeof desc));
    CHECK(cfg.model.backbone.depth == 18 && cfg.model.backbone.width == 4 &&
              cfg.model.sce.enabled && cfg.model.sce.kernel == 3 &&
              cfg.model.sce.channels == 8 && cfg.model.upsample == 4 &&
              cfg.model.learn_grid == 1 && cfg.data.image_size == S &&
              cfg.model.temperature == 0.02,
          "implied config: depth %d width %d sce %d k %d ch %d up %d grid %d size %d (%s)",
          cfg.model.backbone.depth, cfg.model.backbone.width, cfg.model.sce.enabled,
          cfg.model.sce.kernel, cfg.model.sce.channels, cfg.model.upsample,
          cfg.model.learn_grid, cfg.data.image_size, desc);
    printf("implied: %s\n", desc);

    struct scorr_eval_net *net = NULL;
    CHECK_OK(scorr_eval_net_open(ref, SCORR_NET_BEST, 1, 0, &net));
    if (!net) return;
    CHECK(net->reference && net->network == 0 && net->image_size == S && net->grid == G,
          "opened: reference %d network %d size %d grid %d", net->reference, net->network,
          net->image_size, net->grid);
    uint8_t u8[S * S * 3];
    float *in_s = malloc(sizeof(float) * S * S * 3), *in_t = malloc(sizeof(float) * S * S * 3);
    for (int i = 0; i < S * S * 3; i++) u8[i] = (uint8_t)src_u8f[i];
    scorr_aug_normalize(in_s, u8, (size_t)S * S);
    for (int i = 0; i < S * S * 3; i++) u8[i] = (uint8_t)trg_u8f[i];
    scorr_aug_normalize(in_t, u8, (size_t)S * S);
    const float *flow = scorr_model_forward(net->model, in_s, in_t);
    /* the tolerance of test_model_parity: float rounding times 1 / beta */
    scorr_check_close("reference flow (library)", flow, flow_ref, (size_t)G * G * 2, 2e-3, 1e-4);
    free(in_s), free(in_t);
    scorr_eval_net_close(net);

    /* one network only */
    net = NULL;
    CHECK(scorr_eval_net_open(ref, 1, 1, 0, &net) == SCORR_EINVAL &&
              strstr(scorr_error_message(), "converted reference network"),
          "network 1: '%s'", scorr_error_message());
    scorr_error_clear();
    scorr_eval_net_close(net);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    const char *match = argv[1], *eval = argv[2];
    snprintf(g_dir, sizeof g_dir, "%s/tests/reference_%d", SCORR_BINARY_DIR, (int)getpid());
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    CHECK_OK(scorr_mkdirs(g_dir));
    char ref[4400], bb[4400], flowfx[4400], srcp[4400], trgp[4400], h5[4400], data[4400];
    char args[32768];
    fixture_path(ref, sizeof ref, "reference_r18w4.h5");
    fixture_path(bb, sizeof bb, "backbone_r18w4_weights.h5");
    fixture_path(flowfx, sizeof flowfx, "reference_r18w4_flow.h5");
    snprintf(srcp, sizeof srcp, "%s/src.png", g_dir);
    snprintf(trgp, sizeof trgp, "%s/trg.png", g_dir);
    snprintf(h5, sizeof h5, "%s/flow.h5", g_dir);
    snprintf(data, sizeof data, "%s/synth.h5", g_dir);

    struct scorr_h5 fx;
    scorr_fixture_open(&fx, "reference_r18w4_flow.h5");
    float *src_f = scorr_fixture_f32(&fx, "src_u8", NULL, NULL);
    float *trg_f = scorr_fixture_f32(&fx, "trg_u8", NULL, NULL);
    float *flow_nchw = scorr_fixture_f32(&fx, "flow", NULL, NULL);
    scorr_h5_close(&fx);
    float flow_ref[G * G * 2];
    to_hw2(flow_ref, flow_nchw);

    /* 1. the implied model and its flow, in the library */
    implied_and_library(ref, src_f, trg_f, flow_ref);

    /* 2. scorr_match on the converted file as it is: its dense flow is the
     * PyTorch flow brought to the target's pixels (64 px images: no resize) */
    uint8_t a[S * S * 3], b[S * S * 3];
    for (int i = 0; i < S * S * 3; i++) a[i] = (uint8_t)src_f[i], b[i] = (uint8_t)trg_f[i];
    CHECK_OK(scorr_image_write_png(srcp, a, S, S, 3));
    CHECK_OK(scorr_image_write_png(trgp, b, S, S, 3));
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-flow '%s'", ref, srcp, trgp, h5);
    CHECK(run(match, args) == 0, "scorr_match on the converted network: %s", g_err);
    CHECK(strstr(g_err, "converted reference network") || strstr(g_out, "converted reference network"),
          "the implied model is reported:\n%s%s", g_out, g_err);
    struct scorr_match_geom geom = {G, S, S, S, S, S};
    float *want = malloc(sizeof(float) * S * S * 2), *got = malloc(sizeof(float) * S * S * 2);
    scorr_match_dense(want, flow_ref, &geom);
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    int64_t shape[3] = {S, S, 2};
    if (scorr_h5_open(&f, h5) == 0) {
        CHECK_OK(scorr_h5_read(&f, "/flow", SCORR_F32, 3, shape, got));
        scorr_h5_close(&f);
        /* the grid tolerance times the 4 px of a cell */
        scorr_check_close("reference flow (scorr_match, px)", got, want, (size_t)S * S * 2, 8e-3,
                          1e-4);
    } else {
        CHECK(0, "no flow written: %s", scorr_error_message());
        scorr_error_clear();
    }
    free(want), free(got);

    /* 3. scorr_eval on a synthetic 64 px dataset */
    CHECK_OK(evt_make_synth(data, 4, 5));
    snprintf(args, sizeof args, "'%s' '%s' --split test --out '%s/ev' --quiet", ref, data, g_dir);
    CHECK(run(eval, args) == 0, "scorr_eval on the converted network: %s", g_err);
    char json[4500];
    snprintf(json, sizeof json, "%s/ev/eval_test.json", g_dir);
    CHECK(scorr_exists(json), "no %s", json);

    /* 4. errors */
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points 1,1 --size 128", ref, srcp, trgp);
    CHECK(run(match, args) == 1 && strstr(g_err, "grid of 16 cells") && strstr(g_err, "128"),
          "a size the learned grid does not fit: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points 1,1 --network 1", ref, srcp, trgp);
    CHECK(run(match, args) == 1 && strstr(g_err, "one network"), "network 1: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points 1,1", bb, srcp, trgp);
    CHECK(run(match, args) == 1 && strstr(g_err, "backbone only") &&
              strstr(g_err, "model.backbone.weights"),
          "a backbone-only file: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --quiet --out '%s/ev2'", bb, data, g_dir);
    CHECK(run(eval, args) == 1 && strstr(g_err, "backbone only"), "scorr_eval, backbone: %s",
          g_err);

    free(src_f), free(trg_f), free(flow_nchw);
    free(g_out), free(g_err);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return scorr_test_finish("test_eval_reference");
}
