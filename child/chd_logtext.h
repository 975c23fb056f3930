/* chd_logtext: the pieces an access log line is made of (chd_accesslog.c),
 * appended to a bounded buffer.
 *
 * A line costs about a thousand instructions, so the pieces are written
 * with no library call on the common path: short copies are inline, short
 * values are escaped a byte at a time straight into the buffer and long
 * ones scanned 16 bytes at a time, integers are written two digits per
 * division (no snprintf), and the time is formatted once per second and
 * thread.
 *
 * What does not fit in the buffer is dropped and `cut` is set; an escape
 * sequence is never split. Plain C, no allocation, no lock: each thread
 * writes its own buffer. */
#ifndef CHD_LOGTEXT_H
#define CHD_LOGTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Bytes [p, end) are free; `cut` once something did not fit. */
typedef struct {
    char *p, *end;
    bool cut;
} chd_logtext_t;

/* A writer over [buf, buf + cap). */
static inline chd_logtext_t chd_logtext_over(char *buf, size_t cap)
{
    return (chd_logtext_t){buf, buf + cap, false};
}

static inline size_t chd_logtext_room(const chd_logtext_t *o) { return (size_t)(o->end - o->p); }

/* Copies n <= 16 bytes with fixed-size moves (two that may overlap): a call
 * to memcpy costs more than the copy for the separators, "-" and numbers
 * that make up most of a line. */
static inline void chd_logtext_copy_short(char *dst, const char *src, size_t n)
{
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n > 0) {
        dst[0] = src[0]; /* 1 to 3 bytes: first, middle, last */
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/* Appends s[0, n) as it is, or as much as fits (and sets cut). */
static inline void chd_logtext_put(chd_logtext_t *o, const char *s, size_t n)
{
    size_t room = chd_logtext_room(o);
    if (n > room) {
        n = room;
        o->cut = true;
    }
    if (n <= 16)
        chd_logtext_copy_short(o->p, s, n);
    else
        memcpy(o->p, s, n);
    o->p += n;
}

/* Appends s[0, n) escaped as Apache escapes log values: '"' and '\' as
 * \" and \\, other bytes below 0x20 or from 0x7f up as \xHH (lower-case
 * hex); everything else as it is. */
void chd_logtext_put_escaped(chd_logtext_t *o, const char *s, size_t n);

/* How many leading bytes of s[0, n) chd_logtext_put_escaped copies as they
 * are (n when none needs escaping). */
size_t chd_logtext_plain_prefix(const char *s, size_t n);

/* Appends v in decimal, "0" to "18446744073709551615". */
void chd_logtext_put_uint(chd_logtext_t *o, uint64_t v);

/* Appends a count of microseconds as seconds with six decimals:
 * 412 -> "0.000412", 12345678 -> "12.345678". */
void chd_logtext_put_seconds(chd_logtext_t *o, uint64_t micros);

/* Appends t as "[01/Dec/2026:02:16:39 +0000]": local time (TZ as tzset()
 * last read it) with its offset from UTC, "-0330" west of it. The text is
 * made once per second and thread: a line in the same second as the
 * thread's previous one copies it. */
void chd_logtext_put_time(chd_logtext_t *o, time_t t);

#endif
