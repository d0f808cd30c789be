/* A converted reference network (a scorr weights file written by
 * tools/convert_torchvision.py from an official SCorrSAN checkpoint,
 * docs/weights.md) as an evaluation model: the experiment config its tensors
 * imply (include/scorr/eval_model.h). */
#include <stdio.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/h5.h"
#include "scorr/weights.h"

#define BB SCORR_WEIGHTS_GROUP "/feature_extraction.backbone."
#define SCE_W SCORR_WEIGHTS_GROUP "/SCEs.0.conv.weight"
#define XGRID SCORR_WEIGHTS_GROUP "/x_normal"
#define YGRID SCORR_WEIGHTS_GROUP "/y_normal"
#define REF_UPSAMPLE 4 /* the reference's fixed stride-4 flow (feature_size 64 at 256 px) */

int scorr_eval_is_weights_file(const char *path)
{
    struct scorr_h5 f;
    char fmt[64] = "";
    memset(&f, 0, sizeof f);
    f.id = H5I_INVALID_HID;
    if (scorr_h5_open(&f, path) || scorr_h5_get_attr_str(&f, "/", "format", fmt, sizeof fmt))
        fmt[0] = 0;
    scorr_h5_close(&f);
    scorr_error_clear(); /* not HDF5, or no format: the checkpoint reader explains */
    return strcmp(fmt, SCORR_WEIGHTS_FORMAT) == 0;
}

/* Shape of a tensor of the file, or ndim = 0 when it is absent. */
static int shape_of(const struct scorr_h5 *f, const char *name, int *nd, int64_t *dims)
{
    *nd = 0;
    if (!scorr_h5_has(f, name)) return 0;
    return scorr_h5_shape(f, name, nd, dims);
}

/* ResNet depth from the blocks layer3 holds (torchvision names): 23 -> 101;
 * bottleneck blocks (layer1.0.conv3) with 6 -> 50; basic ones with 6 -> 34,
 * with 2 -> 18. */
static int depth_of(const struct scorr_h5 *f, int *depth, int *bottleneck)
{
    int err = 0;
    *bottleneck = scorr_h5_has(f, BB "layer1.0.conv3.weight");
    if (scorr_h5_has(f, BB "layer3.22.conv1.weight"))
        *depth = 101;
    else if (scorr_h5_has(f, BB "layer3.5.conv1.weight"))
        *depth = *bottleneck ? 50 : 34;
    else if (scorr_h5_has(f, BB "layer3.1.conv1.weight") && !*bottleneck)
        *depth = 18;
    else
        SCORR_FAIL(SCORR_EFORMAT,
                   "'%s': the backbone's layer3 blocks match no ResNet-18/34/50/101 "
                   "(tensors 'feature_extraction.backbone.layer3.<block>.*')",
                   f->path);
done:
    return err;
}

int scorr_eval_reference_config(const char *path, struct scorr_config *cfg, char *desc, size_t n)
{
    int err = 0, nd = 0, bottleneck = 0, depth = 0;
    int64_t d[SCORR_H5_MAXDIM];
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    f.id = H5I_INVALID_HID;
    SCORR_TRY(scorr_h5_open(&f, path));
    scorr_config_defaults(cfg);
    snprintf(cfg->name, sizeof cfg->name, "reference");
    cfg->variant = SCORR_VARIANT_BASELINE; /* one network */
    SCORR_TRY(shape_of(&f, BB "conv1.weight", &nd, d));
    if (nd != 4 || d[1] != 3) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' is a scorr weights file without a ResNet backbone "
                        "('feature_extraction.backbone.conv1.weight' (W, 3, 7, 7) is %s)",
                        path, nd ? "of another shape" : "missing");
        scorr_error_hint("scorr_eval and scorr_match take a scorr checkpoint or a converted "
                         "reference SCorrSAN network (docs/weights.md)");
        err = SCORR_EFORMAT;
        goto done;
    }
    const int width = (int)d[0];
    SCORR_TRY(depth_of(&f, &depth, &bottleneck));
    const int64_t feat = (int64_t)width * 4 * (bottleneck ? 4 : 1); /* layer3's channels */
    SCORR_TRY(shape_of(&f, SCE_W, &nd, d));
    if (nd == 0) {
        scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                        "'%s' holds a backbone only (no 'SCEs.0.conv.weight'): it is not a "
                        "trained SCorrSAN network",
                        path);
        scorr_error_hint("use backbone weights as model.backbone.weights of an experiment "
                         "(docs/weights.md); scorr_eval and scorr_match evaluate trained networks");
        err = SCORR_EFORMAT;
        goto done;
    }
    const int64_t extra = nd == 4 ? d[1] - feat : -1;
    SCORR_REQUIRE(nd == 4 && d[2] == 1 && d[3] == 1 && extra >= 4 && extra % 4 == 0 &&
                      (extra / 4) % 2 == 1,
                  SCORR_EFORMAT,
                  "'%s': 'SCEs.0.conv.weight' must be (O, %lld + 4k, 1, 1) with k odd for a "
                  "ResNet-%d of width %d; its shape does not fit",
                  path, (long long)feat, depth, width);
    cfg->model.backbone.depth = depth;
    cfg->model.backbone.width = width;
    cfg->model.sce.enabled = 1;
    cfg->model.sce.kernel = (int)(extra / 4);
    cfg->model.sce.channels = (int)d[0];
    cfg->model.upsample = REF_UPSAMPLE;
    int64_t gx = 0, gy = 0;
    SCORR_TRY(shape_of(&f, XGRID, &nd, d));
    if (nd == 1) gx = d[0];
    SCORR_TRY(shape_of(&f, YGRID, &nd, d));
    if (nd == 1) gy = d[0];
    if (gx || gy) {
        /* the reference's feature_size: 64 cells for 256 px at stride 4 */
        SCORR_REQUIRE(gx == gy && gx >= 4 && gx % 4 == 0 && gx * REF_UPSAMPLE <= 2048,
                      SCORR_EFORMAT,
                      "'%s': the soft-argmax grids x_normal and y_normal must be two vectors "
                      "of the same length G (a multiple of 4: the image side is 4G), found "
                      "%lld and %lld values",
                      path, (long long)gx, (long long)gy);
        cfg->model.learn_grid = 1;
        cfg->data.image_size = (int)(gx * REF_UPSAMPLE);
    }
    SCORR_TRY(scorr_config_validate(cfg, path));
    snprintf(desc, n,
             "ResNet-%d (width %d), SCE k = %d with %d channels, flow at stride 4, %s, %d x %d "
             "images",
             depth, width, cfg->model.sce.kernel, cfg->model.sce.channels,
             cfg->model.learn_grid ? "its trained soft-argmax grid" : "the fixed soft-argmax grid",
             cfg->data.image_size, cfg->data.image_size);
done:
    scorr_h5_close(&f);
    return err;
}
