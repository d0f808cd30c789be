#include "scorr/pck.h"

#include <math.h>
#include <string.h>

static const char *const g_names[] = {"bbox", "img", "willow-ref", "kpsbox"};

int scorr_pck_threshold_parse(const char *s, enum scorr_pck_threshold *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, g_names[i]) == 0) {
            *out = (enum scorr_pck_threshold)i;
            return 0;
        }
    return -1;
}

const char *scorr_pck_threshold_name(enum scorr_pck_threshold t)
{
    return (unsigned)t < 4 ? g_names[t] : "?";
}

/* PyTorch's source index for align_corners=False upsampling: clamped below at 0. */
static void source_index(int dst, int in, int out, int *i0, int *i1, float *lambda)
{
    float scale = (float)in / (float)out;
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    int lo = (int)src;
    if (lo > in - 1) lo = in - 1;
    *i0 = lo;
    *i1 = lo < in - 1 ? lo + 1 : lo;
    *lambda = src - (float)lo;
}

void scorr_flow_at_pixel(const float *flow, int G, int S, int x, int y, float out[2])
{
    int x0, x1, y0, y1;
    float lx, ly;
    source_index(x, G, S, &x0, &x1, &lx);
    source_index(y, G, S, &y0, &y1, &ly);
    float gain = (float)S / (float)G;
    for (int c = 0; c < 2; c++) {
        float a = flow[((size_t)y0 * G + x0) * 2 + c], b = flow[((size_t)y0 * G + x1) * 2 + c];
        float d = flow[((size_t)y1 * G + x0) * 2 + c], e = flow[((size_t)y1 * G + x1) * 2 + c];
        float top = (1 - lx) * a + lx * b, bottom = (1 - lx) * d + lx * e;
        out[c] = ((1 - ly) * top + ly * bottom) * gain;
    }
}

static int clamp_px(float v, int S)
{
    /* torch .long() truncates toward zero, then clamp to [0, S-1]. */
    long t = (long)v;
    if (t < 0) t = 0;
    if (t > S - 1) t = S - 1;
    return (int)t;
}

void scorr_flow_to_kps(float *pred, const float *flow, int G, int S, const float *trg_kps, int n)
{
    for (int i = 0; i < n; i++) {
        int x = clamp_px(trg_kps[2 * i], S), y = clamp_px(trg_kps[2 * i + 1], S);
        float d[2];
        scorr_flow_at_pixel(flow, G, S, x, y, d);
        pred[2 * i] = (float)x + d[0];
        pred[2 * i + 1] = (float)y + d[1];
    }
}

float scorr_pck_threshold_value(enum scorr_pck_threshold t, const float *src_kps, int n,
                                const float *src_bbox, int S)
{
    float mx = -INFINITY, my = -INFINITY, nx = INFINITY, ny = INFINITY;
    for (int i = 0; i < n; i++) {
        mx = fmaxf(mx, src_kps[2 * i]);
        my = fmaxf(my, src_kps[2 * i + 1]);
        nx = fminf(nx, src_kps[2 * i]);
        ny = fminf(ny, src_kps[2 * i + 1]);
    }
    switch (t) {
    case SCORR_PCK_BBOX:
        return fmaxf(src_bbox[2] - src_bbox[0], src_bbox[3] - src_bbox[1]);
    case SCORR_PCK_IMG:
        return (float)S;
    case SCORR_PCK_WILLOW_REF:
        return fmaxf(mx + 1.0f, my + 1.0f);
    case SCORR_PCK_KPSBOX:
        return fmaxf(mx - nx, my - ny);
    }
    return NAN;
}

int scorr_pck_count(const float *pred, const float *src_kps, int n, float alpha, float T)
{
    int correct = 0;
    float thr = alpha * T;
    for (int i = 0; i < n; i++) {
        float dx = pred[2 * i] - src_kps[2 * i], dy = pred[2 * i + 1] - src_kps[2 * i + 1];
        if (sqrtf(dx * dx + dy * dy) <= thr) correct++;
    }
    return correct;
}
