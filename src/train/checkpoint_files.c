/* The checkpoint files of a run: <output>/checkpoints/step_<08d>.h5.
 * Saving, finding the latest valid one, pruning old ones. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "scorr/checkpoint.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"

#define CKPT_DIR "checkpoints"

struct step_file {
    int64_t step;
    char name[256];
};

/* "step_<at least 8 digits>.h5" -> step; -1 for any other name. */
static int64_t parse_step_name(const char *name)
{
    if (strncmp(name, "step_", 5)) return -1;
    const char *p = name + 5;
    int64_t step = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) step = step * 10 + (*p++ - '0'), digits++;
    if (digits < 8 || strcmp(p, ".h5")) return -1;
    return step;
}

/* "<anything>.h5.tmp.<pid>" -> pid; -1 otherwise. */
static long parse_tmp_pid(const char *name)
{
    const char *t = strstr(name, ".h5.tmp.");
    if (!t) return -1;
    char *end;
    long pid = strtol(t + 8, &end, 10);
    return (*end || pid <= 0) ? -1 : pid;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = ((const struct step_file *)a)->step, y = ((const struct step_file *)b)->step;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The step files of dir, newest first. *files: caller frees. A missing
 * folder is an empty list. */
static int list_steps(const char *dir, struct step_file **files, int *n)
{
    int err = 0, cap = 0;
    DIR *d = NULL;
    *files = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d) {
        SCORR_REQUIRE(errno == ENOENT, SCORR_EIO, "cannot list checkpoint folder '%s': %s", dir,
                      strerror(errno));
        goto done;
    }
    for (struct dirent *e; (e = readdir(d));) {
        int64_t step = parse_step_name(e->d_name);
        if (step < 0) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct step_file *f = realloc(*files, (size_t)cap * sizeof *f);
            SCORR_REQUIRE(f, SCORR_ENOMEM, "out of memory listing '%s'", dir);
            *files = f;
        }
        (*files)[*n].step = step;
        snprintf((*files)[*n].name, sizeof(*files)[*n].name, "%s", e->d_name);
        (*n)++;
    }
    if (*n) qsort(*files, (size_t)*n, sizeof **files, cmp_desc);
done:
    if (d) closedir(d);
    if (err) {
        free(*files);
        *files = NULL;
        *n = 0;
    }
    return err;
}

/* A step file is usable when it opens, is a checkpoint, and its step
 * attribute matches its name. On failure *why holds the reason. */
static int usable(const char *path, int64_t step, char *why, size_t n)
{
    struct scorr_ckpt_meta meta;
    if (scorr_ckpt_inspect(path, &meta, NULL, NULL, NULL)) {
        snprintf(why, n, "%s", scorr_error_message());
        scorr_error_clear();
        return 0;
    }
    if (meta.step != step) {
        snprintf(why, n, "its step attribute is %lld, its name says %lld", (long long)meta.step,
                 (long long)step);
        return 0;
    }
    return 1;
}

int scorr_ckpt_find_latest(const char *output, char *path_out, size_t n, int *found)
{
    int err = 0;
    char dir[4096], path[4096 + 300], why[2048];
    struct step_file *files = NULL;
    int nf = 0;
    *found = 0;
    SCORR_TRY(scorr_path_join(dir, sizeof dir, output, CKPT_DIR));
    SCORR_TRY(list_steps(dir, &files, &nf));
    for (int i = 0; i < nf; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        if (usable(path, files[i].step, why, sizeof why)) {
            SCORR_REQUIRE(strlen(path) < n, SCORR_EINVAL, "path too long: '%s'", path);
            snprintf(path_out, n, "%s", path);
            *found = 1;
            break;
        }
        scorr_warn("skipping checkpoint '%s': %s", path, why);
    }
done:
    free(files);
    return err;
}

int scorr_ckpt_count(const char *output, int *n)
{
    int err = 0;
    char dir[4096];
    struct step_file *files = NULL;
    *n = 0;
    SCORR_TRY(scorr_path_join(dir, sizeof dir, output, CKPT_DIR));
    SCORR_TRY(list_steps(dir, &files, n));
done:
    free(files);
    return err;
}

/* Temporaries "*.h5.tmp.<pid>" whose writer is gone (a killed run). */
static void remove_stale_tmps(const char *dir)
{
    DIR *d = opendir(dir);
    char path[4096 + 300];
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = parse_tmp_pid(e->d_name);
        if (pid < 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* writer may be alive */
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) scorr_debug("removed stale temporary '%s'", path);
    }
    closedir(d);
}

int scorr_ckpt_prune(const char *output, int keep_last)
{
    int err = 0, valid = 0;
    char dir[4096], path[4096 + 300], why[2048];
    struct step_file *files = NULL;
    int nf = 0;
    int64_t oldest_kept = -1;
    SCORR_REQUIRE(keep_last >= 1, SCORR_EINVAL, "checkpoint.keep_last must be >= 1, found %d",
                  keep_last);
    SCORR_TRY(scorr_path_join(dir, sizeof dir, output, CKPT_DIR));
    remove_stale_tmps(dir);
    remove_stale_tmps(output);
    SCORR_TRY(list_steps(dir, &files, &nf));
    /* The newest keep_last usable files stay; so does anything newer than
     * the oldest of them (only unusable files can be). */
    for (int i = 0; i < nf && valid < keep_last; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        if (usable(path, files[i].step, why, sizeof why)) {
            valid++;
            oldest_kept = files[i].step;
        }
    }
    if (valid < keep_last) goto done; /* too few good ones: delete nothing */
    for (int i = 0; i < nf; i++) {
        if (files[i].step >= oldest_kept) continue;
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        SCORR_REQUIRE(unlink(path) == 0 || errno == ENOENT, SCORR_EIO,
                      "cannot delete old checkpoint '%s': %s", path, strerror(errno));
    }
done:
    free(files);
    return err;
}

int scorr_ckpt_save(const char *output, const struct scorr_ckpt_meta *meta,
                    const char *config_yaml, const struct scorr_ckpt_net *a,
                    const struct scorr_ckpt_net *peer, int keep_last, char *path_out)
{
    int err = 0;
    char dir[4096], path[4096 + 300];
    SCORR_TRY(scorr_path_join(dir, sizeof dir, output, CKPT_DIR));
    SCORR_TRY(scorr_mkdirs(dir));
    snprintf(path, sizeof path, "%s/step_%08lld.h5", dir, (long long)meta->step);
    SCORR_TRY(scorr_ckpt_write(path, meta, config_yaml, a, peer));
    if (path_out) {
        size_t len = strlen(path);
        SCORR_REQUIRE(len < 4096, SCORR_EINVAL, "checkpoint path too long: '%s'", path);
        memcpy(path_out, path, len + 1);
    }
    /* The new checkpoint is safe on disk; failing to delete old ones must not
     * stop training, but is reported. */
    if (scorr_ckpt_prune(output, keep_last)) {
        scorr_warn("%s", scorr_error_message());
        scorr_error_clear();
    }
done:
    return err;
}
