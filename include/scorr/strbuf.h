/* A growing string for building texts (YAML, Markdown, scripts, tables).
 * Appends never fail on the spot: an allocation failure marks the buffer and
 * later appends do nothing; scorr_sb_finish reports it. Start from a zeroed
 * struct (`struct scorr_sbuf b = {0};`). Local. */
#ifndef SCORR_STRBUF_H
#define SCORR_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct scorr_sbuf {
    char *s;        /* NUL-terminated once anything was appended */
    size_t len, cap;
    int oom;        /* an append failed (out of memory or an encoding error) */
};

void scorr_sb_printf(struct scorr_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void scorr_sb_vprintf(struct scorr_sbuf *b, const char *fmt, va_list ap);
/* Append n bytes of s. */
void scorr_sb_append(struct scorr_sbuf *b, const char *s, size_t n);
/* Hand over the text (caller frees; "" when nothing was appended) or fail
 * with SCORR_ENOMEM if an append failed. The buffer is emptied either way. */
int scorr_sb_finish(struct scorr_sbuf *b, char **out);
/* Drop the text. */
void scorr_sb_free(struct scorr_sbuf *b);

#endif
