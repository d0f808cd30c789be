/* docs/experiment-config.md is generated from the schema table: fail when
 * the committed file and the table differ, so the documentation cannot
 * drift. `test_traininfra_config_doc --write` regenerates it (the same text
 * as `scorr_config --print-schema`). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"

int main(int argc, char **argv)
{
    char path[4096];
    char *want = NULL, *have = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/docs/experiment-config.md", SCORR_SOURCE_DIR);
    CHECK_OK(scorr_config_schema_markdown(&want));
    if (!want) return scorr_test_finish("test_traininfra_config_doc");
    if (argc == 2 && !strcmp(argv[1], "--write")) {
        CHECK_OK(scorr_write_file_atomic(path, want, strlen(want)));
        printf("wrote %s\n", path);
        free(want);
        return scorr_test_finish("test_traininfra_config_doc");
    }
    CHECK_OK(scorr_read_file(path, &have, &len));
    if (have) {
        int same = strcmp(want, have) == 0;
        CHECK(same, "%s is out of date with the schema table (src/train/config_schema.c)\n"
                    "HINT: regenerate: build/bin/scorr_config --print-schema > docs/experiment-config.md",
              path);
        if (!same) {
            /* Show the first line that differs. */
            int line = 1;
            const char *a = want, *b = have;
            while (*a && *a == *b) {
                if (*a == '\n') line++;
                a++, b++;
            }
            while (a > want && a[-1] != '\n') a--, b--;
            int la = (int)strcspn(a, "\n"), lb = (int)strcspn(b, "\n");
            fprintf(stderr, "first difference at line %d:\n  table: %.*s\n  file:  %.*s\n", line,
                    la, a, lb, b);
        }
    }
    /* Every key of the schema is documented. */
    for (int i = 0; want && i < scorr_config_nkeys(); i++) {
        char needle[256];
        snprintf(needle, sizeof needle, "| `%s` |", scorr_config_key(i));
        CHECK(have && strstr(have, needle), "key %s missing from the doc", scorr_config_key(i));
    }
    free(want);
    free(have);
    return scorr_test_finish("test_traininfra_config_doc");
}
