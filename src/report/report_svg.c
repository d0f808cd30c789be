/* Inline SVG charts for the reports: line charts of training curves and
 * mean +- std charts of sweep tables. Plain SVG 1.1, no script. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

#define W 540
#define H 300
#define L 62   /* left margin: y tick labels */
#define R 14
#define T 30   /* title */
#define LEGEND_ROW 14
#define B 46   /* x ticks and label */

static const char *const k_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                       "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define NCOLORS 8

/* A "nice" tick step for a range spanning about `n` ticks. */
static double nice_step(double span, int n)
{
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void fmt_tick(char *out, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0;
    if (step >= 1 || v == 0)
        snprintf(out, n, "%.0f", v);
    else if ((fabs(v) >= 1e-3 && step >= 1e-3) || step >= 0.01)
        snprintf(out, n, "%.*f", (int)ceil(-log10(step) - 1e-9), v);
    else
        snprintf(out, n, "%.0e", v);
}

static void frame(struct scorr_sbuf *b, const char *title, const char *xlabel, const char *ylabel,
                  int width)
{
    scorr_sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                       "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
                    width, H, width, H);
    scorr_sb_printf(b, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">", L);
    html_text(b, title);
    scorr_sb_printf(b, "</text>\n");
    if (xlabel) {
        scorr_sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + (width - L - R) / 2,
                        H - 8);
        html_text(b, xlabel);
        scorr_sb_printf(b, "</text>\n");
    }
    if (ylabel) {
        scorr_sb_printf(b, "<text transform=\"translate(14,%d) rotate(-90)\" "
                           "text-anchor=\"middle\">", T + (H - T - B) / 2);
        html_text(b, ylabel);
        scorr_sb_printf(b, "</text>\n");
    }
}

/* y axis ticks and grid over [lo, hi] (log10 values when logy). */
static void y_axis(struct scorr_sbuf *b, double lo, double hi, int logy, int width, int top)
{
    const double step = logy ? 1 : nice_step(hi - lo, 5);
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
        double py = top + (H - top - B) * (1 - (v - lo) / (hi - lo));
        char lab[32];
        if (logy)
            snprintf(lab, sizeof lab, "1e%.0f", v);
        else
            fmt_tick(lab, sizeof lab, v, step);
        scorr_sb_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e9ed\"/>"
                           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        L, width - R, py, py, L - 4, py + 4, lab);
    }
    scorr_sb_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#555\"/>"
                       "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n",
                    L, L, top, H - B, L, width - R, H - B, H - B);
}

void svg_line_chart(struct scorr_sbuf *b, const struct chart *c)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int shown = 0, with_data = 0, integer_x = 1;
    for (int s = 0; s < c->nseries; s++) {
        int any = 0;
        for (int i = 0; i < c->s[s].n; i++) {
            double x = c->s[s].x[i], y = c->s[s].y[i];
            if (!isfinite(x) || !isfinite(y) || (c->logy && y <= 0)) continue;
            if (c->logy) y = log10(y);
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
            integer_x &= x == floor(x);
            shown = any = 1;
        }
        with_data += any;
    }
    /* the legend in rows of three above the plot */
    const int top = T + LEGEND_ROW * ((with_data + 2) / 3);
    frame(b, c->title, c->xlabel, c->ylabel, W);
    if (!shown) {
        scorr_sb_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#777\">no data</text>\n</svg>\n", L + 10,
                        H / 2);
        return;
    }
    if (x1 == x0) x0 -= 0.5, x1 += 0.5;
    if (c->logy) {
        y0 = floor(y0), y1 = ceil(y1);
        if (y1 == y0) y1 += 1;
    } else {
        double pad = (y1 - y0) * 0.05;
        if (pad == 0) pad = fabs(y1) * 0.1 + 1e-3;
        if (y0 >= 0 && y0 - pad < 0) y0 = 0; else y0 -= pad;
        y1 += pad;
    }
    y_axis(b, y0, y1, c->logy, W, top);
    double xs = nice_step(x1 - x0, 6);
    if (integer_x && xs < 1) xs = 1; /* epochs, steps */
    for (double v = ceil(x0 / xs - 1e-9) * xs; v <= x1 + xs * 1e-9; v += xs) {
        double px = L + (W - L - R) * (v - x0) / (x1 - x0);
        char lab[32];
        fmt_tick(lab, sizeof lab, v, xs);
        scorr_sb_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#555\"/>"
                           "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                        px, px, H - B, H - B + 4, px, H - B + 16, lab);
    }
    int legend = 0;
    for (int s = 0; s < c->nseries; s++) {
        const struct chart_series *se = &c->s[s];
        const char *col = k_colors[s % NCOLORS];
        int any = 0, pen = 0, npts = 0;
        for (int i = 0; i < se->n; i++) {
            double x = se->x[i], y = se->y[i];
            int ok = isfinite(x) && isfinite(y) && !(c->logy && y <= 0);
            if (!ok) {
                pen = 0;
                continue;
            }
            if (c->logy) y = log10(y);
            double px = L + (W - L - R) * (x - x0) / (x1 - x0);
            double py = top + (H - top - B) * (1 - (y - y0) / (y1 - y0));
            if (!any)
                scorr_sb_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", col,
                                se->dashed ? " stroke-dasharray=\"6 3\"" : "");
            scorr_sb_printf(b, "%s%.1f %.1f ", pen ? "L" : "M", px, py);
            any = pen = 1;
            npts++;
        }
        if (!any) continue;
        scorr_sb_printf(b, "\"/>\n");
        if (npts < 30)
            for (int i = 0; i < se->n; i++) {
                double x = se->x[i], y = se->y[i];
                if (!isfinite(x) || !isfinite(y) || (c->logy && y <= 0)) continue;
                if (c->logy) y = log10(y);
                scorr_sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                                L + (W - L - R) * (x - x0) / (x1 - x0),
                                top + (H - top - B) * (1 - (y - y0) / (y1 - y0)), col);
            }
        /* legend entries, in rows of three along the top */
        int lx = L + 8 + (legend % 3) * 150, ly = T + 8 + (legend / 3) * LEGEND_ROW;
        scorr_sb_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                           "stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">", lx, lx + 16, ly - 4,
                        ly - 4, col, se->dashed ? " stroke-dasharray=\"4 2\"" : "", lx + 20, ly);
        html_text(b, se->name);
        scorr_sb_printf(b, "</text>\n");
        legend++;
    }
    scorr_sb_printf(b, "</svg>\n");
}

void svg_error_bars(struct scorr_sbuf *b, const char *title, const char *ylabel,
                    const struct bar *bars, int n)
{
    double y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (!isfinite(bars[i].mean)) continue;
        double s = isfinite(bars[i].std) ? bars[i].std : 0;
        y0 = fmin(y0, bars[i].mean - s), y1 = fmax(y1, bars[i].mean + s);
    }
    const int width = L + R + (n > 0 ? n : 1) * 64 > W ? L + R + n * 64 : W;
    frame(b, title, NULL, ylabel, width);
    if (!(y1 >= y0)) {
        scorr_sb_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#777\">no counted run</text>\n</svg>\n",
                        L + 10, H / 2);
        return;
    }
    double pad = (y1 - y0) * 0.1;
    if (pad == 0) pad = fabs(y1) * 0.1 + 0.5;
    y0 = y0 - pad < 0 && y0 >= 0 ? 0 : y0 - pad;
    y1 += pad;
    y_axis(b, y0, y1, 0, width, T);
    const double slot = (double)(width - L - R) / n;
#define PY(v) (T + (H - T - B) * (1 - ((v) - y0) / (y1 - y0)))
    for (int i = 0; i < n; i++) {
        double cx = L + slot * (i + 0.5);
        scorr_sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", cx, H - B + 16);
        html_text(b, bars[i].label);
        scorr_sb_printf(b, "</text><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                           "fill=\"#777\">n=%d</text>\n", cx, H - B + 29, bars[i].n);
        if (!isfinite(bars[i].mean)) continue;
        const char *col = k_colors[0];
        if (isfinite(bars[i].std))
            scorr_sb_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                               "stroke-width=\"2\"/><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                               "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/><line x1=\"%.1f\" "
                               "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                               "stroke-width=\"2\"/>\n",
                            cx, cx, PY(bars[i].mean - bars[i].std), PY(bars[i].mean + bars[i].std),
                            col, cx - 6, cx + 6, PY(bars[i].mean - bars[i].std),
                            PY(bars[i].mean - bars[i].std), col, cx - 6, cx + 6,
                            PY(bars[i].mean + bars[i].std), PY(bars[i].mean + bars[i].std), col);
        scorr_sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">%.1f</text>\n",
                        cx, PY(bars[i].mean), col, cx + 7, PY(bars[i].mean) - 5, bars[i].mean);
    }
#undef PY
    scorr_sb_printf(b, "</svg>\n");
}
