/* The scorr_pack program (path in argv[1]): exit status 0 / 1 / 2, --help,
 * usage errors, a successful pack, a failing pack (message on stderr naming
 * the file, no output file, no temporary), and --skip-bad's warnings and
 * summary on stderr. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run.h"
#include "rawgen.h"
#include "scorr/dataset.h"
#include "scorr/io.h"

static const char *g_bin;
static char g_dir[4096], g_log[4200];
static char *g_out, *g_err;

/* Run the binary with args; capture stdout and stderr; return the exit status. */
static int run(const char *args)
{
    return scorr_run_capture("", g_bin, args, g_log, &g_out, &g_err);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_pack_cli PATH/TO/scorr_pack\n");
        return 2;
    }
    g_bin = argv[1];
    gen_tmpdir(g_dir, sizeof g_dir);
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    char args[12288], out[4200], raw[4200];
    struct gen_raw g;

    /* Usage. */
    CHECK(run("--help") == 0 && strstr(g_out, "usage: scorr_pack spair|pfpascal|pfwillow") &&
              strstr(g_out, "--skip-bad"),
          "--help: %s", g_out);
    CHECK(run("") == 2 && strstr(g_err, "expected BENCHMARK RAW_DIR OUT.h5"), "no args: %s", g_err);
    CHECK(run("caltech /x /y.h5") == 2 && strstr(g_err, "unknown benchmark 'caltech'"),
          "bad benchmark: %s", g_err);
    CHECK(run("spair /x /y.h5 --size 0") == 2 && strstr(g_err, "--size"), "size 0: %s", g_err);
    CHECK(run("spair /x /y.h5 --size=abc") == 2 && strstr(g_err, "'abc'"), "size abc: %s", g_err);
    CHECK(run("spair /x /y.h5 --frobnicate") == 2 && strstr(g_err, "unknown option '--frobnicate'"),
          "unknown option: %s", g_err);
    CHECK(run("spair /x /y.h5 --threads") == 2 && strstr(g_err, "needs a value"),
          "missing value: %s", g_err);

    /* A good pack: exit 0, progress on stdout, the file exists and opens. */
    snprintf(raw, sizeof raw, "%s/willow", g_dir);
    gen_pfwillow(raw, 0, &g);
    snprintf(out, sizeof out, "%s/willow.h5", g_dir);
    snprintf(args, sizeof args, "pfwillow '%s' '%s' --size 40 --threads 2", raw, out);
    CHECK(run(args) == 0, "good pack failed: %s", g_err);
    CHECK(strstr(g_out, "images 4/4 (100%)") && strstr(g_out, "no pair skipped"),
          "progress/summary missing: %s", g_out);
    struct scorr_dataset *ds = NULL;
    CHECK_OK(scorr_dataset_open(out, &ds));
    if (ds) CHECK(scorr_dataset_meta(ds)->image_size == 40, "size not applied");
    scorr_dataset_close(ds);

    /* A bad pack: exit 1, the error names the file, nothing left behind. */
    snprintf(raw, sizeof raw, "%s/spair_bad", g_dir);
    gen_spair(raw, GEN_SPAIR_MISSING_IMAGE, &g);
    snprintf(out, sizeof out, "%s/bad.h5", g_dir);
    snprintf(args, sizeof args, "spair '%s' '%s' --size 32", raw, out);
    CHECK(run(args) == 1, "bad pack: exit status not 1");
    CHECK(strstr(g_err, "scorr_pack: error: cannot open image") &&
              strstr(g_err, "JPEGImages/cat/2009_000011.jpg") && strstr(g_err, "HINT: --skip-bad"),
          "bad pack stderr: %s", g_err);
    CHECK(!scorr_exists(out), "bad pack left '%s'", out);
    CHECK(gen_no_temporaries(g_dir), "bad pack left a temporary in %s", g_dir);

    /* --skip-bad: exit 0, one warning per skipped pair, the summary. */
    snprintf(args, sizeof args, "spair '%s' '%s' --size 32 --skip-bad --quiet", raw, out);
    CHECK(run(args) == 0, "--skip-bad pack failed: %s", g_err);
    int expect = 0;
    for (int i = 0; i < g.npairs; i++) expect += g.pair[i].src == 3 || g.pair[i].trg == 3;
    CHECK(count(g_err, "warning: skipped ") == expect, "expected %d skip warnings: %s", expect,
          g_err);
    char want[128];
    snprintf(want, sizeof want, "--skip-bad: skipped %d pairs and 1 images", expect);
    CHECK(strstr(g_err, want) != NULL, "summary '%s' missing: %s", want, g_err);
    CHECK(g_out[0] == 0, "--quiet printed: %s", g_out);
    CHECK(scorr_exists(out), "--skip-bad wrote no file");

    free(g_out);
    free(g_err);
    gen_rmdir(g_dir);
    return scorr_test_finish("test_pack_cli");
}
