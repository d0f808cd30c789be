/* Helpers of the fuzz targets (fuzz_common.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "scorr/error.h"

static char g_dir[4096];
static pid_t g_owner;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    remove(p);
    return 0;
}

static void cleanup(void)
{
    if (g_dir[0] && getpid() == g_owner) nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
    if (!g_dir[0]) {
        const char *base = getenv("TMPDIR");
        if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(g_dir, sizeof g_dir, "%s/scorr_fuzz_XXXXXX", base);
        if (!mkdtemp(g_dir)) {
            fprintf(stderr, "fuzz: cannot make a temporary folder in %s: %s\n", base,
                    strerror(errno));
            exit(2);
        }
        g_owner = getpid();
        atexit(cleanup);
    }
    return g_dir;
}

static void mkparents(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
}

void fuzz_write(const char *rel, const void *data, size_t size, char *path)
{
    snprintf(path, 4096, "%.2000s/%.2000s", fuzz_tmpdir(), rel);
    mkparents(path);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

void fuzz_check_rejection(int err, const char *must_name, const char *target)
{
    if (!err) return;
    const char *msg = scorr_error_message();
    const char *why = NULL;
    if (err < 0 || err > 64)
        why = "the status is not a scorr error code";
    else if (!msg[0])
        why = "the error has no message";
    else if (!strcmp(msg, "unspecified failure"))
        why = "a callee failed without saying why";
    else if (must_name && !strstr(msg, must_name))
        why = "the message does not name the file";
    if (why) {
        fprintf(stderr, "fuzz %s: unclear rejection (%s): status %d, message '%s'\n", target,
                why, err, msg);
        abort();
    }
    scorr_error_clear();
}

unsigned fuzz_u8(struct fuzz_bytes *b) { return b->i < b->n ? b->p[b->i++] : 0; }

uint32_t fuzz_u32(struct fuzz_bytes *b)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) v |= (uint32_t)fuzz_u8(b) << (8 * k);
    return v;
}

int fuzz_chance(struct fuzz_bytes *b, unsigned k) { return b->i < b->n && fuzz_u8(b) < k; }
