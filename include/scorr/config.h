/* The experiment file: one YAML document parsed into a typed struct.
 *
 * One table (src/train/config_schema.c) lists every key: its path
 * ("pseudo.selection.start_ratio"), type, default, range and meaning. That
 * table drives parsing, defaults, validation, emission, overrides, the
 * resume check and the generated documentation (docs/experiment-config.md),
 * so none of them can drift from the others.
 *
 * Strict: unknown keys, duplicate keys, wrong types (a string where a number
 * is expected, a list where a scalar is), out-of-range and inconsistent
 * values are errors that name the file, the line and the key path:
 *
 *     exp.yaml:12: pseudo.selection.start_ratio: expected a number in [0, 1] or none, found 'fast'
 *
 * The first error found (in file order) is reported. Keys not given take
 * their defaults; the resolved config (defaults included) is emitted as YAML
 * that parses back to the identical struct.
 *
 * Value rules: numbers and booleans must be plain (unquoted) scalars;
 * `none` (also `null`, `~`) means "not set" for the keys that allow it; a
 * quoted "none" is the literal string. Relative paths are relative to the
 * working directory of the program. */
#ifndef SCORR_CONFIG_H
#define SCORR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/op_common.h" /* enum scorr_bn_mode */

struct scorr_comm;

#define SCORR_CONFIG_PATH 1024    /* bytes of a path value */
#define SCORR_CONFIG_NAME 128     /* bytes of the experiment name */
#define SCORR_CONFIG_WORD 16      /* bytes of a short word (split, threshold) */
#define SCORR_CONFIG_MAX_MILESTONES 32

enum scorr_variant {
    SCORR_VARIANT_BASELINE = 0, /* sparse ground truth only */
    SCORR_VARIANT_ST = 1,       /* single offline teacher (teacher.checkpoint) */
    SCORR_VARIANT_MT = 2,       /* mutual online teachers: two networks trained at once */
    SCORR_VARIANT_WARP = 3      /* self-supervised warp pretraining: dense flow of synthetic warps */
};


enum scorr_sched_type { SCORR_SCHED_STEP = 0, SCORR_SCHED_COSINE = 1 };
/* train.allreduce_dtype: what the gradient exchange sends (scorr/comm.h) */
enum scorr_allreduce_dtype { SCORR_ALLREDUCE_FP32 = 0, SCORR_ALLREDUCE_BF16 = 1 };
/* model.memory: recompute more in the backward to hold less (same bits) */
enum scorr_memory_mode { SCORR_MEMORY_FAST = 0, SCORR_MEMORY_SMALL = 1 };

/* Every "none" has a sentinel noted beside its field. */
struct scorr_config {
    char name[SCORR_CONFIG_NAME];
    char output[SCORR_CONFIG_PATH];
    int seed;
    enum scorr_variant variant;
    struct {
        char file[SCORR_CONFIG_PATH];
        char train_split[SCORR_CONFIG_WORD];   /* trn | val | test */
        char val_split[SCORR_CONFIG_WORD];     /* trn | val | test; "" = none */
        int image_size;
        int augment;
        int flip;
    } data;
    struct {
        char weights[SCORR_CONFIG_PATH];       /* "" = none: the whole network (backbone + SCE) */
        struct {
            int depth;                         /* 18 | 34 | 50 | 101 */
            int width;
            char weights[SCORR_CONFIG_PATH];   /* "" = none (random init) */
            int freeze;
            enum scorr_bn_mode batchnorm;
            int winograd;                      /* 1: Winograd 3x3 convolutions where the CPU policy uses them */
        } backbone;
        struct {
            int enabled;
            int kernel;
            int channels;
        } sce;
        int upsample;                          /* 1 | 4 */
        double temperature;
        int learn_grid;                        /* 1: train the soft-argmax grid (reference code) */
        enum scorr_precision precision;        /* backbone convolutions: fp32 | bf16 */
        enum scorr_memory_mode memory;         /* fast | small */
    } model;
    struct {
        char checkpoint[SCORR_CONFIG_PATH];    /* "" = none */
    } teacher;
    struct {
        double weight;
        int start_epoch;
        int dilation_kernel;                   /* 0 = none (no spatial-prior filter) */
        struct {
            double start_ratio;                /* < 0 = none (keep every position) */
            double end_ratio;
            int ramp_epochs;
        } selection;
    } pseudo;
    struct {
        double homography;                     /* corner jitter, fraction of the side */
        struct {
            int grid;                          /* 0 = none */
            double amplitude;
        } elastic;
        int compose;
        int repeat;
    } warp;
    struct {
        double lr;
        double lr_backbone;
        double weight_decay;
        double beta1, beta2, eps;
        double grad_clip;                      /* 0 = none */
    } optim;
    struct {
        enum scorr_sched_type type;
        int milestones[SCORR_CONFIG_MAX_MILESTONES];
        int n_milestones;
        double gamma;
        double min_lr;
    } schedule;
    struct {
        int epochs;
        int batch_size;
        int max_steps_per_epoch;               /* 0 = none */
        double bucket_mb;                      /* gradient buckets; 0 = exchange after the backward */
        enum scorr_allreduce_dtype allreduce_dtype;
        double stall_timeout;                  /* seconds; 0 = off; -1 = auto (watchdog.h) */
    } train;
    struct {
        char split[SCORR_CONFIG_WORD];         /* auto (= data.val_split) | trn | val | test | none */
        double alpha;
        char threshold[SCORR_CONFIG_WORD];     /* auto | bbox | img | kpsbox */
        int every_epochs;
    } validation;
    struct {
        int every_steps;                       /* 0 = none (epoch ends only) */
        int keep_last;
    } checkpoint;
    struct {
        int every_steps;
    } log;
};

/* All defaults (the table's). Local. */
void scorr_config_defaults(struct scorr_config *cfg);

/* Parse YAML text (len bytes, need not be NUL-terminated) into cfg: defaults
 * first, then every key of the document, then the cross-key checks. `file`
 * is the name used in messages. On error cfg holds defaults plus whatever was
 * parsed before the error. Local. */
int scorr_config_parse(struct scorr_config *cfg, const char *text, size_t len, const char *file);

/* Rank 0 reads `path`, broadcasts the bytes, every rank parses them: every
 * rank gets the same struct or the same error (a missing file fails on every
 * rank together). Collective over c. */
int scorr_config_load(const struct scorr_comm *c, const char *path, struct scorr_config *cfg);

/* Read and parse a file on this process only (tools, tests). Local. */
int scorr_config_load_local(const char *path, struct scorr_config *cfg);

/* Set one key from text, with the same conversion and range checks as the
 * file ("pseudo.dilation_kernel", "none"); a list is given in flow style
 * ("[100, 150]"). Then checks the cross-key rules. Unknown paths get a
 * "did you mean" suggestion. Local. */
int scorr_config_set(struct scorr_config *cfg, const char *path, const char *value);

/* Apply n overrides "key=value" style (keys[i], values[i]) and check the
 * cross-key rules once at the end, so a set of overrides may pass through an
 * inconsistent state (e.g. raising both selection ratios). Local. */
int scorr_config_override(struct scorr_config *cfg, int n, const char *const *keys,
                          const char *const *values);

/* Cross-key rules only (end_ratio >= start_ratio, st needs a teacher, ...);
 * `where` names the origin in messages. Local. */
int scorr_config_validate(const struct scorr_config *cfg, const char *where);

/* The resolved config as YAML (every key, defaults included, each with its
 * doc string as a comment). Parses back to an identical struct. Caller frees
 * *out. Local. */
int scorr_config_emit(const struct scorr_config *cfg, char **out);

/* One value as its YAML text ("none", "0.2", "[150]", "mt") into buf. Returns
 * 0, or SCORR_EINVAL for an unknown path. Local. */
int scorr_config_get(const struct scorr_config *cfg, const char *path, char *buf, size_t n);

/* 1 if every key has the same value in a and b. If not and first_diff is
 * given, *first_diff = the path of the first differing key (static string).
 * Local. */
int scorr_config_equal(const struct scorr_config *a, const struct scorr_config *b,
                       const char **first_diff);

/* Resume check: `now` (this run's config) against `then` (the config stored
 * in checkpoint `ckpt`). Keys that may change on resume: name, output, the
 * file paths data.file, model.backbone.weights, teacher.checkpoint (a run
 * folder or dataset may move), train.epochs (not with the cosine schedule,
 * whose period it is), validation.every_epochs, checkpoint.*, log.*. Any
 * other difference is an error naming the checkpoint, the key and both
 * values. Changed allowed keys are listed as info lines. Local. */
int scorr_config_check_resume(const struct scorr_config *now, const struct scorr_config *then,
                              const char *ckpt);

/* The first key of the architecture (model.backbone.depth, width,
 * model.sce.enabled, kernel, channels, model.learn_grid) whose value differs between a and b,
 * or NULL. Used to explain a checkpoint that does not fit the model. Local. */
const char *scorr_config_arch_diff(const struct scorr_config *a, const struct scorr_config *b);

/* The split validated each epoch: validation.split resolved (auto = the
 * data.val_split), or NULL when validation is off. Local. */
const char *scorr_config_val_split(const struct scorr_config *cfg);

/* The schema: number of keys and each key's path, in table order. Local. */
int scorr_config_nkeys(void);
const char *scorr_config_key(int i);
/* 1 if path is a key of the schema (leaf, not a section). */
int scorr_config_has_key(const char *path);

/* The schema as Markdown (docs/experiment-config.md is this text). Caller
 * frees *out. Local. */
int scorr_config_schema_markdown(char **out);

/* Names of the enums, as they appear in YAML. */
const char *scorr_variant_name(enum scorr_variant v);

/* Create cfg->output (mkdir -p), check it is writable and write the resolved
 * config to <output>/config.yaml atomically. Local: call on one rank. */
int scorr_config_write_output(const struct scorr_config *cfg);

/* The model an experiment config describes (include/scorr/model.h): the
 * architecture keys, S = data.image_size, B = batch pairs per forward.
 * training = 1: a network being trained (batch-norm mode and backbone
 * freezing from the config); training = 0: inference only (running
 * statistics, no backbone gradients), as for a teacher or an evaluation.
 * The one place that maps the config onto the model, for the trainer and
 * for scorr_eval / scorr_match. Local. */
struct scorr_model_config;
void scorr_config_model(const struct scorr_config *c, int batch, int training,
                        struct scorr_model_config *m);

/* What the second network trained in one process (mt on one rank) takes
 * from the first (scorr_model_create_sharing's SCORR_SHARE_* flags): the
 * workspace and the gradient buffer always (network A's backward, gradient
 * sum and AdamW end before network B's backward starts); with model.memory
 * small also the activation arena (the trainer then runs B's forward again
 * before its backward: src/train/train_step.c). Local. */
unsigned scorr_config_model_sharing(const struct scorr_config *c);

#endif
