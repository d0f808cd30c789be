/* Report test helpers (report_fakes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_fakes.h"
#include "scorr/config.h"
#include "scorr/io.h"
#include "scorr/pictures.h"

static int put(const char *dir, const char *name, const char *text)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return scorr_write_file_atomic(path, text, strlen(text));
}

int rf_make_run(const char *dir, int pictures)
{
    int err = 0;
    char *yaml = NULL, buf[4096];
    struct scorr_config c;
    if ((err = scorr_mkdirs(dir))) return err;
    scorr_config_defaults(&c);
    snprintf(c.name, sizeof c.name, "%s", RF_NAME);
    if ((err = scorr_config_emit(&c, &yaml))) return err;
    err = put(dir, "config.yaml", yaml);
    free(yaml);
    if (err) return err;
    snprintf(buf, sizeof buf,
             "{\"format\": \"scorr-summary\", \"version\": 1, \"name\": \"%s\", \"variant\": "
             "\"mt\", \"finished\": true, \"epochs\": 3, \"epochs_done\": 3, \"steps\": 30, "
             "\"val_alpha\": 0.1, \"best_epoch\": 2, \"best_val_pck\": %.4f, \"best_peer\": 1, "
             "\"seconds\": 12.5}\n", RF_NAME, RF_BEST_VAL_PCK);
    if ((err = put(dir, "summary.json", buf))) return err;
    if ((err = put(dir, "epochs.csv",
                   "epoch,net,loss,loss_gt,loss_pseudo,val_pck,pseudo_weight,keep_ratio,lr_head,"
                   "lr_backbone,seconds,pl_sel_n,pl_sel_prec,grad_norm\n"
                   "0,0,3.1,3.1,0,10.5,0,0.2,0.001,0.001,4.0,,,1.5\n"
                   "0,1,3.2,3.2,0,11.0,0,0.2,0.001,0.001,4.0,,,1.4\n"
                   "1,0,2.5,2.2,0.3,18.25,1,0.55,0.0005,0.0005,4.0,900,61.5,1.2\n"
                   "1,1,2.6,2.3,0.3,17.0,1,0.55,0.0005,0.0005,4.0,880,60.0,1.1\n"
                   "2,0,2.1,1.9,0.2,22.0,1,0.9,1e-05,1e-05,4.0,1500,70.25,0.9\n"
                   "2,1,2.0,1.8,0.2,23.4567,1,0.9,1e-05,1e-05,4.0,1480,71.0,0.8\n")))
        return err;
    if ((err = put(dir, "steps.csv",
                   "step,epoch,iter,net,loss,loss_gt,loss_pseudo,pseudo_weight,keep_ratio,lr_head,"
                   "lr_backbone\n"
                   "1,0,1,0,3.5,3.5,0,0,0.2,0.001,0.001\n2,0,2,0,3.0,3.0,0,0,0.2,0.001,0.001\n"
                   "3,1,1,0,2.6,2.3,0.3,1,0.55,0.0005,0.0005\n4,1,2,0,2.4,2.2,0.2,1,0.55,0.0005,"
                   "0.0005\n5,2,1,0,2.0,1.9,0.1,1,0.9,1e-05,1e-05\n")))
        return err;
    snprintf(buf, sizeof buf,
             "{\"format\": \"scorr-eval\", \"version\": 1, \"checkpoint\": \"best.h5\", "
             "\"split\": \"test\", \"threshold\": \"bbox\", \"alphas\": [0.05, 0.1], "
             "\"pairs\": 20, \"points\": 160, \"pck\": {\"0.05\": 12.5, \"0.1\": %.4f}, "
             "\"pck_per_point\": {\"0.05\": 12.0, \"0.1\": 30.0}, \"per_category\": {\"bird\": "
             "{\"pairs\": 10, \"points\": 80, \"pck\": {\"0.05\": 11.0, \"0.1\": %.4f}}}, "
             "\"dense\": {\"epe_fg\": 9.8765, \"epe_fg_grid\": 9.5, \"pixels\": 1000, \"cells\": "
             "100, \"grid\": 32}}\n", RF_TEST_PCK, RF_CAT_PCK);
    if ((err = put(dir, "eval_test.json", buf))) return err;
    if (!pictures) return 0;
    char pd[4400];
    snprintf(pd, sizeof pd, "%s/pictures_test", dir);
    if ((err = scorr_mkdirs(pd))) return err;
    enum { S = 32 };
    static uint8_t a[S * S * 3], b[S * S * 3];
    for (int i = 0; i < S * S; i++) {
        a[3 * i] = (uint8_t)(i * 7), a[3 * i + 1] = 90, a[3 * i + 2] = (uint8_t)(i / 4);
        b[3 * i] = 40, b[3 * i + 1] = (uint8_t)(i * 3), b[3 * i + 2] = 200;
    }
    const float tk[4] = {5, 5, 20, 24}, sk[4] = {6, 7, 22, 20}, pr[4] = {6, 8, 2, 2};
    struct scorr_pair_picture pp;
    char png[4500];
    snprintf(png, sizeof png, "%s/01_a.png", pd);
    if ((err = scorr_picture_pair(png, a, b, S, tk, sk, pr, 2, 0.1f, 20.0f, &pp))) return err;
    snprintf(png, sizeof png, "%s/02_b.png", pd);
    if ((err = scorr_picture_pair(png, b, a, S, tk, sk, pr, 2, 0.1f, 20.0f, &pp))) return err;
    return put(pd, "index.tsv",
               "file\tkind\tpair\tpair_name\tcategory\tkeypoints\tcorrect\tpck\talpha\tepe_fg\n"
               "01_a.png\tpair\t3\tpair-three\tbird\t2\t1\t50.00\t0.1\t\n"
               "02_b.png\tpair\t4\tpair-four\tcat\t2\t1\t50.00\t0.1\t\n");
}

int rf_count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static int is_void(const char *name, size_t n)
{
    static const char *const v[] = {"meta", "img", "br", "hr", "input", "link", NULL};
    for (int i = 0; v[i]; i++)
        if (strlen(v[i]) == n && !strncmp(v[i], name, n)) return 1;
    return 0;
}

int rf_html_balanced(const char *html)
{
    char stack[256][32];
    int depth = 0;
    for (const char *p = html; (p = strchr(p, '<'));) {
        if (!strncmp(p, "<!", 2)) {
            p = strchr(p, '>');
            if (!p) break;
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
        const char *end = strchr(name, '>');
        if (!n || !end) {
            fprintf(stderr, "bad tag at byte %ld: %.40s\n", (long)(p - html), p);
            return 1;
        }
        int selfclose = end[-1] == '/';
        if (closing) {
            if (!depth || strlen(stack[depth - 1]) != n || strncmp(stack[depth - 1], name, n)) {
                fprintf(stderr, "</%.*s> at byte %ld closes <%s>\n", (int)n, name,
                        (long)(p - html), depth ? stack[depth - 1] : "(nothing)");
                return 1;
            }
            depth--;
        } else if (!selfclose && !is_void(name, n)) {
            if (depth == 256) return 1;
            snprintf(stack[depth++], sizeof stack[0], "%.*s", (int)n, name);
            if (n == 5 && !strncmp(name, "style", 5)) {
                end = strstr(end, "</style>");
                if (!end) return 1;
                p = end;
                continue;
            }
        }
        p = end + 1;
    }
    if (depth) {
        fprintf(stderr, "<%s> not closed (%d open)\n", stack[depth - 1], depth);
        return 1;
    }
    return 0;
}
