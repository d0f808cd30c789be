/* bench_memory: peak resident memory (maxrss) of training steps of the
 * paper's model, ours against PyTorch's, each configuration in a process of
 * its own (issue 11, section 3; docs/performance.md "Peak memory").
 *
 *   bench_memory [--configs baseline:2,mt:2,baseline:16,mt:16] [--threads N]
 *                [--steps K] [--bn frozen|batch] [--memory fast|small]
 *                [--depth D] [--size S]
 *                [--no-torch] [--no-scorr] [--train path/scorr_train]
 *                [--python /usr/bin/python3] [--script step_torch.py]
 *                [--torch-limit-gb G] [--keep]
 *
 * For every configuration (variant baseline or mt, B pairs per step):
 *   scorr:   `scorr_train config.yaml` (the program users run, 1 rank) on a
 *            synthetic 256 px dataset for K = 2 steps (epochs 1,
 *            train.max_steps_per_epoch K, no validation, its initial-weights
 *            file and end-of-epoch checkpoint written as always);
 *   PyTorch: tools/bench/step_torch.py --memory --variant V --batch B
 *            --iters K (the same step as bench_step's yardstick; mt: two
 *            networks, two AdamW, the pseudo-label loss on the peer's
 *            detached flow);
 * PyTorch's address space is limited (setrlimit RLIMIT_AS) to G GiB, by
 * default MemAvailable less 1 GiB when it starts, so a step that does not
 * fit fails with an allocation error (reported as "does not fit") instead
 * of waking the OOM killer; 0 = no limit. Our run is skipped when the
 * breakdown child's resident set after building already exceeds
 * MemAvailable.
 * Each run is started by fork + exec from this small parent, its peak read from
 * wait4's rusage (ru_maxrss: the largest resident set the child ever had),
 * so one configuration's peak cannot hide another's. PyTorch also prints
 * its own getrusage(RUSAGE_SELF) figure, shown as a cross-check.
 *
 * A third child per configuration builds the same network(s) and AdamW
 * state as scorr_train (scorr_config_model, scorr_model_create,
 * scorr_adamw_init) without running them and reports what holds the bytes
 * (scorr_model_memory) and its resident set before and after building.
 *
 * Model: ResNet-101 cut after layer3, 256 px, SCE k=7 -> 2048, upsampling
 * 4, frozen batch norm (as bench_step; --bn batch for batch statistics),
 * model.memory fast (--memory small: recompute to hold less, the same bits;
 * PyTorch's run is the same either way).
 * Threads: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = N (default 1) in every
 * child. Nothing is timed. Prints the CPU line, one breakdown per
 * configuration, a table and a "RESULT bench_memory" line per
 * configuration. Exit status 0 unless one of our runs fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scorr/config.h"
#include "scorr/conv.h"
#include "scorr/cpu.h"
#include "scorr/error.h"
#include "scorr/log.h"
#include "scorr/model.h"
#include "scorr/optim.h"
#include "scorr/synth.h"

#ifndef SCORR_SOURCE_DIR
#define SCORR_SOURCE_DIR "."
#endif
#ifndef SCORR_BINARY_DIR
#define SCORR_BINARY_DIR "."
#endif

#define MAX_CONFIGS 16
#define MIB (1024.0 * 1024.0)

struct run_cfg {
    char variant[16];
    int batch;
};

struct opts {
    struct run_cfg cfg[MAX_CONFIGS];
    int ncfg, threads, steps, depth, size, bn_batch, torch, scorr, keep;
    const char *memory; /* model.memory: fast | small */
    double torch_limit_gb; /* < 0: MemAvailable - 1 GiB; 0: none */
    const char *train, *python, *script;
};

/* What the breakdown child sends back. */
struct breakdown {
    int ok, nets;
    struct scorr_model_memory mem; /* the first network */
    int shares_act;                /* the second network uses the first's activation arena */
    size_t adam;                   /* one network's AdamW moments */
    double total;                  /* every network: parameters, gradients, AdamW, arenas */
    long rss_before_kb, rss_built_kb;
};

/* ---- children ------------------------------------------------------------- */

static void set_threads_env(int threads)
{
    char t[16];
    snprintf(t, sizeof t, "%d", threads);
    setenv("OMP_NUM_THREADS", t, 1);
    setenv("OPENBLAS_NUM_THREADS", t, 1);
}

/* fork + exec argv with stdout to out_fd (-1: to log) and stderr to log;
 * wait; *maxrss_kb from wait4. Returns the exit status, or -1 (message
 * printed) when the child could not run or was killed. */
static int run_child(char *const argv[], int threads, const char *log, int out_fd,
                     long *maxrss_kb)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_memory: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        set_threads_env(threads);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(out_fd >= 0 ? out_fd : fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (out_fd >= 0) close(out_fd);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    *maxrss_kb = ru.ru_maxrss;
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "bench_memory: %s was killed by signal %d (log: %s)\n", argv[0],
                WTERMSIG(st), log);
        return -1;
    }
    return WEXITSTATUS(st);
}

/* MemAvailable of /proc/meminfo in kB, or 0. */
static long mem_available_kb(void)
{
    long kb = 0;
    char line[256];
    FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static long self_maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* In a forked child: the network(s) scorr_train builds for this config, not run. */
static void breakdown_child(const char *cfg_path, int threads, int wfd)
{
    struct breakdown bd;
    memset(&bd, 0, sizeof bd);
    struct scorr_config c;
    struct scorr_model *m[2] = {NULL, NULL};
    struct scorr_adamw opt[2];
    memset(opt, 0, sizeof opt);
    omp_set_num_threads(threads);
    scorr_log_set_level(0);
    bd.rss_before_kb = self_maxrss_kb();
    if (scorr_config_load_local(cfg_path, &c) == 0) {
        struct scorr_model_config mc;
        scorr_config_model(&c, c.train.batch_size, 1, &mc);
        bd.nets = c.variant == SCORR_VARIANT_MT ? 2 : 1;
        bd.ok = 1;
        /* as scorr_train's create_net: mt's second network shares the first's
         * workspace and gradients (model.memory small: also its activations) */
        for (int k = 0; k < bd.nets && bd.ok; k++) {
            bd.ok = scorr_model_create_sharing(&mc, (uint64_t)k, k ? m[0] : NULL,
                                               k ? scorr_config_model_sharing(&c) : 0,
                                               &m[k]) == 0 &&
                    scorr_adamw_init(&opt[k], scorr_model_params(m[k]), &c) == 0;
        }
        if (bd.ok) {
            scorr_model_memory(m[0], &bd.mem);
            bd.adam = 2 * opt[0].n * sizeof(float);
            for (int k = 0; k < bd.nets; k++) {
                struct scorr_model_memory mk;
                scorr_model_memory(m[k], &mk);
                if (k) bd.shares_act = mk.activations_shared;
                bd.total += (double)mk.params + mk.grads + 2.0 * opt[k].n * sizeof(float) +
                            mk.arena;
            }
            bd.rss_built_kb = self_maxrss_kb();
        }
    }
    if (!bd.ok) scorr_error_print(stderr, "bench_memory (breakdown)");
    if (write(wfd, &bd, sizeof bd) != (ssize_t)sizeof bd) _exit(1);
    _exit(0);
}

static int get_breakdown(const char *cfg_path, int threads, struct breakdown *bd)
{
    int fds[2];
    memset(bd, 0, sizeof *bd);
    if (pipe(fds)) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        breakdown_child(cfg_path, threads, fds[1]);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], bd, sizeof *bd);
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return got == (ssize_t)sizeof *bd && bd->ok ? 0 : -1;
}

/* In a forked child: the dataset (the parent stays small). */
static int make_dataset(const char *path, int size, int pairs)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        struct scorr_synth_config c;
        scorr_synth_defaults(&c);
        c.size = size;
        c.pairs[0] = pairs, c.pairs[1] = 0, c.pairs[2] = 0;
        c.images_per_category[0] = 4;
        scorr_log_set_level(0);
        int err = scorr_synth_generate(&c, path);
        if (err) scorr_error_print(stderr, "bench_memory (dataset)");
        _exit(err ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int write_config(const char *path, const char *dir, const char *dataset,
                        const struct opts *o, const struct run_cfg *r)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "name: mem-%s-%d\noutput: %s/run-%s-%d\nseed: 1\nvariant: %s\n"
            "data:\n  file: %s\n  train_split: trn\n  val_split: none\n  image_size: %d\n"
            "  augment: true\n  flip: false\n"
            "model:\n  backbone:\n    depth: %d\n    width: 64\n    freeze: false\n"
            "    batchnorm: %s\n  sce:\n    enabled: true\n    kernel: 7\n    channels: 2048\n"
            "  upsample: 4\n  temperature: 0.02\n  memory: %s\n"
            "pseudo:\n  weight: 10.0\n  start_epoch: 0\n  dilation_kernel: 7\n"
            "  selection:\n    start_ratio: 0.2\n    end_ratio: 0.9\n    ramp_epochs: 10\n"
            "train:\n  epochs: 1\n  batch_size: %d\n  max_steps_per_epoch: %d\n"
            "validation:\n  split: none\n",
            r->variant, r->batch, dir, r->variant, r->batch, r->variant, dataset, o->size,
            o->depth, o->bn_batch ? "batch" : "frozen", o->memory, r->batch, o->steps);
    return fclose(f);
}

/* ---- PyTorch -------------------------------------------------------------- */

struct torch_mem {
    long wait_kb, self_kb; /* wait4's and the script's own maxrss */
    long limit_kb;         /* its address-space limit (0 = none) */
    char line[512];        /* its TORCH line, or why it did not run */
};

/* Does the log say an allocation failed? */
static int log_says_oom(const char *log)
{
    char line[1024];
    int oom = 0;
    FILE *f = fopen(log, "r");
    while (f && !oom && fgets(line, sizeof line, f))
        oom = strstr(line, "t allocate memory") || strstr(line, "MemoryError") ||
              strstr(line, "bad_alloc");
    if (f) fclose(f);
    return oom;
}

static int run_torch(const struct opts *o, const struct run_cfg *r, const char *log,
                     struct torch_mem *tm)
{
    /* PyTorch may need more than the machine has (mt at batch 16): its
     * address space is limited to what is available (less a margin), so it
     * fails with an allocation error instead of waking the OOM killer */
    long limit_kb = o->torch_limit_gb > 0   ? (long)(o->torch_limit_gb * 1048576.0)
                    : o->torch_limit_gb < 0 ? mem_available_kb() - 1048576L
                                            : 0;
    if (limit_kb < 0) limit_kb = 0;
    char b[16], t[16], it[16], d[16], s[16];
    snprintf(b, sizeof b, "%d", r->batch);
    snprintf(t, sizeof t, "%d", o->threads);
    snprintf(it, sizeof it, "%d", o->steps);
    snprintf(d, sizeof d, "%d", o->depth);
    snprintf(s, sizeof s, "%d", o->size);
    char *argv[] = {(char *)o->python, (char *)o->script, "--memory", "--variant",
                    (char *)r->variant, "--batch", b, "--threads", t, "--iters", it,
                    "--depth", d, "--size", s, "--bn", o->bn_batch ? "batch" : "frozen", NULL};
    memset(tm, 0, sizeof *tm);
    tm->limit_kb = limit_kb;
    int fds[2];
    if (pipe(fds)) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        set_threads_env(o->threads);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fds[1], 1);
        if (fd >= 0) dup2(fd, 2);
        if (limit_kb > 0) {
            struct rlimit rl = {(rlim_t)limit_kb * 1024, (rlim_t)limit_kb * 1024};
            setrlimit(RLIMIT_AS, &rl);
        }
        execv(argv[0], argv);
        printf("TORCH_MISSING cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    FILE *p = fdopen(fds[0], "r");
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "MAXRSS ", 7)) tm->self_kb = atol(line + 7);
        else if (!strncmp(line, "TORCH", 5)) snprintf(tm->line, sizeof tm->line, "%.400s", line);
    }
    if (p) fclose(p);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    tm->wait_kb = ru.ru_maxrss;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !tm->self_kb) {
        if (limit_kb > 0 && log_says_oom(log))
            snprintf(tm->line, sizeof tm->line,
                     "does not fit: an allocation failed at the address-space limit of %.1f GiB "
                     "(--torch-limit-gb, default MemAvailable - 1 GiB; log %.200s)",
                     limit_kb / 1048576.0, log);
        else if (!tm->line[0] || strncmp(tm->line, "TORCH_MISSING", 13))
            snprintf(tm->line, sizeof tm->line, "step_torch.py failed (status %d; log %.200s)",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), log);
        return -1;
    }
    return 0;
}

/* ---- report --------------------------------------------------------------- */

static void print_breakdown(const struct run_cfg *r, const struct breakdown *bd)
{
    const struct scorr_model_memory *m = &bd->mem;
    const char *l = "  %-60s %9.1f\n";
    printf("\nscorr %s, batch %d: what %s (MiB)\n", r->variant, r->batch,
           bd->nets == 2 ? (bd->shares_act ? "each of the two networks holds (the second uses "
                                             "the first's workspace, gradients and activation "
                                             "arena)"
                                           : "each of the two networks holds (the second uses "
                                             "the first's workspace and gradients)")
                         : "the network holds");
    printf(l, "parameters", m->params / MIB);
    printf(l, "gradients", m->grads / MIB);
    printf(l, "AdamW moments (m, v)", bd->adam / MIB);
    printf(l, "backbone activations kept for backward", m->bb_act / MIB);
    printf(l, "  of which conv outputs (batch-norm inputs)", m->bb_act_conv / MIB);
    printf(l, "  rest: block outputs, max-pool output, BN statistics",
           (double)(m->bb_act - m->bb_act_conv) / MIB);
    const char *where = m->overlay ? "over head act." : "workspace";
    char label[96];
    snprintf(label, sizeof label, "backbone activation gradients (%s)", where);
    printf(l, label, m->bb_grad / MIB);
    snprintf(label, sizeof label, "backbone scratch: conv/oneDNN/Winograd, temporaries (%s)", where);
    printf(l, label, m->bb_scratch / MIB);
    printf(l, "head activations (SCE, L2, correlation, MNN, stats)", m->head_act / MIB);
    if (m->overlay)
        printf(l, "  region of head activations and backbone buffers (max)", m->overlay / MIB);
    printf(l, "head gradients (workspace)", m->head_grad / MIB);
    printf(l, "head scratch: upsampled soft-argmax, SCE (workspace)", m->head_scratch / MIB);
    printf(l, "images, features, feature gradient (workspace), flow", m->io / MIB);
    printf(l, m->overlay ? "workspace (feature gradient + head parts)"
                         : "workspace (feature gradient + max(backbone, head) parts)",
           m->workspace / MIB);
    printf(l, "activation arenas of the first network (kept + workspace)", m->arena / MIB);
    printf(l, "all networks: parameters + gradients + AdamW + arenas", bd->total / MIB);
    printf(l, "process before building (libraries, no MPI)", bd->rss_before_kb / 1024.0);
    printf(l, "process after building (peak resident, not run)", bd->rss_built_kb / 1024.0);
}

static int parse_configs(struct opts *o, const char *s)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    o->ncfg = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || o->ncfg == MAX_CONFIGS) return -1;
        *colon = 0;
        if (strcmp(tok, "baseline") && strcmp(tok, "mt")) return -1;
        struct run_cfg *r = &o->cfg[o->ncfg++];
        snprintf(r->variant, sizeof r->variant, "%s", tok);
        r->batch = atoi(colon + 1);
        if (r->batch < 1 || r->batch > 64) return -1;
    }
    return o->ncfg ? 0 : -1;
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [--configs baseline:2,mt:2,baseline:16,mt:16] [--threads N] [--steps K] "
            "[--bn frozen|batch] [--memory fast|small] [--depth D] [--size S] [--no-torch] "
            "[--no-scorr] "
            "[--train path/scorr_train] [--python path] [--script step_torch.py] "
            "[--torch-limit-gb G] [--keep]\n",
            argv0);
}

int main(int argc, char **argv)
{
    struct opts o = {.threads = 1, .memory = "fast", .torch_limit_gb = -1, .steps = 2, .depth = 101, .size = 256, .torch = 1, .scorr = 1,
                     .train = SCORR_BINARY_DIR "/bin/scorr_train", .python = "/usr/bin/python3",
                     .script = SCORR_SOURCE_DIR "/tools/bench/step_torch.py"};
    parse_configs(&o, "baseline:2,mt:2,baseline:16,mt:16");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, argv[0]);
            printf("Peak resident memory (maxrss) of K training steps of the paper's model,\n"
                   "scorr_train against tools/bench/step_torch.py, each configuration in its own\n"
                   "process, and what holds our bytes. docs/performance.md, \"Peak memory\".\n");
            return 0;
        }
        if (!strcmp(a, "--no-torch")) { o.torch = 0; continue; }
        if (!strcmp(a, "--no-scorr")) { o.scorr = 0; continue; }
        if (!strcmp(a, "--keep")) { o.keep = 1; continue; }
        if (!v) { usage(stderr, argv[0]); return 2; }
        if (!strcmp(a, "--configs")) {
            if (parse_configs(&o, v)) {
                fprintf(stderr, "bench_memory: --configs wants variant:batch[,...] with variant "
                                "baseline or mt and 1 <= batch <= 64, found '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--threads")) o.threads = atoi(v);
        else if (!strcmp(a, "--steps")) o.steps = atoi(v);
        else if (!strcmp(a, "--depth")) o.depth = atoi(v);
        else if (!strcmp(a, "--size")) o.size = atoi(v);
        else if (!strcmp(a, "--train")) o.train = v;
        else if (!strcmp(a, "--torch-limit-gb")) o.torch_limit_gb = atof(v);
        else if (!strcmp(a, "--python")) o.python = v;
        else if (!strcmp(a, "--script")) o.script = v;
        else if (!strcmp(a, "--bn")) {
            if (strcmp(v, "frozen") && strcmp(v, "batch")) { usage(stderr, argv[0]); return 2; }
            o.bn_batch = !strcmp(v, "batch");
        } else if (!strcmp(a, "--memory")) {
            if (strcmp(v, "fast") && strcmp(v, "small")) { usage(stderr, argv[0]); return 2; }
            o.memory = v;
        } else { usage(stderr, argv[0]); return 2; }
        i++;
    }
    if (o.threads < 1 || o.steps < 1 || o.size < 32 || o.size % 16) {
        fprintf(stderr, "bench_memory: need --threads >= 1, --steps >= 1, --size a multiple "
                        "of 16 from 32\n");
        return 2;
    }
    if (o.scorr && access(o.train, X_OK)) {
        fprintf(stderr, "bench_memory: cannot run %s (build scorr_train, or --train path)\n",
                o.train);
        return 2;
    }
    char cpu[320];
    scorr_cpu_describe(cpu, sizeof cpu);
    printf("cpu: %s; oneDNN bf16: %s\n", cpu, scorr_bf16_support_name(scorr_bf16_support()));
    printf("bench_memory: resnet%d cut after layer3, %dx%d, SCE k=7 -> 2048, up 4, bn %s, "
           "model.memory %s, %d thread%s, %d step%s per run, maxrss of each run's process\n",
           o.depth, o.size, o.size, o.bn_batch ? "batch" : "frozen", o.memory, o.threads,
           o.threads > 1 ? "s" : "", o.steps, o.steps > 1 ? "s" : "");

    char dir[] = "/tmp/bench_memory_XXXXXX", dataset[512];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_memory: cannot create a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    int maxb = 1, fail = 0;
    for (int i = 0; i < o.ncfg; i++) maxb = o.cfg[i].batch > maxb ? o.cfg[i].batch : maxb;
    snprintf(dataset, sizeof dataset, "%s/data.h5", dir);
    if (o.scorr && make_dataset(dataset, o.size, maxb * o.steps)) {
        fprintf(stderr, "bench_memory: cannot generate the dataset %s\n", dataset);
        return 1;
    }
    long ours[MAX_CONFIGS] = {0};
    struct torch_mem th[MAX_CONFIGS];
    struct breakdown bds[MAX_CONFIGS];
    memset(th, 0, sizeof th);
    memset(bds, 0, sizeof bds);
    for (int i = 0; i < o.ncfg; i++) {
        const struct run_cfg *r = &o.cfg[i];
        char cfg_path[600], log[600];
        snprintf(cfg_path, sizeof cfg_path, "%s/%s-%d.yaml", dir, r->variant, r->batch);
        if (write_config(cfg_path, dir, dataset, &o, r)) {
            fprintf(stderr, "bench_memory: cannot write %s\n", cfg_path);
            return 1;
        }
        if (o.scorr) {
            if (get_breakdown(cfg_path, o.threads, &bds[i]) == 0) print_breakdown(r, &bds[i]);
            else printf("\nscorr %s, batch %d: breakdown failed\n", r->variant, r->batch);
            snprintf(log, sizeof log, "%s/scorr-%s-%d.log", dir, r->variant, r->batch);
            const long avail = mem_available_kb();
            if (bds[i].ok && avail > 0 && bds[i].rss_built_kb > avail) {
                printf("scorr %s, batch %d: NOT RUN: its networks alone take %.1f GiB, %.1f GiB "
                       "available\n", r->variant, r->batch, bds[i].rss_built_kb / 1048576.0,
                       avail / 1048576.0);
            } else {
                printf("scorr %s, batch %d: scorr_train %s (log %s)...\n", r->variant, r->batch,
                       cfg_path, log);
                char *av[] = {(char *)o.train, cfg_path, NULL};
                const int st = run_child(av, o.threads, log, -1, &ours[i]);
                if (st != 0) {
                    fprintf(stderr, "bench_memory: scorr_train failed (status %d); its log: %s\n",
                            st, log);
                    ours[i] = 0;
                    fail = 1;
                    o.keep = 1;
                } else {
                    printf("  peak resident %.1f MiB\n", ours[i] / 1024.0);
                }
            }
        }
        if (o.torch) {
            snprintf(log, sizeof log, "%s/torch-%s-%d.log", dir, r->variant, r->batch);
            printf("PyTorch %s, batch %d: step_torch.py --memory (log %s)...\n", r->variant,
                   r->batch, log);
            if (run_torch(&o, r, log, &th[i]) == 0)
                printf("  peak resident %.1f MiB (its own getrusage: %.1f MiB)\n",
                       th[i].wait_kb / 1024.0, th[i].self_kb / 1024.0);
            else
                printf("  NOT MEASURED: %s\n", th[i].line);
        }
    }
    printf("\n%-16s %12s %12s %8s %14s   (MiB = 2^20 bytes; peak resident of each run)\n",
           "config", "scorr MiB", "PyTorch MiB", "ratio", "scorr nets MiB");
    for (int i = 0; i < o.ncfg; i++) {
        const struct run_cfg *r = &o.cfg[i];
        const struct breakdown *bd = &bds[i];
        char name[32];
        snprintf(name, sizeof name, "%s B=%d", r->variant, r->batch);
        const double nets = bd->ok ? bd->total : 0;
        const int have_t = th[i].wait_kb > 0 && th[i].self_kb > 0;
        printf("%-16s %12.1f %12.1f %8.3f %14.1f\n", name, ours[i] / 1024.0,
               have_t ? th[i].wait_kb / 1024.0 : 0.0,
               have_t && ours[i] ? (double)ours[i] / th[i].wait_kb : 0.0, nets / MIB);
        printf("RESULT bench_memory variant=%s batch=%d depth=%d size=%d bn=%s memory=%s "
               "threads=%d steps=%d scorr_kb=%ld torch_kb=%ld torch_self_kb=%ld ratio=%.4f nets_bytes=%.0f "
               "arena_bytes=%zu workspace_bytes=%zu\n",
               r->variant, r->batch, o.depth, o.size, o.bn_batch ? "batch" : "frozen", o.memory,
               o.threads, o.steps, ours[i], have_t ? th[i].wait_kb : 0L, th[i].self_kb,
               have_t && ours[i] ? (double)ours[i] / th[i].wait_kb : 0.0, nets,
               bd->ok ? bd->mem.arena : 0, bd->ok ? bd->mem.workspace : 0);
    }
    for (int i = 0; i < o.ncfg && o.torch; i++)
        if (th[i].line[0]) printf("PyTorch run %d: %s\n", i, th[i].line);
    printf("RESULT cpu %s\n", cpu);
    if (!o.keep) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_memory: could not remove %s\n", dir);
    } else {
        printf("files kept in %s\n", dir);
    }
    return fail;
}
