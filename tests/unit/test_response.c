/* Unit tests for child/chd_response.h: status, fields and framing. */
#include "chd_response.h"
#include "unit.h"

#include <errno.h>
#include <regex.h>
#include <time.h>

/* Parses a real request into req (which the caller frees). */
static void make_request(chd_request_t *req, const char *raw)
{
    chd_request_init(req, NULL);
    chd_request_feed(req, raw, strlen(raw));
    if (req->phase != CHD_REQ_DONE)
        unit_fail(__FILE__, __LINE__, "request did not parse: %s", raw);
}

static const char *GET11 = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
static const char *GET10 = "GET / HTTP/1.0\r\n\r\n";
static const char *GET10_KA = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
static const char *GET11_CLOSE = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
static const char *HEAD11 = "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";

/* The head as a NUL-terminated string (static buffer, for checks). */
static const char *head_text(const chd_response_t *r)
{
    static char text[8192];
    size_t n = cmn_buf_unread(&r->head);
    if (n >= sizeof text)
        n = sizeof text - 1;
    memcpy(text, cmn_buf_head(&r->head), n);
    text[n] = '\0';
    return text;
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

#define CHECK_HAS(r, s)                                                                            \
    do {                                                                                           \
        const char *t_ = head_text(r);                                                             \
        if (occurrences(t_, (s)) != 1) {                                                           \
            unit_fail(__FILE__, __LINE__, "head should hold \"%s\" once; head:", #s);             \
            printf("       ");                                                                     \
            unit_print_bytes(t_, strlen(t_));                                                      \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define CHECK_LACKS(r, s)                                                                          \
    do {                                                                                           \
        const char *t_ = head_text(r);                                                             \
        if (strstr(t_, (s)) != NULL) {                                                             \
            unit_fail(__FILE__, __LINE__, "head should not hold \"%s\"; head:", #s);              \
            printf("       ");                                                                     \
            unit_print_bytes(t_, strlen(t_));                                                      \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

static int set_status(chd_response_t *r, const char *s) { return chd_response_set_status(r, s, strlen(s)); }

static int add(chd_response_t *r, const char *name, const char *value)
{
    return chd_response_add_header(r, name, strlen(name), value, strlen(value));
}

/* Checks the invariants of any finished head. */
static void check_well_formed(const chd_response_t *r, const char *file, int line)
{
    const char *t = head_text(r);
    size_t len = strlen(t);
    if (!r->head_finished)
        unit_fail(file, line, "head_finished not set");
    if (strncmp(t, "HTTP/1.1 ", 9) != 0)
        unit_fail(file, line, "head does not start with HTTP/1.1");
    if (len < 4 || strcmp(t + len - 4, "\r\n\r\n") != 0 || occurrences(t, "\r\n\r\n") != 1)
        unit_fail(file, line, "head does not end with one CRLF CRLF");
    /* every line ends in CRLF: no bare LF */
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r'))
            unit_fail(file, line, "bare LF at %zu", i);
    if (occurrences(t, "\r\nDate: ") != 1 || occurrences(t, "\r\nServer: ") != 1)
        unit_fail(file, line, "Date and Server should appear once each");
    if (r->chunked && r->content_length >= 0)
        unit_fail(file, line, "both chunked and a Content-Length");
    if (r->chunked && r->no_body)
        unit_fail(file, line, "chunked on a response without a body");
}
#define CHECK_WELL_FORMED(r) check_well_formed((r), __FILE__, __LINE__)

/* A finished response for request `raw`, status, one optional field. */
static void respond(chd_response_t *resp, const char *raw, const char *status, const char *name,
                    const char *value, int64_t known_length, bool draining)
{
    chd_request_t req;
    make_request(&req, raw);
    chd_response_init(resp);
    CHECK_EQ_INT(set_status(resp, status), 0);
    if (name)
        CHECK_EQ_INT(add(resp, name, value), 0);
    chd_response_finish_head(resp, &req, known_length, draining);
    chd_request_free(&req);
}

TEST(set_status_valid)
{
    chd_response_t r;
    chd_response_init(&r);
    CHECK_EQ_INT(r.status, 0);
    CHECK_EQ_INT(r.content_length, -1);
    CHECK_EQ_INT(set_status(&r, "200 OK"), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 200 OK\r\n");
    CHECK_EQ_INT(set_status(&r, "404 Not Found"), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 404 Not Found\r\n");
    CHECK_EQ_INT(set_status(&r, "599 "), 0); /* an empty reason is allowed */
    CHECK_EQ_INT(r.status, 599);
    CHECK_EQ_INT(set_status(&r, "100 Continue"), 0);
    CHECK_EQ_INT(r.status, 100);
    chd_response_free(&r);
}

TEST(set_status_invalid)
{
    const char *bad[] = {"20 OK", "abc",     "",         "200",           "200OK",   "2000 OK",
                         "2x0 OK", "099 Low", "-20 OK",   "200 OK\r\nX: y", "200 O\nK", " 200 OK"};
    chd_response_t r;
    chd_response_init(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = set_status(&r, bad[i]);
        if (rc != -EINVAL)
            unit_fail(__FILE__, __LINE__, "set_status(\"%s\") = %d, want -EINVAL", bad[i], rc);
    }
    CHECK_EQ_INT(chd_response_set_status(&r, "200 O\0K", 7), -EINVAL);
    CHECK_EQ_INT(chd_response_set_status(&r, "200 OK\r", 7), -EINVAL);
    CHECK_EQ_INT(r.status, 0); /* nothing was set */
    chd_response_free(&r);
}

TEST(add_header_valid)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "Content-Type", "text/plain; charset=utf-8"), 0);
    CHECK_EQ_INT(add(&r, "X-Token!#$%&'*+-.^_`|~09", "v"), 0);
    CHECK_EQ_INT(add(&r, "X-Empty", ""), 0);
    CHECK_EQ_INT(add(&r, "X-Latin1", "caf\xe9 \t tab"), 0);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 200 OK\r\n"
                                "Content-Type: text/plain; charset=utf-8\r\n"
                                "X-Token!#$%&'*+-.^_`|~09: v\r\n"
                                "X-Empty: \r\n"
                                "X-Latin1: caf\xe9 \t tab\r\n");
    chd_response_free(&r);
}

TEST(add_header_rejects_bad_values)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    const char *before = "HTTP/1.1 200 OK\r\n";
    CHECK_EQ_INT(add(&r, "X-A", "a\rb"), -EINVAL);
    CHECK_EQ_INT(add(&r, "X-A", "a\nb"), -EINVAL);
    CHECK_EQ_INT(add(&r, "X-A", "a\r\nSet-Cookie: evil=1"), -EINVAL);
    CHECK_EQ_INT(add(&r, "X-A", "trailing\n"), -EINVAL);
    CHECK_EQ_INT(chd_response_add_header(&r, "X-A", 3, "a\0b", 3), -EINVAL);
    CHECK_EQ_STR(head_text(&r), before); /* nothing added */
    chd_response_free(&r);
}

TEST(add_header_rejects_bad_names)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    const char *bad[] = {"",       "Bad Name", "X:Y",     "X-A\r",  "X-A\n", "(paren)",
                         "X\"Q",   "a/b",      "X@Y",     "X\tY",   "X-\xc3\xa9", "{x}",
                         "X-A ",   " X-A",     "X=Y",     "X;Y",    "X,Y",   "[x]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = add(&r, bad[i], "v");
        if (rc != -EINVAL)
            unit_fail(__FILE__, __LINE__, "add_header(\"%s\") = %d, want -EINVAL", bad[i], rc);
    }
    CHECK_EQ_INT(chd_response_add_header(&r, "X\0Y", 3, "v", 1), -EINVAL);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 200 OK\r\n");
    chd_response_free(&r);
}

TEST(content_length_from_app)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "Content-Length", "42"), 0);
    CHECK_EQ_INT(r.content_length, 42);
    CHECK_HAS(&r, "Content-Length: 42\r\n");
    chd_response_free(&r);

    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "content-length", "0"), 0);
    CHECK_EQ_INT(r.content_length, 0);
    chd_response_free(&r);

    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "CONTENT-LENGTH", "123456789012"), 0);
    CHECK_EQ_INT(r.content_length, 123456789012LL);
    chd_response_free(&r);

    const char *bad[] = {"abc", "", "-1", "1.5", "12abc", " 42", "4 2", "0x10", "+5",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        chd_response_init(&r);
        set_status(&r, "200 OK");
        int rc = add(&r, "Content-Length", bad[i]);
        if (rc != -EINVAL)
            unit_fail(__FILE__, __LINE__, "Content-Length \"%s\" = %d, want -EINVAL", bad[i], rc);
        CHECK_EQ_INT(r.content_length, -1);
        CHECK_LACKS(&r, "Content-Length");
        chd_response_free(&r);
    }
}

TEST(conflicting_content_lengths_are_not_both_sent)
{
    /* An app that sets Content-Length twice with different values must not
     * produce a head with two conflicting lengths (RFC 9110 8.6: such a
     * message is invalid; the body writer would follow only one of them).
     * Refusing the second (-EINVAL, the app gets a 500) or keeping one
     * value are both acceptable. */
    chd_response_t r;
    chd_request_t req;
    make_request(&req, GET11);
    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "Content-Length", "5"), 0);
    int rc = add(&r, "Content-Length", "7");
    CHECK(rc == 0 || rc == -EINVAL);
    chd_response_finish_head(&r, &req, -1, false);
    CHECK_EQ_INT(occurrences(head_text(&r), "Content-Length:"), 1);
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %lld\r\n", (long long)r.content_length);
    CHECK(strstr(head_text(&r), want) != NULL);
    chd_response_free(&r);
    chd_request_free(&req);
}

TEST(hop_by_hop_fields_are_dropped)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    CHECK_EQ_INT(add(&r, "Transfer-Encoding", "chunked"), 0);
    CHECK_EQ_INT(add(&r, "Keep-Alive", "timeout=5"), 0);
    CHECK_EQ_INT(add(&r, "Proxy-Connection", "keep-alive"), 0);
    CHECK_EQ_INT(add(&r, "TE", "trailers"), 0);
    CHECK_EQ_INT(add(&r, "Trailer", "X-Checksum"), 0);
    CHECK_EQ_INT(add(&r, "upgrade", "websocket"), 0);
    CHECK_EQ_INT(add(&r, "Connection", "keep-alive"), 0);
    CHECK_EQ_INT(add(&r, "X-Kept", "yes"), 0);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 200 OK\r\nX-Kept: yes\r\n");
    CHECK(!r.close);
    CHECK(!r.chunked);
    chd_response_free(&r);
}

TEST(connection_close_from_app_is_honoured)
{
    const char *values[] = {"close", "Close", "keep-alive, close", "CLOSE"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        chd_response_t r;
        respond(&r, GET11, "200 OK", "Connection", values[i], 5, false);
        CHECK(r.close);
        CHECK_HAS(&r, "\r\nConnection: close\r\n");
        CHECK_EQ_INT(occurrences(head_text(&r), "Connection:"), 1);
        CHECK_WELL_FORMED(&r);
        chd_response_free(&r);
    }
}

TEST(app_content_length_is_kept)
{
    chd_response_t r;
    chd_request_t req;
    make_request(&req, GET11);
    chd_response_init(&r);
    set_status(&r, "200 OK");
    add(&r, "Content-Length", "5");
    chd_response_finish_head(&r, &req, 12, false); /* the app's value wins */
    CHECK_WELL_FORMED(&r);
    CHECK_EQ_INT(r.content_length, 5);
    CHECK_HAS(&r, "\r\nContent-Length: 5\r\n");
    CHECK_EQ_INT(occurrences(head_text(&r), "Content-Length"), 1);
    CHECK(!r.chunked);
    CHECK(!r.close);
    CHECK(!r.no_body);
    CHECK_LACKS(&r, "Transfer-Encoding");
    CHECK_LACKS(&r, "Connection:"); /* 1.1 keep-alive is the default */
    chd_response_free(&r);
    chd_request_free(&req);
}

TEST(known_length_adds_content_length)
{
    chd_response_t r;
    respond(&r, GET11, "200 OK", "Content-Type", "text/plain", 12, false);
    CHECK_WELL_FORMED(&r);
    CHECK_EQ_INT(r.content_length, 12);
    CHECK_HAS(&r, "\r\nContent-Length: 12\r\n");
    CHECK(!r.chunked);
    CHECK(!r.close);
    chd_response_free(&r);

    respond(&r, GET11, "200 OK", NULL, NULL, 0, false);
    CHECK_WELL_FORMED(&r);
    CHECK_EQ_INT(r.content_length, 0);
    CHECK_HAS(&r, "\r\nContent-Length: 0\r\n");
    chd_response_free(&r);

    /* HTTP/1.0 with a known length keeps nothing open but needs no close */
    respond(&r, GET10_KA, "200 OK", NULL, NULL, 3, false);
    CHECK_WELL_FORMED(&r);
    CHECK_HAS(&r, "\r\nContent-Length: 3\r\n");
    chd_response_free(&r);
}

TEST(http11_without_length_is_chunked)
{
    chd_response_t r;
    respond(&r, GET11, "200 OK", "Content-Type", "text/plain", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.chunked);
    CHECK(!r.close);
    CHECK(!r.no_body);
    CHECK_HAS(&r, "\r\nTransfer-Encoding: chunked\r\n");
    CHECK_LACKS(&r, "Content-Length");
    CHECK_LACKS(&r, "Connection:");
    chd_response_free(&r);
}

TEST(http10_without_length_closes)
{
    chd_response_t r;
    respond(&r, GET10, "200 OK", NULL, NULL, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(!r.chunked);
    CHECK(r.close);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    CHECK_LACKS(&r, "Transfer-Encoding");
    CHECK_LACKS(&r, "Content-Length");
    chd_response_free(&r);

    /* even when the client asked to keep the connection */
    respond(&r, GET10_KA, "200 OK", NULL, NULL, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK(!r.chunked);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    CHECK_LACKS(&r, "keep-alive");
    chd_response_free(&r);
}

TEST(head_request_has_no_body)
{
    chd_response_t r;
    respond(&r, HEAD11, "200 OK", NULL, NULL, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.no_body);
    CHECK(!r.chunked);
    CHECK(!r.close);
    CHECK_LACKS(&r, "Transfer-Encoding");
    chd_response_free(&r);

    /* the app's Content-Length describes the GET body: kept */
    respond(&r, HEAD11, "200 OK", "Content-Length", "1234", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.no_body);
    CHECK_HAS(&r, "\r\nContent-Length: 1234\r\n");
    chd_response_free(&r);
}

TEST(no_content_and_not_modified_have_no_body)
{
    chd_response_t r;
    respond(&r, GET11, "204 No Content", NULL, NULL, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.no_body);
    CHECK(!r.chunked);
    CHECK(!r.close);
    CHECK_LACKS(&r, "Transfer-Encoding");
    CHECK_LACKS(&r, "Content-Length");
    chd_response_free(&r);

    /* a 204 never carries Content-Length (RFC 9110 8.6), even a known 0 */
    respond(&r, GET11, "204 No Content", NULL, NULL, 0, false);
    CHECK_WELL_FORMED(&r);
    CHECK_LACKS(&r, "Content-Length");
    chd_response_free(&r);

    respond(&r, GET11, "304 Not Modified", "ETag", "\"x\"", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.no_body);
    CHECK(!r.chunked);
    CHECK(!r.close);
    CHECK_LACKS(&r, "Transfer-Encoding");
    CHECK_LACKS(&r, "Content-Length");
    chd_response_free(&r);

    respond(&r, GET11, "304 Not Modified", NULL, NULL, 10, false);
    CHECK_WELL_FORMED(&r);
    CHECK_LACKS(&r, "Content-Length");
    chd_response_free(&r);

    /* HTTP/1.0 304 without a length need not close either */
    respond(&r, GET10_KA, "304 Not Modified", NULL, NULL, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(!r.close);
    CHECK_HAS(&r, "\r\nConnection: keep-alive\r\n");
    chd_response_free(&r);
}

TEST(http10_keep_alive_is_announced)
{
    chd_response_t r;
    respond(&r, GET10_KA, "200 OK", "Content-Length", "2", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(!r.close);
    CHECK_HAS(&r, "\r\nConnection: keep-alive\r\n");
    CHECK_LACKS(&r, "close");
    chd_response_free(&r);

    /* plain 1.0 (no keep-alive asked): the connection closes */
    respond(&r, GET10, "200 OK", "Content-Length", "2", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    chd_response_free(&r);
}

TEST(client_close_and_draining_close)
{
    chd_response_t r;
    respond(&r, GET11_CLOSE, "200 OK", "Content-Length", "2", -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    chd_response_free(&r);

    respond(&r, GET11, "200 OK", "Content-Length", "2", -1, true);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    chd_response_free(&r);

    /* draining an HTTP/1.1 response of unknown length: still chunked */
    respond(&r, GET11, "200 OK", NULL, NULL, -1, true);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK(r.chunked);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    chd_response_free(&r);

    respond(&r, GET10_KA, "200 OK", "Content-Length", "2", -1, true);
    CHECK_WELL_FORMED(&r);
    CHECK(r.close);
    CHECK_HAS(&r, "\r\nConnection: close\r\n");
    CHECK_LACKS(&r, "keep-alive");
    chd_response_free(&r);
}

TEST(date_and_server_added_unless_given)
{
    chd_response_t r;
    respond(&r, GET11, "200 OK", NULL, NULL, 0, false);
    CHECK_WELL_FORMED(&r);
    CHECK_HAS(&r, "\r\nServer: spawning/");
    const char *t = head_text(&r);
    const char *date = strstr(t, "\r\nDate: ");
    CHECK(date != NULL);
    if (date) {
        date += 8;
        const char *end = strstr(date, "\r\n");
        CHECK(end != NULL);
        if (end) {
            CHECK_EQ_INT(end - date, 29);
            CHECK(strncmp(end - 4, " GMT", 4) == 0);
        }
    }
    chd_response_free(&r);

    respond(&r, GET11, "200 OK", "Date", "Sun, 06 Nov 1994 08:49:37 GMT", 0, false);
    CHECK_WELL_FORMED(&r);
    CHECK_HAS(&r, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
    CHECK(r.app_date);
    chd_response_free(&r);

    respond(&r, GET11, "200 OK", "server", "MyApp/2", 0, false);
    CHECK_EQ_INT(occurrences(head_text(&r), "erver: "), 1);
    CHECK_HAS(&r, "\r\nserver: MyApp/2\r\n");
    CHECK_LACKS(&r, "spawning");
    CHECK(r.app_server);
    chd_response_free(&r);
}

TEST(whole_head_layout)
{
    chd_response_t r;
    chd_request_t req;
    make_request(&req, GET11);
    chd_response_init(&r);
    set_status(&r, "201 Created");
    add(&r, "Location", "/new");
    add(&r, "Content-Length", "0");
    chd_response_finish_head(&r, &req, -1, false);
    regex_t re;
    CHECK_EQ_INT(regcomp(&re,
                         "^HTTP/1\\.1 201 Created\r\n"
                         "Location: /new\r\n"
                         "Content-Length: 0\r\n"
                         /* Server and Date, in either order */
                         "((Server: spawning/[0-9.]+\r\n)|"
                         "(Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                         "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT\r\n)){2}"
                         "\r\n$",
                         REG_EXTENDED | REG_NOSUB),
                 0);
    const char *t = head_text(&r);
    if (regexec(&re, t, 0, NULL, 0) != 0) {
        unit_fail(__FILE__, __LINE__, "unexpected head:");
        unit_print_bytes(t, strlen(t));
        printf("\n");
    }
    regfree(&re);
    chd_response_free(&r);
    chd_request_free(&req);
}

TEST(reset_forgets_status_and_fields)
{
    chd_response_t r;
    chd_response_init(&r);
    set_status(&r, "200 OK");
    add(&r, "X-First", "1");
    add(&r, "Content-Length", "10");
    add(&r, "Date", "x");
    add(&r, "Connection", "close");
    chd_response_reset(&r);
    CHECK_EQ_INT(r.status, 0);
    CHECK_EQ_INT(r.content_length, -1);
    CHECK(!r.close);
    CHECK(!r.app_date);
    CHECK_EQ_INT(cmn_buf_unread(&r.head), 0);
    CHECK_EQ_INT(set_status(&r, "500 Internal Server Error"), 0);
    CHECK_EQ_STR(head_text(&r), "HTTP/1.1 500 Internal Server Error\r\n");
    chd_request_t req;
    make_request(&req, GET11);
    chd_response_finish_head(&r, &req, -1, false);
    CHECK_WELL_FORMED(&r);
    CHECK_LACKS(&r, "X-First");
    CHECK(r.chunked);
    chd_response_free(&r);
    chd_request_free(&req);
}

TEST(chunk_line)
{
    char buf[20];
    CHECK_EQ_INT(chd_response_chunk_line(buf, 0), 3);
    CHECK_MEM(buf, 3, "0\r\n");
    CHECK_EQ_INT(chd_response_chunk_line(buf, 26), 4);
    CHECK_MEM(buf, 4, "1a\r\n");
    CHECK_EQ_INT(chd_response_chunk_line(buf, 4096), 6);
    CHECK_MEM(buf, 6, "1000\r\n");
    CHECK_EQ_INT(chd_response_chunk_line(buf, 0xabcdef), 8);
    CHECK_MEM(buf, 8, "abcdef\r\n");
    CHECK_EQ_INT(chd_response_chunk_line(buf, SIZE_MAX), 18);
    CHECK_MEM(buf, 18, "ffffffffffffffff\r\n");
}

TEST(http_date_format)
{
    char buf[30];
    memset(buf, 'X', sizeof buf);
    time_t before = time(NULL);
    chd_http_date(buf);
    time_t after = time(NULL);
    CHECK_EQ_INT(buf[29], '\0');
    CHECK_EQ_INT(strlen(buf), 29);
    CHECK(strcmp(buf + 25, " GMT") == 0);
    regex_t re;
    regcomp(&re,
            "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
            "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
            "[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT$",
            REG_EXTENDED | REG_NOSUB);
    if (regexec(&re, buf, 0, NULL, 0) != 0)
        unit_fail(__FILE__, __LINE__, "bad date \"%s\"", buf);
    regfree(&re);
    /* and it is now, in UTC */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    CHECK(end != NULL && *end == '\0');
    if (end) {
        time_t t = timegm(&tm);
        CHECK(t >= before && t <= after);
    }
    /* a second call in the same second gives the same text */
    char again[30];
    chd_http_date(again);
    if (time(NULL) == after)
        CHECK_EQ_STR(again, buf);
}

TEST(reason_phrases)
{
    CHECK_EQ_STR(chd_reason_phrase(100), "Continue");
    CHECK_EQ_STR(chd_reason_phrase(200), "OK");
    CHECK_EQ_STR(chd_reason_phrase(400), "Bad Request");
    CHECK_EQ_STR(chd_reason_phrase(408), "Request Timeout");
    CHECK_EQ_STR(chd_reason_phrase(413), "Content Too Large");
    CHECK_EQ_STR(chd_reason_phrase(414), "URI Too Long");
    CHECK_EQ_STR(chd_reason_phrase(431), "Request Header Fields Too Large");
    CHECK_EQ_STR(chd_reason_phrase(500), "Internal Server Error");
    CHECK_EQ_STR(chd_reason_phrase(501), "Not Implemented");
    CHECK_EQ_STR(chd_reason_phrase(503), "Service Unavailable");
    CHECK_EQ_STR(chd_reason_phrase(505), "HTTP Version Not Supported");
    /* anything else still gets some text, never NULL or empty */
    const char *other = chd_reason_phrase(299);
    CHECK(other != NULL && other[0] != '\0');
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(set_status_valid);
    RUN(set_status_invalid);
    RUN(add_header_valid);
    RUN(add_header_rejects_bad_values);
    RUN(add_header_rejects_bad_names);
    RUN(content_length_from_app);
    RUN(conflicting_content_lengths_are_not_both_sent);
    RUN(hop_by_hop_fields_are_dropped);
    RUN(connection_close_from_app_is_honoured);
    RUN(app_content_length_is_kept);
    RUN(known_length_adds_content_length);
    RUN(http11_without_length_is_chunked);
    RUN(http10_without_length_closes);
    RUN(head_request_has_no_body);
    RUN(no_content_and_not_modified_have_no_body);
    RUN(http10_keep_alive_is_announced);
    RUN(client_close_and_draining_close);
    RUN(date_and_server_added_unless_given);
    RUN(whole_head_layout);
    RUN(reset_forgets_status_and_fields);
    RUN(chunk_line);
    RUN(http_date_format);
    RUN(reason_phrases);
    return unit_finish();
}
