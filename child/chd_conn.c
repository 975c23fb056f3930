/* chd_conn: see chd_conn.h. */
#include "chd_conn.h"


#include "chd_linger.h"
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
#include <sys/ioctl.h>
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
    pthread_mutex_init(&conn->transport_lock, NULL);
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

/* --- One thread at a time in the transport ---------------------------------
 *
 * A transport's state (TLS: the SSL object) is used by one thread at a
 * time. Who uses a connection's:
 *   - between requests, the loop's thread (heads, the handshake); no
 *     request runs then, so the watchdog is not there;
 *   - while a request runs, the thread that runs it (its body through
 *     wsgi.input, "100 Continue", its response, the environ's TLS facts);
 *     the loop does not read a connection whose request is in the app
 *     (chd_conn_watch.c's watcher disarms itself);
 *   - with --timeout, the watchdog's thread, once it claimed the request's
 *     answer (CHD_ANSWER_TIMED_OUT, chd_conn_claim_answer).
 * The claim settles the last two: every call into the transport holds
 * transport_lock, and the request's side checks the claim under it
 * (chd_conn_hold_transport). So once the watchdog has claimed the answer
 * and taken the lock, a call of the request's thread that was under way
 * has finished and none starts again: the watchdog has the state to
 * itself for its 504 and close_notify (the lock it still takes is then
 * never contended for long). The lock is held only around calls that
 * never block (the socket is non-blocking; waits happen with it let go),
 * and its holder never waits for anything else meanwhile (the GIL, the
 * gevent hub, a watchdog slot): no one waits for it long, no lock-order
 * cycle. The state is freed once, by the connection's destroy on the
 * request's (or the loop's) thread, which comes after that thread left
 * the watchdog's slot (chd_watchdog_end waits out a watchdog still
 * handling the request): after the watchdog is done with it. A request
 * the watchdog took over gets no close_notify from its own thread: the
 * watchdog said it after its 504, and after a response cut short it must
 * not be said (it would tell the client the response was whole). Plain
 * sockets need none of this: the kernel serialises a socket's calls. */

static bool taken_over(chd_conn_t *conn)
{
    return atomic_load(&conn->answer) == CHD_ANSWER_TIMED_OUT;
}

bool chd_conn_hold_transport(chd_conn_t *conn)
{
    pthread_mutex_lock(&conn->transport_lock);
    if (!taken_over(conn))
        return true;
    pthread_mutex_unlock(&conn->transport_lock);
    return false;
}

void chd_conn_release_transport(chd_conn_t *conn)
{
    pthread_mutex_unlock(&conn->transport_lock);
}

/* The transport's goodbye (TLS: close_notify) unless the watchdog took
 * the connection over, then its state freed; from then on the socket's
 * own calls. */
static void end_transport(chd_conn_t *conn)
{
    if (!conn->transport)
        return;
    if (chd_conn_hold_transport(conn)) {
        conn->transport->goodbye(conn);
        chd_conn_release_transport(conn);
    }
    conn->transport->end(conn); /* the watchdog is done with it (see above) */
    conn->transport = NULL;
}

/* The connection's last act was an answer the client should read whole. */
static bool ends_with_answer(const chd_conn_t *conn)
{
    switch (conn->close_reason) {
    case CHD_CLOSE_FINISHED:
    case CHD_CLOSE_UNREAD_BODY:
    case CHD_CLOSE_APP_ERROR:
    case CHD_CLOSE_REQUEST_TIMEOUT:
        return true; /* a response, or its beginning, went out */
    case CHD_CLOSE_MALFORMED:
    case CHD_CLOSE_TOO_LARGE:
    case CHD_CLOSE_NOT_TLS:
    case CHD_CLOSE_HEADER_TIMEOUT:
    case CHD_CLOSE_BODY_TIMEOUT:
    case CHD_CLOSE_OUT_OF_MEMORY:
        return conn->fail_status > 0; /* answered, unless nothing was owed */
    default:
        return false; /* the client left or stopped reading, or was owed nothing */
    }
}

bool chd_conn_may_lose_answer(const chd_conn_t *conn)
{
    if (!ends_with_answer(conn))
        return false;
    if (conn->req.phase != CHD_REQ_DONE || cmn_buf_unread(&conn->rbuf) > 0)
        return true; /* the request was not read whole, or another follows */
    int waiting = 0; /* a request read whole: is another one arriving? */
    return ioctl(conn->fd, FIONREAD, &waiting) == 0 && waiting > 0;
}

/* Closes the connection's socket: lingering on the driver's loop when a
 * plain close could reset it under the answer the client has not read yet
 * (chd_linger.h); at once without a loop (a connection used outside a
 * driver, as the unit tests do). */
static void close_socket(chd_conn_t *conn)
{
    if (conn->env->loop && chd_conn_may_lose_answer(conn))
        chd_linger_close(conn->env, conn->fd);
    else
        close(conn->fd);
}

void chd_conn_destroy(chd_conn_t *conn)
{
    cmn_debug("%s:%d: connection closed (%s)", conn->peer_addr, conn->peer_port,
              chd_close_reason_name(conn->close_reason));
    chd_stats_closed(conn->env->stats, conn->close_reason);
    end_transport(conn);
    close_socket(conn);
    cmn_buf_free(&conn->rbuf);
    cmn_buf_free(&conn->tls_proxy);
    chd_request_free(&conn->req);
    pthread_mutex_destroy(&conn->transport_lock);
    chd_conn_env_t *env = conn->env;
    list_remove(env, conn);
    free(conn);
    if (env->on_close)
        env->on_close(env->owner);
}

ssize_t chd_conn_read_into(chd_conn_t *conn, char *buf, size_t len)
{
    ssize_t n;
    if (conn->transport) {
        if (!chd_conn_hold_transport(conn))
            return -ECONNABORTED; /* --timeout answered it: the TLS state is the watchdog's */
        n = conn->transport->read(conn, buf, len);
        chd_conn_release_transport(conn);
        if (n < 0)
            return n;
    } else {
        do
            n = read(conn->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return -errno;
    }
    chd_stats_add(&conn->env->stats->bytes_received, (uint64_t)n);
    return n;
}

int chd_conn_read_some(chd_conn_t *conn)
{
    if (cmn_buf_reserve(&conn->rbuf, CHD_READ_CHUNK) < 0)
        return -ENOMEM;
    ssize_t n = chd_conn_read_into(conn, conn->rbuf.data + conn->rbuf.len,
                                   conn->rbuf.cap - conn->rbuf.len);
    if (n > 0)
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

int chd_conn_proxy_stage(chd_conn_t *conn, const char *data, size_t len)
{
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
    conn->proxy_stage = CHD_PROXY_STAGE_NONE;
    take_proxy_header(conn, &h);
    return (int)h.length;
}

/* The PROXY stage on the bytes in rbuf: 0 once it is over (the header
 * consumed; HTTP goes on from rbuf), or chd_conn_proxy_stage's -EAGAIN or
 * -EPROTO. */
static int proxy_stage(chd_conn_t *conn)
{
    int rc = chd_conn_proxy_stage(conn, cmn_buf_head(&conn->rbuf), cmn_buf_unread(&conn->rbuf));
    if (rc < 0)
        return rc;
    cmn_buf_consume(&conn->rbuf, (size_t)rc);
    return 0;
}

static chd_parse_result_t parse_result(chd_conn_t *conn);

chd_parse_result_t chd_conn_parse(chd_conn_t *conn)
{
    if (__builtin_expect(conn->proxy_stage != CHD_PROXY_STAGE_NONE, 0)) {
        int rc = proxy_stage(conn);
        if (rc == -EAGAIN)
            return CHD_PARSE_MORE;
        if (rc < 0) {
            chd_conn_fail(conn, 0, CHD_CLOSE_PROXY_REFUSED);
            return CHD_PARSE_DROP;
        }
    }
    size_t used = chd_request_feed(&conn->req, cmn_buf_head(&conn->rbuf),
                                   cmn_buf_unread(&conn->rbuf));
    cmn_buf_consume(&conn->rbuf, used);
    return parse_result(conn);
}

static chd_parse_result_t out_of_memory(chd_conn_t *conn)
{
    chd_conn_fail(conn, 500, CHD_CLOSE_OUT_OF_MEMORY);
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
    return parse_result(conn);
}

/* What the parser's verdict on malformed bytes closes the connection as. */
static chd_close_reason_t malformed_reason(const chd_request_t *req)
{
    switch (req->error_status) {
    case 413:
    case 414:
    case 431:
        return CHD_CLOSE_TOO_LARGE;
    default:
        return CHD_CLOSE_MALFORMED;
    }
}

/* Fails the connection with the parser's verdict on malformed bytes. */
static void fail_malformed(chd_conn_t *conn)
{
    chd_conn_fail(conn, conn->req.error_status ? conn->req.error_status : 400,
                  malformed_reason(&conn->req));
}

static chd_parse_result_t parse_result(chd_conn_t *conn)
{
    const chd_request_t *req = &conn->req;
    switch (req->phase) {
    case CHD_REQ_ERROR:
        fail_malformed(conn);
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

const char *chd_close_reason_name(chd_close_reason_t why)
{
    return cmn_stats_close_reason_name((int)why);
}

const char *chd_conn_failure_words(const chd_conn_t *conn)
{
    int status = conn->fail_status;
    switch (conn->close_reason) {
    case CHD_CLOSE_MALFORMED:
    case CHD_CLOSE_TOO_LARGE:
        return conn->req.error_reason ? conn->req.error_reason : chd_reason_phrase(status);
    case CHD_CLOSE_HEADER_TIMEOUT:
        return "request not received in time";
    case CHD_CLOSE_BODY_TIMEOUT:
        return "request body not received in time";
    case CHD_CLOSE_OUT_OF_MEMORY:
        return "out of memory";
    case CHD_CLOSE_NOT_TLS:
        return "plain HTTP was sent to an HTTPS address";
    default:
        return chd_reason_phrase(status);
    }
}

/* One write of what the socket (or TLS) takes now, never waiting: the
 * bytes written, or -errno (-EAGAIN: wait for conn_wants(conn, POLLOUT)).
 * The caller holds transport_lock when there is a transport. */
static ssize_t write_now(chd_conn_t *conn, struct iovec *iov, int iovcnt)
{
    if (conn->transport)
        return conn->transport->writev(conn, iov, iovcnt);
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;
    do
        n = sendmsg(conn->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* write_now for the loop's or the request's thread: -ECONNABORTED, nothing
 * written, once the watchdog took the connection over. */
static ssize_t write_some(chd_conn_t *conn, struct iovec *iov, int iovcnt)
{
    if (!conn->transport)
        return write_now(conn, iov, iovcnt);
    if (!chd_conn_hold_transport(conn))
        return -ECONNABORTED;
    ssize_t n = write_now(conn, iov, iovcnt);
    chd_conn_release_transport(conn);
    return n;
}

/* What to wait for after -EAGAIN: on a TLS connection, what TLS asked for
 * (a write may need a read, a read a write); otherwise `plain`. */
static short conn_wants(const chd_conn_t *conn, short plain)
{
    return conn->transport ? conn->tls_wants : plain;
}

/* Best-effort answer between requests: the status with a one-line body,
 * then the write side is shut. */
static void answer_failure(chd_conn_t *conn, int status)
{
    const char *phrase = chd_reason_phrase(status);
    const char *why = chd_conn_failure_words(conn);
    char out[512];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     status, phrase, strlen(why) + 1, why);
    if (n > 0 && (size_t)n < sizeof out) {
        struct iovec iov = {out, (size_t)n};
        ssize_t w = write_some(conn, &iov, 1); /* fits the send buffer */
        (void)w;
        size_t body = strlen(why) + 1;
        if (conn->env->on_answered)
            conn->env->on_answered(conn, status, body, out, (size_t)n - body);
    }
    cmn_info("%s:%d: %d %s", conn->peer_addr, conn->peer_port, status, why);
    chd_stats_response(conn->env->stats, status, n > 0 ? (uint64_t)n : 0);
    end_transport(conn); /* TLS: close_notify before the write side shuts */
    shutdown(conn->fd, SHUT_WR);
}

/* Records why the connection closes, unless a reason is recorded already
 * (the first stays). Returns true when this one was recorded. */
static bool record_close(chd_conn_t *conn, int status, chd_close_reason_t why)
{
    if (conn->close_reason != CHD_CLOSE_NONE)
        return false;
    conn->close_reason = why;
    conn->fail_status = status;
    return true;
}

void chd_conn_fail(chd_conn_t *conn, int status, chd_close_reason_t why)
{
    if (record_close(conn, status, why) && status > 0 &&
        atomic_load(&conn->state) == CHD_CONN_WAITING)
        answer_failure(conn, status);
}

void chd_conn_read_failed(chd_conn_t *conn, int n)
{
    if (n == -ENOMEM)
        chd_conn_fail(conn, 500, CHD_CLOSE_OUT_OF_MEMORY);
    else if (n == 0 && chd_conn_is_idle(conn))
        chd_conn_fail(conn, 0, CHD_CLOSE_CLIENT_CLOSED);
    else
        chd_conn_fail(conn, 0, CHD_CLOSE_CLIENT_GONE);
}

void chd_conn_timed_out(chd_conn_t *conn)
{
    if (conn->proxy_stage == CHD_PROXY_STAGE_REQUIRED)
        cmn_info("%s:%d: no complete PROXY header within --header-timeout: closed",
                 conn->peer_addr, conn->peer_port);
    if (conn->proxy_stage != CHD_PROXY_STAGE_NONE || (conn->tls && !conn->tls_ready))
        chd_conn_fail(conn, 0, CHD_CLOSE_HEADER_TIMEOUT); /* nothing to answer in yet */
    else if (chd_conn_is_idle(conn))
        chd_conn_fail(conn, 0, atomic_load(&conn->env->draining) ? CHD_CLOSE_DRAINING
                                                                 : CHD_CLOSE_IDLE);
    else
        chd_conn_fail(conn, 408, CHD_CLOSE_HEADER_TIMEOUT);
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
    chd_stats_request_begin(conn->env->stats);
    /* "METHOD target" for the logs and heartbeats, without printf: per request. */
    const char *method = chd_request_method(&conn->req);
    size_t mlen = strlen(method), ulen = conn->req.url_len;
    if (mlen + 1 + ulen >= sizeof conn->request_line)
        ulen = sizeof conn->request_line - mlen - 2;
    memcpy(conn->request_line, method, mlen);
    conn->request_line[mlen] = ' ';
    memcpy(conn->request_line + mlen + 1, chd_request_url(&conn->req), ulen);
    conn->request_line[mlen + 1 + ulen] = '\0';
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
    if (atomic_load(&conn->answer) == CHD_ANSWER_TIMED_OUT) {
        /* --timeout answered it and shut the socket: whatever its own
         * thread recorded next (a failed write) followed from that. */
        conn->close_reason = CHD_CLOSE_REQUEST_TIMEOUT;
        return false;
    }
    /* The response's finish decided whether the connection stays open; when
     * it said so, the client may already be sending its next request, so
     * even a draining child keeps its word (that request gets "Connection:
     * close"). */
    if (chd_conn_closing(conn))
        return false;
    /* An idle keep-alive connection should cost little more than its
     * struct: give the request's buffers back (malloc reuses them at once
     * for the next request anyway). */
    chd_request_free(&conn->req);
    chd_request_reset(&conn->req);
    cmn_buf_shrink(&conn->rbuf, 0);
    atomic_store(&conn->last_done, chd_monotonic());
    return true;
}

bool chd_conn_finish_response(chd_conn_t *conn, bool keep_alive)
{
    if (!keep_alive)
        record_close(conn, 0, CHD_CLOSE_FINISHED); /* unless a failure came first */
    return !chd_conn_closing(conn);
}

bool chd_conn_is_idle(chd_conn_t *conn)
{
    if (conn->tls && !conn->tls_ready)
        return false; /* a handshake under way: bounded by --header-timeout */
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
 * mode, the gevent hub in green mode), bounded by --body-timeout. A
 * failure fails the connection here, so callers only give up. */

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

/* A write failed: the client stopped reading, or is gone. Returns rc. */
static int send_failed(chd_conn_t *conn, int rc)
{
    chd_conn_fail(conn, 0, rc == -ETIMEDOUT ? CHD_CLOSE_SEND_TIMEOUT : CHD_CLOSE_CLIENT_GONE);
    return rc;
}

/* Skips n written bytes of *iov (advancing it and *iovcnt). */
static void iov_skip(struct iovec **iov, int *iovcnt, size_t n)
{
    while (*iovcnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*iovcnt)--;
    }
    if (*iovcnt > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

int chd_conn_send_now(chd_conn_t *conn, struct iovec **iov, int *iovcnt)
{
    if (!chd_conn_claim_answer(conn))
        return -ECONNABORTED; /* --timeout answered it meanwhile */
    before_write(conn);
    ssize_t n = write_some(conn, *iov, *iovcnt);
    if (n >= 0)
        iov_skip(iov, iovcnt, (size_t)n);
    else if (n != -EAGAIN)
        return send_failed(conn, (int)n);
    return 0;
}

int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt)
{
    if (!chd_conn_claim_answer(conn))
        return -ECONNABORTED; /* --timeout answered it meanwhile */
    while (iovcnt > 0) {
        before_write(conn);
        ssize_t n = write_some(conn, iov, iovcnt);
        if (n < 0) {
            if (n != -EAGAIN)
                return send_failed(conn, (int)n);
            int rc = wait_for(conn, conn_wants(conn, POLLOUT));
            if (rc < 0)
                return send_failed(conn, rc);
            continue;
        }
        iov_skip(&iov, &iovcnt, (size_t)n);
    }
    return 0;
}

int chd_conn_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count)
{
    if (!chd_conn_claim_answer(conn))
        return -ECONNABORTED;
    while (count > 0) {
        before_write(conn);
        ssize_t n;
        if (conn->transport) {
            if (!chd_conn_hold_transport(conn))
                return send_failed(conn, -ECONNABORTED); /* the watchdog's now */
            n = conn->transport->sendfile(conn, fd, offset, count);
            chd_conn_release_transport(conn);
        } else {
            n = sendfile(conn->fd, fd, offset, count);
            if (n < 0)
                n = -errno;
        }
        if (n < 0) {
            if (n == -EINTR)
                continue;
            if (n != -EAGAIN)
                return send_failed(conn, (int)n);
            int rc = wait_for(conn, conn_wants(conn, POLLOUT));
            if (rc < 0)
                return send_failed(conn, rc);
            continue;
        }
        if (n == 0) {
            chd_conn_fail(conn, 0, CHD_CLOSE_APP_ERROR); /* the file is shorter than announced */
            return -EIO;
        }
        count -= (size_t)n;
    }
    return 0;
}

int chd_conn_write_overruled(chd_conn_t *conn, struct iovec *iov, int iovcnt, int wait_ms)
{
    double deadline = chd_monotonic() + wait_ms / 1000.0;
    while (iovcnt > 0) {
        pthread_mutex_lock(&conn->transport_lock); /* waits out a call under way */
        ssize_t n = write_now(conn, iov, iovcnt);
        short wants = conn_wants(conn, POLLOUT);
        pthread_mutex_unlock(&conn->transport_lock);
        if (n > 0) {
            iov_skip(&iov, &iovcnt, (size_t)n);
            continue;
        }
        if (n != -EAGAIN)
            return n < 0 ? (int)n : -EPIPE;
        int left_ms = (int)((deadline - chd_monotonic()) * 1000);
        int rc = left_ms > 0 ? chd_conn_poll_wait(conn, wants, left_ms) : -ETIMEDOUT;
        if (rc < 0)
            return rc;
    }
    pthread_mutex_lock(&conn->transport_lock);
    if (conn->transport)
        conn->transport->goodbye(conn); /* the answer is whole: TLS ends cleanly */
    pthread_mutex_unlock(&conn->transport_lock);
    return 0;
}

/* "100 Continue" is an interim answer, not the response: the request's
 * thread claims the connection only while writing it, then gives the final
 * answer back (unless --timeout took it meanwhile), so a request that hangs
 * after it still gets the watchdog's 504. */
static int send_continue(chd_conn_t *conn)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)line, sizeof line - 1};
    conn->continue_sent = true;
    int rc = chd_conn_send(conn, &iov, 1);
    chd_answer_t app = CHD_ANSWER_APP;
    if (rc == 0 && conn->env->cfg->timeout > 0)
        atomic_compare_exchange_strong(&conn->answer, &app, CHD_ANSWER_OPEN);
    return rc;
}

/* Reading the body failed: fails the connection with what it owes the
 * client. Returns rc. */
static int body_failed(chd_conn_t *conn, int rc)
{
    if (rc == -ETIMEDOUT)
        chd_conn_fail(conn, 408, CHD_CLOSE_BODY_TIMEOUT); /* the client's fault: answer 408 */
    else if (rc == -EPROTO)
        fail_malformed(conn);
    else
        chd_conn_read_failed(conn, rc);
    return rc;
}

/* Reads once from the socket (waiting if needed) and parses what came. */
static int read_and_parse(chd_conn_t *conn)
{
    chd_request_t *req = &conn->req;
    if (cmn_buf_unread(&conn->rbuf) == 0) {
        int n;
        while ((n = chd_conn_read_some(conn)) == -EAGAIN) {
            int rc = wait_for(conn, conn_wants(conn, POLLIN));
            if (rc < 0)
                return body_failed(conn, rc);
        }
        if (n <= 0)
            return body_failed(conn, n < 0 ? n : -ECONNRESET);
    }
    size_t used = chd_request_feed(req, cmn_buf_head(&conn->rbuf), cmn_buf_unread(&conn->rbuf));
    cmn_buf_consume(&conn->rbuf, used);
    return req->phase == CHD_REQ_ERROR ? body_failed(conn, -EPROTO) : 0;
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
        if (discarded > limit) {
            chd_conn_fail(conn, 0, CHD_CLOSE_UNREAD_BODY);
            return -EFBIG;
        }
        int rc = read_and_parse(conn);
        if (rc < 0)
            return rc;
        discarded += cmn_buf_unread(&req->body);
        cmn_buf_clear(&req->body);
    }
    return 0;
}
