/* Private to src/pack: the in-memory pair tables a benchmark reader fills,
 * the unique image table, text/CSV helpers and the skip-or-fail rule. */
#ifndef SCORR_PACK_INTERNAL_H
#define SCORR_PACK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "scorr/pack.h"

/* A string -> int32 map (open addressing), for image paths and annotation
 * caches. Keys are copied. */
struct pack_strmap {
    char **keys;
    int32_t *vals;
    size_t cap, n;
};
int pack_strmap_get(const struct pack_strmap *m, const char *key, int32_t *val); /* 1 if found */
int pack_strmap_put(struct pack_strmap *m, const char *key, int32_t val);
void pack_strmap_free(struct pack_strmap *m);

/* One pair in original pixel coordinates. kps: (n, 4) = src x, src y, trg x,
 * trg y; ids: (n). Owned by the split. */
struct pack_pair {
    int32_t src, trg;        /* rows of the image table */
    int32_t category;
    int32_t n;
    float *kps;
    int32_t *ids;
    float src_box[4], trg_box[4]; /* (x1, y1, x2, y2), original pixels */
    uint8_t flip;
    int8_t diff[4];
    char *name;
};

struct pack_split {
    char name[16];
    struct pack_pair *pairs;
    int64_t n, cap;
};

/* The unique images, in order of first use. row: the image's row in the file
 * (-1 when it failed under skip_bad, then err says why). */
struct pack_images {
    struct pack_strmap index;
    char **names;            /* path relative to the raw root */
    int32_t *orig;           /* (n, 2) decoded width, height */
    int64_t *row;
    char **err;
    int64_t n, cap;
};

struct pack_ctx {
    const struct scorr_pack_options *opt;
    char root[4096];
    const char *const *categories;
    int num_categories;
    const char *source, *threshold;
    struct pack_images img;
    struct pack_split splits[SCORR_PACK_MAX_SPLITS];
    int nsplits;
    int64_t skipped_pairs, skipped_images;
};

/* Register an image by its path relative to the raw root; *id is its index. */
int pack_image_id(struct pack_ctx *c, const char *rel, int32_t *id);
/* Append a pair (the split takes ownership of kps, ids, name). */
int pack_split_add(struct pack_split *s, struct pack_pair *p);
void pack_pair_free(struct pack_pair *p);
/* Free the image table (names, sizes, rows, errors, index). */
void pack_images_free(struct pack_images *img);

/* A per-pair failure (the current scorr error): under skip_bad print
 * "skipped <split> pair '<pair>': <why>", count it, clear the error and
 * return 0; otherwise return err so the caller stops. */
int pack_skip_or_fail(struct pack_ctx *c, const char *split, const char *pair, int err);

/* Join the raw root and a relative path. */
int pack_path(const struct pack_ctx *c, char *out, size_t n, const char *rel);

/* Locate a benchmark's raw root: raw_dir itself or raw_dir/<name>, whichever
 * holds `marker` (a file or folder path below the root), into c->root.
 * Otherwise fails with "'<raw_dir>' does not look like <name>: no
 * <marker_what> in it (or in '<raw_dir>/<name>')" and the hint. Local. */
int pack_find_root(struct pack_ctx *c, const char *raw_dir, const char *name, const char *marker,
                   const char *marker_what, const char *hint);

/* Text files read whole; lines numbered from 1, "\r\n" accepted, a UTF-8 BOM
 * skipped. */
struct pack_text {
    char path[4096];
    char *data;
    size_t len, pos;
    int line;
};
int pack_text_open(struct pack_text *t, const char *path);
/* Next line (NUL-terminated, in place); 0 at the end of the file. The final
 * newline does not make an extra empty line. */
int pack_text_next(struct pack_text *t, char **line, int *lineno);
void pack_text_close(struct pack_text *t);

/* Split a CSV line in place at commas (double quotes may enclose a field).
 * Returns the number of fields; at most max are stored. */
int pack_csv_split(char *line, char **fields, int max);
/* How a skipped CSV row is named in warnings: "<file name>:<line>
 * (<first two fields>)", into out (n bytes). Call it before pack_csv_split
 * cuts the line. */
void pack_csv_row_name(const char *path, int lineno, const char *line, char *out, size_t n);
/* Parse a whole string as a finite number / an integer; 0 on success. */
int pack_parse_double(const char *s, double *v);
int pack_parse_int(const char *s, long *v);

/* The benchmark readers: fill one split's pairs (registering images). */
int pack_read_spair(struct pack_ctx *c, struct pack_split *s);
int pack_read_pfpascal(struct pack_ctx *c, struct pack_split *s);
int pack_read_pfwillow(struct pack_ctx *c, struct pack_split *s);
/* Per-benchmark setup: locate the root, the categories, the threshold mode,
 * the default splits and validate a requested split. */
int pack_setup_spair(struct pack_ctx *c, const char *raw_dir);
int pack_setup_pfpascal(struct pack_ctx *c, const char *raw_dir);
int pack_setup_pfwillow(struct pack_ctx *c, const char *raw_dir);

/* Decode, resize (threads) and write every image of c->img; sets row and
 * orig. Under skip_bad a failed image gets row -1 and err; otherwise the
 * first failure is returned. *written: rows written. */
struct scorr_ds_writer;
int pack_images_write(struct pack_ctx *c, struct scorr_ds_writer *w, int64_t *written);

#endif
