/* chd_tls: see chd_tls.h.
 *
 * One SSL_CTX per certificate: the first is the connection's initial
 * context and holds the session machinery (tickets are always handled by
 * the initial context, whichever certificate SNI picked); the others only
 * lend their certificate through SSL_set_SSL_CTX in the servername
 * callback. */
#include "chd_tls.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* TLS 1.2's ciphers when none are given: forward secrecy and AEAD only
 * (TLS 1.3's suites are all of that kind and keep OpenSSL's default). */
#define DEFAULT_CIPHERS                                                                   \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                          \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                          \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define GATHER_BYTES 16384 /* one TLS record's worth of small pieces */

struct chd_tls_ctx {
    SSL_CTX *ssl[CHD_TLS_MAX_CERTS];
    X509 *leaf[CHD_TLS_MAX_CERTS]; /* borrowed from ssl[i], for SNI matching */
    int ncerts;
    pthread_rwlock_t keys_lock;
    uint8_t keys[CHD_TLS_MAX_TICKET_KEYS][CHD_TLS_TICKET_KEY_BYTES];
    int nkeys;
};

struct chd_tls_conn {
    SSL *ssl;
    chd_tls_ctx_t *ctx;
    char error[160];
};

static int conn_index = -1; /* SSL ex_data slot: the chd_tls_conn_t */
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
    conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL's first queued error as one line, the queue emptied. */
static void take_openssl_error(char *buf, size_t len, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[120] = "unknown error";
    if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    snprintf(buf, len, "%s: %s", what, detail);
}

/* ---- the context ---------------------------------------------------------- */

static const unsigned char ALPN_HTTP11[] = "\x08http/1.1";

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *chosen;
    if (SSL_select_next_proto(&chosen, outlen, ALPN_HTTP11, sizeof ALPN_HTTP11 - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL; /* h2 only, say: no common protocol */
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

/* SNI: the first certificate whose names match, else the default one. */
static int select_certificate(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    chd_tls_ctx_t *ctx = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name)
        return SSL_TLSEXT_ERR_NOACK;
    for (int i = 0; i < ctx->ncerts; i++) {
        if (X509_check_host(ctx->leaf[i], name, 0, 0, NULL) == 1) {
            if (i > 0)
                SSL_set_SSL_CTX(ssl, ctx->ssl[i]);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK; /* the default certificate; the client decides */
}

/* Finds a ticket key by name; -1 when none. Under the read lock. */
static int find_key(const chd_tls_ctx_t *ctx, const unsigned char *name)
{
    for (int i = 0; i < ctx->nkeys; i++)
        if (memcmp(ctx->keys[i], name, 16) == 0)
            return i;
    return -1;
}

static int init_ticket_crypto(const uint8_t *key, unsigned char *iv, EVP_CIPHER_CTX *cipher,
                              EVP_MAC_CTX *mac, int enc)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)(key + 48), 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(mac, params))
        return -1;
    if (enc)
        return EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key + 16, iv) ? 0 : -1;
    return EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key + 16, iv) ? 0 : -1;
}

/* OpenSSL's ticket callback: 1 use the key, 2 use it and issue a fresh
 * ticket (an older key), 0 no ticket / full handshake, -1 error. */
static int ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char iv[16],
                         EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int enc)
{
    chd_tls_conn_t *conn = SSL_get_ex_data(ssl, conn_index);
    chd_tls_ctx_t *ctx = conn->ctx;
    int rc = 0;
    pthread_rwlock_rdlock(&ctx->keys_lock);
    if (enc) {
        if (ctx->nkeys > 0 && RAND_bytes(iv, 16) == 1) {
            memcpy(name, ctx->keys[0], 16);
            rc = init_ticket_crypto(ctx->keys[0], iv, cipher, mac, 1) == 0 ? 1 : -1;
        }
    } else {
        int k = find_key(ctx, name);
        if (k >= 0)
            rc = init_ticket_crypto(ctx->keys[k], iv, cipher, mac, 0) < 0 ? -1 : k == 0 ? 1 : 2;
    }
    pthread_rwlock_unlock(&ctx->keys_lock);
    return rc;
}

/* A client certificate failing verification fails the handshake; without
 * one, verify_client decides (SSL_VERIFY_FAIL_IF_NO_PEER_CERT). */
static int load_client_cas(SSL_CTX *ssl, const chd_tls_settings_t *s, char *err, size_t errlen)
{
    if (!s->ca_certs)
        return 0;
    if (SSL_CTX_load_verify_locations(ssl, s->ca_certs, NULL) != 1) {
        take_openssl_error(err, errlen, s->ca_certs);
        return -1;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(s->ca_certs);
    if (names)
        SSL_CTX_set_client_CA_list(ssl, names);
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | (s->verify_client ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
    return 0;
}

static SSL_CTX *new_ssl_ctx(chd_tls_ctx_t *ctx, const chd_tls_settings_t *s, int i, char *err,
                            size_t errlen)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    const char *keyfile = s->keyfile[i] ? s->keyfile[i] : s->certfile[i];
    if (!ssl) {
        take_openssl_error(err, errlen, "TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_ENABLE_KTLS | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF); /* tickets only: shared by children */
    SSL_CTX_set_num_tickets(ssl, 1); /* TLS 1.3: one resumes as well as two, at half the cost */
    if (SSL_CTX_set_cipher_list(ssl, s->ciphers ? s->ciphers : DEFAULT_CIPHERS) != 1) {
        take_openssl_error(err, errlen, "cipher list");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ssl, s->certfile[i]) != 1) {
        take_openssl_error(err, errlen, s->certfile[i]);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ssl, keyfile, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl) != 1) {
        take_openssl_error(err, errlen, keyfile);
        goto fail;
    }
    if (load_client_cas(ssl, s, err, errlen) < 0)
        goto fail;
    SSL_CTX_set_alpn_select_cb(ssl, select_alpn, NULL);
    SSL_CTX_set_tlsext_servername_callback(ssl, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(ssl, ctx);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ssl, ticket_key_cb);
    return ssl;
fail:
    SSL_CTX_free(ssl);
    return NULL;
}

chd_tls_ctx_t *chd_tls_ctx_new(const chd_tls_settings_t *s, char *err, size_t errlen)
{
    pthread_once(&index_once, make_index);
    if (s->ncerts < 1 || s->ncerts > CHD_TLS_MAX_CERTS) {
        snprintf(err, errlen, "between 1 and %d certificates", CHD_TLS_MAX_CERTS);
        return NULL;
    }
    chd_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_rwlock_init(&ctx->keys_lock, NULL);
    for (int i = 0; i < s->ncerts; i++) {
        ctx->ssl[i] = new_ssl_ctx(ctx, s, i, err, errlen);
        if (!ctx->ssl[i]) {
            chd_tls_ctx_free(ctx);
            return NULL;
        }
        ctx->leaf[i] = SSL_CTX_get0_certificate(ctx->ssl[i]);
        ctx->ncerts++;
    }
    return ctx;
}

void chd_tls_ctx_free(chd_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < ctx->ncerts; i++)
        SSL_CTX_free(ctx->ssl[i]);
    pthread_rwlock_destroy(&ctx->keys_lock);
    OPENSSL_cleanse(ctx->keys, sizeof ctx->keys);
    free(ctx);
}

int chd_tls_ctx_set_ticket_keys(chd_tls_ctx_t *ctx, const uint8_t *keys, int n)
{
    if (n < 0 || n > CHD_TLS_MAX_TICKET_KEYS)
        return -EINVAL;
    pthread_rwlock_wrlock(&ctx->keys_lock);
    OPENSSL_cleanse(ctx->keys, sizeof ctx->keys);
    if (n)
        memcpy(ctx->keys, keys, (size_t)n * CHD_TLS_TICKET_KEY_BYTES);
    ctx->nkeys = n;
    pthread_rwlock_unlock(&ctx->keys_lock);
    long off = n ? 0 : (long)SSL_OP_NO_TICKET;
    for (int i = 0; i < ctx->ncerts; i++) {
        if (off)
            SSL_CTX_set_options(ctx->ssl[i], SSL_OP_NO_TICKET);
        else
            SSL_CTX_clear_options(ctx->ssl[i], SSL_OP_NO_TICKET);
    }
    return 0;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int chd_tls_parse_ticket_keys(const char *hex, uint8_t *out)
{
    size_t len = strlen(hex), per_key = 2 * CHD_TLS_TICKET_KEY_BYTES;
    if (len % per_key || len / per_key > CHD_TLS_MAX_TICKET_KEYS)
        return -EINVAL;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(len / per_key);
}

bool chd_tls_looks_like_tls(const unsigned char *bytes, size_t n)
{
    /* A handshake record (22), then a major version of 3 (SSL 3.0 to TLS 1.3
     * all say 3 in the record layer). */
    return n >= 1 && bytes[0] == 0x16 && (n < 2 || bytes[1] == 0x03);
}

/* ---- a connection ---------------------------------------------------------- */

chd_tls_conn_t *chd_tls_conn_new(chd_tls_ctx_t *ctx, int fd)
{
    chd_tls_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->ctx = ctx;
    conn->ssl = SSL_new(ctx->ssl[0]);
    if (!conn->ssl || SSL_set_fd(conn->ssl, fd) != 1) {
        SSL_free(conn->ssl);
        free(conn);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_ex_data(conn->ssl, conn_index, conn);
    SSL_set_accept_state(conn->ssl);
    return conn;
}

void chd_tls_conn_free(chd_tls_conn_t *conn)
{
    if (!conn)
        return;
    SSL_free(conn->ssl);
    free(conn);
}

/* Maps an SSL_* result (rc <= 0) to WANT_*, 0 (a close) or FAILED. */
static int settle(chd_tls_conn_t *conn, int rc, const char *what)
{
    int e = SSL_get_error(conn->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ: return CHD_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CHD_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            /* The peer closed (or reset) without close_notify. */
            snprintf(conn->error, sizeof conn->error, "%s: %s", what,
                     errno ? strerror(errno) : "the peer closed the connection");
            ERR_clear_error();
            return errno && errno != ECONNRESET && errno != EPIPE ? CHD_TLS_FAILED : 0;
        }
        /* fall through */
    default:
        take_openssl_error(conn->error, sizeof conn->error, what);
        return CHD_TLS_FAILED;
    }
}

int chd_tls_handshake(chd_tls_conn_t *conn)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(conn->ssl);
    if (rc == 1)
        return 0;
    rc = settle(conn, rc, "handshake");
    return rc == 0 ? CHD_TLS_FAILED : rc; /* closed before the end: a failure too */
}

ssize_t chd_tls_read(chd_tls_conn_t *conn, void *buf, size_t len)
{
    size_t got = 0;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read_ex(conn->ssl, buf, len, &got);
    if (rc == 1)
        return (ssize_t)got;
    return settle(conn, 0, "read");
}

bool chd_tls_pending(chd_tls_conn_t *conn)
{
    return SSL_pending(conn->ssl) > 0;
}

/* Copies the leading pieces of iov into buf while they fit; returns the
 * bytes gathered (at least the first piece's, possibly cut). */
static size_t gather(const struct iovec *iov, int iovcnt, char *buf, size_t size)
{
    size_t used = 0;
    for (int i = 0; i < iovcnt && used < size; i++) {
        size_t take = iov[i].iov_len < size - used ? iov[i].iov_len : size - used;
        memcpy(buf + used, iov[i].iov_base, take);
        used += take;
    }
    return used;
}

ssize_t chd_tls_writev(chd_tls_conn_t *conn, const struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0 && iov[0].iov_len == 0) {
        iov++;
        iovcnt--;
    }
    if (iovcnt == 0)
        return 0;
    /* A big first piece goes as it is; small ones are gathered so a
     * response head and a short body make one record, not two. OpenSSL
     * wants the same bytes again after a WANT: gathering the same iov
     * gives the same bytes. */
    char stack[GATHER_BYTES];
    const void *data = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    if (iovcnt > 1 && len < GATHER_BYTES) {
        len = gather(iov, iovcnt, stack, sizeof stack);
        data = stack;
    }
    size_t written = 0;
    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(conn->ssl, data, len, &written) == 1)
        return (ssize_t)written;
    int rc = settle(conn, 0, "write");
    return rc == 0 ? CHD_TLS_FAILED : rc;
}

ssize_t chd_tls_sendfile(chd_tls_conn_t *conn, int fd, off_t *offset, size_t count)
{
    if (chd_tls_ktls_send(conn)) {
        ERR_clear_error();
        errno = 0;
        ossl_ssize_t n = SSL_sendfile(conn->ssl, fd, *offset, count, 0);
        if (n > 0) {
            *offset += n;
            return n;
        }
        int rc = settle(conn, (int)n, "sendfile");
        return rc == 0 ? CHD_TLS_FAILED : rc;
    }
    char buf[GATHER_BYTES];
    ssize_t got = pread(fd, buf, count < sizeof buf ? count : sizeof buf, *offset);
    if (got < 0)
        return -errno;
    if (got == 0)
        return -ENODATA; /* the file is shorter than said */
    struct iovec iov = {buf, (size_t)got};
    ssize_t n = chd_tls_writev(conn, &iov, 1);
    if (n > 0)
        *offset += n;
    return n;
}

void chd_tls_close_notify(chd_tls_conn_t *conn)
{
    ERR_clear_error();
    if (SSL_is_init_finished(conn->ssl))
        SSL_shutdown(conn->ssl);
    ERR_clear_error();
}

/* ---- what was agreed -------------------------------------------------------- */

const char *chd_tls_version(chd_tls_conn_t *conn)
{
    return SSL_is_init_finished(conn->ssl) ? SSL_get_version(conn->ssl) : "";
}

const char *chd_tls_cipher(chd_tls_conn_t *conn)
{
    const char *name = SSL_get_cipher_name(conn->ssl);
    return name && strcmp(name, "(NONE)") != 0 ? name : "";
}

const char *chd_tls_server_name(chd_tls_conn_t *conn)
{
    const char *name = SSL_get_servername(conn->ssl, TLSEXT_NAMETYPE_host_name);
    return name ? name : "";
}

const char *chd_tls_alpn(chd_tls_conn_t *conn)
{
    const unsigned char *proto;
    unsigned int len;
    SSL_get0_alpn_selected(conn->ssl, &proto, &len);
    return len == 8 && memcmp(proto, "http/1.1", 8) == 0 ? "http/1.1" : "";
}

bool chd_tls_resumed(chd_tls_conn_t *conn)
{
    return SSL_session_reused(conn->ssl) == 1;
}

bool chd_tls_ktls_send(chd_tls_conn_t *conn)
{
    return BIO_get_ktls_send(SSL_get_wbio(conn->ssl)) == 1;
}

bool chd_tls_client_subject(chd_tls_conn_t *conn, char *buf, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(conn->ssl);
    if (!peer)
        return false;
    BIO *mem = BIO_new(BIO_s_mem());
    bool ok = false;
    if (mem && X509_NAME_print_ex(mem, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(mem, buf, (int)(len > 1 ? len - 1 : 0));
        buf[n > 0 ? n : 0] = '\0';
        ok = true;
    }
    BIO_free(mem);
    X509_free(peer);
    return ok;
}

const char *chd_tls_error(chd_tls_conn_t *conn)
{
    return conn->error;
}
