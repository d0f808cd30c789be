/* Validation PCK of each network of a run: the ranks of a group split the
 * split's pairs into contiguous shares; each pair's PCK = 100 * correct / n
 * (the reference's per-image mean); the split's PCK is the mean over pairs.
 *
 * Variant warp: the dense EPE (grid units, as the training loss) over every
 * valid target cell of the validation split's warp pairs (fixed warps: one
 * per image, seed SCORR_WARP_VAL_SEED), pooled over cells; best.h5 is the
 * epoch with the lowest. The sparse PCK is computed as well when the split
 * has keypoints, for the log only. */
#include <math.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/watchdog.h"
#include "scorr/error.h"
#include "scorr/pck.h"
#include "trainer_internal.h"

/* PCK sum and pair count of one network over pairs [lo, hi). */
static int eval_share(struct trainer *t, struct train_net *n, int64_t lo, int64_t hi,
                      double *pck_sum, int64_t *pairs)
{
    int err = 0;
    enum scorr_pck_threshold mode = SCORR_PCK_BBOX;
    int custom = strcmp(t->cfg.validation.threshold, "auto") != 0;
    if (custom) SCORR_REQUIRE(scorr_pck_threshold_parse(t->cfg.validation.threshold, &mode) == 0,
                              SCORR_EINVAL, "validation.threshold: unknown mode '%s'",
                              t->cfg.validation.threshold);
    int64_t idx[64];
    SCORR_ASSERT(t->B <= 64);
    float pred[2 * 256];
    for (int64_t start = lo; start < hi; start += t->B) {
        int cnt = (int)(hi - start < t->B ? hi - start : t->B);
        for (int i = 0; i < t->B; i++) idx[i] = start + (i < cnt ? i : cnt - 1); /* pad */
        const struct scorr_batch *b;
        SCORR_TRY(scorr_loader_load_pairs(t->val_loader, 0, idx, t->B, &b));
        const float *flow = train_forward(n->model, b);
        const size_t per = (size_t)t->G * t->G * 2;
        for (int i = 0; i < cnt; i++) {
            int nk = b->num_kps[i];
            if (nk <= 0) continue;
            SCORR_ASSERT(nk <= 256);
            const float *sk = b->src_kps + (size_t)i * b->M * 2;
            const float *tk = b->trg_kps + (size_t)i * b->M * 2;
            scorr_flow_to_kps(pred, flow + i * per, t->G, t->S, tk, nk);
            float T = custom ? scorr_pck_threshold_value(mode, sk, nk, b->src_bbox + 4 * i, t->S)
                             : b->pck_thr[i];
            int ok = scorr_pck_count(pred, sk, nk, (float)t->cfg.validation.alpha, T);
            *pck_sum += 100.0 * ok / nk;
            (*pairs)++;
        }
        scorr_watchdog_beat(-1); /* a validation batch is progress too */
    }
done:
    return err;
}

/* Sum of the end-point errors over valid cells and their count, samples [lo, hi). */
static int epe_share(struct trainer *t, struct train_net *n, int64_t lo, int64_t hi, double *sum,
                     double *cells)
{
    int err = 0;
    int64_t idx[64];
    SCORR_ASSERT(t->B <= 64);
    const size_t G2 = (size_t)t->G * t->G;
    for (int64_t start = lo; start < hi; start += t->B) {
        int cnt = (int)(hi - start < t->B ? hi - start : t->B);
        for (int i = 0; i < t->B; i++) idx[i] = start + (i < cnt ? i : cnt - 1); /* pad */
        const struct scorr_batch *b;
        SCORR_TRY(scorr_loader_load_pairs(t->val_warp_loader, 0, idx, t->B, &b));
        const float *flow = train_forward(n->model, b);
        for (size_t i = 0; i < (size_t)cnt * G2; i++) {
            if (!b->mask[i]) continue;
            double dx = (double)flow[2 * i] - b->flow[2 * i];
            double dy = (double)flow[2 * i + 1] - b->flow[2 * i + 1];
            *sum += sqrt(dx * dx + dy * dy);
            *cells += 1;
        }
    }
done:
    return err;
}

static int validate_warp(struct trainer *t)
{
    int err = 0;
    struct train_net *n = &t->nets[0];
    double red[4] = {0, 0, 0, 0}; /* EPE sum, cells, PCK sum, pairs */
    int64_t P = scorr_loader_num_pairs(t->val_warp_loader);
    int64_t lo = P * t->group_rank / t->group_size, hi = P * (t->group_rank + 1) / t->group_size;
    scorr_model_set_training(n->model, 0);
    err = epe_share(t, n, lo, hi, &red[0], &red[1]);
    if (!err && t->val_loader) {
        int64_t pairs = 0;
        int64_t Q = scorr_loader_num_pairs(t->val_loader);
        err = eval_share(t, n, Q * t->group_rank / t->group_size,
                         Q * (t->group_rank + 1) / t->group_size, &red[2], &pairs);
        red[3] = (double)pairs;
    }
    scorr_model_set_training(n->model, 1);
    SCORR_TRY(scorr_comm_agree(t->group, err));
    SCORR_TRY(scorr_comm_sum_f64(t->group, red, 4));
    t->val_epe_last = red[1] > 0 ? red[0] / red[1] : -1;
    t->val_last[0] = n->val_pck = red[3] > 0 ? red[2] / red[3] : -1;
    if (t->val_epe_last >= 0 && (t->best_pck < 0 || t->val_epe_last < t->best_pck)) {
        t->best_pck = t->val_epe_last;
        t->best_epoch = t->epoch;
        t->best_peer = 0;
        SCORR_TRY(train_save_best(t, 0));
    }
done:
    return err;
}

int train_validate(struct trainer *t)
{
    /* the models' arenas out of the resident set while the validation
     * loader's HDF5 reads and best.h5's write add to the heap */
    train_release_memory(t);
    if (t->cfg.variant == SCORR_VARIANT_WARP) return validate_warp(t);
    int err = 0;
    int64_t P = scorr_loader_num_pairs(t->val_loader);
    int64_t lo = P * t->group_rank / t->group_size, hi = P * (t->group_rank + 1) / t->group_size;
    double res[2] = {-1, -1};
    for (int k = 0; k < t->n_nets; k++) {
        struct train_net *n = &t->nets[k];
        double red[2] = {0, 0};
        int64_t pairs = 0;
        scorr_watchdog_phase("validation");
        scorr_model_set_training(n->model, 0);
        err = eval_share(t, n, lo, hi, &red[0], &pairs);
        scorr_model_set_training(n->model, 1);
        red[1] = (double)pairs;
        scorr_watchdog_phase("summing the validation PCK over the group");
        SCORR_TRY(scorr_comm_agree(t->group, err));
        SCORR_TRY(scorr_comm_sum_f64(t->group, red, 2));
        n->val_pck = red[1] > 0 ? red[0] / red[1] : -1;
        res[n->id] = n->val_pck;
    }
    if (t->mt_split) {
        /* Each group knows its own network's PCK; share both with everyone. */
        double both[2] = {0, 0};
        if (t->group_rank == 0) both[t->nets[0].id] = t->nets[0].val_pck;
        SCORR_TRY(scorr_comm_sum_f64(t->world, both, 2));
        res[0] = both[0];
        res[1] = both[1];
    }
    /* Best so far: the better network of this epoch against the record. */
    int which = 0;
    double pck = res[0];
    if (t->cfg.variant == SCORR_VARIANT_MT && res[1] > res[0]) {
        which = 1;
        pck = res[1];
    }
    if (pck > t->best_pck) {
        t->best_pck = pck;
        t->best_epoch = t->epoch;
        t->best_peer = which;
        SCORR_TRY(train_save_best(t, which));
    }
    t->val_last[0] = res[0];
    t->val_last[1] = res[1];
done:
    return err;
}
