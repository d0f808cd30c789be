/* The stall watchdog (include/scorr/watchdog.h). The main thread only stores
 * atomics; the watchdog thread wakes about ten times per timeout, and on a
 * stall formats its message, writes it with one write(2) (no stdio lock the
 * frozen main thread might hold), also to the marker file if one was given,
 * and aborts the job through the parallel layer. MPI is initialised at MPI_THREAD_MULTIPLE for that call
 * (src/parallel/comm_mpi.c). */
#include "scorr/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/log.h"

#define NSAMPLES 64 /* step times kept for the median */
/* If MPI_Abort itself hangs (its runtime unreachable), exit after this. */
#define ABORT_GRACE_S 20
/* The marker file's write may block (a hung shared file system): wait this
 * long for it, then abort anyway. */
#define MARKER_WAIT_MS 2000

static struct {
    const struct scorr_comm *world;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop;
    double fixed; /* > 0: the configured timeout; else automatic */
    double samples[NSAMPLES];
    int nsamples, next;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic long long g_beat_ns;      /* monotonic time of the last heartbeat */
static _Atomic long long g_timeout_ms;   /* 0 = off */
static _Atomic long long g_step = -1;
static _Atomic(const char *) g_phase;
static _Atomic(const char *) g_call;
static _Atomic long long g_call_ns;
static char g_marker[4096];               /* set before the thread starts */
static struct { const char *text; size_t n; } g_mark;
static _Atomic int g_marker_done;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double scorr_watchdog_auto_timeout(double median_step_s)
{
    double t = SCORR_WATCHDOG_AUTO_FACTOR * median_step_s;
    return t > SCORR_WATCHDOG_AUTO_FLOOR ? t : SCORR_WATCHDOG_AUTO_FLOOR;
}

double scorr_watchdog_timeout(void)
{
    return (double)atomic_load_explicit(&g_timeout_ms, memory_order_relaxed) / 1000.0;
}

void scorr_watchdog_beat(long long step)
{
    atomic_store_explicit(&g_beat_ns, now_ns(), memory_order_relaxed);
    if (step >= 0) atomic_store_explicit(&g_step, step, memory_order_relaxed);
}

void scorr_watchdog_phase(const char *what)
{
    atomic_store_explicit(&g_phase, what, memory_order_relaxed);
}

void scorr_watchdog_call(const char *call)
{
    if (call) atomic_store_explicit(&g_call_ns, now_ns(), memory_order_relaxed);
    atomic_store_explicit(&g_call, call, memory_order_relaxed);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void scorr_watchdog_step_time(double seconds)
{
    if (g.fixed > 0 || !atomic_load_explicit(&g_timeout_ms, memory_order_relaxed)) return;
    g.samples[g.next] = seconds;
    g.next = (g.next + 1) % NSAMPLES;
    if (g.nsamples < NSAMPLES) g.nsamples++;
    double s[NSAMPLES];
    memcpy(s, g.samples, (size_t)g.nsamples * sizeof *s);
    qsort(s, (size_t)g.nsamples, sizeof *s, cmp_double);
    double med = g.nsamples % 2 ? s[g.nsamples / 2]
                                : 0.5 * (s[g.nsamples / 2 - 1] + s[g.nsamples / 2]);
    atomic_store_explicit(&g_timeout_ms, (long long)(1000.0 * scorr_watchdog_auto_timeout(med)),
                          memory_order_relaxed);
}

static void *grace_exit(void *arg)
{
    (void)arg;
    sleep(ABORT_GRACE_S);
    _exit(SCORR_EXIT_STALLED);
    return NULL;
}

void scorr_watchdog_marker(const char *path)
{
    snprintf(g_marker, sizeof g_marker, "%s", path ? path : "");
}

static void *write_marker(void *arg)
{
    (void)arg;
    int fd = open(g_marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, g_mark.text, g_mark.n) < 0) { /* the abort matters more */
        }
        close(fd);
    }
    atomic_store(&g_marker_done, 1);
    return NULL;
}

/* The stall: say what this rank waited for, then end the job. */
static _Noreturn void fire(double idle_s, double limit_s)
{
    char host[256] = "?", msg[1024];
    gethostname(host, sizeof host - 1);
    const char *phase = atomic_load(&g_phase), *call = atomic_load(&g_call);
    long long step = atomic_load(&g_step);
    int n = snprintf(msg, sizeof msg,
                     "scorr watchdog [rank %d of %d, host %s, pid %ld]: no progress for %.1f s "
                     "(train.stall_timeout %.0f s) after global step %lld; waiting in '%s'",
                     scorr_log_rank(), scorr_log_size(), host, (long)getpid(), idle_s, limit_s,
                     step, phase ? phase : "start-up");
    if (call && n > 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n, ", inside %s for %.1f s", call,
                      (double)(now_ns() - atomic_load(&g_call_ns)) / 1e9);
    if (n > 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n,
                      ". A rank or its network is stuck; aborting the job with exit status %d "
                      "(run it again to resume from the last checkpoint)\n",
                      SCORR_EXIT_STALLED);
    if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) { /* nothing left to do */
    }
    pthread_t t;
    if (g_marker[0] && n > 0) {
        g_mark.text = msg;
        g_mark.n = (size_t)n;
        if (pthread_create(&t, NULL, write_marker, NULL) == 0) {
            pthread_detach(t);
            const struct timespec tick = {0, 10000000L};
            for (int i = 0; i < MARKER_WAIT_MS / 10 && !atomic_load(&g_marker_done); i++)
                nanosleep(&tick, NULL);
        }
    }
    pthread_create(&t, NULL, grace_exit, NULL);
    scorr_comm_abort(g.world, SCORR_EXIT_STALLED);
}

static void *watch(void *arg)
{
    (void)arg;
    long long woke = now_ns(), slept_ms = 0;
    pthread_mutex_lock(&g.mu);
    while (!g.stop) {
        /* Time this process itself did not run (stopped with SIGSTOP, the
         * machine suspended) is not a stall of the others: do not count it.
         * A frozen rank's peers notice it; it does not accuse them on resume. */
        long long t = now_ns(), lost = t - woke - slept_ms * 1000000LL;
        if (lost > 2000000000LL) atomic_fetch_add(&g_beat_ns, lost);
        woke = t;
        long long limit_ms = atomic_load_explicit(&g_timeout_ms, memory_order_relaxed);
        long long idle_ns = now_ns() - atomic_load_explicit(&g_beat_ns, memory_order_relaxed);
        if (limit_ms > 0 && idle_ns > limit_ms * 1000000LL) {
            pthread_mutex_unlock(&g.mu);
            fire((double)idle_ns / 1e9, (double)limit_ms / 1000.0);
        }
        /* wake about ten times per timeout, at most once a second */
        long long wait_ms = limit_ms / 10;
        if (wait_ms > 1000) wait_ms = 1000;
        if (wait_ms < 50) wait_ms = 50;
        slept_ms = wait_ms;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g.cv, &g.mu, &ts);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

int scorr_watchdog_start(const struct scorr_comm *world, double timeout_s)
{
    int err = 0;
    pthread_condattr_t ca;
    if (timeout_s == 0 || g.running) return 0;
    g.world = world;
    g.fixed = timeout_s > 0 ? timeout_s : 0;
    g.nsamples = g.next = 0;
    g.stop = 0;
    scorr_watchdog_beat(-1);
    atomic_store(&g_timeout_ms,
                 (long long)(1000.0 * (g.fixed > 0 ? g.fixed : scorr_watchdog_auto_timeout(0))));
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g.cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&g.thread, NULL, watch, NULL);
    SCORR_REQUIRE(rc == 0, SCORR_EINTERNAL, "cannot start the stall watchdog thread: %s",
                  strerror(rc));
    g.running = 1;
done:
    if (err) {
        pthread_cond_destroy(&g.cv);
        atomic_store(&g_timeout_ms, 0);
    }
    return err;
}

void scorr_watchdog_stop(void)
{
    if (!g.running) return;
    pthread_mutex_lock(&g.mu);
    g.stop = 1;
    pthread_cond_signal(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    pthread_cond_destroy(&g.cv);
    atomic_store(&g_timeout_ms, 0);
    g.running = 0;
}
