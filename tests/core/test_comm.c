/* The communicator API at any rank count (ctest runs it at 1 and 3 ranks). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/io.h"

int main(int argc, char **argv)
{
    struct scorr_comm *w = NULL;
    if (scorr_comm_init(&argc, &argv, &w)) {
        scorr_error_print(stderr, "test_comm");
        return 1;
    }
    int r = scorr_comm_rank(w), n = scorr_comm_size(w);

    float v[3] = {(float)r, 1.0f, (float)(r * r)};
    CHECK_OK(scorr_comm_sum_f32(w, v, 3));
    CHECK(v[0] == (float)(n * (n - 1) / 2) && v[1] == (float)n, "sum_f32 %f %f", v[0], v[1]);
    int64_t iv = r + 1;
    CHECK_OK(scorr_comm_sum_i64(w, &iv, 1));
    CHECK(iv == (int64_t)n * (n + 1) / 2, "sum_i64 %lld", (long long)iv);
    double mx = r;
    CHECK_OK(scorr_comm_max_f64(w, &mx, 1));
    CHECK(mx == n - 1, "max_f64 %f", mx);

    /* allgatherv: rank r sends r+1 values equal to r. */
    float send[8];
    for (int i = 0; i <= r; i++) send[i] = (float)r;
    int total = n * (n + 1) / 2;
    float *recv = calloc((size_t)total, sizeof *recv);
    int counts[16];
    CHECK_OK(scorr_comm_allgatherv_f32(w, send, r + 1, recv, counts));
    int k = 0, ok = 1;
    for (int q = 0; q < n; q++) {
        ok &= counts[q] == q + 1;
        for (int i = 0; i <= q; i++) ok &= recv[k++] == (float)q;
    }
    CHECK(ok, "allgatherv layout");
    free(recv);

    /* split into even/odd; sendrecv with the partner in a pair. */
    struct scorr_comm *half = NULL;
    CHECK_OK(scorr_comm_split(w, r % 2, r, &half));
    CHECK(scorr_comm_size(half) == (n + 1 - r % 2) / 2, "split size");
    scorr_comm_free(half);
    int peer = (r % 2 == 0) ? r + 1 : r - 1;
    if (peer >= n) peer = r; /* odd rank count: the last rank pairs with itself */
    int mine = 100 + r, theirs = -1;
    CHECK_OK(scorr_comm_sendrecv(w, peer, &mine, &theirs, sizeof mine));
    CHECK(theirs == 100 + peer, "sendrecv got %d want %d", theirs, 100 + peer);

    /* send/recv: rank n-1 sends to rank 0. */
    if (n > 1) {
        double big[1000];
        if (r == n - 1) {
            for (int i = 0; i < 1000; i++) big[i] = i * 0.5;
            CHECK_OK(scorr_comm_send(w, 0, big, sizeof big));
        } else if (r == 0) {
            CHECK_OK(scorr_comm_recv(w, n - 1, big, sizeof big));
            CHECK(big[999] == 499.5 && big[1] == 0.5, "recv content %g", big[999]);
        }
    }

    /* agree: everyone learns that the last rank failed. */
    int st = scorr_comm_agree(w, r == n - 1 ? SCORR_EINVAL : 0);
    if (r == n - 1)
        CHECK(st == SCORR_EINVAL, "failing rank status %d", st);
    else
        CHECK(st == SCORR_EPEER, "peer status %d", st);
    CHECK(scorr_comm_agree(w, 0) == 0, "agree on success");

    /* read_file: same bytes everywhere; a missing file fails everywhere. */
    char path[256];
    snprintf(path, sizeof path, "/tmp/scorr_comm_%d.txt", (int)getppid());
    if (r == 0) CHECK_OK(scorr_write_file_atomic(path, "abc: 1\n", 7));
    CHECK_OK(scorr_comm_barrier(w));
    char *data = NULL;
    size_t len = 0;
    CHECK_OK(scorr_comm_read_file(w, path, &data, &len));
    CHECK(data && len == 7 && strcmp(data, "abc: 1\n") == 0, "read_file content");
    free(data);
    CHECK(scorr_comm_read_file(w, "/nonexistent/exp.yaml", &data, &len) != 0,
          "missing file read succeeded");
    CHECK(strstr(scorr_error_message(), "/nonexistent/exp.yaml") != NULL, "message: %s",
          scorr_error_message());
    CHECK_OK(scorr_comm_barrier(w));
    if (r == 0) unlink(path);

    int rc = scorr_test_finish("test_core_comm");
    int64_t fails = rc;
    scorr_comm_sum_i64(w, &fails, 1);
    scorr_comm_finalize(w);
    return fails ? 1 : 0;
}
