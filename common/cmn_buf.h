/* cmn_buf: a growable byte buffer with a read cursor.
 *
 * Bytes live in data[start, len). Appending grows the allocation
 * geometrically; consuming advances `start`, and cmn_buf_compact() moves the
 * unread bytes to the front so that memory is reused rather than grown. The
 * buffer owns `data`; cmn_buf_free() releases it. Not thread-safe: one owner
 * at a time. */
#ifndef CMN_BUF_H
#define CMN_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct {
    char *data;
    size_t start; /* first unread byte */
    size_t len;   /* end of the written bytes */
    size_t cap;
} cmn_buf_t;

#define CMN_BUF_INIT {NULL, 0, 0, 0}

/* Number of unread bytes. */
static inline size_t cmn_buf_unread(const cmn_buf_t *b) { return b->len - b->start; }

/* Pointer to the first unread byte (may be NULL when nothing was written). */
static inline char *cmn_buf_head(const cmn_buf_t *b) { return b->data + b->start; }

/* Makes room for `extra` more bytes after len. Returns 0 or -ENOMEM. */
int cmn_buf_reserve(cmn_buf_t *b, size_t extra);

/* cmn_buf_append when the bytes do not fit (grows the allocation). */
int cmn_buf_append_slow(cmn_buf_t *b, const void *src, size_t n);

/* Appends n bytes. Returns 0 or -ENOMEM. Inline: response heads are built
 * from a dozen small appends per request. */
static inline int cmn_buf_append(cmn_buf_t *b, const void *src, size_t n)
{
    if (n == 0 || n > b->cap - b->len)
        return cmn_buf_append_slow(b, src, n);
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* Appends a NUL-terminated string (without the NUL). Returns 0 or -ENOMEM. */
int cmn_buf_append_str(cmn_buf_t *b, const char *s);

/* Appends printf-formatted text. Returns 0 or -ENOMEM. */
int cmn_buf_appendf(cmn_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the decimal digits of v (no printf: this is on the hot path).
 * Returns 0 or -ENOMEM. */
int cmn_buf_append_uint(cmn_buf_t *b, unsigned long long v);

/* Marks n unread bytes as read (n <= unread). When everything is read the
 * cursor returns to the front. */
void cmn_buf_consume(cmn_buf_t *b, size_t n);

/* Moves unread bytes to the front of the allocation. */
void cmn_buf_compact(cmn_buf_t *b);

/* Forgets all bytes, keeps the allocation. */
static inline void cmn_buf_clear(cmn_buf_t *b) { b->start = b->len = 0; }

/* Releases the allocation and resets to empty. */
void cmn_buf_free(cmn_buf_t *b);

/* Drops the allocation if it grew beyond `keep` bytes (so one huge request
 * does not pin memory on an idle connection). Only when nothing is unread. */
void cmn_buf_shrink(cmn_buf_t *b, size_t keep);

#endif
