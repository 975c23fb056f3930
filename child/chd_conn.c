/* chd_conn: see chd_conn.h. */
#include "chd_conn.h"

#include "chd_proxyproto.h"
#include "chd_response.h"
#include "cmn_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

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
        /* A UNIX socket's peer has no address: REMOTE_ADDR is empty, as
         * with other servers, unless the proxy in front says who it is. */
        conn->peer_addr[0] = '\0';
        conn->peer_port = 0;
    }
}

static void list_add(chd_conn_env_t *env, chd_conn_t *conn)
{
    conn->prev = NULL;
    conn->next = env->conns;
    if (env->conns)
        env->conns->prev = conn;
    env->conns = conn;
    atomic_fetch_add(&env->stats->connections, 1);
}

static void list_remove(chd_conn_env_t *env, chd_conn_t *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        env->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    atomic_fetch_sub(&env->stats->connections, 1);
}

chd_conn_t *chd_conn_new(chd_conn_env_t *env, int fd, const struct sockaddr *peer)
{
    chd_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) {
        close(fd);
        return NULL;
    }
    conn->env = env;
    conn->fd = fd;
    atomic_init(&conn->state, CHD_CONN_WAITING);
    atomic_init(&conn->last_done, chd_monotonic());
    chd_request_init(&conn->req, &env->cfg->limits);
    describe_peer(conn, peer);
    /* Only local processes allowed by the socket file's permissions reach
     * a UNIX socket: that is the proxy in front, so its Forwarded and
     * X-Forwarded-* fields are believed. */
    conn->via_trusted_proxy = peer->sa_family == AF_UNIX ||
                              cmn_iplist_has(&env->cfg->trusted_proxies, conn->peer_addr);
    if (env->cfg->proxy_protocol)
        conn->proxy_stage = conn->via_trusted_proxy ? CHD_PROXY_STAGE_REQUIRED
                                                    : CHD_PROXY_STAGE_REFUSED;
    list_add(env, conn);
    return conn;
}

void chd_conn_destroy(chd_conn_t *conn)
{
    close(conn->fd);
    cmn_buf_free(&conn->rbuf);
    chd_request_free(&conn->req);
    chd_conn_env_t *env = conn->env;
    list_remove(env, conn);
    free(conn);
    if (env->on_close)
        env->on_close(env->owner);
}

int chd_conn_read_some(chd_conn_t *conn)
{
    if (cmn_buf_reserve(&conn->rbuf, CHD_READ_CHUNK) < 0)
        return -ENOMEM;
    ssize_t n;
    do
        n = read(conn->fd, conn->rbuf.data + conn->rbuf.len, conn->rbuf.cap - conn->rbuf.len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    conn->rbuf.len += (size_t)n;
    return (int)n;
}

/* The client a PROXY header names becomes the peer. Its own Forwarded /
 * X-Forwarded-* fields are believed only when that address is itself in
 * --forwarded-allow-ips: a TCP proxy relays the client's HTTP bytes
 * untouched, so believing them would let any client pick its REMOTE_ADDR. */
static void take_proxy_header(chd_conn_t *conn, const chd_proxy_header_t *h)
{
    if (h->local)
        return; /* the proxy's own connection (a health check): it is the peer */
    if (h->family == AF_UNSPEC) {
        conn->via_trusted_proxy = false; /* relayed for a client the proxy cannot name */
        return;
    }
    inet_ntop(h->family, h->src, conn->peer_addr, sizeof conn->peer_addr);
    conn->peer_port = h->src_port;
    conn->via_trusted_proxy = cmn_iplist_has(&conn->env->cfg->trusted_proxies, conn->peer_addr);
}

/* The PROXY stage at the front of a connection, on the bytes in rbuf.
 * Returns 0 once it is over (HTTP goes on from rbuf), -EAGAIN while more
 * bytes are needed, -EPROTO when the connection must be dropped (logged
 * here: no HTTP answer goes to a peer that is not speaking HTTP). */
static int proxy_stage(chd_conn_t *conn)
{
    const char *data = cmn_buf_head(&conn->rbuf);
    size_t len = cmn_buf_unread(&conn->rbuf);
    if (conn->proxy_stage == CHD_PROXY_STAGE_REFUSED) {
        chd_proxy_detect_t seen = chd_proxy_detect(data, len);
        if (seen == CHD_PROXY_DETECT_MORE)
            return -EAGAIN;
        conn->proxy_stage = CHD_PROXY_STAGE_NONE;
        if (seen == CHD_PROXY_DETECT_NONE)
            return 0;
        cmn_info("%s:%d: PROXY header from a peer not in --forwarded-allow-ips: closed",
                 conn->peer_addr, conn->peer_port);
        return -EPROTO;
    }
    chd_proxy_header_t h;
    chd_proxy_verdict_t verdict = chd_proxy_parse(data, len, &h);
    if (verdict == CHD_PROXY_MORE)
        return -EAGAIN;
    if (verdict == CHD_PROXY_BAD) {
        cmn_info("%s:%d: expected a PROXY header: %s; closed", conn->peer_addr, conn->peer_port,
                 h.why);
        return -EPROTO;
    }
    cmn_buf_consume(&conn->rbuf, h.length);
    conn->proxy_stage = CHD_PROXY_STAGE_NONE;
    take_proxy_header(conn, &h);
    return 0;
}

static chd_parse_result_t parse_result(const chd_request_t *req);

chd_parse_result_t chd_conn_parse(chd_conn_t *conn)
{
    if (__builtin_expect(conn->proxy_stage != CHD_PROXY_STAGE_NONE, 0)) {
        int rc = proxy_stage(conn);
        if (rc < 0)
            return rc == -EAGAIN ? CHD_PARSE_MORE : CHD_PARSE_DROP;
    }
    size_t used = chd_request_feed(&conn->req, cmn_buf_head(&conn->rbuf),
                                   cmn_buf_unread(&conn->rbuf));
    cmn_buf_consume(&conn->rbuf, used);
    return parse_result(&conn->req);
}

static chd_parse_result_t out_of_memory(chd_conn_t *conn)
{
    conn->req.phase = CHD_REQ_ERROR;
    conn->req.error_status = 500;
    conn->req.error_reason = "out of memory";
    return CHD_PARSE_BAD;
}

chd_parse_result_t chd_conn_parse_bytes(chd_conn_t *conn, const char *data, size_t len)
{
    if (__builtin_expect(conn->proxy_stage != CHD_PROXY_STAGE_NONE, 0)) {
        /* A PROXY header may take several reads: its bytes gather in rbuf. */
        if (cmn_buf_append(&conn->rbuf, data, len) < 0)
            return out_of_memory(conn);
        return chd_conn_parse(conn);
    }
    size_t used = chd_request_feed(&conn->req, data, len);
    if (used < len && cmn_buf_append(&conn->rbuf, data + used, len - used) < 0)
        return out_of_memory(conn);
    return parse_result(&conn->req);
}

static chd_parse_result_t parse_result(const chd_request_t *req)
{
    switch (req->phase) {
    case CHD_REQ_ERROR:
        return CHD_PARSE_BAD;
    case CHD_REQ_DONE:
        return CHD_PARSE_READY;
    case CHD_REQ_BODY:
        return req->expect_continue || cmn_buf_unread(&req->body) >= CHD_PREREAD_BYTES
                   ? CHD_PARSE_READY
                   : CHD_PARSE_MORE;
    default:
        return CHD_PARSE_MORE;
    }
}

void chd_conn_reject(chd_conn_t *conn)
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
        ssize_t w = send(conn->fd, out, (size_t)n, MSG_NOSIGNAL); /* fits the send buffer */
        (void)w;
        size_t body = strlen(why) + 1;
        if (conn->env->on_answered)
            conn->env->on_answered(conn, status, body, out, (size_t)n - body);
    }
    cmn_info("%s:%d: %d %s", conn->peer_addr, conn->peer_port, status, why);
    if (status >= 500)
        chd_stats_add(&conn->env->stats->responses_5xx, 1);
    shutdown(conn->fd, SHUT_WR);
}

void chd_conn_timed_out(chd_conn_t *conn)
{
    if (conn->proxy_stage == CHD_PROXY_STAGE_REQUIRED)
        cmn_info("%s:%d: no complete PROXY header within --header-timeout: closed",
                 conn->peer_addr, conn->peer_port);
    if (conn->proxy_stage != CHD_PROXY_STAGE_NONE || chd_conn_is_idle(conn))
        return;
    conn->req.phase = CHD_REQ_ERROR;
    conn->req.error_status = 408;
    conn->req.error_reason = "request not received in time";
    chd_conn_reject(conn);
}

double chd_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void chd_conn_begin_request(chd_conn_t *conn)
{
    atomic_store(&conn->state, CHD_CONN_IN_APP);
    conn->request_started = chd_monotonic();
    /* "METHOD target" for the logs and heartbeats, without printf: per request. */
    const char *method = chd_request_method(&conn->req);
    size_t mlen = strlen(method), ulen = conn->req.url_len;
    if (mlen + 1 + ulen >= sizeof conn->request_line)
        ulen = sizeof conn->request_line - mlen - 2;
    memcpy(conn->request_line, method, mlen);
    conn->request_line[mlen] = ' ';
    memcpy(conn->request_line + mlen + 1, chd_request_url(&conn->req), ulen);
    conn->request_line[mlen + 1 + ulen] = '\0';
    conn->close_after = false;
    conn->continue_sent = false;
    atomic_store_explicit(&conn->answer, CHD_ANSWER_OPEN, memory_order_relaxed);
}

bool chd_conn_end_request(chd_conn_t *conn)
{
    atomic_store(&conn->state, CHD_CONN_WAITING);
    return chd_conn_end_request_keep_state(conn);
}

bool chd_conn_end_request_keep_state(chd_conn_t *conn)
{
    /* The response said whether the connection stays open; when it said so,
     * the client may already be sending its next request, so even a
     * draining child keeps its word (that request gets "Connection: close"). */
    if (conn->close_after || atomic_load(&conn->answer) == CHD_ANSWER_TIMED_OUT)
        return false; /* ... or --timeout answered it: the socket is shut */
    /* An idle keep-alive connection should cost little more than its
     * struct: give the request's buffers back (malloc reuses them at once
     * for the next request anyway). */
    chd_request_free(&conn->req);
    chd_request_reset(&conn->req);
    cmn_buf_shrink(&conn->rbuf, 0);
    atomic_store(&conn->last_done, chd_monotonic());
    return true;
}

bool chd_conn_is_idle(chd_conn_t *conn)
{
    return atomic_load(&conn->state) == CHD_CONN_WAITING && conn->req.phase == CHD_REQ_IDLE &&
           cmn_buf_unread(&conn->rbuf) == 0 && conn->proxy_stage == CHD_PROXY_STAGE_NONE;
}

int chd_conn_poll_wait(chd_conn_t *conn, short events, int timeout_ms)
{
    struct pollfd p = {.fd = conn->fd, .events = events};
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

/* Request side. The socket stays non-blocking (the I/O thread relies on
 * that); waits go through the server's wait function (poll() in threaded
 * mode, the gevent hub in green mode), bounded by --body-timeout. */

static int wait_for(chd_conn_t *conn, short events)
{
    return conn->env->wait(conn, events, (int)(conn->env->cfg->body_timeout * 1000));
}

/* TCP_NODELAY, set before the second write system call on a connection.
 * The first never waits for Nagle (nothing is in flight yet), and a
 * connection closed after one response, the common case without
 * keep-alive, is spared the system call; any later write (the next
 * response, the rest of a streamed or partly written one, a body after
 * "100 Continue") goes out at once. */
static void before_write(chd_conn_t *conn)
{
    if (conn->sent_before && !conn->nodelay) {
        int one = 1;
        setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn->nodelay = true;
    }
    conn->sent_before = true;
}

int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt)
{
    if (!chd_conn_claim_answer(conn))
        return -ECONNABORTED; /* --timeout answered it meanwhile */
    while (iovcnt > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        before_write(conn);
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
    if (!chd_conn_claim_answer(conn))
        return -ECONNABORTED;
    while (count > 0) {
        before_write(conn);
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
        int n;
        while ((n = chd_conn_read_some(conn)) == -EAGAIN) {
            int rc = wait_for(conn, POLLIN);
            if (rc < 0)
                return rc;
        }
        if (n < 0)
            return n;
        if (n == 0)
            return -ECONNRESET;
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
