/* Private structures of the synthetic benchmark (docs/synthetic-benchmark.md).
 *
 * Geometry. Every object point has semantic coordinates (part p, local l).
 * One image's forward map, local -> pixel, is
 *     o  = M_p l + t_p                  part placement (proportions, articulation)
 *     o' = D(o)                         smooth non-rigid deformation, D = E^-1
 *     q  = o' / (1 + pv . o')           mild perspective
 *     x  = V q + c                      rotation, mirror, anisotropy, shear, scale, shift
 * and every step has a closed-form inverse except D, whose inverse E is the
 * closed form (o = o' + sum_k a_k sin(w_k . o' + phi_k)); D is solved by
 * Newton. Rendering runs the inverse per sample; keypoints, boxes and the
 * dense flow run the forward map. */
#ifndef SCORR_SYNTH_INTERNAL_H
#define SCORR_SYNTH_INTERNAL_H

#include <stdint.h>

#include "scorr/rng.h"
#include "scorr/synth.h"

#define SYN_MAX_PARTS 16
#define SYN_MAX_KPS 16
#define SYN_MAX_VERTS 10
#define SYN_MAX_DEFORM 3
#define SYN_MAX_SHAPES 12 /* distractors or occluders per image */
#define SYN_SLOTS 4       /* colour slots per category */

enum syn_prim { SYN_ELLIPSE, SYN_LIMB, SYN_POLY, SYN_SUPER };
enum syn_tex { SYN_TEX_PLAIN, SYN_TEX_STRIPES, SYN_TEX_SPOTS, SYN_TEX_CHECKER, SYN_TEX_NOISE,
               SYN_TEX_COUNT };

/* Canonical part of a category. Angles in degrees; y points down. */
struct syn_part_def {
    const char *name;
    int prim;
    int parent;        /* -1: root, placed at `joint` in object coordinates */
    float joint[2];    /* in the parent's local coordinates */
    float anchor[2];   /* own local point that sits on the joint */
    float angle;       /* rest angle relative to the parent */
    float artic;       /* articulation range, +- degrees */
    float size[2];     /* local -> object scale (semi-axes, length/half-width) */
    float r0, r1;      /* limb half-widths at base and tip (fractions of size[1]) */
    int nv;
    float v[SYN_MAX_VERTS][2];
    int z;             /* depth: larger is nearer */
    int side;          /* -1 left, +1 right (swap depth when mirrored), 0 centre */
    int slot;          /* colour slot */
};

struct syn_kp_def {
    const char *name;
    int part;
    float at[2]; /* local coordinates, strictly inside the part */
};

struct syn_slot_def {
    float hue, dhue;   /* degrees */
    float s0, s1, v0, v1;
    unsigned tex_mask; /* allowed textures (1 << enum syn_tex) */
};

struct syn_category_def {
    const char *name;
    int nparts;
    struct syn_part_def parts[SYN_MAX_PARTS];
    int nkps;
    struct syn_kp_def kps[SYN_MAX_KPS];
    struct syn_slot_def slots[SYN_SLOTS];
    float size_var;    /* relative part-size variation */
    float deform;      /* deformation amplitude (object units) */
};

/* categories.c */
int syn_num_category_defs(void);
const struct syn_category_def *syn_category_def(int k);

/* A filled shape with its inverse placement: local = A (p - t). */
struct syn_shape {
    int prim;
    float a[4];        /* row-major 2x2 */
    float t[2];
    float ax;          /* limbs: cap radius along x in local units per unit of y */
    float r0, r1;
    int nv;
    const float (*v)[2];
    float vbuf[SYN_MAX_VERTS][2];
    float box[4];      /* bounding box in the query space: x0 y0 x1 y1 */
};

/* Appearance of a surface: colours, texture and shading. */
struct syn_look {
    float rgb[3], rgb2[3];
    int tex;
    float freq, cs, sn, phase, mix;
    float shade[2];    /* linear shading gradient in texture coordinates */
    float scale[2];    /* local -> texture coordinates */
    uint32_t hash;
};

struct syn_view {
    int mirror;
    float rot, aniso, shear, scale; /* radians, log aspect, shear, pixels per object unit */
    float pv[2];                    /* perspective */
    float c[2];                     /* image position of the object origin */
    float V[4], Vinv[4];
};

/* One rendered image: instance (shape, appearance), view and scene. */
struct syn_image {
    const struct syn_category_def *cat;
    int category;
    int size;                  /* S */
    /* instance geometry */
    float M[SYN_MAX_PARTS][4]; /* part local -> object */
    float T[SYN_MAX_PARTS][2];
    struct syn_shape part[SYN_MAX_PARTS]; /* query space: object coordinates o */
    int order[SYN_MAX_PARTS];  /* front to back */
    int ndeform;
    float da[SYN_MAX_DEFORM][2], dw[SYN_MAX_DEFORM][2], dphi[SYN_MAX_DEFORM];
    float dbound;              /* max |E(o') - o'| */
    float obox[4];             /* object box in o' space (parts expanded by dbound) */
    struct syn_look look[SYN_MAX_PARTS];
    struct syn_view view;
    /* scene, in image coordinates */
    struct syn_look bg;
    int ndistract, noccl;
    struct syn_shape distract[SYN_MAX_SHAPES], occl[SYN_MAX_SHAPES];
    struct syn_look distract_look[SYN_MAX_SHAPES], occl_look[SYN_MAX_SHAPES];
    int canonical_colours;     /* test mode: colour encodes (part, local) */
    /* derived by syn_image_measure */
    float kps[SYN_MAX_KPS][2];
    uint8_t kp_visible[SYN_MAX_KPS];
    float full_box[4];         /* unclipped object extent from part outlines */
};

/* What a point of an image shows. */
enum syn_surface { SYN_SURF_BG = 0, SYN_SURF_DISTRACT, SYN_SURF_PART, SYN_SURF_OCCL };
struct syn_hit {
    int surface, index;  /* front-most surface and its index */
    float sl[2], sdepth; /* its local coordinates; 0 at its edge .. 1 inside */
    int part;            /* object part at this point ignoring occluders, -1 none */
    float l[2], depth;   /* local coordinates of that part, its depth */
};

/* shapes.c */
int syn_shape_inside(const struct syn_shape *s, float x, float y, float l[2], float *depth);
void syn_shape_local_box(const struct syn_shape *s, float box[4]); /* in local coordinates */
void syn_image_place_parts(struct syn_image *im); /* M, T -> part shapes, order, obox */
void syn_view_finish(struct syn_view *v);         /* V, Vinv from the parameters */
/* pixel -> object point; returns 0 when outside the perspective's domain */
int syn_pixel_to_object(const struct syn_image *im, float x, float y, float o[2]);
void syn_object_to_pixel(const struct syn_image *im, const float o[2], float x[2]);
void syn_part_to_pixel(const struct syn_image *im, int part, const float l[2], float x[2]);
void syn_query(const struct syn_image *im, float x, float y, struct syn_hit *h);

/* sample.c */
void syn_sample_image(struct syn_image *im, const struct scorr_synth_config *cfg, int split,
                      int64_t index, int category);
void syn_image_measure(struct syn_image *im);

/* render.c: pixels (S, S, 3), fg (S, S) 0/1; counts for the difficulty flags */
struct syn_render_stats {
    int64_t object_px;    /* pixel centres on the object silhouette (in image) */
    int64_t occluded_px;  /* of those, covered by an occluder */
    int64_t visible_px;   /* of those, showing the object */
};
void syn_render(const struct syn_image *im, uint8_t *pixels, uint8_t *fg,
                struct syn_render_stats *st);
void syn_look_eval(const struct syn_look *lk, float u, float v, float depth, float rgb[3]);

/* pairs.c */
void syn_dense_flow(const struct syn_image *src, const struct syn_image *trg, float *flow);

/* rng purposes (third counter word) */
enum syn_purpose { SYN_P_SHAPE = 1, SYN_P_LOOK, SYN_P_VIEW, SYN_P_SCENE, SYN_P_OCCL, SYN_P_PAIR,
                   SYN_P_KPS };

#endif
