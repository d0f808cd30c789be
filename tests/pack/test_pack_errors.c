/* scorr_pack on broken raw layouts: each case must fail with a message naming
 * the file (and line) and what was wrong, and leave no output file and no
 * temporary behind. With skip_bad the per-pair cases must succeed, count the
 * skipped pairs and images, and pack exactly the remaining pairs (checked
 * field by field); whole-file problems must still fail. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "packcheck.h"
#include "rawgen.h"
#include "scorr/io.h"
#include "scorr/pack.h"

static char g_dir[4096];
static int g_case;

static int has(const char *needle)
{
    return strstr(scorr_error_message(), needle) != NULL;
}

typedef void (*gen_fn)(const char *, unsigned, struct gen_raw *);

/* Generate a fresh raw folder with `mut`, pack it, return the status. */
static int run_case(gen_fn gen, enum scorr_pack_benchmark b, unsigned mut, int skip_bad,
                    const char *splits, struct gen_raw *g, char *out, size_t out_n,
                    struct scorr_pack_report *rep)
{
    char sub[4096];
    if (snprintf(sub, sizeof sub, "%s/case%d", g_dir, ++g_case) >= (int)sizeof sub) exit(2);
    gen(sub, mut, g);
    if (snprintf(out, out_n, "%s/out.h5", sub) >= (int)out_n) exit(2);
    struct scorr_pack_options o;
    scorr_pack_options_default(&o);
    o.benchmark = b;
    o.raw_dir = sub;
    o.out_path = out;
    o.image_size = 32;
    o.splits = splits;
    o.skip_bad = skip_bad;
    o.threads = 2;
    o.quiet = 1;
    return scorr_pack_run(&o, rep);
}

/* A case that must fail: message contains both needles; nothing left behind. */
static void expect_failure(const char *label, gen_fn gen, enum scorr_pack_benchmark b,
                           unsigned mut, int skip_bad, const char *needle1, const char *needle2)
{
    struct gen_raw g;
    char out[4096], dir[4096];
    int rc = run_case(gen, b, mut, skip_bad, NULL, &g, out, sizeof out, NULL);
    CHECK(rc != 0, "%s: pack succeeded", label);
    CHECK(has(needle1) && has(needle2), "%s: message '%s' lacks '%s' / '%s'", label,
          scorr_error_message(), needle1, needle2);
    CHECK(!scorr_exists(out), "%s: output file left behind", label);
    if (snprintf(dir, sizeof dir, "%s/case%d", g_dir, g_case) >= (int)sizeof dir) exit(2);
    CHECK(gen_no_temporaries(dir), "%s: temporary file left behind", label);
    printf("%-28s -> %s\n", label, scorr_error_message());
    scorr_error_clear();
}

int main(void)
{
    gen_tmpdir(g_dir, sizeof g_dir);
    struct gen_raw g;
    char out[4096];

    /* ---- each bad input stops the pack ---- */
    expect_failure("spair missing image", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_MISSING_IMAGE, 0,
                   "JPEGImages/cat/2009_000011.jpg", "No such file");
    expect_failure("spair truncated jpeg", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_TRUNC_JPEG, 0,
                   "JPEGImages/tvmonitor/2010_000101.jpg", "truncated JPEG");
    /* rawgen names pair 2 "<100 + 2*7>-<src>-<trg>:cat" and keeps the colon */
    expect_failure("spair malformed json", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_BAD_JSON, 0,
                   "PairAnnotation/trn/000114-2009_000011-2009_000010:cat.json",
                   "malformed JSON at line 3, column");
    expect_failure("spair unknown category", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_BAD_CATEGORY,
                   0, "Layout/large/trn.txt:2:", "unknown category 'dragon'");
    expect_failure("spair missing annotation", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_NO_ANNOT, 0,
                   "no annotation for pair", "neither");
    expect_failure("spair missing layout", gen_spair, SCORR_PACK_SPAIR, GEN_SPAIR_NO_VAL_LAYOUT, 0,
                   "Layout/large/val.txt", "cannot open");
    expect_failure("spair missing layout, skip", gen_spair, SCORR_PACK_SPAIR,
                   GEN_SPAIR_NO_VAL_LAYOUT, 1, "Layout/large/val.txt", "cannot open");
    expect_failure("pfpascal mat without kps", gen_pfpascal, SCORR_PACK_PFPASCAL, GEN_PF_NO_KPS,
                   0, "Annotations/cat/2009_004444.mat", "variable 'kps' is missing");
    expect_failure("pfpascal column count", gen_pfpascal, SCORR_PACK_PFPASCAL, GEN_PF_BAD_COLS, 0,
                   "trn_pairs.csv:3: expected 4 columns", "found 5");
    expect_failure("pfpascal unknown class", gen_pfpascal, SCORR_PACK_PFPASCAL, GEN_PF_BAD_CLASS,
                   0, "trn_pairs.csv:2: class '21'", "1..20");
    expect_failure("pfpascal bad header, skip", gen_pfpascal, SCORR_PACK_PFPASCAL,
                   GEN_PF_BAD_HEADER, 1, "trn_pairs.csv:1: unexpected header", "src,trg,class,flip");
    expect_failure("pfwillow unknown class", gen_pfwillow, SCORR_PACK_PFWILLOW,
                   GEN_WILLOW_BAD_CLASS, 0, "test_pairs.csv:3: unknown class folder 'horse(X)'",
                   "PF-WILLOW");
    expect_failure("pfwillow column count", gen_pfwillow, SCORR_PACK_PFWILLOW,
                   GEN_WILLOW_BAD_COLS, 0, "test_pairs.csv:2: expected 42 columns", "found 41");

    /* Not a benchmark folder; an output folder that does not exist. */
    struct scorr_pack_options o;
    scorr_pack_options_default(&o);
    o.benchmark = SCORR_PACK_SPAIR;
    o.raw_dir = g_dir;
    o.out_path = out;
    o.quiet = 1;
    if (snprintf(out, sizeof out, "%s/x.h5", g_dir) >= (int)sizeof out) exit(2);
    CHECK(scorr_pack_run(&o, NULL) != 0 && has("does not look like SPair-71k") && has(g_dir),
          "non-benchmark folder: %s", scorr_error_message());
    char sub[4096];
    if (snprintf(sub, sizeof sub, "%s/wl", g_dir) >= (int)sizeof sub) exit(2);
    gen_pfwillow(sub, GEN_OK, &g);
    o.benchmark = SCORR_PACK_PFWILLOW;
    o.raw_dir = sub;
    if (snprintf(out, sizeof out, "%s/no/such/dir/x.h5", g_dir) >= (int)sizeof out) exit(2);
    CHECK(scorr_pack_run(&o, NULL) != 0 && has("no/such/dir/x.h5"), "bad output path: %s",
          scorr_error_message());
    o.image_size = 4;
    CHECK(scorr_pack_run(&o, NULL) != 0 && has("--size"), "size 4 accepted");

    /* ---- skip_bad: the same problems, each pair dropped with a warning ---- */
    struct scorr_pack_report rep;
    unsigned all_spair = GEN_SPAIR_MISSING_IMAGE | GEN_SPAIR_TRUNC_JPEG | GEN_SPAIR_BAD_JSON |
                         GEN_SPAIR_BAD_CATEGORY | GEN_SPAIR_NO_ANNOT;
    CHECK_OK(run_case(gen_spair, SCORR_PACK_SPAIR, all_spair, 1, NULL, &g, out, sizeof out, &rep));
    int bad_pairs = 0;
    for (int i = 0; i < g.npairs; i++)
        bad_pairs += g.pair[i].bad || g.bad_image[g.pair[i].src] || g.bad_image[g.pair[i].trg];
    CHECK(bad_pairs == 8, "the fixture should break 8 of 11 pairs, breaks %d", bad_pairs);
    CHECK(rep.skipped_pairs == bad_pairs && rep.skipped_images == 2,
          "spair skip: %lld pairs and %lld images skipped, expected %d and 2",
          (long long)rep.skipped_pairs, (long long)rep.skipped_images, bad_pairs);
    struct expect_file es = {"spair", "bbox", 32, gen_spair_categories, 18, gen_splits_three, 3};
    check_packed("spair --skip-bad", &g, out, &es);

    unsigned all_pf = GEN_PF_NO_KPS | GEN_PF_BAD_COLS | GEN_PF_BAD_CLASS;
    CHECK_OK(run_case(gen_pfpascal, SCORR_PACK_PFPASCAL, all_pf, 1, NULL, &g, out, sizeof out,
                      &rep));
    bad_pairs = 0;
    for (int i = 0; i < g.npairs; i++) bad_pairs += g.pair[i].bad;
    CHECK(rep.skipped_pairs == bad_pairs && bad_pairs >= 4, "pfpascal skip: %lld skipped, expected %d",
          (long long)rep.skipped_pairs, bad_pairs);
    struct expect_file ep = {"pfpascal", "img", 32, gen_pfpascal_categories, 20,
                             gen_splits_three, 3};
    check_packed("pfpascal --skip-bad", &g, out, &ep);

    CHECK_OK(run_case(gen_pfwillow, SCORR_PACK_PFWILLOW, GEN_WILLOW_BAD_CLASS | GEN_WILLOW_BAD_COLS,
                      1, NULL, &g, out, sizeof out, &rep));
    CHECK(rep.skipped_pairs == 2 && rep.num_pairs[0] == 2, "pfwillow skip: %lld skipped",
          (long long)rep.skipped_pairs);
    struct expect_file ew = {"pfwillow", "kpsbox", 32, gen_pfwillow_categories, 10,
                             gen_splits_test, 1};
    check_packed("pfwillow --skip-bad", &g, out, &ew);

    gen_rmdir(g_dir);
    return scorr_test_finish("test_pack_errors");
}
