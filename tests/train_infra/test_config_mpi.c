/* scorr_config_load is collective: rank 0 reads, every rank parses the same
 * bytes, so every rank gets the same struct or the same error (a missing
 * file or a bad key fails on every rank together instead of hanging).
 * Run with 2 ranks. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/comm.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Same 64-bit value on every rank? */
static int same_everywhere(const struct scorr_comm *w, uint64_t v)
{
    uint64_t root = v;
    if (scorr_comm_bcast(w, &root, sizeof root, 0)) return 0;
    int64_t diff = root != v;
    if (scorr_comm_sum_i64(w, &diff, 1)) return 0;
    return diff == 0;
}

int main(int argc, char **argv)
{
    struct scorr_comm *w = NULL;
    if (scorr_comm_init(&argc, &argv, &w)) {
        scorr_error_print(stderr, "test");
        return 1;
    }
    int rank = scorr_comm_rank(w);
    char path[4096], bad[4096];
    struct scorr_config c;
    char *text = NULL;

    snprintf(path, sizeof path, "%s/experiments/spair.yaml", SCORR_SOURCE_DIR);
    CHECK_OK(scorr_config_load(w, path, &c));
    CHECK_OK(scorr_config_emit(&c, &text));
    CHECK(text && same_everywhere(w, fnv1a(text)), "ranks parsed different configs");
    CHECK(c.model.sce.kernel == 7, "spair kernel");
    free(text);

    /* A missing file: every rank fails, none hangs. */
    int rc = scorr_config_load(w, "/nonexistent/exp.yaml", &c);
    CHECK(rc != 0, "rank %d accepted a missing file", rank);
    CHECK(strstr(scorr_error_message(), "/nonexistent/exp.yaml") != NULL, "message: %s",
          scorr_error_message());
    scorr_error_clear();

    /* A bad key: the same message on every rank. */
    int pid0 = (int)getpid(); /* rank 0's: one file name for all ranks */
    scorr_comm_bcast(w, &pid0, sizeof pid0, 0);
    snprintf(bad, sizeof bad, "/tmp/scorr_cfg_mpi_%d.yaml", pid0);
    const char *bad_yaml = "seed: 1\npseudo:\n  wieght: 3\n";
    if (rank == 0) CHECK_OK(scorr_write_file_atomic(bad, bad_yaml, strlen(bad_yaml)));
    scorr_comm_barrier(w);
    rc = scorr_config_load(w, bad, &c);
    CHECK(rc == SCORR_EINVAL, "rank %d: bad key accepted (%d)", rank, rc);
    CHECK(strstr(scorr_error_message(), ":3: no key 'pseudo.wieght'") != NULL &&
              strstr(scorr_error_message(), "did you mean 'pseudo.weight'?") != NULL,
          "message: %s", scorr_error_message());
    CHECK(same_everywhere(w, fnv1a(scorr_error_message())), "ranks report different errors");
    scorr_error_clear();
    scorr_comm_barrier(w);
    if (rank == 0) unlink(bad);

    int64_t failures = scorr_test_failures;
    scorr_comm_sum_i64(w, &failures, 1);
    scorr_comm_finalize(w);
    if (failures && !scorr_test_failures) scorr_test_failures = 1;
    return scorr_test_finish("test_traininfra_config_mpi");
}
