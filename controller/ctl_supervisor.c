/* ctl_supervisor: see ctl_supervisor.h. The periodic judgement of the
 * children is a policy in ctl_health.c; the services (admin socket, status
 * service) see this module through the operations table (ctl_ops.h). */
#include "ctl_supervisor.h"

#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "cmn_logfile.h"
#include "ctl_admin.h"
#include "ctl_child.h"
#include "ctl_childconf.h"
#include "ctl_listen.h"
#include "ctl_sdnotify.h"
#include "ctl_statushttp.h"
#include "ctl_daemon.h"
#include "ctl_children.h"
#include "ctl_health.h"
#include "ctl_metrics.h"
#include "ctl_ops.h"
#include "ctl_status.h"
#include "ctl_watch.h"

#include <errno.h>
#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CTL_RESTART_DELAY_MIN 0.1 /* seconds, after the first failed start */
#define CTL_RESTART_DELAY_MAX 10.0
#define CTL_IMMEDIATE_STOP_GRACE 2.0 /* seconds before SIGKILL after INT/QUIT */
#define CTL_TICK 1.0                 /* seconds between health checks */
#define CTL_DEV_RELOAD_DEBOUNCE 0.2  /* seconds of quiet after a source change */

typedef struct ctl_supervisor {
    struct ev_loop *loop;
    const ctl_config_t *cfg;
    json_t *child_config;
    char child_binary[4096];
    ctl_listeners_t *listeners; /* every socket children accept on */
    ctl_child_t *children;
    int generation;         /* the one serving */
    int pending_generation; /* > generation while a reload starts, else 0 */
    int desired;            /* children wanted (--processes, TTIN/TTOU) */
    int failed_starts;      /* in a row, for the back-off */
    ev_tstamp started_at;
    ev_signal signals[7];
    ev_child child_watcher;
    ev_timer restart_timer; /* back-off before the next start */
    ev_timer tick;
    ev_timer kill_timer;    /* stopping: SIGKILL what is left */
    ctl_watch_t *watch;     /* --reload=dev */
    bool stopping;
    bool stop_announced;     /* a graceful stop is pending (--shutdown-delay): /healthz 503 */
    ev_timer shutdown_timer; /* the end of --shutdown-delay */
    bool ever_ready;
    int exit_code;
    int reloads;
    char last_reload_reason[256];
    char *last_reload_error;
    int listen_port;
    /* Counters of children that are gone, so totals survive them. */
    cmn_stats_snapshot_t retired;
    ctl_events_t events;             /* reloads, restarts (ctl_metrics.h) */
    ctl_reload_cause_t reload_cause; /* of the reload under way */
    int killed_children; /* died or were killed without being asked to stop */
    ctl_history_t history; /* the request rate, for the status page and the document */
    ctl_tlskeys_t tls_keys;   /* session ticket keys, when a listener serves TLS */
    ev_timer tls_keys_timer;  /* their rotation */
    ctl_admin_t *admin;
    ctl_statushttp_t *status_http;
} ctl_supervisor_t;

static void top_up(ctl_supervisor_t *sup);
static void graceful_stop(ctl_supervisor_t *sup, const char *why);
static int start_tls_keys(ctl_supervisor_t *sup);

static int count_live(const ctl_supervisor_t *sup)
{
    int n = 0;
    for (const ctl_child_t *c = sup->children; c; c = c->next)
        n++;
    return n;
}

/* Children that serve (or will) for the current generation: not draining,
 * not about to be replaced. */
static int count_serving(const ctl_supervisor_t *sup)
{
    int n = 0;
    for (const ctl_child_t *c = sup->children; c; c = c->next)
        n += c->generation == sup->generation && c->state != CTL_CHILD_DRAINING &&
             !c->being_replaced;
    return n;
}

static void signal_all(ctl_supervisor_t *sup, int signo)
{
    for (ctl_child_t *c = sup->children; c; c = c->next)
        kill(c->pid, signo);
}

static void drain(ctl_supervisor_t *sup, ctl_child_t *c, const char *why)
{
    if (c->state == CTL_CHILD_DRAINING)
        return;
    cmn_info("stopping child %d (%s)", (int)c->pid, why);
    c->state = CTL_CHILD_DRAINING;
    c->drain_at = ev_now(sup->loop);
    ctl_children_send(c, CMN_MSG_STOP);
    kill(c->pid, SIGTERM); /* also works if the channel is clogged */
}

static void on_control(struct ev_loop *loop, ev_io *w, int revents);

/* The config a new child gets: the shared one plus its own max_requests. */
static json_t *config_for_child(ctl_supervisor_t *sup)
{
    const ctl_config_t *cfg = sup->cfg;
    json_t *conf = json_copy(sup->child_config);
    if (conf && cfg->max_requests > 0) {
        long long jitter = cfg->max_requests_jitter > 0
                               ? (long long)(drand48() * (double)(cfg->max_requests_jitter + 1))
                               : 0;
        json_object_set_new(conf, "max_requests", json_integer(cfg->max_requests + jitter));
    }
    return conf;
}

/* The sockets a new child accepts on: the shared ones, or with
 * --reuse-port the TCP sockets of its slot (ctl_listeners.h). */
static int child_listeners(ctl_supervisor_t *sup, int slot, int *fds)
{
    char err[256];
    int n = ctl_listeners_for_slot(sup->listeners, slot, fds, err, sizeof err);
    if (n < 0)
        cmn_error("--reuse-port: %s", err);
    return n;
}

/* The lowest slot no serving child of the current generation holds. */
static int free_slot(const ctl_supervisor_t *sup)
{
    for (int slot = 0;; slot++) {
        bool taken = false;
        for (const ctl_child_t *c = sup->children; c && !taken; c = c->next)
            taken = c->slot == slot && c->generation == sup->generation &&
                    c->state != CTL_CHILD_DRAINING && !c->being_replaced;
        if (!taken)
            return slot;
    }
}

/* Scaling down: closes the --reuse-port sockets of slots no child will
 * accept on any more (a socket nobody accepts on would only queue). */
static void retire_unused_slots(ctl_supervisor_t *sup)
{
    if (!sup->cfg->reuse_port)
        return;
    int needed = sup->desired;
    for (const ctl_child_t *c = sup->children; c; c = c->next)
        if (c->state != CTL_CHILD_DRAINING && c->slot >= needed)
            needed = c->slot + 1;
    ctl_listeners_shrink(sup->listeners, needed);
}

static ctl_child_t *spawn(ctl_supervisor_t *sup, int generation, int slot)
{
    char err[256];
    int control_fd;
    int listen_fds[CTL_MAX_BINDS];
    int nfds = child_listeners(sup, slot, listen_fds);
    if (nfds < 0)
        return NULL;
    int stats_fd;
    cmn_statspage_t *page = cmn_statspage_create(&stats_fd);
    if (!page) {
        cmn_error("cannot start a child: its counter page: %s", strerror(errno));
        return NULL;
    }
    json_t *conf = config_for_child(sup);
    json_object_set_new(conf, "stats_fd", json_integer(CMN_STATSPAGE_CHILD_FD));
    pid_t pid = conf ? ctl_child_spawn(sup->child_binary, conf, listen_fds, nfds, stats_fd,
                                       &control_fd, err, sizeof err)
                     : -ENOMEM;
    json_decref(conf);
    close(stats_fd); /* the mapping stays */
    if (pid < 0) {
        cmn_error("cannot start a child: %s", pid == -ENOMEM ? "out of memory" : err);
        cmn_statspage_release(page);
        return NULL;
    }
    ctl_child_t *c = ctl_children_new(sup, pid, control_fd, generation, ev_now(sup->loop));
    if (!c) {
        kill(pid, SIGKILL);
        close(control_fd);
        cmn_statspage_release(page);
        return NULL;
    }
    c->stats = page;
    c->slot = slot;
    /* --max-age is staggered: each child gets up to 10% more, so children
     * started together are not all replaced together. */
    if (sup->cfg->max_age > 0)
        c->age_limit = sup->cfg->max_age * (1.0 + 0.1 * drand48());
    c->next = sup->children;
    sup->children = c;
    ev_io_init(&c->control_watcher, on_control, control_fd, EV_READ);
    c->control_watcher.data = c;
    ev_io_start(sup->loop, &c->control_watcher);
    cmn_debug("started child %d (generation %d)", (int)pid, generation);
    return c;
}

static void unlink_child(ctl_supervisor_t *sup, ctl_child_t *c)
{
    for (ctl_child_t **p = &sup->children; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    for (ctl_child_t *o = sup->children; o; o = o->next) {
        if (o->replaces == c)
            o->replaces = NULL;
    }
    ev_io_stop(sup->loop, &c->control_watcher);
}

/* --- reloads ---------------------------------------------------------- */

static void set_reload_error(ctl_supervisor_t *sup, const char *text)
{
    free(sup->last_reload_error);
    sup->last_reload_error = text ? strdup(text) : NULL;
}

/* Starts a complete new generation; the old one is drained only once every
 * new child is ready (finish_reload), so no request ever finds no child. */
static void begin_reload(ctl_supervisor_t *sup, const char *reason)
{
    if (sup->stopping || sup->stop_announced)
        return;
    if (sup->pending_generation) {
        cmn_info("reload (%s) ignored: generation %d is still starting", reason,
                 sup->pending_generation);
        return;
    }
    sup->reloads++;
    sup->reload_cause = ctl_metrics_reload_cause(reason);
    snprintf(sup->last_reload_reason, sizeof sup->last_reload_reason, "%s", reason);
    sup->pending_generation = sup->generation + 1;
    cmn_info("reloading (%s): starting generation %d", reason, sup->pending_generation);
    ctl_sdnotify("RELOADING=1\nSTATUS=reloading: starting generation %d", sup->pending_generation);
    for (int slot = 0; slot < sup->desired; slot++)
        if (!spawn(sup, sup->pending_generation, slot))
            break;
}

static void finish_reload_if_ready(ctl_supervisor_t *sup)
{
    int ready = 0;
    for (ctl_child_t *c = sup->children; c; c = c->next)
        ready += c->generation == sup->pending_generation && c->state == CTL_CHILD_READY;
    if (ready < sup->desired)
        return;
    int old = sup->generation;
    sup->generation = sup->pending_generation;
    sup->pending_generation = 0;
    sup->events.reloads_ok[sup->reload_cause]++;
    set_reload_error(sup, NULL);
    for (ctl_child_t *c = sup->children; c; c = c->next)
        if (c->generation <= old)
            drain(sup, c, "replaced by a new generation");
    retire_unused_slots(sup);
    cmn_info("reload complete: generation %d serving", sup->generation);
    ctl_sdnotify("READY=1\nSTATUS=serving (generation %d)", sup->generation);
}

/* A child of the generation being started died before it was ready: the
 * deploy is broken. The old generation keeps serving. */
static void abandon_reload(ctl_supervisor_t *sup, ctl_child_t *failed)
{
    const char *why = failed->fatal_error ? failed->fatal_error : "a new child died at start-up";
    cmn_log_block(CMN_LOG_ERROR, "reload failed; the running generation keeps serving:", why,
                  strlen(why));
    set_reload_error(sup, why);
    sup->events.reloads_failed[sup->reload_cause]++;
    for (ctl_child_t *c = sup->children; c; c = c->next)
        if (c->generation == sup->pending_generation && c != failed)
            drain(sup, c, "its generation failed to start");
    ctl_sdnotify("READY=1\nSTATUS=reload to generation %d failed; generation %d serving",
                 sup->pending_generation, sup->generation);
    sup->pending_generation = 0;
}

/* Starts a successor for c; c is drained once the successor is ready. One
 * replacement at a time: returns false (nothing done) while another
 * replacement or a reload is under way. */
static bool replace_child(ctl_supervisor_t *sup, ctl_child_t *c, const char *reason)
{
    if (sup->stopping || sup->pending_generation || c->state != CTL_CHILD_READY)
        return false;
    for (ctl_child_t *o = sup->children; o; o = o->next)
        if (o->being_replaced)
            return false;
    ctl_child_t *successor = spawn(sup, sup->generation, c->slot);
    if (!successor)
        return false;
    cmn_info("replacing child %d (%s) with child %d", (int)c->pid, reason, (int)successor->pid);
    successor->replaces = c;
    c->being_replaced = true;
    return true;
}

/* --- messages from children ------------------------------------------- */

static void child_ready(ctl_supervisor_t *sup, ctl_child_t *c)
{
    if (c->state != CTL_CHILD_STARTING)
        return;
    c->state = CTL_CHILD_READY;
    c->ready_at = c->last_pong = ev_now(sup->loop);
    sup->failed_starts = 0;
    if (!sup->ever_ready) {
        ctl_daemon_ready(); /* -d: the command the user ran may now exit 0 */
        ctl_sdnotify("READY=1\nMAINPID=%d\nSTATUS=serving (generation %d)", (int)getpid(),
                     sup->generation);
    }
    sup->ever_ready = true;
    cmn_info("child %d ready", (int)c->pid);
    if (c->replaces) {
        drain(sup, c->replaces, "its successor is ready");
        c->replaces = NULL;
    }
    if (c->generation == sup->pending_generation)
        finish_reload_if_ready(sup);
}

static void add_watched_files(ctl_supervisor_t *sup, json_t *msg)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(msg, "files"), i, f)
    {
        if (sup->watch && json_is_string(f))
            ctl_watch_add(sup->watch, json_string_value(f));
    }
}

static void handle_message(ctl_supervisor_t *sup, ctl_child_t *c, json_t *msg)
{
    const char *type = cmn_ctlmsg_type(msg);
    if (strcmp(type, CMN_MSG_READY) == 0) {
        child_ready(sup, c);
    } else if (strcmp(type, CMN_MSG_PONG) == 0) {
        ctl_children_record_pong(c, msg, ev_now(sup->loop));
    } else if (strcmp(type, CMN_MSG_RECYCLE) == 0) {
        /* One replacement at a time: if another is under way, the health
         * tick asks again. */
        c->wants_recycle = !replace_child(sup, c, "--max-requests");
        sup->events.restarts[CTL_RESTART_MAX_REQUESTS] += !c->wants_recycle;
    } else if (strcmp(type, CMN_MSG_TIMEOUT) == 0) {
        /* The child answered it (504) and logged its stack; the health tick
         * replaces the child, even when its heartbeats stall (green mode). */
        ctl_children_record_timeout(c, msg);
    } else if (strcmp(type, CMN_MSG_FILES) == 0) {
        add_watched_files(sup, msg);
    } else if (strcmp(type, CMN_MSG_FATAL) == 0) {
        const char *text = json_string_value(json_object_get(msg, "error"));
        free(c->fatal_error);
        c->fatal_error = strdup(text ? text : "unknown error");
    } else {
        cmn_warning("child %d sent an unknown message type '%s'", (int)c->pid, type);
    }
}

/* Reads every queued message; closes the channel at end-of-file. */
static void read_control(ctl_supervisor_t *sup, ctl_child_t *c)
{
    while (c->control_fd >= 0) {
        int err;
        json_t *msg = cmn_ctlmsg_recv(c->control_fd, NULL, NULL, &err);
        if (msg) {
            handle_message(sup, c, msg);
            json_decref(msg);
            continue;
        }
        if (err == -EAGAIN)
            return;
        if (err == -EBADMSG) {
            cmn_warning("child %d sent a malformed control message", (int)c->pid);
            continue;
        }
        ev_io_stop(sup->loop, &c->control_watcher); /* the child is going */
        close(c->control_fd);
        c->control_fd = -1;
    }
}

static void on_control(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_child_t *c = w->data;
    read_control(c->owner, c);
}

/* --- exits, restarts, scaling ------------------------------------------ */

static void log_exit(const ctl_child_t *c, int status)
{
    bool expected = c->state == CTL_CHILD_DRAINING;
    if (WIFSIGNALED(status))
        cmn_log(expected ? CMN_LOG_INFO : CMN_LOG_WARNING, "child %d killed by signal %d",
                (int)c->pid, WTERMSIG(status));
    else
        cmn_log(expected || WEXITSTATUS(status) == 0 ? CMN_LOG_INFO : CMN_LOG_WARNING,
                "child %d exited with code %d", (int)c->pid, WEXITSTATUS(status));
}

static double restart_delay(int failed_starts)
{
    double delay = CTL_RESTART_DELAY_MIN;
    for (int i = 1; i < failed_starts && delay < CTL_RESTART_DELAY_MAX; i++)
        delay *= 2;
    return delay < CTL_RESTART_DELAY_MAX ? delay : CTL_RESTART_DELAY_MAX;
}

static void on_restart_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    top_up(w->data);
}

/* Starts or stops children until the current generation has `desired`. */
static void top_up(ctl_supervisor_t *sup)
{
    if (sup->stopping || ev_is_active(&sup->restart_timer))
        return;
    int serving = count_serving(sup);
    for (; serving < sup->desired; serving++)
        if (!spawn(sup, sup->generation, free_slot(sup)))
            break;
    for (; serving > sup->desired; serving--) {
        ctl_child_t *last = NULL; /* the highest slot, so the slots stay 0..desired-1 */
        for (ctl_child_t *c = sup->children; c; c = c->next)
            if (c->generation == sup->generation && c->state != CTL_CHILD_DRAINING &&
                !c->being_replaced && (!last || c->slot > last->slot))
                last = c;
        if (!last)
            break;
        drain(sup, last, "scaled down");
    }
    retire_unused_slots(sup);
}

/* After a child died without being asked to. */
static void after_unexpected_exit(ctl_supervisor_t *sup, ctl_child_t *c, bool was_ready)
{
    if (c->generation == sup->pending_generation && !was_ready) {
        abandon_reload(sup, c);
        return;
    }
    if (!was_ready && !sup->ever_ready) {
        if (c->fatal_error)
            cmn_log_block(CMN_LOG_CRITICAL, "the application could not be started:",
                          c->fatal_error, strlen(c->fatal_error));
        else
            cmn_log(CMN_LOG_CRITICAL, "the first child died before it was ready; giving up");
        ctl_daemon_fail(c->fatal_error ? c->fatal_error : "the first child died at start-up");
        sup->exit_code = 1;
        ctl_supervisor_stop(sup, SIGQUIT, CTL_IMMEDIATE_STOP_GRACE);
        return;
    }
    if (c->fatal_error)
        cmn_log_block(CMN_LOG_ERROR, "child start-up failed:", c->fatal_error,
                      strlen(c->fatal_error));
    for (ctl_child_t *o = sup->children; o; o = o->next)
        if (o->being_replaced && c->replaces == o)
            o->being_replaced = false; /* its successor failed: keep it */
    sup->events.restarts[c->heartbeat_killed ? CTL_RESTART_HEARTBEAT : CTL_RESTART_CRASH]++;
    if (!was_ready) {
        sup->failed_starts++;
        double delay = restart_delay(sup->failed_starts);
        cmn_warning("restarting in %.1f s (%d failed starts in a row)", delay,
                    sup->failed_starts);
        ev_timer_set(&sup->restart_timer, delay, 0);
        ev_timer_start(sup->loop, &sup->restart_timer);
        return;
    }
    top_up(sup);
}

static void on_child_exit(struct ev_loop *loop, ev_child *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    ctl_child_t *c = sup->children;
    while (c && c->pid != w->rpid)
        c = c->next;
    if (!c)
        return;
    read_control(sup, c); /* a "fatal" may still be queued */
    log_exit(c, w->rstatus);
    bool was_ready = c->state == CTL_CHILD_READY;
    bool asked = c->state == CTL_CHILD_DRAINING;
    if (c->stats) { /* the page outlives the child: its last numbers are exact */
        cmn_stats_snapshot_t last;
        cmn_statspage_read(c->stats, &last);
        last.connections = last.in_flight = last.threads_busy = 0; /* gauges end with it */
        cmn_stats_snapshot_add(&sup->retired, &last);
    }
    if (!asked && !sup->stopping)
        sup->killed_children++;
    unlink_child(sup, c);
    if (sup->stopping) {
        if (count_live(sup) == 0)
            ev_break(sup->loop, EVBREAK_ALL);
    } else if (!asked) {
        after_unexpected_exit(sup, c, was_ready);
    }
    ctl_children_free(c);
}

/* Requests served by all children, the gone ones included. */
static uint64_t total_requests(const ctl_supervisor_t *sup)
{
    uint64_t total = sup->retired.requests_done;
    for (const ctl_child_t *c = sup->children; c; c = c->next)
        if (c->stats)
            total += atomic_load_explicit(&c->stats->requests_done, memory_order_relaxed);
    return total;
}

/* --- stopping and signals ---------------------------------------------- */

static void on_kill_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    if (count_live(sup) > 0) {
        cmn_warning("children still running after the timeout; killing them");
        signal_all(sup, SIGKILL);
    }
}

void ctl_supervisor_stop(ctl_supervisor_t *sup, int signo, double grace)
{
    ev_timer_stop(sup->loop, &sup->shutdown_timer); /* an immediate stop cuts a delay short */
    sup->stopping = true;
    ev_timer_stop(sup->loop, &sup->restart_timer);
    for (ctl_child_t *c = sup->children; c; c = c->next) {
        c->state = CTL_CHILD_DRAINING;
        c->drain_at = ev_now(sup->loop);
    }
    ctl_sdnotify("STOPPING=1\nSTATUS=stopping");
    ctl_listeners_close(sup->listeners); /* the children accept what is queued, then close */
    signal_all(sup, signo);
    ev_timer_stop(sup->loop, &sup->kill_timer);
    ev_timer_set(&sup->kill_timer, grace, 0);
    ev_timer_start(sup->loop, &sup->kill_timer);
    if (count_live(sup) == 0)
        ev_break(sup->loop, EVBREAK_ALL);
}

void ctl_supervisor_reopen_logs(ctl_supervisor_t *sup)
{
    const ctl_config_t *cfg = sup->cfg;
    int rc = cmn_logfile_reopen(cfg->stdout_path, cfg->stderr_path);
    if (rc < 0)
        cmn_error("cannot reopen the log files: %s", strerror(-rc));
    for (ctl_child_t *c = sup->children; c; c = c->next)
        ctl_children_send(c, CMN_MSG_REOPEN);
    cmn_info("log files reopened");
}

void ctl_supervisor_scale(ctl_supervisor_t *sup, int desired)
{
    if (desired < 1 || sup->stopping)
        return;
    cmn_info("scaling from %d to %d children", sup->desired, desired);
    sup->desired = desired;
    top_up(sup);
}

void ctl_supervisor_reload(ctl_supervisor_t *sup, const char *reason)
{
    begin_reload(sup, reason);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    switch (w->signum) {
    case SIGTERM:
        graceful_stop(sup, "SIGTERM");
        break;
    case SIGINT:
    case SIGQUIT:
        cmn_info("%s: immediate stop", w->signum == SIGINT ? "SIGINT" : "SIGQUIT");
        ctl_supervisor_stop(sup, SIGQUIT, CTL_IMMEDIATE_STOP_GRACE);
        break;
    case SIGHUP:
        ctl_supervisor_reload(sup, "SIGHUP");
        break;
    case SIGTTIN:
        ctl_supervisor_scale(sup, sup->desired + 1);
        break;
    case SIGTTOU:
        ctl_supervisor_scale(sup, sup->desired - 1);
        break;
    case SIGUSR1:
        ctl_supervisor_reopen_logs(sup);
        break;
    }
}

static void on_shutdown_delay_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    cmn_info("shutdown delay over: closing the listening sockets");
    ctl_supervisor_stop(sup, SIGTERM, sup->cfg->graceful_timeout);
}

/* A graceful stop (SIGTERM, spawnctl stop) as a load balancer sees it: it
 * is announced first (/healthz answers 503 from now on); with
 * --shutdown-delay the children keep serving that long, like a Kubernetes
 * preStop sleep, before the sockets close and the children drain. */
static void graceful_stop(ctl_supervisor_t *sup, const char *why)
{
    if (sup->stopping || sup->stop_announced)
        return;
    sup->stop_announced = true;
    double delay = sup->cfg->shutdown_delay;
    if (delay <= 0) {
        cmn_info("%s: graceful stop (timeout %.0f s)", why, sup->cfg->graceful_timeout);
        ctl_supervisor_stop(sup, SIGTERM, sup->cfg->graceful_timeout);
        return;
    }
    cmn_info("%s: graceful stop in %.1f s (--shutdown-delay; /healthz answers 503 now)", why,
             delay);
    ctl_sdnotify("STOPPING=1\nSTATUS=stopping in %.1f s", delay);
    ev_timer_set(&sup->shutdown_timer, delay, 0);
    ev_timer_start(sup->loop, &sup->shutdown_timer);
}

static void on_source_change(void *arg, const char *path)
{
    char reason[300];
    snprintf(reason, sizeof reason, "source change: %s", path);
    ctl_supervisor_reload(arg, reason);
}

/* --- the once-a-second tick: heartbeats, health, the request rate ------- */

/* The restart cause /metrics counts for a replacement ctl_health decided. */
static ctl_restart_cause_t restart_cause(ctl_health_cause_t cause)
{
    switch (cause) {
    case CTL_CAUSE_TIMEOUT: return CTL_RESTART_TIMEOUT;
    case CTL_CAUSE_MAX_REQUESTS: return CTL_RESTART_MAX_REQUESTS;
    case CTL_CAUSE_MAX_AGE: return CTL_RESTART_MAX_AGE;
    case CTL_CAUSE_MAX_MEMORY: return CTL_RESTART_MAX_MEMORY;
    case CTL_CAUSE_HEARTBEAT: return CTL_RESTART_HEARTBEAT;
    default: return CTL_RESTART_CRASH;
    }
}

/* Carries out one of ctl_health's decisions (ctl_health_apply_fn). */
static void apply_health(void *ctx, const ctl_health_decision_t *d)
{
    ctl_supervisor_t *sup = ctx;
    ctl_child_t *c = d->child;
    switch (d->action) {
    case CTL_HEALTH_KILL:
        cmn_log(d->cause == CTL_CAUSE_HEARTBEAT ? CMN_LOG_ERROR : CMN_LOG_WARNING, "%s",
                d->message);
        c->heartbeat_killed = d->cause == CTL_CAUSE_HEARTBEAT;
        kill(c->pid, SIGKILL);
        break;
    case CTL_HEALTH_REPLACE: {
        bool started = replace_child(sup, c, d->reason);
        if (started)
            sup->events.restarts[restart_cause(d->cause)]++;
        if (d->cause == CTL_CAUSE_TIMEOUT && started) {
            cmn_error("%s", d->message);
            c->timeout_reported = true; /* once: the request is still running */
        } else if (d->cause == CTL_CAUSE_MAX_REQUESTS) {
            c->wants_recycle = !started; /* asked again on the next tick */
        }
        break;
    }
    }
}

/* The request rate, and each child's memory once a step (ctl_history.h). */
static void sample_history(ctl_supervisor_t *sup, ev_tstamp now)
{
    ctl_history_sample(&sup->history, now, total_requests(sup));
    for (ctl_child_t *c = sup->children; c; c = c->next) {
        if (c->memory_trend.count > 0 && now - c->memory_trend.last_at < CTL_TREND_STEP)
            continue;
        long long rss = ctl_children_rss(c->pid);
        if (rss >= 0)
            ctl_trend_offer(&c->memory_trend, now, (double)rss);
    }
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    if (sup->stopping)
        return;
    ev_tstamp now = ev_now(loop);
    for (ctl_child_t *c = sup->children; c; c = c->next)
        if (c->state == CTL_CHILD_READY)
            ctl_children_send(c, CMN_MSG_PING);
    ctl_health_check(sup->cfg, sup->children, now, ctl_children_rss, apply_health, sup);
    sample_history(sup, now);
}

/* --- what the services may ask (ctl_ops.h) --------------------------------- */

static ctl_status_facts_t gather_facts(const ctl_supervisor_t *sup)
{
    return (ctl_status_facts_t){
        .cfg = sup->cfg, .listeners = sup->listeners, .children = sup->children,
        .started_at = sup->started_at, .listen_port = sup->listen_port,
        .generation = sup->generation, .pending_generation = sup->pending_generation,
        .desired = sup->desired, .killed_children = sup->killed_children,
        .total_requests = total_requests(sup), .retired = &sup->retired, .events = &sup->events,
        .requests_per_second = ctl_history_rate(&sup->history),
        .history = &sup->history,
        .reloads = sup->reloads, .last_reload_reason = sup->last_reload_reason,
        .last_reload_error = sup->last_reload_error,
        .stopping = sup->stopping || sup->stop_announced};
}

static json_t *op_status(void *ctx)
{
    ctl_status_facts_t facts = gather_facts(ctx);
    return ctl_status_document(&facts);
}

static void op_metrics(void *ctx, cmn_buf_t *out)
{
    const ctl_supervisor_t *sup = ctx;
    ctl_metrics_t m;
    if (ctl_metrics_collect(sup->children, &sup->retired, &sup->events, sup->cfg->threads,
                            sup->desired, ev_time(), &m) < 0)
        return;
    ctl_metrics_render(&m, out);
    ctl_metrics_free(&m);
}

static json_t *op_readiness(void *ctx)
{
    ctl_status_facts_t facts = gather_facts(ctx);
    return ctl_status_readiness(&facts);
}

static bool op_healthy(void *ctx)
{
    ctl_status_facts_t facts = gather_facts(ctx);
    return ctl_status_healthy(&facts);
}

static bool op_stopping(void *ctx)
{
    const ctl_supervisor_t *sup = ctx;
    return sup->stopping || sup->stop_announced;
}

static void op_reload(void *ctx, const char *reason) { ctl_supervisor_reload(ctx, reason); }

static int op_processes(void *ctx) { return ((ctl_supervisor_t *)ctx)->desired; }

static void op_scale(void *ctx, int processes) { ctl_supervisor_scale(ctx, processes); }

static void op_stop(void *ctx, bool now)
{
    if (now)
        ctl_supervisor_stop(ctx, SIGQUIT, CTL_IMMEDIATE_STOP_GRACE);
    else
        graceful_stop(ctx, "spawnctl stop");
}

static void op_reopen_logs(void *ctx) { ctl_supervisor_reopen_logs(ctx); }

static ctl_ops_t operations(ctl_supervisor_t *sup)
{
    return (ctl_ops_t){.ctx = sup, .status = op_status, .metrics = op_metrics,
                       .readiness = op_readiness, .healthy = op_healthy, .stopping = op_stopping,
                       .reload = op_reload, .processes = op_processes, .scale = op_scale,
                       .stop = op_stop, .reopen_logs = op_reopen_logs};
}

/* --- set-up ------------------------------------------------------------- */

static void start_signals(ctl_supervisor_t *sup)
{
    static const int signums[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1};
    for (size_t i = 0; i < sizeof signums / sizeof signums[0]; i++) {
        ev_signal_init(&sup->signals[i], on_signal, signums[i]);
        sup->signals[i].data = sup;
        ev_signal_start(sup->loop, &sup->signals[i]);
    }
}

static int init(ctl_supervisor_t *sup, const ctl_config_t *cfg, ctl_listeners_t *listeners)
{
    memset(sup, 0, sizeof *sup);
    sup->cfg = cfg;
    sup->listeners = listeners;
    sup->listen_port = ctl_listeners_port(listeners);
    sup->desired = cfg->processes;
    sup->generation = 1;
    sup->loop = ev_default_loop(EVFLAG_AUTO);
    if (!sup->loop) {
        cmn_error("cannot initialise the event loop");
        return -1;
    }
    sup->started_at = ev_now(sup->loop);
    if (ctl_child_binary_path(sup->child_binary, sizeof sup->child_binary) < 0) {
        cmn_error("cannot find spawning_child next to the controller");
        return -1;
    }
    /* SERVER_PORT of a server on a UNIX socket: the HTTP default, as the
     * proxy in front speaks for port 80 unless its Host says otherwise. */
    sup->child_config = ctl_childconf_build(cfg, ctl_listeners_server_name(listeners),
                                            sup->listen_port ? sup->listen_port : 80);
    if (!sup->child_config || start_tls_keys(sup) < 0)
        return -1;
    srand48((long)getpid() ^ (long)ev_time());
    start_signals(sup);
    ev_child_init(&sup->child_watcher, on_child_exit, 0, 0);
    sup->child_watcher.data = sup;
    ev_child_start(sup->loop, &sup->child_watcher);
    ev_timer_init(&sup->kill_timer, on_kill_timer, 0, 0);
    sup->kill_timer.data = sup;
    ev_timer_init(&sup->restart_timer, on_restart_timer, 0, 0);
    sup->restart_timer.data = sup;
    ev_timer_init(&sup->shutdown_timer, on_shutdown_delay_over, 0, 0);
    sup->shutdown_timer.data = sup;
    return 0;
}

/* --- TLS session ticket keys (ctl_tlskeys.h) ------------------------------ */

static bool serves_tls(const ctl_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->items[i].bind.tls)
            return true;
    return false;
}

/* A new key, in the config of children to come and sent to the live ones. */
static void on_tls_keys_rotate(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    if (ctl_tlskeys_rotate(&sup->tls_keys) < 0) {
        cmn_warning("cannot rotate the TLS ticket keys: no randomness; the old ones stay");
        return;
    }
    ctl_childconf_add_tls(sup->child_config, sup->cfg, sup->listeners, &sup->tls_keys);
    json_t *msg = json_pack("{s:s, s:o}", "type", CMN_MSG_TLS_KEYS, "keys",
                            ctl_tlskeys_json(&sup->tls_keys));
    for (ctl_child_t *c = sup->children; c; c = c->next)
        if (c->control_fd >= 0)
            cmn_ctlmsg_send(c->control_fd, msg, NULL, 0);
    json_decref(msg);
}

static int start_tls_keys(ctl_supervisor_t *sup)
{
    if (serves_tls(sup->listeners) && ctl_tlskeys_rotate(&sup->tls_keys) < 0) {
        cmn_error("cannot make TLS ticket keys: no randomness");
        return -1;
    }
    ctl_childconf_add_tls(sup->child_config, sup->cfg, sup->listeners, &sup->tls_keys);
    if (serves_tls(sup->listeners)) {
        ev_timer_init(&sup->tls_keys_timer, on_tls_keys_rotate, CTL_TLSKEYS_ROTATE,
                      CTL_TLSKEYS_ROTATE);
        sup->tls_keys_timer.data = sup;
        ev_timer_start(sup->loop, &sup->tls_keys_timer);
        ev_unref(sup->loop); /* the rotation alone never keeps the loop alive */
    }
    return 0;
}

/* --reload=dev: watch the files children report, and those of --watch. */
static int start_watching(ctl_supervisor_t *sup)
{
    const ctl_config_t *cfg = sup->cfg;
    if (!cfg->reload_dev)
        return 0;
    char err[256];
    sup->watch = ctl_watch_new(sup->loop, CTL_DEV_RELOAD_DEBOUNCE, on_source_change, sup, err,
                               sizeof err);
    if (!sup->watch) {
        cmn_error("--reload=dev: %s", err);
        return -1;
    }
    for (int i = 0; i < cfg->nwatch; i++) {
        int rc = ctl_watch_add(sup->watch, cfg->watch[i]);
        if (rc < 0)
            cmn_warning("--watch %s: %s", cfg->watch[i], strerror(-rc));
    }
    return 0;
}

static void stop_services(ctl_supervisor_t *sup)
{
    ctl_admin_stop(sup->admin);
    sup->admin = NULL;
    ctl_statushttp_stop(sup->status_http);
    sup->status_http = NULL;
}

/* spawnctl's socket and the status service, on the sockets bound at start. */
static int start_services(ctl_supervisor_t *sup, ctl_servicesocks_t *socks)
{
    char err[512];
    ctl_ops_t ops = operations(sup);
    if (socks->admin_fd >= 0 && !(sup->admin = ctl_admin_start(sup->loop, socks, &ops, err,
                                                               sizeof err))) {
        cmn_error("%s", err);
        return -1;
    }
    if (socks->status_fd >= 0) {
        sup->status_http = ctl_statushttp_start(sup->loop, socks, &ops, err, sizeof err);
        if (!sup->status_http) {
            cmn_error("status service: %s", err);
            stop_services(sup);
            return -1;
        }
        cmn_info("status service on %s/status", socks->status_url);
    }
    return 0;
}

int ctl_supervisor_run(const ctl_config_t *cfg, ctl_listeners_t *listeners,
                       ctl_servicesocks_t *socks)
{
    static ctl_supervisor_t sup; /* one per process; static so signal-free code can find it */
    if (init(&sup, cfg, listeners) < 0 || start_watching(&sup) < 0 ||
        start_services(&sup, socks) < 0) {
        ctl_daemon_fail("the controller could not start its services (see the error log)");
        ctl_servicesocks_close(socks);
        ctl_listeners_close(listeners);
        return 1;
    }
    ev_timer_init(&sup.tick, on_tick, CTL_TICK, CTL_TICK);
    sup.tick.data = &sup;
    ev_timer_start(sup.loop, &sup.tick);
    top_up(&sup);
    ev_run(sup.loop, 0);
    while (sup.children) {
        ctl_child_t *c = sup.children;
        unlink_child(&sup, c);
        ctl_children_free(c);
    }
    if (sup.watch)
        ctl_watch_free(sup.watch);
    stop_services(&sup);
    json_decref(sup.child_config);
    free(sup.last_reload_error);
    ctl_listeners_close(sup.listeners);
    cmn_info("stopped");
    return sup.exit_code;
}
