/* The run page in a real browser: headless Chromium (Debian's chromium
 * package) opens a report of a hand-made run and takes a screenshot, which
 * must not be blank: many pixels away from the white page and several
 * colours (chart lines, table rules, the embedded pictures). Exit 77 (ctest
 * SKIP) with a message when Chromium is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "report_fakes.h"
#include "scorr/image.h"
#include "scorr/io.h"
#include "scorr/report.h"
#include "sweep_fakes.h"

static const char *find_chromium(void)
{
    static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                                        "/usr/bin/google-chrome", NULL};
    const char *env = getenv("SCORR_CHROMIUM");
    if (env && *env) return access(env, X_OK) == 0 ? env : NULL; /* only this one */
    for (int i = 0; names[i]; i++)
        if (access(names[i], X_OK) == 0) return names[i];
    return NULL;
}

int main(void)
{
    const char *chromium = find_chromium();
    if (!chromium) {
        printf("SKIP test_report_chromium: no Chromium (apt-get install chromium, or "
               "scripts/deps.sh --test; SCORR_CHROMIUM=path names the browser to use)\n");
        return 77;
    }
    const char *tmp = fakes_tmpdir("report_chromium");
    char dir[4096], shot[4200], profile[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s/run", tmp);
    snprintf(shot, sizeof shot, "%s/shot.png", tmp);
    snprintf(profile, sizeof profile, "%s/profile", tmp);
    CHECK_OK(rf_make_run(dir, 1));
    struct scorr_report_info info;
    CHECK_OK(scorr_report_run(dir, NULL, &info));
    snprintf(cmd, sizeof cmd,
             "timeout 90 '%s' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync "
             "--hide-scrollbars --user-data-dir='%s' --window-size=1280,1600 --screenshot='%s' "
             "'file://%s' > '%s/chromium.log' 2>&1",
             chromium, profile, shot, info.path, tmp);
    int rc = system(cmd);
    CHECK(rc == 0, "chromium exit status %d (log: %s/chromium.log)", rc, tmp);
    struct scorr_image img = {0};
    CHECK_OK(scorr_image_load_png(shot, &img));
    if (img.pixels) {
        size_t n = (size_t)img.width * img.height, ink = 0;
        int colours = 0;
        static uint8_t seen[1 << 15];
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = img.pixels + 3 * i;
            if (p[0] < 235 || p[1] < 235 || p[2] < 235) ink++;
            unsigned key = (unsigned)(p[0] >> 3) << 10 | (unsigned)(p[1] >> 3) << 5 | (p[2] >> 3);
            if (!seen[key]++) colours++;
        }
        printf("screenshot %d x %d: %.1f %% of pixels not white, %d colours\n", img.width,
               img.height, 100.0 * ink / n, colours);
        CHECK(img.width == 1280 && img.height == 1600, "screenshot %d x %d", img.width, img.height);
        CHECK(ink > n / 100, "only %zu of %zu pixels drawn: blank page?", ink, n);
        CHECK(colours >= 20, "only %d colours: blank page?", colours);
        scorr_image_free(&img);
    }
    if (!scorr_test_failures) fakes_cleanup();
    return scorr_test_finish("test_report_chromium");
}
