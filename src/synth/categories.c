/* The canonical categories of the synthetic benchmark: part-based 2D shapes
 * with named keypoints and colour families. Object coordinates: x to the
 * right (the canonical front of side-view objects), y down, extent about
 * [-1, 1]. Each part's local frame: ellipses and superellipses are unit
 * discs; limbs run from 0 (joint) to 1 along x with half-widths r0..r1 in y;
 * polygons are given by their vertices. */
#include "synth_internal.h"

#define T_(t) (1u << (t))
#define PLAIN T_(SYN_TEX_PLAIN)
#define STRIPES T_(SYN_TEX_STRIPES)
#define SPOTS T_(SYN_TEX_SPOTS)
#define CHECKER T_(SYN_TEX_CHECKER)
#define NOISE T_(SYN_TEX_NOISE)

#define ELL(nm, par, jx, jy, ax_, ay_, ang, art, sx, sy, z_, sd, sl)                       \
    {.name = nm, .prim = SYN_ELLIPSE, .parent = par, .joint = {jx, jy}, .anchor = {ax_, ay_}, \
     .angle = ang, .artic = art, .size = {sx, sy}, .z = z_, .side = sd, .slot = sl}
#define SUPER(nm, par, jx, jy, ax_, ay_, ang, art, sx, sy, z_, sd, sl)                     \
    {.name = nm, .prim = SYN_SUPER, .parent = par, .joint = {jx, jy}, .anchor = {ax_, ay_},  \
     .angle = ang, .artic = art, .size = {sx, sy}, .z = z_, .side = sd, .slot = sl}
#define LIMB(nm, par, jx, jy, ang, art, len, hw, r0_, r1_, z_, sd, sl)                     \
    {.name = nm, .prim = SYN_LIMB, .parent = par, .joint = {jx, jy}, .anchor = {0, 0},      \
     .angle = ang, .artic = art, .size = {len, hw}, .r0 = r0_, .r1 = r1_, .z = z_, .side = sd, \
     .slot = sl}
#define POLY(nm, par, jx, jy, ang, art, sx, sy, z_, sd, sl, n, ...)                          \
    {.name = nm, .prim = SYN_POLY, .parent = par, .joint = {jx, jy}, .anchor = {0, 0},       \
     .angle = ang, .artic = art, .size = {sx, sy}, .z = z_, .side = sd, .slot = sl, .nv = n,  \
     .v = __VA_ARGS__}
#define KP(nm, pt, x, y) {.name = nm, .part = pt, .at = {x, y}}
#define SLOT(h, dh, s0_, s1_, v0_, v1_, tex) {h, dh, s0_, s1_, v0_, v1_, tex}

#define DARK SLOT(0, 0, 0.0f, 0.2f, 0.05f, 0.15f, PLAIN)

/* Five-petal star (10 vertices), tip at local +x. */
#define STAR5                                                                              \
    {{1.0f, 0.0f}, {0.364f, 0.264f}, {0.309f, 0.951f}, {-0.139f, 0.428f}, {-0.809f, 0.588f}, \
     {-0.45f, 0.0f}, {-0.809f, -0.588f}, {-0.139f, -0.428f}, {0.309f, -0.951f},             \
     {0.364f, -0.264f}}

static const struct syn_category_def g_categories[] = {
    {.name = "bird",
     .nparts = 10,
     .parts = {
         ELL("body", -1, 0.0f, 0.05f, 0, 0, 0, 0, 0.55f, 0.32f, 5, 0, 0),
         ELL("head", 0, 0.85f, -0.7f, -0.55f, 0.45f, 0, 15, 0.22f, 0.19f, 6, 0, 1),
         POLY("beak", 1, 0.85f, 0.1f, 10, 10, 0.22f, 0.12f, 7, 0, 2, 3,
              {{-0.2f, -0.8f}, {1.0f, 0.0f}, {-0.2f, 0.8f}}),
         ELL("eye", 1, 0.3f, -0.25f, 0, 0, 0, 0, 0.045f, 0.045f, 8, 0, 3),
         POLY("tail", 0, -0.9f, -0.15f, 195, 15, 0.45f, 0.2f, 4, 0, 0, 5,
              {{0, -0.35f}, {1, -1}, {0.85f, 0}, {1, 1}, {0, 0.35f}}),
         POLY("left_wing", 0, 0.25f, -0.45f, 200, 20, 0.6f, 0.26f, 5, -1, 1, 6,
              {{0, -0.45f}, {0.45f, -0.7f}, {1, -0.15f}, {0.97f, 0.2f}, {0.3f, 0.55f}, {0, 0.45f}}),
         POLY("right_wing", 0, 0.05f, -0.3f, 190, 20, 0.6f, 0.26f, 5, 1, 1, 6,
              {{0, -0.45f}, {0.45f, -0.7f}, {1, -0.15f}, {0.97f, 0.2f}, {0.3f, 0.55f}, {0, 0.45f}}),
         LIMB("left_leg", 0, 0.15f, 0.9f, 100, 20, 0.32f, 0.035f, 1.0f, 0.8f, 5, -1, 2),
         LIMB("right_leg", 0, -0.1f, 0.92f, 80, 20, 0.32f, 0.035f, 1.0f, 0.8f, 5, 1, 2),
         ELL("breast", 0, 0.55f, 0.3f, 0, 0, 0, 0, 0.18f, 0.14f, 5, 0, 1),
     },
     .nkps = 12,
     .kps = {KP("beak_tip", 2, 0.6f, 0), KP("eye", 3, 0, 0), KP("crown", 1, 0, -0.85f),
             KP("throat", 1, 0.3f, 0.75f), KP("back", 0, -0.1f, -0.9f), KP("belly", 0, 0, 0.88f),
             KP("tail_upper_tip", 4, 0.9f, 0.85f), KP("tail_lower_tip", 4, 0.9f, -0.85f),
             KP("left_wing_tip", 5, 0.93f, 0), KP("right_wing_tip", 6, 0.93f, 0),
             KP("left_foot", 7, 0.97f, 0), KP("right_foot", 8, 0.97f, 0)},
     .slots = {SLOT(210, 40, 0.45f, 0.85f, 0.45f, 0.85f, PLAIN | NOISE | SPOTS),
               SLOT(190, 60, 0.3f, 0.8f, 0.5f, 0.9f, PLAIN | STRIPES | NOISE),
               SLOT(35, 12, 0.75f, 1.0f, 0.8f, 1.0f, PLAIN), DARK},
     .size_var = 0.12f,
     .deform = 0.04f},
    {.name = "fish",
     .nparts = 7,
     .parts = {
         ELL("body", -1, 0.05f, 0, 0, 0, 0, 0, 0.7f, 0.3f, 5, 0, 0),
         POLY("tail", 0, -0.95f, 0, 180, 20, 0.38f, 0.34f, 4, 0, 1, 5,
              {{0, -0.25f}, {1, -1}, {0.7f, 0}, {1, 1}, {0, 0.25f}}),
         POLY("dorsal_fin", 0, -0.05f, -0.85f, 0, 10, 0.3f, 0.25f, 4, 0, 1, 3,
              {{-1, 0.4f}, {-0.55f, -1}, {0.7f, 0.4f}}),
         POLY("ventral_fin", 0, -0.35f, 0.88f, 0, 10, 0.18f, 0.15f, 4, 0, 1, 3,
              {{-0.8f, -0.3f}, {-0.3f, 1}, {0.8f, -0.3f}}),
         POLY("left_fin", 0, 0.4f, 0.25f, 150, 20, 0.26f, 0.1f, 5, -1, 1, 4,
              {{0, -0.5f}, {1, -0.3f}, {0.95f, 0.3f}, {0, 0.5f}}),
         POLY("right_fin", 0, 0.35f, 0.4f, 140, 20, 0.26f, 0.1f, 5, 1, 1, 4,
              {{0, -0.5f}, {1, -0.3f}, {0.95f, 0.3f}, {0, 0.5f}}),
         ELL("eye", 0, 0.72f, -0.25f, 0, 0, 0, 0, 0.05f, 0.05f, 7, 0, 3),
     },
     .nkps = 11,
     .kps = {KP("mouth", 0, 0.97f, 0.1f), KP("eye", 6, 0, 0), KP("gill", 0, 0.45f, 0.2f),
             KP("dorsal_tip", 2, -0.52f, -0.85f), KP("ventral_tip", 3, -0.27f, 0.85f),
             KP("tail_upper_tip", 1, 0.9f, 0.85f), KP("tail_lower_tip", 1, 0.9f, -0.85f),
             KP("left_fin_tip", 4, 0.9f, 0), KP("right_fin_tip", 5, 0.9f, 0),
             KP("back", 0, 0.3f, -0.9f), KP("belly", 0, 0.1f, 0.9f)},
     .slots = {SLOT(30, 25, 0.6f, 1.0f, 0.7f, 1.0f, STRIPES | SPOTS | PLAIN),
               SLOT(10, 25, 0.5f, 0.9f, 0.6f, 0.95f, PLAIN | STRIPES),
               SLOT(50, 10, 0.5f, 0.9f, 0.6f, 0.95f, PLAIN), DARK},
     .size_var = 0.12f,
     .deform = 0.05f},
    {.name = "quadruped",
     .nparts = 13,
     .parts = {
         ELL("body", -1, -0.05f, 0, 0, 0, 0, 0, 0.55f, 0.25f, 5, 0, 0),
         LIMB("neck", 0, 0.75f, -0.45f, -55, 12, 0.32f, 0.12f, 1.0f, 0.8f, 6, 0, 0),
         ELL("head", 1, 1.0f, 0, -0.55f, 0, 75, 15, 0.22f, 0.12f, 7, 0, 0),
         ELL("nose", 2, 0.92f, 0.1f, 0, 0, 0, 0, 0.045f, 0.04f, 8, 0, 3),
         ELL("eye", 2, 0.25f, -0.4f, 0, 0, 0, 0, 0.035f, 0.035f, 8, 0, 3),
         POLY("left_ear", 2, -0.35f, -0.75f, -115, 15, 0.14f, 0.1f, 6, -1, 1, 3,
              {{0, -0.6f}, {1, 0}, {0, 0.6f}}),
         POLY("right_ear", 2, -0.15f, -0.8f, -100, 15, 0.14f, 0.1f, 7, 1, 1, 3,
              {{0, -0.6f}, {1, 0}, {0, 0.6f}}),
         LIMB("left_front_leg", 0, 0.6f, 0.65f, 90, 20, 0.5f, 0.07f, 1.0f, 0.7f, 5, -1, 0),
         LIMB("right_front_leg", 0, 0.45f, 0.75f, 90, 20, 0.5f, 0.07f, 1.0f, 0.7f, 5, 1, 0),
         LIMB("left_back_leg", 0, -0.6f, 0.65f, 90, 20, 0.5f, 0.075f, 1.0f, 0.7f, 5, -1, 0),
         LIMB("right_back_leg", 0, -0.72f, 0.55f, 90, 20, 0.5f, 0.075f, 1.0f, 0.7f, 5, 1, 0),
         LIMB("tail", 0, -0.95f, -0.25f, 210, 30, 0.38f, 0.045f, 1.0f, 0.5f, 4, 0, 1),
         ELL("saddle", 0, 0.1f, -0.35f, 0, 0, 0, 0, 0.3f, 0.12f, 5, 0, 1),
     },
     .nkps = 12,
     .kps = {KP("nose", 3, 0, 0), KP("eye", 4, 0, 0), KP("left_ear_tip", 5, 0.6f, 0),
             KP("right_ear_tip", 6, 0.6f, 0), KP("withers", 0, 0.55f, -0.8f),
             KP("chest", 0, 0.93f, 0.2f), KP("rump", 0, -0.85f, -0.35f),
             KP("left_front_paw", 7, 0.97f, 0), KP("right_front_paw", 8, 0.97f, 0),
             KP("left_back_paw", 9, 0.97f, 0), KP("right_back_paw", 10, 0.97f, 0),
             KP("tail_tip", 11, 0.97f, 0)},
     .slots = {SLOT(30, 15, 0.25f, 0.65f, 0.3f, 0.8f, PLAIN | SPOTS | NOISE),
               SLOT(25, 15, 0.3f, 0.7f, 0.15f, 0.45f, PLAIN | NOISE),
               SLOT(0, 0, 0, 0, 0.5f, 0.5f, PLAIN), DARK},
     .size_var = 0.12f,
     .deform = 0.04f},
    {.name = "aeroplane",
     .nparts = 7,
     .parts = {
         ELL("fuselage", -1, 0, 0, 0, 0, 0, 0, 0.9f, 0.13f, 5, 0, 0),
         ELL("cockpit", 0, 0.68f, -0.45f, 0, 0, 0, 0, 0.13f, 0.07f, 6, 0, 2),
         POLY("left_wing", 0, 0.1f, -0.2f, 0, 8, 0.55f, 0.6f, 4, -1, 1, 4,
              {{0.35f, 0}, {-0.15f, -1}, {-0.4f, -1}, {-0.35f, 0}}),
         POLY("right_wing", 0, 0.1f, 0.3f, 0, 8, 0.55f, 0.6f, 6, 1, 1, 4,
              {{0.35f, 0}, {-0.15f, 1}, {-0.4f, 1}, {-0.35f, 0}}),
         POLY("fin", 0, -0.82f, -0.5f, 0, 5, 0.28f, 0.35f, 6, 0, 1, 4,
              {{0.35f, 0.3f}, {-0.1f, -1}, {-0.35f, -1}, {-0.3f, 0.3f}}),
         POLY("left_stabilizer", 0, -0.85f, -0.1f, 0, 5, 0.2f, 0.2f, 4, -1, 1, 4,
              {{0.35f, 0}, {-0.15f, -1}, {-0.4f, -1}, {-0.35f, 0}}),
         POLY("right_stabilizer", 0, -0.85f, 0.2f, 0, 5, 0.2f, 0.2f, 6, 1, 1, 4,
              {{0.35f, 0}, {-0.15f, 1}, {-0.4f, 1}, {-0.35f, 0}}),
     },
     .nkps = 10,
     .kps = {KP("nose_tip", 0, 0.97f, 0), KP("tail_end", 0, -0.97f, 0), KP("cockpit", 1, 0, 0),
             KP("fin_top", 4, -0.22f, -0.93f), KP("left_wing_tip", 2, -0.27f, -0.93f),
             KP("right_wing_tip", 3, -0.27f, 0.93f), KP("left_stabilizer_tip", 5, -0.27f, -0.9f),
             KP("right_stabilizer_tip", 6, -0.27f, 0.9f), KP("belly", 0, 0.2f, 0.85f),
             KP("wing_root", 3, 0.2f, 0.1f)},
     .slots = {SLOT(0, 180, 0.0f, 0.12f, 0.75f, 0.95f, PLAIN | STRIPES),
               SLOT(210, 30, 0.0f, 0.4f, 0.45f, 0.75f, PLAIN),
               SLOT(200, 15, 0.5f, 0.8f, 0.25f, 0.45f, PLAIN), DARK},
     .size_var = 0.1f,
     .deform = 0.03f},
    {.name = "car",
     .nparts = 9,
     .parts = {
         SUPER("body", -1, 0, 0.1f, 0, 0, 0, 0, 0.9f, 0.2f, 5, 0, 0),
         POLY("cabin", 0, -0.1f, -0.85f, 0, 3, 0.5f, 0.3f, 4, 0, 0, 4,
              {{-0.95f, 0.2f}, {-0.6f, -1}, {0.35f, -1}, {0.9f, 0.2f}}),
         POLY("window", 1, 0, 0, 0, 0, 0.5f, 0.3f, 6, 0, 2, 4,
              {{-0.8f, 0.15f}, {-0.52f, -0.8f}, {0.3f, -0.8f}, {0.72f, 0.15f}}),
         ELL("front_wheel", 0, 0.6f, 0.75f, 0, 0, 0, 0, 0.18f, 0.18f, 6, 0, 3),
         ELL("rear_wheel", 0, -0.6f, 0.75f, 0, 0, 0, 0, 0.18f, 0.18f, 6, 0, 3),
         ELL("front_hub", 3, 0, 0, 0, 0, 0, 0, 0.08f, 0.08f, 7, 0, 1),
         ELL("rear_hub", 4, 0, 0, 0, 0, 0, 0, 0.08f, 0.08f, 7, 0, 1),
         ELL("headlight", 0, 0.9f, -0.35f, 0, 0, 0, 0, 0.06f, 0.04f, 6, 0, 2),
         ELL("taillight", 0, -0.92f, -0.35f, 0, 0, 0, 0, 0.04f, 0.05f, 6, 0, 1),
     },
     .nkps = 10,
     .kps = {KP("front_bumper", 0, 0.97f, 0.3f), KP("rear_bumper", 0, -0.97f, 0.3f),
             KP("roof_front", 1, 0.3f, -0.92f), KP("roof_rear", 1, -0.55f, -0.92f),
             KP("front_wheel", 5, 0, 0), KP("rear_wheel", 6, 0, 0), KP("headlight", 7, 0, 0),
             KP("taillight", 8, 0, 0), KP("windshield_base", 2, 0.6f, 0.1f),
             KP("front_wheel_bottom", 3, 0, 0.9f)},
     .slots = {SLOT(0, 180, 0.55f, 1.0f, 0.4f, 0.9f, PLAIN),
               SLOT(0, 0, 0.0f, 0.05f, 0.55f, 0.75f, PLAIN),
               SLOT(195, 15, 0.25f, 0.5f, 0.35f, 0.6f, PLAIN),
               SLOT(0, 0, 0.0f, 0.1f, 0.08f, 0.18f, PLAIN)},
     .size_var = 0.1f,
     .deform = 0.03f},
    {.name = "person",
     .nparts = 12,
     .parts = {
         ELL("torso", -1, 0, -0.1f, 0, 0, 0, 0, 0.28f, 0.42f, 5, 0, 0),
         ELL("head", 0, 0, -1.0f, 0, 1.0f, 0, 12, 0.16f, 0.19f, 6, 0, 1),
         LIMB("left_upper_arm", 0, 0.85f, -0.75f, 70, 25, 0.33f, 0.065f, 1.0f, 0.85f, 6, 0, 0),
         LIMB("left_lower_arm", 2, 1.0f, 0, -15, 35, 0.3f, 0.055f, 1.0f, 0.8f, 6, 0, 1),
         LIMB("right_upper_arm", 0, -0.85f, -0.75f, 110, 25, 0.33f, 0.065f, 1.0f, 0.85f, 6, 0, 0),
         LIMB("right_lower_arm", 4, 1.0f, 0, 15, 35, 0.3f, 0.055f, 1.0f, 0.8f, 6, 0, 1),
         LIMB("left_upper_leg", 0, 0.45f, 0.85f, 85, 15, 0.42f, 0.09f, 1.0f, 0.85f, 4, 0, 2),
         LIMB("left_lower_leg", 6, 1.0f, 0, 0, 20, 0.42f, 0.075f, 1.0f, 0.8f, 4, 0, 2),
         LIMB("right_upper_leg", 0, -0.45f, 0.85f, 95, 15, 0.42f, 0.09f, 1.0f, 0.85f, 4, 0, 2),
         LIMB("right_lower_leg", 8, 1.0f, 0, 0, 20, 0.42f, 0.075f, 1.0f, 0.8f, 4, 0, 2),
         ELL("left_foot", 7, 1.0f, 0, -0.5f, 0, -85, 10, 0.1f, 0.05f, 5, 0, 3),
         ELL("right_foot", 9, 1.0f, 0, -0.5f, 0, 85, 10, 0.1f, 0.05f, 5, 0, 3),
     },
     .nkps = 13,
     .kps = {KP("head_top", 1, 0, -0.88f), KP("chin", 1, 0, 0.85f),
             KP("left_shoulder", 2, 0.05f, 0), KP("right_shoulder", 4, 0.05f, 0),
             KP("left_elbow", 3, 0.03f, 0), KP("right_elbow", 5, 0.03f, 0),
             KP("left_hand", 3, 0.96f, 0), KP("right_hand", 5, 0.96f, 0),
             KP("left_knee", 7, 0.03f, 0), KP("right_knee", 9, 0.03f, 0),
             KP("left_foot", 10, 0.3f, 0), KP("right_foot", 11, 0.3f, 0),
             KP("pelvis", 0, 0, 0.8f)},
     .slots = {SLOT(0, 180, 0.45f, 0.9f, 0.4f, 0.9f, PLAIN | STRIPES | CHECKER),
               SLOT(25, 8, 0.3f, 0.55f, 0.55f, 0.95f, PLAIN),
               SLOT(225, 25, 0.3f, 0.7f, 0.2f, 0.45f, PLAIN | NOISE),
               SLOT(20, 10, 0.2f, 0.5f, 0.1f, 0.3f, PLAIN)},
     .size_var = 0.1f,
     .deform = 0.03f},
    {.name = "plant",
     .nparts = 7,
     .parts = {
         POLY("pot", -1, 0, 0.55f, 0, 0, 0.3f, 0.3f, 5, 0, 0, 4,
              {{-1, -1}, {1, -1}, {0.72f, 1}, {-0.72f, 1}}),
         SUPER("rim", 0, 0, -1.0f, 0, 0, 0, 0, 0.36f, 0.07f, 6, 0, 0),
         LIMB("stem", 0, 0, -1.0f, -90, 10, 0.85f, 0.03f, 1.0f, 0.8f, 4, 0, 1),
         POLY("left_leaf", 2, 0.35f, 0, -70, 20, 0.36f, 0.13f, 5, 0, 1, 6,
              {{0, 0}, {0.35f, -0.9f}, {0.75f, -0.6f}, {1, 0}, {0.6f, 0.55f}, {0.25f, 0.5f}}),
         POLY("right_leaf", 2, 0.55f, 0, 65, 20, 0.36f, 0.13f, 5, 0, 1, 6,
              {{0, 0}, {0.35f, -0.9f}, {0.75f, -0.6f}, {1, 0}, {0.6f, 0.55f}, {0.25f, 0.5f}}),
         POLY("flower", 2, 1.0f, 0, 0, 25, 0.22f, 0.22f, 6, 0, 2, 10, STAR5),
         ELL("centre", 5, 0, 0, 0, 0, 0, 0, 0.08f, 0.08f, 7, 0, 3),
     },
     .nkps = 9,
     .kps = {KP("pot_bottom_left", 0, -0.68f, 0.93f), KP("pot_bottom_right", 0, 0.68f, 0.93f),
             KP("rim_left", 1, -0.93f, 0), KP("rim_right", 1, 0.93f, 0),
             KP("stem_middle", 2, 0.2f, 0), KP("left_leaf_tip", 3, 0.85f, 0),
             KP("right_leaf_tip", 4, 0.85f, 0), KP("flower_centre", 6, 0, 0),
             KP("petal_tip", 5, 0.7f, 0)},
     .slots = {SLOT(15, 8, 0.5f, 0.8f, 0.5f, 0.8f, PLAIN | NOISE),
               SLOT(115, 20, 0.5f, 0.9f, 0.3f, 0.65f, PLAIN | STRIPES),
               SLOT(330, 50, 0.55f, 1.0f, 0.75f, 1.0f, PLAIN),
               SLOT(50, 8, 0.7f, 1.0f, 0.75f, 1.0f, PLAIN)},
     .size_var = 0.12f,
     .deform = 0.04f},
    /* Categories past the benchmark's six: shape families it does not use
     * (docs/synthetic-benchmark.md). scorr_synth --pretrain renders the
     * categories a K-category benchmark leaves out. Appended, so the
     * first K and their files stay as they were. */
    {.name = "lamp",
     .nparts = 6,
     .parts = {
         SUPER("base", -1, 0, 0.85f, 0, 0, 0, 0, 0.45f, 0.08f, 5, 0, 0),
         LIMB("lower_arm", 0, 0, -1.0f, -65, 15, 0.75f, 0.04f, 1.0f, 0.9f, 5, 0, 1),
         LIMB("upper_arm", 1, 1.0f, 0, -110, 20, 0.6f, 0.035f, 1.0f, 0.9f, 6, 0, 1),
         POLY("shade", 2, 1.0f, 0, -150, 20, 0.3f, 0.3f, 7, 0, 0, 4,
              {{0, -0.45f}, {1, -1}, {1, 1}, {0, 0.45f}}),
         ELL("bulb", 3, 1.0f, 0, 0, 0, 0, 0, 0.09f, 0.09f, 6, 0, 2),
         ELL("switch", 0, 0.6f, 0, 0, 0, 0, 0, 0.06f, 0.045f, 6, 0, 3),
     },
     .nkps = 8,
     .kps = {KP("base_left", 0, -0.9f, 0), KP("base_right", 0, 0.9f, 0),
             KP("arm_root", 1, 0.06f, 0), KP("elbow", 1, 0.96f, 0), KP("shade_top", 3, 0.1f, 0),
             KP("shade_rim_a", 3, 0.9f, -0.8f), KP("shade_rim_b", 3, 0.9f, 0.8f),
             KP("switch", 5, 0, 0)},
     .slots = {SLOT(0, 180, 0.4f, 0.9f, 0.45f, 0.9f, PLAIN | STRIPES),
               SLOT(0, 0, 0.0f, 0.1f, 0.55f, 0.8f, PLAIN),
               SLOT(55, 8, 0.3f, 0.6f, 0.9f, 1.0f, PLAIN), DARK},
     .size_var = 0.12f,
     .deform = 0.03f},
    {.name = "chair",
     .nparts = 6,
     .parts = {
         SUPER("seat", -1, 0, 0.1f, 0, 0, 0, 0, 0.5f, 0.07f, 5, 0, 0),
         SUPER("backrest", 0, -0.9f, -1.0f, 0, 1.0f, -5, 6, 0.07f, 0.45f, 4, 0, 0),
         LIMB("front_leg", 0, 0.85f, 1.0f, 90, 5, 0.7f, 0.04f, 1.0f, 0.85f, 5, 0, 0),
         LIMB("back_leg", 0, -0.85f, 1.0f, 95, 5, 0.7f, 0.04f, 1.0f, 0.85f, 4, 0, 0),
         ELL("cushion", 0, 0.1f, -1.0f, 0, 0.6f, 0, 0, 0.4f, 0.06f, 6, 0, 1),
         LIMB("stretcher", 2, 0.65f, 0, 90, 3, 0.75f, 0.025f, 1.0f, 1.0f, 5, 0, 2),
     },
     .nkps = 7,
     .kps = {KP("seat_front", 0, 0.95f, 0), KP("seat_back", 0, -0.95f, 0),
             KP("back_top", 1, 0, -0.9f), KP("front_foot", 2, 0.96f, 0),
             KP("back_foot", 3, 0.96f, 0), KP("cushion", 4, 0, 0), KP("stretcher", 5, 0.5f, 0)},
     .slots = {SLOT(30, 15, 0.4f, 0.8f, 0.3f, 0.7f, PLAIN | STRIPES | NOISE),
               SLOT(0, 180, 0.4f, 0.9f, 0.4f, 0.9f, PLAIN | CHECKER | SPOTS),
               SLOT(30, 15, 0.3f, 0.6f, 0.2f, 0.45f, PLAIN), DARK},
     .size_var = 0.1f,
     .deform = 0.03f},
    {.name = "guitar",
     .nparts = 6,
     .parts = {
         ELL("lower_body", -1, 0.3f, 0, 0, 0, 0, 0, 0.42f, 0.38f, 5, 0, 0),
         ELL("upper_body", 0, -0.9f, 0, 0.5f, 0, 0, 0, 0.3f, 0.28f, 5, 0, 0),
         LIMB("neck", 1, -0.5f, 0, 180, 3, 0.85f, 0.05f, 1.0f, 0.9f, 6, 0, 1),
         POLY("head", 2, 1.0f, 0, 0, 5, 0.15f, 0.08f, 6, 0, 3, 4,
              {{0, -1}, {1, -1}, {1, 1}, {0, 1}}),
         ELL("soundhole", 1, 0.7f, 0, 0, 0, 0, 0, 0.1f, 0.1f, 7, 0, 3),
         SUPER("bridge", 0, 0.35f, 0, 0, 0, 0, 0, 0.04f, 0.15f, 7, 0, 2),
     },
     .nkps = 7,
     .kps = {KP("bottom", 0, 0.95f, 0), KP("lower_bout", 0, 0, 0.9f),
             KP("upper_bout", 1, 0, -0.85f), KP("soundhole", 4, 0, 0), KP("bridge", 5, 0, 0),
             KP("neck_middle", 2, 0.5f, 0), KP("head_tip", 3, 0.9f, 0)},
     .slots = {SLOT(30, 20, 0.5f, 0.9f, 0.45f, 0.95f, PLAIN | NOISE | STRIPES),
               SLOT(25, 10, 0.4f, 0.7f, 0.2f, 0.4f, PLAIN),
               SLOT(0, 0, 0.0f, 0.1f, 0.85f, 1.0f, PLAIN), DARK},
     .size_var = 0.1f,
     .deform = 0.03f},
    {.name = "mushroom",
     .nparts = 6,
     .parts = {
         SUPER("stalk", -1, 0, 0.35f, 0, 0, 0, 0, 0.16f, 0.45f, 5, 0, 0),
         POLY("cap", 0, 0, -1.0f, 0, 10, 0.75f, 0.55f, 6, 0, 1, 9,
              {{-1, 0}, {-0.92f, -0.38f}, {-0.7f, -0.7f}, {-0.38f, -0.92f}, {0, -1},
               {0.38f, -0.92f}, {0.7f, -0.7f}, {0.92f, -0.38f}, {1, 0}}),
         SUPER("ring", 0, 0, -0.5f, 0, 0, 0, 0, 0.22f, 0.05f, 6, 0, 0),
         ELL("left_spot", 1, -0.4f, -0.45f, 0, 0, 0, 0, 0.08f, 0.06f, 7, 0, 2),
         ELL("right_spot", 1, 0.35f, -0.6f, 0, 0, 0, 0, 0.07f, 0.05f, 7, 0, 2),
         ELL("root", 0, 0, 1.0f, 0, 0, 0, 0, 0.22f, 0.08f, 4, 0, 3),
     },
     .nkps = 7,
     .kps = {KP("cap_top", 1, 0, -0.9f), KP("cap_left", 1, -0.9f, -0.05f),
             KP("cap_right", 1, 0.9f, -0.05f), KP("ring", 2, 0, 0), KP("stalk_base", 0, 0, 0.9f),
             KP("left_spot", 3, 0, 0), KP("right_spot", 4, 0, 0)},
     .slots = {SLOT(40, 10, 0.05f, 0.25f, 0.8f, 1.0f, PLAIN | NOISE),
               SLOT(0, 30, 0.6f, 1.0f, 0.55f, 0.9f, PLAIN | NOISE),
               SLOT(0, 0, 0.0f, 0.05f, 0.9f, 1.0f, PLAIN),
               SLOT(30, 10, 0.4f, 0.7f, 0.15f, 0.35f, PLAIN | NOISE)},
     .size_var = 0.12f,
     .deform = 0.04f},
};

int syn_num_category_defs(void) { return (int)(sizeof g_categories / sizeof g_categories[0]); }

const struct syn_category_def *syn_category_def(int k) { return &g_categories[k]; }

int scorr_synth_max_categories(void) { return syn_num_category_defs(); }
const char *scorr_synth_category_name(int k) { return g_categories[k].name; }
int scorr_synth_category_num_kps(int k) { return g_categories[k].nkps; }
const char *scorr_synth_kp_name(int k, int kp) { return g_categories[k].kps[kp].name; }

int scorr_synth_max_kps(void)
{
    int m = 0;
    for (int k = 0; k < syn_num_category_defs(); k++)
        if (g_categories[k].nkps > m) m = g_categories[k].nkps;
    return m;
}
