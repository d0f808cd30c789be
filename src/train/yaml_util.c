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

int scorr_yaml_load(struct scorr_yaml_doc *d, const char *text, size_t len, const char *file,
                    yaml_node_t **root)
{
    int err = 0;
    *root = NULL;
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
