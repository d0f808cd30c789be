/* The scorr_match program end to end (argv[1]) on a tiny random checkpoint
 * and two images written here (a PNG and a JPEG of different sizes): the
 * HDF5 and .flo flows have the target's original size and are finite, the
 * picture decodes at the expected size, --points prints one line per point
 * (agreeing with the .flo flow at integer pixels), --size runs the network
 * at another size; usage and input errors give exit 2 / 1 with messages
 * naming the culprit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "eval_ckpt.h"
#include "eval_testutil.h"
#include "scorr/h5.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/match.h"

static const char *g_bin;
static char g_dir[4096], g_log[4200];
static char *g_out, *g_err;

static int run(const char *args)
{
    return scorr_run_capture("", g_bin, args, g_log, &g_out, &g_err);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    g_bin = argv[1];
    snprintf(g_dir, sizeof g_dir, "%s/tests/match_cli_%d", SCORR_BINARY_DIR, (int)getpid());
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    CHECK_OK(scorr_mkdirs(g_dir));
    char data[4400], ck[4400], srcp[4400], trgp[4400], h5[4400], flo[4400], png[4400];
    char args[32768];
    snprintf(data, sizeof data, "%s/s.h5", g_dir);
    snprintf(ck, sizeof ck, "%s/best.h5", g_dir);
    snprintf(srcp, sizeof srcp, "%s/src.png", g_dir);
    snprintf(trgp, sizeof trgp, "%s/trg.jpg", g_dir);
    snprintf(h5, sizeof h5, "%s/flow.h5", g_dir);
    snprintf(flo, sizeof flo, "%s/flow.flo", g_dir);
    snprintf(png, sizeof png, "%s/m.png", g_dir);
    CHECK_OK(evt_make_synth(data, 2, 4));
    CHECK_OK(evt_write_ckpt(ck, "baseline", 64, 0, 0, data));
    /* two real-looking images from the synthetic file, resized to 90x70 and 80x60 */
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(data, &ds));
    uint8_t img[64 * 64 * 3], a[90 * 70 * 3], b[80 * 60 * 3];
    CHECK_OK(scorr_dataset_read_image(ds, 0, img));
    CHECK_OK(scorr_resize_u8(a, 90, 70, img, 64, 64, 3));
    CHECK_OK(scorr_dataset_read_image(ds, 1, img));
    CHECK_OK(scorr_resize_u8(b, 80, 60, img, 64, 64, 3));
    scorr_dataset_close(ds);
    CHECK_OK(scorr_image_write_png(srcp, a, 90, 70, 3));
    CHECK_OK(scorr_image_write_jpeg(trgp, b, 80, 60, 3, 90));

    /* usage */
    CHECK(run("--help") == 0 && strstr(g_out, "usage: scorr_match"), "--help");
    CHECK(run("a b") == 2, "two arguments");
    CHECK(run("a b c --bogus") == 2 && strstr(g_err, "unknown option '--bogus'"), "bad option");
    CHECK(run("a b c --grid 0") == 2 && strstr(g_err, "--grid"), "grid 0: %s", g_err);

    /* 1. HDF5 flow and picture */
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-flow '%s' --out-png '%s'", ck, srcp, trgp, h5,
             png);
    CHECK(run(args) == 0, "match failed: %s", g_err);
    struct scorr_h5 f;
    memset(&f, 0, sizeof f);
    CHECK_OK(scorr_h5_open(&f, h5));
    int ndim = 0;
    int64_t dims[8] = {0};
    CHECK_OK(scorr_h5_shape(&f, "/flow", &ndim, dims));
    CHECK(ndim == 3 && dims[0] == 60 && dims[1] == 80 && dims[2] == 2,
          "flow shape (%lld, %lld, %lld), expected (60, 80, 2)", (long long)dims[0],
          (long long)dims[1], (long long)dims[2]);
    float *fl = malloc(sizeof(float) * 60 * 80 * 2);
    int64_t shape[3] = {60, 80, 2};
    CHECK_OK(scorr_h5_read(&f, "/flow", SCORR_F32, 3, shape, fl));
    int finite = 1, inside = 1;
    for (int y = 0; y < 60; y++)
        for (int x = 0; x < 80; x++) {
            float u = fl[2 * (y * 80 + x)], v = fl[2 * (y * 80 + x) + 1];
            finite &= isfinite(u) && isfinite(v);
            /* soft-argmax points lie inside the source grid: within the image +- 1 cell */
            inside &= x + u > -3 && x + u < 93 && y + v > -3 && y + v < 73;
        }
    CHECK(finite && inside, "flow values finite (%d) and pointing into the source (%d)", finite,
          inside);
    scorr_h5_close(&f);
    struct scorr_image pic = {0};
    CHECK_OK(scorr_image_load(png, &pic));
    /* height 256 (small images are enlarged): source 90x70 -> 329 wide, target
     * 80x60 -> 341 wide, 8 apart */
    CHECK(pic.width == 329 + 8 + 341 && pic.height == 256, "picture %d x %d", pic.width,
          pic.height);
    scorr_image_free(&pic);

    /* 2. .flo with points: the printed points agree with the flow at those pixels */
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-flow '%s' --points '10,20;79,59'", ck, srcp,
             trgp, flo);
    CHECK(run(args) == 0, "match .flo failed: %s", g_err);
    float *fo = NULL;
    int w = 0, h = 0;
    CHECK_OK(scorr_flo_read(flo, &fo, &w, &h));
    CHECK(w == 80 && h == 60, ".flo %d x %d", w, h);
    CHECK(fo && !memcmp(fo, fl, sizeof(float) * 80 * 60 * 2), ".flo equals the HDF5 flow");
    float sx = 0, sy = 0;
    const char *line = strstr(g_out, "target (10.00, 20.00) -> source (");
    CHECK(line && sscanf(line, "target (10.00, 20.00) -> source (%f, %f)", &sx, &sy) == 2,
          "printed match:\n%s", g_out);
    if (fo)
        CHECK(fabsf(sx - (10 + fo[2 * (20 * 80 + 10)])) < 0.01f &&
                  fabsf(sy - (20 + fo[2 * (20 * 80 + 10) + 1])) < 0.01f,
              "printed (%g, %g) vs flow", sx, sy);
    CHECK(strstr(g_out, "target (79.00, 59.00)"), "second point printed");
    free(fo);
    free(fl);

    /* 3. another network input size */
    snprintf(args, sizeof args, "'%s' '%s' '%s' --size 32 --points '1,1'", ck, srcp, trgp);
    CHECK(run(args) == 0 && strstr(g_out, "at 32 px"), "--size 32: %s%s", g_out, g_err);

    /* 4. errors */
    snprintf(args, sizeof args, "'%s' '%s/none.png' '%s' --out-png '%s'", ck, g_dir, trgp, png);
    CHECK(run(args) == 1 && strstr(g_err, "none.png"), "missing image: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points '1,2;x'", ck, srcp, trgp);
    CHECK(run(args) == 1 && strstr(g_err, "--points"), "bad points: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points '100,2'", ck, srcp, trgp);
    CHECK(run(args) == 1 && strstr(g_err, "outside the target"), "point outside: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-flow '%s/f.txt'", ck, srcp, trgp, g_dir);
    CHECK(run(args) == 1 && strstr(g_err, ".flo"), "bad flow extension: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s'", ck, srcp, trgp);
    CHECK(run(args) == 1 && strstr(g_err, "nothing to do"), "no output: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points 1,1", srcp, srcp, trgp);
    CHECK(run(args) == 1 && strstr(g_err, "src.png"), "image as checkpoint: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --points 1,1 --size 40", ck, srcp, trgp);
    CHECK(run(args) == 1 && strstr(g_err, "multiple of 16"), "size 40: %s", g_err);

    free(g_out);
    free(g_err);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return scorr_test_finish("test_match_cli");
}
