/* Sampling one synthetic image: the instance (part proportions, articulation,
 * deformation, appearance), the view and the scene (background, distractors,
 * occluders), all from the counter RNG keyed by (seed, split, image, purpose). */
#include <math.h>
#include <string.h>

#include "synth_internal.h"

#define DEG (3.14159265358979f / 180.0f)

static void hsv_to_rgb(float h, float s, float v, float rgb[3])
{
    h = fmodf(h, 360.0f);
    if (h < 0) h += 360.0f;
    float c = v * s, x = c * (1.0f - fabsf(fmodf(h / 60.0f, 2.0f) - 1.0f)), m = v - c;
    float r = 0, g = 0, b = 0;
    int sec = (int)(h / 60.0f);
    switch (sec) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
    }
    rgb[0] = r + m, rgb[1] = g + m, rgb[2] = b + m;
}

static int pick_texture(struct scorr_rng *r, unsigned mask)
{
    int opts[SYN_TEX_COUNT], n = 0;
    for (int t = 0; t < SYN_TEX_COUNT; t++)
        if (mask & (1u << t)) opts[n++] = t;
    return n ? opts[scorr_rng_below(r, (uint32_t)n)] : SYN_TEX_PLAIN;
}

/* A look from a colour family; texture coordinates scale with (sx, sy). */
static void sample_look(struct scorr_rng *r, const struct syn_slot_def *sd, struct syn_look *lk)
{
    memset(lk, 0, sizeof *lk);
    float h = sd->hue + scorr_rng_range(r, -sd->dhue, sd->dhue);
    float s = scorr_rng_range(r, sd->s0, sd->s1), v = scorr_rng_range(r, sd->v0, sd->v1);
    hsv_to_rgb(h, s, v, lk->rgb);
    float dv = scorr_rng_range(r, 0.45f, 0.75f);
    int lighter = v < 0.4f;
    float h2 = h + scorr_rng_range(r, -25.0f, 25.0f);
    hsv_to_rgb(h2, s * scorr_rng_range(r, 0.6f, 1.0f),
               lighter ? fminf(1.0f, v + (1.0f - v) * (1.0f - dv)) : v * dv, lk->rgb2);
    lk->tex = pick_texture(r, sd->tex_mask);
    lk->freq = scorr_rng_range(r, 3.0f, 7.0f);
    float a = scorr_rng_range(r, 0.0f, 3.14159265f);
    lk->cs = cosf(a), lk->sn = sinf(a);
    lk->phase = scorr_rng_range(r, 0.0f, 6.2831853f);
    lk->mix = scorr_rng_range(r, 0.5f, 0.9f);
    float sa = scorr_rng_range(r, 0.0f, 6.2831853f), ss = scorr_rng_range(r, 0.1f, 0.3f);
    lk->shade[0] = ss * cosf(sa), lk->shade[1] = ss * sinf(sa);
    lk->scale[0] = lk->scale[1] = 1.0f;
    lk->hash = scorr_rng_u32(r);
}

/* A random look for scene surfaces: any colour, or (other) a category's family. */
static void sample_scene_look(struct scorr_rng *r, struct syn_look *lk, int allow_category)
{
    struct syn_slot_def sd = {0, 180, 0.1f, 0.8f, 0.2f, 0.95f, 0x1f};
    if (allow_category && scorr_rng_uniform(r) < 0.5f) {
        const struct syn_category_def *c =
            syn_category_def((int)scorr_rng_below(r, (uint32_t)syn_num_category_defs()));
        sd = c->slots[scorr_rng_below(r, 3)];
        sd.tex_mask |= 0x1f;
    }
    sample_look(r, &sd, lk);
}

static void random_shape(struct scorr_rng *r, struct syn_shape *s, float cx, float cy, float size)
{
    memset(s, 0, sizeof *s);
    s->prim = (int)scorr_rng_below(r, 4);
    float ang = scorr_rng_range(r, 0.0f, 6.2831853f);
    float sx = size, sy = size * scorr_rng_range(r, 0.3f, 1.0f);
    if (s->prim == SYN_LIMB) {
        sy = size * scorr_rng_range(r, 0.08f, 0.25f);
        s->r0 = scorr_rng_range(r, 0.5f, 1.0f);
        s->r1 = scorr_rng_range(r, 0.5f, 1.0f);
        s->ax = sy / sx;
    }
    if (s->prim == SYN_POLY) {
        s->nv = 3 + (int)scorr_rng_below(r, 4);
        for (int i = 0; i < s->nv; i++) {
            float a = 6.2831853f * ((float)i + scorr_rng_range(r, 0.1f, 0.9f)) / (float)s->nv;
            float rad = scorr_rng_range(r, 0.5f, 1.0f);
            s->vbuf[i][0] = rad * cosf(a), s->vbuf[i][1] = rad * sinf(a);
        }
        s->v = NULL; /* vertices in vbuf: no pointer into the struct, so it stays copyable */
    }
    /* place: p = R(ang) diag(sx, sy) l + c; limbs start at the centre's far side */
    float c = cosf(ang), sn = sinf(ang);
    float M[4] = {c * sx, -sn * sy, sn * sx, c * sy};
    float det = M[0] * M[3] - M[1] * M[2];
    s->a[0] = M[3] / det, s->a[1] = -M[1] / det, s->a[2] = -M[2] / det, s->a[3] = M[0] / det;
    s->t[0] = cx - (s->prim == SYN_LIMB ? 0.5f * M[0] : 0.0f);
    s->t[1] = cy - (s->prim == SYN_LIMB ? 0.5f * M[2] : 0.0f);
    float lb[4];
    syn_shape_local_box(s, lb);
    s->box[0] = s->box[1] = 1e30f, s->box[2] = s->box[3] = -1e30f;
    for (int k = 0; k < 4; k++) {
        float u = lb[(k & 1) ? 2 : 0], v = lb[(k & 2) ? 3 : 1];
        float x = M[0] * u + M[1] * v + s->t[0], y = M[2] * u + M[3] * v + s->t[1];
        s->box[0] = fminf(s->box[0], x), s->box[1] = fminf(s->box[1], y);
        s->box[2] = fmaxf(s->box[2], x), s->box[3] = fmaxf(s->box[3], y);
    }
}

static void sample_instance(struct syn_image *im, struct scorr_rng *r)
{
    const struct syn_category_def *cat = im->cat;
    float ang[SYN_MAX_PARTS];
    float aspect = expf(scorr_rng_range(r, -0.08f, 0.08f));
    for (int p = 0; p < cat->nparts; p++) {
        const struct syn_part_def *d = &cat->parts[p];
        float sx = d->size[0] * aspect * (1.0f + cat->size_var * scorr_rng_range(r, -1.0f, 1.0f));
        float sy = d->size[1] / aspect * (1.0f + cat->size_var * scorr_rng_range(r, -1.0f, 1.0f));
        float art = d->artic * scorr_rng_range(r, -1.0f, 1.0f);
        ang[p] = (d->parent >= 0 ? ang[d->parent] : 0.0f) + (d->angle + art) * DEG;
        float c = cosf(ang[p]), s = sinf(ang[p]);
        float *M = im->M[p];
        M[0] = c * sx, M[1] = -s * sy, M[2] = s * sx, M[3] = c * sy;
        float j[2] = {d->joint[0], d->joint[1]};
        if (d->parent >= 0) {
            const float *Mp = im->M[d->parent], *Tp = im->T[d->parent];
            float jx = Mp[0] * j[0] + Mp[1] * j[1] + Tp[0], jy = Mp[2] * j[0] + Mp[3] * j[1] + Tp[1];
            j[0] = jx, j[1] = jy;
        }
        im->T[p][0] = j[0] - (M[0] * d->anchor[0] + M[1] * d->anchor[1]);
        im->T[p][1] = j[1] - (M[2] * d->anchor[0] + M[3] * d->anchor[1]);
    }
    im->ndeform = SYN_MAX_DEFORM;
    im->dbound = 0.0f;
    for (int k = 0; k < im->ndeform; k++) {
        float wa = scorr_rng_range(r, 0.0f, 6.2831853f), wm = scorr_rng_range(r, 1.2f, 2.8f);
        float aa = scorr_rng_range(r, 0.0f, 6.2831853f);
        float am = cat->deform * scorr_rng_range(r, 0.4f, 1.0f);
        im->dw[k][0] = wm * cosf(wa), im->dw[k][1] = wm * sinf(wa);
        im->da[k][0] = am * cosf(aa), im->da[k][1] = am * sinf(aa);
        im->dphi[k] = scorr_rng_range(r, 0.0f, 6.2831853f);
        im->dbound += am;
    }
}

static void sample_appearance(struct syn_image *im, struct scorr_rng *r)
{
    const struct syn_category_def *cat = im->cat;
    struct syn_look slot[SYN_SLOTS];
    for (int s = 0; s < SYN_SLOTS; s++) sample_look(r, &cat->slots[s], &slot[s]);
    for (int p = 0; p < cat->nparts; p++) {
        im->look[p] = slot[cat->parts[p].slot];
        /* texture in object units of the part's own frame, so it moves with the part */
        im->look[p].scale[0] = hypotf(im->M[p][0], im->M[p][2]);
        im->look[p].scale[1] = hypotf(im->M[p][1], im->M[p][3]);
    }
}

static void sample_view(struct syn_image *im, const struct scorr_synth_config *cfg,
                        struct scorr_rng *r)
{
    struct syn_view *v = &im->view;
    float S = (float)cfg->size, kv = cfg->viewpoint, ks = cfg->scale;
    v->mirror = scorr_rng_uniform(r) < 0.5f * fminf(kv, 1.0f);
    v->rot = scorr_rng_range(r, -1.0f, 1.0f) * 60.0f * DEG * kv;
    v->aniso = scorr_rng_range(r, -1.0f, 1.0f) * 0.3f * kv;
    v->shear = scorr_rng_range(r, -1.0f, 1.0f) * 0.25f * kv;
    v->pv[0] = scorr_rng_range(r, -1.0f, 1.0f) * 0.15f * kv;
    v->pv[1] = scorr_rng_range(r, -1.0f, 1.0f) * 0.15f * kv;
    v->scale = 0.3f * S * expf(scorr_rng_range(r, -1.0f, 1.0f) * 0.5f * ks);
    v->c[0] = S * (0.5f + scorr_rng_range(r, -1.0f, 1.0f) * 0.15f * ks);
    v->c[1] = S * (0.5f + scorr_rng_range(r, -1.0f, 1.0f) * 0.15f * ks);
    float pt = scorr_rng_uniform(r), da = scorr_rng_range(r, 0.0f, 6.2831853f);
    float dm = scorr_rng_range(r, 0.15f, 0.35f);
    if (pt < 0.35f * cfg->truncation) { /* push the object across a border */
        v->c[0] += cosf(da) * dm * S;
        v->c[1] += sinf(da) * dm * S;
    }
    syn_view_finish(v);
}

/* Unclipped object extent in pixels from points on every part's outline. */
static void object_extent(struct syn_image *im)
{
    float *b = im->full_box;
    b[0] = b[1] = 1e30f, b[2] = b[3] = -1e30f;
    for (int p = 0; p < im->cat->nparts; p++) {
        const struct syn_shape *s = &im->part[p];
        float pts[40][2];
        int n = 0;
        if (s->prim == SYN_POLY) {
            for (int i = 0; i < s->nv; i++) pts[n][0] = s->v[i][0], pts[n++][1] = s->v[i][1];
        } else if (s->prim == SYN_LIMB) {
            for (int i = 0; i <= 16; i++) { /* the two end caps, half circles */
                float a = 3.14159265f * ((float)i / 16.0f - 0.5f);
                int end = i & 1;
                float r = end ? s->r1 : s->r0, x0 = end ? 1.0f : 0.0f, sg = end ? 1.0f : -1.0f;
                pts[n][0] = x0 + sg * r * s->ax * cosf(a), pts[n++][1] = r * sinf(a);
            }
        } else {
            for (int i = 0; i < 32; i++) {
                float a = 6.2831853f * (float)i / 32.0f, cs = cosf(a), sn = sinf(a);
                if (s->prim == SYN_SUPER) { /* |x|^4 + |y|^4 = 1 */
                    cs = copysignf(sqrtf(fabsf(cs)), cs);
                    sn = copysignf(sqrtf(fabsf(sn)), sn);
                }
                pts[n][0] = cs, pts[n++][1] = sn;
            }
        }
        for (int i = 0; i < n; i++) {
            float x[2];
            syn_part_to_pixel(im, p, pts[i], x);
            b[0] = fminf(b[0], x[0]), b[1] = fminf(b[1], x[1]);
            b[2] = fmaxf(b[2], x[0]), b[3] = fmaxf(b[3], x[1]);
        }
    }
}

static void sample_scene(struct syn_image *im, const struct scorr_synth_config *cfg,
                         struct scorr_rng *r)
{
    float S = (float)cfg->size, kc = cfg->clutter;
    struct syn_slot_def bgdef = {0, 180, 0.05f, 0.5f, 0.3f, 0.85f,
                                 kc > 0 ? 0x1eu : 0x1u /* textured when cluttered */};
    sample_look(r, &bgdef, &im->bg);
    im->bg.mix = fminf(0.9f, 0.15f + 0.6f * kc) * scorr_rng_range(r, 0.5f, 1.0f);
    im->bg.freq = scorr_rng_range(r, 2.0f, 8.0f);
    im->bg.scale[0] = im->bg.scale[1] = 1.0f;
    int nd = (int)floorf(scorr_rng_uniform(r) * 9.0f * kc + 0.5f);
    if (nd > SYN_MAX_SHAPES) nd = SYN_MAX_SHAPES;
    im->ndistract = nd;
    for (int k = 0; k < nd; k++) {
        float cx = scorr_rng_range(r, 0.0f, S), cy = scorr_rng_range(r, 0.0f, S);
        random_shape(r, &im->distract[k], cx, cy, S * scorr_rng_range(r, 0.05f, 0.22f));
        sample_scene_look(r, &im->distract_look[k], 1);
        im->distract_look[k].scale[0] = im->distract_look[k].scale[1] = 0.15f;
    }
}

static void sample_occluders(struct syn_image *im, const struct scorr_synth_config *cfg,
                             struct scorr_rng *r)
{
    float ko = cfg->occlusion;
    const float *b = im->full_box;
    float ext = fmaxf(b[2] - b[0], b[3] - b[1]);
    int n = 0;
    if (scorr_rng_uniform(r) < 0.6f * fminf(ko, 1.5f)) n = 1 + (scorr_rng_uniform(r) < 0.3f * ko);
    im->noccl = n;
    for (int k = 0; k < n; k++) {
        float cx = scorr_rng_range(r, b[0], b[2]), cy = scorr_rng_range(r, b[1], b[3]);
        float size = ext * scorr_rng_range(r, 0.15f, 0.3f) * (0.6f + 0.4f * fminf(ko, 1.5f));
        random_shape(r, &im->occl[k], cx, cy, size);
        sample_scene_look(r, &im->occl_look[k], 1);
        im->occl_look[k].scale[0] = im->occl_look[k].scale[1] = 0.15f;
    }
}

static void measure_keypoints(struct syn_image *im)
{
    float S = (float)im->size;
    for (int k = 0; k < im->cat->nkps; k++) {
        const struct syn_kp_def *kd = &im->cat->kps[k];
        float *x = im->kps[k];
        syn_part_to_pixel(im, kd->part, kd->at, x);
        im->kp_visible[k] = 0;
        if (!(x[0] >= 0.0f && x[0] <= S - 1.0f && x[1] >= 0.0f && x[1] <= S - 1.0f)) continue;
        struct syn_hit h;
        syn_query(im, x[0], x[1], &h);
        im->kp_visible[k] = h.surface == SYN_SURF_PART && h.index == kd->part;
    }
}

void syn_sample_image(struct syn_image *im, const struct scorr_synth_config *cfg, int split,
                      int64_t index, int category)
{
    memset(im, 0, sizeof *im);
    im->cat = syn_category_def(category);
    im->category = category;
    im->size = cfg->size;
    struct scorr_rng r;
    uint32_t b = (uint32_t)index;
    scorr_rng_init(&r, cfg->seed, SCORR_RNG_SYNTH, (uint32_t)split, b, SYN_P_SHAPE);
    sample_instance(im, &r);
    scorr_rng_init(&r, cfg->seed, SCORR_RNG_SYNTH, (uint32_t)split, b, SYN_P_LOOK);
    sample_appearance(im, &r);
    scorr_rng_init(&r, cfg->seed, SCORR_RNG_SYNTH, (uint32_t)split, b, SYN_P_VIEW);
    sample_view(im, cfg, &r);
    syn_image_place_parts(im);
    object_extent(im);
    scorr_rng_init(&r, cfg->seed, SCORR_RNG_SYNTH, (uint32_t)split, b, SYN_P_SCENE);
    sample_scene(im, cfg, &r);
    scorr_rng_init(&r, cfg->seed, SCORR_RNG_SYNTH, (uint32_t)split, b, SYN_P_OCCL);
    sample_occluders(im, cfg, &r);
    measure_keypoints(im);
}

void syn_image_measure(struct syn_image *im) { measure_keypoints(im); }
