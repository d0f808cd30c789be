/* Private: the experiment schema table and the helpers the config files
 * share (value conversion, text rendering). The table is the single source
 * of the experiment file's keys; see include/scorr/config.h. */
#ifndef SCORR_TRAIN_CONFIG_SCHEMA_H
#define SCORR_TRAIN_CONFIG_SCHEMA_H

#include <stddef.h>

#include "scorr/config.h"

enum cfg_type {
    CT_SECTION, /* a mapping of keys: "model.backbone" */
    CT_STR,     /* free string (char[size]) */
    CT_WORD,    /* string from `choices` (char[size]) */
    CT_ENUM,    /* index into `choices` (an int / C enum) */
    CT_INT,     /* int in [min, max]; `choices` may list the allowed values */
    CT_FLOAT,   /* double in [min, max] (CF_GT_MIN: min excluded) */
    CT_BOOL,    /* int 0/1 */
    CT_INTLIST  /* int array (SCORR_CONFIG_MAX_MILESTONES) + count at count_off */
};

enum cfg_flag {
    CF_NONE = 1 << 0,    /* accepts none: strings store "", numbers the sentinel `none` */
    CF_ODD = 1 << 1,     /* odd integers only */
    CF_MULT16 = 1 << 2,  /* multiples of 16 only */
    CF_GT_MIN = 1 << 3,  /* min is exclusive */
    CF_RESUME = 1 << 4,  /* may differ when a run is resumed */
    CF_ARCH = 1 << 5,    /* changes the parameter table */
    CF_NAME = 1 << 6,    /* letters, digits, '_', '-', '.' only (used in file names) */
    CF_PATH = 1 << 7,    /* a file or folder path (documentation only) */
    CF_LT_MAX = 1 << 8,  /* max is exclusive */
    CF_AUTO = 1 << 9     /* numbers: accepts auto, stored as CFG_AUTO */
};

#define CFG_AUTO (-1.0) /* = SCORR_WATCHDOG_AUTO */

struct cfg_key {
    const char *path;
    enum cfg_type type;
    size_t off;       /* into struct scorr_config */
    size_t size;      /* bytes of a string field */
    size_t count_off; /* CT_INTLIST: offset of the count */
    int flags;
    double min, max;
    double none;      /* sentinel stored for none (numbers) */
    const char *choices; /* "a|b|c" */
    const char *def;     /* default, as YAML text */
    const char *doc;
};

extern const struct cfg_key scorr_cfg_table[];
extern const int scorr_cfg_table_len;

/* Table entry of a key or section path, or NULL. */
const struct cfg_key *scorr_cfg_lookup(const char *path);
/* Index of a leaf key among the leaves, or -1. */
int scorr_cfg_leaf_index(const char *path);

/* Human description of the accepted values: "an odd integer in [1, 63] or none". */
void scorr_cfg_describe(const struct cfg_key *k, char *out, size_t n);
/* Short type name for the documentation: "integer", "number", "list of integers"... */
const char *scorr_cfg_type_name(const struct cfg_key *k);

/* Convert one scalar text to the key's field. `plain`: the scalar was
 * unquoted. On failure writes the reason ("expected ..., found '...'") into
 * why and returns -1. Not for CT_INTLIST (see scorr_cfg_set_list). */
int scorr_cfg_set_scalar(struct scorr_config *cfg, const struct cfg_key *k, const char *text,
                         int plain, char *why, size_t why_n);
/* Set a list from n item texts (all plain). */
int scorr_cfg_set_list(struct scorr_config *cfg, const struct cfg_key *k, const char *const *items,
                       const int *plain, int n, char *why, size_t why_n);

/* The YAML text of a field's value: "none", "0.2", "[150]", "mt", "\"a b\"". */
void scorr_cfg_value_text(const struct scorr_config *cfg, const struct cfg_key *k, char *out,
                          size_t n);
/* 1 if the field has the same value in a and b. */
int scorr_cfg_value_equal(const struct scorr_config *a, const struct scorr_config *b,
                          const struct cfg_key *k);

/* Shortest decimal text of x that reads back to x, always with '.' or 'e'. */
void scorr_cfg_format_double(double x, char *out, size_t n);

/* Cross-key rules. lines[i] = source line of leaf i (0 = not from the file). */
int scorr_cfg_check_rules(const struct scorr_config *cfg, const char *file, const int *lines);

#endif
