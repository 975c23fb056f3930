/* cmn_buf: see cmn_buf.h. */
#include "cmn_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmn_buf_reserve(cmn_buf_t *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (b->start > 0 && b->cap - cmn_buf_unread(b) >= extra) {
        cmn_buf_compact(b);
        return 0;
    }
    size_t need = b->len + extra;
    if (need < b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > (size_t)-1 / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int cmn_buf_append_slow(cmn_buf_t *b, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    int rc = cmn_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

int cmn_buf_append_str(cmn_buf_t *b, const char *s) { return cmn_buf_append(b, s, strlen(s)); }

int cmn_buf_appendf(cmn_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = cmn_buf_reserve(b, (size_t)n + 1);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int cmn_buf_append_uint(cmn_buf_t *b, unsigned long long v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return cmn_buf_append(b, digits + sizeof digits - n, n);
}

void cmn_buf_consume(cmn_buf_t *b, size_t n)
{
    b->start += n;
    if (b->start >= b->len)
        b->start = b->len = 0;
}

void cmn_buf_compact(cmn_buf_t *b)
{
    if (b->start == 0)
        return;
    size_t unread = cmn_buf_unread(b);
    memmove(b->data, b->data + b->start, unread);
    b->start = 0;
    b->len = unread;
}

void cmn_buf_free(cmn_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->start = b->len = b->cap = 0;
}

void cmn_buf_shrink(cmn_buf_t *b, size_t keep)
{
    if (b->cap > keep && cmn_buf_unread(b) == 0)
        cmn_buf_free(b);
}
