/* Unit tests for child/chd_framing.h: the strict byte-by-byte checks of
 * the request head and of a chunked body. */
#include "chd_framing.h"
#include "cmn_buf.h"
#include "unit.h"

/* ---- chd_head_check ---------------------------------------------------- */

typedef struct {
    chd_check_result_t rc;
    size_t used;     /* bytes examined in all */
    uint32_t length; /* request-line length at the end */
    bool line_done;
} head_result_t;

/* Checks data in one call. */
static head_result_t head_whole(const char *data, size_t len)
{
    chd_head_check_t c;
    chd_head_check_init(&c);
    head_result_t res;
    res.rc = chd_head_check(&c, data, len, &res.used);
    res.length = c.length;
    res.line_done = chd_head_check_line_done(&c);
    return res;
}

/* Checks data in two calls, split at `cut`; the second call happens only
 * when the first asked for more. */
static head_result_t head_split(const char *data, size_t len, size_t cut)
{
    chd_head_check_t c;
    chd_head_check_init(&c);
    head_result_t res;
    size_t a = 0, b = 0;
    res.rc = chd_head_check(&c, data, cut, &a);
    if (a > cut)
        unit_fail(__FILE__, __LINE__, "split at %zu: used %zu of %zu", cut, a, cut);
    if (res.rc == CHD_CHECK_MORE) {
        if (a != cut)
            unit_fail(__FILE__, __LINE__, "split at %zu: MORE but used %zu", cut, a);
        res.rc = chd_head_check(&c, data + cut, len - cut, &b);
    }
    res.used = a + b;
    res.length = c.length;
    res.line_done = chd_head_check_line_done(&c);
    return res;
}

/* Checks data one byte per call. */
static head_result_t head_bytewise(const char *data, size_t len)
{
    chd_head_check_t c;
    chd_head_check_init(&c);
    head_result_t res = {CHD_CHECK_MORE, 0, 0, false};
    while (res.rc == CHD_CHECK_MORE && res.used < len) {
        size_t n = 0;
        res.rc = chd_head_check(&c, data + res.used, 1, &n);
        if (n != 1) {
            unit_fail(__FILE__, __LINE__, "bytewise: used %zu of 1 at %zu", n, res.used);
            break;
        }
        res.used += n;
    }
    res.length = c.length;
    res.line_done = chd_head_check_line_done(&c);
    return res;
}

/* Expects `want` (and, when want_used is not (size_t)-1, that many bytes
 * examined) whole, at every split and byte by byte. */
static void expect_head(const char *data, size_t len, chd_check_result_t want, size_t want_used,
                        const char *file, int line)
{
    head_result_t whole = head_whole(data, len);
    bool bad = whole.rc != want || (want_used != (size_t)-1 && whole.used != want_used);
    for (size_t cut = 0; cut <= len && !bad; cut++) {
        head_result_t s = head_split(data, len, cut);
        if (s.rc != whole.rc || s.used != whole.used || s.length != whole.length) {
            unit_fail(file, line,
                      "split at %zu: rc %d used %zu length %u, whole: rc %d used %zu "
                      "length %u",
                      cut, s.rc, s.used, s.length, whole.rc, whole.used, whole.length);
            bad = true;
        }
    }
    head_result_t bw = head_bytewise(data, len);
    if (!bad && (bw.rc != whole.rc || bw.used != whole.used || bw.length != whole.length)) {
        unit_fail(file, line, "bytewise: rc %d used %zu length %u, whole: rc %d used %zu length %u",
                  bw.rc, bw.used, bw.length, whole.rc, whole.used, whole.length);
        bad = true;
    }
    if (whole.rc != want || (want_used != (size_t)-1 && whole.used != want_used))
        unit_fail(file, line, "rc %d used %zu, want rc %d used %zd", whole.rc, whole.used, want,
                  (ssize_t)want_used);
    if (bad) {
        printf("       for ");
        unit_print_bytes(data, len);
        printf("\n");
    }
}

/* A complete head: DONE having examined all of it. */
#define HEAD_OK(lit)                                                                               \
    expect_head((lit), sizeof(lit) - 1, CHD_CHECK_DONE, sizeof(lit) - 1, __FILE__, __LINE__)
/* A violation (wherever it is found). */
#define HEAD_BAD(lit)                                                                              \
    expect_head((lit), sizeof(lit) - 1, CHD_CHECK_BAD, (size_t)-1, __FILE__, __LINE__)
/* A violation found at byte `at` (examined through it, no further). */
#define HEAD_BAD_AT(lit, at)                                                                       \
    expect_head((lit), sizeof(lit) - 1, CHD_CHECK_BAD, (at) + 1, __FILE__, __LINE__)
/* Fine so far, not finished. */
#define HEAD_MORE(lit)                                                                             \
    expect_head((lit), sizeof(lit) - 1, CHD_CHECK_MORE, sizeof(lit) - 1, __FILE__, __LINE__)

TEST(valid_heads)
{
    HEAD_OK("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    HEAD_OK("GET / HTTP/1.1\r\n\r\n"); /* Host is chd_request's business */
    HEAD_OK("POST /a?b=c&d=%20 HTTP/1.0\r\nA: b\r\nC:\r\nD-E:  f g \t\r\n\r\n");
    HEAD_OK("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    HEAD_OK("GET http://example.com:80/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n");
    HEAD_OK("M-SEARCH /~x!$&'()*+,;= HTTP/1.1\r\n\r\n");
    HEAD_OK("GET /\xc3\xa9 HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n"); /* obs-text */
    HEAD_OK("GET / HTTP/9.9\r\n\r\n"); /* the version's value is decided elsewhere (505) */
    HEAD_OK("GET / HTTP/1.1\r\nX: a:b:c\r\nY:\tz\r\n\r\n");
    HEAD_OK("GET / HTTP/1.1\r\nX: \x01\x7f\r\n\r\n"); /* only NUL, CR and LF are its concern */
    /* leading empty lines */
    HEAD_OK("\r\nGET / HTTP/1.1\r\n\r\n");
    HEAD_OK("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(unfinished_heads_want_more)
{
    HEAD_MORE("");
    HEAD_MORE("\r\n");
    HEAD_MORE("\r\n\r\n");
    HEAD_MORE("G");
    HEAD_MORE("GET / HTTP/1.1");
    HEAD_MORE("GET / HTTP/1.1\r");
    HEAD_MORE("GET / HTTP/1.1\r\n");
    HEAD_MORE("GET / HTTP/1.1\r\nHost: h");
    HEAD_MORE("GET / HTTP/1.1\r\nHost: h\r\n");
    HEAD_MORE("GET / HTTP/1.1\r\nHost: h\r\n\r");
}

TEST(bare_lf_is_bad)
{
    HEAD_BAD_AT("GET / HTTP/1.1\nHost: h\r\n\r\n", 14);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nHost: h\n\r\n", 23);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nHost: h\r\n\n", 25);
    HEAD_BAD_AT("GET /\n HTTP/1.1\r\n\r\n", 5);
    HEAD_BAD_AT("GET\n/ HTTP/1.1\r\n\r\n", 3);
    HEAD_BAD("GET / HTTP/1.1\nHost: h\n\n");
    HEAD_BAD("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n");
}

TEST(bare_cr_is_bad)
{
    HEAD_BAD_AT("GET / HTTP/1.1\rHost: h\r\n\r\n", 15);
    HEAD_BAD_AT("GET / HTTP/1.1\r\r\n\r\n", 15);
    HEAD_BAD_AT("GET /\r HTTP/1.1\r\n\r\n", 5);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 21);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 24);
    HEAD_BAD_AT("GET / HTTP/1.1\r\n\rX\r\n\r\n", 17);
    HEAD_BAD_AT("GET / HTTP/1.1\r\n\r\r\n", 17);
}

TEST(nul_is_bad)
{
    HEAD_BAD_AT("G\0T / HTTP/1.1\r\n\r\n", 1);
    HEAD_BAD_AT("GET /\0 HTTP/1.1\r\n\r\n", 5);
    HEAD_BAD_AT("GET / HTTP/1.1\0\r\n\r\n", 14);
    HEAD_BAD_AT("GET / HTTP/1.1\r\n\0X: a\r\n\r\n", 16);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n", 17);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 20);
}

TEST(obs_fold_is_bad)
{
    HEAD_BAD_AT("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 22);
    HEAD_BAD_AT("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 22);
    /* whitespace before the first field line too (RFC 9112 2.2) */
    HEAD_BAD_AT("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 16);
    HEAD_BAD_AT("GET / HTTP/1.1\r\n\t\r\n\r\n", 16);
}

TEST(bad_request_lines)
{
    HEAD_BAD_AT(" GET / HTTP/1.1\r\n\r\n", 0);
    HEAD_BAD_AT("GET  / HTTP/1.1\r\n\r\n", 4);
    HEAD_BAD_AT("GET /  HTTP/1.1\r\n\r\n", 6);
    HEAD_BAD_AT("GET / HTTP/1.1 \r\n\r\n", 14);
    HEAD_BAD_AT("GET\t/ HTTP/1.1\r\n\r\n", 3);
    HEAD_BAD_AT("GE(T / HTTP/1.1\r\n\r\n", 2);
    HEAD_BAD_AT("GET /\x7f HTTP/1.1\r\n\r\n", 5);
    HEAD_BAD_AT("GET /\x01 HTTP/1.1\r\n\r\n", 5);
    HEAD_BAD_AT("GET /\r\n\r\n", 5);  /* no version */
    HEAD_BAD_AT("GET / \r\n\r\n", 6); /* an empty one */
    HEAD_BAD_AT("GET / http/1.1\r\n\r\n", 6);
    HEAD_BAD_AT("GET / HTTp/1.1\r\n\r\n", 9);
    HEAD_BAD_AT("GET / HTTQ/1.1\r\n\r\n", 9);
    HEAD_BAD_AT("GET / HTTP-1.1\r\n\r\n", 10);
    HEAD_BAD_AT("GET / HTTP/x.1\r\n\r\n", 11);
    HEAD_BAD_AT("GET / HTTP/1,1\r\n\r\n", 12);
    HEAD_BAD_AT("GET / HTTP/1.x\r\n\r\n", 13);
    HEAD_BAD_AT("GET / HTTP/1\r\n\r\n", 12);
    HEAD_BAD_AT("GET / HTTP/1.\r\n\r\n", 13);
    HEAD_BAD_AT("GET / HTTP/1.10\r\n\r\n", 14);
    HEAD_BAD_AT("GET / HTTP/11.1\r\n\r\n", 12);
    HEAD_BAD_AT("GET\r\n\r\n", 3);
    HEAD_BAD_AT("GET \r\n\r\n", 4);
}

TEST(leading_bare_cr_or_lf_is_bad)
{
    /* only CRLF empty lines may come before the request line */
    HEAD_BAD("\nGET / HTTP/1.1\r\n\r\n");
    HEAD_BAD("\rGET / HTTP/1.1\r\n\r\n");
    HEAD_BAD("\r\n\nGET / HTTP/1.1\r\n\r\n");
    HEAD_BAD("\r\r\nGET / HTTP/1.1\r\n\r\n");
}

TEST(bytes_after_the_head_are_not_examined)
{
    /* a body or the next request, however malformed, is not the head's */
    static const char heads[][64] = {
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
        "\r\nGET / HTTP/1.0\r\n\r\n",
    };
    static const struct {
        const char *s;
        size_t n;
    } after[] = {{"\n\0\r x", 5}, {"GET / HTTP/1.1\n", 15}, {"\r\n", 2}, {"\0", 1}, {" ", 1},
                 {"hello", 5}};
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
        for (size_t a = 0; a < sizeof after / sizeof after[0]; a++) {
            char buf[128];
            size_t hlen = strlen(heads[h]), alen = after[a].n;
            memcpy(buf, heads[h], hlen);
            memcpy(buf + hlen, after[a].s, alen);
            expect_head(buf, hlen + alen, CHD_CHECK_DONE, hlen, __FILE__, __LINE__);
        }
    }

    /* once done, it stays done and examines nothing more */
    chd_head_check_t c;
    chd_head_check_init(&c);
    size_t used = 99;
    const char *head = "GET / HTTP/1.1\r\n\r\nGET";
    CHECK_EQ_INT(chd_head_check(&c, head, strlen(head), &used), CHD_CHECK_DONE);
    CHECK_EQ_INT(used, strlen(head) - 3);
    used = 99;
    CHECK_EQ_INT(chd_head_check(&c, "\n\0", 2, &used), CHD_CHECK_DONE);
    CHECK_EQ_INT(used, 0);

    /* and an empty call changes nothing */
    chd_head_check_init(&c);
    used = 99;
    CHECK_EQ_INT(chd_head_check(&c, "", 0, &used), CHD_CHECK_MORE);
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(c.length, 0);
}

TEST(request_line_length)
{
    const char *line = "GET /abc HTTP/1.1"; /* 17 bytes */
    const char *prefixes[] = {"", "\r\n", "\r\n\r\n\r\n"};
    for (size_t p = 0; p < 3; p++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s%s\r\nHost: h\r\nX: %s\r\n\r\n", prefixes[p], line,
                 "a long value that is not part of the line");
        size_t skip = strlen(prefixes[p]), total = strlen(buf);
        chd_head_check_t c;
        chd_head_check_init(&c);
        size_t used;
        /* the leading empty lines count for nothing */
        CHECK_EQ_INT(chd_head_check(&c, buf, skip, &used), CHD_CHECK_MORE);
        CHECK_EQ_INT(c.length, 0);
        /* each byte of the line counts, one at a time */
        for (size_t i = 0; i < strlen(line); i++) {
            CHECK_EQ_INT(chd_head_check(&c, buf + skip + i, 1, &used), CHD_CHECK_MORE);
            if (c.length != i + 1) {
                unit_fail(__FILE__, __LINE__, "prefix %zu: length %u after %zu bytes", p, c.length,
                          i + 1);
                break;
            }
            CHECK(!chd_head_check_line_done(&c));
        }
        /* then the CRLF; the line is done */
        CHECK_EQ_INT(chd_head_check(&c, buf + skip + strlen(line), 1, &used), CHD_CHECK_MORE);
        CHECK(!chd_head_check_line_done(&c));
        CHECK_EQ_INT(chd_head_check(&c, buf + skip + strlen(line) + 1, 1, &used), CHD_CHECK_MORE);
        CHECK(chd_head_check_line_done(&c));
        uint32_t at_line_end = c.length;
        /* "bytes of the request line": the line itself (17), or the line
         * with its CRLF (19) -- not the line with only its CR */
        if (at_line_end != strlen(line) && at_line_end != strlen(line) + 2)
            unit_fail(__FILE__, __LINE__,
                      "prefix %zu: length %u after the request line \"%s\\r\\n\"; want %zu "
                      "(without CRLF) or %zu (with it)",
                      p, at_line_end, line, strlen(line), strlen(line) + 2);
        /* field lines do not add to it */
        size_t rest = total - skip - strlen(line) - 2;
        CHECK_EQ_INT(chd_head_check(&c, buf + total - rest, rest, &used), CHD_CHECK_DONE);
        CHECK_EQ_INT(used, rest);
        CHECK_EQ_INT(c.length, at_line_end);
    }

    /* the same totals fed whole */
    head_result_t whole = head_whole("\r\nGET /abc HTTP/1.1\r\n\r\n", 23);
    CHECK_EQ_INT(whole.rc, CHD_CHECK_DONE);
    CHECK(whole.line_done);
    head_result_t part = head_whole("GET /abc HTTP/1", 15);
    CHECK_EQ_INT(part.rc, CHD_CHECK_MORE);
    CHECK_EQ_INT(part.length, 15);
    CHECK(!part.line_done);

    /* a long line is counted in full, whatever the pieces */
    size_t n = 20000;
    char *big = malloc(n + 32);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', n - 5);
    chd_head_check_t c;
    chd_head_check_init(&c);
    size_t off = 0, used;
    while (off < n) {
        size_t piece = n - off < 777 ? n - off : 777;
        CHECK_EQ_INT(chd_head_check(&c, big + off, piece, &used), CHD_CHECK_MORE);
        off += used;
        if (used != piece)
            break;
    }
    CHECK_EQ_INT(c.length, n);
    free(big);
}

/* The fast paths scan eight bytes at a time: a byte that ends or breaks a
 * run must be found at every place in a word, whatever the bytes around it
 * (high bytes, bytes just above and below the ones that stop a run). */
static bool is_target_byte(unsigned char b) { return (b > 0x20 && b < 0x7f) || b >= 0x80; }

TEST(every_byte_at_every_place_in_the_target)
{
    static const char fills[] = {'a', '\x80', '\xff', '\x21', '\x7e'};
    for (size_t f = 0; f < sizeof fills; f++) {
        for (size_t k = 0; k < 20; k++) {
            for (int b = 0; b < 256; b++) {
                char buf[128];
                size_t n = 0;
                memcpy(buf, "GET /", 5);
                n = 5;
                memset(buf + n, fills[f], k);
                n += k;
                size_t at = n;
                buf[n++] = (char)b;
                memset(buf + n, fills[f], 19);
                n += 19;
                memcpy(buf + n, " HTTP/1.1\r\n\r\n", 13);
                n += 13;
                if (is_target_byte((unsigned char)b))
                    expect_head(buf, n, CHD_CHECK_DONE, n, __FILE__, __LINE__);
                else if (b == ' ') /* the target ends; the version does not start */
                    expect_head(buf, n, CHD_CHECK_BAD, at + 2, __FILE__, __LINE__);
                else
                    expect_head(buf, n, CHD_CHECK_BAD, at + 1, __FILE__, __LINE__);
            }
        }
    }
}

TEST(every_byte_at_every_place_in_a_field_line)
{
    static const char fills[] = {'v', '\x80', '\xff', '\x01', '\x0e', '\x8d'};
    for (size_t f = 0; f < sizeof fills; f++) {
        for (size_t k = 0; k < 20; k++) {
            for (int b = 0; b < 256; b++) {
                char buf[128];
                size_t n = 0;
                memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
                n = 19;
                memset(buf + n, fills[f], k);
                n += k;
                size_t at = n;
                buf[n++] = (char)b;
                memset(buf + n, fills[f], 19);
                n += 19;
                memcpy(buf + n, "\r\nY: z\r\n\r\n", 10);
                n += 10;
                if (b == '\0' || b == '\n')
                    expect_head(buf, n, CHD_CHECK_BAD, at + 1, __FILE__, __LINE__);
                else if (b == '\r') /* a bare CR: the next byte is not LF */
                    expect_head(buf, n, CHD_CHECK_BAD, at + 2, __FILE__, __LINE__);
                else
                    expect_head(buf, n, CHD_CHECK_DONE, n, __FILE__, __LINE__);
            }
        }
    }
}

TEST(long_heads)
{
    /* runs far longer than a word, in the target and in field lines */
    static char buf[4096];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "GET /");
    for (int i = 0; i < 300; i++)
        buf[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "?q=%%C3%%A9 HTTP/1.1\r\n");
    for (int line = 0; line < 20; line++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "X-Field-%d: ", line);
        for (int i = 0; i < 7 * line + 3; i++)
            buf[n++] = (char)(i % 3 ? 'x' : '\t');
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
    }
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
    expect_head(buf, n, CHD_CHECK_DONE, n, __FILE__, __LINE__);
    head_result_t whole = head_whole(buf, n);
    CHECK_EQ_INT(whole.length, strstr(buf, "\r\n") + 2 - buf);
}

/* ---- chd_chunk_check --------------------------------------------------- */

/* Checks a chunked body whole, at every split into two calls and byte by
 * byte; the verdict must not depend on the pieces. The second call happens
 * only when the first asked for more. */
static void expect_chunks(const char *data, size_t len, chd_check_result_t want, const char *file,
                          int line)
{
    bool bad = false;
    chd_chunk_check_t c;
    chd_chunk_check_init(&c);
    chd_check_result_t whole = chd_chunk_check(&c, data, len);
    if (whole != want) {
        unit_fail(file, line, "whole: rc %d, want %d", whole, want);
        bad = true;
    }
    for (size_t cut = 0; cut <= len; cut++) {
        chd_chunk_check_init(&c);
        chd_check_result_t rc = chd_chunk_check(&c, data, cut);
        if (rc == CHD_CHECK_DONE && cut < len && want == CHD_CHECK_DONE) {
            unit_fail(file, line, "split at %zu: done %zu bytes early", cut, len - cut);
            bad = true;
            break;
        }
        if (rc == CHD_CHECK_MORE)
            rc = chd_chunk_check(&c, data + cut, len - cut);
        if (rc != want) {
            unit_fail(file, line, "split at %zu: rc %d, want %d", cut, rc, want);
            bad = true;
            break;
        }
    }
    chd_chunk_check_init(&c);
    chd_check_result_t rc = CHD_CHECK_MORE;
    for (size_t i = 0; i < len && rc == CHD_CHECK_MORE; i++)
        rc = chd_chunk_check(&c, data + i, 1);
    if (rc != want) {
        unit_fail(file, line, "bytewise: rc %d, want %d", rc, want);
        bad = true;
    }
    if (bad) {
        printf("       for ");
        unit_print_bytes(data, len);
        printf("\n");
    }
}
#define CHUNKS(lit, want) expect_chunks((lit), sizeof(lit) - 1, (want), __FILE__, __LINE__)
#define CHUNKS_OK(lit) CHUNKS(lit, CHD_CHECK_DONE)
#define CHUNKS_BAD(lit) CHUNKS(lit, CHD_CHECK_BAD)
#define CHUNKS_MORE(lit) CHUNKS(lit, CHD_CHECK_MORE)

TEST(valid_chunked_bodies)
{
    CHUNKS_OK("0\r\n\r\n");
    CHUNKS_OK("5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    CHUNKS_OK("a\r\n0123456789\r\nA\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n");
    CHUNKS_OK("000\r\n\r\n");
    CHUNKS_OK("0000000000000005\r\nhello\r\n0\r\n\r\n"); /* 16 digits */
    /* extensions */
    CHUNKS_OK("5;name=value\r\nhello\r\n0\r\n\r\n");
    CHUNKS_OK("5;a;b=c;d=\"q s\"\r\nhello\r\n0;last\r\n\r\n");
    CHUNKS_OK("5 ;a=b\r\nhello\r\n0\r\n\r\n"); /* BWS before ';' */
    /* trailers */
    CHUNKS_OK("3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n");
    CHUNKS_OK("0\r\nA: 1\r\nB: 2\r\nC:\r\n\r\n");
    /* data is data: CRLF, bare LF, NUL, hex digits inside it */
    CHUNKS_OK("6\r\n\r\n\n\0\r0\r\n0\r\n\r\n");
    CHUNKS_OK("3\r\n0\r\n\r\n0\r\n\r\n");
}

TEST(large_chunks)
{
    /* sizes that need several hex digits, in mixed case */
    size_t sizes[] = {0x1, 0xF, 0x10, 0xff, 0x100, 0x1000, 0xABCD, 0x10000};
    cmn_buf_t b = CMN_BUF_INIT;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cmn_buf_appendf(&b, i % 2 ? "%zX\r\n" : "%zx\r\n", sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            cmn_buf_append(&b, k % 7 ? "x" : "\n", 1);
        cmn_buf_append(&b, "\r\n", 2);
    }
    cmn_buf_append(&b, "0\r\n\r\n", 5);
    chd_chunk_check_t c;
    chd_chunk_check_init(&c);
    CHECK_EQ_INT(chd_chunk_check(&c, b.data, b.len), CHD_CHECK_DONE);
    /* in uneven pieces */
    chd_chunk_check_init(&c);
    size_t off = 0;
    chd_check_result_t rc = CHD_CHECK_MORE;
    while (off < b.len && rc == CHD_CHECK_MORE) {
        size_t piece = b.len - off < 1013 ? b.len - off : 1013;
        rc = chd_chunk_check(&c, b.data + off, piece);
        off += piece;
    }
    CHECK_EQ_INT(rc, CHD_CHECK_DONE);
    CHECK_EQ_INT(off, b.len);
    cmn_buf_free(&b);

    /* the largest size that fits: the data never comes, the size is fine */
    CHUNKS_MORE("ffffffffffffffff\r\n");
    CHUNKS_MORE("FFFFFFFFFFFFFFFF;x\r\nabc");
}

TEST(invalid_chunked_bodies)
{
    /* no CRLF after the data */
    CHUNKS_BAD("2\r\nheXX0\r\n\r\n");
    CHUNKS_BAD("5\r\nhello0\r\n\r\n");
    CHUNKS_BAD("5\r\nhello\n0\r\n\r\n");
    CHUNKS_BAD("5\r\nhello\r0\r\n\r\n");
    CHUNKS_BAD("5\r\nhello!\r\n0\r\n\r\n"); /* data longer than announced */
    /* the size */
    CHUNKS_BAD("0x5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("-5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("+5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD(" 5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("\t5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("00000000000000005\r\nhello\r\n0\r\n\r\n"); /* 17 digits */
    CHUNKS_BAD("10000000000000000\r\n");
    CHUNKS_BAD("fffffffffffffffff\r\n");
    CHUNKS_BAD("g\r\n");
    CHUNKS_BAD("\r\n");
    CHUNKS_BAD(";a\r\n0\r\n\r\n");
    CHUNKS_BAD("5x\r\nhello\r\n0\r\n\r\n");
    /* bare LF or CR after the size or an extension */
    CHUNKS_BAD("5\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5;a=b\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5\rhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5\r\rhello\r\n0\r\n\r\n");
    CHUNKS_BAD("0\n\r\n");
    /* control bytes in an extension */
    CHUNKS_BAD("5;a\0\r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5;a\x7f\r\nhello\r\n0\r\n\r\n");
    /* the trailer section and the end */
    CHUNKS_BAD("0\r\nX: a\nY: b\r\n\r\n");
    CHUNKS_BAD("0\r\nX: a\rb\r\n\r\n");
    CHUNKS_BAD("0\r\nX: a\0\r\n\r\n");
    CHUNKS_BAD("0\r\n\n");
    CHUNKS_BAD("0\r\n\r\r");
    CHUNKS_BAD("0\r\n\rX");
}

TEST(chunk_size_bws_only_before_an_extension)
{
    /* RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF, and chunk-ext's
     * BWS comes before its ";": whitespace then CRLF is malformed. */
    CHUNKS_BAD("0 \r\n\r\n");
    CHUNKS_BAD("0\t\r\n\r\n");
    CHUNKS_BAD("5 \r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5  \t \r\nhello\r\n0\r\n\r\n");
    CHUNKS_BAD("5\r\nhello\r\n0 \r\n\r\n");
    CHUNKS_BAD("5 x;a\r\nhello\r\n0\r\n\r\n");
    CHUNKS_OK("5 \t ;a\r\nhello\r\n0\t;b=c\r\n\r\n");
    CHUNKS_OK("5\r\nhello\r\n0\r\n\r\n");
    CHUNKS_MORE("0 ");
}

/* chd_chunk_find_tab_bws over s, from a fresh check. */
static size_t tab_bws_at(const char *s)
{
    chd_chunk_check_t c;
    chd_chunk_check_init(&c);
    return chd_chunk_find_tab_bws(&c, s, strlen(s));
}

TEST(an_htab_right_after_a_chunk_size_is_found)
{
    CHECK_EQ_INT(tab_bws_at("5\t;a\r\nhello\r\n0\r\n\r\n"), 1);
    CHECK_EQ_INT(tab_bws_at("1f\t\t;a\r\n"), 2);
    CHECK_EQ_INT(tab_bws_at("3\r\na\tb\r\n0\t;x\r\n\r\n"), 9); /* after 0, not in data */
    CHECK_EQ_INT(tab_bws_at("5 \t;a\r\n"), 7);                      /* SP first: none */
    CHECK_EQ_INT(tab_bws_at("5;a\tb\r\n"), 7);                      /* in an extension: none */
    CHECK_EQ_INT(tab_bws_at("x\t;a\r\n"), 6);                       /* already bad: none */
    /* after bytes already checked, and the check itself unchanged */
    chd_chunk_check_t c;
    chd_chunk_check_init(&c);
    CHECK_EQ_INT(chd_chunk_check(&c, "3\r\nabc\r\n1a", 10), CHD_CHECK_MORE);
    CHECK_EQ_INT(chd_chunk_find_tab_bws(&c, "\t;x\r\n", 5), 0);
    CHECK_EQ_INT(chd_chunk_find_tab_bws(&c, "\t;x\r\n", 5), 0);
    CHECK_EQ_INT(chd_chunk_check(&c, "\t;x\r\n", 5), CHD_CHECK_MORE);
}

TEST(unfinished_chunked_bodies_want_more)
{
    /* a missing final CRLF is not an end */
    CHUNKS_MORE("");
    CHUNKS_MORE("5");
    CHUNKS_MORE("5\r\nhel");
    CHUNKS_MORE("5\r\nhello");
    CHUNKS_MORE("5\r\nhello\r\n");
    CHUNKS_MORE("0\r\n");
    CHUNKS_MORE("0\r\n\r");
    CHUNKS_MORE("5\r\nhello\r\n0\r\n");
    CHUNKS_MORE("5\r\nhello\r\n0\r\nX: y\r\n");
    CHUNKS_MORE("0\r\nX: y\r\n\r");
    CHUNKS_MORE("0;ext");
}

TEST(chunk_check_stops_at_the_end)
{
    /* what follows the final CRLF is the next request's */
    CHUNKS_OK("0\r\n\r\n");
    chd_chunk_check_t c;
    chd_chunk_check_init(&c);
    const char *body = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\n\0";
    CHECK_EQ_INT(chd_chunk_check(&c, body, strlen(body) + 1), CHD_CHECK_DONE);
    CHECK_EQ_INT(chd_chunk_check(&c, "\n\0zz", 4), CHD_CHECK_DONE);
    /* an empty call changes nothing */
    chd_chunk_check_init(&c);
    CHECK_EQ_INT(chd_chunk_check(&c, "", 0), CHD_CHECK_MORE);
    CHECK_EQ_INT(chd_chunk_check(&c, "0\r\n\r\n", 5), CHD_CHECK_DONE);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(valid_heads);
    RUN(unfinished_heads_want_more);
    RUN(bare_lf_is_bad);
    RUN(bare_cr_is_bad);
    RUN(nul_is_bad);
    RUN(obs_fold_is_bad);
    RUN(bad_request_lines);
    RUN(leading_bare_cr_or_lf_is_bad);
    RUN(bytes_after_the_head_are_not_examined);
    RUN(request_line_length);
    RUN(every_byte_at_every_place_in_the_target);
    RUN(every_byte_at_every_place_in_a_field_line);
    RUN(long_heads);
    RUN(valid_chunked_bodies);
    RUN(large_chunks);
    RUN(invalid_chunked_bodies);
    RUN(unfinished_chunked_bodies_want_more);
    RUN(chunk_check_stops_at_the_end);
    RUN(chunk_size_bws_only_before_an_extension);
    RUN(an_htab_right_after_a_chunk_size_is_found);
    return unit_finish();
}
