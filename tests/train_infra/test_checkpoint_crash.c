/* Atomicity: a child process writes large checkpoints in a loop and is
 * killed with SIGKILL in the middle of a write, several times at different
 * moments. After every kill, every file under a final name
 * (checkpoints/step_*.h5) must be complete: it loads, and every tensor holds
 * the values of the step its metadata names. The latest is found and
 * loadable, and the run continues from it. The killed writers' temporaries
 * are cleaned by the next save. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/checkpoint.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"

#define NT 4
#define ROWS 512
#define COLS 1024 /* 4 x 512 x 1024 floats: 8 MB of parameters, 24 MB with moments */
#define ROUNDS 5

/* Exact in float (no rounding, so no contraction can change it). */
static float pattern(int64_t step, int which, size_t i)
{
    return (float)(step * 3 + which) + (float)(i % 1024) * (1.0f / 1024.0f);
}

struct state {
    struct scorr_params t;
    float *p;
    struct scorr_adamw o;
    struct scorr_ckpt_net ck;
};

static void state_init(struct state *s)
{
    char name[64];
    scorr_params_init(&s->t);
    for (int i = 0; i < NT; i++) {
        snprintf(name, sizeof name, "block%d.weight", i);
        scorr_params_add(&s->t, name, SCORR_PARAM_WEIGHT, i ? SCORR_GROUP_BACKBONE : SCORR_GROUP_HEAD,
                         SCORR_INIT_ZERO, 2, (int64_t[]){ROWS, COLS});
    }
    s->p = scorr_aligned_calloc(s->t.total * sizeof(float));
    if (!s->p || scorr_adamw_init_with(&s->o, &s->t, 0.9, 0.999, 1e-8, 0.05)) exit(2);
    s->ck = (struct scorr_ckpt_net){&s->t, s->p, &s->o};
}

static void state_fill(struct state *s, int64_t step)
{
    for (size_t i = 0; i < s->t.total; i++) {
        s->p[i] = pattern(step, 0, i);
        s->o.m[i] = pattern(step, 1, i);
        s->o.v[i] = pattern(step, 2, i);
    }
    s->o.step = step;
}

static struct scorr_ckpt_meta meta_at(int64_t step)
{
    return (struct scorr_ckpt_meta){.variant = "baseline", .epoch = step / 5,
                                    .steps_in_epoch = step % 5, .step = step, .best_epoch = -1,
                                    .best_pck = -1, .seed = 7};
}

/* Load a checkpoint fully; 1 if every value is the one of its step. */
static int verify(const char *path, const struct scorr_config *cfg, struct state *s,
                  int64_t *step_out)
{
    struct scorr_ckpt_meta m;
    memset(s->p, 0, s->t.total * sizeof(float));
    if (scorr_ckpt_load(path, cfg, &m, &s->ck, NULL)) {
        fprintf(stderr, "cannot load '%s': %s\n", path, scorr_error_message());
        scorr_error_clear();
        return 0;
    }
    for (size_t i = 0; i < s->t.total; i++)
        if (s->p[i] != pattern(m.step, 0, i) || s->o.m[i] != pattern(m.step, 1, i) ||
            s->o.v[i] != pattern(m.step, 2, i)) {
            fprintf(stderr, "'%s': value %zu is not that of step %lld\n", path, i,
                    (long long)m.step);
            return 0;
        }
    if (s->o.step != m.step || m.epoch != m.step / 5) return 0;
    *step_out = m.step;
    return 1;
}

/* Name of a temporary of process pid in dir, if one exists. */
static int tmp_of(const char *dir, long pid)
{
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".h5.tmp.%ld", pid);
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name), k = strlen(suffix);
        if (n > k && !strcmp(e->d_name + n - k, suffix)) found = 1;
    }
    if (d) closedir(d);
    return found;
}

static int count_tmps(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int main(void)
{
    char dir[] = "/tmp/scorr_crash_XXXXXX", out[256], ckdir[300], path[4096];
    struct scorr_config cfg;
    struct state s;
    char *yaml = NULL;
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(out, sizeof out, "%s/run", dir);
    snprintf(ckdir, sizeof ckdir, "%s/checkpoints", out);
    scorr_config_defaults(&cfg);
    CHECK_OK(scorr_config_set(&cfg, "variant", "baseline"));
    CHECK_OK(scorr_config_emit(&cfg, &yaml));
    state_init(&s);

    state_fill(&s, 1);
    struct scorr_ckpt_meta m = meta_at(1);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &s.ck, NULL, 2, NULL));

    int mid_write = 0, last_hit = 0;
    int64_t last = 1;
    for (int r = 0; r < ROUNDS; r++) {
        int found = 0;
        int64_t latest = 0;
        CHECK_OK(scorr_ckpt_find_latest(out, path, sizeof path, &found));
        CHECK(found && verify(path, &cfg, &s, &latest), "round %d: latest unusable", r);
        pid_t pid = fork();
        if (pid == 0) {
            /* The writer: checkpoint after checkpoint until killed. */
            for (int64_t st = latest + 1; st < latest + 10000; st++) {
                state_fill(&s, st);
                struct scorr_ckpt_meta mm = meta_at(st);
                if (scorr_ckpt_save(out, &mm, yaml, &s.ck, NULL, 2, NULL)) _exit(3);
            }
            _exit(0);
        }
        /* Wait for a write in progress, let it run a little (a different
         * moment every round, later rounds after some complete writes), kill. */
        int seen = 0;
        for (int i = 0; i < 100000 && !(seen = tmp_of(ckdir, pid)); i++) sleep_us(200);
        CHECK(seen, "round %d: the writer never started a checkpoint", r);
        sleep_us(3000L * r + (r >= 3 ? 150000L : 0));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "round %d: the writer ended on its own (status %d)", r, status);
        last_hit = tmp_of(ckdir, pid);
        mid_write += last_hit;

        /* Every file under a final name is complete. */
        DIR *d = opendir(ckdir);
        int files = 0;
        for (struct dirent *e; d && (e = readdir(d));) {
            if (strncmp(e->d_name, "step_", 5) || strstr(e->d_name, ".tmp.")) continue;
            int64_t st = 0;
            snprintf(path, sizeof path, "%s/%s", ckdir, e->d_name);
            CHECK(verify(path, &cfg, &s, &st), "round %d: '%s' is incomplete", r, path);
            files++;
        }
        if (d) closedir(d);
        CHECK(files >= 1, "round %d: no checkpoint left", r);
        CHECK_OK(scorr_ckpt_find_latest(out, path, sizeof path, &found));
        int64_t now = 0;
        CHECK(found && verify(path, &cfg, &s, &now) && now >= latest,
              "round %d: latest went back from %lld to %lld", r, (long long)latest, (long long)now);
        last = now;
    }
    printf("%d of %d kills hit a write in progress; reached step %lld\n", mid_write, ROUNDS,
           (long long)last);
    CHECK(mid_write >= 1, "no kill interrupted a write: the test proved nothing");

    /* The run continues; the killed writers' temporaries go with the next save. */
    CHECK(!last_hit || count_tmps(ckdir) >= 1, "the last writer's temporary vanished");
    state_fill(&s, last + 1);
    m = meta_at(last + 1);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &s.ck, NULL, 2, NULL));
    CHECK(count_tmps(ckdir) == 0, "stale temporaries remain: %d", count_tmps(ckdir));

    free(yaml);
    scorr_adamw_free(&s.o);
    scorr_aligned_free(s.p);
    scorr_params_free(&s.t);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return scorr_test_finish("test_traininfra_checkpoint_crash");
}
