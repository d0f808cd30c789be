/* PF-WILLOW reader (docs/packing.md): test_pairs.csv with columns imageA,
 * imageB, then 10 x and 10 y for A and 10 x and 10 y for B; paths like
 * "PF-dataset/car(G)/Cars_006a.png", whose second component is the class
 * folder and whose remainder is the image below the raw root. There are no
 * object boxes: the keypoint box is stored and the file's pck_threshold is
 * "kpsbox". */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pack_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

static const char *const k_classes[] = {
    "car(G)",       "car(M)",       "car(S)",        "duck(S)",        "motorbike(G)",
    "motorbike(M)", "motorbike(S)", "winebottle(M)", "winebottle(wC)", "winebottle(woC)"};
#define NUM_CLASSES ((int)(sizeof k_classes / sizeof *k_classes))
#define NPTS 10
#define NCOLS (2 + 4 * NPTS)

int pack_setup_pfwillow(struct pack_ctx *c, const char *raw_dir)
{
    int err = 0;
    SCORR_TRY(pack_find_root(c, raw_dir, "PF-WILLOW", "test_pairs.csv", "'test_pairs.csv'",
                             "pass the folder that holds test_pairs.csv and the 10 class "
                             "folders"));
    c->categories = k_classes;
    c->num_categories = NUM_CLASSES;
    c->source = "pfwillow";
    c->threshold = "kpsbox";
done:
    return err;
}

/* "PF-dataset/car(G)/Cars_006a.png" -> rel "car(G)/Cars_006a.png", class id. */
static int split_path(const char *csv, int lineno, const char *p, const char **rel, int *cls)
{
    int err = 0;
    const char *s1 = strchr(p, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    SCORR_REQUIRE(s1 && s2 && s2 > s1 + 1 && s2[1], SCORR_EFORMAT,
                  "%s:%d: image path '%s' is not '<folder>/<class>/<file>'", csv, lineno, p);
    *cls = -1;
    for (int i = 0; i < NUM_CLASSES; i++)
        if (strlen(k_classes[i]) == (size_t)(s2 - s1 - 1) &&
            !strncmp(k_classes[i], s1 + 1, (size_t)(s2 - s1 - 1)))
            *cls = i;
    SCORR_REQUIRE(*cls >= 0, SCORR_EFORMAT,
                  "%s:%d: unknown class folder '%.*s' in '%s' (PF-WILLOW has car(G), car(M), "
                  "car(S), duck(S), motorbike(G|M|S), winebottle(M|wC|woC))",
                  csv, lineno, (int)(s2 - s1 - 1), s1 + 1, p);
    *rel = s1 + 1;
done:
    return err;
}

static void stem(const char *p, char *out, size_t n)
{
    const char *b = strrchr(p, '/');
    snprintf(out, n, "%s", b ? b + 1 : p);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

static int read_row(struct pack_ctx *c, const char *csv, int lineno, char **f,
                    struct pack_pair *p)
{
    int err = 0;
    const char *ra, *rb;
    int ca, cb;
    double v[4 * NPTS];
    char sa[256], sb[256], name[520];
    memset(p, 0, sizeof *p);
    SCORR_TRY(split_path(csv, lineno, f[0], &ra, &ca));
    SCORR_TRY(split_path(csv, lineno, f[1], &rb, &cb));
    SCORR_REQUIRE(ca == cb, SCORR_EFORMAT, "%s:%d: the images are from different classes (%s, %s)",
                  csv, lineno, k_classes[ca], k_classes[cb]);
    for (int i = 0; i < 4 * NPTS; i++)
        SCORR_REQUIRE(!pack_parse_double(f[2 + i], &v[i]), SCORR_EFORMAT,
                      "%s:%d: column %d is not a finite number: '%s'", csv, lineno, 3 + i,
                      f[2 + i]);
    stem(f[0], sa, sizeof sa);
    stem(f[1], sb, sizeof sb);
    snprintf(name, sizeof name, "%s-%s", sa, sb);
    p->name = strdup(name);
    p->kps = malloc(NPTS * 4 * sizeof *p->kps);
    p->ids = malloc(NPTS * sizeof *p->ids);
    SCORR_REQUIRE(p->name && p->kps && p->ids, SCORR_ENOMEM, "out of memory");
    p->n = NPTS;
    float box[2][4] = {{FLT_MAX, FLT_MAX, -FLT_MAX, -FLT_MAX}, {FLT_MAX, FLT_MAX, -FLT_MAX, -FLT_MAX}};
    for (int k = 0; k < NPTS; k++) {
        for (int im = 0; im < 2; im++) { /* A: x = v[k], y = v[10 + k]; B: +20 */
            float x = (float)v[20 * im + k], y = (float)v[20 * im + NPTS + k];
            p->kps[4 * k + 2 * im] = x;
            p->kps[4 * k + 2 * im + 1] = y;
            if (x < box[im][0]) box[im][0] = x;
            if (y < box[im][1]) box[im][1] = y;
            if (x > box[im][2]) box[im][2] = x;
            if (y > box[im][3]) box[im][3] = y;
        }
        p->ids[k] = k;
    }
    memcpy(p->src_box, box[0], sizeof p->src_box);
    memcpy(p->trg_box, box[1], sizeof p->trg_box);
    p->category = ca;
    p->flip = 0;
    memset(p->diff, -1, sizeof p->diff);
    SCORR_TRY(pack_image_id(c, ra, &p->src));
    SCORR_TRY(pack_image_id(c, rb, &p->trg));
done:
    if (err) pack_pair_free(p);
    return err;
}

int pack_read_pfwillow(struct pack_ctx *c, struct pack_split *s)
{
    int err = 0;
    struct pack_text t = {0};
    char path[4096];
    SCORR_TRY(pack_path(c, path, sizeof path, "test_pairs.csv"));
    SCORR_TRY(pack_text_open(&t, path));
    char *line, *f[NCOLS + 1];
    int lineno;
    SCORR_REQUIRE(pack_text_next(&t, &line, &lineno), SCORR_EFORMAT, "'%s' is empty", path);
    char header[64];
    snprintf(header, sizeof header, "%.60s", line);
    int nh = pack_csv_split(line, f, NCOLS + 1);
    SCORR_REQUIRE(nh == NCOLS && !strcasecmp(f[0], "imageA") && !strcasecmp(f[1], "imageB"),
                  SCORR_EFORMAT,
                  "%s:%d: unexpected header '%s...' (%d columns); expected imageA,imageB and 40 "
                  "coordinate columns (%d in all)",
                  path, lineno, header, nh, NCOLS);
    while (pack_text_next(&t, &line, &lineno)) {
        if (!line[0]) continue;
        char name[320];
        pack_csv_row_name(path, lineno, line, name, sizeof name);
        int n = pack_csv_split(line, f, NCOLS + 1);
        if (n != NCOLS) {
            err = scorr_error_set(SCORR_EFORMAT, __FILE__, __LINE__, __func__,
                                  "%s:%d: expected %d columns (imageA, imageB, 10 x and 10 y per "
                                  "image), found %d",
                                  path, lineno, NCOLS, n);
            SCORR_TRY(pack_skip_or_fail(c, s->name, name, err));
            continue;
        }
        struct pack_pair p;
        err = read_row(c, path, lineno, f, &p);
        if (err) {
            SCORR_TRY(pack_skip_or_fail(c, s->name, name, err));
            continue;
        }
        SCORR_TRY(pack_split_add(s, &p));
    }
done:
    pack_text_close(&t);
    return err;
}
