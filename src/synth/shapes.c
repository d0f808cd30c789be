/* Geometry of the synthetic benchmark: primitive shapes, part placement, the
 * per-image forward and inverse maps and the point query. See
 * synth_internal.h for the chain of maps. */
#include <math.h>
#include <string.h>

#include "synth_internal.h"

int syn_shape_inside(const struct syn_shape *s, float x, float y, float l[2], float *depth)
{
    if (x < s->box[0] || x > s->box[2] || y < s->box[1] || y > s->box[3]) return 0;
    float dx = x - s->t[0], dy = y - s->t[1];
    float u = s->a[0] * dx + s->a[1] * dy, v = s->a[2] * dx + s->a[3] * dy;
    float d;
    switch (s->prim) {
    case SYN_ELLIPSE:
        d = 1.0f - (u * u + v * v);
        break;
    case SYN_SUPER: {
        float u2 = u * u, v2 = v * v;
        d = 1.0f - (u2 * u2 + v2 * v2);
        break;
    }
    case SYN_LIMB:
        if (u < 0.0f) {
            float cu = u / (s->r0 * s->ax), cv = v / s->r0;
            d = 1.0f - (cu * cu + cv * cv);
        } else if (u > 1.0f) {
            float cu = (u - 1.0f) / (s->r1 * s->ax), cv = v / s->r1;
            d = 1.0f - (cu * cu + cv * cv);
        } else {
            float r = s->r0 + (s->r1 - s->r0) * u;
            d = 1.0f - fabsf(v) / r;
        }
        break;
    default: { /* polygon: even-odd rule; depth from the nearest edge */
        const float(*V)[2] = s->v ? s->v : (const float(*)[2])s->vbuf;
        int in = 0;
        float best = 1e30f;
        for (int i = 0, j = s->nv - 1; i < s->nv; j = i++) {
            float xi = V[i][0], yi = V[i][1], xj = V[j][0], yj = V[j][1];
            if ((yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi) in = !in;
            float ex = xj - xi, ey = yj - yi, len2 = ex * ex + ey * ey;
            float t = len2 > 0 ? ((u - xi) * ex + (v - yi) * ey) / len2 : 0.0f;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            float px = xi + t * ex - u, py = yi + t * ey - v, dd = px * px + py * py;
            if (dd < best) best = dd;
        }
        d = in ? fminf(1.0f, sqrtf(best) * 4.0f) : -1.0f;
        break;
    }
    }
    if (d < 0.0f) return 0;
    l[0] = u;
    l[1] = v;
    *depth = d;
    return 1;
}

void syn_shape_local_box(const struct syn_shape *s, float b[4])
{
    switch (s->prim) {
    case SYN_LIMB: {
        float r = fmaxf(s->r0, s->r1);
        b[0] = -s->r0 * s->ax;
        b[2] = 1.0f + s->r1 * s->ax;
        b[1] = -r;
        b[3] = r;
        return;
    }
    case SYN_POLY: {
        const float(*V)[2] = s->v ? s->v : (const float(*)[2])s->vbuf;
        b[0] = b[1] = 1e30f;
        b[2] = b[3] = -1e30f;
        for (int i = 0; i < s->nv; i++) {
            b[0] = fminf(b[0], V[i][0]);
            b[1] = fminf(b[1], V[i][1]);
            b[2] = fmaxf(b[2], V[i][0]);
            b[3] = fmaxf(b[3], V[i][1]);
        }
        return;
    }
    default:
        b[0] = b[1] = -1.0f;
        b[2] = b[3] = 1.0f;
    }
}

static void inv2(const float m[4], float out[4])
{
    float det = m[0] * m[3] - m[1] * m[2];
    float id = 1.0f / det;
    out[0] = m[3] * id;
    out[1] = -m[1] * id;
    out[2] = -m[2] * id;
    out[3] = m[0] * id;
}

void syn_image_place_parts(struct syn_image *im)
{
    const struct syn_category_def *cat = im->cat;
    int n = cat->nparts;
    im->obox[0] = im->obox[1] = 1e30f;
    im->obox[2] = im->obox[3] = -1e30f;
    for (int p = 0; p < n; p++) {
        const struct syn_part_def *d = &cat->parts[p];
        struct syn_shape *s = &im->part[p];
        memset(s, 0, sizeof *s);
        s->prim = d->prim;
        inv2(im->M[p], s->a);
        s->t[0] = im->T[p][0];
        s->t[1] = im->T[p][1];
        s->r0 = d->r0;
        s->r1 = d->r1;
        /* Cap radius along local x: half-widths are in units of the part's y scale. */
        float lx = hypotf(im->M[p][0], im->M[p][2]), ly = hypotf(im->M[p][1], im->M[p][3]);
        s->ax = ly / lx;
        s->nv = d->nv;
        s->v = d->v;
        float lb[4];
        s->box[0] = -1e30f, s->box[1] = -1e30f, s->box[2] = 1e30f, s->box[3] = 1e30f;
        syn_shape_local_box(s, lb);
        float bx0 = 1e30f, by0 = 1e30f, bx1 = -1e30f, by1 = -1e30f;
        for (int c = 0; c < 4; c++) {
            float u = lb[(c & 1) ? 2 : 0], v = lb[(c & 2) ? 3 : 1];
            float x = im->M[p][0] * u + im->M[p][1] * v + im->T[p][0];
            float y = im->M[p][2] * u + im->M[p][3] * v + im->T[p][1];
            bx0 = fminf(bx0, x), by0 = fminf(by0, y), bx1 = fmaxf(bx1, x), by1 = fmaxf(by1, y);
        }
        float e = 1e-4f;
        s->box[0] = bx0 - e, s->box[1] = by0 - e, s->box[2] = bx1 + e, s->box[3] = by1 + e;
        im->obox[0] = fminf(im->obox[0], s->box[0] - im->dbound);
        im->obox[1] = fminf(im->obox[1], s->box[1] - im->dbound);
        im->obox[2] = fmaxf(im->obox[2], s->box[2] + im->dbound);
        im->obox[3] = fmaxf(im->obox[3], s->box[3] + im->dbound);
    }
    /* Front to back: effective depth, near side swapped when mirrored; ties by index. */
    int zeff[SYN_MAX_PARTS];
    for (int p = 0; p < n; p++) {
        const struct syn_part_def *d = &cat->parts[p];
        zeff[p] = 4 * d->z + 2 * d->side * (im->view.mirror ? -1 : 1);
        im->order[p] = p;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            int a = im->order[j - 1], b = im->order[j];
            if (zeff[b] > zeff[a] || (zeff[b] == zeff[a] && b > a)) {
                im->order[j - 1] = b;
                im->order[j] = a;
            } else {
                break;
            }
        }
}

void syn_view_finish(struct syn_view *v)
{
    /* V = scale * R(rot) * Shear * diag(e^a, e^-a) * Mirror */
    float c = cosf(v->rot), s = sinf(v->rot), ea = expf(v->aniso), m = v->mirror ? -1.0f : 1.0f;
    float A[4] = {ea * m, v->shear / ea, 0.0f, 1.0f / ea}; /* Shear(sh) * diag(ea, 1/ea) * Mirror */
    float R[4] = {c, -s, s, c};
    v->V[0] = v->scale * (R[0] * A[0] + R[1] * A[2]);
    v->V[1] = v->scale * (R[0] * A[1] + R[1] * A[3]);
    v->V[2] = v->scale * (R[2] * A[0] + R[3] * A[2]);
    v->V[3] = v->scale * (R[2] * A[1] + R[3] * A[3]);
    inv2(v->V, v->Vinv);
}

static inline void deform_inverse(const struct syn_image *im, const float op[2], float o[2])
{
    /* E: o = o' + sum_k a_k sin(w_k . o' + phi_k) */
    o[0] = op[0];
    o[1] = op[1];
    for (int k = 0; k < im->ndeform; k++) {
        float s = sinf(im->dw[k][0] * op[0] + im->dw[k][1] * op[1] + im->dphi[k]);
        o[0] += im->da[k][0] * s;
        o[1] += im->da[k][1] * s;
    }
}

int syn_pixel_to_object(const struct syn_image *im, float x, float y, float o[2])
{
    const struct syn_view *v = &im->view;
    float dx = x - v->c[0], dy = y - v->c[1];
    float q0 = v->Vinv[0] * dx + v->Vinv[1] * dy, q1 = v->Vinv[2] * dx + v->Vinv[3] * dy;
    float den = 1.0f - (v->pv[0] * q0 + v->pv[1] * q1);
    if (den < 0.2f) return 0;
    float op[2] = {q0 / den, q1 / den};
    if (op[0] < im->obox[0] || op[0] > im->obox[2] || op[1] < im->obox[1] || op[1] > im->obox[3])
        return 0;
    deform_inverse(im, op, o);
    return 1;
}

void syn_object_to_pixel(const struct syn_image *im, const float o[2], float x[2])
{
    /* D = E^-1 by Newton from o' = o (E is a small, smooth displacement). */
    double p0 = o[0], p1 = o[1];
    for (int it = 0; it < 8; it++) {
        double r0 = p0 - o[0], r1 = p1 - o[1];
        double j00 = 1, j01 = 0, j10 = 0, j11 = 1;
        for (int k = 0; k < im->ndeform; k++) {
            double arg = im->dw[k][0] * p0 + im->dw[k][1] * p1 + im->dphi[k];
            double s = sin(arg), c = cos(arg);
            r0 += im->da[k][0] * s;
            r1 += im->da[k][1] * s;
            j00 += im->da[k][0] * c * im->dw[k][0];
            j01 += im->da[k][0] * c * im->dw[k][1];
            j10 += im->da[k][1] * c * im->dw[k][0];
            j11 += im->da[k][1] * c * im->dw[k][1];
        }
        double det = j00 * j11 - j01 * j10;
        double s0 = (j11 * r0 - j01 * r1) / det, s1 = (-j10 * r0 + j00 * r1) / det;
        p0 -= s0;
        p1 -= s1;
        if (fabs(s0) + fabs(s1) < 1e-9) break;
    }
    const struct syn_view *v = &im->view;
    double den = 1.0 + v->pv[0] * p0 + v->pv[1] * p1;
    double q0 = p0 / den, q1 = p1 / den;
    x[0] = (float)(v->V[0] * q0 + v->V[1] * q1 + v->c[0]);
    x[1] = (float)(v->V[2] * q0 + v->V[3] * q1 + v->c[1]);
}

void syn_part_to_pixel(const struct syn_image *im, int part, const float l[2], float x[2])
{
    const float *M = im->M[part], *T = im->T[part];
    float o[2] = {M[0] * l[0] + M[1] * l[1] + T[0], M[2] * l[0] + M[3] * l[1] + T[1]};
    syn_object_to_pixel(im, o, x);
}

void syn_query(const struct syn_image *im, float x, float y, struct syn_hit *h)
{
    h->surface = SYN_SURF_BG;
    h->index = -1;
    h->part = -1;
    float o[2];
    if (syn_pixel_to_object(im, x, y, o)) {
        for (int i = 0; i < im->cat->nparts; i++) {
            int p = im->order[i];
            if (syn_shape_inside(&im->part[p], o[0], o[1], h->l, &h->depth)) {
                h->part = p;
                break;
            }
        }
    }
    for (int k = 0; k < im->noccl; k++)
        if (syn_shape_inside(&im->occl[k], x, y, h->sl, &h->sdepth)) {
            h->surface = SYN_SURF_OCCL;
            h->index = k;
            return;
        }
    if (h->part >= 0) {
        h->surface = SYN_SURF_PART;
        h->index = h->part;
        h->sl[0] = h->l[0], h->sl[1] = h->l[1], h->sdepth = h->depth;
        return;
    }
    for (int k = 0; k < im->ndistract; k++)
        if (syn_shape_inside(&im->distract[k], x, y, h->sl, &h->sdepth)) {
            h->surface = SYN_SURF_DISTRACT;
            h->index = k;
            return;
        }
    h->sl[0] = x / (float)im->size;
    h->sl[1] = y / (float)im->size;
    h->sdepth = 1.0f;
}
