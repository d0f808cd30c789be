/* The parallel layer: a small communicator API over MPI. src/parallel/comm_mpi.c
 * is the only file of ours that includes mpi.h; everything else calls this.
 *
 * Every function here is COLLECTIVE over the communicator it is given unless
 * it says "local". All return 0 or SCORR_EMPI with a message. Programs run
 * under mpirun or as a singleton (plain ./prog), which MPI treats as one rank. */
#ifndef SCORR_COMM_H
#define SCORR_COMM_H

#include <stddef.h>
#include <stdint.h>

struct scorr_comm;

/* Initialise MPI (thread level MULTIPLE: the stall watchdog's thread may call
 * MPI_Abort, include/scorr/watchdog.h) and return the world communicator.
 * Installs the abort hook so SCORR_ASSERT calls MPI_Abort, and tells the log
 * its rank. Collective over all processes. */
int scorr_comm_init(int *argc, char ***argv, struct scorr_comm **world);
/* Free the world communicator and finalise MPI. Collective. */
void scorr_comm_finalize(struct scorr_comm *world);
/* Abort every rank of every communicator with exit code `code`. Local call,
 * global effect: use only when ranks cannot agree to stop together. */
_Noreturn void scorr_comm_abort(const struct scorr_comm *c, int code);

int scorr_comm_rank(const struct scorr_comm *c); /* local */
int scorr_comm_size(const struct scorr_comm *c); /* local */

/* Split into sub-communicators by color (same color, same group), ordered by key. */
int scorr_comm_split(const struct scorr_comm *c, int color, int key, struct scorr_comm **out);
void scorr_comm_free(struct scorr_comm *c); /* collective over c */

int scorr_comm_barrier(const struct scorr_comm *c);
int scorr_comm_bcast(const struct scorr_comm *c, void *buf, size_t bytes, int root);

/* In-place sums. Float sums are reduced in a fixed order (MPI's own), so the
 * same ranks give the same bits run to run. */
int scorr_comm_sum_f32(const struct scorr_comm *c, float *buf, size_t n);
int scorr_comm_sum_f64(const struct scorr_comm *c, double *buf, size_t n);
int scorr_comm_sum_i64(const struct scorr_comm *c, int64_t *buf, size_t n);
int scorr_comm_max_f64(const struct scorr_comm *c, double *buf, size_t n);

/* Deterministic float sums, started now and finished later (the gradient
 * exchange that overlaps the backward pass, src/train/grad_sync.c).
 *
 * Element i of the result is ((g_0[i] + g_1[i]) + g_2[i]) + ... over ranks in
 * rank order, in fp32, whatever n and whichever part of a larger buffer the
 * call covers: splitting a buffer into pieces never changes a bit (MPI's own
 * MPI_Allreduce gives no such promise: Open MPI's ring reduces each block
 * from a different rank, so its bits depend on the message size). Scheme:
 * the n floats are cut into size blocks, block p [p*n/size, (p+1)*n/size);
 * rank p receives block p from every peer and sums it in rank order
 * (reduce-scatter), then sends it to every peer (all-gather): each rank sends
 * and receives 2 (size-1)/size * n elements, as a ring all-reduce does.
 *
 * SCORR_SUM_BF16 halves the bytes: every contribution is rounded to bf16
 * (round to nearest even) before it is sent, including the owner's own;
 * the owner sums the widened values in fp32 in rank order and rounds the sum
 * to bf16 once more; every rank, the owner included, then holds fp32(that
 * bf16). So result = bf16(sum_r fp32(bf16(g_r))), identical on every rank,
 * with |result - exact| <= 2^-8 (2 + 2^-8) sum_r |g_r| (plus fp32 rounding,
 * (size-1) 2^-24 sum_r |g_r|). At one rank nothing is sent or rounded. */
enum scorr_sum_dtype { SCORR_SUM_F32 = 0, SCORR_SUM_BF16 = 1 };
struct scorr_sum;

/* An exchange object for sums of up to max_n floats, with its own
 * workspace ((size-1) ceil(max_n/size) elements, plus max_n bf16 for BF16)
 * and its own duplicate of c, so its messages never meet other traffic.
 * Collective over c (create objects in the same order on every rank). */
int scorr_comm_sum_create(const struct scorr_comm *c, size_t max_n, enum scorr_sum_dtype dtype,
                          struct scorr_sum **out);
void scorr_comm_sum_free(struct scorr_sum *s); /* collective over c; NULL is a no-op */
/* Start summing buf[0, n) in place (n <= max_n; every rank the same n).
 * buf must not be touched until the sum finishes. One sum per object at a
 * time; several objects may be in flight, started in any order. Local call
 * of a collective operation. */
int scorr_comm_sum_start(struct scorr_sum *s, float *buf, size_t n);
/* Let MPI move data (call it often while computing); *done = 1 when buf
 * holds the sum. Local. */
int scorr_comm_sum_test(struct scorr_sum *s, int *done);
/* Block until buf holds the sum. Local (no-op when idle). */
int scorr_comm_sum_wait(struct scorr_sum *s);

/* Round to bf16 (nearest even; NaN stays NaN) and back. Local. */
uint16_t scorr_f32_to_bf16(float x);
float scorr_bf16_to_f32(uint16_t h);

/* Gather variable-length float arrays from all ranks, in rank order, to every
 * rank. counts_out (size entries, may be NULL) receives each rank's count.
 * recv must hold the total (query it with scorr_comm_sum_i64 first). */
int scorr_comm_allgatherv_f32(const struct scorr_comm *c, const float *send, int count,
                              float *recv, int *counts_out);

/* Exchange bytes with one peer rank (both call it naming each other). */
int scorr_comm_sendrecv(const struct scorr_comm *c, int peer, const void *send, void *recv,
                        size_t bytes);

/* Point to point: the sender and the receiver name each other and the same
 * byte count. Collective over the pair only. */
int scorr_comm_send(const struct scorr_comm *c, int dest, const void *buf, size_t bytes);
int scorr_comm_recv(const struct scorr_comm *c, int src, void *buf, size_t bytes);

/* Agree on failure: every rank passes its local status; returns 0 on every
 * rank if all were 0, otherwise the local status where it failed and
 * SCORR_EPEER (with a message naming the first failed rank) elsewhere.
 * The way to make a bad input fail on every rank together instead of hanging. */
int scorr_comm_agree(const struct scorr_comm *c, int local_status);

/* The lowest rank whose flag is non-zero, or size if none. Collective. Used
 * so that exactly one rank prints an error every rank holds. */
int scorr_comm_lowest(const struct scorr_comm *c, int flag);

/* Read a whole file on rank 0 and broadcast it: every rank gets the same
 * bytes (NUL-terminated, caller frees *data) or the same error. */
int scorr_comm_read_file(const struct scorr_comm *c, const char *path, char **data,
                         size_t *len);

#endif
