/* Small-loss selection of pseudo-labels over the global mini-batch
 * (co-teaching's small-loss principle, DESIGN section 2).
 *
 * Every rank of a data-parallel group holds a contiguous slice of the global
 * mini-batch, in sample order; its candidate positions are listed sample by
 * sample, position by position. The selection ranks all candidates of the
 * group by (value, global index), so it is the same whatever the number of
 * ranks (a single process gets the identical set), keeps the
 * num_keep = max(1, floor(ratio * total)) smallest (the reference's
 * int(remember_rate * len)), and tells each rank which of its own candidates
 * are kept. */
#ifndef SCORR_SELECT_H
#define SCORR_SELECT_H

#include <stdint.h>

struct scorr_comm;
struct scorr_select_key;

/* Scratch for up to `max_total` candidates over the whole group; sized once. */
struct scorr_select_ws {
    int64_t cap;
    float *all;      /* gathered values, rank order */
    int *counts;     /* per rank */
    struct scorr_select_key *keys;
    int nranks;
};

int scorr_select_ws_init(struct scorr_select_ws *ws, int64_t max_total, int nranks);
void scorr_select_ws_free(struct scorr_select_ws *ws);

/* Collective over `group` (NULL = this process alone).
 * values: n_local candidate losses of this rank, in local order.
 * ratio: fraction to keep; ratio >= 1 keeps everything.
 * keep (out): n_local flags, 1 = selected.
 * num_keep (out): the number selected over the whole group (the loss normaliser).
 * total (out, may be NULL): the number of candidates over the whole group. */
int scorr_select_small_loss(const struct scorr_comm *group, struct scorr_select_ws *ws,
                            const float *values, int n_local, double ratio, uint8_t *keep,
                            int64_t *num_keep, int64_t *total);

#endif
