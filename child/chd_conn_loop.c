/* chd_conn_loop: see chd_conn_loop.h. */
#include "chd_conn_loop.h"

#include "chd_server.h"

#include <errno.h>
#include <unistd.h>

static void process_input(chd_conn_t *conn);

/* The threaded server a connection of this driver belongs to. */
static inline chd_server_t *server_of(const chd_conn_t *conn)
{
    return conn->env->owner;
}

static void close_conn(chd_conn_t *conn)
{
    ev_io_stop(server_of(conn)->loop, &conn->io);
    ev_timer_stop(server_of(conn)->loop, &conn->timer);
    chd_conn_destroy(conn);
}

static void set_timer(chd_conn_t *conn, double seconds)
{
    ev_timer_stop(server_of(conn)->loop, &conn->timer);
    ev_timer_set(&conn->timer, seconds, 0);
    ev_timer_start(server_of(conn)->loop, &conn->timer);
}

/* How long a connection waiting for its next request may stay idle. */
static double idle_limit(chd_conn_t *conn)
{
    return atomic_load(&conn->env->draining) ? CHD_DRAIN_GRACE : conn->env->cfg->keepalive;
}

/* The one timer of a connection: while a request runs it only re-arms;
 * idle, it closes once the keep-alive time (counted from the end of the
 * last request, which a worker may have recorded) is over; with half a
 * head, it answers 408; still owing its PROXY header, it just closes. */
static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_conn_t *conn = w->data;
    if (atomic_load(&conn->state) != CHD_CONN_WAITING) {
        set_timer(conn, idle_limit(conn));
        return;
    }
    if (chd_conn_is_idle(conn)) {
        double left = atomic_load(&conn->last_done) + idle_limit(conn) - chd_monotonic();
        if (left > 0.001) {
            set_timer(conn, left);
            return;
        }
    } else {
        chd_conn_timed_out(conn); /* 408, or nothing while a PROXY header is owed */
    }
    close_conn(conn); /* idle keep-alive: a quiet close */
}

/* After a request: close, or wait for the next one. Returns true when a
 * pipelined next request is already buffered. */
static bool resume_after_request(chd_conn_t *conn)
{
    if (!chd_conn_end_request(conn)) {
        close_conn(conn);
        return false;
    }
    ev_io_start(server_of(conn)->loop, &conn->io);
    set_timer(conn, idle_limit(conn));
    return cmn_buf_unread(&conn->rbuf) > 0;
}

/* Runs a ready request: inline on this thread (the --threads 1 fast path)
 * or on the pool. The read watcher stays armed while the worker runs it:
 * stopping and restarting it would cost two epoll_ctl calls per request;
 * if the client sends meanwhile, on_readable disarms it then. Returns true
 * when it ran inline and a pipelined request is already buffered. */
static bool dispatch(chd_conn_t *conn)
{
    /* The timer keeps running (it re-arms while the request runs), so a
     * worker can end the request without the I/O thread. */
    set_timer(conn, idle_limit(conn));
    chd_conn_begin_request(conn);
    if (!chd_server_run_inline(server_of(conn), conn)) {
        chd_pool_submit(&server_of(conn)->pool, &conn->job);
        return false;
    }
    return resume_after_request(conn);
}

/* Acts on what parsing left: answer a bad request, run a ready one (and
 * the pipelined ones after it, in a loop rather than by recursion), or
 * start the head timer when a head has begun. */
static void after_parse(chd_conn_t *conn, chd_parse_result_t rc, bool was_idle)
{
    for (;;) {
        if (rc == CHD_PARSE_BAD || rc == CHD_PARSE_DROP) {
            if (rc == CHD_PARSE_BAD)
                chd_conn_reject(conn);
            close_conn(conn);
            return;
        }
        if (rc != CHD_PARSE_READY) {
            if (was_idle && conn->req.phase != CHD_REQ_IDLE)
                set_timer(conn, conn->env->cfg->header_timeout); /* a head has begun */
            return;
        }
        if (!dispatch(conn))
            return;
        was_idle = true;
        rc = chd_conn_parse(conn);
    }
}

static void process_input(chd_conn_t *conn)
{
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse(conn), was_idle);
}

/* Reads into one buffer shared by all connections of the I/O thread, so an
 * idle connection owns no read buffer; only unparsed leftovers are copied. */
static void read_via_scratch(chd_conn_t *conn)
{
    static char scratch[64 * 1024]; /* the I/O thread's only */
    ssize_t n;
    do
        n = read(conn->fd, scratch, sizeof scratch);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        close_conn(conn);
        return;
    }
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse_bytes(conn, scratch, (size_t)n), was_idle);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_conn_t *conn = w->data;
    chd_conn_state_t running = CHD_CONN_IN_APP;
    if (atomic_compare_exchange_strong(&conn->state, &running, CHD_CONN_IN_APP_DISARMED)) {
        ev_io_stop(loop, w); /* the worker owns the socket until it is done */
        return;
    }
    if (running == CHD_CONN_IN_APP_DISARMED)
        return;
    if (cmn_buf_unread(&conn->rbuf) == 0) {
        read_via_scratch(conn);
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
    chd_conn_t *conn = chd_conn_new(&server->env, fd, peer);
    if (!conn)
        return;
    ev_io_init(&conn->io, on_readable, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    ev_io_start(server->loop, &conn->io);
    set_timer(conn, server->cfg->header_timeout);
    /* The listening socket defers accepts until the client has sent data
     * (TCP_DEFER_ACCEPT), so the request is usually here already: read it
     * now rather than after another round through epoll. */
    read_via_scratch(conn);
}

bool chd_conn_loop_finish_in_worker(chd_conn_t *conn)
{
    if (conn->close_after || chd_conn_env_closing(conn->env) || cmn_buf_unread(&conn->rbuf) > 0)
        return false;
    if (!chd_conn_end_request_keep_state(conn))
        return false;
    /* From here the I/O thread's armed watcher takes the next request; if
     * it disarmed itself meanwhile, it must be told (the caller will). */
    chd_conn_state_t running = CHD_CONN_IN_APP;
    return atomic_compare_exchange_strong(&conn->state, &running, CHD_CONN_WAITING);
}

void chd_conn_loop_request_done(chd_conn_t *conn)
{
    if (resume_after_request(conn))
        process_input(conn); /* a pipelined request is already here */
}

void chd_conn_loop_drain(chd_conn_t *conn)
{
    /* Idle ones close after the grace; running ones re-check then (a worker
     * may end their request without telling this thread). A half-received
     * head keeps its own deadline. */
    if (chd_conn_is_idle(conn) || atomic_load(&conn->state) != CHD_CONN_WAITING)
        set_timer(conn, CHD_DRAIN_GRACE);
}
