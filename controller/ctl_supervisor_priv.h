/* ctl_supervisor_priv: the supervisor's state, shared by the two files that
 * make up the supervisor: ctl_supervisor.c (lifecycle: start, exits,
 * reloads, scaling, stopping, signals) and ctl_health.c (the once-a-second
 * checks: heartbeats, deadlines, memory, age, request timeouts). Not for
 * any other module. Everything runs on the controller's one thread. */
#ifndef CTL_SUPERVISOR_PRIV_H
#define CTL_SUPERVISOR_PRIV_H

#include "ctl_children.h"
#include "ctl_listeners.h"
#include "ctl_options.h"
#include "ctl_watch.h"

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CTL_RESTART_DELAY_MIN 0.1 /* seconds, after the first failed start */
#define CTL_RESTART_DELAY_MAX 10.0
#define CTL_IMMEDIATE_STOP_GRACE 2.0 /* seconds before SIGKILL after INT/QUIT */
#define CTL_TICK 1.0                 /* seconds between health checks */
#define CTL_DEV_RELOAD_DEBOUNCE 0.2  /* seconds of quiet after a source change */
#define CTL_RATE_SAMPLES 61          /* one a tick: a minute of request totals */

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
    bool stop_announced;    /* a graceful stop is pending (--shutdown-delay): /healthz 503 */
    ev_timer shutdown_timer; /* ctl_shutdown.c: the end of --shutdown-delay */
    bool ever_ready;
    int exit_code;
    int reloads;
    char last_reload_reason[256];
    char *last_reload_error;
    int listen_port;
    /* Counters of children that are gone, so totals survive them. */
    uint64_t retired_requests, retired_5xx, retired_bytes;
    int killed_children; /* died or were killed without being asked to stop */
    /* Total requests once per tick, for requests_per_second over a minute. */
    struct {
        ev_tstamp at;
        uint64_t requests;
    } samples[CTL_RATE_SAMPLES];
    int nsamples, next_sample;
    struct ctl_miniserver *admin, *status_http;
} ctl_supervisor_t;

/* ctl_supervisor.c, for ctl_health.c: */

/* Starts a successor for c; c is drained once the successor is ready. One
 * replacement at a time: returns false (nothing done) while another
 * replacement or a reload is under way. */
bool ctl_supervisor_replace(ctl_supervisor_t *sup, ctl_child_t *c, const char *reason);

/* Requests served by all children, the gone ones included. */
uint64_t ctl_supervisor_total_requests(const ctl_supervisor_t *sup);

/* ctl_health.c: */

/* Arms the once-a-second checks. */
void ctl_health_start(ctl_supervisor_t *sup);

/* Records a heartbeat answer. */
void ctl_health_pong(ctl_supervisor_t *sup, ctl_child_t *c, json_t *msg);

#endif
