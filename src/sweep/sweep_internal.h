/* Private to src/sweep: the parsed sweep file before expansion, the settings
 * comparison shared by teacher matching and the tables, path, name and
 * process helpers (texts are built with scorr/strbuf.h). */
#ifndef SCORR_SWEEP_INTERNAL_H
#define SCORR_SWEEP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "scorr/config.h"
#include "scorr/strbuf.h"
#include "scorr/sweep.h"

/* ---- the sweep file, parsed (sweep_parse.c) ------------------------------ */

enum {
    RES_RANKS = 1, RES_THREADS = 2, RES_TIME = 4, RES_PARTITION = 8, RES_EXTRA = 16
};

struct spec_res {
    unsigned set;                 /* RES_* given in the file */
    struct scorr_sweep_resources r;
    int line;
};

struct spec_value {
    char text[SCORR_CONFIG_PATH]; /* override value text */
    char token[64];               /* its part of a cell id */
    int line;
};

struct spec_axis {
    char key[128];
    int line;
    char id[64];                  /* prefix in cell ids (default: last key component) */
    int n;
    struct spec_value *v;
};

struct spec_cell {
    char id[SCORR_CONFIG_NAME];   /* "" = derived from the overrides */
    int line;
    int n_over;
    struct scorr_sweep_override *over;
    struct spec_res res;
};

struct sweep_spec {
    char name[SCORR_CONFIG_NAME];
    int name_line;
    char base[SCORR_SWEEP_PATH];  /* as written (relative to the sweep file's folder) */
    int base_line;
    char dir[SCORR_SWEEP_PATH];
    int n_set;
    struct scorr_sweep_override *set;
    int grid_line, n_axes;
    struct spec_axis *axes;
    int cells_line, n_cells;
    struct spec_cell *cells;
    struct spec_res res;
    char eval_split[SCORR_CONFIG_WORD];
    char eval_data[SCORR_SWEEP_PATH];
    int eval_line;
    char template_path[SCORR_SWEEP_PATH];
    int signal_seconds, max_requeues;
};

int sweep_spec_parse(const char *text, size_t len, const char *file, struct sweep_spec *sp);
void sweep_spec_free(struct sweep_spec *sp);

/* Check one override against the experiment schema in the context of cfg:
 * an unknown key or a value the schema rejects is an error "file:line: what:
 * ..." (with "did you mean" for keys). Cross-key rules are left to the cell.
 * Local. */
int sweep_check_override(const struct scorr_config *ctx, const struct scorr_sweep_override *o,
                         const char *file, const char *what);

/* ---- settings (sweep_settings.c) ----------------------------------------- */

/* Flags of settings_relevant. */
#define SETTINGS_WITH_SEED 1      /* seed counts (teacher matching); tables ignore it */

/* 1 if the value of `key` in cfg changes what is trained: not for the run's
 * identity (name, output, teacher.checkpoint, checkpoint.*, log.*), not for
 * keys cfg's own settings make moot (pseudo.* and teacher.* for baseline,
 * the selection ramp without selection, lr_backbone of a frozen backbone,
 * the other schedule's keys, validation keys without validation, SCE sizes
 * without the SCE). Local. */
int settings_relevant(const struct scorr_config *cfg, const char *key, int flags);

/* 1 if a and b agree on every key relevant to both, except the keys in
 * `skip` (NULL-terminated, may be NULL). If not and diff is given, *diff =
 * the first differing key (static). Local. */
int settings_compatible(const struct scorr_config *a, const struct scorr_config *b, int flags,
                        const char *const *skip, const char **diff);

/* Value text of key (scorr_config_get), "?" for an unknown key. */
void settings_value(const struct scorr_config *cfg, const char *key, char *out, size_t n);

/* ---- small helpers (sweep_util.c) ----------------------------------------- */

/* Absolute path of p against the working directory (no symlink resolution;
 * "." and ".." components removed). */
int sweep_abspath(const char *p, char *out, size_t n);
/* The folder part of a path ("a/b.yaml" -> "a", "b.yaml" -> "."). */
void sweep_dirname(const char *p, char *out, size_t n);
/* Write text to path atomically, creating its folder. */
int sweep_write_text(const char *path, const char *text);
/* 1 if name is a valid experiment/cell name (letters, digits, '_', '-', '.'). */
int sweep_valid_name(const char *s);
/* Levenshtein distance (for suggestions). */
int sweep_edit_distance(const char *a, const char *b);
/* The closest of words[n] to given if close enough, else NULL. */
const char *sweep_suggest(const char *given, const char *const *words, int n);

/* ---- processes (sweep_proc.c) --------------------------------------------- */

/* Run argv (argv[0] searched on PATH), capture stdout (and stderr when
 * merge) into *out (caller frees, may be NULL on spawn failure). *status =
 * exit code, 128+signal when killed, -1 when it could not start. Returns 0
 * when it ran (whatever its status) or an error if it could not start. */
int sweep_capture(char *const argv[], int merge, char **out, int *status);

/* Run argv with stdout+stderr appended to log_path, extra environment
 * entries env (NULL-terminated "K=V", may be NULL) added. While it runs,
 * SIGINT and SIGTERM received by this process are forwarded to the child
 * and recorded (*interrupted = 1). *status as in sweep_capture. */
int sweep_run_logged(char *const argv[], char *const env[], const char *log_path, int *status,
                     int *interrupted);

#endif
