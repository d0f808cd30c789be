/* The experiment schema: one table, and the value conversions it drives.
 * Paper facts behind the defaults: /work/shared/DESIGN.md section 2 and the
 * reference train.py (SPair-71k configuration). */
#include "train/config_schema.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(m) offsetof(struct scorr_config, m)
#define SZ(m) sizeof(((struct scorr_config *)0)->m)
#define UNB 1e9    /* "no upper bound" for integers */
#define HUGEV 1e300 /* "no upper bound" for numbers */

/* Sections precede their keys; a section's keys are contiguous. Order here is
 * the order of emission and of the documentation. */
const struct cfg_key scorr_cfg_table[] = {
    {"name", CT_STR, F(name), SZ(name), 0, CF_NAME | CF_RESUME, 0, 0, 0, NULL, "experiment",
     "Experiment name. Letters, digits, '_', '-' and '.' only: it names files and jobs."},
    {"output", CT_STR, F(output), SZ(output), 0, CF_PATH | CF_RESUME, 0, 0, 0, NULL,
     "runs/experiment",
     "Output folder. Created if missing and must be writable; holds `config.yaml`, the "
     "metrics, `checkpoints/step_<8 digits>.h5` and `best.h5`."},
    {"seed", CT_INT, F(seed), 0, 0, 0, 0, 2147483647, 0, NULL, "1",
     "Experiment seed. Parameter initialisation, sample order and augmentation are pure "
     "functions of (seed, epoch, sample), so they do not depend on the number of ranks."},
    {"variant", CT_ENUM, F(variant), 0, 0, 0, 0, 0, 0, "baseline|st|mt|warp", "mt",
     "Training variant. baseline: sparse keypoint labels only; st: plus pseudo-labels from a "
     "fixed teacher (teacher.checkpoint); mt: two networks trained at once, each the other's "
     "online teacher (the paper's method); warp: self-supervised pretraining on pairs made "
     "from single images by random warps (warp.*), dense flow loss, labels unused "
     "(docs/training.md, Warp pretraining)."},

    {"data", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, "The dataset file and how it is read."},
    {"data.file", CT_STR, F(data.file), SZ(data.file), 0, CF_PATH | CF_RESUME, 0, 0, 0, NULL,
     "data/synth.h5",
     "Dataset file. A scorr dataset (HDF5) written by scorr_pack or scorr_synth."},
    {"data.train_split", CT_WORD, F(data.train_split), SZ(data.train_split), 0, 0, 0, 0, 0,
     "trn|val|test", "trn", "Split trained on."},
    {"data.val_split", CT_WORD, F(data.val_split), SZ(data.val_split), 0, CF_NONE, 0, 0, 0,
     "trn|val|test", "val",
     "Split validated after each epoch. It picks the best epoch (and, in mt, the better "
     "peer); none: no validation, best.h5 follows the last epoch."},
    {"data.image_size", CT_INT, F(data.image_size), 0, 0, CF_MULT16, 32, 2048, 0, NULL, "256",
     "Image side S in pixels. Must equal the dataset file's image_size (the trainer checks); "
     "a multiple of 16, the feature stride. The paper uses 256."},
    {"data.augment", CT_BOOL, F(data.augment), 0, 0, 0, 0, 0, 0, NULL, "true",
     "Photometric augmentation of training images. Each with p = 0.2: to-gray, posterize, "
     "equalize, sharpen, brightness/contrast, solarize, colour jitter."},
    {"data.flip", CT_BOOL, F(data.flip), 0, 0, 0, 0, 0, 0, NULL, "true",
     "Apply the PF-PASCAL training flips. Only where the file has flip flags."},

    {"model", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, "The network."},
    {"model.weights", CT_STR, F(model.weights), SZ(model.weights), 0,
     CF_NONE | CF_PATH | CF_RESUME, 0, 0, 0, NULL, "none",
     "Initial weights of the whole network (backbone and SCE). A scorr checkpoint or best.h5 "
     "(e.g. of a warp pretraining run) or a scorr weights file holding every tensor of this "
     "architecture; none: random initialisation. model.backbone.weights, if also set, then "
     "replaces the backbone's tensors. In mt both networks start from the same weights."},
    {"model.backbone", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "torchvision-layout ResNet, cut after layer3 (one feature map at stride 16)."},
    {"model.backbone.depth", CT_INT, F(model.backbone.depth), 0, 0, CF_ARCH, 18, 101, 0,
     "18|34|50|101", "101", "ResNet depth. The paper uses ResNet-101."},
    {"model.backbone.width", CT_INT, F(model.backbone.width), 0, 0, CF_ARCH, 1, 1024, 0, NULL,
     "64",
     "Base width. Channels of conv1 and layer1 (64 = torchvision); smaller for quick CPU runs."},
    {"model.backbone.weights", CT_STR, F(model.backbone.weights), SZ(model.backbone.weights), 0,
     CF_NONE | CF_PATH | CF_RESUME, 0, 0, 0, NULL, "none",
     "Initial backbone weights. A scorr weights file (HDF5, e.g. converted ImageNet weights "
     "weights/resnet101.h5), a scorr checkpoint or best.h5 (its backbone tensors, e.g. of a "
     "warp pretraining run), or none: random initialisation."},
    {"model.backbone.freeze", CT_BOOL, F(model.backbone.freeze), 0, 0, 0, 0, 0, 0, NULL, "false",
     "Freeze the backbone. true: it gets no gradients, no Adam state and no updates."},
    {"model.backbone.batchnorm", CT_ENUM, F(model.backbone.batchnorm), 0, 0, 0, 0, 0, 0,
     "frozen|batch", "batch",
     "Batch-norm mode in training. batch (the paper's): batch statistics, running ones "
     "updated, as the reference code's model.train() does; synchronised over the ranks "
     "(SyncBatchNorm), so independent of the batch split. frozen: running statistics (a "
     "cheaper step, not the paper's training). Evaluation and teachers always use the "
     "running statistics."},
    {"model.backbone.winograd", CT_BOOL, F(model.backbone.winograd), 0, 0, 0, 0, 0, 0, NULL,
     "true",
     "Compute the backbone's 3x3 stride-1 convolutions (in all three passes) with Winograd "
     "F(4x4, 3x3) / F(2x2, 3x3) where the CPU's policy uses it (AVX2: from 16 channels): "
     "about a quarter fewer step FLOPs, rounding errors about 5-10x a direct convolution's "
     "(docs/performance.md). false: direct convolutions (oneDNN)."},
    {"model.sce", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Efficient spatial context encoder (SCE) on the stride-16 features."},
    {"model.sce.enabled", CT_BOOL, F(model.sce.enabled), 0, 0, CF_ARCH, 0, 0, 0, NULL, "true",
     "Use the SCE. false: the correlation is built on the backbone features directly."},
    {"model.sce.kernel", CT_INT, F(model.sce.kernel), 0, 0, CF_ODD | CF_ARCH, 1, 63, 0, NULL,
     "7",
     "SCE kernel k. 4k context similarities per position; 7 for SPair-71k, 13 for PF-PASCAL."},
    {"model.sce.channels", CT_INT, F(model.sce.channels), 0, 0, CF_ARCH, 1, 65536, 0, NULL,
     "2048", "SCE output channels. 2048 for SPair-71k, 1024 for PF-PASCAL."},
    {"model.upsample", CT_INT, F(model.upsample), 0, 0, 0, 1, 4, 0, "1|4", "4",
     "Correlation upsampling. 4: high-resolution loss on the stride-4 grid (the paper); 1: "
     "loss at stride 16."},
    {"model.temperature", CT_FLOAT, F(model.temperature), 0, 0, CF_GT_MIN, 0, 100, 0, NULL,
     "0.02", "Soft-argmax temperature beta. The softmax is over C / beta."},
    {"model.learn_grid", CT_BOOL, F(model.learn_grid), 0, 0, CF_ARCH, 0, 0, 0, NULL, "false",
     "Train the soft-argmax grid. false (the paper): the expected source position uses the "
     "fixed grid linspace(-1, 1, G). true (the reference code, whose x_normal and y_normal "
     "are nn.Parameters that AdamW trains): two parameters x_normal (G) and y_normal (G), "
     "initialised to that grid and trained with the head's learning rate and weight decay; "
     "checkpoints and converted reference networks hold them."},
    {"model.precision", CT_ENUM, F(model.precision), 0, 0, 0, 0, 0, 0, "fp32|bf16", "fp32",
     "Arithmetic of the backbone's convolutions (forward and both backward passes) and of "
     "the SCE's 1x1 conv on the raw feature. bf16: inputs and weights rounded to bfloat16 "
     "(8-bit mantissa), products accumulated in fp32 (oneDNN); master weights, batch norm, "
     "the rest of the head (correlation, soft-argmax), the loss and AdamW stay fp32. "
     "Only where the CPU has native bf16 (AVX512-BF16 or AMX); elsewhere the run says so "
     "once and computes in fp32, which is faster there (docs/performance.md)."},
    {"model.memory", CT_ENUM, F(model.memory), 0, 0, 0, 0, 0, 0, "fast|small", "fast",
     "Memory against compute in training; both give the same bits. small: every Bottleneck "
     "block computes its first 1x1 convolution's output again in the backward instead of "
     "keeping it, and mt with both networks in one process runs network B's forward again "
     "before its backward so that the two networks share one activation arena (network A's "
     "activations are dead by then). At the paper's step with 2 pairs per process it holds "
     "about 50 MiB (baseline) and 550 MiB (mt) less, for about 8 % more backbone compute "
     "(baseline) and one more forward of one network (mt, about 15 % of its step) "
     "(docs/performance.md, Peak memory)."},

    {"teacher", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, "The fixed teacher of variant st."},
    {"teacher.checkpoint", CT_STR, F(teacher.checkpoint), SZ(teacher.checkpoint), 0,
     CF_NONE | CF_PATH | CF_RESUME, 0, 0, 0, NULL, "none",
     "Teacher network. A checkpoint of a trained baseline run (its best.h5) with the same "
     "model.* architecture; required by st, ignored by baseline and mt."},

    {"pseudo", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Pseudo-label loss (variants st and mt)."},
    {"pseudo.weight", CT_FLOAT, F(pseudo.weight), 0, 0, 0, 0, 1e6, 0, NULL, "10.0",
     "Loss weight lambda. Total loss = L_gt + lambda * L_pseudo."},
    {"pseudo.start_epoch", CT_INT, F(pseudo.start_epoch), 0, 0, 0, 0, UNB, 0, NULL, "4",
     "First epoch (0-based) with the pseudo-label loss. Before it lambda is 0; 4 for "
     "SPair-71k, 60 for PF-PASCAL."},
    {"pseudo.dilation_kernel", CT_INT, F(pseudo.dilation_kernel), 0, 0, CF_ODD | CF_NONE, 1, 63,
     0, NULL, "7",
     "Spatial prior K. Pseudo-labels count only where the sparse label mask dilated by a "
     "K x K box is set; none: everywhere (no spatial-prior filter)."},
    {"pseudo.selection", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Small-loss selection: keep the fraction r of pseudo-labelled positions with the "
     "smallest loss (crossed between the peers in mt). r rises linearly from start_ratio to "
     "end_ratio over ramp_epochs epochs counted from pseudo.start_epoch "
     "(np.linspace(start, end, ramp)[epoch - start_epoch]), then stays at end_ratio."},
    {"pseudo.selection.start_ratio", CT_FLOAT, F(pseudo.selection.start_ratio), 0, 0, CF_NONE, 0,
     1, -1, NULL, "0.2",
     "Kept fraction at pseudo.start_epoch. none: keep every position (no small-loss "
     "selection)."},
    {"pseudo.selection.end_ratio", CT_FLOAT, F(pseudo.selection.end_ratio), 0, 0, 0, 0, 1, 0,
     NULL, "0.9", "Kept fraction after the ramp. At least start_ratio."},
    {"pseudo.selection.ramp_epochs", CT_INT, F(pseudo.selection.ramp_epochs), 0, 0, 0, 0, UNB,
     0, NULL, "10",
     "Length of the linear ramp in epochs. 0: end_ratio from the start."},

    {"warp", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Synthetic warps of variant warp (include/scorr/warp.h). A pair is one image of the "
     "split and its warp W(u) = H(u + E(u)) (u in the unit square): target(p) = image(W(p)); "
     "the dense flow W(p) - p at every target cell whose source lies inside the image is the "
     "label. Ignored by the other variants."},
    {"warp.homography", CT_FLOAT, F(warp.homography), 0, 0, 0, 0, 0.25, 0, NULL, "0.15",
     "Homography H: each image corner moves by U(-h, h) times the image side in x and y."},
    {"warp.elastic", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Smooth elastic field E: a thin-plate spline through a grid of control points."},
    {"warp.elastic.grid", CT_INT, F(warp.elastic.grid), 0, 0, CF_NONE, 2, 8, 0, NULL, "4",
     "Control points per side (on the unit square, borders included); none: no elastic "
     "field."},
    {"warp.elastic.amplitude", CT_FLOAT, F(warp.elastic.amplitude), 0, 0, 0, 0, 0.25, 0, NULL,
     "0.03",
     "Displacement of each control point: U(-a, a) times the image side in x and y. Keep it "
     "below about half the control spacing 1 / (grid - 1), or the field folds."},
    {"warp.compose", CT_BOOL, F(warp.compose), 0, 0, 0, 0, 0, 0, NULL, "true",
     "Also apply a second independent warp B (same law) to both images: source = image o B, "
     "target = image o B o W, so the source is not always the undistorted image; the flow is "
     "still W(p) - p."},
    {"warp.repeat", CT_INT, F(warp.repeat), 0, 0, 0, 1, UNB, 0, NULL, "1",
     "Warp samples per image and epoch (each with its own warp). An epoch has images x repeat "
     "samples."},

    {"optim", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "AdamW exactly as torch.optim.AdamW, two parameter groups (head, backbone); weight decay "
     "applies to every trained tensor, biases and batch-norm included, as in the reference."},
    {"optim.lr", CT_FLOAT, F(optim.lr), 0, 0, 0, 0, 1, 0, NULL, "3e-05",
     "Learning rate of the head (SCE). The schedule scales it per epoch."},
    {"optim.lr_backbone", CT_FLOAT, F(optim.lr_backbone), 0, 0, 0, 0, 1, 0, NULL, "3e-06",
     "Learning rate of the backbone. 10x smaller than the head's in the paper."},
    {"optim.weight_decay", CT_FLOAT, F(optim.weight_decay), 0, 0, 0, 0, 100, 0, NULL, "0.05",
     "Decoupled weight decay. p -= lr * weight_decay * p before the Adam update."},
    {"optim.beta1", CT_FLOAT, F(optim.beta1), 0, 0, CF_LT_MAX, 0, 1, 0, NULL, "0.9",
     "Adam beta1. Decay of the first moment."},
    {"optim.beta2", CT_FLOAT, F(optim.beta2), 0, 0, CF_LT_MAX, 0, 1, 0, NULL, "0.999",
     "Adam beta2. Decay of the second moment."},
    {"optim.eps", CT_FLOAT, F(optim.eps), 0, 0, CF_GT_MIN, 0, 1, 0, NULL, "1e-08",
     "Adam epsilon. Added to the bias-corrected sqrt of the second moment."},
    {"optim.grad_clip", CT_FLOAT, F(optim.grad_clip), 0, 0, CF_NONE | CF_GT_MIN, 0, HUGEV, 0,
     NULL, "none",
     "Gradient clipping. Maximum global L2 norm over the trained tensors of a network "
     "(torch.nn.utils.clip_grad_norm_), or none."},

    {"schedule", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Learning-rate schedule, set at the start of every epoch from the epoch index (the "
     "reference's scheduler.step(epoch))."},
    {"schedule.type", CT_ENUM, F(schedule.type), 0, 0, 0, 0, 0, 0, "step|cosine", "step",
     "Schedule. step: MultiStepLR, lr * gamma^(number of milestones <= epoch); cosine: "
     "CosineAnnealingLR(T_max = train.epochs, eta_min = min_lr), for both groups."},
    {"schedule.milestones", CT_INTLIST, F(schedule.milestones), 0, F(schedule.n_milestones), 0,
     0, UNB, 0, NULL, "[150]",
     "Step epochs of the step schedule. Strictly increasing epoch indices."},
    {"schedule.gamma", CT_FLOAT, F(schedule.gamma), 0, 0, CF_GT_MIN, 0, 1, 0, NULL, "0.5",
     "Factor applied at each milestone."},
    {"schedule.min_lr", CT_FLOAT, F(schedule.min_lr), 0, 0, 0, 0, 1, 0, NULL, "1e-06",
     "eta_min of the cosine schedule. Not above optim.lr; a backbone rate below it anneals "
     "up towards it, as torch does."},

    {"train", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, "Length, batch and the gradient exchange over ranks."},
    {"train.epochs", CT_INT, F(train.epochs), 0, 0, CF_RESUME, 1, UNB, 0, NULL, "50",
     "Number of epochs. 50 for SPair-71k (the official script's stated value; its released "
     "command trains 150, docs/training.md), 150 for PF-PASCAL."},
    {"train.batch_size", CT_INT, F(train.batch_size), 0, 0, 0, 1, 65536, 0, NULL, "16",
     "Global batch in pairs. Split across the ranks of a data-parallel group."},
    {"train.max_steps_per_epoch", CT_INT, F(train.max_steps_per_epoch), 0, 0, CF_NONE, 1, UNB,
     0, NULL, "none", "Cap on optimiser steps per epoch. For quick runs; none: the whole split."},
    {"train.bucket_mb", CT_FLOAT, F(train.bucket_mb), 0, 0, CF_RESUME, 0, 4096, 0, NULL, "25.0",
     "Gradient bucket size in MiB for the exchange over the ranks of a group. Buckets are "
     "cut in backward order and each one's sum starts as soon as its gradients are final, "
     "overlapping the rest of the backward; 0: one exchange after the backward. The sums do "
     "not depend on it (rank order per element; docs/performance.md)."},
    {"train.allreduce_dtype", CT_ENUM, F(train.allreduce_dtype), 0, 0, 0, 0, 0, 0, "fp32|bf16",
     "fp32",
     "Number format of the gradient exchange. fp32: exact fp32 sums in rank order; bf16: each "
     "rank's gradient and each summed block rounded to bf16 (half the bytes; the sum itself in "
     "fp32), relative error up to about 2^-7 of the sum of magnitudes."},
    {"train.stall_timeout", CT_FLOAT, F(train.stall_timeout), 0, 0, CF_AUTO | CF_RESUME, 0,
     HUGEV, 0, NULL, "auto",
     "Stall watchdog, in seconds. When no step (nor validation batch, nor checkpoint) completes "
     "for this long, as when a rank is frozen or its network is cut, every rank that can "
     "still print says what it was waiting for and the job aborts with exit status 4, "
     "which the SLURM template requeues (the run resumes from its last checkpoint). auto: "
     "max(300, 20 x the median step time of this run, its first step left out); "
     "0: no watchdog. An explicit value applies from start-up on, the run's first step "
     "included."},

    {"validation", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Validation after training epochs."},
    {"validation.split", CT_WORD, F(validation.split), SZ(validation.split), 0, CF_NONE, 0, 0, 0,
     "auto|trn|val|test", "auto",
     "Split validated. auto: data.val_split; an explicit value must equal data.val_split "
     "(kept for compatibility; data.val_split decides)."},
    {"validation.alpha", CT_FLOAT, F(validation.alpha), 0, 0, CF_GT_MIN, 0, 1, 0, NULL, "0.1",
     "PCK@alpha that picks the best epoch (and peer)."},
    {"validation.threshold", CT_WORD, F(validation.threshold), SZ(validation.threshold), 0, 0, 0,
     0, 0, "auto|bbox|img|kpsbox", "auto",
     "PCK threshold T. auto: the dataset file's own; bbox: max side of the source object box; "
     "img: image side; kpsbox: max side of the source keypoints' box."},
    {"validation.every_epochs", CT_INT, F(validation.every_epochs), 0, 0, CF_RESUME, 1, UNB, 0,
     NULL, "1", "Validate every this many epochs (and after the last)."},

    {"checkpoint", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
     "Checkpoints in `<output>/checkpoints/step_<8 digits>.h5` (resume from the latest "
     "valid one) and `<output>/best.h5`."},
    {"checkpoint.every_steps", CT_INT, F(checkpoint.every_steps), 0, 0, CF_NONE | CF_RESUME, 1,
     UNB, 0, NULL, "500",
     "Write a checkpoint every this many optimiser steps. One is also written at every "
     "epoch end; none: epoch ends only."},
    {"checkpoint.keep_last", CT_INT, F(checkpoint.keep_last), 0, 0, CF_RESUME, 1, UNB, 0, NULL,
     "2", "Step checkpoints kept. Older ones are deleted after a successful write; `best.h5` is "
     "never deleted."},

    {"log", CT_SECTION, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, "Console and metrics logging."},
    {"log.every_steps", CT_INT, F(log.every_steps), 0, 0, CF_RESUME, 1, UNB, 0, NULL, "10",
     "Log the training losses every this many steps."},
};

const int scorr_cfg_table_len = (int)(sizeof scorr_cfg_table / sizeof scorr_cfg_table[0]);

const struct cfg_key *scorr_cfg_lookup(const char *path)
{
    for (int i = 0; i < scorr_cfg_table_len; i++)
        if (strcmp(scorr_cfg_table[i].path, path) == 0) return &scorr_cfg_table[i];
    return NULL;
}

int scorr_cfg_leaf_index(const char *path)
{
    int leaf = 0;
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        if (scorr_cfg_table[i].type == CT_SECTION) continue;
        if (strcmp(scorr_cfg_table[i].path, path) == 0) return leaf;
        leaf++;
    }
    return -1;
}

/* ---- field access ------------------------------------------------------ */

static void *field(struct scorr_config *cfg, const struct cfg_key *k)
{
    return (char *)cfg + k->off;
}

static const void *cfield(const struct scorr_config *cfg, const struct cfg_key *k)
{
    return (const char *)cfg + k->off;
}

static int is_none_word(const char *s)
{
    return !strcmp(s, "none") || !strcmp(s, "None") || !strcmp(s, "NONE") || !strcmp(s, "null") ||
           !strcmp(s, "Null") || !strcmp(s, "NULL") || !strcmp(s, "~");
}

/* i-th choice of "a|b|c" into out; returns 0 when there is no i-th. */
static int choice_at(const char *choices, int i, char *out, size_t n)
{
    const char *p = choices;
    for (int k = 0; k < i; k++) {
        p = strchr(p, '|');
        if (!p) return 0;
        p++;
    }
    const char *e = strchr(p, '|');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len + 1 > n) len = n - 1;
    memcpy(out, p, len);
    out[len] = 0;
    return 1;
}

static int choice_index(const char *choices, const char *s)
{
    char c[64];
    for (int i = 0; choice_at(choices, i, c, sizeof c); i++)
        if (!strcmp(c, s)) return i;
    return -1;
}

/* ---- descriptions ------------------------------------------------------ */

static void fmt_num(double x, char *out, size_t n)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(out, n, "%.0f", x);
    else
        snprintf(out, n, "%g", x);
}

void scorr_cfg_describe(const struct cfg_key *k, char *out, size_t n)
{
    char lo[32], hi[32], list[256] = "";
    const char *none = (k->flags & CF_NONE) ? " or none" : (k->flags & CF_AUTO) ? " or auto" : "";
    fmt_num(k->min, lo, sizeof lo);
    fmt_num(k->max, hi, sizeof hi);
    if (k->choices) {
        char c[64];
        size_t w = 0;
        for (int i = 0; choice_at(k->choices, i, c, sizeof c) && w < sizeof list; i++)
            w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", c);
    }
    switch (k->type) {
    case CT_SECTION:
        snprintf(out, n, "a mapping of keys");
        break;
    case CT_STR:
        if (k->flags & CF_NAME)
            snprintf(out, n, "a name of letters, digits, '_', '-', '.'%s", none);
        else if (k->flags & CF_PATH)
            snprintf(out, n, "a path%s", none);
        else
            snprintf(out, n, "a non-empty string%s", none);
        break;
    case CT_WORD:
    case CT_ENUM:
        snprintf(out, n, "one of %s%s", list, none);
        break;
    case CT_INT:
        if (k->choices)
            snprintf(out, n, "one of %s%s", list, none);
        else if (k->flags & CF_ODD)
            snprintf(out, n, "an odd integer in [%s, %s]%s", lo, hi, none);
        else if (k->flags & CF_MULT16)
            snprintf(out, n, "a multiple of 16 in [%s, %s]%s", lo, hi, none);
        else if (k->max == UNB)
            snprintf(out, n, "an integer >= %s%s", lo, none);
        else
            snprintf(out, n, "an integer in [%s, %s]%s", lo, hi, none);
        break;
    case CT_FLOAT:
        if (k->max >= HUGEV)
            snprintf(out, n, "a number %s %s%s", (k->flags & CF_GT_MIN) ? ">" : ">=", lo, none);
        else
            snprintf(out, n, "a number in %c%s, %s%c%s", (k->flags & CF_GT_MIN) ? '(' : '[', lo,
                     hi, (k->flags & CF_LT_MAX) ? ')' : ']', none);
        break;
    case CT_BOOL:
        snprintf(out, n, "true or false");
        break;
    case CT_INTLIST:
        snprintf(out, n, "a list of strictly increasing integers >= %s", lo);
        break;
    }
}

const char *scorr_cfg_type_name(const struct cfg_key *k)
{
    switch (k->type) {
    case CT_SECTION: return "section";
    case CT_STR: return (k->flags & CF_PATH) ? "path" : "string";
    case CT_WORD:
    case CT_ENUM: return "choice";
    case CT_INT: return "integer";
    case CT_FLOAT: return "number";
    case CT_BOOL: return "boolean";
    case CT_INTLIST: return "list of integers";
    }
    return "?";
}

/* ---- lexing ------------------------------------------------------------- */

/* Decimal integers only; a leading zero ("010", octal to YAML 1.1 readers)
 * is refused rather than guessed. */
static int lex_int(const char *s, long long *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p) || (p[0] == '0' && p[1])) return -1;
    while (isdigit((unsigned char)*p)) p++;
    if (*p) return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

/* Decimal numbers only: [+-] digits [. digits] [e [+-] digits], or .5 forms. */
static int lex_float(const char *s, double *out)
{
    const char *p = s;
    int digits = 0;
    if (*p == '+' || *p == '-') p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p) return -1;
    double v = strtod(s, NULL);
    if (!isfinite(v)) return -1;
    *out = v;
    return 0;
}

static void found_text(const char *text, int plain, char *out, size_t n)
{
    if (!text[0])
        snprintf(out, n, "an empty value");
    else if (!plain)
        snprintf(out, n, "the quoted string '%.200s'", text);
    else
        snprintf(out, n, "'%.200s'", text);
}

static int fail(const struct cfg_key *k, const char *text, int plain, char *why, size_t n)
{
    char want[320], got[256];
    scorr_cfg_describe(k, want, sizeof want);
    found_text(text, plain, got, sizeof got);
    snprintf(why, n, "expected %s, found %s", want, got);
    return -1;
}

static int int_ok(const struct cfg_key *k, long long v)
{
    if (k->choices) {
        char c[64];
        for (int i = 0; choice_at(k->choices, i, c, sizeof c); i++)
            if (atoll(c) == v) return 1;
        return 0;
    }
    if ((double)v < k->min || (double)v > k->max) return 0;
    if ((k->flags & CF_ODD) && v % 2 == 0) return 0;
    if ((k->flags & CF_MULT16) && v % 16 != 0) return 0;
    return 1;
}

int scorr_cfg_set_scalar(struct scorr_config *cfg, const struct cfg_key *k, const char *text,
                         int plain, char *why, size_t why_n)
{
    int none = plain && is_none_word(text);
    if (!text[0]) return fail(k, text, plain, why, why_n);
    if (none && !(k->flags & CF_NONE)) {
        char want[320];
        scorr_cfg_describe(k, want, sizeof want);
        snprintf(why, why_n, "expected %s, found none", want);
        return -1;
    }
    switch (k->type) {
    case CT_SECTION:
    case CT_INTLIST:
        return fail(k, text, plain, why, why_n);
    case CT_STR: {
        char *dst = field(cfg, k);
        if (none) {
            dst[0] = 0;
            return 0;
        }
        size_t len = strlen(text);
        if (len + 1 > k->size) {
            snprintf(why, why_n, "value is %zu bytes long, at most %zu allowed", len, k->size - 1);
            return -1;
        }
        if (k->flags & CF_NAME)
            for (const char *p = text; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
                    return fail(k, text, plain, why, why_n);
        memcpy(dst, text, len + 1);
        return 0;
    }
    case CT_WORD: {
        char *dst = field(cfg, k);
        if (none) {
            dst[0] = 0;
            return 0;
        }
        if (choice_index(k->choices, text) < 0) return fail(k, text, plain, why, why_n);
        snprintf(dst, k->size, "%s", text);
        return 0;
    }
    case CT_ENUM: {
        int i = choice_index(k->choices, text);
        if (i < 0) return fail(k, text, plain, why, why_n);
        *(int *)field(cfg, k) = i;
        return 0;
    }
    case CT_INT: {
        long long v;
        if (none) {
            *(int *)field(cfg, k) = (int)k->none;
            return 0;
        }
        if (!plain || lex_int(text, &v) || !int_ok(k, v)) return fail(k, text, plain, why, why_n);
        *(int *)field(cfg, k) = (int)v;
        return 0;
    }
    case CT_FLOAT: {
        double v;
        if (none) {
            *(double *)field(cfg, k) = k->none;
            return 0;
        }
        if ((k->flags & CF_AUTO) && plain && !strcmp(text, "auto")) {
            *(double *)field(cfg, k) = CFG_AUTO;
            return 0;
        }
        if (!plain || lex_float(text, &v) || v < k->min || v > k->max ||
            ((k->flags & CF_GT_MIN) && v <= k->min) || ((k->flags & CF_LT_MAX) && v >= k->max))
            return fail(k, text, plain, why, why_n);
        *(double *)field(cfg, k) = v;
        return 0;
    }
    case CT_BOOL: {
        int v;
        if (!plain) return fail(k, text, plain, why, why_n);
        if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE"))
            v = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "FALSE"))
            v = 0;
        else
            return fail(k, text, plain, why, why_n);
        *(int *)field(cfg, k) = v;
        return 0;
    }
    }
    return -1;
}

int scorr_cfg_set_list(struct scorr_config *cfg, const struct cfg_key *k, const char *const *items,
                       const int *plain, int n, char *why, size_t why_n)
{
    char want[320];
    scorr_cfg_describe(k, want, sizeof want);
    if (k->type != CT_INTLIST) {
        snprintf(why, why_n, "expected %s, found a list", want);
        return -1;
    }
    if (n > SCORR_CONFIG_MAX_MILESTONES) {
        snprintf(why, why_n, "expected at most %d items, found %d", SCORR_CONFIG_MAX_MILESTONES, n);
        return -1;
    }
    int vals[SCORR_CONFIG_MAX_MILESTONES];
    for (int i = 0; i < n; i++) {
        long long v;
        char got[256];
        found_text(items[i], plain[i], got, sizeof got);
        if (!plain[i] || lex_int(items[i], &v) || v < k->min || v > k->max) {
            snprintf(why, why_n, "expected %s, found %s as item %d", want, got, i + 1);
            return -1;
        }
        if (i > 0 && v <= vals[i - 1]) {
            snprintf(why, why_n, "expected %s, found %s after %d (item %d)", want, got,
                     vals[i - 1], i + 1);
            return -1;
        }
        vals[i] = (int)v;
    }
    int *dst = field(cfg, k);
    memset(dst, 0, SCORR_CONFIG_MAX_MILESTONES * sizeof *dst);
    memcpy(dst, vals, (size_t)n * sizeof *dst);
    *(int *)((char *)cfg + k->count_off) = n;
    return 0;
}

/* ---- rendering ---------------------------------------------------------- */

/* Fixed notation for ordinary magnitudes, otherwise d.ddde-XX; the mantissa
 * always has a '.', so YAML 1.1 readers (PyYAML) also see a float. */
void scorr_cfg_format_double(double x, char *out, size_t n)
{
    char tmp[64];
    double ax = fabs(x);
    if (x == 0 || (ax >= 1e-4 && ax < 1e15)) {
        for (int dec = 1; dec <= 40; dec++) {
            snprintf(tmp, sizeof tmp, "%.*f", dec, x);
            if (strtod(tmp, NULL) == x) break;
        }
    } else {
        for (int prec = 0; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*e", prec, x);
            if (strtod(tmp, NULL) == x) break;
        }
        char *e = strchr(tmp, 'e');
        if (e && !memchr(tmp, '.', (size_t)(e - tmp))) {
            memmove(e + 2, e, strlen(e) + 1);
            e[0] = '.';
            e[1] = '0';
        }
    }
    snprintf(out, n, "%s", tmp);
}

/* A string is written plain only when any YAML reader would read it back as
 * the same string; otherwise double-quoted with escapes. */
static int plain_safe(const char *s)
{
    static const char *words[] = {"none", "None", "NONE", "null", "Null", "NULL", "true",
                                  "True", "TRUE", "false", "False", "FALSE", "yes", "Yes",
                                  "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off",
                                  "OFF", "y", "Y", "n", "N", "~"};
    double d;
    if (!s[0] || s[0] == '-' || s[0] == '.') return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_-./+", *p)) return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(s, words[i])) return 0;
    if (!lex_float(s, &d)) return 0;
    return 1;
}

static void quote(const char *s, char *out, size_t n)
{
    size_t w = 0;
    if (n < 3) return;
    out[w++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && w + 6 < n; p++) {
        if (*p == '"' || *p == '\\') {
            out[w++] = '\\';
            out[w++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            w += (size_t)snprintf(out + w, n - w, "\\x%02x", *p);
        } else {
            out[w++] = (char)*p;
        }
    }
    out[w++] = '"';
    out[w] = 0;
}

void scorr_cfg_value_text(const struct scorr_config *cfg, const struct cfg_key *k, char *out,
                          size_t n)
{
    const void *f = cfield(cfg, k);
    out[0] = 0;
    switch (k->type) {
    case CT_SECTION:
        break;
    case CT_STR:
    case CT_WORD: {
        const char *s = f;
        if ((k->flags & CF_NONE) && !s[0])
            snprintf(out, n, "none");
        else if (plain_safe(s))
            snprintf(out, n, "%s", s);
        else
            quote(s, out, n);
        break;
    }
    case CT_ENUM:
        if (!choice_at(k->choices, *(const int *)f, out, n)) snprintf(out, n, "?");
        break;
    case CT_INT:
        if ((k->flags & CF_NONE) && *(const int *)f == (int)k->none)
            snprintf(out, n, "none");
        else
            snprintf(out, n, "%d", *(const int *)f);
        break;
    case CT_FLOAT:
        if ((k->flags & CF_NONE) && *(const double *)f == k->none)
            snprintf(out, n, "none");
        else if ((k->flags & CF_AUTO) && *(const double *)f == CFG_AUTO)
            snprintf(out, n, "auto");
        else
            scorr_cfg_format_double(*(const double *)f, out, n);
        break;
    case CT_BOOL:
        snprintf(out, n, "%s", *(const int *)f ? "true" : "false");
        break;
    case CT_INTLIST: {
        const int *v = f;
        int cnt = *(const int *)((const char *)cfg + k->count_off);
        if (cnt < 0 || cnt > SCORR_CONFIG_MAX_MILESTONES) cnt = 0; /* a corrupt struct */
        size_t w = (size_t)snprintf(out, n, "[");
        for (int i = 0; i < cnt && w < n; i++)
            w += (size_t)snprintf(out + w, n - w, i ? ", %d" : "%d", v[i]);
        if (w < n) snprintf(out + w, n - w, "]");
        break;
    }
    }
}

int scorr_cfg_value_equal(const struct scorr_config *a, const struct scorr_config *b,
                          const struct cfg_key *k)
{
    const void *fa = cfield(a, k), *fb = cfield(b, k);
    switch (k->type) {
    case CT_SECTION: return 1;
    case CT_STR:
    case CT_WORD: return strcmp(fa, fb) == 0;
    case CT_ENUM:
    case CT_INT:
    case CT_BOOL: return *(const int *)fa == *(const int *)fb;
    case CT_FLOAT: return *(const double *)fa == *(const double *)fb;
    case CT_INTLIST: {
        int na = *(const int *)((const char *)a + k->count_off);
        int nb = *(const int *)((const char *)b + k->count_off);
        return na == nb && memcmp(fa, fb, (size_t)na * sizeof(int)) == 0;
    }
    }
    return 0;
}
