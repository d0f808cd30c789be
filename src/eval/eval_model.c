/* Checkpoint -> model for inference (include/scorr/eval_model.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/io.h"
#include "scorr/loader.h"
#include "scorr/log.h"
#include "scorr/model.h"
#include "scorr/weights.h"

void scorr_eval_checkpoint_path(const char *arg, char *out, size_t n)
{
    struct stat st;
    size_t len = strlen(arg);
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out, n, "%.*s/best.h5", (int)(len > 1 && arg[len - 1] == '/' ? len - 1 : len),
                 arg);
    else
        snprintf(out, n, "%s", arg);
}

void scorr_eval_net_close(struct scorr_eval_net *n)
{
    if (!n) return;
    if (n->model) scorr_model_free(n->model);
    free(n);
}

/* The network of the run held at /params (0) or /peer/params (1) of the file
 * for a request, or an error naming what the file holds. */
static int resolve_network(struct scorr_eval_net *n, int which, int *in_file)
{
    int err = 0;
    const char *variant = scorr_variant_name(n->cfg.variant);
    if (n->reference) {
        SCORR_REQUIRE(which == SCORR_NET_BEST || which == 0, SCORR_EINVAL,
                      "'%s' is a converted reference network, one network (0); network %d was "
                      "asked for",
                      n->path, which);
        n->network = 0;
        *in_file = 0;
    } else if (n->cfg.variant == SCORR_VARIANT_MT && n->has_peer) {
        if (which == SCORR_NET_BEST) which = n->meta.best_epoch >= 0 ? (int)n->meta.best_peer : 0;
        SCORR_REQUIRE(which == 0 || which == 1, SCORR_EINVAL,
                      "--network: expected 0, 1 or best, found %d", which);
        n->network = which;
        *in_file = which;
    } else {
        /* one network: best.h5 of mt keeps the better peer, others network 0 */
        int held = n->cfg.variant == SCORR_VARIANT_MT ? (int)n->meta.best_peer : 0;
        if (which == SCORR_NET_BEST) which = held;
        SCORR_REQUIRE(which == held, SCORR_EINVAL,
                      "checkpoint '%s' (variant %s) holds network %d only; network %d was asked "
                      "for%s",
                      n->path, variant, held, which,
                      n->cfg.variant == SCORR_VARIANT_MT
                          ? " (best.h5 keeps the better peer; use a step checkpoint for both)"
                          : "");
        n->network = which;
        *in_file = 0;
    }
done:
    return err;
}

int scorr_eval_net_open(const char *path, int which, int batch, int image_size,
                        struct scorr_eval_net **out)
{
    int err = 0;
    char *yaml = NULL;
    char where[4200];
    struct scorr_eval_net *n = NULL;
    *out = NULL;
    SCORR_REQUIRE(scorr_exists(path), SCORR_EIO, "checkpoint '%s' does not exist", path);
    n = calloc(1, sizeof *n);
    SCORR_REQUIRE(n, SCORR_ENOMEM, "out of memory");
    snprintf(n->path, sizeof n->path, "%s", path);
    int has_optim = 0;
    char desc[512] = "";
    n->reference = scorr_eval_is_weights_file(path);
    if (n->reference) {
        SCORR_TRY(scorr_eval_reference_config(path, &n->cfg, desc, sizeof desc));
        n->meta.best_epoch = -1;
        n->meta.best_pck = -1;
    } else {
        SCORR_TRY(scorr_ckpt_inspect(path, &n->meta, &yaml, &has_optim, &n->has_peer));
        snprintf(where, sizeof where, "%s:/config", path);
        SCORR_TRY(scorr_config_parse(&n->cfg, yaml, strlen(yaml), where));
    }
    int in_file = 0;
    SCORR_TRY(resolve_network(n, which, &in_file));
    struct scorr_model_config mc;
    scorr_config_model(&n->cfg, batch, 0, &mc);
    if (image_size > 0) mc.image_size = image_size;
    SCORR_REQUIRE(mc.image_size >= 16 && mc.image_size % 16 == 0, SCORR_EINVAL,
                  "image size %d is not a positive multiple of 16", mc.image_size);
    /* a learned grid has one value per cell: it fixes the flow grid, hence S */
    SCORR_REQUIRE(!mc.learn_grid || mc.image_size == n->cfg.data.image_size, SCORR_EINVAL,
                  "'%s' has a learned soft-argmax grid of %d cells, made for %d x %d images; it "
                  "cannot run at %d x %d",
                  path, n->cfg.data.image_size / 16 * n->cfg.model.upsample,
                  n->cfg.data.image_size, n->cfg.data.image_size, mc.image_size, mc.image_size);
    SCORR_TRY(scorr_model_create(&mc, 0, &n->model));
    if (n->reference) {
        /* every tensor of the model must be in the file */
        SCORR_TRY(scorr_weights_load(path, scorr_model_params(n->model),
                                     scorr_model_weights(n->model), "", NULL));
        scorr_info("%s: a converted reference network; the model it implies: %s", path, desc);
    } else {
        SCORR_TRY(scorr_ckpt_load_params(path, "checkpoint", &n->cfg, in_file,
                                         scorr_model_params(n->model),
                                         scorr_model_weights(n->model)));
    }
    scorr_model_set_training(n->model, 0);
    n->image_size = mc.image_size;
    n->grid = scorr_model_grid(n->model);
    n->batch = batch;
    *out = n;
    n = NULL;
done:
    scorr_eval_net_close(n);
    free(yaml);
    return err;
}

static int net_forward(void *ctx, const struct scorr_batch *b, const float **flow)
{
    struct scorr_eval_net *n = ctx;
    SCORR_ASSERT(b->S == n->image_size && b->G == n->grid);
    *flow = scorr_model_forward(n->model, b->src, b->trg);
    return 0;
}

void scorr_eval_net_source(struct scorr_eval_net *n, struct scorr_flow_source *src)
{
    src->forward = net_forward;
    src->ctx = n;
}
