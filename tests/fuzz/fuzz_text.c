/* Fuzz targets of the YAML readers: the experiment file and the sweep file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/sweep.h"

/* The experiment file. An accepted file must also survive the round trip
 * the config promises: emit, parse back, same struct. */
int fuzz_config(const uint8_t *data, size_t size)
{
    struct scorr_config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char *yaml = NULL;
    if (!a || !b) abort();
    int err = scorr_config_parse(a, (const char *)data, size, "fuzz.yaml");
    fuzz_check_rejection(err, "fuzz.yaml", "config");
    if (!err) {
        const char *diff = NULL;
        if (scorr_config_emit(a, &yaml) ||
            scorr_config_parse(b, yaml, strlen(yaml), "emitted.yaml") ||
            !scorr_config_equal(a, b, &diff)) {
            fprintf(stderr, "fuzz config: accepted config does not round-trip (%s; %s)\n",
                    diff ? diff : "-", scorr_error_message());
            abort();
        }
    }
    free(yaml);
    free(a);
    free(b);
    return 0;
}

/* The sweep file, next to a valid base experiment "base.yaml" it may name. */
int fuzz_sweep(const uint8_t *data, size_t size)
{
    static int have_base;
    char path[4096], dir[4096];
    if (!have_base) {
        static const char base[] = "name: base\nvariant: baseline\ndata:\n  file: data.h5\n";
        fuzz_write("base.yaml", base, sizeof base - 1, path);
        have_base = 1;
    }
    fuzz_write("sweep.yaml", "", 0, path); /* the name anchors base: */
    snprintf(dir, sizeof dir, "%s/sweepdir", fuzz_tmpdir());
    struct scorr_sweep sw;
    memset(&sw, 0, sizeof sw);
    int err = scorr_sweep_parse((const char *)data, size, path, dir, &sw);
    /* Errors name the sweep file or, for a bad base, the base file; both are
     * in the temporary folder. */
    fuzz_check_rejection(err, fuzz_tmpdir(), "sweep");
    scorr_sweep_free(&sw);
    return 0;
}
