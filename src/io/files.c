#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"

int scorr_read_file(const char *path, char **data, size_t *len)
{
    int err = 0;
    FILE *f = NULL;
    char *buf = NULL;
    *data = NULL;
    *len = 0;
    f = fopen(path, "rb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot open '%s': %s", path, strerror(errno));
    /* A directory opens for reading on Linux and "sizes" as LONG_MAX. */
    struct stat st;
    SCORR_REQUIRE(fstat(fileno(f), &st) == 0, SCORR_EIO, "cannot stat '%s': %s", path,
                  strerror(errno));
    SCORR_REQUIRE(!S_ISDIR(st.st_mode), SCORR_EIO, "'%s' is a directory, not a file", path);
    SCORR_REQUIRE(fseek(f, 0, SEEK_END) == 0, SCORR_EIO, "cannot seek '%s': %s", path,
                  strerror(errno));
    long n = ftell(f);
    SCORR_REQUIRE(n >= 0, SCORR_EIO, "cannot size '%s' (is it a directory?)", path);
    rewind(f);
    buf = malloc((size_t)n + 1);
    SCORR_REQUIRE(buf, SCORR_ENOMEM, "out of memory reading '%s' (%ld bytes)", path, n);
    SCORR_REQUIRE(fread(buf, 1, (size_t)n, f) == (size_t)n, SCORR_EIO, "short read on '%s'", path);
    buf[n] = 0;
    *data = buf;
    *len = (size_t)n;
    buf = NULL;
done:
    if (f) fclose(f);
    free(buf);
    return err;
}

void scorr_tmp_path(const char *path, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s.tmp.%ld", path, (long)getpid());
}

static int fsync_dir_of(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int scorr_commit_file(const char *tmp, const char *path)
{
    int err = 0;
    int fd = open(tmp, O_RDONLY);
    SCORR_REQUIRE(fd >= 0, SCORR_EIO, "cannot reopen '%s': %s", tmp, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    SCORR_REQUIRE(rc == 0, e == ENOSPC || e == EDQUOT ? SCORR_ENOSPC : SCORR_EIO,
                  "fsync of '%s' failed: %s%s", tmp, e == ENOSPC || e == EDQUOT ? "disk full, " : "",
                  strerror(e));
    SCORR_REQUIRE(rename(tmp, path) == 0, SCORR_EIO, "cannot rename '%s' to '%s': %s", tmp,
                  path, strerror(errno));
    fsync_dir_of(path); /* best effort: some filesystems refuse directory fsync */
done:
    if (err) unlink(tmp);
    return err;
}

int scorr_write_file_atomic(const char *path, const void *data, size_t len)
{
    int err = 0;
    char tmp[4096];
    scorr_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    SCORR_REQUIRE(f, SCORR_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    size_t w = fwrite(data, 1, len, f);
    int e = w != len ? errno : 0;
    int closed = fclose(f);
    if (!e && closed) e = errno;
    if (w != len || closed != 0) {
        unlink(tmp);
        SCORR_FAIL(e == ENOSPC || e == EDQUOT ? SCORR_ENOSPC : SCORR_EIO, "cannot write '%s': %s%s",
                   path, e == ENOSPC || e == EDQUOT ? "disk full, " : "", strerror(e));
    }
    SCORR_TRY(scorr_commit_file(tmp, path));
done:
    return err;
}

int scorr_mkdirs(const char *path)
{
    int err = 0;
    char buf[4096];
    size_t n = strlen(path);
    SCORR_REQUIRE(n > 0 && n < sizeof buf, SCORR_EINVAL, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0775) != 0 && errno != EEXIST)
            SCORR_FAIL(SCORR_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
        struct stat st;
        SCORR_REQUIRE(stat(buf, &st) == 0 && S_ISDIR(st.st_mode), SCORR_EIO,
                      "'%s' exists and is not a directory", buf);
        buf[i] = saved;
    }
done:
    return err;
}

int scorr_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int scorr_check_writable_dir(const char *dir)
{
    int err = 0;
    char probe[4096];
    SCORR_TRY(scorr_path_join(probe, sizeof probe, dir, ".scorr-write-probe"));
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    SCORR_REQUIRE(fd >= 0, SCORR_EIO, "output folder '%s' is not writable: %s", dir,
                  strerror(errno));
    close(fd);
    unlink(probe);
done:
    return err;
}

int scorr_path_join(char *out, size_t n, const char *a, const char *b)
{
    int err = 0;
    size_t la = strlen(a);
    int w = (la > 0 && a[la - 1] == '/') ? snprintf(out, n, "%s%s", a, b)
                                         : snprintf(out, n, "%s/%s", a, b);
    SCORR_REQUIRE(w >= 0 && (size_t)w < n, SCORR_EINVAL, "path too long: '%s/%s'", a, b);
done:
    return err;
}
