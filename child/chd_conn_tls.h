/* chd_conn_tls: a connection's bytes through TLS (chd_tls.h).
 *
 * The connection's I/O (chd_conn.c) calls its transport's functions
 * instead of the socket's system calls, with the same results: a byte count,
 * 0 at end of file, -EAGAIN when the socket must be waited for (then
 * conn->tls_wants says for what: a TLS write can need a read and the other
 * way round), or another -errno. So the drivers need not know TLS is there.
 *
 * The handshake happens on the first reads, on the loop like a request
 * head, bounded by --header-timeout (chd_conn_is_idle is false until it is
 * over). Before it, the first bytes are looked at without taking them: a
 * client speaking plain HTTP to the TLS address gets a 400 in plain text
 * (NOT_TLS, as nginx does), anything else that is not TLS a close
 * (TLS_FAILED); a failed handshake is logged at info with OpenSSL's reason.
 * Both fail the connection and return -EPROTO.
 *
 * With --proxy-protocol the PROXY header comes before the handshake, in
 * cleartext (as nginx's `listen ... ssl proxy_protocol` and HAProxy's
 * `send-proxy` to an `ssl` server have it), under the rules of plain
 * addresses (chd_conn_proxy_stage: required from trusted peers, refused
 * from others) and within the same --header-timeout as the handshake.
 * OpenSSL reads the socket itself, so the header is read with MSG_PEEK and
 * exactly its bytes are taken; the bytes of a header not complete yet are
 * taken and kept in conn->tls_proxy. A refused header fails the connection
 * (PROXY_REFUSED, nothing answered) and returns -EPROTO. */
#ifndef CHD_CONN_TLS_H
#define CHD_CONN_TLS_H

#include "chd_conn.h"

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Makes a new connection a TLS one (right after chd_conn_new): installs
 * the TLS transport (conn->transport, chd_conn.h), through which the
 * connection's reads, writes and sendfile go from then on, and which
 * sends close_notify and frees the TLS state when the connection ends.
 * Returns 0, or -ENOMEM (the caller destroys the connection). */
int chd_conn_tls_start(chd_conn_t *conn, chd_tls_ctx_t *ctx);

/* What a TLS connection's requests are told of it (the environ's SSL_*). */
typedef struct {
    char version[32];         /* "TLSv1.3" */
    char cipher[64];          /* "TLS_AES_256_GCM_SHA384" */
    char server_name[256];    /* the SNI name, or "" */
    bool client_cert;         /* the client sent a certificate: */
    char client_subject[512]; /* its subject (RFC 2253) */
} chd_conn_tls_facts_t;

/* Copies conn's TLS facts, on the thread that runs its request (or the
 * loop's), holding its transport (chd_conn_hold_transport). Returns false,
 * nothing copied, when conn is plain, or once --timeout's watchdog took the
 * request over (the TLS state is its own then). */
bool chd_conn_tls_facts(chd_conn_t *conn, chd_conn_tls_facts_t *out);

#endif
