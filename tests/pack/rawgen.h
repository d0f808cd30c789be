/* Miniature copies of the raw benchmark layouts, written in the real formats:
 * JPEG (libjpeg) and PNG (libpng) images of odd sizes, SPair JSON written with
 * cJSON, PF-PASCAL Level-5 zlib-compressed .mat files written with matio,
 * CSVs with the exact headers. The generator also returns what it wrote
 * (image sizes, pairs, keypoints in original pixels) so the tests compute the
 * expected packed values on their own. A mutation flag breaks one thing. */
#ifndef SCORR_TEST_RAWGEN_H
#define SCORR_TEST_RAWGEN_H

#include <stddef.h>

#define GEN_MAX_KPS 16
#define GEN_MAX_IMAGES 16
#define GEN_MAX_PAIRS 32

struct gen_image {
    char rel[160]; /* path below the raw root, as stored in /images/names */
    int w, h;
};

struct gen_pair {
    char split[8];
    char name[128];    /* expected pair_names entry */
    int src, trg;      /* gen_image indices */
    int category;      /* expected category id */
    int n;             /* expected keypoints after NaN filtering */
    double kps[GEN_MAX_KPS][4]; /* src x, y, trg x, y in original pixels */
    int ids[GEN_MAX_KPS];
    double sbox[4], tbox[4];    /* original pixels */
    int flip;
    int diff[4];
    int bad;           /* 1 if the mutation breaks this pair's annotation */
};

struct gen_raw {
    char root[4096];
    int nimg;
    struct gen_image img[GEN_MAX_IMAGES];
    int bad_image[GEN_MAX_IMAGES]; /* the mutation made this image unreadable */
    int npairs;
    struct gen_pair pair[GEN_MAX_PAIRS];
};

enum gen_mutation {
    GEN_OK = 0,
    GEN_SPAIR_MISSING_IMAGE = 1 << 0,  /* deletes JPEGImages/cat/2009_000011.jpg */
    GEN_SPAIR_TRUNC_JPEG = 1 << 1,     /* truncates JPEGImages/tvmonitor/2010_000101.jpg */
    GEN_SPAIR_BAD_JSON = 1 << 2,       /* pair 2's JSON: a syntax error on line 3 */
    GEN_SPAIR_BAD_CATEGORY = 1 << 3,   /* pair 1's layout line says ':dragon' (trn.txt:2) */
    GEN_SPAIR_NO_ANNOT = 1 << 4,       /* pair 4's JSON deleted */
    GEN_SPAIR_NO_VAL_LAYOUT = 1 << 5,  /* Layout/large/val.txt missing */
    GEN_PF_NO_KPS = 1 << 6,            /* Annotations/cat/2009_004444.mat has no 'kps' */
    GEN_PF_BAD_COLS = 1 << 7,          /* trn_pairs.csv line 3 has 5 columns */
    GEN_PF_BAD_CLASS = 1 << 8,         /* trn_pairs.csv line 2 has class 21 */
    GEN_PF_BAD_HEADER = 1 << 9,        /* trn_pairs.csv header 'src,trg,class,flip' */
    GEN_WILLOW_BAD_CLASS = 1 << 10,    /* test_pairs.csv line 3: 'horse(X)' folder */
    GEN_WILLOW_BAD_COLS = 1 << 11,     /* test_pairs.csv line 2 has 41 columns */
};

/* Each writes a fresh raw folder <dir>/<name> and fills *out; exits the test
 * (status 2) if it cannot write. */
void gen_spair(const char *dir, unsigned mutation, struct gen_raw *out);
void gen_pfpascal(const char *dir, unsigned mutation, struct gen_raw *out);
void gen_pfwillow(const char *dir, unsigned mutation, struct gen_raw *out);

/* A fresh temporary folder (mkdtemp) and its recursive removal. */
void gen_tmpdir(char *out, size_t n);
void gen_rmdir(const char *dir);
/* 1 if no file in dir has ".tmp." in its name (an atomic writer's leftover);
 * 0 also when dir cannot be opened. */
int gen_no_temporaries(const char *dir);

/* The benchmarks' full category lists in the order a packed file stores
 * them, and the split lists, written down here independently of src/pack. */
extern const char *const gen_spair_categories[18];
extern const char *const gen_pfpascal_categories[20];
extern const char *const gen_pfwillow_categories[10];
extern const char *const gen_splits_three[3]; /* trn, val, test */
extern const char *const gen_splits_test[1];  /* test */

#endif
