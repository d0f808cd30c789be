/* scorr_train: set-up, the epoch loop, resume and preemption
 * (include/scorr/train.h). Every check that can fail because of user input
 * runs before training starts and fails on every rank together
 * (scorr_comm_agree), so no rank is left waiting in a collective. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scorr/arena.h"
#include "scorr/comm.h"
#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/schedule.h"
#include "scorr/signals.h"
#include "scorr/train.h"
#include "scorr/watchdog.h"
#include "scorr/weights.h"
#include "trainer_internal.h"

/* The MPI layout: groups, partner, local batch. Same decision on every rank. */
static int plan_layout(struct trainer *t)
{
    int err = 0;
    const struct scorr_config *c = &t->cfg;
    int N = t->world_size;
    t->mt_split = c->variant == SCORR_VARIANT_MT && N > 1;
    if (t->mt_split && N % 2) {
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: variant mt runs its two networks on two equal rank groups; %d ranks "
                   "cannot be split in two",
                   t->config_path, N);
    }
    int group_size = t->mt_split ? N / 2 : N;
    if (c->train.batch_size % group_size) {
        SCORR_FAIL(SCORR_EINVAL,
                   "%s: train.batch_size %d is not divisible by the %d ranks of a data-parallel "
                   "group (%d ranks%s)",
                   t->config_path, c->train.batch_size, group_size, N,
                   t->mt_split ? ", two groups for mt" : "");
    }
    t->B = c->train.batch_size / group_size;
    SCORR_REQUIRE(t->B <= 64, SCORR_EINVAL,
                  "%s: %d pairs per rank and step is more than the supported 64; use more ranks",
                  t->config_path, t->B);
    t->n_nets = c->variant == SCORR_VARIANT_MT && !t->mt_split ? 2 : 1;
    t->S = c->data.image_size;
done:
    return err;
}

/* Checks of the inputs, each with a message naming the file or key. Local. */
static int check_inputs(struct trainer *t)
{
    int err = 0;
    struct scorr_dataset *ds = NULL;
    const struct scorr_config *c = &t->cfg;
    SCORR_TRY(scorr_dataset_open(c->data.file, &ds));
    const struct scorr_dataset_meta *m = scorr_dataset_meta(ds);
    SCORR_REQUIRE(m->image_size == c->data.image_size, SCORR_EINVAL,
                  "%s: data.image_size is %d but the dataset '%s' holds %d x %d images",
                  t->config_path, c->data.image_size, c->data.file, m->image_size, m->image_size);
    SCORR_REQUIRE(scorr_dataset_has_split(ds, c->data.train_split), SCORR_EINVAL,
                  "%s: data.train_split '%s' is not in '%s'", t->config_path, c->data.train_split,
                  c->data.file);
    const char *vs = scorr_config_val_split(c);
    SCORR_REQUIRE(!vs || scorr_dataset_has_split(ds, vs), SCORR_EINVAL,
                  "%s: validation split '%s' is not in '%s'", t->config_path, vs, c->data.file);
    if (c->model.backbone.weights[0])
        SCORR_REQUIRE(scorr_exists(c->model.backbone.weights), SCORR_EIO,
                      "%s: model.backbone.weights: file '%s' does not exist", t->config_path,
                      c->model.backbone.weights);
    if (c->model.weights[0])
        SCORR_REQUIRE(scorr_exists(c->model.weights), SCORR_EIO,
                      "%s: model.weights: file '%s' does not exist", t->config_path,
                      c->model.weights);
done:
    if (ds) scorr_dataset_close(ds);
    return err;
}

/* st: the teacher path may name a checkpoint file or a run folder (its best.h5). */
static void teacher_path(const struct scorr_config *c, char *out, size_t n)
{
    struct stat st;
    if (stat(c->teacher.checkpoint, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out, n, "%s/best.h5", c->teacher.checkpoint);
    else
        snprintf(out, n, "%s", c->teacher.checkpoint);
}

/* Batch-norm statistics summed over the data-parallel group (SyncBatchNorm:
 * include/scorr/batchnorm.h). Inside the model's forward and backward, so a
 * failure cannot be returned: it aborts every rank. */
static void bn_sync_sum(void *ctx, double *buf, int n)
{
    struct trainer *t = ctx;
    const double c0 = scorr_now();
    if (scorr_comm_sum_f64(t->group, buf, (size_t)n)) {
        scorr_error_print(stderr, "scorr_train (batch-norm statistics)");
        scorr_comm_abort(t->world, 1);
    }
    t->t_comm += scorr_now() - c0;
}

/* Gaps of untrained floats up to this size are sent with their neighbours
 * (one call instead of two; batch-norm buffers sit between the weights). */
#define SPAN_GAP 65536

/* n->spans from the model's parameter table (after its trainable flags are
 * final). */
static int grad_spans(struct train_net *n)
{
    int err = 0;
    const struct scorr_params *tab = scorr_model_params(n->model);
    n->spans = calloc((size_t)tab->n + 1, sizeof *n->spans);
    n->nspans = 0;
    SCORR_REQUIRE(n->spans, SCORR_ENOMEM, "out of memory for the gradient spans");
    for (int i = 0; i < tab->n; i++) {
        const struct scorr_param *e = &tab->p[i];
        if (e->kind != SCORR_PARAM_WEIGHT || !e->trainable) continue;
        struct grad_span *last = n->nspans ? &n->spans[n->nspans - 1] : NULL;
        /* offsets grow in table order (params.c) */
        if (last && e->offset - (last->off + last->len) <= SPAN_GAP)
            last->len = e->offset + e->numel - last->off;
        else
            n->spans[n->nspans++] = (struct grad_span){e->offset, e->numel};
    }
done:
    return err;
}

/* share: a network of this process whose workspace and gradients (and with
 * model.memory small its activation arena) this one uses (mt on one rank:
 * scorr_config_model_sharing; the two networks' calls never overlap), or
 * NULL. */
static int create_net(struct trainer *t, struct train_net *n, int id,
                      const struct scorr_model *share)
{
    int err = 0;
    struct scorr_model_config mc;
    scorr_config_model(&t->cfg, t->B, 1, &mc);
    /* Each network has its own initialisation: the seed and the network id. */
    SCORR_TRY(scorr_model_create_sharing(&mc, (uint64_t)t->cfg.seed * 2 + (uint64_t)id, share,
                                         share ? scorr_config_model_sharing(&t->cfg) : 0,
                                         &n->model));
    n->id = id;
    if (t->cfg.model.backbone.batchnorm == SCORR_BN_BATCH && t->group_size > 1) {
        t->bn_sync = (struct scorr_bn_sync){.sum = bn_sync_sum, .ctx = t, .nranks = t->group_size};
        scorr_model_set_bn_sync(n->model, &t->bn_sync);
    }
    SCORR_TRY(train_load_initial(t, n));
    scorr_params_set_trainable(scorr_model_params_mut(n->model), SCORR_GROUP_BACKBONE,
                               !t->cfg.model.backbone.freeze);
    SCORR_TRY(scorr_adamw_init(&n->opt, scorr_model_params(n->model), &t->cfg));
    SCORR_TRY(grad_spans(n));
    size_t npos = (size_t)t->B * t->G * t->G;
    n->flow = scorr_aligned_calloc(t->flow_floats * sizeof(float));
    n->dflow = scorr_aligned_calloc(t->flow_floats * sizeof(float));
    n->values = scorr_aligned_calloc(npos * sizeof(float));
    n->rank_values = scorr_aligned_calloc(npos * sizeof(float));
    n->keep = scorr_aligned_calloc(npos);
    n->keep_mask = scorr_aligned_calloc(npos);
    SCORR_REQUIRE(n->flow && n->dflow && n->values && n->rank_values && n->keep && n->keep_mask,
                  SCORR_ENOMEM, "out of memory for the flow buffers");
    n->val_pck = -1;
done:
    return err;
}

static void free_net(struct train_net *n)
{
    if (n->model) scorr_model_free(n->model);
    scorr_adamw_free(&n->opt);
    scorr_aligned_free(n->flow);
    scorr_aligned_free(n->dflow);
    scorr_aligned_free(n->values);
    scorr_aligned_free(n->rank_values);
    scorr_aligned_free(n->keep);
    scorr_aligned_free(n->keep_mask);
    free(n->spans);
    grad_sync_free(&n->sync);
    memset(n, 0, sizeof *n);
}

/* Everything a rank builds for itself; failures agreed on by the caller. */
static int setup_local(struct trainer *t)
{
    int err = 0;
    const struct scorr_config *c = &t->cfg;
    SCORR_TRY(check_inputs(t));
    /* data */
    struct scorr_loader_config lc;
    scorr_loader_config_train(&lc, c->data.file, c->train.batch_size, (uint64_t)c->seed);
    lc.split = c->data.train_split;
    lc.rank = t->group_rank;
    lc.num_ranks = t->group_size;
    lc.augment = c->data.augment;
    lc.apply_flip = c->data.flip;
    lc.stride = 16 / c->model.upsample;
    /* pseudo-label precision when the split has dense flow */
    lc.dense = c->variant != SCORR_VARIANT_BASELINE && c->variant != SCORR_VARIANT_WARP;
    const int warp = c->variant == SCORR_VARIANT_WARP;
    if (warp) {
        lc.warp = 1;
        lc.warp_cfg = (struct scorr_warp_config){(float)c->warp.homography, c->warp.elastic.grid,
                                                 (float)c->warp.elastic.amplitude, c->warp.compose};
        lc.warp_repeat = c->warp.repeat;
        lc.apply_flip = 0;
    }
    SCORR_REQUIRE(16 % c->model.upsample == 0, SCORR_EINVAL,
                  "%s: model.upsample %d must divide 16 (the loss grid stride is 16 / upsample)",
                  t->config_path, c->model.upsample);
    SCORR_TRY(scorr_loader_open(&lc, &t->loader));
    t->steps_per_epoch = scorr_loader_steps_per_epoch(t->loader);
    if (c->train.max_steps_per_epoch > 0 && c->train.max_steps_per_epoch < t->steps_per_epoch)
        t->steps_per_epoch = c->train.max_steps_per_epoch;
    const char *vs = scorr_config_val_split(c);
    if (vs) {
        struct scorr_loader_config vc;
        scorr_loader_config_eval(&vc, c->data.file, vs, t->B);
        vc.stride = lc.stride;
        SCORR_TRY(scorr_loader_open(&vc, &t->val_loader));
        if (warp) {
            /* the same warps every validation and every run: a fixed seed,
             * epoch 0, one warp per image, no augmentation */
            if (scorr_loader_max_kps(t->val_loader) == 0) {
                scorr_loader_close(t->val_loader);
                t->val_loader = NULL;
            }
            vc.warp = 1;
            vc.warp_cfg = lc.warp_cfg;
            vc.warp_repeat = 1;
            vc.seed = SCORR_WARP_VAL_SEED;
            SCORR_TRY(scorr_loader_open(&vc, &t->val_warp_loader));
        }
    }
    t->G = t->S / lc.stride;
    t->flow_floats = (size_t)t->B * t->G * t->G * 2;
    /* networks */
    int first_id = t->mt_split ? (t->world_rank < t->world_size / 2 ? 0 : 1) : 0;
    for (int k = 0; k < t->n_nets; k++)
        SCORR_TRY(create_net(t, &t->nets[k], first_id + k, k ? t->nets[0].model : NULL));
    SCORR_REQUIRE(scorr_model_grid(t->nets[0].model) == t->G, SCORR_EINTERNAL,
                  "model grid %d != loader grid %d", scorr_model_grid(t->nets[0].model), t->G);
    if (t->n_nets == 2 && (scorr_config_model_sharing(c) & SCORR_SHARE_ACTIVATIONS)) {
        const struct scorr_params *tab = scorr_model_params(t->nets[1].model);
        t->rerun_b = 1;
        for (int i = 0; i < tab->n; i++)
            if (tab->p[i].kind == SCORR_PARAM_BUFFER) t->rerun_state_n += tab->p[i].numel;
        t->rerun_state = scorr_aligned_calloc((t->rerun_state_n + 1) * sizeof(float));
        SCORR_REQUIRE(t->rerun_state, SCORR_ENOMEM, "out of memory");
        scorr_info("model.memory small: the two networks share one activation arena (network "
                   "B's forward runs again before its backward)");
    }
    if (t->mt_split) {
        const struct scorr_params *tab = scorr_model_params(t->nets[0].model);
        t->other_params = scorr_aligned_calloc(tab->total * sizeof(float));
        SCORR_REQUIRE(t->other_params, SCORR_ENOMEM, "out of memory for the peer's parameters");
        SCORR_TRY(scorr_adamw_init(&t->other_opt, tab, c));
        t->peer_flow = scorr_aligned_calloc(t->flow_floats * sizeof(float));
        SCORR_REQUIRE(t->peer_flow, SCORR_ENOMEM, "out of memory");
    }
    if (c->variant == SCORR_VARIANT_ST) {
        struct scorr_model_config mc;
        char tp[4096];
        scorr_config_model(c, t->B, 0, &mc);
        SCORR_TRY(scorr_model_create(&mc, 0, &t->teacher));
        teacher_path(c, tp, sizeof tp);
        SCORR_TRY(scorr_ckpt_load_params(tp, "teacher checkpoint", c, 0,
                                         scorr_model_params(t->teacher),
                                         scorr_model_weights(t->teacher)));
        t->teacher_flow = scorr_aligned_calloc(t->flow_floats * sizeof(float));
        SCORR_REQUIRE(t->teacher_flow, SCORR_ENOMEM, "out of memory");
    }
    t->cand = scorr_aligned_calloc((size_t)t->B * t->G * t->G);
    SCORR_REQUIRE(t->cand, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(scorr_select_ws_init(&t->sel, (int64_t)c->train.batch_size * t->G * t->G,
                                   t->group_size));
done:
    return err;
}

static void trainer_free(struct trainer *t)
{
    train_output_close(t);
    for (int k = 1; k >= 0; k--) free_net(&t->nets[k]); /* nets[1] may use nets[0]'s workspace */
    if (t->teacher) scorr_model_free(t->teacher);
    if (t->loader) scorr_loader_close(t->loader);
    if (t->val_loader) scorr_loader_close(t->val_loader);
    if (t->val_warp_loader) scorr_loader_close(t->val_warp_loader);
    scorr_aligned_free(t->teacher_flow);
    scorr_aligned_free(t->peer_flow);
    scorr_aligned_free(t->rerun_state);
    scorr_aligned_free(t->other_params);
    scorr_adamw_free(&t->other_opt);
    scorr_aligned_free(t->cand);
    scorr_select_ws_free(&t->sel);
    if (t->group) scorr_comm_free(t->group);
    free(t->config_yaml);
    if (t->lock_fd >= 0) close(t->lock_fd); /* releases the folder's lock */
}

static void set_epoch_schedule(struct trainer *t)
{
    t->lr[SCORR_GROUP_HEAD] = scorr_sched_lr(&t->cfg, SCORR_GROUP_HEAD, t->epoch);
    t->lr[SCORR_GROUP_BACKBONE] = scorr_sched_lr(&t->cfg, SCORR_GROUP_BACKBONE, t->epoch);
    t->lambda = scorr_sched_pseudo_weight(&t->cfg, t->epoch);
    t->ratio = scorr_sched_keep_ratio(&t->cfg, t->epoch);
    if (t->step_in_epoch > 0) return; /* resumed mid-epoch: the sums come from the checkpoint */
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        n->sum_loss = n->sum_loss_gt = n->sum_loss_pseudo = 0;
        memset(n->sum_pq, 0, sizeof n->sum_pq);
        n->epoch_steps = 0;
    }
}

/* Stop requested (signal on any rank, <output>/STOP on rank 0, or the step
 * budget)? Same answer on all. The same reduction tells every rank whether a
 * network diverged on any of them (train_step): then all fail, before any
 * checkpoint is written. */
static int should_stop(struct trainer *t, const struct scorr_train_options *opt, int *stop)
{
    int err = 0;
    scorr_watchdog_phase("agreeing whether to stop (signals, STOP file, divergence)");
    const int sig = scorr_signal_pending();
    double f[4] = {sig ? 1 : 0, t->diverged[0] ? 1 : 0, 0, 0};
    if (t->world_rank == 0 && t->stop_path[0] && access(t->stop_path, F_OK) == 0)
        f[2] = t->stop_file = 1;
    if (opt && opt->stop_after_steps > 0 && t->run_steps >= opt->stop_after_steps) f[3] = 1;
    SCORR_TRY(scorr_comm_max_f64(t->world, f, 4));
    *stop = f[0] > 0 || f[2] > 0 || f[3] > 0;
    if (*stop && !t->stop_why[0]) {
        if (f[2] > 0)
            snprintf(t->stop_why, sizeof t->stop_why, "%s exists", t->stop_path);
        else if (sig)
            snprintf(t->stop_why, sizeof t->stop_why, "signal %s received",
                     sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT"
                                                : sig == SIGUSR1 ? "SIGUSR1" : "?");
        else if (f[0] > 0)
            snprintf(t->stop_why, sizeof t->stop_why, "a signal reached another rank");
        else
            snprintf(t->stop_why, sizeof t->stop_why, "--stop-after-steps %lld reached",
                     (long long)opt->stop_after_steps);
    }
    if (f[1] > 0) {
        if (!t->diverged[0])
            SCORR_FAIL(SCORR_EPEER, "a network diverged on another rank (its message is "
                                    "above); stopping with it");
        err = scorr_error_set(SCORR_ENUMERIC, __FILE__, __LINE__, __func__, "%s", t->diverged);
        const struct scorr_config *c = &t->cfg;
        const double lr = c->optim.lr > c->optim.lr_backbone ? c->optim.lr : c->optim.lr_backbone;
        if (lr * c->optim.weight_decay >= 1)
            scorr_error_hint("optim.lr x optim.weight_decay = %g >= 1 makes AdamW's decay factor "
                             "(1 - lr x weight_decay) zero or negative: lower optim.lr, "
                             "optim.lr_backbone or optim.weight_decay",
                             lr * c->optim.weight_decay);
        else
            scorr_error_hint("lower optim.lr / optim.lr_backbone, or set optim.grad_clip");
        goto done;
    }
done:
    return err;
}

static void progress_text(const struct trainer *t, char *buf, size_t n)
{
    const struct train_net *a = &t->nets[0];
    if (t->n_nets == 2)
        snprintf(buf, n, "ep %d loss %.3f/%.3f", t->epoch, a->loss, t->nets[1].loss);
    else
        snprintf(buf, n, "ep %d loss %.3f (gt %.3f pseudo %.3f)", t->epoch, a->loss, a->loss_gt,
                 a->loss_pseudo);
}

/* Mean losses and pseudo-label quality counts of the epoch of both networks,
 * known to every rank (in mt over two groups each group's first rank
 * contributes its own network's). */
static int share_epoch_losses(struct trainer *t)
{
    int err = 0;
    enum { NV = 3 + 2 * SCORR_PQ_SETS };
    double v[2][NV] = {{0}};
    for (int k = 0; k < t->n_nets; k++) {
        const struct train_net *n = &t->nets[k];
        if (t->mt_split && t->group_rank != 0) continue;
        double s = n->epoch_steps ? (double)n->epoch_steps : 1;
        v[n->id][0] = n->sum_loss / s;
        v[n->id][1] = n->sum_loss_gt / s;
        v[n->id][2] = n->sum_loss_pseudo / s;
        for (int j = 0; j < 2 * SCORR_PQ_SETS; j++) v[n->id][3 + j] = (double)n->sum_pq[j];
    }
    if (t->mt_split) SCORR_TRY(scorr_comm_sum_f64(t->world, &v[0][0], 2 * NV));
    for (int id = 0; id < 2; id++) {
        memcpy(t->epoch_loss[id], v[id], sizeof t->epoch_loss[id]);
        memcpy(t->epoch_pq[id], v[id] + 3, sizeof t->epoch_pq[id]);
    }
done:
    return err;
}

static int run_epochs(struct trainer *t, const struct scorr_train_options *opt, int *stopped)
{
    int err = 0;
    const struct scorr_config *c = &t->cfg;
    int64_t total = (int64_t)c->train.epochs * t->steps_per_epoch;
    scorr_progress_start(&t->progress, "train", total,
                         (int64_t)t->epoch * t->steps_per_epoch + t->step_in_epoch, 60);
    *stopped = 0;
    /* Test hook (test_slurm_preempt): every step sleeps this long, so that a
     * signal sent after a few steps always lands mid-run on a fast machine. */
    const char *slow = getenv("SCORR_TEST_STEP_SLEEP_MS");
    const long slow_ms = slow ? atol(slow) : 0;
    while (t->epoch < c->train.epochs) {
        double te = scorr_now();
        set_epoch_schedule(t);
        while (t->step_in_epoch < t->steps_per_epoch) {
            const struct scorr_batch *b;
            const double ts = scorr_now();
            scorr_watchdog_phase("loading the batch");
            int local = scorr_loader_load_step(t->loader, t->epoch, t->step_in_epoch, &b);
            scorr_watchdog_phase("agreeing every rank loaded its batch");
            SCORR_TRY(scorr_comm_agree(t->world, local));
            const double ge = t->t_grad_exposed;
            SCORR_TRY(train_step(t, b));
            if (t->release == 2) train_release_memory(t);
            scorr_watchdog_beat(t->global_step + 1);
            if (slow_ms > 0) usleep((useconds_t)slow_ms * 1000);
            if (t->run_steps > 0) {
                t->t_steps += scorr_now() - ts;
                t->t_grad_timed += t->t_grad_exposed - ge;
                t->steps_timed++;
                scorr_watchdog_step_time(scorr_now() - ts);
            }
            t->step_in_epoch++;
            t->global_step++;
            t->run_steps++;
            if (c->log.every_steps > 0 && t->global_step % c->log.every_steps == 0)
                train_output_step(t);
            char txt[128];
            progress_text(t, txt, sizeof txt);
            scorr_progress_update(&t->progress,
                                  (int64_t)t->epoch * t->steps_per_epoch + t->step_in_epoch, txt);
            SCORR_TRY(should_stop(t, opt, stopped));
            if (t->step_in_epoch == t->steps_per_epoch) break; /* the epoch end saves */
            if (*stopped) {
                SCORR_TRY(train_save_checkpoint(t));
                scorr_info("stopped at epoch %d, step %lld (%s): checkpoint written; run the "
                           "same command again to continue",
                           t->epoch, (long long)t->step_in_epoch, t->stop_why);
                goto done;
            }
            if (c->checkpoint.every_steps > 0 && t->global_step % c->checkpoint.every_steps == 0)
                SCORR_TRY(train_save_checkpoint(t));
        }
        /* Epoch end: validation (and best.h5), metrics, then the checkpoint
         * that resumes at the start of the next epoch. */
        t->val_last[0] = t->val_last[1] = -1;
        t->val_epe_last = -1;
        int due = (t->val_loader || t->val_warp_loader) &&
                  ((t->epoch + 1) % c->validation.every_epochs == 0 ||
                   t->epoch + 1 == c->train.epochs);
        if (due) SCORR_TRY(train_validate(t));
        scorr_watchdog_phase("sharing the epoch's losses");
        SCORR_TRY(share_epoch_losses(t));
        train_output_epoch(t, scorr_now() - te);
        if (due && c->variant == SCORR_VARIANT_WARP && t->val_last[0] >= 0)
            scorr_info("epoch %d: val EPE %.4f (best %.4f at epoch %d), PCK@%g %.2f", t->epoch,
                       t->val_epe_last, t->best_pck, t->best_epoch, c->validation.alpha,
                       t->val_last[0]);
        else if (due && c->variant == SCORR_VARIANT_WARP)
            scorr_info("epoch %d: val EPE %.4f (best %.4f at epoch %d)", t->epoch,
                       t->val_epe_last, t->best_pck, t->best_epoch);
        else if (due && c->variant == SCORR_VARIANT_MT)
            scorr_info("epoch %d: val PCK@%g %.2f / %.2f (best %.2f at epoch %d)", t->epoch,
                       c->validation.alpha, t->val_last[0], t->val_last[1], t->best_pck,
                       t->best_epoch);
        else if (due)
            scorr_info("epoch %d: val PCK@%g %.2f (best %.2f at epoch %d)", t->epoch,
                       c->validation.alpha, t->val_last[0], t->best_pck, t->best_epoch);
        t->epoch++;
        t->step_in_epoch = 0;
        SCORR_TRY(train_save_checkpoint(t));
        if (*stopped && t->epoch < c->train.epochs) {
            scorr_info("stopped at the end of epoch %d (%s): checkpoint written; run the same "
                       "command again to continue",
                       t->epoch - 1, t->stop_why);
            goto done;
        }
        *stopped = 0;
    }
    scorr_progress_end(&t->progress, NULL);
done:
    return err;
}

int scorr_train_run(const struct scorr_comm *world, const char *config_path,
                    const struct scorr_train_options *opt)
{
    int err = 0, local = 0, stopped = 0, resumed = 0;
    struct trainer *t = calloc(1, sizeof *t);
    SCORR_REQUIRE(t, SCORR_ENOMEM, "out of memory");
    double t0 = scorr_now();
    t->world = world;
    t->world_rank = scorr_comm_rank(world);
    t->world_size = scorr_comm_size(world);
    t->best_epoch = -1;
    t->best_pck = -1;
    t->dump_grads = opt ? opt->dump_grads : NULL;
    t->from_scratch = opt ? opt->from_scratch : 0;
    /* test hook (test_train_memory): when the models' arenas are given back */
    const char *release = getenv("SCORR_TEST_RELEASE");
    t->release = !release ? 1 : !strcmp(release, "0") ? 0 : !strcmp(release, "step") ? 2 : -1;
    SCORR_REQUIRE(t->release >= 0, SCORR_EINVAL,
                  "SCORR_TEST_RELEASE: expected 0 or step, found '%s'", release);
    t->lock_fd = -1;
    t->val_last[0] = t->val_last[1] = -1;
    t->val_epe_last = -1;
    snprintf(t->config_path, sizeof t->config_path, "%s", config_path);

    /* 1. Config: rank 0 reads, all parse the same bytes, all fail together. */
    SCORR_TRY(scorr_config_load(world, config_path, &t->cfg));
    SCORR_TRY(plan_layout(t)); /* same decision everywhere: no agreement needed */
    SCORR_TRY(scorr_config_emit(&t->cfg, &t->config_yaml));
    if (t->world_rank == 0)
        SCORR_TRY(scorr_path_join(t->stop_path, sizeof t->stop_path, t->cfg.output, "STOP"));
    /* Signals from here on: one during the start-up stops the run after its
     * first step with a checkpoint, instead of killing it before it has one. */
    scorr_signals_install();
    /* From here on a stuck rank or network ends the job instead of hanging it. */
    scorr_watchdog_phase("start-up (output folder, data, networks, resume)");
    char marker[sizeof t->cfg.output + 16];
    snprintf(marker, sizeof marker, "%s/.stalled", t->cfg.output);
    scorr_watchdog_marker(marker);
    SCORR_TRY(scorr_watchdog_start(world, t->cfg.train.stall_timeout));

    /* 2. Output folder (rank 0), then everything local, agreed on. */
    if (t->world_rank == 0) {
        local = train_output_lock(t);
        if (!local) local = scorr_config_write_output(&t->cfg);
    }
    SCORR_TRY(scorr_comm_agree(world, local));
    int color = t->mt_split ? (t->world_rank < t->world_size / 2 ? 0 : 1) : 0;
    SCORR_TRY(scorr_comm_split(world, color, t->world_rank, &t->group));
    t->group_rank = scorr_comm_rank(t->group);
    t->group_size = scorr_comm_size(t->group);
    t->partner = t->mt_split ? (t->world_rank + t->world_size / 2) % t->world_size : t->world_rank;
    local = setup_local(t);
    SCORR_TRY(scorr_comm_agree(world, local));
    /* the gradient exchange (collective over the group: after the agreement) */
    if (t->group_size > 1) {
        for (int k = 0; k < t->n_nets && !local; k++)
            local = grad_sync_init(&t->nets[k].sync, t->group,
                                   scorr_model_grads(t->nets[k].model), t->nets[k].spans,
                                   t->nets[k].nspans, t->cfg.train.bucket_mb,
                                   t->cfg.train.allreduce_dtype == SCORR_ALLREDUCE_BF16
                                       ? SCORR_SUM_BF16
                                       : SCORR_SUM_F32);
        SCORR_TRY(scorr_comm_agree(world, local));
    }

    /* 3. Resume if the output folder has a checkpoint. */
    SCORR_TRY(train_try_resume(t, &resumed));
    if (!resumed) SCORR_TRY(train_save_init(t));
    if (t->epoch >= t->cfg.train.epochs) {
        scorr_info("%s: already trained (%d epochs); nothing to do", t->cfg.output,
                   t->cfg.train.epochs);
        /* The finished run's summary stays (its timings and ranks); only a
         * run killed between its last checkpoint and the summary gets one. */
        local = 0;
        if (t->world_rank == 0 && !train_output_finished(t))
            local = train_output_summary(t, 1, scorr_now() - t0);
        SCORR_TRY(scorr_comm_agree(world, local));
        goto done;
    }
    local = train_output_open(t, resumed);
    SCORR_TRY(scorr_comm_agree(world, local));
    char prec[96];
    train_precision_text(t, prec, sizeof prec);
    scorr_info("%s: %s, %d rank%s (%s), %d pairs per rank-step, %lld steps per epoch, %d epochs, "
               "grid %dx%d, %s",
               t->cfg.name, scorr_variant_name(t->cfg.variant), t->world_size,
               t->world_size > 1 ? "s" : "",
               t->mt_split ? "two groups, one per network" : "one data-parallel group", t->B,
               (long long)t->steps_per_epoch, t->cfg.train.epochs, t->G, t->G, prec);
    if (t->cfg.variant == SCORR_VARIANT_MT && t->cfg.model.weights[0] && t->world_rank == 0)
        scorr_warn("%s: model.weights gives both mt networks the same weights, head included; "
                   "fed the same batches they stay identical and teach each other nothing new "
                   "(model.backbone.weights keeps their heads' own initialisations)",
                   t->config_path);

    /* 4. Train. */
    SCORR_TRY(run_epochs(t, opt, &stopped));
    if (t->steps_timed > 0)
        scorr_info("training steps: %.3f s per step, %.2f pairs/s (%lld steps, the first left "
                   "out; data loading included), communication %.1f%% of step compute",
                   t->t_steps / (double)t->steps_timed,
                   (double)t->cfg.train.batch_size * (double)t->steps_timed / t->t_steps,
                   (long long)t->steps_timed,
                   100.0 * t->t_comm / (t->t_compute > 0 ? t->t_compute : 1));
    SCORR_TRY(train_output_summary(t, !stopped, scorr_now() - t0));
    if (!stopped && t->cfg.variant == SCORR_VARIANT_WARP)
        scorr_info("done: best val EPE %.4f (grid units) at epoch %d; %s/best.h5", t->best_pck,
                   t->best_epoch, t->cfg.output);
    else if (!stopped)
        scorr_info("done: best val PCK@%g %.2f at epoch %d%s; %s/best.h5", t->cfg.validation.alpha,
                   t->best_pck, t->best_epoch,
                   t->cfg.variant == SCORR_VARIANT_MT ? (t->best_peer ? " (network B)" : " (network A)") : "",
                   t->cfg.output);
    /* acted on: a later run of the same command continues */
    if (t->stop_file && unlink(t->stop_path) != 0 && errno != ENOENT)
        scorr_warn("cannot remove %s: %s", t->stop_path, strerror(errno));
done:
    scorr_watchdog_stop();
    if (t) trainer_free(t);
    free(t);
    if (!err && stopped) return SCORR_TRAIN_STOPPED;
    return err;
}
