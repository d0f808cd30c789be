/* scorr_synth: generate the built-in synthetic benchmark (docs/synthetic-benchmark.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/synth.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: scorr_synth [options] OUT.h5\n"
            "Generate the synthetic semantic-correspondence benchmark (one HDF5 dataset file).\n"
            "  --size S                  image size in pixels (default 128)\n"
            "  --categories K            object categories, 1..%d (default 6)\n"
            "  --pairs TRN,VAL,TEST      pairs per split (default 2000,200,200)\n"
            "  --images-per-category N   image pool per category: N for trn and N/4 (at least\n"
            "                            4) for val/test, or TRN,VAL,TEST (default 100,25,25)\n"
            "  --difficulty D            easy | medium | hard (default medium)\n"
            "  --viewpoint X --scale X --clutter X --occlusion X --truncation X\n"
            "                            override one difficulty knob, 0..1.5 (hard = 1)\n"
            "  --seed N                  random seed (default 1)\n"
            "  --kps-per-pair N          keypoints kept per training pair (default 8)\n"
            "  --threads N               rendering threads (default: OMP_NUM_THREADS)\n"
            "  --contact-sheet FILE.png  also write a PNG of sample pairs with keypoints\n"
            "  --trn-dense-flow          also store the dense flow of the trn pairs (scorr_train\n"
            "                            then measures its pseudo-labels' precision; larger file)\n"
            "  --pretrain                write the image-only pretraining set instead: images of\n"
            "                            the categories a benchmark of --categories K does not\n"
            "                            use (K..%d), own random streams, splits trn and val of\n"
            "                            --images-per-category images per category, no\n"
            "                            keypoints (for variant warp; --pairs is not used)\n"
            "  --help                    this text\n",
            scorr_synth_max_categories(), scorr_synth_max_categories() - 1);
}

static int parse_i64_list(const char *opt, const char *s, int64_t *out, int n, int allow_one)
{
    int err = 0;
    char *end;
    const char *p = s;
    int i = 0;
    for (; i < n; i++) {
        errno = 0;
        long long v = strtoll(p, &end, 10);
        SCORR_REQUIRE(end != p && errno == 0 && v >= 0, SCORR_EINVAL,
                      "%s: expected %d non-negative integers separated by commas, found '%s'",
                      opt, n, s);
        out[i] = v;
        if (*end == '\0') break;
        SCORR_REQUIRE(*end == ',', SCORR_EINVAL, "%s: unexpected '%c' in '%s'", opt, *end, s);
        p = end + 1;
    }
    SCORR_REQUIRE((i == n - 1 && *end == '\0') || (allow_one && i == 0 && *end == '\0'),
                  SCORR_EINVAL, "%s: expected %d comma-separated values, found '%s'", opt, n, s);
    if (i == 0 && n > 1) out[1] = -1; /* one value given */
done:
    return err;
}

static int parse_float(const char *opt, const char *s, float *out)
{
    int err = 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    SCORR_REQUIRE(end != s && *end == '\0' && errno == 0, SCORR_EINVAL,
                  "%s: expected a number, found '%s'", opt, s);
    *out = (float)v;
done:
    return err;
}

static int parse_int(const char *opt, const char *s, int64_t *out)
{
    int err = 0;
    SCORR_TRY(parse_i64_list(opt, s, out, 1, 1));
done:
    return err;
}

int main(int argc, char **argv)
{
    int err = 0;
    struct scorr_synth_config c;
    const char *out = NULL;
    int pretrain = 0;
    scorr_synth_defaults(&c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--pretrain")) {
            pretrain = 1;
            continue;
        }
        if (a[0] != '-') {
            SCORR_REQUIRE(!out, SCORR_EINVAL, "more than one output file given ('%s', '%s')", out,
                          a);
            out = a;
            continue;
        }
        if (!strcmp(a, "--trn-dense-flow")) {
            c.trn_dense_flow = 1;
            continue;
        }
        SCORR_REQUIRE(i + 1 < argc, SCORR_EINVAL, "%s: missing value", a);
        const char *v = argv[++i];
        int64_t x[3];
        if (!strcmp(a, "--size")) {
            SCORR_TRY(parse_int(a, v, x));
            c.size = (int)(x[0] > 100000 ? 100000 : x[0]);
        } else if (!strcmp(a, "--categories")) {
            SCORR_TRY(parse_int(a, v, x));
            c.num_categories = (int)(x[0] > 1000 ? 1000 : x[0]);
        } else if (!strcmp(a, "--pairs")) {
            SCORR_TRY(parse_i64_list(a, v, x, 3, 0));
            for (int s = 0; s < 3; s++) c.pairs[s] = x[s];
        } else if (!strcmp(a, "--images-per-category")) {
            SCORR_TRY(parse_i64_list(a, v, x, 3, 1));
            for (int s = 0; s < 3; s++) x[s] = x[s] > 1000000 ? 1000001 : x[s];
            if (x[1] < 0) {
                c.images_per_category[0] = (int)x[0];
                c.images_per_category[1] = c.images_per_category[2] =
                    (int)(x[0] / 4 < 4 ? 4 : x[0] / 4);
            } else {
                for (int s = 0; s < 3; s++) c.images_per_category[s] = (int)x[s];
            }
        } else if (!strcmp(a, "--difficulty")) {
            SCORR_TRY(scorr_synth_set_difficulty(&c, v));
        } else if (!strcmp(a, "--viewpoint")) {
            SCORR_TRY(parse_float(a, v, &c.viewpoint));
        } else if (!strcmp(a, "--scale")) {
            SCORR_TRY(parse_float(a, v, &c.scale));
        } else if (!strcmp(a, "--clutter")) {
            SCORR_TRY(parse_float(a, v, &c.clutter));
        } else if (!strcmp(a, "--occlusion")) {
            SCORR_TRY(parse_float(a, v, &c.occlusion));
        } else if (!strcmp(a, "--truncation")) {
            SCORR_TRY(parse_float(a, v, &c.truncation));
        } else if (!strcmp(a, "--seed")) {
            SCORR_TRY(parse_int(a, v, x));
            c.seed = (uint64_t)x[0];
        } else if (!strcmp(a, "--kps-per-pair")) {
            SCORR_TRY(parse_int(a, v, x));
            c.kps_per_pair = (int)(x[0] > 1000 ? 1000 : x[0]);
        } else if (!strcmp(a, "--threads")) {
            SCORR_TRY(parse_int(a, v, x));
            c.threads = (int)(x[0] > 1024 ? 1024 : x[0]);
        } else if (!strcmp(a, "--contact-sheet")) {
            c.contact_sheet = v;
        } else {
            SCORR_FAIL(SCORR_EINVAL, "unknown option '%s'", a);
        }
    }
    SCORR_REQUIRE(out, SCORR_EINVAL, "no output file given");
    if (pretrain)
        SCORR_TRY(scorr_synth_generate_pretrain(&c, out));
    else
        SCORR_TRY(scorr_synth_generate(&c, out));
done:
    if (err) {
        scorr_error_print(stderr, "scorr_synth");
        if (err == SCORR_EINVAL) fprintf(stderr, "Run 'scorr_synth --help' for the options.\n");
        return scorr_exit_status(err);
    }
    return 0;
}
