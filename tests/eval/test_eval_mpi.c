/* Ranks split the pairs, the per-pair tables are summed: the evaluation at 2
 * ranks (batch 4) is identical, JSON byte for byte, to each rank evaluating
 * the whole split alone (batch 3), with dense EPE and pseudo-label quality
 * on; a flow source failing on one rank fails the run on every rank. Runs
 * under mpirun -np 2. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval_testutil.h"
#include "scorr/comm.h"
#include "scorr/eval.h"

static char *evaluate(const struct scorr_comm *c, const char *path, int batch, int net_mode,
                      int *status)
{
    struct scorr_dataset *ds = NULL;
    struct scorr_split split;
    struct scorr_evaluator *ev = NULL;
    struct evt_source ns, ps;
    struct scorr_flow_source net, peer;
    char *json = NULL;
    memset(&split, 0, sizeof split);
    CHECK_OK(scorr_dataset_open(path, &ds));
    if (!ds) exit(scorr_test_finish("test_eval_mpi"));
    const struct scorr_dataset_meta *meta = scorr_dataset_meta(ds);
    CHECK_OK(scorr_dataset_read_split(ds, "test", &split));
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    CHECK_OK(scorr_eval_set_threshold(&o, "auto", meta));
    o.grid = meta->image_size / 4;
    o.dense = o.pseudo = 1;
    CHECK_OK(scorr_evaluator_create(&o, &split, meta->image_size, meta->num_categories, &ev));
    CHECK_OK(evt_source_init(&ns, path, "test", o.grid, batch, net_mode, 77));
    CHECK_OK(evt_source_init(&ps, path, "test", o.grid, batch, 1, 0));
    evt_source_bind(&ns, &net);
    evt_source_bind(&ps, &peer);
    struct scorr_eval_run run = {.data = path, .split = "test", .batch = batch, .net = &net,
                                 .peer = &peer};
    *status = scorr_eval_run(c, &run, ev);
    if (*status == 0) {
        struct scorr_eval_info info = {.checkpoint = "x", .data = "d", .split = "test",
                                       .source = meta->source,
                                       .category_names = (const char *const *)meta->category_names,
                                       .ranks = 1};
        CHECK_OK(scorr_eval_json(ev, &info, &json));
    }
    evt_source_free(&ns);
    evt_source_free(&ps);
    scorr_evaluator_free(ev);
    scorr_split_free(&split);
    scorr_dataset_close(ds);
    return json;
}

int main(int argc, char **argv)
{
    struct scorr_comm *w = NULL;
    if (scorr_comm_init(&argc, &argv, &w)) {
        scorr_error_print(stderr, "test_eval_mpi");
        return 1;
    }
    const int rank = scorr_comm_rank(w), size = scorr_comm_size(w);
    char path[4096] = {0};
    if (rank == 0)
        snprintf(path, sizeof path, "%s/tests/eval_mpi_%d.h5", SCORR_BINARY_DIR, (int)getpid());
    CHECK_OK(scorr_comm_bcast(w, path, sizeof path, 0));
    int st = rank == 0 ? evt_make_synth(path, 23, 9) : 0;
    CHECK_OK(scorr_comm_agree(w, st));

    int s_all = 0, s_one = 0;
    char *all = evaluate(w, path, 4, 2, &s_all);
    char *one = evaluate(NULL, path, 3, 2, &s_one);
    CHECK(s_all == 0 && s_one == 0, "evaluations ran (%d, %d)", s_all, s_one);
    CHECK(all && one && strcmp(all, one) == 0, "rank %d: %d ranks differ from one process", rank,
          size);
    if (rank == 0 && all) printf("%d ranks = 1 rank: %zu bytes of JSON identical\n", size, strlen(all));
    free(all);
    free(one);

    /* a source failing on the last rank only: every rank gets an error */
    int s_fail = 0;
    char *none = evaluate(w, path, 4, rank == size - 1 ? 3 : 2, &s_fail);
    CHECK(s_fail != 0 && none == NULL, "rank %d: failure elsewhere must fail here too (%d)", rank,
          s_fail);
    if (rank == 0) printf("failure on rank %d reported on rank 0: %s\n", size - 1,
                          scorr_error_message());
    scorr_error_clear();

    CHECK_OK(scorr_comm_barrier(w));
    if (rank == 0) unlink(path);
    int failures = scorr_test_failures;
    int64_t f = failures;
    scorr_comm_sum_i64(w, &f, 1);
    int rc = scorr_test_finish("test_eval_mpi");
    scorr_comm_finalize(w);
    return f ? (rc ? rc : 1) : rc;
}
