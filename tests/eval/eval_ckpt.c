#include "eval_ckpt.h"

#include <stdlib.h>
#include <string.h>

#include "scorr/checkpoint.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/model.h"

int evt_write_ckpt(const char *path, const char *variant, int image_size, int with_peer,
                   int best_peer, const char *data)
{
    int err = 0;
    struct scorr_config cfg;
    struct scorr_model *a = NULL, *b = NULL;
    char *yaml = NULL, size[16];
    snprintf(size, sizeof size, "%d", image_size);
    scorr_config_defaults(&cfg);
    const char *keys[] = {"name", "variant", "data.file", "data.image_size",
                          "model.backbone.depth", "model.backbone.width", "model.sce.kernel",
                          "model.sce.channels", "train.epochs", "pseudo.start_epoch"};
    const char *vals[] = {"tiny", variant, data, size, "18", "4", "3", "16", "4", "1"};
    SCORR_TRY(scorr_config_override(&cfg, 10, keys, vals));
    SCORR_TRY(scorr_config_emit(&cfg, &yaml));
    struct scorr_model_config mc;
    scorr_config_model(&cfg, 1, 0, &mc);
    SCORR_TRY(scorr_model_create(&mc, 11, &a));
    SCORR_TRY(scorr_model_create(&mc, 12, &b));
    struct scorr_ckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.variant, sizeof meta.variant, "%s", variant);
    meta.epoch = 1;
    meta.step = 7;
    meta.best_epoch = 0;
    meta.best_pck = 1.0;
    meta.best_peer = best_peer;
    meta.seed = 1;
    struct scorr_ckpt_net na = {scorr_model_params(a), scorr_model_weights(a), NULL};
    struct scorr_ckpt_net nb = {scorr_model_params(b), scorr_model_weights(b), NULL};
    SCORR_TRY(scorr_ckpt_write(path, &meta, yaml, &na, with_peer ? &nb : NULL));
done:
    if (a) scorr_model_free(a);
    if (b) scorr_model_free(b);
    free(yaml);
    return err;
}
