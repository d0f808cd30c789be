/* HTML text for the reports: escaping, the page frame and embedded PNGs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "scorr/error.h"
#include "scorr/io.h"

void html_text(struct scorr_sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': scorr_sb_printf(b, "&amp;"); break;
        case '<': scorr_sb_printf(b, "&lt;"); break;
        case '>': scorr_sb_printf(b, "&gt;"); break;
        case '"': scorr_sb_printf(b, "&quot;"); break;
        case '\'': scorr_sb_printf(b, "&#39;"); break;
        default: scorr_sb_append(b, s, 1);
        }
    }
}

static const char k_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
    "margin:24px auto;max-width:1180px;padding:0 16px;color:#1d232b;background:#fff}"
    "h1{font-size:1.6em;margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #d8dde3;"
    "padding-bottom:4px}h3{margin-bottom:6px}"
    ".sub{color:#5a6570;margin-top:0}"
    "table{border-collapse:collapse;margin:8px 0 16px;font-size:0.92em}"
    "th,td{border:1px solid #d8dde3;padding:3px 8px;text-align:left}"
    "th{background:#f2f4f7}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}"
    ".charts svg{border:1px solid #e3e7ec;background:#fff}"
    "figure{margin:10px 0 18px}figure img{max-width:100%;border:1px solid #e3e7ec}"
    "figcaption{font-size:0.9em;color:#3b4550}"
    "pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:0.85em}"
    ".st-done{color:#13803a;font-weight:600}.st-failed{color:#c0262d;font-weight:600}"
    ".st-running,.st-queued{color:#a05a00}.st-stopped,.st-missing{color:#5a6570}"
    ".note{color:#5a6570;font-size:0.9em}";

void html_begin(struct scorr_sbuf *b, const char *title)
{
    scorr_sb_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>");
    html_text(b, title);
    scorr_sb_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n", k_style);
}

void html_end(struct scorr_sbuf *b)
{
    scorr_sb_printf(b, "<p class=\"note\">Written by scorr_report (docs/report.md). "
                       "One file: the charts are inline SVG, the pictures embedded PNG.</p>\n"
                       "</body>\n</html>\n");
}

void html_num(struct scorr_sbuf *b, double v, int decimals)
{
    if (isfinite(v))
        scorr_sb_printf(b, "%.*f", decimals, v);
    else
        scorr_sb_printf(b, "-");
}

int html_png(struct scorr_sbuf *b, const char *path, const char *alt)
{
    static const char k64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int err = 0;
    char *data = NULL, *out = NULL;
    size_t len = 0;
    SCORR_TRY(scorr_read_file(path, &data, &len));
    SCORR_REQUIRE(len >= 8 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8), SCORR_EFORMAT,
                  "'%s' is not a PNG file", path);
    out = malloc(4 * ((len + 2) / 3) + 1);
    SCORR_REQUIRE(out, SCORR_ENOMEM, "out of memory embedding '%s'", path);
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        out[k++] = k64[v >> 18 & 63];
        out[k++] = k64[v >> 12 & 63];
        out[k++] = i + 1 < len ? k64[v >> 6 & 63] : '=';
        out[k++] = i + 2 < len ? k64[v & 63] : '=';
    }
    out[k] = 0;
    scorr_sb_printf(b, "<img alt=\"");
    html_text(b, alt);
    scorr_sb_printf(b, "\" src=\"data:image/png;base64,");
    scorr_sb_append(b, out, k);
    scorr_sb_printf(b, "\">");
done:
    free(data);
    free(out);
    return err;
}
