/* Checkpoint files: writing, checking and loading (format in
 * include/scorr/checkpoint.h and docs/checkpoint-format.md). Discovery of the
 * latest file and pruning live in checkpoint_files.c. */
#include "scorr/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/io.h"

#ifndef SCORR_VERSION
#define SCORR_VERSION "0.1.0"
#endif

#define RNG_NOTE                                                                               \
    "philox4x32-10 keyed by (seed, stream), counters (epoch, sample, purpose, draw): the RNG "  \
    "state is (seed, epoch, steps_in_epoch)"

static int trained(const struct scorr_param *e)
{
    return e->kind == SCORR_PARAM_WEIGHT && e->trainable;
}

/* Create a group (and its parents) unless it exists. */
static int ensure_group(struct scorr_h5 *f, const char *group)
{
    int err = 0;
    if (scorr_h5_has(f, group)) return 0;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f->id, group, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    SCORR_REQUIRE(g >= 0, SCORR_EIO, "'%s': cannot create group '%s'", f->path, group);
    H5Gclose(g);
done:
    return err;
}

/* ---- tensors ------------------------------------------------------------ */

int scorr_ckpt_write_tensors(struct scorr_h5 *f, const char *group,
                             const struct scorr_params *t, const float *flat, int trained_only)
{
    int err = 0;
    char name[SCORR_PARAM_NAME + 512];
    SCORR_TRY(ensure_group(f, group));
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (trained_only && !trained(e)) continue;
        snprintf(name, sizeof name, "%s/%s", group, e->name);
        SCORR_TRY(scorr_h5_write(f, name, SCORR_F32, e->ndim, e->shape, flat + e->offset, 0, 0));
    }
done:
    return err;
}

/* Check the group against the table and read it; on a mismatch returns
 * SCORR_EFORMAT with *detail saying which tensor and why (no error set). */
static int read_tensors_detail(const struct scorr_h5 *f, const char *group,
                               const struct scorr_params *t, float *flat, int trained_only,
                               char *detail, size_t dn)
{
    int err = 0;
    char name[SCORR_PARAM_NAME + 512], want[128], got[128];
    detail[0] = 0;
    if (!scorr_h5_has(f, group)) {
        snprintf(detail, dn, "group '%s' is missing", group);
        return SCORR_EFORMAT;
    }
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (trained_only && !trained(e)) continue;
        snprintf(name, sizeof name, "%s/%s", group, e->name);
        scorr_h5_shape_text(want, sizeof want, e->ndim, e->shape);
        if (!scorr_h5_has(f, name)) {
            snprintf(detail, dn, "tensor '%s' is missing from %s (this model has it with shape %s)",
                     e->name, group, want);
            return SCORR_EFORMAT;
        }
        int nd = 0;
        int64_t dims[SCORR_H5_MAXDIM];
        SCORR_TRY(scorr_h5_shape(f, name, &nd, dims));
        int same = nd == e->ndim;
        for (int k = 0; same && k < nd; k++) same = dims[k] == e->shape[k];
        if (!same) {
            scorr_h5_shape_text(got, sizeof got, nd, dims);
            snprintf(detail, dn, "tensor '%s' has shape %s in the file, this model expects %s",
                     e->name, got, want);
            return SCORR_EFORMAT;
        }
    }
    /* Anything else in the group is a tensor this model does not have. */
    H5G_info_t info;
    SCORR_REQUIRE(H5Gget_info_by_name(f->id, group, &info, H5P_DEFAULT) >= 0, SCORR_EFORMAT,
                  "'%s': '%s' is not a group", f->path, group);
    for (hsize_t i = 0; i < info.nlinks; i++) {
        char link[SCORR_PARAM_NAME + 64];
        ssize_t len = H5Lget_name_by_idx(f->id, group, H5_INDEX_NAME, H5_ITER_INC, i, link,
                                         sizeof link, H5P_DEFAULT);
        SCORR_REQUIRE(len >= 0, SCORR_EFORMAT, "'%s': cannot list group '%s'", f->path, group);
        int k = scorr_params_find(t, link);
        if (k < 0 || (trained_only && !trained(&t->p[k]))) {
            snprintf(detail, dn, "%s holds tensor '%s'%s, which this model does not %s", group,
                     link, (size_t)len >= sizeof link ? "..." : "",
                     k < 0 ? "have" : "train");
            return SCORR_EFORMAT;
        }
    }
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        if (trained_only && !trained(e)) continue;
        snprintf(name, sizeof name, "%s/%s", group, e->name);
        SCORR_TRY(scorr_h5_read(f, name, SCORR_F32, e->ndim, e->shape, flat + e->offset));
    }
done:
    return err;
}

int scorr_ckpt_read_tensors(const struct scorr_h5 *f, const char *group,
                            const struct scorr_params *t, float *flat, int trained_only,
                            const char *what)
{
    char detail[1024];
    int err = read_tensors_detail(f, group, t, flat, trained_only, detail, sizeof detail);
    if (err && detail[0])
        err = scorr_error_set(err, __FILE__, __LINE__, __func__, "%s '%s': %s", what, f->path,
                              detail);
    return err;
}

/* ---- writing ------------------------------------------------------------ */

static int write_net(struct scorr_h5 *f, const char *prefix, const struct scorr_ckpt_net *net)
{
    int err = 0;
    char g[64];
    snprintf(g, sizeof g, "%s/params", prefix);
    SCORR_TRY(scorr_ckpt_write_tensors(f, g, net->table, net->params, 0));
    if (net->opt) {
        SCORR_ASSERT(net->opt->n == net->table->total);
        snprintf(g, sizeof g, "%s/optim/m", prefix);
        SCORR_TRY(scorr_ckpt_write_tensors(f, g, net->table, net->opt->m, 1));
        snprintf(g, sizeof g, "%s/optim/v", prefix);
        SCORR_TRY(scorr_ckpt_write_tensors(f, g, net->table, net->opt->v, 1));
        snprintf(g, sizeof g, "%s/optim", prefix);
        SCORR_TRY(scorr_h5_set_attr_i64(f, g, "step", net->opt->step));
    }
done:
    return err;
}

/* An upper bound of one network's share of a checkpoint file: its floats,
 * plus 2 KiB of HDF5 metadata per tensor (measured: 490 bytes) and 64 KiB
 * for the file's own (superblock, groups, attributes, the config text). */
static size_t estimate_bytes(const struct scorr_ckpt_net *net, const char *config_yaml)
{
    size_t floats = 0, tensors = 0;
    for (int i = 0; i < net->table->n; i++) {
        const struct scorr_param *e = &net->table->p[i];
        int copies = 1 + (net->opt && trained(e) ? 2 : 0);
        floats += (size_t)copies * e->numel;
        tensors += (size_t)copies;
    }
    return floats * sizeof(float) + tensors * 2048 + 65536 +
           (config_yaml ? strlen(config_yaml) : 0);
}

int scorr_ckpt_write(const char *path, const struct scorr_ckpt_meta *meta,
                     const char *config_yaml, const struct scorr_ckpt_net *a,
                     const struct scorr_ckpt_net *peer)
{
    int err = 0;
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    const int has_optim = a->opt != NULL;
    SCORR_ASSERT(!peer || (peer->opt != NULL) == has_optim);
    SCORR_TRY(scorr_h5_create(&f, path));
    /* A full disk is met before any tensor is written (include/scorr/h5.h). */
    SCORR_TRY(scorr_h5_reserve(&f, estimate_bytes(a, config_yaml) +
                                       (peer ? estimate_bytes(peer, NULL) : 0)));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "format", SCORR_CKPT_FORMAT));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "version", SCORR_CKPT_VERSION));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "scorr_version", SCORR_VERSION));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "variant", meta->variant));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "epoch", meta->epoch));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "steps_in_epoch", meta->steps_in_epoch));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "step", meta->step));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "best_epoch", meta->best_epoch));
    SCORR_TRY(scorr_h5_set_attr_f64(&f, "/", "best_pck", meta->best_pck));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "best_peer", meta->best_peer));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "seed", (int64_t)meta->seed));
    SCORR_TRY(scorr_h5_set_attr_str(&f, "/", "rng", RNG_NOTE));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "has_optim", has_optim));
    SCORR_TRY(scorr_h5_set_attr_i64(&f, "/", "has_peer", peer != NULL));
    SCORR_TRY(scorr_h5_write_strings(&f, "/config", &config_yaml, 1));
    const int64_t sums_dims[2] = {2, SCORR_CKPT_EPOCH_SUMS};
    SCORR_TRY(scorr_h5_write(&f, "/epoch_sums", SCORR_F64, 2, sums_dims, meta->epoch_sums, 0, 0));
    SCORR_TRY(write_net(&f, "", a));
    if (peer) SCORR_TRY(write_net(&f, "/peer", peer));
    SCORR_TRY(scorr_h5_commit(&f));
done:
    scorr_h5_close(&f); /* no-op after a commit; deletes the temporary otherwise */
    return err;
}

int scorr_ckpt_save_best(const char *output, const struct scorr_ckpt_meta *meta,
                         const char *config_yaml, const struct scorr_ckpt_net *net)
{
    int err = 0;
    char path[4096];
    struct scorr_ckpt_net params_only = {net->table, net->params, NULL};
    SCORR_TRY(scorr_mkdirs(output));
    SCORR_TRY(scorr_path_join(path, sizeof path, output, "best.h5"));
    SCORR_TRY(scorr_ckpt_write(path, meta, config_yaml, &params_only, NULL));
done:
    return err;
}

/* ---- checking and reading ----------------------------------------------- */

static int get_i64(const struct scorr_h5 *f, const char *key, int64_t *v)
{
    return scorr_h5_get_attr_i64(f, "/", key, v);
}

/* With f open: the root attributes and the groups they announce. */
static int inspect_open(const struct scorr_h5 *f, struct scorr_ckpt_meta *meta,
                        char **config_yaml, int *has_optim, int *has_peer)
{
    int err = 0;
    char fmt[64];
    int64_t version = 0, ho = 0, hp = 0, seed = 0;
    char **cfg = NULL;
    int64_t ncfg = 0;
    memset(meta, 0, sizeof *meta);
    if (config_yaml) *config_yaml = NULL;
    if (scorr_h5_get_attr_str(f, "/", "format", fmt, sizeof fmt)) {
        scorr_error_clear();
        SCORR_FAIL(SCORR_EFORMAT, "'%s' is not a scorr checkpoint (no 'format' attribute)",
                   f->path);
    }
    SCORR_REQUIRE(!strcmp(fmt, SCORR_CKPT_FORMAT), SCORR_EFORMAT,
                  "'%s' is not a scorr checkpoint (format '%s', expected '%s')", f->path, fmt,
                  SCORR_CKPT_FORMAT);
    SCORR_TRY(get_i64(f, "version", &version));
    SCORR_REQUIRE(version == SCORR_CKPT_VERSION, SCORR_EFORMAT,
                  "'%s': checkpoint version %lld, this scorr reads version %d", f->path,
                  (long long)version, SCORR_CKPT_VERSION);
    SCORR_TRY(scorr_h5_get_attr_str(f, "/", "variant", meta->variant, sizeof meta->variant));
    SCORR_TRY(get_i64(f, "epoch", &meta->epoch));
    SCORR_TRY(get_i64(f, "steps_in_epoch", &meta->steps_in_epoch));
    SCORR_TRY(get_i64(f, "step", &meta->step));
    SCORR_TRY(get_i64(f, "best_epoch", &meta->best_epoch));
    SCORR_TRY(scorr_h5_get_attr_f64(f, "/", "best_pck", &meta->best_pck));
    SCORR_TRY(get_i64(f, "best_peer", &meta->best_peer));
    SCORR_TRY(get_i64(f, "seed", &seed));
    meta->seed = (uint64_t)seed;
    SCORR_TRY(get_i64(f, "has_optim", &ho));
    SCORR_TRY(get_i64(f, "has_peer", &hp));
    SCORR_REQUIRE(meta->epoch >= 0 && meta->steps_in_epoch >= 0 && meta->step >= 0,
                  SCORR_EFORMAT, "'%s': negative epoch/step attributes", f->path);
    if (scorr_h5_has(f, "/epoch_sums")) {
        const int64_t sums_dims[2] = {2, SCORR_CKPT_EPOCH_SUMS};
        SCORR_TRY(scorr_h5_read(f, "/epoch_sums", SCORR_F64, 2, sums_dims, meta->epoch_sums));
    }
    SCORR_TRY(scorr_h5_read_strings(f, "/config", &cfg, &ncfg));
    SCORR_REQUIRE(ncfg == 1, SCORR_EFORMAT, "'%s': /config holds %lld strings, expected 1",
                  f->path, (long long)ncfg);
    SCORR_REQUIRE(scorr_h5_has(f, "/params"), SCORR_EFORMAT, "'%s': group /params is missing",
                  f->path);
    if (ho) {
        SCORR_REQUIRE(scorr_h5_has(f, "/optim/m") && scorr_h5_has(f, "/optim/v"), SCORR_EFORMAT,
                      "'%s': /optim/m or /optim/v is missing", f->path);
        int64_t st;
        SCORR_TRY(scorr_h5_get_attr_i64(f, "/optim", "step", &st));
    }
    if (hp) {
        SCORR_REQUIRE(scorr_h5_has(f, "/peer/params"), SCORR_EFORMAT,
                      "'%s': has_peer is set but /peer/params is missing", f->path);
        SCORR_REQUIRE(!ho || (scorr_h5_has(f, "/peer/optim/m") && scorr_h5_has(f, "/peer/optim/v")),
                      SCORR_EFORMAT, "'%s': /peer/optim/m or /peer/optim/v is missing", f->path);
    }
    if (has_optim) *has_optim = (int)ho;
    if (has_peer) *has_peer = (int)hp;
    if (config_yaml) {
        *config_yaml = cfg[0];
        cfg[0] = NULL;
    }
done:
    scorr_h5_free_strings(cfg, ncfg);
    return err;
}

int scorr_ckpt_inspect(const char *path, struct scorr_ckpt_meta *meta, char **config_yaml,
                       int *has_optim, int *has_peer)
{
    int err = 0;
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    SCORR_TRY(scorr_h5_open(&f, path));
    SCORR_TRY(inspect_open(&f, meta, config_yaml, has_optim, has_peer));
done:
    scorr_h5_close(&f);
    return err;
}

static int read_net(const struct scorr_h5 *f, const char *prefix, struct scorr_ckpt_net *net,
                    const char *what)
{
    int err = 0;
    char g[64];
    snprintf(g, sizeof g, "%s/params", prefix);
    SCORR_TRY(scorr_ckpt_read_tensors(f, g, net->table, net->params, 0, what));
    if (net->opt) {
        SCORR_ASSERT(net->opt->n == net->table->total);
        snprintf(g, sizeof g, "%s/optim/m", prefix);
        SCORR_TRY(scorr_ckpt_read_tensors(f, g, net->table, net->opt->m, 1, what));
        snprintf(g, sizeof g, "%s/optim/v", prefix);
        SCORR_TRY(scorr_ckpt_read_tensors(f, g, net->table, net->opt->v, 1, what));
        snprintf(g, sizeof g, "%s/optim", prefix);
        SCORR_TRY(scorr_h5_get_attr_i64(f, g, "step", &net->opt->step));
    }
done:
    return err;
}

int scorr_ckpt_load(const char *path, const struct scorr_config *cfg,
                    struct scorr_ckpt_meta *meta, struct scorr_ckpt_net *a,
                    struct scorr_ckpt_net *peer)
{
    int err = 0, has_optim = 0, has_peer = 0;
    char *yaml = NULL, where[4200];
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    struct scorr_config then;
    SCORR_TRY(scorr_h5_open(&f, path));
    SCORR_TRY(inspect_open(&f, meta, &yaml, &has_optim, &has_peer));
    snprintf(where, sizeof where, "%s:/config", path);
    SCORR_TRY(scorr_config_parse(&then, yaml, strlen(yaml), where));
    SCORR_TRY(scorr_config_check_resume(cfg, &then, path));
    SCORR_REQUIRE(has_optim || !a->opt, SCORR_EFORMAT,
                  "checkpoint '%s' holds no optimiser state (a best.h5?); resume needs a "
                  "checkpoints/step_*.h5 file", path);
    SCORR_REQUIRE(!has_peer || peer, SCORR_EFORMAT,
                  "checkpoint '%s' holds a peer network, but variant %s loads one network", path,
                  scorr_variant_name(cfg->variant));
    SCORR_REQUIRE(has_peer || !peer, SCORR_EFORMAT,
                  "checkpoint '%s' holds no peer network, but variant %s needs one", path,
                  scorr_variant_name(cfg->variant));
    SCORR_TRY(read_net(&f, "", a, "checkpoint"));
    if (peer) SCORR_TRY(read_net(&f, "/peer", peer, "checkpoint"));
done:
    scorr_h5_close(&f);
    free(yaml);
    return err;
}

int scorr_ckpt_load_params(const char *path, const char *what, const struct scorr_config *cfg,
                           int which, const struct scorr_params *table, float *params)
{
    int err = 0, has_peer = 0;
    char *yaml = NULL, detail[1024];
    struct scorr_h5 f = {.id = H5I_INVALID_HID};
    struct scorr_ckpt_meta meta;
    SCORR_TRY(scorr_h5_open(&f, path));
    SCORR_TRY(inspect_open(&f, &meta, &yaml, NULL, &has_peer));
    SCORR_REQUIRE(which == 0 || has_peer, SCORR_EINVAL,
                  "%s '%s' holds one network; the peer (network 1) was asked for", what, path);
    err = read_tensors_detail(&f, which ? "/peer/params" : "/params", table, params, 0, detail,
                              sizeof detail);
    if (err && detail[0]) {
        /* Explain a mismatch by the architecture key that differs, if any. */
        const char *key = NULL;
        char was[SCORR_CONFIG_PATH + 64], now[SCORR_CONFIG_PATH + 64];
        struct scorr_config then;
        if (cfg && !scorr_config_parse(&then, yaml, strlen(yaml), path) &&
            (key = scorr_config_arch_diff(&then, cfg))) {
            scorr_config_get(&then, key, was, sizeof was);
            scorr_config_get(cfg, key, now, sizeof now);
            SCORR_FAIL(SCORR_EFORMAT, "%s '%s' was trained with %s %s, this run has %s (%s)",
                       what, path, key, was, now, detail);
        }
        scorr_error_clear();
        SCORR_FAIL(SCORR_EFORMAT, "%s '%s' does not fit this model: %s", what, path, detail);
    }
    SCORR_TRY(err);
done:
    scorr_h5_close(&f);
    free(yaml);
    return err;
}
