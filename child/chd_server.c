/* chd_server: see chd_server.h. */
#include "chd_server.h"

#include "chd_conn_loop.h"
#include "chd_accesslog.h"
#include "chd_control.h"
#include "chd_linger.h"
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
#define SATURATED_PAUSE_SECONDS 0.02 /* while every thread runs a request */

static void maybe_finish_drain(chd_server_t *s)
{
    if (atomic_load(&s->env.draining) && !s->env.conns && !chd_linger_any(&s->env) &&
        chd_conn_loop_busy(&s->requests) == 0)
        chd_conn_loop_end(&s->requests);
}

/* chd_conn_loop_t.on_quiet: a request ended or a connection closed. */
static void on_quiet(void *owner) { maybe_finish_drain(owner); }

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
    if (!atomic_load(&s->env.draining))
        start_accepting(loop, s);
}

/* Stops accepting for `seconds` (the listening sockets' queues wait). */
static void pause_accepting(struct ev_loop *loop, chd_server_t *s, double seconds)
{
    stop_accepting(loop, s);
    ev_timer_set(&s->accept_pause, seconds, 0);
    ev_timer_start(loop, &s->accept_pause);
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
                pause_accepting(loop, s, ACCEPT_PAUSE_SECONDS);
            }
            return; /* EAGAIN, or a connection that went away: fine */
        }
        chd_conn_loop_open(&s->requests, fd, (struct sockaddr *)&peer,
                           chd_listeners_of(&s->listeners, listen_fd));
    }
}

static void on_acceptable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_server_t *s = w->data;
    /* Every thread runs a request (a long one on the main thread, the loop
     * kept by the standby): a connection taken now would only wait here,
     * while on a shared socket another child may be free to serve it. */
    if (chd_conn_loop_saturated(&s->requests)) {
        pause_accepting(loop, s, SATURATED_PAUSE_SECONDS);
        return;
    }
    accept_some(loop, s, w->fd, 64); /* bounded: one busy socket cannot starve the loop */
}

void chd_server_drain(chd_server_t *s)
{
    if (atomic_exchange(&s->env.draining, true))
        return;
    cmn_info("draining: %d connection(s) open", atomic_load(&s->env.stats->connections));
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
    if (chd_conn_loop_busy(&s->requests) > 0)
        cmn_info("listening sockets closed while a request runs");
    for (chd_conn_t *conn = s->env.conns; conn; conn = conn->next)
        chd_conn_loop_drain(conn);
    maybe_finish_drain(s);
}

static void on_control(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    chd_server_t *s = w->data;
    switch (chd_control_read(&s->control)) {
    case CHD_CONTROL_GONE: /* the controller is gone: finish what is in flight, leave */
        ev_io_stop(loop, w);
        chd_orphan_begin(s->cfg);
        chd_server_drain(s);
        break;
    case CHD_CONTROL_STOP:
        chd_server_drain(s);
        break;
    default:
        break;
    }
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
    s->listeners = *listeners;
    s->env = (chd_conn_env_t){.cfg = cfg, .stats = chd_stats_open(cfg->stats_fd),
                              .wait = chd_conn_poll_wait, .on_answered = chd_accesslog_rejected};
    if (!s->env.stats)
        return -ENOMEM;
    atomic_init(&s->env.draining, false);
    chd_control_init(&s->control, control_fd, &s->env);
    s->control.tls = s->listeners.tls_ctx;
    for (int i = 0; i < s->listeners.n; i++) {
        ev_io_init(&s->accept_watchers[i], on_acceptable, s->listeners.fds[i], EV_READ);
        s->accept_watchers[i].data = s;
    }
    ev_timer_init(&s->accept_pause, on_accept_pause_over, ACCEPT_PAUSE_SECONDS, 0);
    s->accept_pause.data = s;
    ev_io_init(&s->control_watcher, on_control, control_fd, EV_READ);
    s->control_watcher.data = s;
    start_signals(s);
    s->requests.on_quiet = on_quiet;
    s->requests.owner = s;
    return chd_conn_loop_init(&s->requests, s->loop, &s->env, &s->control, handler);
}

void chd_server_run(chd_server_t *s)
{
    start_accepting(s->loop, s);
    ev_io_start(s->loop, &s->control_watcher);
    chd_conn_loop_run(&s->requests);
    chd_conn_loop_stop(&s->requests);
}
