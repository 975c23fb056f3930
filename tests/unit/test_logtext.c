/* Unit tests for child/chd_logtext.h: the pieces of an access log line
 * (escaping, integers, seconds, the cached local time) and the bounded
 * writer under them. Each fast path is checked against a plain reference:
 * snprintf for numbers and times, a byte-by-byte escaper for values. */
#include "chd_logtext.h"
#include "unit.h"

#include <inttypes.h>
#include <stdint.h>
#include <time.h>

/* 2026-12-01 02:16:39 UTC */
#define T0 ((time_t)1796091399)

static char buf[1024];

/* What one piece writes into a buffer of cap bytes, NUL-terminated. */
#define WRITE(cap, call)                                                                           \
    ({                                                                                             \
        chd_logtext_t o_ = chd_logtext_over(buf, (cap));                                           \
        chd_logtext_t *o = &o_;                                                                    \
        call;                                                                                      \
        *o_.p = '\0';                                                                              \
        cut = o_.cut;                                                                              \
        (const char *)buf;                                                                         \
    })

static bool cut;

/* The escaping as Apache does it, one byte at a time: the reference. */
static void reference_escape(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            out += sprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            out += sprintf(out, "\\x%02x", c);
        else
            *out++ = (char)c;
    }
    *out = '\0';
}

TEST(put_copies_and_cuts)
{
    CHECK_EQ_STR(WRITE(100, chd_logtext_put(o, "", 0)), "");
    CHECK(!cut);
    /* every length through the short copies (1-3, 4-7, 8-16) and memcpy */
    const char *src = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t n = 0; n <= 36; n++) {
        char want[40];
        memcpy(want, src, n);
        want[n] = '\0';
        CHECK_EQ_STR(WRITE(100, chd_logtext_put(o, src, n)), want);
    }
    CHECK_EQ_STR(WRITE(5, chd_logtext_put(o, "abcdefg", 7)), "abcde");
    CHECK(cut);
    CHECK_EQ_STR(WRITE(5, (chd_logtext_put(o, "ab", 2), chd_logtext_put(o, "cd", 2))), "abcd");
    CHECK(!cut);
    CHECK_EQ_STR(WRITE(0, chd_logtext_put(o, "a", 1)), "");
    CHECK(cut);
}

TEST(escaping_matches_apache)
{
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_escaped(o, "a\"b\\c\x01\n\x7f\xff~ ", 11)),
                 "a\\\"b\\\\c\\x01\\x0a\\x7f\\xff~ ");
    /* every byte, alone and in the middle of words (the 8-byte scan) */
    for (int c = 0; c < 256; c++) {
        char s[40], want[200];
        memset(s, 'x', sizeof s);
        s[0] = (char)c;
        reference_escape(s, 1, want);
        CHECK_EQ_STR(WRITE(100, chd_logtext_put_escaped(o, s, 1)), want);
        for (size_t at = 0; at < sizeof s; at += 7) {
            memset(s, 'x', sizeof s);
            s[at] = (char)c;
            reference_escape(s, sizeof s, want);
            CHECK_EQ_STR(WRITE(200, chd_logtext_put_escaped(o, s, sizeof s)), want);
            bool special = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
            int want_plain = special ? (int)at : (int)sizeof s;
            CHECK_EQ_INT((int)chd_logtext_plain_prefix(s, sizeof s), want_plain);
        }
    }
}

TEST(escaping_long_values)
{
    char s[300], want[1300];
    for (size_t n = 0; n < sizeof s; n++)
        s[n] = (char)(n % 7 == 3 ? '"' : n % 11 == 5 ? '\t' : 'a' + n % 26);
    for (size_t n = 0; n <= sizeof s; n += 13) {
        reference_escape(s, n, want);
        chd_logtext_t o = chd_logtext_over(buf, sizeof buf);
        chd_logtext_put_escaped(&o, s, n);
        CHECK_MEM(buf, (size_t)(o.p - buf), want);
        CHECK(!o.cut);
    }
    CHECK_EQ_INT((int)chd_logtext_plain_prefix("", 0), 0);
    CHECK_EQ_INT((int)chd_logtext_plain_prefix("abcdefghijklmnopq\n", 18), 17);
}

TEST(escaping_never_splits_a_sequence)
{
    /* the room ends inside an escape: the sequence is left out whole */
    CHECK_EQ_STR(WRITE(5, chd_logtext_put_escaped(o, "ab\x01z", 4)), "ab");
    CHECK(cut);
    CHECK_EQ_STR(WRITE(6, chd_logtext_put_escaped(o, "ab\x01z", 4)), "ab\\x01");
    CHECK(cut);
    CHECK_EQ_STR(WRITE(6, chd_logtext_put_escaped(o, "abcd\"z", 6)), "abcd\\\"");
    CHECK(cut);
    CHECK_EQ_STR(WRITE(5, chd_logtext_put_escaped(o, "abcd\"z", 6)), "abcd");
    CHECK(cut);
    /* a long value cut in its plain part */
    char s[100];
    memset(s, 'q', sizeof s);
    CHECK_EQ_INT(strlen(WRITE(50, chd_logtext_put_escaped(o, s, sizeof s))), 50);
    CHECK(cut);
    /* exactly enough room is no cut */
    CHECK_EQ_STR(WRITE(8, chd_logtext_put_escaped(o, "\x01\x02", 2)), "\\x01\\x02");
    CHECK(!cut);
}

TEST(integers)
{
    static const uint64_t values[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 99999,
                                      100000, 4294967295u, 4294967296u, 999999999999999999u,
                                      1000000000000000000u, 9999999999999999999u,
                                      10000000000000000000u, UINT64_MAX};
    char want[32];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(want, sizeof want, "%" PRIu64, values[i]);
        CHECK_EQ_STR(WRITE(100, chd_logtext_put_uint(o, values[i])), want);
    }
    for (uint64_t v = 0; v < 20000; v++) {
        snprintf(want, sizeof want, "%" PRIu64, v);
        const char *got = WRITE(100, chd_logtext_put_uint(o, v));
        if (strcmp(got, want) != 0)
            unit_fail(__FILE__, __LINE__, "%" PRIu64 " written as %s", v, got);
    }
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_uint(o, UINT64_MAX)), "18446744073709551615");
    CHECK_EQ_STR(WRITE(3, chd_logtext_put_uint(o, 12345)), "123");
    CHECK(cut);
}

TEST(seconds_with_six_decimals)
{
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 0)), "0.000000");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 412)), "0.000412");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 999999)), "0.999999");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 1000000)), "1.000000");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 12345678)), "12.345678");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, 100000010)), "100.000010");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_seconds(o, UINT64_MAX)), "18446744073709.551615");
    char want[40];
    for (uint64_t us = 0; us < 3000000; us += 997) {
        snprintf(want, sizeof want, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
        const char *got = WRITE(100, chd_logtext_put_seconds(o, us));
        if (strcmp(got, want) != 0)
            unit_fail(__FILE__, __LINE__, "%" PRIu64 " us written as %s", us, got);
    }
    CHECK_EQ_STR(WRITE(4, chd_logtext_put_seconds(o, 412)), "0.00");
    CHECK(cut);
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

TEST(time_in_local_time)
{
    set_tz("UTC");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0)), "[01/Dec/2026:02:16:39 +0000]");
    /* a zone west of UTC, and ones with half and three-quarter hours;
     * each on a second the per-thread cache has not seen */
    set_tz("EST5");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 1)), "[30/Nov/2026:21:16:40 -0500]");
    set_tz("<+0530>-5:30");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 2)), "[01/Dec/2026:07:46:41 +0530]");
    set_tz("<-0330>3:30");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 3)), "[30/Nov/2026:22:46:42 -0330]");
    set_tz("<+1245>-12:45");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 4)), "[01/Dec/2026:15:01:43 +1245]");
    set_tz("UTC");
    /* the epoch and the second before it (time_t -1 is a real time too) */
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, 0)), "[01/Jan/1970:00:00:00 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, -1)), "[31/Dec/1969:23:59:59 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, 253402300799)), "[31/Dec/9999:23:59:59 +0000]");
    /* a year's last second rolls over into the next year */
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, 1798761599)), "[31/Dec/2026:23:59:59 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, 1798761600)), "[01/Jan/2027:00:00:00 +0000]");
    CHECK_EQ_STR(WRITE(10, chd_logtext_put_time(o, T0)), "[01/Dec/20");
    CHECK(cut);
}

TEST(time_cache_follows_the_second)
{
    set_tz("UTC");
    /* the same second twice, the next one, and back: each line shows its
     * own second, whatever the cache held */
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0)), "[01/Dec/2026:02:16:39 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0)), "[01/Dec/2026:02:16:39 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 1)), "[01/Dec/2026:02:16:40 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0)), "[01/Dec/2026:02:16:39 +0000]");
    CHECK_EQ_STR(WRITE(100, chd_logtext_put_time(o, T0 + 21)), "[01/Dec/2026:02:17:00 +0000]");
    /* against strftime, second by second across an hour and a day */
    for (time_t t = 1798761600 - 3605; t < 1798761600 + 5; t++) {
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[64];
        strftime(want, sizeof want, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
        const char *got = WRITE(100, chd_logtext_put_time(o, t));
        if (strcmp(got, want) != 0)
            unit_fail(__FILE__, __LINE__, "%lld written as %s, want %s", (long long)t, got, want);
    }
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(put_copies_and_cuts);
    RUN(escaping_matches_apache);
    RUN(escaping_long_values);
    RUN(escaping_never_splits_a_sequence);
    RUN(integers);
    RUN(seconds_with_six_decimals);
    RUN(time_in_local_time);
    RUN(time_cache_follows_the_second);
    return unit_finish();
}
