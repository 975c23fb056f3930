/* chd_conn: see chd_conn.h. */
#include "chd_conn.h"

#include "chd_response.h"
#include "chd_server.h"
#include "cmn_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

static void process_input(chd_conn_t *conn);
static void reject(chd_conn_t *conn);

static void conn_free(chd_conn_t *conn)
{
    chd_server_t *s = conn->server;
    ev_io_stop(s->loop, &conn->io);
    ev_timer_stop(s->loop, &conn->timer);
    close(conn->fd);
    cmn_buf_free(&conn->rbuf);
    chd_request_free(&conn->req);
    chd_server_remove_conn(s, conn);
    free(conn);
}

static void set_timer(chd_conn_t *conn, double seconds)
{
    ev_timer_stop(conn->server->loop, &conn->timer);
    ev_timer_set(&conn->timer, seconds, 0);
    ev_timer_start(conn->server->loop, &conn->timer);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_conn_t *conn = w->data;
    if (conn->req.phase == CHD_REQ_IDLE && cmn_buf_unread(&conn->rbuf) == 0) {
        conn_free(conn); /* idle keep-alive: a quiet close */
        return;
    }
    conn->req.phase = CHD_REQ_ERROR;
    conn->req.error_status = 408;
    conn->req.error_reason = "request not received in time";
    reject(conn);
}

/* Best-effort answer to a malformed request from the I/O thread, then close.
 * The socket is non-blocking; an answer this small fits the send buffer. */
static void reject(chd_conn_t *conn)
{
    int status = conn->req.error_status ? conn->req.error_status : 400;
    const char *phrase = chd_reason_phrase(status);
    const char *why = conn->req.error_reason ? conn->req.error_reason : phrase;
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     status, phrase, strlen(why) + 1, why);
    if (n > 0 && (size_t)n < sizeof out) {
        ssize_t w = send(conn->fd, out, (size_t)n, MSG_NOSIGNAL);
        (void)w;
    }
    cmn_info("%s:%d: %d %s", conn->peer_addr, conn->peer_port, status, why);
    shutdown(conn->fd, SHUT_WR);
    conn_free(conn);
}

static void dispatch(chd_conn_t *conn)
{
    ev_io_stop(conn->server->loop, &conn->io);
    ev_timer_stop(conn->server->loop, &conn->timer);
    conn->state = CHD_CONN_IN_APP;
    conn->close_after = false;
    conn->continue_sent = false;
    chd_pool_submit(&conn->server->pool, &conn->job);
}

/* Parses what is buffered and dispatches a request once it is ready:
 * complete, or its head is complete and the client awaits "100 Continue" or
 * the pre-read body reached CHD_PREREAD_BYTES. */
static void process_input(chd_conn_t *conn)
{
    chd_request_t *req = &conn->req;
    chd_req_phase_t before = req->phase;
    size_t used = chd_request_feed(req, cmn_buf_head(&conn->rbuf), cmn_buf_unread(&conn->rbuf));
    cmn_buf_consume(&conn->rbuf, used);
    if (before == CHD_REQ_IDLE && req->phase != CHD_REQ_IDLE)
        set_timer(conn, conn->server->cfg->header_timeout);
    switch (req->phase) {
    case CHD_REQ_ERROR:
        reject(conn);
        return;
    case CHD_REQ_DONE:
        dispatch(conn);
        return;
    case CHD_REQ_BODY:
        if (req->expect_continue || cmn_buf_unread(&req->body) >= CHD_PREREAD_BYTES)
            dispatch(conn);
        return;
    default:
        return;
    }
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_conn_t *conn = w->data;
    if (cmn_buf_reserve(&conn->rbuf, CHD_READ_CHUNK) < 0) {
        conn_free(conn);
        return;
    }
    ssize_t n = read(conn->fd, conn->rbuf.data + conn->rbuf.len,
                     conn->rbuf.cap - conn->rbuf.len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_free(conn);
        return;
    }
    conn->rbuf.len += (size_t)n;
    process_input(conn);
}

static void describe_peer(chd_conn_t *conn, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &in->sin_addr, conn->peer_addr, sizeof conn->peer_addr);
        conn->peer_port = ntohs(in->sin_port);
    } else if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, conn->peer_addr, sizeof conn->peer_addr);
        conn->peer_port = ntohs(in6->sin6_port);
    } else {
        snprintf(conn->peer_addr, sizeof conn->peer_addr, "unix");
    }
}

chd_conn_t *chd_conn_open(chd_server_t *server, int fd, const struct sockaddr *peer)
{
    chd_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) {
        close(fd);
        return NULL;
    }
    conn->server = server;
    conn->fd = fd;
    conn->state = CHD_CONN_WAITING;
    chd_request_init(&conn->req, &server->cfg->limits);
    describe_peer(conn, peer);
    conn->via_trusted_proxy = cmn_iplist_has(&server->cfg->trusted_proxies, conn->peer_addr);
    ev_io_init(&conn->io, on_readable, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    chd_server_add_conn(server, conn);
    ev_io_start(server->loop, &conn->io);
    set_timer(conn, conn->server->cfg->header_timeout);
    return conn;
}

void chd_conn_request_done(chd_conn_t *conn)
{
    conn->state = CHD_CONN_WAITING;
    if (conn->close_after || chd_server_closing(conn->server)) {
        conn_free(conn);
        return;
    }
    chd_request_reset(&conn->req);
    cmn_buf_shrink(&conn->rbuf, 64 * 1024);
    ev_io_start(conn->server->loop, &conn->io);
    set_timer(conn, conn->server->cfg->keepalive);
    if (cmn_buf_unread(&conn->rbuf) > 0)
        process_input(conn); /* a pipelined request is already here */
}

bool chd_conn_close_if_idle(chd_conn_t *conn)
{
    if (conn->state != CHD_CONN_WAITING || conn->req.phase != CHD_REQ_IDLE ||
        cmn_buf_unread(&conn->rbuf) > 0)
        return false;
    conn_free(conn);
    return true;
}

/* Worker side. The socket stays non-blocking (the I/O thread relies on
 * that); waiting is done with poll() so every wait is bounded. */

static int wait_for(chd_conn_t *conn, short events)
{
    struct pollfd p = {.fd = conn->fd, .events = events};
    int timeout_ms = (int)(conn->server->cfg->body_timeout * 1000);
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        ssize_t n = sendmsg(conn->fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            int rc = wait_for(conn, POLLOUT);
            if (rc < 0)
                return rc;
            continue;
        }
        /* Skip what was written. */
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

int chd_conn_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count)
{
    while (count > 0) {
        ssize_t n = sendfile(conn->fd, fd, offset, count);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            int rc = wait_for(conn, POLLOUT);
            if (rc < 0)
                return rc;
            continue;
        }
        if (n == 0)
            return -EIO; /* the file is shorter than announced */
        count -= (size_t)n;
    }
    return 0;
}

static int send_continue(chd_conn_t *conn)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)line, sizeof line - 1};
    conn->continue_sent = true;
    return chd_conn_send(conn, &iov, 1);
}

/* Reads once from the socket (waiting if needed) and parses what came. */
static int read_and_parse(chd_conn_t *conn)
{
    chd_request_t *req = &conn->req;
    if (cmn_buf_unread(&conn->rbuf) == 0) {
        if (cmn_buf_reserve(&conn->rbuf, CHD_READ_CHUNK) < 0)
            return -ENOMEM;
        ssize_t n;
        for (;;) {
            n = read(conn->fd, conn->rbuf.data + conn->rbuf.len, conn->rbuf.cap - conn->rbuf.len);
            if (n >= 0 || errno != EAGAIN)
                break;
            int rc = wait_for(conn, POLLIN);
            if (rc < 0)
                return rc;
        }
        if (n < 0)
            return errno == EINTR ? 0 : -errno;
        if (n == 0)
            return -ECONNRESET;
        conn->rbuf.len += (size_t)n;
    }
    size_t used = chd_request_feed(req, cmn_buf_head(&conn->rbuf), cmn_buf_unread(&conn->rbuf));
    cmn_buf_consume(&conn->rbuf, used);
    return req->phase == CHD_REQ_ERROR ? -EPROTO : 0;
}

int chd_conn_read_body(chd_conn_t *conn)
{
    chd_request_t *req = &conn->req;
    if (req->expect_continue && !conn->continue_sent && req->phase == CHD_REQ_BODY) {
        int rc = send_continue(conn);
        if (rc < 0)
            return rc;
    }
    size_t had = cmn_buf_unread(&req->body);
    while (req->phase == CHD_REQ_BODY && cmn_buf_unread(&req->body) == had) {
        int rc = read_and_parse(conn);
        if (rc == -ETIMEDOUT) {
            req->phase = CHD_REQ_ERROR; /* the client's fault: answer 408 */
            req->error_status = 408;
            req->error_reason = "request body not received in time";
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int chd_conn_discard_body(chd_conn_t *conn, size_t limit)
{
    chd_request_t *req = &conn->req;
    size_t discarded = cmn_buf_unread(&req->body);
    cmn_buf_clear(&req->body);
    while (req->phase == CHD_REQ_BODY) {
        if (discarded > limit)
            return -EFBIG;
        int rc = read_and_parse(conn);
        if (rc < 0)
            return rc;
        discarded += cmn_buf_unread(&req->body);
        cmn_buf_clear(&req->body);
    }
    return 0;
}
