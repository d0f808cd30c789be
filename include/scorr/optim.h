/* AdamW over the flat buffers of a parameter table, exactly as
 * torch.optim.AdamW (torch 1.13, amsgrad = False, maximize = False, the
 * single-tensor path), per trained element:
 *
 *     p *= 1 - lr * weight_decay                  (decoupled weight decay)
 *     m  = beta1 * m + (1 - beta1) * g
 *     v  = beta2 * v + (1 - beta2) * g * g
 *     step_size = lr / (1 - beta1^t)              (double)
 *     denom = sqrt(v) / sqrt(1 - beta2^t) + eps   (float)
 *     p += -step_size * m / denom
 *
 * with t the step count after incrementing. Every trainable WEIGHT entry of
 * the table is updated (biases and batch-norm affine parameters included,
 * as in the reference); buffers and frozen entries are skipped and keep
 * zero moments. lr comes per parameter group (head / backbone) from the
 * schedule (include/scorr/schedule.h).
 *
 * All functions are local: the trainer sums gradients over its ranks first,
 * and every rank of a group then takes the same step. */
#ifndef SCORR_OPTIM_H
#define SCORR_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/config.h"
#include "scorr/params.h"

struct scorr_adamw {
    double beta1, beta2, eps, weight_decay;
    int64_t step;   /* Adam steps taken (torch's state['step']) */
    float *m, *v;   /* first and second moments, table->total floats each, owned */
    size_t n;       /* floats in m and v */
};

/* Allocate zeroed moments for table t and take the hyper-parameters from
 * cfg->optim. Returns 0 or SCORR_ENOMEM naming the size. */
int scorr_adamw_init(struct scorr_adamw *o, const struct scorr_params *t,
                     const struct scorr_config *cfg);
/* Same with explicit hyper-parameters (tests, tools). */
int scorr_adamw_init_with(struct scorr_adamw *o, const struct scorr_params *t, double beta1,
                          double beta2, double eps, double weight_decay);
void scorr_adamw_free(struct scorr_adamw *o);

/* One AdamW step. params, grads: the table's flat buffers (t->total floats);
 * lr[SCORR_GROUP_HEAD], lr[SCORR_GROUP_BACKBONE]: this epoch's rates.
 * Increments o->step. No allocation; OpenMP threads over blocks of the
 * tensors, the same bits for any thread count (the update is bound by
 * memory bandwidth: about 30-45 ms for ResNet-101's 29.7M trained floats on
 * one core). */
void scorr_adamw_step(struct scorr_adamw *o, const struct scorr_params *t, float *params,
                      const float *grads, const double lr[2]);

/* Global L2 norm of the gradients of the trainable entries (accumulated in
 * double, entry by entry in table order: deterministic). */
double scorr_grad_norm(const struct scorr_params *t, const float *grads);

/* torch.nn.utils.clip_grad_norm_: norm = scorr_grad_norm; when max_norm > 0
 * and max_norm / (norm + 1e-6) < 1, scale the trainable gradients by that
 * factor. *norm_out (may be NULL) receives the norm before clipping. A
 * non-finite norm is an error (SCORR_ENUMERIC) naming the first tensor whose
 * gradient holds NaN or Inf: the step must not be taken. */
int scorr_grad_clip(const struct scorr_params *t, float *grads, double max_norm,
                    double *norm_out);

#endif
