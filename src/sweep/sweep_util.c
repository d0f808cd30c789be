/* Small helpers of the sweep and table code: paths, atomic text files and
 * name suggestions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"
#include "sweep/sweep_internal.h"

/* ---- paths ----------------------------------------------------------------- */

int sweep_abspath(const char *p, char *out, size_t n)
{
    int err = 0;
    char raw[8192], cwd[4096];
    if (p[0] == '/') {
        SCORR_REQUIRE(strlen(p) < sizeof raw, SCORR_EINVAL, "path too long: '%.100s...'", p);
        strcpy(raw, p);
    } else {
        SCORR_REQUIRE(getcwd(cwd, sizeof cwd), SCORR_EIO,
                      "cannot get the working directory (to make '%s' absolute)", p);
        SCORR_REQUIRE(snprintf(raw, sizeof raw, "%s/%s", cwd, p) < (int)sizeof raw, SCORR_EINVAL,
                      "path too long: '%.100s...'", p);
    }
    /* Normalise: drop "" and "." components, resolve ".." lexically. */
    char *comp[1024];
    int nc = 0;
    for (char *tok = strtok(raw, "/"); tok; tok = strtok(NULL, "/")) {
        if (!strcmp(tok, ".") || !*tok) continue;
        if (!strcmp(tok, "..")) {
            if (nc) nc--;
            continue;
        }
        SCORR_REQUIRE(nc < 1024, SCORR_EINVAL, "path with too many components: '%.100s'", p);
        comp[nc++] = tok;
    }
    size_t w = 0;
    if (!nc) {
        SCORR_REQUIRE(n >= 2, SCORR_EINVAL, "path buffer too small");
        strcpy(out, "/");
        goto done;
    }
    for (int i = 0; i < nc; i++) {
        size_t l = strlen(comp[i]);
        SCORR_REQUIRE(w + l + 2 <= n, SCORR_EINVAL, "path too long: '%.100s...'", p);
        out[w++] = '/';
        memcpy(out + w, comp[i], l);
        w += l;
    }
    out[w] = 0;
done:
    return err;
}

void sweep_dirname(const char *p, char *out, size_t n)
{
    const char *s = strrchr(p, '/');
    if (!s) {
        snprintf(out, n, ".");
    } else if (s == p) {
        snprintf(out, n, "/");
    } else {
        size_t l = (size_t)(s - p);
        if (l >= n) l = n - 1;
        memcpy(out, p, l);
        out[l] = 0;
    }
}

int sweep_write_text(const char *path, const char *text)
{
    int err = 0;
    char dir[SCORR_SWEEP_PATH];
    sweep_dirname(path, dir, sizeof dir);
    SCORR_TRY(scorr_mkdirs(dir));
    SCORR_TRY(scorr_write_file_atomic(path, text, strlen(text)));
done:
    return err;
}

int sweep_valid_name(const char *s)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return strcmp(s, ".") && strcmp(s, "..");
}

/* ---- suggestions ------------------------------------------------------------- */

/* Optimal string alignment: edits and swaps of neighbours ("grdi" -> "grid"
 * is one). */
int sweep_edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 127 || lb > 127) return 1000;
    int d[128][128];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *sweep_suggest(const char *given, const char *const *words, int n)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; i < n; i++) {
        int d = sweep_edit_distance(given, words[i]);
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    int len = (int)strlen(given);
    int limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    return best_d <= limit ? best : NULL;
}
