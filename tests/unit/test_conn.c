/* Unit tests for how a connection of child/chd_conn.h ends: the one failure
 * path (chd_conn_fail: each close reason, what the client is answered,
 * that the parser's state keeps only what the bytes said) and the
 * keep-alive decision a finished response makes (chd_response_finish,
 * chd_conn_finish_response, acted on by chd_conn_end_request), and that
 * each close is counted once, by its reason, on the stats page; and which
 * closes may cost the client an answer (chd_conn_may_lose_answer). Each
 * connection sits on a socketpair; the test reads the client's end. */
#include "chd_conn.h"
#include "chd_response.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#define REQ11 "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

static chd_config_t cfg;
static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats}; /* what a connection sees of its server */
static int client = -1; /* the client's end of the last connection's socketpair */

/* What env->on_answered heard last. */
static struct {
    int calls, status;
    uint64_t body_bytes;
} answered;

static void on_answered(const chd_conn_t *conn, int status, uint64_t body_bytes, const char *head,
                        size_t head_len)
{
    (void)conn;
    (void)head;
    (void)head_len;
    answered.calls++;
    answered.status = status;
    answered.body_bytes = body_bytes;
}

/* A fresh connection from 127.0.0.1:5000 (a trusted proxy) on a new
 * socketpair, with the process neither draining nor refusing keep-alive;
 * with --proxy-protocol when `proxy`. */
static chd_conn_t *new_conn_proxy(bool proxy)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    if (client >= 0)
        close(client);
    client = sv[1];
    atomic_store(&env.draining, false);
    cfg.keepalive = 5;
    cfg.proxy_protocol = proxy;
    memset(&answered, 0, sizeof answered);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(5000)};
    inet_pton(AF_INET, "127.0.0.1", &peer.sin_addr);
    return chd_conn_new(&env, sv[0], (struct sockaddr *)&peer);
}

static chd_conn_t *new_conn(void) { return new_conn_proxy(false); }

/* Everything the client end has received so far (NUL-terminated). */
static size_t client_received(char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = recv(client, buf + len, cap - 1 - len, MSG_DONTWAIT)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* True when the client end reads end of file: the server's side is closed
 * (or its write side shut). */
static bool client_sees_eof(void)
{
    char c;
    return recv(client, &c, 1, MSG_DONTWAIT) == 0;
}

/* Closes conn as its driver would, and checks that the close was counted
 * once, as `why`, and as nothing else. */
static void destroy_counted(chd_conn_t *conn, chd_close_reason_t why)
{
    uint64_t before[CMN_CLOSE_REASONS];
    for (int i = 0; i < CMN_CLOSE_REASONS; i++)
        before[i] = atomic_load(&stats.closed[i]);
    chd_conn_destroy(conn);
    for (int i = 0; i < CMN_CLOSE_REASONS; i++)
        CHECK_EQ_INT(atomic_load(&stats.closed[i]) - before[i], i == (int)why);
}

/* Checks that conn failed with `why` owing `status`, that the client got
 * that answer (a "Connection: close" response whose body holds `words`),
 * or nothing when words is NULL, then closes the connection as its driver
 * would and checks that the client sees it closed. */
static void expect_failure(chd_conn_t *conn, chd_close_reason_t why, int status, const char *words)
{
    CHECK_EQ_STR(chd_close_reason_name(conn->close_reason), chd_close_reason_name(why));
    CHECK_EQ_INT(conn->fail_status, status);
    CHECK(chd_conn_closing(conn));
    char got[4096];
    size_t len = client_received(got, sizeof got);
    if (!words) {
        CHECK_EQ_INT(len, 0);
        CHECK_EQ_INT(answered.calls, 0);
    } else {
        char line[32];
        snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
        CHECK(strncmp(got, line, strlen(line)) == 0);
        CHECK(strstr(got, "\r\nConnection: close\r\n") != NULL);
        const char *body = strstr(got, "\r\n\r\n");
        CHECK(body && strncmp(body + 4, words, strlen(words)) == 0);
        CHECK_EQ_INT(answered.calls, 1);
        CHECK_EQ_INT(answered.status, status);
        CHECK_EQ_INT(answered.body_bytes, strlen(words) + 1);
        CHECK(client_sees_eof()); /* the write side is shut right after the answer */
    }
    destroy_counted(conn, why);
    CHECK(client_sees_eof());
}

/* --- the failure path, between requests ------------------------------- */

TEST(malformed_bytes_answer_the_parsers_verdict)
{
    chd_conn_t *conn = new_conn();
    static const char bad[] = "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, bad, sizeof bad - 1), CHD_PARSE_BAD);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_ERROR);
    CHECK_EQ_INT(conn->req.error_status, 400);
    expect_failure(conn, CHD_CLOSE_MALFORMED, 400, conn->req.error_reason);

    conn = new_conn();
    static const char unknown[] = "BREW / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, unknown, sizeof unknown - 1), CHD_PARSE_BAD);
    expect_failure(conn, CHD_CLOSE_MALFORMED, 501, conn->req.error_reason);
}

TEST(past_a_limit_is_too_large)
{
    chd_conn_t *conn = new_conn();
    char line[CHD_DEFAULT_LIMIT_REQUEST_LINE + 64];
    memset(line, 'a', sizeof line);
    memcpy(line, "GET /", 5);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, line, sizeof line), CHD_PARSE_BAD);
    expect_failure(conn, CHD_CLOSE_TOO_LARGE, 414, conn->req.error_reason);

    conn = new_conn();
    char field[CHD_DEFAULT_LIMIT_FIELD_SIZE + 64];
    memset(field, 'v', sizeof field);
    memcpy(field, "GET / HTTP/1.1\r\nX: ", 19);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, field, sizeof field), CHD_PARSE_BAD);
    expect_failure(conn, CHD_CLOSE_TOO_LARGE, 431, conn->req.error_reason);
}

TEST(header_timeout_answers_408_and_leaves_the_parser_alone)
{
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "GET / HT", 8), CHD_PARSE_MORE);
    chd_conn_timed_out(conn);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_HEAD); /* the bytes said nothing wrong */
    CHECK_EQ_INT(conn->req.error_status, 0);
    expect_failure(conn, CHD_CLOSE_HEADER_TIMEOUT, 408, "request not received in time");
}

TEST(idle_timeout_is_quiet)
{
    chd_conn_t *conn = new_conn();
    chd_conn_timed_out(conn);
    expect_failure(conn, CHD_CLOSE_IDLE, 0, NULL);

    conn = new_conn();
    atomic_store(&env.draining, true);
    chd_conn_timed_out(conn);
    expect_failure(conn, CHD_CLOSE_DRAINING, 0, NULL);
}

TEST(proxy_header_refused_or_late_is_quiet)
{
    chd_conn_t *conn = new_conn_proxy(true); /* a trusted peer: must send one */
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ11, sizeof REQ11 - 1), CHD_PARSE_DROP);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_IDLE);
    expect_failure(conn, CHD_CLOSE_PROXY_REFUSED, 0, NULL);

    conn = new_conn_proxy(true);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "PROXY TCP4 1", 12), CHD_PARSE_MORE);
    chd_conn_timed_out(conn);
    expect_failure(conn, CHD_CLOSE_HEADER_TIMEOUT, 0, NULL);
}

TEST(client_closing_between_or_within_requests)
{
    chd_conn_t *conn = new_conn();
    chd_conn_read_failed(conn, 0); /* end of file with nothing begun */
    expect_failure(conn, CHD_CLOSE_CLIENT_CLOSED, 0, NULL);

    conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "GET /", 5), CHD_PARSE_MORE);
    chd_conn_read_failed(conn, 0); /* end of file in the middle of a head */
    expect_failure(conn, CHD_CLOSE_CLIENT_GONE, 0, NULL);

    conn = new_conn();
    chd_conn_read_failed(conn, -ECONNRESET);
    expect_failure(conn, CHD_CLOSE_CLIENT_GONE, 0, NULL);
}

TEST(out_of_memory_answers_500)
{
    uint64_t before = atomic_load(&stats.responses_5xx);
    chd_conn_t *conn = new_conn();
    chd_conn_read_failed(conn, -ENOMEM);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_IDLE);
    expect_failure(conn, CHD_CLOSE_OUT_OF_MEMORY, 500, "out of memory");
    CHECK_EQ_INT(atomic_load(&stats.responses_5xx), before + 1);
}

TEST(the_first_reason_stays)
{
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "GET / HT", 8), CHD_PARSE_MORE);
    chd_conn_timed_out(conn);
    chd_conn_fail(conn, 500, CHD_CLOSE_OUT_OF_MEMORY); /* changes nothing, answers nothing */
    CHECK(!chd_conn_finish_response(conn, true));
    expect_failure(conn, CHD_CLOSE_HEADER_TIMEOUT, 408, "request not received in time");
}

TEST(every_reason_has_its_own_name)
{
    for (int i = 0; i < CHD_CLOSE_REASONS; i++) {
        const char *name = chd_close_reason_name((chd_close_reason_t)i);
        CHECK(name && *name && strcmp(name, "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(name, chd_close_reason_name((chd_close_reason_t)j)) != 0);
    }
    CHECK_EQ_STR(chd_close_reason_name(CHD_CLOSE_REASONS), "unknown");
}

/* --- the failure path, while a request runs ------------------------------ */

/* A connection whose request (head `head`, then `body` bytes of its body)
 * is running. */
static chd_conn_t *running(const char *head, const char *body)
{
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, head, strlen(head)), CHD_PARSE_MORE);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_BODY);
    if (body && send(client, body, strlen(body), 0) < 0)
        abort();
    chd_conn_begin_request(conn);
    return conn;
}

#define POST10 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
#define CHUNKED "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

TEST(in_a_request_nothing_is_written)
{
    chd_conn_t *conn = running(POST10, NULL);
    chd_conn_fail(conn, 408, CHD_CLOSE_BODY_TIMEOUT); /* the response machinery answers */
    CHECK(!chd_conn_end_request(conn));
    expect_failure(conn, CHD_CLOSE_BODY_TIMEOUT, 408, NULL);
}

TEST(body_timeout_owes_408_and_leaves_the_parser_alone)
{
    cfg.body_timeout = 0.05;
    chd_conn_t *conn = running(POST10, "ab");
    CHECK_EQ_INT(chd_conn_read_body(conn), 0); /* "ab" */
    CHECK_EQ_INT(chd_conn_read_body(conn), -ETIMEDOUT);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_BODY); /* the bytes so far were fine */
    CHECK_EQ_INT(conn->req.error_status, 0);
    CHECK_EQ_STR(chd_conn_failure_words(conn), "request body not received in time");
    expect_failure(conn, CHD_CLOSE_BODY_TIMEOUT, 408, NULL);
}

TEST(bad_body_owes_the_parsers_status)
{
    cfg.body_timeout = 1;
    chd_conn_t *conn = running(CHUNKED, "zz\r\n");
    CHECK_EQ_INT(chd_conn_read_body(conn), -EPROTO);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_ERROR);
    expect_failure(conn, CHD_CLOSE_MALFORMED, 400, NULL);

    cfg.limits.body = 4;
    conn = running(CHUNKED, "8\r\n12345678\r\n");
    CHECK_EQ_INT(chd_conn_read_body(conn), -EPROTO);
    expect_failure(conn, CHD_CLOSE_TOO_LARGE, 413, NULL);
    cfg.limits.body = 0;
}

TEST(client_gone_mid_body_or_while_sending)
{
    cfg.body_timeout = 1;
    chd_conn_t *conn = running(POST10, "ab");
    shutdown(client, SHUT_WR);
    CHECK_EQ_INT(chd_conn_read_body(conn), 0);
    CHECK_EQ_INT(chd_conn_read_body(conn), -ECONNRESET);
    expect_failure(conn, CHD_CLOSE_CLIENT_GONE, 0, NULL);

    conn = running(POST10, NULL);
    close(client);
    client = -1;
    struct iovec iov = {(void *)"hello", 5};
    CHECK_EQ_INT(chd_conn_send(conn, &iov, 1), -EPIPE);
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_CLIENT_GONE);
    CHECK_EQ_INT(conn->fail_status, 0);
    destroy_counted(conn, CHD_CLOSE_CLIENT_GONE);
}

TEST(a_client_that_stops_reading)
{
    cfg.body_timeout = 0.05;
    chd_conn_t *conn = running(POST10, NULL);
    static char big[4 << 20];
    struct iovec iov = {big, sizeof big};
    CHECK_EQ_INT(chd_conn_send(conn, &iov, 1), -ETIMEDOUT);
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_SEND_TIMEOUT);
    destroy_counted(conn, CHD_CLOSE_SEND_TIMEOUT);
}

TEST(an_unread_body_too_large_to_drain)
{
    cfg.body_timeout = 1;
    chd_conn_t *conn = running(CHUNKED, "8\r\n12345678\r\n8\r\n12345678\r\n");
    CHECK_EQ_INT(chd_conn_discard_body(conn, 4), -EFBIG);
    expect_failure(conn, CHD_CLOSE_UNREAD_BODY, 0, NULL);
}

/* --- the keep-alive decision ------------------------------------------- */

typedef struct {
    const char *request;    /* a complete request */
    const char *app_field;  /* a field the app adds ("Connection: close"), or NULL */
    int64_t body_length;    /* what the server knows of it: -1 unknown */
    uint64_t body_sent;     /* body bytes that went out */
    bool draining;
    double keepalive;
} exchange_t;

/* Runs one request/response exchange on a fresh connection as the drivers
 * do (begin, the response's head and finish, end) and returns whether the
 * connection stays open. Checks that the head told the client the same. */
static bool stays_open(const exchange_t *x)
{
    chd_conn_t *conn = new_conn();
    cfg.keepalive = x->keepalive;
    atomic_store(&env.draining, x->draining);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, x->request, strlen(x->request)), CHD_PARSE_READY);
    chd_conn_begin_request(conn);
    chd_response_t resp;
    chd_response_init(&resp);
    CHECK_EQ_INT(chd_response_set_status(&resp, "200 OK", 6), 0);
    if (x->app_field)
        CHECK_EQ_INT(chd_response_add_header(&resp, "Connection", 10, x->app_field,
                                             strlen(x->app_field)), 0);
    chd_response_finish_head(&resp, &conn->req, x->body_length, chd_conn_env_closing(&env));
    resp.body_bytes = x->body_sent;
    bool said_close = memmem(resp.head.data, resp.head.len, "\r\nConnection: close\r\n", 21);
    bool keep = chd_conn_finish_response(conn, chd_response_finish(&resp));
    CHECK_EQ_INT(chd_conn_end_request(conn), keep);
    if (said_close)
        CHECK(!keep);
    CHECK_EQ_INT(conn->close_reason, keep ? CHD_CLOSE_NONE : CHD_CLOSE_FINISHED);
    chd_response_free(&resp);
    destroy_counted(conn, conn->close_reason);
    return keep;
}

#define REQ10 "GET / HTTP/1.0\r\n\r\n"

TEST(keep_alive_by_version_and_connection_field)
{
    CHECK(stays_open(&(exchange_t){REQ11, NULL, 2, 2, false, 5}));
    CHECK(!stays_open(&(exchange_t){REQ10, NULL, 2, 2, false, 5}));
    CHECK(stays_open(
        &(exchange_t){"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL, 2, 2, false, 5}));
    CHECK(!stays_open(
        &(exchange_t){"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 2, 2, false,
                      5}));
    CHECK(!stays_open(&(exchange_t){REQ11, "close", 2, 2, false, 5})); /* the app's wish */
    CHECK(stays_open(&(exchange_t){REQ11, "keep-alive", 2, 2, false, 5}));
}

TEST(keep_alive_by_the_process)
{
    CHECK(!stays_open(&(exchange_t){REQ11, NULL, 2, 2, true, 5})); /* draining */
    CHECK(!stays_open(&(exchange_t){REQ11, NULL, 2, 2, false, 0})); /* --keepalive 0 */
}

TEST(keep_alive_by_the_body)
{
    CHECK(stays_open(&(exchange_t){REQ11, NULL, -1, 7, false, 5})); /* chunked */
    CHECK(!stays_open(
        &(exchange_t){"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL, -1, 7, false, 5}));
    CHECK(!stays_open(&(exchange_t){REQ11, NULL, 2, 1, false, 5})); /* cut short */
}

TEST(keep_alive_after_a_failure_or_malformed_request)
{
    /* A failure during the request outweighs a response that would keep it. */
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ11, sizeof REQ11 - 1), CHD_PARSE_READY);
    chd_conn_begin_request(conn);
    chd_conn_fail(conn, 0, CHD_CLOSE_APP_ERROR);
    CHECK(!chd_conn_finish_response(conn, true));
    CHECK(!chd_conn_end_request(conn));
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_APP_ERROR);
    destroy_counted(conn, CHD_CLOSE_APP_ERROR);
    /* A malformed request never keeps its connection. */
    conn = new_conn();
    static const char bad[] = "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, bad, sizeof bad - 1), CHD_PARSE_BAD);
    CHECK(!chd_conn_end_request(conn));
    expect_failure(conn, CHD_CLOSE_MALFORMED, 400, conn->req.error_reason);
}

/* --timeout answered the request (the watchdog shut the socket): the
 * connection closes as request_timeout, whatever failed on it after. */
TEST(a_request_past_timeout_closes_as_request_timeout)
{
    cfg.timeout = 1;
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ11, sizeof REQ11 - 1), CHD_PARSE_READY);
    chd_conn_begin_request(conn);
    atomic_store(&conn->answer, CHD_ANSWER_TIMED_OUT); /* what the watchdog does */
    CHECK(!chd_conn_claim_answer(conn));
    chd_conn_fail(conn, 0, CHD_CLOSE_CLIENT_GONE); /* a write after the shutdown */
    chd_conn_finish_response(conn, true);
    CHECK(!chd_conn_end_request(conn));
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_REQUEST_TIMEOUT);
    destroy_counted(conn, CHD_CLOSE_REQUEST_TIMEOUT);
    cfg.timeout = 0;
}

TEST(kept_alive_the_next_request_starts_clean)
{
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ11 REQ11, 2 * (sizeof REQ11 - 1)), CHD_PARSE_READY);
    chd_conn_begin_request(conn);
    CHECK(chd_conn_finish_response(conn, true));
    CHECK(chd_conn_end_request(conn));
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_NONE);
    CHECK_EQ_INT(conn->fail_status, 0);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_IDLE);
    CHECK_EQ_INT(chd_conn_parse(conn), CHD_PARSE_READY); /* the pipelined one */
    chd_conn_destroy(conn);
}

/* --- whether a close may cost the client its answer ---------------------- */

/* A connection whose request (complete) ran and whose response said
 * "Connection: close". */
static chd_conn_t *finished(const char *request)
{
    chd_conn_t *conn = new_conn();
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, request, strlen(request)), CHD_PARSE_READY);
    chd_conn_begin_request(conn);
    CHECK(!chd_conn_finish_response(conn, false));
    CHECK(!chd_conn_end_request(conn));
    return conn;
}

TEST(an_answer_to_a_client_still_sending_may_be_lost)
{
    chd_conn_t *conn = new_conn(); /* a malformed head: the rest may still come */
    static const char bad[] = "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    chd_conn_parse_bytes(conn, bad, sizeof bad - 1);
    CHECK(chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = new_conn(); /* half a head, answered 408 */
    chd_conn_parse_bytes(conn, "GET / HT", 8);
    chd_conn_timed_out(conn);
    CHECK(chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = running(POST10, "ab"); /* a body cut short by a failure */
    chd_conn_fail(conn, 413, CHD_CLOSE_TOO_LARGE);
    CHECK(chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = finished(REQ11); /* a response that closes, with a request arriving after it */
    CHECK(!chd_conn_may_lose_answer(conn));
    if (send(client, REQ11, sizeof REQ11 - 1, 0) < 0)
        abort();
    CHECK(chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = finished(REQ11 REQ11); /* ... or already read */
    CHECK(chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
}

TEST(no_answer_or_no_reader_is_never_lost)
{
    chd_conn_t *conn = new_conn();
    chd_conn_timed_out(conn); /* idle: nothing owed */
    CHECK(!chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = new_conn();
    chd_conn_parse_bytes(conn, "GET /", 5);
    chd_conn_read_failed(conn, 0); /* the client left mid-head */
    CHECK(!chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = new_conn_proxy(true); /* a refused PROXY header: nothing answered */
    chd_conn_parse_bytes(conn, REQ11, sizeof REQ11 - 1);
    CHECK(!chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
    conn = running(POST10, "ab"); /* the client stopped reading */
    chd_conn_fail(conn, 0, CHD_CLOSE_SEND_TIMEOUT);
    CHECK(!chd_conn_may_lose_answer(conn));
    chd_conn_destroy(conn);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    cfg.limits = chd_default_limits;
    cfg.limits.body = 0;
    cfg.body_timeout = 1;
    cmn_iplist_parse("127.0.0.1,::1", &cfg.trusted_proxies, NULL, 0);
    env.cfg = &cfg;
    env.wait = chd_conn_poll_wait;
    env.on_answered = on_answered;
    atomic_init(&env.draining, false);
    RUN(malformed_bytes_answer_the_parsers_verdict);
    RUN(past_a_limit_is_too_large);
    RUN(header_timeout_answers_408_and_leaves_the_parser_alone);
    RUN(idle_timeout_is_quiet);
    RUN(proxy_header_refused_or_late_is_quiet);
    RUN(client_closing_between_or_within_requests);
    RUN(out_of_memory_answers_500);
    RUN(the_first_reason_stays);
    RUN(every_reason_has_its_own_name);
    RUN(in_a_request_nothing_is_written);
    RUN(body_timeout_owes_408_and_leaves_the_parser_alone);
    RUN(bad_body_owes_the_parsers_status);
    RUN(client_gone_mid_body_or_while_sending);
    RUN(a_client_that_stops_reading);
    RUN(an_unread_body_too_large_to_drain);
    RUN(keep_alive_by_version_and_connection_field);
    RUN(keep_alive_by_the_process);
    RUN(keep_alive_by_the_body);
    RUN(keep_alive_after_a_failure_or_malformed_request);
    RUN(a_request_past_timeout_closes_as_request_timeout);
    RUN(kept_alive_the_next_request_starts_clean);
    RUN(an_answer_to_a_client_still_sending_may_be_lost);
    RUN(no_answer_or_no_reader_is_never_lost);
    if (client >= 0)
        close(client);
    return unit_finish();
}
