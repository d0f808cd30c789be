/* Rendering a synthetic image by inverse mapping: every sample asks the point
 * query what it shows; pixels whose 8 neighbours all show the same surface
 * take their centre sample, the others (edges) average 4x4 samples. */
#include <math.h>
#include <string.h>

#include "synth_internal.h"

static inline uint32_t hash3(uint32_t a, uint32_t b, uint32_t seed)
{
    uint32_t h = a * 0x8da6b343u ^ b * 0xd8163841u ^ seed * 0xcb1ab31fu;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

static inline float h01(uint32_t h) { return (float)(h >> 8) * (1.0f / 16777216.0f); }

static float value_noise(float x, float y, uint32_t seed)
{
    float fx = floorf(x), fy = floorf(y);
    int32_t ix = (int32_t)fx, iy = (int32_t)fy;
    float tx = x - fx, ty = y - fy;
    tx = tx * tx * (3.0f - 2.0f * tx);
    ty = ty * ty * (3.0f - 2.0f * ty);
    float a = h01(hash3((uint32_t)ix, (uint32_t)iy, seed));
    float b = h01(hash3((uint32_t)ix + 1, (uint32_t)iy, seed));
    float c = h01(hash3((uint32_t)ix, (uint32_t)iy + 1, seed));
    float d = h01(hash3((uint32_t)ix + 1, (uint32_t)iy + 1, seed));
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

static inline float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

void syn_look_eval(const struct syn_look *lk, float u, float v, float depth, float rgb[3])
{
    float tu = u * lk->scale[0], tv = v * lk->scale[1];
    float a = tu * lk->cs - tv * lk->sn, b = tu * lk->sn + tv * lk->cs;
    float f = lk->freq, t = 0.0f;
    switch (lk->tex) {
    case SYN_TEX_STRIPES:
        t = clamp01(0.5f + 2.5f * sinf(6.2831853f * f * a + lk->phase));
        break;
    case SYN_TEX_SPOTS: {
        float ca = floorf(f * a), cb = floorf(f * b);
        uint32_t h = hash3((uint32_t)(int32_t)ca, (uint32_t)(int32_t)cb, lk->hash);
        float ox = 0.25f + 0.5f * h01(h), oy = 0.25f + 0.5f * h01(h * 747796405u + 1u);
        float rad = 0.12f + 0.18f * h01(h ^ 0x5bd1e995u);
        float dx = f * a - ca - ox, dy = f * b - cb - oy;
        t = clamp01((rad - sqrtf(dx * dx + dy * dy)) * 12.0f + 0.5f);
        break;
    }
    case SYN_TEX_CHECKER:
        t = clamp01(0.5f + 3.0f * sinf(3.14159265f * f * a + lk->phase) * sinf(3.14159265f * f * b));
        break;
    case SYN_TEX_NOISE:
        t = 0.65f * value_noise(f * a, f * b, lk->hash) +
            0.35f * value_noise(2.3f * f * a, 2.3f * f * b, lk->hash ^ 0x9e3779b9u);
        t = clamp01((t - 0.5f) * 2.0f + 0.5f);
        break;
    default:
        break;
    }
    float m = t * lk->mix;
    float shade = 1.0f + lk->shade[0] * u + lk->shade[1] * v;
    shade = shade < 0.6f ? 0.6f : shade > 1.3f ? 1.3f : shade;
    float rim = 0.72f + 0.28f * clamp01(depth * 6.0f);
    for (int c = 0; c < 3; c++)
        rgb[c] = 255.0f * clamp01((lk->rgb[c] + (lk->rgb2[c] - lk->rgb[c]) * m) * shade * rim);
}

/* Colour of what a sample shows. */
static void shade_hit(const struct syn_image *im, const struct syn_hit *h, float rgb[3])
{
    if (im->canonical_colours) {
        if (h->surface == SYN_SURF_PART) {
            rgb[0] = 10.0f + 15.0f * (float)h->index;
            rgb[1] = fminf(255.0f, fmaxf(0.0f, 128.0f + 80.0f * h->sl[0]));
            rgb[2] = fminf(255.0f, fmaxf(0.0f, 128.0f + 80.0f * h->sl[1]));
        } else {
            float g = h->surface == SYN_SURF_OCCL ? 255.0f : 0.0f;
            rgb[0] = rgb[1] = rgb[2] = g;
        }
        return;
    }
    switch (h->surface) {
    case SYN_SURF_PART:
        syn_look_eval(&im->look[h->index], h->sl[0], h->sl[1], h->sdepth, rgb);
        break;
    case SYN_SURF_OCCL:
        syn_look_eval(&im->occl_look[h->index], h->sl[0] * 6.0f, h->sl[1] * 6.0f, h->sdepth, rgb);
        break;
    case SYN_SURF_DISTRACT:
        syn_look_eval(&im->distract_look[h->index], h->sl[0] * 6.0f, h->sl[1] * 6.0f, h->sdepth,
                      rgb);
        break;
    default:
        syn_look_eval(&im->bg, h->sl[0], h->sl[1], 1.0f, rgb);
        break;
    }
}

static inline uint8_t surf_id(const struct syn_hit *h)
{
    return (uint8_t)(h->surface * 32 + (h->index < 0 ? 0 : h->index));
}

static inline uint8_t to_u8(float v)
{
    long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

void syn_render(const struct syn_image *im, uint8_t *pixels, uint8_t *fg,
                struct syn_render_stats *st)
{
    int S = im->size;
    memset(st, 0, sizeof *st);
    /* Pass 1: pixel centres; the surface id goes into fg temporarily (high bits). */
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            struct syn_hit h;
            float rgb[3];
            syn_query(im, (float)j, (float)i, &h);
            shade_hit(im, &h, rgb);
            size_t p = (size_t)i * S + j;
            for (int c = 0; c < 3; c++) pixels[3 * p + c] = to_u8(rgb[c]);
            fg[p] = surf_id(&h);
            if (h.part >= 0) {
                st->object_px++;
                if (h.surface == SYN_SURF_OCCL) st->occluded_px++;
                if (h.surface == SYN_SURF_PART) st->visible_px++;
            }
        }
    /* Pass 2: supersample pixels on a surface boundary. A pixel is decided
     * from the pass-1 ids of its row above (kept in `prev`), so the ids can be
     * overwritten by the final mask row by row. */
    uint8_t prev_row[4096], cur_row[4096];
    int have_prev = 0;
    for (int i = 0; i < S; i++) {
        memcpy(cur_row, fg + (size_t)i * S, (size_t)S);
        const uint8_t *next = i + 1 < S ? fg + (size_t)(i + 1) * S : NULL;
        for (int j = 0; j < S; j++) {
            uint8_t id = cur_row[j];
            int edge = 0;
            for (int dj = -1; dj <= 1 && !edge; dj++) {
                int jj = j + dj;
                if (jj < 0 || jj >= S) continue;
                if (cur_row[jj] != id) edge = 1;
                if (have_prev && prev_row[jj] != id) edge = 1;
                if (next && next[jj] != id) edge = 1;
            }
            if (!edge) continue;
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++) {
                    struct syn_hit h;
                    float rgb[3];
                    syn_query(im, (float)j + ((float)sx + 0.5f) * 0.25f - 0.5f,
                              (float)i + ((float)sy + 0.5f) * 0.25f - 0.5f, &h);
                    shade_hit(im, &h, rgb);
                    acc[0] += rgb[0], acc[1] += rgb[1], acc[2] += rgb[2];
                }
            size_t p = (size_t)i * S + j;
            for (int c = 0; c < 3; c++) pixels[3 * p + c] = to_u8(acc[c] * (1.0f / 16.0f));
        }
        memcpy(prev_row, cur_row, (size_t)S);
        have_prev = 1;
        for (int j = 0; j < S; j++) fg[(size_t)i * S + j] = cur_row[j] / 32 == SYN_SURF_PART;
    }
}
