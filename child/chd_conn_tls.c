/* chd_conn_tls: see chd_conn_tls.h. */
#include "chd_conn_tls.h"

#include "chd_proxyproto.h"
#include "cmn_log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Maps chd_tls's results to a system call's. */
static ssize_t as_syscall(chd_conn_t *conn, ssize_t rc)
{
    if (rc >= 0)
        return rc;
    if (rc == CHD_TLS_WANT_READ || rc == CHD_TLS_WANT_WRITE) {
        conn->tls_wants = rc == CHD_TLS_WANT_READ ? POLLIN : POLLOUT;
        return -EAGAIN;
    }
    return -EPROTO;
}

/* recv() past EINTR: the byte count, 0 at end of file, or -errno. */
static ssize_t recv_some(int fd, void *buf, size_t len, int flags)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, flags);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* The first bytes are not a TLS handshake: plain HTTP (a letter first, as a
 * method is) gets a 400 it can read; anything else just a close. */
static ssize_t not_tls(chd_conn_t *conn, unsigned char first)
{
    chd_tls_conn_free(conn->tls);
    conn->tls = NULL; /* the answer goes out in plain text */
    conn->transport = NULL;
    if ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))
        chd_conn_fail(conn, 400, CHD_CLOSE_NOT_TLS);
    else
        chd_conn_fail(conn, 0, CHD_CLOSE_TLS_FAILED);
    return -EPROTO;
}

/* Before any TLS, once: looks at the first byte without taking it. Returns
 * 1 to go on with the handshake, 0 at end of file (a client that connected
 * and left: nothing to log), or a negative result for the read. */
static ssize_t sniff(chd_conn_t *conn)
{
    unsigned char first;
    ssize_t n = recv_some(conn->fd, &first, 1, MSG_PEEK);
    if (n <= 0) {
        conn->tls_wants = POLLIN;
        return n;
    }
    conn->tls_sniffed = true;
    return chd_tls_looks_like_tls(&first, 1) ? 1 : not_tls(conn, first);
}

/* Takes n bytes that a peek saw off the socket, into buf. */
static int take_peeked(chd_conn_t *conn, char *buf, size_t n)
{
    return recv_some(conn->fd, buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

/* Keeps the bytes of a header not complete yet: taken off the socket (so
 * it is not readable again until more come) and kept for the next try. */
static ssize_t keep_partial(chd_conn_t *conn, char *bytes, size_t n)
{
    if (take_peeked(conn, bytes, n) < 0)
        return -EIO;
    if (cmn_buf_append(&conn->tls_proxy, bytes, n) < 0) {
        chd_conn_fail(conn, 0, CHD_CLOSE_OUT_OF_MEMORY);
        return -EPROTO;
    }
    conn->tls_wants = POLLIN;
    return -EAGAIN;
}

/* --proxy-protocol: the PROXY header comes first, in cleartext, then the
 * handshake. OpenSSL reads the socket itself, so not a byte after the
 * header may be taken: the bytes are looked at with MSG_PEEK and only the
 * header's are taken. Returns 1 to go on with the handshake, 0 at end of
 * file, or a negative result for the read (-EPROTO: dropped, or not TLS). */
static ssize_t proxy_first(chd_conn_t *conn)
{
    char bytes[CHD_PROXY_MAX_LEN];
    size_t had = cmn_buf_unread(&conn->tls_proxy); /* < CHD_PROXY_MAX_LEN: a verdict comes by then */
    if (had > 0)
        memcpy(bytes, cmn_buf_head(&conn->tls_proxy), had);
    ssize_t n = recv_some(conn->fd, bytes + had, sizeof bytes - had, MSG_PEEK);
    if (n <= 0) {
        conn->tls_wants = POLLIN;
        return n;
    }
    int rc = chd_conn_proxy_stage(conn, bytes, had + (size_t)n);
    if (rc == -EAGAIN)
        return keep_partial(conn, bytes + had, (size_t)n);
    if (rc < 0) {
        /* Taken, as on a plain address: the close is then a FIN, not a
         * reset for unread bytes. */
        take_peeked(conn, bytes + had, (size_t)n);
        chd_conn_fail(conn, 0, CHD_CLOSE_PROXY_REFUSED);
        return -EPROTO;
    }
    if ((size_t)rc > had && take_peeked(conn, bytes + had, (size_t)rc - had) < 0)
        return -EIO;
    cmn_buf_free(&conn->tls_proxy);
    if (rc == 0 && had > 0) /* an untrusted peer's first bytes looked like a header, were not */
        return not_tls(conn, (unsigned char)bytes[0]);
    return 1;
}

/* Advances the handshake: 0 once it is over (or at end of file before it
 * began), else a negative result for the read. */
static ssize_t handshake(chd_conn_t *conn)
{
    if (!conn->tls_sniffed) {
        ssize_t rc = conn->proxy_stage != CHD_PROXY_STAGE_NONE ? proxy_first(conn) : 1;
        if (rc > 0)
            rc = sniff(conn);
        if (rc <= 0)
            return rc;
    }
    ssize_t rc = chd_tls_handshake(conn->tls);
    if (rc == 0) {
        conn->tls_ready = true;
        return 0;
    }
    if (rc == CHD_TLS_FAILED) {
        cmn_info("%s:%d: TLS handshake failed: %s", conn->peer_addr, conn->peer_port,
                 chd_tls_error(conn->tls));
        chd_conn_fail(conn, 0, CHD_CLOSE_TLS_FAILED);
    }
    return as_syscall(conn, rc);
}

static ssize_t tls_read(chd_conn_t *conn, char *buf, size_t len)
{
    if (!conn->tls_ready) {
        ssize_t rc = handshake(conn);
        if (rc < 0 || !conn->tls_ready)
            return rc; /* 0: the client left before its first byte */
    }
    size_t got = 0;
    /* One record at a time comes out of OpenSSL: take what is already
     * decrypted too, so nothing waits inside it for a readiness event that
     * the socket will not give. */
    do {
        ssize_t n = chd_tls_read(conn->tls, buf + got, len - got);
        if (n <= 0) {
            if (got > 0)
                return (ssize_t)got;
            if (n == CHD_TLS_FAILED)
                chd_conn_fail(conn, 0, CHD_CLOSE_TLS_FAILED);
            return as_syscall(conn, n);
        }
        got += (size_t)n;
    } while (got < len && chd_tls_pending(conn->tls));
    return (ssize_t)got;
}

static ssize_t tls_writev(chd_conn_t *conn, const struct iovec *iov, int iovcnt)
{
    ssize_t n = chd_tls_writev(conn->tls, iov, iovcnt);
    return n == CHD_TLS_FAILED ? -EPIPE : as_syscall(conn, n);
}

static ssize_t tls_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count)
{
    ssize_t n = chd_tls_sendfile(conn->tls, fd, offset, count);
    if (n == -ENODATA)
        return 0; /* the file is shorter than said: as sendfile's 0 */
    return n == CHD_TLS_FAILED ? -EPIPE : as_syscall(conn, n);
}

/* close_notify, best effort, once the handshake is over. */
static void tls_goodbye(chd_conn_t *conn)
{
    if (conn->tls && conn->tls_ready)
        chd_tls_close_notify(conn->tls);
}

/* The TLS state freed; before close(fd). */
static void tls_end(chd_conn_t *conn)
{
    chd_tls_conn_free(conn->tls);
    conn->tls = NULL;
}

static const chd_conn_transport_t tls_transport = {.read = tls_read,
                                                   .writev = tls_writev,
                                                   .sendfile = tls_sendfile,
                                                   .goodbye = tls_goodbye,
                                                   .end = tls_end};

bool chd_conn_tls_facts(chd_conn_t *conn, chd_conn_tls_facts_t *out)
{
    if (!conn->tls || !chd_conn_hold_transport(conn))
        return false;
    chd_tls_conn_t *tls = conn->tls;
    out->client_cert = chd_tls_client_subject(tls, out->client_subject, sizeof out->client_subject);
    snprintf(out->version, sizeof out->version, "%s", chd_tls_version(tls));
    snprintf(out->cipher, sizeof out->cipher, "%s", chd_tls_cipher(tls));
    snprintf(out->server_name, sizeof out->server_name, "%s", chd_tls_server_name(tls));
    chd_conn_release_transport(conn);
    return true;
}

int chd_conn_tls_start(chd_conn_t *conn, chd_tls_ctx_t *ctx)
{
    conn->tls = chd_tls_conn_new(ctx, conn->fd);
    if (!conn->tls)
        return -ENOMEM;
    conn->transport = &tls_transport;
    return 0;
}
