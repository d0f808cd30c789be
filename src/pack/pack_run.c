/* scorr_pack_run: read the requested splits' annotations, write the unique
 * images, then each split's pair table with keypoints and boxes scaled by the
 * decoded image sizes, and commit. Prints the self-checks of
 * /work/shared/DATASETS.md (SPair flag histograms, PF-PASCAL train/test
 * overlap) so a pack of the real data can be compared with known numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pack_internal.h"
#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/log.h"

struct bench {
    const char *name;
    int (*setup)(struct pack_ctx *, const char *);
    int (*read)(struct pack_ctx *, struct pack_split *);
    const char *splits; /* the ones it has, also the default */
};

static const struct bench k_bench[3] = {
    {"spair", pack_setup_spair, pack_read_spair, "trn,val,test"},
    {"pfpascal", pack_setup_pfpascal, pack_read_pfpascal, "trn,val,test"},
    {"pfwillow", pack_setup_pfwillow, pack_read_pfwillow, "test"},
};

void scorr_pack_options_default(struct scorr_pack_options *o)
{
    memset(o, 0, sizeof *o);
    o->image_size = 256;
}

int scorr_pack_parse_benchmark(const char *name, enum scorr_pack_benchmark *out)
{
    int err = 0;
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, k_bench[i].name)) {
            *out = (enum scorr_pack_benchmark)i;
            goto done;
        }
    SCORR_FAIL(SCORR_EINVAL, "unknown benchmark '%s': expected spair, pfpascal or pfwillow", name);
done:
    return err;
}

const char *scorr_pack_benchmark_name(enum scorr_pack_benchmark b)
{
    return (unsigned)b < 3 ? k_bench[b].name : "?";
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

static int parse_splits(struct pack_ctx *c, const struct bench *b, const char *list)
{
    int err = 0;
    char buf[128];
    SCORR_REQUIRE(strlen(list) < sizeof buf, SCORR_EINVAL, "--splits '%s' is too long", list);
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        SCORR_REQUIRE(in_list(b->splits, tok), SCORR_EINVAL,
                      "--splits: %s has no split '%s'; it has: %s", b->name, tok, b->splits);
        for (int i = 0; i < c->nsplits; i++)
            SCORR_REQUIRE(strcmp(c->splits[i].name, tok), SCORR_EINVAL,
                          "--splits: '%s' given twice", tok);
        snprintf(c->splits[c->nsplits++].name, 16, "%s", tok);
    }
    SCORR_REQUIRE(c->nsplits > 0, SCORR_EINVAL, "--splits '%s' names no split", list);
done:
    return err;
}

static void ctx_free(struct pack_ctx *c)
{
    for (int s = 0; s < c->nsplits; s++) {
        for (int64_t i = 0; i < c->splits[s].n; i++) pack_pair_free(&c->splits[s].pairs[i]);
        free(c->splits[s].pairs);
    }
    pack_images_free(&c->img);
}

/* Scale (x, y) from a W x H original to S x S: x * S / W, y * S / H. */
static inline float scale(float v, int S, int size) { return (float)((double)v * S / size); }

static int put_split(struct pack_ctx *c, struct scorr_ds_writer *w, struct pack_split *s,
                     int64_t *out_pairs)
{
    int err = 0;
    const int S = c->opt->image_size;
    const struct pack_images *im = &c->img;
    struct scorr_split t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", s->name);
    int64_t P = 0, M = 0;
    for (int64_t i = 0; i < s->n; i++) {
        const struct pack_pair *p = &s->pairs[i];
        int bad_src = im->row[p->src] < 0, bad_trg = im->row[p->trg] < 0;
        if (bad_src || bad_trg) {
            int32_t bad = bad_src ? p->src : p->trg;
            scorr_warn("skipped %s pair '%s': image '%s' is unusable: %s", s->name, p->name,
                       im->names[bad], im->err[bad] ? im->err[bad] : "?");
            c->skipped_pairs++;
            continue;
        }
        P++;
        if (p->n > M) M = p->n;
    }
    size_t np = (size_t)(P ? P : 1), nk = np * (size_t)(M ? M : 1);
    t.num_pairs = P;
    t.max_kps = (int)M;
    t.src_image = malloc(np * sizeof(int32_t));
    t.trg_image = malloc(np * sizeof(int32_t));
    t.category = malloc(np * sizeof(int32_t));
    t.num_kps = malloc(np * sizeof(int32_t));
    t.src_kps = malloc(nk * 2 * sizeof(float));
    t.trg_kps = malloc(nk * 2 * sizeof(float));
    t.src_kps_orig = malloc(nk * 2 * sizeof(float));
    t.trg_kps_orig = malloc(nk * 2 * sizeof(float));
    t.kps_ids = malloc(nk * sizeof(int32_t));
    t.src_bbox = malloc(np * 4 * sizeof(float));
    t.trg_bbox = malloc(np * 4 * sizeof(float));
    t.src_bbox_orig = malloc(np * 4 * sizeof(float));
    t.trg_bbox_orig = malloc(np * 4 * sizeof(float));
    t.flip = malloc(np);
    t.difficulty = malloc(np * 4);
    t.pair_names = malloc(np * sizeof(char *));
    SCORR_REQUIRE(t.src_image && t.trg_image && t.category && t.num_kps && t.src_kps && t.trg_kps &&
                      t.src_kps_orig && t.trg_kps_orig && t.kps_ids && t.src_bbox && t.trg_bbox &&
                      t.src_bbox_orig && t.trg_bbox_orig && t.flip && t.difficulty && t.pair_names,
                  SCORR_ENOMEM, "out of memory building split '%s' (%lld pairs)", s->name,
                  (long long)P);
    int64_t q = 0;
    for (int64_t i = 0; i < s->n; i++) {
        const struct pack_pair *p = &s->pairs[i];
        if (im->row[p->src] < 0 || im->row[p->trg] < 0) continue;
        int sw = im->orig[2 * p->src], sh = im->orig[2 * p->src + 1];
        int tw = im->orig[2 * p->trg], th = im->orig[2 * p->trg + 1];
        t.src_image[q] = (int32_t)im->row[p->src];
        t.trg_image[q] = (int32_t)im->row[p->trg];
        t.category[q] = p->category;
        t.num_kps[q] = p->n;
        for (int64_t k = 0; k < M; k++) {
            size_t o = (size_t)(q * M + k) * 2;
            if (k < p->n) {
                const float *v = p->kps + 4 * k;
                t.src_kps_orig[o] = v[0];
                t.src_kps_orig[o + 1] = v[1];
                t.trg_kps_orig[o] = v[2];
                t.trg_kps_orig[o + 1] = v[3];
                t.src_kps[o] = scale(v[0], S, sw);
                t.src_kps[o + 1] = scale(v[1], S, sh);
                t.trg_kps[o] = scale(v[2], S, tw);
                t.trg_kps[o + 1] = scale(v[3], S, th);
                t.kps_ids[q * M + k] = p->ids[k];
            } else {
                t.src_kps_orig[o] = t.src_kps_orig[o + 1] = NAN;
                t.trg_kps_orig[o] = t.trg_kps_orig[o + 1] = NAN;
                t.src_kps[o] = t.src_kps[o + 1] = t.trg_kps[o] = t.trg_kps[o + 1] = NAN;
                t.kps_ids[q * M + k] = -1;
            }
        }
        for (int j = 0; j < 4; j++) {
            t.src_bbox_orig[4 * q + j] = p->src_box[j];
            t.trg_bbox_orig[4 * q + j] = p->trg_box[j];
            t.src_bbox[4 * q + j] = scale(p->src_box[j], S, j % 2 ? sh : sw);
            t.trg_bbox[4 * q + j] = scale(p->trg_box[j], S, j % 2 ? th : tw);
            t.difficulty[4 * q + j] = p->diff[j];
        }
        t.flip[q] = p->flip;
        t.pair_names[q] = p->name;
        q++;
    }
    SCORR_TRY(scorr_ds_writer_put_split(w, &t));
    *out_pairs = P;
done:
    t.num_pairs = 0; /* the names belong to the pairs */
    free(t.pair_names);
    t.pair_names = NULL;
    scorr_split_free(&t);
    return err;
}

/* Self-checks printed after a pack (compare with docs/packing.md). */
static void print_checks(const struct pack_ctx *c)
{
    for (int si = 0; si < c->nsplits; si++) {
        const struct pack_split *s = &c->splits[si];
        int64_t nk = 0, used = 0;
        int64_t hist[4][4] = {{0}};
        for (int64_t i = 0; i < s->n; i++) {
            const struct pack_pair *p = &s->pairs[i];
            if (c->img.row[p->src] < 0 || c->img.row[p->trg] < 0) continue;
            used++;
            nk += p->n;
            for (int f = 0; f < 4; f++)
                if (p->diff[f] >= 0 && p->diff[f] < 4) hist[f][p->diff[f]]++;
        }
        scorr_info("  %-4s %lld pairs, %.2f keypoints per pair", s->name, (long long)used,
                   used ? (double)nk / used : 0.0);
        if (!strcmp(c->source, "spair"))
            scorr_info("       flags: viewpoint [%lld, %lld, %lld], scale [%lld, %lld, %lld], "
                       "truncation [%lld, %lld, %lld, %lld], occlusion [%lld, %lld, %lld, %lld]",
                       (long long)hist[0][0], (long long)hist[0][1], (long long)hist[0][2],
                       (long long)hist[1][0], (long long)hist[1][1], (long long)hist[1][2],
                       (long long)hist[2][0], (long long)hist[2][1], (long long)hist[2][2],
                       (long long)hist[2][3], (long long)hist[3][0], (long long)hist[3][1],
                       (long long)hist[3][2], (long long)hist[3][3]);
    }
    /* PF-PASCAL: test pairs whose two images also form a training pair. */
    const struct pack_split *trn = NULL, *test = NULL;
    for (int si = 0; si < c->nsplits; si++) {
        if (!strcmp(c->splits[si].name, "trn")) trn = &c->splits[si];
        if (!strcmp(c->splits[si].name, "test")) test = &c->splits[si];
    }
    if (!strcmp(c->source, "pfpascal") && trn && test) {
        struct pack_strmap seen = {0};
        char key[32];
        int64_t overlap = 0;
        for (int64_t i = 0; i < trn->n; i++) {
            int32_t a = trn->pairs[i].src, b = trn->pairs[i].trg;
            snprintf(key, sizeof key, "%d,%d", a < b ? a : b, a < b ? b : a);
            if (pack_strmap_put(&seen, key, 1)) break;
        }
        for (int64_t i = 0; i < test->n; i++) {
            int32_t a = test->pairs[i].src, b = test->pairs[i].trg, v;
            snprintf(key, sizeof key, "%d,%d", a < b ? a : b, a < b ? b : a);
            overlap += pack_strmap_get(&seen, key, &v);
        }
        pack_strmap_free(&seen);
        scorr_info("  PF-PASCAL: %lld of %lld test pairs also occur (as an image pair) in trn; a "
                   "known property of the benchmark",
                   (long long)overlap, (long long)test->n);
    }
}

int scorr_pack_run(const struct scorr_pack_options *o, struct scorr_pack_report *rep)
{
    int err = 0;
    struct pack_ctx c;
    struct scorr_ds_writer *w = NULL;
    double t0 = scorr_now();
    memset(&c, 0, sizeof c);
    c.opt = o;
    if (rep) memset(rep, 0, sizeof *rep);
    SCORR_REQUIRE((unsigned)o->benchmark < 3, SCORR_EINVAL, "unknown benchmark %d",
                  (int)o->benchmark);
    const struct bench *b = &k_bench[o->benchmark];
    SCORR_REQUIRE(o->raw_dir && o->out_path, SCORR_EINVAL, "raw folder and output path required");
    SCORR_REQUIRE(o->image_size >= 8 && o->image_size <= 4096, SCORR_EINVAL,
                  "--size must be in 8..4096, got %d", o->image_size);
    struct stat st;
    SCORR_REQUIRE(stat(o->raw_dir, &st) == 0 && S_ISDIR(st.st_mode), SCORR_EIO,
                  "raw folder '%s' does not exist or is not a folder", o->raw_dir);
    SCORR_TRY(b->setup(&c, o->raw_dir));
    SCORR_TRY(parse_splits(&c, b, o->splits ? o->splits : b->splits));

    for (int i = 0; i < c.nsplits; i++) {
        double t1 = scorr_now();
        SCORR_TRY(b->read(&c, &c.splits[i]));
        if (!o->quiet)
            scorr_info("scorr_pack: %s %s: %lld pairs read (%.1f s)", b->name, c.splits[i].name,
                       (long long)c.splits[i].n, scorr_now() - t1);
    }
    SCORR_REQUIRE(c.img.n > 0, SCORR_EINVAL, "%s in '%s': no pair left to pack%s", b->name,
                  c.root, c.skipped_pairs ? " (every pair was skipped)" : "");

    struct scorr_dataset_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.source, sizeof meta.source, "%s", c.source);
    snprintf(meta.pck_threshold, sizeof meta.pck_threshold, "%s", c.threshold);
    meta.image_size = o->image_size;
    meta.num_categories = c.num_categories;
    meta.category_names = (char **)c.categories;
    meta.num_images = c.img.n;
    SCORR_TRY(scorr_ds_writer_open(o->out_path, &meta, &w));
    int64_t written = 0;
    SCORR_TRY(pack_images_write(&c, w, &written));
    SCORR_REQUIRE(written > 0, SCORR_EINVAL, "%s: no image could be read", b->name);
    SCORR_TRY(scorr_ds_writer_truncate_images(w, written));
    int64_t pairs[SCORR_PACK_MAX_SPLITS] = {0};
    for (int i = 0; i < c.nsplits; i++) SCORR_TRY(put_split(&c, w, &c.splits[i], &pairs[i]));
    SCORR_TRY(scorr_ds_writer_commit(w));
    w = NULL;

    if (!o->quiet) {
        scorr_info("scorr_pack: wrote '%s': %s, %lld images at %dx%d, pck_threshold %s (%.1f s)",
                   o->out_path, b->name, (long long)written, o->image_size, o->image_size,
                   c.threshold, scorr_now() - t0);
        print_checks(&c);
    }
    if (c.skipped_pairs || c.skipped_images)
        scorr_warn("--skip-bad: skipped %lld pairs and %lld images (listed above)",
                   (long long)c.skipped_pairs, (long long)c.skipped_images);
    else if (!o->quiet)
        scorr_info("scorr_pack: no pair skipped");
    if (rep) {
        rep->num_images = written;
        rep->num_splits = c.nsplits;
        for (int i = 0; i < c.nsplits; i++) {
            snprintf(rep->split_names[i], sizeof rep->split_names[i], "%s", c.splits[i].name);
            rep->num_pairs[i] = pairs[i];
        }
        rep->skipped_pairs = c.skipped_pairs;
        rep->skipped_images = c.skipped_images;
        rep->seconds = scorr_now() - t0;
    }
done:
    if (w) scorr_ds_writer_abort(w);
    ctx_free(&c);
    return err;
}
