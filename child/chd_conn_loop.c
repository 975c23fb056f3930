/* chd_conn_loop: see chd_conn_loop.h. */
#include "chd_conn_loop.h"


#include <errno.h>
#include <unistd.h>

static void process_input(chd_conn_t *conn);

/* The request machinery a connection of this driver belongs to. */
static inline chd_conn_loop_t *loop_of(const chd_conn_t *conn)
{
    return conn->env->owner;
}

static bool run_inline(chd_conn_loop_t *cl, chd_conn_t *conn);

static void close_conn(chd_conn_t *conn)
{
    ev_io_stop(loop_of(conn)->loop, &conn->io);
    ev_timer_stop(loop_of(conn)->loop, &conn->timer);
    chd_conn_destroy(conn);
}

static void set_timer(chd_conn_t *conn, double seconds)
{
    ev_timer_stop(loop_of(conn)->loop, &conn->timer);
    ev_timer_set(&conn->timer, seconds, 0);
    ev_timer_start(loop_of(conn)->loop, &conn->timer);
}

/* How long a connection waiting for its next request may stay idle. */
static double idle_limit(chd_conn_t *conn)
{
    return atomic_load(&conn->env->draining) ? CHD_DRAIN_GRACE : conn->env->cfg->keepalive;
}

/* The one timer of a connection: while a request runs it only re-arms;
 * idle, it closes once the keep-alive time (counted from the end of the
 * last request, which a worker may have recorded) is over; with half a
 * head, it answers 408; still owing its PROXY header, it just closes
 * (chd_conn_timed_out records which). */
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
    }
    chd_conn_timed_out(conn); /* 408 with half a head; idle or owing a PROXY header: quiet */
    close_conn(conn);
}

/* After a request: close, or wait for the next one, as its response's
 * finish decided. Returns true when a pipelined next request is already
 * buffered. */
static bool resume_after_request(chd_conn_t *conn)
{
    if (!chd_conn_end_request(conn)) {
        close_conn(conn);
        return false;
    }
    ev_io_start(loop_of(conn)->loop, &conn->io);
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
    if (!run_inline(loop_of(conn), conn)) {
        chd_pool_submit(&loop_of(conn)->pool, &conn->job);
        return false;
    }
    return resume_after_request(conn);
}

/* Acts on what parsing left: close a failed connection (parsing answered
 * it), run a ready request (and the pipelined ones after it, in a loop
 * rather than by recursion), or start the head timer when a head has
 * begun. */
static void after_parse(chd_conn_t *conn, chd_parse_result_t rc, bool was_idle)
{
    for (;;) {
        if (rc == CHD_PARSE_BAD || rc == CHD_PARSE_DROP) {
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
        chd_conn_read_failed(conn, n < 0 ? -errno : 0);
        close_conn(conn);
        return;
    }
    chd_stats_add(&conn->env->stats->bytes_received, (uint64_t)n);
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
        chd_conn_read_failed(conn, n);
        close_conn(conn);
        return;
    }
    process_input(conn);
}

void chd_conn_loop_open(chd_conn_loop_t *cl, int fd, const struct sockaddr *peer)
{
    chd_conn_t *conn = chd_conn_new(cl->env, fd, peer);
    if (!conn)
        return;
    ev_io_init(&conn->io, on_readable, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    ev_io_start(cl->loop, &conn->io);
    set_timer(conn, cl->env->cfg->header_timeout);
    /* The listening socket defers accepts until the client has sent data
     * (TCP_DEFER_ACCEPT), so the request is usually here already: read it
     * now rather than after another round through epoll. */
    read_via_scratch(conn);
}

/* Worker thread, right after the request: when the connection simply stays
 * open (no close, nothing pipelined, not draining, the I/O thread still
 * watching the socket) it is handed back to the I/O thread's watcher
 * directly and true is returned; otherwise false and the I/O thread must
 * end the request (on_job_done). Saves waking the I/O thread per request. */
static bool finish_in_worker(chd_conn_t *conn)
{
    if (chd_conn_env_closing(conn->env) || cmn_buf_unread(&conn->rbuf) > 0)
        return false;
    if (!chd_conn_end_request_keep_state(conn)) /* the response's finish said close */
        return false;
    /* From here the I/O thread's armed watcher takes the next request; if
     * it disarmed itself meanwhile, it must be told (the caller will). */
    chd_conn_state_t running = CHD_CONN_IN_APP;
    return atomic_compare_exchange_strong(&conn->state, &running, CHD_CONN_WAITING);
}


void chd_conn_loop_drain(chd_conn_t *conn)
{
    /* Idle ones close after the grace; running ones re-check then (a worker
     * may end their request without telling this thread). A half-received
     * head keeps its own deadline. */
    if (chd_conn_is_idle(conn) || atomic_load(&conn->state) != CHD_CONN_WAITING)
        set_timer(conn, CHD_DRAIN_GRACE);
}

/* --- dispatch and completion -------------------------------------------- */

/* The --threads 1 fast path: runs the request on the I/O thread (taking the
 * GIL with the I/O thread's own thread state) when that is safe: the
 * request is complete (no body wait) and no request is running on the
 * worker, so requests still run one at a time. Returns false when the
 * caller must use the pool instead. */
static bool run_inline(chd_conn_loop_t *cl, chd_conn_t *conn)
{
    if (!cl->handler.handle_inline || conn->req.phase != CHD_REQ_DONE || chd_pool_busy(&cl->pool))
        return false;
    chd_heartbeat_inline_begin(&cl->heartbeat, conn);
    chd_stats_gauge(&cl->env->stats->threads_busy, 1);
    cl->handler.handle_inline(conn, cl->inline_tstate);
    chd_stats_gauge(&cl->env->stats->threads_busy, -1);
    chd_heartbeat_inline_end(&cl->heartbeat);
    chd_control_request_done(cl->control);
    return true;
}

/* Worker thread: runs the request, then ends it right there when the I/O
 * thread need not be involved (returns false), else asks for on_job_done. */
static bool on_job_run(chd_job_t *job, void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    chd_conn_t *conn = (chd_conn_t *)job;
    chd_stats_gauge(&cl->env->stats->threads_busy, 1);
    cl->handler.handle(conn, cl->handler.ctx);
    chd_stats_gauge(&cl->env->stats->threads_busy, -1);
    chd_control_request_done(cl->control);
    return !finish_in_worker(conn);
}

/* The one way completion returns to the I/O thread: next request, or close. */
static void on_job_done(chd_job_t *job, void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    chd_conn_t *conn = (chd_conn_t *)job;
    if (resume_after_request(conn))
        process_input(conn); /* a pipelined request is already here */
    cl->on_quiet(cl->owner);
}

static void on_thread_start(void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    if (cl->handler.thread_start)
        cl->handler.thread_start(cl->handler.ctx);
}

static void on_thread_stop(void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    if (cl->handler.thread_stop)
        cl->handler.thread_stop(cl->handler.ctx);
}

/* chd_heartbeat_answer_fn: the heartbeat thread reads the channel while
 * the I/O thread runs a request inline; a "stop" (or the controller going
 * away) is passed on to the loop, which acts once the request is done. */
static bool answer_during_inline(void *ctx, const chd_conn_t *running)
{
    chd_conn_loop_t *cl = ctx;
    chd_control_event_t ev = chd_control_read_during_inline(cl->control, running);
    if (ev == CHD_CONTROL_IDLE)
        return true;
    if (ev == CHD_CONTROL_GONE)
        cl->on_orphaned(cl->owner);
    atomic_store(&cl->stop_after_inline, true);
    ev_async_send(cl->loop, &cl->wake);
    return ev != CHD_CONTROL_GONE;
}

/* The heartbeat thread read a "stop" while a request ran inline. */
static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_conn_loop_t *cl = w->data;
    if (atomic_exchange(&cl->stop_after_inline, false))
        cl->on_stop(cl->owner);
}

/* chd_conn_env_t.on_close: a connection closed. */
static void on_conn_closed(void *owner)
{
    chd_conn_loop_t *cl = owner;
    cl->on_quiet(cl->owner);
}

int chd_conn_loop_init(chd_conn_loop_t *cl, struct ev_loop *loop, chd_conn_env_t *env,
                       chd_control_t *control, int control_fd, const chd_handler_t *handler)
{
    cl->loop = loop;
    cl->env = env;
    cl->control = control;
    cl->handler = *handler;
    env->owner = cl;
    env->on_close = on_conn_closed;
    atomic_init(&cl->stop_after_inline, false);
    ev_async_init(&cl->wake, on_wake);
    cl->wake.data = cl;
    ev_async_start(loop, &cl->wake);
    if (handler->handle_inline) {
        int rc = chd_heartbeat_start(&cl->heartbeat, control_fd, answer_during_inline, cl);
        if (rc < 0)
            return rc;
    }
    chd_pool_hooks_t hooks = {.run = on_job_run, .done = on_job_done,
                              .thread_start = on_thread_start, .thread_stop = on_thread_stop,
                              .ctx = cl};
    return chd_pool_start(&cl->pool, env->cfg->threads, loop, &hooks);
}

void chd_conn_loop_stop(chd_conn_loop_t *cl)
{
    chd_pool_stop(&cl->pool);
    if (cl->handler.handle_inline)
        chd_heartbeat_stop(&cl->heartbeat);
}

int chd_conn_loop_busy(chd_conn_loop_t *cl) { return chd_pool_busy(&cl->pool); }
