/* bench_data: cost of the data path per training pair at 256 x 256 on one
 * thread: reading both images from the dataset file (HDF5 hyperslabs),
 * photometric augmentation (p = 0.2 as trained, and p = 1 as the worst case),
 * ImageNet normalisation and the sparse flow labels, for global batches of 16
 * at R = 1 and 2 (one rank's share). Uses a synthetic file it generates first.
 *   usage: bench_data [dataset.h5]   (default: generates /tmp/bench_data_<pid>.h5)
 * Run with OMP_NUM_THREADS=1 for the one-thread figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/cpu.h"
#include "scorr/error.h"
#include "scorr/loader.h"
#include "scorr/log.h"
#include "scorr/synth.h"

static int run(const char *path, int ranks, float prob, int augment, double *ms_per_pair)
{
    int err = 0;
    struct scorr_loader *l = NULL;
    struct scorr_loader_config c;
    scorr_loader_config_train(&c, path, 16, 1);
    c.num_ranks = ranks;
    c.augment = augment;
    c.aug_prob = prob;
    SCORR_TRY(scorr_loader_open(&c, &l));
    int64_t steps = scorr_loader_steps_per_epoch(l);
    const struct scorr_batch *b;
    SCORR_TRY(scorr_loader_load_step(l, 0, 0, &b)); /* warm-up: page cache, HDF5 chunk cache */
    int n = 0;
    double t0 = scorr_now();
    for (int epoch = 1; epoch <= 2; epoch++)
        for (int64_t s = 0; s < steps; s++) {
            SCORR_TRY(scorr_loader_load_step(l, epoch, s, &b));
            n += b->n;
        }
    *ms_per_pair = 1e3 * (scorr_now() - t0) / n;
done:
    scorr_loader_close(l);
    return err;
}

int main(int argc, char **argv)
{
    int err = 0;
    char tmp[256] = "";
    const char *path = argc > 1 ? argv[1] : NULL;
    if (path && (!strcmp(path, "-h") || !strcmp(path, "--help"))) {
        printf("usage: %s [dataset.h5]\n"
               "Cost of the data path per training pair (read, augmentation at p = 0.2 and 1,\n"
               "normalisation, sparse labels), global batch 16 at 1 and 2 ranks' shares.\n"
               "Without a file it generates a 256 px synthetic one in /tmp first.\n"
               "Run with OMP_NUM_THREADS=1 for the one-thread figure.\n", argv[0]);
        return 0;
    }
    if (!path) {
        struct scorr_synth_config c;
        scorr_synth_defaults(&c);
        c.size = 256;
        c.pairs[0] = 96, c.pairs[1] = 0, c.pairs[2] = 0;
        c.images_per_category[0] = 16;
        snprintf(tmp, sizeof tmp, "/tmp/bench_data_%d.h5", (int)getpid());
        scorr_log_set_level(0);
        SCORR_TRY(scorr_synth_generate(&c, tmp));
        path = tmp;
    }
    char cpu[320];
    scorr_cpu_describe(cpu, sizeof cpu);
    printf("cpu: %s\n", cpu);
    printf("bench_data: %s, global batch 16, 256x256, one rank's share, ms per pair\n", path);
    printf("%-34s %6s %6s\n", "", "R=1", "R=2");
    const struct {
        const char *name;
        int augment;
        float p;
    } cases[3] = {{"read + normalise + labels", 0, 0.0f},
                  {"  + augmentation p = 0.2 (paper)", 1, 0.2f},
                  {"  + augmentation p = 1 (all ops)", 1, 1.0f}};
    for (int i = 0; i < 3; i++) {
        double a, b;
        SCORR_TRY(run(path, 1, cases[i].p, cases[i].augment, &a));
        SCORR_TRY(run(path, 2, cases[i].p, cases[i].augment, &b));
        printf("%-34s %6.2f %6.2f\n", cases[i].name, a, b);
    }
done:
    if (tmp[0]) unlink(tmp);
    if (err) {
        scorr_error_print(stderr, "bench_data");
        return 1;
    }
    return 0;
}
