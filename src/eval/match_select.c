/* The confident matches scorr_match draws without --points
 * (include/scorr/match.h). */
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/match.h"

void scorr_match_select_default(struct scorr_match_select *o)
{
    memset(o, 0, sizeof *o);
    o->max_matches = 40;
    o->mutual = 1;
    o->min_peak = 0.0f;
    o->spacing = -1.0f; /* S / 16 */
}

/* 1 if original target point (x, y) is on the mask's foreground. */
static int on_mask(const struct scorr_image *m, const struct scorr_match_geom *g, float x, float y)
{
    int mx = (int)((x + 0.5f) * (float)m->width / (float)g->trg_w);
    int my = (int)((y + 0.5f) * (float)m->height / (float)g->trg_h);
    if (mx < 0) mx = 0;
    if (my < 0) my = 0;
    if (mx >= m->width) mx = m->width - 1;
    if (my >= m->height) my = m->height - 1;
    const uint8_t *p = m->pixels + 3 * ((size_t)my * m->width + mx);
    return p[0] > 127 || p[1] > 127 || p[2] > 127;
}

struct cand {
    float peak;
    int pos;
};

static int by_peak(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->peak != y->peak) return x->peak < y->peak ? 1 : -1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int scorr_match_select_points(const struct scorr_match_select *o,
                               const struct scorr_match_geom *g, const float *peak,
                               const uint8_t *mutual, float *trg_pts, float *peak_out, int max,
                               int *n, int *candidates)
{
    int err = 0;
    const int G = g->G, S = g->S;
    const float cell = (float)S / (float)G;
    const float spacing = o->spacing >= 0 ? o->spacing : (float)S / 16.0f;
    int cap = o->max_matches < max ? o->max_matches : max;
    struct cand *c = malloc(sizeof *c * (size_t)G * G);
    float *kept = malloc(sizeof(float) * 2 * (size_t)(cap > 0 ? cap : 1)); /* S frame */
    int nc = 0;
    *n = 0;
    if (candidates) *candidates = 0;
    SCORR_REQUIRE(c && kept, SCORR_ENOMEM, "out of memory choosing matches");
    for (int p = 0; p < G * G; p++) {
        if (o->mutual && !mutual[p]) continue;
        if (peak[p] < o->min_peak) continue;
        /* the grid position's centre in the S frame, then original target pixels */
        float xs = ((float)(p % G) + 0.5f) * cell - 0.5f, ys = ((float)(p / G) + 0.5f) * cell - 0.5f;
        float x = xs * (float)g->trg_w / (float)S, y = ys * (float)g->trg_h / (float)S;
        if (o->mask && !on_mask(o->mask, g, x, y)) continue;
        c[nc].peak = peak[p];
        c[nc].pos = p;
        nc++;
    }
    if (candidates) *candidates = nc;
    qsort(c, (size_t)nc, sizeof *c, by_peak);
    for (int i = 0; i < nc && *n < cap; i++) {
        float xs = ((float)(c[i].pos % G) + 0.5f) * cell - 0.5f;
        float ys = ((float)(c[i].pos / G) + 0.5f) * cell - 0.5f;
        int near = 0;
        for (int k = 0; k < *n && !near; k++) {
            float dx = kept[2 * k] - xs, dy = kept[2 * k + 1] - ys;
            near = dx * dx + dy * dy < spacing * spacing;
        }
        if (near) continue;
        kept[2 * *n] = xs, kept[2 * *n + 1] = ys;
        trg_pts[2 * *n] = xs * (float)g->trg_w / (float)S;
        trg_pts[2 * *n + 1] = ys * (float)g->trg_h / (float)S;
        if (peak_out) peak_out[*n] = c[i].peak;
        (*n)++;
    }
done:
    free(c);
    free(kept);
    return err;
}
