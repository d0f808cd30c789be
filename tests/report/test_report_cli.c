/* The programs end to end on a tiny random checkpoint and synthetic file:
 * scorr_eval --pictures N draws N pairs (two PNGs each, of the stated sizes,
 * listed in index.tsv); scorr_match draws the confident matches (at most
 * --max-matches, none on an empty mask, N x N with --grid); scorr_report
 * turns the run folder into a page holding the evaluation's numbers and
 * every picture; usage errors exit 2. argv: scorr_eval, scorr_match,
 * scorr_report. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval_ckpt.h"
#include "eval_testutil.h"
#include "report_fakes.h"
#include "run.h"
#include "scorr/image.h"
#include "scorr/io.h"

static char g_dir[4096], g_log[4200];
static char *g_out, *g_err;

static int run(const char *bin, const char *args)
{
    return scorr_run_capture("", bin, args, g_log, &g_out, &g_err);
}

static void png_size(const char *path, int *w, int *h)
{
    struct scorr_image img = {0};
    *w = *h = 0;
    if (scorr_image_load_png(path, &img)) {
        scorr_error_clear();
        return;
    }
    *w = img.width, *h = img.height;
    scorr_image_free(&img);
}

/* "N drawn" of scorr_match's log line. */
static int drawn(void)
{
    const char *base = g_err, *p = strstr(g_err, " drawn");
    if (!p) p = strstr(base = g_out, " drawn");
    if (!p) return -1;
    while (p > base && p[-1] >= '0' && p[-1] <= '9') p--;
    return atoi(p);
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    const char *eval = argv[1], *match = argv[2], *report = argv[3];
    snprintf(g_dir, sizeof g_dir, "%s/tests/report_cli_%d", SCORR_BINARY_DIR, (int)getpid());
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    CHECK_OK(scorr_mkdirs(g_dir));
    char data[4400], ck[4400], rd[4400], args[16384], path[8192];
    snprintf(data, sizeof data, "%s/s.h5", g_dir);
    snprintf(ck, sizeof ck, "%s/best.h5", g_dir);
    snprintf(rd, sizeof rd, "%s/run", g_dir);
    CHECK_OK(evt_make_synth(data, 6, 3));
    CHECK_OK(evt_write_ckpt(ck, "baseline", 64, 0, 0, data));
    CHECK_OK(rf_make_run(rd, 0));

    /* scorr_eval --pictures 3 */
    CHECK(run(eval, "--help") == 0 && strstr(g_out, "--pictures"), "scorr_eval --help");
    CHECK(run(eval, "a b --pictures 0") == 2, "--pictures 0 is a usage error");
    snprintf(args, sizeof args, "'%s' '%s' --split test --pictures 3 --out '%s' --quiet", ck, data,
             rd);
    CHECK(run(eval, args) == 0, "scorr_eval --pictures: %s", g_err);
    snprintf(path, sizeof path, "%s/pictures_test/index.tsv", rd);
    char *idx = NULL;
    size_t len = 0;
    CHECK_OK(scorr_read_file(path, &idx, &len));
    int rows = 0, pairs = 0, warps = 0;
    for (char *line = idx ? strtok(idx, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (rows++ == 0) continue;
        char file[512], kind[16];
        int kp = -1, ok = -1;
        if (sscanf(line, "%511[^\t]\t%15[^\t]\t%*d\t%*[^\t]\t%*[^\t]\t%d\t%d", file, kind, &kp,
                   &ok) != 4) {
            CHECK(0, "index line '%s'", line);
            continue;
        }
        int w, h;
        snprintf(path, sizeof path, "%s/pictures_test/%s", rd, file);
        png_size(path, &w, &h);
        if (!strcmp(kind, "pair")) {
            pairs++;
            CHECK(w == 2 * 256 + 8 && h == 256, "%s: %d x %d", file, w, h);
            CHECK(kp > 0 && ok >= 0 && ok <= kp, "%s: %d of %d correct", file, ok, kp);
        } else {
            warps++;
            CHECK(w == 5 * 256 + 4 * 8 && h == 256, "%s: %d x %d (5 panels)", file, w, h);
        }
    }
    CHECK(pairs == 3 && warps == 3, "index: %d pair and %d warp pictures", pairs, warps);
    free(idx);

    /* scorr_match: confident matches */
    char img[4400], img2[4400], black[4400], png[4400];
    {
        struct scorr_dataset *ds = NULL;
        uint8_t a[64 * 64 * 3], b[64 * 64 * 3];
        CHECK_OK(scorr_dataset_open(data, &ds));
        if (ds) {
            CHECK_OK(scorr_dataset_read_image(ds, 0, a));
            CHECK_OK(scorr_dataset_read_image(ds, 1, b));
            scorr_dataset_close(ds);
        }
        snprintf(img, sizeof img, "%s/a.png", g_dir);
        snprintf(img2, sizeof img2, "%s/b.png", g_dir);
        snprintf(black, sizeof black, "%s/black.png", g_dir);
        snprintf(png, sizeof png, "%s/m.png", g_dir);
        CHECK_OK(scorr_image_write_png(img, a, 64, 64, 3));
        CHECK_OK(scorr_image_write_png(img2, b, 64, 64, 3));
        memset(a, 0, sizeof a);
        CHECK_OK(scorr_image_write_png(black, a, 64, 64, 3));
    }
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-png '%s' --max-matches 7", ck, img, img2, png);
    CHECK(run(match, args) == 0, "scorr_match: %s", g_err);
    int d = drawn(), w, h;
    CHECK(d >= 1 && d <= 7, "confident matches drawn: %d\n%s", d, g_err);
    png_size(png, &w, &h);
    CHECK(w == 256 + 8 + 256 && h == 256, "match picture %d x %d", w, h);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-png '%s' --mask '%s'", ck, img, img2, png,
             black);
    CHECK(run(match, args) == 0 && drawn() == 0, "an empty mask draws nothing: %d", drawn());
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-png '%s' --grid 3 --mask '%s'", ck, img, img2,
             png, black);
    CHECK(run(match, args) == 1 && strstr(g_err, "--mask"), "--mask with --grid: %s", g_err);
    snprintf(args, sizeof args, "'%s' '%s' '%s' --out-png '%s' --grid 3", ck, img, img2, png);
    CHECK(run(match, args) == 0 && (strstr(g_err, "(9 matches)") || strstr(g_out, "(9 matches)")),
          "--grid 3: %s%s", g_out, g_err);

    /* scorr_report on the run folder */
    CHECK(run(report, "--help") == 0 && strstr(g_out, "usage: scorr_report"), "--help");
    CHECK(run(report, "") == 2, "no folder: usage");
    CHECK(run(report, "a b") == 2, "two folders: usage");
    snprintf(args, sizeof args, "'%s/none'", g_dir);
    CHECK(run(report, args) == 1 && strstr(g_err, "none"), "missing folder: %s", g_err);
    snprintf(args, sizeof args, "'%s'", rd);
    CHECK(run(report, args) == 0 && strstr(g_out, "1 evaluation files") &&
              strstr(g_out, "6 pictures"), "scorr_report: %s%s", g_out, g_err);
    snprintf(path, sizeof path, "%s/report.html", rd);
    char *html = NULL;
    CHECK_OK(scorr_read_file(path, &html, &len));
    snprintf(path, sizeof path, "%s/eval_test.json", rd);
    char *js = NULL;
    CHECK_OK(scorr_read_file(path, &js, &len));
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "pck"), "0.1");
    char want[64];
    snprintf(want, sizeof want, "<td class=\"n\">%.2f</td>", cJSON_IsNumber(v) ? v->valuedouble : -1);
    CHECK(html && strstr(html, want), "the page holds the evaluation's PCK@0.1 (%s)", want);
    CHECK(html && rf_html_balanced(html) == 0, "well formed");
    CHECK(html && rf_count(html, "data:image/png;base64,") == 6, "six pictures embedded");
    cJSON_Delete(j);
    free(js);
    free(html);
    free(g_out);
    free(g_err);
    if (!scorr_test_failures) {
        snprintf(path, sizeof path, "rm -rf '%s'", g_dir);
        if (system(path) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    }
    return scorr_test_finish("test_report_cli");
}
