/* scorr_eval: PCK (and on the synthetic benchmark dense EPE and pseudo-label
 * quality) of a checkpoint on a dataset split (docs/evaluation.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/cli.h"
#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/eval_cli.h"
#include "scorr/eval_model.h"
#include "scorr/log.h"

#define PROG "scorr_eval"

static void usage(FILE *f)
{
    fputs("usage: scorr_eval CHECKPOINT DATA.h5 [--split test] [options]\n"
          "       mpirun -np N scorr_eval CHECKPOINT DATA.h5 ...   (ranks split the pairs)\n"
          "\n"
          "PCK of a trained network (a step checkpoint or best.h5) on a split of a dataset\n"
          "file: per image (the paper's) and per point, per category, per difficulty flag;\n"
          "on the synthetic benchmark also the dense end-point error and, on request, the\n"
          "precision of a peer's pseudo-labels. Writes eval_<split>.json,\n"
          "eval_<split>_pairs.csv and eval_<split>_categories.csv.\n"
          "CHECKPOINT may also be an official SCorrSAN network converted by\n"
          "tools/convert_torchvision.py: its model is read from its tensors (docs/weights.md).\n"
          "\n"
          "options:\n"
          "  --split NAME          split to evaluate: trn | val | test (default test)\n"
          "  --alpha LIST          PCK thresholds alpha (default 0.05,0.1,0.15)\n"
          "  --threshold MODE      T of PCK: auto (the dataset's: bbox for SPair and synth,\n"
          "                        img for PF-PASCAL, PF-WILLOW both willow-ref and kpsbox),\n"
          "                        bbox, img, willow-ref or kpsbox (default auto)\n"
          "  --network N           0, 1 (mt step checkpoints hold both) or best (default)\n"
          "  --batch N             pairs per forward (default 8)\n"
          "  --out DIR             output folder (default: the checkpoint's folder)\n"
          "  --pseudo CHECKPOINT   pseudo-label quality of this network (a peer or teacher)\n"
          "  --pseudo-peer         ... of the other network of an mt step checkpoint\n"
          "  --dilation K|none     label-mask dilation for the pseudo-labels (default 7)\n"
          "  --ratio R             small-loss selection ratio (default 0.9)\n"
          "  --pseudo-alpha A      a pseudo-label is correct when its EPE <= A * T (default 0.1)\n"
          "  --pictures N          draw N pairs (spread over categories, difficulty flags\n"
          "                        and PCK) into <out>/pictures_<split>/: keypoint\n"
          "                        transfers green/red by PCK@0.1, and warps (docs/report.md)\n"
          "  --quiet               no table, no progress (warnings and errors only)\n"
          "  --help                this text\n"
          "\n"
          "exit status: 0 done, 1 error, 2 usage, 5 out of memory, 6 disk full\n",
          f);
}

/* Options that take a value. */
static const char *const k_valued[] = {"--split",  "--alpha",  "--threshold", "--network",
                                       "--batch",  "--out",    "--pseudo",    "--dilation",
                                       "--ratio",  "--pseudo-alpha", "--pictures", NULL};

int main(int argc, char **argv)
{
    struct scorr_eval_args a;
    scorr_eval_args_default(&a);
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--pseudo-peer")) {
            a.pseudo_peer = 1;
        } else if (!strcmp(o, "--quiet")) {
            quiet = 1;
        } else if (scorr_cli_takes_value(o, k_valued) && !has) {
            fprintf(stderr, "scorr_eval: %s needs a value\n", o);
            return 2;
        } else if (!strcmp(o, "--split")) {
            a.split = argv[++i];
        } else if (!strcmp(o, "--alpha")) {
            a.alphas = argv[++i];
        } else if (!strcmp(o, "--threshold")) {
            a.threshold = argv[++i];
        } else if (!strcmp(o, "--network")) {
            if (scorr_cli_int_or(PROG, o, argv[++i], "best", SCORR_NET_BEST, 0, 1, &a.network))
                return 2;
        } else if (!strcmp(o, "--batch")) {
            if (scorr_cli_int(PROG, o, argv[++i], 1, 256, &a.batch)) return 2;
        } else if (!strcmp(o, "--out")) {
            a.out = argv[++i];
        } else if (!strcmp(o, "--pseudo")) {
            a.pseudo = argv[++i];
        } else if (!strcmp(o, "--dilation")) {
            const char *v = argv[++i];
            if (!strcmp(v, "none")) {
                a.dilation = 0;
            } else if (scorr_cli_int(PROG, o, v, 1, 255, &a.dilation) || a.dilation % 2 == 0) {
                fprintf(stderr, "scorr_eval: --dilation: expected an odd kernel size or none, "
                                "found '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--pictures")) {
            if (scorr_cli_int(PROG, o, argv[++i], 1, 1000, &a.pictures)) return 2;
        } else if (!strcmp(o, "--ratio")) {
            if (scorr_cli_double(PROG, o, argv[++i], 0, 1, &a.ratio)) return 2;
        } else if (!strcmp(o, "--pseudo-alpha")) {
            if (scorr_cli_double(PROG, o, argv[++i], 0, 1e9, &a.pseudo_alpha)) return 2;
        } else if (o[0] == '-') {
            fprintf(stderr, "scorr_eval: unknown option '%s'\n", o);
            usage(stderr);
            return 2;
        } else if (!a.checkpoint) {
            a.checkpoint = o;
        } else if (!a.data) {
            a.data = o;
        } else {
            fprintf(stderr, "scorr_eval: unexpected argument '%s' (a checkpoint and a dataset "
                            "were given already)\n", o);
            return 2;
        }
    }
    if (!a.checkpoint || !a.data) {
        usage(stderr);
        return 2;
    }
    struct scorr_comm *world = NULL;
    if (scorr_comm_init(&argc, &argv, &world)) {
        scorr_error_print(stderr, "scorr_eval");
        return 1;
    }
    if (quiet) {
        scorr_log_set_level(0);
        a.progress = 0;
    }
    int rc = scorr_eval_command(world, &a);
    /* one rank prints: the lowest that failed by itself */
    int own = rc && scorr_error_code() != SCORR_EPEER;
    if (scorr_comm_lowest(world, own) == scorr_comm_rank(world))
        scorr_error_print(stderr, "scorr_eval");
    /* a rank that stopped for a peer exits with the peer's status */
    int code = scorr_exit_status(rc);
    double worst = code;
    if (code && scorr_comm_max_f64(world, &worst, 1) == 0) code = (int)worst;
    scorr_comm_finalize(world);
    return code;
}
