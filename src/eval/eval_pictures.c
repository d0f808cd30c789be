/* scorr_eval --pictures: which pairs, the network on them, both pictures of
 * each and an index (include/scorr/pictures.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/loader.h"
#include "scorr/pck.h"
#include "scorr/pictures.h"
#include "scorr/strbuf.h"

struct item {
    int64_t pair;
    int flags;      /* the difficulty flags as one sortable number */
    double pck;
};

static int by_flags_pck(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->flags != y->flags) return x->flags < y->flags ? -1 : 1;
    if (x->pck != y->pck) return x->pck < y->pck ? -1 : 1;
    return (x->pair > y->pair) - (x->pair < y->pair);
}

/* Position j of the spread order over m items: 1/2, 1/4, 3/4, 1/8, 3/8, ...
 * of the list (van der Corput in base 2, j >= 1), as an index. */
static int64_t spread(int64_t j, int64_t m)
{
    double v = 0, f = 0.5;
    for (int64_t k = j; k > 0; k >>= 1, f /= 2)
        if (k & 1) v += f;
    int64_t i = (int64_t)(v * (double)m);
    return i < m ? i : m - 1;
}

int scorr_pictures_choose(const struct scorr_evaluator *ev, int mode, int a, int n,
                          int64_t *pairs, int *chosen)
{
    int err = 0;
    const struct scorr_split *s = scorr_evaluator_split(ev);
    const int64_t P = s->num_pairs;
    int K = 0;
    for (int64_t p = 0; p < P; p++)
        if (s->category[p] + 1 > K) K = s->category[p] + 1;
    struct item *it = malloc(sizeof *it * (size_t)(P ? P : 1));
    int64_t *start = calloc((size_t)K + 1, sizeof *start), *next = calloc((size_t)K + 1, sizeof *next);
    uint8_t *used = calloc((size_t)(P ? P : 1), 1);
    int got = 0;
    SCORR_REQUIRE(it && start && next && used, SCORR_ENOMEM, "out of memory choosing pairs");
    /* bucket the pairs with keypoints by category */
    int64_t m = 0;
    for (int k = 0; k < K; k++) {
        start[k] = m;
        for (int64_t p = 0; p < P; p++) {
            struct scorr_eval_pair_row r;
            if (s->category[p] != k || !scorr_evaluator_pair(ev, p, &r) || r.num_kps <= 0) continue;
            int flags = 0;
            for (int f = 0; f < SCORR_DIFFICULTY_FLAGS; f++)
                flags = flags * 8 + (s->difficulty ? s->difficulty[p * SCORR_DIFFICULTY_FLAGS + f] + 1 : 0);
            it[m].pair = p;
            it[m].flags = flags;
            it[m].pck = (double)r.correct[mode][a] / r.num_kps;
            m++;
        }
        qsort(it + start[k], (size_t)(m - start[k]), sizeof *it, by_flags_pck);
    }
    start[K] = m;
    /* round-robin over categories, each read in spread order */
    for (int progress = 1; got < n && progress;) {
        progress = 0;
        for (int k = 0; k < K && got < n; k++) {
            const int64_t cnt = start[k + 1] - start[k];
            while (next[k] < cnt) {
                int64_t i = start[k] + spread(++next[k], cnt);
                if (used[i]) continue;
                used[i] = 1;
                pairs[got++] = it[i].pair;
                progress = 1;
                break;
            }
            /* rounding can revisit a position: fill from the rest in order */
            if (next[k] >= cnt)
                for (int64_t i = start[k]; i < start[k + 1] && !progress; i++)
                    if (!used[i]) {
                        used[i] = 1;
                        pairs[got++] = it[i].pair;
                        progress = 1;
                    }
        }
    }
done:
    free(it), free(start), free(next), free(used);
    *chosen = got;
    return err;
}

/* A file-name-safe copy of s (letters, digits, '-', '.'; others '_'), at most n - 1. */
static void safe_name(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n && k < 48; s++, k++) {
        char ch = *s;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '.';
        out[k] = ok ? ch : '_';
    }
    out[k] = 0;
}

/* The alpha the pictures colour by: 0.1 when evaluated, else the middle one. */
static int picture_alpha(const struct scorr_eval_options *o)
{
    for (int a = 0; a < o->num_alphas; a++)
        if (fabsf(o->alphas[a] - 0.1f) < 1e-6f) return a;
    return o->num_alphas / 2;
}

int scorr_pictures_write(const struct scorr_pictures_run *r, int *drawn)
{
    int err = 0;
    struct scorr_loader *loader = NULL;
    struct scorr_sbuf idx = {0};
    int64_t *pairs = NULL;
    float *dense = NULL, *pred = NULL;
    uint8_t *fg = NULL;
    char *text = NULL;
    *drawn = 0;
    const struct scorr_eval_options *o = scorr_evaluator_options(r->ev);
    const struct scorr_split *s = scorr_evaluator_split(r->ev);
    const struct scorr_dataset_meta *meta = scorr_dataset_meta(r->ds);
    const int S = meta->image_size, G = o->grid, B = r->batch, ai = picture_alpha(o);
    const float alpha = o->alphas[ai];
    SCORR_REQUIRE(r->count >= 1, SCORR_EINVAL, "--pictures: expected a positive count, found %d",
                  r->count);
    pairs = malloc(sizeof *pairs * (size_t)r->count);
    pred = malloc(sizeof(float) * 2 * (size_t)(s->max_kps > 0 ? s->max_kps : 1));
    SCORR_REQUIRE(pairs && pred, SCORR_ENOMEM, "out of memory");
    int n = 0;
    SCORR_TRY(scorr_pictures_choose(r->ev, 0, ai, r->count, pairs, &n));
    SCORR_TRY(scorr_mkdirs(r->dir));
    if (s->has_dense) {
        dense = malloc(sizeof(float) * 2 * (size_t)S * S);
        fg = malloc((size_t)S * S);
        SCORR_REQUIRE(dense && fg, SCORR_ENOMEM, "out of memory");
    }
    struct scorr_loader_config lc;
    scorr_loader_config_eval(&lc, r->data, r->split, B);
    lc.stride = S / G;
    SCORR_TRY(scorr_loader_open(&lc, &loader));
    scorr_sb_printf(&idx, "file\tkind\tpair\tpair_name\tcategory\tkeypoints\tcorrect\tpck\talpha\t"
                          "epe_fg\n");
    for (int first = 0; first < n; first += B) {
        const int cnt = n - first < B ? n - first : B;
        const struct scorr_batch *b;
        SCORR_TRY(scorr_loader_load_pairs(loader, 0, pairs + first, cnt, &b));
        const float *flow = NULL;
        SCORR_TRY(r->net->forward(r->net->ctx, b, &flow));
        for (int i = 0; i < cnt; i++) {
            const int64_t p = pairs[first + i];
            const int k = first + i, nk = b->num_kps[i];
            const float *tk = b->trg_kps + (size_t)i * b->M * 2, *sk = b->src_kps + (size_t)i * b->M * 2;
            const float *fl = flow + (size_t)i * G * G * 2;
            const uint8_t *su = b->src_u8 + (size_t)i * S * S * 3, *tu = b->trg_u8 + (size_t)i * S * S * 3;
            scorr_flow_to_kps(pred, fl, G, S, tk, nk);
            const float T = scorr_pck_threshold_value(o->modes[0], sk, nk,
                                                      b->src_bbox + (size_t)i * 4, S);
            const int ok = scorr_pck_count(pred, sk, nk, alpha, T);
            const double pck = nk ? 100.0 * ok / nk : 0.0;
            const char *cat = meta->category_names && s->category[p] < meta->num_categories
                                  ? meta->category_names[s->category[p]] : "?";
            char name[64], cname[64], base[256], file[4400], wfile[4400];
            char pn[32];
            snprintf(pn, sizeof pn, "pair%lld", (long long)p);
            safe_name(s->pair_names ? s->pair_names[p] : pn, name, sizeof name);
            safe_name(cat, cname, sizeof cname);
            /* the category once (synthetic pair names end in it already) */
            size_t ln = strlen(name), lc = strlen(cname);
            const int has_cat = ln > lc && name[ln - lc - 1] == '_' && !strcmp(name + ln - lc, cname);
            snprintf(base, sizeof base, "%02d_%s%s%s_pck%.0f", k + 1, name, has_cat ? "" : "_",
                     has_cat ? "" : cname, pck);
            snprintf(file, sizeof file, "%s/%s.png", r->dir, base);
            snprintf(wfile, sizeof wfile, "%s/%s_warp.png", r->dir, base);
            struct scorr_pair_picture pp;
            SCORR_TRY(scorr_picture_pair(file, su, tu, S, tk, sk, pred, nk, alpha, T, &pp));
            const float *dn = NULL;
            const uint8_t *fm = NULL;
            if (dense) {
                SCORR_TRY(scorr_dataset_read_dense(r->ds, r->split, p, dense));
                dn = dense;
                if (meta->has_fg_mask) {
                    SCORR_TRY(scorr_dataset_read_fg_mask(r->ds, s->trg_image[p], fg));
                    fm = fg;
                }
            }
            struct scorr_warp_picture wp;
            SCORR_TRY(scorr_picture_warp(wfile, su, tu, S, fl, G, dn, fm, alpha * T, &wp));
            const char *pname = s->pair_names ? s->pair_names[p] : pn;
            scorr_sb_printf(&idx, "%s.png\tpair\t%lld\t%s\t%s\t%d\t%d\t%.2f\t%g\t\n", base,
                            (long long)p, pname, cat, pp.drawn, pp.correct, pck, (double)alpha);
            if (isfinite(wp.epe_fg))
                scorr_sb_printf(&idx, "%s_warp.png\twarp\t%lld\t%s\t%s\t%d\t%d\t%.2f\t%g\t%.3f\n",
                                base, (long long)p, pname, cat, nk, ok, pck, (double)alpha,
                                wp.epe_fg);
            else
                scorr_sb_printf(&idx, "%s_warp.png\twarp\t%lld\t%s\t%s\t%d\t%d\t%.2f\t%g\t\n", base,
                                (long long)p, pname, cat, nk, ok, pck, (double)alpha);
            (*drawn)++;
        }
    }
    SCORR_TRY(scorr_sb_finish(&idx, &text));
    char path[4400];
    SCORR_TRY(scorr_path_join(path, sizeof path, r->dir, "index.tsv"));
    SCORR_TRY(scorr_write_file_atomic(path, text, strlen(text)));
done:
    if (loader) scorr_loader_close(loader);
    scorr_sb_free(&idx);
    free(text), free(pairs), free(dense), free(fg), free(pred);
    return err;
}
