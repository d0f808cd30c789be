/* Limits found by fuzzing and by hand (docs/reliability.md, "Fuzzing"):
 * deeply nested YAML is refused quickly with the file and line (libyaml's
 * scanner is quadratic in the depth: 100,000 levels took minutes); a folder
 * given as a file says so (it used to report "out of memory reading ...
 * (9223372036854775807 bytes)"); a user error prints its message without a
 * C call chain unless SCORR_TRACE is set.
 *   test_input_limits <scorr_config program> */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/sweep.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* "<prefix>[[[...]]]" with n levels, or n block-list levels ("- - - ..."). */
static char *nested(const char *prefix, int n, int block)
{
    size_t len = strlen(prefix) + 2 * (size_t)n + 2;
    char *s = malloc(len), *p = s;
    p += sprintf(p, "%s", prefix);
    for (int i = 0; i < n; i++) *p++ = block ? '-' : '[';
    if (block) { /* "- - - x": every "- " opens a list inside the last */
        p = s + strlen(prefix);
        for (int i = 0; i < n / 2; i++) {
            *p++ = '-';
            *p++ = ' ';
        }
        *p++ = 'x';
    } else {
        for (int i = 0; i < n; i++) *p++ = ']';
    }
    *p++ = '\n';
    *p = 0;
    return s;
}

static void test_deep_yaml(void)
{
    struct scorr_config *cfg = malloc(sizeof *cfg);
    for (int block = 0; block < 2; block++) {
        char *text = nested(block ? "data:\n  " : "data: ", 100000, block);
        double t0 = now();
        int err = scorr_config_parse(cfg, text, strlen(text), "deep.yaml");
        double dt = now() - t0;
        CHECK(err == SCORR_EINVAL &&
                  strstr(scorr_error_message(), block ? "deep.yaml:2:" : "deep.yaml:1:") &&
                  strstr(scorr_error_message(), "nested more than 32 levels"),
              "deep experiment file (block %d): %d '%s'", block, err, scorr_error_message());
        CHECK(dt < 2.0, "100,000 nested levels took %.2f s to refuse", dt);
        scorr_error_clear();
        free(text);
    }
    /* A depth within the limit still parses up to the schema check. */
    char *ok = nested("data: ", 10, 0);
    CHECK(scorr_config_parse(cfg, ok, strlen(ok), "ten.yaml") == SCORR_EINVAL &&
              !strstr(scorr_error_message(), "nested"),
          "10 levels: '%s'", scorr_error_message());
    scorr_error_clear();
    free(ok);
    free(cfg);

    char *sw_text = nested("name: s\ngrid:\n  seed: ", 100000, 0);
    struct scorr_sweep sw;
    memset(&sw, 0, sizeof sw);
    double t0 = now();
    int err = scorr_sweep_parse(sw_text, strlen(sw_text), "deep_sweep.yaml", "/tmp/unused", &sw);
    CHECK(err == SCORR_EINVAL && strstr(scorr_error_message(), "deep_sweep.yaml:3:") &&
              strstr(scorr_error_message(), "nested more than"),
          "deep sweep file: %d '%s'", err, scorr_error_message());
    CHECK(now() - t0 < 2.0, "deep sweep took %.2f s to refuse", now() - t0);
    scorr_error_clear();
    scorr_sweep_free(&sw);
    free(sw_text);
}

static void test_directory(void)
{
    char *data = NULL;
    size_t len = 0;
    int err = scorr_read_file("/tmp", &data, &len);
    CHECK(err == SCORR_EIO && !strcmp(scorr_error_message(), "'/tmp' is a directory, not a file"),
          "reading a folder: %d '%s'", err, scorr_error_message());
    CHECK(data == NULL, "no data for a folder");
    scorr_error_clear();
}

static void test_program(const char *bin)
{
    char log[64] = "/tmp/scorr_limits_XXXXXX", *out = NULL, *err = NULL;
    int fd = mkstemp(log);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    /* The message first, nothing after it: no "  at function (file.c:n)". */
    int rc = scorr_run_capture("env -u SCORR_TRACE", bin, "/tmp", log, &out, &err);
    CHECK(rc != 0 && !strncmp(err, "scorr_config: error: '/tmp' is a directory, not a file", 54),
          "scorr_config DIRECTORY: exit %d, stderr '%s'", rc, err);
    CHECK(!strstr(err, "  at ") && !strstr(err, "out of memory"),
          "user error prints a C call chain or a wrong reason: '%s'", err);
    rc = scorr_run_capture("env SCORR_TRACE=1", bin, "/tmp", log, &out, &err);
    CHECK(rc != 0 && !strncmp(err, "scorr_config: error: '/tmp' is a directory", 42) &&
              strstr(err, "\n  at scorr_read_file (files.c:"),
          "SCORR_TRACE=1: the call chain follows the message: '%s'", err);
    char path[128];
    snprintf(path, sizeof path, "%s.out", log);
    unlink(path);
    snprintf(path, sizeof path, "%s.err", log);
    unlink(path);
    unlink(log);
    free(out);
    free(err);
}

int main(int argc, char **argv)
{
    test_deep_yaml();
    test_directory();
    if (argc > 1) test_program(argv[1]);
    return scorr_test_finish("test_input_limits");
}
