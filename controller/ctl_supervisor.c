/* ctl_supervisor: see ctl_supervisor.h. */
#include "ctl_supervisor.h"

#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "ctl_child.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESTART_DELAY_MIN 0.1  /* seconds, after the first failed start */
#define RESTART_DELAY_MAX 10.0
#define IMMEDIATE_STOP_GRACE 2.0 /* seconds before SIGKILL after INT/QUIT */

typedef enum { SLOT_EMPTY, SLOT_STARTING, SLOT_READY, SLOT_STOPPING } slot_state_t;

typedef struct supervisor supervisor_t;

/* One place for a child: the slot outlives the processes that fill it. */
typedef struct {
    supervisor_t *sup;
    slot_state_t state;
    pid_t pid;
    int control_fd;
    ev_io control_watcher;
    ev_timer restart_timer;
    ev_tstamp started_at;
    int failed_starts; /* consecutive children that died before "ready" */
    char *fatal_error; /* what the last child said before dying, or NULL */
} slot_t;

struct supervisor {
    struct ev_loop *loop;
    const ctl_config_t *cfg;
    json_t *child_config;
    char child_binary[4096];
    int listen_fd;
    slot_t *slots;
    int nslots;
    ev_signal sig_term, sig_int, sig_quit;
    ev_child child_watcher;
    ev_timer kill_timer;
    bool stopping;
    bool ever_ready;
    int exit_code;
};

static void start_child(supervisor_t *sup, slot_t *slot);

static int live_children(const supervisor_t *sup)
{
    int n = 0;
    for (int i = 0; i < sup->nslots; i++)
        n += sup->slots[i].pid > 0;
    return n;
}

static void signal_children(supervisor_t *sup, int signo)
{
    for (int i = 0; i < sup->nslots; i++)
        if (sup->slots[i].pid > 0)
            kill(sup->slots[i].pid, signo);
}

static void on_kill_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    supervisor_t *sup = w->data;
    if (live_children(sup) > 0) {
        cmn_warning("children still running after the timeout; killing them");
        signal_children(sup, SIGKILL);
    }
}

/* Begins shutting down: no restarts, children told with `signo`, SIGKILL
 * after `grace` seconds, the loop ends when the last child is reaped. */
static void begin_stop(supervisor_t *sup, int signo, double grace, int exit_code)
{
    if (!sup->stopping)
        sup->exit_code = exit_code;
    sup->stopping = true;
    for (int i = 0; i < sup->nslots; i++) {
        ev_timer_stop(sup->loop, &sup->slots[i].restart_timer);
        if (sup->slots[i].pid > 0)
            sup->slots[i].state = SLOT_STOPPING;
    }
    if (sup->listen_fd >= 0) {
        close(sup->listen_fd);
        sup->listen_fd = -1;
    }
    signal_children(sup, signo);
    ev_timer_stop(sup->loop, &sup->kill_timer);
    ev_timer_set(&sup->kill_timer, grace, 0);
    ev_timer_start(sup->loop, &sup->kill_timer);
    if (live_children(sup) == 0)
        ev_break(sup->loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    supervisor_t *sup = w->data;
    if (w->signum == SIGTERM) {
        cmn_info("SIGTERM: graceful stop (timeout %.0f s)", sup->cfg->graceful_timeout);
        begin_stop(sup, SIGTERM, sup->cfg->graceful_timeout, 0);
    } else {
        cmn_info("%s: immediate stop", w->signum == SIGINT ? "SIGINT" : "SIGQUIT");
        begin_stop(sup, SIGQUIT, IMMEDIATE_STOP_GRACE, 0);
    }
}

static void close_control(supervisor_t *sup, slot_t *slot)
{
    if (slot->control_fd < 0)
        return;
    ev_io_stop(sup->loop, &slot->control_watcher);
    close(slot->control_fd);
    slot->control_fd = -1;
}

static void handle_message(supervisor_t *sup, slot_t *slot, json_t *msg)
{
    const char *type = cmn_ctlmsg_type(msg);
    if (strcmp(type, CMN_MSG_READY) == 0) {
        if (slot->state == SLOT_STARTING)
            slot->state = SLOT_READY;
        slot->failed_starts = 0;
        sup->ever_ready = true;
        cmn_info("child %d ready", (int)slot->pid);
    } else if (strcmp(type, CMN_MSG_FATAL) == 0) {
        const char *text = json_string_value(json_object_get(msg, "error"));
        free(slot->fatal_error);
        slot->fatal_error = strdup(text ? text : "unknown error");
    } else {
        cmn_warning("child %d sent an unknown message type '%s'", (int)slot->pid, type);
    }
}

/* Reads every queued message; closes the channel at end-of-file. */
static void drain_control(slot_t *slot)
{
    while (slot->control_fd >= 0) {
        int err;
        json_t *msg = cmn_ctlmsg_recv(slot->control_fd, NULL, NULL, &err);
        if (msg) {
            handle_message(slot->sup, slot, msg);
            json_decref(msg);
            continue;
        }
        if (err == -EAGAIN)
            return;
        if (err == -EBADMSG) {
            cmn_warning("child %d sent a malformed control message", (int)slot->pid);
            continue;
        }
        /* End of file or error: the child is going; its exit is reaped by
         * the ev_child watcher. */
        close_control(slot->sup, slot);
    }
}

static void on_control_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    drain_control(w->data);
}

static void log_exit(const slot_t *slot, int status)
{
    if (WIFSIGNALED(status))
        cmn_log(slot->state == SLOT_STOPPING ? CMN_LOG_INFO : CMN_LOG_WARNING,
                "child %d killed by signal %d", (int)slot->pid, WTERMSIG(status));
    else
        cmn_log(slot->state == SLOT_STOPPING || WEXITSTATUS(status) == 0 ? CMN_LOG_INFO
                                                                        : CMN_LOG_WARNING,
                "child %d exited with code %d", (int)slot->pid, WEXITSTATUS(status));
}

static void on_restart_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    slot_t *slot = w->data;
    start_child(slot->sup, slot);
}

/* Decides what follows the death of a child that was not asked to stop. */
static void after_unexpected_exit(supervisor_t *sup, slot_t *slot, bool was_ready)
{
    if (!was_ready && !sup->ever_ready) {
        if (slot->fatal_error)
            cmn_log_block(CMN_LOG_CRITICAL, "the application could not be started:",
                          slot->fatal_error, strlen(slot->fatal_error));
        else
            cmn_log(CMN_LOG_CRITICAL, "the first child died before it was ready; giving up");
        begin_stop(sup, SIGQUIT, IMMEDIATE_STOP_GRACE, 1);
        return;
    }
    if (slot->fatal_error)
        cmn_log_block(CMN_LOG_ERROR, "child start-up failed:", slot->fatal_error,
                      strlen(slot->fatal_error));
    double delay = 0;
    if (!was_ready) {
        slot->failed_starts++;
        delay = RESTART_DELAY_MIN;
        for (int i = 1; i < slot->failed_starts && delay < RESTART_DELAY_MAX; i++)
            delay *= 2;
        if (delay > RESTART_DELAY_MAX)
            delay = RESTART_DELAY_MAX;
        cmn_warning("restarting in %.1f s (%d failed starts in a row)", delay,
                    slot->failed_starts);
    }
    ev_timer_set(&slot->restart_timer, delay, 0);
    ev_timer_start(sup->loop, &slot->restart_timer);
}

static void on_child_exit(struct ev_loop *loop, ev_child *w, int revents)
{
    (void)loop;
    (void)revents;
    supervisor_t *sup = w->data;
    slot_t *slot = NULL;
    for (int i = 0; i < sup->nslots && !slot; i++)
        if (sup->slots[i].pid == w->rpid)
            slot = &sup->slots[i];
    if (!slot)
        return;
    log_exit(slot, w->rstatus);
    drain_control(slot); /* a "fatal" may still be queued */
    bool was_ready = slot->state == SLOT_READY;
    bool was_stopping = slot->state == SLOT_STOPPING;
    close_control(sup, slot);
    slot->pid = 0;
    slot->state = SLOT_EMPTY;
    if (sup->stopping || was_stopping) {
        if (sup->stopping && live_children(sup) == 0)
            ev_break(sup->loop, EVBREAK_ALL);
    } else {
        after_unexpected_exit(sup, slot, was_ready);
    }
    free(slot->fatal_error);
    slot->fatal_error = NULL;
}

static void start_child(supervisor_t *sup, slot_t *slot)
{
    char err[256];
    int control_fd;
    pid_t pid = ctl_child_spawn(sup->child_binary, sup->child_config, &sup->listen_fd, 1,
                                &control_fd, err, sizeof err);
    if (pid < 0) {
        cmn_error("cannot start a child: %s", err);
        slot->failed_starts++;
        ev_timer_set(&slot->restart_timer, RESTART_DELAY_MAX, 0);
        ev_timer_start(sup->loop, &slot->restart_timer);
        return;
    }
    slot->pid = pid;
    slot->state = SLOT_STARTING;
    slot->control_fd = control_fd;
    slot->started_at = ev_now(sup->loop);
    ev_io_init(&slot->control_watcher, on_control_readable, control_fd, EV_READ);
    slot->control_watcher.data = slot;
    ev_io_start(sup->loop, &slot->control_watcher);
    cmn_debug("started child %d", (int)pid);
}

static void init_watchers(supervisor_t *sup)
{
    ev_signal *sigs[] = {&sup->sig_term, &sup->sig_int, &sup->sig_quit};
    int signums[] = {SIGTERM, SIGINT, SIGQUIT};
    for (int i = 0; i < 3; i++) {
        ev_signal_init(sigs[i], on_signal, signums[i]);
        sigs[i]->data = sup;
        ev_signal_start(sup->loop, sigs[i]);
    }
    ev_child_init(&sup->child_watcher, on_child_exit, 0, 0);
    sup->child_watcher.data = sup;
    ev_child_start(sup->loop, &sup->child_watcher);
    ev_timer_init(&sup->kill_timer, on_kill_timer, 0, 0);
    sup->kill_timer.data = sup;
}

int ctl_supervisor_run(const ctl_config_t *cfg, int listen_fd, int bound_port)
{
    supervisor_t sup = {.cfg = cfg, .listen_fd = listen_fd};
    sup.loop = ev_default_loop(EVFLAG_AUTO);
    if (!sup.loop) {
        cmn_error("cannot initialise the event loop");
        return 1;
    }
    if (ctl_child_binary_path(sup.child_binary, sizeof sup.child_binary) < 0) {
        cmn_error("cannot find spawning_child next to the controller");
        return 1;
    }
    sup.child_config = ctl_options_child_config(cfg, bound_port);
    sup.nslots = cfg->processes;
    sup.slots = calloc((size_t)sup.nslots, sizeof *sup.slots);
    if (!sup.slots || !sup.child_config)
        return 1;
    init_watchers(&sup);
    for (int i = 0; i < sup.nslots; i++) {
        slot_t *slot = &sup.slots[i];
        slot->sup = &sup;
        slot->control_fd = -1;
        ev_timer_init(&slot->restart_timer, on_restart_timer, 0, 0);
        slot->restart_timer.data = slot;
        start_child(&sup, slot);
    }
    ev_run(sup.loop, 0);
    for (int i = 0; i < sup.nslots; i++) {
        close_control(&sup, &sup.slots[i]);
        free(sup.slots[i].fatal_error);
    }
    free(sup.slots);
    json_decref(sup.child_config);
    if (sup.listen_fd >= 0)
        close(sup.listen_fd);
    cmn_info("stopped");
    return sup.exit_code;
}
