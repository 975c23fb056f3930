/* chd_logtext: see chd_logtext.h. */
#include "chd_logtext.h"

#include <stdio.h>

/* ------------------------------------------------------------ escaping */

/* Bytes Apache escapes in a log value: controls, DEL and above, '"', '\'. */
static const uint8_t needs_escape[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether a byte of w is below c (c <= 0x80): a byte that borrows in
 * w - c and had its top bit clear. A borrow only spreads into the next
 * byte from one that is itself below c, so the answer for the word is
 * exact even though single bytes may be flagged wrongly. */
static inline uint64_t any_below(uint64_t w, uint8_t c) { return (w - ONES * c) & ~w & HIGHS; }

static inline uint64_t any_equal(uint64_t w, uint8_t c) { return any_below(w ^ (ONES * c), 1); }

/* Whether a byte of w is above c (c <= 0x7f): its top bit is set, or
 * adding 0x7f - c sets it (a carry only leaves a byte that had it set). */
static inline uint64_t any_above(uint64_t w, uint8_t c)
{
    return ((w + ONES * (uint8_t)(0x7f - c)) | w) & HIGHS;
}

/* Whether one of 8 bytes needs escaping (the table above, as arithmetic). */
static inline bool word_needs_escape(uint64_t w)
{
    return (any_below(w, 0x20) | any_above(w, 0x7e) | any_equal(w, '"') | any_equal(w, '\\')) != 0;
}

static inline uint64_t load_word(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* The n < 8 bytes of s in a word, the rest filled with a plain byte. */
static inline uint64_t load_short(const char *s, size_t n)
{
    char bytes[8] = "--------";
    chd_logtext_copy_short(bytes, s, n);
    return load_word(bytes);
}

/* A word at a time, the last one overlapping its predecessor: most values
 * (addresses, methods, paths, agents) need no escaping at all. */
static inline size_t plain_prefix(const char *s, size_t n)
{
    size_t i = 0;
    if (n < 8) {
        if (!word_needs_escape(load_short(s, n)))
            return n;
    } else {
        while (i + 8 <= n && !word_needs_escape(load_word(s + i)))
            i += 8;
        if (i == n || (i + 8 > n && !word_needs_escape(load_word(s + n - 8))))
            return n;
    }
    while (i < n && !needs_escape[(uint8_t)s[i]]) /* the word with the first one */
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
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                  "34353637383940414243444546474849505152535455565758596061626364656667"
                                  "6869707172737475767778798081828384858687888990919293949596979899";

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
                    months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                    off / 60, off % 60);
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
