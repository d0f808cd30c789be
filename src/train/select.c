#include "scorr/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/arena.h"
#include "scorr/comm.h"
#include "scorr/error.h"

/* A candidate's sort key: value first, then its index in the global order. */
struct scorr_select_key {
    float value;
    int32_t index;
};

static inline int key_less(struct scorr_select_key a, struct scorr_select_key b)
{
    return a.value < b.value || (a.value == b.value && a.index < b.index);
}

int scorr_select_ws_init(struct scorr_select_ws *ws, int64_t max_total, int nranks)
{
    int err = 0;
    memset(ws, 0, sizeof *ws);
    ws->cap = max_total;
    ws->nranks = nranks;
    ws->all = scorr_aligned_calloc((size_t)max_total * sizeof *ws->all);
    ws->keys = scorr_aligned_calloc((size_t)max_total * sizeof *ws->keys);
    ws->counts = calloc((size_t)nranks, sizeof *ws->counts);
    SCORR_REQUIRE(ws->all && ws->keys && ws->counts, SCORR_ENOMEM,
                  "out of memory for the selection workspace (%lld candidates)",
                  (long long)max_total);
done:
    return err;
}

void scorr_select_ws_free(struct scorr_select_ws *ws)
{
    scorr_aligned_free(ws->all);
    scorr_aligned_free(ws->keys);
    free(ws->counts);
    memset(ws, 0, sizeof *ws);
}

/* k-th smallest key (0-based) by quickselect with median-of-three pivots;
 * reorders keys. Deterministic (no random pivots). */
static struct scorr_select_key kth_key(struct scorr_select_key *k, int64_t n, int64_t kth)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of three to k[mid] */
        if (key_less(k[hi], k[lo])) { struct scorr_select_key t = k[hi]; k[hi] = k[lo]; k[lo] = t; }
        if (key_less(k[mid], k[lo])) { struct scorr_select_key t = k[mid]; k[mid] = k[lo]; k[lo] = t; }
        if (key_less(k[hi], k[mid])) { struct scorr_select_key t = k[hi]; k[hi] = k[mid]; k[mid] = t; }
        struct scorr_select_key pivot = k[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (key_less(k[i], pivot)) i++;
            while (key_less(pivot, k[j])) j--;
            if (i <= j) {
                struct scorr_select_key t = k[i]; k[i] = k[j]; k[j] = t;
                i++;
                j--;
            }
        }
        if (kth <= j) hi = j;
        else if (kth >= i) lo = i;
        else break;
    }
    return k[kth];
}

int scorr_select_small_loss(const struct scorr_comm *group, struct scorr_select_ws *ws,
                            const float *values, int n_local, double ratio, uint8_t *keep,
                            int64_t *num_keep, int64_t *total_out)
{
    int err = 0;
    int nranks = group ? scorr_comm_size(group) : 1;
    int rank = group ? scorr_comm_rank(group) : 0;
    int64_t total = n_local;
    SCORR_ASSERT(nranks <= ws->nranks);
    if (group) SCORR_TRY(scorr_comm_sum_i64(group, &total, 1));
    SCORR_ASSERT(total <= ws->cap);
    if (total_out) *total_out = total;
    if (total == 0) {
        *num_keep = 0;
        goto done;
    }
    if (ratio >= 1.0) {
        memset(keep, 1, (size_t)n_local);
        *num_keep = total;
        goto done;
    }
    int64_t k = (int64_t)floor(ratio * (double)total);
    if (k < 1) k = 1;
    *num_keep = k;

    /* Everyone gets every candidate, in rank (= global sample) order. */
    int64_t offset = 0;
    if (group) {
        SCORR_TRY(scorr_comm_allgatherv_f32(group, values, n_local, ws->all, ws->counts));
        for (int r = 0; r < rank; r++) offset += ws->counts[r];
    } else {
        memcpy(ws->all, values, (size_t)n_local * sizeof *values);
    }
    for (int64_t i = 0; i < total; i++) {
        ws->keys[i].value = ws->all[i];
        ws->keys[i].index = (int32_t)i;
    }
    struct scorr_select_key kth = kth_key(ws->keys, total, k - 1);
    for (int i = 0; i < n_local; i++) {
        struct scorr_select_key me = {values[i], (int32_t)(offset + i)};
        keep[i] = !key_less(kth, me); /* me <= kth */
    }
done:
    return err;
}
