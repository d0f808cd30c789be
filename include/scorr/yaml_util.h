/* libyaml helpers shared by the strict YAML readers (the experiment file,
 * src/train/config_parse.c, and the sweep file, src/sweep/sweep_parse.c):
 * node kinds and scalar text for messages, syntax errors with 1-based
 * file:line:column (libyaml's marks are 0-based), and loading exactly one
 * document. Local. */
#ifndef SCORR_YAML_UTIL_H
#define SCORR_YAML_UTIL_H

#include <stddef.h>
#include <yaml.h>

/* Deepest nesting of lists and mappings a scorr YAML file may have (experiment
 * and sweep files need a handful); deeper is refused before loading. */
#define SCORR_YAML_MAX_DEPTH 32

/* "a mapping", "a list" or "a value", for "expected ..., found %s". */
const char *scorr_yaml_kind(const yaml_node_t *n);

/* 1 if a scalar node is plain (unquoted): numbers and booleans must be. */
int scorr_yaml_plain(const yaml_node_t *n);

/* Copy a scalar's text into out (cap bytes, NUL-terminated); -1 if n is not
 * a scalar, the text does not fit or it holds a NUL byte. */
int scorr_yaml_text(const yaml_node_t *n, char *out, size_t cap);

/* Record the parser's failure as the current error: "<file>:<line>:<col>:
 * YAML syntax error: <problem> (<context> at line <n>)" (SCORR_EINVAL), or
 * "<file>: out of memory parsing YAML" (SCORR_ENOMEM). Returns the code. */
int scorr_yaml_syntax_error(const yaml_parser_t *p, const char *file);

/* A parser and the first document of a text. Zero-initialise it
 * (`struct scorr_yaml_doc d = {0};`) and always release it with
 * scorr_yaml_doc_free, whatever scorr_yaml_load returned. */
struct scorr_yaml_doc {
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_parser, have_doc;
};

/* Parse the first document of text[len] (a file's bytes; file names it in
 * errors). *root: its root node, NULL for an empty stream. Nesting deeper
 * than SCORR_YAML_MAX_DEPTH is an error "<file>:<line>: YAML nested more
 * than ... levels deep" naming the line of the first collection too deep. */
int scorr_yaml_load(struct scorr_yaml_doc *d, const char *text, size_t len, const char *file,
                    yaml_node_t **root);

/* After scorr_yaml_load: fail unless the rest of the stream holds no
 * further document with content: "<file>:<line>: a second YAML document
 * starts here; <holder> holds one" (holder e.g. "an experiment file"). */
int scorr_yaml_expect_end(struct scorr_yaml_doc *d, const char *file, const char *holder);

void scorr_yaml_doc_free(struct scorr_yaml_doc *d);

#endif
