/* Every sweep file in experiments/sweeps/ loads, expands and writes; the
 * ablation sweeps hold the paper's cells: A0..A6 with exactly the module
 * switches of Table 4, st with the A3 of its seed as teacher, the dilation
 * kernels of Table 6, three seeds each; the synthetic sweep's further cells
 * (selection ratio, HR loss, from scratch, lambda 1) differ from A6 or A3 in
 * exactly what their names say. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/sweep.h"
#include "sweep_fakes.h"

/* The Table 4 switches of a cell's config: SCE, HR loss, finetune, TS,
 * selection, dilation (the table's rule, written out again here). */
static void switches(const struct scorr_config *c, int s[6])
{
    int ts = c->variant == SCORR_VARIANT_MT;
    s[0] = c->model.sce.enabled;
    s[1] = c->model.upsample == 4;
    s[2] = !c->model.backbone.freeze;
    s[3] = ts;
    s[4] = ts && c->pseudo.selection.start_ratio >= 0;
    s[5] = ts && c->pseudo.dilation_kernel > 0;
}

/* The full method (A6) but for what the cell's name says. */
static int full_method(const struct scorr_config *c)
{
    return c->variant == SCORR_VARIANT_MT && c->model.sce.enabled && !c->model.backbone.freeze &&
           c->pseudo.dilation_kernel == 7;
}

/* A further cell of the synthetic sweep: 1 if known and right, 0 if wrong,
 * -1 if its name is none of them. */
static int check_extra(const char *setting, const struct scorr_config *c)
{
    const double end = c->pseudo.selection.end_ratio, start = c->pseudo.selection.start_ratio;
    if (!strcmp(setting, "r05")) return full_method(c) && end == 0.5 && start == 0.2;
    if (!strcmp(setting, "r07")) return full_method(c) && end == 0.7 && start == 0.2;
    if (!strcmp(setting, "r10")) return full_method(c) && end == 1.0 && start == 0.2;
    if (!strcmp(setting, "nosel")) return full_method(c) && start < 0;
    if (!strcmp(setting, "l1"))
        return full_method(c) && start == 0.2 && end == 0.9 && c->pseudo.weight == 1.0;
    if (!strcmp(setting, "up1mt")) return full_method(c) && c->model.upsample == 1;
    if (!strcmp(setting, "up1"))
        return c->variant == SCORR_VARIANT_BASELINE && c->model.upsample == 1 &&
               !c->model.backbone.freeze && c->model.sce.enabled;
    return -1;
}

static void check_ablation(const struct scorr_sweep *sw)
{
    int core = 0, extra = 0;
    for (int i = 0; i < sw->n_cells; i++) {
        const struct scorr_sweep_cell *c = &sw->cells[i];
        char setting[32];
        int seed = 0;
        if (sscanf(c->id, "%31[^-]-seed%d", setting, &seed) != 2) {
            CHECK(0, "%s: cell id %s", sw->name, c->id);
            continue;
        }
        CHECK(c->cfg.seed == seed, "%s: seed %d", c->id, c->cfg.seed);
        int s[6];
        switches(&c->cfg, s);
        int x = check_extra(setting, &c->cfg);
        if (x >= 0) {
            CHECK(x == 1, "%s: not what its name says", c->id);
            CHECK(strstr(sw->name, "synth") != NULL, "%s: a synthetic-only cell in %s", c->id,
                  sw->name);
            extra++;
            continue;
        }
        if (!strcmp(setting, "A3scratch")) {
            CHECK(c->cfg.variant == SCORR_VARIANT_BASELINE && !c->cfg.model.backbone.freeze &&
                      c->cfg.model.upsample == 4 && !c->cfg.model.backbone.weights[0] &&
                      !c->cfg.model.weights[0],
                  "%s: A3 from random weights", c->id);
            extra++;
            continue;
        }
        core++;
        if (setting[0] == 'A') {
            int k = setting[1] - '0';
            for (int j = 0; j < 6; j++)
                CHECK(s[j] == (j < k), "%s: switch %d is %d (Table 4's A%d has the first %d on)",
                      c->id, j, s[j], k, k);
            if (k == 6) CHECK(c->cfg.pseudo.dilation_kernel == 7, "%s: k", c->id);
        } else if (!strcmp(setting, "st")) {
            CHECK(c->cfg.variant == SCORR_VARIANT_ST && c->teacher >= 0, "%s: st", c->id);
            char want[64];
            snprintf(want, sizeof want, "A3-seed%d", seed);
            CHECK(c->teacher >= 0 && !strcmp(sw->cells[c->teacher].id, want),
                  "%s: teacher %s, expected %s", c->id,
                  c->teacher >= 0 ? sw->cells[c->teacher].id : "none", want);
            CHECK(c->cfg.pseudo.dilation_kernel == 7 && c->cfg.pseudo.selection.start_ratio > 0,
                  "%s: the full method's pseudo-labels", c->id);
        } else {
            int k = atoi(setting + 1);
            CHECK((k == 3 || k == 15) && c->cfg.pseudo.dilation_kernel == k &&
                      c->cfg.variant == SCORR_VARIANT_MT && s[4],
                  "%s: dilation %d", c->id, c->cfg.pseudo.dilation_kernel);
        }
        if (c->cfg.variant == SCORR_VARIANT_MT && c->res.ranks > 1)
            CHECK(c->res.ranks % 2 == 0, "%s: mt on %d ranks", c->id, c->res.ranks);
    }
    CHECK(core == 30, "%s: %d cells of Tables 4-6, expected 10 settings x 3 seeds", sw->name,
          core);
    if (strstr(sw->name, "synth"))
        CHECK(extra == 24, "%s: %d further cells, expected 8 settings x 3 seeds", sw->name, extra);
}

int main(void)
{
    const char *tmp = fakes_tmpdir("test_sweep_files");
    const char *bin = fakes_bin(tmp);
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/experiments/sweeps", SCORR_SOURCE_DIR);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "%s missing", dir);
    int n = 0, ablations = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml")) continue;
        char file[4096], out[4096];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        snprintf(out, sizeof out, "%s/%s", tmp, e->d_name);
        struct scorr_sweep sw;
        n++;
        int rc = scorr_sweep_load(file, out, &sw);
        CHECK(rc == 0, "%s does not load", file);
        if (rc) {
            scorr_error_print(stderr, "  ");
            continue;
        }
        CHECK_OK(scorr_sweep_write(&sw, bin));
        if (strstr(e->d_name, "ablation")) {
            check_ablation(&sw);
            ablations++;
        }
        scorr_sweep_free(&sw);
    }
    if (d) closedir(d);
    CHECK(ablations == 2, "%d ablation sweeps (SPair-71k and synthetic expected)", ablations);
    printf("%d sweep files\n", n);
    fakes_cleanup();
    return scorr_test_finish("test_sweep_files");
}
