/* chd_tls: TLS for a child's connections, with OpenSSL, never blocking.
 *
 * A context (chd_tls_ctx_t) holds what every TLS connection of a listening
 * address shares: its certificates (the first is the default; a client's
 * SNI name picks another whose names match, X509_check_host), TLS 1.2 and
 * 1.3 only, a modern cipher list, ALPN "http/1.1", optional client
 * certificates (mutual TLS), and the session ticket keys. The keys are not
 * OpenSSL's own per-process secret: the controller generates them, rotates
 * them and hands them to every child (chd_tls_ctx_set_ticket_keys), so a
 * ticket issued by one child resumes on any other, and a rotation retires
 * the old keys everywhere. A context is built once per child and shared by
 * all threads (OpenSSL's contexts are thread-safe; the ticket keys are
 * swapped under a lock).
 *
 * A connection (chd_tls_conn_t) wraps one accepted non-blocking socket. Every
 * call does what it can without waiting and says what it would wait for:
 * CHD_TLS_WANT_READ or CHD_TLS_WANT_WRITE (then wait for the socket and call
 * again, with the same arguments for a write). A connection belongs to one
 * thread at a time, like the socket. Decrypted bytes can sit inside OpenSSL
 * while the socket has nothing to read: check chd_tls_pending before
 * waiting for input.
 *
 * With kernel TLS (Linux's tls module and an OpenSSL built for it), record
 * encryption moves to the kernel after the handshake and chd_tls_sendfile
 * sends a file without copying it through user space; without it,
 * chd_tls_sendfile reads and writes through OpenSSL, same result. */
#ifndef CHD_TLS_H
#define CHD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CHD_TLS_MAX_CERTS 16
/* A ticket key as the controller sends it: a 16-byte name, a 32-byte AES
 * key and a 32-byte HMAC key. */
#define CHD_TLS_TICKET_KEY_BYTES 80
#define CHD_TLS_MAX_TICKET_KEYS 4

/* What a call that could not finish needs (negative, so a byte count or 0
 * is never one of them). */
enum {
    CHD_TLS_WANT_READ = -1000,
    CHD_TLS_WANT_WRITE = -1001,
    CHD_TLS_FAILED = -1002, /* a protocol or certificate error: close (chd_tls_error says why) */
};

typedef struct {
    const char *certfile[CHD_TLS_MAX_CERTS]; /* PEM: the certificate, then its chain */
    const char *keyfile[CHD_TLS_MAX_CERTS];  /* PEM key; NULL: the key is in certfile */
    int ncerts;                              /* at least 1 */
    const char *ca_certs;                    /* client CAs (PEM), or NULL: no client certs */
    bool verify_client;                      /* a client certificate is required, not optional */
    const char *ciphers;                     /* TLS 1.2 cipher list; NULL: a modern default */
} chd_tls_settings_t;

typedef struct chd_tls_ctx chd_tls_ctx_t;
typedef struct chd_tls_conn chd_tls_conn_t;

/* Loads the certificates and keys (each key must match its certificate).
 * Returns NULL with a one-line reason in err (naming the file) on failure. */
chd_tls_ctx_t *chd_tls_ctx_new(const chd_tls_settings_t *settings, char *err, size_t errlen);

void chd_tls_ctx_free(chd_tls_ctx_t *ctx);

/* Replaces the session ticket keys: n keys of CHD_TLS_TICKET_KEY_BYTES each,
 * the first encrypts new tickets, all of them decrypt (a ticket under an
 * older key is honoured and renewed). n == 0 turns tickets off. Any thread.
 * Returns 0 or -EINVAL (n too large). */
int chd_tls_ctx_set_ticket_keys(chd_tls_ctx_t *ctx, const uint8_t *keys, int n);

/* Decodes the controller's hex form of ticket keys (ctl_tlskeys.h) into
 * out (room for CHD_TLS_MAX_TICKET_KEYS keys). Returns the number of keys,
 * or -EINVAL when the text is not whole keys in hex. */
int chd_tls_parse_ticket_keys(const char *hex, uint8_t *out);

/* True when the first bytes a client sent can start a TLS handshake (a
 * handshake record); false for anything else, plain HTTP included. n >= 1. */
bool chd_tls_looks_like_tls(const unsigned char *bytes, size_t n);

/* A TLS server connection on fd (not taken over: the caller closes it).
 * NULL when out of memory. */
chd_tls_conn_t *chd_tls_conn_new(chd_tls_ctx_t *ctx, int fd);

void chd_tls_conn_free(chd_tls_conn_t *conn);

/* Advances the handshake: 0 once it is complete, CHD_TLS_WANT_*, or
 * CHD_TLS_FAILED (the client is not speaking TLS, offered no common
 * protocol, or its certificate was refused). */
int chd_tls_handshake(chd_tls_conn_t *conn);

/* Reads decrypted bytes: a count > 0, 0 when the peer closed (with or
 * without close_notify), CHD_TLS_WANT_*, or CHD_TLS_FAILED. */
ssize_t chd_tls_read(chd_tls_conn_t *conn, void *buf, size_t len);

/* Decrypted bytes already inside OpenSSL, readable without the socket. */
bool chd_tls_pending(chd_tls_conn_t *conn);

/* Writes some of iov (small pieces are gathered into one record): the bytes
 * taken (> 0), CHD_TLS_WANT_*, or CHD_TLS_FAILED. After a WANT, call again
 * with the same bytes. */
ssize_t chd_tls_writev(chd_tls_conn_t *conn, const struct iovec *iov, int iovcnt);

/* Sends up to count bytes of file fd from *offset (advanced): kernel TLS
 * sendfile when the connection has it, else a read and a write. Returns the
 * bytes sent (> 0), CHD_TLS_WANT_*, CHD_TLS_FAILED, or -errno from reading
 * the file. */
ssize_t chd_tls_sendfile(chd_tls_conn_t *conn, int fd, off_t *offset, size_t count);

/* Sends close_notify, best effort, without waiting. */
void chd_tls_close_notify(chd_tls_conn_t *conn);

/* What was agreed, for the environ and the logs ("" when not known yet). */
const char *chd_tls_version(chd_tls_conn_t *conn);     /* "TLSv1.3" */
const char *chd_tls_cipher(chd_tls_conn_t *conn);      /* "TLS_AES_256_GCM_SHA384" */
const char *chd_tls_server_name(chd_tls_conn_t *conn); /* the SNI name, or "" */
const char *chd_tls_alpn(chd_tls_conn_t *conn);        /* "http/1.1", or "" */
bool chd_tls_resumed(chd_tls_conn_t *conn);            /* a session ticket was used */
bool chd_tls_ktls_send(chd_tls_conn_t *conn);          /* the kernel encrypts what we send */

/* The client certificate's subject as an RFC 2253 string into buf; false
 * when the client sent none. */
bool chd_tls_client_subject(chd_tls_conn_t *conn, char *buf, size_t len);

/* Why the last call failed, one line ("" when it did not). */
const char *chd_tls_error(chd_tls_conn_t *conn);

#endif
