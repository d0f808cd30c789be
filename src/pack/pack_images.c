/* The image stage of a pack: decode + antialiased resize on OpenMP tasks, in
 * batches; the calling (master) thread writes each batch to HDF5 (not
 * thread-safe) while the next one is decoded. Memory: two batches of S x S
 * images plus one decoded original per thread. Rows are assigned in image
 * order, so the output does not depend on the thread count. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "pack_internal.h"
#include "scorr/dataset.h"
#include "scorr/error.h"
#include "scorr/image.h"
#include "scorr/log.h"

struct slot {
    int err;
    int w, h;
    char msg[1024];
};

static void decode_one(const struct pack_ctx *c, int64_t id, int S, uint8_t *out,
                       struct slot *sl)
{
    char path[4096];
    struct scorr_image im = {0};
    sl->w = sl->h = 0;
    sl->err = pack_path(c, path, sizeof path, c->img.names[id]);
    if (!sl->err) sl->err = scorr_image_load(path, &im);
    if (!sl->err) {
        sl->w = im.width;
        sl->h = im.height;
        if (im.width == S && im.height == S)
            memcpy(out, im.pixels, (size_t)S * S * 3);
        else
            sl->err = scorr_resize_u8(out, S, S, im.pixels, im.width, im.height, 3);
    }
    if (sl->err) snprintf(sl->msg, sizeof sl->msg, "%s", scorr_error_message());
    scorr_image_free(&im);
}

/* Write one decoded batch (rows assigned in image order). Runs on the master
 * thread only, so HDF5 calls and the thread-local error state stay on it. */
static int write_batch(struct pack_ctx *c, struct scorr_ds_writer *w, int64_t base, int nb,
                       const uint8_t *buf, const struct slot *slots, int64_t *next_row)
{
    int err = 0;
    struct pack_images *im = &c->img;
    const size_t isz = (size_t)c->opt->image_size * c->opt->image_size * 3;
    for (int i = 0; i < nb; i++) {
        int64_t id = base + i;
        const struct slot *sl = &slots[i];
        if (sl->err) {
            if (!c->opt->skip_bad) {
                scorr_error_set(sl->err, __FILE__, __LINE__, __func__, "%s", sl->msg);
                scorr_error_hint("--skip-bad drops the pairs that use a bad image, with a "
                                 "warning for each");
                err = sl->err;
                goto done;
            }
            scorr_warn("image '%s' is unusable, the pairs using it will be skipped: %s",
                       im->names[id], sl->msg);
            im->row[id] = -1;
            im->err[id] = strdup(sl->msg);
            c->skipped_images++;
            continue;
        }
        im->orig[2 * id] = sl->w;
        im->orig[2 * id + 1] = sl->h;
        im->row[id] = *next_row;
        SCORR_TRY(scorr_ds_writer_put_image(w, *next_row, buf + (size_t)i * isz, sl->w, sl->h,
                                            im->names[id], NULL));
        (*next_row)++;
    }
done:
    return err;
}

int pack_images_write(struct pack_ctx *c, struct scorr_ds_writer *w, int64_t *written)
{
    int err = 0;
    struct pack_images *im = &c->img;
    const int S = c->opt->image_size;
    const int T = c->opt->threads > 0 ? c->opt->threads : omp_get_max_threads();
    /* Two buffers of 4 images per thread (at least 8): one is decoded by the
     * worker tasks while the master thread writes the other. */
    int B = 4 * T;
    if (B < 8) B = 8;
    if (B > 64) B = 64;
    const size_t isz = (size_t)S * S * 3;
    uint8_t *buf = NULL;
    struct slot *slots = NULL;
    int64_t N = im->n, next_row = 0, step = N / 10 > 0 ? N / 10 : 1, next_report = step;
    double t0 = scorr_now();
    *written = 0;
    buf = malloc(2 * (size_t)B * isz);
    slots = calloc(2 * (size_t)B, sizeof *slots);
    im->orig = calloc((size_t)(N ? N : 1) * 2, sizeof *im->orig);
    im->row = malloc((size_t)(N ? N : 1) * sizeof *im->row);
    im->err = calloc((size_t)(N ? N : 1), sizeof *im->err);
    SCORR_REQUIRE(buf && slots && im->orig && im->row && im->err, SCORR_ENOMEM,
                  "out of memory for 2 batches of %d images of %dx%d", B, S, S);
    if (!c->opt->quiet)
        scorr_info("scorr_pack: decoding and resizing %lld images to %dx%d on %d thread%s",
                   (long long)N, S, S, T, T == 1 ? "" : "s");
    /* The master thread spawns the decode tasks of batch k, writes batch k-1
     * meanwhile, then helps with batch k's tasks (taskwait). The other
     * threads run tasks from the region's barrier. */
#pragma omp parallel num_threads(T)
#pragma omp master
    {
        int64_t prev_base = 0;
        int prev_nb = 0, k = 0;
        for (int64_t base = 0; base < N && !err; base += B, k++) {
            int nb = (int)(N - base < B ? N - base : B);
            uint8_t *bb = buf + (size_t)(k % 2) * B * isz;
            struct slot *ss = slots + (size_t)(k % 2) * B;
            for (int i = 0; i < nb; i++) {
#pragma omp task firstprivate(i, base, bb, ss)
                decode_one(c, base + i, S, bb + (size_t)i * isz, &ss[i]);
            }
            if (prev_nb)
                err = write_batch(c, w, prev_base, prev_nb,
                                  buf + (size_t)((k + 1) % 2) * B * isz,
                                  slots + (size_t)((k + 1) % 2) * B, &next_row);
#pragma omp taskwait
            prev_base = base;
            prev_nb = nb;
            int64_t done_n = base + nb;
            if (!err && !c->opt->quiet && (done_n >= next_report || done_n == N)) {
                scorr_info("scorr_pack: images %lld/%lld (%d%%), %.1f s", (long long)done_n,
                           (long long)N, (int)(100 * done_n / N), scorr_now() - t0);
                while (next_report <= done_n) next_report += step;
            }
        }
        if (!err && prev_nb)
            err = write_batch(c, w, prev_base, prev_nb, buf + (size_t)((k + 1) % 2) * B * isz,
                              slots + (size_t)((k + 1) % 2) * B, &next_row);
    }
    if (err) {
        scorr_error_trace(__FILE__, __LINE__, __func__);
        goto done;
    }
    *written = next_row;
done:
    free(buf);
    free(slots);
    return err;
}
