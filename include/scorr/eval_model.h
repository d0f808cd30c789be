/* A trained network restored from a checkpoint for inference (scorr_eval,
 * scorr_match): the model is rebuilt from the experiment config stored in
 * the checkpoint (its architecture keys), the weights of the chosen network
 * are loaded, and the model runs in eval mode (batch-norm running
 * statistics). A converted reference network (a scorr weights file from an
 * official SCorrSAN checkpoint, docs/weights.md) is taken as well, with the
 * config its tensors imply. Local: every rank opens its own copy. */
#ifndef SCORR_EVAL_MODEL_H
#define SCORR_EVAL_MODEL_H

#include <stddef.h>

#include "scorr/checkpoint.h"
#include "scorr/config.h"
#include "scorr/eval.h"

struct scorr_model;

/* Which network of a run to load. */
#define SCORR_NET_BEST (-1) /* the one the checkpoint names best (mt), else the only one */

struct scorr_eval_net {
    struct scorr_model *model;
    struct scorr_config cfg;      /* the stored experiment config */
    struct scorr_ckpt_meta meta;
    int network;                  /* which network of the run: 0 = A, 1 = the peer (mt) */
    int has_peer;                 /* the file holds both networks of an mt run */
    int reference;                /* a converted reference network (cfg is implied) */
    int image_size, grid, batch;  /* S, G, B of the built model */
    char path[4096];
};

/* Open checkpoint `path` (a step checkpoint or best.h5, or a converted
 * reference network: one network, 0). which: 0, 1 or
 * SCORR_NET_BEST. In an mt step checkpoint both networks are there; best
 * picks meta.best_peer (network 0 before any validation). best.h5 of an mt
 * run holds the better peer only (meta.best_peer says which); baseline and
 * st files hold network 0. Asking for a network the file does not hold is an
 * error naming the file and what it holds. batch: B pairs per forward.
 * image_size: S, 0 = the stored config's data.image_size. Errors: a missing
 * file, a file that is not a checkpoint, a stored config that does not
 * parse, weights that do not fit. Local. */
int scorr_eval_net_open(const char *path, int which, int batch, int image_size,
                        struct scorr_eval_net **out);
void scorr_eval_net_close(struct scorr_eval_net *n);

/* 1 if path is a scorr weights file (format "scorr-weights"), 0 otherwise
 * (a checkpoint, or not HDF5: the checkpoint reader explains). Local. */
int scorr_eval_is_weights_file(const char *path);

/* The experiment config a converted reference SCorrSAN network implies: the
 * reference architecture (correlation upsampled 4x, temperature 0.02) with
 * model.backbone.depth and width, model.sce.kernel and channels read from
 * the tensor shapes; model.learn_grid when the file holds x_normal and
 * y_normal (every official checkpoint does), and then data.image_size = 4 x
 * their length (the reference: 64 cells, 256 px), else 256. desc (n bytes)
 * receives a one-line summary. A backbone-only file or shapes that fit no
 * ResNet / SCE are errors naming the file and tensor. Local. */
int scorr_eval_reference_config(const char *path, struct scorr_config *cfg, char *desc, size_t n);

/* A checkpoint argument: a run folder means its best.h5 (as teacher paths
 * in experiment files); anything else is kept. out: n bytes. Local. */
void scorr_eval_checkpoint_path(const char *arg, char *out, size_t n);

/* The flow source of scorr_eval_run over this network: forward of the
 * batch's (B, S, S, 3) images. The network must have been opened with the
 * run's batch size. */
void scorr_eval_net_source(struct scorr_eval_net *n, struct scorr_flow_source *src);

#endif
