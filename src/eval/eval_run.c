/* The evaluation driver: a split's pairs through the loader and the flow
 * sources into the evaluator, ranks on contiguous shares (include/scorr/eval.h). */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "scorr/arena.h"
#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/loader.h"
#include "scorr/log.h"
#include "scorr/progress.h"

/* This rank's pairs, read and evaluated. Local. */
static int run_share(const struct scorr_eval_run *r, struct scorr_evaluator *ev, int64_t lo,
                     int64_t hi, int show_progress)
{
    int err = 0;
    struct scorr_loader *loader = NULL;
    struct scorr_dataset *ds = NULL;
    float *dense = NULL;
    uint8_t *fg = NULL;
    int64_t *idx = NULL;
    const struct scorr_eval_options *o = &ev->opt;
    const int need_gt = o->dense || o->pseudo;
    const int B = r->batch;
    SCORR_REQUIRE(B >= 1, SCORR_EINVAL, "--batch: expected a positive batch size, found %d", B);
    SCORR_REQUIRE(!o->pseudo || r->peer, SCORR_EINVAL,
                  "evaluation: pseudo-label quality requested without a peer network");
    struct scorr_loader_config lc;
    scorr_loader_config_eval(&lc, r->data, r->split, B);
    lc.stride = ev->stride;
    SCORR_TRY(scorr_loader_open(&lc, &loader));
    SCORR_REQUIRE(scorr_loader_image_size(loader) == ev->S &&
                      scorr_loader_num_pairs(loader) == ev->P,
                  SCORR_EINVAL,
                  "evaluation: '%s' split '%s' holds %lld pairs of %d px images; the evaluator "
                  "was set up for %lld pairs at %d px",
                  r->data, r->split, (long long)scorr_loader_num_pairs(loader),
                  scorr_loader_image_size(loader), (long long)ev->P, ev->S);
    if (need_gt) {
        SCORR_TRY(scorr_dataset_open(r->data, &ds));
        dense = scorr_aligned_calloc((size_t)ev->S * ev->S * 2 * sizeof(float));
        fg = scorr_aligned_calloc((size_t)ev->S * ev->S);
        SCORR_REQUIRE(dense && fg, SCORR_ENOMEM, "out of memory");
    }
    const int use_fg = need_gt && scorr_dataset_meta(ds)->has_fg_mask;
    idx = malloc(sizeof(int64_t) * (size_t)B);
    SCORR_REQUIRE(idx, SCORR_ENOMEM, "out of memory");
    struct scorr_progress prog;
    char label[64];
    snprintf(label, sizeof label, "eval %s", r->split);
    if (show_progress) scorr_progress_start(&prog, label, hi - lo, 0, 10.0);
    const size_t per = (size_t)ev->G * ev->G * 2;
    for (int64_t start = lo; start < hi; start += B) {
        int cnt = (int)(hi - start < B ? hi - start : B);
        for (int i = 0; i < cnt; i++) idx[i] = start + i;
        const struct scorr_batch *b;
        SCORR_TRY(scorr_loader_load_pairs(loader, 0, idx, cnt, &b));
        SCORR_REQUIRE(b->G == ev->G, SCORR_EINTERNAL, "loader grid %d != evaluator grid %d",
                      b->G, ev->G);
        const float *flow = NULL, *peer = NULL;
        SCORR_TRY(r->net->forward(r->net->ctx, b, &flow));
        if (o->pseudo) SCORR_TRY(r->peer->forward(r->peer->ctx, b, &peer));
        for (int i = 0; i < cnt; i++) {
            int64_t p = idx[i];
            if (need_gt) {
                SCORR_TRY(scorr_dataset_read_dense(ds, r->split, p, dense));
                if (use_fg) SCORR_TRY(scorr_dataset_read_fg_mask(ds, ev->split->trg_image[p], fg));
            }
            SCORR_TRY(scorr_evaluator_add(ev, p, flow + i * per, dense, use_fg ? fg : NULL,
                                          peer ? peer + i * per : NULL));
        }
        if (show_progress) scorr_progress_update(&prog, start + cnt - lo, NULL);
    }
    if (show_progress) scorr_progress_end(&prog, NULL);
done:
    if (loader) scorr_loader_close(loader);
    if (ds) scorr_dataset_close(ds);
    scorr_aligned_free(dense);
    scorr_aligned_free(fg);
    free(idx);
    return err;
}

int scorr_eval_run(const struct scorr_comm *c, const struct scorr_eval_run *r,
                   struct scorr_evaluator *ev)
{
    int err = 0;
    const int rank = c ? scorr_comm_rank(c) : 0, size = c ? scorr_comm_size(c) : 1;
    const int64_t P = ev->P;
    const int64_t lo = P * rank / size, hi = P * (rank + 1) / size;
    int local = run_share(r, ev, lo, hi, r->progress && rank == 0);
    if (c) {
        /* every rank stops together; the failed rank keeps its own message */
        SCORR_TRY(scorr_comm_agree(c, local));
    } else {
        SCORR_TRY(local);
    }
    SCORR_TRY(scorr_evaluator_reduce(ev, c));
    SCORR_REQUIRE(scorr_evaluator_pairs_done(ev) == P, SCORR_EINTERNAL,
                  "evaluation: %lld of %lld pairs evaluated",
                  (long long)scorr_evaluator_pairs_done(ev), (long long)P);
done:
    return err;
}
