/* Fuzz targets of the HDF5 readers: the dataset file and checkpoints, as
 * generated files with fuzzed contents (fuzz_h5gen.c), and the dataset reader
 * on raw bytes (mostly HDF5's own parser; see tests/fuzz/README.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_h5gen.h"
#include "scorr/checkpoint.h"
#include "scorr/config.h"
#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/optim.h"
#include "scorr/params.h"

/* ---- the dataset file ---------------------------------------------------- */

enum { S = 8, NIMG = 4, NCAT = 3, NPAIR = 3, MKPS = 2 };

static double v_mod(size_t i, void *arg) { return (double)(i % (size_t)(intptr_t)arg); }
static double v_const(size_t i, void *arg) { return *(const double *)arg; }
static double v_kps(size_t i, void *arg) { return 0.5 + (double)(i % 7); }
static double v_box(size_t i, void *arg) { return i % 4 < 2 ? 1.0 : 6.0; }

static void gen_split(hid_t f, const char *split, int dense, struct fuzz_bytes *b)
{
    char n[64];
    hid_t g = fz_group(f, split);
    if (g < 0) return;
    fz_attr_num(g, "num_pairs", NPAIR, 0, b);
    fz_attr_num(g, "max_kps", MKPS, 0, b);
    H5Gclose(g);
    const hsize_t d1[1] = {NPAIR}, dk[3] = {NPAIR, MKPS, 2}, di[2] = {NPAIR, MKPS},
                  db[2] = {NPAIR, 4}, dd[2] = {NPAIR, 4}, df[4] = {NPAIR, S, S, 2};
    static const double zero = 0, minus1 = -1, nkps = MKPS, half = 0.5;
    static const struct {
        const char *name;
        enum fz_type t;
        int nd;
        int shape; /* 0 d1, 1 dk, 2 di, 3 db, 4 dd */
        double (*value)(size_t, void *);
        void *arg;
    } tab[] = {
        {"src_image", FZ_I32, 1, 0, v_mod, (void *)(intptr_t)NIMG},
        {"trg_image", FZ_I32, 1, 0, v_mod, (void *)(intptr_t)NIMG},
        {"category", FZ_I32, 1, 0, v_mod, (void *)(intptr_t)NCAT},
        {"num_kps", FZ_I32, 1, 0, v_const, (void *)&nkps},
        {"src_kps", FZ_F32, 3, 1, v_kps, NULL},
        {"trg_kps", FZ_F32, 3, 1, v_kps, NULL},
        {"src_kps_orig", FZ_F32, 3, 1, v_kps, NULL},
        {"trg_kps_orig", FZ_F32, 3, 1, v_kps, NULL},
        {"kps_ids", FZ_I32, 2, 2, v_mod, (void *)(intptr_t)MKPS},
        {"src_bbox", FZ_F32, 2, 3, v_box, NULL},
        {"trg_bbox", FZ_F32, 2, 3, v_box, NULL},
        {"src_bbox_orig", FZ_F32, 2, 3, v_box, NULL},
        {"trg_bbox_orig", FZ_F32, 2, 3, v_box, NULL},
        {"flip", FZ_U8, 1, 0, v_const, (void *)&zero},
        {"difficulty", FZ_I8, 2, 4, v_const, (void *)&minus1},
    };
    const hsize_t *shapes[] = {d1, dk, di, db, dd};
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
        snprintf(n, sizeof n, "/%s/%s", split, tab[i].name);
        fz_dataset(f, n, tab[i].t, tab[i].nd, shapes[tab[i].shape], tab[i].value, tab[i].arg, b);
    }
    snprintf(n, sizeof n, "/%s/pair_names", split);
    fz_strings(f, n, "pair", NPAIR, b);
    if (dense) {
        snprintf(n, sizeof n, "/%s/dense_flow", split);
        fz_dataset(f, n, FZ_F32, 4, df, v_const, (void *)&half, b);
    }
}

static void gen_dataset_file(const char *path, struct fuzz_bytes *b)
{
    hid_t f = fz_create(path);
    if (f < 0) abort();
    fz_attr_str(f, "format", "scorr-dataset", b);
    fz_attr_num(f, "version", 1, 0, b);
    fz_attr_str(f, "source", "synth", b);
    fz_attr_num(f, "image_size", S, 0, b);
    fz_attr_str(f, "pck_threshold", "bbox", b);
    fz_strings(f, "/categories/names", "cat", NCAT, b);
    const hsize_t dp[4] = {NIMG, S, S, 3}, dm[3] = {NIMG, S, S}, ds[2] = {NIMG, 2};
    static const double size = 64;
    fz_dataset(f, "/images/pixels", FZ_U8, 4, dp, v_mod, (void *)(intptr_t)251, b);
    fz_dataset(f, "/images/orig_size", FZ_I32, 2, ds, v_const, (void *)&size, b);
    fz_strings(f, "/images/names", "img", NIMG, b);
    fz_dataset(f, "/images/fg_mask", FZ_U8, 3, dm, v_mod, (void *)(intptr_t)2, b);
    gen_split(f, "trn", 0, b);
    gen_split(f, "test", 1, b);
    H5Fclose(f);
}

int fuzz_dataset(const uint8_t *data, size_t size)
{
    char path[4096];
    struct fuzz_bytes b = {data, size, 0};
    snprintf(path, sizeof path, "%s/dataset.h5", fuzz_tmpdir());
    gen_dataset_file(path, &b);
    struct scorr_dataset *ds = NULL;
    int err = scorr_dataset_open(path, &ds);
    fuzz_check_rejection(err, path, "dataset");
    if (err) return 0;
    const struct scorr_dataset_meta *m = scorr_dataset_meta(ds);
    int64_t N = m->num_images, side = m->image_size;
    uint8_t *px = side <= 64 ? malloc((size_t)side * side * 3) : NULL;
    float *flow = side <= 64 ? malloc((size_t)side * side * 2 * sizeof *flow) : NULL;
    if (px && N > 0) {
        fuzz_check_rejection(scorr_dataset_read_image(ds, 0, px), path, "dataset");
        fuzz_check_rejection(scorr_dataset_read_image(ds, N - 1, px), path, "dataset");
        fuzz_check_rejection(scorr_dataset_read_fg_mask(ds, N - 1, px), path, "dataset");
    }
    if (N <= (1 << 16)) {
        int32_t *sizes = malloc((size_t)(N ? N : 1) * 2 * sizeof *sizes);
        fuzz_check_rejection(scorr_dataset_read_orig_sizes(ds, sizes), path, "dataset");
        free(sizes);
        char **names = NULL;
        int64_t nn = 0;
        fuzz_check_rejection(scorr_dataset_read_image_names(ds, &names, &nn), path, "dataset");
        scorr_h5_free_strings(names, nn);
    }
    int ns = 0;
    const char *const *splits = scorr_dataset_splits(ds, &ns);
    for (int i = 0; i < ns; i++) {
        struct scorr_split s;
        err = scorr_dataset_read_split(ds, splits[i], &s);
        fuzz_check_rejection(err, path, "dataset");
        if (err) continue;
        if (s.has_dense && flow && s.num_pairs > 0)
            fuzz_check_rejection(scorr_dataset_read_dense(ds, splits[i], s.num_pairs - 1, flow),
                                 path, "dataset");
        scorr_split_free(&s);
    }
    free(px);
    free(flow);
    scorr_dataset_close(ds);
    return 0;
}

int fuzz_h5raw(const uint8_t *data, size_t size)
{
    char path[4096];
    fuzz_write("raw.h5", data, size, path);
    struct scorr_dataset *ds = NULL;
    int err = scorr_dataset_open(path, &ds);
    fuzz_check_rejection(err, path, "h5raw");
    if (err) return 0;
    int ns = 0;
    const char *const *splits = scorr_dataset_splits(ds, &ns);
    for (int i = 0; i < ns; i++) {
        struct scorr_split s;
        err = scorr_dataset_read_split(ds, splits[i], &s);
        fuzz_check_rejection(err, path, "h5raw");
        if (!err) scorr_split_free(&s);
    }
    scorr_dataset_close(ds);
    return 0;
}

/* ---- checkpoints ----------------------------------------------------------- */

/* A small table shaped like the model's: convs, a batch norm with buffers,
 * a head conv; the backbone frozen or not. */
static void build_table(struct scorr_params *t)
{
    const int64_t c1[] = {4, 3, 3, 3}, bn[] = {4}, h[] = {6, 4, 1, 1}, hb[] = {6};
    scorr_params_init(t);
    scorr_params_add(t, "feature_extraction.backbone.conv1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 4, c1);
    scorr_params_add(t, "feature_extraction.backbone.bn1.weight", SCORR_PARAM_WEIGHT,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ONE, 1, bn);
    scorr_params_add(t, "feature_extraction.backbone.bn1.running_mean", SCORR_PARAM_BUFFER,
                     SCORR_GROUP_BACKBONE, SCORR_INIT_ZERO, 1, bn);
    scorr_params_add(t, "SCEs.0.conv.weight", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD,
                     SCORR_INIT_ZERO, 4, h);
    scorr_params_add(t, "SCEs.0.conv.bias", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD,
                     SCORR_INIT_ZERO, 1, hb);
}

static void gen_tensors(hid_t f, const char *group, const struct scorr_params *t,
                        int trained_only, struct fuzz_bytes *b)
{
    static const double one = 1.0;
    char name[256];
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *p = &t->p[i];
        if (trained_only && !(p->kind == SCORR_PARAM_WEIGHT && p->trainable)) continue;
        hsize_t d[SCORR_PARAM_MAXDIM];
        for (int k = 0; k < p->ndim; k++) d[k] = (hsize_t)p->shape[k];
        snprintf(name, sizeof name, "%s/%s", group, p->name);
        fz_dataset(f, name, FZ_F32, p->ndim, d, v_const, (void *)&one, b);
    }
    if (fuzz_chance(b, 16)) { /* an extra tensor */
        const hsize_t d[1] = {3};
        snprintf(name, sizeof name, "%s/extra.weight", group);
        fz_dataset(f, name, FZ_F32, 1, d, v_const, (void *)&one, b);
    }
}

static void gen_net(hid_t f, const char *prefix, const struct scorr_params *t, int optim,
                    struct fuzz_bytes *b)
{
    char g[64];
    snprintf(g, sizeof g, "%s/params", prefix);
    gen_tensors(f, g, t, 0, b);
    if (!optim) return;
    snprintf(g, sizeof g, "%s/optim/m", prefix);
    gen_tensors(f, g, t, 1, b);
    snprintf(g, sizeof g, "%s/optim/v", prefix);
    gen_tensors(f, g, t, 1, b);
    snprintf(g, sizeof g, "%s/optim", prefix);
    hid_t o = H5Oopen(f, g, H5P_DEFAULT);
    if (o >= 0) {
        fz_attr_num(o, "step", 7, 0, b);
        H5Oclose(o);
    }
}

static void gen_checkpoint_file(const char *path, const char *yaml, const char *variant,
                                const struct scorr_params *t, struct fuzz_bytes *b)
{
    hid_t f = fz_create(path);
    if (f < 0) abort();
    int mt = !strcmp(variant, "mt");
    fz_attr_str(f, "format", "scorr-checkpoint", b);
    fz_attr_num(f, "version", 1, 0, b);
    fz_attr_str(f, "scorr_version", "0.1.0", b);
    fz_attr_str(f, "variant", variant, b);
    fz_attr_num(f, "epoch", 2, 0, b);
    fz_attr_num(f, "steps_in_epoch", 3, 0, b);
    fz_attr_num(f, "step", 23, 0, b);
    fz_attr_num(f, "best_epoch", 1, 0, b);
    fz_attr_num(f, "best_pck", 41.5, 1, b);
    fz_attr_num(f, "best_peer", 0, 0, b);
    fz_attr_num(f, "seed", 2021, 0, b);
    fz_attr_num(f, "has_optim", 1, 0, b);
    fz_attr_num(f, "has_peer", mt, 0, b);
    /* /config: the run's YAML, or (rarely) text from the input */
    {
        char text[512];
        const char *s = yaml;
        if (fuzz_chance(b, 12)) {
            size_t n = fuzz_u8(b) % (sizeof text - 1);
            for (size_t i = 0; i < n; i++) text[i] = (char)fuzz_u8(b);
            text[n] = 0;
            s = text;
        }
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, H5T_VARIABLE);
        hsize_t one = 1 + (fuzz_chance(b, 8) ? 1 : 0);
        const char *v[2] = {s, s};
        hid_t sp = H5Screate_simple(1, &one, NULL);
        hid_t ds = H5Dcreate2(f, "/config", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) {
            hid_t xp = fz_dxpl(2);
            H5Dwrite(ds, st, H5S_ALL, H5S_ALL, xp, v);
            H5Pclose(xp);
            H5Dclose(ds);
        }
        H5Sclose(sp);
        H5Tclose(st);
    }
    gen_net(f, "", t, 1, b);
    if (mt || fuzz_chance(b, 8)) gen_net(f, "/peer", t, 1, b);
    H5Fclose(f);
}

int fuzz_checkpoint(const uint8_t *data, size_t size)
{
    static struct scorr_config cfg[2];
    static char *yaml[2];
    static struct scorr_params table;
    static int ready;
    if (!ready) {
        const char *variants[2] = {"baseline", "mt"};
        for (int v = 0; v < 2; v++) {
            scorr_config_defaults(&cfg[v]);
            if (scorr_config_set(&cfg[v], "variant", variants[v]) ||
                scorr_config_emit(&cfg[v], &yaml[v]))
                abort();
        }
        build_table(&table);
        ready = 1;
    }
    struct fuzz_bytes b = {data, size, 0};
    int v = (int)(fuzz_u8(&b) & 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt.h5", fuzz_tmpdir());
    gen_checkpoint_file(path, yaml[v], v ? "mt" : "baseline", &table, &b);

    struct scorr_ckpt_meta meta;
    char *text = NULL;
    int ho = 0, hp = 0;
    int err = scorr_ckpt_inspect(path, &meta, &text, &ho, &hp);
    fuzz_check_rejection(err, path, "checkpoint");
    free(text);
    if (err) return 0;
    float *params[2] = {calloc(table.total, 4), calloc(table.total, 4)};
    struct scorr_adamw opt[2];
    if (scorr_adamw_init_with(&opt[0], &table, 0.9, 0.999, 1e-8, 0.05) ||
        scorr_adamw_init_with(&opt[1], &table, 0.9, 0.999, 1e-8, 0.05))
        abort();
    struct scorr_ckpt_net a = {&table, params[0], &opt[0]}, p = {&table, params[1], &opt[1]};
    err = scorr_ckpt_load(path, &cfg[v], &meta, &a, v ? &p : NULL);
    fuzz_check_rejection(err, path, "checkpoint");
    for (int which = 0; which < 2; which++) {
        err = scorr_ckpt_load_params(path, "fuzz checkpoint", &cfg[v], which, &table, params[0]);
        fuzz_check_rejection(err, path, "checkpoint");
    }
    scorr_adamw_free(&opt[0]);
    scorr_adamw_free(&opt[1]);
    free(params[0]);
    free(params[1]);
    return 0;
}
