/* Unit tests for child/chd_conn_watch.h: connections between requests on a
 * plain libev loop, no driver and no Python (env->on_ready records what
 * became ready). TLS on them: a real OpenSSL client on the other end of a
 * socketpair whose server end has a tiny send buffer and a certificate far
 * bigger than it, so the handshake must wait for room to write; and the
 * PROXY header in cleartext before the handshake (--proxy-protocol); and
 * --timeout's 504 through TLS from another thread than the one reading the
 * request's body (the watchdog's, chd_conn_write_overruled). */
#include "chd_conn_watch.h"
#include "unit.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#define REQ "GET /w HTTP/1.1\r\nHost: x\r\n\r\n"

static char dir[64];
static chd_config_t cfg;
static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats};
static struct ev_loop *loop;
static chd_tls_ctx_t *tls;
static chd_conn_t *ready; /* the last connection env->on_ready was given */

static void on_ready(chd_conn_t *conn) { ready = conn; }

/* A self-signed a.test certificate with 1000 more names: about 17 KB, far
 * more than a tiny send buffer takes. */
static const char MAKE_CERT[] =
    "cd %s && names=$(for i in $(seq 1 1000); do printf 'DNS:name-%%04d.a.test,' $i; done) && "
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
    "  -subj /CN=a.test -addext \"subjectAltName=DNS:a.test,${names%%,}\" "
    "  -keyout big.key -out big.pem >/dev/null 2>&1";

static chd_tls_ctx_t *make_tls(void)
{
    snprintf(dir, sizeof dir, "/tmp/spawning-watch-XXXXXX");
    char cmd[512];
    if (!mkdtemp(dir) || (snprintf(cmd, sizeof cmd, MAKE_CERT, dir), system(cmd)) != 0) {
        printf("could not make a certificate in %s\n", dir);
        exit(1);
    }
    char cert[128], key[128], err[256] = "";
    snprintf(cert, sizeof cert, "%s/big.pem", dir);
    snprintf(key, sizeof key, "%s/big.key", dir);
    chd_tls_settings_t s = {.ncerts = 1, .certfile = {cert}, .keyfile = {key}};
    chd_tls_ctx_t *ctx = chd_tls_ctx_new(&s, err, sizeof err);
    if (!ctx) {
        printf("server context: %s\n", err);
        exit(1);
    }
    return ctx;
}

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    bool sent; /* the request went out after the handshake */
} client_t;

/* One step of the client's handshake: 1 once it is over, 0 while it waits,
 * -1 when it failed. */
static int client_step(client_t *cl)
{
    int rc = SSL_do_handshake(cl->ssl);
    int e = rc == 1 ? 0 : SSL_get_error(cl->ssl, rc);
    ERR_clear_error();
    return rc == 1 ? 1 : e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static void client_end(client_t *cl)
{
    ERR_clear_error();
    SSL_free(cl->ssl);
    SSL_CTX_free(cl->ctx);
    close(cl->fd);
}

/* A connection from 192.0.2.9:4000 on a socketpair whose server end has
 * the smallest send buffer, after the client wrote `first` (cleartext, may
 * be "") and, when hello, its ClientHello. Returns the connection, or NULL
 * when it closed at once. */
static chd_conn_t *open_tls(client_t *cl, const char *first, size_t first_len, bool hello)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    int tiny = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny);
    if (first_len && write(sv[1], first, first_len) != (ssize_t)first_len)
        abort();
    cl->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_NONE, NULL);
    cl->ssl = SSL_new(cl->ctx);
    cl->fd = sv[1];
    cl->sent = false;
    SSL_set_fd(cl->ssl, sv[1]);
    SSL_set_connect_state(cl->ssl);
    if (hello)
        client_step(cl);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(4000)};
    inet_pton(AF_INET, "192.0.2.9", &peer.sin_addr);
    ready = NULL;
    int before = atomic_load(&stats.connections);
    chd_listener_t from = {.tls = tls, .port = 443};
    chd_conn_open(&env, sv[0], (struct sockaddr *)&peer, &from);
    return atomic_load(&stats.connections) > before ? env.conns : NULL;
}

/* Turns the loop (and, with the client, its handshake, then its request)
 * for `seconds` or until a request is ready. */
static void pump(client_t *cl, double seconds)
{
    double end = chd_monotonic() + seconds;
    while (!ready && chd_monotonic() < end) {
        if (cl && !cl->sent && client_step(cl) == 1)
            cl->sent = SSL_write(cl->ssl, REQ, sizeof REQ - 1) == (int)sizeof REQ - 1;
        ev_run(loop, EVRUN_NOWAIT);
        usleep(1000);
    }
}

/* True when the client's end reads end of file with nothing before it. */
static bool dropped_silently(int fd)
{
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static int watched_events(const chd_conn_t *conn)
{
    return conn->io.events & (EV_READ | EV_WRITE);
}

TEST(a_handshake_that_cannot_write_its_flight_waits_for_room)
{
    client_t cl;
    chd_conn_t *conn = open_tls(&cl, "", 0, true);
    CHECK(conn != NULL);
    if (!conn)
        return;
    CHECK_EQ_INT(conn->tls_wants, POLLOUT); /* the certificate did not fit */
    CHECK_EQ_INT(watched_events(conn), EV_WRITE);
    pump(NULL, 0.02); /* the client takes nothing: nothing moves */
    CHECK(!ready && !conn->tls_ready);
    CHECK_EQ_INT(watched_events(conn), EV_WRITE);
    pump(&cl, 3); /* it reads: the rest of the flight goes out as room comes */
    CHECK(ready == conn);
    CHECK(conn->tls_ready);
    CHECK_EQ_INT(watched_events(conn), EV_READ); /* back to input */
    if (ready)
        CHECK_EQ_STR(chd_request_method(&conn->req), "GET");
    chd_conn_watch_close(conn);
    client_end(&cl);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

/* A trusted proxy's connection: the header, then TLS; the client named. */
static void check_proxied(const char *first, size_t first_len, const char *addr, int port)
{
    client_t cl;
    chd_conn_t *conn = open_tls(&cl, first, first_len, true);
    CHECK(conn != NULL);
    if (!conn)
        return;
    pump(&cl, 3);
    CHECK(ready == conn);
    CHECK_EQ_STR(conn->peer_addr, addr);
    CHECK_EQ_INT(conn->peer_port, port);
    CHECK(!conn->via_trusted_proxy); /* the client is no proxy */
    CHECK(conn->tls_ready && conn->tls_proxy.data == NULL);
    chd_conn_watch_close(conn);
    client_end(&cl);
}

TEST(proxy_header_then_tls_in_the_same_bytes)
{
    /* The header and the ClientHello wait in the socket together: only the
     * header's bytes may be taken before OpenSSL reads. */
    static const char v1[] = "PROXY TCP4 198.51.100.7 192.0.2.1 4321 443\r\n";
    check_proxied(v1, sizeof v1 - 1, "198.51.100.7", 4321);
    static const char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
                             "\xc6\x33\x64\x08" "\xc0\x00\x02\x01" "\x10\xe1" "\x01\xbb";
    check_proxied(v2, sizeof v2 - 1, "198.51.100.8", 4321);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

TEST(proxy_header_in_pieces_then_tls)
{
    client_t cl;
    static const char part[] = "PROXY TCP4 198.51.100.9 19", rest[] = "2.0.2.1 1234 443\r\n";
    chd_conn_t *conn = open_tls(&cl, part, sizeof part - 1, false);
    CHECK(conn != NULL);
    if (!conn)
        return;
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_REQUIRED);
    CHECK_EQ_INT((int)cmn_buf_unread(&conn->tls_proxy), (int)sizeof part - 1);
    pump(NULL, 0.02); /* taken off the socket: no busy wakeups, still waiting */
    CHECK(write(cl.fd, rest, sizeof rest - 1) == (ssize_t)sizeof rest - 1);
    pump(&cl, 3);
    CHECK(ready == conn);
    CHECK_EQ_STR(conn->peer_addr, "198.51.100.9");
    CHECK_EQ_INT(conn->peer_port, 1234);
    chd_conn_watch_close(conn);
    client_end(&cl);
}

TEST(refused_as_on_plain_addresses)
{
    /* A trusted peer that starts with TLS: no header, dropped. */
    client_t cl;
    CHECK(open_tls(&cl, "", 0, true) == NULL);
    CHECK(dropped_silently(cl.fd));
    client_end(&cl);
    /* An untrusted peer: its header is dropped, its plain TLS served. */
    cmn_iplist_parse("10.9.9.9", &cfg.trusted_proxies, NULL, 0);
    static const char v1[] = "PROXY TCP4 198.51.100.7 192.0.2.1 4321 443\r\n";
    CHECK(open_tls(&cl, v1, sizeof v1 - 1, true) == NULL);
    CHECK(dropped_silently(cl.fd));
    client_end(&cl);
    chd_conn_t *conn = open_tls(&cl, "", 0, true);
    pump(&cl, 3);
    CHECK(conn != NULL && ready == conn);
    if (conn) {
        CHECK_EQ_STR(conn->peer_addr, "192.0.2.9");
        chd_conn_watch_close(conn);
    }
    client_end(&cl);
    /* Its first bytes begin like a header and are none: not TLS either,
     * so plain HTTP's 400, as without the option. */
    CHECK(open_tls(&cl, "PROX", 4, false) != NULL);
    static const char rest[] = "Z / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(write(cl.fd, rest, sizeof rest - 1) == (ssize_t)sizeof rest - 1);
    double t0 = chd_monotonic();
    while (atomic_load(&stats.connections) > 0 && chd_monotonic() - t0 < 2)
        pump(NULL, 0.01);
    char got[16] = "";
    CHECK(recv(cl.fd, got, 12, MSG_DONTWAIT) == 12);
    CHECK_EQ_STR(got, "HTTP/1.1 400");
    client_end(&cl);
    cmn_iplist_parse("192.0.2.9", &cfg.trusted_proxies, NULL, 0);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

TEST(header_and_handshake_within_the_header_timeout)
{
    cfg.header_timeout = 0.1;
    client_t cl;
    static const char part[] = "PROXY TCP4 198.51.100.9 19";
    CHECK(open_tls(&cl, part, sizeof part - 1, false) != NULL);
    double t0 = chd_monotonic();
    while (atomic_load(&stats.connections) > 0 && chd_monotonic() - t0 < 2)
        pump(NULL, 0.01);
    CHECK(chd_monotonic() - t0 >= 0.09);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
    CHECK(dropped_silently(cl.fd));
    client_end(&cl);
    cfg.header_timeout = 30;
}

/* --- --timeout's 504 over TLS (chd_conn_write_overruled) -------------------- */

#define POST_HEAD "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
#define ANSWER "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 3\r\n\r\nno\n"

/* A TLS connection whose request is running, its body still coming: the
 * handshake done and POST_HEAD parsed on the loop, then the request begun
 * as a driver would. NULL when it did not get there. */
static chd_conn_t *running_post(client_t *cl)
{
    chd_conn_t *conn = open_tls(cl, "", 0, true);
    double end = chd_monotonic() + 3;
    while (conn && conn->req.phase != CHD_REQ_BODY && chd_monotonic() < end) {
        if (!cl->sent && client_step(cl) == 1)
            cl->sent = SSL_write(cl->ssl, POST_HEAD, sizeof POST_HEAD - 1) ==
                       (int)sizeof POST_HEAD - 1;
        pump(NULL, 0.001);
    }
    if (!conn || conn->req.phase != CHD_REQ_BODY)
        return NULL;
    chd_conn_begin_request(conn);
    return conn;
}

/* Writes all of data through the client's TLS (waiting for room). */
static bool client_write_all(client_t *cl, const char *data, int len)
{
    double end = chd_monotonic() + 3;
    while (len > 0 && chd_monotonic() < end) {
        int n = SSL_write(cl->ssl, data, len);
        if (n > 0) {
            data += n;
            len -= n;
            continue;
        }
        ERR_clear_error();
        struct pollfd p = {.fd = cl->fd, .events = POLLOUT | POLLIN};
        poll(&p, 1, 10);
    }
    return len == 0;
}

/* Reads the client's TLS until the server's close_notify (true) or
 * anything else ends it; what came in out. */
static bool client_read_to_close_notify(client_t *cl, char *out, size_t cap)
{
    size_t got = 0;
    double end = chd_monotonic() + 3;
    while (chd_monotonic() < end) {
        int n = SSL_read(cl->ssl, out + got, (int)(cap - 1 - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(cl->ssl, n);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ)
            break;
        struct pollfd p = {.fd = cl->fd, .events = POLLIN};
        poll(&p, 1, 10);
    }
    out[got] = '\0';
    return (SSL_get_shutdown(cl->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

/* The request's thread: reads the body (chd_conn_read_body, as wsgi.input
 * does) until that fails; its result. */
static void *read_body_until_it_fails(void *arg)
{
    chd_conn_t *conn = arg;
    int rc;
    while ((rc = chd_conn_read_body(conn)) == 0)
        cmn_buf_clear(&conn->req.body);
    return (void *)(intptr_t)rc;
}

TEST(past_timeout_the_504_goes_through_tls_while_the_body_is_read)
{
    client_t cl;
    chd_conn_t *conn = running_post(&cl);
    CHECK(conn != NULL);
    if (!conn)
        return;
    pthread_t reader;
    pthread_create(&reader, NULL, read_body_until_it_fails, conn);
    /* Body bytes a record at a time: the reader is in and out of OpenSSL
     * when the watchdog claims the answer. */
    for (int i = 0; i < 200; i++)
        CHECK(client_write_all(&cl, "x", 1));
    CHECK_EQ_INT(atomic_exchange(&conn->answer, CHD_ANSWER_TIMED_OUT), CHD_ANSWER_OPEN);
    struct iovec iov = {ANSWER, sizeof ANSWER - 1};
    CHECK_EQ_INT(chd_conn_write_overruled(conn, &iov, 1, 200), 0);
    shutdown(conn->fd, SHUT_RDWR);
    void *rc;
    pthread_join(reader, &rc);
    CHECK((intptr_t)rc < 0);
    /* The request's own thread touches the TLS state no more. */
    CHECK(!chd_conn_hold_transport(conn));
    struct iovec late = {"HTTP/1.1 200 OK\r\n\r\n", 19};
    CHECK_EQ_INT(chd_conn_send(conn, &late, 1), -ECONNABORTED);
    char got[256];
    CHECK(client_read_to_close_notify(&cl, got, sizeof got)); /* whole, then close_notify */
    CHECK_EQ_STR(got, ANSWER);
    CHECK(!chd_conn_end_request(conn));
    CHECK_EQ_INT(conn->close_reason, CHD_CLOSE_REQUEST_TIMEOUT);
    chd_conn_watch_close(conn);
    client_end(&cl);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

typedef struct {
    chd_conn_t *conn;
    atomic_int rc; /* 1 until the 504 is written */
} overruled_t;

static void *write_504(void *arg)
{
    overruled_t *o = arg;
    struct iovec iov = {ANSWER, sizeof ANSWER - 1};
    atomic_store(&o->rc, chd_conn_write_overruled(o->conn, &iov, 1, 200));
    return NULL;
}

TEST(past_timeout_the_504_waits_out_a_tls_call_under_way)
{
    client_t cl;
    chd_conn_t *conn = running_post(&cl);
    CHECK(conn != NULL);
    if (!conn)
        return;
    CHECK(chd_conn_hold_transport(conn)); /* as the request's thread inside OpenSSL */
    CHECK_EQ_INT(atomic_exchange(&conn->answer, CHD_ANSWER_TIMED_OUT), CHD_ANSWER_OPEN);
    overruled_t o = {.conn = conn, .rc = 1};
    pthread_t watchdog;
    pthread_create(&watchdog, NULL, write_504, &o);
    struct pollfd p = {.fd = cl.fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 50), 0); /* not a byte while the call runs */
    CHECK_EQ_INT(atomic_load(&o.rc), 1);
    chd_conn_release_transport(conn);
    pthread_join(watchdog, NULL);
    CHECK_EQ_INT(atomic_load(&o.rc), 0);
    char got[256];
    CHECK(client_read_to_close_notify(&cl, got, sizeof got));
    CHECK_EQ_STR(got, ANSWER);
    CHECK(!chd_conn_end_request(conn));
    chd_conn_watch_close(conn);
    client_end(&cl);
}

TEST(past_timeout_a_client_that_does_not_read_costs_the_504_its_bound)
{
    client_t cl;
    chd_conn_t *conn = running_post(&cl);
    CHECK(conn != NULL);
    if (!conn)
        return;
    char junk[4096] = {0};
    while (send(conn->fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
        ; /* the socket full: the client reads nothing */
    CHECK_EQ_INT(atomic_exchange(&conn->answer, CHD_ANSWER_TIMED_OUT), CHD_ANSWER_OPEN);
    struct iovec iov = {ANSWER, sizeof ANSWER - 1};
    double t0 = chd_monotonic();
    CHECK_EQ_INT(chd_conn_write_overruled(conn, &iov, 1, 100), -ETIMEDOUT);
    double took = chd_monotonic() - t0;
    CHECK(took >= 0.09 && took < 0.5);
    CHECK(!chd_conn_end_request(conn));
    chd_conn_watch_close(conn);
    client_end(&cl);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    cfg.limits = chd_default_limits;
    cfg.header_timeout = 30;
    cfg.keepalive = 75;
    cfg.body_timeout = 30;
    env.cfg = &cfg;
    loop = ev_loop_new(EVFLAG_AUTO);
    env.loop = loop;
    env.on_ready = on_ready;
    tls = make_tls();
    RUN(a_handshake_that_cannot_write_its_flight_waits_for_room);
    cfg.timeout = 2;
    env.wait = chd_conn_poll_wait;
    RUN(past_timeout_the_504_goes_through_tls_while_the_body_is_read);
    RUN(past_timeout_the_504_waits_out_a_tls_call_under_way);
    RUN(past_timeout_a_client_that_does_not_read_costs_the_504_its_bound);
    cfg.timeout = 0;
    cfg.proxy_protocol = true;
    cmn_iplist_parse("192.0.2.9", &cfg.trusted_proxies, NULL, 0);
    RUN(proxy_header_then_tls_in_the_same_bytes);
    RUN(proxy_header_in_pieces_then_tls);
    RUN(refused_as_on_plain_addresses);
    RUN(header_and_handshake_within_the_header_timeout);
    chd_tls_ctx_free(tls);
    ev_loop_destroy(loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return unit_finish();
}
