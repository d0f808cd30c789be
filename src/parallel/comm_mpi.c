/* The one file of ours that includes mpi.h. */
#include <mpi.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/watchdog.h"

struct scorr_comm {
    MPI_Comm comm;
    int rank, size;
    int owned;   /* MPI_Comm_free on scorr_comm_free */
    int *counts; /* 2 * size ints: allgatherv's counts and displacements, sized
                  * once so the per-step selection allocates nothing */
};

static MPI_Comm g_world = MPI_COMM_NULL;

static void abort_hook(int code)
{
    int up = 0;
    MPI_Initialized(&up);
    if (up) MPI_Abort(g_world != MPI_COMM_NULL ? g_world : MPI_COMM_WORLD, code);
}

static int mpi_fail(int rc, const char *what, const char *file, int line, const char *func)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return scorr_error_set(SCORR_EMPI, file, line, func, "MPI call %s failed: %s", what, msg);
}

#define MPI_TRY(call)                                                          \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != MPI_SUCCESS) {                                              \
            err = mpi_fail(rc_, #call, __FILE__, __LINE__, __func__);          \
            goto done;                                                         \
        }                                                                      \
    } while (0)

static struct scorr_comm *wrap(MPI_Comm comm, int owned)
{
    struct scorr_comm *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->comm = comm;
    c->owned = owned;
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->size);
    c->counts = calloc((size_t)c->size * 2, sizeof *c->counts);
    if (!c->counts) {
        free(c);
        return NULL;
    }
    return c;
}

int scorr_comm_init(int *argc, char ***argv, struct scorr_comm **world)
{
    int err = 0, provided = 0;
    *world = NULL;
    MPI_TRY(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
    /* MULTIPLE: the stall watchdog's thread may call MPI_Abort while the main
     * thread waits in a collective. Where the library gives less, that call
     * is still the best way out (and the watchdog exits by itself after). */
    /* Errors come back as codes so we can say which call failed. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    g_world = MPI_COMM_WORLD;
    scorr_set_abort_hook(abort_hook);
    *world = wrap(MPI_COMM_WORLD, 0);
    SCORR_REQUIRE(*world, SCORR_ENOMEM, "out of memory creating the world communicator");
    scorr_log_set_rank((*world)->rank, (*world)->size);
done:
    return err;
}

void scorr_comm_finalize(struct scorr_comm *world)
{
    if (world) free(world->counts);
    free(world);
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) MPI_Finalize();
}

_Noreturn void scorr_comm_abort(const struct scorr_comm *c, int code)
{
    MPI_Abort(c ? c->comm : MPI_COMM_WORLD, code);
    exit(code); /* not reached */
}

int scorr_comm_rank(const struct scorr_comm *c) { return c->rank; }
int scorr_comm_size(const struct scorr_comm *c) { return c->size; }

int scorr_comm_split(const struct scorr_comm *c, int color, int key, struct scorr_comm **out)
{
    int err = 0;
    MPI_Comm sub = MPI_COMM_NULL;
    *out = NULL;
    MPI_TRY(MPI_Comm_split(c->comm, color, key, &sub));
    MPI_Comm_set_errhandler(sub, MPI_ERRORS_RETURN);
    *out = wrap(sub, 1);
    SCORR_REQUIRE(*out, SCORR_ENOMEM, "out of memory creating a communicator");
done:
    return err;
}

void scorr_comm_free(struct scorr_comm *c)
{
    if (!c) return;
    if (c->owned) MPI_Comm_free(&c->comm);
    free(c->counts);
    free(c);
}

int scorr_comm_barrier(const struct scorr_comm *c)
{
    int err = 0;
    scorr_watchdog_call("MPI_Barrier");
    MPI_TRY(MPI_Barrier(c->comm));
done:
    scorr_watchdog_call(NULL);
    return err;
}

/* MPI counts are int: move large buffers in slices. */
#define SLICE ((size_t)1 << 28)

int scorr_comm_bcast(const struct scorr_comm *c, void *buf, size_t bytes, int root)
{
    int err = 0;
    scorr_watchdog_call("MPI_Bcast");
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, c->comm));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}

static int reduce_inplace(const struct scorr_comm *c, void *buf, size_t n, size_t elem,
                          MPI_Datatype type, MPI_Op op)
{
    int err = 0;
    if (c->size == 1) return 0;
    scorr_watchdog_call("MPI_Allreduce");
    for (size_t off = 0; off < n; off += SLICE) {
        size_t k = n - off < SLICE ? n - off : SLICE;
        MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)k, type, op, c->comm));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_sum_f32(const struct scorr_comm *c, float *buf, size_t n)
{
    return reduce_inplace(c, buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM);
}

int scorr_comm_sum_f64(const struct scorr_comm *c, double *buf, size_t n)
{
    return reduce_inplace(c, buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM);
}

int scorr_comm_sum_i64(const struct scorr_comm *c, int64_t *buf, size_t n)
{
    return reduce_inplace(c, buf, n, sizeof *buf, MPI_INT64_T, MPI_SUM);
}

int scorr_comm_max_f64(const struct scorr_comm *c, double *buf, size_t n)
{
    return reduce_inplace(c, buf, n, sizeof *buf, MPI_DOUBLE, MPI_MAX);
}

int scorr_comm_allgatherv_f32(const struct scorr_comm *c, const float *send, int count,
                              float *recv, int *counts_out)
{
    int err = 0;
    int *counts = c->counts, *displs = c->counts + c->size;
    displs[0] = 0;
    scorr_watchdog_call("MPI_Allgather(v)");
    MPI_TRY(MPI_Allgather(&count, 1, MPI_INT, counts, 1, MPI_INT, c->comm));
    for (int r = 1; r < c->size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    MPI_TRY(MPI_Allgatherv(send, count, MPI_FLOAT, recv, counts, displs, MPI_FLOAT, c->comm));
    if (counts_out) memcpy(counts_out, counts, (size_t)c->size * sizeof *counts);
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_sendrecv(const struct scorr_comm *c, int peer, const void *send, void *recv,
                        size_t bytes)
{
    int err = 0;
    SCORR_REQUIRE(peer >= 0 && peer < c->size, SCORR_EINTERNAL, "sendrecv peer %d of %d", peer,
                  c->size);
    if (peer == c->rank) {
        memmove(recv, send, bytes);
        return 0;
    }
    scorr_watchdog_call("MPI_Sendrecv");
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Sendrecv((const char *)send + off, (int)n, MPI_BYTE, peer, 17,
                             (char *)recv + off, (int)n, MPI_BYTE, peer, 17, c->comm,
                             MPI_STATUS_IGNORE));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_send(const struct scorr_comm *c, int dest, const void *buf, size_t bytes)
{
    int err = 0;
    scorr_watchdog_call("MPI_Send");
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Send((const char *)buf + off, (int)n, MPI_BYTE, dest, 18, c->comm));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_recv(const struct scorr_comm *c, int src, void *buf, size_t bytes)
{
    int err = 0;
    scorr_watchdog_call("MPI_Recv");
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Recv((char *)buf + off, (int)n, MPI_BYTE, src, 18, c->comm, MPI_STATUS_IGNORE));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_agree(const struct scorr_comm *c, int local_status)
{
    int err = 0;
    /* Lowest failed rank, or size if none. */
    int mine = local_status ? c->rank : c->size, first = c->size;
    scorr_watchdog_call("MPI_Allreduce (agreeing on failure)");
    MPI_TRY(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm));
    scorr_watchdog_call(NULL);
    if (first == c->size) return 0;
    if (local_status) return local_status;
    err = scorr_error_set(SCORR_EPEER, __FILE__, __LINE__, __func__,
                          "rank %d failed (its message is above); stopping with it", first);
done:
    scorr_watchdog_call(NULL);
    return err;
}

int scorr_comm_lowest(const struct scorr_comm *c, int flag)
{
    int mine = flag ? c->rank : c->size, first = c->size;
    scorr_watchdog_call("MPI_Allreduce (lowest rank)");
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
    scorr_watchdog_call(NULL);
    return rc == MPI_SUCCESS ? first : c->rank;
}

int scorr_comm_read_file(const struct scorr_comm *c, const char *path, char **data, size_t *len)
{
    int err = 0, status = 0;
    uint64_t n = 0;
    *data = NULL;
    if (c->rank == 0) {
        status = scorr_read_file(path, data, len);
        if (!status) n = *len;
    }
    /* Everyone learns whether rank 0 could read it, then the bytes. */
    MPI_TRY(MPI_Bcast(&status, 1, MPI_INT, 0, c->comm));
    if (status) {
        if (c->rank != 0)
            err = scorr_error_set(status, __FILE__, __LINE__, __func__,
                                  "cannot read '%s' (rank 0 reports the reason)", path);
        else
            err = status;
        goto done;
    }
    MPI_TRY(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, c->comm));
    if (c->rank != 0) {
        *data = malloc(n + 1);
        SCORR_REQUIRE(*data, SCORR_ENOMEM, "out of memory reading '%s'", path);
        (*data)[n] = 0;
        *len = n;
    }
    SCORR_TRY(scorr_comm_bcast(c, *data, n, 0));
done:
    if (err && c->rank != 0) {
        free(*data);
        *data = NULL;
    }
    return err;
}

/* ---- deterministic sums, started and finished later (comm.h) ---- */

uint16_t scorr_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float scorr_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

enum { SUM_IDLE, SUM_SCATTER, SUM_GATHER };

struct scorr_sum {
    MPI_Comm comm; /* a duplicate: these messages meet no other traffic */
    int rank, size;
    enum scorr_sum_dtype dtype;
    size_t max_n;
    int state;
    float *buf;
    size_t n;
    void *stage;     /* (size-1) blocks received in the reduce-scatter, block size ceil(max_n/size) */
    uint16_t *half;  /* BF16: the whole buffer rounded (sent blocks, then received sums) */
    MPI_Request *req; /* 2 (size-1) */
    int nreq;
};

static size_t block_lo(size_t n, int p, int size) { return n * (size_t)p / (size_t)size; }

int scorr_comm_sum_create(const struct scorr_comm *c, size_t max_n, enum scorr_sum_dtype dtype,
                          struct scorr_sum **out)
{
    int err = 0;
    struct scorr_sum *s = calloc(1, sizeof *s);
    *out = NULL;
    SCORR_REQUIRE(s, SCORR_ENOMEM, "out of memory for a gradient exchange");
    s->comm = MPI_COMM_NULL;
    s->rank = c->rank;
    s->size = c->size;
    s->dtype = dtype;
    s->max_n = max_n;
    const size_t blk = (max_n + (size_t)c->size - 1) / (size_t)c->size;
    SCORR_REQUIRE(blk < (size_t)INT_MAX, SCORR_EINVAL,
                  "an exchange of %zu floats over %d ranks has blocks beyond MPI's int counts",
                  max_n, c->size);
    if (c->size > 1) {
        /* first the collective part, so a failed allocation cannot leave a
         * peer waiting in it */
        MPI_TRY(MPI_Comm_dup(c->comm, &s->comm));
        MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
        const size_t esz = dtype == SCORR_SUM_BF16 ? sizeof(uint16_t) : sizeof(float);
        s->stage = malloc(((size_t)c->size - 1) * blk * esz);
        s->half = dtype == SCORR_SUM_BF16 ? malloc(max_n * sizeof *s->half) : NULL;
        s->req = malloc(2 * ((size_t)c->size - 1) * sizeof *s->req);
        SCORR_REQUIRE(s->stage && s->req && (dtype != SCORR_SUM_BF16 || s->half), SCORR_ENOMEM,
                      "cannot allocate %.1f MiB for a gradient exchange",
                      (double)(((size_t)c->size - 1) * blk * esz +
                               (s->half ? max_n * 2 : 0)) / (1 << 20));
    }
    *out = s;
    s = NULL;
done:
    scorr_comm_sum_free(s);
    return err;
}

void scorr_comm_sum_free(struct scorr_sum *s)
{
    if (!s) return;
    if (s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    free(s->stage);
    free(s->half);
    free(s->req);
    free(s);
}

/* Post the receives and sends of one phase: in the reduce-scatter, block p of
 * my buffer goes to rank p and every peer's block `rank` comes to the stage;
 * in the all-gather, my summed block goes to every peer and theirs come home. */
static int sum_post(struct scorr_sum *s, int gather)
{
    int err = 0;
    const int bf = s->dtype == SCORR_SUM_BF16;
    const MPI_Datatype t = bf ? MPI_UINT16_T : MPI_FLOAT;
    const size_t esz = bf ? sizeof(uint16_t) : sizeof(float);
    char *base = bf ? (char *)s->half : (char *)s->buf;
    const size_t blk = (s->max_n + (size_t)s->size - 1) / (size_t)s->size;
    const size_t mylo = block_lo(s->n, s->rank, s->size);
    const int mycount = (int)(block_lo(s->n, s->rank + 1, s->size) - mylo);
    s->nreq = 0;
    for (int k = 1; k < s->size; k++) {
        /* peers in a rotated order so that not every rank talks to rank 0 first */
        const int p = (s->rank + k) % s->size;
        const size_t plo = block_lo(s->n, p, s->size);
        const int pcount = (int)(block_lo(s->n, p + 1, s->size) - plo);
        if (!gather) {
            char *slot = (char *)s->stage + (size_t)(p < s->rank ? p : p - 1) * blk * esz;
            MPI_TRY(MPI_Irecv(slot, mycount, t, p, 0, s->comm, &s->req[s->nreq++]));
            MPI_TRY(MPI_Isend(base + plo * esz, pcount, t, p, 0, s->comm, &s->req[s->nreq++]));
        } else {
            MPI_TRY(MPI_Irecv(base + plo * esz, pcount, t, p, 1, s->comm, &s->req[s->nreq++]));
            MPI_TRY(MPI_Isend(base + mylo * esz, mycount, t, p, 1, s->comm, &s->req[s->nreq++]));
        }
    }
done:
    return err;
}

/* My block, summed over ranks in rank order (comm.h): acc = x_0, then
 * acc += x_1, x_2, ... (one pass per rank, so it vectorises). */
static void sum_block(struct scorr_sum *s)
{
    const size_t blk = (s->max_n + (size_t)s->size - 1) / (size_t)s->size;
    const size_t lo = block_lo(s->n, s->rank, s->size);
    const size_t cnt = block_lo(s->n, s->rank + 1, s->size) - lo;
    float *out = s->buf + lo;
    if (s->dtype == SCORR_SUM_F32) {
        /* out holds my own values, the stage the peers' in rank order */
        float *st = s->stage;
        float *acc = s->rank == 0 ? out : st;
        for (int p = 1; p < s->size; p++) {
            const float *x = p == s->rank ? out : st + (size_t)(p < s->rank ? p : p - 1) * blk;
            for (size_t i = 0; i < cnt; i++) acc[i] += x[i];
        }
        if (acc != out) memcpy(out, acc, cnt * sizeof *out);
    } else {
        /* out (my fp32 values, already rounded into half) is the accumulator */
        const uint16_t *st = s->stage;
        uint16_t *mine = s->half + lo;
        for (int p = 0; p < s->size; p++) {
            const uint16_t *x = p == s->rank ? mine : st + (size_t)(p < s->rank ? p : p - 1) * blk;
            if (p == 0)
                for (size_t i = 0; i < cnt; i++) out[i] = scorr_bf16_to_f32(x[i]);
            else
                for (size_t i = 0; i < cnt; i++) out[i] += scorr_bf16_to_f32(x[i]);
        }
        for (size_t i = 0; i < cnt; i++) mine[i] = scorr_f32_to_bf16(out[i]);
    }
}

int scorr_comm_sum_start(struct scorr_sum *s, float *buf, size_t n)
{
    int err = 0;
    SCORR_REQUIRE(s->state == SUM_IDLE && n <= s->max_n, SCORR_EINTERNAL,
                  "sum_start: state %d, %zu floats for an object of %zu", s->state, n, s->max_n);
    if (s->size == 1 || n == 0) return 0;
    s->buf = buf;
    s->n = n;
    if (s->dtype == SCORR_SUM_BF16)
        for (size_t i = 0; i < n; i++) s->half[i] = scorr_f32_to_bf16(buf[i]);
    s->state = SUM_SCATTER;
    SCORR_TRY(sum_post(s, 0));
done:
    return err;
}

int scorr_comm_sum_test(struct scorr_sum *s, int *done)
{
    int err = 0, flag = 0;
    *done = 1;
    if (s->state == SUM_IDLE) return 0;
    *done = 0;
    MPI_TRY(MPI_Testall(s->nreq, s->req, &flag, MPI_STATUSES_IGNORE));
    if (!flag) return 0;
    if (s->state == SUM_SCATTER) {
        /* every block I sent is gone, so the gather may overwrite them */
        sum_block(s);
        s->state = SUM_GATHER;
        SCORR_TRY(sum_post(s, 1));
        MPI_TRY(MPI_Testall(s->nreq, s->req, &flag, MPI_STATUSES_IGNORE));
        if (!flag) return 0;
    }
    if (s->dtype == SCORR_SUM_BF16)
        for (size_t i = 0; i < s->n; i++) s->buf[i] = scorr_bf16_to_f32(s->half[i]);
    s->state = SUM_IDLE;
    *done = 1;
done:
    return err;
}

int scorr_comm_sum_wait(struct scorr_sum *s)
{
    int err = 0, done = 0;
    scorr_watchdog_call("MPI_Waitall (a gradient bucket's sum)");
    while (s->state != SUM_IDLE) {
        if (s->state == SUM_SCATTER) MPI_TRY(MPI_Waitall(s->nreq, s->req, MPI_STATUSES_IGNORE));
        SCORR_TRY(scorr_comm_sum_test(s, &done));
        if (!done) MPI_TRY(MPI_Waitall(s->nreq, s->req, MPI_STATUSES_IGNORE));
    }
done:
    scorr_watchdog_call(NULL);
    return err;
}
