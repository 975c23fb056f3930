/* chd_logtext: see chd_logtext.h. */
#include "chd_logtext.h"

#include <stdio.h>

/* ------------------------------------------------------------ escaping */

/* Bytes Apache escapes in a log value: controls, DEL and above, '"', '\'. */
static const uint8_t needs_escape[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

/* 16 bytes as one vector (GCC's vector extension: SSE2 or NEON, else
 * plain code). */
typedef uint8_t block_t __attribute__((vector_size(16)));

/* Whether one of 16 bytes needs escaping (the table above, as vector
 * compares). */
static inline bool block_needs_escape(const char *s)
{
    block_t v;
    memcpy(&v, s, sizeof v);
    block_t bad = (block_t)((v < 0x20) | (v > 0x7e) | (v == '"') | (v == '\\'));
    uint64_t halves[2];
    memcpy(halves, &bad, sizeof halves);
    return (halves[0] | halves[1]) != 0;
}

/* 16 bytes at a time, the last block overlapping its predecessor: most
 * values (addresses, paths, agents) need no escaping at all. Shorter than
 * that, a byte at a time. */
static inline size_t plain_prefix(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 16) {
        while (i + 16 <= n && !block_needs_escape(s + i))
            i += 16;
        if (i + 16 > n && (i == n || !block_needs_escape(s + n - 16)))
            return n;
    }
    while (i < n && !needs_escape[(uint8_t)s[i]]) /* the block with the first one */
        i++;
    return i;
}

size_t chd_logtext_plain_prefix(const char *s, size_t n) { return plain_prefix(s, n); }

/* Writes the escape sequence of a byte that needs one at p (4 bytes of
 * room); returns its end. */
static inline char *write_escape(char *p, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '\\';
    if (c == '"' || c == '\\') {
        *p++ = (char)c;
    } else {
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    return p;
}

/* Values up to this long are escaped a byte at a time when they fit even
 * if every byte needs escaping: no scan, no copy, no check per piece. */
#define SHORT_VALUE 32

static void put_escaped_short(chd_logtext_t *o, const char *s, size_t n)
{
    char *p = o->p;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (needs_escape[c])
            p = write_escape(p, c);
        else
            *p++ = (char)c;
    }
    o->p = p;
}

/* Longer values, or near the end of the room: plain runs found a word at
 * a time and copied whole; an escape sequence that does not fit whole
 * ends the line. Not inlined: the short path stays light. */
__attribute__((noinline)) static void put_escaped_long(chd_logtext_t *o, const char *s, size_t n)
{
    while (n > 0 && !o->cut) {
        size_t plain = plain_prefix(s, n);
        chd_logtext_put(o, s, plain);
        if (plain == n)
            return;
        uint8_t c = (uint8_t)s[plain];
        if (chd_logtext_room(o) < (c == '"' || c == '\\' ? 2u : 4u)) {
            o->cut = true;
            return;
        }
        o->p = write_escape(o->p, c);
        s += plain + 1;
        n -= plain + 1;
    }
}

void chd_logtext_put_escaped(chd_logtext_t *o, const char *s, size_t n)
{
    if (n <= SHORT_VALUE && chd_logtext_room(o) >= 4 * n)
        put_escaped_short(o, s, n);
    else
        put_escaped_long(o, s, n);
}

/* ------------------------------------------------------------ numbers */

/* "00" to "99": two digits per division. */
static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* Writes v in decimal so that it ends just before `end`; returns its first
 * digit. */
static inline char *digits_before(char *end, uint64_t v)
{
    while (v >= 100) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

void chd_logtext_put_uint(chd_logtext_t *o, uint64_t v)
{
    char digits[20]; /* UINT64_MAX has 20 */
    char *first = digits_before(digits + sizeof digits, v);
    chd_logtext_put(o, first, (size_t)(digits + sizeof digits - first));
}

void chd_logtext_put_seconds(chd_logtext_t *o, uint64_t micros)
{
    char text[28]; /* 20 digits, '.', 6 decimals */
    char *end = text + sizeof text;
    uint32_t frac = (uint32_t)(micros % 1000000);
    for (int i = 0; i < 3; i++, frac /= 100) /* six decimals, zeros kept */
        memcpy(end - 2 * (i + 1), digit_pairs + 2 * (frac % 100), 2);
    end[-7] = '.';
    char *first = digits_before(end - 7, micros / 1000000);
    chd_logtext_put(o, first, (size_t)(end - first));
}

/* ------------------------------------------------------------ time */

/* "[01/Dec/2026:02:16:39 +0000]" for t in local time; returns its length. */
static int format_time(time_t t, char *text, size_t cap)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm = {0};
    localtime_r(&t, &tm); /* out of its range: leaves the zeros */
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    return snprintf(text, cap, "[%02d/%.3s/%04d:%02d:%02d:%02d %c%02ld%02ld]", tm.tm_mday,
                    months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    sign, off / 60, off % 60);
}

void chd_logtext_put_time(chd_logtext_t *o, time_t t)
{
    static __thread bool cached;
    static __thread time_t cached_at;
    static __thread char text[40];
    static __thread int len;
    if (!cached || t != cached_at) {
        len = format_time(t, text, sizeof text);
        cached_at = t;
        cached = true;
    }
    chd_logtext_put(o, text, (size_t)len);
}
