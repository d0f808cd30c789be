/* The one file of ours that includes mpi.h. */
#include <mpi.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"

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
    MPI_TRY(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
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
    MPI_TRY(MPI_Barrier(c->comm));
done:
    return err;
}

/* MPI counts are int: move large buffers in slices. */
#define SLICE ((size_t)1 << 28)

int scorr_comm_bcast(const struct scorr_comm *c, void *buf, size_t bytes, int root)
{
    int err = 0;
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, c->comm));
    }
done:
    return err;
}

static int reduce_inplace(const struct scorr_comm *c, void *buf, size_t n, size_t elem,
                          MPI_Datatype type, MPI_Op op)
{
    int err = 0;
    if (c->size == 1) return 0;
    for (size_t off = 0; off < n; off += SLICE) {
        size_t k = n - off < SLICE ? n - off : SLICE;
        MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)k, type, op, c->comm));
    }
done:
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
    MPI_TRY(MPI_Allgather(&count, 1, MPI_INT, counts, 1, MPI_INT, c->comm));
    for (int r = 1; r < c->size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    MPI_TRY(MPI_Allgatherv(send, count, MPI_FLOAT, recv, counts, displs, MPI_FLOAT, c->comm));
    if (counts_out) memcpy(counts_out, counts, (size_t)c->size * sizeof *counts);
done:
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
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Sendrecv((const char *)send + off, (int)n, MPI_BYTE, peer, 17,
                             (char *)recv + off, (int)n, MPI_BYTE, peer, 17, c->comm,
                             MPI_STATUS_IGNORE));
    }
done:
    return err;
}

int scorr_comm_send(const struct scorr_comm *c, int dest, const void *buf, size_t bytes)
{
    int err = 0;
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Send((const char *)buf + off, (int)n, MPI_BYTE, dest, 18, c->comm));
    }
done:
    return err;
}

int scorr_comm_recv(const struct scorr_comm *c, int src, void *buf, size_t bytes)
{
    int err = 0;
    for (size_t off = 0; off < bytes; off += SLICE) {
        size_t n = bytes - off < SLICE ? bytes - off : SLICE;
        MPI_TRY(MPI_Recv((char *)buf + off, (int)n, MPI_BYTE, src, 18, c->comm, MPI_STATUS_IGNORE));
    }
done:
    return err;
}

int scorr_comm_agree(const struct scorr_comm *c, int local_status)
{
    int err = 0;
    /* Lowest failed rank, or size if none. */
    int mine = local_status ? c->rank : c->size, first = c->size;
    MPI_TRY(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm));
    if (first == c->size) return 0;
    if (local_status) return local_status;
    err = scorr_error_set(SCORR_EPEER, __FILE__, __LINE__, __func__,
                          "rank %d failed (its message is above); stopping with it", first);
done:
    return err;
}

int scorr_comm_lowest(const struct scorr_comm *c, int flag)
{
    int mine = flag ? c->rank : c->size, first = c->size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm) != MPI_SUCCESS) return c->rank;
    return first;
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
