/* Unit tests for child/chd_request.h: the http-parser wrapper. */
#include "chd_request.h"
#include "unit.h"

/* Feeds a whole string in one call; returns what was consumed. */
static size_t feed(chd_request_t *r, const char *s) { return chd_request_feed(r, s, strlen(s)); }

/* Feeds s one byte at a time until the request is done or broken; returns
 * the bytes consumed. */
static size_t feed_bytewise(chd_request_t *r, const char *s, size_t len)
{
    size_t used = 0;
    while (used < len) {
        size_t n = chd_request_feed(r, s + used, 1);
        used += n;
        if (n == 0 || r->phase == CHD_REQ_DONE || r->phase == CHD_REQ_ERROR)
            break;
    }
    return used;
}

/* Checks header i's name and value. */
#define CHECK_HEADER(r, i, name, value)                                                            \
    do {                                                                                           \
        if ((i) >= (r)->nheaders) {                                                                \
            unit_fail(__FILE__, __LINE__, "no header %d (only %d)", (i), (r)->nheaders);          \
        } else {                                                                                   \
            const chd_header_t *h_ = &(r)->headers[i];                                             \
            CHECK_MEM(chd_header_name((r), h_), h_->name_len, name);                               \
            CHECK_MEM(chd_header_value((r), h_), h_->value_len, value);                            \
        }                                                                                          \
    } while (0)

#define CHECK_URL(r, want) CHECK_MEM(chd_request_url(r), (r)->url_len, want)
#define CHECK_BODY(r, want) CHECK_MEM(cmn_buf_head(&(r)->body), cmn_buf_unread(&(r)->body), want)

/* Expects input to put a fresh request into CHD_REQ_ERROR with `status`. */
static void expect_error(const char *input, size_t len, int status, const char *file, int line)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    chd_request_feed(&r, input, len);
    if (r.phase != CHD_REQ_ERROR || r.error_status != status) {
        unit_fail(file, line, "phase %d status %d, want error %d (reason %s) for:", r.phase,
                  r.error_status, status, r.error_reason ? r.error_reason : "-");
        printf("       ");
        unit_print_bytes(input, len);
        printf("\n");
    }
    if (r.phase == CHD_REQ_ERROR && !r.error_reason)
        unit_fail(file, line, "error without a reason");
    /* once broken, it stays broken and consumes nothing */
    if (r.phase == CHD_REQ_ERROR && chd_request_feed(&r, "GET / HTTP/1.1\r\n\r\n", 18) != 0)
        unit_fail(file, line, "feed after error consumed bytes");
    chd_request_free(&r);
}
#define EXPECT_ERROR(input, status) expect_error((input), strlen(input), (status), __FILE__, __LINE__)

/* Same, but feeding one byte at a time. */
static void expect_error_bytewise(const char *input, size_t len, int status, const char *file,
                                  int line)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed_bytewise(&r, input, len);
    if (r.phase != CHD_REQ_ERROR || r.error_status != status)
        unit_fail(file, line, "bytewise: phase %d status %d, want error %d", r.phase,
                  r.error_status, status);
    chd_request_free(&r);
}

/* Like EXPECT_ERROR for a string literal that may hold NUL bytes. */
#define EXPECT_ERROR_N(lit, status)                                                                \
    expect_error((lit), sizeof(lit) - 1, (status), __FILE__, __LINE__)

/* Expects input to fail with `status` both in one feed and one byte at a
 * time. */
#define EXPECT_ERROR_BOTH(input, status)                                                           \
    do {                                                                                           \
        const char *unit_in_ = (input);                                                            \
        expect_error(unit_in_, strlen(unit_in_), (status), __FILE__, __LINE__);                    \
        expect_error_bytewise(unit_in_, strlen(unit_in_), (status), __FILE__, __LINE__);           \
    } while (0)

/* Expects input to be one complete, valid request, consumed to its last
 * byte, both in one feed and one byte at a time. */
static void expect_ok(const char *input, size_t len, const char *file, int line)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        chd_request_t r;
        chd_request_init(&r, NULL);
        size_t used = bytewise ? feed_bytewise(&r, input, len) : chd_request_feed(&r, input, len);
        if (r.phase != CHD_REQ_DONE || used != len) {
            unit_fail(file, line,
                      "%sphase %d status %d (reason %s), used %zu of %zu, want done for:",
                      bytewise ? "bytewise: " : "", r.phase, r.error_status,
                      r.error_reason ? r.error_reason : "-", used, len);
            printf("       ");
            unit_print_bytes(input, len);
            printf("\n");
        }
        chd_request_free(&r);
    }
}
#define EXPECT_OK(input) expect_ok((input), strlen(input), __FILE__, __LINE__)

TEST(simple_get)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(r.phase, CHD_REQ_IDLE);
    const char *req = "GET /index.html?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_STR(chd_request_method(&r), "GET");
    CHECK_URL(&r, "/index.html?x=1&y=%20");
    CHECK_EQ_INT(r.http_major, 1);
    CHECK_EQ_INT(r.http_minor, 1);
    CHECK(r.keep_alive);
    CHECK(!r.chunked);
    CHECK(!r.expect_continue);
    CHECK_EQ_INT(r.content_length, -1);
    CHECK_EQ_INT(r.body_received, 0);
    CHECK_EQ_INT(cmn_buf_unread(&r.body), 0);
    CHECK_EQ_INT(r.nheaders, 1);
    CHECK_HEADER(&r, 0, "Host", "example.com");
    CHECK_EQ_INT(r.error_status, 0);
    /* a finished request takes no more bytes until reset */
    CHECK_EQ_INT(feed(&r, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    chd_request_free(&r);
}

TEST(phases_follow_the_message)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(chd_request_feed(&r, "", 0), 0);
    CHECK_EQ_INT(r.phase, CHD_REQ_IDLE);
    CHECK_EQ_INT(feed(&r, "POST /form HTTP/1.1\r\n"), 21);
    CHECK_EQ_INT(r.phase, CHD_REQ_HEAD);
    CHECK_EQ_INT(feed(&r, "Host: h\r\n"), 9);
    CHECK_EQ_INT(r.phase, CHD_REQ_HEAD);
    CHECK_EQ_INT(feed(&r, "Content-Length: 4\r\n\r\n"), 21);
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK_EQ_INT(r.content_length, 4);
    CHECK_EQ_INT(feed(&r, "ab"), 2);
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK_EQ_INT(r.body_received, 2);
    CHECK_EQ_INT(feed(&r, "cd"), 2);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.body_received, 4);
    CHECK_BODY(&r, "abcd");
    chd_request_free(&r);
}

TEST(headers_are_collected_with_case_kept)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "GET / HTTP/1.1\r\n"
                      "Host: h\r\n"
                      "X-Custom-Header: Some Value, with: colons\r\n"
                      "accept: */*\r\n"
                      "X-Empty:\r\n"
                      "Cookie: a=1\r\n"
                      "Cookie: b=2\r\n"
                      "X-Spaces:    padded\r\n"
                      "\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.nheaders, 7);
    CHECK_HEADER(&r, 0, "Host", "h");
    CHECK_HEADER(&r, 1, "X-Custom-Header", "Some Value, with: colons");
    CHECK_HEADER(&r, 2, "accept", "*/*");
    CHECK_HEADER(&r, 3, "X-Empty", "");
    CHECK_HEADER(&r, 4, "Cookie", "a=1");
    CHECK_HEADER(&r, 5, "Cookie", "b=2");
    CHECK_HEADER(&r, 6, "X-Spaces", "padded");
    chd_request_free(&r);
}

TEST(empty_value_between_fields_keeps_them_apart)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "GET / HTTP/1.1\r\nA:\r\nB:\r\nC: c\r\nHost: h\r\n\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.nheaders, 4);
    CHECK_HEADER(&r, 0, "A", "");
    CHECK_HEADER(&r, 1, "B", "");
    CHECK_HEADER(&r, 2, "C", "c");
    CHECK_HEADER(&r, 3, "Host", "h");
    chd_request_free(&r);

    /* the same, one byte at a time */
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed_bytewise(&r, req, strlen(req)), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.nheaders, 4);
    CHECK_HEADER(&r, 0, "A", "");
    CHECK_HEADER(&r, 1, "B", "");
    CHECK_HEADER(&r, 2, "C", "c");
    CHECK_HEADER(&r, 3, "Host", "h");
    chd_request_free(&r);
}

TEST(one_byte_feeds)
{
    const char *req = "POST /some/long/path?query=string HTTP/1.1\r\n"
                      "Host: example.org:8080\r\n"
                      "User-Agent: unit-test/1.0 (with spaces)\r\n"
                      "Content-Type: text/plain\r\n"
                      "Content-Length: 13\r\n"
                      "\r\n"
                      "hello, world!";
    size_t len = strlen(req);
    chd_request_t r;
    chd_request_init(&r, NULL);
    size_t used = 0;
    bool each_one = true;
    while (used < len && r.phase != CHD_REQ_DONE && r.phase != CHD_REQ_ERROR) {
        size_t n = chd_request_feed(&r, req + used, 1);
        each_one &= n == 1;
        if (n == 0)
            break;
        used += n;
    }
    CHECK(each_one);
    CHECK_EQ_INT(used, len);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_STR(chd_request_method(&r), "POST");
    CHECK_URL(&r, "/some/long/path?query=string");
    CHECK_EQ_INT(r.nheaders, 4);
    CHECK_HEADER(&r, 0, "Host", "example.org:8080");
    CHECK_HEADER(&r, 1, "User-Agent", "unit-test/1.0 (with spaces)");
    CHECK_HEADER(&r, 2, "Content-Type", "text/plain");
    CHECK_HEADER(&r, 3, "Content-Length", "13");
    CHECK_EQ_INT(r.content_length, 13);
    CHECK_BODY(&r, "hello, world!");
    chd_request_free(&r);
}

TEST(irregular_splits)
{
    const char *req = "PUT /x HTTP/1.1\r\nHost: a\r\nX-Long-Name: long value here\r\n"
                      "Content-Length: 5\r\n\r\n12345";
    size_t len = strlen(req);
    /* every split point into two feeds gives the same result */
    for (size_t cut = 1; cut < len; cut++) {
        chd_request_t r;
        chd_request_init(&r, NULL);
        size_t a = chd_request_feed(&r, req, cut);
        size_t b = chd_request_feed(&r, req + a, len - a);
        bool ok = a == cut && a + b == len && r.phase == CHD_REQ_DONE && r.nheaders == 3 &&
                  r.url_len == 2 && memcmp(chd_request_url(&r), "/x", 2) == 0 &&
                  r.headers[1].name_len == 11 && r.headers[1].value_len == 15 &&
                  memcmp(chd_header_value(&r, &r.headers[1]), "long value here", 15) == 0 &&
                  cmn_buf_unread(&r.body) == 5 && memcmp(cmn_buf_head(&r.body), "12345", 5) == 0;
        if (!ok)
            unit_fail(__FILE__, __LINE__, "split at %zu: a=%zu b=%zu phase=%d nheaders=%d", cut,
                      a, b, r.phase, r.nheaders);
        chd_request_free(&r);
    }
}

TEST(pipelined_requests)
{
    const char *first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *second = "POST /b HTTP/1.1\r\nHost: y\r\nContent-Length: 3\r\n\r\nabc";
    const char *third = "GET /c HTTP/1.1\r\nHo";
    char all[512];
    snprintf(all, sizeof all, "%s%s%s", first, second, third);
    size_t len = strlen(all), off = 0;

    chd_request_t r;
    chd_request_init(&r, NULL);
    size_t n = chd_request_feed(&r, all, len);
    CHECK_EQ_INT(n, strlen(first));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/a");
    CHECK_HEADER(&r, 0, "Host", "x");
    off += n;

    chd_request_reset(&r);
    CHECK_EQ_INT(r.phase, CHD_REQ_IDLE);
    CHECK_EQ_INT(r.nheaders, 0);
    n = chd_request_feed(&r, all + off, len - off);
    CHECK_EQ_INT(n, strlen(second));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_STR(chd_request_method(&r), "POST");
    CHECK_URL(&r, "/b");
    CHECK_EQ_INT(r.nheaders, 2);
    CHECK_HEADER(&r, 0, "Host", "y");
    CHECK_BODY(&r, "abc");
    off += n;

    chd_request_reset(&r);
    CHECK_EQ_INT(cmn_buf_unread(&r.body), 0);
    CHECK_EQ_INT(r.content_length, -1);
    CHECK_EQ_INT(r.body_received, 0);
    n = chd_request_feed(&r, all + off, len - off);
    CHECK_EQ_INT(n, strlen(third));
    CHECK_EQ_INT(r.phase, CHD_REQ_HEAD);
    CHECK_EQ_INT(feed(&r, "st: z\r\n\r\n"), 9);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/c");
    CHECK_EQ_INT(r.nheaders, 1);
    CHECK_HEADER(&r, 0, "Host", "z");
    chd_request_free(&r);
}

TEST(pipelined_after_chunked_body)
{
    const char *req = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n0\r\n\r\n"
                      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    chd_request_t r;
    chd_request_init(&r, NULL);
    size_t n = feed(&r, req);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "abc");
    CHECK_EQ_INT(n, strlen(req) - strlen("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"));
    chd_request_reset(&r);
    CHECK_EQ_INT(feed(&r, req + n), strlen(req) - n);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/next");
    chd_request_free(&r);
}

TEST(leading_empty_lines_are_ignored)
{
    /* RFC 9112 2.2: a server SHOULD ignore at least one empty line before
     * the request line (clients send one after a POST body). */
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/after");
    chd_request_free(&r);
}

TEST(content_length_body)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.content_length, 11);
    CHECK(!r.chunked);
    CHECK_EQ_INT(r.body_received, 11);
    CHECK_BODY(&r, "hello world");
    chd_request_free(&r);

    /* Content-Length: 0 is a length, not "absent" */
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 47);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.content_length, 0);
    chd_request_free(&r);
}

TEST(large_body_in_pieces)
{
    const size_t size = 1024 * 1024 + 3;
    char head[128];
    int hlen = snprintf(head, sizeof head,
                        "PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", size);
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(chd_request_feed(&r, head, (size_t)hlen), hlen);
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK_EQ_INT(r.content_length, (long long)size);
    char piece[4096];
    size_t sent = 0;
    while (sent < size && r.phase == CHD_REQ_BODY) {
        size_t n = size - sent < sizeof piece ? size - sent : sizeof piece;
        for (size_t i = 0; i < n; i++)
            piece[i] = (char)('a' + (sent + i) % 26);
        size_t used = chd_request_feed(&r, piece, n);
        if (used != n)
            break;
        sent += n;
        /* the app takes what arrived, as the worker does */
        cmn_buf_consume(&r.body, cmn_buf_unread(&r.body) / 2);
    }
    CHECK_EQ_INT(sent, size);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.body_received, (long long)size);
    chd_request_free(&r);
}

TEST(chunked_body_decoded)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "POST /c HTTP/1.1\r\n"
                      "Host: h\r\n"
                      "Transfer-Encoding: chunked\r\n"
                      "\r\n"
                      "5\r\nhello\r\n"
                      "6;name=value;flag\r\n world\r\n"
                      "A\r\n0123456789\r\n"
                      "0\r\n"
                      "X-Trailer: t\r\n"
                      "\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK(r.chunked);
    CHECK_EQ_INT(r.content_length, -1);
    CHECK_BODY(&r, "hello world0123456789");
    CHECK_EQ_INT(r.body_received, 21);
    CHECK_EQ_STR(chd_request_method(&r), "POST");
    chd_request_free(&r);

    /* byte by byte */
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed_bytewise(&r, req, strlen(req)), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "hello world0123456789");
    CHECK(chd_request_find_header(&r, "Host") != NULL);
    chd_request_free(&r);
}

TEST(chunk_extension_bws_may_start_with_a_tab)
{
    /* RFC 9112 7.1.1: BWS before ";" is parsed and dropped, HTAB as well as
     * SP; http-parser alone refuses an HTAB right after the size. At once,
     * byte by byte, and with the next request pipelined behind it. */
    const char *req = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\t;a=1\r\nhello\r\n6\t\t \t;b\r\n world\r\n0\t;c\r\n\r\n";
    const char *next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    char both[512];
    snprintf(both, sizeof both, "%s%s", req, next);
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed(&r, both), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "hello world");
    chd_request_reset(&r);
    CHECK_EQ_INT(feed(&r, next), strlen(next));
    CHECK_URL(&r, "/next");
    chd_request_free(&r);

    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed_bytewise(&r, req, strlen(req)), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "hello world");
    chd_request_free(&r);

    /* still no BWS without an extension after it */
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\t\r\nhello\r\n",
                 400);
}

TEST(chunked_empty_body)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK(r.chunked);
    CHECK_EQ_INT(cmn_buf_unread(&r.body), 0);
    chd_request_free(&r);
}

TEST(expect_continue)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(r.expect_continue);
    chd_request_free(&r);

    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nexpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(r.expect_continue); /* expectation tokens are case-insensitive */
    chd_request_free(&r);

    /* HTTP/1.0 has no 100 Continue */
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(!r.expect_continue);
    chd_request_free(&r);

    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(!r.expect_continue);
    chd_request_free(&r);

    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(!r.expect_continue);
    chd_request_free(&r);
}

/* keep_alive after parsing `req`. */
static int keep_alive_of(const char *req)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, req);
    int ka = r.phase == CHD_REQ_DONE ? r.keep_alive : -1;
    chd_request_free(&r);
    return ka;
}

TEST(keep_alive_rules)
{
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"), 0);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.0\r\n\r\n"), 0);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 1);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 1);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"), 1);
    CHECK_EQ_INT(keep_alive_of("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), 0);
}

TEST(version_fields)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET / HTTP/1.0\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.http_major, 1);
    CHECK_EQ_INT(r.http_minor, 0);
    chd_request_free(&r);
}

TEST(unsupported_versions_get_505)
{
    EXPECT_ERROR("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    EXPECT_ERROR("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
    EXPECT_ERROR("GET / HTTP/3.0\r\n\r\n", 505);
    EXPECT_ERROR("GET / HTTP/9.9\r\n\r\n", 505);
}

TEST(malformed_request_line_gets_400)
{
    EXPECT_ERROR("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GE\"T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("\x01\x02\x03 / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/x.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    const char *garbage = "FO(O / HTTP/1.1\r\nHost: h\r\n\r\n";
    expect_error_bytewise(garbage, strlen(garbage), 400, __FILE__, __LINE__);
}

TEST(malformed_fields_get_400)
{
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
}

/* The tests below check what RFC 9112 requires of a server and the
 * lenient (non-strict) build of http-parser lets through. */

TEST(misspelt_protocol_name_gets_400)
{
    /* RFC 9112 2.3: HTTP-name is "HTTP", case-sensitive */
    EXPECT_ERROR("GET / HTTQ/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET / HXXP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(whitespace_in_field_name_gets_400)
{
    /* RFC 9112 5.1: "A server MUST reject, with a response status code of
     * 400 (Bad Request), any received request message that contains
     * whitespace between a header field name and colon." */
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.0\r\nHost : x\r\n\r\n", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400);
    /* and a field name is a token: no space inside either */
    EXPECT_ERROR("GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400);
}

TEST(whitespace_before_first_field_gets_400)
{
    /* RFC 9112 2.2: whitespace between the start-line and the first field
     * must be rejected or the line ignored; it must not become a field
     * named " Host". */
    EXPECT_ERROR("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\n X: a\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.1\r\n\tX: a\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR("GET / HTTP/1.0\r\n X: a\r\n\r\n", 400);
}

TEST(chunk_data_must_end_with_crlf)
{
    /* RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
     * Two bytes that are not CRLF after the data must not be skipped as
     * if they were (a request-smuggling ambiguity). */
    const char *bad = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "2\r\nheXX0\r\n\r\n";
    EXPECT_ERROR(bad, 400);
    expect_error_bytewise(bad, strlen(bad), 400, __FILE__, __LINE__);
}

TEST(trailing_whitespace_is_not_part_of_values)
{
    /* RFC 9110 5.5: a field value does not include leading or trailing
     * whitespace; parsers exclude it before evaluating the value. */
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET / HTTP/1.1\r\nX-A: a  \r\nX-B: b\t\r\nHost: h \r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_HEADER(&r, 0, "X-A", "a");
    CHECK_HEADER(&r, 1, "X-B", "b");
    CHECK_HEADER(&r, 2, "Host", "h");
    chd_request_free(&r);

    /* so "Expect: 100-continue " still expects a 100 */
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue \r\nContent-Length: 1\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(r.expect_continue);
    chd_request_free(&r);
}

/* A request with n header fields: "Host: h", then "X-Header-<i>: <i>" for
 * i from 0 to n - 2. */
static char *request_with_fields(int n)
{
    cmn_buf_t b = CMN_BUF_INIT;
    cmn_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < n - 1; i++)
        cmn_buf_appendf(&b, "X-Header-%d: %d\r\n", i, i);
    cmn_buf_append_str(&b, "\r\n");
    cmn_buf_append(&b, "", 1);
    return b.data;
}

TEST(header_count_limit)
{
    char *ok = request_with_fields(CHD_DEFAULT_LIMIT_FIELDS);
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed(&r, ok), strlen(ok));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_EQ_INT(r.nheaders, CHD_DEFAULT_LIMIT_FIELDS);
    CHECK_HEADER(&r, 0, "Host", "h");
    CHECK_HEADER(&r, CHD_DEFAULT_LIMIT_FIELDS - 1, "X-Header-98", "98");
    chd_request_free(&r);
    free(ok);

    char *too_many = request_with_fields(CHD_DEFAULT_LIMIT_FIELDS + 1);
    EXPECT_ERROR(too_many, 431);
    expect_error_bytewise(too_many, strlen(too_many), 431, __FILE__, __LINE__);
    free(too_many);
}

/* Feeds req under `limits` in pieces of `step` bytes; returns the phase
 * and stores the error status. */
static int feed_limited(const chd_limits_t *limits, const char *req, size_t step, int *status)
{
    chd_request_t r;
    chd_request_init(&r, limits);
    size_t len = strlen(req), off = 0;
    while (off < len && r.phase != CHD_REQ_ERROR && r.phase != CHD_REQ_DONE) {
        size_t n = len - off < step ? len - off : step;
        size_t used = chd_request_feed(&r, req + off, n);
        if (used == 0)
            break;
        off += used;
    }
    int phase = r.phase;
    *status = r.error_status;
    chd_request_free(&r);
    return phase;
}

/* "GET /ppp... HTTP/1.1" with a request line of exactly `line` bytes (not
 * counting its CRLF), then a Host field. */
static char *request_line_of(size_t line)
{
    char *req = malloc(line + 64);
    size_t target = line - strlen("GET  HTTP/1.1");
    memcpy(req, "GET /", 5);
    memset(req + 5, 'p', target - 1);
    strcpy(req + 4 + target, " HTTP/1.1\r\nHost: h\r\n\r\n");
    return req;
}

TEST(request_line_limit)
{
    int status;
    char *ok = request_line_of(CHD_DEFAULT_LIMIT_REQUEST_LINE);
    CHECK_EQ_INT(feed_limited(NULL, ok, 1000, &status), CHD_REQ_DONE);
    char *big = request_line_of(CHD_DEFAULT_LIMIT_REQUEST_LINE + 1);
    CHECK_EQ_INT(feed_limited(NULL, big, 1000, &status), CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 414);
    CHECK_EQ_INT(feed_limited(NULL, big, 1, &status), CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 414);
    chd_limits_t none = chd_default_limits;
    none.request_line = 0; /* no limit of ours */
    CHECK_EQ_INT(feed_limited(&none, big, 1000, &status), CHD_REQ_DONE);
    chd_limits_t small = chd_default_limits;
    small.request_line = 20;
    CHECK_EQ_INT(feed_limited(&small, "GET /abcdefg HTTP/1.1\r\nHost: h\r\n\r\n", 3, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 414);
    free(ok);
    free(big);
}

TEST(field_size_limit)
{
    int status;
    size_t big = CHD_DEFAULT_LIMIT_FIELD_SIZE; /* "X-Big: " + value > limit */
    char *req = malloc(big + 64);
    int n = sprintf(req, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    memset(req + n, 'v', big);
    strcpy(req + n + big, "\r\n\r\n");
    CHECK_EQ_INT(feed_limited(NULL, req, 4096, &status), CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 431);
    CHECK_EQ_INT(feed_limited(NULL, req, 1, &status), CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 431);
    /* exactly at the limit: "X-Big: " is 7 bytes, the value fills the rest */
    n = sprintf(req, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    memset(req + n, 'v', CHD_DEFAULT_LIMIT_FIELD_SIZE - 7);
    strcpy(req + n + CHD_DEFAULT_LIMIT_FIELD_SIZE - 7, "\r\n\r\n");
    CHECK_EQ_INT(feed_limited(NULL, req, 4096, &status), CHD_REQ_DONE);
    chd_limits_t small = chd_default_limits;
    small.field_size = 10;
    CHECK_EQ_INT(feed_limited(&small, "GET / HTTP/1.1\r\nHost: abcde\r\n\r\n", 2, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 431);
    /* fields that only add up to a lot are fine while each is in bounds */
    cmn_buf_t b = CMN_BUF_INIT;
    cmn_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
    char value[2001];
    memset(value, 'w', 2000);
    value[2000] = '\0';
    for (int i = 0; i < 40; i++)
        cmn_buf_appendf(&b, "X-%d: %s\r\n", i, value);
    cmn_buf_append(&b, "\r\n", 3);
    CHECK_EQ_INT(feed_limited(NULL, b.data, 4096, &status), CHD_REQ_DONE);
    cmn_buf_free(&b);
    free(req);
}

TEST(body_limit)
{
    int status;
    chd_limits_t small = chd_default_limits;
    small.body = 4;
    CHECK_EQ_INT(feed_limited(&small,
                              "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 100,
                              &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 413);
    CHECK_EQ_INT(feed_limited(&small, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nhell",
                              100, &status),
                 CHD_REQ_DONE);
    CHECK_EQ_INT(feed_limited(&small,
                              "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
                              5, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 413);
}

TEST(ambiguous_framing_is_refused)
{
    /* RFC 9112 6.1: Content-Length with Transfer-Encoding may be smuggling */
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 400);
    chd_request_free(&r);

    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
             "0\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 400);
    chd_request_free(&r);

    /* two different lengths */
    EXPECT_ERROR(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 400);
    /* a length that is not a number, or too big to be one */
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 400);
}

TEST(transfer_coding_other_than_chunked_is_refused)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nxxxx");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 501);
    chd_request_free(&r);
}

TEST(bad_chunks_are_errors)
{
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "zz\r\nhello\r\n0\r\n\r\n",
                 400);
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n",
                 400);
    /* chunk data longer than announced */
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\nhello\r\n0\r\n\r\n",
                 400);
    /* a size that overflows */
    EXPECT_ERROR("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "fffffffffffffffffffff\r\n",
                 400);
    const char *bad = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n";
    expect_error_bytewise(bad, strlen(bad), 400, __FILE__, __LINE__);
}

/* The rules below are RFC 9112's defences against request smuggling:
 * where two parsers could disagree on a message, we refuse it. */

TEST(host_is_required_once_in_http11)
{
    /* RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, and for any
     * request with more than one Host field line. */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nX-Host: a\r\nHosts: b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHOST: a\r\nX: y\r\nHost: a\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", 400);

    EXPECT_OK("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_OK("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n");
    EXPECT_OK("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
    /* an empty Host is allowed (a target without authority) */
    EXPECT_OK("GET / HTTP/1.1\r\nHost:\r\n\r\n");
    /* HTTP/1.0 needs none */
    EXPECT_OK("GET / HTTP/1.0\r\n\r\n");
    EXPECT_OK("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nab");
    EXPECT_OK("GET / HTTP/1.0\r\nHost: a\r\n\r\n");

    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET / HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 400);
    CHECK(r.error_reason != NULL);
    chd_request_free(&r);
}

TEST(content_length_is_digits_and_once)
{
    /* RFC 9112 6.3: a repeated Content-Length is refused, even with the
     * same value (it used to be tolerated). */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
                      "\r\nhello",
                      400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello", 400);
    EXPECT_ERROR_BOTH(
        "POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\nContent-Length: 0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\nhello", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5.0\r\n\r\nhello", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
    /* never together with Transfer-Encoding, in either order, any version */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                      "Content-Length: 0\r\n\r\n0\r\n\r\n",
                      400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\n\r\n",
                      400);

    /* leading zeros and optional whitespace around the value are fine */
    EXPECT_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 005\r\n\r\nhello");
    EXPECT_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n\r\nhello");
    EXPECT_OK("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\n\r\nhello");
}

/* The answer to a chunked-looking POST with Transfer-Encoding `te` (a
 * whole field line or several). */
static void expect_te(const char *version, const char *te_lines, int status, const char *file,
                      int line)
{
    char req[256];
    snprintf(req, sizeof req, "POST / %s\r\nHost: h\r\n%s\r\n0\r\n\r\n", version, te_lines);
    if (status == 0)
        expect_ok(req, strlen(req), file, line);
    else {
        expect_error(req, strlen(req), status, file, line);
        expect_error_bytewise(req, strlen(req), status, file, line);
    }
}
#define EXPECT_TE(version, te, status) expect_te((version), (te), (status), __FILE__, __LINE__)

TEST(transfer_encoding_rules)
{
    /* RFC 9112 6.1 and 6.3: exactly one final "chunked" frames a request */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked\r\n", 0);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: Chunked\r\n", 0); /* codings are case-insensitive */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked \r\n", 0);
    /* chunked twice cannot be trusted */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n", 400);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400);
    /* chunked that is not the last coding: the length is unknown */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n", 400);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", 400);
    /* codings we do not implement */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n", 501);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: foo\r\n", 501);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: identity\r\n", 501);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: gzip\r\n", 501);
    /* an empty one */
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding:\r\n", 400);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding:  \r\n", 400);
    EXPECT_TE("HTTP/1.1", "Transfer-Encoding: ,\r\n", 400);
    /* HTTP/1.0 has no Transfer-Encoding at all (RFC 9112 6.1) */
    EXPECT_TE("HTTP/1.0", "Transfer-Encoding: chunked\r\n", 400);
    EXPECT_TE("HTTP/1.0", "Transfer-Encoding: gzip\r\n", 400);
    EXPECT_TE("HTTP/1.0", "Transfer-Encoding: identity\r\n", 400);
}

TEST(bare_lf_in_head_gets_400)
{
    /* RFC 9112 2.2: we do not take a bare LF as a line terminator */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\nHost: h\n\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.0\n\n", 400);
    /* the classic smuggling shape: a bare LF hiding a Content-Length */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nX: a\nContent-Length: 5\r\n\r\nhello", 400);
}

TEST(bare_cr_in_head_gets_400)
{
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400);
}

TEST(nul_in_head_gets_400)
{
    EXPECT_ERROR_N("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400);
    EXPECT_ERROR_N("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 400);
    EXPECT_ERROR_N("GET / HTTP/1.1\r\nHost: h\r\nX\0Y: a\r\n\r\n", 400);
    EXPECT_ERROR_N("GET / HTTP/1.1\r\n\0Host: h\r\n\r\n", 400);
    EXPECT_ERROR_N("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_N("G\0T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_N("GET / HTTP/1.1\0\r\nHost: h\r\n\r\n", 400);
    static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    expect_error_bytewise(nul, sizeof nul - 1, 400, __FILE__, __LINE__);
}

TEST(obs_fold_gets_400)
{
    /* RFC 9112 5.2: a server MUST reject obs-fold with 400 (or replace it,
     * which we do not do) */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n \r\n\r\n", 400);
    /* folding a Host value */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost:\r\n h\r\n\r\n", 400);
    /* whitespace inside or after a value is fine */
    EXPECT_OK("GET / HTTP/1.1\r\nHost: h\r\nX: a \t b\t\r\n\r\n");
}

TEST(request_line_shape)
{
    /* RFC 9112 3: method SP request-target SP HTTP-version CRLF */
    EXPECT_ERROR_BOTH("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET\t/\tHTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET /\tHTTP/1.1\r\nHost: h\r\n\r\n", 400);
    /* no version (HTTP/0.9 style), or half of one */
    EXPECT_ERROR_BOTH("GET /\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / \r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/11\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP-1.1\r\nHost: h\r\n\r\n", 400);
    /* HTTP-name is case-sensitive */
    EXPECT_ERROR_BOTH("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / Http/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTp/1.0\r\n\r\n", 400);
}

TEST(leading_crlfs_are_ignored)
{
    EXPECT_OK("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_OK("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_OK("\r\nGET / HTTP/1.0\r\n\r\n");

    chd_request_t r;
    chd_request_init(&r, NULL);
    const char *req = "\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
    CHECK_EQ_INT(feed_bytewise(&r, req, strlen(req)), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/p");
    CHECK_BODY(&r, "ok");
    chd_request_free(&r);

    /* the CRLF a client sends after a POST body, before the next request */
    const char *two = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok"
                      "\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    chd_request_init(&r, NULL);
    size_t n = feed(&r, two);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "ok");
    chd_request_reset(&r);
    CHECK_EQ_INT(feed(&r, two + n), strlen(two) - n);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/b");
    chd_request_free(&r);
}

TEST(leading_bare_cr_or_lf_gets_400)
{
    /* Only CRLF empty lines are ignored before the request line; a bare
     * CR or LF there is as much a bare CR/LF in the head as anywhere. */
    EXPECT_ERROR_BOTH("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(body_bytes_are_not_head_checked)
{
    /* what follows the head is body: bare LF, bare CR and NUL are data */
    static const char req[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\na\nb\0\r ";
    chd_request_t r;
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(chd_request_feed(&r, req, sizeof req - 1), sizeof req - 1);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_MEM_N(cmn_buf_head(&r.body), cmn_buf_unread(&r.body), "a\nb\0\r ", 6);
    chd_request_free(&r);
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(feed_bytewise(&r, req, sizeof req - 1), sizeof req - 1);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    chd_request_free(&r);

    static const char chunked[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "4\r\n\n\0\r \r\n0\r\n\r\n";
    chd_request_init(&r, NULL);
    CHECK_EQ_INT(chd_request_feed(&r, chunked, sizeof chunked - 1), sizeof chunked - 1);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_MEM_N(cmn_buf_head(&r.body), cmn_buf_unread(&r.body), "\n\0\r ", 4);
    chd_request_free(&r);

    /* nor is the next request's fault this one's */
    const char *pipe = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\nHost: h\n\n";
    chd_request_init(&r, NULL);
    size_t n = feed(&r, pipe);
    CHECK_EQ_INT(n, strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    chd_request_reset(&r);
    feed(&r, pipe + n);
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 400);
    chd_request_free(&r);
}

TEST(strict_chunk_framing_through_the_request)
{
    const char *head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char *bodies[] = {
        "0x5\r\nhello\r\n0\r\n\r\n",               /* 0x prefix */
        "+5\r\nhello\r\n0\r\n\r\n",                /* sign */
        " 5\r\nhello\r\n0\r\n\r\n",                /* leading space */
        "00000000000000005\r\nhello\r\n0\r\n\r\n", /* 17 hex digits */
        "5\nhello\r\n0\r\n\r\n",                   /* bare LF after the size */
        "5;a=b\nhello\r\n0\r\n\r\n",               /* bare LF after an extension */
        "5\r\nhello\n0\r\n\r\n",                   /* bare LF after the data */
        "5\r\nhelloXY0\r\n\r\n",                   /* no CRLF after the data */
        "0\r\nX: a\nY: b\r\n\r\n",                 /* bare LF in a trailer */
        "0\r\n\n",                                 /* bare LF at the end */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "%s%s", head, bodies[i]);
        expect_error(req, strlen(req), 400, __FILE__, __LINE__);
        expect_error_bytewise(req, strlen(req), 400, __FILE__, __LINE__);
    }
    /* and the lawful variants of the same */
    char req[256];
    snprintf(req, sizeof req, "%s%s", head, "0000000000000005;a=b;c\r\nhello\r\n0\r\nX: a\r\n\r\n");
    EXPECT_OK(req);

    /* a missing final CRLF is not an end: the body is still incomplete */
    chd_request_t r;
    chd_request_init(&r, NULL);
    snprintf(req, sizeof req, "%s%s", head, "5\r\nhello\r\n0\r\n");
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK_EQ_INT(feed(&r, "\r\n"), 2);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_BODY(&r, "hello");
    chd_request_free(&r);
}

TEST(custom_limits)
{
    int status;
    CHECK_EQ_INT(chd_default_limits.request_line, 8190);
    CHECK_EQ_INT(chd_default_limits.fields, 100);
    CHECK_EQ_INT(chd_default_limits.field_size, 8190);
    CHECK_EQ_INT(chd_default_limits.body, 0);

    /* leading empty lines do not count towards the request line */
    chd_limits_t line = chd_default_limits;
    line.request_line = 14; /* "GET / HTTP/1.1" */
    CHECK_EQ_INT(feed_limited(&line, "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 1, &status),
                 CHD_REQ_DONE);
    CHECK_EQ_INT(feed_limited(&line, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 100, &status),
                 CHD_REQ_DONE);
    CHECK_EQ_INT(feed_limited(&line, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 100, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 414);
    CHECK_EQ_INT(feed_limited(&line, "GET /ab HTTP/1.1\r\nHost: h\r\n\r\n", 1, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 414);

    /* the field count includes Host */
    chd_limits_t two = chd_default_limits;
    two.fields = 2;
    CHECK_EQ_INT(feed_limited(&two, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", 5, &status),
                 CHD_REQ_DONE);
    CHECK_EQ_INT(
        feed_limited(&two, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", 5, &status),
        CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 431);

    /* "name: value" exactly at the limit, then one byte over */
    chd_limits_t size = chd_default_limits;
    size.field_size = 10;
    CHECK_EQ_INT(feed_limited(&size, "GET / HTTP/1.1\r\nHost: abcd\r\n\r\n", 1, &status),
                 CHD_REQ_DONE);
    CHECK_EQ_INT(
        feed_limited(&size, "GET / HTTP/1.1\r\nHost: h\r\nX-Abcde: fg\r\n\r\n", 100, &status),
        CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 431);

    /* a declared length over the body limit is refused before any body */
    chd_limits_t body = chd_default_limits;
    body.body = 10;
    CHECK_EQ_INT(feed_limited(&body, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
                              100, &status),
                 CHD_REQ_ERROR);
    CHECK_EQ_INT(status, 413);
    CHECK_EQ_INT(feed_limited(&body,
                              "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
                              1, &status),
                 CHD_REQ_DONE);
}

TEST(find_header_is_case_insensitive)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET / HTTP/1.1\r\nContent-Type: text/html\r\nX-A: 1\r\nx-a: 2\r\nHost: h\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    const chd_header_t *h = chd_request_find_header(&r, "content-type");
    CHECK(h != NULL);
    if (h)
        CHECK_MEM(chd_header_value(&r, h), h->value_len, "text/html");
    CHECK(chd_request_find_header(&r, "CONTENT-TYPE") == h);
    CHECK(chd_request_find_header(&r, "Content-Type") == h);
    CHECK(chd_request_find_header(&r, "Content") == NULL);
    CHECK(chd_request_find_header(&r, "Content-Type-X") == NULL);
    CHECK(chd_request_find_header(&r, "Accept") == NULL);
    CHECK(chd_request_find_header(&r, "") == NULL);
    /* the first of repeated fields */
    h = chd_request_find_header(&r, "X-A");
    CHECK(h != NULL);
    if (h)
        CHECK_MEM(chd_header_value(&r, h), h->value_len, "1");
    chd_request_free(&r);
}

TEST(find_header_folds_letters_only)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET / HTTP/1.1\r\nHost: h\r\nA^: 1\r\nX-Y: 2\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK(chd_request_find_header(&r, "a^") != NULL);
    /* '^' and '~', '-' and '\r' differ in the bit that case does */
    CHECK(chd_request_find_header(&r, "a~") == NULL);
    CHECK(chd_request_find_header(&r, "A~") == NULL);
    CHECK(chd_request_find_header(&r, "x\ry") == NULL);
    CHECK(chd_request_find_header(&r, "x-y") != NULL);
    CHECK(chd_request_find_header(&r, "HOST") != NULL);
    chd_request_free(&r);
}

/* Feeds a request that must fail, and checks the status and reason. */
static void expect_reason(const char *input, int status, const char *reason, const char *file,
                          int line)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, input);
    if (r.phase != CHD_REQ_ERROR || r.error_status != status || !r.error_reason ||
        strcmp(r.error_reason, reason) != 0)
        unit_fail(file, line, "phase %d status %d reason \"%s\", want %d \"%s\"", r.phase,
                  r.error_status, r.error_reason ? r.error_reason : "-", status, reason);
    chd_request_free(&r);
}
#define EXPECT_REASON(input, status, reason)                                                       \
    expect_reason((input), (status), (reason), __FILE__, __LINE__)

TEST(field_checks_report_the_first_problem)
{
    /* a bad name anywhere is reported before the framing fields */
    EXPECT_REASON("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nX Y: z\r\n\r\n", 400,
                  "invalid header field name");
    EXPECT_REASON("GET / HTTP/1.1\r\nX Y: z\r\n\r\n", 400, "invalid header field name");
    /* then a Content-Length that is not 1*DIGIT (19 digits are too many),
     * before the Host count */
    EXPECT_REASON("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0000000000000000001\r\n"
                  "\r\n",
                  400, "invalid Content-Length");
    EXPECT_REASON("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host field");
    EXPECT_REASON("GET / HTTP/1.1\r\n\r\n", 400, "no Host field");
    EXPECT_REASON("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                  "transfer coding not implemented");
    EXPECT_REASON("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400,
                  "invalid Transfer-Encoding");
}

TEST(the_first_expect_field_decides)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nEXPECT: 100-Continue\r\nExpect: x\r\n"
             "Content-Length: 1\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(r.expect_continue);
    chd_request_reset(&r);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nExpect: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 1\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_BODY);
    CHECK(!r.expect_continue);
    chd_request_free(&r);
}

TEST(tchar_is_rfc9110_tchar)
{
    for (int c = 0; c < 256; c++) {
        bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c && strchr("!#$%&'*+-.^_`|~", c));
        if (chd_is_tchar((unsigned char)c) != want)
            unit_fail(__FILE__, __LINE__, "chd_is_tchar(0x%02x): got %d", c, !want);
    }
}

TEST(method_names)
{
    const char *methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char req[64];
        snprintf(req, sizeof req, "%s /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                 methods[i]);
        chd_request_t r;
        chd_request_init(&r, NULL);
        feed(&r, req);
        CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
        CHECK_EQ_STR(chd_request_method(&r), methods[i]);
        chd_request_free(&r);
    }
}

TEST(request_targets)
{
    const char *targets[] = {"*", "http://example.com/p?q=1", "/%7Euser/a%20b?x=%41"};
    const char *methods[] = {"OPTIONS", "GET", "GET"};
    for (size_t i = 0; i < 3; i++) {
        char req[128];
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", methods[i], targets[i]);
        chd_request_t r;
        chd_request_init(&r, NULL);
        feed(&r, req);
        CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
        CHECK_URL(&r, targets[i]);
        chd_request_free(&r);
    }
}

TEST(reset_after_error_parses_again)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "BOGUS\x01 / HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    chd_request_reset(&r);
    CHECK_EQ_INT(r.phase, CHD_REQ_IDLE);
    CHECK_EQ_INT(r.error_status, 0);
    CHECK(r.error_reason == NULL);
    const char *req = "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_EQ_INT(feed(&r, req), strlen(req));
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK_URL(&r, "/ok");
    chd_request_free(&r);
}

TEST(reset_releases_big_buffers)
{
    /* a big body then a small request: reset should not pin the memory */
    size_t size = 1024 * 1024;
    char head[128];
    int hlen = snprintf(head, sizeof head,
                        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", size);
    char *body = calloc(1, size);
    chd_request_t r;
    chd_request_init(&r, NULL);
    chd_request_feed(&r, head, (size_t)hlen);
    chd_request_feed(&r, body, size);
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    CHECK(r.body.cap >= size);
    chd_request_reset(&r);
    CHECK(r.body.cap <= 64 * 1024);
    feed(&r, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_DONE);
    chd_request_free(&r);
    free(body);
}

TEST(upgrade_is_not_kept_alive)
{
    chd_request_t r;
    chd_request_init(&r, NULL);
    feed(&r, "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    /* either served as a plain request that closes, or refused */
    if (r.phase == CHD_REQ_DONE)
        CHECK(!r.keep_alive);
    else
        CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    chd_request_free(&r);
}

/* ---- issue 10: methods, targets, trailers, once-only fields ----------- */

/* Feeds input whole and returns the request's status: 0 when done, the
 * error status, or -1 when it wants more. The request is left to *r. */
static int status_of(chd_request_t *r, const char *input)
{
    chd_request_init(r, NULL);
    feed(r, input);
    if (r->phase == CHD_REQ_DONE)
        return 0;
    return r->phase == CHD_REQ_ERROR ? r->error_status : -1;
}

TEST(unknown_token_methods_get_501)
{
    /* RFC 9110 9.1: any token is a method; one we do not implement is 501. */
    EXPECT_ERROR_BOTH("FOO / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("GETX / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("get / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("GE / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("M-SEARCHES * HTTP/1.1\r\nHost: h\r\n\r\n", 400); /* "*": OPTIONS only */
    EXPECT_ERROR_BOTH("M-SEARCHES / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("PROPFINDX / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("1!#$%&'*+-.^_`|~ / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("\r\n\r\nBREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", 501);
    EXPECT_ERROR_BOTH("AVERYLONGMETHODNAMETHATNOPARSERKNOWSOFATALL / HTTP/1.1\r\nHost: h\r\n\r\n",
                      501);
    /* the rest of the head is checked as for any method: its 400 wins */
    EXPECT_ERROR_BOTH("FOO / HTTP/1.1\r\n\r\n", 400);                       /* no Host */
    EXPECT_ERROR_BOTH("FOO / HTTP/1.1\r\nHost: h\r\nX A: b\r\n\r\n", 400);   /* bad name */
    EXPECT_ERROR_BOTH("FOO /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);        /* bad target */
    EXPECT_ERROR_BOTH("FOO / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("FOO example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("FOO / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    /* a method that is no token stays 400 */
    EXPECT_ERROR_BOTH("FO(O / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("FOO\x80 / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    /* split at every byte */
    const char *req = "\r\nFOOBAR /x HTTP/1.1\r\nHost: h\r\n\r\n";
    for (size_t cut = 1; cut < strlen(req); cut++) {
        chd_request_t r;
        chd_request_init(&r, NULL);
        size_t a = chd_request_feed(&r, req, cut);
        chd_request_feed(&r, req + a, strlen(req) - a);
        if (r.phase != CHD_REQ_ERROR || r.error_status != 501)
            unit_fail(__FILE__, __LINE__, "cut %zu: phase %d status %d", cut, r.phase,
                      r.error_status);
        CHECK_EQ_STR(chd_request_line_method(&r), "FOOBAR");
        chd_request_free(&r);
    }
}

TEST(known_methods_keep_working)
{
    /* what http-parser knows, WebDAV and friends included */
    const char *methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
                             "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
                             "SEARCH", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH",
                             "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK",
                             "UNLINK", "BIND", "REBIND", "UNBIND", "ACL", "SOURCE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char req[96];
        snprintf(req, sizeof req, "%s /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                 methods[i]);
        expect_ok(req, strlen(req), __FILE__, __LINE__);
        chd_request_t r;
        CHECK_EQ_INT(status_of(&r, req), 0);
        CHECK_EQ_STR(chd_request_method(&r), methods[i]);
        CHECK_EQ_STR(chd_request_line_method(&r), methods[i]);
        chd_request_free(&r);
    }
}

TEST(trailers_never_become_headers)
{
    /* RFC 9110 6.5.1: trailers are not merged into the head's fields; a
     * trailer Host or Content-Length must not get past the head checks. */
    const char *req = "POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n0\r\nHost: evil\r\nContent-Type: a/b\r\nX-T: 1\r\n\r\n";
    chd_request_t r;
    CHECK_EQ_INT(status_of(&r, req), 0);
    CHECK_EQ_INT(r.nheaders, 2);
    CHECK_HEADER(&r, 0, "Host", "h");
    CHECK(chd_request_find_header(&r, "Content-Type") == NULL);
    CHECK(chd_request_find_header(&r, "X-T") == NULL);
    CHECK_BODY(&r, "abc");
    CHECK_EQ_INT(r.ntrailers, 3);
    chd_request_free(&r);
    expect_ok(req, strlen(req), __FILE__, __LINE__);
    /* framing fields have no place there (RFC 9110 6.5.1) */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nContent-Length: 9\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\ntransfer-encoding: chunked\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nTransfer-Encoding-X: 1\r\n\r\n", 400);
    EXPECT_OK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              "0\r\nContent-Lengthy: 9\r\nTransfer-Encodin: x\r\n\r\n");
    /* their syntax is still checked */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nX: \x01\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nX T: 1\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nX : 1\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nX(: 1\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\nNoColon\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\n: x\r\n\r\n", 400);
    /* and counted against the field limit */
    chd_limits_t limits = chd_default_limits;
    limits.fields = 3;
    chd_request_init(&r, &limits);
    feed(&r, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    CHECK_EQ_INT(r.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(r.error_status, 431);
    chd_request_free(&r);
}

TEST(once_only_fields)
{
    /* RFC 9110 singletons whose second copy changes the meaning */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\n"
                      "Content-Type: c/d\r\nContent-Length: 0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\ncontent-type: a/b\r\n"
                      "CONTENT-TYPE: a/b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic a\r\n"
                      "Authorization: Basic b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nProxy-Authorization: a\r\n"
                      "X: y\r\nproxy-authorization: a\r\n\r\n", 400);
    chd_request_t r;
    CHECK_EQ_INT(status_of(&r, "GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\n"
                               "Authorization: b\r\nProxy-Authorization: c\r\n"
                               "Cookie: a=1\r\nCookie: b=2\r\nAccept: x\r\nAccept: y\r\n\r\n"),
                 0);
    chd_request_free(&r);
    CHECK_EQ_INT(status_of(&r, "GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\n"
                               "Content-Type: b\r\n\r\n"),
                 400);
    CHECK_EQ_STR(r.error_reason, "more than one Content-Type field");
    chd_request_free(&r);
}

/* Expects req to be accepted with a target of the given form. */
static void expect_target(const char *req, chd_target_form_t form, const char *file, int line)
{
    chd_request_t r;
    int status = status_of(&r, req);
    if (status != 0 || r.target.form != form)
        unit_fail(file, line, "status %d (%s) form %d, want 0 form %d", status,
                  r.error_reason ? r.error_reason : "-", (int)r.target.form, (int)form);
    chd_request_free(&r);
    expect_ok(req, strlen(req), file, line);
}
#define EXPECT_TARGET(req, form) expect_target((req), (form), __FILE__, __LINE__)

TEST(request_target_forms_suit_the_method)
{
    EXPECT_TARGET("GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n", CHD_TARGET_ORIGIN);
    EXPECT_TARGET("GET http://example.com:8080/p?q HTTP/1.1\r\nHost: h\r\n\r\n",
                  CHD_TARGET_ABSOLUTE);
    EXPECT_TARGET("GET HTTPS://[2001:db8::1]/ HTTP/1.1\r\nHost: h\r\n\r\n", CHD_TARGET_ABSOLUTE);
    EXPECT_TARGET("GET http://a?x HTTP/1.1\r\nHost: h\r\n\r\n", CHD_TARGET_ABSOLUTE);
    EXPECT_TARGET("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", CHD_TARGET_ASTERISK);
    EXPECT_TARGET("OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", CHD_TARGET_ABSOLUTE);
    /* asterisk-form only with OPTIONS, and only "*" */
    EXPECT_ERROR_BOTH("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST * HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET *foo HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    /* absolute-form: a scheme, then an authority that is host[:port] */
    EXPECT_ERROR_BOTH("PUT s://]x/: HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://h:99999/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://h:/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://h:8x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://[zz]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http://a]b/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET http:/a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET h2+x://a/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    /* authority-form: CONNECT only, which we refuse with 501 */
    EXPECT_ERROR_BOTH("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("CONNECT [::1]:443 HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    EXPECT_ERROR_BOTH("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("CONNECT http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("CONNECT h:80/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(absolute_form_records_its_authority)
{
    chd_request_t r;
    CHECK_EQ_INT(status_of(&r, "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n"),
                 0);
    CHECK_EQ_INT(r.target.form, CHD_TARGET_ABSOLUTE);
    CHECK_EQ_INT(r.target.scheme_len, 4);
    CHECK_MEM(chd_request_url(&r) + r.target.host_off, r.target.host_len, "example.com");
    CHECK_MEM(chd_request_url(&r) + r.target.host_off, r.target.authority_len,
              "example.com:8080");
    CHECK_EQ_INT(r.target.port, 8080);
    chd_request_free(&r);
    CHECK_EQ_INT(status_of(&r, "GET http://[::1]?q HTTP/1.1\r\nHost: other\r\n\r\n"), 0);
    CHECK_MEM(chd_request_url(&r) + r.target.host_off, r.target.host_len, "[::1]");
    CHECK_EQ_INT(r.target.port, -1);
    chd_request_free(&r);
}

TEST(control_bytes_and_te_lookalikes_in_the_head)
{
    /* http-parser lets a control byte through as a value's first byte */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: \x1e\xfe\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX:\x7f\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400);
    EXPECT_OK("GET / HTTP/1.1\r\nHost: h\r\nX: \xfe\x80 a\r\n\r\n");
    /* ...does not see "chunked" in "chunked," or "chunked\t" */
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,\r\n\r\n"
                      "0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\t\r\n\r\n"
                      "0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked\r\n\r\n"
                      "0\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip,\tchunked\r\n\r\n"
                      "0\r\n\r\n", 400);
    EXPECT_OK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  chunked  \r\n\r\n0\r\n\r\n");
    /* ...and takes a name that starts with Transfer-Encoding for it */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding0: \r\n\r\n", 400);
    EXPECT_ERROR_BOTH("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                      "Transfer-Encodingx: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST(host_field_must_be_an_authority)
{
    /* RFC 9112 3.2: 400 for a Host field with an invalid value */
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
    EXPECT_ERROR_BOTH("GET / HTTP/1.1\r\nHost: h:70000\r\n\r\n", 400);
    EXPECT_OK("GET / HTTP/1.0\r\nHost: h,i\r\n\r\n"); /* "," is a sub-delim: a reg-name */
    const char *good[] = {"h", "example.com:80", "[::1]:8080", "127.0.0.1", "a%41b", "x_y-z.~"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char req[96];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
        expect_ok(req, strlen(req), __FILE__, __LINE__);
    }
    EXPECT_OK("GET / HTTP/1.1\r\nHost:\r\n\r\n"); /* empty: no authority */
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(simple_get);
    RUN(phases_follow_the_message);
    RUN(headers_are_collected_with_case_kept);
    RUN(empty_value_between_fields_keeps_them_apart);
    RUN(one_byte_feeds);
    RUN(irregular_splits);
    RUN(pipelined_requests);
    RUN(pipelined_after_chunked_body);
    RUN(leading_empty_lines_are_ignored);
    RUN(content_length_body);
    RUN(large_body_in_pieces);
    RUN(chunked_body_decoded);
    RUN(chunked_empty_body);
    RUN(chunk_extension_bws_may_start_with_a_tab);
    RUN(expect_continue);
    RUN(keep_alive_rules);
    RUN(version_fields);
    RUN(unsupported_versions_get_505);
    RUN(malformed_request_line_gets_400);
    RUN(malformed_fields_get_400);
    RUN(misspelt_protocol_name_gets_400);
    RUN(whitespace_in_field_name_gets_400);
    RUN(whitespace_before_first_field_gets_400);
    RUN(chunk_data_must_end_with_crlf);
    RUN(trailing_whitespace_is_not_part_of_values);
    RUN(header_count_limit);
    RUN(request_line_limit);
    RUN(field_size_limit);
    RUN(body_limit);
    RUN(ambiguous_framing_is_refused);
    RUN(transfer_coding_other_than_chunked_is_refused);
    RUN(bad_chunks_are_errors);
    RUN(host_is_required_once_in_http11);
    RUN(content_length_is_digits_and_once);
    RUN(transfer_encoding_rules);
    RUN(bare_lf_in_head_gets_400);
    RUN(bare_cr_in_head_gets_400);
    RUN(nul_in_head_gets_400);
    RUN(obs_fold_gets_400);
    RUN(request_line_shape);
    RUN(leading_crlfs_are_ignored);
    RUN(leading_bare_cr_or_lf_gets_400);
    RUN(body_bytes_are_not_head_checked);
    RUN(strict_chunk_framing_through_the_request);
    RUN(custom_limits);
    RUN(find_header_is_case_insensitive);
    RUN(find_header_folds_letters_only);
    RUN(field_checks_report_the_first_problem);
    RUN(the_first_expect_field_decides);
    RUN(tchar_is_rfc9110_tchar);
    RUN(method_names);
    RUN(request_targets);
    RUN(reset_after_error_parses_again);
    RUN(reset_releases_big_buffers);
    RUN(upgrade_is_not_kept_alive);
    RUN(unknown_token_methods_get_501);
    RUN(known_methods_keep_working);
    RUN(trailers_never_become_headers);
    RUN(once_only_fields);
    RUN(request_target_forms_suit_the_method);
    RUN(absolute_form_records_its_authority);
    RUN(host_field_must_be_an_authority);
    RUN(control_bytes_and_te_lookalikes_in_the_head);
    return unit_finish();
}
