/* Replays every committed fuzz input through the same targets the fuzzers
 * run (fuzz_common.h): every file of tests/fuzz/regressions/<target>/ (inputs
 * that once crashed, aborted, hung or were rejected without a clear message)
 * and of the seed corpora tests/fuzz/corpus/<target>/. A target aborts on a broken
 * contract, so this test fails on any regression. Runs in every build.
 *   test_fuzz_regressions <tests/fuzz folder> [target] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "scorr/io.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file of dir through fn; returns the number run. */
static int replay_dir(const char *dir, fuzz_fn fn, const char *target)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *names[4096];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        char path[4096], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (scorr_read_file(path, &data, &len)) {
            fprintf(stderr, "cannot read %s\n", path);
            exit(1);
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fn((const uint8_t *)data, len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (s > 5.0) {
            fprintf(stderr, "FAIL %s: %s took %.1f s (a hang or a quadratic input)\n", target,
                    path, s);
            exit(1);
        }
        free(data);
        free(names[i]);
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <tests/fuzz folder> [target]\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int t = 0; t < fuzz_ntargets; t++) {
        if (argc > 2 && strcmp(argv[2], fuzz_targets[t].name)) continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/regressions/%s", argv[1], fuzz_targets[t].name);
        int r = replay_dir(dir, fuzz_targets[t].fn, fuzz_targets[t].name);
        snprintf(dir, sizeof dir, "%s/corpus/%s", argv[1], fuzz_targets[t].name);
        int c = replay_dir(dir, fuzz_targets[t].fn, fuzz_targets[t].name);
        printf("%-14s %3d regression inputs, %3d corpus inputs: ok\n", fuzz_targets[t].name, r,
               c);
        total += r + c;
    }
    if (total == 0) {
        fprintf(stderr, "FAIL: no inputs found under %s\n", argv[1]);
        return 1;
    }
    return 0;
}
