/* scorr_match: a trained network on two images -> dense flow and a picture
 * of the matches (docs/match.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/cli.h"
#include "scorr/error.h"
#include "scorr/eval_model.h"
#include "scorr/match.h"

#define PROG "scorr_match"

static void usage(FILE *f)
{
    fputs("usage: scorr_match CHECKPOINT SOURCE_IMAGE TARGET_IMAGE [options]\n"
          "\n"
          "Run a trained network (a step checkpoint or best.h5) on two JPEG/PNG images:\n"
          "the target -> source flow at the original target size, in pixels of the\n"
          "original source image, and a picture of the matches. CHECKPOINT may also be an\n"
          "official SCorrSAN network converted by tools/convert_torchvision.py: its model\n"
          "is read from its tensors (docs/weights.md).\n"
          "\n"
          "options:\n"
          "  --out-flow FILE     write the dense flow: FILE.h5 / .hdf5 (dataset /flow,\n"
          "                      (H, W, 2)) or FILE.flo (Middlebury)\n"
          "  --out-png FILE      write source | target side by side with a line per match\n"
          "  --points LIST       target points 'x,y;x,y;...' in original target pixels:\n"
          "                      their source points are printed (and drawn)\n"
          "  --grid N            without --points, draw an N x N grid of target points\n"
          "                      instead of the confident matches\n"
          "  --max-matches N     without --points: draw at most N confident matches (40);\n"
          "                      confident = mutual nearest neighbours, strongest\n"
          "                      soft-argmax peak first, one per S/16 pixels\n"
          "  --min-peak P        ... and only where the soft-argmax peak is >= P (0..1)\n"
          "  --all-positions     ... any grid position, not only mutual nearest neighbours\n"
          "  --mask FILE         ... and only on the target's foreground: an image whose\n"
          "                      bright pixels (a channel > 127) mark it (any size)\n"
          "  --size S            network input size, a multiple of 16 (default: the\n"
          "                      checkpoint's data.image_size)\n"
          "  --network N         0, 1 (mt step checkpoints hold both) or best (default)\n"
          "  --help              this text\n"
          "\n"
          "exit status: 0 done, 1 error, 2 usage, 5 out of memory, 6 disk full\n",
          f);
}

/* Options that take a value. */
static const char *const k_valued[] = {"--out-flow", "--out-png",     "--points",
                                       "--grid",     "--size",        "--network",
                                       "--mask",     "--max-matches", "--min-peak", NULL};

int main(int argc, char **argv)
{
    struct scorr_match_args a;
    scorr_match_args_default(&a);
    const char *pos[3];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (scorr_cli_takes_value(o, k_valued) && i + 1 >= argc) {
            fprintf(stderr, "scorr_match: %s needs a value\n", o);
            return 2;
        } else if (!strcmp(o, "--out-flow")) {
            a.out_flow = argv[++i];
        } else if (!strcmp(o, "--out-png")) {
            a.out_png = argv[++i];
        } else if (!strcmp(o, "--points")) {
            a.points = argv[++i];
        } else if (!strcmp(o, "--grid")) {
            if (scorr_cli_int(PROG, o, argv[++i], 1, 64, &a.grid)) return 2;
        } else if (!strcmp(o, "--mask")) {
            a.mask = argv[++i];
        } else if (!strcmp(o, "--max-matches")) {
            if (scorr_cli_int(PROG, o, argv[++i], 1, 4096, &a.select.max_matches)) return 2;
        } else if (!strcmp(o, "--min-peak")) {
            double v;
            if (scorr_cli_double(PROG, o, argv[++i], 0, 1, &v)) return 2;
            a.select.min_peak = (float)v;
        } else if (!strcmp(o, "--all-positions")) {
            a.select.mutual = 0;
        } else if (!strcmp(o, "--size")) {
            if (scorr_cli_int(PROG, o, argv[++i], 16, 4096, &a.size)) return 2;
        } else if (!strcmp(o, "--network")) {
            if (scorr_cli_int_or(PROG, o, argv[++i], "best", SCORR_NET_BEST, 0, 1, &a.network))
                return 2;
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "scorr_match: unknown option '%s'\n", o);
            usage(stderr);
            return 2;
        } else if (npos < 3) {
            pos[npos++] = o;
        } else {
            fprintf(stderr, "scorr_match: unexpected argument '%s'\n", o);
            return 2;
        }
    }
    if (npos != 3) {
        usage(stderr);
        return 2;
    }
    a.checkpoint = pos[0], a.src = pos[1], a.trg = pos[2];
    int err = scorr_match_command(&a, NULL);
    if (err) {
        scorr_error_print(stderr, "scorr_match");
        return scorr_exit_status(err);
    }
    return 0;
}
