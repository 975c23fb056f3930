/* chd_conn_watch: see chd_conn_watch.h. */
#include "chd_conn_watch.h"

#include "chd_conn_tls.h"

#include <errno.h>
#include <poll.h>

void chd_conn_watch_close(chd_conn_t *conn)
{
    struct ev_loop *loop = conn->env->loop;
    ev_io_stop(loop, &conn->io);
    ev_timer_stop(loop, &conn->timer);
    chd_conn_destroy(conn);
}

void chd_conn_watch_timer(chd_conn_t *conn, double seconds)
{
    struct ev_loop *loop = conn->env->loop;
    ev_timer_stop(loop, &conn->timer);
    ev_timer_set(&conn->timer, seconds, 0);
    ev_timer_start(loop, &conn->timer);
}

double chd_conn_idle_limit(chd_conn_t *conn)
{
    return atomic_load(&conn->env->draining) ? CHD_DRAIN_GRACE : conn->env->cfg->keepalive;
}

/* The one timer of a connection: while a request runs it only re-arms;
 * idle, it closes once the keep-alive time (counted from the end of the
 * last request, which a worker may have recorded) is over; with half a
 * head, it answers 408; still owing its PROXY header or its TLS handshake,
 * it just closes (chd_conn_timed_out records which). */
static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_conn_t *conn = w->data;
    if (atomic_load(&conn->state) != CHD_CONN_WAITING) {
        chd_conn_watch_timer(conn, chd_conn_idle_limit(conn));
        return;
    }
    if (chd_conn_is_idle(conn)) {
        double left = atomic_load(&conn->last_done) + chd_conn_idle_limit(conn) - chd_monotonic();
        if (left > 0.001) {
            chd_conn_watch_timer(conn, left);
            return;
        }
    }
    chd_conn_timed_out(conn);
    chd_conn_watch_close(conn);
}

/* Acts on what parsing left: close a failed connection (parsing answered
 * it, or dropped a bad PROXY header), hand a ready request to the driver,
 * or start the head's deadline when a head has begun. */
static void after_parse(chd_conn_t *conn, chd_parse_result_t rc, bool was_idle)
{
    switch (rc) {
    case CHD_PARSE_BAD:
    case CHD_PARSE_DROP:
        chd_conn_watch_close(conn);
        return;
    case CHD_PARSE_READY:
        conn->env->on_ready(conn);
        return;
    case CHD_PARSE_MORE:
        if (was_idle && conn->req.phase != CHD_REQ_IDLE)
            chd_conn_watch_timer(conn, conn->env->cfg->header_timeout); /* a head has begun */
        return;
    }
}

void chd_conn_watch_input(chd_conn_t *conn)
{
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse(conn), was_idle);
}

/* Points the watcher at what the next read needs, after a read that
 * returned n: room to write while a TLS step waits to write (see the
 * header), else input. One comparison when nothing changes. */
static void follow_wants(chd_conn_t *conn, ssize_t n)
{
    int want = n == -EAGAIN && conn->tls && conn->tls_wants == POLLOUT ? EV_WRITE : EV_READ;
    if (__builtin_expect((conn->io.events & (EV_READ | EV_WRITE)) == want, 1))
        return;
    struct ev_loop *loop = conn->env->loop;
    ev_io_stop(loop, &conn->io);
    ev_io_set(&conn->io, conn->fd, want);
    ev_io_start(loop, &conn->io);
}

/* A read returned n: false when nothing came (the watcher waits for what
 * the connection needs) or the connection ended (closed here); true when
 * n bytes are there to parse. */
static bool read_settled(chd_conn_t *conn, ssize_t n)
{
    if (n == -EAGAIN || n > 0)
        follow_wants(conn, n);
    if (n > 0)
        return true;
    if (n != -EAGAIN) {
        chd_conn_read_failed(conn, (int)n);
        chd_conn_watch_close(conn);
    }
    return false;
}

/* Reads into one buffer shared by all connections of the loop, so an idle
 * connection owns no read buffer; only unparsed leftovers are copied. */
static void read_via_scratch(chd_conn_t *conn)
{
    static char scratch[64 * 1024]; /* the loop's: one thread at a time */
    ssize_t n = chd_conn_read_into(conn, scratch, sizeof scratch);
    if (!read_settled(conn, n))
        return;
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse_bytes(conn, scratch, (size_t)n), was_idle);
}

/* Readable (or, during a TLS step that must write, writable). While a
 * request runs the socket is the request's: the watcher disarms itself
 * until the request ends (the driver re-arms it). */
static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_conn_t *conn = w->data;
    chd_conn_state_t running = CHD_CONN_IN_APP;
    if (atomic_compare_exchange_strong(&conn->state, &running, CHD_CONN_IN_APP_DISARMED)) {
        ev_io_stop(loop, w); /* the request's thread owns the socket until it is done */
        return;
    }
    if (running == CHD_CONN_IN_APP_DISARMED)
        return;
    if (cmn_buf_unread(&conn->rbuf) == 0) {
        read_via_scratch(conn);
        return;
    }
    if (read_settled(conn, chd_conn_read_some(conn)))
        chd_conn_watch_input(conn);
}

void chd_conn_open(chd_conn_env_t *env, int fd, const struct sockaddr *peer,
                   const chd_listener_t *from)
{
    chd_conn_t *conn = chd_conn_new(env, fd, peer);
    if (!conn)
        return;
    conn->local_port = from ? from->port : 0;
    if (from && from->tls && chd_conn_tls_start(conn, from->tls) < 0) {
        chd_conn_fail(conn, 0, CHD_CLOSE_OUT_OF_MEMORY);
        chd_conn_destroy(conn);
        return;
    }
    ev_io_init(&conn->io, on_io, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    ev_io_start(env->loop, &conn->io);
    chd_conn_watch_timer(conn, env->cfg->header_timeout);
    read_via_scratch(conn); /* TCP_DEFER_ACCEPT: the request is usually here already */
}

void chd_conn_watch_drain(chd_conn_t *conn)
{
    if (chd_conn_is_idle(conn) || atomic_load(&conn->state) != CHD_CONN_WAITING)
        chd_conn_watch_timer(conn, CHD_DRAIN_GRACE);
}
