/* Every sweep file in experiments/sweeps/ loads, expands and writes; the
 * ablation sweeps hold the paper's cells: A0..A6 with exactly the module
 * switches of Table 4, st with the A3 of its seed as teacher, the dilation
 * kernels of Table 6, three seeds each. */
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

static void check_ablation(const struct scorr_sweep *sw)
{
    CHECK(sw->n_cells == 30, "%s: %d cells, expected 10 settings x 3 seeds", sw->name,
          sw->n_cells);
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
