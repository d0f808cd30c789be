/* HDF5 helpers: round trips, atomic commit, and errors that name the file,
 * the dataset and expected versus found. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/error.h"
#include "scorr/h5.h"
#include "scorr/io.h"

static int msg_has(const char *needle)
{
    return strstr(scorr_error_message(), needle) != NULL;
}

int main(void)
{
    char dir[] = "/tmp/scorr_h5_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[4096];
    snprintf(path, sizeof path, "%s/a.h5", dir);

    struct scorr_h5 f;
    float data[6] = {1, 2, 3, 4, 5, 6};
    int32_t rows[4][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
    const char *names[3] = {"cat", "dog", "b\xc3\xa4r"};
    CHECK_OK(scorr_h5_create(&f, path));
    CHECK(!scorr_exists(path), "final file exists before commit");
    CHECK_OK(scorr_h5_write(&f, "/g/x", SCORR_F32, 2, (int64_t[]){2, 3}, data, 0, 0));
    CHECK_OK(scorr_h5_write(&f, "/g/rows", SCORR_I32, 2, (int64_t[]){4, 2}, rows, 2, 4));
    CHECK_OK(scorr_h5_write_strings(&f, "/names", names, 3));
    CHECK_OK(scorr_h5_set_attr_str(&f, "/", "format", "scorr-test"));
    CHECK_OK(scorr_h5_set_attr_i64(&f, "/", "version", 3));
    CHECK_OK(scorr_h5_set_attr_f64(&f, "/g", "scale", 0.25));
    CHECK_OK(scorr_h5_commit(&f));
    CHECK(scorr_exists(path), "file missing after commit");

    CHECK_OK(scorr_h5_open(&f, path));
    float back[6] = {0};
    CHECK_OK(scorr_h5_read(&f, "/g/x", SCORR_F32, 2, (int64_t[]){2, -1}, back));
    CHECK(memcmp(back, data, sizeof data) == 0, "float round trip");
    int32_t mid[2][2];
    CHECK_OK(scorr_h5_read_rows(&f, "/g/rows", SCORR_I32, 1, 2, mid));
    CHECK(mid[0][0] == 3 && mid[1][1] == 6, "row slab read %d %d", mid[0][0], mid[1][1]);
    char **s = NULL;
    int64_t ns = 0;
    CHECK_OK(scorr_h5_read_strings(&f, "/names", &s, &ns));
    CHECK(ns == 3 && strcmp(s[2], names[2]) == 0, "strings round trip");
    scorr_h5_free_strings(s, ns);
    char fmt[64];
    int64_t ver = 0;
    double sc = 0;
    CHECK_OK(scorr_h5_get_attr_str(&f, "/", "format", fmt, sizeof fmt));
    CHECK_OK(scorr_h5_get_attr_i64(&f, "/", "version", &ver));
    CHECK_OK(scorr_h5_get_attr_f64(&f, "/g", "scale", &sc));
    CHECK(strcmp(fmt, "scorr-test") == 0 && ver == 3 && sc == 0.25, "attributes");

    /* Errors name file, dataset, expected and found. */
    CHECK(scorr_h5_read(&f, "/g/x", SCORR_F32, 2, (int64_t[]){3, 3}, back) == SCORR_EFORMAT,
          "wrong shape accepted");
    CHECK(msg_has("(2, 3)") && msg_has("(3, 3)") && msg_has("/g/x") && msg_has(path),
          "shape message: %s", scorr_error_message());
    CHECK(scorr_h5_read(&f, "/g/rows", SCORR_F32, 2, (int64_t[]){4, 2}, back) == SCORR_EFORMAT,
          "int read as float accepted");
    CHECK(msg_has("int32") && msg_has("float32"), "dtype message: %s", scorr_error_message());
    CHECK(scorr_h5_read(&f, "/nope/x", SCORR_F32, 1, (int64_t[]){1}, back) == SCORR_EFORMAT,
          "missing dataset accepted");
    CHECK(msg_has("missing") && msg_has("/nope/x"), "missing message: %s", scorr_error_message());
    CHECK(scorr_h5_get_attr_i64(&f, "/", "nokey", &ver) != 0 && msg_has("nokey"),
          "missing attribute: %s", scorr_error_message());
    CHECK(scorr_h5_read_rows(&f, "/g/rows", SCORR_I32, 3, 2, mid) != 0, "rows out of range");
    scorr_h5_close(&f);

    /* A file that is not HDF5, and one that does not exist. */
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/not.h5", dir);
    CHECK_OK(scorr_write_file_atomic(bad, "hello", 5));
    CHECK(scorr_h5_open(&f, bad) == SCORR_EFORMAT && msg_has("not a readable HDF5"),
          "non-HDF5: %s", scorr_error_message());
    CHECK(scorr_h5_open(&f, "/nonexistent/x.h5") == SCORR_EIO && msg_has("does not exist"),
          "missing file: %s", scorr_error_message());

    /* An aborted writer leaves nothing behind. */
    char gone[4096];
    snprintf(gone, sizeof gone, "%s/gone.h5", dir);
    CHECK_OK(scorr_h5_create(&f, gone));
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", f.tmp);
    scorr_h5_close(&f);
    CHECK(!scorr_exists(gone) && !scorr_exists(tmp), "aborted writer left files");

    unlink(path);
    unlink(bad);
    rmdir(dir);
    return scorr_test_finish("test_core_h5");
}
