/* chd_conn_loop: see chd_conn_loop.h. */
#include "chd_conn_loop.h"

#include "chd_server.h"

#include <errno.h>

static void process_input(chd_conn_t *conn);

static void close_conn(chd_conn_t *conn)
{
    ev_io_stop(conn->server->loop, &conn->io);
    ev_timer_stop(conn->server->loop, &conn->timer);
    chd_conn_destroy(conn);
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
    if (!chd_conn_is_idle(conn)) {
        conn->req.phase = CHD_REQ_ERROR;
        conn->req.error_status = 408;
        conn->req.error_reason = "request not received in time";
        chd_conn_reject(conn);
    }
    close_conn(conn); /* idle keep-alive: a quiet close */
}

/* The read watcher stays armed while the worker runs the request: stopping
 * and restarting it would cost two epoll_ctl calls per request. If the
 * client sends while the request runs, on_readable disarms it then. */
static void dispatch(chd_conn_t *conn)
{
    ev_timer_stop(conn->server->loop, &conn->timer);
    chd_conn_begin_request(conn);
    if (chd_server_run_inline(conn->server, conn))
        chd_conn_loop_request_done(conn);
    else
        chd_pool_submit(&conn->server->pool, &conn->job);
}

static void process_input(chd_conn_t *conn)
{
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    chd_parse_result_t rc = chd_conn_parse(conn);
    if (rc == CHD_PARSE_BAD) {
        chd_conn_reject(conn);
        close_conn(conn);
    } else if (rc == CHD_PARSE_READY) {
        dispatch(conn);
    } else if (was_idle && conn->req.phase != CHD_REQ_IDLE) {
        set_timer(conn, conn->server->cfg->header_timeout); /* a head has begun */
    }
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_conn_t *conn = w->data;
    if (conn->state == CHD_CONN_IN_APP) {
        ev_io_stop(loop, w); /* the worker owns the socket until it is done */
        return;
    }
    int n = chd_conn_read_some(conn);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        close_conn(conn);
        return;
    }
    process_input(conn);
}

void chd_conn_loop_open(chd_server_t *server, int fd, const struct sockaddr *peer)
{
    chd_conn_t *conn = chd_conn_new(server, fd, peer);
    if (!conn)
        return;
    ev_io_init(&conn->io, on_readable, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    ev_io_start(server->loop, &conn->io);
    set_timer(conn, server->cfg->header_timeout);
}

void chd_conn_loop_request_done(chd_conn_t *conn)
{
    if (!chd_conn_end_request(conn)) {
        close_conn(conn);
        return;
    }
    ev_io_start(conn->server->loop, &conn->io);
    set_timer(conn, atomic_load(&conn->server->draining) ? CHD_DRAIN_GRACE
                                                         : conn->server->cfg->keepalive);
    if (cmn_buf_unread(&conn->rbuf) > 0)
        process_input(conn); /* a pipelined request is already here */
}

void chd_conn_loop_drain(chd_conn_t *conn)
{
    if (chd_conn_is_idle(conn))
        set_timer(conn, CHD_DRAIN_GRACE);
}
