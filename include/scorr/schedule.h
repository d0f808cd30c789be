/* Per-epoch schedules of the trainer, as small pure functions of the
 * experiment config and the 0-based epoch index:
 *
 *   - learning rate of a parameter group, as the reference sets it at the
 *     start of every epoch with scheduler.step(epoch) (torch's closed forms):
 *       step:   lr * gamma ** bisect_right(milestones, epoch)      (MultiStepLR)
 *       cosine: min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2
 *                                          (CosineAnnealingLR, T_max = epochs)
 *   - small-loss keep ratio: np.linspace(start, end, ramp)[epoch - start_epoch]
 *     during the ramp, end afterwards;
 *   - pseudo-label loss weight: 0 before pseudo.start_epoch, lambda from it.
 *
 * Local, no state. */
#ifndef SCORR_SCHEDULE_H
#define SCORR_SCHEDULE_H

#include "scorr/config.h"
#include "scorr/params.h"

/* MultiStepLR closed form: base * gamma^(number of milestones <= epoch).
 * milestones: n sorted epoch indices. */
double scorr_lr_step(double base, double gamma, const int *milestones, int n, int epoch);
/* CosineAnnealingLR closed form with T_max = t_max (> 0). */
double scorr_lr_cosine(double base, double min_lr, int t_max, int epoch);

/* Learning rate of `group` (head: optim.lr, backbone: optim.lr_backbone) in
 * `epoch` under schedule.*. */
double scorr_sched_lr(const struct scorr_config *cfg, enum scorr_param_group group, int epoch);

/* np.linspace(start, end, ramp)[k] for 0 <= k < ramp (bit-exact: k * step +
 * start, the last point exactly end); end for k >= ramp or k < 0. */
double scorr_keep_ratio(double start, double end, int ramp, int k);

/* Fraction of pseudo-labelled positions kept in `epoch`:
 * scorr_keep_ratio(start_ratio, end_ratio, ramp_epochs, epoch - start_epoch);
 * 1 when pseudo.selection.start_ratio is none (keep everything). Before
 * start_epoch the pseudo loss is off (weight 0) and the value is end_ratio. */
double scorr_sched_keep_ratio(const struct scorr_config *cfg, int epoch);

/* Pseudo-label loss weight in `epoch`: pseudo.weight from pseudo.start_epoch
 * on, 0 before it and always 0 for variant baseline. */
double scorr_sched_pseudo_weight(const struct scorr_config *cfg, int epoch);

#endif
