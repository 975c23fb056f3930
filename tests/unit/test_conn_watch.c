/* Unit tests for child/chd_conn_watch.h: connections between requests on a
 * plain libev loop, no driver and no Python (env->on_ready records what
 * became ready). TLS on them: a real OpenSSL client on the other end of a
 * socketpair whose server end has a tiny send buffer and a certificate far
 * bigger than it, so the handshake must wait for room to write. */
#include "chd_conn_watch.h"
#include "unit.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
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
    chd_conn_open(&env, sv[0], (struct sockaddr *)&peer, tls);
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
    chd_tls_ctx_free(tls);
    ev_loop_destroy(loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return unit_finish();
}
