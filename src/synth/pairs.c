/* Pairs of the synthetic benchmark: choosing two images of one category,
 * their common keypoints, the SPair difficulty flags and the dense flow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "synth_pairs.h"

void syn_dense_flow(const struct syn_image *src, const struct syn_image *trg, float *flow)
{
    int S = trg->size;
    float hi = (float)S - 0.5f;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            float *f = flow + 2 * ((size_t)i * S + j);
            f[0] = f[1] = NAN;
            struct syn_hit h, hs;
            syn_query(trg, (float)j, (float)i, &h);
            if (h.surface != SYN_SURF_PART) continue;
            float x[2];
            syn_part_to_pixel(src, h.index, h.l, x);
            if (!(x[0] >= -0.5f && x[0] < hi && x[1] >= -0.5f && x[1] < hi)) continue;
            syn_query(src, x[0], x[1], &hs);
            if (hs.surface != SYN_SURF_PART || hs.index != h.index) continue;
            /* same semantic point: guards against a fold of the deformation */
            if (fabsf(hs.l[0] - h.l[0]) + fabsf(hs.l[1] - h.l[1]) > 1e-2f) continue;
            f[0] = x[0] - (float)j;
            f[1] = x[1] - (float)i;
        }
}

int syn_pool_size(const struct scorr_synth_config *c, int split)
{
    return c->pairs[split] > 0 ? c->images_per_category[split] : 0;
}

int64_t syn_split_first_image(const struct scorr_synth_config *c, int split)
{
    int64_t first = 0;
    for (int s = 0; s < split; s++) first += (int64_t)syn_pool_size(c, s) * c->num_categories;
    return first;
}

static int common_kps(const struct syn_image *a, const struct syn_image *b, int *ids)
{
    int n = 0;
    for (int k = 0; k < a->cat->nkps; k++)
        if (a->kp_visible[k] && b->kp_visible[k]) ids[n++] = k;
    return n;
}

int syn_pick_pair(const struct scorr_synth_config *c, int split, int64_t pair,
                  const struct syn_image *pool, struct syn_pair_choice *out)
{
    int err = 0;
    int K = c->num_categories, n = syn_pool_size(c, split);
    struct scorr_rng r;
    scorr_rng_init(&r, c->seed, SCORR_RNG_SYNTH, (uint32_t)split, (uint32_t)pair, SYN_P_PAIR);
    int cat = (int)(pair % K);
    const struct syn_image *imgs = pool + (size_t)cat * n;
    int ids[SYN_MAX_KPS], best = -1, ba = 0, bb = 1;
    for (int attempt = 0; attempt < 64; attempt++) {
        int a = (int)scorr_rng_below(&r, (uint32_t)n);
        int b = (int)scorr_rng_below(&r, (uint32_t)n - 1);
        if (b >= a) b++;
        int m = common_kps(&imgs[a], &imgs[b], ids);
        if (m > best) best = m, ba = a, bb = b;
        if (m >= 3) break;
    }
    SCORR_REQUIRE(best >= 1, SCORR_EINVAL,
                  "synth: split %d pair %lld: no two images of category '%s' share a visible "
                  "keypoint in 64 tries",
                  split, (long long)pair, imgs[0].cat->name);
    out->category = cat;
    out->src = cat * n + ba;
    out->trg = cat * n + bb;
    out->num_kps = common_kps(&imgs[ba], &imgs[bb], out->kps_ids);
    /* training pairs: a random subset, kept in canonical order */
    if (split == 0 && out->num_kps > c->kps_per_pair) {
        struct scorr_rng rk;
        scorr_rng_init(&rk, c->seed, SCORR_RNG_SYNTH, (uint32_t)split, (uint32_t)pair, SYN_P_KPS);
        int32_t perm[SYN_MAX_KPS];
        scorr_rng_permutation(&rk, perm, out->num_kps);
        uint8_t keep[SYN_MAX_KPS] = {0};
        for (int i = 0; i < c->kps_per_pair; i++) keep[perm[i]] = 1;
        int m = 0;
        for (int i = 0; i < out->num_kps; i++)
            if (keep[i]) out->kps_ids[m++] = out->kps_ids[i];
        out->num_kps = m;
    }
done:
    return err;
}

static float wrap_deg(float a)
{
    a = fmodf(a, 360.0f);
    if (a > 180.0f) a -= 360.0f;
    if (a < -180.0f) a += 360.0f;
    return fabsf(a);
}

float syn_viewpoint_score(const struct syn_view *a, const struct syn_view *b)
{
    return wrap_deg((a->rot - b->rot) * 57.2957795f) / 45.0f +
           (a->mirror != b->mirror ? 0.75f : 0.0f) + fabsf(a->aniso - b->aniso) / 0.5f +
           fabsf(a->shear - b->shear) / 0.4f +
           (fabsf(a->pv[0] - b->pv[0]) + fabsf(a->pv[1] - b->pv[1])) / 0.25f;
}

int syn_truncated(const struct syn_image *im)
{
    const float *b = im->full_box;
    float lo = -0.5f - 1.0f, hi = (float)im->size - 0.5f + 1.0f;
    return b[0] < lo || b[1] < lo || b[2] > hi || b[3] > hi;
}

int syn_occluded(const struct syn_render_stats *st)
{
    return st->object_px > 0 && (double)st->occluded_px > 0.05 * (double)st->object_px;
}

void syn_difficulty(const struct syn_image *s, const struct syn_image *t,
                    const struct syn_render_stats *ss, const struct syn_render_stats *ts,
                    int8_t out[4])
{
    const struct syn_view *a = &s->view, *b = &t->view;
    float score = syn_viewpoint_score(a, b);
    out[0] = (int8_t)(score < SYN_VIEW_T1 ? 0 : score < SYN_VIEW_T2 ? 1 : 2);
    float ea = sqrtf(fmaxf(1.0f, (s->full_box[2] - s->full_box[0]) * (s->full_box[3] - s->full_box[1])));
    float eb = sqrtf(fmaxf(1.0f, (t->full_box[2] - t->full_box[0]) * (t->full_box[3] - t->full_box[1])));
    float ratio = ea > eb ? ea / eb : eb / ea;
    out[1] = (int8_t)(ratio < 1.3f ? 0 : ratio < 1.8f ? 1 : 2);
    out[2] = (int8_t)(syn_truncated(s) + 2 * syn_truncated(t));
    out[3] = (int8_t)(syn_occluded(ss) + 2 * syn_occluded(ts));
}

void syn_object_box(const struct syn_image *im, float box[4])
{
    /* Amodal extent (parts hidden by occluders included), clipped to the image. */
    float hi = (float)im->size - 1.0f;
    for (int i = 0; i < 4; i++) box[i] = fminf(hi, fmaxf(0.0f, im->full_box[i]));
    if (box[2] < box[0] + 1.0f) box[2] = fminf(hi, box[0] + 1.0f), box[0] = box[2] - 1.0f;
    if (box[3] < box[1] + 1.0f) box[3] = fminf(hi, box[1] + 1.0f), box[1] = box[3] - 1.0f;
}

void scorr_synth_pair_free(struct scorr_synth_pair *p)
{
    free(p->src_pixels);
    free(p->trg_pixels);
    free(p->src_fg);
    free(p->trg_fg);
    free(p->src_kps);
    free(p->trg_kps);
    free(p->kps_ids);
    free(p->dense_flow);
    memset(p, 0, sizeof *p);
}

int scorr_synth_make_pair(const struct scorr_synth_config *c, int split, int64_t pair,
                          int canonical_colours, struct scorr_synth_pair *out)
{
    int err = 0;
    struct syn_image *pool = NULL;
    memset(out, 0, sizeof *out);
    SCORR_TRY(scorr_synth_check(c));
    SCORR_REQUIRE(split >= 0 && split < SCORR_SYNTH_SPLITS && pair >= 0 && pair < c->pairs[split],
                  SCORR_EINVAL, "synth: no pair %lld in split %d (it has %lld)", (long long)pair,
                  split, (long long)(split >= 0 && split < 3 ? c->pairs[split] : 0));
    int n = syn_pool_size(c, split), S = c->size;
    int cat = (int)(pair % c->num_categories);
    /* Only this category's pool is needed; the others stay unsampled. */
    pool = calloc((size_t)n * c->num_categories, sizeof *pool);
    SCORR_REQUIRE(pool, SCORR_ENOMEM, "synth: out of memory for the image pool");
    for (int i = 0; i < n; i++)
        syn_sample_image(&pool[(size_t)cat * n + i], c, split, (int64_t)cat * n + i, cat);
    struct syn_pair_choice ch;
    SCORR_TRY(syn_pick_pair(c, split, pair, pool, &ch));
    struct syn_image *si = &pool[ch.src], *ti = &pool[ch.trg];
    si->canonical_colours = ti->canonical_colours = canonical_colours;
    size_t np = (size_t)S * S;
    out->size = S, out->category = ch.category, out->split = split, out->pair = pair;
    out->src_image = syn_split_first_image(c, split) + ch.src;
    out->trg_image = syn_split_first_image(c, split) + ch.trg;
    out->src_pixels = malloc(3 * np), out->trg_pixels = malloc(3 * np);
    out->src_fg = malloc(np), out->trg_fg = malloc(np);
    out->src_kps = malloc(sizeof(float) * 2 * SYN_MAX_KPS);
    out->trg_kps = malloc(sizeof(float) * 2 * SYN_MAX_KPS);
    out->kps_ids = malloc(sizeof(int32_t) * SYN_MAX_KPS);
    out->dense_flow = malloc(sizeof(float) * 2 * np);
    SCORR_REQUIRE(out->src_pixels && out->trg_pixels && out->src_fg && out->trg_fg &&
                      out->src_kps && out->trg_kps && out->kps_ids && out->dense_flow,
                  SCORR_ENOMEM, "synth: out of memory for a %dx%d pair", S, S);
    struct syn_render_stats ss, ts;
    syn_render(si, out->src_pixels, out->src_fg, &ss);
    syn_render(ti, out->trg_pixels, out->trg_fg, &ts);
    out->num_kps = ch.num_kps;
    for (int i = 0; i < ch.num_kps; i++) {
        int k = ch.kps_ids[i];
        out->kps_ids[i] = k;
        out->src_kps[2 * i] = si->kps[k][0], out->src_kps[2 * i + 1] = si->kps[k][1];
        out->trg_kps[2 * i] = ti->kps[k][0], out->trg_kps[2 * i + 1] = ti->kps[k][1];
    }
    syn_object_box(si, out->src_bbox);
    syn_object_box(ti, out->trg_bbox);
    syn_difficulty(si, ti, &ss, &ts, out->difficulty);
    syn_dense_flow(si, ti, out->dense_flow);
done:
    free(pool);
    if (err) scorr_synth_pair_free(out);
    return err;
}
