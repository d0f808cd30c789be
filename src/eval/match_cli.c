/* The scorr_match command (include/scorr/match.h, docs/match.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scorr/augment.h"
#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/log.h"
#include "scorr/match.h"
#include "scorr/model.h"

#define MAX_POINTS 4096

void scorr_match_args_default(struct scorr_match_args *a)
{
    memset(a, 0, sizeof *a);
    a->grid = 0;
    a->network = SCORR_NET_BEST;
    scorr_match_select_default(&a->select);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Resize to S x S (the data path's antialiased resize) and normalise. */
static int prepare(const struct scorr_image *img, int S, uint8_t *u8, float *out)
{
    int err = 0;
    SCORR_TRY(scorr_resize_u8(u8, S, S, img->pixels, img->width, img->height, 3));
    scorr_aug_normalize(out, u8, (size_t)S * S);
done:
    return err;
}

int scorr_match_command(const struct scorr_match_args *a, struct scorr_match_result *res)
{
    int err = 0;
    struct scorr_eval_net *net = NULL;
    struct scorr_image src = {0}, trg = {0}, mask = {0};
    uint8_t *u8 = NULL, *mutual = NULL;
    float *in_s = NULL, *in_t = NULL, *dense = NULL, *tp = NULL, *sp = NULL, *peak = NULL;
    struct scorr_match_result r = {0};
    char ckpt[4096];
    int n = 0;
    SCORR_REQUIRE(a->out_flow || a->out_png || a->points, SCORR_EINVAL,
                  "nothing to do: give --out-flow, --out-png or --points");
    SCORR_REQUIRE(!a->out_flow || ends_with(a->out_flow, ".flo") || ends_with(a->out_flow, ".h5") ||
                      ends_with(a->out_flow, ".hdf5"),
                  SCORR_EINVAL, "--out-flow: '%s' must end in .h5, .hdf5 or .flo", a->out_flow);
    SCORR_REQUIRE(a->grid >= 0 && a->grid <= 64, SCORR_EINVAL,
                  "--grid: expected 1..64 points per side, found %d", a->grid);
    SCORR_REQUIRE(a->select.max_matches >= 1 && a->select.max_matches <= MAX_POINTS, SCORR_EINVAL,
                  "--max-matches: expected 1..%d, found %d", MAX_POINTS, a->select.max_matches);
    SCORR_REQUIRE(!a->mask || (!a->points && !a->grid), SCORR_EINVAL,
                  "--mask selects among the confident matches; it does not go with --points or "
                  "--grid");
    SCORR_REQUIRE(a->size == 0 || (a->size >= 16 && a->size % 16 == 0), SCORR_EINVAL,
                  "--size: expected a positive multiple of 16, found %d", a->size);
    tp = malloc(sizeof(float) * 2 * MAX_POINTS);
    sp = malloc(sizeof(float) * 2 * MAX_POINTS);
    SCORR_REQUIRE(tp && sp, SCORR_ENOMEM, "out of memory");
    if (a->points) SCORR_TRY(scorr_match_parse_points(a->points, tp, MAX_POINTS, &n));
    SCORR_TRY(scorr_image_load(a->src, &src));
    SCORR_TRY(scorr_image_load(a->trg, &trg));
    if (a->mask) SCORR_TRY(scorr_image_load(a->mask, &mask));
    for (int k = 0; k < n; k++)
        SCORR_REQUIRE(tp[2 * k] >= 0 && tp[2 * k + 1] >= 0 && tp[2 * k] <= trg.width - 1 &&
                          tp[2 * k + 1] <= trg.height - 1,
                      SCORR_EINVAL,
                      "--points: (%g, %g) is outside the target image '%s' (%d x %d; x in [0, %d], "
                      "y in [0, %d])",
                      (double)tp[2 * k], (double)tp[2 * k + 1], a->trg, trg.width, trg.height,
                      trg.width - 1, trg.height - 1);
    scorr_eval_checkpoint_path(a->checkpoint, ckpt, sizeof ckpt);
    SCORR_TRY(scorr_eval_net_open(ckpt, a->network, 1, a->size, &net));
    const int S = net->image_size;
    u8 = malloc((size_t)S * S * 3);
    in_s = malloc(sizeof(float) * S * S * 3);
    in_t = malloc(sizeof(float) * S * S * 3);
    SCORR_REQUIRE(u8 && in_s && in_t, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(prepare(&src, S, u8, in_s));
    SCORR_TRY(prepare(&trg, S, u8, in_t));
    const double t0 = scorr_now();
    const float *flow = scorr_model_forward(net->model, in_s, in_t);
    scorr_info("scorr_match: %s (network %d) at %d px, flow %dx%d, %.2f s", ckpt,
               net->network, S, net->grid, net->grid, scorr_now() - t0);
    const struct scorr_match_geom g = {net->grid, S, src.width, src.height, trg.width, trg.height};
    if (a->out_flow) {
        dense = malloc(sizeof(float) * 2 * (size_t)trg.width * trg.height);
        SCORR_REQUIRE(dense, SCORR_ENOMEM, "out of memory for a %d x %d flow", trg.width,
                      trg.height);
        scorr_match_dense(dense, flow, &g);
        if (ends_with(a->out_flow, ".flo"))
            SCORR_TRY(scorr_flo_write(a->out_flow, dense, trg.width, trg.height));
        else
            SCORR_TRY(scorr_match_write_h5(a->out_flow, dense, trg.width, trg.height, ckpt,
                                           a->src, a->trg));
        scorr_info("wrote %s (%d x %d target pixels)", a->out_flow, trg.width, trg.height);
    }
    const int given = n > 0;
    if (!given && !a->grid && a->out_png) {
        /* the confident matches */
        const int G = net->grid;
        peak = malloc(sizeof(float) * (size_t)G * G);
        mutual = malloc((size_t)G * G);
        SCORR_REQUIRE(peak && mutual, SCORR_ENOMEM, "out of memory");
        scorr_model_confidence(net->model, 0, peak, mutual);
        struct scorr_match_select sel = a->select;
        sel.mask = a->mask ? &mask : NULL;
        SCORR_TRY(scorr_match_select_points(&sel, &g, peak, mutual, tp, NULL, MAX_POINTS, &n,
                                            &r.candidates));
        scorr_info("%d confident match%s (%s%s%s), %d drawn", r.candidates,
                   r.candidates == 1 ? "" : "es",
                   sel.mutual ? "mutual nearest neighbours" : "all positions",
                   sel.min_peak > 0 ? ", soft-argmax peak above the threshold" : "",
                   sel.mask ? ", on the mask" : "", n);
    } else if (!given) {
        /* a grid of target points at cell centres */
        for (int r = 0; r < a->grid; r++)
            for (int q = 0; q < a->grid; q++, n++) {
                tp[2 * n] = ((float)q + 0.5f) * (float)trg.width / (float)a->grid - 0.5f;
                tp[2 * n + 1] = ((float)r + 0.5f) * (float)trg.height / (float)a->grid - 0.5f;
            }
    }
    for (int k = 0; k < n; k++) scorr_match_point(flow, &g, tp + 2 * k, sp + 2 * k);
    if (given)
        for (int k = 0; k < n; k++)
            printf("target (%.2f, %.2f) -> source (%.2f, %.2f)\n", (double)tp[2 * k],
                   (double)tp[2 * k + 1], (double)sp[2 * k], (double)sp[2 * k + 1]);
    if (a->out_png) {
        SCORR_TRY(scorr_match_draw(a->out_png, &src, &trg, tp, sp, n, &r.width, &r.height));
        r.matches = n;
        scorr_info("wrote %s (%d matches)", a->out_png, n);
    }
    if (res) *res = r;
done:
    scorr_eval_net_close(net);
    scorr_image_free(&src);
    scorr_image_free(&trg);
    scorr_image_free(&mask);
    free(u8), free(in_s), free(in_t), free(dense), free(tp), free(sp), free(peak), free(mutual);
    return err;
}
