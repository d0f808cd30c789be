/* scorr_config: check an experiment file and print it resolved, or print the
 * schema.
 *
 *   scorr_config FILE [--set key=value ...]   validate; print the resolved YAML
 *   scorr_config --defaults                   the resolved YAML of an empty file
 *   scorr_config --keys                       every key path, one per line
 *   scorr_config --print-schema               the Markdown reference
 *                                             (docs/experiment-config.md)
 * Exit status 0 when valid, 1 on any error (printed with file, line and key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/config.h"
#include "scorr/error.h"

#define MAX_SETS 64

static int usage(FILE *f, int code)
{
    fprintf(f, "usage: scorr_config FILE [--set key=value ...]\n"
               "       scorr_config --defaults | --keys | --print-schema\n");
    return code;
}

/* Print the text a producer made (then free it); returns its status. */
static int print_text(int err, char **text)
{
    if (!err) fputs(*text, stdout);
    free(*text);
    *text = NULL;
    return err;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *keys[MAX_SETS], *vals[MAX_SETS];
    char sets[MAX_SETS][1024];
    int nset = 0, err = 0;
    char *text = NULL;
    struct scorr_config cfg;

    if (argc == 2 && !strcmp(argv[1], "--print-schema")) {
        err = scorr_config_schema_markdown(&text);
        err = print_text(err, &text);
        goto out;
    }
    if (argc == 2 && !strcmp(argv[1], "--keys")) {
        for (int i = 0; i < scorr_config_nkeys(); i++) puts(scorr_config_key(i));
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--defaults")) {
        scorr_config_defaults(&cfg);
        err = scorr_config_emit(&cfg, &text);
        err = print_text(err, &text);
        goto out;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) return usage(stdout, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            char *eq;
            if (nset == MAX_SETS || strlen(argv[i + 1]) >= sizeof sets[0] ||
                !(eq = strchr(strcpy(sets[nset], argv[i + 1]), '='))) {
                fprintf(stderr, "scorr_config: --set needs key=value, found '%s'\n", argv[i + 1]);
                return SCORR_EXIT_USAGE;
            }
            *eq = 0;
            keys[nset] = sets[nset];
            vals[nset] = eq + 1;
            nset++;
            i++;
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            return usage(stderr, SCORR_EXIT_USAGE);
        }
    }
    if (!file) return usage(stderr, SCORR_EXIT_USAGE);
    err = scorr_config_load_local(file, &cfg);
    if (!err && nset) err = scorr_config_override(&cfg, nset, keys, vals);
    if (!err) {
        err = scorr_config_emit(&cfg, &text);
        err = print_text(err, &text);
    }
out:
    if (err) {
        scorr_error_print(stderr, "scorr_config");
        return scorr_exit_status(err);
    }
    return 0;
}
