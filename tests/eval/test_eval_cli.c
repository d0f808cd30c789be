/* The scorr_eval program end to end (argv[1] = the program, argv[2] =
 * mpirun) on tiny random checkpoints and a tiny synthetic file: exit codes
 * 0 / 1 / 2, --help, the three output files (in --out or beside the
 * checkpoint) and their content, network selection in mt checkpoints,
 * pseudo-label quality with the mt peer, 2 ranks = 1 rank, and the errors a
 * user can cause (missing checkpoint, a file that is not a checkpoint, a
 * dataset of another image size, an unknown split, a network the file does
 * not hold, pseudo-labels without a peer), each naming what is wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "run.h"
#include "eval_ckpt.h"
#include "eval_testutil.h"
#include "scorr/io.h"

static const char *g_bin, *g_mpirun;
static char g_dir[4096], g_log[4200];
static char *g_out, *g_err;

/* Run `prefix bin args`, capture stdout and stderr, return the exit status. */
static int run_with(const char *prefix, const char *args)
{
    return scorr_run_capture(prefix, g_bin, args, g_log, &g_out, &g_err);
}
static int run(const char *args) { return run_with("", args); }

static cJSON *load_json(const char *dir, const char *split)
{
    char p[4400];
    char *text = NULL;
    size_t n;
    snprintf(p, sizeof p, "%s/eval_%s.json", dir, split);
    if (scorr_read_file(p, &text, &n)) {
        scorr_error_clear();
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* Same structure, same strings, numbers equal within a relative 1e-6: the
 * model's flows may differ in the last bits when a pair sits in another
 * batch (the ranks batch other pairs together); the evaluation itself is
 * exact (test_eval_mpi). */
static int same_json(const cJSON *a, const cJSON *b, char *where, size_t n)
{
    if (!a || !b || a->type != b->type) return 0;
    if (cJSON_IsNumber(a)) {
        double x = a->valuedouble, y = b->valuedouble;
        return fabs(x - y) <= 1e-6 * fmax(1.0, fabs(y));
    }
    if (cJSON_IsString(a)) return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
        const cJSON *y = b->child;
        for (const cJSON *x = a->child; x; x = x->next, y = y->next) {
            if (x->string && (!y->string || strcmp(x->string, y->string))) return 0;
            if (!same_json(x, y, where, n)) {
                if (x->string) snprintf(where, n, "%s", x->string);
                return 0;
            }
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_eval_cli SCORR_EVAL MPIRUN\n");
        return 2;
    }
    g_bin = argv[1];
    g_mpirun = argv[2];
    snprintf(g_dir, sizeof g_dir, "%s/tests/eval_cli_%d", SCORR_BINARY_DIR, (int)getpid());
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    CHECK_OK(scorr_mkdirs(g_dir));
    char data[4400], data32[4400], base[4400], mt[4400], mtbest[4400], args[32768];
    snprintf(data, sizeof data, "%s/synth64.h5", g_dir);
    snprintf(data32, sizeof data32, "%s/synth32.h5", g_dir);
    snprintf(base, sizeof base, "%s/base/best.h5", g_dir);
    snprintf(mt, sizeof mt, "%s/mt/checkpoints/step_00000007.h5", g_dir);
    snprintf(mtbest, sizeof mtbest, "%s/mt/best.h5", g_dir);
    CHECK_OK(evt_make_synth(data, 10, 3));
    CHECK_OK(evt_make_synth_size(data32, 32, 4, 3));
    char d1[4400], d2[4400];
    snprintf(d1, sizeof d1, "%s/base", g_dir);
    snprintf(d2, sizeof d2, "%s/mt/checkpoints", g_dir);
    CHECK_OK(scorr_mkdirs(d1));
    CHECK_OK(scorr_mkdirs(d2));
    CHECK_OK(evt_write_ckpt(base, "baseline", 64, 0, 0, data));
    CHECK_OK(evt_write_ckpt(mt, "mt", 64, 1, 1, data));
    CHECK_OK(evt_write_ckpt(mtbest, "mt", 64, 0, 1, data));

    /* usage */
    CHECK(run("--help") == 0 && strstr(g_out, "usage: scorr_eval"), "--help");
    CHECK(run("") == 2 && strstr(g_err, "usage"), "no arguments: %s", g_err);
    CHECK(run("a b --frobnicate") == 2 && strstr(g_err, "unknown option '--frobnicate'"),
          "unknown option: %s", g_err);
    CHECK(run("a b --batch 0") == 2 && strstr(g_err, "--batch"), "batch 0: %s", g_err);
    CHECK(run("a b --dilation 4") == 2 && strstr(g_err, "odd"), "even dilation: %s", g_err);
    CHECK(run("a b --split") == 2 && strstr(g_err, "needs a value"), "missing value: %s", g_err);

    /* 1. a baseline checkpoint, output in --out */
    char out[4400];
    snprintf(out, sizeof out, "%s/out1", g_dir);
    snprintf(args, sizeof args, "'%s' '%s' --split test --batch 3 --out '%s'", base, data, out);
    CHECK(run(args) == 0, "baseline evaluation failed: %s", g_err);
    CHECK(strstr(g_out, "PCK (%), threshold bbox") && strstr(g_out, "per image") &&
              strstr(g_out, "Per category") && strstr(g_out, "viewpoint=") &&
              strstr(g_out, "Dense end-point error"),
          "console table:\n%s", g_out);
    cJSON *j = load_json(out, "test");
    CHECK(j != NULL, "eval_test.json in --out");
    if (j) {
        CHECK(cJSON_GetObjectItem(j, "pairs")->valueint == 10, "10 pairs");
        CHECK(cJSON_GetObjectItem(j, "network")->valueint == 0, "network 0");
        CHECK(!strcmp(cJSON_GetObjectItem(j, "checkpoint")->valuestring, base), "checkpoint path");
        CHECK(!strcmp(cJSON_GetObjectItem(j, "source")->valuestring, "synth"), "source synth");
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pck"), "0.15") != NULL, "pck 0.15");
        CHECK(cJSON_GetObjectItem(j, "dense") && !cJSON_GetObjectItem(j, "pseudo"),
              "dense, no pseudo");
        cJSON_Delete(j);
    }
    char p[8400];
    snprintf(p, sizeof p, "%s/eval_test_pairs.csv", out);
    CHECK(scorr_exists(p), "pairs CSV");
    snprintf(p, sizeof p, "%s/eval_test_categories.csv", out);
    CHECK(scorr_exists(p), "categories CSV");

    /* 2. default output folder: the checkpoint's; another alpha list; quiet */
    snprintf(args, sizeof args, "'%s' '%s' --alpha 0.1,0.2 --quiet", base, data);
    CHECK(run(args) == 0 && !strstr(g_out, "PCK"), "quiet evaluation: %s", g_err);
    j = load_json(d1, "test");
    CHECK(j && cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pck"), "0.2") &&
              !cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pck"), "0.05"),
          "eval_test.json beside the checkpoint with alphas 0.1, 0.2");
    cJSON_Delete(j);

    /* a run folder stands for its best.h5; the files go into the folder */
    snprintf(p, sizeof p, "%s/eval_val.json", d1);
    snprintf(args, sizeof args, "'%s' '%s' --split val --quiet", d1, data);
    CHECK(run(args) == 0 && scorr_exists(p), "run folder as checkpoint: %s", g_err);
    j = load_json(d1, "val");
    CHECK(j && !strcmp(cJSON_GetObjectItem(j, "checkpoint")->valuestring, base),
          "run folder resolved to its best.h5");
    cJSON_Delete(j);

    /* 3. mt: best = the checkpoint's best_peer (1); network 0 on request;
     * pseudo-labels of the peer; 2 ranks = 1 rank */
    snprintf(out, sizeof out, "%s/out_mt", g_dir);
    snprintf(args, sizeof args, "'%s' '%s' --out '%s' --pseudo-peer --dilation 3 --ratio 0.5",
             mt, data, out);
    CHECK(run(args) == 0, "mt evaluation failed: %s", g_err);
    CHECK(strstr(g_out, "Pseudo-labels of the peer (network 0"), "pseudo table:\n%s", g_out);
    cJSON *one = load_json(out, "test");
    CHECK(one && cJSON_GetObjectItem(one, "network")->valueint == 1, "best network of mt is 1");
    cJSON *ps = one ? cJSON_GetObjectItem(one, "pseudo") : NULL;
    CHECK(ps && cJSON_GetObjectItem(ps, "ratio")->valuedouble == 0.5 &&
              cJSON_GetObjectItem(ps, "dilation")->valueint == 3 &&
              cJSON_GetObjectItem(cJSON_GetObjectItem(ps, "inside"), "positions")->valueint > 0,
          "pseudo section");
    char pre[8400];
    snprintf(pre, sizeof pre, "'%s' -np 2", g_mpirun);
    CHECK(run_with(pre, args) == 0, "mt evaluation on 2 ranks failed: %s", g_err);
    cJSON *two = load_json(out, "test");
    CHECK(two && cJSON_GetObjectItem(two, "ranks")->valueint == 2, "2 ranks recorded");
    const char *keys[] = {"pck", "pck_per_point", "per_category", "per_difficulty", "dense",
                          "pseudo", "pairs", "points"};
    for (int k = 0; k < 8 && one && two; k++) {
        char where[128] = "";
        const cJSON *a = cJSON_GetObjectItem(one, keys[k]), *b = cJSON_GetObjectItem(two, keys[k]);
        CHECK(same_json(a, b, where, sizeof where), "'%s' differs between 1 and 2 ranks (at %s)",
              keys[k], where);
    }
    cJSON_Delete(one);
    cJSON_Delete(two);
    snprintf(args, sizeof args, "'%s' '%s' --out '%s' --network 0", mt, data, out);
    CHECK(run(args) == 0, "mt network 0: %s", g_err);
    j = load_json(out, "test");
    CHECK(j && cJSON_GetObjectItem(j, "network")->valueint == 0, "network 0 of mt");
    cJSON_Delete(j);

    /* 4. errors a user can cause: exit 1, a message naming the thing */
    snprintf(args, sizeof args, "'%s/nope.h5' '%s'", g_dir, data);
    CHECK(run(args) == 1 && strstr(g_err, "nope.h5") && strstr(g_err, "does not exist"),
          "missing checkpoint: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s'", data, data);
    CHECK(run(args) == 1 && strstr(g_err, "synth64.h5"), "dataset as a checkpoint: %s", g_err);
    snprintf(p, sizeof p, "%s/text.h5", g_dir);
    CHECK_OK(scorr_write_file_atomic(p, "not hdf5\n", 9));
    snprintf(args, sizeof args, "'%s' '%s'", p, data);
    CHECK(run(args) == 1 && strstr(g_err, "text.h5"), "text file as a checkpoint: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --out '%s'", base, data32, out);
    CHECK(run(args) == 1 && strstr(g_err, "64 x 64") && strstr(g_err, "32 x 32"),
          "dataset of another size: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --split bogus --out '%s'", base, data, out);
    CHECK(run(args) == 1 && strstr(g_err, "no split 'bogus'") && strstr(g_err, "test"),
          "unknown split: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s/missing.h5'", base, g_dir);
    CHECK(run(args) == 1 && strstr(g_err, "missing.h5"), "missing dataset: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --network 0 --out '%s'", mtbest, data, out);
    CHECK(run(args) == 1 && strstr(g_err, "holds network 1 only"), "mt best.h5 network 0: %s",
          g_err);
    snprintf(args, sizeof args, "'%s' '%s' --pseudo-peer --out '%s'", base, data, out);
    CHECK(run(args) == 1 && strstr(g_err, "holds one network"), "pseudo-peer on a baseline: %s",
          g_err);
    snprintf(args, sizeof args, "'%s' '%s' --alpha 0.1,abc --out '%s'", base, data, out);
    CHECK(run(args) == 1 && strstr(g_err, "--alpha"), "bad alpha: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --threshold box --out '%s'", base, data, out);
    CHECK(run(args) == 1 && strstr(g_err, "'box'"), "bad threshold: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' --split val --pseudo '%s' --out '%s'", base, data, base,
             out);
    CHECK(run(args) == 0, "--pseudo with a separate checkpoint on val: %s", g_err);
    /* 2 ranks: a bad input fails on both, one message */
    snprintf(args, sizeof args, "'%s' '%s' --split bogus --out '%s'", base, data, out);
    int rc = run_with(pre, args);
    const char *first = strstr(g_err, "no split 'bogus'");
    CHECK(rc == 1 && first && !strstr(first + 1, "no split 'bogus'"),
          "2 ranks, unknown split: exit %d, one message expected:\n%s", rc, g_err);

    free(g_out);
    free(g_err);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (!scorr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return scorr_test_finish("test_eval_cli");
}
