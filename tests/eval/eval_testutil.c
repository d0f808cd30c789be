#include "eval_testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/loader.h"
#include "scorr/rng.h"
#include "scorr/synth.h"

int evt_make_synth(const char *path, int pairs, uint64_t seed)
{
    return evt_make_synth_size(path, 64, pairs, seed);
}

int evt_make_synth_size(const char *path, int size, int pairs, uint64_t seed)
{
    struct scorr_synth_config c;
    scorr_synth_defaults(&c);
    c.size = size;
    c.pairs[0] = 0, c.pairs[1] = 8, c.pairs[2] = pairs;
    c.images_per_category[0] = 2;
    c.images_per_category[1] = c.images_per_category[2] = 4;
    c.seed = seed;
    c.threads = 1;
    return scorr_synth_generate(&c, path);
}

/* Give every cell without a value (has == 0) the value of the nearest cell
 * with one (Chebyshev rings, first found in row-major order). */
static void fill_nearest(float *f, const uint8_t *has, int n)
{
    for (int r = 0; r < n; r++)
        for (int q = 0; q < n; q++) {
            if (has[r * n + q]) continue;
            int found = -1;
            for (int rad = 1; rad < n && found < 0; rad++)
                for (int y = r - rad; y <= r + rad && found < 0; y++)
                    for (int x = q - rad; x <= q + rad; x++) {
                        if (y < 0 || x < 0 || y >= n || x >= n) continue;
                        if (abs(y - r) != rad && abs(x - q) != rad) continue;
                        if (has[y * n + x]) {
                            found = y * n + x;
                            break;
                        }
                    }
            f[2 * (r * n + q)] = found >= 0 ? f[2 * found] : 0.0f;
            f[2 * (r * n + q) + 1] = found >= 0 ? f[2 * found + 1] : 0.0f;
        }
}

void evt_grid_from_dense(float *grid, const float *dense, const uint8_t *fg, int S, int G)
{
    int s = S / G;
    uint8_t *has = calloc((size_t)G * G, 1);
    for (int r = 0; r < G; r++)
        for (int q = 0; q < G; q++) {
            double sx = 0, sy = 0;
            int n = 0;
            for (int y = r * s; y < r * s + s; y++)
                for (int x = q * s; x < q * s + s; x++) {
                    const float *d = dense + 2 * ((size_t)y * S + x);
                    if (isnan(d[0]) || isnan(d[1]) || (fg && !fg[(size_t)y * S + x])) continue;
                    sx += d[0], sy += d[1];
                    n++;
                }
            float *g = grid + 2 * ((size_t)r * G + q);
            has[r * G + q] = (uint8_t)(n > 0 && 2 * n >= s * s);
            /* (mean in px) / stride: exact when s is a power of two */
            g[0] = has[r * G + q] ? (float)(sx / n) / (float)s : 0.0f;
            g[1] = has[r * G + q] ? (float)(sy / n) / (float)s : 0.0f;
        }
    fill_nearest(grid, has, G);
    free(has);
}

static int source_forward(void *ctx, const struct scorr_batch *b, const float **flow)
{
    int err = 0;
    struct evt_source *s = ctx;
    const size_t per = (size_t)s->G * s->G * 2;
    memset(s->flows, 0, per * s->B * sizeof(float));
    SCORR_REQUIRE(s->mode != 3, SCORR_EIO, "test flow source: failing on purpose (pair %lld)",
                  (long long)b->pair[0]);
    for (int i = 0; i < b->n && s->mode > 0; i++) {
        int64_t p = b->pair[i];
        SCORR_TRY(scorr_dataset_read_dense(s->ds, s->split, p, s->dense));
        SCORR_TRY(scorr_dataset_read_fg_mask(s->ds, s->table.trg_image[p], s->fg));
        float *f = s->flows + per * i;
        evt_grid_from_dense(f, s->dense, s->fg, s->S, s->G);
        if (s->mode == 2) {
            struct scorr_rng r;
            scorr_rng_init(&r, s->seed, SCORR_RNG_TEST, (uint32_t)p, 0, 0);
            for (size_t k = 0; k < per; k++) f[k] += scorr_rng_range(&r, -1.0f, 1.0f);
        }
    }
    *flow = s->flows;
done:
    return err;
}

int evt_source_init(struct evt_source *s, const char *path, const char *split, int G, int B,
                    int mode, uint32_t seed)
{
    int err = 0;
    memset(s, 0, sizeof *s);
    SCORR_TRY(scorr_dataset_open(path, &s->ds));
    s->split = split;
    s->S = scorr_dataset_meta(s->ds)->image_size;
    s->G = G, s->B = B, s->mode = mode, s->seed = seed;
    s->flows = calloc((size_t)B * G * G * 2, sizeof(float));
    s->dense = calloc((size_t)s->S * s->S * 2, sizeof(float));
    s->fg = calloc((size_t)s->S * s->S, 1);
    SCORR_REQUIRE(s->flows && s->dense && s->fg, SCORR_ENOMEM, "out of memory");
    SCORR_TRY(scorr_dataset_read_split(s->ds, split, &s->table));
done:
    return err;
}

void evt_source_free(struct evt_source *s)
{
    if (s->ds) scorr_dataset_close(s->ds);
    if (s->table.num_kps) scorr_split_free(&s->table);
    free(s->flows), free(s->dense), free(s->fg);
    memset(s, 0, sizeof *s);
}

void evt_source_bind(struct evt_source *s, struct scorr_flow_source *out)
{
    out->forward = source_forward;
    out->ctx = s;
}
