/* Which experiment keys make two runs "the same setting": the comparison
 * behind teacher matching (an st cell's teacher is the baseline cell with the
 * same settings) and the table's grouping of runs (seeds of one setting).
 *
 * Keys that only identify a run (its name, folder, teacher path, checkpoint
 * and log cadence) never count; keys a run's own settings make moot do not
 * count for that run (a baseline has no pseudo-labels, so pseudo.* says
 * nothing about it). */
#include <stdio.h>
#include <string.h>

#include "scorr/config.h"
#include "sweep/sweep_internal.h"

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

int settings_relevant(const struct scorr_config *c, const char *key, int flags)
{
    if (!strcmp(key, "name") || !strcmp(key, "output") || starts(key, "checkpoint.") ||
        starts(key, "log.") || !strcmp(key, "teacher.checkpoint"))
        return 0;
    if (!strcmp(key, "seed")) return (flags & SETTINGS_WITH_SEED) != 0;
    if ((c->variant == SCORR_VARIANT_BASELINE || c->variant == SCORR_VARIANT_WARP) &&
        (starts(key, "pseudo.") || starts(key, "teacher.")))
        return 0;
    if (c->variant != SCORR_VARIANT_WARP && starts(key, "warp.")) return 0;
    if (c->variant == SCORR_VARIANT_MT && starts(key, "teacher.")) return 0;
    if (c->pseudo.selection.start_ratio < 0 &&
        (!strcmp(key, "pseudo.selection.end_ratio") ||
         !strcmp(key, "pseudo.selection.ramp_epochs")))
        return 0;
    if (c->model.backbone.freeze && !strcmp(key, "optim.lr_backbone")) return 0;
    if (!c->model.sce.enabled &&
        (!strcmp(key, "model.sce.kernel") || !strcmp(key, "model.sce.channels")))
        return 0;
    if (c->schedule.type == SCORR_SCHED_STEP && !strcmp(key, "schedule.min_lr")) return 0;
    if (c->schedule.type == SCORR_SCHED_COSINE &&
        (!strcmp(key, "schedule.milestones") || !strcmp(key, "schedule.gamma")))
        return 0;
    if (!scorr_config_val_split(c) && starts(key, "validation.")) return 0;
    return 1;
}

void settings_value(const struct scorr_config *cfg, const char *key, char *out, size_t n)
{
    if (scorr_config_get(cfg, key, out, n)) snprintf(out, n, "?");
}

int settings_compatible(const struct scorr_config *a, const struct scorr_config *b, int flags,
                        const char *const *skip, const char **diff)
{
    char va[SCORR_CONFIG_PATH + 64], vb[SCORR_CONFIG_PATH + 64];
    for (int i = 0; i < scorr_config_nkeys(); i++) {
        const char *k = scorr_config_key(i);
        int skipped = 0;
        for (const char *const *s = skip; s && *s; s++) skipped |= !strcmp(*s, k);
        if (skipped || !settings_relevant(a, k, flags) || !settings_relevant(b, k, flags)) continue;
        settings_value(a, k, va, sizeof va);
        settings_value(b, k, vb, sizeof vb);
        if (strcmp(va, vb)) {
            if (diff) *diff = k;
            return 0;
        }
    }
    if (diff) *diff = NULL;
    return 1;
}
