/* Checkpoints: write/read round trip of everything (both networks, moments,
 * step counts, metadata, config), best.h5, discovery of the latest valid
 * file past truncated and garbage ones, keep_last pruning, and the errors
 * for a checkpoint that does not fit (architecture, resume config, no
 * optimiser state, not a checkpoint), with their messages. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/checkpoint.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/rng.h"

static char dir[64] = "/tmp/scorr_ckpt_XXXXXX";

/* A small model table shaped like the real one: backbone convs and batch
 * norms (with running-stat buffers), an SCE conv. depth/channels change
 * shapes the way the config keys do. */
static void build_table(struct scorr_params *t, int width, int sce_channels, int extra_block,
                        int freeze)
{
    scorr_params_init(t);
    const int64_t c1[] = {width, 3, 7, 7}, bn[] = {width};
    const int64_t l3[] = {4 * width, 16 * width, 1, 1}, l3bn[] = {4 * width};
    const int64_t sce[] = {sce_channels, 16 * width + 28, 1, 1}, sceb[] = {sce_channels};
    scorr_params_add(t, "feature_extraction.backbone.conv1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 4, c1);
    scorr_params_add(t, "feature_extraction.backbone.bn1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ONE, 1, bn);
    scorr_params_add(t, "feature_extraction.backbone.bn1.bias", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1, bn);
    scorr_params_add(t, "feature_extraction.backbone.bn1.running_mean", SCORR_PARAM_BUFFER,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1, bn);
    scorr_params_add(t, "feature_extraction.backbone.bn1.running_var", SCORR_PARAM_BUFFER,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ONE, 1, bn);
    scorr_params_add(t, "feature_extraction.backbone.layer3.0.conv1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 4, l3);
    if (extra_block)
        scorr_params_add(t, "feature_extraction.backbone.layer3.5.conv1.weight",
                         SCORR_PARAM_WEIGHT, SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 4, l3);
    scorr_params_add(t, "feature_extraction.backbone.layer3.0.bn1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ONE, 1, l3bn);
    scorr_params_add(t, "SCEs.0.conv.weight", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD,
                     SCORR_INIT_ZERO, 4, sce);
    scorr_params_add(t, "SCEs.0.conv.bias", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD, SCORR_INIT_ZERO,
                     1, sceb);
    if (freeze) scorr_params_set_trainable(t, SCORR_GROUP_BACKBONE, 0);
}

struct net {
    struct scorr_params t;
    float *params;
    struct scorr_adamw opt;
    struct scorr_ckpt_net ck;
};

static void fill(float *x, size_t n, uint64_t seed)
{
    struct scorr_rng r;
    scorr_rng_init(&r, seed, SCORR_RNG_TEST, 0, 0, 0);
    for (size_t i = 0; i < n; i++) x[i] = scorr_rng_normal(&r);
}

static void net_init(struct net *n, int width, int sce_channels, int extra, int freeze,
                     uint64_t seed)
{
    build_table(&n->t, width, sce_channels, extra, freeze);
    n->params = scorr_aligned_calloc(n->t.total * sizeof(float));
    if (scorr_adamw_init_with(&n->opt, &n->t, 0.9, 0.999, 1e-8, 0.05)) exit(2);
    fill(n->params, n->t.total, seed);
    fill(n->opt.m, n->t.total, seed + 1);
    fill(n->opt.v, n->t.total, seed + 2);
    /* Moments of untrained entries stay zero, as the optimiser leaves them. */
    for (int i = 0; i < n->t.n; i++)
        if (!(n->t.p[i].kind == SCORR_PARAM_WEIGHT && n->t.p[i].trainable)) {
            memset(n->opt.m + n->t.p[i].offset, 0, n->t.p[i].numel * 4);
            memset(n->opt.v + n->t.p[i].offset, 0, n->t.p[i].numel * 4);
        }
    n->opt.step = (int64_t)seed * 7;
    n->ck = (struct scorr_ckpt_net){&n->t, n->params, &n->opt};
}

static void net_free(struct net *n)
{
    scorr_aligned_free(n->params);
    scorr_adamw_free(&n->opt);
    scorr_params_free(&n->t);
}

/* Parameters and moments of a and b equal over the table's entries. */
static int same_state(const struct net *a, const struct net *b, int moments)
{
    for (int i = 0; i < a->t.n; i++) {
        size_t o = a->t.p[i].offset, n = a->t.p[i].numel * 4;
        if (memcmp(a->params + o, b->params + o, n)) return 0;
        if (moments && (memcmp(a->opt.m + o, b->opt.m + o, n) || memcmp(a->opt.v + o, b->opt.v + o, n)))
            return 0;
    }
    return !moments || a->opt.step == b->opt.step;
}

static void config_for(struct scorr_config *c, const char *variant, int depth)
{
    char d[16];
    scorr_config_defaults(c);
    snprintf(d, sizeof d, "%d", depth);
    CHECK_OK(scorr_config_set(c, "variant", variant));
    CHECK_OK(scorr_config_set(c, "model.backbone.depth", d));
}

static struct scorr_ckpt_meta meta_for(int64_t step)
{
    struct scorr_ckpt_meta m = {.variant = "mt", .epoch = step / 10, .steps_in_epoch = step % 10,
                                .step = step, .best_epoch = 3, .best_pck = 47.25, .best_peer = 1,
                                .seed = 2021};
    return m;
}

static int msg_has(const char *s) { return strstr(scorr_error_message(), s) != NULL; }

static void test_round_trip(void)
{
    struct net a, b, a2, b2;
    struct scorr_config cfg;
    char *yaml = NULL, *yaml_back = NULL, path[4096];
    config_for(&cfg, "mt", 101);
    CHECK_OK(scorr_config_emit(&cfg, &yaml));
    net_init(&a, 8, 24, 1, 0, 11);
    net_init(&b, 8, 24, 1, 0, 22);
    net_init(&a2, 8, 24, 1, 0, 33);
    net_init(&b2, 8, 24, 1, 0, 44);
    struct scorr_ckpt_meta m = meta_for(1234), back;
    char out[1024];
    snprintf(out, sizeof out, "%s/rt", dir);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &a.ck, &b.ck, 2, path));
    CHECK(strstr(path, "/rt/checkpoints/step_00001234.h5") != NULL, "path %s", path);

    int has_optim = 0, has_peer = 0;
    CHECK_OK(scorr_ckpt_inspect(path, &back, &yaml_back, &has_optim, &has_peer));
    CHECK(has_optim && has_peer, "flags");
    CHECK(yaml_back && !strcmp(yaml, yaml_back), "config text round trip");
    CHECK(back.epoch == 123 && back.steps_in_epoch == 4 && back.step == 1234 &&
              back.best_epoch == 3 && back.best_pck == 47.25 && back.best_peer == 1 &&
              back.seed == 2021 && !strcmp(back.variant, "mt"),
          "meta round trip");
    free(yaml_back);

    memset(&back, 0, sizeof back);
    CHECK_OK(scorr_ckpt_load(path, &cfg, &back, &a2.ck, &b2.ck));
    CHECK(same_state(&a, &a2, 1), "network A differs after load");
    CHECK(same_state(&b, &b2, 1), "peer differs after load");
    CHECK(back.step == 1234 && back.epoch == 123, "meta from load");

    /* Resume with an allowed change, and with a forbidden one. */
    struct scorr_config cfg2 = cfg;
    CHECK_OK(scorr_config_set(&cfg2, "train.epochs", "70"));
    CHECK_OK(scorr_ckpt_load(path, &cfg2, &back, &a2.ck, &b2.ck));
    CHECK_OK(scorr_config_set(&cfg2, "pseudo.weight", "3"));
    CHECK(scorr_ckpt_load(path, &cfg2, &back, &a2.ck, &b2.ck) == SCORR_EINVAL &&
              msg_has("cannot resume from checkpoint") && msg_has(path) &&
              msg_has("pseudo.weight was 10.0 there, this run has 3.0"),
          "resume mismatch: %s", scorr_error_message());
    scorr_error_clear();
    /* A variant without a peer cannot resume an mt checkpoint. */
    CHECK(scorr_ckpt_load(path, &cfg, &back, &a2.ck, NULL) == SCORR_EFORMAT &&
              msg_has("holds a peer network"),
          "peer mismatch: %s", scorr_error_message());
    scorr_error_clear();

    /* best.h5: one network, parameters only. */
    struct net p;
    net_init(&p, 8, 24, 1, 0, 55);
    CHECK_OK(scorr_ckpt_save_best(out, &m, yaml, &b.ck));
    snprintf(path, sizeof path, "%s/best.h5", out);
    CHECK_OK(scorr_ckpt_inspect(path, &back, NULL, &has_optim, &has_peer));
    CHECK(!has_optim && !has_peer, "best.h5 flags");
    CHECK_OK(scorr_ckpt_load_params(path, "best checkpoint", &cfg, 0, &p.t, p.params));
    CHECK(same_state(&b, &p, 0), "best.h5 params");
    CHECK(scorr_ckpt_load(path, &cfg, &back, &a2.ck, &b2.ck) == SCORR_EFORMAT &&
              msg_has("holds no optimiser state"),
          "resume from best.h5: %s", scorr_error_message());
    scorr_error_clear();
    CHECK(scorr_ckpt_load_params(path, "teacher checkpoint", &cfg, 1, &p.t, p.params) == SCORR_EINVAL &&
              msg_has("holds one network"),
          "peer of best.h5: %s", scorr_error_message());
    scorr_error_clear();
    /* The peer of a step checkpoint, as a teacher. */
    CHECK_OK(scorr_ckpt_find_latest(out, path, sizeof path, &has_peer));
    CHECK_OK(scorr_ckpt_load_params(path, "teacher checkpoint", &cfg, 1, &p.t, p.params));
    CHECK(same_state(&b, &p, 0), "peer params via load_params");

    free(yaml);
    net_free(&a);
    net_free(&b);
    net_free(&a2);
    net_free(&b2);
    net_free(&p);
}

static void test_architecture_errors(void)
{
    struct net a, small, wide, nosce, frozen;
    struct scorr_config c50, c101;
    char *yaml = NULL, out[1024], path[4096];
    config_for(&c50, "baseline", 50);
    config_for(&c101, "baseline", 101);
    CHECK_OK(scorr_config_emit(&c50, &yaml));
    net_init(&a, 8, 24, 0, 0, 1);       /* "depth 50": no layer3.5 */
    net_init(&small, 8, 24, 1, 0, 2);   /* "depth 101": has layer3.5 */
    net_init(&wide, 16, 24, 0, 0, 3);   /* other width: other shapes */
    net_init(&nosce, 8, 12, 0, 0, 4);
    net_init(&frozen, 8, 24, 0, 1, 5);
    snprintf(out, sizeof out, "%s/arch", dir);
    struct scorr_ckpt_meta m = meta_for(10);
    snprintf(m.variant, sizeof m.variant, "baseline");
    CHECK_OK(scorr_ckpt_save_best(out, &m, yaml, &a.ck));
    snprintf(path, sizeof path, "%s/best.h5", out);

    /* Missing tensor, explained by the depth key. */
    CHECK(scorr_ckpt_load_params(path, "teacher checkpoint", &c101, 0, &small.t, small.params) ==
              SCORR_EFORMAT,
          "missing tensor accepted");
    char want[8192];
    snprintf(want, sizeof want, "teacher checkpoint '%s' was trained with model.backbone.depth 50, "
                                "this run has 101 (tensor 'feature_extraction.backbone.layer3.5.conv1.weight' "
                                "is missing from /params (this model has it with shape (32, 128, 1, 1)))",
             path);
    CHECK(msg_has(want), "message:\n  %s\nexpected:\n  %s", scorr_error_message(), want);
    scorr_error_clear();

    /* Wrong shape, without a config difference to blame. */
    CHECK(scorr_ckpt_load_params(path, "teacher checkpoint", &c50, 0, &wide.t, wide.params) ==
              SCORR_EFORMAT,
          "shape mismatch accepted");
    CHECK(msg_has("does not fit this model") &&
              msg_has("tensor 'feature_extraction.backbone.conv1.weight' has shape (8, 3, 7, 7) in "
                      "the file, this model expects (16, 3, 7, 7)"),
          "shape message: %s", scorr_error_message());
    scorr_error_clear();

    /* Shape mismatch explained by model.sce.channels. */
    struct scorr_config c12 = c50;
    CHECK_OK(scorr_config_set(&c12, "model.sce.channels", "12"));
    CHECK(scorr_ckpt_load_params(path, "teacher checkpoint", &c12, 0, &nosce.t, nosce.params) ==
              SCORR_EFORMAT &&
              msg_has("was trained with model.sce.channels 2048, this run has 12") &&
              msg_has("'SCEs.0.conv.weight' has shape (24, 156, 1, 1) in the file, this model "
                      "expects (12, 156, 1, 1)"),
          "sce message: %s", scorr_error_message());
    scorr_error_clear();

    /* Extra tensor in the file. */
    CHECK_OK(scorr_ckpt_save_best(out, &m, yaml, &small.ck));
    CHECK(scorr_ckpt_load_params(path, "weights", NULL, 0, &a.t, a.params) == SCORR_EFORMAT &&
              msg_has("/params holds tensor 'feature_extraction.backbone.layer3.5.conv1.weight', "
                      "which this model does not have"),
          "extra message: %s", scorr_error_message());
    scorr_error_clear();

    /* Public per-table reader: same checks, message names file and group. */
    struct scorr_h5 f;
    CHECK_OK(scorr_h5_open(&f, path));
    CHECK(scorr_ckpt_read_tensors(&f, "/params", &wide.t, wide.params, 0, "weights file") ==
              SCORR_EFORMAT &&
              msg_has("weights file '") && msg_has("has shape (8, 3, 7, 7) in the file"),
          "read_tensors: %s", scorr_error_message());
    scorr_error_clear();
    CHECK(scorr_ckpt_read_tensors(&f, "/nope", &a.t, a.params, 0, "weights file") ==
              SCORR_EFORMAT && msg_has("group '/nope' is missing"),
          "missing group: %s", scorr_error_message());
    scorr_error_clear();
    scorr_h5_close(&f);

    /* Resume where the trained set differs (freeze): caught by the config. */
    snprintf(out, sizeof out, "%s/freeze", dir);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &a.ck, NULL, 2, path));
    struct scorr_config cf = c50;
    CHECK_OK(scorr_config_set(&cf, "model.backbone.freeze", "true"));
    struct scorr_ckpt_meta back;
    CHECK(scorr_ckpt_load(path, &cf, &back, &frozen.ck, NULL) == SCORR_EINVAL &&
              msg_has("model.backbone.freeze was false there, this run has true"),
          "freeze resume: %s", scorr_error_message());
    scorr_error_clear();
    /* Same config, but moments of a different trained set: tensor check. */
    CHECK(scorr_ckpt_load(path, &c50, &back, &frozen.ck, NULL) == SCORR_EFORMAT &&
              msg_has("/optim/m holds tensor 'feature_extraction.backbone.bn1.bias'") &&
              msg_has("which this model does not train"),
          "moment set: %s", scorr_error_message());
    scorr_error_clear();

    /* Not a checkpoint at all. */
    struct scorr_h5 w;
    snprintf(path, sizeof path, "%s/other.h5", dir);
    CHECK_OK(scorr_h5_create(&w, path));
    CHECK_OK(scorr_h5_set_attr_str(&w, "/", "format", "scorr-dataset"));
    CHECK_OK(scorr_h5_commit(&w));
    CHECK(scorr_ckpt_load_params(path, "teacher checkpoint", &c50, 0, &a.t, a.params) ==
              SCORR_EFORMAT &&
              msg_has("is not a scorr checkpoint (format 'scorr-dataset', expected 'scorr-checkpoint')"),
          "format: %s", scorr_error_message());
    scorr_error_clear();
    CHECK(scorr_ckpt_load_params("/nonexistent.h5", "teacher checkpoint", &c50, 0, &a.t, a.params) ==
              SCORR_EIO && msg_has("/nonexistent.h5"),
          "missing: %s", scorr_error_message());
    scorr_error_clear();

    free(yaml);
    net_free(&a);
    net_free(&small);
    net_free(&wide);
    net_free(&nosce);
    net_free(&frozen);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, n, f) == n, "write %s", path);
    if (f) fclose(f);
}

/* The pid of a process that has exited (and been reaped). */
static long dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int st;
    waitpid(pid, &st, 0);
    return (long)pid;
}

static int exists_step(const char *out, int64_t step)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoints/step_%08lld.h5", out, (long long)step);
    return scorr_exists(p);
}

static void test_discovery_and_pruning(void)
{
    struct net a;
    struct scorr_config cfg;
    char *yaml = NULL, out[1024], path[4096], p2[4200];
    int found = 0;
    config_for(&cfg, "baseline", 101);
    CHECK_OK(scorr_config_emit(&cfg, &yaml));
    net_init(&a, 4, 8, 0, 0, 9);
    snprintf(out, sizeof out, "%s/disc", dir);

    /* No folder yet: nothing found, no error. */
    CHECK_OK(scorr_ckpt_find_latest(out, path, sizeof path, &found));
    CHECK(!found, "found a checkpoint in an empty run");

    struct scorr_ckpt_meta m = meta_for(10);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &a.ck, NULL, 3, path));
    /* Newer files that are not usable: garbage, a truncated copy, a
     * checkpoint whose name and step attribute disagree, and names that are
     * not step files at all. */
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000020.h5", out);
    write_bytes(p2, "garbage, not HDF5", 17);
    char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(scorr_read_file(path, &bytes, &len));
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000030.h5", out);
    write_bytes(p2, bytes, len / 2);
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000040.h5", out);
    write_bytes(p2, bytes, len); /* a copy of step 10 under another name */
    free(bytes);
    snprintf(p2, sizeof p2, "%s/checkpoints/step_50.h5", out);
    write_bytes(p2, "x", 1);
    long dead = dead_pid();
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000060.h5.tmp.%ld", out, dead);
    write_bytes(p2, "x", 1);
    CHECK_OK(scorr_ckpt_find_latest(out, p2, sizeof p2, &found));
    CHECK(found && !strcmp(p2, path), "latest is '%s', expected '%s'", p2, path);

    /* keep_last: 3 good files wanted, only 1 exists: nothing deleted. */
    CHECK_OK(scorr_ckpt_prune(out, 3));
    CHECK(exists_step(out, 10) && exists_step(out, 20) && exists_step(out, 30), "pruned too much");
    /* Stale temporaries of a writer that is gone are removed. */
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000060.h5.tmp.%ld", out, dead);
    CHECK(!scorr_exists(p2), "stale temporary kept");

    /* Saving more: the newest keep_last good ones stay; unusable files newer
     * than the oldest kept one stay; best.h5 is never touched. */
    CHECK_OK(scorr_ckpt_save_best(out, &m, yaml, &a.ck));
    for (int64_t s = 41; s <= 45; s++) {
        m = meta_for(s);
        CHECK_OK(scorr_ckpt_save(out, &m, yaml, &a.ck, NULL, 2, NULL));
    }
    CHECK(exists_step(out, 45) && exists_step(out, 44), "newest two missing");
    for (int64_t s = 10; s <= 43; s++) CHECK(!exists_step(out, s), "step %lld not pruned", (long long)s);
    snprintf(p2, sizeof p2, "%s/best.h5", out);
    CHECK(scorr_exists(p2), "best.h5 deleted");
    snprintf(p2, sizeof p2, "%s/checkpoints/step_50.h5", out);
    CHECK(scorr_exists(p2), "a non-step file was deleted");
    CHECK_OK(scorr_ckpt_find_latest(out, p2, sizeof p2, &found));
    CHECK(found && strstr(p2, "step_00000045.h5"), "latest after pruning: %s", p2);

    /* A garbage file newer than every good one: kept, and skipped. */
    snprintf(p2, sizeof p2, "%s/checkpoints/step_00000099.h5", out);
    write_bytes(p2, "junk", 4);
    m = meta_for(46);
    CHECK_OK(scorr_ckpt_save(out, &m, yaml, &a.ck, NULL, 1, NULL));
    CHECK(exists_step(out, 46) && !exists_step(out, 45) && exists_step(out, 99),
          "keep_last 1 with a newer garbage file");
    CHECK_OK(scorr_ckpt_find_latest(out, p2, sizeof p2, &found));
    CHECK(found && strstr(p2, "step_00000046.h5"), "latest: %s", p2);
    CHECK(scorr_ckpt_prune(out, 0) == SCORR_EINVAL, "keep_last 0 accepted");
    scorr_error_clear();

    free(yaml);
    net_free(&a);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    test_round_trip();
    test_architecture_errors();
    test_discovery_and_pruning();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return scorr_test_finish("test_traininfra_checkpoint");
}
