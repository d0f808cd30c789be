/* The console table of an evaluation (include/scorr/eval.h). */
#include <math.h>
#include <stdio.h>

#include "eval_internal.h"

static const char *mode_meaning(enum scorr_pck_threshold t)
{
    switch (t) {
    case SCORR_PCK_BBOX: return "max side of the source object box";
    case SCORR_PCK_IMG: return "the image side S";
    case SCORR_PCK_WILLOW_REF:
        return "max(max x, max y) + 1 of the source keypoints, as the paper's code (PF-WILLOW)";
    case SCORR_PCK_KPSBOX: return "max side of the source keypoints' box (corrected)";
    }
    return "?";
}

static void header(const struct scorr_eval_options *o, const char *first, FILE *f)
{
    fprintf(f, "  %-16s %7s", first, "pairs");
    for (int a = 0; a < o->num_alphas; a++) {
        char k[32];
        snprintf(k, sizeof k, "@%g", (double)o->alphas[a]);
        fprintf(f, " %7s", k);
    }
    fputc('\n', f);
}

static void values(const struct scorr_eval_options *o, const double *v, FILE *f)
{
    for (int a = 0; a < o->num_alphas; a++) {
        if (isfinite(v[a]))
            fprintf(f, " %7.2f", v[a]);
        else
            fprintf(f, " %7s", "-");
    }
    fputc('\n', f);
}

static void group_row(const struct scorr_evaluator *ev, int mode, const char *name,
                      const struct scorr_eval_filter *flt, FILE *f)
{
    struct scorr_pck_stats s;
    scorr_evaluator_pck(ev, mode, flt, &s);
    if (s.pairs == 0) return;
    fprintf(f, "  %-16s %7lld", name, (long long)s.pairs);
    values(&ev->opt, s.pck, f);
}

void scorr_eval_print_table(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                            FILE *f)
{
    const struct scorr_eval_options *o = &ev->opt;
    const struct scorr_eval_filter all = SCORR_EVAL_ALL;
    struct scorr_pck_stats s;
    scorr_evaluator_pck(ev, 0, &all, &s);
    fprintf(f, "\n%s (network %d) on %s, split %s (%s): %lld pairs, %lld keypoints",
            info->checkpoint ? info->checkpoint : "flows", info->network,
            info->data ? info->data : "?", info->split ? info->split : ev->split->name,
            info->source ? info->source : "?", (long long)s.pairs, (long long)s.points);
    if (info->ranks > 0) fprintf(f, ", %d rank%s", info->ranks, info->ranks > 1 ? "s" : "");
    if (info->seconds > 0) fprintf(f, ", %.1f s", info->seconds);
    fputs("\n", f);
    for (int m = 0; m < o->num_modes; m++) {
        scorr_evaluator_pck(ev, m, &all, &s);
        fprintf(f, "\nPCK (%%), threshold %s: T = %s%s\n", scorr_pck_threshold_name(o->modes[m]),
                mode_meaning(o->modes[m]),
                o->num_modes > 1 && m == 0 ? " [paper-compatible]" : "");
        header(o, "", f);
        fprintf(f, "  %-16s %7lld", "per image", (long long)s.pairs);
        values(o, s.pck, f);
        fprintf(f, "  %-16s %7lld", "per point", (long long)s.points);
        values(o, s.pck_point, f);
    }
    for (int m = 0; m < o->num_modes; m++) {
        fprintf(f, "\nPer category (PCK per image, threshold %s)\n",
                scorr_pck_threshold_name(o->modes[m]));
        header(o, "category", f);
        for (int k = 0; k < ev->K; k++) {
            char buf[32];
            const char *name = info->category_names && info->category_names[k]
                                   ? info->category_names[k]
                                   : (snprintf(buf, sizeof buf, "category_%d", k), buf);
            struct scorr_eval_filter flt = {k, -1, 0};
            group_row(ev, m, name, &flt, f);
        }
    }
    int printed = 0;
    for (int flag = 0; flag < SCORR_DIFFICULTY_FLAGS; flag++) {
        int vals[16];
        int nv = scorr_evaluator_flag_values(ev, flag, vals, 16);
        if (nv == 0) continue;
        if (!printed) {
            fprintf(f, "\nPer difficulty flag (PCK per image, threshold %s)\n",
                    scorr_pck_threshold_name(o->modes[0]));
            header(o, "flag", f);
            printed = 1;
        }
        for (int i = 0; i < nv; i++) {
            char name[32];
            snprintf(name, sizeof name, "%s=%d", scorr_eval_flag_name(flag), vals[i]);
            struct scorr_eval_filter flt = {-1, flag, vals[i]};
            group_row(ev, 0, name, &flt, f);
        }
    }
    if (o->dense) {
        struct scorr_dense_stats d;
        scorr_evaluator_dense(ev, &d);
        fprintf(f,
                "\nDense end-point error on the target foreground: %.3f px over %lld pixels; "
                "at the %dx%d grid (cell-averaged ground truth): %.3f px over %lld cells\n",
                d.epe_fg, (long long)d.pixels, ev->G, ev->G, d.epe_fg_grid, (long long)d.cells);
    }
    if (o->pseudo) {
        struct scorr_pseudo_stats ps;
        scorr_evaluator_pseudo(ev, &ps);
        char dil[16];
        if (o->dilation)
            snprintf(dil, sizeof dil, "%d", o->dilation);
        else
            snprintf(dil, sizeof dil, "none");
        fprintf(f,
                "\nPseudo-labels of %s (dilation %s, selection ratio %g; correct when the "
                "EPE <= %g T)\n",
                info->peer ? info->peer : "the peer", dil, o->ratio, (double)o->pseudo_alpha);
        fprintf(f, "  %-16s %10s %10s %10s\n", "positions", "count", "precision", "EPE (px)");
        for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
            if (ps.positions[g] == 0) {
                fprintf(f, "  %-16s %10d %10s %10s\n", scorr_pseudo_group_name(g), 0, "-", "-");
                continue;
            }
            fprintf(f, "  %-16s %10lld %9.2f%% %10.3f\n", scorr_pseudo_group_name(g),
                    (long long)ps.positions[g], ps.precision[g], ps.epe[g]);
        }
    }
    fflush(f);
}
