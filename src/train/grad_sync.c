/* The gradient exchange of one network over its data-parallel group
 * (trainer_internal.h, struct grad_sync).
 *
 * The trained spans of the flat gradient buffer are cut, from the top down,
 * into buckets of at most train.bucket_mb. The model's backward reports each
 * range of the parameter table whose gradients are final (the head first,
 * then the backbone blocks from the last down: scorr_model_set_grad_hook);
 * a bucket lying wholly in the final part is started at once as a
 * non-blocking deterministic sum (scorr_comm_sum_start) and every report
 * also lets the sums in flight move (scorr_comm_sum_test), so the exchange
 * runs under the rest of the backward. grad_sync_finish starts what is left
 * and waits. With bucket_mb 0 nothing starts before the backward ends.
 *
 * The sum of every element is the same whatever the bucket size (rank order,
 * scorr/comm.h), so the overlap changes no bit. */
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "trainer_internal.h"

/* Sums in flight at once; their workspaces bound the extra memory. */
#define SYNC_SLOTS 4
/* bucket_mb 0: the exchange after the backward goes in pieces of this many
 * floats (64 MiB); the pieces change no bit, they only bound the workspace */
#define AFTER_PIECE ((size_t)16 << 20)

static void hook(void *ctx, size_t lo, size_t hi);

int grad_sync_init(struct grad_sync *gs, const struct scorr_comm *group, float *grads,
                   const struct grad_span *spans, int nspans, double bucket_mb,
                   enum scorr_sum_dtype dtype)
{
    int err = 0;
    memset(gs, 0, sizeof *gs);
    gs->grads = grads;
    gs->overlap = bucket_mb > 0;
    size_t piece = AFTER_PIECE;
    if (gs->overlap) {
        piece = (size_t)(bucket_mb * (1 << 20) / sizeof(float));
        if (piece < 1) piece = 1;
        if (piece > AFTER_PIECE * 16) piece = AFTER_PIECE * 16;
    }
    /* buckets from the top of the buffer down: the backward's order */
    size_t total = 0;
    int cap = 0;
    for (int s = 0; s < nspans; s++) cap += (int)((spans[s].len + piece - 1) / piece);
    gs->buckets = calloc((size_t)cap + 1, sizeof *gs->buckets);
    SCORR_REQUIRE(gs->buckets, SCORR_ENOMEM, "out of memory for the gradient buckets");
    size_t maxlen = 0;
    for (int s = nspans - 1; s >= 0; s--) {
        size_t hi = spans[s].off + spans[s].len;
        while (hi > spans[s].off) {
            size_t lo = hi - spans[s].off > piece ? hi - piece : spans[s].off;
            gs->buckets[gs->nbuckets++] = (struct grad_span){lo, hi - lo};
            if (hi - lo > maxlen) maxlen = hi - lo;
            total += hi - lo;
            hi = lo;
        }
    }
    gs->nslots = gs->nbuckets < SYNC_SLOTS ? gs->nbuckets : SYNC_SLOTS;
    /* every slot is created even after a failure: each creation is collective */
    for (int i = 0; i < gs->nslots; i++) {
        int e = scorr_comm_sum_create(group, maxlen, dtype, &gs->slots[i]);
        if (e && !err) err = e;
    }
    SCORR_TRY(err);
    scorr_debug("gradient exchange: %zu floats in %d bucket(s) of up to %zu, %s, %s",
                    total, gs->nbuckets, maxlen, dtype == SCORR_SUM_BF16 ? "bf16" : "fp32",
                    gs->overlap ? "overlapping the backward" : "after the backward");
done:
    return err;
}

void grad_sync_free(struct grad_sync *gs)
{
    for (int i = 0; i < gs->nslots; i++) scorr_comm_sum_free(gs->slots[i]);
    free(gs->buckets);
    memset(gs, 0, sizeof *gs);
}

/* Wait for the oldest sum in flight. */
static int finish_oldest(struct grad_sync *gs)
{
    int err = 0;
    SCORR_TRY(scorr_comm_sum_wait(gs->slots[gs->next_done % gs->nslots]));
    gs->next_done++;
done:
    return err;
}

/* Let the sums in flight move, then start every bucket that lies wholly at
 * or above gs->ready while a slot is free. With `block` (after the
 * backward) a slot is freed by waiting for the oldest sum; inside the
 * backward never: a peer may be held in one of the backward's own
 * collectives (synchronised batch norm) until this rank gets there, and
 * it finishes its part of our sum only in its own hook calls. A bucket
 * uses slot (index % slots) on every rank, and a rank starts it only after
 * its own part of the slot's previous bucket is done, so messages on a
 * slot's communicator match in bucket order whenever each rank starts it. */
static int advance(struct grad_sync *gs, int block)
{
    int err = 0;
    for (int k = gs->next_done; k < gs->next_start; k++) {
        int done = 0;
        SCORR_TRY(scorr_comm_sum_test(gs->slots[k % gs->nslots], &done));
        if (done && k == gs->next_done) gs->next_done++;
    }
    while (gs->next_start < gs->nbuckets && gs->buckets[gs->next_start].off >= gs->ready) {
        if (gs->next_start - gs->next_done == gs->nslots) {
            if (!block) break;
            SCORR_TRY(finish_oldest(gs));
        }
        const struct grad_span *b = &gs->buckets[gs->next_start];
        SCORR_TRY(scorr_comm_sum_start(gs->slots[gs->next_start % gs->nslots], gs->grads + b->off,
                                       b->len));
        gs->next_start++;
        /* a first move for the new one (its sends are posted; this lets
         * eager ones go and the peers' ready-to-send requests be answered) */
        int done = 0;
        SCORR_TRY(scorr_comm_sum_test(gs->slots[(gs->next_start - 1) % gs->nslots], &done));
    }
done:
    return err;
}

static void hook(void *ctx, size_t lo, size_t hi)
{
    struct grad_sync *gs = ctx;
    (void)hi;
    if (gs->err) return;
    const double t0 = scorr_now();
    if (lo < gs->ready) gs->ready = lo;
    const int before = gs->next_start;
    gs->err = advance(gs, 0);
    gs->started_early += gs->next_start - before;
    gs->t_exposed += scorr_now() - t0;
}

void grad_sync_begin(struct grad_sync *gs, struct scorr_model *m)
{
    gs->ready = (size_t)-1;
    gs->next_start = gs->next_done = 0;
    gs->err = 0;
    gs->t_exposed = 0;
    gs->started_early = 0;
    scorr_model_set_grad_hook(m, gs->overlap && gs->nbuckets ? hook : NULL, gs);
}

int grad_sync_finish(struct grad_sync *gs)
{
    int err = 0;
    const double t0 = scorr_now();
    SCORR_TRY(gs->err);
    gs->ready = 0;
    SCORR_TRY(advance(gs, 1));
    while (gs->next_done < gs->next_start) SCORR_TRY(finish_oldest(gs));
done:
    gs->t_exposed += scorr_now() - t0;
    return err;
}
