/* The experiment file: defaults, round trip, every error class with its
 * message (file:line: key path), duplicate keys, overrides with suggestions,
 * the key listing, the resume rule, and every file in experiments/. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"

static int parse(struct scorr_config *c, const char *yaml)
{
    return scorr_config_parse(c, yaml, strlen(yaml), "x.yaml");
}

/* The YAML must fail, with a message holding every needle. */
static void expect_error(int line, const char *yaml, const char *const *needles)
{
    struct scorr_config c;
    scorr_check_error(line, parse(&c, yaml), yaml, needles);
}
#define EXPECT_ERROR(yaml, ...) expect_error(__LINE__, yaml, (const char *const[]){__VA_ARGS__, NULL})

/* The listing in the task statement, verbatim (comments included). */
static const char *example =
    "name: quickstart                # experiment name\n"
    "output: runs/quickstart         # output folder (created; must be writable)\n"
    "seed: 1\n"
    "variant: mt                     # baseline | st | mt\n"
    "data:\n"
    "  file: data/synth.h5           # scorr dataset file (HDF5)\n"
    "  train_split: trn\n"
    "  val_split: val                # or none\n"
    "  image_size: 128               # must equal the file's image_size\n"
    "  augment: true\n"
    "  flip: true\n"
    "model:\n"
    "  backbone:\n"
    "    depth: 101                  # 18 | 34 | 50 | 101\n"
    "    width: 64\n"
    "    weights: none\n"
    "    freeze: false\n"
    "    batchnorm: frozen\n"
    "  sce:\n"
    "    enabled: true\n"
    "    kernel: 7\n"
    "    channels: 2048\n"
    "  upsample: 4\n"
    "  temperature: 0.02\n"
    "teacher:\n"
    "  checkpoint: none\n"
    "pseudo:\n"
    "  weight: 10.0\n"
    "  start_epoch: 4\n"
    "  dilation_kernel: 7\n"
    "  selection:\n"
    "    start_ratio: 0.2\n"
    "    end_ratio: 0.9\n"
    "    ramp_epochs: 10\n"
    "optim:\n"
    "  lr: 3.0e-5                    # head\n"
    "  lr_backbone: 3.0e-6\n"
    "  weight_decay: 0.05\n"
    "  beta1: 0.9\n"
    "  beta2: 0.999\n"
    "  eps: 1.0e-8\n"
    "  grad_clip: none\n"
    "schedule:\n"
    "  type: step\n"
    "  milestones: [150]\n"
    "  gamma: 0.5\n"
    "  min_lr: 1.0e-6\n"
    "train:\n"
    "  epochs: 50\n"
    "  batch_size: 16\n"
    "  max_steps_per_epoch: none\n"
    "validation:\n"
    "  split: val\n"
    "  alpha: 0.1\n"
    "  threshold: auto\n"
    "  every_epochs: 1\n"
    "checkpoint:\n"
    "  every_steps: 500\n"
    "  keep_last: 2\n"
    "log:\n"
    "  every_steps: 10\n";

static void test_defaults(void)
{
    struct scorr_config c;
    scorr_config_defaults(&c);
    CHECK_OK(scorr_config_validate(&c, "defaults"));
    /* Paper / reference facts (DESIGN.md section 2, train.py). */
    CHECK(c.model.backbone.depth == 101 && c.model.sce.kernel == 7 && c.model.sce.channels == 2048,
          "architecture defaults");
    CHECK(c.optim.lr == 3e-5 && c.optim.lr_backbone == 3e-6 && c.optim.weight_decay == 0.05,
          "optimiser defaults");
    CHECK(c.optim.beta1 == 0.9 && c.optim.beta2 == 0.999 && c.optim.eps == 1e-8, "betas");
    CHECK(c.pseudo.weight == 10.0 && c.pseudo.start_epoch == 4 && c.pseudo.dilation_kernel == 7,
          "pseudo defaults");
    CHECK(c.pseudo.selection.start_ratio == 0.2 && c.pseudo.selection.end_ratio == 0.9 &&
              c.pseudo.selection.ramp_epochs == 10,
          "selection defaults");
    CHECK(c.schedule.type == SCORR_SCHED_STEP && c.schedule.n_milestones == 1 &&
              c.schedule.milestones[0] == 150 && c.schedule.gamma == 0.5 &&
              c.schedule.min_lr == 1e-6,
          "schedule defaults");
    CHECK(c.train.epochs == 50 && c.train.batch_size == 16 && c.data.image_size == 256 &&
              c.model.upsample == 4 && c.model.temperature == 0.02 && c.variant == SCORR_VARIANT_MT,
          "train defaults");
    CHECK(c.teacher.checkpoint[0] == 0 && c.model.backbone.weights[0] == 0 &&
              c.optim.grad_clip == 0 && c.train.max_steps_per_epoch == 0,
          "none defaults");
    CHECK(c.train.stall_timeout == -1.0, "train.stall_timeout defaults to auto (-1)");
    /* An empty file, a comment-only file and "---" give the defaults. */
    struct scorr_config e;
    const char *empties[] = {"", "# nothing\n", "---\n", "{}\n"};
    for (int i = 0; i < 4; i++) {
        CHECK_OK(parse(&e, empties[i]));
        CHECK(scorr_config_equal(&c, &e, NULL), "empty file %d differs from defaults", i);
    }
}

static void test_example(void)
{
    struct scorr_config c;
    CHECK_OK(parse(&c, example));
    CHECK(!strcmp(c.name, "quickstart") && !strcmp(c.output, "runs/quickstart") && c.seed == 1,
          "top level");
    CHECK(c.data.image_size == 128 && !strcmp(c.data.val_split, "val") &&
              !strcmp(c.validation.split, "val") && !strcmp(c.validation.threshold, "auto"),
          "data/validation");
    CHECK(c.optim.lr == 3.0e-5 && c.optim.eps == 1.0e-8, "optim");
    CHECK(!strcmp(scorr_config_val_split(&c), "val"), "val split");
}

/* Every key set to a value other than its default, through the override
 * path; then emit -> parse -> identical struct, and emit is stable. */
static const char *const all_keys[][2] = {
    {"name", "run-7.b"},
    {"output", "/tmp/odd dir/with \"quotes\" # and: colons"},
    {"seed", "12345"},
    {"variant", "st"},
    {"data.file", "\"none\""}, /* a path literally named none: quoted on emission */
    {"data.train_split", "val"},
    {"data.val_split", "test"},
    {"data.image_size", "192"},
    {"data.augment", "false"},
    {"data.flip", "false"},
    {"model.weights", "runs/pretrain/best.h5"},
    {"model.backbone.depth", "34"},
    {"model.backbone.width", "24"},
    {"model.backbone.weights", "\"weights/t\\tab/b\xc3\xa4r.h5\""}, /* tab, UTF-8 */
    {"model.backbone.freeze", "true"},
    {"model.backbone.batchnorm", "frozen"},
    {"model.backbone.winograd", "false"},
    {"model.sce.enabled", "false"},
    {"model.sce.kernel", "13"},
    {"model.sce.channels", "1024"},
    {"model.upsample", "1"},
    {"model.temperature", "0.0123456789012345"},
    {"model.learn_grid", "true"},
    {"model.precision", "bf16"},
    {"model.memory", "small"},
    {"teacher.checkpoint", "runs/base/best.h5"},
    {"pseudo.weight", "2.5"},
    {"pseudo.start_epoch", "3"},
    {"pseudo.dilation_kernel", "none"},
    {"pseudo.selection.start_ratio", "0.30000000000000004"},
    {"pseudo.selection.end_ratio", "1"},
    {"pseudo.selection.ramp_epochs", "0"},
    {"warp.homography", "0.25"},
    {"warp.elastic.grid", "none"},
    {"warp.elastic.amplitude", "0.0"},
    {"warp.compose", "false"},
    {"warp.repeat", "4"},
    {"optim.lr", "1e-3"},
    {"optim.lr_backbone", "0.0"},
    {"optim.weight_decay", "0"},
    {"optim.beta1", "0.5"},
    {"optim.beta2", "0.99"},
    {"optim.eps", "1.5e-300"},
    {"optim.grad_clip", "1e7"},
    {"schedule.type", "cosine"},
    {"schedule.milestones", "[0, 3, 1000000]"},
    {"schedule.gamma", "0.1"},
    {"schedule.min_lr", "1e-9"},
    {"train.epochs", "7"},
    {"train.batch_size", "3"},
    {"train.max_steps_per_epoch", "11"},
    {"train.bucket_mb", "0.5"},
    {"train.allreduce_dtype", "bf16"},
    {"train.stall_timeout", "12.5"},
    {"validation.split", "test"},
    {"validation.alpha", "0.05"},
    {"validation.threshold", "kpsbox"},
    {"validation.every_epochs", "2"},
    {"checkpoint.every_steps", "none"},
    {"checkpoint.keep_last", "5"},
    {"log.every_steps", "1"},
};

static void test_round_trip(void)
{
    struct scorr_config d, c, back;
    char *text = NULL, *text2 = NULL, got[2048], def[2048];
    const int n = (int)(sizeof all_keys / sizeof all_keys[0]);
    const char *keys[64], *vals[64];
    scorr_config_defaults(&d);
    /* Defaults round trip. */
    CHECK_OK(scorr_config_emit(&d, &text));
    CHECK_OK(scorr_config_parse(&back, text, strlen(text), "emitted"));
    CHECK(scorr_config_equal(&d, &back, NULL), "defaults round trip");
    free(text);
    text = NULL;
    /* The list covers every key of the schema. */
    CHECK(n == scorr_config_nkeys(), "round-trip list has %d keys, schema %d", n,
          scorr_config_nkeys());
    for (int i = 0; i < n; i++) {
        keys[i] = all_keys[i][0];
        vals[i] = all_keys[i][1];
        CHECK(scorr_config_has_key(keys[i]), "%s not in schema", keys[i]);
    }
    c = d;
    CHECK_OK(scorr_config_override(&c, n, keys, vals));
    for (int i = 0; i < n; i++) {
        scorr_config_get(&c, keys[i], got, sizeof got);
        scorr_config_get(&d, keys[i], def, sizeof def);
        CHECK(strcmp(got, def) != 0, "%s still at its default %s", keys[i], def);
    }
    CHECK(!strcmp(c.data.file, "none"), "quoted-none path read as '%s'", c.data.file);
    CHECK(!strcmp(c.model.backbone.weights, "weights/t\tab/b\xc3\xa4r.h5"), "escapes: '%s'",
          c.model.backbone.weights);
    CHECK(c.pseudo.selection.start_ratio == 0.30000000000000004, "double precision kept");
    CHECK_OK(scorr_config_emit(&c, &text));
    CHECK_OK(scorr_config_parse(&back, text, strlen(text), "emitted"));
    const char *diff = NULL;
    CHECK(scorr_config_equal(&c, &back, &diff), "round trip differs at %s\n%s",
          diff ? diff : "?", text);
    CHECK(memcmp(&c.optim, &back.optim, sizeof c.optim) == 0, "optim bits differ");
    CHECK_OK(scorr_config_emit(&back, &text2));
    CHECK(text && text2 && !strcmp(text, text2), "emission not stable");
    free(text);
    free(text2);
}

static void test_errors(void)
{
    /* Unknown keys, with and without a suggestion. */
    EXPECT_ERROR("name: a\npseudo:\n  dilation_kernl: 5\n",
                 "x.yaml:3: no key 'pseudo.dilation_kernl' in the experiment schema; did you mean "
                 "'pseudo.dilation_kernel'?");
    EXPECT_ERROR("seed: 1\nlr: 0.1\n", "x.yaml:2: no key 'lr'", "did you mean 'optim.lr'?");
    EXPECT_ERROR("foo: 1\n", "x.yaml:1: no key 'foo'", "top-level keys: name, output");
    EXPECT_ERROR("optim:\n  zzz: 1\n", "x.yaml:2: no key 'optim.zzz'", "keys of 'optim': lr,");
    /* Duplicate keys (libyaml accepts them). */
    EXPECT_ERROR("name: a\nseed: 2\nname: b\n", "x.yaml:3: duplicate key 'name' (first given at line 1)");
    EXPECT_ERROR("optim:\n  lr: 0.1\n  eps: 1.0e-8\n  lr: 0.2\n",
                 "x.yaml:4: duplicate key 'optim.lr' (first given at line 2)");
    EXPECT_ERROR("optim:\n  lr: 0.1\noptim:\n  eps: 0.1\n", "x.yaml:3: duplicate key 'optim'");
    /* Wrong types. */
    EXPECT_ERROR("pseudo:\n  weight: 10\n  selection:\n    start_ratio: fast\n",
                 "x.yaml:4: pseudo.selection.start_ratio: expected a number in [0, 1] or none, "
                 "found 'fast'");
    EXPECT_ERROR("optim:\n  lr: \"3e-5\"\n",
                 "x.yaml:2: optim.lr: expected a number in [0, 1], found the quoted string '3e-5'");
    EXPECT_ERROR("data:\n  image_size: [128]\n",
                 "x.yaml:2: data.image_size: expected a multiple of 16 in [32, 2048], found a list");
    EXPECT_ERROR("model:\n  temperature:\n    a: 1\n",
                 "x.yaml:3: model.temperature: expected a number in (0, 100], found a mapping");
    EXPECT_ERROR("optim: 3\n",
                 "x.yaml:1: optim: expected a mapping of keys (lr, lr_backbone, weight_decay",
                 "found '3'");
    EXPECT_ERROR("train:\n  epochs: 10.5\n", "x.yaml:2: train.epochs: expected an integer >= 1, found '10.5'");
    EXPECT_ERROR("seed: 010\n", "x.yaml:1: seed: expected an integer in [0, 2147483647], found '010'");
    EXPECT_ERROR("seed: 1e3\n", "x.yaml:1: seed: expected an integer in [0, 2147483647], found '1e3'");
    EXPECT_ERROR("data:\n  augment: yes\n", "x.yaml:2: data.augment: expected true or false, found 'yes'");
    EXPECT_ERROR("variant: teacher\n", "x.yaml:1: variant: expected one of baseline, st, mt, warp, found 'teacher'");
    EXPECT_ERROR("name: a/b\n", "x.yaml:1: name: expected a name of letters, digits");
    EXPECT_ERROR("output:\n", "x.yaml:1: output: expected a path, found an empty value");
    EXPECT_ERROR("model:\n  backbone:\n    depth: none\n",
                 "x.yaml:3: model.backbone.depth: expected one of 18, 34, 50, 101, found none");
    EXPECT_ERROR("optim:\n  lr: .inf\n", "x.yaml:2: optim.lr: expected a number in [0, 1], found '.inf'");
    /* Out of range. */
    EXPECT_ERROR("model:\n  backbone:\n    depth: 49\n",
                 "x.yaml:3: model.backbone.depth: expected one of 18, 34, 50, 101, found '49'");
    EXPECT_ERROR("data:\n  image_size: 100\n",
                 "x.yaml:2: data.image_size: expected a multiple of 16 in [32, 2048], found '100'");
    EXPECT_ERROR("pseudo:\n  dilation_kernel: 4\n",
                 "x.yaml:2: pseudo.dilation_kernel: expected an odd integer in [1, 63] or none, "
                 "found '4'");
    EXPECT_ERROR("model:\n  sce:\n    kernel: 8\n", "x.yaml:3: model.sce.kernel: expected an odd integer");
    EXPECT_ERROR("pseudo:\n  selection:\n    end_ratio: 1.5\n",
                 "x.yaml:3: pseudo.selection.end_ratio: expected a number in [0, 1], found '1.5'");
    EXPECT_ERROR("train:\n  batch_size: 0\n", "x.yaml:2: train.batch_size: expected an integer in [1, 65536], found '0'");
    EXPECT_ERROR("train:\n  stall_timeout: -1\n",
                 "x.yaml:2: train.stall_timeout: expected a number >= 0 or auto, found '-1'");
    EXPECT_ERROR("train:\n  stall_timeout: none\n",
                 "x.yaml:2: train.stall_timeout: expected a number >= 0 or auto, found none");
    EXPECT_ERROR("train:\n  stall_timeout: \"auto\"\n",
                 "x.yaml:2: train.stall_timeout: expected a number >= 0 or auto, found the quoted "
                 "string 'auto'");
    EXPECT_ERROR("optim:\n  eps: 0\n", "x.yaml:2: optim.eps: expected a number in (0, 1], found '0'");
    EXPECT_ERROR("optim:\n  lr: -0.1\n", "x.yaml:2: optim.lr: expected a number in [0, 1], found '-0.1'");
    EXPECT_ERROR("optim:\n  beta2: 1.0\n", "x.yaml:2: optim.beta2: expected a number in [0, 1), found '1.0'");
    EXPECT_ERROR("model:\n  upsample: 2\n", "x.yaml:2: model.upsample: expected one of 1, 4, found '2'");
    EXPECT_ERROR("validation:\n  threshold: willow\n",
                 "x.yaml:2: validation.threshold: expected one of auto, bbox, img, kpsbox, found 'willow'");
    /* Lists. */
    EXPECT_ERROR("schedule:\n  milestones: [10, 5]\n",
                 "x.yaml:2: schedule.milestones: expected a list of strictly increasing integers",
                 "found '5' after 10 (item 2)");
    EXPECT_ERROR("schedule:\n  milestones: [10, x]\n", "found 'x' as item 2");
    EXPECT_ERROR("schedule:\n  milestones: 150\n",
                 "x.yaml:2: schedule.milestones: expected a list of strictly increasing integers >= 0, found '150'");
    EXPECT_ERROR("schedule:\n  milestones:\n    - 1\n    - [2]\n", "found a list as item 2");
    /* Cross-key rules, at the line of the key given. */
    EXPECT_ERROR("pseudo:\n  selection:\n    start_ratio: 0.5\n    end_ratio: 0.3\n",
                 "x.yaml:4: pseudo.selection.end_ratio: 0.3 is smaller than "
                 "pseudo.selection.start_ratio 0.5");
    EXPECT_ERROR("seed: 3\nvariant: st\n", "x.yaml:2: teacher.checkpoint: variant st needs a teacher");
    EXPECT_ERROR("data:\n  val_split: none\nvalidation:\n  split: val\n",
                 "x.yaml:4: validation.split: 'val' differs from data.val_split 'none'");
    EXPECT_ERROR("schedule:\n  type: cosine\n  min_lr: 0.001\n",
                 "x.yaml:3: schedule.min_lr: 0.001 is above optim.lr 3e-05");
    EXPECT_ERROR("train:\n  epochs: 4\n",
                 "x.yaml:2: pseudo.start_epoch: 4 is not below train.epochs 4; variant mt");
    /* Document structure and syntax. */
    EXPECT_ERROR("name: a\n  bad: : x\n", "x.yaml:2:", "YAML syntax error");
    EXPECT_ERROR("optim: [1, 2\n", "x.yaml:", "YAML syntax error");
    EXPECT_ERROR("- a\n- b\n", "x.yaml:1: expected a mapping of keys at the top level");
    EXPECT_ERROR("name: a\n---\nname: b\n", "x.yaml:3: a second YAML document starts here");
    EXPECT_ERROR("? [a, b]\n: 1\n", "x.yaml:1:", "a key must be a short plain word");
    /* Legal but easily mistaken: a baseline may start pseudo-labels late. */
    struct scorr_config c;
    CHECK_OK(parse(&c, "variant: baseline\ntrain:\n  epochs: 2\n"));
    CHECK_OK(parse(&c, "data:\n  val_split: none\nvalidation:\n  split: none\n"));
    CHECK(scorr_config_val_split(&c) == NULL, "validation off");
    CHECK_OK(parse(&c, "teacher:\n  checkpoint: ~\noptim:\n  grad_clip: null\n"));
    CHECK_OK(parse(&c, "data:\n  file: \"none\"\n"));
    CHECK(!strcmp(c.data.file, "none"), "quoted none is a literal");
}

static void test_overrides(void)
{
    struct scorr_config c;
    scorr_config_defaults(&c);
    CHECK_OK(scorr_config_set(&c, "pseudo.dilation_kernel", "none"));
    CHECK(c.pseudo.dilation_kernel == 0, "dilation none");
    CHECK_OK(scorr_config_set(&c, "pseudo.dilation_kernel", "9"));
    CHECK(c.pseudo.dilation_kernel == 9, "dilation 9");
    CHECK_OK(scorr_config_set(&c, "schedule.milestones", "[100, 150]"));
    CHECK(c.schedule.n_milestones == 2 && c.schedule.milestones[1] == 150, "milestones");
    CHECK_OK(scorr_config_set(&c, "schedule.milestones", "[]"));
    CHECK(c.schedule.n_milestones == 0, "empty milestones");
    CHECK_OK(scorr_config_set(&c, "pseudo.selection.start_ratio", "none"));
    CHECK(c.pseudo.selection.start_ratio < 0, "start_ratio none");

    CHECK(scorr_config_set(&c, "pseudo.dilation_kernl", "none") == SCORR_EINVAL, "typo accepted");
    CHECK(strstr(scorr_error_message(), "no key 'pseudo.dilation_kernl' in the experiment "
                                        "schema; did you mean 'pseudo.dilation_kernel'?") != NULL,
          "suggestion: %s", scorr_error_message());
    CHECK(scorr_config_set(&c, "pseudo.dilation_kernel", "4") == SCORR_EINVAL, "even accepted");
    CHECK(strstr(scorr_error_message(), "override pseudo.dilation_kernel=4: pseudo.dilation_kernel: "
                                        "expected an odd integer in [1, 63] or none, found '4'") != NULL,
          "value message: %s", scorr_error_message());
    CHECK(scorr_config_set(&c, "pseudo", "3") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "'pseudo' is a section, not a key"),
          "section: %s", scorr_error_message());
    CHECK(scorr_config_set(&c, "optim.lr", "") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "found an empty value"),
          "empty: %s", scorr_error_message());
    CHECK(scorr_config_set(&c, "optim.lr", "[1") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "not a YAML value"),
          "syntax: %s", scorr_error_message());

    /* One at a time fails at an inconsistent midpoint; together it passes. */
    scorr_config_defaults(&c);
    CHECK(scorr_config_set(&c, "pseudo.selection.start_ratio", "0.95") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "override: pseudo.selection.end_ratio: 0.9 is smaller"),
          "midpoint: %s", scorr_error_message());
    scorr_config_defaults(&c);
    const char *k[] = {"pseudo.selection.start_ratio", "pseudo.selection.end_ratio"};
    const char *v[] = {"0.95", "1.0"};
    CHECK_OK(scorr_config_override(&c, 2, k, v));
    CHECK(c.pseudo.selection.start_ratio == 0.95 && c.pseudo.selection.end_ratio == 1.0, "both set");
    scorr_error_clear();
}

static void test_keys(void)
{
    int n = scorr_config_nkeys();
    CHECK(n > 40, "only %d keys", n);
    for (int i = 0; i < n; i++) {
        const char *k = scorr_config_key(i);
        CHECK(k && scorr_config_has_key(k), "key %d", i);
        for (int j = 0; j < i; j++) CHECK(strcmp(k, scorr_config_key(j)), "duplicate %s", k);
    }
    CHECK(scorr_config_key(n) == NULL, "past the end");
    CHECK(!scorr_config_has_key("pseudo") && !scorr_config_has_key("pseudo.selection") &&
              !scorr_config_has_key("nope"),
          "sections are not keys");
    CHECK(scorr_config_has_key("pseudo.dilation_kernel") && scorr_config_has_key("model.backbone.depth"),
          "leaves are keys");
    struct scorr_config c;
    char buf[64];
    scorr_config_defaults(&c);
    CHECK(scorr_config_get(&c, "pseudo.nope", buf, sizeof buf) == SCORR_EINVAL, "get unknown");
    scorr_error_clear();
}

static void test_resume_rule(void)
{
    struct scorr_config then, now;
    scorr_config_defaults(&then);
    now = then;
    CHECK_OK(scorr_config_check_resume(&now, &then, "c.h5"));
    CHECK_OK(scorr_config_set(&now, "train.epochs", "80"));
    CHECK_OK(scorr_config_set(&now, "checkpoint.keep_last", "7"));
    CHECK_OK(scorr_config_set(&now, "output", "elsewhere"));
    CHECK_OK(scorr_config_check_resume(&now, &then, "c.h5"));
    CHECK_OK(scorr_config_set(&now, "optim.lr", "1e-4"));
    CHECK(scorr_config_check_resume(&now, &then, "c.h5") == SCORR_EINVAL, "lr change accepted");
    CHECK(strstr(scorr_error_message(),
                 "cannot resume from checkpoint 'c.h5': optim.lr was 3.0e-05 there, this run has 0.0001"),
          "resume message: %s", scorr_error_message());
    /* The cosine schedule's period is train.epochs. */
    CHECK_OK(scorr_config_set(&then, "schedule.type", "cosine"));
    now = then;
    CHECK_OK(scorr_config_set(&now, "train.epochs", "60"));
    CHECK(scorr_config_check_resume(&now, &then, "c.h5") == SCORR_EINVAL &&
              strstr(scorr_error_message(), "train.epochs was 50 there, this run has 60"),
          "cosine epochs: %s", scorr_error_message());
    /* Architecture keys. */
    now = then;
    CHECK(scorr_config_arch_diff(&now, &then) == NULL, "no arch diff");
    CHECK_OK(scorr_config_set(&now, "model.backbone.depth", "50"));
    CHECK(scorr_config_arch_diff(&now, &then) && !strcmp(scorr_config_arch_diff(&now, &then),
                                                         "model.backbone.depth"),
          "depth is architecture");
    now = then;
    CHECK_OK(scorr_config_set(&now, "model.upsample", "1"));
    CHECK(scorr_config_arch_diff(&now, &then) == NULL, "upsample is not architecture");
    scorr_error_clear();
}

static void test_write_output(void)
{
    char dir[] = "/tmp/scorr_cfg_XXXXXX", path[4096];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    struct scorr_config c, back;
    scorr_config_defaults(&c);
    snprintf(c.output, sizeof c.output, "%s/run/a", dir);
    CHECK_OK(scorr_config_write_output(&c));
    snprintf(path, sizeof path, "%s/run/a/config.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &back));
    CHECK(scorr_config_equal(&c, &back, NULL), "config.yaml round trip");
    CHECK(scorr_config_load_local("/nonexistent/exp.yaml", &back) == SCORR_EIO &&
              strstr(scorr_error_message(), "/nonexistent/exp.yaml"),
          "missing file: %s", scorr_error_message());
    scorr_error_clear();
    unlink(path);
    snprintf(path, sizeof path, "%s/run/a", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/run", dir);
    rmdir(path);
    rmdir(dir);
}

/* Every committed experiment parses, and the paper's two carry its facts. */
static void test_experiments(void)
{
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/experiments", SCORR_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        struct scorr_config c;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK_OK(scorr_config_load_local(path, &c));
        n++;
    }
    if (d) closedir(d);
    CHECK(n >= 5, "only %d experiment files", n);

    struct scorr_config s, p, q;
    snprintf(path, sizeof path, "%s/spair.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &s));
    CHECK(s.model.sce.kernel == 7 && s.model.sce.channels == 2048 && s.pseudo.start_epoch == 4 &&
              s.train.epochs == 50 && s.model.backbone.depth == 101 && s.train.batch_size == 16 &&
              s.data.image_size == 256 && s.model.backbone.weights[0] && s.variant == SCORR_VARIANT_MT,
          "spair.yaml facts");
    snprintf(path, sizeof path, "%s/pfpascal.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &p));
    CHECK(p.model.sce.kernel == 13 && p.model.sce.channels == 1024 && p.pseudo.start_epoch == 60 &&
              p.train.epochs == 150 && p.model.backbone.depth == 101 && p.train.batch_size == 16 &&
              p.data.image_size == 256 && p.model.backbone.weights[0],
          "pfpascal.yaml facts");
    snprintf(path, sizeof path, "%s/quickstart.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &q));
    CHECK(q.model.backbone.depth == 18 && q.model.backbone.width == 32 && q.data.image_size == 128 &&
              q.train.batch_size == 8 && q.model.backbone.batchnorm == SCORR_BN_BATCH &&
              !q.model.backbone.weights[0] && q.variant == SCORR_VARIANT_MT,
          "quickstart.yaml facts");

    /* PF-PASCAL baseline and ST: pfpascal.yaml but for the variant, name,
     * output and (ST) the teacher, which is the baseline's run folder */
    struct scorr_config pb, ps;
    snprintf(path, sizeof path, "%s/pfpascal-baseline.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &pb));
    snprintf(path, sizeof path, "%s/pfpascal-st.yaml", dir);
    CHECK_OK(scorr_config_load_local(path, &ps));
    CHECK(pb.variant == SCORR_VARIANT_BASELINE && ps.variant == SCORR_VARIANT_ST &&
              !strcmp(ps.teacher.checkpoint, pb.output),
          "pfpascal-st.yaml: variant st, teacher = the baseline's output '%s' (found '%s')",
          pb.output, ps.teacher.checkpoint);
    const char *keys[4] = {"name", "output", "variant", "teacher.checkpoint"};
    struct scorr_config *others[2] = {&pb, &ps};
    for (int i = 0; i < 2; i++) {
        const char *vals[4] = {p.name, p.output, "mt", "none"};
        const char *diff = NULL;
        CHECK_OK(scorr_config_override(others[i], 4, keys, vals));
        CHECK(scorr_config_equal(others[i], &p, &diff), "%s differs from pfpascal.yaml at %s",
              i ? "pfpascal-st.yaml" : "pfpascal-baseline.yaml", diff ? diff : "?");
    }
}

int main(void)
{
    test_defaults();
    test_example();
    test_round_trip();
    test_errors();
    test_overrides();
    test_keys();
    test_resume_rule();
    test_write_output();
    test_experiments();
    return scorr_test_finish("test_traininfra_config");
}
