/* Checkpoints of a run (include/scorr/checkpoint.h holds the format). World
 * rank 0 writes. With mt over two rank groups, network A lives on group A
 * and network B on group B: B's first rank sends its state to world rank 0
 * before a write that needs it. */
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/h5.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/watchdog.h"
#include "scorr/weights.h"
#include "trainer_internal.h"

static void fill_meta(const struct trainer *t, struct scorr_ckpt_meta *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->variant, sizeof m->variant, "%s", scorr_variant_name(t->cfg.variant));
    m->epoch = t->epoch;
    m->steps_in_epoch = t->step_in_epoch;
    m->step = t->global_step;
    m->best_epoch = t->best_epoch;
    m->best_pck = t->best_pck;
    m->best_peer = t->best_peer;
    m->seed = (uint64_t)t->cfg.seed;
}

/* mt over two groups: bring network B's parameters (and, with_opt, its Adam
 * state) from world rank N/2 to world rank 0's other_* buffers. Collective
 * over those two ranks; a no-op elsewhere. */
static int fetch_peer(struct trainer *t, int with_opt)
{
    int err = 0;
    const int src = t->world_size / 2;
    const struct scorr_params *tab = scorr_model_params(t->nets[0].model);
    const size_t bytes = tab->total * sizeof(float);
    if (t->world_rank == src) {
        struct train_net *n = &t->nets[0];
        SCORR_TRY(scorr_comm_send(t->world, 0, scorr_model_weights(n->model), bytes));
        if (with_opt) {
            SCORR_TRY(scorr_comm_send(t->world, 0, n->opt.m, bytes));
            SCORR_TRY(scorr_comm_send(t->world, 0, n->opt.v, bytes));
            SCORR_TRY(scorr_comm_send(t->world, 0, &n->opt.step, sizeof n->opt.step));
        }
    } else if (t->world_rank == 0) {
        SCORR_TRY(scorr_comm_recv(t->world, src, t->other_params, bytes));
        if (with_opt) {
            SCORR_TRY(scorr_comm_recv(t->world, src, t->other_opt.m, bytes));
            SCORR_TRY(scorr_comm_recv(t->world, src, t->other_opt.v, bytes));
            SCORR_TRY(scorr_comm_recv(t->world, src, &t->other_opt.step, sizeof t->other_opt.step));
        }
    }
done:
    return err;
}

static struct scorr_ckpt_net ckpt_net(struct train_net *n)
{
    struct scorr_ckpt_net c = {scorr_model_params(n->model), scorr_model_weights(n->model), &n->opt};
    return c;
}

/* Every value about to be written (parameters, buffers, Adam moments) must be
 * finite: a checkpoint or best.h5 never holds a diverged state. Local. */
static int check_finite(const struct trainer *t, const struct scorr_ckpt_net *net,
                        const char *net_name, const char *file)
{
    int err = 0;
    const float *arrays[3] = {net->params, net->opt ? net->opt->m : NULL,
                              net->opt ? net->opt->v : NULL};
    static const char *const what[3] = {"weights", "Adam first moments", "Adam second moments"};
    for (int a = 0; a < 3; a++) {
        if (!arrays[a]) continue;
        size_t at = 0;
        int i = scorr_params_find_nonfinite(net->table, arrays[a], 1, a > 0, &at);
        if (i >= 0) {
            err = scorr_error_set(SCORR_ENUMERIC, __FILE__, __LINE__, __func__,
                                  "training diverged by epoch %d (global step %lld): the %s of "
                                  "'%s'%s hold %g (element %zu); %s not written, the last "
                                  "checkpoint is the last good state",
                                  t->epoch, (long long)t->global_step, what[a],
                                  net->table->p[i].name, net_name,
                                  (double)arrays[a][net->table->p[i].offset + at], at, file);
            scorr_error_hint("lower optim.lr / optim.lr_backbone / optim.weight_decay, or set "
                             "optim.grad_clip");
            goto done;
        }
    }
done:
    return err;
}

/* The running loss sums of the current epoch of both networks, known to
 * world rank 0 (in mt over two groups each group's first rank contributes
 * its network's). Collective. */
_Static_assert(SCORR_CKPT_EPOCH_SUMS == 4 + 2 * SCORR_PQ_SETS, "the /epoch_sums columns");

static int epoch_sums(const struct trainer *t, double sums[2][SCORR_CKPT_EPOCH_SUMS])
{
    int err = 0;
    memset(sums, 0, 2 * SCORR_CKPT_EPOCH_SUMS * sizeof(double));
    for (int k = 0; k < t->n_nets; k++) {
        const struct train_net *n = &t->nets[k];
        if (t->mt_split && t->group_rank != 0) continue;
        sums[n->id][0] = n->sum_loss;
        sums[n->id][1] = n->sum_loss_gt;
        sums[n->id][2] = n->sum_loss_pseudo;
        sums[n->id][3] = (double)n->epoch_steps;
        for (int j = 0; j < 2 * SCORR_PQ_SETS; j++) sums[n->id][4 + j] = (double)n->sum_pq[j];
    }
    if (t->mt_split) SCORR_TRY(scorr_comm_sum_f64(t->world, &sums[0][0], 2 * SCORR_CKPT_EPOCH_SUMS));
done:
    return err;
}

int train_save_checkpoint(struct trainer *t)
{
    /* HDF5's heap grows by the object headers of every tensor while it
     * writes: the models' arenas (dead between steps) are out of the
     * resident set meanwhile (docs/performance.md, "Peak memory") */
    train_release_memory(t);
    int err = 0, local = 0;
    double sums[2][SCORR_CKPT_EPOCH_SUMS];
    scorr_watchdog_phase("writing a checkpoint (the peer network's state travels to rank 0 in mt)");
    if (t->mt_split) SCORR_TRY(fetch_peer(t, 1));
    SCORR_TRY(epoch_sums(t, sums));
    if (t->world_rank == 0) {
        struct scorr_ckpt_meta meta;
        fill_meta(t, &meta);
        memcpy(meta.epoch_sums, sums, sizeof sums);
        struct scorr_ckpt_net a = ckpt_net(&t->nets[0]), peer;
        const struct scorr_ckpt_net *pp = NULL;
        if (t->n_nets == 2) {
            peer = ckpt_net(&t->nets[1]);
            pp = &peer;
        } else if (t->mt_split) {
            peer.table = a.table;
            peer.params = t->other_params;
            peer.opt = &t->other_opt;
            pp = &peer;
        }
        char path[4096];
        local = check_finite(t, &a, pp ? " (network A)" : "", "the checkpoint is");
        if (!local && pp) local = check_finite(t, pp, " (network B)", "the checkpoint is");
        if (!local)
            local = scorr_ckpt_save(t->cfg.output, &meta, t->config_yaml, &a, pp,
                                    t->cfg.checkpoint.keep_last, path);
        if (!local) scorr_debug("checkpoint: %s", path);
        scorr_h5_trim(); /* the write's heap, before the arenas fill again */
    }
    scorr_watchdog_phase("agreeing the checkpoint was written");
    SCORR_TRY(scorr_comm_agree(t->world, local));
    scorr_watchdog_beat(-1);
done:
    return err;
}

int train_save_best(struct trainer *t, int which)
{
    train_release_memory(t); /* as train_save_checkpoint */
    int err = 0, local = 0;
    const float *params = NULL;
    if (t->mt_split && which == 1) SCORR_TRY(fetch_peer(t, 0));
    if (t->world_rank == 0) {
        if (t->mt_split)
            params = which == 1 ? t->other_params : scorr_model_weights(t->nets[0].model);
        else
            params = scorr_model_weights(t->nets[which].model);
        struct scorr_ckpt_meta meta;
        fill_meta(t, &meta);
        struct scorr_ckpt_net net = {scorr_model_params(t->nets[0].model), (float *)params, NULL};
        local = check_finite(t, &net, "", "best.h5 is");
        if (!local) local = scorr_ckpt_save_best(t->cfg.output, &meta, t->config_yaml, &net);
        scorr_h5_trim();
    }
    SCORR_TRY(scorr_comm_agree(t->world, local));
done:
    return err;
}

int train_save_init(struct trainer *t)
{
    train_release_memory(t); /* as train_save_checkpoint */
    int err = 0, local = 0;
    if (t->world_rank == 0) {
        struct scorr_ckpt_meta meta;
        fill_meta(t, &meta);
        struct scorr_ckpt_net net = {scorr_model_params(t->nets[0].model),
                                     scorr_model_weights(t->nets[0].model), NULL};
        char path[4096];
        local = scorr_path_join(path, sizeof path, t->cfg.output, "init.h5");
        if (!local) local = scorr_ckpt_write(path, &meta, t->config_yaml, &net, NULL);
        scorr_h5_trim();
    }
    SCORR_TRY(scorr_comm_agree(t->world, local));
done:
    return err;
}

int train_try_resume(struct trainer *t, int *resumed)
{
    int err = 0, local = 0, found = 0;
    char path[4096] = "";
    *resumed = 0;
    if (t->world_rank == 0) local = scorr_ckpt_find_latest(t->cfg.output, path, sizeof path, &found);
    SCORR_TRY(scorr_comm_agree(t->world, local));
    if (t->world_rank == 0 && !found) {
        /* Checkpoints there, none readable: starting over would silently
         * throw the run away; only on request. */
        int n = 0;
        local = scorr_ckpt_count(t->cfg.output, &n);
        if (!local && n > 0 && !t->from_scratch) {
            local = scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                                    "'%s/checkpoints' holds %d checkpoint file%s and none can be "
                                    "read (the warnings above say why); refusing to start the "
                                    "run again from step 0",
                                    t->cfg.output, n, n == 1 ? "" : "s");
            scorr_error_hint("to start over anyway, run scorr_train with --from-scratch");
        } else if (!local && n > 0) {
            scorr_warn("every checkpoint in '%s/checkpoints' is unreadable; starting from step 0 "
                       "(--from-scratch)", t->cfg.output);
        }
    }
    SCORR_TRY(scorr_comm_agree(t->world, local));
    SCORR_TRY(scorr_comm_bcast(t->world, &found, sizeof found, 0));
    if (!found) goto done;
    SCORR_TRY(scorr_comm_bcast(t->world, path, sizeof path, 0));

    struct scorr_ckpt_meta meta;
    struct scorr_ckpt_net mine = ckpt_net(&t->nets[0]), second, other;
    const struct scorr_ckpt_net *a = &mine, *peer = NULL;
    if (t->n_nets == 2) {
        second = ckpt_net(&t->nets[1]);
        peer = &second;
    } else if (t->mt_split) {
        other.table = mine.table;
        other.params = t->other_params;
        other.opt = &t->other_opt;
        if (t->nets[0].id == 0) {
            peer = &other;
        } else {
            a = &other;
            peer = &mine;
        }
    }
    local = scorr_ckpt_load(path, &t->cfg, &meta, (struct scorr_ckpt_net *)a,
                            (struct scorr_ckpt_net *)peer);
    SCORR_TRY(scorr_comm_agree(t->world, local));
    t->epoch = (int)meta.epoch;
    t->step_in_epoch = meta.steps_in_epoch;
    t->global_step = meta.step;
    t->best_epoch = (int)meta.best_epoch;
    t->best_pck = meta.best_pck;
    t->best_peer = (int)meta.best_peer;
    /* the epoch so far: its running loss sums (set_epoch_schedule keeps them) */
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        n->sum_loss = meta.epoch_sums[n->id][0];
        n->sum_loss_gt = meta.epoch_sums[n->id][1];
        n->sum_loss_pseudo = meta.epoch_sums[n->id][2];
        n->epoch_steps = (int64_t)meta.epoch_sums[n->id][3];
        for (int j = 0; j < 2 * SCORR_PQ_SETS; j++)
            n->sum_pq[j] = (int64_t)meta.epoch_sums[n->id][4 + j];
    }
    *resumed = 1;
    scorr_info("resuming from %s (epoch %d, step %lld of the epoch, global step %lld)", path,
               t->epoch, (long long)t->step_in_epoch, (long long)t->global_step);
done:
    return err;
}

#define BACKBONE "feature_extraction.backbone."

/* The format attribute of an HDF5 file ("" when it has none). */
static int file_format(const char *path, char *fmt, size_t n)
{
    int err = 0;
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    SCORR_TRY(scorr_h5_open(&f, path));
    if (scorr_h5_get_attr_str(&f, "/", "format", fmt, n)) {
        scorr_error_clear();
        fmt[0] = 0;
    }
done:
    scorr_h5_close(&f);
    return err;
}

/* One initial-weights file: every tensor (whole) or the backbone's. */
static int load_initial(struct trainer *t, struct train_net *n, int whole)
{
    int err = 0;
    const struct scorr_config *c = &t->cfg;
    const char *path = whole ? c->model.weights : c->model.backbone.weights;
    const char *key = whole ? "model.weights" : "model.backbone.weights";
    const struct scorr_params *tab = scorr_model_params(n->model);
    float *w = scorr_model_weights(n->model);
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    struct scorr_params view = {NULL, 0, 0, 0};
    char fmt[64];
    if (!path[0]) return 0;
    SCORR_TRY(file_format(path, fmt, sizeof fmt));
    if (!strcmp(fmt, SCORR_CKPT_FORMAT)) {
        if (whole) {
            /* every tensor, exactly; a mismatch names the architecture key */
            SCORR_TRY(scorr_ckpt_load_params(path, key, c, 0, tab, w));
        } else {
            /* the backbone's tensors only: a view of the table without the head */
            struct scorr_ckpt_meta meta;
            SCORR_TRY(scorr_ckpt_inspect(path, &meta, NULL, NULL, NULL));
            view.p = malloc(sizeof *view.p * (size_t)(tab->n > 0 ? tab->n : 1));
            SCORR_REQUIRE(view.p, SCORR_ENOMEM, "out of memory");
            view.total = tab->total;
            for (int i = 0; i < tab->n; i++)
                if (!strncmp(tab->p[i].name, BACKBONE, strlen(BACKBONE))) view.p[view.n++] = tab->p[i];
            view.cap = view.n;
            SCORR_TRY(scorr_h5_open(&f, path));
            SCORR_TRY(scorr_weights_read_group(&f, "/params", &view, w, BACKBONE, NULL));
        }
    } else {
        /* a weights file (converted ImageNet weights): the reader checks it */
        SCORR_TRY(scorr_weights_load(path, tab, w, whole ? "" : BACKBONE, NULL));
    }
done:
    scorr_h5_close(&f);
    free(view.p);
    if (err) {
        /* say which key of which experiment file named the file */
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", scorr_error_message());
        err = scorr_error_set(err, __FILE__, __LINE__, __func__, "%s: %s: %s", t->config_path,
                              key, msg);
    }
    return err;
}

int train_load_initial(struct trainer *t, struct train_net *n)
{
    int err = 0;
    SCORR_TRY(load_initial(t, n, 1));
    SCORR_TRY(load_initial(t, n, 0));
done:
    return err;
}
