/* scorr_pack: argument parsing only; the work is scorr_pack_run (src/pack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"
#include "scorr/log.h"
#include "scorr/pack.h"

static const char *k_usage =
    "usage: scorr_pack spair|pfpascal|pfwillow RAW_DIR OUT.h5 [options]\n"
    "\n"
    "Pack a raw semantic-correspondence benchmark into one scorr dataset file\n"
    "(HDF5; schema in docs/dataset-format.md, raw layouts in docs/packing.md).\n"
    "\n"
    "  RAW_DIR            the benchmark folder (SPair-71k/, PF-PASCAL/ or PF-WILLOW/)\n"
    "                     or the folder that contains it\n"
    "  OUT.h5             output file, written atomically (temporary + rename)\n"
    "\n"
    "options:\n"
    "  --size N           packed image size S (S x S, antialiased bilinear resize\n"
    "                     like PIL); keypoints and boxes are scaled with the\n"
    "                     images (default 256)\n"
    "  --splits LIST      comma list of splits (default: spair and pfpascal\n"
    "                     trn,val,test; pfwillow test)\n"
    "  --skip-bad         drop pairs with bad annotations or unreadable images,\n"
    "                     warning for each one, instead of failing\n"
    "  --threads N        decode/resize threads (default: OMP_NUM_THREADS or all cores)\n"
    "  --quiet            no progress output (warnings and errors still print)\n"
    "  --help             this text\n"
    "\n"
    "exit status: 0 ok, 1 error (no output file is left behind), 2 usage error,\n"
    "             5 out of memory, 6 disk full\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "scorr_pack: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'scorr_pack --help' for usage)\n");
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return 1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct scorr_pack_options o;
    scorr_pack_options_default(&o);
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char key[32];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(k_usage, stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (npos == 3) return usage_error("unexpected argument '%s'", a);
            pos[npos++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        int needs_value = !strcmp(key, "--size") || !strcmp(key, "--splits") ||
                          !strcmp(key, "--threads");
        if (needs_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return usage_error("option '%s' needs a value", key);
        } else if (eq) {
            return usage_error("option '%s' takes no value", key);
        }
        if (!strcmp(key, "--size")) {
            if (parse_int(val, 8, 4096, &o.image_size))
                return usage_error("--size must be an integer in 8..4096, got '%s'", val);
        } else if (!strcmp(key, "--threads")) {
            if (parse_int(val, 1, 1024, &o.threads))
                return usage_error("--threads must be an integer in 1..1024, got '%s'", val);
        } else if (!strcmp(key, "--splits")) {
            o.splits = val;
        } else if (!strcmp(key, "--skip-bad")) {
            o.skip_bad = 1;
        } else if (!strcmp(key, "--quiet")) {
            o.quiet = 1;
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (npos != 3) return usage_error("%s", "expected BENCHMARK RAW_DIR OUT.h5");
    if (scorr_pack_parse_benchmark(pos[0], &o.benchmark))
        return usage_error("unknown benchmark '%s' (expected spair, pfpascal or pfwillow)",
                           pos[0]);
    o.raw_dir = pos[1];
    o.out_path = pos[2];
    int err = scorr_pack_run(&o, NULL);
    if (err) {
        scorr_error_print(stderr, "scorr_pack");
        return scorr_exit_status(err);
    }
    return 0;
}
