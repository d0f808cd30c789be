/* Experiment config -> model config (include/scorr/config.h). */
#include <string.h>

#include "scorr/config.h"
#include "scorr/model.h"

void scorr_config_model(const struct scorr_config *c, int batch, int training,
                        struct scorr_model_config *m)
{
    memset(m, 0, sizeof *m);
    m->depth = c->model.backbone.depth;
    m->width = c->model.backbone.width;
    /* Inference always runs on the running statistics and computes no
     * backbone gradient, whatever the run trained with. */
    m->bn_batch = training && c->model.backbone.batchnorm == SCORR_BN_BATCH;
    m->freeze_backbone = training ? c->model.backbone.freeze : 1;
    m->no_winograd = !c->model.backbone.winograd;
    m->precision = c->model.precision;
    m->recompute = c->model.memory == SCORR_MEMORY_SMALL;
    m->sce_enabled = c->model.sce.enabled;
    m->sce_kernel = c->model.sce.kernel;
    m->sce_channels = c->model.sce.channels;
    m->upsample = c->model.upsample;
    m->temperature = (float)c->model.temperature;
    m->learn_grid = c->model.learn_grid;
    m->image_size = c->data.image_size;
    m->batch = batch;
    m->training = training;
}

unsigned scorr_config_model_sharing(const struct scorr_config *c)
{
    return SCORR_SHARE_WORKSPACE | SCORR_SHARE_GRADS |
           (c->model.memory == SCORR_MEMORY_SMALL ? SCORR_SHARE_ACTIVATIONS : 0u);
}
