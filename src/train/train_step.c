/* One optimiser step of every network in this process (DESIGN section 2):
 *
 *   L = L_gt + lambda * L_pseudo
 *   L_gt     = sum over labelled positions of ||flow - gt||  / (labelled positions of the global batch)
 *   L_pseudo = sum over selected positions of ||flow - pseudo|| / (selected positions of the global batch)
 *
 * Pseudo-labels: the teacher's flow (st) or the peer's (mt), detached;
 * candidates are the label mask dilated by a K x K box (or every position);
 * selection keeps the fraction r of candidates with the smallest loss over the
 * whole global mini-batch, ranked by the peer's loss in mt (crossed, as in
 * co-teaching) and by the network's own loss in st. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "scorr/loss.h"
#include "scorr/watchdog.h"
#include "scorr/weights.h"
#include "trainer_internal.h"

/* Keep the values at candidate positions, in position order (in place). */
static int compact(float *v, const uint8_t *cand, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (cand[i]) v[k++] = v[i];
    return k;
}

static void scatter_keep(uint8_t *mask, const uint8_t *keep, const uint8_t *cand, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) mask[i] = cand[i] ? keep[k++] : 0;
}

/* Every this many weights of a tensor are checked after each update (and
 * its last one); checkpoints check them all (train_ckpt.c). */
#define NONFINITE_SAMPLE 97

/* Record the first divergence of this step (the message of the error raised
 * when the ranks agree on it). */
__attribute__((format(printf, 3, 4))) static void diverged(struct trainer *t,
                                                          const struct train_net *n,
                                                          const char *fmt, ...)
{
    if (t->diverged[0]) return;
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(t->diverged, sizeof t->diverged,
             "training diverged at epoch %d, step %lld of the epoch (global step %lld): %s%s; "
             "no checkpoint holds this state, the last checkpoint is the last good one",
             t->epoch, (long long)t->step_in_epoch, (long long)t->global_step + 1,
             t->n_nets == 2 || t->cfg.variant == SCORR_VARIANT_MT
                 ? (n->id ? "network B: " : "network A: ")
                 : "",
             what);
}

/* Fault injection for the tests of the divergence checks:
 * SCORR_TEST_INJECT_NAN_WEIGHT="STEP[,ELEMENT]" makes element ELEMENT
 * (default 1: not in the per-step sample, caught before the next checkpoint
 * write) of the first trained tensor NaN after the update of global step
 * STEP, on world rank 0. */
static void inject_nan_weight(const struct trainer *t, const struct scorr_params *tab, float *w)
{
    const char *inject = getenv("SCORR_TEST_INJECT_NAN_WEIGHT");
    if (!inject || t->world_rank != 0 || atoll(inject) != t->global_step + 1) return;
    const char *comma = strchr(inject, ',');
    size_t k = comma ? (size_t)atoll(comma + 1) : 1;
    for (int i = 0; i < tab->n; i++)
        if (tab->p[i].kind == SCORR_PARAM_WEIGHT && tab->p[i].trainable && k < tab->p[i].numel) {
            w[tab->p[i].offset + k] = NAN;
            return;
        }
}

/* Copy the buffers (running statistics) of a network to or from `save`. */
static void buffers_copy(struct scorr_model *m, float *save, int restore)
{
    const struct scorr_params *tab = scorr_model_params(m);
    float *w = scorr_model_weights(m);
    size_t at = 0;
    for (int i = 0; i < tab->n; i++) {
        const struct scorr_param *e = &tab->p[i];
        if (e->kind != SCORR_PARAM_BUFFER) continue;
        if (restore)
            memcpy(w + e->offset, save + at, e->numel * sizeof(float));
        else
            memcpy(save + at, w + e->offset, e->numel * sizeof(float));
        at += e->numel;
    }
}

const float *train_forward(struct scorr_model *m, const struct scorr_batch *b)
{
    const struct scorr_model_config *c = scorr_model_config(m);
    const size_t half = (size_t)c->batch * c->image_size * c->image_size * 3;
    /* the loader's images are one block, sources then targets (loader.h):
     * the model reads them there (the batch lives until the next load) */
    return b->trg == b->src + half ? scorr_model_forward_images(m, b->src)
                                   : scorr_model_forward(m, b->src, b->trg);
}

void train_release_memory(struct trainer *t)
{
    if (!t->release) return;
    for (int k = 0; k < t->n_nets; k++) scorr_model_release(t->nets[k].model);
    if (t->teacher) scorr_model_release(t->teacher);
}

/* Network B's forward again, for its backward (t->rerun_b: A's forward has
 * overwritten B's activations): from the same weights and running
 * statistics as its first forward, so the same bits; the flow must be the
 * one the losses used. */
static void rerun_forward(struct trainer *t, struct train_net *n, const struct scorr_batch *b)
{
    buffers_copy(n->model, t->rerun_state, 1);
    const float *f = train_forward(n->model, b);
    if (memcmp(f, n->flow, t->flow_floats * sizeof *f))
        scorr_fatal(__FILE__, __LINE__,
                    "network B's forward run again for its backward (model.memory: small) gave "
                    "another flow than its first run: the forward is not deterministic here");
}

int train_step(struct trainer *t, const struct scorr_batch *b)
{
    int err = 0;
    const size_t npos = (size_t)t->B * t->G * t->G;
    const struct scorr_flow_shape fs = {t->B, t->G, t->G};
    const int pseudo = t->lambda > 0 && t->cfg.variant != SCORR_VARIANT_BASELINE;
    double t0 = scorr_now();

    /* 1. Forward every local network. With one activation arena for both
     * (t->rerun_b) B runs first, for its flow, and again before its
     * backward; A's activations stay for A's backward. */
    scorr_watchdog_phase("forward (batch-norm statistics in batch mode)");
    for (int j = 0; j < t->n_nets; j++) {
        const int k = t->rerun_b ? t->n_nets - 1 - j : j;
        struct train_net *n = &t->nets[k];
        if (t->rerun_b && k == 1) buffers_copy(n->model, t->rerun_state, 0);
        const float *f = train_forward(n->model, b);
        memcpy(n->flow, f, t->flow_floats * sizeof *f);
        n->target = NULL;
    }

    /* 2. Pseudo-label targets. */
    if (pseudo) {
        if (t->cfg.variant == SCORR_VARIANT_ST) {
            const float *f = train_forward(t->teacher, b);
            memcpy(t->teacher_flow, f, t->flow_floats * sizeof *f);
            t->nets[0].target = t->teacher_flow;
        } else if (t->n_nets == 2) {
            t->nets[0].target = t->nets[1].flow;
            t->nets[1].target = t->nets[0].flow;
        } else {
            double c0 = scorr_now();
            scorr_watchdog_phase("exchanging flows with the partner rank (mt)");
            SCORR_TRY(scorr_comm_sendrecv(t->world, t->partner, t->nets[0].flow, t->peer_flow,
                                          t->flow_floats * sizeof(float)));
            t->t_comm += scorr_now() - c0;
            t->nets[0].target = t->peer_flow;
        }
        scorr_mask_dilate(t->cand, b->mask,
                          t->cfg.pseudo.dilation_kernel > 0 ? t->cfg.pseudo.dilation_kernel
                                                            : SCORR_DILATE_NONE,
                          &fs);
    }

    /* 3. Per-network losses and the selection. Reduced together: labelled
     * count, then per network its gt and pseudo loss sums and its
     * pseudo-label quality counts. */
    scorr_watchdog_phase("losses and the small-loss selection");
    enum { PER_NET = 2 + 2 * SCORR_PQ_SETS };
    double red[1 + 2 * PER_NET] = {0};
    int64_t num_keep[2] = {0, 0};
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        double *rk = red + 1 + PER_NET * k;
        int64_t count = 0;
        double gt_sum = 0;
        scorr_epe_forward(&gt_sum, &count, n->flow, b->flow, b->mask, &fs);
        red[0] = (double)count;
        rk[0] = gt_sum;
        if (!pseudo) continue;
        /* the network's own loss at each candidate */
        scorr_epe_map(n->values, n->flow, n->target, t->cand, &fs);
        int nc = compact(n->values, t->cand, npos);
        /* what the selection ranks: the peer's loss in mt, the own loss in st */
        const float *rank = n->values;
        if (t->cfg.variant == SCORR_VARIANT_MT) {
            /* the peer's loss ||peer - me|| at the same candidates */
            scorr_epe_map(n->rank_values, n->target, n->flow, t->cand, &fs);
            compact(n->rank_values, t->cand, npos);
            rank = n->rank_values;
        }
        double c0 = scorr_now();
        SCORR_TRY(scorr_select_small_loss(t->group, &t->sel, rank, nc, t->ratio, n->keep,
                                          &num_keep[k], NULL));
        t->t_comm += scorr_now() - c0;
        scatter_keep(n->keep_mask, n->keep, t->cand, npos);
        double ps = 0;
        for (int i = 0; i < nc; i++)
            if (n->keep[i]) ps += n->values[i];
        rk[1] = ps;
        if (b->dense) {
            /* how many targets are within one grid cell of the true flow */
            int64_t pq[2 * SCORR_PQ_SETS] = {0};
            scorr_pq_count(pq, n->target, b->dense, t->cand, n->keep_mask, &fs, 1.0f);
            for (int j = 0; j < 2 * SCORR_PQ_SETS; j++) rk[2 + j] = (double)pq[j];
        }
    }
    /* Sums over the group: every rank of it then holds the same losses. */
    double c1 = scorr_now();
    SCORR_TRY(scorr_comm_sum_f64(t->group, red, 1 + PER_NET * (size_t)t->n_nets));
    t->t_comm += scorr_now() - c1;
    const double labelled = red[0];

    int bad = 0;
    /* Fault injection for the test of the NaN path: the loss of this process
     * (world rank 0 only) becomes NaN at the given global step. */
    const char *inject = getenv("SCORR_TEST_INJECT_NAN_STEP");
    int poison = inject && t->world_rank == 0 && atoll(inject) == t->global_step + 1;
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        const double *rk = red + 1 + PER_NET * k;
        n->loss_gt = labelled > 0 ? rk[0] / labelled : 0;
        n->loss_pseudo = pseudo && num_keep[k] > 0 ? rk[1] / (double)num_keep[k] : 0;
        n->loss = n->loss_gt + t->lambda * n->loss_pseudo;
        if (poison) n->loss = NAN;
        if (!isfinite(n->loss)) bad = 1;
    }
    /* A NaN or Inf anywhere stops every rank before any weight changes. */
    double flag = bad;
    scorr_watchdog_phase("agreeing the loss is finite");
    SCORR_TRY(scorr_comm_max_f64(t->world, &flag, 1));
    if (flag > 0) {
        err = scorr_error_set(SCORR_ENUMERIC, __FILE__, __LINE__, __func__,
                              "the training loss became NaN or Inf at epoch %d, step %lld of the "
                              "epoch (global step %lld); no weights were updated and the last "
                              "checkpoint is the last good state",
                              t->epoch, (long long)t->step_in_epoch, (long long)t->global_step + 1);
        scorr_error_hint("lower optim.lr / optim.lr_backbone, or set optim.grad_clip");
        goto done;
    }

    /* 4. Backward, gradient sum over the group, AdamW. */
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        const struct scorr_params *tab = scorr_model_params(n->model);
        float *grads = scorr_model_grads(n->model);
        memset(n->dflow, 0, t->flow_floats * sizeof *n->dflow);
        scorr_epe_backward(n->dflow, n->flow, b->flow, b->mask, 1.0, labelled, &fs);
        if (pseudo)
            scorr_epe_backward(n->dflow, n->flow, n->target, n->keep_mask, t->lambda,
                               (double)num_keep[k], &fs);
        if (t->rerun_b && k == 1) {
            scorr_watchdog_phase("network B's forward again (model.memory: small)");
            rerun_forward(t, n, b);
        }
        scorr_model_zero_grad(n->model);
        /* the gradient sum over the group starts inside the backward
         * (bucket by bucket, train.bucket_mb) and ends here */
        scorr_watchdog_phase("backward (batch-norm statistics in batch mode; gradient buckets start "
                             "their sums over the group)");
        if (t->group_size > 1) grad_sync_begin(&n->sync, n->model);
        scorr_model_backward(n->model, n->dflow);
        scorr_watchdog_phase("gradient sum over the group");
        if (t->group_size > 1) {
            SCORR_TRY(grad_sync_finish(&n->sync));
            t->t_comm += n->sync.t_exposed;
            t->t_grad_exposed += n->sync.t_exposed;
            if (t->run_steps == 0 && k == 0)
                scorr_info("gradient exchange: %d bucket(s), %d started during the backward, "
                           "%.3f s not hidden by it (first step)",
                           n->sync.nbuckets, n->sync.started_early, n->sync.t_exposed);
        }
        if (t->dump_grads && t->run_steps == 0 && n->id == 0) {
            int local = t->group_rank == 0 ? scorr_weights_save(t->dump_grads, tab, grads, "grads") : 0;
            SCORR_TRY(scorr_comm_agree(t->group, local));
        }
        scorr_watchdog_phase("optimiser update (and its finiteness checks)");
        /* The gradients' global norm (clipped when asked) and a sample of
         * the updated weights must be finite; a failure here is recorded and
         * agreed on at the step's end (trainer.c should_stop), before any
         * checkpoint is written. */
        double norm = 0;
        if (scorr_grad_clip(tab, grads, t->cfg.optim.grad_clip, &norm)) {
            scorr_error_clear();
            int i = scorr_params_find_nonfinite(tab, grads, 1, 1, NULL);
            diverged(t, n, "gradient norm is %g: the gradient of '%s' holds NaN or Inf", norm,
                     i >= 0 ? tab->p[i].name : "?");
        } else {
            float *w = scorr_model_weights(n->model);
            scorr_adamw_step(&n->opt, tab, w, grads, t->lr);
            inject_nan_weight(t, tab, w);
            size_t at = 0;
            int i = scorr_params_find_nonfinite(tab, w, NONFINITE_SAMPLE, 1, &at);
            if (i >= 0)
                diverged(t, n, "the updated weights of '%s' hold %g (element %zu)",
                         tab->p[i].name, (double)w[tab->p[i].offset + at], at);
        }
        n->sum_loss_gt += n->loss_gt;
        n->sum_loss_pseudo += n->loss_pseudo;
        n->sum_loss += n->loss;
        for (int j = 0; j < 2 * SCORR_PQ_SETS; j++)
            n->sum_pq[j] += (int64_t)red[1 + PER_NET * k + 2 + j];
        n->epoch_steps++;
    }
    t->t_compute += scorr_now() - t0;
done:
    return err;
}
