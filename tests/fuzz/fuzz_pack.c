/* Fuzz targets of scorr_pack's annotation readers, on miniature raw layouts
 * written once per process by the pack tests' generator (tests/pack/rawgen.c);
 * each input replaces one file of the layout:
 *   spair         Layout/large/trn.txt and the JSON of its pairs: the input is
 *                 "<layout>\n##\n<json>", or only the JSON of the first pair
 *   pfpascal_csv  trn_pairs.csv
 *   pfwillow_csv  test_pairs.csv
 *   mat           Annotations/aeroplane/2007_000001.mat (used by trn_pairs.csv)
 * The readers parse annotations and register image names; images are decoded
 * later by the packer (see fuzz_image). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "pack/pack_internal.h"
#include "rawgen.h"
#include "scorr/error.h"
#include "scorr/io.h"

enum { RAW_SPAIR, RAW_PFPASCAL, RAW_PFWILLOW };

static const char *raw_root(int which)
{
    static char roots[3][4096];
    if (!roots[which][0]) {
        struct gen_raw *raw = calloc(1, sizeof *raw);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/raw%d", fuzz_tmpdir(), which);
        if (scorr_mkdirs(dir)) exit(2);
        if (which == RAW_SPAIR) gen_spair(dir, GEN_OK, raw);
        if (which == RAW_PFPASCAL) gen_pfpascal(dir, GEN_OK, raw);
        if (which == RAW_PFWILLOW) gen_pfwillow(dir, GEN_OK, raw);
        snprintf(roots[which], sizeof roots[which], "%s", raw->root);
        free(raw);
    }
    return roots[which];
}

static void ctx_free(struct pack_ctx *c, struct pack_split *s)
{
    for (int64_t i = 0; i < s->n; i++) pack_pair_free(&s->pairs[i]);
    free(s->pairs);
    pack_images_free(&c->img);
}

/* Run one benchmark reader on split `split` of the layout at root. */
static void run_reader(int which, const char *split, const char *target)
{
    struct scorr_pack_options o;
    struct pack_ctx c;
    struct pack_split s;
    scorr_pack_options_default(&o);
    o.quiet = 1;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    c.opt = &o;
    snprintf(s.name, sizeof s.name, "%s", split);
    const char *root = raw_root(which);
    int err = which == RAW_SPAIR      ? pack_setup_spair(&c, root)
              : which == RAW_PFPASCAL ? pack_setup_pfpascal(&c, root)
                                      : pack_setup_pfwillow(&c, root);
    if (err) {
        scorr_error_print(stderr, "fuzz setup");
        abort();
    }
    err = which == RAW_SPAIR      ? pack_read_spair(&c, &s)
          : which == RAW_PFPASCAL ? pack_read_pfpascal(&c, &s)
                                  : pack_read_pfwillow(&c, &s);
    fuzz_check_rejection(err, root, target);
    ctx_free(&c, &s);
}

static void put(const char *root, const char *rel, const void *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(path);
        exit(2);
    }
}

/* Replace a file of the layout for one run: *saved receives the original
 * (NULL if there was none) for restore(). */
static void replace(const char *root, const char *rel, const void *data, size_t size,
                    char **saved, size_t *saved_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    *saved = NULL;
    *saved_len = 0;
    if (access(path, F_OK) == 0 && scorr_read_file(path, saved, saved_len)) abort();
    put(root, rel, data, size);
}

static void restore(const char *root, const char *rel, char *saved, size_t saved_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (saved)
        put(root, rel, saved, saved_len);
    else
        unlink(path);
    free(saved);
}

/* A layout line usable as a file name (the reader looks the JSON up by it). */
static int safe_name(const char *s, size_t n)
{
    if (n == 0 || n > 200) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == 0 || s[i] == '\r') return 0;
    return !(n <= 2 && s[0] == '.');
}

int fuzz_spair(const uint8_t *data, size_t size)
{
    const char *root = raw_root(RAW_SPAIR);
    static const char layout_rel[] = "Layout/large/trn.txt";
    char *layout0 = NULL, rel[4][300], *saved[5];
    size_t layout0_len = 0, saved_len[5];
    const char *text = (const char *)data;
    const char *sep = memmem(text, size, "\n##\n", 4);
    const char *json = sep ? sep + 4 : text;
    size_t jlen = sep ? size - (size_t)(sep + 4 - text) : size;
    if (sep)
        replace(root, layout_rel, text, (size_t)(sep - text), &saved[4], &saved_len[4]);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, layout_rel);
    if (scorr_read_file(path, &layout0, &layout0_len)) abort();
    /* The JSON of the first lines (of the first line only when the layout is
     * the generator's, so its other pairs keep their valid annotations). */
    int nw = 0;
    for (size_t pos = 0; pos < layout0_len && nw < (sep ? 4 : 1);) {
        const char *line = layout0 + pos;
        const char *nl = memchr(line, '\n', layout0_len - pos);
        size_t len = nl ? (size_t)(nl - line) : layout0_len - pos;
        if (safe_name(line, len)) {
            snprintf(rel[nw], sizeof rel[nw], "PairAnnotation/trn/%.*s.json", (int)len, line);
            replace(root, rel[nw], json, jlen, &saved[nw], &saved_len[nw]);
            nw++;
        }
        pos += len + 1;
    }
    free(layout0);
    run_reader(RAW_SPAIR, "trn", "spair");
    while (nw-- > 0) restore(root, rel[nw], saved[nw], saved_len[nw]);
    if (sep) restore(root, layout_rel, saved[4], saved_len[4]);
    return 0;
}

int fuzz_pfpascal_csv(const uint8_t *data, size_t size)
{
    char *saved;
    size_t n;
    replace(raw_root(RAW_PFPASCAL), "trn_pairs.csv", data, size, &saved, &n);
    run_reader(RAW_PFPASCAL, "trn", "pfpascal_csv");
    restore(raw_root(RAW_PFPASCAL), "trn_pairs.csv", saved, n);
    return 0;
}

int fuzz_pfwillow_csv(const uint8_t *data, size_t size)
{
    char *saved;
    size_t n;
    replace(raw_root(RAW_PFWILLOW), "test_pairs.csv", data, size, &saved, &n);
    run_reader(RAW_PFWILLOW, "test", "pfwillow_csv");
    restore(raw_root(RAW_PFWILLOW), "test_pairs.csv", saved, n);
    return 0;
}

int fuzz_mat(const uint8_t *data, size_t size)
{
    static const char rel[] = "Annotations/aeroplane/2007_000001.mat";
    char *saved;
    size_t n;
    replace(raw_root(RAW_PFPASCAL), rel, data, size, &saved, &n);
    run_reader(RAW_PFPASCAL, "trn", "mat");
    restore(raw_root(RAW_PFPASCAL), rel, saved, n);
    return 0;
}
