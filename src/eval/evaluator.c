/* The evaluator: per-pair PCK, dense end-point error and pseudo-label
 * quality into a per-pair table; the reduce over ranks; the summaries
 * (include/scorr/eval.h, docs/evaluation.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "scorr/arena.h"
#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/loss.h"
#include "scorr/sparse_flow.h"

static const char *const g_flag_names[SCORR_DIFFICULTY_FLAGS] = {"viewpoint", "scale",
                                                                 "truncation", "occlusion"};
static const char *const g_group_names[SCORR_PSEUDO_GROUPS] = {"inside", "outside", "kept",
                                                               "rejected"};

const char *scorr_eval_flag_name(int flag)
{
    return flag >= 0 && flag < SCORR_DIFFICULTY_FLAGS ? g_flag_names[flag] : "?";
}

const char *scorr_pseudo_group_name(int g)
{
    return g >= 0 && g < SCORR_PSEUDO_GROUPS ? g_group_names[g] : "?";
}

void scorr_eval_options_default(struct scorr_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->num_alphas = 3;
    o->alphas[0] = 0.05f, o->alphas[1] = 0.1f, o->alphas[2] = 0.15f;
    o->num_modes = 1;
    o->modes[0] = SCORR_PCK_BBOX;
    o->dilation = 7;
    o->ratio = 0.9;
    o->pseudo_alpha = 0.1f;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int scorr_eval_parse_alphas(struct scorr_eval_options *o, const char *text)
{
    int err = 0;
    int n = 0;
    const char *p = text;
    SCORR_REQUIRE(text && *text, SCORR_EINVAL, "--alpha: expected a list like 0.05,0.1,0.15, found ''");
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        SCORR_REQUIRE(end != p, SCORR_EINVAL, "--alpha: expected a number at '%s' in '%s'", p, text);
        SCORR_REQUIRE(v > 0 && v <= 1, SCORR_EINVAL,
                      "--alpha: each alpha must be in (0, 1], found %g in '%s'", v, text);
        SCORR_REQUIRE(n < SCORR_EVAL_MAX_ALPHAS, SCORR_EINVAL,
                      "--alpha: at most %d values, found more in '%s'", SCORR_EVAL_MAX_ALPHAS,
                      text);
        o->alphas[n++] = (float)v;
        if (*end == '\0') break;
        SCORR_REQUIRE(*end == ',', SCORR_EINVAL, "--alpha: unexpected '%c' in '%s'", *end, text);
        p = end + 1;
    }
    qsort(o->alphas, (size_t)n, sizeof(float), cmp_float);
    for (int i = 1; i < n; i++)
        SCORR_REQUIRE(o->alphas[i] != o->alphas[i - 1], SCORR_EINVAL,
                      "--alpha: %g is given twice in '%s'", (double)o->alphas[i], text);
    o->num_alphas = n;
done:
    return err;
}

int scorr_eval_set_threshold(struct scorr_eval_options *o, const char *value,
                             const struct scorr_dataset_meta *meta)
{
    int err = 0;
    if (strcmp(value, "auto") == 0) {
        const char *t = meta->pck_threshold;
        if (strcmp(t, "bbox") == 0) {
            o->num_modes = 1, o->modes[0] = SCORR_PCK_BBOX;
        } else if (strcmp(t, "img") == 0) {
            o->num_modes = 1, o->modes[0] = SCORR_PCK_IMG;
        } else if (strcmp(t, "kpsbox") == 0) {
            /* PF-WILLOW: the paper's number and the corrected one, both named */
            o->num_modes = 2, o->modes[0] = SCORR_PCK_WILLOW_REF, o->modes[1] = SCORR_PCK_KPSBOX;
        } else {
            SCORR_FAIL(SCORR_EFORMAT,
                       "the dataset's pck_threshold attribute is '%s'; expected bbox, img or kpsbox",
                       t);
        }
    } else {
        enum scorr_pck_threshold m;
        SCORR_REQUIRE(scorr_pck_threshold_parse(value, &m) == 0, SCORR_EINVAL,
                      "--threshold: expected auto, bbox, img, willow-ref or kpsbox, found '%s'",
                      value);
        o->num_modes = 1, o->modes[0] = m;
    }
done:
    return err;
}

static void layout(struct eval_cols *c, const struct scorr_eval_options *o)
{
    int k = 0;
    c->done = k++;
    c->nkps = k++;
    for (int m = 0; m < o->num_modes; m++) {
        c->thr[m] = k++;
        for (int a = 0; a < o->num_alphas; a++) c->correct[m][a] = k++;
    }
    c->epe_sum = k++, c->pixels = k++, c->grid_sum = k++, c->cells = k++;
    for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
        c->ps_pos[g] = k++;
        c->ps_ok[g] = k++;
        c->ps_epe[g] = k++;
    }
    c->ps_cand = k++;
    c->count = k;
}

void scorr_evaluator_free(struct scorr_evaluator *ev)
{
    if (!ev) return;
    scorr_aligned_free(ev->table);
    void *bufs[] = {ev->pred, ev->cell_gt, ev->cell_has, ev->label_flow, ev->label_mask,
                    ev->cand, ev->keep, ev->values, ev->order};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) scorr_aligned_free(bufs[i]);
    free(ev);
}

int scorr_evaluator_create(const struct scorr_eval_options *o, const struct scorr_split *split,
                           int image_size, int num_categories, struct scorr_evaluator **out)
{
    int err = 0;
    struct scorr_evaluator *ev = NULL;
    *out = NULL;
    const int S = image_size, G = o->grid;
    SCORR_REQUIRE(S > 0 && G > 0 && G <= S && S % G == 0, SCORR_EINVAL,
                  "evaluation: the flow grid %d must divide the image size %d", G, S);
    SCORR_REQUIRE(o->num_alphas >= 1 && o->num_alphas <= SCORR_EVAL_MAX_ALPHAS, SCORR_EINVAL,
                  "evaluation: 1..%d alphas expected, found %d", SCORR_EVAL_MAX_ALPHAS,
                  o->num_alphas);
    SCORR_REQUIRE(o->num_modes >= 1 && o->num_modes <= SCORR_EVAL_MAX_MODES, SCORR_EINVAL,
                  "evaluation: 1..%d threshold modes expected, found %d", SCORR_EVAL_MAX_MODES,
                  o->num_modes);
    SCORR_REQUIRE(o->dilation == SCORR_DILATE_NONE || (o->dilation > 0 && o->dilation % 2 == 1),
                  SCORR_EINVAL, "--dilation: expected an odd kernel size or none, found %d",
                  o->dilation);
    SCORR_REQUIRE(o->ratio > 0 && o->ratio <= 1, SCORR_EINVAL,
                  "--ratio: expected a selection ratio in (0, 1], found %g", o->ratio);
    SCORR_REQUIRE(o->pseudo_alpha > 0, SCORR_EINVAL,
                  "--pseudo-alpha: expected a positive value, found %g", (double)o->pseudo_alpha);
    SCORR_REQUIRE(split->num_pairs >= 0 && split->max_kps >= 0 && split->max_kps <= 255,
                  SCORR_EINVAL, "evaluation: split '%s' has max_kps %d (at most 255 supported)",
                  split->name, split->max_kps);
    for (int64_t p = 0; p < split->num_pairs; p++)
        SCORR_REQUIRE(split->category[p] >= 0 && split->category[p] < num_categories &&
                          split->num_kps[p] >= 0 && split->num_kps[p] <= split->max_kps,
                      SCORR_EFORMAT,
                      "evaluation: split '%s' pair %lld: category %d (of %d) or keypoint count "
                      "%d (max %d) out of range",
                      split->name, (long long)p, split->category[p], num_categories,
                      split->num_kps[p], split->max_kps);
    ev = calloc(1, sizeof *ev);
    SCORR_REQUIRE(ev, SCORR_ENOMEM, "out of memory");
    ev->opt = *o;
    ev->split = split;
    ev->S = S, ev->G = G, ev->stride = S / G, ev->K = num_categories;
    ev->box = scorr_sparse_flow_default_box(ev->stride);
    ev->P = split->num_pairs;
    layout(&ev->col, o);
    size_t G2 = (size_t)G * G, M = (size_t)(split->max_kps > 0 ? split->max_kps : 1);
    ev->table = scorr_aligned_calloc((size_t)(ev->P > 0 ? ev->P : 1) * ev->col.count *
                                     sizeof(double));
    ev->pred = scorr_aligned_calloc(M * 2 * sizeof(float));
    ev->cell_gt = scorr_aligned_calloc(G2 * 2 * sizeof(float));
    ev->cell_has = scorr_aligned_calloc(G2);
    ev->label_flow = scorr_aligned_calloc(G2 * 2 * sizeof(float));
    ev->label_mask = scorr_aligned_calloc(G2);
    ev->cand = scorr_aligned_calloc(G2);
    ev->keep = scorr_aligned_calloc(G2);
    ev->values = scorr_aligned_calloc(G2 * sizeof(float));
    ev->order = scorr_aligned_calloc(G2 * sizeof(int32_t));
    SCORR_REQUIRE(ev->table && ev->pred && ev->cell_gt && ev->cell_has && ev->label_flow &&
                      ev->label_mask && ev->cand && ev->keep && ev->values && ev->order,
                  SCORR_ENOMEM, "evaluation: out of memory for the table of %lld pairs",
                  (long long)ev->P);
    *out = ev;
    ev = NULL;
done:
    scorr_evaluator_free(ev);
    return err;
}

const struct scorr_eval_options *scorr_evaluator_options(const struct scorr_evaluator *ev)
{
    return &ev->opt;
}

const struct scorr_split *scorr_evaluator_split(const struct scorr_evaluator *ev)
{
    return ev->split;
}

static inline int gt_valid(const float *dense, const uint8_t *fg, size_t i)
{
    return (!fg || fg[i]) && isfinite(dense[2 * i]) && isfinite(dense[2 * i + 1]);
}

/* Dense EPE at every valid pixel, and the ground truth averaged per grid cell
 * (cells where at least half the pixels are valid). */
static void dense_metrics(struct scorr_evaluator *ev, double *row, const float *flow,
                          const float *dense, const uint8_t *fg)
{
    const int S = ev->S, G = ev->G, s = ev->stride;
    const struct eval_cols *c = &ev->col;
    double sum = 0;
    int64_t pixels = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            size_t i = (size_t)y * S + x;
            if (!gt_valid(dense, fg, i)) continue;
            float d[2];
            scorr_flow_at_pixel(flow, G, S, x, y, d);
            double ex = (double)d[0] - dense[2 * i], ey = (double)d[1] - dense[2 * i + 1];
            sum += sqrt(ex * ex + ey * ey);
            pixels++;
        }
    double gsum = 0;
    int64_t cells = 0;
    for (int r = 0; r < G; r++)
        for (int q = 0; q < G; q++) {
            size_t cell = (size_t)r * G + q;
            double ax = 0, ay = 0;
            int n = 0;
            for (int y = r * s; y < (r + 1) * s; y++)
                for (int x = q * s; x < (q + 1) * s; x++) {
                    size_t i = (size_t)y * S + x;
                    if (!gt_valid(dense, fg, i)) continue;
                    ax += dense[2 * i], ay += dense[2 * i + 1];
                    n++;
                }
            ev->cell_has[cell] = (uint8_t)(2 * n >= s * s && n > 0);
            if (!ev->cell_has[cell]) continue;
            ev->cell_gt[2 * cell] = (float)(ax / n);
            ev->cell_gt[2 * cell + 1] = (float)(ay / n);
            double ex = (double)flow[2 * cell] * s - ev->cell_gt[2 * cell];
            double ey = (double)flow[2 * cell + 1] * s - ev->cell_gt[2 * cell + 1];
            gsum += sqrt(ex * ex + ey * ey);
            cells++;
        }
    row[c->epe_sum] = sum;
    row[c->pixels] = (double)pixels;
    row[c->grid_sum] = gsum;
    row[c->cells] = (double)cells;
}

/* Pseudo-label quality of one pair: the peer's grid flow against the cell
 * ground truth (dense_metrics must have run), grouped by the dilated label
 * mask and the small-loss selection, as training builds them. */
static void pseudo_metrics(struct scorr_evaluator *ev, double *row, const float *flow,
                           const float *peer, const float *sk, const float *tk, int n, double T)
{
    const int G = ev->G, s = ev->stride;
    const int64_t G2 = (int64_t)G * G;
    const struct eval_cols *c = &ev->col;
    const struct scorr_flow_shape shape = {1, G, G};
    scorr_sparse_flow(ev->label_flow, ev->label_mask, sk, tk, n, ev->S, s, ev->box);
    scorr_mask_dilate(ev->cand, ev->label_mask, ev->opt.dilation, &shape);
    /* training ranks the candidates by ||flow - pseudo|| (symmetric in mt) */
    scorr_epe_map(ev->values, flow, peer, ev->cand, &shape);
    memset(ev->keep, 0, (size_t)G2);
    scorr_select_smallest(ev->keep, ev->values, ev->cand, G2, ev->opt.ratio, ev->order);
    const double thr = (double)ev->opt.pseudo_alpha * T;
    int64_t pos[SCORR_PSEUDO_GROUPS] = {0}, ok[SCORR_PSEUDO_GROUPS] = {0}, cand = 0;
    double epe[SCORR_PSEUDO_GROUPS] = {0};
    for (int64_t q = 0; q < G2; q++) {
        cand += ev->cand[q] != 0;
        if (!ev->cell_has[q]) continue;
        double ex = (double)peer[2 * q] * s - ev->cell_gt[2 * q];
        double ey = (double)peer[2 * q + 1] * s - ev->cell_gt[2 * q + 1];
        double e = sqrt(ex * ex + ey * ey);
        int good = e <= thr;
        int groups[2] = {ev->cand[q] ? SCORR_PSEUDO_INSIDE : SCORR_PSEUDO_OUTSIDE, -1};
        if (ev->cand[q]) groups[1] = ev->keep[q] ? SCORR_PSEUDO_KEPT : SCORR_PSEUDO_REJECTED;
        for (int k = 0; k < 2; k++) {
            if (groups[k] < 0) continue;
            pos[groups[k]]++;
            ok[groups[k]] += good;
            epe[groups[k]] += e;
        }
    }
    for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
        row[c->ps_pos[g]] = (double)pos[g];
        row[c->ps_ok[g]] = (double)ok[g];
        row[c->ps_epe[g]] = epe[g];
    }
    row[c->ps_cand] = (double)cand;
}

int scorr_evaluator_add(struct scorr_evaluator *ev, int64_t pair, const float *flow,
                        const float *dense, const uint8_t *fg, const float *peer)
{
    int err = 0;
    const struct scorr_split *sp = ev->split;
    const struct eval_cols *c = &ev->col;
    SCORR_REQUIRE(pair >= 0 && pair < ev->P, SCORR_EINVAL,
                  "evaluation: split '%s' has no pair %lld (it has %lld)", sp->name,
                  (long long)pair, (long long)ev->P);
    double *row = ev->table + (size_t)pair * c->count;
    SCORR_REQUIRE(row[c->done] == 0, SCORR_EINVAL, "evaluation: pair %lld of split '%s' added twice",
                  (long long)pair, sp->name);
    SCORR_REQUIRE(flow, SCORR_EINVAL, "evaluation: no flow given for pair %lld", (long long)pair);
    SCORR_REQUIRE(dense || !(ev->opt.dense || ev->opt.pseudo), SCORR_EINVAL,
                  "evaluation: pair %lld: the dense ground truth is required (dense EPE or "
                  "pseudo-label quality requested)",
                  (long long)pair);
    SCORR_REQUIRE(peer || !ev->opt.pseudo, SCORR_EINVAL,
                  "evaluation: pair %lld: pseudo-label quality needs the peer's flow",
                  (long long)pair);
    const int n = sp->num_kps[pair], M = sp->max_kps;
    const float *sk = sp->src_kps + (size_t)pair * M * 2, *tk = sp->trg_kps + (size_t)pair * M * 2;
    row[c->nkps] = n;
    if (n > 0) {
        scorr_flow_to_kps(ev->pred, flow, ev->G, ev->S, tk, n);
        for (int m = 0; m < ev->opt.num_modes; m++) {
            float T = scorr_pck_threshold_value(ev->opt.modes[m], sk, n, sp->src_bbox + 4 * pair,
                                                ev->S);
            row[c->thr[m]] = T;
            for (int a = 0; a < ev->opt.num_alphas; a++)
                row[c->correct[m][a]] = scorr_pck_count(ev->pred, sk, n, ev->opt.alphas[a], T);
        }
    }
    if (ev->opt.dense || ev->opt.pseudo) dense_metrics(ev, row, flow, dense, fg);
    /* a pair without keypoints has no label mask and no threshold T */
    if (ev->opt.pseudo && n > 0) pseudo_metrics(ev, row, flow, peer, sk, tk, n, row[c->thr[0]]);
    row[c->done] = 1;
done:
    return err;
}

int scorr_evaluator_reduce(struct scorr_evaluator *ev, const struct scorr_comm *c)
{
    int err = 0;
    const size_t n = (size_t)ev->P * ev->col.count;
    if (c && scorr_comm_size(c) > 1 && n > 0) {
        /* In pieces: MPI counts are ints. Every row is non-zero on one rank only,
         * so the sums are exact. */
        const size_t chunk = (size_t)1 << 24;
        for (size_t off = 0; off < n; off += chunk)
            SCORR_TRY(scorr_comm_sum_f64(c, ev->table + off, n - off < chunk ? n - off : chunk));
    }
    for (int64_t p = 0; p < ev->P; p++) {
        double d = ev->table[(size_t)p * ev->col.count + ev->col.done];
        SCORR_REQUIRE(d == 0 || d == 1, SCORR_EINTERNAL,
                      "evaluation: pair %lld of split '%s' was evaluated on %g ranks", (long long)p,
                      ev->split->name, d);
    }
done:
    return err;
}

int64_t scorr_evaluator_pairs_done(const struct scorr_evaluator *ev)
{
    int64_t k = 0;
    for (int64_t p = 0; p < ev->P; p++) k += ev->table[(size_t)p * ev->col.count + ev->col.done] != 0;
    return k;
}

static int matches(const struct scorr_evaluator *ev, int64_t p, const struct scorr_eval_filter *f)
{
    const struct scorr_split *sp = ev->split;
    if (ev->table[(size_t)p * ev->col.count + ev->col.done] == 0) return 0;
    if (f->category >= 0 && sp->category[p] != f->category) return 0;
    if (f->flag >= 0) {
        if (!sp->difficulty) return 0;
        if (sp->difficulty[p * SCORR_DIFFICULTY_FLAGS + f->flag] != f->flag_value) return 0;
    }
    return 1;
}

void scorr_evaluator_pck(const struct scorr_evaluator *ev, int mode,
                         const struct scorr_eval_filter *f, struct scorr_pck_stats *out)
{
    const struct eval_cols *c = &ev->col;
    const int A = ev->opt.num_alphas;
    SCORR_ASSERT(mode >= 0 && mode < ev->opt.num_modes);
    double per_image[SCORR_EVAL_MAX_ALPHAS] = {0}, correct[SCORR_EVAL_MAX_ALPHAS] = {0};
    memset(out, 0, sizeof *out);
    for (int64_t p = 0; p < ev->P; p++) {
        if (!matches(ev, p, f)) continue;
        const double *row = ev->table + (size_t)p * c->count;
        int n = (int)row[c->nkps];
        if (n <= 0) continue; /* the reference divides by n: such pairs have no PCK */
        out->pairs++;
        out->points += n;
        for (int a = 0; a < A; a++) {
            per_image[a] += 100.0 * row[c->correct[mode][a]] / n;
            correct[a] += row[c->correct[mode][a]];
        }
    }
    for (int a = 0; a < SCORR_EVAL_MAX_ALPHAS; a++) {
        out->pck[a] = out->pairs && a < A ? per_image[a] / (double)out->pairs : NAN;
        out->pck_point[a] = out->points && a < A ? 100.0 * correct[a] / (double)out->points : NAN;
    }
}

int scorr_evaluator_flag_values(const struct scorr_evaluator *ev, int flag, int *values, int max)
{
    const struct scorr_split *sp = ev->split;
    if (!sp->difficulty || flag < 0 || flag >= SCORR_DIFFICULTY_FLAGS) return 0;
    int seen[128] = {0};
    for (int64_t p = 0; p < ev->P; p++) {
        if (ev->table[(size_t)p * ev->col.count + ev->col.done] == 0) continue;
        int v = sp->difficulty[p * SCORR_DIFFICULTY_FLAGS + flag];
        if (v >= 0 && v < 128) seen[v] = 1;
    }
    int k = 0;
    for (int v = 0; v < 128 && k < max; v++)
        if (seen[v]) values[k++] = v;
    return k;
}

void scorr_evaluator_dense(const struct scorr_evaluator *ev, struct scorr_dense_stats *out)
{
    const struct eval_cols *c = &ev->col;
    double sum = 0, gsum = 0, pix = 0, cells = 0;
    for (int64_t p = 0; p < ev->P; p++) {
        const double *row = ev->table + (size_t)p * c->count;
        if (row[c->done] == 0) continue;
        sum += row[c->epe_sum], pix += row[c->pixels];
        gsum += row[c->grid_sum], cells += row[c->cells];
    }
    out->pixels = (int64_t)pix;
    out->cells = (int64_t)cells;
    out->epe_fg = pix > 0 ? sum / pix : NAN;
    out->epe_fg_grid = cells > 0 ? gsum / cells : NAN;
}

void scorr_evaluator_pseudo(const struct scorr_evaluator *ev, struct scorr_pseudo_stats *out)
{
    const struct eval_cols *c = &ev->col;
    double pos[SCORR_PSEUDO_GROUPS] = {0}, ok[SCORR_PSEUDO_GROUPS] = {0},
           epe[SCORR_PSEUDO_GROUPS] = {0}, cand = 0;
    for (int64_t p = 0; p < ev->P; p++) {
        const double *row = ev->table + (size_t)p * c->count;
        if (row[c->done] == 0) continue;
        for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
            pos[g] += row[c->ps_pos[g]];
            ok[g] += row[c->ps_ok[g]];
            epe[g] += row[c->ps_epe[g]];
        }
        cand += row[c->ps_cand];
    }
    for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
        out->positions[g] = (int64_t)pos[g];
        out->correct[g] = (int64_t)ok[g];
        out->precision[g] = pos[g] > 0 ? 100.0 * ok[g] / pos[g] : NAN;
        out->epe[g] = pos[g] > 0 ? epe[g] / pos[g] : NAN;
    }
    out->candidates = (int64_t)cand;
}

int scorr_evaluator_pair(const struct scorr_evaluator *ev, int64_t pair,
                         struct scorr_eval_pair_row *r)
{
    const struct eval_cols *c = &ev->col;
    memset(r, 0, sizeof *r);
    if (pair < 0 || pair >= ev->P) return 0;
    const double *row = ev->table + (size_t)pair * c->count;
    if (row[c->done] == 0) return 0;
    r->num_kps = (int)row[c->nkps];
    for (int m = 0; m < ev->opt.num_modes; m++) {
        r->T[m] = row[c->thr[m]];
        for (int a = 0; a < ev->opt.num_alphas; a++) r->correct[m][a] = (int)row[c->correct[m][a]];
    }
    r->epe_sum = row[c->epe_sum], r->pixels = (int64_t)row[c->pixels];
    r->grid_epe_sum = row[c->grid_sum], r->cells = (int64_t)row[c->cells];
    for (int g = 0; g < SCORR_PSEUDO_GROUPS; g++) {
        r->pseudo_positions[g] = (int64_t)row[c->ps_pos[g]];
        r->pseudo_correct[g] = (int64_t)row[c->ps_ok[g]];
    }
    return 1;
}
