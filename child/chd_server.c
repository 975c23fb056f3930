/* chd_server: see chd_server.h. */
#include "chd_server.h"

#include "chd_conn_loop.h"
#include "chd_control.h"
#include "chd_orphan.h"

#include "cmn_ctlmsg.h"
#include "cmn_log.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_PAUSE_SECONDS 0.1 /* after EMFILE/ENFILE */

void chd_server_add_conn(chd_server_t *s, chd_conn_t *conn)
{
    conn->prev = NULL;
    conn->next = s->conns;
    if (s->conns)
        s->conns->prev = conn;
    s->conns = conn;
    s->nconns++;
}

static void maybe_finish_drain(chd_server_t *s)
{
    if (s->loop && atomic_load(&s->draining) && s->nconns == 0 && chd_pool_busy(&s->pool) == 0)
        ev_break(s->loop, EVBREAK_ALL);
}

void chd_server_remove_conn(chd_server_t *s, chd_conn_t *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    s->nconns--;
    maybe_finish_drain(s);
}

void chd_listeners_close(chd_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++) {
        if (ls->fds[i] >= 0)
            close(ls->fds[i]);
        ls->fds[i] = -1;
    }
}

static void start_accepting(struct ev_loop *loop, chd_server_t *s)
{
    for (int i = 0; i < s->listeners.n; i++)
        ev_io_start(loop, &s->accept_watchers[i]);
}

static void stop_accepting(struct ev_loop *loop, chd_server_t *s)
{
    for (int i = 0; i < s->listeners.n; i++)
        ev_io_stop(loop, &s->accept_watchers[i]);
}

static void on_accept_pause_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    chd_server_t *s = w->data;
    if (!atomic_load(&s->draining))
        start_accepting(loop, s);
}

/* Accepts up to `max` queued connections from listen_fd. */
static void accept_some(struct ev_loop *loop, chd_server_t *s, int listen_fd, int max)
{
    for (int i = 0; i < max; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                cmn_warning("accept: %s; pausing accepts", strerror(errno));
                stop_accepting(loop, s);
                ev_timer_set(&s->accept_pause, ACCEPT_PAUSE_SECONDS, 0);
                ev_timer_start(loop, &s->accept_pause);
            }
            return; /* EAGAIN, or a connection that went away: fine */
        }
        chd_conn_loop_open(s, fd, (struct sockaddr *)&peer);
    }
}

static void on_acceptable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    accept_some(loop, w->data, w->fd, 64); /* bounded: one busy socket cannot starve the loop */
}

void chd_server_drain(chd_server_t *s)
{
    if (atomic_exchange(&s->draining, true))
        return;
    cmn_info("draining: %d connection(s) open", s->nconns);
    stop_accepting(s->loop, s);
    ev_timer_stop(s->loop, &s->accept_pause);
    /* Take over what is already queued before letting go of the sockets:
     * when one closes for good (a stop, or --reuse-port scaling down) queued
     * connections would be reset; while it lives on in a successor it costs
     * nothing (they are served, with "Connection: close"). */
    for (int i = 0; i < s->listeners.n; i++)
        if (s->listeners.fds[i] >= 0)
            accept_some(s->loop, s, s->listeners.fds[i], 4096);
    chd_listeners_close(&s->listeners);
    for (chd_conn_t *conn = s->conns; conn; conn = conn->next)
        chd_conn_loop_drain(conn);
    maybe_finish_drain(s);
}

static void on_control(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_server_t *s = w->data;
    switch (chd_control_read(s)) {
    case CHD_CONTROL_GONE: /* the controller is gone: finish what is in flight, leave */
        ev_io_stop(loop, w);
        chd_server_drain(s);
        break;
    case CHD_CONTROL_STOP:
        chd_server_drain(s);
        break;
    default:
        break;
    }
}

bool chd_server_run_inline(chd_server_t *s, chd_conn_t *conn)
{
    if (!s->handler.handle_inline || conn->req.phase != CHD_REQ_DONE || chd_pool_busy(&s->pool))
        return false;
    chd_heartbeat_inline_begin(&s->heartbeat, conn);
    s->handler.handle_inline(conn, s->inline_tstate);
    chd_heartbeat_inline_end(&s->heartbeat);
    chd_control_request_done(s);
    return true;
}

/* The heartbeat thread read a "stop" while a request ran inline. */
static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_server_t *s = w->data;
    chd_orphan_adopt(s); /* connections taken off the sockets while the controller was gone */
    if (atomic_exchange(&s->stop_after_inline, false))
        chd_server_drain(s);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    if (w->signum == SIGTERM) {
        chd_server_drain(w->data);
        return;
    }
    _exit(0); /* INT/QUIT: at once, as operators expect */
}

/* Worker thread: runs the request, then ends it right there when the I/O
 * thread need not be involved (returns false), else asks for on_job_done. */
static bool on_job_run(chd_job_t *job, void *ctx)
{
    chd_server_t *s = ctx;
    chd_conn_t *conn = (chd_conn_t *)job;
    s->handler.handle(conn, s->handler.ctx);
    chd_control_request_done(s);
    return !chd_conn_loop_finish_in_worker(conn);
}

static void on_job_done(chd_job_t *job, void *ctx)
{
    chd_server_t *s = ctx;
    chd_conn_loop_request_done((chd_conn_t *)job);
    maybe_finish_drain(s);
}

static void on_thread_start(void *ctx)
{
    chd_server_t *s = ctx;
    if (s->handler.thread_start)
        s->handler.thread_start(s->handler.ctx);
}

static void on_thread_stop(void *ctx)
{
    chd_server_t *s = ctx;
    if (s->handler.thread_stop)
        s->handler.thread_stop(s->handler.ctx);
}

static void start_signals(chd_server_t *s)
{
    ev_signal *sigs[] = {&s->sig_term, &s->sig_int, &s->sig_quit};
    int signums[] = {SIGTERM, SIGINT, SIGQUIT};
    for (int i = 0; i < 3; i++) {
        ev_signal_init(sigs[i], on_signal, signums[i]);
        sigs[i]->data = s;
        ev_signal_start(s->loop, sigs[i]);
    }
}

int chd_server_init(chd_server_t *s, const chd_config_t *cfg, const chd_listeners_t *listeners,
                    int control_fd, const chd_handler_t *handler)
{
    memset(s, 0, sizeof *s);
    s->loop = ev_default_loop(EVFLAG_AUTO);
    if (!s->loop)
        return -ENOMEM;
    s->cfg = cfg;
    s->handler = *handler;
    s->listeners = *listeners;
    s->control_fd = control_fd;
    s->wait = chd_conn_poll_wait;
    atomic_init(&s->draining, false);
    for (int i = 0; i < s->listeners.n; i++) {
        ev_io_init(&s->accept_watchers[i], on_acceptable, s->listeners.fds[i], EV_READ);
        s->accept_watchers[i].data = s;
    }
    ev_timer_init(&s->accept_pause, on_accept_pause_over, ACCEPT_PAUSE_SECONDS, 0);
    s->accept_pause.data = s;
    ev_io_init(&s->control_watcher, on_control, control_fd, EV_READ);
    s->control_watcher.data = s;
    start_signals(s);
    ev_async_init(&s->wake, on_wake);
    s->wake.data = s;
    ev_async_start(s->loop, &s->wake);
    if (handler->handle_inline) {
        int rc = chd_heartbeat_start(&s->heartbeat, s);
        if (rc < 0)
            return rc;
    }
    chd_pool_hooks_t hooks = {.run = on_job_run, .done = on_job_done,
                              .thread_start = on_thread_start, .thread_stop = on_thread_stop,
                              .ctx = s};
    return chd_pool_start(&s->pool, cfg->threads, s->loop, &hooks);
}

void chd_server_run(chd_server_t *s)
{
    start_accepting(s->loop, s);
    ev_io_start(s->loop, &s->control_watcher);
    ev_run(s->loop, 0);
    chd_pool_stop(&s->pool);
    if (s->handler.handle_inline)
        chd_heartbeat_stop(&s->heartbeat);
}
