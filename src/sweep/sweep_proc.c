/* Child processes of the sweep programs: sbatch/squeue with captured output,
 * and a cell's script with its output appended to a log, signals forwarded. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scorr/error.h"
#include "sweep/sweep_internal.h"

static int decode_status(int ws)
{
    if (WIFEXITED(ws)) return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
    return -1;
}

static int wait_child(pid_t pid, int *ws)
{
    for (;;) {
        if (waitpid(pid, ws, 0) == pid) return 0;
        if (errno != EINTR) return -1;
    }
}

int sweep_capture(char *const argv[], int merge, char **out, int *status)
{
    int err = 0;
    int fd[2] = {-1, -1};
    struct scorr_sbuf b = {0};
    *out = NULL;
    *status = -1;
    SCORR_REQUIRE(pipe(fd) == 0, SCORR_EIO, "cannot create a pipe to run '%s': %s", argv[0],
                  strerror(errno));
    pid_t pid = fork();
    SCORR_REQUIRE(pid >= 0, SCORR_EIO, "cannot start '%s': %s", argv[0], strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        if (merge) dup2(fd[1], 2);
        close(fd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    fd[1] = -1;
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        scorr_sb_append(&b, buf, (size_t)r);
    }
    int ws = 0;
    SCORR_REQUIRE(!wait_child(pid, &ws), SCORR_EIO, "lost the process '%s': %s", argv[0],
                  strerror(errno));
    *status = decode_status(ws);
    SCORR_TRY(scorr_sb_finish(&b, out));
done:
    if (fd[0] >= 0) close(fd[0]);
    if (fd[1] >= 0) close(fd[1]);
    scorr_sb_free(&b);
    return err;
}

/* The child being run and whether we were asked to stop. */
static volatile sig_atomic_t g_child = 0;
static volatile sig_atomic_t g_interrupted = 0;

static void forward(int sig)
{
    g_interrupted = 1;
    if (g_child > 0) kill((pid_t)g_child, sig);
}

int sweep_run_logged(char *const argv[], char *const env[], const char *log_path, int *status,
                     int *interrupted)
{
    int err = 0;
    struct sigaction sa, old_int, old_term;
    int have_handlers = 0;
    *status = -1;
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    SCORR_REQUIRE(log >= 0, SCORR_EIO, "cannot open the log '%s': %s", log_path, strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    g_child = 0;
    /* Block the two signals until the child's pid is known, so one arriving
     * in between is forwarded (when unblocked) rather than lost. */
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    have_handlers = 1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        dup2(log, 1);
        dup2(log, 2);
        close(log);
        for (char *const *e = env; e && *e; e++) putenv(*e);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (pid > 0) g_child = pid;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    SCORR_REQUIRE(pid >= 0, SCORR_EIO, "cannot start '%s': %s", argv[0], strerror(errno));
    int ws = 0;
    SCORR_REQUIRE(!wait_child(pid, &ws), SCORR_EIO, "lost the process '%s': %s", argv[0],
                  strerror(errno));
    *status = decode_status(ws);
done:
    g_child = 0;
    if (have_handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (log >= 0) close(log);
    if (interrupted) *interrupted = g_interrupted;
    return err;
}
