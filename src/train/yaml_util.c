/* libyaml helpers of the strict YAML readers (include/scorr/yaml_util.h). */
#include "scorr/yaml_util.h"

#include <stdio.h>
#include <string.h>

#include "scorr/error.h"

const char *scorr_yaml_kind(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list"
                                                                                      : "a value";
}

int scorr_yaml_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
           n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

int scorr_yaml_text(const yaml_node_t *n, char *out, size_t cap)
{
    if (n->type != YAML_SCALAR_NODE) return -1;
    size_t len = n->data.scalar.length;
    const char *v = (const char *)n->data.scalar.value;
    if (len + 1 > cap || memchr(v, 0, len)) return -1;
    memcpy(out, v, len);
    out[len] = 0;
    return 0;
}

int scorr_yaml_syntax_error(const yaml_parser_t *p, const char *file)
{
    if (p->error == YAML_MEMORY_ERROR)
        return scorr_error_set(SCORR_ENOMEM, __FILE__, __LINE__, __func__,
                               "%s: out of memory parsing YAML", file);
    char ctx[256] = "";
    if (p->context)
        snprintf(ctx, sizeof ctx, " (%s at line %zu)", p->context, p->context_mark.line + 1);
    return scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                           "%s:%zu:%zu: YAML syntax error: %s%s", file, p->problem_mark.line + 1,
                           p->problem_mark.column + 1, p->problem ? p->problem : "unknown", ctx);
}

/* libyaml's scanner checks every open collection for each token (quadratic
 * in the nesting depth: 100,000 levels take minutes) and its loader keeps
 * the whole tree. Experiment and sweep files nest a few levels, so one event
 * pass refuses deep nesting before the document is loaded; the pass stops at
 * the first collection past the limit, so it costs little whatever the
 * input. Syntax errors are left to the load, which reports them. */
static int check_depth(const char *text, size_t len, const char *file)
{
    int err = 0, depth = 0, have_parser = 0;
    yaml_parser_t p;
    yaml_event_t ev;
    SCORR_REQUIRE(yaml_parser_initialize(&p), SCORR_ENOMEM, "out of memory (libyaml)");
    have_parser = 1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) break;
        const yaml_event_type_t type = ev.type;
        const size_t line = ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            SCORR_REQUIRE(++depth <= SCORR_YAML_MAX_DEPTH, SCORR_EINVAL,
                          "%s:%zu: YAML nested more than %d levels deep (lists or mappings "
                          "inside each other); scorr's YAML files need a few",
                          file, line, SCORR_YAML_MAX_DEPTH);
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (type == YAML_STREAM_END_EVENT) {
            break;
        }
    }
done:
    if (have_parser) yaml_parser_delete(&p);
    return err;
}

int scorr_yaml_load(struct scorr_yaml_doc *d, const char *text, size_t len, const char *file,
                    yaml_node_t **root)
{
    int err = 0;
    *root = NULL;
    SCORR_TRY(check_depth(text, len, file));
    SCORR_REQUIRE(yaml_parser_initialize(&d->parser), SCORR_ENOMEM, "out of memory (libyaml)");
    d->have_parser = 1;
    yaml_parser_set_input_string(&d->parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&d->parser, &d->doc)) {
        err = scorr_yaml_syntax_error(&d->parser, file);
        goto done;
    }
    d->have_doc = 1;
    *root = yaml_document_get_root_node(&d->doc);
done:
    return err;
}

int scorr_yaml_expect_end(struct scorr_yaml_doc *d, const char *file, const char *holder)
{
    int err = 0;
    yaml_document_t next;
    if (!yaml_parser_load(&d->parser, &next)) {
        err = scorr_yaml_syntax_error(&d->parser, file);
        goto done;
    }
    const yaml_node_t *root = yaml_document_get_root_node(&next);
    const int more = root != NULL;
    const size_t line = more ? root->start_mark.line + 1 : 0;
    yaml_document_delete(&next);
    SCORR_REQUIRE(!more, SCORR_EINVAL, "%s:%zu: a second YAML document starts here; %s holds one",
                  file, line, holder);
done:
    return err;
}

void scorr_yaml_doc_free(struct scorr_yaml_doc *d)
{
    if (d->have_doc) yaml_document_delete(&d->doc);
    if (d->have_parser) yaml_parser_delete(&d->parser);
    d->have_doc = d->have_parser = 0;
}
