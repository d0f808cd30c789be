/* Sweep files: grid x list expansion and its order, cell ids, overrides in
 * each cell's experiment, resources and their groups, st teachers, and every
 * error class with the sweep file's line and key (with "did you mean"),
 * before anything is written. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/sweep.h"

static char tmp[256];

static int parse(const char *yaml, struct scorr_sweep *sw)
{
    char file[512];
    snprintf(file, sizeof file, "%s/sweep.yaml", tmp);
    return scorr_sweep_parse(yaml, strlen(yaml), file, "/sw/dir", sw);
}

static void expect_error(int line, const char *yaml, const char *const *needles)
{
    struct scorr_sweep sw;
    if (scorr_check_error(line, parse(yaml, &sw), yaml, needles)) scorr_sweep_free(&sw);
}
#define EXPECT_ERROR(yaml, ...) expect_error(__LINE__, yaml, (const char *const[]){__VA_ARGS__, NULL})

static void get(const struct scorr_config *c, const char *key, char *out)
{
    if (scorr_config_get(c, key, out, 256)) snprintf(out, 256, "?");
}

#define CHECK_KEY(cfg, key, want)                                                  \
    do {                                                                           \
        char v_[256];                                                              \
        get((cfg), (key), v_);                                                     \
        CHECK(!strcmp(v_, (want)), "%s = %s, expected %s", (key), v_, (want));     \
    } while (0)

static void test_grid_times_list(void)
{
    struct scorr_sweep sw;
    const char *y = "name: t1\n"
                    "set:\n"
                    "  train.epochs: 3\n"
                    "  pseudo: {start_epoch: 1}\n"
                    "cells:\n"
                    "  - id: A\n"
                    "    set: {pseudo.weight: 5}\n"
                    "  - id: B\n"
                    "    set:\n"
                    "      model.upsample: 1\n"
                    "grid:\n"
                    "  seed: [1, 2]\n"
                    "  pseudo.dilation_kernel: {values: [none, 3], id: k}\n";
    CHECK_OK(parse(y, &sw));
    if (scorr_test_failures) return;
    CHECK(sw.n_cells == 8, "%d cells, expected 2 x 2 x 2", sw.n_cells);
    static const char *const ids[] = {"A-seed1-knone", "A-seed1-k3", "A-seed2-knone",
                                      "A-seed2-k3",    "B-seed1-knone", "B-seed1-k3",
                                      "B-seed2-knone", "B-seed2-k3"};
    for (int i = 0; i < sw.n_cells && i < 8; i++) {
        CHECK(!strcmp(sw.cells[i].id, ids[i]), "cell %d id %s, expected %s", i, sw.cells[i].id,
              ids[i]);
        CHECK(sw.cells[i].index == i, "cell %d index %d", i, sw.cells[i].index);
        CHECK(!strcmp(sw.cells[i].cfg.name, ids[i]), "name %s", sw.cells[i].cfg.name);
        char out[512];
        snprintf(out, sizeof out, "/sw/dir/runs/%s", ids[i]);
        CHECK(!strcmp(sw.cells[i].cfg.output, out), "output %s", sw.cells[i].cfg.output);
        CHECK_KEY(&sw.cells[i].cfg, "train.epochs", "3");
        CHECK_KEY(&sw.cells[i].cfg, "pseudo.start_epoch", "1");
        CHECK_KEY(&sw.cells[i].cfg, "seed", i % 4 < 2 ? "1" : "2");
        CHECK_KEY(&sw.cells[i].cfg, "pseudo.dilation_kernel", i % 2 ? "3" : "none");
        CHECK_KEY(&sw.cells[i].cfg, "pseudo.weight", i < 4 ? "5.0" : "10.0");
        CHECK_KEY(&sw.cells[i].cfg, "model.upsample", i < 4 ? "4" : "1");
        CHECK(sw.cells[i].res.ranks == 1 && sw.cells[i].res.threads == 1, "default resources");
        CHECK(sw.cells[i].teacher == -1, "no teacher");
    }
    /* overrides as recorded for cells.tsv: the cell's set, then the grid */
    CHECK(sw.cells[5].n_over == 3, "B-seed1-k3 has %d overrides", sw.cells[5].n_over);
    if (sw.cells[5].n_over == 3) {
        CHECK(!strcmp(sw.cells[5].over[0].key, "model.upsample") && sw.cells[5].over[0].line == 10,
              "first override %s line %d", sw.cells[5].over[0].key, sw.cells[5].over[0].line);
        CHECK(!strcmp(sw.cells[5].over[2].key, "pseudo.dilation_kernel") &&
                  !strcmp(sw.cells[5].over[2].value, "3"),
              "grid override %s=%s", sw.cells[5].over[2].key, sw.cells[5].over[2].value);
    }
    CHECK(sw.n_groups == 1, "%d groups", sw.n_groups);
    CHECK(!strcmp(sw.eval_split, "test"), "eval split %s", sw.eval_split);
    CHECK(scorr_sweep_find(&sw, "B-seed2-k3") == &sw.cells[7], "find by id");
    CHECK(scorr_sweep_find(&sw, "nope") == NULL, "find unknown");
    scorr_sweep_free(&sw);
}

static void test_ids(void)
{
    struct scorr_sweep sw;
    /* id "" on an axis: the values alone; list cells without id: derived */
    CHECK_OK(parse("name: t2\ngrid:\n  variant: {values: [baseline, mt], id: \"\"}\n  seed: [7]\n",
                   &sw));
    if (!scorr_test_failures) {
        CHECK(sw.n_cells == 2 && !strcmp(sw.cells[0].id, "baseline-seed7") &&
                  !strcmp(sw.cells[1].id, "mt-seed7"),
              "ids %s %s", sw.cells[0].id, sw.n_cells > 1 ? sw.cells[1].id : "");
        scorr_sweep_free(&sw);
    }
    CHECK_OK(parse("name: t3\ncells:\n  - set: {model.upsample: 1, variant: baseline}\n"
                   "  - set: {pseudo.selection.start_ratio: 0.5}\n",
                   &sw));
    if (!scorr_test_failures) {
        CHECK(sw.n_cells == 2 && !strcmp(sw.cells[0].id, "upsample1-variantbaseline") &&
                  !strcmp(sw.cells[1].id, "start_ratio0.5"),
              "derived ids %s %s", sw.cells[0].id, sw.n_cells > 1 ? sw.cells[1].id : "");
        scorr_sweep_free(&sw);
    }
    /* the sweep name defaults to the file name */
    CHECK_OK(parse("grid: {seed: [1]}\n", &sw));
    if (!scorr_test_failures) {
        CHECK(!strcmp(sw.name, "sweep"), "name %s", sw.name);
        CHECK(!strcmp(sw.cells[0].id, "seed1"), "id %s", sw.cells[0].id);
        scorr_sweep_free(&sw);
    }
}

static void test_resources_and_teachers(void)
{
    struct scorr_sweep sw;
    const char *y = "name: t4\n"
                    "set: {train.batch_size: 4, train.epochs: 5}\n"
                    "resources:\n"
                    "  ranks: 2\n"
                    "  threads: 3\n"
                    "  time: \"01:30:00\"\n"
                    "  partition: cpu\n"
                    "  sbatch: [\"--mem=2G\", \"--qos=low\"]\n"
                    "cells:\n"
                    "  - id: base\n"
                    "    set: {variant: baseline}\n"
                    "  - id: st\n"
                    "    set: {variant: st}\n"
                    "  - id: mt\n"
                    "    resources: {ranks: 4, time: \"2-00:00:00\"}\n"
                    "grid:\n"
                    "  seed: [1, 2]\n";
    CHECK_OK(parse(y, &sw));
    if (scorr_test_failures) return;
    CHECK(sw.n_cells == 6, "%d cells", sw.n_cells);
    const struct scorr_sweep_cell *b1 = scorr_sweep_find(&sw, "base-seed1");
    const struct scorr_sweep_cell *b2 = scorr_sweep_find(&sw, "base-seed2");
    const struct scorr_sweep_cell *s2 = scorr_sweep_find(&sw, "st-seed2");
    const struct scorr_sweep_cell *m1 = scorr_sweep_find(&sw, "mt-seed1");
    CHECK(b1 && b2 && s2 && m1, "cells found");
    if (!(b1 && b2 && s2 && m1)) return;
    CHECK(b1->res.ranks == 2 && b1->res.threads == 3 && !strcmp(b1->res.time, "01:30:00") &&
              !strcmp(b1->res.partition, "cpu") && b1->res.n_extra == 2 &&
              !strcmp(b1->res.extra[1], "--qos=low"),
          "sweep resources: %d x %d %s %s %d", b1->res.ranks, b1->res.threads, b1->res.time,
          b1->res.partition, b1->res.n_extra);
    CHECK(m1->res.ranks == 4 && m1->res.threads == 3 && !strcmp(m1->res.time, "2-00:00:00") &&
              !strcmp(m1->res.partition, "cpu"),
          "cell resources override field by field: %d x %d %s", m1->res.ranks, m1->res.threads,
          m1->res.time);
    /* st-seed2's teacher: the baseline of the same seed */
    CHECK(s2->teacher == b2->index, "st-seed2 teacher %d, expected %d", s2->teacher, b2->index);
    CHECK(!strcmp(s2->cfg.teacher.checkpoint, "/sw/dir/runs/base-seed2"), "teacher path %s",
          s2->cfg.teacher.checkpoint);
    CHECK(b1->teacher == -1 && m1->teacher == -1, "no teacher for baseline and mt");
    /* groups: baseline (2 ranks), mt (4 ranks), st (2 ranks, after teachers) */
    CHECK(sw.n_groups == 3, "%d groups", sw.n_groups);
    CHECK(b1->group != m1->group && b1->group != s2->group && sw.group_phase[s2->group] == 1 &&
              sw.group_phase[b1->group] == 0,
          "groups %d %d %d", b1->group, m1->group, s2->group);
    scorr_sweep_free(&sw);
}

static void test_paths(void)
{
    struct scorr_sweep sw;
    char cwd[1024], want[2048], base[512], basefile[600];
    if (!getcwd(cwd, sizeof cwd)) return;
    /* a base file beside the sweep file; its relative paths: against the cwd */
    snprintf(base, sizeof base, "%s/sub", tmp);
    CHECK_OK(scorr_mkdirs(base));
    snprintf(basefile, sizeof basefile, "%s/base.yaml", base);
    const char *b = "variant: baseline\ndata:\n  file: d/x.h5\ntrain:\n  epochs: 2\n";
    CHECK_OK(scorr_write_file_atomic(basefile, b, strlen(b)));
    CHECK_OK(parse("name: t5\nbase: sub/base.yaml\neval: {data: e.h5}\ngrid: {seed: [1]}\n", &sw));
    if (scorr_test_failures) return;
    snprintf(want, sizeof want, "%s/d/x.h5", cwd);
    CHECK(!strcmp(sw.cells[0].cfg.data.file, want), "data.file %s, expected %s",
          sw.cells[0].cfg.data.file, want);
    snprintf(want, sizeof want, "%s/e.h5", tmp);
    CHECK(!strcmp(sw.cells[0].eval_data, want), "eval data %s, expected %s (relative to the "
          "sweep file)", sw.cells[0].eval_data, want);
    CHECK_KEY(&sw.cells[0].cfg, "variant", "baseline");
    CHECK_KEY(&sw.cells[0].cfg, "train.epochs", "2");
    CHECK(strstr(sw.base, "/sub/base.yaml") != NULL, "base %s", sw.base);
    scorr_sweep_free(&sw);
    /* a base with an error: named through the sweep file */
    const char *bad = "variant: baseline\ntrain:\n  epoch: 2\n";
    CHECK_OK(scorr_write_file_atomic(basefile, bad, strlen(bad)));
    EXPECT_ERROR("name: t6\nbase: sub/base.yaml\ngrid: {seed: [1]}\n", "sweep.yaml:2: base:",
                 "base.yaml:3", "train.epoch", "did you mean 'train.epochs'");
    EXPECT_ERROR("name: t7\nbase: sub/missing.yaml\ngrid: {seed: [1]}\n", "sweep.yaml:2",
                 "missing.yaml", "not found");
}

static void test_errors(void)
{
    /* keys of the experiment schema, with suggestions and lines */
    EXPECT_ERROR("name: e\ngrid:\n  pseudo.dilaton_kernel: [3]\n", "sweep.yaml:3", "grid",
                 "pseudo.dilaton_kernel", "did you mean 'pseudo.dilation_kernel'");
    EXPECT_ERROR("name: e\nset:\n  pseudo:\n    wieght: 5\ngrid: {seed: [1]}\n", "sweep.yaml:4",
                 "pseudo.wieght", "did you mean 'pseudo.weight'");
    EXPECT_ERROR("name: e\ncells:\n  - id: a\n    set: {model.upsampel: 1}\n", "sweep.yaml:4",
                 "model.upsampel", "did you mean 'model.upsample'");
    EXPECT_ERROR("name: e\nset:\n  pseudo: 5\ngrid: {seed: [1]}\n", "sweep.yaml:3",
                 "'pseudo' is a section");
    EXPECT_ERROR("name: e\ngrid:\n  pseudo.selection: [1]\n", "sweep.yaml:3",
                 "'pseudo.selection' is a section");
    /* values the schema rejects, at the value's own line */
    EXPECT_ERROR("name: e\ngrid:\n  pseudo.dilation_kernel: [3,\n     4]\n", "sweep.yaml:4",
                 "grid: pseudo.dilation_kernel", "odd", "'4'");
    EXPECT_ERROR("name: e\ncells:\n  - id: a\n    set: {model.upsample: 2}\n", "sweep.yaml:4",
                 "model.upsample", "'2'");
    EXPECT_ERROR("name: e\ngrid:\n  seed: [\"1\"]\n", "sweep.yaml:3", "seed");
    EXPECT_ERROR("name: e\ngrid:\n  variant: [baseline, mutual]\n", "sweep.yaml:3", "variant",
                 "mutual");
    /* empty grids and no cells */
    EXPECT_ERROR("name: e\ngrid: {}\n", "sweep.yaml:2", "grid", "empty");
    EXPECT_ERROR("name: e\ngrid:\n  seed: []\n", "sweep.yaml:3", "seed", "empty list");
    EXPECT_ERROR("name: e\ncells: []\n", "sweep.yaml:2", "cells", "empty");
    EXPECT_ERROR("name: e\nset: {seed: 2}\n", "sweep.yaml", "no cells");
    EXPECT_ERROR("", "empty sweep file");
    /* the sweep file's own keys */
    EXPECT_ERROR("name: e\ngrdi: {seed: [1]}\n", "sweep.yaml:2", "grdi", "did you mean 'grid'");
    EXPECT_ERROR("name: e\nname: f\ngrid: {seed: [1]}\n", "sweep.yaml:2", "duplicate", "name",
                 "line 1");
    EXPECT_ERROR("name: e\ngrid:\n  seed: [1]\n  seed: [2]\n", "sweep.yaml:4", "duplicate");
    EXPECT_ERROR("name: e\ngrid:\n  seed: [1, 1]\n", "sweep.yaml:3", "listed twice");
    EXPECT_ERROR("name: e\ncells:\n  - id: a\n    sett: {seed: 1}\n", "sweep.yaml:4", "sett",
                 "did you mean 'set'");
    EXPECT_ERROR("name: e\ncells:\n  - id: a\n  - id: a\n", "sweep.yaml:4", "'a' used twice");
    EXPECT_ERROR("name: e\ngrid: {seed: [1, 2], model.upsample: {values: [1], id: \"\"}}\n"
                 "cells:\n  - id: x-seed\n  - id: x\n    set: {seed: 1}\n",
                 "sweep.yaml", "seed");
    EXPECT_ERROR("name: e\ncells:\n  - {id: a, set: {model.upsample: 1}}\n"
                 "  - {id: b, set: {model.upsample: 1}}\ngrid:\n  model.upsample: [4]\n",
                 "model.upsample", "also a grid key");
    EXPECT_ERROR("name: e\nset: {seed: 3}\ngrid: {seed: [1]}\n", "sweep.yaml:3", "also set");
    EXPECT_ERROR("name: e\nset: {name: x}\ngrid: {seed: [1]}\n", "sweep.yaml:2", "name",
                 "set by the sweep");
    EXPECT_ERROR("name: e\ngrid: {output: [a]}\n", "sweep.yaml:2", "output", "set by the sweep");
    EXPECT_ERROR("name: bad/name\ngrid: {seed: [1]}\n", "sweep.yaml:1", "name");
    EXPECT_ERROR("name: e\ngrid:\n  seed: [1]\n---\nname: f\n", "second YAML document");
    EXPECT_ERROR("name: e\ngrid: [seed]\n", "sweep.yaml:2", "grid", "mapping");
    /* resources */
    EXPECT_ERROR("name: e\nresources: {ranks: 0}\ngrid: {seed: [1]}\n", "sweep.yaml:2",
                 "resources.ranks", "[1,");
    EXPECT_ERROR("name: e\nresources: {threads: two}\ngrid: {seed: [1]}\n", "sweep.yaml:2",
                 "resources.threads");
    EXPECT_ERROR("name: e\nresources:\n  time: soon\ngrid: {seed: [1]}\n", "sweep.yaml:3",
                 "resources.time", "soon");
    EXPECT_ERROR("name: e\nresources:\n  sbatch: [\"--array=1-3\"]\ngrid: {seed: [1]}\n",
                 "sweep.yaml:3", "set by scorr_sweep");
    EXPECT_ERROR("name: e\nresources:\n  sbatch: [\"mem=2G\"]\ngrid: {seed: [1]}\n",
                 "sweep.yaml:3", "--mem=16G");
    EXPECT_ERROR("name: e\nresources: {rank: 2}\ngrid: {seed: [1]}\n", "sweep.yaml:2",
                 "did you mean 'ranks'");
    EXPECT_ERROR("name: e\neval: {split: dev}\ngrid: {seed: [1]}\n", "sweep.yaml:2", "eval.split",
                 "dev");
    EXPECT_ERROR("name: e\nslurm: {signal_seconds: 0}\ngrid: {seed: [1]}\n", "sweep.yaml:2",
                 "signal_seconds");
    /* the layout the trainer needs, per cell */
    EXPECT_ERROR("name: e\nresources: {ranks: 3}\nset: {train.batch_size: 6}\n"
                 "grid: {variant: [mt]}\n", "cell 'variantmt'", "mt", "ranks 3");
    EXPECT_ERROR("name: e\nresources: {ranks: 4}\nset: {train.batch_size: 6}\n"
                 "grid: {variant: [baseline]}\n", "cell 'variantbaseline'", "batch_size 6",
                 "4 ranks");
    /* cross-key rules: the cell named */
    EXPECT_ERROR("name: e\ncells:\n  - id: r\n    set: {pseudo.selection.start_ratio: 0.95}\n",
                 "sweep.yaml:3", "cell 'r'", "end_ratio");
    /* st without a baseline of the same settings */
    EXPECT_ERROR("name: e\ngrid: {variant: [st]}\n", "cell 'variantst'", "needs a teacher",
                 "no baseline cell");
    EXPECT_ERROR("name: e\ncells:\n  - {id: b, set: {variant: baseline, seed: 1}}\n"
                 "  - {id: s, set: {variant: st, seed: 2}}\n",
                 "sweep.yaml:4", "cell 's'", "needs a teacher", "'b' differs in seed");
}

/* An explicit teacher naming a cell's run folder is a dependency too. */
static void test_explicit_teacher(void)
{
    struct scorr_sweep sw;
    CHECK_OK(parse("name: t8\ncells:\n  - {id: b, set: {variant: baseline}}\n"
                   "  - {id: s, set: {variant: st, teacher.checkpoint: /sw/dir/runs/b}}\n"
                   "  - {id: o, set: {variant: st, teacher.checkpoint: /elsewhere/best.h5}}\n",
                   &sw));
    if (scorr_test_failures) return;
    CHECK(sw.cells[1].teacher == 0, "explicit teacher in the sweep: %d", sw.cells[1].teacher);
    CHECK(sw.cells[2].teacher == -1, "teacher outside the sweep: %d", sw.cells[2].teacher);
    CHECK(!strcmp(sw.cells[2].cfg.teacher.checkpoint, "/elsewhere/best.h5"), "kept %s",
          sw.cells[2].cfg.teacher.checkpoint);
    scorr_sweep_free(&sw);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/scorr_test_sweep_parse.XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    test_grid_times_list();
    test_ids();
    test_resources_and_teachers();
    test_paths();
    test_errors();
    test_explicit_teacher();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", tmp);
    return scorr_test_finish("test_sweep_parse");
}
