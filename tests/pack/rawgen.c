/* Writers of the miniature raw layouts (see rawgen.h). */
#include "rawgen.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <matio.h>

#include "scorr/error.h"
#include "scorr/image.h"
#include "scorr/io.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "rawgen: cannot %s '%s'\n", what, path);
    scorr_error_print(stderr, "rawgen");
    exit(2);
}

void gen_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/scorr_pack_XXXXXX");
    if (!mkdtemp(out)) die("create", out);
}

void gen_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "rawgen: could not remove %s\n", dir);
}

int gen_no_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int ok = 1;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.")) ok = 0;
    closedir(d);
    return ok;
}

const char *const gen_spair_categories[18] = {
    "aeroplane", "bicycle", "bird",  "boat",      "bottle", "bus",
    "car",       "cat",     "chair", "cow",       "dog",    "horse",
    "motorbike", "person",  "pottedplant", "sheep", "train", "tvmonitor"};
const char *const gen_pfpascal_categories[20] = {
    "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",   "car",
    "cat",       "chair",   "cow",   "diningtable", "dog",    "horse", "motorbike",
    "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
const char *const gen_pfwillow_categories[10] = {
    "car(G)",       "car(M)",        "car(S)",         "duck(S)",        "motorbike(G)",
    "motorbike(M)", "motorbike(S)",  "winebottle(M)",  "winebottle(wC)", "winebottle(woC)"};
const char *const gen_splits_three[3] = {"trn", "val", "test"};
const char *const gen_splits_test[1] = {"test"};

static void join(char *out, const char *a, const char *b)
{
    if (snprintf(out, 4096, "%s/%s", a, b) >= 4096) die("join (too long)", a);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) die("write", path);
}

static void mkdir_for(const char *path)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *s = strrchr(d, '/');
    if (s) *s = 0;
    if (scorr_mkdirs(d)) die("mkdir", d);
}

/* Smooth ramps plus blocks; different per seed. (h, w, c) uint8. */
static void pixels(uint8_t *px, int w, int h, int c, int seed)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * c;
            p[0] = (uint8_t)(x * 255 / w + seed * 40);
            if (c > 1) p[1] = (uint8_t)(y * 255 / h + seed * 17);
            if (c > 2) p[2] = (uint8_t)(((x / 8 + y / 8) % 2) * 120 + seed * 9);
            if (c > 3) p[3] = (uint8_t)(128 + seed);
        }
}

static void write_image(const char *root, const struct gen_image *im, int seed, int png,
                        int channels)
{
    char path[4096];
    join(path, root, im->rel);
    mkdir_for(path);
    uint8_t *px = malloc((size_t)im->w * im->h * channels);
    pixels(px, im->w, im->h, channels, seed);
    int rc = png ? scorr_image_write_png(path, px, im->w, im->h, channels)
                 : scorr_image_write_jpeg(path, px, im->w, im->h, channels, 92);
    free(px);
    if (rc) die("write image", path);
}

static void truncate_file(const char *path, double keep)
{
    char *data = NULL;
    size_t len = 0;
    if (scorr_read_file(path, &data, &len)) die("read", path);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, (size_t)(len * keep), f);
    fclose(f);
    free(data);
}

/* ---- SPair-71k ---------------------------------------------------------- */

static const char *const k_spair_cats[] = {"aeroplane", "cat", "tvmonitor"};
static const int k_spair_cat_ids[] = {0, 7, 17}; /* in the sorted 18-name list */

static const struct {
    int cat;
    const char *id;
    int w, h;
} k_spair_imgs[] = {
    {0, "2008_000001", 300, 200}, {0, "2008_000002", 500, 375}, {1, "2009_000010", 333, 250},
    {1, "2009_000011", 200, 300}, {2, "2010_000100", 257, 199}, {2, "2010_000101", 150, 100},
};

/* split, src image, trg image, keypoints, annotation named with '-' */
static const struct {
    const char *split;
    int src, trg, n, dash;
} k_spair_pairs[] = {
    {"trn", 1, 0, 3, 0},  {"trn", 0, 1, 5, 1},  {"trn", 3, 2, 2, 0}, {"trn", 2, 3, 4, 0},
    {"trn", 4, 5, 1, 0},  {"val", 0, 1, 6, 1},  {"val", 5, 4, 2, 0}, {"test", 2, 3, 7, 0},
    {"test", 1, 0, 3, 1}, {"test", 4, 5, 4, 0}, {"test", 3, 2, 5, 0},
};

void gen_spair(const char *dir, unsigned mut, struct gen_raw *out)
{
    memset(out, 0, sizeof *out);
    join(out->root, dir, "SPair-71k");
    char path[4096], rel[512];
    int nimg = (int)(sizeof k_spair_imgs / sizeof *k_spair_imgs);
    for (int i = 0; i < nimg; i++) {
        struct gen_image *im = &out->img[i];
        snprintf(im->rel, sizeof im->rel, "JPEGImages/%s/%s.jpg", k_spair_cats[k_spair_imgs[i].cat],
                 k_spair_imgs[i].id);
        im->w = k_spair_imgs[i].w;
        im->h = k_spair_imgs[i].h;
        write_image(out->root, im, i, 0, 3);
    }
    out->nimg = nimg;
    /* Images the layout never mentions are not packed (a stray file). */
    struct gen_image stray = {"JPEGImages/cat/2007_999999.jpg", 40, 30};
    write_image(out->root, &stray, 9, 0, 3);
    /* Folders of the other categories exist in a real copy. */
    join(path, out->root, "JPEGImages/bicycle");
    scorr_mkdirs(path);

    const char *splits[3] = {"trn", "val", "test"};
    char layout[3][4096];
    memset(layout, 0, sizeof layout);
    int np = (int)(sizeof k_spair_pairs / sizeof *k_spair_pairs);
    for (int pi = 0; pi < np; pi++) {
        struct gen_pair *p = &out->pair[pi];
        int s = k_spair_pairs[pi].src, t = k_spair_pairs[pi].trg, cat = k_spair_imgs[s].cat;
        const struct gen_image *si = &out->img[s], *ti = &out->img[t];
        snprintf(p->split, sizeof p->split, "%s", k_spair_pairs[pi].split);
        snprintf(p->name, sizeof p->name, "%06d-%s-%s:%s", 100 + pi * 7, k_spair_imgs[s].id,
                 k_spair_imgs[t].id, k_spair_cats[cat]);
        p->src = s;
        p->trg = t;
        p->category = k_spair_cat_ids[cat];
        p->n = k_spair_pairs[pi].n;
        cJSON *js = cJSON_CreateObject(), *sk = cJSON_CreateArray(), *tk = cJSON_CreateArray(),
              *ids = cJSON_CreateArray();
        for (int k = 0; k < p->n; k++) {
            p->kps[k][0] = (37 * k + 11 * pi + 5) % (si->w - 1);
            p->kps[k][1] = (23 * k + 7 * pi + 3) % (si->h - 1);
            p->kps[k][2] = (41 * k + 5 * pi + 9) % (ti->w - 1);
            p->kps[k][3] = (29 * k + 13 * pi + 1) % (ti->h - 1);
            p->ids[k] = 2 * k + 1 + pi % 3;
            double a[2] = {p->kps[k][0], p->kps[k][1]}, b[2] = {p->kps[k][2], p->kps[k][3]};
            cJSON_AddItemToArray(sk, cJSON_CreateDoubleArray(a, 2));
            cJSON_AddItemToArray(tk, cJSON_CreateDoubleArray(b, 2));
            /* The real files hold ids as strings ("0", "7"); some pairs use numbers. */
            char idstr[16];
            snprintf(idstr, sizeof idstr, "%d", p->ids[k]);
            cJSON_AddItemToArray(ids, pi % 2 ? cJSON_CreateNumber(p->ids[k])
                                             : cJSON_CreateString(idstr));
        }
        double sb[4] = {5 + pi, 6, si->w - 10, si->h - 7}, tb[4] = {2, 3 + pi, ti->w - 4, ti->h - 5};
        memcpy(p->sbox, sb, sizeof sb);
        memcpy(p->tbox, tb, sizeof tb);
        p->diff[0] = pi % 3;
        p->diff[1] = (pi + 1) % 3;
        p->diff[2] = pi % 4;
        p->diff[3] = (pi * 3) % 4;
        p->flip = 0;
        cJSON_AddItemToObject(js, "src_kps", sk);
        cJSON_AddItemToObject(js, "trg_kps", tk);
        cJSON_AddItemToObject(js, "kps_ids", ids);
        cJSON_AddItemToObject(js, "src_bndbox", cJSON_CreateDoubleArray(sb, 4));
        cJSON_AddItemToObject(js, "trg_bndbox", cJSON_CreateDoubleArray(tb, 4));
        cJSON_AddStringToObject(js, "category", k_spair_cats[cat]);
        cJSON_AddNumberToObject(js, "viewpoint_variation", p->diff[0]);
        cJSON_AddNumberToObject(js, "scale_variation", p->diff[1]);
        cJSON_AddNumberToObject(js, "truncation", p->diff[2]);
        cJSON_AddNumberToObject(js, "occlusion", p->diff[3]);
        /* Deliberately wrong sizes: the packer must use the decoded JPEG's. */
        double ssz[3] = {si->w + 17, si->h + 3, 3}, tsz[3] = {ti->w + 1, ti->h + 11, 3};
        cJSON_AddItemToObject(js, "src_imsize", cJSON_CreateDoubleArray(ssz, 3));
        cJSON_AddItemToObject(js, "trg_imsize", cJSON_CreateDoubleArray(tsz, 3));
        snprintf(rel, sizeof rel, "%s.jpg", k_spair_imgs[s].id);
        cJSON_AddStringToObject(js, "src_imname", rel);
        snprintf(rel, sizeof rel, "%s.jpg", k_spair_imgs[t].id);
        cJSON_AddStringToObject(js, "trg_imname", rel);
        cJSON_AddNumberToObject(js, "pair_id", 100 + pi * 7);
        cJSON_AddStringToObject(js, "filename", p->name);
        cJSON_AddNumberToObject(js, "mirror", 0);
        char *text = cJSON_Print(js);
        cJSON_Delete(js);

        char fname[256];
        snprintf(fname, sizeof fname, "%s", p->name);
        if (k_spair_pairs[pi].dash)
            for (char *q = fname; *q; q++)
                if (*q == ':') *q = '-';
        snprintf(rel, sizeof rel, "PairAnnotation/%s/%s.json", p->split, fname);
        join(path, out->root, rel);
        mkdir_for(path);
        if ((mut & GEN_SPAIR_BAD_JSON) && pi == 2) {
            write_text(path, "{\n  \"category\": \"cat\",\n  \"src_kps\": [[1, 2],, [3, 4]],\n"
                             "  \"trg_kps\": []\n}\n");
            p->bad = 1;
        } else if (!((mut & GEN_SPAIR_NO_ANNOT) && pi == 4)) {
            write_text(path, text);
        } else {
            p->bad = 1;
        }
        free(text);

        int si_ = -1;
        for (int k = 0; k < 3; k++)
            if (!strcmp(splits[k], p->split)) si_ = k;
        char line[256];
        snprintf(line, sizeof line, "%s", p->name);
        if ((mut & GEN_SPAIR_BAD_CATEGORY) && pi == 1) {
            *strchr(line, ':') = 0;
            strcat(line, ":dragon");
            p->bad = 1;
        }
        strcat(layout[si_], line);
        /* trn: "\n" endings incl. the last; val: "\r\n"; test: no final newline */
        strcat(layout[si_], !strcmp(p->split, "val") ? "\r\n" : "\n");
    }
    out->npairs = np;
    size_t tl = strlen(layout[2]);
    if (tl) layout[2][tl - 1] = 0;
    for (int k = 0; k < 3; k++) {
        if ((mut & GEN_SPAIR_NO_VAL_LAYOUT) && k == 1) continue;
        snprintf(rel, sizeof rel, "Layout/large/%s.txt", splits[k]);
        join(path, out->root, rel);
        mkdir_for(path);
        write_text(path, layout[k]);
    }
    if (mut & GEN_SPAIR_MISSING_IMAGE) {
        join(path, out->root, out->img[3].rel);
        unlink(path);
        out->bad_image[3] = 1;
    }
    if (mut & GEN_SPAIR_TRUNC_JPEG) {
        join(path, out->root, out->img[5].rel);
        truncate_file(path, 0.6);
        out->bad_image[5] = 1;
    }
}

/* ---- PF-PASCAL ---------------------------------------------------------- */

static const struct {
    const char *id;
    int cls; /* 1-based */
    int w, h, nk;
} k_pf_imgs[] = {
    {"2007_000001", 1, 320, 240, 6},  {"2008_000123", 1, 375, 500, 8},
    {"2009_004444", 8, 211, 333, 5},  {"2010_000555", 8, 300, 300, 7},
    {"2011_000001", 18, 64, 64, 4},   {"2011_000002", 18, 180, 120, 6},
};

static double pf_kp(int img, int r, int axis) /* NAN for missing points */
{
    if ((r + img) % 4 == 2) return NAN;
    return axis == 0 ? 10 + 13 * r + 3 * img + 0.5 : 20 + 9 * r + 2 * img + 0.25;
}

static void pf_write_mat(const char *root, int i, int no_kps)
{
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "Annotations/%s/%s.mat",
             gen_pfpascal_categories[k_pf_imgs[i].cls - 1], k_pf_imgs[i].id);
    join(path, root, rel);
    mkdir_for(path);
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    if (!m) die("create .mat", path);
    int n = k_pf_imgs[i].nk;
    if (!no_kps) {
        size_t dims[2] = {(size_t)n, 2};
        double kd[64];
        float kf[64];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < 2; a++) {
                kd[a * n + r] = pf_kp(i, r, a); /* column-major */
                kf[a * n + r] = (float)pf_kp(i, r, a);
            }
        /* Image 3 stores kps as single precision: the reader converts. */
        matvar_t *v = i == 3 ? Mat_VarCreate("kps", MAT_C_SINGLE, MAT_T_SINGLE, 2, dims, kf, 0)
                             : Mat_VarCreate("kps", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, kd, 0);
        if (!v || Mat_VarWrite(m, v, MAT_COMPRESSION_ZLIB)) die("write kps to", path);
        Mat_VarFree(v);
    }
    size_t bd[2] = {1, 4};
    double box[4] = {3 + i, 4, k_pf_imgs[i].w - 5, k_pf_imgs[i].h - 6};
    uint16_t box16[4] = {(uint16_t)box[0], (uint16_t)box[1], (uint16_t)box[2], (uint16_t)box[3]};
    /* Image 1 stores bbox as uint16, like some MATLAB exports. */
    matvar_t *b = i == 1 ? Mat_VarCreate("bbox", MAT_C_UINT16, MAT_T_UINT16, 2, bd, box16, 0)
                         : Mat_VarCreate("bbox", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, bd, box, 0);
    if (!b || Mat_VarWrite(m, b, MAT_COMPRESSION_ZLIB)) die("write bbox to", path);
    Mat_VarFree(b);
    size_t cd[2] = {1, 1};
    double cls = k_pf_imgs[i].cls;
    matvar_t *c = Mat_VarCreate("class", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, cd, &cls, 0);
    Mat_VarWrite(m, c, MAT_COMPRESSION_ZLIB);
    Mat_VarFree(c);
    Mat_Close(m);
}

static const struct {
    const char *split;
    int src, trg, flip;
} k_pf_pairs[] = {
    {"trn", 0, 1, 0}, {"trn", 1, 0, 1}, {"trn", 2, 3, 1}, {"trn", 4, 5, 0},
    {"val", 3, 2, 0}, {"val", 5, 4, 0}, {"test", 0, 1, 0}, {"test", 2, 3, 0}, {"test", 5, 4, 0},
};

void gen_pfpascal(const char *dir, unsigned mut, struct gen_raw *out)
{
    memset(out, 0, sizeof *out);
    join(out->root, dir, "PF-PASCAL");
    char path[4096];
    int nimg = (int)(sizeof k_pf_imgs / sizeof *k_pf_imgs);
    for (int i = 0; i < nimg; i++) {
        struct gen_image *im = &out->img[i];
        snprintf(im->rel, sizeof im->rel, "JPEGImages/%s.jpg", k_pf_imgs[i].id);
        im->w = k_pf_imgs[i].w;
        im->h = k_pf_imgs[i].h;
        write_image(out->root, im, i, 0, 3);
        pf_write_mat(out->root, i, (mut & GEN_PF_NO_KPS) && i == 2);
    }
    out->nimg = nimg;
    int np = (int)(sizeof k_pf_pairs / sizeof *k_pf_pairs);
    char csv[3][4096];
    const char *splits[3] = {"trn", "val", "test"};
    snprintf(csv[0], sizeof csv[0], "%s\n",
             (mut & GEN_PF_BAD_HEADER) ? "src,trg,class,flip" : "source_image,target_image,class,flip");
    snprintf(csv[1], sizeof csv[1], "source_image,target_image,class,flip\n");
    snprintf(csv[2], sizeof csv[2], "source_image,target_image,class,XA,YA,XB,YB\n");
    int line_in_split[3] = {1, 1, 1};
    for (int pi = 0; pi < np; pi++) {
        struct gen_pair *p = &out->pair[pi];
        int s = k_pf_pairs[pi].src, t = k_pf_pairs[pi].trg, k = 0;
        snprintf(p->split, sizeof p->split, "%s", k_pf_pairs[pi].split);
        for (int j = 0; j < 3; j++)
            if (!strcmp(splits[j], p->split)) k = j;
        line_in_split[k]++;
        p->src = s;
        p->trg = t;
        p->flip = k_pf_pairs[pi].flip;
        p->category = k_pf_imgs[s].cls - 1;
        snprintf(p->name, sizeof p->name, "%s-%s%s", k_pf_imgs[s].id, k_pf_imgs[t].id,
                 p->flip ? ":flip" : "");
        int rows = k_pf_imgs[s].nk < k_pf_imgs[t].nk ? k_pf_imgs[s].nk : k_pf_imgs[t].nk;
        for (int r = 0; r < rows; r++) {
            double v[4] = {pf_kp(s, r, 0), pf_kp(s, r, 1), pf_kp(t, r, 0), pf_kp(t, r, 1)};
            if (isnan(v[0]) || isnan(v[2])) continue;
            memcpy(p->kps[p->n], v, sizeof v);
            p->ids[p->n++] = r;
        }
        double sb[4] = {3 + s, 4, k_pf_imgs[s].w - 5, k_pf_imgs[s].h - 6};
        double tb[4] = {3 + t, 4, k_pf_imgs[t].w - 5, k_pf_imgs[t].h - 6};
        memcpy(p->sbox, sb, sizeof sb);
        memcpy(p->tbox, tb, sizeof tb);
        for (int f = 0; f < 4; f++) p->diff[f] = -1;
        if ((mut & GEN_PF_NO_KPS) && (s == 2 || t == 2)) p->bad = 1;

        char row[1024];
        int cls = k_pf_imgs[s].cls;
        if ((mut & GEN_PF_BAD_CLASS) && k == 0 && line_in_split[0] == 2) {
            cls = 21;
            p->bad = 1;
        }
        int n = snprintf(row, sizeof row,
                         "PF-dataset-PASCAL/JPEGImages/%s.jpg,PF-dataset-PASCAL/JPEGImages/%s.jpg,%d",
                         k_pf_imgs[s].id, k_pf_imgs[t].id, cls);
        if (k == 2)
            snprintf(row + n, sizeof row - n, ",1.5;2.5;3,4;5;6.25,7;8;9,10;11;12\n");
        else if ((mut & GEN_PF_BAD_COLS) && k == 0 && line_in_split[0] == 3) {
            snprintf(row + n, sizeof row - n, ",%d,extra\n", p->flip);
            p->bad = 1;
        } else
            snprintf(row + n, sizeof row - n, ",%d\n", p->flip);
        strcat(csv[k], row);
        if (k == 1 && pi == 4) strcat(csv[k], "\n"); /* a blank line: skipped like pandas */
    }
    out->npairs = np;
    for (int k = 0; k < 3; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s_pairs.csv", splits[k]);
        join(path, out->root, rel);
        write_text(path, csv[k]);
    }
}

/* ---- PF-WILLOW ---------------------------------------------------------- */

static const struct {
    const char *rel;
    int cls, w, h, png_channels;
} k_wl_imgs[] = {
    {"car(G)/Cars_001a.png", 0, 300, 250, 3},
    {"car(G)/Cars_002a.png", 0, 311, 207, 3},
    {"duck(S)/Duck_001.png", 3, 256, 256, 1},
    {"duck(S)/Duck_002.png", 3, 280, 190, 4},
};

static const int k_wl_pairs[][2] = {{0, 1}, {1, 0}, {2, 3}, {3, 2}};

static double wl_kp(int img, int k, int axis)
{
    return axis == 0 ? 12.5 + 20.25 * k + 3 * img : 30.75 + 14.5 * k + 2 * img;
}

void gen_pfwillow(const char *dir, unsigned mut, struct gen_raw *out)
{
    memset(out, 0, sizeof *out);
    join(out->root, dir, "PF-WILLOW");
    char path[4096];
    int nimg = (int)(sizeof k_wl_imgs / sizeof *k_wl_imgs);
    for (int i = 0; i < nimg; i++) {
        struct gen_image *im = &out->img[i];
        snprintf(im->rel, sizeof im->rel, "%s", k_wl_imgs[i].rel);
        im->w = k_wl_imgs[i].w;
        im->h = k_wl_imgs[i].h;
        write_image(out->root, im, i, 1, k_wl_imgs[i].png_channels);
    }
    out->nimg = nimg;
    char csv[8192] = "imageA,imageB";
    for (int a = 0; a < 4; a++)
        for (int k = 1; k <= 10; k++) {
            char col[16];
            snprintf(col, sizeof col, ",%c%c%d", a % 2 ? 'Y' : 'X', a < 2 ? 'A' : 'B', k);
            strcat(csv, col);
        }
    strcat(csv, "\n");
    int np = (int)(sizeof k_wl_pairs / sizeof *k_wl_pairs);
    for (int pi = 0; pi < np; pi++) {
        struct gen_pair *p = &out->pair[pi];
        int s = k_wl_pairs[pi][0], t = k_wl_pairs[pi][1];
        snprintf(p->split, sizeof p->split, "test");
        p->src = s;
        p->trg = t;
        p->category = k_wl_imgs[s].cls;
        p->n = 10;
        char sa[64], sb[64];
        snprintf(sa, sizeof sa, "%s", strchr(k_wl_imgs[s].rel, '/') + 1);
        snprintf(sb, sizeof sb, "%s", strchr(k_wl_imgs[t].rel, '/') + 1);
        *strrchr(sa, '.') = 0;
        *strrchr(sb, '.') = 0;
        snprintf(p->name, sizeof p->name, "%s-%s", sa, sb);
        for (int j = 0; j < 4; j++) {
            p->sbox[j] = j < 2 ? 1e9 : -1e9;
            p->tbox[j] = j < 2 ? 1e9 : -1e9;
        }
        for (int k = 0; k < 10; k++) {
            p->kps[k][0] = wl_kp(s, k, 0);
            p->kps[k][1] = wl_kp(s, k, 1);
            p->kps[k][2] = wl_kp(t, k, 0);
            p->kps[k][3] = wl_kp(t, k, 1);
            p->ids[k] = k;
            for (int im = 0; im < 2; im++) {
                double *b = im ? p->tbox : p->sbox, x = p->kps[k][2 * im], y = p->kps[k][2 * im + 1];
                b[0] = fmin(b[0], x);
                b[1] = fmin(b[1], y);
                b[2] = fmax(b[2], x);
                b[3] = fmax(b[3], y);
            }
        }
        for (int f = 0; f < 4; f++) p->diff[f] = -1;
        char row[2048];
        const char *scls = k_wl_imgs[s].rel;
        char apath[128], bpath[128];
        snprintf(apath, sizeof apath, "PF-dataset/%s", scls);
        snprintf(bpath, sizeof bpath, "PF-dataset/%s", k_wl_imgs[t].rel);
        if ((mut & GEN_WILLOW_BAD_CLASS) && pi == 1) {
            snprintf(apath, sizeof apath, "PF-dataset/horse(X)/Horse_01.png");
            p->bad = 1;
        }
        int n = snprintf(row, sizeof row, "%s,%s", apath, bpath);
        int ncoord = ((mut & GEN_WILLOW_BAD_COLS) && pi == 0) ? 39 : 40;
        if (ncoord == 39) p->bad = 1;
        for (int c = 0; c < ncoord; c++) {
            int im = c / 20, axis = (c % 20) / 10, k = c % 10;
            n += snprintf(row + n, sizeof row - n, ",%.4f", wl_kp(im ? t : s, k, axis));
        }
        snprintf(row + n, sizeof row - n, "\n");
        strcat(csv, row);
    }
    out->npairs = np;
    join(path, out->root, "test_pairs.csv");
    write_text(path, csv);
}
