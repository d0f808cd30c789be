/* Writes the seed corpora of the fuzz targets into <out>/<target>/ from the
 * project's own inputs: the example experiments and sweeps, the miniature
 * raw layouts of the pack tests (tests/pack/rawgen.c: SPair JSON and layout,
 * PF-PASCAL CSVs and .mat files, PF-WILLOW CSV, JPEG and PNG images), small
 * HDF5 fixtures, and the valid files the HDF5 generators write for an empty
 * input. tests/fuzz/corpus is this program's output, committed.
 *   fuzz_make_seeds <source dir> <out dir> */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "rawgen.h"
#include "scorr/image.h"
#include "scorr/io.h"

static const char *g_out;
static const char *g_bench;

static void put(const char *target, const char *name, const char *data, size_t len)
{
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/%s", g_out, target);
    if (scorr_mkdirs(dir)) exit(1);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void copy(const char *target, const char *name, const char *src)
{
    char *data = NULL;
    size_t len = 0;
    if (scorr_read_file(src, &data, &len)) {
        fprintf(stderr, "cannot read %s\n", src);
        exit(1);
    }
    put(target, name, data, len);
    free(data);
}

static int ends(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* One file of a raw layout -> the corpus it seeds. */
static int visit(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    if (flag != FTW_F) return 0;
    const char *base = p + f->base;
    char name[512];
    snprintf(name, sizeof name, "%s_%s", g_bench, base);
    if (ends(p, ".jpg") || ends(p, ".png"))
        return 0; /* small images are written below: decoding speed is fuzzing speed */
    else if (ends(p, ".mat"))
        copy("mat", name, p);
    else if (ends(p, "_pairs.csv"))
        copy(!strcmp(g_bench, "pfwillow") ? "pfwillow_csv" : "pfpascal_csv", name, p);
    else if (ends(p, ".json") && strstr(p, "/trn/")) {
        /* JSON alone (it becomes the first trn pair's annotation) and the
         * "<layout line>\n##\n<json>" form. */
        char *data = NULL, *both = NULL;
        size_t len = 0;
        if (scorr_read_file(p, &data, &len)) exit(1);
        put("spair", name, data, len);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(strlen(base) - 5), base);
        if (!strchr(line, ':')) { /* named with '-' for ':': the third '-' */
            int k = 0;
            for (char *q = line; *q; q++)
                if (*q == '-' && ++k == 3) *q = ':';
        }
        size_t n = strlen(line) + 4 + len;
        both = malloc(n + 1);
        snprintf(both, n + 1, "%s\n##\n%s", line, data);
        snprintf(name, sizeof name, "%s_layout_%s", g_bench, base);
        put("spair", name, both, n);
        free(both);
        free(data);
    }
    return 0;
}

static void seed_dir(const char *target, const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!ends(e->d_name, suffix)) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        copy(target, e->d_name, path);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <source dir> <out dir>\n", argv[0]);
        return 2;
    }
    const char *src = argv[1];
    g_out = argv[2];
    char dir[4096], tmp[4096];
    snprintf(dir, sizeof dir, "%s/experiments", src);
    seed_dir("config", dir, ".yaml");
    snprintf(dir, sizeof dir, "%s/experiments/sweeps", src);
    seed_dir("sweep", dir, ".yaml");
    static const char sweep[] =
        "name: s\nbase: base.yaml\nset:\n  train.epochs: 2\ngrid:\n  seed: [1, 2]\n"
        "cells:\n  - id: st1\n    set: {variant: st}\n    teacher: {seed: 1}\n"
        "resources: {ranks: 2, threads: 1, time: \"30:00\"}\n";
    put("sweep", "base_grid_cells.yaml", sweep, sizeof sweep - 1);

    struct gen_raw *raw = calloc(1, sizeof *raw);
    gen_tmpdir(tmp, sizeof tmp);
    g_bench = "spair";
    gen_spair(tmp, GEN_OK, raw);
    nftw(raw->root, visit, 16, FTW_PHYS);
    g_bench = "pfpascal";
    gen_pfpascal(tmp, GEN_OK, raw);
    nftw(raw->root, visit, 16, FTW_PHYS);
    g_bench = "pfwillow";
    gen_pfwillow(tmp, GEN_OK, raw);
    nftw(raw->root, visit, 16, FTW_PHYS);
    gen_rmdir(tmp);
    free(raw);

    /* Small images of every kind the writers make. */
    uint8_t px[17 * 11 * 4];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37 + (i >> 3));
    static const struct {
        const char *name;
        int png, channels, w, h;
    } ims[] = {{"rgb.jpg", 0, 3, 17, 11}, {"gray.jpg", 0, 1, 9, 16}, {"rgb.png", 1, 3, 17, 11},
               {"gray.png", 1, 1, 5, 3}, {"rgba.png", 1, 4, 8, 8}, {"one.png", 1, 3, 1, 1}};
    for (size_t i = 0; i < sizeof ims / sizeof *ims; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", fuzz_tmpdir(), ims[i].name);
        int rc = ims[i].png ? scorr_image_write_png(path, px, ims[i].w, ims[i].h, ims[i].channels)
                            : scorr_image_write_jpeg(path, px, ims[i].w, ims[i].h,
                                                     ims[i].channels, 80);
        if (rc) exit(1);
        copy("image", ims[i].name, path);
    }

    /* HDF5: an empty input is the generators' valid file; a few bytes vary it. */
    put("dataset", "valid", "", 0);
    put("checkpoint", "valid_baseline", "", 0);
    put("checkpoint", "valid_mt", "\1", 1);
    fuzz_dataset((const uint8_t *)"", 0);
    snprintf(tmp, sizeof tmp, "%s/dataset.h5", fuzz_tmpdir());
    copy("h5raw", "generated_dataset.h5", tmp);
    snprintf(dir, sizeof dir, "%s/tests/fixtures/sparse_flow.h5", src);
    copy("h5raw", "fixture_sparse_flow.h5", dir);
    return 0;
}
