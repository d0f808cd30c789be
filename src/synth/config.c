/* Synthetic benchmark options: defaults, difficulty presets, validation. */
#include <string.h>

#include "scorr/error.h"
#include "synth_internal.h"

void scorr_synth_defaults(struct scorr_synth_config *c)
{
    memset(c, 0, sizeof *c);
    c->size = 128;
    c->num_categories = 6;
    c->pairs[0] = 2000, c->pairs[1] = 200, c->pairs[2] = 200;
    c->images_per_category[0] = 100;
    c->images_per_category[1] = c->images_per_category[2] = 25;
    c->seed = 1;
    c->kps_per_pair = 8;
    scorr_synth_set_difficulty(c, "medium");
}

int scorr_synth_set_difficulty(struct scorr_synth_config *c, const char *name)
{
    int err = 0;
    float k;
    if (!strcmp(name, "easy"))
        k = 0.3f;
    else if (!strcmp(name, "medium"))
        k = 0.6f;
    else if (!strcmp(name, "hard"))
        k = 1.0f;
    else
        SCORR_FAIL(SCORR_EINVAL, "--difficulty: expected easy, medium or hard, found '%s'", name);
    c->viewpoint = c->scale = c->clutter = c->occlusion = c->truncation = k;
done:
    return err;
}

int scorr_synth_check(const struct scorr_synth_config *c)
{
    int err = 0;
    static const char *const split[3] = {"trn", "val", "test"};
    SCORR_REQUIRE(c->size >= 32 && c->size <= 2048, SCORR_EINVAL,
                  "--size: expected 32..2048 pixels, found %d", c->size);
    SCORR_REQUIRE(c->num_categories >= 1 && c->num_categories <= syn_num_category_defs(),
                  SCORR_EINVAL, "--categories: expected 1..%d, found %d", syn_num_category_defs(),
                  c->num_categories);
    int64_t total = 0;
    for (int s = 0; s < 3; s++) {
        SCORR_REQUIRE(c->pairs[s] >= 0 && c->pairs[s] <= 100000000, SCORR_EINVAL,
                      "--pairs: %s count must be 0..1e8, found %lld", split[s],
                      (long long)c->pairs[s]);
        SCORR_REQUIRE(c->pairs[s] == 0 || c->images_per_category[s] >= 2, SCORR_EINVAL,
                      "--images-per-category: the %s pool needs at least 2 images per category, "
                      "found %d",
                      split[s], c->images_per_category[s]);
        SCORR_REQUIRE(c->images_per_category[s] <= 1000000, SCORR_EINVAL,
                      "--images-per-category: %s pool too large (%d)", split[s],
                      c->images_per_category[s]);
        total += c->pairs[s];
    }
    SCORR_REQUIRE(total > 0, SCORR_EINVAL, "--pairs: all three splits are empty");
    const struct {
        const char *name;
        float v;
    } knobs[5] = {{"--viewpoint", c->viewpoint}, {"--scale", c->scale}, {"--clutter", c->clutter},
                  {"--occlusion", c->occlusion}, {"--truncation", c->truncation}};
    for (int i = 0; i < 5; i++)
        SCORR_REQUIRE(knobs[i].v >= 0.0f && knobs[i].v <= 1.5f, SCORR_EINVAL,
                      "%s: expected a value in [0, 1.5], found %g", knobs[i].name,
                      (double)knobs[i].v);
    SCORR_REQUIRE(c->kps_per_pair >= 1 && c->kps_per_pair <= SYN_MAX_KPS, SCORR_EINVAL,
                  "--kps-per-pair: expected 1..%d, found %d", SYN_MAX_KPS, c->kps_per_pair);
    SCORR_REQUIRE(c->threads >= 0, SCORR_EINVAL, "--threads: expected >= 0, found %d",
                  c->threads);
done:
    return err;
}
