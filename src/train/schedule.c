#include "scorr/schedule.h"

#include <math.h>

#include "scorr/error.h"

double scorr_lr_step(double base, double gamma, const int *milestones, int n, int epoch)
{
    int passed = 0; /* bisect_right: milestones m with m <= epoch */
    for (int i = 0; i < n; i++) passed += milestones[i] <= epoch;
    return base * pow(gamma, (double)passed);
}

double scorr_lr_cosine(double base, double min_lr, int t_max, int epoch)
{
    SCORR_ASSERT(t_max > 0);
    /* Same operation order as torch's _get_closed_form_lr, in double. */
    return min_lr + (base - min_lr) * (1.0 + cos(M_PI * (double)epoch / (double)t_max)) / 2.0;
}

double scorr_sched_lr(const struct scorr_config *cfg, enum scorr_param_group group, int epoch)
{
    double base = group == SCORR_GROUP_BACKBONE ? cfg->optim.lr_backbone : cfg->optim.lr;
    if (cfg->schedule.type == SCORR_SCHED_COSINE)
        return scorr_lr_cosine(base, cfg->schedule.min_lr, cfg->train.epochs, epoch);
    return scorr_lr_step(base, cfg->schedule.gamma, cfg->schedule.milestones,
                         cfg->schedule.n_milestones, epoch);
}

double scorr_keep_ratio(double start, double end, int ramp, int k)
{
    if (k < 0 || k >= ramp) return end;
    if (ramp == 1) return start;        /* np.linspace(start, end, 1) == [start] */
    if (k == ramp - 1) return end;      /* numpy sets the endpoint exactly */
    double step = (end - start) / (double)(ramp - 1);
    if (step == 0) { /* numpy's denormal branch: y / div * delta + start */
        volatile double y = (double)k / (double)(ramp - 1) * (end - start);
        return y + start;
    }
    /* Round the product on its own, as numpy does: a fused multiply-add would
     * differ in the last bit, and int(ratio * n) can turn on that bit. */
    volatile double y = (double)k * step;
    return y + start;
}

double scorr_sched_keep_ratio(const struct scorr_config *cfg, int epoch)
{
    const double start = cfg->pseudo.selection.start_ratio;
    if (start < 0) return 1.0;
    return scorr_keep_ratio(start, cfg->pseudo.selection.end_ratio,
                            cfg->pseudo.selection.ramp_epochs, epoch - cfg->pseudo.start_epoch);
}

double scorr_sched_pseudo_weight(const struct scorr_config *cfg, int epoch)
{
    if (cfg->variant == SCORR_VARIANT_BASELINE || cfg->variant == SCORR_VARIANT_WARP ||
        epoch < cfg->pseudo.start_epoch)
        return 0.0;
    return cfg->pseudo.weight;
}
