/* Evaluation reports: eval_<split>.json (the format scorr_table reads),
 * eval_<split>_pairs.csv, eval_<split>_categories.csv and the console table
 * (docs/evaluation.md). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

/* The alpha as its key ("%g") and as the double that key denotes. */
static void alpha_key(float a, char *out, size_t n) { snprintf(out, n, "%g", (double)a); }
static double alpha_value(float a)
{
    char k[32];
    alpha_key(a, k, sizeof k);
    return strtod(k, NULL);
}

static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* {"0.05": x, "0.1": y, ...} */
static cJSON *alpha_map(const struct scorr_eval_options *o, const double *v)
{
    cJSON *m = cJSON_CreateObject();
    for (int a = 0; a < o->num_alphas; a++) {
        char k[32];
        alpha_key(o->alphas[a], k, sizeof k);
        add_num(m, k, v[a]);
    }
    return m;
}

/* Into g: pairs, points, pck, pck_per_point of the primary mode, and per
 * mode when there are several. */
static void add_group(cJSON *g, const struct scorr_evaluator *ev,
                      const struct scorr_eval_filter *f)
{
    const struct scorr_eval_options *o = &ev->opt;
    struct scorr_pck_stats s;
    scorr_evaluator_pck(ev, 0, f, &s);
    cJSON_AddNumberToObject(g, "pairs", (double)s.pairs);
    cJSON_AddNumberToObject(g, "points", (double)s.points);
    cJSON_AddItemToObject(g, "pck", alpha_map(o, s.pck));
    cJSON_AddItemToObject(g, "pck_per_point", alpha_map(o, s.pck_point));
    if (o->num_modes > 1) {
        cJSON *t = cJSON_AddObjectToObject(g, "thresholds");
        for (int m = 0; m < o->num_modes; m++) {
            scorr_evaluator_pck(ev, m, f, &s);
            cJSON *e = cJSON_AddObjectToObject(t, scorr_pck_threshold_name(o->modes[m]));
            cJSON_AddItemToObject(e, "pck", alpha_map(o, s.pck));
            cJSON_AddItemToObject(e, "pck_per_point", alpha_map(o, s.pck_point));
        }
    }
}

/* The group's numbers as a new object. */
static cJSON *group_json(const struct scorr_evaluator *ev, const struct scorr_eval_filter *f)
{
    cJSON *g = cJSON_CreateObject();
    add_group(g, ev, f);
    return g;
}

static int has_category(const struct scorr_evaluator *ev, int k)
{
    struct scorr_pck_stats s;
    struct scorr_eval_filter f = {k, -1, 0};
    scorr_evaluator_pck(ev, 0, &f, &s);
    return s.pairs > 0;
}

static const char *category_name(const struct scorr_eval_info *info, int k, char *buf, size_t n)
{
    if (info->category_names && info->category_names[k]) return info->category_names[k];
    snprintf(buf, n, "category_%d", k);
    return buf;
}

int scorr_eval_json(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                    char **out)
{
    int err = 0;
    const struct scorr_eval_options *o = &ev->opt;
    cJSON *j = cJSON_CreateObject();
    *out = NULL;
    SCORR_REQUIRE(j, SCORR_ENOMEM, "out of memory");
    cJSON_AddStringToObject(j, "format", "scorr-eval");
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddStringToObject(j, "checkpoint", info->checkpoint ? info->checkpoint : "");
    cJSON_AddNumberToObject(j, "network", info->network);
    cJSON_AddStringToObject(j, "data", info->data ? info->data : "");
    cJSON_AddStringToObject(j, "split", info->split ? info->split : ev->split->name);
    cJSON_AddStringToObject(j, "source", info->source ? info->source : "");
    cJSON_AddStringToObject(j, "threshold", scorr_pck_threshold_name(o->modes[0]));
    cJSON *al = cJSON_AddArrayToObject(j, "alphas");
    for (int a = 0; a < o->num_alphas; a++)
        cJSON_AddItemToArray(al, cJSON_CreateNumber(alpha_value(o->alphas[a])));
    const struct scorr_eval_filter all = SCORR_EVAL_ALL;
    add_group(j, ev, &all);
    cJSON *pc = cJSON_AddObjectToObject(j, "per_category");
    for (int k = 0; k < ev->K; k++) {
        if (!has_category(ev, k)) continue;
        char buf[32];
        struct scorr_eval_filter f = {k, -1, 0};
        cJSON_AddItemToObject(pc, category_name(info, k, buf, sizeof buf), group_json(ev, &f));
    }
    cJSON *pd = NULL;
    for (int flag = 0; flag < SCORR_DIFFICULTY_FLAGS; flag++) {
        int vals[16];
        int nv = scorr_evaluator_flag_values(ev, flag, vals, 16);
        if (nv == 0) continue;
        if (!pd) pd = cJSON_AddObjectToObject(j, "per_difficulty");
        cJSON *fo = cJSON_AddObjectToObject(pd, scorr_eval_flag_name(flag));
        for (int i = 0; i < nv; i++) {
            char k[16];
            snprintf(k, sizeof k, "%d", vals[i]);
            struct scorr_eval_filter f = {-1, flag, vals[i]};
            cJSON_AddItemToObject(fo, k, group_json(ev, &f));
        }
    }
    if (o->dense) {
        struct scorr_dense_stats d;
        scorr_evaluator_dense(ev, &d);
        cJSON *e = cJSON_AddObjectToObject(j, "dense");
        add_num(e, "epe_fg", d.epe_fg);
        add_num(e, "epe_fg_grid", d.epe_fg_grid);
        cJSON_AddNumberToObject(e, "pixels", (double)d.pixels);
        cJSON_AddNumberToObject(e, "cells", (double)d.cells);
        cJSON_AddNumberToObject(e, "grid", ev->G);
    }
    if (o->pseudo) {
        struct scorr_pseudo_stats ps;
        scorr_evaluator_pseudo(ev, &ps);
        cJSON *e = cJSON_AddObjectToObject(j, "pseudo");
        cJSON_AddStringToObject(e, "peer", info->peer ? info->peer : "");
        if (o->dilation == 0)
            cJSON_AddStringToObject(e, "dilation", "none");
        else
            cJSON_AddNumberToObject(e, "dilation", o->dilation);
        cJSON_AddNumberToObject(e, "ratio", o->ratio);
        cJSON_AddNumberToObject(e, "alpha", alpha_value(o->pseudo_alpha));
        cJSON_AddStringToObject(e, "correct_if", "pseudo-label EPE <= alpha * T (px, T of the "
                                                 "primary threshold), against the cell-averaged "
                                                 "dense ground truth");
        cJSON_AddNumberToObject(e, "candidates", (double)ps.candidates);
        for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
            cJSON *ge = cJSON_AddObjectToObject(e, scorr_pseudo_group_name(g));
            cJSON_AddNumberToObject(ge, "positions", (double)ps.positions[g]);
            cJSON_AddNumberToObject(ge, "correct", (double)ps.correct[g]);
            add_num(ge, "precision", ps.precision[g]);
            add_num(ge, "epe", ps.epe[g]);
        }
    }
    cJSON_AddNumberToObject(j, "ranks", info->ranks);
    add_num(j, "seconds", info->seconds);
    *out = cJSON_Print(j);
    SCORR_REQUIRE(*out, SCORR_ENOMEM, "out of memory printing the evaluation JSON");
done:
    cJSON_Delete(j);
    return err;
}

/* A CSV field: quoted when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputs(",", f);
}

static void pairs_csv(const struct scorr_evaluator *ev, const struct scorr_eval_info *info, FILE *f)
{
    const struct scorr_eval_options *o = &ev->opt;
    const struct scorr_split *sp = ev->split;
    fputs("pair,name,category,num_kps,viewpoint,scale,truncation,occlusion", f);
    for (int m = 0; m < o->num_modes; m++) {
        const char *mn = scorr_pck_threshold_name(o->modes[m]);
        fprintf(f, ",T_%s", mn);
        for (int a = 0; a < o->num_alphas; a++) fprintf(f, ",correct_%s@%g", mn, (double)o->alphas[a]);
        for (int a = 0; a < o->num_alphas; a++) fprintf(f, ",pck_%s@%g", mn, (double)o->alphas[a]);
    }
    if (o->dense) fputs(",epe_fg,pixels,epe_fg_grid,cells", f);
    if (o->pseudo)
        for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++)
            fprintf(f, ",pseudo_%s_positions,pseudo_%s_correct", scorr_pseudo_group_name(g),
                    scorr_pseudo_group_name(g));
    fputc('\n', f);
    for (int64_t p = 0; p < ev->P; p++) {
        struct scorr_eval_pair_row r;
        if (!scorr_evaluator_pair(ev, p, &r)) continue;
        char buf[32];
        fprintf(f, "%lld,", (long long)p);
        if (sp->pair_names && sp->pair_names[p])
            csv_str(f, sp->pair_names[p]);
        else
            fprintf(f, "%lld", (long long)p);
        fputc(',', f);
        csv_str(f, category_name(info, sp->category[p], buf, sizeof buf));
        fprintf(f, ",%d", r.num_kps);
        for (int k = 0; k < SCORR_DIFFICULTY_FLAGS; k++) {
            int v = sp->difficulty ? sp->difficulty[p * SCORR_DIFFICULTY_FLAGS + k] : -1;
            fprintf(f, ",%d", v);
        }
        for (int m = 0; m < o->num_modes; m++) {
            csv_num(f, r.T[m]);
            for (int a = 0; a < o->num_alphas; a++) fprintf(f, ",%d", r.correct[m][a]);
            for (int a = 0; a < o->num_alphas; a++)
                csv_num(f, r.num_kps > 0 ? 100.0 * r.correct[m][a] / r.num_kps : NAN);
        }
        if (o->dense) {
            csv_num(f, r.pixels ? r.epe_sum / (double)r.pixels : NAN);
            fprintf(f, ",%lld", (long long)r.pixels);
            csv_num(f, r.cells ? r.grid_epe_sum / (double)r.cells : NAN);
            fprintf(f, ",%lld", (long long)r.cells);
        }
        if (o->pseudo)
            for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++)
                fprintf(f, ",%lld,%lld", (long long)r.pseudo_positions[g],
                        (long long)r.pseudo_correct[g]);
        fputc('\n', f);
    }
}

static void categories_csv(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                           FILE *f)
{
    const struct scorr_eval_options *o = &ev->opt;
    fputs("category,pairs,points", f);
    for (int m = 0; m < o->num_modes; m++) {
        const char *mn = scorr_pck_threshold_name(o->modes[m]);
        for (int a = 0; a < o->num_alphas; a++) fprintf(f, ",pck_%s@%g", mn, (double)o->alphas[a]);
        for (int a = 0; a < o->num_alphas; a++)
            fprintf(f, ",pck_per_point_%s@%g", mn, (double)o->alphas[a]);
    }
    fputc('\n', f);
    for (int k = -1; k < ev->K; k++) {
        if (k >= 0 && !has_category(ev, k)) continue;
        struct scorr_eval_filter flt = {k, -1, 0};
        struct scorr_pck_stats s;
        char buf[32];
        scorr_evaluator_pck(ev, 0, &flt, &s);
        csv_str(f, k < 0 ? "all" : category_name(info, k, buf, sizeof buf));
        fprintf(f, ",%lld,%lld", (long long)s.pairs, (long long)s.points);
        for (int m = 0; m < o->num_modes; m++) {
            scorr_evaluator_pck(ev, m, &flt, &s);
            for (int a = 0; a < o->num_alphas; a++) csv_num(f, s.pck[a]);
            for (int a = 0; a < o->num_alphas; a++) csv_num(f, s.pck_point[a]);
        }
        fputc('\n', f);
    }
}

/* Write what `fill` prints to dir/name atomically. */
static int write_text(const char *dir, const char *name,
                      void (*fill)(const struct scorr_evaluator *, const struct scorr_eval_info *,
                                   FILE *),
                      const struct scorr_evaluator *ev, const struct scorr_eval_info *info)
{
    int err = 0;
    char *buf = NULL;
    size_t len = 0;
    char path[4096];
    FILE *f = open_memstream(&buf, &len);
    SCORR_REQUIRE(f, SCORR_ENOMEM, "out of memory");
    fill(ev, info, f);
    fclose(f);
    SCORR_TRY(scorr_path_join(path, sizeof path, dir, name));
    SCORR_TRY(scorr_write_file_atomic(path, buf, len));
done:
    free(buf);
    return err;
}

int scorr_eval_write_report(const struct scorr_evaluator *ev, const struct scorr_eval_info *info,
                            const char *dir)
{
    int err = 0;
    char *json = NULL, *text = NULL;
    char name[128], path[4096];
    const char *split = info->split ? info->split : ev->split->name;
    SCORR_TRY(scorr_mkdirs(dir));
    SCORR_TRY(scorr_eval_json(ev, info, &json));
    snprintf(name, sizeof name, "eval_%s.json", split);
    SCORR_TRY(scorr_path_join(path, sizeof path, dir, name));
    size_t n = strlen(json);
    text = malloc(n + 2);
    SCORR_REQUIRE(text, SCORR_ENOMEM, "out of memory");
    memcpy(text, json, n);
    text[n] = '\n';
    SCORR_TRY(scorr_write_file_atomic(path, text, n + 1));
    snprintf(name, sizeof name, "eval_%s_pairs.csv", split);
    SCORR_TRY(write_text(dir, name, pairs_csv, ev, info));
    snprintf(name, sizeof name, "eval_%s_categories.csv", split);
    SCORR_TRY(write_text(dir, name, categories_csv, ev, info));
done:
    free(json);
    free(text);
    return err;
}
