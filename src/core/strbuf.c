/* A growing string (include/scorr/strbuf.h). */
#include "scorr/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/error.h"

void scorr_sb_vprintf(struct scorr_sbuf *b, const char *fmt, va_list ap)
{
    if (b->oom) return;
    for (;;) {
        va_list cp;
        va_copy(cp, ap);
        size_t room = b->cap - b->len;
        int w = b->s ? vsnprintf(b->s + b->len, room, fmt, cp) : -2;
        va_end(cp);
        if (w >= 0 && (size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        if (w == -1) { /* encoding error */
            b->oom = 1;
            return;
        }
        size_t need = b->len + (w > 0 ? (size_t)w : 0) + 1;
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < need) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void scorr_sb_printf(struct scorr_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scorr_sb_vprintf(b, fmt, ap);
    va_end(ap);
}

void scorr_sb_append(struct scorr_sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

int scorr_sb_finish(struct scorr_sbuf *b, char **out)
{
    int err = 0;
    *out = NULL;
    if (!b->s && !b->oom) scorr_sb_append(b, "", 0);
    SCORR_REQUIRE(!b->oom, SCORR_ENOMEM, "out of memory building a text");
    *out = b->s;
    b->s = NULL;
done:
    scorr_sb_free(b);
    return err;
}

void scorr_sb_free(struct scorr_sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
