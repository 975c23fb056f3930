/* chd_green_conns: see chd_green_conns.h. */
#include "chd_green_conns.h"

#include "chd_conn_tls.h"

#include "chd_conn_loop.h" /* CHD_DRAIN_GRACE: the same in both modes */

#include <errno.h>
#include <unistd.h>

static inline chd_green_conns_t *conns_of(const chd_conn_t *conn) { return conn->env->owner; }

static void close_conn(chd_conn_t *conn)
{
    struct ev_loop *loop = conns_of(conn)->loop;
    ev_io_stop(loop, &conn->io);
    ev_timer_stop(loop, &conn->timer);
    chd_conn_destroy(conn);
}

static void set_timer(chd_conn_t *conn, double seconds)
{
    struct ev_loop *loop = conns_of(conn)->loop;
    ev_timer_stop(loop, &conn->timer);
    ev_timer_set(&conn->timer, seconds, 0);
    ev_timer_start(loop, &conn->timer);
}

static double idle_limit(chd_conn_t *conn)
{
    return atomic_load(&conn->env->draining) ? CHD_DRAIN_GRACE : conn->env->cfg->keepalive;
}

/* The request is ready: it counts as running from now (a worker takes it
 * at the hub's next turn), so bytes arriving meanwhile wait in the socket. */
static void queue_ready(chd_conn_t *conn)
{
    chd_green_conns_t *gc = conns_of(conn);
    chd_conn_begin_request(conn);
    conn->job.next = NULL;
    if (gc->ready_tail)
        gc->ready_tail->next = &conn->job;
    else
        gc->ready_head = &conn->job;
    gc->ready_tail = &conn->job;
}

chd_conn_t *chd_green_conns_next_ready(chd_green_conns_t *gc)
{
    chd_job_t *job = gc->ready_head;
    if (!job)
        return NULL;
    gc->ready_head = job->next;
    if (!gc->ready_head)
        gc->ready_tail = NULL;
    return (chd_conn_t *)job; /* job is chd_conn_t's first member */
}

/* Acts on what parsing left: close a failed connection (parsing answered a
 * bad request already), queue a ready one, or start the head's deadline
 * when a head has begun. */
static void after_parse(chd_conn_t *conn, chd_parse_result_t rc, bool was_idle)
{
    switch (rc) {
    case CHD_PARSE_BAD:
    case CHD_PARSE_DROP:
        close_conn(conn);
        return;
    case CHD_PARSE_READY:
        queue_ready(conn);
        return;
    case CHD_PARSE_MORE:
        if (was_idle && conn->req.phase != CHD_REQ_IDLE)
            set_timer(conn, conn->env->cfg->header_timeout);
        return;
    }
}

/* Reads into one buffer shared by every connection of the hub's thread, so
 * a parked connection owns no read buffer; only unparsed leftovers are
 * copied into its own. */
static void read_via_scratch(chd_conn_t *conn)
{
    static char scratch[64 * 1024];
    ssize_t n = chd_conn_read_into(conn, scratch, sizeof scratch);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        chd_conn_read_failed(conn, (int)n);
        close_conn(conn);
        return;
    }
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse_bytes(conn, scratch, (size_t)n), was_idle);
}

/* Readable. While a request runs (or waits in the ready FIFO) the socket
 * is the request's: the watcher disarms itself until the request ends. */
static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_conn_t *conn = w->data;
    if (atomic_load(&conn->state) != CHD_CONN_WAITING) {
        ev_io_stop(loop, w);
        atomic_store(&conn->state, CHD_CONN_IN_APP_DISARMED);
        return;
    }
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
    bool was_idle = conn->req.phase == CHD_REQ_IDLE;
    after_parse(conn, chd_conn_parse(conn), was_idle);
}

/* The one timer of a connection, re-armed lazily: while a request runs it
 * only re-arms; idle, it closes once the keep-alive time (from the end of
 * the last request) is over; with half a head it answers 408; still owing
 * its PROXY header, it just closes. */
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
    chd_conn_timed_out(conn); /* 408 with half a head; idle or draining: quiet */
    close_conn(conn);
}

void chd_green_conns_open(chd_green_conns_t *gc, int fd, const struct sockaddr *peer,
                          chd_tls_ctx_t *tls)
{
    chd_conn_t *conn = chd_conn_new(gc->env, fd, peer);
    if (!conn)
        return;
    if (tls && chd_conn_tls_start(conn, tls) < 0) {
        chd_conn_fail(conn, 0, CHD_CLOSE_OUT_OF_MEMORY);
        chd_conn_destroy(conn);
        return;
    }
    ev_io_init(&conn->io, on_readable, fd, EV_READ);
    conn->io.data = conn;
    ev_timer_init(&conn->timer, on_timeout, 0, 0);
    conn->timer.data = conn;
    ev_io_start(gc->loop, &conn->io);
    set_timer(conn, gc->env->cfg->header_timeout);
    read_via_scratch(conn);
}

void chd_green_conns_finish(chd_conn_t *conn)
{
    bool disarmed = atomic_load(&conn->state) == CHD_CONN_IN_APP_DISARMED;
    if (!chd_conn_end_request(conn)) {
        close_conn(conn);
        return;
    }
    if (disarmed)
        ev_io_start(conns_of(conn)->loop, &conn->io);
    if (cmn_buf_unread(&conn->rbuf) > 0)
        after_parse(conn, chd_conn_parse(conn), true); /* pipelined */
}

void chd_green_conns_drain(chd_green_conns_t *gc)
{
    for (chd_conn_t *conn = gc->env->conns; conn; conn = conn->next)
        if (chd_conn_is_idle(conn) || atomic_load(&conn->state) != CHD_CONN_WAITING)
            set_timer(conn, CHD_DRAIN_GRACE);
}

void chd_green_conns_init(chd_green_conns_t *gc, struct ev_loop *loop, chd_conn_env_t *env)
{
    gc->loop = loop;
    gc->env = env;
    gc->ready_head = gc->ready_tail = NULL;
    env->owner = gc;
}
