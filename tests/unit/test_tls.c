/* Unit tests for chd_tls: a real OpenSSL client on the other end of a
 * socketpair, both sides non-blocking, pumped until they are done.
 * Certificates are made with the openssl command in a temporary directory:
 * a CA, servers for a.test and b.test, a client. */
#include "chd_tls.h"
#include "unit.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

static char dir[64];

static const char MAKE_CERTS[] =
    "cd %s && "
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
    "  -subj /CN=test-ca -keyout ca.key -out ca.pem && "
    "for n in a b; do "
    "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$n.test "
    "    -keyout $n.key -out $n.csr && "
    "  printf 'subjectAltName=DNS:%%s.test\\n' $n > $n.ext && "
    "  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
    "    -extfile $n.ext -out $n.pem || exit 1; "
    "done && "
    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=alice/O=clients "
    "  -keyout client.key -out client.csr && "
    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
    "  -out client.pem && cat b.pem b.key > b-combined.pem";

static void make_certs(void)
{
    snprintf(dir, sizeof dir, "/tmp/spawning-tls-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, MAKE_CERTS, dir);
    char quiet[2100];
    snprintf(quiet, sizeof quiet, "(%s) >/dev/null 2>&1", cmd);
    if (system(quiet) != 0) {
        printf("could not make certificates in %s\n", dir);
        exit(1);
    }
}

static void remove_certs(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
}

static char path_buf[8][128];
static int path_next;

static const char *path(const char *name)
{
    char *p = path_buf[path_next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

/* The server context for a.test (default) and b.test. */
static chd_tls_ctx_t *server_ctx(const char *ca_certs, bool verify_client)
{
    chd_tls_settings_t s = {.ncerts = 2, .ca_certs = ca_certs, .verify_client = verify_client};
    s.certfile[0] = path("a.pem");
    s.keyfile[0] = path("a.key");
    s.certfile[1] = path("b-combined.pem"); /* key in the same file */
    char err[256] = "";
    chd_tls_ctx_t *ctx = chd_tls_ctx_new(&s, err, sizeof err);
    if (!ctx)
        printf("  server context: %s\n", err);
    return ctx;
}

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} client_t;

static SSL_CTX *client_ctx(int max_version, bool with_cert)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c, path("ca.pem"), NULL);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    if (max_version) {
        SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(c, max_version);
        SSL_CTX_set_security_level(c, 0);
    }
    if (with_cert) {
        SSL_CTX_use_certificate_file(c, path("client.pem"), SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(c, path("client.key"), SSL_FILETYPE_PEM);
    }
    return c;
}

static void pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        perror("socketpair");
        exit(1);
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
}

static void client_start(client_t *cl, SSL_CTX *ctx, int fd, const char *sni, SSL_SESSION *resume)
{
    cl->ctx = ctx;
    cl->fd = fd;
    cl->ssl = SSL_new(ctx);
    SSL_set_fd(cl->ssl, fd);
    SSL_set_connect_state(cl->ssl);
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_set_alpn_protos(cl->ssl, alpn, sizeof alpn - 1);
    if (sni) {
        SSL_set_tlsext_host_name(cl->ssl, sni);
        SSL_set1_host(cl->ssl, sni);
    }
    if (resume)
        SSL_set_session(cl->ssl, resume);
}

/* Runs both handshakes to their end; returns the server's result and
 * stores the client's in *client_rc (1 done, else SSL_get_error). */
static int handshake_both(chd_tls_conn_t *srv, client_t *cl, int *client_rc)
{
    int srv_rc = CHD_TLS_WANT_READ, cl_done = 0;
    *client_rc = 0;
    for (int round = 0; round < 200; round++) {
        if (!cl_done) {
            int rc = SSL_do_handshake(cl->ssl);
            int e = rc == 1 ? 0 : SSL_get_error(cl->ssl, rc);
            if (rc == 1 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)) {
                cl_done = 1;
                *client_rc = rc == 1 ? 1 : -e;
            }
        }
        if (srv_rc == CHD_TLS_WANT_READ || srv_rc == CHD_TLS_WANT_WRITE)
            srv_rc = chd_tls_handshake(srv);
        if (cl_done && srv_rc != CHD_TLS_WANT_READ && srv_rc != CHD_TLS_WANT_WRITE)
            break;
    }
    ERR_clear_error();
    return srv_rc;
}

/* A clean end (close_notify), as real clients do: OpenSSL will not resume a
 * session whose connection ended without one. */
static void client_end(client_t *cl)
{
    if (SSL_is_init_finished(cl->ssl))
        SSL_shutdown(cl->ssl);
    ERR_clear_error();
    SSL_free(cl->ssl);
    close(cl->fd);
}

/* Reads what the client was sent (pumping the server never needed). */
static int client_read(client_t *cl, char *buf, int len)
{
    for (int i = 0; i < 100; i++) {
        int n = SSL_read(cl->ssl, buf, len);
        if (n > 0)
            return n;
        if (SSL_get_error(cl->ssl, n) != SSL_ERROR_WANT_READ)
            return -1;
        usleep(1000);
    }
    return -1;
}

TEST(handshake_tls13_alpn_http11)
{
    chd_tls_ctx_t *ctx = server_ctx(NULL, false);
    CHECK(ctx != NULL);
    int fds[2];
    pair(fds);
    chd_tls_conn_t *srv = chd_tls_conn_new(ctx, fds[0]);
    client_t cl;
    client_start(&cl, client_ctx(0, false), fds[1], "a.test", NULL);
    int crc;
    CHECK_EQ_INT(handshake_both(srv, &cl, &crc), 0);
    CHECK_EQ_INT(crc, 1);
    CHECK_EQ_STR(chd_tls_version(srv), "TLSv1.3");
    CHECK(strstr(chd_tls_cipher(srv), "TLS_") == chd_tls_cipher(srv));
    CHECK_EQ_STR(chd_tls_alpn(srv), "http/1.1");
    CHECK_EQ_STR(chd_tls_server_name(srv), "a.test");
    CHECK(!chd_tls_resumed(srv));
    char subject[128];
    CHECK(!chd_tls_client_subject(srv, subject, sizeof subject));
    /* Data both ways; a head and a short body gathered into one write. */
    CHECK_EQ_INT(SSL_write(cl.ssl, "GET / HTTP/1.1\r\n\r\n", 18), 18);
    char buf[256];
    ssize_t n = CHD_TLS_WANT_READ;
    for (int i = 0; i < 100 && n == CHD_TLS_WANT_READ; i++)
        n = chd_tls_read(srv, buf, 5);
    CHECK_EQ_INT(n, 5);
    CHECK(chd_tls_pending(srv)); /* the rest of the record is inside OpenSSL */
    CHECK_EQ_INT(chd_tls_read(srv, buf + 5, sizeof buf - 5), 13);
    CHECK(!chd_tls_pending(srv));
    struct iovec iov[3] = {{"HTTP/1.1 200 OK\r\n", 17}, {"", 0}, {"Content-Length: 2\r\n\r\nhi", 23}};
    CHECK_EQ_INT(chd_tls_writev(srv, iov, 3), 40);
    int got = client_read(&cl, buf, sizeof buf);
    CHECK_EQ_INT(got, 40); /* one record: one read */
    /* The client closes: the server reads 0. */
    SSL_shutdown(cl.ssl);
    n = CHD_TLS_WANT_READ;
    for (int i = 0; i < 100 && n == CHD_TLS_WANT_READ; i++)
        n = chd_tls_read(srv, buf, sizeof buf);
    CHECK_EQ_INT(n, 0);
    chd_tls_conn_free(srv);
    SSL_CTX_free(cl.ctx);
    client_end(&cl);
    close(fds[0]);
    chd_tls_ctx_free(ctx);
}

/* The name on the certificate the client got. */
static void peer_cn(client_t *cl, char *buf, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(cl->ssl);
    buf[0] = '\0';
    if (peer) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, (int)len);
        X509_free(peer);
    }
}

TEST(sni_picks_the_matching_certificate)
{
    chd_tls_ctx_t *ctx = server_ctx(NULL, false);
    const char *names[] = {"b.test", "a.test", "unknown.test", NULL};
    const char *want[] = {"b.test", "a.test", "a.test", "a.test"};
    for (int i = 0; i < 4; i++) {
        int fds[2];
        pair(fds);
        chd_tls_conn_t *srv = chd_tls_conn_new(ctx, fds[0]);
        client_t cl;
        SSL_CTX *cctx = client_ctx(0, false);
        SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL); /* unknown.test would not verify */
        client_start(&cl, cctx, fds[1], NULL, NULL);
        if (names[i])
            SSL_set_tlsext_host_name(cl.ssl, names[i]);
        int crc;
        CHECK_EQ_INT(handshake_both(srv, &cl, &crc), 0);
        char cn[64];
        peer_cn(&cl, cn, sizeof cn);
        CHECK_EQ_STR(cn, want[i]);
        chd_tls_conn_free(srv);
        SSL_CTX_free(cctx);
        client_end(&cl);
        close(fds[0]);
    }
    chd_tls_ctx_free(ctx);
}

TEST(tls11_and_plain_http_are_refused)
{
    chd_tls_ctx_t *ctx = server_ctx(NULL, false);
    int fds[2];
    pair(fds);
    chd_tls_conn_t *srv = chd_tls_conn_new(ctx, fds[0]);
    client_t cl;
    client_start(&cl, client_ctx(TLS1_1_VERSION, false), fds[1], "a.test", NULL);
    int crc;
    CHECK_EQ_INT(handshake_both(srv, &cl, &crc), CHD_TLS_FAILED);
    CHECK(crc != 1);
    CHECK(strstr(chd_tls_error(srv), "handshake") != NULL);
    chd_tls_conn_free(srv);
    SSL_CTX_free(cl.ctx);
    client_end(&cl);
    close(fds[0]);

    const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(!chd_tls_looks_like_tls((const unsigned char *)get, 1));
    CHECK(chd_tls_looks_like_tls((const unsigned char *)"\x16\x03\x01", 3));
    CHECK(chd_tls_looks_like_tls((const unsigned char *)"\x16", 1));
    CHECK(!chd_tls_looks_like_tls((const unsigned char *)"\x16\x48", 2));
    pair(fds);
    srv = chd_tls_conn_new(ctx, fds[0]);
    CHECK_EQ_INT(write(fds[1], get, sizeof get - 1), (ssize_t)sizeof get - 1);
    CHECK_EQ_INT(chd_tls_handshake(srv), CHD_TLS_FAILED);
    chd_tls_conn_free(srv);
    close(fds[0]);
    close(fds[1]);
    chd_tls_ctx_free(ctx);
}

/* One handshake with a fresh client; returns the server's result. */
static int connect_once(chd_tls_ctx_t *ctx, bool with_cert, char *subject, size_t len)
{
    int fds[2];
    pair(fds);
    chd_tls_conn_t *srv = chd_tls_conn_new(ctx, fds[0]);
    client_t cl;
    client_start(&cl, client_ctx(TLS1_2_VERSION, with_cert), fds[1], "a.test", NULL);
    int crc;
    int rc = handshake_both(srv, &cl, &crc);
    subject[0] = '\0';
    if (rc == 0)
        chd_tls_client_subject(srv, subject, len);
    chd_tls_conn_free(srv);
    SSL_CTX_free(cl.ctx);
    client_end(&cl);
    close(fds[0]);
    return rc;
}

TEST(client_certificates)
{
    char subject[256];
    chd_tls_ctx_t *required = server_ctx(path("ca.pem"), true);
    CHECK(required != NULL);
    CHECK_EQ_INT(connect_once(required, false, subject, sizeof subject), CHD_TLS_FAILED);
    CHECK_EQ_INT(connect_once(required, true, subject, sizeof subject), 0);
    CHECK_EQ_STR(subject, "O=clients,CN=alice");
    chd_tls_ctx_free(required);
    chd_tls_ctx_t *optional = server_ctx(path("ca.pem"), false);
    CHECK_EQ_INT(connect_once(optional, false, subject, sizeof subject), 0);
    CHECK_EQ_STR(subject, "");
    CHECK_EQ_INT(connect_once(optional, true, subject, sizeof subject), 0);
    CHECK_EQ_STR(subject, "O=clients,CN=alice");
    chd_tls_ctx_free(optional);
}

/* A full handshake on `first` (TLS 1.2: the ticket arrives in the
 * handshake), then a resumption attempt on `second`; returns whether the
 * second resumed. */
static bool resumes_across(chd_tls_ctx_t *first, chd_tls_ctx_t *second)
{
    SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, false);
    SSL_SESSION *session = NULL;
    bool resumed = false;
    for (int i = 0; i < 2; i++) {
        int fds[2];
        pair(fds);
        chd_tls_conn_t *srv = chd_tls_conn_new(i ? second : first, fds[0]);
        client_t cl;
        client_start(&cl, cctx, fds[1], "a.test", session);
        int crc;
        if (handshake_both(srv, &cl, &crc) == 0 && crc == 1) {
            if (i == 0)
                session = SSL_get1_session(cl.ssl);
            else
                resumed = chd_tls_resumed(srv) && SSL_session_reused(cl.ssl);
        }
        chd_tls_conn_free(srv);
        client_end(&cl);
        close(fds[0]);
    }
    SSL_SESSION_free(session);
    SSL_CTX_free(cctx);
    return resumed;
}

TEST(ticket_keys_are_shared_and_rotate)
{
    uint8_t keys[2 * CHD_TLS_TICKET_KEY_BYTES];
    for (size_t i = 0; i < sizeof keys; i++)
        keys[i] = (uint8_t)(i * 7 + 1);
    chd_tls_ctx_t *one = server_ctx(NULL, false), *two = server_ctx(NULL, false);
    /* Same keys in two "children": a ticket from one resumes on the other. */
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(one, keys, 1), 0);
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(two, keys, 1), 0);
    CHECK(resumes_across(one, two));
    /* Rotated: a new key first, the old one kept for decryption. */
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(two, keys + CHD_TLS_TICKET_KEY_BYTES, 1), 0);
    CHECK(!resumes_across(one, two)); /* the old key is gone from two */
    uint8_t rotated[2 * CHD_TLS_TICKET_KEY_BYTES];
    memcpy(rotated, keys + CHD_TLS_TICKET_KEY_BYTES, CHD_TLS_TICKET_KEY_BYTES);
    memcpy(rotated + CHD_TLS_TICKET_KEY_BYTES, keys, CHD_TLS_TICKET_KEY_BYTES);
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(two, rotated, 2), 0);
    CHECK(resumes_across(one, two));
    /* No keys: no tickets, no resumption. */
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(one, keys, 0), 0);
    CHECK(!resumes_across(one, one));
    CHECK_EQ_INT(chd_tls_ctx_set_ticket_keys(one, keys, CHD_TLS_MAX_TICKET_KEYS + 1), -EINVAL);
    chd_tls_ctx_free(one);
    chd_tls_ctx_free(two);
}

TEST(sendfile_without_ktls_copies)
{
    chd_tls_ctx_t *ctx = server_ctx(NULL, false);
    int fds[2];
    pair(fds);
    chd_tls_conn_t *srv = chd_tls_conn_new(ctx, fds[0]);
    client_t cl;
    client_start(&cl, client_ctx(0, false), fds[1], "a.test", NULL);
    int crc;
    CHECK_EQ_INT(handshake_both(srv, &cl, &crc), 0);
    CHECK(!chd_tls_ktls_send(srv)); /* a UNIX socket never has kernel TLS */
    int file = open(path("a.pem"), O_RDONLY);
    off_t offset = 10;
    ssize_t n = chd_tls_sendfile(srv, file, &offset, 20);
    CHECK_EQ_INT(n, 20);
    CHECK_EQ_INT(offset, 30);
    char want[20], got[64];
    CHECK_EQ_INT(pread(file, want, 20, 10), 20);
    CHECK_EQ_INT(client_read(&cl, got, sizeof got), 20);
    CHECK(memcmp(want, got, 20) == 0);
    close(file);
    chd_tls_conn_free(srv);
    SSL_CTX_free(cl.ctx);
    client_end(&cl);
    close(fds[0]);
    chd_tls_ctx_free(ctx);
}

TEST(bad_files_name_themselves)
{
    chd_tls_settings_t s = {.ncerts = 1};
    char err[256];
    s.certfile[0] = path("missing.pem");
    CHECK(chd_tls_ctx_new(&s, err, sizeof err) == NULL);
    CHECK(strstr(err, "missing.pem") != NULL);
    s.certfile[0] = path("a.pem");
    s.keyfile[0] = path("b.key"); /* the wrong key */
    CHECK(chd_tls_ctx_new(&s, err, sizeof err) == NULL);
    CHECK(strstr(err, "b.key") != NULL);
    s.ncerts = 0;
    CHECK(chd_tls_ctx_new(&s, err, sizeof err) == NULL);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    make_certs();
    RUN(handshake_tls13_alpn_http11);
    RUN(sni_picks_the_matching_certificate);
    RUN(tls11_and_plain_http_are_refused);
    RUN(client_certificates);
    RUN(ticket_keys_are_shared_and_rotate);
    RUN(sendfile_without_ktls_copies);
    RUN(bad_files_name_themselves);
    remove_certs();
    return unit_finish();
}
